//! The TLS handshake that records whatever certificate chain a server presents.
//!
//! A normal client aborts on an invalid certificate, which is exactly when we most need to see
//! it. So the verifier here accepts every chain and keeps a copy: it is named `Danger...` because
//! the resulting connection proves nothing about whom we talk to. That is fine for us (we never
//! send credentials or data over it), and the chain is judged afterwards by `analyze`. The
//! handshake signature is still checked, so the server must hold the key of the leaf it sent.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::crypto::PROVIDER;
use crate::observation::{Der, TlsObservation};

/// Accepts any certificate chain and records it. Never use its connections for anything that
/// needs to be authentic.
#[derive(Debug)]
pub struct DangerCaptureVerifier {
    captured: Mutex<Vec<CertificateDer<'static>>>,
}

impl DangerCaptureVerifier {
    fn new() -> Self {
        DangerCaptureVerifier {
            captured: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Vec<Der> {
        // A poisoned lock only means another thread panicked while holding it; the data is
        // still a plain Vec, so recover it.
        let mut guard = self.captured.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *guard)
            .into_iter()
            .map(|cert| Der(cert.as_ref().to_vec()))
            .collect()
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
        let mut guard = self.captured.lock().unwrap_or_else(|p| p.into_inner());
        guard.clear();
        guard.push(end_entity.clone().into_owned());
        guard.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &PROVIDER.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &PROVIDER.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        PROVIDER
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What a failed handshake leaves: why, in words, and the connection when it is still there
/// (not after a timeout), so it can be closed politely.
pub type HandshakeFailure = (String, Option<TcpStream>);

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
                Err((error.to_string(), Some(tcp))),
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
    let mut observation = TlsObservation {
        chain: verifier.take(),
        ..TlsObservation::default()
    };
    match result {
        Err(_) => (
            observation,
            Err((
                format!("no TLS handshake within {} s", step.as_secs()),
                None,
            )),
        ),
        Ok(Err((error, tcp))) => (observation, Err((describe_tls_error(&error), Some(tcp)))),
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
            (observation, Ok(stream))
        }
    }
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
            "the server sent a handshake message larger than 64 KiB (an oversized certificate chain?)".to_string()
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
        E::NoCertificatesPresented => "the server sent no certificate".to_string(),
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
