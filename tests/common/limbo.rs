//! The x509-limbo SERVER test cases, read from `tests/data/x509-limbo/limbo.json` (committed with
//! its licence and provenance) into the engine's types. Shared by the conformance test (`tests/limbo.rs`) and the benchmark
//! (`benches/limbo.rs`), so both judge the same chains at the same times.

use std::path::{Path, PathBuf};

use mailtls::analyze::chain::{AnchorOrigin, TrustAnchors};
use mailtls::target::Target;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use serde_json::Value;

/// One SERVER test case.
pub struct Case {
    /// The test case id, e.g. `rfc5280::ca-as-leaf`.
    pub id: String,
    /// `expected_result` is SUCCESS.
    pub expect_success: bool,
    /// `trusted_certs`, as user-added anchors.
    pub anchors: TrustAnchors,
    /// The peer certificate followed by `untrusted_intermediates` (DER).
    pub chain: Vec<Vec<u8>>,
    /// The peer certificate is one readable PEM certificate.
    pub leaf_readable: bool,
    /// `expected_peer_name`, when given.
    pub target: Option<Target>,
    /// `validation_time`, or now when absent.
    pub at: i64,
    /// `crls` (DER).
    pub crls: Vec<Vec<u8>>,
    /// `max_chain_depth`.
    pub max_chain_depth: Option<usize>,
    /// `features`, e.g. `has-crl`, `pedantic-rfc5280`.
    pub features: Vec<String>,
    /// `conflicts_with`: ids of cases that expect the opposite on the same shape.
    pub conflicts_with: Vec<String>,
    /// `signature_algorithms`, `key_usage` and `extended_key_usage` as given.
    pub signature_algorithms: Vec<String>,
    /// `key_usage`.
    pub key_usage: Vec<String>,
    /// `extended_key_usage`.
    pub extended_key_usage: Vec<String>,
}

/// Where the corpus is.
pub fn corpus_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/x509-limbo/limbo.json")
}

fn pem_ders(text: &str) -> Vec<Vec<u8>> {
    CertificateDer::pem_slice_iter(text.as_bytes())
        .filter_map(Result::ok)
        .map(|der| der.to_vec())
        .collect()
}

/// Every SERVER test case; an error names what is missing or malformed.
pub fn load() -> Result<Vec<Case>, String> {
    let path = corpus_path();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let corpus: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let cases: Vec<Case> = corpus["testcases"]
        .as_array()
        .ok_or_else(|| format!("{}: no testcases array", path.display()))?
        .iter()
        .filter(|c| c["validation_kind"] == "SERVER")
        .map(case)
        .collect::<Result<_, _>>()?;
    if cases.is_empty() {
        return Err(format!("no SERVER test cases in {}", path.display()));
    }
    Ok(cases)
}

fn case(case: &Value) -> Result<Case, String> {
    let id = case["id"].as_str().unwrap_or("?").to_string();
    let bad = |what: String| format!("{id}: {what}");
    let strings = |key: &str| -> Vec<&str> {
        case[key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let mut anchors = TrustAnchors::default();
    for pem in strings("trusted_certs") {
        let ders: Vec<CertificateDer<'_>> = pem_ders(pem)
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        anchors.add(&ders, AnchorOrigin::Added);
    }
    let leaf = case["peer_certificate"]
        .as_str()
        .ok_or_else(|| bad("no peer_certificate".into()))?;
    let mut chain = pem_ders(leaf);
    let leaf_readable = chain.len() == 1;
    for pem in strings("untrusted_intermediates") {
        chain.extend(pem_ders(pem));
    }
    let at = match case["validation_time"].as_str() {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| bad(format!("validation_time: {e}")))?
                .unix_timestamp()
        }
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let name = &case["expected_peer_name"];
    let target = match (name["kind"].as_str(), name["value"].as_str()) {
        (Some("DNS"), Some(value)) => Some(Target::Dns(value.to_ascii_lowercase())),
        (Some("IP"), Some(value)) => Some(Target::Ip(
            value.parse().map_err(|e| bad(format!("IP: {e}")))?,
        )),
        _ => None,
    };
    let crls = strings("crls")
        .into_iter()
        .flat_map(|pem| {
            CertificateRevocationListDer::pem_slice_iter(pem.as_bytes())
                .filter_map(Result::ok)
                .map(|der| der.to_vec())
        })
        .collect();
    let owned = |key: &str| strings(key).into_iter().map(str::to_string).collect();
    Ok(Case {
        features: owned("features"),
        conflicts_with: owned("conflicts_with"),
        signature_algorithms: owned("signature_algorithms"),
        key_usage: owned("key_usage"),
        extended_key_usage: owned("extended_key_usage"),
        expect_success: case["expected_result"] == "SUCCESS",
        anchors,
        chain,
        leaf_readable,
        target,
        at,
        crls,
        max_chain_depth: case["max_chain_depth"]
            .as_u64()
            .and_then(|d| usize::try_from(d).ok()),
        id,
    })
}
