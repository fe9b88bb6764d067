//! Chain validations per second per core over the x509-limbo SERVER test cases, beside the time
//! to parse the same certificates alone. One thread; run with `cargo bench --bench limbo`.
// A benchmark, not library code: a missing corpus is a loud failure.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use mailtls::analyze::cert::CertInfo;
use mailtls::analyze::chain::{AnchorOrigin, PathOptions, TrustAnchors};
use mailtls::target::Target;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

struct Case {
    anchors: TrustAnchors,
    chain: Vec<Vec<u8>>,
    target: Target,
    at: i64,
}

fn ders(pem: &str) -> Vec<Vec<u8>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(Result::ok)
        .map(|d| d.to_vec())
        .collect()
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/x509-limbo.json"
    );
    let corpus: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut cases = Vec::new();
    for case in corpus["testcases"].as_array().unwrap() {
        if case["validation_kind"] != "SERVER" {
            continue;
        }
        let mut anchors = TrustAnchors::default();
        for pem in case["trusted_certs"].as_array().unwrap() {
            let certs: Vec<CertificateDer<'_>> = ders(pem.as_str().unwrap())
                .into_iter()
                .map(CertificateDer::from)
                .collect();
            anchors.add(&certs, AnchorOrigin::Added);
        }
        let mut chain = ders(case["peer_certificate"].as_str().unwrap());
        for pem in case["untrusted_intermediates"].as_array().unwrap() {
            chain.extend(ders(pem.as_str().unwrap()));
        }
        let name = case["expected_peer_name"]["value"]
            .as_str()
            .unwrap_or("example.com");
        let target = name
            .parse()
            .map(Target::Ip)
            .unwrap_or_else(|_| Target::Dns(name.to_ascii_lowercase()));
        let at = case["validation_time"]
            .as_str()
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map_or(1_700_000_000, |t| t.unix_timestamp());
        if !chain.is_empty() {
            cases.push(Case {
                anchors,
                chain,
                target,
                at,
            });
        }
    }
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let started = Instant::now();
    let mut parsed = 0usize;
    for _ in 0..rounds {
        for case in &cases {
            parsed += case
                .chain
                .iter()
                .filter(|der| CertInfo::parse(der).is_ok())
                .count();
        }
    }
    let parse_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut valid = 0usize;
    for _ in 0..rounds {
        for case in &cases {
            let v = mailtls::verify::verify(
                &case.chain,
                &case.target,
                &case.anchors,
                case.at,
                &PathOptions::default(),
            );
            valid += usize::from(v.is_some_and(|v| v.rejections.is_empty()));
        }
    }
    let verify_secs = started.elapsed().as_secs_f64();
    let chains = (rounds * cases.len()) as f64;
    println!("x509-limbo SERVER cases: {}, rounds: {rounds}", cases.len());
    println!(
        "parse only:  {:>9.0} chains/s ({parsed} certificates parsed)",
        chains / parse_secs
    );
    println!(
        "full verify: {:>9.0} chains/s per core (parse + path + names + lints + 4 client verdicts; {valid} valid)",
        chains / verify_secs
    );
    println!(
        "parse share of verify time: {:.0}%",
        parse_secs / verify_secs * 100.0
    );
}
