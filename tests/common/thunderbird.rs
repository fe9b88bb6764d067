//! The real Thunderbird as an oracle (tests/thunderbird/oracle.py, which drives a headless
//! Thunderbird over Marionette): what it does with a server's certificate, and the verdict that
//! means for mailtls. Used by the fidelity matrix and the lab's oracle test.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// One connection to ask Thunderbird about.
#[derive(Debug, Clone)]
pub struct Case {
    /// Echoed back with the answer.
    pub id: String,
    /// The server's address.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// `imap` or `smtp`.
    pub protocol: &'static str,
    /// `implicit` or `starttls`.
    pub tls: &'static str,
    /// The server name, as a user types it.
    pub name: String,
    /// A PEM file whose certificates the profile trusts for servers.
    pub root: PathBuf,
}

/// What the real Thunderbird did with one case.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `accepted`, `rejected`, `error`, `timeout` or `oracle_error`.
    pub outcome: String,
    /// The NSS error name, when rejected.
    pub error: Option<String>,
    /// The exception dialog's category: `trust`, `domain`, `time`; `None` when Thunderbird
    /// offers no exception.
    pub category: Option<String>,
}

impl Answer {
    /// The verdict mailtls must give Thunderbird, and the fault of its dialog: accepted:
    /// works; refused with an exception offered: warns, its dialog about the category (trust:
    /// untrusted, domain: wrong-name, time: dates); refused without one: fails.
    pub fn expected(&self) -> (&'static str, Option<&'static str>) {
        match (self.outcome.as_str(), self.category.as_deref()) {
            ("accepted", _) => ("works", None),
            ("rejected", Some("trust")) => ("warns", Some("untrusted")),
            ("rejected", Some("domain")) => ("warns", Some("wrong-name")),
            ("rejected", Some("time")) => ("warns", Some("dates")),
            _ => ("fails", None),
        }
    }

    /// In words, for a report.
    pub fn said(&self) -> String {
        match (&self.error, &self.category) {
            (Some(error), Some(category)) => format!("{} {error} ({category})", self.outcome),
            (Some(error), None) => format!("{} {error}", self.outcome),
            _ => self.outcome.clone(),
        }
    }
}

/// The Thunderbird version the tests expect (tests/thunderbird/VERSION, first word), which
/// scripts/deps.sh installs.
pub fn version() -> Result<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/thunderbird/VERSION");
    std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("{} is empty", path.display()))
}

/// Runs `cases` through one real Thunderbird (one per distinct root file); the answers by id.
/// Fails, with the oracle's reason, when Thunderbird is missing or not the version the tests
/// expect.
pub fn run(cases: &[Case], dir: &Path) -> Result<HashMap<String, Answer>, String> {
    let version = version()?;
    let list: Vec<Value> = cases
        .iter()
        .map(|case| {
            serde_json::json!({
                "id": case.id,
                "ip": case.ip,
                "port": case.port,
                "protocol": case.protocol,
                "tls": case.tls,
                "name": case.name,
                "root": case.root,
            })
        })
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join("thunderbird-cases.json");
    std::fs::write(&file, serde_json::to_vec(&list).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/thunderbird/oracle.py");
    // Each case takes well under a second; the bound covers start-up and the slowest ones.
    let limit = (60 + cases.len() * 3).to_string();
    let output = Command::new("timeout")
        .arg(&limit)
        .arg("python3")
        .arg(&script)
        .args(["--expect-version", &version, "--case-timeout", "10"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) || output.stdout.is_empty() {
        return Err(format!(
            "the Thunderbird oracle could not run (scripts/deps.sh installs Thunderbird \
             {version}): {}",
            stderr.lines().rev().take(5).collect::<Vec<_>>().join(" / ")
        ));
    }
    let mut out = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(answer) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let text = |key: &str| answer[key].as_str().map(str::to_string);
        out.insert(
            text("id").unwrap_or_default(),
            Answer {
                outcome: text("outcome").unwrap_or_default(),
                error: text("error"),
                category: text("override_category").filter(|c| c != "none"),
            },
        );
    }
    Ok(out)
}
