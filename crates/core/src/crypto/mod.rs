//! The one rustls crypto provider (ring), shared by the TLS probe and chain validation so it is
//! built once per process, not per handshake or per chain; and [`verify`], the signatures the
//! real clients' engines check that *ring* does not.

pub mod verify;

use std::sync::{Arc, LazyLock};

use rustls::crypto::CryptoProvider;

/// The process-wide provider.
pub static PROVIDER: LazyLock<Arc<CryptoProvider>> =
    LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));

/// A TLS client configuration on [`PROVIDER`] trusting `roots`, for HTTP clients. reqwest is
/// built without a provider of its own and would panic if it ever had to pick one, so every
/// reqwest client is handed this.
pub fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::clone(&PROVIDER))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
