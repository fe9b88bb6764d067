//! How a case is run through the engines: mailtls itself (the binary, `check --json`), NSS's
//! `tstclnt` for Thunderbird and GnuTLS's `gnutls-cli` for Evolution and Geary (both in
//! tests/common/engines.rs), and the real Thunderbird, each with the matrix's roots as its only
//! trust. Every run is bounded by `timeout`.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::cases::{Case, DNS_ADDRESS};
use super::engines::{self, Answer};
use super::thunderbird;

/// Longest one engine may take on one case, in seconds (`timeout`'s argument).
const LIMIT: &str = "20";

/// NSS as Thunderbird uses it, on the case's port 993, with exactly the name typed: Thunderbird
/// hands NSS the server name as the user typed it, Unicode included.
pub fn tstclnt(db: &Path, case: &Case) -> Result<Answer, String> {
    engines::tstclnt(db, &case.address.to_string(), 993, &case.typed)
}

/// GnuTLS as Evolution and Geary use it, on the case's port 993.
pub fn gnutls(roots: &Path, case: &Case) -> Result<Answer, String> {
    engines::gnutls(
        roots,
        &case.address.to_string(),
        993,
        oracle_name(case),
        None,
    )
}

/// The name an oracle connects with: what was typed when it is ASCII (upper case and a
/// trailing dot kept), else the A-label form (GIO hands GnuTLS the ASCII form of a name).
pub fn oracle_name(case: &Case) -> &str {
    if case.typed.is_ascii() {
        &case.typed
    } else {
        &case.host
    }
}

/// What mailtls says about one case.
#[derive(Debug, Clone)]
pub struct Verdicts {
    /// The whole JSON report.
    pub json: Value,
}

impl Verdicts {
    /// The port-993 endpoint.
    pub fn endpoint(&self) -> Option<&Value> {
        self.json["endpoints"]
            .as_array()?
            .iter()
            .find(|e| e["port"] == 993)
    }

    /// `client`'s verdict there and the fault of its dialog.
    pub fn client(&self, client: &str) -> Option<(String, Option<String>)> {
        let verdict = self.endpoint()?["clients"]
            .as_array()?
            .iter()
            .find(|v| v["client"] == client)?
            .clone();
        Some((
            verdict["verdict"].as_str()?.to_string(),
            verdict["dialog"]["fault"].as_str().map(str::to_string),
        ))
    }
}

/// `mailtls check TYPED --ports 993 --json` through the matrix's DNS, trusting its roots.
pub fn mailtls(roots: &Path, case: &Case) -> Result<Verdicts, String> {
    let output = Command::new("timeout")
        .args([LIMIT, env!("CARGO_BIN_EXE_mailtls"), "check"])
        .arg(&case.typed)
        .args(["--ports", "993", "--timeout", "5", "--json", "--dns"])
        .arg(DNS_ADDRESS.to_string())
        .arg("--ca-file")
        .arg(roots)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("mailtls: {e}"))?;
    let json: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "{}: mailtls exited {:?} without JSON ({e}): {}",
            case.id,
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    Ok(Verdicts { json })
}

/// Runs `cases` on port 993 through one real Thunderbird trusting `roots`, as typed (Unicode,
/// upper case, trailing dot and all).
pub fn thunderbird(
    cases: &[&Case],
    roots: &Path,
    dir: &Path,
) -> Result<std::collections::HashMap<String, thunderbird::Answer>, String> {
    let list: Vec<thunderbird::Case> = cases
        .iter()
        .map(|case| thunderbird::Case {
            id: case.id.clone(),
            ip: case.address.to_string(),
            port: 993,
            protocol: "imap",
            tls: "implicit",
            name: case.typed.clone(),
            root: roots.to_path_buf(),
        })
        .collect();
    thunderbird::run(&list, dir)
}
