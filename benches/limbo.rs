//! Chain validations per second per core over the x509-limbo SERVER test cases, beside the time
//! to parse the same certificates alone. One thread; run with `cargo bench --bench limbo`.
//!
//! Each pass runs every case once; the figures are from the median pass, which a noisy shared
//! machine disturbs least. `ROUNDS=n` sets the number of passes (default 21) and
//! `LIMBO_FILTER=text` keeps only the cases whose id contains `text` (for profiling one kind).
// A benchmark, not library code: a missing corpus is a loud failure.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use mailtls::analyze::cert::CertInfo;
use mailtls::analyze::chain::PathOptions;

// The test's own loader, so the bench times the same chains; it reads only some fields.
#[path = "../tests/common/limbo.rs"]
#[allow(dead_code)]
mod limbo;

/// The median of `times` (seconds), which must not be empty.
fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let mut cases = limbo::load().unwrap();
    if let Ok(filter) = std::env::var("LIMBO_FILTER") {
        cases.retain(|c| c.id.contains(&filter));
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(21);

    let mut parse_passes = Vec::with_capacity(rounds);
    let mut parsed = 0usize;
    for _ in 0..rounds {
        let started = Instant::now();
        parsed = 0;
        for case in &cases {
            parsed += case
                .chain
                .iter()
                .filter(|der| CertInfo::parse(der).is_ok())
                .count();
        }
        parse_passes.push(started.elapsed().as_secs_f64());
    }

    let mut verify_passes = Vec::with_capacity(rounds);
    let mut per_case = vec![Vec::with_capacity(rounds); cases.len()];
    let mut valid = 0usize;
    for _ in 0..rounds {
        let started = Instant::now();
        valid = 0;
        for (i, case) in cases.iter().enumerate() {
            let one = Instant::now();
            // The same options as the conformance test.
            let crls: Vec<&[u8]> = case.crls.iter().map(Vec::as_slice).collect();
            let options = PathOptions {
                crls: &crls,
                max_intermediates: case.max_chain_depth,
            };
            let verification = mailtls::diagnose::verify::verify(
                &case.chain,
                case.target.as_ref(),
                &case.anchors,
                case.at,
                &options,
            );
            valid += usize::from(verification.is_some_and(|v| v.rejections.is_empty()));
            per_case[i].push(one.elapsed().as_secs_f64());
        }
        verify_passes.push(started.elapsed().as_secs_f64());
    }

    let chains = cases.len() as f64;
    let parse_secs = median(parse_passes);
    let verify_secs = median(verify_passes);
    println!(
        "x509-limbo SERVER cases: {}, passes: {rounds} (median pass reported)",
        cases.len()
    );
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

    let mut slowest: Vec<(f64, &str)> = per_case
        .into_iter()
        .zip(&cases)
        .map(|(times, case)| (median(times), case.id.as_str()))
        .collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("slowest cases (µs per verification):");
    for (secs, id) in slowest.iter().take(8) {
        println!("  {:>8.0}  {id}", secs * 1e6);
    }
    let mut groups: Vec<(&str, f64, usize)> = Vec::new();
    for (secs, id) in &slowest {
        let group = id.split("::").next().unwrap_or(id);
        match groups.iter_mut().find(|g| g.0 == group) {
            Some(g) => {
                g.1 += secs;
                g.2 += 1;
            }
            None => groups.push((group, *secs, 1)),
        }
    }
    groups.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("time per pass by group (ms, cases):");
    for (group, secs, n) in &groups {
        println!("  {:>8.2}  {n:>3}  {group}", secs * 1e3);
    }
}
