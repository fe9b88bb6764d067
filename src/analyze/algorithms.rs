//! The signature algorithms chain building accepts.
//!
//! Path building is deliberately lenient about algorithms: RSA keys of 1024 bits and SHA-1
//! signatures still verify here, so that a chain which is only "too weak" is reported as such
//! (and judged per client: Apple rejects it, a private CA on Windows may not) instead of as an
//! unexplained "invalid signature". The strict judgement lives in the policies, which read
//! [`super::cert::CertInfo::key`] and [`super::cert::CertInfo::signature_hash`].

use std::sync::LazyLock;

use ring::signature;
use rustls::pki_types::alg_id;
use rustls::pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// A legacy RSA PKCS#1 algorithm from *ring*, for keys of 1024 bits and more.
#[derive(Debug)]
struct LegacyRsa {
    signature_alg_id: AlgorithmIdentifier,
    verification: &'static signature::RsaParameters,
}

impl SignatureVerificationAlgorithm for LegacyRsa {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        signature::UnparsedPublicKey::new(self.verification, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }
}

/// sha1WithRSAEncryption (1.2.840.113549.1.1.5) with NULL parameters, as webpki compares it.
const RSA_PKCS1_SHA1: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
]);

static LEGACY: [LegacyRsa; 3] = [
    LegacyRsa {
        signature_alg_id: RSA_PKCS1_SHA1,
        verification: &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
    },
    LegacyRsa {
        signature_alg_id: alg_id::RSA_PKCS1_SHA256,
        verification: &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
    },
    LegacyRsa {
        signature_alg_id: alg_id::RSA_PKCS1_SHA512,
        verification: &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
    },
];

/// The algorithms used for path building: the legacy RSA ones first (webpki stops at the first
/// algorithm whose identifiers match, and these accept every key the modern ones accept), then
/// everything rustls's provider supports.
pub static LENIENT: LazyLock<Vec<&'static dyn SignatureVerificationAlgorithm>> =
    LazyLock::new(|| {
        let mut all: Vec<&'static dyn SignatureVerificationAlgorithm> = LEGACY
            .iter()
            .map(|alg| alg as &'static dyn SignatureVerificationAlgorithm)
            .collect();
        all.extend(
            crate::crypto::PROVIDER
                .signature_verification_algorithms
                .all
                .iter()
                .copied(),
        );
        all
    });
