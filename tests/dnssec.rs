//! Issue 23, DANE: mailtls's own DNSSEC validation (`probe::dnssec`, reached as
//! `Engine::validator()` with `--dnssec-anchor`) and its DANE judgement (`analyze::dane`),
//! against the delivery lab's real signed hierarchy (tests/lab/delivery/: BIND serving a lab
//! root, `example.` and one zone per case, secure, provably insecure, bogus or with an expired
//! RRSIG over its TLSA records).
//!
//! - Every case's MX and TLSA lookups come back with the status the zone was built with and
//!   the records it publishes (the TLSA data hashed from the case's certificates), the same
//!   through three resolvers: Unbound validating (asked with CD, it hands bogus data over),
//!   Unbound only recursing, and BIND asked directly. A bogus answer names its link: the DS that
//!   matches no key, the expired signature.
//! - The anchor as a DS record and as the DNSKEY itself, and a private zone's anchor (the DS
//!   records of `example.`); the root's keys built into mailtls make the lab bogus (it is not
//!   the real root).
//! - Through a resolver that strips signatures (dnsmasq `--filter-rr=RRSIG`), nothing is
//!   `secure`: signed and unsigned zones alike are `indeterminate`. Through one that never
//!   answers, every lookup times out within its budget. `--dns-rate` paces the validator's
//!   questions, and paced lookups still validate.
//! - `analyze::dane::judge` on those answers and each case's chain (as its MX serves it) says
//!   "validating senders deliver" exactly where the case table says the real DANE sender
//!   (Postfix, tests/delivery.rs) delivers.
//!
//! A custom harness in a network of its own (tests/lab/netns.rs): the lab starts once, every
//! lookup runs then (all cases at once per resolver, timed), and one trial per case and
//! resolver holds the answers to the table. If the lab cannot start, the one trial says why.

mod lab;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use mailtls::analyze::dane::{DaneState, judge};
use mailtls::engine::{Engine, EngineOptions};
use mailtls::observation::Der;
use mailtls::observation::dnssec::{
    DnssecStatus, LookupFailure, MxLookup, MxRecord, TlsaLookup, TlsaRecord, ValidationFault,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use lab::delivery::cases::{CASES, Case, Place, Zone};
use lab::delivery::certs::Certs;
use lab::delivery::dns::{self, Status};
use lab::delivery::{domain, start_dns, zones};

/// The step timeout the engines get: the lab answers in milliseconds.
const STEP: Duration = Duration::from_secs(3);

/// One way of asking the lab.
struct Way {
    name: &'static str,
    resolver: SocketAddr,
    anchor: Option<PathBuf>,
}

/// What one way's lookups of one case came back with.
struct Looked {
    mx: MxLookup,
    tlsa: TlsaLookup,
}

/// One way's lookups of every case, and how long they all took.
struct Run {
    way: &'static str,
    looked: Vec<Looked>,
    took: Duration,
}

fn main() {
    let args = Arguments::from_args();
    if let Err(error) = lab::netns::enter("dnssec") {
        eprintln!("dnssec: {error}");
        std::process::exit(1);
    }
    let dir = lab::Lab::default_dir().join("dnssec-test");
    let trials = match measure(&dir) {
        Ok((runs, certs)) => trials(runs, certs),
        Err(error) => {
            let error = format!("the delivery lab's DNS did not run: {error}");
            vec![Trial::test("dnssec_lab_runs", move || Err(error.into()))]
        }
    };
    libtest_mimic::run(&args, trials).exit();
}

/// Starts the lab's DNS and the two extra resolvers, and looks every case up every way.
fn measure(dir: &Path) -> Result<(Vec<Run>, Certs), String> {
    let started = Instant::now();
    let (dns, certs) = start_dns(dir)?;
    let plain = dns.start_plain_resolver()?;
    let stripping = dns.start_stripping_resolver()?;
    println!("lab DNS up in {:.1} s", started.elapsed().as_secs_f64());
    let ways = [
        Way {
            name: "unbound-validating",
            resolver: dns.resolver,
            anchor: Some(dns.anchor_ds.clone()),
        },
        Way {
            name: "unbound-recursing",
            resolver: plain,
            anchor: Some(dns.anchor_dnskey.clone()),
        },
        Way {
            name: "bind-directly",
            resolver: dns.authoritative,
            anchor: Some(dns.anchor_ds.clone()),
        },
        Way {
            // A private zone's anchor: the DS records of example. as dnssec-signzone wrote
            // them for the root zone (every case lives under example.).
            name: "anchored-at-example",
            resolver: dns.resolver,
            anchor: Some(dns.dir.join("keys").join("dsset-example.")),
        },
        Way {
            name: "stripping",
            resolver: stripping,
            anchor: Some(dns.anchor_ds.clone()),
        },
        Way {
            name: "built-in-root",
            resolver: dns.resolver,
            anchor: None,
        },
        Way {
            name: "stripping, built-in root",
            resolver: stripping,
            anchor: None,
        },
    ];
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    let mut engines = Vec::new();
    for way in ways {
        let engine = runtime.block_on(async { engine(&way) })?;
        runs.push(runtime.block_on(look_up(&engine, way.name))?);
        engines.push(engine);
    }
    for run in &runs {
        println!(
            "{}: {} MX and {} TLSA lookups, validated, in {} ms",
            run.way,
            run.looked.len(),
            run.looked.len(),
            run.took.as_millis()
        );
    }
    // The same engine again: the zones' keys and DS records are kept (by their TTL), the
    // answers are asked again.
    let again = runtime.block_on(look_up(&engines[0], "unbound-validating, again"))?;
    println!("{}: {} ms", again.way, again.took.as_millis());
    runs.push(runtime.block_on(paced(dns.resolver, &dns.anchor_ds))?);
    runs.push(runtime.block_on(unanswered(&dns.anchor_ds))?);
    Ok((runs, certs))
}

/// `--dns-rate` paces every question, the validator's included: the cases' lookups at
/// [`RATE`] questions a second take at least one interval per lookup, and still validate
/// (waiting for the pace does not count against a lookup's time).
const RATE: u32 = 50;

async fn paced(resolver: SocketAddr, anchor: &Path) -> Result<Run, String> {
    let engine = Engine::new(EngineOptions {
        dns_server: Some(resolver),
        dnssec_anchor: Some(anchor.to_path_buf()),
        step_timeout: STEP,
        dns_rate: std::num::NonZeroU32::new(RATE),
        ..EngineOptions::default()
    })
    .map_err(|e| e.to_string())?;
    let run = look_up(&engine, "paced").await?;
    println!(
        "paced at {RATE}/s: {} ms (at least {} ms: one question per lookup)",
        run.took.as_millis(),
        paced_floor().as_millis()
    );
    Ok(run)
}

/// The least the paced lookups can take: two lookups per case, one question each at least.
fn paced_floor() -> Duration {
    Duration::from_secs(1) * (2 * CASES.len() as u32 - 1) / RATE
}

/// Where nothing answers: a UDP socket of this test that reads and never replies.
const SILENT: &str = "127.0.26.1:53";

/// Every lookup through a resolver that never answers comes back `indeterminate`, timed out,
/// within its budget.
async fn unanswered(anchor: &Path) -> Result<Run, String> {
    let silent = std::net::UdpSocket::bind(SILENT).map_err(|e| format!("{SILENT}: {e}"))?;
    let engine = Engine::new(EngineOptions {
        dns_server: Some(silent.local_addr().map_err(|e| e.to_string())?),
        dnssec_anchor: Some(anchor.to_path_buf()),
        step_timeout: Duration::from_secs(1),
        ..EngineOptions::default()
    })
    .map_err(|e| e.to_string())?;
    let run = look_up(&engine, "unanswered").await?;
    println!("unanswered: {} ms", run.took.as_millis());
    drop(silent);
    Ok(run)
}

/// An engine built as `mailtls --dns RESOLVER --dnssec-anchor FILE` builds it.
fn engine(way: &Way) -> Result<Engine, String> {
    Engine::new(EngineOptions {
        dns_server: Some(way.resolver),
        dnssec_anchor: way.anchor.clone(),
        step_timeout: STEP,
        ..EngineOptions::default()
    })
    .map_err(|e| format!("{}: {e}", way.name))
}

/// Every case's MX and TLSA lookups, all at once, through `engine`.
async fn look_up(engine: &Engine, way: &'static str) -> Result<Run, String> {
    let started = Instant::now();
    let jobs: Vec<_> = CASES
        .iter()
        .map(|case| {
            let engine = engine.clone();
            let (domain, host) = (domain(case), zones::mx_host(case));
            tokio::spawn(async move {
                let validator = engine.validator();
                let (mx, tlsa) = tokio::join!(validator.mx(&domain), validator.tlsa(&host, 25));
                Looked { mx, tlsa }
            })
        })
        .collect();
    let mut looked = Vec::new();
    for job in jobs {
        looked.push(job.await.map_err(|e| e.to_string())?);
    }
    Ok(Run {
        way,
        looked,
        took: started.elapsed(),
    })
}

fn trials(runs: Vec<Run>, certs: Certs) -> Vec<Trial> {
    let certs = std::sync::Arc::new(certs);
    let mut trials = Vec::new();
    for run in runs {
        let run = std::sync::Arc::new(run);
        for (index, _) in CASES.iter().enumerate() {
            let (run, certs) = (run.clone(), certs.clone());
            let case = &CASES[index];
            let name = format!("{}/{}", run.way, case.label);
            trials.push(Trial::test(name, move || {
                let looked = &run.looked[index];
                match run.way {
                    "stripping" | "stripping, built-in root" => stripped(case, looked),
                    "built-in-root" => outside_the_anchor(looked),
                    "unanswered" => timed_out(looked, run.took),
                    "paced" => {
                        assert!(run.took >= paced_floor(), "{:?}", run.took);
                        validated(case, index, looked, &certs)?
                    }
                    _ => validated(case, index, looked, &certs)?,
                }
                if run.way == "unbound-validating" {
                    sender_agrees(case, looked, &certs)?;
                }
                Ok(())
            }));
        }
    }
    trials
}

/// The status the lab built a (name, type) with.
fn built(name: &str, qtype: u16) -> Option<DnssecStatus> {
    zones::expectations(CASES)
        .into_iter()
        .find(|(n, t, _)| n == name && *t == qtype)
        .map(|(_, _, status)| match status {
            Status::Secure => DnssecStatus::Secure,
            Status::Insecure => DnssecStatus::Insecure,
            Status::Bogus => DnssecStatus::Bogus,
        })
}

/// Each answer has the zone's status, its records, and a bogus one names its link.
fn validated(case: &Case, index: usize, looked: &Looked, certs: &Certs) -> Result<(), Failed> {
    let host = zones::mx_host(case);
    let mx = &looked.mx;
    let mx_status = built(&domain(case), dns::MX).ok_or("no MX expectation")?;
    assert_eq!(mx.dnssec, mx_status, "MX of {}: {mx:?}", domain(case));
    assert_eq!(
        mx.records,
        [MxRecord {
            preference: 10,
            exchange: host.clone()
        }],
        "{mx:?}"
    );
    let tlsa = &looked.tlsa;
    assert_eq!(tlsa.name, format!("_25._tcp.{host}"));
    let tlsa_status = match built(&tlsa.name, dns::TLSA) {
        Some(status) => status,
        // No TLSA records: the zone the MX host lives in proves it.
        None => match case.place {
            Place::SignedHosts => DnssecStatus::Secure,
            Place::UnsignedHosts => DnssecStatus::Insecure,
            Place::Own => mx_status,
        },
    };
    assert_eq!(tlsa.dnssec, tlsa_status, "TLSA of {host}: {tlsa:?}");
    let mut published: Vec<TlsaRecord> = case
        .tlsa
        .iter()
        .map(|t| {
            Ok(TlsaRecord {
                usage: t.usage,
                selector: t.selector,
                matching_type: t.matching,
                data: certs.association(index, t)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let mut answered = tlsa.records.clone();
    let key = |r: &TlsaRecord| (r.usage, r.selector, r.matching_type, r.data.clone());
    published.sort_by_key(key);
    answered.sort_by_key(key);
    assert_eq!(answered, published, "TLSA records of {host}");
    if case.tlsa.is_empty() {
        assert_eq!(tlsa.failure, Some(LookupFailure::NoRecords), "{tlsa:?}");
    } else {
        assert_eq!(tlsa.failure, None, "{tlsa:?}");
    }
    match case.zone {
        Zone::Bogus => {
            for (what, fault, detail) in [
                ("MX", mx.fault, &mx.detail),
                ("TLSA", tlsa.fault, &tlsa.detail),
            ] {
                assert_eq!(
                    fault,
                    Some(ValidationFault::DsMatchesNoKey),
                    "{what}: {detail:?}"
                );
                let words = detail.as_deref().unwrap_or_default();
                assert!(words.contains("DS records of"), "{what}: {words}");
            }
        }
        Zone::ExpiredTlsaSignature => {
            assert_eq!(mx.fault, None, "{mx:?}");
            assert_eq!(
                tlsa.fault,
                Some(ValidationFault::SignatureExpired),
                "{tlsa:?}"
            );
            let words = tlsa.detail.as_deref().unwrap_or_default();
            assert!(
                words.contains("the signature over the TLSA records of")
                    && words.contains("expired on"),
                "{words}"
            );
        }
        Zone::Secure | Zone::Insecure => {
            assert_eq!((mx.fault, tlsa.fault), (None, None), "{mx:?} {tlsa:?}");
        }
    }
    Ok(())
}

/// Through a resolver that strips signatures nothing is secure, and it says why.
fn stripped(case: &Case, looked: &Looked) {
    for (what, status, fault) in [
        ("MX", looked.mx.dnssec, looked.mx.fault),
        ("TLSA", looked.tlsa.dnssec, looked.tlsa.fault),
    ] {
        assert_eq!(
            status,
            DnssecStatus::Indeterminate,
            "{what} of {}",
            case.label
        );
        assert_eq!(fault, Some(ValidationFault::ResolverStripsDnssec), "{what}");
    }
    // The records still come, for what needs no DNSSEC (MTA-STS).
    assert_eq!(looked.mx.records.len(), 1, "{:?}", looked.mx);
}

/// Nothing answered: indeterminate, timed out, no records, within the budget of a lookup
/// (mailtls::probe::dnssec::LOOKUP_STEPS step timeouts of 1 s; all cases ran at once).
fn timed_out(looked: &Looked, took: Duration) {
    assert!(took < Duration::from_secs(5), "{took:?}");
    for (status, failure, records) in [
        (looked.mx.dnssec, looked.mx.failure, looked.mx.records.len()),
        (
            looked.tlsa.dnssec,
            looked.tlsa.failure,
            looked.tlsa.records.len(),
        ),
    ] {
        assert_eq!(status, DnssecStatus::Indeterminate);
        assert_eq!(failure, Some(LookupFailure::Timeout));
        assert_eq!(records, 0);
    }
}

/// With the root's keys built into mailtls, the lab's root is not trusted: bogus, the anchor
/// matching none of its keys.
fn outside_the_anchor(looked: &Looked) {
    for lookup in [&looked.mx.dnssec, &looked.tlsa.dnssec] {
        assert_eq!(*lookup, DnssecStatus::Bogus);
    }
    assert_eq!(
        looked.mx.fault,
        Some(ValidationFault::DsMatchesNoKey),
        "{:?}",
        looked.mx
    );
    let words = looked.mx.detail.as_deref().unwrap_or_default();
    assert!(
        words.contains("trust anchor matches none of the keys of ."),
        "{words}"
    );
}

/// The chain a case's MX serves (its certificate file: leaf first, then what it sends).
fn served_chain(case: &Case, certs: &Certs) -> Result<Vec<Der>, String> {
    let (crt, _) = certs.files(case.label);
    let chain: Vec<Der> = CertificateDer::pem_file_iter(&crt)
        .map_err(|e| format!("{}: {e}", crt.display()))?
        .map(|cert| cert.map(|c| Der(c.to_vec())).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    Ok(chain)
}

/// mailtls's DANE verdict on the validated answers and the served chain says "deliver" where
/// the real DANE sender delivers, "defer" where it defers (the case table, as tests/delivery.rs
/// measures it; cases without STARTTLS are the delivery diagnosis's, not DANE's).
fn sender_agrees(case: &Case, looked: &Looked, certs: &Certs) -> Result<(), Failed> {
    if !case.starttls {
        return Ok(());
    }
    let chain = served_chain(case, certs)?;
    let host = zones::mx_host(case);
    let verdict = judge(looked.mx.dnssec, &looked.tlsa, &host, Some(&chain));
    let delivers = match verdict.state {
        DaneState::Matches
        | DaneState::Unusable
        | DaneState::NotPublished
        | DaneState::Insecure => true,
        DaneState::NoMatch | DaneState::Bogus => false,
        DaneState::Unknown => return Err(format!("{}: unknown: {verdict:?}", case.label).into()),
    };
    let sender = case
        .dane
        .differs
        .map_or(case.dane.outcome, |(outcome, _)| outcome);
    assert_eq!(
        delivers,
        sender.delivers(),
        "{}: mailtls says {:?} ({}), the DANE sender {sender:?} ({})",
        case.label,
        verdict.state,
        verdict.detail,
        case.dane.source
    );
    Ok(())
}
