//! The TLS handshake that records whatever certificate chain a server presents.
//!
//! A normal client aborts on an invalid certificate, which is exactly when we most need to see
//! it. So the verifier here accepts every chain and keeps a copy: it is named `Danger...` because
//! the resulting connection proves nothing about whom we talk to. That is fine for us (we never
//! send credentials or data over it), and the chain is judged afterwards by `analyze`.
//!
//! The handshake signature is still checked, so the server must hold the key of the leaf it
//! sent: with every scheme the clients' engines accept, not only *ring*'s (a 1024-bit RSA key,
//! P-521, an RSA-PSS key; see [`crate::crypto::verify`]). A scheme nothing here can check
//! (Ed448) is recorded as not checked rather than failing the observation: our own library's
//! limits must never decide the report.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::crypto::PROVIDER;
use crate::crypto::verify::{self, Checked, Hash, Scheme};
use crate::observation::{Completion, Der, HandshakeSignature, SignatureStatus, TlsObservation};

/// The signature schemes offered, as NSS offers them (strongest first, SHA-1 last): every one
/// [`scheme`] can check, and Ed448, recorded as not checked.
const SCHEMES: [u16; 16] = [
    0x0403, 0x0503, 0x0603, // ECDSA P-256, P-384, P-521
    0x0807, 0x0808, // Ed25519, Ed448
    0x0804, 0x0805, 0x0806, // RSA-PSS with rsaEncryption keys
    0x0809, 0x080a, 0x080b, // RSA-PSS with RSA-PSS keys
    0x0401, 0x0501, 0x0601, // RSA PKCS#1
    0x0203, 0x0201, // ECDSA and RSA with SHA-1
];

/// What a TLS signature scheme means for [`verify`]; `None` for one it cannot check.
fn scheme(scheme: SignatureScheme) -> Option<Scheme> {
    Some(match u16::from(scheme) {
        0x0201 => Scheme::RsaPkcs1(Hash::Sha1),
        0x0401 => Scheme::RsaPkcs1(Hash::Sha256),
        0x0501 => Scheme::RsaPkcs1(Hash::Sha384),
        0x0601 => Scheme::RsaPkcs1(Hash::Sha512),
        0x0203 => Scheme::Ecdsa(Hash::Sha1),
        0x0403 => Scheme::Ecdsa(Hash::Sha256),
        0x0503 => Scheme::Ecdsa(Hash::Sha384),
        0x0603 => Scheme::Ecdsa(Hash::Sha512),
        0x0804 | 0x0809 => Scheme::RsaPss(Hash::Sha256),
        0x0805 | 0x080a => Scheme::RsaPss(Hash::Sha384),
        0x0806 | 0x080b => Scheme::RsaPss(Hash::Sha512),
        0x0807 => Scheme::Ed25519,
        _ => return None,
    })
}

/// A signature scheme's IANA name (RFC 8446 4.2.3).
pub fn scheme_name(value: u16) -> String {
    match value {
        0x0201 => "rsa_pkcs1_sha1",
        0x0203 => "ecdsa_sha1",
        0x0401 => "rsa_pkcs1_sha256",
        0x0501 => "rsa_pkcs1_sha384",
        0x0601 => "rsa_pkcs1_sha512",
        0x0403 => "ecdsa_secp256r1_sha256",
        0x0503 => "ecdsa_secp384r1_sha384",
        0x0603 => "ecdsa_secp521r1_sha512",
        0x0804 => "rsa_pss_rsae_sha256",
        0x0805 => "rsa_pss_rsae_sha384",
        0x0806 => "rsa_pss_rsae_sha512",
        0x0807 => "ed25519",
        0x0808 => "ed448",
        0x0809 => "rsa_pss_pss_sha256",
        0x080a => "rsa_pss_pss_sha384",
        0x080b => "rsa_pss_pss_sha512",
        other => return format!("0x{other:04x}"),
    }
    .to_string()
}

/// What the verifier saw: the chain, and the handshake signature.
#[derive(Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    signature: Option<HandshakeSignature>,
}

/// Accepts any certificate chain and records it. Never use its connections for anything that
/// needs to be authentic.
#[derive(Debug)]
pub struct DangerCaptureVerifier {
    seen: Mutex<Seen>,
}

impl DangerCaptureVerifier {
    fn new() -> Self {
        DangerCaptureVerifier {
            seen: Mutex::new(Seen::default()),
        }
    }

    fn take(&self) -> (Vec<Der>, Option<HandshakeSignature>) {
        // A poisoned lock only means another thread panicked while holding it; the data is
        // still plain, so recover it.
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let seen = std::mem::take(&mut *guard);
        (
            seen.chain
                .into_iter()
                .map(|cert| Der(cert.as_ref().to_vec()))
                .collect(),
            seen.signature,
        )
    }

    /// Checks the handshake signature with the leaf's key and records the result. An invalid
    /// signature fails the handshake: the server does not hold the key of its certificate.
    fn check(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let value = u16::from(dss.scheme);
        let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature);
        // TLS 1.3 forbids PKCS#1 v1.5 and SHA-1 handshake signatures (RFC 8446 4.2.3).
        if tls13 && matches!(value, 0x0201 | 0x0203 | 0x0401 | 0x0501 | 0x0601) {
            return Err(bad());
        }
        let checked = match (scheme(dss.scheme), X509Certificate::from_der(cert.as_ref())) {
            (None, _) => Checked::Unsupported(format!(
                "mailtls cannot check {} signatures",
                scheme_name(value)
            )),
            (_, Err(_)) => {
                Checked::Unsupported("the server certificate cannot be read".to_string())
            }
            (Some(scheme), Ok((_, leaf))) => {
                verify::verify_spki(leaf.public_key().raw, scheme, message, dss.signature())
                    .map_err(|_| bad())?
            }
        };
        let signature = HandshakeSignature {
            scheme: scheme_name(value),
            status: match checked {
                Checked::Verified => SignatureStatus::Verified,
                Checked::Unsupported(_) => SignatureStatus::NotChecked,
            },
            note: match checked {
                Checked::Verified => None,
                Checked::Unsupported(why) => Some(why),
            },
        };
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .signature = Some(signature);
        Ok(HandshakeSignatureValid::assertion())
    }
}

impl ServerCertVerifier for DangerCaptureVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        guard.chain.clear();
        guard.chain.push(end_entity.clone().into_owned());
        guard
            .chain
            .extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check(message, cert, dss, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check(message, cert, dss, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        SCHEMES.iter().map(|s| SignatureScheme::from(*s)).collect()
    }
}

/// What a failed handshake leaves: why, in words; whether the limit was our own library's
/// rather than the server's fault (then a client-like ClientHello may complete the
/// observation); and the connection when it is still there (not after a timeout), so it can be
/// closed politely.
#[derive(Debug)]
pub struct HandshakeFailure {
    /// Why, in words.
    pub words: String,
    /// rustls stopped at a limit of its own (see [`ours`]).
    pub ours: bool,
    /// The connection, when it is still open.
    pub tcp: Option<TcpStream>,
}

/// Runs a TLS handshake over `tcp`. Sends SNI = `sni` when given. Returns what was observed and,
/// when the handshake finished, the stream (for a polite goodbye).
pub async fn handshake(
    tcp: TcpStream,
    sni: Option<&str>,
    address: IpAddr,
    step: Duration,
) -> (
    TlsObservation,
    Result<TlsStream<TcpStream>, HandshakeFailure>,
) {
    let verifier = Arc::new(DangerCaptureVerifier::new());
    let config = match ClientConfig::builder_with_provider(PROVIDER.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
    {
        Ok(builder) => builder,
        Err(error) => {
            return (
                TlsObservation::default(),
                Err(HandshakeFailure {
                    words: error.to_string(),
                    ours: true,
                    tcp: Some(tcp),
                }),
            );
        }
    };
    let mut config = config
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    config.enable_sni = sni.is_some();
    // With SNI disabled rustls still wants a name to check against; the address serves, and
    // for an IP the name is never sent (RFC 6066 forbids IP literals in SNI).
    let server_name = match sni.map(|name| ServerName::try_from(name.to_string())) {
        Some(Ok(name)) => name,
        Some(Err(_)) | None => ServerName::IpAddress(address.into()),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let result =
        tokio::time::timeout(step, connector.connect(server_name, tcp).into_fallible()).await;
    let (chain, signature) = verifier.take();
    let mut observation = TlsObservation {
        chain,
        signature,
        ..TlsObservation::default()
    };
    match result {
        Err(_) => (
            observation,
            Err(HandshakeFailure {
                words: format!("no TLS handshake within {} s", step.as_secs()),
                ours: false,
                tcp: None,
            }),
        ),
        Ok(Err((error, tcp))) => (
            observation,
            Err(HandshakeFailure {
                words: describe_tls_error(&error),
                ours: ours(&error),
                tcp: Some(tcp),
            }),
        ),
        Ok(Ok(stream)) => {
            let (_, connection) = stream.get_ref();
            observation.version = connection.protocol_version().map(|v| {
                v.as_str()
                    .map(|s| s.replace("TLSv1_", "TLSv1."))
                    .unwrap_or_else(|| format!("0x{:04x}", u16::from(v)))
            });
            observation.cipher = connection
                .negotiated_cipher_suite()
                .map(|suite| suite.suite().as_str().unwrap_or("unknown").to_string());
            observation.completion = Some(Completion::Handshake);
            (observation, Ok(stream))
        }
    }
}

/// Whether a failed handshake stopped at a limit of rustls rather than a fault of the server:
/// nothing in common with rustls's offer (suites, groups, schemes; the server's
/// handshake_failure or insufficient_security alert says the same), a handshake message over
/// 64 KiB, or a TLS 1.2 key exchange signed with an RSA-PSS key (which rustls cannot take in
/// TLS 1.2). A mail client with a wider offer may well connect. A server that speaks neither
/// TLS 1.2 nor 1.3 is the server's fault (current clients refuse it too), not rustls's.
fn ours(error: &std::io::Error) -> bool {
    use rustls::{
        AlertDescription as A, Error as E, InvalidMessage, PeerIncompatible as P, PeerMisbehaved,
    };
    matches!(
        error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>()),
        Some(
            E::PeerIncompatible(
                P::NoCipherSuitesInCommon
                    | P::NoKxGroupsInCommon
                    | P::NoSignatureSchemesInCommon
                    | P::NoCertificateRequestSignatureSchemesInCommon
                    | P::UncompressedEcPointsRequired
                    | P::NoEcPointFormatsInCommon
                    | P::ExtendedMasterSecretExtensionRequired
                    | P::KeyShareExtensionRequired
                    | P::SignatureAlgorithmsExtensionRequired
                    | P::SupportedVersionsExtensionRequired
            ) | E::AlertReceived(A::HandshakeFailure | A::InsufficientSecurity)
                | E::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge)
                | E::PeerMisbehaved(PeerMisbehaved::SignedKxWithWrongAlgorithm)
        )
    )
}

/// Why rustls and the server found nothing in common, in words.
fn incompatibility(reason: &rustls::PeerIncompatible) -> &'static str {
    use rustls::PeerIncompatible as P;
    match reason {
        P::NoCipherSuitesInCommon => "no cipher suite in common",
        P::ServerDoesNotSupportTls12Or13 | P::Tls12NotOffered | P::Tls12NotOfferedOrEnabled => {
            "the server speaks neither TLS 1.2 nor TLS 1.3"
        }
        P::NoKxGroupsInCommon => "no key exchange group in common",
        P::NoSignatureSchemesInCommon => "no signature algorithm in common",
        _ => "the server's TLS settings exclude every current client",
    }
}

/// Words for a failed handshake that say what the server did.
fn describe_tls_error(error: &std::io::Error) -> String {
    let inner = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge)) => {
            "the server sent a handshake message over 64 KiB, the most rustls reads (usually a certificate list with far too many certificates)".to_string()
        }
        Some(tls @ (rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. })) => {
            format!(
                "the server did not answer with valid TLS ({}); is TLS enabled on this port?",
                error_words(tls)
            )
        }
        Some(rustls::Error::PeerIncompatible(reason)) => format!(
            "no common TLS version or cipher suite (TLS 1.2 and 1.3 offered): {}",
            incompatibility(reason)
        ),
        Some(other) => error_words(other),
        None => match error.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection during the TLS handshake".to_string()
            }
            std::io::ErrorKind::ConnectionReset => {
                "the server reset the connection during the TLS handshake".to_string()
            }
            _ => error.to_string(),
        },
    }
}

/// A socket error in words; a TLS error inside it is said as [`error_words`] says it.
pub fn io_error_words(error: &std::io::Error) -> String {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => error_words(tls),
        None => error.to_string(),
    }
}

/// A rustls error in words. rustls's own messages put its enums in Rust's debug form
/// ("received corrupt message of type InvalidContentType", "peer misbehaved:
/// IllegalTlsInnerPlaintext"); a report says "invalid content type" instead.
pub fn error_words(error: &rustls::Error) -> String {
    use rustls::Error as E;
    match error {
        E::InappropriateMessage { got_type, .. } => format!(
            "the server sent an unexpected {} message",
            spaced(&format!("{got_type:?}"))
        ),
        E::InappropriateHandshakeMessage { got_type, .. } => format!(
            "the server sent an unexpected handshake message ({})",
            spaced(&format!("{got_type:?}"))
        ),
        E::InvalidMessage(what) => format!(
            "the server sent a malformed TLS message ({})",
            spaced(&format!("{what:?}"))
        ),
        E::PeerIncompatible(reason) => incompatibility(reason).to_string(),
        E::PeerMisbehaved(what) => format!(
            "the server broke the TLS protocol ({})",
            spaced(&format!("{what:?}"))
        ),
        E::AlertReceived(alert) => format!(
            "the server aborted the handshake with the TLS alert {}",
            crate::tls_catalog::alert_name(u8::from(*alert))
        ),
        E::NoCertificatesPresented => {
            "the server sent no certificate: configure one for this service (the certificate \
             file, with its intermediates, and its key)"
                .to_string()
        }
        E::DecryptError => "a message from the server could not be decrypted".to_string(),
        E::PeerSentOversizedRecord => {
            "the server sent a TLS record larger than the protocol allows".to_string()
        }
        E::HandshakeNotComplete => "the TLS handshake did not complete".to_string(),
        other => format!("TLS failed ({})", spaced(&format!("{other:?}"))),
    }
}

/// A debug-formatted enum value in words: `MissingData("ServerHello")` becomes
/// "missing data (server hello)".
fn spaced(debug: &str) -> String {
    let mut words = String::with_capacity(debug.len() + 8);
    let mut previous = ' ';
    for c in debug.chars() {
        match c {
            '"' | '{' | '}' => {}
            '(' => words.push_str(" ("),
            c if c.is_ascii_uppercase() => {
                if previous.is_ascii_lowercase() || previous.is_ascii_digit() {
                    words.push(' ');
                }
                words.push(c.to_ascii_lowercase());
            }
            c => words.push(c),
        }
        previous = c;
    }
    words.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_are_said_in_words() {
        let cases = [
            (
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
                "the server sent a malformed TLS message (invalid content type)",
            ),
            (
                rustls::Error::InvalidMessage(rustls::InvalidMessage::MissingData("ServerHello")),
                "the server sent a malformed TLS message (missing data (server hello))",
            ),
            (
                rustls::Error::PeerMisbehaved(
                    rustls::PeerMisbehaved::IllegalMiddleboxChangeCipherSpec,
                ),
                "the server broke the TLS protocol (illegal middlebox change cipher spec)",
            ),
            (
                rustls::Error::InappropriateMessage {
                    expect_types: vec![rustls::ContentType::Handshake],
                    got_type: rustls::ContentType::ApplicationData,
                },
                "the server sent an unexpected application data message",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(error_words(&error), words);
        }
        let wrapped = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::PeerMisbehaved(rustls::PeerMisbehaved::TooMuchEarlyDataReceived),
        );
        assert_eq!(
            io_error_words(&wrapped),
            "the server broke the TLS protocol (too much early data received)"
        );
        // What rustls itself would have said, and what a report must never show.
        assert!(wrapped.to_string().contains("TooMuchEarlyDataReceived"));
    }
}
