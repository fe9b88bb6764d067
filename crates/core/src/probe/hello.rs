//! A hand-built TLS ClientHello for any version from SSL 3.0 to TLS 1.3, and a reader for what
//! the server sends back (ServerHello, its Certificate, or an alert). Pure: bytes in, bytes out.
//!
//! rustls speaks only TLS 1.2 and 1.3, so asking a server "would you accept TLS 1.0?" needs a
//! ClientHello of our own. The probe never finishes a handshake: the ServerHello (and, up to
//! TLS 1.2, the Certificate that follows it in plain text) answers the question, and the
//! connection is closed. The parsing of the server's messages is done by tls-parser; this file
//! frames records and decides what they mean.

use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

use crate::tls_catalog::TlsVersion;

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746): says we would do secure renegotiation.
const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// The ClientHello record for `version` offering `suites`, with SNI when `server_name` is given.
/// `random` supplies the 32-byte client random, the TLS 1.3 session id and key share.
pub fn client_hello(
    version: TlsVersion,
    suites: &[u16],
    server_name: Option<&str>,
    random: &[u8; 96],
) -> Vec<u8> {
    let tls13 = version == TlsVersion::Tls13;
    let mut body = Vec::with_capacity(512);
    // legacy_version: TLS 1.3 is negotiated in supported_versions, with 1.2 here (RFC 8446 4.1.2).
    let legacy = if tls13 { 0x0303 } else { version.wire() };
    body.extend_from_slice(&legacy.to_be_bytes());
    body.extend_from_slice(&random[..32]);
    if tls13 {
        // A session id makes middleboxes treat the exchange as TLS 1.2 resumption (RFC 8446 D.4).
        body.push(32);
        body.extend_from_slice(&random[32..64]);
    } else {
        body.push(0);
    }
    let mut offered: Vec<u16> = suites.to_vec();
    if !tls13 {
        offered.push(RENEGOTIATION_SCSV);
    }
    push_u16(&mut body, (offered.len() * 2) as u16);
    for suite in offered {
        push_u16(&mut body, suite);
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    if version != TlsVersion::Ssl3 {
        let extensions = extensions(version, server_name, &random[64..96]);
        push_u16(&mut body, extensions.len() as u16);
        body.extend_from_slice(&extensions);
    }
    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(1); // client_hello
    push_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    let mut record = Vec::with_capacity(handshake.len() + 5);
    record.push(22); // handshake
    // The record layer says TLS 1.0 (SSL 3.0 for an SSL 3.0 hello), as common clients do.
    let record_version = if version == TlsVersion::Ssl3 {
        0x0300
    } else {
        0x0301
    };
    push_u16(&mut record, record_version);
    push_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

fn extensions(version: TlsVersion, server_name: Option<&str>, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut extension = |kind: u16, data: &[u8]| {
        push_u16(&mut out, kind);
        push_u16(&mut out, data.len() as u16);
        out.extend_from_slice(data);
    };
    if let Some(name) = server_name.filter(|n| !n.is_empty() && n.len() < 256) {
        let mut sni = Vec::with_capacity(name.len() + 5);
        push_u16(&mut sni, (name.len() + 3) as u16);
        sni.push(0); // host_name
        push_u16(&mut sni, name.len() as u16);
        sni.extend_from_slice(name.as_bytes());
        extension(0, &sni);
    }
    // supported_groups, as NSS offers them: x25519, secp256r1, secp384r1, secp521r1,
    // ffdhe2048, ffdhe3072.
    extension(
        10,
        &[
            0, 12, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19, 0x01, 0x00, 0x01, 0x01,
        ],
    );
    // ec_point_formats: uncompressed.
    extension(11, &[1, 0]);
    if version >= TlsVersion::Tls12 {
        // signature_algorithms: every scheme a mail client's engine accepts (ECDSA P-256/384/
        // 521, EdDSA, RSA-PSS with either kind of key, RSA PKCS#1, SHA-1), so that a server
        // with an unusual key still answers as it would answer them.
        let schemes: [u16; 16] = [
            0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
            0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
        ];
        let mut data = Vec::with_capacity(34);
        push_u16(&mut data, (schemes.len() * 2) as u16);
        for scheme in schemes {
            push_u16(&mut data, scheme);
        }
        extension(13, &data);
    }
    if version == TlsVersion::Tls13 {
        extension(43, &[2, 0x03, 0x04]); // supported_versions: TLS 1.3 only
        extension(45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        // key_share: one x25519 share. Any 32 bytes are a valid X25519 public key, and the
        // handshake never gets as far as using it.
        let mut share = Vec::with_capacity(38);
        push_u16(&mut share, 36);
        push_u16(&mut share, 0x001d);
        push_u16(&mut share, 32);
        share.extend_from_slice(&key[..32]);
        extension(51, &share);
    }
    out
}

fn push_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn push_u24(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

/// Longest record payload a server may send (RFC 8446 5.2: 2^14 plus 256 of expansion, and
/// plaintext records are shorter still).
pub const MAX_RECORD: usize = (1 << 14) + 2048;

/// The ServerHello's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The version the server chose (from supported_versions for TLS 1.3).
    pub version: u16,
    /// The cipher suite the server chose.
    pub cipher: u16,
    /// A TLS 1.3 HelloRetryRequest: the server accepts TLS 1.3 but wants another key share.
    pub retry: bool,
}

/// What the bytes received so far amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Not enough bytes yet.
    Incomplete,
    /// A ServerHello; `certificates` once the Certificate message that follows it (up to
    /// TLS 1.2) has arrived whole, or `None` when it has not (yet), or never will (TLS 1.3).
    Hello {
        /// The ServerHello.
        hello: ServerHello,
        /// The chain from the Certificate message, leaf first.
        certificates: Option<Vec<Vec<u8>>>,
        /// The length the Certificate message announces, once its header has arrived.
        certificate_length: Option<u32>,
    },
    /// An alert: level (1 warning, 2 fatal) and description.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// The alert description (RFC 8446 6.2), e.g. 70 protocol_version.
        description: u8,
    },
    /// Not TLS, or TLS that breaks the rules: what was wrong.
    Invalid(String),
}

/// The 32-byte random of a HelloRetryRequest (RFC 8446 4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Reads the server's first flight from `bytes` (everything received so far).
pub fn read_response(bytes: &[u8]) -> Response {
    let mut handshake: Vec<u8> = Vec::new();
    let mut rest = bytes;
    // Records: type, version, length, payload. Handshake payloads are joined, since a message
    // may span records.
    while rest.len() >= 5 {
        let kind = rest[0];
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if rest[1] != 3 && kind != 21 {
            return Response::Invalid(not_tls(bytes));
        }
        if length > MAX_RECORD {
            return Response::Invalid(format!("a record of {length} bytes (more than TLS allows)"));
        }
        if rest.len() < 5 + length {
            break;
        }
        let payload = &rest[5..5 + length];
        match kind {
            21 => {
                return match payload {
                    [level, description, ..] => Response::Alert {
                        level: *level,
                        description: *description,
                    },
                    _ => Response::Invalid("an alert record shorter than an alert".to_string()),
                };
            }
            22 => handshake.extend_from_slice(payload),
            // A TLS 1.3 server sends ChangeCipherSpec for compatibility after its ServerHello.
            20 if !handshake.is_empty() => {}
            // Encrypted records follow a TLS 1.3 ServerHello; nothing more to read in clear.
            23 if !handshake.is_empty() => break,
            other => {
                return Response::Invalid(format!(
                    "a record of type {other} before the ServerHello"
                ));
            }
        }
        rest = &rest[5 + length..];
    }
    if handshake.is_empty() {
        // Before any complete record: is this TLS at all?
        if bytes.first().is_some_and(|b| ![20, 21, 22, 23].contains(b)) {
            return Response::Invalid(not_tls(bytes));
        }
        return Response::Incomplete;
    }
    let hello = match tls_parser::parse_tls_message_handshake(&handshake) {
        Err(tls_parser::nom::Err::Incomplete(_)) => return Response::Incomplete,
        Err(_) => return Response::Invalid("a handshake message that cannot be read".to_string()),
        Ok((after, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(hello)))) => {
            let mut version = hello.version.0;
            if let Some(Ok((_, extensions))) =
                hello.ext.map(tls_parser::parse_tls_server_hello_extensions)
            {
                for extension in extensions {
                    if let TlsExtension::SupportedVersions(versions) = extension {
                        if let Some(chosen) = versions.first() {
                            version = chosen.0;
                        }
                    }
                }
            }
            let hello_out = ServerHello {
                version,
                cipher: hello.cipher.0,
                retry: hello.random == HELLO_RETRY_RANDOM,
            };
            let clear = version < 0x0304 && !hello_out.retry;
            let certificates = clear.then(|| certificates_after(after)).flatten();
            let certificate_length = match after {
                [11, a, b, c, ..] if clear => Some(u32::from_be_bytes([0, *a, *b, *c])),
                _ => None,
            };
            return Response::Hello {
                hello: hello_out,
                certificates,
                certificate_length,
            };
        }
        Ok(_) => "a handshake message other than ServerHello came first",
    };
    Response::Invalid(hello.to_string())
}

/// The chain of the Certificate message at the start of `handshake`, when it is there whole.
fn certificates_after(handshake: &[u8]) -> Option<Vec<Vec<u8>>> {
    match tls_parser::parse_tls_message_handshake(handshake) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::Certificate(certificate)))) => Some(
            certificate
                .cert_chain
                .iter()
                .map(|c| c.data.to_vec())
                .collect(),
        ),
        // Anonymous suites send no Certificate: an empty chain, said plainly.
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerKeyExchange(_))))
        | Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerDone(_)))) => Some(Vec::new()),
        _ => None,
    }
}

/// A short, printable excerpt of bytes that are not TLS.
fn not_tls(bytes: &[u8]) -> String {
    let text: String = bytes
        .iter()
        .take(40)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("the server answered with something that is not TLS: \"{text}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls_catalog::{Offer, alert_name, suites};

    const RANDOM: [u8; 96] = [7; 96];

    fn server_hello(version: u16, cipher: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        push_u16(&mut body, version);
        body.extend_from_slice(&[1; 32]);
        body.push(0);
        push_u16(&mut body, cipher);
        body.push(0);
        if !extensions.is_empty() {
            push_u16(&mut body, extensions.len() as u16);
            body.extend_from_slice(extensions);
        }
        let mut message = vec![2];
        push_u24(&mut message, body.len());
        message.extend_from_slice(&body);
        message
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        push_u16(&mut out, payload.len() as u16);
        out.extend_from_slice(payload);
        out
    }

    fn certificate_message(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for cert in certs {
            push_u24(&mut list, cert.len());
            list.extend_from_slice(cert);
        }
        let mut body = Vec::new();
        push_u24(&mut body, list.len());
        body.extend_from_slice(&list);
        let mut message = vec![11];
        push_u24(&mut message, body.len());
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn client_hellos_parse_back_as_what_was_meant() {
        for version in [
            TlsVersion::Ssl3,
            TlsVersion::Tls10,
            TlsVersion::Tls11,
            TlsVersion::Tls12,
            TlsVersion::Tls13,
        ] {
            let offered = suites(version, Offer::Modern);
            let bytes = client_hello(version, &offered, Some("mail.example.test"), &RANDOM);
            let (rest, plaintext) = tls_parser::parse_tls_plaintext(&bytes).unwrap();
            assert!(rest.is_empty(), "{version}: trailing bytes");
            let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &plaintext.msg[0]
            else {
                panic!("{version}: not a ClientHello");
            };
            let expected_legacy = if version == TlsVersion::Tls13 {
                0x0303
            } else {
                version.wire()
            };
            assert_eq!(hello.version.0, expected_legacy, "{version}");
            let ciphers: Vec<u16> = hello.ciphers.iter().map(|c| c.0).collect();
            assert_eq!(&ciphers[..offered.len()], offered.as_slice(), "{version}");
            let extensions = hello
                .ext
                .map(|e| tls_parser::parse_tls_client_hello_extensions(e).unwrap().1)
                .unwrap_or_default();
            if version == TlsVersion::Ssl3 {
                assert!(extensions.is_empty());
                continue;
            }
            assert!(extensions.iter().any(
                |e| matches!(e, TlsExtension::SNI(names) if names[0].1 == b"mail.example.test")
            ));
            let versions = extensions.iter().find_map(|e| match e {
                TlsExtension::SupportedVersions(v) => Some(v.clone()),
                _ => None,
            });
            assert_eq!(
                versions.map(|v| v.iter().map(|x| x.0).collect::<Vec<_>>()),
                (version == TlsVersion::Tls13).then(|| vec![0x0304]),
                "{version}"
            );
        }
        // No SNI when asked for none.
        let bytes = client_hello(
            TlsVersion::Tls12,
            &suites(TlsVersion::Tls12, Offer::Weak),
            None,
            &RANDOM,
        );
        let (_, plaintext) = tls_parser::parse_tls_plaintext(&bytes).unwrap();
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = &plaintext.msg[0]
        else {
            panic!("not a ClientHello");
        };
        let extensions = tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap())
            .unwrap()
            .1;
        assert!(!extensions.iter().any(|e| matches!(e, TlsExtension::SNI(_))));
    }

    #[test]
    fn server_hello_with_certificate_in_one_record_or_split() {
        let mut flight = server_hello(0x0301, 0xc013, &[]);
        flight.extend(certificate_message(&[b"leaf", b"issuer"]));
        let whole = record(22, &flight);
        let expected = Response::Hello {
            hello: ServerHello {
                version: 0x0301,
                cipher: 0xc013,
                retry: false,
            },
            certificates: Some(vec![b"leaf".to_vec(), b"issuer".to_vec()]),
            certificate_length: Some(certificate_message(&[b"leaf", b"issuer"]).len() as u32 - 4),
        };
        assert_eq!(read_response(&whole), expected);
        // The same flight split across two records, and cut short.
        let (a, b) = flight.split_at(50);
        let mut split = record(22, a);
        split.extend(record(22, b));
        assert_eq!(read_response(&split), expected);
        for cut in [0, 3, 5, 20, whole.len() - 1] {
            let partial = read_response(&whole[..cut]);
            let hello_without_certificates = matches!(
                partial,
                Response::Hello {
                    certificates: None,
                    ..
                }
            );
            assert!(
                partial == Response::Incomplete || hello_without_certificates,
                "cut at {cut}: {partial:?}"
            );
        }
    }

    #[test]
    fn an_unfinished_certificate_message_announces_its_length() {
        let mut flight = server_hello(0x0303, 0xc02f, &[]);
        // A Certificate message that says 200,000 bytes follow; 10 have come.
        flight.extend([11, 0x03, 0x0d, 0x40]);
        flight.extend([0; 10]);
        let Response::Hello {
            certificates,
            certificate_length,
            ..
        } = read_response(&record(22, &flight))
        else {
            panic!("not a hello");
        };
        assert_eq!((certificates, certificate_length), (None, Some(200_000)));
    }

    #[test]
    fn tls13_server_hello_and_hello_retry() {
        // supported_versions (43) = 0x0304 in a ServerHello.
        let extensions = [0, 43, 0, 2, 3, 4];
        let mut bytes = record(22, &server_hello(0x0303, 0x1301, &extensions));
        bytes.extend(record(20, &[1]));
        bytes.extend(record(23, &[0; 40]));
        let Response::Hello {
            hello,
            certificates,
            certificate_length,
        } = read_response(&bytes)
        else {
            panic!("not a hello");
        };
        assert_eq!(
            (hello.version, hello.cipher, hello.retry),
            (0x0304, 0x1301, false)
        );
        assert_eq!((certificates, certificate_length), (None, None));
        let mut retry = server_hello(0x0303, 0x1302, &extensions);
        retry[6..38].copy_from_slice(&HELLO_RETRY_RANDOM);
        let Response::Hello { hello, .. } = read_response(&record(22, &retry)) else {
            panic!("not a hello");
        };
        assert!(hello.retry);
    }

    #[test]
    fn alerts_garbage_and_broken_records() {
        assert_eq!(
            read_response(&[21, 3, 1, 0, 2, 2, 70]),
            Response::Alert {
                level: 2,
                description: 70
            }
        );
        assert_eq!(alert_name(70), "protocol_version");
        assert_eq!(
            read_response(&[21, 3, 1, 0, 1, 2]),
            Response::Invalid("an alert record shorter than an alert".to_string())
        );
        assert!(
            matches!(read_response(b"-ERR go away\r\n"), Response::Invalid(m) if m.contains("-ERR go away"))
        );
        assert!(
            matches!(read_response(&[22, 3, 3, 0xff, 0xff]), Response::Invalid(m) if m.contains("more than TLS allows"))
        );
        assert!(matches!(
            read_response(&[23, 3, 3, 0, 1, 0]),
            Response::Invalid(_)
        ));
        // A handshake record that holds something other than a ServerHello.
        let mut not_hello = vec![14];
        push_u24(&mut not_hello, 0);
        assert!(matches!(
            read_response(&record(22, &not_hello)),
            Response::Invalid(_)
        ));
        // Garbage inside a handshake record.
        assert!(matches!(
            read_response(&record(22, &[2, 0, 0, 4, 9, 9, 9, 9])),
            Response::Invalid(_)
        ));
        assert_eq!(read_response(&[]), Response::Incomplete);
        assert_eq!(read_response(&[22, 3]), Response::Incomplete);
    }
}
