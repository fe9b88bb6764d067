//! Real clients and their libraries as oracles. For every lab scenario, the real Thunderbird,
//! NSS's `tstclnt` (configured as Thunderbird configures it) and GnuTLS's `gnutls-cli`
//! (Evolution's and Geary's) connect the way those clients do, and their answer (connected, a
//! certificate the user may accept, or a refusal) must agree with mailtls's verdict for the
//! client, and the fault its dialog names. Where a library and its client are documented to
//! differ, the test names the difference and its source instead of comparing (docs/clients.md,
//! "Oracles").

use libtest_mimic::Failed;
use rustls::pki_types::pem::PemObject;

use super::engines::{self, Answer};
use super::starttls_relay::{Dialogue, relay_once};
use super::thunderbird;
use super::{check_json, ensure, lab};

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![
        ("oracle_nss_tstclnt_agrees_with_thunderbird", nss_agrees),
        (
            "oracle_gnutls_cli_agrees_with_evolution_geary",
            gnutls_agrees,
        ),
        (
            "oracle_the_real_thunderbird_agrees_on_every_scenario",
            real_thunderbird_agrees,
        ),
    ]
}

/// The real Thunderbird (tests/thunderbird/oracle.py) on every scenario, on IMAP and SMTP with
/// implicit TLS (993, 465) and STARTTLS (143, 587): mailtls's Thunderbird verdict, and the fault
/// its dialog names, must be what Thunderbird did. No documented differences: this is the
/// client itself.
fn real_thunderbird_agrees(ca: &str) -> Result<(), Failed> {
    let ports: [(u16, &str, &str); 4] = [
        (993, "imap", "implicit"),
        (143, "imap", "starttls"),
        (465, "smtp", "implicit"),
        (587, "smtp", "starttls"),
    ];
    let mut cases = Vec::new();
    for scenario in SCENARIOS {
        for (port, protocol, tls) in ports {
            cases.push(thunderbird::Case {
                id: format!("{}:{port}", scenario.name),
                ip: scenario.address.to_string(),
                port,
                protocol,
                tls,
                name: scenario.name.to_string(),
                root: ca.into(),
            });
        }
    }
    let answers = thunderbird::run(&cases, &lab::Lab::default_dir().join("thunderbird"))?;
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for scenario in SCENARIOS {
        let (_, json) = check_json(ca, scenario.name, &[])?;
        for (port, _, _) in ports {
            let Some(answer) = answers.get(&format!("{}:{port}", scenario.name)) else {
                disagreements.push(format!(
                    "{}:{port}: Thunderbird gave no answer",
                    scenario.name
                ));
                continue;
            };
            let said = json["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["port"] == port)
                .flat_map(|e| e["clients"].as_array().into_iter().flatten())
                .find(|v| v["client"] == "thunderbird")
                .map(|v| {
                    (
                        v["verdict"].as_str().unwrap_or_default().to_string(),
                        v["dialog"]["fault"].as_str().map(str::to_string),
                    )
                });
            // Nothing listens there (mailtls gives no verdict): Thunderbird cannot even connect.
            if said.is_none() && answer.error.as_deref() == Some("NS_ERROR_CONNECTION_REFUSED") {
                compared += 1;
                continue;
            }
            let (verdict, fault) = answer.expected();
            let expected = (verdict.to_string(), fault.map(str::to_string));
            compared += 1;
            if said.as_ref() != Some(&expected) {
                disagreements.push(format!(
                    "{}:{port}: mailtls says {said:?}, Thunderbird {}",
                    scenario.name,
                    answer.said()
                ));
            }
        }
    }
    ensure(disagreements.is_empty(), || disagreements.join("\n"))?;
    ensure(compared == SCENARIOS.len() * ports.len(), || {
        format!("only {compared} connections were compared")
    })
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

/// mailtls's verdict for `client` on every port of `scenario` where it gives one, with the
/// fault its dialog names.
fn verdicts(
    ca: &str,
    scenario: lab::Scenario,
    client: &str,
) -> Result<Vec<(u16, String, Option<String>)>, Failed> {
    // With the version probes: a server that speaks only TLS 1.0 is judged on the certificate
    // its legacy handshake sent, as a client that still speaks TLS 1.0 sees it.
    let (_, json) = check_json(ca, scenario.name, &[])?;
    let mut out = Vec::new();
    for endpoint in json["endpoints"].as_array().into_iter().flatten() {
        let port = endpoint["port"].as_u64().unwrap_or(0) as u16;
        if let Some(verdict) = endpoint["clients"]
            .as_array()
            .and_then(|c| c.iter().find(|v| v["client"] == client))
        {
            out.push((
                port,
                verdict["verdict"].as_str().unwrap_or_default().to_string(),
                verdict["dialog"]["fault"].as_str().map(str::to_string),
            ));
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

/// Compares, for every scenario and port, the engine's answer with mailtls's verdict and the
/// fault its dialog names; collects every disagreement, and checks that each known difference
/// shows as documented.
fn compare(
    ca: &str,
    client: &str,
    ports: &[u16],
    known: &[Known],
    engine: impl Fn(lab::Scenario, u16) -> Result<Answer, Failed>,
) -> Result<(), Failed> {
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for scenario in SCENARIOS {
        for (port, verdict, fault) in verdicts(ca, scenario, client)? {
            if !ports.contains(&port) {
                continue;
            }
            let known_here = known
                .iter()
                .find(|k| k.scenario == scenario.name && k.ports.contains(&port));
            let answer = engine(scenario, port)?;
            let agrees = answer.agrees(&verdict)
                && fault.as_deref().is_none_or(|f| match client {
                    // NSS names one fault; GnuTLS lists them all.
                    "thunderbird" => answer.faults.first() == Some(&f),
                    _ => answer.faults.contains(&f),
                });
            match known_here {
                Some(known) => ensure(!agrees, || {
                    format!(
                        "{}:{port}: the documented difference ({}) no longer shows: mailtls \
                         says {verdict}, the engine {}",
                        scenario.name, known.why, answer.said
                    )
                })?,
                None if !agrees => disagreements.push(format!(
                    "{}:{port}: mailtls says {client} {verdict} {}, the engine {}",
                    scenario.name,
                    fault.unwrap_or_default(),
                    answer.said
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

/// NSS against Thunderbird: tstclnt as Thunderbird configures NSS (tests/common/engines.rs),
/// SNI and the verified name = the name, the lab CA trusted. tstclnt has no STARTTLS, so on the
/// STARTTLS ports it connects through a relay that speaks the plain-text part with the server
/// first (`starttls_relay`); the handshake and the certificate are the server's own.
fn nss_agrees(ca: &str) -> Result<(), Failed> {
    let root = std::fs::read(ca)?;
    let roots: Vec<Vec<u8>> = rustls::pki_types::CertificateDer::pem_slice_iter(&root)
        .filter_map(Result::ok)
        .map(|c| c.to_vec())
        .collect();
    let dir = lab::Lab::default_dir().join("nss-oracle");
    std::fs::create_dir_all(&dir)?;
    let db = engines::nss_database(&dir, &roots)?;
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
            Ok(engines::tstclnt(&db, host, port, scenario.name)?)
        },
    )
}

/// GnuTLS against Evolution and Geary: gnutls-cli trusting only the lab CA, SNI and verified
/// name = the name, STARTTLS on the ports that need it.
fn gnutls_agrees(ca: &str) -> Result<(), Failed> {
    let known = [Known {
        scenario: lab::LEGACY.name,
        // Only 993 speaks TLS 1.0 alone (openssl s_server); Postfix there also speaks 1.2/1.3.
        ports: &[993],
        why: "Debian's GnuTLS still enables TLS 1.0, so gnutls-cli connects; mailtls says it \
              depends, because Fedora's and RHEL's crypto policies refuse TLS 1.0 \
              (gnome/tls-versions-by-system-policy)",
    }];
    compare(
        ca,
        "gnome",
        &[587, 465, 143, 993, 110, 995],
        &known,
        |scenario, port| {
            let starttls = match port {
                587 => Some("smtp"),
                143 => Some("imap"),
                110 => Some("pop3"),
                _ => None,
            };
            Ok(engines::gnutls(
                std::path::Path::new(ca),
                scenario.address,
                port,
                scenario.name,
                starttls,
            )?)
        },
    )
}
