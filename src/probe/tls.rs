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

/// Runs a TLS handshake over `tcp`. Sends SNI = `sni` when given. Returns what was observed and,
/// when the handshake finished, the stream (for a polite goodbye).
pub async fn handshake(
    tcp: TcpStream,
    sni: Option<&str>,
    address: IpAddr,
    step: Duration,
) -> (TlsObservation, Result<TlsStream<TcpStream>, String>) {
    let verifier = Arc::new(DangerCaptureVerifier::new());
    let config = match ClientConfig::builder_with_provider(PROVIDER.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
    {
        Ok(builder) => builder,
        Err(error) => return (TlsObservation::default(), Err(error.to_string())),
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
    let result = tokio::time::timeout(step, connector.connect(server_name, tcp)).await;
    let mut observation = TlsObservation {
        chain: verifier.take(),
        ..TlsObservation::default()
    };
    match result {
        Err(_) => (
            observation,
            Err(format!("no TLS handshake within {} s", step.as_secs())),
        ),
        Ok(Err(error)) => (observation, Err(describe_tls_error(&error))),
        Ok(Ok(stream)) => {
            let (_, connection) = stream.get_ref();
            observation.version = connection.protocol_version().map(|v| {
                v.as_str()
                    .map(|s| s.replace("TLSv1_", "TLSv1."))
                    .unwrap_or_else(|| format!("{v:?}"))
            });
            observation.cipher = connection
                .negotiated_cipher_suite()
                .map(|suite| suite.suite().as_str().unwrap_or("unknown").to_string());
            (observation, Ok(stream))
        }
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
        Some(rustls::Error::InvalidMessage(_)) | Some(rustls::Error::InappropriateMessage { .. }) => {
            format!("the server did not answer with valid TLS ({error}); is TLS enabled on this port?")
        }
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("the server aborted the handshake with the TLS alert {alert:?}")
        }
        Some(rustls::Error::PeerIncompatible(reason)) => {
            format!("no common TLS version or cipher suite (TLS 1.2 and 1.3 offered): {reason:?}")
        }
        Some(other) => other.to_string(),
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
