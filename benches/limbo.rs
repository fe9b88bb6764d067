//! Chain validations per second per core over the x509-limbo SERVER test cases, beside the time
//! to parse the same certificates alone. One thread; run with `cargo bench --bench limbo`.
// A benchmark, not library code: a missing corpus is a loud failure.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use mailtls::analyze::cert::CertInfo;
use mailtls::analyze::chain::PathOptions;
use mailtls::target::Target;

// The test's own loader, so the bench times the same chains; it reads only some fields.
#[path = "../tests/common/limbo.rs"]
#[allow(dead_code)]
mod limbo;

fn main() {
    let cases = limbo::load().unwrap();
    let unnamed = Target::Dns("unnamed.invalid".to_string());
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
                case.target.as_ref().unwrap_or(&unnamed),
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
