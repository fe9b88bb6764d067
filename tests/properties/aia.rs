//! Authority Information Access: the caIssuers URLs read from a certificate
//! (`analyze::cert::CertInfo`) and the body a caIssuers URL answers with (`probe::aia::parse_body`).
//!
//! - A certificate whose AIA extension lists any caIssuers and OCSP locations gives exactly its
//!   caIssuers URIs, in order; a damaged certificate is read or refused, never a panic.
//! - Certificates written as PEM (LF or CRLF, text between the blocks) or as one DER certificate
//!   are read back as written; DER with anything after it is refused; any bytes are answered
//!   with no more certificate bytes than came.

use std::sync::LazyLock;

use mailtls::analyze::cert::CertInfo;
use mailtls::probe::aia::parse_body;
use proptest::prelude::*;
use rcgen::{CertificateParams, CustomExtension, DnType, KeyPair};

/// id-pe-authorityInfoAccess.
const AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// id-ad-caIssuers and id-ad-ocsp, DER-encoded OBJECT IDENTIFIERs.
const CA_ISSUERS: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
const OCSP: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];

fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = contents.len();
    if length < 0x80 {
        out.push(length as u8);
    } else if length < 0x100 {
        out.extend_from_slice(&[0x81, length as u8]);
    } else {
        out.extend_from_slice(&[0x82, (length >> 8) as u8, length as u8]);
    }
    out.extend_from_slice(contents);
    out
}

/// One AccessDescription: a method, and a location that is a URI or (`dns`) a dNSName.
#[derive(Debug, Clone)]
struct Access {
    ca_issuers: bool,
    dns: bool,
    location: String,
}

fn access() -> impl Strategy<Value = Access> {
    (any::<bool>(), prop::bool::weighted(0.2), "[ -~]{0,120}").prop_map(
        |(ca_issuers, dns, location)| Access {
            ca_issuers,
            dns,
            location,
        },
    )
}

/// The extension's value: SEQUENCE OF AccessDescription.
fn aia_value(accesses: &[Access]) -> Vec<u8> {
    let descriptions: Vec<u8> = accesses
        .iter()
        .flat_map(|a| {
            let method = if a.ca_issuers { CA_ISSUERS } else { OCSP };
            // GeneralName [6] uniformResourceIdentifier or [2] dNSName, IA5String, implicit.
            let location = der(if a.dns { 0x82 } else { 0x86 }, a.location.as_bytes());
            der(0x30, &[method, &location].concat())
        })
        .collect();
    der(0x30, &descriptions)
}

static KEY: LazyLock<KeyPair> = LazyLock::new(|| KeyPair::generate().expect("a key"));

fn certificate(name: &str, accesses: Option<&[Access]>) -> rcgen::Certificate {
    let mut params = CertificateParams::new(vec![format!("{name}.example.test")]).expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    if let Some(accesses) = accesses {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(AIA, aia_value(accesses)));
    }
    let key: &KeyPair = &KEY;
    params.self_signed(key).expect("a certificate")
}

/// Three certificates to answer with (and for the chain files of `files`), made once.
pub static CERTIFICATES: LazyLock<Vec<(Vec<u8>, String)>> = LazyLock::new(|| {
    ["one", "two", "three"]
        .iter()
        .map(|name| {
            let cert = certificate(name, None);
            (cert.der().to_vec(), cert.pem())
        })
        .collect()
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The caIssuers URIs, in order, and nothing else; damage never panics.
    #[test]
    fn ca_issuers_urls_are_read_as_written(
        accesses in proptest::collection::vec(access(), 0..6),
        flip in any::<prop::sample::Index>(),
        mask in 1u8..,
    ) {
        let der = certificate("aia", Some(&accesses)).der().to_vec();
        let info = CertInfo::parse(&der).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected: Vec<String> = accesses
            .iter()
            .filter(|a| a.ca_issuers && !a.dns)
            .map(|a| a.location.clone())
            .collect();
        prop_assert_eq!(&info.ca_issuers, &expected);
        let mut damaged = der.clone();
        let at = flip.index(damaged.len());
        damaged[at] ^= mask;
        if let Ok(info) = crate::timed("a damaged certificate", || CertInfo::parse(&damaged)) {
            prop_assert!(info.ca_issuers.iter().map(String::len).sum::<usize>() <= damaged.len());
        }
    }

    /// PEM (LF or CRLF, text around the blocks) and a single DER certificate are read back.
    #[test]
    fn fetched_certificates_are_read_as_written(
        picks in proptest::collection::vec(0usize..3, 1..5),
        crlf in any::<bool>(),
        between in "[a-zA-Z0-9 .:]{0,40}",
        trailing in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let certificates = &*CERTIFICATES;
        let mut pem = String::new();
        for (i, &pick) in picks.iter().enumerate() {
            if i > 0 {
                pem.push_str(&between);
                pem.push('\n');
            }
            pem.push_str(&certificates[pick].1);
        }
        if crlf {
            pem = pem.replace('\n', "\r\n");
        }
        let read = parse_body(pem.as_bytes()).map_err(TestCaseError::fail)?;
        let expected: Vec<&[u8]> = picks.iter().map(|&p| certificates[p].0.as_slice()).collect();
        prop_assert_eq!(read.iter().map(|d| d.0.as_slice()).collect::<Vec<_>>(), expected);
        let one = &certificates[picks[0]].0;
        let read = parse_body(one).map_err(TestCaseError::fail)?;
        prop_assert_eq!(read.len(), 1);
        prop_assert_eq!(&read[0].0, one);
        let with_more = [one.as_slice(), &trailing].concat();
        prop_assert!(parse_body(&with_more).is_err());
    }

    /// Any bytes, or a PEM or DER answer with bytes changed: read or refused in one line.
    #[test]
    fn any_fetched_bytes_are_answered(
        noise in proptest::collection::vec(any::<u8>(), 0..2048),
        start in prop_oneof![Just(&b""[..]), Just(&b"-----BEGIN"[..]), Just(&b"-----BEGIN CERTIFICATE-----\n"[..])],
        base in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = match base {
            0 => [start, &noise].concat(),
            1 => CERTIFICATES[0].0.clone(),
            _ => CERTIFICATES[base - 2].1.clone().into_bytes(),
        };
        for (at, byte) in edits {
            if !bytes.is_empty() {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
        }
        match crate::timed("an AIA answer", || parse_body(&bytes)) {
            Ok(read) => prop_assert!(read.iter().map(|d| d.0.len()).sum::<usize>() <= bytes.len()),
            Err(words) => prop_assert!(!words.contains('\n'), "{words:?}"),
        }
    }
}
