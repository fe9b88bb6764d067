//! Conformance on x509-limbo: every SERVER test case of `../shared/corpus/x509-limbo.json` runs
//! through the `cert verify` engine (strict profile) and is compared with `expected_result`.
//!
//! The known disagreements, each with its reason, are listed in docs/conformance.md; this test
//! fails when any test case's outcome differs from that list (a new disagreement, or a listed one
//! that now agrees), or when the score drops under 95%. It prints the score.
//!
//! A plain `main` (harness = false) so the score is printed without `--nocapture`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mailtls::analyze::chain::{AnchorOrigin, PathOptions, TrustAnchors};
use mailtls::target::Target;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;

fn corpus_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/x509-limbo.json")
}

fn pem_ders(text: &str) -> Vec<Vec<u8>> {
    CertificateDer::pem_slice_iter(text.as_bytes())
        .filter_map(Result::ok)
        .map(|der| der.to_vec())
        .collect()
}

fn crl_ders(text: &str) -> Vec<Vec<u8>> {
    rustls_pki_types::CertificateRevocationListDer::pem_slice_iter(text.as_bytes())
        .filter_map(Result::ok)
        .map(|der| der.to_vec())
        .collect()
}

/// Runs one test case; `true` when the engine accepts the chain.
fn accepts(case: &Value) -> Result<bool, String> {
    let strings = |key: &str| -> Vec<String> {
        case[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut anchors = TrustAnchors::default();
    for pem in strings("trusted_certs") {
        let ders: Vec<CertificateDer<'_>> = pem_ders(&pem)
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        anchors.add(&ders, AnchorOrigin::Added);
    }
    let leaf = case["peer_certificate"]
        .as_str()
        .ok_or("no peer_certificate")?;
    let mut chain = pem_ders(leaf);
    if chain.len() != 1 {
        // The leaf itself is not a readable certificate.
        return Ok(false);
    }
    for pem in strings("untrusted_intermediates") {
        chain.extend(pem_ders(&pem));
    }
    let at = match case["validation_time"].as_str() {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("validation_time: {e}"))?
                .unix_timestamp()
        }
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let name = &case["expected_peer_name"];
    let target = match (name["kind"].as_str(), name["value"].as_str()) {
        (Some("DNS"), Some(value)) => Some(Target::Dns(value.to_ascii_lowercase())),
        (Some("IP"), Some(value)) => {
            Some(Target::Ip(value.parse().map_err(|e| format!("IP: {e}"))?))
        }
        _ => None,
    };
    let crl_bytes: Vec<Vec<u8>> = strings("crls")
        .iter()
        .flat_map(|pem| crl_ders(pem))
        .collect();
    let mut crls = Vec::new();
    for der in &crl_bytes {
        match webpki::BorrowedCertRevocationList::from_der(der) {
            Ok(crl) => crls.push(webpki::CertRevocationList::from(crl)),
            // An unparseable CRL cannot vouch for anything.
            Err(_) => return Ok(false),
        }
    }
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    let crl_slices: Vec<&[u8]> = crl_bytes.iter().map(Vec::as_slice).collect();
    let options = PathOptions {
        crls: &crl_refs,
        crl_ders: &crl_slices,
        max_intermediates: case["max_chain_depth"].as_u64().map(|d| d as usize),
    };
    // Without an expected name, any name the certificate covers will do: judge the rest.
    let name_target = target
        .clone()
        .unwrap_or_else(|| Target::Dns("unnamed.invalid".to_string()));
    let Some(verification) = mailtls::verify::verify(&chain, &name_target, &anchors, at, &options)
    else {
        return Ok(false);
    };
    let rejections: Vec<_> = verification
        .rejections
        .iter()
        .filter(|r| target.is_some() || !matches!(r.code, "name-mismatch" | "cn-only"))
        .collect();
    if std::env::var_os("LIMBO_DEBUG").is_some() {
        for r in &rejections {
            eprintln!(
                "    {}: {}: {}",
                case["id"].as_str().unwrap_or("?"),
                r.code,
                r.message
            );
        }
    }
    Ok(rejections.is_empty())
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
    let path = corpus_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("limbo: cannot read {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let corpus: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(error) => {
            eprintln!("limbo: {} is not JSON: {error}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let cases: Vec<&Value> = corpus["testcases"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["validation_kind"] == "SERVER")
                .collect()
        })
        .unwrap_or_default();
    if cases.is_empty() {
        eprintln!("limbo: no SERVER test cases in {}", path.display());
        return ExitCode::FAILURE;
    }
    let mut disagreements = BTreeMap::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?").to_string();
        let expected = case["expected_result"] == "SUCCESS";
        let ours = match accepts(case) {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("limbo: {id}: bad test case: {error}");
                return ExitCode::FAILURE;
            }
        };
        if ours != expected {
            disagreements.insert(id, if expected { "SUCCESS" } else { "FAILURE" });
        }
    }
    let agree = cases.len() - disagreements.len();
    let score = agree as f64 * 100.0 / cases.len() as f64;
    println!(
        "x509-limbo: {agree} of {} SERVER test cases agree ({score:.1}%), {} known disagreements",
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
