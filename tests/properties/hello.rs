//! The hand-built ClientHello and the reader of the server's first flight (`probe::hello`).
//!
//! - Any ClientHello mailtls writes (any version, any suites, any server name, any random)
//!   parses back, with tls-parser, as what was meant.
//! - A server's first flight written here (a ServerHello for SSL 3.0 to TLS 1.3, a
//!   HelloRetryRequest, the Certificate message with any certificates, an alert), cut into
//!   records anywhere, is read as written; every prefix of it is "incomplete" or the ServerHello
//!   alone, never an error (the probe stops reading at an error).
//! - Any bytes: an answer, never a panic, no more certificate bytes than were received.

use mailtls::probe::hello::{Response, ServerHello, client_hello, read_response};
use mailtls::tls_catalog::TlsVersion;
use proptest::prelude::*;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

const VERSIONS: [TlsVersion; 5] = [
    TlsVersion::Ssl3,
    TlsVersion::Tls10,
    TlsVersion::Tls11,
    TlsVersion::Tls12,
    TlsVersion::Tls13,
];

/// The 32-byte random of a HelloRetryRequest (RFC 8446 4.1.3).
const HELLO_RETRY: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn u16_be(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u16).to_be_bytes());
}

fn u24_be(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    u24_be(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// A server's first flight, as a server writes it.
#[derive(Debug, Clone)]
struct Flight {
    version: u16,
    cipher: u16,
    retry: bool,
    session_id: Vec<u8>,
    certificates: Vec<Vec<u8>>,
}

impl Flight {
    /// TLS 1.3 (and a HelloRetryRequest): the version in supported_versions, nothing in clear
    /// after the ServerHello.
    fn tls13(&self) -> bool {
        self.version == 0x0304 || self.retry
    }

    /// The handshake bytes: ServerHello, then (up to TLS 1.2) Certificate.
    fn handshake(&self) -> (Vec<u8>, Option<u32>) {
        let mut body = Vec::new();
        u16_be(
            &mut body,
            if self.tls13() {
                0x0303
            } else {
                self.version as usize
            },
        );
        if self.retry {
            body.extend_from_slice(&HELLO_RETRY);
        } else {
            body.extend_from_slice(&[0x42; 32]);
        }
        body.push(self.session_id.len() as u8);
        body.extend_from_slice(&self.session_id);
        u16_be(&mut body, self.cipher as usize);
        body.push(0);
        if self.tls13() {
            // supported_versions: TLS 1.3.
            let extensions = [0, 43, 0, 2, 3, 4];
            u16_be(&mut body, extensions.len());
            body.extend_from_slice(&extensions);
        }
        let mut out = handshake(2, &body);
        if self.tls13() {
            return (out, None);
        }
        let mut list = Vec::new();
        for certificate in &self.certificates {
            u24_be(&mut list, certificate.len());
            list.extend_from_slice(certificate);
        }
        let mut body = Vec::new();
        u24_be(&mut body, list.len());
        body.extend_from_slice(&list);
        out.extend(handshake(11, &body));
        (out, Some(body.len() as u32))
    }

    /// The flight in records cut at `cuts` (as a fraction of the handshake), and, for TLS 1.3,
    /// the ChangeCipherSpec and an encrypted record after it.
    fn records(&self, cuts: &[prop::sample::Index]) -> Vec<u8> {
        let (handshake, _) = self.handshake();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(handshake.len())).collect();
        at.push(0);
        at.push(handshake.len());
        at.sort_unstable();
        at.dedup();
        let record_version = if self.version == 0x0300 { 0 } else { 1 };
        let mut out = Vec::new();
        for piece in at.windows(2) {
            out.extend_from_slice(&[22, 3, record_version]);
            u16_be(&mut out, piece[1] - piece[0]);
            out.extend_from_slice(&handshake[piece[0]..piece[1]]);
        }
        if self.tls13() && !self.retry {
            out.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
            out.extend_from_slice(&[23, 3, 3, 0, 8]);
            out.extend_from_slice(&[0x99; 8]);
        }
        out
    }

    fn expected(&self) -> Response {
        let (_, certificate_length) = self.handshake();
        Response::Hello {
            hello: ServerHello {
                version: if self.retry { 0x0304 } else { self.version },
                cipher: self.cipher,
                retry: self.retry,
            },
            certificates: (!self.tls13()).then(|| self.certificates.clone()),
            certificate_length,
        }
    }
}

fn flight() -> impl Strategy<Value = Flight> {
    (
        prop_oneof![
            Just(0x0300u16),
            Just(0x0301),
            Just(0x0302),
            Just(0x0303),
            Just(0x0304)
        ],
        any::<u16>(),
        prop::bool::weighted(0.1),
        proptest::collection::vec(any::<u8>(), 0..=32),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..4),
    )
        .prop_map(
            |(version, cipher, retry, session_id, certificates)| Flight {
                version,
                cipher,
                retry: retry && version == 0x0304,
                session_id,
                certificates,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever is offered, the ClientHello parses back as meant.
    #[test]
    fn client_hellos_parse_back(
        version in proptest::sample::select(VERSIONS.to_vec()),
        suites in proptest::collection::vec(any::<u16>(), 0..120),
        name in proptest::option::of(prop_oneof!["[a-z0-9.-]{0,300}", "\\PC{0,90}"]),
        random in proptest::collection::vec(any::<u8>(), 96),
    ) {
        let random: [u8; 96] = random.try_into().expect("96 bytes");
        let bytes = client_hello(version, &suites, name.as_deref(), &random);
        prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[3], bytes[4]])), bytes.len() - 5);
        let (rest, plaintext) = tls_parser::parse_tls_plaintext(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert!(rest.is_empty());
        prop_assert_eq!(plaintext.msg.len(), 1);
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &plaintext.msg[0] else {
            return Err(TestCaseError::fail("not a ClientHello"));
        };
        let tls13 = version == TlsVersion::Tls13;
        prop_assert_eq!(hello.version.0, if tls13 { 0x0303 } else { version.wire() });
        prop_assert_eq!(hello.random, &random[..32]);
        let session: &[u8] = if tls13 { &random[32..64] } else { &[] };
        prop_assert_eq!(hello.session_id.unwrap_or_default(), session);
        let mut offered = suites.clone();
        if !tls13 {
            offered.push(0x00ff);
        }
        prop_assert_eq!(hello.ciphers.iter().map(|c| c.0).collect::<Vec<_>>(), offered);
        prop_assert_eq!(hello.comp.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0]);
        let extensions = match hello.ext {
            Some(ext) => tls_parser::parse_tls_client_hello_extensions(ext)
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?.1,
            None => Vec::new(),
        };
        if version == TlsVersion::Ssl3 {
            prop_assert!(extensions.is_empty());
            return Ok(());
        }
        let sni: Vec<&[u8]> = extensions.iter().filter_map(|e| match e {
            TlsExtension::SNI(names) => Some(names.iter().map(|n| n.1).collect::<Vec<_>>()),
            _ => None,
        }).flatten().collect();
        let expected_sni: Vec<&[u8]> = name.as_deref()
            .filter(|n| !n.is_empty() && n.len() < 256)
            .map(str::as_bytes).into_iter().collect();
        prop_assert_eq!(sni, expected_sni);
        let versions = extensions.iter().find_map(|e| match e {
            TlsExtension::SupportedVersions(v) => Some(v.iter().map(|x| x.0).collect::<Vec<_>>()),
            _ => None,
        });
        prop_assert_eq!(versions, tls13.then(|| vec![0x0304]));
        let share = extensions.iter().find_map(|e| match e {
            TlsExtension::KeyShare(share) => Some(share.to_vec()),
            _ => None,
        });
        let expected_share = tls13.then(|| [&[0, 36, 0, 0x1d, 0, 32][..], &random[64..]].concat());
        prop_assert_eq!(share, expected_share);
    }

    /// A server's flight, cut into records anywhere, is read as written; its prefixes are
    /// incomplete or the ServerHello alone, never an error.
    #[test]
    fn server_flights_are_read_as_written(
        flight in flight(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
    ) {
        let bytes = flight.records(&cuts);
        let expected = flight.expected();
        prop_assert_eq!(&read_response(&bytes), &expected);
        for end in 0..bytes.len() {
            match read_response(&bytes[..end]) {
                Response::Incomplete => {}
                Response::Hello { hello, certificates: None, .. } => {
                    let Response::Hello { hello: whole, .. } = &expected else { unreachable!() };
                    prop_assert_eq!(&hello, whole);
                }
                // A TLS 1.3 flight is whole once its ServerHello is.
                answer if answer == expected && flight.tls13() => {}
                other => return Err(TestCaseError::fail(format!("prefix of {end} bytes: {other:?}"))),
            }
        }
    }

    /// An alert record, in any record version, is read as that alert.
    #[test]
    fn alerts_are_read(level in any::<u8>(), description in any::<u8>(), minor in any::<u8>(), more in proptest::collection::vec(any::<u8>(), 0..4)) {
        let mut payload = vec![level, description];
        payload.extend(more);
        let mut bytes = vec![21, 3, minor];
        u16_be(&mut bytes, payload.len());
        bytes.extend(payload);
        prop_assert_eq!(read_response(&bytes), Response::Alert { level, description });
    }

    /// Any bytes (noise, or a flight with bytes changed): an answer, and no more certificate
    /// bytes than came.
    #[test]
    fn any_bytes_are_read(
        flight in flight(),
        noise in proptest::collection::vec(any::<u8>(), 0..600),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        use_noise in any::<bool>(),
    ) {
        let mut bytes = if use_noise { noise } else { flight.records(&[]) };
        for (at, byte) in edits {
            if !bytes.is_empty() {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
        }
        let answer = crate::timed("reading a flight", || read_response(&bytes));
        match answer {
            Response::Hello { certificates: Some(certificates), .. } => {
                prop_assert!(certificates.iter().map(Vec::len).sum::<usize>() <= bytes.len());
            }
            Response::Invalid(words) => {
                prop_assert!(!words.chars().any(char::is_control), "{words:?}");
                prop_assert!(words.len() <= 200, "{words:?}");
            }
            _ => {}
        }
    }
}
