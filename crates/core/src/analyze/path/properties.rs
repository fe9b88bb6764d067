//! Property tests of the DER reading and the path search: whatever bytes a server sends as a
//! chain, reading them never panics, never reads past them and stays within the search budget;
//! an element or a Name written by the test is read back exactly; a real chain is found among
//! noise.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::*;

/// A generous bound on one case; the search's own budget keeps it to milliseconds.
const CASE: Duration = Duration::from_secs(2);

/// The DER length octets of `length`: the short form, or `octets` long-form octets (at least as
/// many as the length needs, so non-minimal encodings too).
fn length_octets(length: usize, octets: usize) -> Vec<u8> {
    let needed = (usize::BITS - length.leading_zeros()).div_ceil(8) as usize;
    if octets == 0 && length < 0x80 {
        return vec![length as u8];
    }
    let octets = octets.clamp(needed.max(1), 4);
    let mut out = vec![0x80 | octets as u8];
    out.extend_from_slice(&(length as u32).to_be_bytes()[4 - octets..]);
    out
}

fn encode(tag: u8, contents: &[u8], octets: usize) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(length_octets(contents.len(), octets));
    out.extend_from_slice(contents);
    out
}

/// A Name: a SEQUENCE of SETs with these contents.
fn name(sets: &[Vec<u8>]) -> Vec<u8> {
    let inner: Vec<u8> = sets.iter().flat_map(|s| encode(SET, s, 0)).collect();
    encode(SEQUENCE, &inner, 0)
}

fn single_octet_tag() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("single-octet tags", |t| t & 0x1f != 0x1f)
}

/// Root, intermediate and leaf, made once: key generation and signing are the slow part.
struct Chain {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
}

static CHAIN: LazyLock<Chain> = LazyLock::new(|| {
    let ca = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        (params, KeyPair::generate().unwrap())
    };
    let (root_params, root_key) = ca("Property Root");
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::from_params(&root_params, &root_key);
    let (int_params, int_key) = ca("Property Intermediate");
    let intermediate = int_params.signed_by(&int_key, &root_issuer).unwrap();
    let int_issuer = Issuer::from_params(&int_params, &int_key);
    let mut leaf_params = CertificateParams::new(vec!["mail.example.test".to_string()]).unwrap();
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &int_issuer).unwrap();
    Chain {
        root: root.der().to_vec(),
        intermediate: intermediate.der().to_vec(),
        leaf: leaf.der().to_vec(),
    }
});

/// The anchor's subject as a webpki trust anchor has it: the Name's contents.
fn subject_contents(der: &[u8]) -> Vec<u8> {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    element(cert.subject().as_raw())
        .unwrap()
        .0
        .contents
        .to_vec()
}

/// What damage a certificate takes: a byte changed, the end cut off, or a byte inserted.
#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, mask: u8 },
    Cut { at: usize },
    Insert { at: usize, byte: u8 },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        any::<usize>().prop_map(|at| Damage::Cut { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Insert { at, byte }),
    ]
}

fn damaged(der: &[u8], damage: &Damage) -> Vec<u8> {
    let mut out = der.to_vec();
    match *damage {
        Damage::Flip { at, mask } => {
            let at = at % out.len();
            out[at] ^= mask;
        }
        Damage::Cut { at } => out.truncate(at % out.len()),
        Damage::Insert { at, byte } => out.insert(at % (out.len() + 1), byte),
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes: the element read is a prefix of them, its contents the end of it, the rest
    /// what follows; its header is at most six octets (one tag octet, up to four length octets).
    #[test]
    fn an_element_never_reaches_past_its_input(input in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Some((read, rest)) = element(&input) {
            prop_assert_eq!(read.whole, &input[..read.whole.len()]);
            prop_assert_eq!(rest, &input[read.whole.len()..]);
            prop_assert!(read.whole.ends_with(read.contents));
            prop_assert!(read.whole.len() - read.contents.len() <= 6);
            prop_assert_eq!(read.tag, input[0]);
        }
    }

    /// An element written with any single-octet tag and any length encoding up to four octets
    /// (minimal or not) is read back as written, whatever follows it.
    #[test]
    fn an_element_is_read_as_written(
        tag in single_octet_tag(),
        contents in proptest::collection::vec(any::<u8>(), 0..400),
        octets in 0usize..=4,
        after in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let written = encode(tag, &contents, octets);
        let input = [written.as_slice(), &after].concat();
        let (read, rest) = element(&input).expect("a well-formed element");
        prop_assert_eq!(read.tag, tag);
        prop_assert_eq!(read.contents, contents.as_slice());
        prop_assert_eq!(read.whole, written.as_slice());
        prop_assert_eq!(rest, after.as_slice());
    }

    /// A Name's RDNs are read back as written, and a Name is within a constraint exactly when
    /// the constraint's RDNs are its first ones.
    #[test]
    fn names_are_read_rdn_by_rdn(
        sets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
        keep in 0usize..8,
    ) {
        let whole = name(&sets);
        let read = rdns(&whole).expect("a well-formed Name");
        let written: Vec<Vec<u8>> = sets.iter().map(|s| encode(SET, s, 0)).collect();
        prop_assert_eq!(read, written.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let keep = keep.min(sets.len());
        let prefix = name(&sets[..keep]);
        prop_assert_eq!(dn_within(&whole, &prefix), Some(true));
        prop_assert_eq!(dn_within(&prefix, &whole), Some(keep == sets.len()));
    }

    /// Anything at all as a Name: read or refused, never a panic.
    #[test]
    fn any_bytes_as_a_name(bytes in proptest::collection::vec(any::<u8>(), 0..64), other in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Some(found) = rdns(&bytes) {
            prop_assert!(found.iter().map(|r| r.len()).sum::<usize>() <= bytes.len());
        }
        let _ = dn_within(&bytes, &other);
    }

    /// A chain whose certificates are damaged (a byte changed, cut, a byte inserted) and mixed
    /// with noise: no panic, within the budget, and any path found names real positions once.
    #[test]
    fn damaged_chains_are_searched_within_bounds(
        leaf_damage in proptest::option::of(damage()),
        intermediate_damage in proptest::option::of(damage()),
        root_damage in proptest::option::of(damage()),
        noise in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..6),
        copies in 1usize..4,
    ) {
        let chain = &*CHAIN;
        let apply = |der: &[u8], d: &Option<Damage>| d.as_ref().map_or_else(|| der.to_vec(), |d| damaged(der, d));
        let leaf = apply(&chain.leaf, &leaf_damage);
        let intermediate = apply(&chain.intermediate, &intermediate_damage);
        let root = apply(&chain.root, &root_damage);
        let mut intermediates: Vec<&[u8]> = noise.iter().map(Vec::as_slice).collect();
        for _ in 0..copies {
            intermediates.push(&intermediate);
        }
        intermediates.push(&leaf);
        intermediates.push(&root);
        let subject = subject_contents(&chain.root);
        let anchors = [(subject.as_slice(), root.as_slice())];
        let started = Instant::now();
        let found = build(&leaf, &intermediates, &anchors, None);
        let _ = wanted(&intermediates);
        let _ = directory_constrained(&root);
        prop_assert!(started.elapsed() < CASE, "{:?}", started.elapsed());
        if let Some(found) = found {
            prop_assert!(found.anchor < anchors.len());
            prop_assert!(found.intermediates.len() <= MAX_INTERMEDIATES);
            let mut seen = found.intermediates.clone();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), found.intermediates.len());
            prop_assert!(found.intermediates.iter().all(|&i| i < intermediates.len()));
        }
    }

    /// The real chain, among noise in any order, is found: through the intermediate (or one of
    /// its copies), to the anchor.
    #[test]
    fn a_real_chain_is_found_among_noise(
        noise in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..6),
        position in any::<prop::sample::Index>(),
    ) {
        let chain = &*CHAIN;
        let mut intermediates: Vec<&[u8]> = noise.iter().map(Vec::as_slice).collect();
        let at = position.index(intermediates.len() + 1);
        intermediates.insert(at, &chain.intermediate);
        let subject = subject_contents(&chain.root);
        let anchors = [(subject.as_slice(), chain.root.as_slice())];
        let found = build(&chain.leaf, &intermediates, &anchors, None);
        prop_assert_eq!(found, Some(Found { intermediates: vec![at], anchor: 0 }));
    }
}
