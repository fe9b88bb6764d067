//! DANE's inputs, which a domain's DNS and its MX control (`analyze::dane::judge`: TLSA records
//! and the chain presented on port 25), and the `--dnssec-anchor` file a user hands over
//! (`probe::dnssec::anchors`).
//!
//! - Any TLSA records (any usage, selector, matching type, data of any length or not hex) and
//!   any chain (real certificates in any order, garbage, nothing): no panic, within the time
//!   bound; every record is either matched, misnamed, unusable or none of these, once; the
//!   state agrees with the lists; a match only when the TLSA answer is secure and the MX
//!   answer secure or insecure.
//! - A record made from the leaf presented, with a defined usage 3 selector and matching type,
//!   always matches.
//! - Anchor files: any text is read or refused naming a line of it; DS records written here
//!   are read back as written.

use std::sync::LazyLock;

use mailtls::analyze::dane::{DaneState, MAX_CHAIN, judge};
use mailtls::observation::Der;
use mailtls::observation::dnssec::{
    DnssecStatus, LookupFailure, TlsaLookup, TlsaRecord, Validated,
};
use mailtls::probe::dnssec::anchors::{Anchors, ParseFailure};
use proptest::prelude::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use super::timed;

/// A root, an intermediate and a leaf for mx.example.com, made once.
static CHAIN: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let ca = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        (params, KeyPair::generate().expect("key"))
    };
    let (root_params, root_key) = ca("Property Root");
    let root = root_params.self_signed(&root_key).expect("root");
    let (int_params, int_key) = ca("Property Intermediate");
    let intermediate = int_params
        .signed_by(&int_key, &Issuer::from_params(&root_params, &root_key))
        .expect("intermediate");
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["mx.example.com".to_string()])
        .expect("params")
        .signed_by(&leaf_key, &Issuer::from_params(&int_params, &int_key))
        .expect("leaf");
    vec![
        leaf.der().to_vec(),
        intermediate.der().to_vec(),
        root.der().to_vec(),
    ]
});

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The association data of one of the chain's certificates, for any selector and matching
/// type (an undefined one gets the certificate's bytes).
fn associated(cert: usize, selector: u8, matching: u8) -> String {
    use sha2::Digest;
    let der = &CHAIN[cert % CHAIN.len()];
    let selected = match selector {
        1 => x509_parser::parse_x509_certificate(der)
            .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
            .unwrap_or_default(),
        _ => der.clone(),
    };
    match matching {
        1 => hex(&sha2::Sha256::digest(&selected)),
        2 => hex(&sha2::Sha512::digest(&selected)),
        _ => hex(&selected),
    }
}

fn record() -> impl Strategy<Value = TlsaRecord> {
    let data = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..130).prop_map(|bytes| hex(&bytes)),
        "[0-9a-fA-F]{0,140}",
        ".{0,40}",
        Just(String::new()),
    ];
    (0u8..6, 0u8..4, 0u8..5, any::<bool>(), 0usize..3, data).prop_map(
        |(usage, selector, matching_type, derived, cert, data)| TlsaRecord {
            usage,
            selector,
            matching_type,
            data: if derived {
                associated(cert, selector, matching_type)
            } else {
                data
            },
        },
    )
}

fn status() -> impl Strategy<Value = DnssecStatus> {
    prop_oneof![
        3 => Just(DnssecStatus::Secure),
        1 => Just(DnssecStatus::Insecure),
        1 => Just(DnssecStatus::Bogus),
        1 => Just(DnssecStatus::Indeterminate),
    ]
}

fn failure() -> impl Strategy<Value = Option<LookupFailure>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(LookupFailure::NoRecords)),
        1 => Just(Some(LookupFailure::Timeout)),
        1 => Just(Some(LookupFailure::Failed)),
    ]
}

/// A chain: the real certificates in any order and number, and garbage.
fn chain() -> impl Strategy<Value = Option<Vec<Der>>> {
    let cert = prop_oneof![
        3 => (0usize..3).prop_map(|i| CHAIN[i].clone()),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ];
    proptest::option::of(proptest::collection::vec(
        cert.prop_map(Der),
        0..(MAX_CHAIN + 4),
    ))
}

fn lookup(
    name: String,
    dnssec: DnssecStatus,
    failure: Option<LookupFailure>,
    records: Vec<TlsaRecord>,
) -> TlsaLookup {
    Validated {
        name,
        dnssec,
        records,
        failure,
        fault: None,
        detail: None,
    }
}

proptest! {
    #[test]
    fn any_records_against_any_chain(
        records in proptest::collection::vec(record(), 0..24),
        chain in chain(),
        mx in status(),
        tlsa_status in status(),
        failure in failure(),
        name in prop_oneof!["_25\\._tcp\\.[a-z.]{0,20}", ".{0,30}"],
        host in prop_oneof![Just("mx.example.com".to_string()), ".{0,30}"],
    ) {
        let count = records.len();
        let tlsa = lookup(name, tlsa_status, failure, records);
        let judgement = timed("judge", || judge(mx, &tlsa, &host, chain.as_deref()));
        let mut seen: Vec<usize> = judgement.matched.clone();
        seen.extend(judgement.misnamed.iter().copied());
        seen.extend(judgement.unusable.iter().map(|(i, _)| *i));
        let len = seen.len();
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen.len(), len, "a record judged twice: {:?}", judgement);
        prop_assert!(seen.iter().all(|i| *i < count), "{:?}", judgement);
        let secure = matches!(mx, DnssecStatus::Secure | DnssecStatus::Insecure)
            && tlsa_status == DnssecStatus::Secure;
        prop_assert_eq!(judgement.state == DaneState::Matches, !judgement.matched.is_empty());
        prop_assert!(judgement.matched.is_empty() || secure);
        prop_assert!(!judgement.rollover_risk || judgement.state == DaneState::Matches);
        if judgement.state == DaneState::Unusable {
            prop_assert_eq!(judgement.unusable.len(), count);
        }
        if mx == DnssecStatus::Bogus || tlsa_status == DnssecStatus::Bogus {
            prop_assert_eq!(judgement.state, DaneState::Bogus);
        }
        prop_assert!(!judgement.detail.is_empty());
    }

    #[test]
    fn a_dane_ee_record_of_the_leaf_always_matches(
        selector in 0u8..2,
        matching in 0u8..3,
        others in proptest::collection::vec(record(), 0..8),
        at in 0usize..8,
        rest in proptest::collection::vec((0usize..3).prop_map(|i| Der(CHAIN[i].clone())), 0..4),
    ) {
        let mut records = others;
        let at = at.min(records.len());
        records.insert(at, TlsaRecord {
            usage: 3,
            selector,
            matching_type: matching,
            data: associated(0, selector, matching),
        });
        let mut chain = vec![Der(CHAIN[0].clone())];
        chain.extend(rest);
        let tlsa = lookup("_25._tcp.mx.example.com".to_string(), DnssecStatus::Secure, None, records);
        let judgement = timed("judge", || judge(DnssecStatus::Secure, &tlsa, "mx.example.com", Some(&chain)));
        prop_assert_eq!(judgement.state, DaneState::Matches);
        prop_assert!(judgement.matched.contains(&at), "{:?}", judgement);
    }

    #[test]
    fn any_anchor_file_is_read_or_refused_at_one_of_its_lines(text in prop_oneof![
        ".{0,300}",
        "([.a-z]{1,10} (3600 )?(IN )?(DS|DNSKEY|A) [0-9 ]{0,12}[0-9A-Fa-f+/=() ]{0,80}\n){0,6}",
    ]) {
        let lines = text.lines().count();
        match timed("anchors", || Anchors::parse(&text)) {
            Ok(Anchors::Zones(zones)) => prop_assert!(!zones.is_empty()),
            Ok(Anchors::Root) => prop_assert!(false, "a file never means the built-in root"),
            Err(ParseFailure::Empty) => {}
            Err(ParseFailure::Line(line, _)) => prop_assert!(line >= 1 && line <= lines.max(1)),
        }
    }

    #[test]
    fn ds_records_written_are_read_back(
        entries in proptest::collection::vec(
            ("[a-z]{1,8}(\\.[a-z]{1,8}){0,2}", any::<u16>(), prop_oneof![Just(8u8), Just(13u8), Just(15u8)], proptest::collection::vec(any::<u8>(), 32)),
            1..6,
        ),
        split in any::<bool>(),
    ) {
        let mut text = String::from("; written by the test\n");
        for (zone, tag, algorithm, digest) in &entries {
            let digest = hex(digest).to_ascii_uppercase();
            if split {
                text.push_str(&format!("{zone}. IN DS {tag} {algorithm} 2 (\n  {}\n  {} ) ; split\n", &digest[..32], &digest[32..]));
            } else {
                text.push_str(&format!("{zone}. 86400 IN DS {tag} {algorithm} 2 {digest}\n"));
            }
        }
        let parsed = Anchors::parse(&text);
        let Ok(anchors) = parsed else {
            return Err(TestCaseError::fail(format!("{text}: {parsed:?}")));
        };
        let mut zones: Vec<String> = entries.iter().map(|(zone, ..)| format!("{zone}.")).collect();
        zones.sort();
        zones.dedup();
        let mut read: Vec<String> = anchors.zones().iter().map(|zone| zone.to_ascii()).collect();
        read.sort();
        prop_assert_eq!(read, zones);
    }
}
