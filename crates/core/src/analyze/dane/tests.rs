//! DANE matching on certificates made here (rcgen): every usage, selector and matching type,
//! matching and not; records a sender cannot use; the name check of DANE-TA; rollovers; what
//! the lookups alone decide. The expected association data is computed with RustCrypto's
//! `sha2` over rcgen's own encoding of the key, not with the code under test.

use std::sync::LazyLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData, date_time_ymd,
};
use sha2::{Digest, Sha256, Sha512};

use super::*;
use crate::observation::dnssec::Validated;

const MX: &str = "mx.example.com";

/// A certificate and its key's SubjectPublicKeyInfo, both DER.
#[derive(Clone)]
struct Made {
    der: Vec<u8>,
    spki: Vec<u8>,
}

struct Certs {
    root: Made,
    intermediate: Made,
    /// Names mx.example.com, issued by the intermediate.
    leaf: Made,
    /// The same name, a new key (the next renewal).
    next: Made,
    /// Names other.example.net only.
    misnamed: Made,
    /// *.example.com.
    wildcard: Made,
    /// No subjectAltName, CN=mx.example.com.
    cn_only: Made,
    /// subjectAltName other.example.net, CN=mx.example.com: the CN does not count.
    san_and_cn: Made,
    /// Expired in 2021, names nothing we ask.
    expired: Made,
    /// A CA that issued none of these.
    unrelated: Made,
}

fn ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    (
        params,
        KeyPair::generate().unwrap_or_else(|e| panic!("{e}")),
    )
}

fn made(der: &[u8], key: &KeyPair) -> Made {
    Made {
        der: der.to_vec(),
        spki: key.subject_public_key_info(),
    }
}

static CERTS: LazyLock<Certs> = LazyLock::new(|| {
    let (root_params, root_key) = ca("DANE Test Root");
    let root = root_params
        .self_signed(&root_key)
        .unwrap_or_else(|e| panic!("{e}"));
    let root_issuer = Issuer::from_params(&root_params, &root_key);
    let (int_params, int_key) = ca("DANE Test Intermediate");
    let intermediate = int_params
        .signed_by(&int_key, &root_issuer)
        .unwrap_or_else(|e| panic!("{e}"));
    let issuer = Issuer::from_params(&int_params, &int_key);
    let leaf = |sans: &[&str], cn: Option<&str>, expired: bool| {
        let names: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap_or_else(|e| panic!("{e}"));
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let cert = params
            .signed_by(&key, &issuer)
            .unwrap_or_else(|e| panic!("{e}"));
        made(cert.der(), &key)
    };
    let (other_params, other_key) = ca("Unrelated CA");
    let unrelated = other_params
        .self_signed(&other_key)
        .unwrap_or_else(|e| panic!("{e}"));
    Certs {
        root: made(root.der(), &root_key),
        intermediate: made(intermediate.der(), &int_key),
        leaf: leaf(&[MX], None, false),
        next: leaf(&[MX], None, false),
        misnamed: leaf(&["other.example.net"], None, false),
        wildcard: leaf(&["*.example.com"], None, false),
        cn_only: leaf(&[], Some(MX), false),
        san_and_cn: leaf(&["other.example.net"], Some(MX), false),
        expired: leaf(&["old.example.org"], None, true),
        unrelated: made(unrelated.der(), &other_key),
    }
});

/// The association data of `cert` under `selector` and `matching`, as a hex string.
fn data(cert: &Made, selector: u8, matching: u8) -> String {
    let selected = if selector == 0 { &cert.der } else { &cert.spki };
    let bytes = match matching {
        1 => Sha256::digest(selected).to_vec(),
        2 => Sha512::digest(selected).to_vec(),
        _ => selected.clone(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn record(usage: u8, selector: u8, matching: u8, data: String) -> TlsaRecord {
    TlsaRecord {
        usage,
        selector,
        matching_type: matching,
        data,
    }
}

/// A record of `usage` for `cert`.
fn pin(usage: u8, selector: u8, matching: u8, cert: &Made) -> TlsaRecord {
    record(usage, selector, matching, data(cert, selector, matching))
}

fn secure(name: &str, records: Vec<TlsaRecord>) -> TlsaLookup {
    Validated {
        name: name.to_string(),
        dnssec: DnssecStatus::Secure,
        failure: records.is_empty().then_some(LookupFailure::NoRecords),
        records,
        fault: None,
        detail: None,
    }
}

fn tlsa(records: Vec<TlsaRecord>) -> TlsaLookup {
    secure(&format!("_25._tcp.{MX}"), records)
}

fn chain(certs: &[&Made]) -> Vec<Der> {
    certs.iter().map(|cert| Der(cert.der.clone())).collect()
}

/// The judgement of `records` at mx.example.com, which presents `presented`.
fn judged(records: Vec<TlsaRecord>, presented: &[&Made]) -> DaneJudgement {
    judge(
        DnssecStatus::Secure,
        &tlsa(records),
        MX,
        Some(&chain(presented)),
    )
}

#[test]
fn dane_ee_matches_the_leaf_in_every_selector_and_matching_type() {
    let c = &*CERTS;
    for selector in 0..=1 {
        for matching in 0..=2 {
            let fields = format!("3 {selector} {matching}");
            let yes = judged(
                vec![pin(3, selector, matching, &c.leaf)],
                &[&c.leaf, &c.intermediate],
            );
            assert_eq!(yes.state, DaneState::Matches, "{fields}: {yes:?}");
            assert_eq!(yes.matched, [0], "{fields}");
            assert!(yes.unusable.is_empty(), "{fields}");
            // Another certificate of the same name, or the issuer: no match.
            for other in [&c.next, &c.intermediate] {
                let no = judged(
                    vec![pin(3, selector, matching, other)],
                    &[&c.leaf, &c.intermediate],
                );
                assert_eq!(no.state, DaneState::NoMatch, "{fields}: {no:?}");
                assert!(no.matched.is_empty(), "{fields}");
                assert!(no.detail.contains("defer"), "{}", no.detail);
            }
        }
    }
}

#[test]
fn dane_ee_ignores_names_and_dates() {
    let c = &*CERTS;
    for leaf in [&c.misnamed, &c.expired] {
        let judgement = judged(vec![pin(3, 1, 1, leaf)], &[leaf]);
        assert_eq!(judgement.state, DaneState::Matches, "{judgement:?}");
    }
}

#[test]
fn dane_ta_matches_a_certificate_the_leaf_chains_up_to() {
    let c = &*CERTS;
    for selector in 0..=1 {
        for matching in 0..=2 {
            let fields = format!("2 {selector} {matching}");
            // The intermediate, sent: a match.
            let yes = judged(
                vec![pin(2, selector, matching, &c.intermediate)],
                &[&c.leaf, &c.intermediate],
            );
            assert_eq!(yes.state, DaneState::Matches, "{fields}: {yes:?}");
            // The root, sent after it: a match too.
            let root = judged(
                vec![pin(2, selector, matching, &c.root)],
                &[&c.leaf, &c.intermediate, &c.root],
            );
            assert_eq!(root.state, DaneState::Matches, "{fields}: {root:?}");
            // A CA the server sends but that issued nothing of the chain: no match.
            let unrelated = judged(
                vec![pin(2, selector, matching, &c.unrelated)],
                &[&c.leaf, &c.unrelated, &c.intermediate],
            );
            assert_eq!(
                unrelated.state,
                DaneState::NoMatch,
                "{fields}: {unrelated:?}"
            );
            // The leaf itself is no trust anchor (OpenSSL matches TA records above depth 0).
            let leaf = judged(vec![pin(2, selector, matching, &c.leaf)], &[&c.leaf]);
            assert_eq!(leaf.state, DaneState::NoMatch, "{fields}: {leaf:?}");
        }
    }
}

#[test]
fn dane_ta_with_the_whole_key_matches_the_key_that_signed_the_chain() {
    let c = &*CERTS;
    // The root is not sent: its whole key (2 1 0) signed the intermediate, a match; its
    // digest or its certificate cannot be checked without it.
    let sent = [&c.leaf, &c.intermediate];
    assert_eq!(
        judged(vec![pin(2, 1, 0, &c.root)], &sent).state,
        DaneState::Matches
    );
    for (selector, matching) in [(1, 1), (1, 2), (0, 0), (0, 1)] {
        let judgement = judged(vec![pin(2, selector, matching, &c.root)], &sent);
        assert_eq!(
            judgement.state,
            DaneState::NoMatch,
            "2 {selector} {matching}"
        );
    }
    // Only the leaf sent: the intermediate's whole key signed it.
    assert_eq!(
        judged(vec![pin(2, 1, 0, &c.intermediate)], &[&c.leaf]).state,
        DaneState::Matches
    );
    // Out of order: the chain is found by signatures, not by position.
    assert_eq!(
        judged(
            vec![pin(2, 0, 1, &c.root)],
            &[&c.leaf, &c.root, &c.intermediate]
        )
        .state,
        DaneState::Matches
    );
}

#[test]
fn dane_ta_needs_the_leaf_to_name_the_mx() {
    let c = &*CERTS;
    let ta = || vec![pin(2, 0, 1, &c.intermediate)];
    let misnamed = judged(ta(), &[&c.misnamed, &c.intermediate]);
    assert_eq!(misnamed.state, DaneState::NoMatch, "{misnamed:?}");
    assert_eq!(misnamed.misnamed, [0]);
    assert_eq!(misnamed.reference_names, [MX]);
    assert!(
        misnamed.detail.contains("names none of mx.example.com"),
        "{}",
        misnamed.detail
    );
    // A wildcard covers one label; the CN counts only without DNS names.
    assert_eq!(
        judged(ta(), &[&c.wildcard, &c.intermediate]).state,
        DaneState::Matches
    );
    assert_eq!(
        judged(ta(), &[&c.cn_only, &c.intermediate]).state,
        DaneState::Matches
    );
    let san_and_cn = judged(ta(), &[&c.san_and_cn, &c.intermediate]);
    assert_eq!(san_and_cn.misnamed, [0], "{san_and_cn:?}");
    let deeper = judge(
        DnssecStatus::Secure,
        &secure("_25._tcp.a.mx.example.com", ta()),
        "a.mx.example.com",
        Some(&chain(&[&c.wildcard, &c.intermediate])),
    );
    assert_eq!(
        deeper.state,
        DaneState::NoMatch,
        "*.example.com is one label: {deeper:?}"
    );
}

#[test]
fn behind_a_cname_both_the_tlsa_base_domain_and_the_mx_name_are_accepted() {
    let c = &*CERTS;
    // mx.example.com is a CNAME for mx.provider.net, whose TLSA records were looked up.
    let lookup = secure(
        "_25._tcp.mx.provider.net",
        vec![pin(2, 1, 1, &c.intermediate)],
    );
    let judgement = judge(
        DnssecStatus::Secure,
        &lookup,
        "MX.example.com.",
        Some(&chain(&[&c.leaf, &c.intermediate])),
    );
    assert_eq!(judgement.reference_names, ["mx.provider.net", MX]);
    assert_eq!(judgement.state, DaneState::Matches, "{judgement:?}");
    let other = judge(
        DnssecStatus::Secure,
        &lookup,
        "mail.example.org",
        Some(&chain(&[&c.leaf, &c.intermediate])),
    );
    assert_eq!(other.state, DaneState::NoMatch, "{other:?}");
}

#[test]
fn records_a_sender_cannot_use_are_named_with_why() {
    let c = &*CERTS;
    let sha256 = data(&c.leaf, 1, 1);
    let sha512 = data(&c.leaf, 1, 2);
    let records = vec![
        pin(0, 0, 1, &c.intermediate),
        pin(1, 1, 1, &c.leaf),
        record(4, 1, 1, sha256.clone()),
        record(3, 2, 1, sha256.clone()),
        record(3, 1, 3, sha256.clone()),
        record(3, 1, 1, sha256[..62].to_string()),
        record(3, 1, 1, format!("{sha256}00")),
        record(3, 1, 2, sha256.clone()),
        record(3, 1, 1, sha512.clone()),
        record(3, 1, 1, sha256.replace(|c: char| c.is_ascii_digit(), "g")),
        record(3, 1, 0, "abc".to_string()),
        record(3, 1, 0, String::new()),
    ];
    let count = records.len();
    let judgement = judged(records.clone(), &[&c.leaf, &c.intermediate]);
    assert_eq!(judgement.state, DaneState::Unusable, "{judgement:?}");
    let indexes: Vec<usize> = judgement.unusable.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, (0..count).collect::<Vec<_>>());
    let why = |i: usize| judgement.unusable[i].1.as_str();
    assert!(
        why(0).contains("PKIX-TA") && why(0).contains("7672"),
        "{}",
        why(0)
    );
    assert!(why(1).contains("PKIX-EE"), "{}", why(1));
    assert!(why(2).contains("usage 4"), "{}", why(2));
    assert!(why(3).contains("selector 2"), "{}", why(3));
    assert!(why(4).contains("matching type 3"), "{}", why(4));
    assert!(why(5).contains("32 bytes, this one is 31"), "{}", why(5));
    assert!(why(6).contains("this one is 33"), "{}", why(6));
    assert!(
        why(7).contains("SHA-512 digest is 64 bytes, this one is 32"),
        "{}",
        why(7)
    );
    assert!(
        why(8).contains("SHA-256 digest is 32 bytes, this one is 64"),
        "{}",
        why(8)
    );
    assert!(why(9).contains("not hexadecimal"), "{}", why(9));
    assert!(why(10).contains("not hexadecimal"), "{}", why(10));
    assert!(why(11).contains("empty"), "{}", why(11));
    assert!(
        judgement.detail.contains("accept any certificate"),
        "{}",
        judgement.detail
    );
    // One usable, matching record among them: a match, the others still named.
    let mut mixed = records;
    mixed.push(pin(3, 1, 1, &c.leaf));
    let judgement = judged(mixed, &[&c.leaf, &c.intermediate]);
    assert_eq!(judgement.state, DaneState::Matches);
    assert_eq!(judgement.matched, [count]);
    assert_eq!(judgement.unusable.len(), count);
}

#[test]
fn only_the_current_key_pinned_is_a_rollover_risk() {
    let c = &*CERTS;
    let sent = [&c.leaf, &c.intermediate];
    for only in [
        pin(3, 1, 1, &c.leaf),
        pin(3, 0, 1, &c.leaf),
        pin(3, 1, 2, &c.leaf),
    ] {
        let judgement = judged(vec![only.clone(), only], &sent);
        assert_eq!(judgement.state, DaneState::Matches);
        assert!(judgement.rollover_risk, "{judgement:?}");
        assert!(
            judgement.detail.contains("3 1 1 record for the next key"),
            "{}",
            judgement.detail
        );
    }
    // The next key published beside it, or the issuer pinned: no risk.
    let next = judged(vec![pin(3, 1, 1, &c.leaf), pin(3, 1, 1, &c.next)], &sent);
    assert_eq!(
        (next.state, next.rollover_risk),
        (DaneState::Matches, false)
    );
    let issuer = judged(
        vec![pin(3, 1, 1, &c.leaf), pin(2, 1, 1, &c.intermediate)],
        &sent,
    );
    assert_eq!(issuer.matched, [0, 1]);
    assert!(!issuer.rollover_risk);
    let ta_only = judged(vec![pin(2, 0, 1, &c.intermediate)], &sent);
    assert!(!ta_only.rollover_risk);
    // An unusable record is no spare: still a risk.
    let unusable_spare = judged(vec![pin(3, 1, 1, &c.leaf), pin(1, 1, 1, &c.next)], &sent);
    assert!(unusable_spare.rollover_risk);
    // No match, no rollover to speak of.
    assert!(!judged(vec![pin(3, 1, 1, &c.next)], &sent).rollover_risk);
}

#[test]
fn the_lookups_decide_before_any_record_is_matched() {
    let c = &*CERTS;
    let sent = chain(&[&c.leaf, &c.intermediate]);
    let matching = || tlsa(vec![pin(3, 1, 1, &c.leaf)]);
    let with = |mx: DnssecStatus, lookup: TlsaLookup| judge(mx, &lookup, MX, Some(&sent)).state;
    let status = |dnssec: DnssecStatus| TlsaLookup {
        dnssec,
        ..matching()
    };
    use DnssecStatus::*;
    assert_eq!(with(Secure, matching()), DaneState::Matches);
    assert_eq!(with(Bogus, matching()), DaneState::Bogus);
    assert_eq!(with(Secure, status(Bogus)), DaneState::Bogus);
    assert_eq!(with(Insecure, status(Bogus)), DaneState::Bogus);
    // An unsigned MX answer: the signed TLSA records are used (Postfix >= 3.6), with a word.
    assert_eq!(with(Insecure, matching()), DaneState::Matches);
    let other_key = || tlsa(vec![pin(3, 1, 1, &c.next)]);
    assert_eq!(with(Insecure, other_key()), DaneState::NoMatch);
    let unsigned_mx = judge(Insecure, &matching(), MX, Some(&sent));
    assert!(
        unsigned_mx.detail.contains("MX records are not signed"),
        "{}",
        unsigned_mx.detail
    );
    assert_eq!(
        with(
            Insecure,
            TlsaLookup {
                dnssec: Insecure,
                ..other_key()
            }
        ),
        DaneState::Insecure
    );
    assert_eq!(with(Secure, status(Insecure)), DaneState::Insecure);
    assert_eq!(with(Indeterminate, matching()), DaneState::Unknown);
    assert_eq!(with(Secure, status(Indeterminate)), DaneState::Unknown);
    assert_eq!(with(Secure, tlsa(Vec::new())), DaneState::NotPublished);
    let timed_out = TlsaLookup {
        failure: Some(LookupFailure::Timeout),
        records: Vec::new(),
        ..matching()
    };
    assert_eq!(with(Secure, timed_out), DaneState::Unknown);
    // Port 25 gave no certificate: records usable, nothing to match.
    let unreached = judge(Secure, &matching(), MX, None);
    assert_eq!(unreached.state, DaneState::Unknown);
    assert_eq!(
        judge(Secure, &matching(), MX, Some(&[])).state,
        DaneState::Unknown
    );
    // ... but records that are all unusable are that, reached or not.
    let pkix = tlsa(vec![pin(1, 1, 1, &c.leaf)]);
    assert_eq!(judge(Secure, &pkix, MX, None).state, DaneState::Unusable);
}

#[test]
fn a_chain_of_garbage_matches_nothing_but_its_own_bytes() {
    let garbage = vec![Der(vec![0x30, 0x03, 0x02, 0x01]), Der(Vec::new())];
    let judgement = judge(
        DnssecStatus::Secure,
        &tlsa(vec![
            pin(3, 1, 1, &CERTS.leaf),
            pin(2, 1, 0, &CERTS.intermediate),
        ]),
        MX,
        Some(&garbage),
    );
    assert_eq!(judgement.state, DaneState::NoMatch);
    // Selector 0 is the bytes as sent, whatever they are.
    let bytes = Made {
        der: garbage[0].0.clone(),
        spki: Vec::new(),
    };
    let judgement = judge(
        DnssecStatus::Secure,
        &tlsa(vec![pin(3, 0, 1, &bytes)]),
        MX,
        Some(&garbage),
    );
    assert_eq!(judgement.state, DaneState::Matches);
}
