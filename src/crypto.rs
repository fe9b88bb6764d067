//! The one rustls crypto provider (ring), shared by the TLS probe and chain validation so it is
//! built once per process, not per handshake or per chain.

use std::sync::{Arc, LazyLock};

use rustls::crypto::CryptoProvider;

/// The process-wide provider.
pub static PROVIDER: LazyLock<Arc<CryptoProvider>> =
    LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));
