//! One fault never hides another: a property test over generated chains (tests/common/certgen.rs,
//! the fidelity matrix's generator). Each case is a set of faults put into one server's chain
//! (an expired or not-yet-valid server certificate or intermediate, an untrusted root, a missing
//! intermediate, a name the certificate does not cover, a 1024-bit key, a SHA-1 signature);
//! the chain is judged offline by `diagnose` as `check` would judge it, and:
//!
//! - every fault put in is reported, and nothing else; the one mask is documented: a missing
//!   intermediate hides whether the root above it is trusted and whether it is itself within
//!   its dates (nobody can tell which CA it would have led to), and the report says that these
//!   cannot be checked until it is sent;
//! - removing any one fault never makes another appear, but for what the report said it could
//!   not check.
// Test code: a panic on unwrap is a failed test, which is the point.
#![allow(clippy::unwrap_used)]

#[path = "common/certgen.rs"]
mod certgen;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use certgen::{Cert, Hash, Keys, San, Signature, Spec, issue};
use mailtls::analyze::chain::{AnchorOrigin, TrustAnchors};
use mailtls::diagnose::{Code, diagnose};
use mailtls::observation::{Der, EndpointObservation, Observations, TlsObservation};
use mailtls::service::Service;
use mailtls::target::Target;
use proptest::prelude::*;
use rustls::pki_types::CertificateDer;

/// 2026-06-01T00:00:00Z.
const NOW: i64 = 1_780_272_000;
const DAY: i64 = 86_400;
const NAME: &str = "mail.faults.test";

/// A fault a case may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    LeafExpired,
    LeafNotYetValid,
    IntermediateExpired,
    Untrusted,
    MissingIntermediate,
    WrongName,
    WeakKey,
    Sha1,
}

const ALL: [Fault; 8] = [
    Fault::LeafExpired,
    Fault::LeafNotYetValid,
    Fault::IntermediateExpired,
    Fault::Untrusted,
    Fault::MissingIntermediate,
    Fault::WrongName,
    Fault::WeakKey,
    Fault::Sha1,
];

/// The keys and the two roots (trusted and not), made once.
struct Fixture {
    keys: Keys,
    trusted: Cert,
    untrusted: Cert,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys = Keys::load().unwrap();
        let root = |name: &str, key: &str| {
            issue(
                &Spec::ca(name, 1, NOW - 400 * DAY, NOW + 3000 * DAY),
                &keys.get(key),
                None,
                Signature::With(Hash::Sha256),
                0,
            )
            .unwrap()
        };
        let trusted = root("Faults Trusted Root", "ca01");
        let untrusted = root("Faults Untrusted Root", "ca03");
        Fixture {
            keys,
            trusted,
            untrusted,
        }
    })
}

/// The chain a server with `faults` sends, leaf first.
fn chain(faults: &BTreeSet<Fault>) -> Vec<Vec<u8>> {
    let f = fixture();
    let has = |fault| faults.contains(&fault);
    let root = if has(Fault::Untrusted) {
        &f.untrusted
    } else {
        &f.trusted
    };
    let (from, to) = if has(Fault::IntermediateExpired) {
        (NOW - 300 * DAY, NOW - 10 * DAY)
    } else {
        (NOW - 300 * DAY, NOW + 2000 * DAY)
    };
    let intermediate = issue(
        &Spec::ca("Faults Issuing CA", 2, from, to),
        &f.keys.get("ca02"),
        Some(root),
        Signature::With(Hash::Sha256),
        0,
    )
    .unwrap();
    let (from, to) = if has(Fault::LeafExpired) {
        (NOW - 100 * DAY, NOW - DAY)
    } else if has(Fault::LeafNotYetValid) {
        (NOW + 2 * DAY, NOW + 90 * DAY)
    } else {
        (NOW - 20 * DAY, NOW + 70 * DAY)
    };
    let mut leaf = Spec::leaf(&[NAME], 3, from, to);
    if has(Fault::WrongName) {
        leaf.san = vec![San::Dns("other.faults.test".into())];
        leaf.common_name = Some("other.faults.test".into());
    }
    let key = if has(Fault::WeakKey) {
        "leaf-rsa1024"
    } else {
        "leaf-rsa2048"
    };
    let signature = Signature::With(if has(Fault::Sha1) {
        Hash::Sha1
    } else {
        Hash::Sha256
    });
    let leaf = issue(&leaf, &f.keys.get(key), Some(&intermediate), signature, 0).unwrap();
    let mut sent = vec![leaf.der];
    if !has(Fault::MissingIntermediate) {
        sent.push(intermediate.der);
    }
    sent
}

/// What `check` reports for a server sending `faults`'s chain on port 993, as faults.
fn reported(faults: &BTreeSet<Fault>) -> BTreeSet<Fault> {
    let f = fixture();
    let mut endpoint = EndpointObservation::new(
        Service::for_port(993).unwrap(),
        "192.0.2.7".parse().unwrap(),
        Some(NAME.into()),
    );
    endpoint.reachable = true;
    endpoint.tls = Some(TlsObservation {
        version: Some("TLSv1.3".into()),
        cipher: Some("TLS13_AES_128_GCM_SHA256".into()),
        chain: chain(faults).into_iter().map(Der).collect(),
        ..TlsObservation::default()
    });
    let observations = Observations {
        target: Target::parse(NAME).unwrap(),
        addresses: vec!["192.0.2.7".parse().unwrap()],
        aliases: Vec::new(),
        typed: None,
        endpoints: vec![endpoint],
        without_sni: Vec::new(),
        names: Vec::new(),
        ptr: Vec::new(),
        candidates: Vec::new(),
        aia: Vec::new(),
    };
    let mut anchors = TrustAnchors::default();
    anchors.add(
        &[CertificateDer::from(f.trusted.der.clone())],
        AnchorOrigin::Added,
    );
    let diagnosis = diagnose(&observations, &anchors, NOW);
    let mut out = BTreeSet::new();
    for problem in diagnosis.endpoints.iter().flat_map(|e| &e.problems) {
        let certificate = problem.context.certificate.as_deref().unwrap_or_default();
        let on_leaf = certificate.contains(NAME) || certificate.contains("other.faults.test");
        out.insert(match problem.code {
            Code::Expired if on_leaf => Fault::LeafExpired,
            Code::Expired => Fault::IntermediateExpired,
            Code::NotYetValid => Fault::LeafNotYetValid,
            Code::UnknownCa | Code::SelfSigned => Fault::Untrusted,
            Code::IncompleteChain => Fault::MissingIntermediate,
            Code::NameMismatch | Code::CertLacksName => Fault::WrongName,
            Code::WeakKey => Fault::WeakKey,
            Code::WeakSignature => Fault::Sha1,
            other => panic!(
                "{faults:?}: unexpected problem {}: {}",
                other.as_str(),
                problem.message
            ),
        });
    }
    out
}

/// What a missing intermediate hides: whether the root above it is trusted and whether the
/// intermediate (which is not sent) is within its dates. The report says so ("cannot be
/// checked until ..."); these are the only faults that may appear when another is removed.
fn masked(faults: &BTreeSet<Fault>) -> BTreeSet<Fault> {
    if faults.contains(&Fault::MissingIntermediate) {
        [Fault::Untrusted, Fault::IntermediateExpired].into()
    } else {
        BTreeSet::new()
    }
}

/// What can be reported of `faults`: all of them but the masked ones.
fn expected(faults: &BTreeSet<Fault>) -> BTreeSet<Fault> {
    faults.difference(&masked(faults)).copied().collect()
}

fn fault_sets() -> impl Strategy<Value = BTreeSet<Fault>> {
    proptest::sample::subsequence(ALL.to_vec(), 0..=4)
        .prop_filter(
            "a certificate is expired or not yet valid, not both",
            |set| !(set.contains(&Fault::LeafExpired) && set.contains(&Fault::LeafNotYetValid)),
        )
        .prop_map(|set| set.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_fault_is_reported_and_none_hides_another(faults in fault_sets()) {
        let all = reported(&faults);
        prop_assert_eq!(&all, &expected(&faults), "reported for {:?}", faults);
        for fault in &faults {
            let mut fewer = faults.clone();
            fewer.remove(fault);
            let rest = reported(&fewer);
            let announced: BTreeSet<Fault> = all.union(&masked(&faults)).copied().collect();
            prop_assert!(
                rest.is_subset(&announced),
                "removing {:?} from {:?} made {:?} appear",
                fault,
                faults,
                rest.difference(&announced).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn the_issue_example_reports_both_faults() {
    // A server certificate under an expired intermediate, under a root the device does not
    // trust: both, not only "renew the intermediate".
    let faults: BTreeSet<Fault> = [Fault::IntermediateExpired, Fault::Untrusted].into();
    assert_eq!(reported(&faults), faults);
}
