//! `cert verify`: a saved chain, read from a file (PEM or DER, errors naming the block), judged
//! offline against the engine's anchors (see `diagnose::verify`).

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};

use crate::analyze::cert::CertInfo;
use crate::analyze::chain::{PathOptions, describe_crl_error};
use crate::clients::Client;
use crate::diagnose::verify::{self, Verification};
use crate::engine::Engine;
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
    /// Nothing of the kind expected.
    #[error("{path}: no {what} found (expected {expected})")]
    Empty {
        /// The file.
        path: String,
        /// What was looked for (`certificate`, `revocation list`).
        what: &'static str,
        /// What the file should hold.
        expected: &'static str,
    },
}

/// Largest chain file read: a chain is a few KiB; this stops a wrong path (a disk image) early.
pub const MAX_CHAIN_FILE: u64 = 1024 * 1024;

/// Largest CRL file read. Public CAs' lists reach a few MiB; more is not a list to judge offline.
pub const MAX_CRL_FILE: u64 = 16 * 1024 * 1024;

/// Reads certificates from a PEM file (any number of blocks) or a single DER certificate.
/// Every block must parse as X.509; the error names the file and the block.
pub fn load_chain(path: &Path) -> Result<Vec<Vec<u8>>, ChainFileError> {
    let bytes = read_capped(path, MAX_CHAIN_FILE, "a certificate chain")?;
    parse_chain(&bytes, &path.display().to_string())
}

/// Reads certificate revocation lists from a PEM file (any number of `X509 CRL` blocks) or one
/// DER list. Every list must parse as an X.509 CRL; the error names the file and the block.
pub fn load_crls(path: &Path) -> Result<Vec<Vec<u8>>, ChainFileError> {
    let bytes = read_capped(path, MAX_CRL_FILE, "a revocation list")?;
    parse_crls(&bytes, &path.display().to_string())
}

/// The bytes of a file of at most `max` bytes.
fn read_capped(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, ChainFileError> {
    let read_error = |reason: String| ChainFileError::Read {
        path: path.display().to_string(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| read_error(e.to_string()))?
        .len();
    if size > max {
        return Err(read_error(format!("larger than {max} bytes; not {what}")));
    }
    std::fs::read(path).map_err(|e| read_error(e.to_string()))
}

/// Parses revocation lists (PEM or DER); `name` is used in errors.
pub fn parse_crls(bytes: &[u8], name: &str) -> Result<Vec<Vec<u8>>, ChainFileError> {
    let kind = Blocks {
        what: "revocation list",
        expected: "PEM \"BEGIN X509 CRL\" blocks or one DER list",
    };
    kind.parse::<CertificateRevocationListDer>(bytes, name, |der| {
        webpki::BorrowedCertRevocationList::from_der(der)
            .map(drop)
            .map_err(|e| {
                format!(
                    "not a valid X.509 revocation list: {}",
                    describe_crl_error(&e)
                )
            })
    })
}

/// Parses chain bytes (PEM or DER); `name` is used in errors.
pub fn parse_chain(bytes: &[u8], name: &str) -> Result<Vec<Vec<u8>>, ChainFileError> {
    let kind = Blocks {
        what: "certificate",
        expected: "PEM \"BEGIN CERTIFICATE\" blocks or one DER certificate",
    };
    kind.parse::<CertificateDer>(bytes, name, |der| {
        CertInfo::parse(der).map(drop).map_err(|e| e.to_string())
    })
}

/// What a file of PEM blocks (or one DER object) holds, for its errors.
struct Blocks {
    what: &'static str,
    expected: &'static str,
}

impl Blocks {
    /// Splits `bytes` into DER objects of type `T` and checks each with `check`.
    fn parse<T: PemObject + AsRef<[u8]>>(
        &self,
        bytes: &[u8],
        name: &str,
        check: impl Fn(&[u8]) -> Result<(), String>,
    ) -> Result<Vec<Vec<u8>>, ChainFileError> {
        let block_error = |block: usize, reason: String| ChainFileError::Block {
            path: name.to_string(),
            block,
            reason,
        };
        let looks_pem = bytes.windows(10).any(|w| w == b"-----BEGIN");
        let ders: Vec<Vec<u8>> = if looks_pem {
            let mut ders = Vec::new();
            for (index, item) in T::pem_slice_iter(bytes).enumerate() {
                let der = item.map_err(|e| block_error(index + 1, format!("bad PEM: {e}")))?;
                ders.push(der.as_ref().to_vec());
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
                what: self.what,
                expected: self.expected,
            });
        }
        for (index, der) in ders.iter().enumerate() {
            check(der).map_err(|reason| block_error(index + 1, reason))?;
        }
        Ok(ders)
    }
}

/// A chain to judge, and how.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The chain, leaf first (DER), e.g. from [`load_chain`].
    pub chain: Vec<Vec<u8>>,
    /// The server name (or address) a client uses; `None` judges the path alone.
    pub name: Option<Target>,
    /// The time to judge at (Unix seconds).
    pub at: i64,
    /// Judge by this client's rules instead of the strict profile.
    pub client: Option<Client>,
    /// Revocation lists (DER) to consult, e.g. from [`load_crls`].
    pub crls: Vec<Vec<u8>>,
    /// Most intermediates a path may have (self-issued ones not counted).
    pub max_intermediates: Option<usize>,
}

/// The result of `cert verify`.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// What was asked.
    pub request: VerifyRequest,
    /// The judgement.
    pub verification: Verification,
    /// Where the trust anchors came from.
    pub anchors: Vec<String>,
}

impl VerifyReport {
    /// Valid under the profile asked for.
    pub fn valid(&self) -> bool {
        self.verification.valid(self.request.client)
    }

    /// The documented exit status: 0 valid, 2 invalid.
    pub fn exit_code(&self) -> u8 {
        if self.valid() {
            crate::exit::OK
        } else {
            crate::exit::FAIL
        }
    }
}

/// Why a chain could not be judged at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The first certificate cannot be read.
    #[error("the first certificate cannot be read")]
    UnreadableLeaf,
}

impl Engine {
    /// Judges a saved chain against the engine's anchors, offline.
    pub fn verify_chain(&self, request: VerifyRequest) -> Result<VerifyReport, VerifyError> {
        let crls: Vec<&[u8]> = request.crls.iter().map(Vec::as_slice).collect();
        let options = PathOptions {
            crls: &crls,
            max_intermediates: request.max_intermediates,
        };
        let verification = verify::verify(
            &request.chain,
            request.name.as_ref(),
            self.anchors(),
            request.at,
            &options,
        )
        .ok_or(VerifyError::UnreadableLeaf)?;
        Ok(VerifyReport {
            request,
            verification,
            anchors: self.anchors().sources.clone(),
        })
    }
}
