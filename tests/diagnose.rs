//! `diagnose` on recorded observations, at a fixed time, with no network: the same record judged
//! again (even after a JSON round trip) gives the same diagnosis.
// Test code: a panic on unwrap is a failed test, which is the point.
#![allow(clippy::unwrap_used)]

use mailtls::analyze::chain::{AnchorOrigin, TrustAnchors};
use mailtls::diagnose::{Code, Verdict, diagnose};
use mailtls::observation::{
    CandidateProbe, Der, EndpointObservation, NameLookup, Observations, PtrLookup, TlsObservation,
};
use mailtls::service::Service;
use mailtls::target::Target;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::CertificateDer;

/// 2026-06-01T00:00:00Z: inside the validity of every certificate made below.
const NOW: i64 = 1_780_272_000;

struct Pki {
    anchors: TrustAnchors,
    leaf: Vec<u8>,
}

fn pki(leaf_names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Fixed Test Root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = time::macros::datetime!(2026-01-01 0:00 UTC);
    ca.not_after = time::macros::datetime!(2027-01-01 0:00 UTC);
    let root = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(leaf_names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.not_before = ca.not_before;
    params.not_after = ca.not_after;
    let leaf = params
        .signed_by(&key, &Issuer::from_params(&ca, &ca_key))
        .unwrap();
    let mut anchors = TrustAnchors::default();
    anchors.add(
        &[CertificateDer::from(root.der().to_vec())],
        AnchorOrigin::Added,
    );
    Pki {
        anchors,
        leaf: leaf.der().to_vec(),
    }
}

fn endpoint(port: u16, sni: &str, leaf: &[u8]) -> EndpointObservation {
    let mut observation = EndpointObservation::new(
        Service::for_port(port).unwrap(),
        "192.0.2.7".parse().unwrap(),
        Some(sni.into()),
    );
    observation.reachable = true;
    observation.tls = Some(TlsObservation {
        version: Some("TLSv1.3".into()),
        cipher: Some("TLS13_AES_128_GCM_SHA256".into()),
        chain: vec![Der(leaf.to_vec())],
        ..TlsObservation::default()
    });
    observation
}

fn observations(target: &str, leaf: &[u8], with_candidate: bool) -> Observations {
    Observations {
        aliases: Vec::new(),
        typed: None,
        target: Target::parse(target).unwrap(),
        addresses: vec!["192.0.2.7".parse().unwrap()],
        endpoints: vec![endpoint(993, target, leaf), endpoint(465, target, leaf)],
        without_sni: Vec::new(),
        names: vec![NameLookup {
            name: "luna.hosting.example".into(),
            addresses: vec!["192.0.2.7".parse().unwrap()],
            unanswered: false,
        }],
        ptr: vec![PtrLookup {
            address: "192.0.2.7".parse().unwrap(),
            names: vec!["luna.hosting.example".into()],
            unanswered: false,
        }],
        candidates: if with_candidate {
            vec![CandidateProbe {
                name: "luna.hosting.example".into(),
                endpoints: vec![
                    endpoint(993, "luna.hosting.example", leaf),
                    endpoint(465, "luna.hosting.example", leaf),
                ],
            }]
        } else {
            Vec::new()
        },
        aia: Vec::new(),
    }
}

#[test]
fn mismatch_with_confirmed_candidate_is_recommended() {
    let pki = pki(&["luna.hosting.example"]);
    let recorded = observations("mail.customer.example", &pki.leaf, true);
    assert_eq!(
        mailtls::diagnose::plan::candidates(&recorded),
        ["luna.hosting.example"]
    );
    let diagnosis = diagnose(&recorded, &pki.anchors, NOW);
    assert_eq!(diagnosis.verdict, Verdict::Fail);
    assert_eq!(
        diagnosis.headline.as_ref().map(|p| p.code),
        Some(Code::NameMismatch)
    );
    let recommendation = diagnosis.recommendation.expect("a verified name");
    assert_eq!(recommendation.server_name, "luna.hosting.example");
    assert!(recommendation.verified);
    assert_eq!(recommendation.verified_ports.len(), 2);
}

#[test]
fn unconfirmed_candidate_is_never_recommended() {
    let pki = pki(&["luna.hosting.example"]);
    let diagnosis = diagnose(
        &observations("mail.customer.example", &pki.leaf, false),
        &pki.anchors,
        NOW,
    );
    assert!(diagnosis.recommendation.is_none());
    let message = &diagnosis.endpoints[0].problems[0].message;
    assert!(message.contains("Not recommended yet"), "{message}");
}

#[test]
fn wildcard_covering_the_ptr_name_is_a_candidate() {
    let pki = pki(&["*.hosting.example"]);
    let recorded = observations("mail.customer.example", &pki.leaf, true);
    assert_eq!(
        mailtls::diagnose::plan::candidates(&recorded),
        ["luna.hosting.example"]
    );
    let diagnosis = diagnose(&recorded, &pki.anchors, NOW);
    assert_eq!(
        diagnosis.recommendation.map(|r| r.server_name).as_deref(),
        Some("luna.hosting.example")
    );
}

#[test]
fn expiry_depends_on_the_time_given() {
    let pki = pki(&["mail.customer.example"]);
    let recorded = observations("mail.customer.example", &pki.leaf, false);
    assert_eq!(diagnose(&recorded, &pki.anchors, NOW).verdict, Verdict::Ok);
    let later = diagnose(&recorded, &pki.anchors, NOW + 365 * 86_400);
    assert_eq!(later.headline.map(|p| p.code), Some(Code::Expired));
}

#[test]
fn a_saved_observation_is_judged_the_same() {
    let pki = pki(&["luna.hosting.example"]);
    let recorded = observations("mail.customer.example", &pki.leaf, true);
    let saved = serde_json::to_string(&recorded).unwrap();
    let restored: Observations = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, recorded);
    let first = diagnose(&recorded, &pki.anchors, NOW);
    let again = diagnose(&restored, &pki.anchors, NOW);
    assert_eq!(first.verdict, again.verdict);
    assert_eq!(first.recommendation, again.recommendation);
    let codes = |d: &mailtls::diagnose::Diagnosis| {
        d.endpoints
            .iter()
            .flat_map(|e| e.problems.iter().map(|p| p.code))
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&first), codes(&again));
}
