//! Conformance on x509-limbo: every SERVER test case of `../shared/corpus/x509-limbo.json` runs
//! through the `cert verify` engine (strict profile) and is compared with `expected_result`.
//!
//! The known disagreements, each with its reason, are listed in docs/conformance.md; this test
//! fails when any test case's outcome differs from that list (a new disagreement, or a listed one
//! that now agrees). It prints the score and whether the 95% goal is met.
//!
//! A plain `main` (harness = false) so the score is printed without `--nocapture`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use mailtls::analyze::chain::PathOptions;
use mailtls::target::Target;

mod common {
    pub mod limbo;
}
use common::limbo::{self, Case};

/// Runs one test case; `true` when the engine accepts the chain.
fn accepts(case: &Case) -> bool {
    if !case.leaf_readable {
        return false;
    }
    let crls: Vec<&[u8]> = case.crls.iter().map(Vec::as_slice).collect();
    let options = PathOptions {
        crls: &crls,
        max_intermediates: case.max_chain_depth,
    };
    // Without an expected name, any name the certificate covers will do: judge the rest.
    let name_target = case
        .target
        .clone()
        .unwrap_or_else(|| Target::Dns("unnamed.invalid".to_string()));
    let Some(verification) =
        mailtls::verify::verify(&case.chain, &name_target, &case.anchors, case.at, &options)
    else {
        return false;
    };
    let rejections: Vec<_> = verification
        .rejections
        .iter()
        .filter(|r| case.target.is_some() || !matches!(r.code, "name-mismatch" | "cn-only"))
        .collect();
    if std::env::var_os("LIMBO_DEBUG").is_some() {
        for r in &rejections {
            eprintln!("    {}: {}: {}", case.id, r.code, r.message);
        }
    }
    rejections.is_empty()
}

/// The disagreements listed in docs/conformance.md: table rows starting with "| `id` |".
fn known_disagreements() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/conformance.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("| `")?;
            let (id, rest) = rest.split_once("` |")?;
            Some((
                id.to_string(),
                rest.trim().trim_end_matches('|').trim().to_string(),
            ))
        })
        .collect()
}

fn main() -> ExitCode {
    let cases = match limbo::load() {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("limbo: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut disagreements = BTreeMap::new();
    for case in &cases {
        if accepts(case) != case.expect_success {
            let expected = if case.expect_success {
                "SUCCESS"
            } else {
                "FAILURE"
            };
            disagreements.insert(case.id.clone(), expected);
        }
    }
    let agree = cases.len() - disagreements.len();
    let score = agree as f64 * 100.0 / cases.len() as f64;
    println!(
        "x509-limbo: {agree} of {} SERVER test cases agree ({score:.1}%), {} disagreements",
        cases.len(),
        disagreements.len()
    );
    let known = known_disagreements();
    let mut failed = false;
    for (id, expected) in &disagreements {
        if !known.contains_key(id) {
            println!("  NEW disagreement: {id} (expected {expected})");
            failed = true;
        }
    }
    for id in known.keys() {
        if !disagreements.contains_key(id) {
            println!("  listed in docs/conformance.md but now agrees: {id}");
            failed = true;
        }
    }
    // The 95% goal is reported, not enforced here: the list above is the contract, so that a
    // change in any single outcome is caught whatever the score.
    println!(
        "  goal: at least 95% agreement: {}",
        if score >= 95.0 { "met" } else { "NOT met" }
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
