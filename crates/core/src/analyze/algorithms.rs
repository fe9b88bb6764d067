//! The signature algorithms chain building accepts.
//!
//! Path building is deliberately lenient about algorithms: every signature a real client's
//! engine verifies verifies here too (RSA of any size with SHA-1 to SHA-512, RSA-PSS keys,
//! ECDSA on P-256, P-384 and P-521 with any of those digests, Ed25519; see
//! [`crate::crypto::verify`]), so that a chain which is only "too weak" for some client is
//! reported as such, and judged per client, instead of as an unexplained "invalid signature".
//! The strict judgement lives in the policies, which read [`super::cert::CertInfo::key`] and
//! [`super::cert::CertInfo::signature_hash`].

use std::sync::LazyLock;

use rustls::pki_types::alg_id;
use rustls::pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

use crate::crypto::verify::{self, Checked, Hash, KeyAlgorithm, Scheme};

/// One (public key, signature algorithm) pair, verified by [`verify::verify`].
#[derive(Debug)]
struct Broad {
    public_key_alg_id: AlgorithmIdentifier,
    signature_alg_id: AlgorithmIdentifier,
    key: KeyAlgorithm,
    scheme: Scheme,
}

impl SignatureVerificationAlgorithm for Broad {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.public_key_alg_id
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
        match verify::verify(self.key, public_key, self.scheme, message, signature) {
            Ok(Checked::Verified) => Ok(()),
            _ => Err(InvalidSignature),
        }
    }
}

/// sha1WithRSAEncryption (1.2.840.113549.1.1.5) with NULL parameters, as webpki compares it.
const RSA_PKCS1_SHA1: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
]);

/// ecdsa-with-SHA1 (1.2.840.10045.4.1), no parameters.
const ECDSA_SHA1: AlgorithmIdentifier =
    AlgorithmIdentifier::from_slice(&[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01]);

/// id-RSASSA-PSS (1.2.840.113549.1.1.10) as a public key algorithm without parameters: an
/// RSA key restricted to PSS (`openssl genpkey -algorithm RSA-PSS`).
const RSASSA_PSS_KEY: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
]);

/// Every pair [`Broad`] verifies.
static BROAD: LazyLock<Vec<Broad>> = LazyLock::new(|| {
    let mut all = Vec::new();
    for (signature_alg_id, hash) in [
        (RSA_PKCS1_SHA1, Hash::Sha1),
        (alg_id::RSA_PKCS1_SHA256, Hash::Sha256),
        (alg_id::RSA_PKCS1_SHA384, Hash::Sha384),
        (alg_id::RSA_PKCS1_SHA512, Hash::Sha512),
    ] {
        all.push(Broad {
            public_key_alg_id: alg_id::RSA_ENCRYPTION,
            signature_alg_id,
            key: KeyAlgorithm::Rsa,
            scheme: Scheme::RsaPkcs1(hash),
        });
    }
    for (signature_alg_id, hash) in [
        (alg_id::RSA_PSS_SHA256, Hash::Sha256),
        (alg_id::RSA_PSS_SHA384, Hash::Sha384),
        (alg_id::RSA_PSS_SHA512, Hash::Sha512),
    ] {
        for (public_key_alg_id, key) in [
            (alg_id::RSA_ENCRYPTION, KeyAlgorithm::Rsa),
            (RSASSA_PSS_KEY, KeyAlgorithm::RsaPss),
        ] {
            all.push(Broad {
                public_key_alg_id,
                signature_alg_id,
                key,
                scheme: Scheme::RsaPss(hash),
            });
        }
    }
    for (signature_alg_id, hash) in [
        (ECDSA_SHA1, Hash::Sha1),
        (alg_id::ECDSA_SHA256, Hash::Sha256),
        (alg_id::ECDSA_SHA384, Hash::Sha384),
        (alg_id::ECDSA_SHA512, Hash::Sha512),
    ] {
        for (public_key_alg_id, key) in [
            (alg_id::ECDSA_P256, KeyAlgorithm::P256),
            (alg_id::ECDSA_P384, KeyAlgorithm::P384),
            (alg_id::ECDSA_P521, KeyAlgorithm::P521),
        ] {
            all.push(Broad {
                public_key_alg_id,
                signature_alg_id,
                key,
                scheme: Scheme::Ecdsa(hash),
            });
        }
    }
    all
});

/// The algorithms used for path building: the broad ones first (webpki lets the first
/// algorithm whose identifiers match decide, and these accept every key the narrower ones
/// accept), then whatever else rustls's provider supports (Ed25519).
pub static LENIENT: LazyLock<Vec<&'static dyn SignatureVerificationAlgorithm>> =
    LazyLock::new(|| {
        let mut all: Vec<&'static dyn SignatureVerificationAlgorithm> = BROAD
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
