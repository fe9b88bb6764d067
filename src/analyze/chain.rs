//! Is the chain a server presents trusted, and if not, why not?
//!
//! Path building is done by rustls-webpki (the verifier rustls uses). What it cannot tell us is
//! *why* a path is missing, which is what a user needs: a self-signed certificate, a private CA,
//! and a forgotten intermediate all fail as "unknown issuer". This module tells them apart from
//! the shape of the presented chain, and completes it with intermediates seen on other ports.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::cert::CertInfo;

/// Errors loading trust anchors.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The file could not be read or holds no certificate.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// The certificates a client trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    /// Where the anchors came from, for the report.
    pub sources: Vec<String>,
}

impl TrustAnchors {
    /// The operating system's store (e.g. /etc/ssl/certs). Unreadable entries are skipped.
    pub fn system() -> TrustAnchors {
        let loaded = rustls_native_certs::load_native_certs();
        let mut anchors = TrustAnchors::default();
        let added = anchors.add_all(&loaded.certs);
        anchors
            .sources
            .push(format!("system store ({added} certificates)"));
        anchors
    }

    /// Adds every certificate in a PEM file; returns how many.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<usize, AnchorError> {
        let file_error = |reason: String| AnchorError::File {
            path: path.display().to_string(),
            reason,
        };
        let iter = CertificateDer::pem_file_iter(path).map_err(|e| file_error(e.to_string()))?;
        let mut certs = Vec::new();
        for (index, cert) in iter.enumerate() {
            certs.push(
                cert.map_err(|e| file_error(format!("certificate block {}: {e}", index + 1)))?,
            );
        }
        if certs.is_empty() {
            return Err(file_error("no PEM certificate found".to_string()));
        }
        let added = self.add_all(&certs);
        if added == 0 {
            return Err(file_error(
                "no usable CA certificate in the file".to_string(),
            ));
        }
        self.sources
            .push(format!("{} ({added} certificates)", path.display()));
        Ok(added)
    }

    /// Adds DER certificates; returns how many were usable.
    pub fn add_all(&mut self, certs: &[CertificateDer<'_>]) -> usize {
        let before = self.anchors.len();
        for cert in certs {
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(cert) {
                self.anchors.push(anchor.to_owned());
            }
        }
        self.anchors.len() - before
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// No anchors at all.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// The trust verdict for a chain, dates aside (see [`Dates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// A path to a trust anchor exists using only what the server sent.
    Trusted,
    /// The leaf is signed by itself.
    SelfSigned,
    /// The chain ends in a CA that is not trusted (a private or unknown CA).
    UnknownCa {
        /// The untrusted CA at the top of what was sent.
        issuer: String,
    },
    /// The server sent too little: the issuer of the last certificate sent is missing.
    IncompleteChain {
        /// The missing issuer's name.
        missing: String,
        /// A path exists once intermediates seen on the server's other ports are added.
        found_elsewhere: bool,
    },
    /// Something else is wrong with the chain (bad signature, wrong key usage, ...).
    Invalid {
        /// webpki's reason.
        reason: String,
    },
}

/// The validity dates of a chain at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dates {
    /// Every certificate is within its validity period.
    Valid,
    /// A certificate expired: which one (0 = leaf), its subject and end date.
    Expired {
        /// Position in the chain, 0 for the leaf.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its notAfter, Unix seconds.
        not_after: i64,
    },
    /// A certificate is not valid yet.
    NotYetValid {
        /// Position in the chain, 0 for the leaf.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its notBefore, Unix seconds.
        not_before: i64,
    },
}

/// Checks validity dates of every presented certificate at `now` (Unix seconds).
pub fn dates(chain: &[CertInfo], now: i64) -> Dates {
    for (index, cert) in chain.iter().enumerate() {
        if now > cert.not_after {
            return Dates::Expired {
                index,
                subject: cert.subject.clone(),
                not_after: cert.not_after,
            };
        }
        if now < cert.not_before {
            return Dates::NotYetValid {
                index,
                subject: cert.subject.clone(),
                not_before: cert.not_before,
            };
        }
    }
    Dates::Valid
}

/// Judges trust of `chain` (leaf first, as sent). `elsewhere` are CA certificates the same server
/// sent on other ports. Dates are judged separately: path building runs at a moment inside the
/// leaf's validity, so an expired leaf does not hide an untrusted issuer.
pub fn trust(chain: &[CertInfo], anchors: &TrustAnchors, elsewhere: &[Vec<u8>], now: i64) -> Trust {
    let Some(leaf) = chain.first() else {
        return Trust::Invalid {
            reason: "the server sent no certificate".to_string(),
        };
    };
    let at = if (leaf.not_before..=leaf.not_after).contains(&now) {
        now
    } else {
        leaf.not_before + (leaf.not_after - leaf.not_before) / 2
    };
    let sent: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.der.as_slice()))
        .collect();
    match verify(&leaf.der, &sent, anchors, at) {
        Ok(()) => return Trust::Trusted,
        Err(webpki::Error::UnknownIssuer) => {}
        // Expiry of an intermediate is reported by `dates`; the path itself is sound.
        Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) => {
            return Trust::Trusted;
        }
        Err(other) => {
            return Trust::Invalid {
                reason: format!("{other:?}"),
            };
        }
    }
    if leaf.self_signed {
        return Trust::SelfSigned;
    }
    // The top of what was sent: its issuer is what is missing or untrusted.
    let top = chain.last().unwrap_or(leaf);
    let mut extended = sent.clone();
    extended.extend(
        elsewhere
            .iter()
            .map(|der| CertificateDer::from(der.as_slice())),
    );
    if extended.len() > sent.len() && verify(&leaf.der, &extended, anchors, at).is_ok() {
        return Trust::IncompleteChain {
            missing: top.issuer.clone(),
            found_elsewhere: true,
        };
    }
    if top.self_signed || top.is_ca {
        // The server sent CA certificates, and the top one is not trusted: a private or unknown CA.
        Trust::UnknownCa {
            issuer: if top.self_signed {
                top.subject.clone()
            } else {
                top.issuer.clone()
            },
        }
    } else {
        // Only the leaf was sent and its issuer is not an anchor: most likely the intermediate
        // was left out of the server's certificate file (else a private CA).
        Trust::IncompleteChain {
            missing: top.issuer.clone(),
            found_elsewhere: false,
        }
    }
}

fn verify(
    leaf: &[u8],
    intermediates: &[CertificateDer<'_>],
    anchors: &TrustAnchors,
    at: i64,
) -> Result<(), webpki::Error> {
    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der)?;
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(at).unwrap_or(0),
    ));
    let algorithms = crate::crypto::PROVIDER
        .signature_verification_algorithms
        .all;
    end_entity
        .verify_for_usage(
            algorithms,
            &anchors.anchors,
            intermediates,
            time,
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map(drop)
}
