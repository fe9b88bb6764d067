//! The fidelity matrix: hundreds of generated server configurations (tests/fidelity/cases.rs),
//! each served by a real TLS server on 127.77.0.0/16 and run through mailtls and the real
//! engines of two of the clients it judges: NSS's `tstclnt` for Thunderbird and GnuTLS's
//! `gnutls-cli` for Evolution and Geary, each trusting only the matrix's roots. For every case
//! mailtls's verdict for that client must match what the engine did (`works` = connected,
//! `fails` = refused), and the dialog it names must be about the fault the engine reported.
//! Where an engine and the client built on it are documented to differ, the difference is
//! listed in [`KNOWN`] (and docs/clients.md, "Oracles") and asserted: a case listed there
//! that stops disagreeing fails too, as does any new disagreement.
//!
//! On every case it also holds mailtls to its own promise: a client shows a dialog exactly when
//! its verdict says one appears.
//!
//! The real Thunderbird (tests/thunderbird/oracle.py) runs on every case too, and settles
//! Thunderbird's verdict: a difference from it is always mailtls's error. Each run also counts
//! the connections mailtls makes to a few servers (a weak key or legacy signature must cost no
//! more than a modern server).
//!
//! `cargo test` and `scripts/fidelity.sh` both run every case (about a minute here, well under
//! the three minutes that would call for a subset); `MAILTLS_FIDELITY_CASES='names/*'` runs the
//! cases whose id matches. The last line is `fidelity: N cases; thunderbird=NSS A/N;
//! gnome=GnuTLS B/N; undocumented disagreements U`.
//!
//! Runs as root (dnsmasq on port 53, the AIA server on port 80), in network, mount and pid
//! namespaces of the run's own (tests/lab/netns.rs): 127.77.0.0/16 is the run's loopback.

#[path = "fidelity/cases/mod.rs"]
mod cases;
#[path = "common/certgen.rs"]
mod certgen;
#[path = "common/engines.rs"]
mod engines;
#[path = "lab/netns.rs"]
mod netns;
#[path = "fidelity/oracles.rs"]
mod oracles;
#[path = "fidelity/serve.rs"]
mod serve;
#[path = "common/thunderbird.rs"]
mod thunderbird;
#[path = "common/words.rs"]
mod words;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use cases::Case;
use engines::Answer;

/// A documented difference between an oracle and the client mailtls judges with it.
struct Known {
    /// `thunderbird` (NSS) or `gnome` (GnuTLS).
    client: &'static str,
    /// Case ids it applies to; `*` matches any text.
    cases: &'static [&'static str],
    /// Why, with the source.
    why: &'static str,
}

/// Every documented difference (docs/clients.md, "Oracles", lists the same). Each is a
/// difference between NSS's classic certificate verifier (CERT_VerifyCert and
/// CERT_VerifyCertName, which tstclnt uses) and mozilla::pkix (which Thunderbird uses over the
/// same NSS): on every case listed, the real Thunderbird must agree with mailtls, or the test
/// fails.
const KNOWN: &[Known] = &[
    Known {
        client: "thunderbird",
        cases: &[
            "signatures/*-sha-1/*",
            "signatures/intermediate-sha1/*",
            "combined/sha1-mismatch/*",
        ],
        why: "NSS's classic verifier accepts SHA-1 signatures under a private root; \
              Thunderbird's mozilla::pkix refuses them (SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED, \
              security/certverifier/NSSCertDBTrustDomain.cpp)",
    },
    Known {
        client: "thunderbird",
        cases: &["signatures/rsa-pss-2048-*"],
        why: "NSS's classic verifier checks signatures by RSA-PSS (id-RSASSA-PSS) keys; \
              mozilla::pkix knows no such keys (SEC_ERROR_UNSUPPORTED_KEYALG, \
              lib/mozpkix/lib/pkixnss.cpp)",
    },
    Known {
        client: "thunderbird",
        cases: &[
            "names/cn-only/*",
            "names/wildcard-in-cn-only/*",
            "names/ip-in-cn-only/*",
            "names/ip-in-dns-name/*",
            "names/wildcard-partial-suffix/*",
            "names/typed-trailing-dot/*",
        ],
        why: "NSS's classic name check (CERT_VerifyCertName, lib/certdb/certdb.c) falls back to \
              the Common Name without a subjectAltName, matches an address written as a dNSName, \
              accepts a partial wildcard (mail*.) and keeps the trailing dot of the name asked \
              for; mozilla::pkix (lib/mozpkix/lib/pkixnames.cpp) does none of these",
    },
    Known {
        client: "thunderbird",
        cases: &["eku/ca-client-auth-only/*"],
        why: "NSS's classic verifier ignores a CA's extendedKeyUsage; mozilla::pkix checks it on \
              every CA (CheckExtendedKeyUsage, lib/mozpkix/lib/pkixcheck.cpp)",
    },
    Known {
        client: "thunderbird",
        cases: &[
            "key-usage/digital-signature-tls12/rsa2048",
            "key-usage/digital-signature-tls13/rsa2048",
            "key-usage/key-encipherment-only-tls13/p256",
        ],
        why: "NSS's classic verifier wants the keyUsage of the key's type for a server \
              (keyEncipherment for RSA, digitalSignature for ECDSA); Thunderbird accepts any of \
              digitalSignature, keyEncipherment and keyAgreement \
              (CertVerifier::VerifySSLServerCert tries the three)",
    },
    Known {
        client: "thunderbird",
        cases: &["validity/not-yet-valid-hours/*"],
        why: "NSS's classic verifier lets a notBefore lie up to a day ahead (pending slop, \
              CERT_CheckCertValidTimes); mozilla::pkix allows none",
    },
    Known {
        client: "thunderbird",
        cases: &[
            "chains/untrusted-root-sent/*",
            "chains/cross-signed-missing-cross/*",
            "chains/leaf-is-ca/*",
            "chains/self-signed-ca/*",
            "chains/ca-unknown-critical-extension/*",
            "hostile/unknown-signature-algorithm/*",
        ],
        why: "NSS's classic verifier names these faults with errors Thunderbird offers no \
              exception for (SEC_ERROR_UNTRUSTED_ISSUER, SEC_ERROR_INADEQUATE_CERT_TYPE, \
              SEC_ERROR_UNKNOWN_CRITICAL_EXTENSION, SEC_ERROR_BAD_SIGNATURE); mozilla::pkix names \
              them SEC_ERROR_UNKNOWN_ISSUER, MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY, \
              MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT and SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED, \
              which Thunderbird lets the user override \
              (security/manager/ssl/SSLServerCertVerification.cpp, CategorizeCertificateError)",
    },
    Known {
        client: "thunderbird",
        cases: &[
            "combined/cn-only-expired/*",
            "combined/expired-and-mismatch/*",
            "combined/expired-intermediate-and-leaf/*",
            "combined/expired-self-signed*",
            "combined/missing-intermediate-expired/*",
            "combined/untrusted-expired/*",
        ],
        why: "NSS's classic verifier reports an expired server certificate before anything else; \
              mozilla::pkix reports an untrusted chain first and the server certificate's dates \
              only once a path is found (lib/mozpkix/lib/pkixbuild.cpp, deferred end-entity \
              errors), and Thunderbird's dialog then names the name before the dates",
    },
];

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|i| {
                    text.is_char_boundary(head.len() + i) && glob(tail, &text[head.len() + i..])
                })
        }
    }
}

/// Cases mailtls cannot observe, and says so: every client's verdict there must be `depends`
/// (the `not-observed` rule), never a guess. Each is counted apart and never as agreement.
const UNOBSERVED: &[(&str, &str)] = &[(
    "hostile/chain-64k-tls13/*",
    "a certificate list over 64 KiB in TLS 1.3 only: rustls stops at 64 KiB and TLS 1.3 \
     encrypts the certificates, so no probe of mailtls reads them (NSS and GnuTLS accept up to \
     128 KiB)",
)];

fn unobserved(id: &str) -> Option<&'static str> {
    UNOBSERVED
        .iter()
        .find(|(pattern, _)| glob(pattern, id))
        .map(|(_, why)| *why)
}

fn known(client: &str, id: &str) -> Option<&'static Known> {
    KNOWN
        .iter()
        .find(|k| k.client == client && k.cases.iter().any(|p| glob(p, id)))
}

/// One case's results.
struct Outcome {
    case: usize,
    nss: Answer,
    gnutls: Answer,
    verdicts: oracles::Verdicts,
}

/// `MAILTLS_FIDELITY_DIR`, or `fidelity` in the run's directory (kept when the run fails).
fn dir() -> PathBuf {
    std::env::var_os("MAILTLS_FIDELITY_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os(netns::RUN_DIR).map(|d| PathBuf::from(d).join("fidelity")))
        .unwrap_or_else(|| std::env::temp_dir().join("mailtls-fidelity"))
}

/// Servers whose connection count is measured, with what they stand for: a modern one first,
/// then the two that must cost no more (a weak key, a legacy signature), then the ones whose
/// extra questions are the point (rustls stops short; a suite a client does not offer).
const COUNTED: [(&str, &str); 5] = [
    ("keys/tls12-13/rsa2048", "modern (RSA-2048)"),
    ("keys/tls12-13/rsa1024", "RSA-1024"),
    ("signatures/rsa-2048-sha-1/rsa2048", "SHA-1 chain"),
    ("keys/tls12/rsapss", "RSA-PSS key in TLS 1.2"),
    ("tls/tls12-cbc-sha256/rsa2048", "CBC-SHA256 only"),
];

/// How many connections one `mailtls check` makes to each [`COUNTED`] server, from the
/// OpenSSL server's log (one line a connection).
fn count_connections(
    matrix: &cases::Matrix,
    cases: &[&Case],
    roots: &std::path::Path,
    log: &std::path::Path,
) -> Vec<(&'static str, usize)> {
    let lines = |address: &str| {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(address))
            .count()
    };
    let mut out = Vec::new();
    for (id, what) in COUNTED {
        let Some(case) = matrix
            .cases
            .iter()
            .find(|c| c.id == id && cases.iter().any(|chosen| chosen.id == id))
        else {
            continue;
        };
        let address = case.address.to_string();
        let before = lines(&address);
        if oracles::mailtls(roots, case).is_ok() {
            // The server logs a connection once it ends: give the last ones a moment.
            std::thread::sleep(std::time::Duration::from_millis(300));
            out.push((what, lines(&address) - before));
        }
    }
    out
}

/// Whether a verdict agrees with an engine's answer ([`Answer::agrees`]).
fn agrees(verdict: &str, answer: &Answer) -> bool {
    answer.agrees(verdict)
}

fn main() -> ExitCode {
    // Everything below runs in a network of this run's own (tests/lab/netns.rs).
    if let Err(error) = netns::enter("fidelity") {
        eprintln!("fidelity: {error}");
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("fidelity: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let started = Instant::now();
    let dir = dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let keys = certgen::Keys::load()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let matrix = cases::matrix(&keys, now, &dir)?;
    let generated = started.elapsed();
    // Every case (about a minute here, the real Thunderbird most of it: well under the three
    // minutes that would call for a subset), or those a person asks for by id.
    let filter = std::env::var("MAILTLS_FIDELITY_CASES").ok();
    let chosen: Vec<usize> = (0..matrix.cases.len())
        .filter(|&i| {
            filter
                .as_deref()
                .is_none_or(|p| glob(p, &matrix.cases[i].id))
        })
        .collect();
    let cases: Vec<&Case> = chosen.iter().map(|&i| &matrix.cases[i]).collect();
    if cases.is_empty() {
        return Err(format!(
            "MAILTLS_FIDELITY_CASES={} matches no case id (ids look like names/cn-only/rsa2048)",
            filter.unwrap_or_default()
        ));
    }
    let roots = serve::write_roots(&matrix, &dir)?;
    let trusted: Vec<Vec<u8>> = matrix.trusted.iter().map(|c| c.der.clone()).collect();
    let db = engines::nss_database(&dir, &trusted)?;
    let servers = serve::start(&matrix, &cases, &dir)?;
    println!(
        "fidelity: {} cases generated in {:.1} s; running {}",
        matrix.cases.len(),
        generated.as_secs_f64(),
        cases.len()
    );

    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let workers: usize = std::env::var("MAILTLS_FIDELITY_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(6);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let slot = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&case) = chosen.get(slot) else { break };
                    let one = &matrix.cases[case];
                    let result = (|| {
                        Ok::<_, String>(Outcome {
                            case,
                            nss: oracles::tstclnt(&db, one)?,
                            gnutls: oracles::gnutls(&roots, one)?,
                            verdicts: oracles::mailtls(&roots, one)?,
                        })
                    })();
                    match result {
                        Ok(outcome) => outcomes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(outcome),
                        Err(error) => errors
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("{}: {error}", one.id)),
                    }
                }
            });
        }
    });
    // The real Thunderbird, one instance for every case (about 0.15 s each), while the
    // servers still run.
    let thunderbird_started = Instant::now();
    let thunderbird = match std::env::var("MAILTLS_FIDELITY_THUNDERBIRD").as_deref() {
        Ok("off") => std::collections::HashMap::new(),
        _ => oracles::thunderbird(&cases, &roots, &dir)?,
    };
    let thunderbird_time = thunderbird_started.elapsed();
    let connections = count_connections(&matrix, &cases, &roots, &servers.log);
    // For a person looking into a case by hand: keep the servers up this many seconds.
    if let Some(hold) = std::env::var("MAILTLS_FIDELITY_HOLD")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        println!("fidelity: servers stay up for {hold} s");
        std::thread::sleep(std::time::Duration::from_secs(hold));
    }
    drop(servers);
    let errors = errors.into_inner().unwrap_or_default();
    let mut failures_early: Vec<String> = Vec::new();
    if !connections.is_empty() {
        let line: Vec<String> = connections
            .iter()
            .map(|(what, n)| format!("{what} {n}"))
            .collect();
        println!("fidelity: connections per check: {}", line.join(", "));
        let modern = connections.first().map(|(_, n)| *n).unwrap_or(0);
        for (what, n) in connections.iter().take(3) {
            if *n > modern {
                failures_early.push(format!(
                    "a check of the {what} server took {n} connections, a modern one {modern}"
                ));
            }
        }
    }
    let mut outcomes = outcomes.into_inner().unwrap_or_default();
    outcomes.sort_by_key(|o| o.case);
    let mut failures: Vec<String> = errors;
    failures.extend(failures_early);

    // Every case's answers, for people looking into a disagreement.
    let results: String = outcomes
        .iter()
        .map(|o| {
            let case = &matrix.cases[o.case];
            let verdicts: Vec<_> = ["thunderbird", "gnome", "outlook", "apple-mail", "android"]
                .iter()
                .map(|c| (c, o.verdicts.client(c)))
                .collect();
            format!(
                "{}\n",
                serde_json::json!({
                    "case": case.id,
                    "about": case.about,
                    "typed": case.typed,
                    "address": case.address.to_string(),
                    "nss": o.nss.said,
                    "thunderbird": thunderbird.get(&case.id).map(thunderbird::Answer::said),
                    "gnutls": o.gnutls.said,
                    "mailtls": format!("{verdicts:?}"),
                    "headline": o.verdicts.json["summary"],
                })
            )
        })
        .collect();
    let _ = std::fs::write(dir.join("results.jsonl"), results);
    let n = outcomes.len();
    let mut agree = BTreeMap::from([("thunderbird", 0usize), ("gnome", 0usize)]);
    let mut undocumented = 0;
    let mut stale: Vec<String> = Vec::new();
    let mut real = (0usize, 0usize);
    let mut not_observed = 0;
    for outcome in &outcomes {
        let case = &matrix.cases[outcome.case];
        if let Some(why) = unobserved(&case.id) {
            not_observed += 1;
            let verdicts: Vec<String> = outcome
                .verdicts
                .endpoint()
                .and_then(|e| e["clients"].as_array())
                .into_iter()
                .flatten()
                .map(|c| c["verdict"].as_str().unwrap_or_default().to_string())
                .collect();
            if verdicts.is_empty() || verdicts.iter().any(|v| v != "depends") {
                failures.push(format!(
                    "{}: mailtls cannot observe this case ({why}), yet its verdicts are {}",
                    case.id,
                    verdicts.join(", ")
                ));
            }
            failures.extend(invariants(case, &outcome.verdicts));
            continue;
        }
        // The real Thunderbird settles Thunderbird's verdict and dialog: any difference is
        // mailtls's error, never a documented one.
        if let Some(answer) = thunderbird.get(&case.id) {
            real.1 += 1;
            let (verdict, fault) = answer.expected();
            match outcome.verdicts.client("thunderbird") {
                Some((v, f)) if v == verdict && f.as_deref() == fault => real.0 += 1,
                other => {
                    undocumented += 1;
                    failures.push(format!(
                        "{} (real Thunderbird): mailtls says {}, Thunderbird {}",
                        case.id,
                        other
                            .map(|(v, f)| format!("{v} {}", f.unwrap_or_default()))
                            .unwrap_or_else(|| "nothing".into()),
                        answer.said()
                    ));
                }
            }
        }
        for (client, answer, engine) in [
            ("thunderbird", &outcome.nss, "NSS"),
            ("gnome", &outcome.gnutls, "GnuTLS"),
        ] {
            let Some((verdict, dialog)) = outcome.verdicts.client(client) else {
                failures.push(format!(
                    "{}: mailtls gave no {client} verdict on 993",
                    case.id
                ));
                undocumented += 1;
                continue;
            };
            let mut problems = Vec::new();
            if !agrees(&verdict, answer) {
                problems.push(format!("mailtls says {verdict}, {engine} {}", answer.said));
            } else if let Some(fault) = &dialog {
                // The dialog must be about the fault the engine reports first (NSS names one;
                // GnuTLS lists them all, and Evolution shows them all).
                let first = match client {
                    "thunderbird" => answer.faults.first().is_some_and(|f| f == fault),
                    _ => answer.faults.contains(&fault.as_str()),
                };
                if !first {
                    problems.push(format!(
                        "mailtls's {client} dialog is about {fault}, {engine} about {}",
                        answer.faults.join(", ")
                    ));
                }
            }
            let confirmed = client != "thunderbird"
                || thunderbird.get(&case.id).is_some_and(|answer| {
                    let (v, f) = answer.expected();
                    Some((v.to_string(), f.map(str::to_string)))
                        == Some((verdict.clone(), dialog.clone()))
                });
            match (known(client, &case.id), problems.is_empty()) {
                (Some(_), false) if !confirmed => {
                    undocumented += 1;
                    failures.push(format!(
                        "{} ({client}): listed as a known difference, but the real Thunderbird \
                         did not run on it or does not agree with mailtls ({})",
                        case.id,
                        problems.join("; ")
                    ));
                }
                (Some(_), true) => stale.push(format!(
                    "{} ({client}): listed as a known difference, but mailtls and {engine} agree",
                    case.id
                )),
                (Some(_), false) => {}
                (None, true) => *agree.entry(client).or_default() += 1,
                (None, false) => {
                    undocumented += 1;
                    failures.push(format!("{} ({client}): {}", case.id, problems.join("; ")));
                }
            }
        }
        failures.extend(invariants(case, &outcome.verdicts));
        failures.extend(faults_reported(case, &outcome.verdicts));
    }
    for line in &failures {
        println!("  {line}");
    }
    for entry in KNOWN {
        let count = outcomes
            .iter()
            .filter(|o| {
                known(entry.client, &matrix.cases[o.case].id)
                    .is_some_and(|k| std::ptr::eq(k, entry))
            })
            .count();
        if count > 0 {
            println!(
                "  documented ({count} cases, {}): {}",
                entry.client, entry.why
            );
        }
    }
    for line in &stale {
        println!("  {line}");
    }
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for outcome in &outcomes {
        let case = &matrix.cases[outcome.case];
        let entry = groups.entry(case.group).or_default();
        entry.1 += 1;
        if thunderbird.get(&case.id).is_none_or(|answer| {
            let (verdict, fault) = answer.expected();
            outcome.verdicts.client("thunderbird")
                == Some((verdict.to_string(), fault.map(str::to_string)))
        }) && outcome
            .verdicts
            .client("gnome")
            .is_some_and(|(v, _)| outcome.gnutls.agrees(&v))
        {
            entry.0 += 1;
        }
    }
    let by_group: Vec<String> = groups
        .iter()
        .map(|(group, (good, all))| format!("{group} {good}/{all}"))
        .collect();
    println!(
        "fidelity: cases where mailtls agrees with the real Thunderbird and GnuTLS, by group: {}",
        by_group.join(", ")
    );
    println!(
        "fidelity: ran in {:.0} s ({} workers; the real Thunderbird {:.0} s of it)",
        started.elapsed().as_secs_f64(),
        workers,
        thunderbird_time.as_secs_f64()
    );
    if real.1 > 0 {
        // How far NSS's own verdict can be trusted as Thunderbird's: the cases where the two
        // differ bound what any engine that agrees with Thunderbird can score against NSS.
        let apart = outcomes
            .iter()
            .filter(|o| {
                thunderbird
                    .get(&matrix.cases[o.case].id)
                    .is_some_and(|answer| {
                        let (verdict, fault) = answer.expected();
                        !agrees(verdict, &o.nss)
                            || (verdict == "warns" && o.nss.faults.first().copied() != fault)
                    })
            })
            .count();
        println!(
            "fidelity: the real Thunderbird {} agrees with mailtls on {}/{} cases; it differs \
             from NSS's classic verifier (tstclnt) on {apart} of them",
            thunderbird::version()?,
            real.0,
            real.1
        );
    }
    for (pattern, why) in UNOBSERVED {
        println!("  not observed ({pattern}): {why}");
    }
    println!(
        "fidelity: cases mailtls cannot observe: {not_observed} (every verdict there is \
         depends; counted as disagreements with both engines)"
    );
    println!(
        "fidelity: {n} cases; thunderbird=NSS {}/{n}; gnome=GnuTLS {}/{n}; undocumented disagreements {undocumented}",
        agree["thunderbird"], agree["gnome"]
    );
    Ok(failures.is_empty() && stale.is_empty() && n == cases.len())
}

/// Every fault the case was built with is among the problems mailtls reports (one fault never
/// hides another), but for what a missing intermediate hides: the trust of a root nobody can
/// name.
fn faults_reported(case: &Case, verdicts: &oracles::Verdicts) -> Vec<String> {
    use cases::Fault;
    let codes: Vec<&str> = verdicts.json["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            verdicts
                .endpoint()
                .and_then(|e| e["problems"].as_array())
                .into_iter()
                .flatten(),
        )
        .filter_map(|p| p["code"].as_str())
        .collect();
    // Who sends only a leaf, or a chain whose top is no root, may miss an intermediate or use an
    // untrusted CA: nobody can tell which, and mailtls's report says both.
    let missing_intermediate = case.faults.contains(&Fault::MissingIntermediate);
    let ambiguous = missing_intermediate || case.faults.contains(&Fault::Untrusted);
    case.faults
        .iter()
        .filter(|fault| {
            let wanted: &[&str] = match fault {
                Fault::Name => &["name-mismatch", "cert-lacks-name", "ip-address-used"],
                Fault::CommonNameOnly => &["cn-only"],
                Fault::Expired => &["expired"],
                Fault::NotYetValid => &["not-yet-valid"],
                Fault::Untrusted if ambiguous => &["incomplete-chain", "unknown-ca", "self-signed"],
                Fault::Untrusted => &["unknown-ca", "self-signed"],
                Fault::MissingIntermediate => &["incomplete-chain", "unknown-ca"],
                Fault::WeakKey => &["weak-key"],
                Fault::Sha1 => &["weak-signature"],
                Fault::Structure => &[
                    "invalid-chain",
                    "tls-handshake-failed",
                    "key-usage",
                    "chain-too-long",
                ],
            };
            !wanted.iter().any(|w| codes.contains(w))
        })
        .map(|fault| {
            format!(
                "{}: the case holds {fault:?}, but mailtls reports only {}",
                case.id,
                codes.join(", ")
            )
        })
        .collect()
}

/// mailtls's own promises on one case's report: a client's dialog appears exactly when its
/// verdict says one does (`warns`, or `fails` because of the certificate).
fn invariants(case: &Case, verdicts: &oracles::Verdicts) -> Vec<String> {
    let mut broken = Vec::new();
    let Some(endpoint) = verdicts.endpoint() else {
        return vec![format!(
            "{}: no endpoint on 993 in mailtls's report",
            case.id
        )];
    };
    // The summary never says all is well while a measured client warns or cannot connect.
    let troubled = ["thunderbird", "gnome"].iter().any(|client| {
        verdicts
            .client(client)
            .is_some_and(|(v, _)| v == "warns" || v == "fails")
    });
    if troubled && verdicts.json["verdict"] == "ok" {
        broken.push(format!(
            "{}: the report says ok ({}) while a client warns or fails",
            case.id, verdicts.json["summary"]
        ));
    }
    // Words for people: never Rust's debug formatting, whatever the server sent.
    let texts = std::iter::once(&verdicts.json["summary"])
        .chain(
            endpoint["problems"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| &p["message"]),
        )
        .chain(
            endpoint["clients"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["rules"].as_array().into_iter().flatten())
                .map(|r| &r["detail"]),
        )
        .chain(std::iter::once(&endpoint["failure"]["detail"]));
    for text in texts.filter_map(|t| t.as_str()) {
        if let Err(message) = words::debug_text(text) {
            broken.push(format!("{}: {message}", case.id));
        }
    }
    for client in endpoint["clients"].as_array().into_iter().flatten() {
        let verdict = client["verdict"].as_str().unwrap_or_default();
        let has_dialog = !client["dialog"].is_null();
        let certificate_rule = client["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["outcome"] == verdict && r["fault"].is_string());
        let should = verdict == "warns" && certificate_rule;
        if has_dialog != should {
            broken.push(format!(
                "{}: {} {verdict} {} a dialog",
                case.id,
                client["client"],
                if has_dialog { "with" } else { "without" }
            ));
        }
    }
    broken
}
