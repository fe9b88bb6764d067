//! Verifies every signature the real clients' engines verify: RSA up to 16384 bits (PKCS#1
//! v1.5 and PSS, with SHA-1 to SHA-512), RSA-PSS keys, ECDSA on P-256, P-384 and P-521 with any
//! of those digests, and Ed25519.
//!
//! *ring*, rustls's provider, verifies fewer: RSA only from 2048 bits (1024 for a few legacy
//! PKCS#1 digests), no P-521, no ECDSA with a digest other than the curve's, no RSA-PSS keys. A
//! server or a chain that uses one of those is still accepted by NSS and GnuTLS, so mailtls
//! must be able to check it too, or it would report a fault no client sees. What a client then
//! thinks of a weak key or a SHA-1 signature is policy, judged in `clients`; here a signature is
//! only valid, invalid, or of a kind nothing here can check.
//!
//! RSA and ECDSA come from RustCrypto's `rsa`, `p256`, `p384` and `p521` (pure Rust; *ring* has
//! no API for these parameters), Ed25519 from *ring*.

use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Largest RSA modulus verified, in bits: what NSS accepts (16384), and a bound on the work.
const MAX_RSA_BITS: usize = 16_384;

/// A digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    fn digest(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(message).to_vec(),
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

/// How a signature was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RSA PKCS#1 v1.5.
    RsaPkcs1(Hash),
    /// RSA-PSS with MGF1 over the same digest and a salt as long as the digest (TLS's and
    /// the usual certificates' parameters).
    RsaPss(Hash),
    /// ECDSA (DER signature), on the curve of the key.
    Ecdsa(Hash),
    /// Ed25519.
    Ed25519,
}

/// The kind of a public key, from its SubjectPublicKeyInfo algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// rsaEncryption.
    Rsa,
    /// id-RSASSA-PSS: an RSA key for PSS only.
    RsaPss,
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// ECDSA on P-521.
    P521,
    /// Ed25519.
    Ed25519,
}

/// A signature that is not valid for the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature does not verify")]
pub struct Invalid;

/// Whether a signature could be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// It verifies.
    Verified,
    /// Nothing here checks this kind of key or scheme (Ed448, DSA, GOST...): why, in words.
    Unsupported(String),
}

/// Verifies `signature` over `message` by the key of a SubjectPublicKeyInfo (DER).
pub fn verify_spki(
    spki: &[u8],
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<Checked, Invalid> {
    let Ok((_, info)) = SubjectPublicKeyInfo::from_der(spki) else {
        return Ok(Checked::Unsupported(
            "the certificate's public key cannot be read".to_string(),
        ));
    };
    let Some(algorithm) = key_algorithm(&info) else {
        return Ok(Checked::Unsupported(format!(
            "a public key of type {} cannot be checked",
            info.algorithm.algorithm.to_id_string()
        )));
    };
    verify(
        algorithm,
        &info.subject_public_key.data,
        scheme,
        message,
        signature,
    )
}

/// The kind of key a SubjectPublicKeyInfo holds, when it is one verified here.
pub fn key_algorithm(info: &SubjectPublicKeyInfo<'_>) -> Option<KeyAlgorithm> {
    let oid = info.algorithm.algorithm.to_id_string();
    match oid.as_str() {
        "1.2.840.113549.1.1.1" => Some(KeyAlgorithm::Rsa),
        "1.2.840.113549.1.1.10" => Some(KeyAlgorithm::RsaPss),
        "1.3.101.112" => Some(KeyAlgorithm::Ed25519),
        "1.2.840.10045.2.1" => {
            let curve = info
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => Some(KeyAlgorithm::P256),
                Some("1.3.132.0.34") => Some(KeyAlgorithm::P384),
                Some("1.3.132.0.35") => Some(KeyAlgorithm::P521),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Verifies `signature` over `message` by a key of `algorithm` whose subjectPublicKey bits are
/// `key` (an RSAPublicKey, an EC point, or the 32 bytes of an Ed25519 key).
pub fn verify(
    algorithm: KeyAlgorithm,
    key: &[u8],
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<Checked, Invalid> {
    // *ring* first where it has the parameters: much faster, and what most chains use. What it
    // refuses (a small key, say) is decided by the general code below.
    if let Some(fast) = ring_algorithm(algorithm, scheme) {
        if ring::signature::UnparsedPublicKey::new(fast, key)
            .verify(message, signature)
            .is_ok()
        {
            return Ok(Checked::Verified);
        }
    }
    match (algorithm, scheme) {
        (KeyAlgorithm::Rsa, Scheme::RsaPkcs1(hash)) => {
            let key = rsa_key(key)?;
            let padding = match hash {
                Hash::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
                Hash::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
                Hash::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
                Hash::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
            };
            key.verify(padding, &hash.digest(message), signature)
                .map_err(|_| Invalid)?;
            Ok(Checked::Verified)
        }
        (KeyAlgorithm::Rsa | KeyAlgorithm::RsaPss, Scheme::RsaPss(hash)) => {
            let key = rsa_key(key)?;
            let padding = match hash {
                Hash::Sha1 => Pss::new::<Sha1>(),
                Hash::Sha256 => Pss::new::<Sha256>(),
                Hash::Sha384 => Pss::new::<Sha384>(),
                Hash::Sha512 => Pss::new::<Sha512>(),
            };
            key.verify(padding, &hash.digest(message), signature)
                .map_err(|_| Invalid)?;
            Ok(Checked::Verified)
        }
        // An RSA-PSS key signs only with PSS.
        (KeyAlgorithm::RsaPss, _) => Err(Invalid),
        (KeyAlgorithm::P256, Scheme::Ecdsa(hash)) => {
            ecdsa_verify!(p256, 32, key, &hash.digest(message), signature)
        }
        (KeyAlgorithm::P384, Scheme::Ecdsa(hash)) => {
            ecdsa_verify!(p384, 48, key, &hash.digest(message), signature)
        }
        (KeyAlgorithm::P521, Scheme::Ecdsa(hash)) => {
            ecdsa_verify!(p521, 66, key, &hash.digest(message), signature)
        }
        // *ring* above was the whole check.
        (KeyAlgorithm::Ed25519, Scheme::Ed25519) => Err(Invalid),
        // A scheme that does not go with the key (an ECDSA signature by an RSA key...).
        _ => Err(Invalid),
    }
}

/// *ring*'s algorithm for these parameters, when it has one.
fn ring_algorithm(
    algorithm: KeyAlgorithm,
    scheme: Scheme,
) -> Option<&'static dyn ring::signature::VerificationAlgorithm> {
    use ring::signature as r;
    Some(match (algorithm, scheme) {
        (KeyAlgorithm::Rsa, Scheme::RsaPkcs1(Hash::Sha256)) => &r::RSA_PKCS1_2048_8192_SHA256,
        (KeyAlgorithm::Rsa, Scheme::RsaPkcs1(Hash::Sha384)) => &r::RSA_PKCS1_2048_8192_SHA384,
        (KeyAlgorithm::Rsa, Scheme::RsaPkcs1(Hash::Sha512)) => &r::RSA_PKCS1_2048_8192_SHA512,
        (KeyAlgorithm::Rsa | KeyAlgorithm::RsaPss, Scheme::RsaPss(Hash::Sha256)) => {
            &r::RSA_PSS_2048_8192_SHA256
        }
        (KeyAlgorithm::Rsa | KeyAlgorithm::RsaPss, Scheme::RsaPss(Hash::Sha384)) => {
            &r::RSA_PSS_2048_8192_SHA384
        }
        (KeyAlgorithm::Rsa | KeyAlgorithm::RsaPss, Scheme::RsaPss(Hash::Sha512)) => {
            &r::RSA_PSS_2048_8192_SHA512
        }
        (KeyAlgorithm::P256, Scheme::Ecdsa(Hash::Sha256)) => &r::ECDSA_P256_SHA256_ASN1,
        (KeyAlgorithm::P256, Scheme::Ecdsa(Hash::Sha384)) => &r::ECDSA_P256_SHA384_ASN1,
        (KeyAlgorithm::P384, Scheme::Ecdsa(Hash::Sha256)) => &r::ECDSA_P384_SHA256_ASN1,
        (KeyAlgorithm::P384, Scheme::Ecdsa(Hash::Sha384)) => &r::ECDSA_P384_SHA384_ASN1,
        (KeyAlgorithm::Ed25519, Scheme::Ed25519) => &r::ED25519,
        _ => return None,
    })
}

/// An RSAPublicKey (DER) of at most [`MAX_RSA_BITS`].
fn rsa_key(der: &[u8]) -> Result<RsaPublicKey, Invalid> {
    let (_, key) = x509_parser::public_key::RSAPublicKey::from_der(der).map_err(|_| Invalid)?;
    RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(key.modulus),
        BigUint::from_bytes_be(key.exponent),
        MAX_RSA_BITS,
    )
    .map_err(|_| Invalid)
}

/// The digest as ECDSA takes it: padded on the left to half the field at least (RustCrypto
/// refuses shorter ones, although a shorter digest's value is the same integer padded).
fn padded(digest: &[u8], field: usize) -> Vec<u8> {
    let want = field.div_ceil(2);
    let mut out = vec![0; want.saturating_sub(digest.len())];
    out.extend_from_slice(digest);
    out
}

/// Verifies a DER ECDSA signature over a digest with an uncompressed or compressed point, on
/// the curve of the RustCrypto crate named (each has its own key and signature types).
macro_rules! ecdsa_verify {
    ($curve:ident, $field:expr, $point:expr, $digest:expr, $signature:expr) => {{
        use ecdsa::signature::hazmat::PrehashVerifier;
        let key = $curve::ecdsa::VerifyingKey::from_sec1_bytes($point).map_err(|_| Invalid)?;
        let signature = $curve::ecdsa::Signature::from_der($signature).map_err(|_| Invalid)?;
        key.verify_prehash(&padded($digest, $field), &signature)
            .map_err(|_| Invalid)?;
        Ok(Checked::Verified)
    }};
}
use ecdsa_verify;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_digests_are_padded_to_half_the_field() {
        assert_eq!(padded(&[1; 32], 66).len(), 33);
        assert_eq!(padded(&[1; 64], 66).len(), 64);
        assert_eq!(padded(&[1; 20], 48), [vec![0; 4], vec![1; 20]].concat());
    }

    #[test]
    fn a_scheme_that_does_not_go_with_the_key_is_invalid() {
        assert_eq!(
            verify(KeyAlgorithm::P256, &[4; 65], Scheme::Ed25519, b"m", b"s"),
            Err(Invalid)
        );
        assert_eq!(
            verify(
                KeyAlgorithm::RsaPss,
                &[],
                Scheme::RsaPkcs1(Hash::Sha256),
                b"m",
                b"s"
            ),
            Err(Invalid)
        );
    }
}
