//! Conformance on x509-limbo: every SERVER test case of `tests/data/x509-limbo/limbo.json` runs
//! through the `cert verify` engine (strict profile) and is compared with `expected_result`.
//!
//! The known disagreements, each with its reason, are listed in docs/conformance.md; this test
//! fails when any test case's outcome differs from that list (a new disagreement, or a listed one
//! that now agrees). It prints the score and whether the 95% goal is met.
//!
//! It also prints the score on each peer's own subset, the cases that peer's x509-limbo harness
//! runs rather than skips ([`PEERS`]), so the figures compare with the published results.
//!
//! A plain `main` (harness = false) so the score is printed without `--nocapture`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use mailtls::analyze::chain::PathOptions;

mod common {
    pub mod limbo;
}
use common::limbo::{self, Case};

/// A peer's x509-limbo harness: which cases it runs (the others it reports as skipped).
struct Peer {
    name: &'static str,
    /// Where the skip rules come from.
    source: &'static str,
    runs: fn(&Case) -> bool,
}

/// The harnesses of C2SP/x509-limbo at the corpus's commit (8a2e6f41023b1716dc16fe63335e4bb972e4c3f6),
/// their skip rules transcribed (the corpus holds only SERVER cases, which all three require).
const PEERS: [Peer; 3] = [
    Peer {
        name: "rustls-webpki",
        source: "harness/rust-rustls/src/main.rs: skips feature max-chain-depth, \
                 signature_algorithms or key_usage given, no expected_peer_name",
        runs: |case| {
            !has(case, "max-chain-depth")
                && case.signature_algorithms.is_empty()
                && case.key_usage.is_empty()
                && case.target.is_some()
        },
    },
    Peer {
        name: "Go crypto/x509",
        source: "harness/gocryptox509/main.go: skips features max-chain-depth and has-crl, \
                 signature_algorithms given, key_usage given without digitalSignature, \
                 max_chain_depth given",
        runs: |case| {
            !has(case, "max-chain-depth")
                && !has(case, "has-crl")
                && case.signature_algorithms.is_empty()
                && (case.key_usage.is_empty()
                    || case.key_usage.iter().any(|k| k == "digitalSignature"))
                && case.max_chain_depth.is_none()
        },
    },
    Peer {
        name: "pyca/cryptography",
        source: "harness/pyca-cryptography/main.py: LIMBO_UNSUPPORTED_FEATURES, \
                 LIMBO_SKIP_TESTCASES, signature_algorithms given, extended_key_usage other \
                 than [] or [serverAuth]",
        runs: |case| {
            const FEATURES: [&str; 8] = [
                "pedantic-public-suffix-wildcard",
                "name-constraint-dn",
                "pedantic-webpki-eku",
                "pedantic-webpki-subscriber-key",
                "pedantic-rfc5280",
                "rfc5280-incompatible-with-webpki",
                "has-policy-constraints",
                "has-crl",
            ];
            // As upstream spells them: its "divisable" never matches a case id, so that case
            // is run there too.
            const CASES: [&str; 11] = [
                "pathlen::self-issued-certs-pathlen",
                "pathlen::max-chain-depth-1-self-issued",
                "rfc5280::serial::zero",
                "rfc5280::ski::root-missing-ski",
                "rfc5280::ski::intermediate-missing-ski",
                "rfc5280::aki::intermediate-missing-aki",
                "webpki::aki::root-with-aki-ski-mismatch",
                "webpki::forbidden-rsa-not-divisable-by-8-in-root",
                "rfc5280::ca-as-leaf",
                "pathlen::validation-ignores-pathlen-in-leaf",
                "pathological::pathological-chain-same-subject-same-key",
            ];
            !CASES.contains(&case.id.as_str())
                && !FEATURES.iter().any(|f| has(case, f))
                && case.signature_algorithms.is_empty()
                && (case.extended_key_usage.is_empty() || case.extended_key_usage == ["serverAuth"])
        },
    },
];

fn has(case: &Case, feature: &str) -> bool {
    case.features.iter().any(|f| f == feature)
}

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
    // Without an expected name only the path is judged, as `cert verify` without `--name`.
    let Some(verification) = mailtls::diagnose::verify::verify(
        &case.chain,
        case.target.as_ref(),
        &case.anchors,
        case.at,
        &options,
    ) else {
        return false;
    };
    let rejections = &verification.rejections;
    if std::env::var_os("LIMBO_DEBUG").is_some() {
        for r in rejections {
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
    let mut agrees = Vec::with_capacity(cases.len());
    for case in &cases {
        let agree = accepts(case) == case.expect_success;
        agrees.push(agree);
        if !agree {
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
    for id in disagreements.keys() {
        if let Some(case) = cases.iter().find(|c| &c.id == id) {
            println!(
                "  {id}: features {:?}, conflicts_with {:?}",
                case.features, case.conflicts_with
            );
        }
    }
    for peer in &PEERS {
        let subset: Vec<bool> = cases
            .iter()
            .zip(&agrees)
            .filter(|(case, _)| (peer.runs)(case))
            .map(|(_, agree)| *agree)
            .collect();
        let agree = subset.iter().filter(|a| **a).count();
        println!(
            "  on {}'s subset: {agree} of {} agree ({:.1}%) [{}]",
            peer.name,
            subset.len(),
            agree as f64 * 100.0 / subset.len().max(1) as f64,
            peer.source
        );
    }
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
