//! `mailtls cert verify`: offline validation of a saved chain, with the same engine `check`
//! uses ([`analyze::chain_of`]), judged by the strict profile or by one client's rules.
//!
//! The strict profile accepts a chain only when every client would: the name is in
//! subjectAltName, a path reaches a trust anchor with what was given, every certificate is
//! within its dates, and no key or signature on the path is weak (RFC 5280 path validation by
//! rustls-webpki, plus RFC 9525 names and the CA/Browser Forum's algorithm rules).

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Serialize;

use crate::analyze::chain::{Dates, Extra, PathOptions, Trust, TrustAnchors};
use crate::analyze::lint;
use crate::analyze::names::NameCheck;
use crate::analyze::profile::{self, Weakness, WeaknessKind};
use crate::analyze::{self, CertAnalysis, cert::CertInfo};
use crate::clients::{self, Client, ClientVerdict, Facts, Outcome};
use crate::target::Target;

/// A chain file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ChainFileError {
    /// Unreadable file.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A PEM block or DER body that is not a certificate.
    #[error("{path}: block {block}: {reason}")]
    Block {
        /// The file.
        path: String,
        /// 1-based position of the certificate block.
        block: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No certificate at all.
    #[error(
        "{path}: no certificate found (expected PEM \"BEGIN CERTIFICATE\" blocks or one DER certificate)"
    )]
    Empty {
        /// The file.
        path: String,
    },
}

/// Largest chain file read: a chain is a few KiB; this stops a wrong path (a disk image) early.
pub const MAX_CHAIN_FILE: u64 = 1024 * 1024;

/// Reads certificates from a PEM file (any number of blocks) or a single DER certificate.
/// Every block must parse as X.509; the error names the file and the block.
pub fn load_chain(path: &Path) -> Result<Vec<Vec<u8>>, ChainFileError> {
    let name = path.display().to_string();
    let read_error = |reason: String| ChainFileError::Read {
        path: name.clone(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| read_error(e.to_string()))?
        .len();
    if size > MAX_CHAIN_FILE {
        return Err(read_error(format!(
            "larger than {MAX_CHAIN_FILE} bytes; not a certificate chain"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| read_error(e.to_string()))?;
    parse_chain(&bytes, &name)
}

/// Parses chain bytes (PEM or DER); `name` is used in errors.
pub fn parse_chain(bytes: &[u8], name: &str) -> Result<Vec<Vec<u8>>, ChainFileError> {
    let block_error = |block: usize, reason: String| ChainFileError::Block {
        path: name.to_string(),
        block,
        reason,
    };
    let looks_pem = bytes.windows(10).any(|w| w == b"-----BEGIN");
    let ders: Vec<Vec<u8>> = if looks_pem {
        let mut ders = Vec::new();
        for (index, item) in CertificateDer::pem_slice_iter(bytes).enumerate() {
            let der = item.map_err(|e| block_error(index + 1, format!("bad PEM: {e}")))?;
            ders.push(der.to_vec());
        }
        ders
    } else if bytes.is_empty() {
        Vec::new()
    } else {
        vec![bytes.to_vec()]
    };
    if ders.is_empty() {
        return Err(ChainFileError::Empty {
            path: name.to_string(),
        });
    }
    for (index, der) in ders.iter().enumerate() {
        CertInfo::parse(der).map_err(|e| block_error(index + 1, e.to_string()))?;
    }
    Ok(ders)
}

/// Why the strict profile rejects a chain: a stable code and words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Stable code (kebab-case), as in docs/json.md.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The outcome of verifying one chain.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The analysis (path, name, dates).
    pub analysis: CertAnalysis,
    /// Why the strict profile rejects the chain; empty when it accepts it.
    pub rejections: Vec<Rejection>,
    /// Each client's verdict.
    pub clients: Vec<ClientVerdict>,
}

impl Verification {
    /// Valid under the strict profile, or, when `client` is given, not failing in that client.
    pub fn valid(&self, client: Option<Client>) -> bool {
        match client {
            None => self.rejections.is_empty(),
            Some(client) => self
                .clients
                .iter()
                .find(|v| v.client == client)
                .is_some_and(|v| v.verdict != Outcome::Fails),
        }
    }
}

/// Verifies `chain` (leaf first) for `target` at Unix time `at`. `None` when the leaf cannot be
/// parsed (callers loading files with [`load_chain`] have already rejected that).
pub fn verify(
    chain: &[Vec<u8>],
    target: &Target,
    anchors: &TrustAnchors,
    at: i64,
    options: &PathOptions<'_>,
) -> Option<Verification> {
    let ders: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let analysis = analyze::chain_of(&ders, target, anchors, Extra::default(), at, options)?;
    let facts = Facts::new(&analysis, None);
    let clients = clients::judge_all(&facts);
    let mut rejections = strict(&analysis, &facts.weaknesses, target, at);
    if let Some(path) = &analysis.path {
        let mut certs: Vec<&[u8]> = path.intermediates.iter().map(Vec::as_slice).collect();
        certs.push(&path.anchor_der);
        for crl in options.crls {
            for message in lint::crl(crl, &certs) {
                rejections.push(Rejection {
                    code: "profile",
                    message,
                });
            }
        }
    }
    Some(Verification {
        analysis,
        rejections,
        clients,
    })
}

/// The strict profile, judged at Unix time `at`; `weaknesses` are those of the analysis's path
/// ([`profile::weaknesses`]), computed once for the strict profile and the clients alike.
pub fn strict(
    analysis: &CertAnalysis,
    weaknesses: &[Weakness],
    target: &Target,
    at: i64,
) -> Vec<Rejection> {
    let mut out = Vec::new();
    let mut reject = |code: &'static str, message: String| out.push(Rejection { code, message });
    match &analysis.name {
        NameCheck::Covered(_) => {}
        NameCheck::CommonNameOnly(cn) => reject(
            "cn-only",
            format!("{target} is only in the subject Common Name ({cn}), not in subjectAltName"),
        ),
        NameCheck::NotCovered => reject(
            "name-mismatch",
            format!(
                "the certificate does not cover {target} (it names {})",
                analysis
                    .leaf()
                    .map(|l| l.presented_names().join(", "))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "no name".to_string())
            ),
        ),
    }
    match &analysis.trust {
        Trust::Trusted => {}
        Trust::SelfSigned => reject("self-signed", "the certificate is self-signed".to_string()),
        Trust::UnknownCa { issuer } => {
            reject("unknown-ca", format!("\"{issuer}\" is not a trust anchor"))
        }
        Trust::IncompleteChain { missing, .. } => reject(
            "incomplete-chain",
            format!("the issuer \"{missing}\" is neither in the chain nor a trust anchor"),
        ),
        Trust::Invalid { reason } => reject("invalid-chain", reason.clone()),
    }
    match &analysis.dates {
        Dates::Valid => {}
        Dates::Expired { subject, .. } => reject("expired", format!("{subject} has expired")),
        Dates::NotYetValid { subject, .. } => {
            reject("not-yet-valid", format!("{subject} is not valid yet"))
        }
    }
    if let (Some(path), Some(leaf)) = (&analysis.path, analysis.leaf()) {
        if let Ok(root) = CertInfo::parse(&path.anchor_der) {
            if crate::analyze::chain::dates([&root], at) != Dates::Valid {
                reject(
                    "root-dates",
                    format!("the root {} is outside its validity period", root.subject),
                );
            }
        }
        let anchor = (!path.anchor_der.is_empty()).then_some(path.anchor_der.as_slice());
        for message in lint::path(&leaf.der, &path.intermediates, anchor) {
            reject("profile", message);
        }
    }
    for weakness in weaknesses {
        match weakness.kind {
            WeaknessKind::ShortRsaKey(bits) => reject(
                "weak-key",
                format!(
                    "{} has a {bits}-bit RSA key (at least {} required)",
                    weakness.subject,
                    profile::MIN_RSA_BITS
                ),
            ),
            WeaknessKind::WeakSignature(hash) => reject(
                "weak-signature",
                format!("{} is signed with {hash}", weakness.subject),
            ),
        }
    }
    out
}
