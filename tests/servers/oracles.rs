//! Real client libraries as oracles. For every lab scenario, NSS's `tstclnt` (Thunderbird's TLS
//! library) and GnuTLS's `gnutls-cli` (Evolution's and Geary's) connect the way those clients
//! do, and their answer (connected, or refused) must agree with mailtls's verdict for the
//! client built on them. Where a library and its client are documented to differ, the test names
//! the difference and its source instead of comparing (docs/clients.md, "Oracles").

use std::process::{Command, Stdio};

use libtest_mimic::Failed;

use super::starttls_relay::{Dialogue, relay_once};
use super::{check_json, ensure, lab};

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![
        ("oracle_nss_tstclnt_agrees_with_thunderbird", nss_agrees),
        (
            "oracle_gnutls_cli_agrees_with_evolution_geary",
            gnutls_agrees,
        ),
    ]
}

/// Every scenario the oracles run against (FLEET sits behind a proxy only its own test runs).
const SCENARIOS: [lab::Scenario; 12] = [
    lab::GOOD,
    lab::MISMATCH,
    lab::EXPIRED,
    lab::SELF_SIGNED,
    lab::UNKNOWN_CA,
    lab::NO_CHAIN,
    lab::SPLIT,
    lab::SNI,
    lab::NO_TLS,
    lab::TLS13,
    lab::LEGACY,
    lab::CN_ONLY,
];

/// Longest an oracle may take for one connection.
const ORACLE_TIMEOUT: &str = "10";

/// mailtls's verdict for `client` on every port of `scenario` where it gives one.
fn verdicts(ca: &str, scenario: lab::Scenario, client: &str) -> Result<Vec<(u16, String)>, Failed> {
    // With the version probes: a server that speaks only TLS 1.0 is judged on the certificate
    // its legacy handshake sent, as a client that still speaks TLS 1.0 sees it.
    let (_, json) = check_json(ca, scenario.name, &[])?;
    let mut out = Vec::new();
    for endpoint in json["endpoints"].as_array().into_iter().flatten() {
        let port = endpoint["port"].as_u64().unwrap_or(0) as u16;
        if let Some(verdict) = endpoint["clients"]
            .as_array()
            .and_then(|c| c.iter().find(|v| v["client"] == client))
            .and_then(|v| v["verdict"].as_str())
        {
            out.push((port, verdict.to_string()));
        }
    }
    Ok(out)
}

/// A documented difference between a library's verifier and its client, for a scenario's
/// ports.
struct Known {
    scenario: &'static str,
    ports: &'static [u16],
    why: &'static str,
}

/// Compares, for every scenario and port, the oracle's answer with mailtls's verdict; collects
/// every disagreement, and checks that each known difference shows as documented.
fn compare(
    ca: &str,
    client: &str,
    ports: &[u16],
    known: &[Known],
    oracle: impl Fn(lab::Scenario, u16) -> Result<(bool, String), Failed>,
) -> Result<(), Failed> {
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for scenario in SCENARIOS {
        for (port, verdict) in verdicts(ca, scenario, client)? {
            if !ports.contains(&port) {
                continue;
            }
            let known_here = known
                .iter()
                .find(|k| k.scenario == scenario.name && k.ports.contains(&port));
            let (connected, said) = oracle(scenario, port)?;
            let agrees = match verdict.as_str() {
                "works" => connected,
                "fails" => !connected,
                // A "warns" verdict is a risk mailtls cannot settle; an oracle settles it, so
                // it is reported as a disagreement to look at.
                _ => false,
            };
            match known_here {
                Some(known) => ensure(!agrees, || {
                    format!(
                        "{}:{port}: the documented difference ({}) no longer shows: mailtls \
                         says {verdict}, the oracle {said}",
                        scenario.name, known.why
                    )
                })?,
                None if !agrees => disagreements.push(format!(
                    "{}:{port}: mailtls says {client} {verdict}, the oracle {said}",
                    scenario.name
                )),
                None => compared += 1,
            }
        }
    }
    ensure(disagreements.is_empty(), || disagreements.join("\n"))?;
    ensure(compared >= 20, || {
        format!("only {compared} ports were compared: the lab did not answer as expected")
    })
}

/// A throwaway NSS database trusting the lab CA for servers, as Thunderbird would after the
/// user installed it.
fn nss_database(ca: &str) -> Result<std::path::PathBuf, Failed> {
    let dir = lab::Lab::default_dir().join("nssdb");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let db = format!("sql:{}", dir.display());
    for args in [
        vec!["-N", "-d", db.as_str(), "--empty-password"],
        vec!["-A", "-d", db.as_str(), "-n", "lab", "-t", "C,,", "-i", ca],
    ] {
        let output = Command::new("certutil").args(&args).output()?;
        ensure(output.status.success(), || {
            format!(
                "certutil {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    }
    Ok(dir)
}

/// NSS against Thunderbird: tstclnt with SNI = the name (which it also verifies), TLS 1.2 and
/// 1.3 only (Thunderbird 78 and later), the lab CA trusted. tstclnt has no STARTTLS, so on the
/// STARTTLS ports it connects through a relay that speaks the plain-text part with the server
/// first (`starttls_relay`); the handshake and the certificate are the server's own. Exit 0:
/// connected; 254: the certificate was refused; other: no TLS. (tstclnt and gnutls-cli come
/// from scripts/deps.sh; a missing one fails the test.)
fn nss_agrees(ca: &str) -> Result<(), Failed> {
    let db = nss_database(ca)?;
    let db = format!("sql:{}", db.display());
    let known = [Known {
        scenario: lab::CN_ONLY.name,
        ports: &[587, 465, 143, 993, 110, 995],
        why: "NSS's classic verifier (CERT_VerifyCertName, lib/certdb/certdb.c) falls back to the \
              Common Name when there is no subjectAltName; Thunderbird's mozilla::pkix never does \
              (SkipInvalidSANsForNonBuiltInRootsPolicy)",
    }];
    compare(
        ca,
        "thunderbird",
        &[587, 465, 143, 993, 110, 995],
        &known,
        |scenario, port| {
            let (host, port) = match Dialogue::for_port(port) {
                Some(dialogue) => {
                    let server = format!("{}:{port}", scenario.address)
                        .parse()
                        .map_err(|e| format!("{e}"))?;
                    ("127.0.0.1", relay_once(server, dialogue)?)
                }
                None => (scenario.address, port),
            };
            let output = Command::new("timeout")
                .args([ORACLE_TIMEOUT, "tstclnt", "-h", host, "-p"])
                .arg(port.to_string())
                .args(["-a", scenario.name, "-d", &db, "-V", "tls1.2:tls1.3", "-Q"])
                .stdin(Stdio::null())
                .output()?;
            let code = output.status.code().unwrap_or(-1);
            let said = String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
                .to_string();
            Ok((code == 0, format!("exits {code} ({said})")))
        },
    )
}

/// GnuTLS against Evolution and Geary: gnutls-cli trusting only the lab CA, SNI and verified
/// name = the name, STARTTLS on the ports that need it. Connected when the handshake completes
/// with a trusted certificate.
fn gnutls_agrees(ca: &str) -> Result<(), Failed> {
    let known = [Known {
        scenario: lab::LEGACY.name,
        // Only 993 speaks TLS 1.0 alone (openssl s_server); Postfix there also speaks 1.2/1.3.
        ports: &[993],
        why: "Debian's GnuTLS still enables TLS 1.0, so gnutls-cli connects; mailtls says warns, \
              because Fedora's and RHEL's crypto policies refuse TLS 1.0 \
              (gnome/tls-versions-by-system-policy)",
    }];
    compare(
        ca,
        "gnome",
        &[587, 465, 143, 993, 110, 995],
        &known,
        |scenario, port| {
            let mut command = Command::new("timeout");
            command
                .args([ORACLE_TIMEOUT, "gnutls-cli", "--x509cafile", ca])
                .args(["--verify-hostname", scenario.name])
                .args(["--sni-hostname", scenario.name, "-p"])
                .arg(port.to_string());
            match port {
                587 => command.arg("--starttls-proto=smtp"),
                143 => command.arg("--starttls-proto=imap"),
                110 => command.arg("--starttls-proto=pop3"),
                _ => &mut command,
            };
            let output = command
                .arg(scenario.address)
                .stdin(Stdio::null())
                .output()?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let connected = output.status.success()
                && text.contains("The certificate is trusted")
                && text.contains("Handshake was completed");
            let said = text
                .lines()
                .find(|l| l.contains("Status:") || l.contains("failed") || l.contains("rror"))
                .unwrap_or("no TLS")
                .trim()
                .to_string();
            Ok((connected, said))
        },
    )
}
