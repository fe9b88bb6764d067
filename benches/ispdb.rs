//! What Mozilla's ISP database adds to a mail-domain check: indexing the bundled copy (once per
//! process), one lookup (the index, then the clientConfig parse of the file that answers), and
//! the choice of the MX host's domains; beside the reference, parsing the same clientConfig
//! document alone (what the autoconfig step costs for a fetched document). One thread; run
//! with `cargo bench --bench ispdb`. `ROUNDS=n` sets the passes (default 21); figures are the
//! medians. A check asks at most three lookups (the domain, the MX host's parent and its
//! registrable domain), plus the index on the first check of a process.
// A benchmark, not library code: a missing snapshot is a loud failure.
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use mailtls::provisioning::documents::parse_client_config;
use mailtls::provisioning::ispdb::{self, IspDb};
use mailtls::target::Address;

/// Seconds per call of `f`, the median of `rounds` passes of `calls` calls each.
fn per_call(rounds: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let mut passes: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..calls {
                f();
            }
            started.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    passes.sort_by(f64::total_cmp);
    passes[passes.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(21);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core/data/ispdb/ispdb");
    let files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().into_string().unwrap(),
                std::fs::read_to_string(entry.path()).unwrap(),
            )
        })
        .collect();
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    let address = |domain: &str| Address {
        local: "jane".to_string(),
        domain: domain.to_string(),
    };
    let index = per_call(rounds, 5, || {
        let db = IspDb::new(
            "bench",
            files
                .iter()
                .map(|(name, text)| (name.clone(), Cow::Owned(text.clone()))),
        );
        black_box(db.domains());
    });
    let db = IspDb::bundled();
    assert!(db.skipped().is_empty());
    let jane = address("example.com");
    let googlemail = &files
        .iter()
        .find(|(name, _)| name == "googlemail.com.xml")
        .unwrap()
        .1;
    let parse = per_call(rounds, 2000, || {
        black_box(parse_client_config(black_box(googlemail), &jane).unwrap());
    });
    let hit = per_call(rounds, 2000, || {
        black_box(db.lookup(black_box("google.com"), &jane).unwrap());
    });
    // The largest file (mail.com.xml, 8.7 KB).
    let largest = per_call(rounds, 2000, || {
        black_box(db.lookup(black_box("mail.com"), &jane).unwrap());
    });
    let miss = per_call(rounds, 20000, || {
        black_box(db.lookup(black_box("example.com"), &jane).is_none());
    });
    let exchangers = vec![
        (5, "alt1.aspmx.l.google.com".to_string()),
        (1, "aspmx.l.google.com".to_string()),
    ];
    let mx = per_call(rounds, 20000, || {
        black_box(ispdb::mx_domains(black_box("example.com"), &exchangers));
    });
    // A Google Workspace domain: the domain (miss), l.google.com (miss), google.com (hit).
    let check = miss * 2.0 + hit + mx;
    let us = |secs: f64| secs * 1e6;
    println!(
        "bundled copy: {} files, {} KB, {} domains",
        files.len(),
        bytes / 1000,
        db.domains()
    );
    println!(
        "index the copy (once per process)        {:9.1} us",
        us(index)
    );
    println!(
        "reference: parse googlemail.com.xml      {:9.1} us",
        us(parse)
    );
    println!(
        "lookup google.com (index + parse)        {:9.1} us  ({:.2}x the reference)",
        us(hit),
        hit / parse
    );
    println!(
        "lookup mail.com (largest file)           {:9.1} us  ({:.2}x the reference)",
        us(largest),
        largest / parse
    );
    println!(
        "lookup of a domain not listed            {:9.3} us",
        us(miss)
    );
    println!("MX host's domains (eTLD+1, parent)       {:9.3} us", us(mx));
    println!(
        "a check's ISP database work, Workspace   {:9.1} us  ({:.2}x the reference); first \
         check of a process +{:.1} us; goal under 5000 us",
        us(check),
        check / parse,
        us(index)
    );
}
