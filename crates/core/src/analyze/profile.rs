//! Properties of a chain that some clients reject although the path itself is sound: weak keys,
//! SHA-1 signatures, missing subjectAltName or serverAuth EKU, long validity. Each client policy
//! decides what it does with them; the strict profile (`cert verify` without `--client`, and the
//! x509-limbo test) rejects them all, as the CA/Browser Forum Baseline Requirements do.

use super::cert::{CertInfo, KeyInfo, SignatureHash};
use super::chain::ChainPath;

/// Smallest RSA modulus any current client accepts without complaint (Apple, CA/B Forum).
pub const MIN_RSA_BITS: usize = 2048;

/// A certificate in the chain, by position: 0 is the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weakness {
    /// Position in the chain examined (0 = leaf, then the intermediates of the path).
    pub index: usize,
    /// The certificate's subject.
    pub subject: String,
    /// What is weak.
    pub kind: WeaknessKind,
}

/// What is weak about a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeaknessKind {
    /// An RSA key shorter than [`MIN_RSA_BITS`].
    ShortRsaKey(usize),
    /// Signed with SHA-1 or MD5.
    WeakSignature(SignatureHash),
}

/// The certificates a client checks: the leaf and the intermediates of the path it built (or,
/// when no path was built, what path building would look at, except a self-signed top). The anchor's own
/// signature is never checked by anyone.
pub fn examined<'a>(chain: &'a [CertInfo], path: Option<&ChainPath>) -> Vec<&'a CertInfo> {
    let Some(leaf) = chain.first() else {
        return Vec::new();
    };
    let mut certs = vec![leaf];
    match path {
        Some(path) => {
            for der in &path.intermediates {
                if let Some(cert) = chain.iter().find(|c| &c.der == der) {
                    certs.push(cert);
                }
            }
        }
        // As far as path building looks (a flood of certificates is not read to its end).
        None => certs.extend(
            chain[1..]
                .iter()
                .take(super::budget::MAX_CANDIDATES)
                .filter(|c| !c.self_signed()),
        ),
    }
    certs
}

/// Weak keys and signatures among the examined certificates.
pub fn weaknesses(chain: &[CertInfo], path: Option<&ChainPath>) -> Vec<Weakness> {
    let mut found = Vec::new();
    for (index, cert) in examined(chain, path).into_iter().enumerate() {
        if let KeyInfo::Rsa(bits) | KeyInfo::RsaPss(bits) = cert.key {
            if bits < MIN_RSA_BITS {
                found.push(Weakness {
                    index,
                    subject: cert.subject.clone(),
                    kind: WeaknessKind::ShortRsaKey(bits),
                });
            }
        }
        if matches!(
            cert.signature_hash,
            SignatureHash::Sha1 | SignatureHash::Md5
        ) {
            found.push(Weakness {
                index,
                subject: cert.subject.clone(),
                kind: WeaknessKind::WeakSignature(cert.signature_hash),
            });
        }
    }
    found
}

/// Validity period in whole days, counted as RFC 5280 does (both ends inclusive).
pub fn validity_days(cert: &CertInfo) -> i64 {
    validity_seconds(cert).div_euclid(86_400)
}

/// Validity period in seconds (both ends inclusive), for exact comparisons with day limits.
pub fn validity_seconds(cert: &CertInfo) -> i64 {
    cert.not_after - cert.not_before + 1
}
