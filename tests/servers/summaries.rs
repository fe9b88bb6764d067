//! Every summary is true to its details. Over every lab scenario (each host the lab runs or
//! names, each mail domain of its discovery lab, one fleet domain of each kind) `mailtls check
//! --json` runs, and the claim its summary makes (`summary_kind`) is held to the structured
//! details: verdicts, statuses, problem codes, settings. The words are read only for what the
//! claim itself says (a count, a code, a name), never to learn what the details are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use libtest_mimic::Failed;
use mailtls::diagnose::Code;
use serde_json::Value;

use super::{Test, ensure, expect_eq, in_lab, json_of, lab, run_mailtls};

pub fn tests() -> Vec<(&'static str, Test)> {
    vec![("summaries_never_contradict_details", never_contradict)]
}

/// Checks run at once: most of a check is waiting for servers.
const AT_ONCE: usize = 4;

/// The lab's domains listed in its own ISP database (tests/data/ispdb), checked with it.
const WITH_TEST_ISPDB: [&str; 2] = [lab::DISC_ISPDB, lab::ISPDB_ALIAS];

/// Every scenario, as the target a user would type.
fn targets() -> Vec<String> {
    let mut out: Vec<String> = lab::ALL.iter().map(|s| s.name.to_string()).collect();
    out.extend(lab::MORE_HOSTS.iter().map(|h| h.to_string()));
    out.extend(
        lab::DISCOVERY_DOMAINS
            .iter()
            .map(|domain| format!("jane@{domain}")),
    );
    out.extend(
        lab::mta_sts::DOMAINS
            .iter()
            .map(|domain| domain.to_string()),
    );
    let mut kinds = Vec::new();
    for (domain, kind) in lab::fleet::domains() {
        if !kinds.contains(&kind) {
            kinds.push(kind);
            out.push(domain);
        }
    }
    out
}

/// The arguments a scenario is checked with, besides the lab's DNS and CA.
fn extra_args(target: &str) -> Vec<String> {
    let listed = WITH_TEST_ISPDB
        .iter()
        .any(|domain| target.ends_with(&format!("@{domain}")));
    if listed {
        vec![
            "--ispdb".to_string(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ispdb").to_string(),
        ]
    } else {
        Vec::new()
    }
}

fn never_contradict(ca: &str) -> Result<(), Failed> {
    // The fleet's hosted names lead to the scan tests' counting proxy, FLEET's to the engine
    // test's: take turns with them.
    let _turn = super::scan::serial();
    let dir = super::scan::scratch("summaries")?;
    let targets = targets();
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let claims: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                while let Some(target) = targets.get(next.fetch_add(1, Ordering::SeqCst)) {
                    match check_one(ca, &dir, target) {
                        Ok(kinds) => {
                            let mut claims = claims.lock().unwrap_or_else(|p| p.into_inner());
                            for kind in kinds {
                                *claims.entry(kind).or_default() += 1;
                            }
                        }
                        Err(error) => failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("{target}: {}", error.message().unwrap_or("failed"))),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    ensure(failures.is_empty(), || failures.join("\n\n"))?;
    // The scenarios make many different claims, each held to its details above: a test over
    // one kind of summary would prove little.
    let claims = claims.into_inner().unwrap_or_else(|p| p.into_inner());
    for kind in [
        "all-good",
        "use-other-name",
        "problem",
        "problems-to-fix",
        "rate-limited",
        "no-answer",
        "autodiscover-dialog",
        "servers-warn",
        "settings-bad-certificate",
        "does-not-resolve",
        "did-not-answer",
        "not-checked",
        "source-unusable",
        "nothing-published",
        "inbound-refused",
    ] {
        ensure(claims.contains_key(kind), || {
            format!("no scenario made the claim {kind}: {claims:?}")
        })?;
    }
    Ok(())
}

/// Checks `target`, holds every summary of the report (the domain's and each host's) to its
/// details, and the text report's words on verified names to the settings; returns the kinds
/// of the summaries held.
fn check_one(ca: &str, dir: &Path, target: &str) -> Result<Vec<String>, Failed> {
    let file: String = target
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let saved = dir.join(format!("{file}.saved.json")).display().to_string();
    let extra = extra_args(target);
    let mut args = vec![target, "--json", "--save", &saved];
    args.extend(extra.iter().map(String::as_str));
    let (status, stdout, stderr) = in_lab("check", ca, &args);
    if stdout.trim().is_empty() {
        // Nothing could be checked at all: no report, no summary; said on stderr, exit 3.
        return ensure(status == 3 && stderr.contains("does not resolve"), || {
            format!("no report, exit {status}: {stderr}")
        })
        .map(|()| Vec::new());
    }
    let json = json_of(&stdout, &stderr)?;
    expect_eq(
        "exit status is the report's",
        json["exit_code"].as_i64(),
        Some(i64::from(status)),
    )?;
    let mut kinds = Vec::new();
    if json["kind"] == "check-domain" {
        domain(&json)?;
        kinds.push(text(&json)["summary_kind"].to_string());
        let (_, words, stderr) = run_mailtls(&["judge", &saved]);
        settings_words(&json, &words, &stderr)?;
    }
    let hosts: Vec<&Value> = if json["kind"] == "check-host" {
        vec![&json]
    } else {
        json["hosts"].as_array().into_iter().flatten().collect()
    };
    for report in hosts {
        host(report).map_err(|e| {
            format!(
                "host {}: {}",
                report["target"],
                e.message().unwrap_or("failed")
            )
        })?;
        kinds.push(text(report)["summary_kind"].to_string());
    }
    Ok(kinds)
}

/// The fields as plain strings (JSON strings without their quotes).
fn text(value: &Value) -> BTreeMap<&str, String> {
    ["summary_kind", "verdict", "summary", "target"]
        .into_iter()
        .map(|field| (field, value[field].as_str().unwrap_or_default().to_string()))
        .collect()
}

fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

/// Codes of the name family: one fault to fix, however many problems describe it.
const NAME_CODES: [&str; 5] = [
    "name-mismatch",
    "ip-address-used",
    "cert-lacks-name",
    "cn-only",
    "unicode-name",
];

/// Every problem of a host report with the protocol of its endpoint (null for a server-wide
/// one).
fn problems(report: &Value) -> Vec<(&Value, &Value)> {
    list(&report["endpoints"])
        .flat_map(|e| list(&e["problems"]).map(move |p| (&e["protocol"], p)))
        .chain(list(&report["problems"]).map(|p| (&Value::Null, p)))
        .collect()
}

/// The faults that make clients warn or fail, counted as the report counts things to fix: a
/// name fault once, a certificate fault once per certificate, a server setting once per
/// protocol.
fn faults(report: &Value) -> usize {
    let mut keys = BTreeSet::new();
    for (protocol, problem) in problems(report) {
        if problem["severity"] != "error" {
            continue;
        }
        let code = problem["code"].as_str().unwrap_or_default();
        let key = if NAME_CODES.contains(&code) {
            ("name".to_string(), String::new(), String::new())
        } else if Code::from_name(code).is_some_and(|c| c.is_certificate()) {
            (
                code.to_string(),
                problem["certificate"].to_string(),
                String::new(),
            )
        } else {
            (code.to_string(), String::new(), protocol.to_string())
        };
        keys.insert(key);
    }
    keys.len()
}

/// "two" in "Problem: two things to fix" as a number.
fn count_in(sentence: &str, before: &str) -> Option<usize> {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let word = sentence.split(before).next()?.split(' ').next_back()?;
    WORDS
        .iter()
        .position(|w| *w == word)
        .or_else(|| word.parse().ok())
}

/// A host report's summary against its endpoints and problems.
fn host(report: &Value) -> Result<(), Failed> {
    let fields = text(report);
    let (kind, verdict, summary) = (
        fields["summary_kind"].as_str(),
        fields["verdict"].as_str(),
        fields["summary"].as_str(),
    );
    let serious: Vec<&str> = problems(report)
        .into_iter()
        .filter(|(_, p)| p["severity"] != "info")
        .filter_map(|(_, p)| p["code"].as_str())
        .collect();
    let reachable: Vec<&Value> = list(&report["endpoints"])
        .filter(|e| e["reachable"] == true)
        .collect();
    let why = || format!("{kind} / {verdict}: {summary}\nproblems: {serious:?}");
    expect_eq(
        "all good exactly when the verdict is ok",
        verdict == "ok",
        kind == "all-good",
    )?;
    match kind {
        "all-good" => ensure(serious.is_empty(), why),
        "no-answer" => ensure(verdict == "unknown" && reachable.is_empty(), why),
        "rate-limited" => ensure(
            verdict == "unknown"
                && !reachable.is_empty()
                && reachable
                    .iter()
                    .all(|e| e["failure"]["kind"] == "rate-limited"),
            why,
        ),
        "use-other-name" => {
            let recommendation = &report["recommendation"];
            let name = recommendation["server_name"].as_str().unwrap_or_default();
            ensure(
                matches!(verdict, "warn" | "fail")
                    && recommendation["verified"] == true
                    && name != fields["target"]
                    && summary.contains(&format!("use {name} instead"))
                    && serious.iter().any(|c| {
                        NAME_CODES.contains(c)
                            || matches!(*c, "sni-dependent" | "different-cert-per-port")
                    }),
                why,
            )
        }
        "problem" => {
            // "Problem (code): ..." for a failure, "Warning (code): ..." for a warning; the code
            // is one found, and a failure has one fault to fix.
            let word = if verdict == "fail" {
                "Problem ("
            } else {
                "Warning ("
            };
            let code = summary
                .strip_prefix(word)
                .and_then(|rest| rest.split_once("):"))
                .map(|(code, _)| code);
            ensure(
                matches!(verdict, "warn" | "fail")
                    && code.is_some_and(|code| serious.contains(&code))
                    && (verdict == "warn" || faults(report) == 1),
                why,
            )
        }
        "problems-to-fix" => {
            let said = count_in(summary, " things to fix");
            ensure(
                verdict == "fail" && said == Some(faults(report)) && said > Some(1),
                || format!("{} (faults counted: {})", why(), faults(report)),
            )
        }
        other => Err(format!("a host report with a domain's claim {other}: {summary}").into()),
    }
}

/// Thunderbird's steps 5 and 6: settings that speak for others than the domain.
fn elsewhere(entry: &Value) -> bool {
    matches!(
        entry["source"].as_str(),
        Some("ispdb" | "autoconfig-mx" | "ispdb-mx")
    )
}

/// The (host, port) of an entry.
fn server(entry: &Value) -> (String, u64) {
    (
        entry["hostname"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        entry["port"].as_u64().unwrap_or_default(),
    )
}

/// The endpoints of the host report for `name` on `port`, or None when there is no report.
fn endpoints_at<'a>(report: &'a Value, name: &str, port: u64) -> Option<Vec<&'a Value>> {
    let host = list(&report["hosts"]).find(|h| h["target"] == name)?;
    Some(
        list(&host["endpoints"])
            .filter(|e| e["port"].as_u64() == Some(port))
            .collect(),
    )
}

/// Each entry's status is true to the host check it rests on (entries no client reaches too).
fn entries_true_to_hosts(report: &Value) -> Result<(), Failed> {
    for entry in list(&report["discovery"]).filter(|e| e["hostname"] != "") {
        let (name, port) = server(entry);
        let status = entry["status"].as_str().unwrap_or_default();
        let endpoints = endpoints_at(report, &name, port);
        let first = endpoints
            .as_ref()
            .and_then(|e| e.iter().find(|e| e["reachable"] == true).copied());
        let why = || format!("{name}:{port} is {status}, but its host check: {endpoints:?}");
        match status {
            "works" => ensure(
                first.is_some_and(|e| list(&e["problems"]).all(|p| p["severity"] != "error")),
                why,
            )?,
            "unreachable" => ensure(endpoints.is_some() && first.is_none(), why)?,
            "does-not-resolve" => ensure(endpoints.is_none(), why)?,
            "rate-limited" => ensure(
                first.is_some_and(|e| e["failure"]["kind"] == "rate-limited"),
                why,
            )?,
            "name-not-covered" => ensure(
                first.is_some_and(|e| {
                    list(&e["problems"])
                        .any(|p| NAME_CODES.contains(&p["code"].as_str().unwrap_or_default()))
                }),
                why,
            )?,
            _ => {}
        }
    }
    Ok(())
}

/// A mail-domain report's summary against its entries, hosts and Autodiscover warning.
fn domain(report: &Value) -> Result<(), Failed> {
    entries_true_to_hosts(report)?;
    let fields = text(report);
    let (kind, verdict, summary) = (
        fields["summary_kind"].as_str(),
        fields["verdict"].as_str(),
        fields["summary"].as_str(),
    );
    // What no client reaches (Thunderbird's steps 5 and 6 after settings found before) is not
    // the summary's business.
    let entries: Vec<&Value> = list(&report["discovery"])
        .filter(|e| e["reached"] != false)
        .collect();
    let named = |host: &Value| {
        entries.iter().any(|e| {
            e["hostname"].as_str().map(str::to_ascii_lowercase)
                == host["target"].as_str().map(str::to_string)
        })
    };
    let handed_out: Vec<&Value> = entries
        .iter()
        .copied()
        .filter(|e| e["hostname"] != "")
        .collect();
    let has = |status: &str| entries.iter().any(|e| e["status"] == status);
    let servers = |keep: &dyn Fn(&Value) -> bool| -> BTreeSet<(String, u64)> {
        handed_out
            .iter()
            .copied()
            .filter(|e| keep(e))
            .map(server)
            .collect()
    };
    let broken = |e: &Value| {
        matches!(
            e["status"].as_str(),
            Some("name-not-covered" | "certificate-problem" | "plaintext")
        )
    };
    let all_work = handed_out
        .iter()
        .all(|e| matches!(e["status"].as_str(), Some("works" | "not-offered")));
    let hosts_ok = list(&report["hosts"])
        .filter(|h| named(h))
        .all(|h| h["verdict"] == "ok");
    let silent_verdict = if has("works") { "warn" } else { "unknown" };
    let warning = &report["autodiscover_warning"];
    let why = || format!("{kind} / {verdict}: {summary}\nentries: {entries:?}");
    expect_eq(
        "all good exactly when the verdict is ok",
        verdict == "ok",
        kind == "all-good",
    )?;
    expect_eq(
        "Outlook's dialog is the claim exactly when the report has its warning",
        !warning.is_null(),
        kind == "autodiscover-dialog",
    )?;
    // A name that does not resolve is never said to be silent, nor one that is silent said not
    // to resolve.
    ensure(
        summary.contains("did not answer") == (kind == "did-not-answer")
            && summary.contains("not resolve") == (kind == "does-not-resolve"),
        why,
    )?;
    match kind {
        "all-good" => ensure(
            all_work
                && hosts_ok
                && !has("not-checked")
                && !has("source-error")
                && handed_out.iter().any(|e| {
                    !matches!(e["source"].as_str(), Some("mx" | "guess")) && !elsewhere(e)
                }),
            why,
        ),
        "autodiscover-dialog" => {
            // The dialog's own line, as the report's warning gives it, is quoted; "the mail
            // servers are fine" only when every one works.
            let line = warning["dialog"]["line"].as_str().unwrap_or("(no line)");
            let fine = list(&warning["mail_servers_fine"]).count() > 0;
            ensure(
                verdict == "fail"
                    && summary.contains(&format!("\"{line}\""))
                    && fine == summary.contains("mail servers themselves are fine")
                    && (!fine || all_work),
                why,
            )
        }
        "nothing-found" => ensure(verdict == "unknown" && handed_out.is_empty(), why),
        "servers-warn" => {
            let claim = format!(
                "Problem: {} of {} server",
                servers(&broken).len(),
                servers(&|_| true).len()
            );
            ensure(verdict == "fail" && summary.starts_with(&claim), || {
                format!("{}\nthe details count: {claim}", why())
            })
        }
        "settings-bad-certificate" => ensure(
            verdict == "fail"
                && entries
                    .iter()
                    .any(|e| e["error"] == "bad-certificate" && !elsewhere(e))
                && !entries.iter().any(|e| broken(e)),
            why,
        ),
        "does-not-resolve" | "did-not-answer" | "rate-limited" => {
            let status = match kind {
                "does-not-resolve" => "does-not-resolve",
                "did-not-answer" => "unreachable",
                _ => "rate-limited",
            };
            ensure(
                verdict == silent_verdict
                    && !entries.iter().any(|e| broken(e))
                    && servers(&|e| e["status"] == status)
                        .iter()
                        .all(|(name, _)| summary.contains(name.as_str()))
                    && has(status)
                    && (kind == "does-not-resolve" || !has("does-not-resolve")),
                why,
            )
        }
        "not-checked" => ensure(verdict == "unknown" && has("not-checked"), why),
        // Mail that senders keep and bounce leads, whatever clients meet: the inbound
        // section's own verdict and summary.
        "inbound-refused" => ensure(
            verdict == "fail"
                && report["inbound"]["verdict"] == "fail"
                && report["inbound"]["summary"].as_str() == Some(summary)
                && list(&report["inbound"]["problems"]).any(|p| p["severity"] == "error"),
            why,
        ),
        "source-unusable" => ensure(verdict == "warn" && has("source-error"), why),
        "host-warnings" => ensure(verdict == "warn" && all_work && !hosts_ok, why),
        "nothing-published" => ensure(
            verdict == "warn"
                && all_work
                && handed_out
                    .iter()
                    .all(|e| matches!(e["source"].as_str(), Some("mx" | "guess")) || elsewhere(e)),
            why,
        ),
        other => Err(format!("a domain report with a host's claim {other}: {summary}").into()),
    }
}

/// The text report's words on verified names against the JSON settings: "No server name for
/// reading mail" exactly when no incoming server was verified (and then no entry works on an
/// incoming port), the same for sending; an MX server said to work on port 25 is an MX entry
/// that works.
fn settings_words(report: &Value, words: &str, stderr: &str) -> Result<(), Failed> {
    let settings = &report["settings"][0];
    let works_on = |ports: &[u64]| {
        list(&report["discovery"])
            .any(|e| e["status"] == "works" && ports.contains(&e["port"].as_u64().unwrap_or(0)))
    };
    let no_incoming = settings["incoming"].is_null();
    let no_outgoing = settings["outgoing"].is_null();
    let why = || format!("settings {settings}\n{words}{stderr}");
    ensure(words.lines().next() == report["summary"].as_str(), || {
        format!("the text opens with the summary:\n{words}")
    })?;
    expect_eq(
        "\"No server name for reading mail\" exactly when no incoming server was verified",
        no_incoming,
        words.contains("No server name for reading mail"),
    )?;
    expect_eq(
        "\"no name for sending\" exactly when no outgoing server was verified",
        no_outgoing,
        words.contains("or sending it (submission) was verified")
            || words.contains("No server name for sending mail"),
    )?;
    ensure(!no_incoming || !works_on(&[143, 993, 110, 995]), why)?;
    ensure(!no_outgoing || !works_on(&[587, 465]), why)?;
    if let Some((_, said)) = words.split_once("The MX server ") {
        let name = said.split(' ').next().unwrap_or_default();
        ensure(
            list(&report["discovery"])
                .any(|e| e["source"] == "mx" && e["hostname"] == name && e["status"] == "works"),
            || format!("the MX server {name} is said to work:\n{words}"),
        )?;
    }
    Ok(())
}
