//! mailtls itself on every case of the lab: the real binary, `mailtls check DOMAIN --json`, as a
//! user runs it against the lab (`--dns` the validating resolver, `--dnssec-anchor` the lab
//! root's DS, `--ca-file` the lab CA; the MX hosts live on 127.0.25.x, so the check fetches the
//! policy from inside addresses as it does for any domain whose servers live inside), all cases
//! at once. What it says each kind of sender does is read from `inbound`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cases::Case;
use super::{DeliveryLab, domain, zones};

/// How long all the checks get together (each step has `--timeout 5`).
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The action word for a check that printed no report, only an error.
pub const NO_REPORT: &str = "no-report";

/// What mailtls says one kind of sender does with a case's mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// `delivers`, `encrypts-only`, `defers` or `unknown`: `inbound.mx[].senders[].action` of
    /// the case's MX, or, where mailtls lists no MX (the MX answer failed validation), the
    /// domain's `inbound.senders[].action`.
    pub action: String,
    /// Its reason in words (the MX's), for the failure messages.
    pub reason: String,
}

/// What mailtls says of one case.
#[derive(Debug, Clone)]
pub struct Verdicts {
    pub dane: Said,
    pub mta_sts: Said,
    /// `inbound.mx[].dane.state` of the case's MX (`not-published`, `insecure`, `matches`,
    /// `no-match`, `unusable`, `bogus`, `unknown`); `None` where mailtls lists no MX.
    pub dane_state: Option<String>,
    /// `inbound.mta_sts.state`.
    pub mta_sts_state: String,
}

/// Runs `mailtls` (`binary`) on every case at once; per case (in table order), its verdicts or
/// why there are none. The JSON each check printed stays in `DIR/mailtls/LABEL.json`.
pub fn check_all(
    lab: &DeliveryLab,
    binary: &Path,
    cases: &[Case],
) -> Vec<Result<Verdicts, String>> {
    let dir = lab.dir.join("mailtls");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        let why = format!("{}: {e}", dir.display());
        return cases.iter().map(|_| Err(why.clone())).collect();
    }
    let mut running: Vec<Result<(Child, PathBuf, PathBuf), String>> = cases
        .iter()
        .map(|case| start(lab, binary, &dir, case))
        .collect();
    let deadline = Instant::now() + DEADLINE;
    let mut done: Vec<Option<Result<(), String>>> = vec![None; cases.len()];
    loop {
        for (slot, run) in done.iter_mut().zip(running.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match run {
                Err(e) => *slot = Some(Err(e.clone())),
                Ok((child, _, _)) => match child.try_wait() {
                    Ok(Some(_)) => *slot = Some(Ok(())),
                    Ok(None) => {}
                    Err(e) => *slot = Some(Err(format!("waiting for mailtls: {e}"))),
                },
            }
        }
        if done.iter().all(Option::is_some) {
            break;
        }
        if Instant::now() > deadline {
            for (slot, run) in done.iter_mut().zip(running.iter_mut()) {
                if let (None, Ok((child, _, _))) = (&slot, run) {
                    let _ = child.kill();
                    let _ = child.wait();
                    *slot = Some(Err(format!(
                        "mailtls did not finish within {} s",
                        DEADLINE.as_secs()
                    )));
                }
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cases
        .iter()
        .zip(running.iter().zip(done))
        .map(|(case, (run, finished))| {
            finished.unwrap_or_else(|| Err("not run".to_string()))?;
            let (_, out, err) = run.as_ref().map_err(Clone::clone)?;
            read(case, out, err)
        })
        .collect()
}

/// Starts `mailtls check DOMAIN --json` for `case`, its output into files (a pipe left unread
/// would stop it).
fn start(
    lab: &DeliveryLab,
    binary: &Path,
    dir: &Path,
    case: &Case,
) -> Result<(Child, PathBuf, PathBuf), String> {
    let out = dir.join(format!("{}.json", case.label));
    let err = dir.join(format!("{}.stderr", case.label));
    let file =
        |path: &Path| std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()));
    let child = Command::new(binary)
        .arg("check")
        .arg(domain(case))
        .arg("--json")
        .arg("--dns")
        .arg(lab.dns.resolver.to_string())
        .arg("--dnssec-anchor")
        .arg(&lab.dns.anchor_ds)
        .arg("--ca-file")
        .arg(&lab.certs.ca_file)
        .args(["--timeout", "5"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(file(&out)?)
        .stderr(file(&err)?)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    Ok((child, out, err))
}

/// The verdicts in a check's JSON.
fn read(case: &Case, out: &Path, err: &Path) -> Result<Verdicts, String> {
    let text = std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
    if text.trim().is_empty() {
        // mailtls gave no report, only its one-line error: that is its answer for every kind
        // of sender.
        let stderr = std::fs::read_to_string(err).unwrap_or_default();
        let said = Said {
            action: NO_REPORT.to_string(),
            reason: stderr.trim().to_string(),
        };
        return Ok(Verdicts {
            dane: said.clone(),
            mta_sts: said,
            dane_state: None,
            mta_sts_state: String::new(),
        });
    }
    let json: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "mailtls printed no JSON ({e}): {}{}",
            text.chars().take(400).collect::<String>(),
            std::fs::read_to_string(err).unwrap_or_default()
        )
    })?;
    let inbound = &json["inbound"];
    if inbound.is_null() {
        return Err(format!("no inbound section in {}", out.display()));
    }
    let host = zones::mx_host(case);
    let mx = inbound["mx"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["host"] == host.as_str());
    let said = |sender: &str| -> Result<Said, String> {
        let of_mx = mx.and_then(|mx| {
            mx["senders"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["sender"] == sender)
        });
        let of_domain = inbound["senders"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["sender"] == sender);
        let found = match (mx, of_mx, of_domain) {
            (Some(_), Some(verdict), _) => verdict,
            (None, None, Some(outcome)) => outcome,
            _ => {
                return Err(format!(
                    "no verdict for {sender} senders in {} (MX {host})",
                    out.display()
                ));
            }
        };
        Ok(Said {
            action: text_of(&found["action"]),
            reason: text_of(&found["reason"]),
        })
    };
    Ok(Verdicts {
        dane: said("dane")?,
        mta_sts: said("mta-sts")?,
        dane_state: mx.map(|mx| text_of(&mx["dane"]["state"])),
        mta_sts_state: text_of(&inbound["mta_sts"]["state"]),
    })
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}
