//! One certificate, parsed into the facts a diagnosis needs.

use std::net::IpAddr;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS, OID_X509_EXT_SUBJECT_ALT_NAME,
};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// Why bytes are not a certificate we can read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("not a valid X.509 certificate: {0}")]
pub struct CertError(String);

/// The facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The DER bytes, as sent.
    pub der: Vec<u8>,
    /// Subject distinguished name, e.g. `CN=mail.example.com, O=Example`.
    pub subject: String,
    /// Common names in the subject (lower-cased).
    pub common_names: Vec<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// subjectAltName dNSName entries (lower-cased, as presented).
    pub san_dns: Vec<String>,
    /// subjectAltName iPAddress entries.
    pub san_ip: Vec<IpAddr>,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// basicConstraints cA = true.
    pub is_ca: bool,
    /// Subject and issuer names are identical.
    pub self_issued: bool,
    /// Self-issued and signed by its own key: checked on first use by
    /// [`CertInfo::self_signed`], because a signature check costs more than parsing and most
    /// callers never ask.
    pub(crate) self_signed: OnceLock<bool>,
    /// Authority Information Access caIssuers URLs, where the issuer certificate can be fetched.
    pub ca_issuers: Vec<String>,
    /// The subject public key.
    pub key: KeyInfo,
    /// The hash in the signature algorithm this certificate was signed with.
    pub signature_hash: SignatureHash,
    /// The extendedKeyUsage extension: `None` when absent, else whether it allows TLS server
    /// authentication (id-kp-serverAuth or anyExtendedKeyUsage).
    pub eku_server_auth: Option<bool>,
    /// The extendedKeyUsage allows server authentication only through anyExtendedKeyUsage (no
    /// id-kp-serverAuth), which some verifiers refuse.
    pub eku_any_only: bool,
    /// The keyUsage extension, when present.
    pub key_usage: Option<KeyUsage>,
    /// It has a critical extension that x509-parser (and so most verifiers) does not know.
    pub unknown_critical: bool,
    /// The certificate has a subjectAltName extension (of any kind).
    pub has_san: bool,
    /// Names a CA's name constraints are checked against: subjectAltName entries of every kind
    /// plus subject attributes (OpenSSL's count).
    pub name_count: usize,
    /// Permitted plus excluded subtrees in the nameConstraints extension (0 when absent).
    pub name_constraints: usize,
}

/// The keyUsage bits the clients' rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsage {
    /// digitalSignature: signs (a TLS 1.3 or ECDHE handshake).
    pub digital_signature: bool,
    /// keyEncipherment: decrypts (RSA key exchange).
    pub key_encipherment: bool,
    /// keyAgreement: (EC)DH with a static key.
    pub key_agreement: bool,
    /// keyCertSign: signs certificates (a CA).
    pub key_cert_sign: bool,
}

/// The kind and size of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyInfo {
    /// RSA, with its modulus size in bits.
    Rsa(usize),
    /// An RSA key for PSS signatures only (id-RSASSA-PSS), with its modulus size in bits.
    RsaPss(usize),
    /// Elliptic curve, with the curve size in bits.
    Ec(usize),
    /// Ed25519 or Ed448.
    Edwards,
    /// Anything else.
    Other,
}

impl std::fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyInfo::Rsa(bits) => write!(f, "RSA {bits} bits"),
            KeyInfo::RsaPss(bits) => write!(f, "RSA-PSS {bits} bits"),
            KeyInfo::Ec(bits) => write!(f, "EC {bits} bits"),
            KeyInfo::Edwards => f.write_str("EdDSA"),
            KeyInfo::Other => f.write_str("unknown key type"),
        }
    }
}

/// The digest of a signature algorithm, as far as trust policies care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHash {
    /// MD5 (broken; rejected by every client).
    Md5,
    /// SHA-1 (rejected by Apple and for public CAs by Microsoft and Mozilla).
    Sha1,
    /// SHA-256/384/512, EdDSA, RSA-PSS.
    Modern,
    /// An algorithm we do not recognise.
    Unknown,
}

impl std::fmt::Display for SignatureHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureHash::Md5 => "MD5",
            SignatureHash::Sha1 => "SHA-1",
            SignatureHash::Modern => "SHA-2",
            SignatureHash::Unknown => "unknown",
        })
    }
}

/// x509-parser's error in words (its Display wraps debug text, e.g. `NomError(Eof)`).
fn parse_error(error: x509_parser::nom::Err<X509Error>) -> CertError {
    use x509_parser::nom::{Err, error::ErrorKind};
    let words = match error {
        Err::Incomplete(_) | Err::Error(X509Error::NomError(ErrorKind::Eof)) => {
            "it ends early (truncated, or not DER at all)".to_string()
        }
        Err::Error(X509Error::Der(_) | X509Error::NomError(_))
        | Err::Failure(X509Error::Der(_) | X509Error::NomError(_)) => {
            "its DER encoding is malformed (is it a certificate at all?)".to_string()
        }
        // The other variants' Display is words: "invalid X.509 name", "invalid date", ...
        Err::Error(other) | Err::Failure(other) => other.to_string(),
    };
    CertError(words)
}

impl CertInfo {
    /// Parses DER.
    pub fn parse(der: &[u8]) -> Result<CertInfo, CertError> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(parse_error)?;
        if !rest.is_empty() {
            return Err(CertError(format!("{} bytes of trailing data", rest.len())));
        }
        let common_names = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(str::to_ascii_lowercase)
            .collect();
        let mut san_dns = Vec::new();
        let mut san_ip = Vec::new();
        let mut name_count = cert.subject().iter_attributes().count();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            name_count += san.value.general_names.len();
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => san_dns.push(dns.to_ascii_lowercase()),
                    GeneralName::IPAddress(bytes) => {
                        if let Some(ip) = ip_from_bytes(bytes) {
                            san_ip.push(ip);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut ca_issuers = Vec::new();
        for extension in cert.extensions() {
            if let ParsedExtension::AuthorityInfoAccess(aia) = extension.parsed_extension() {
                for description in &aia.accessdescs {
                    if description.access_method == OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS {
                        if let GeneralName::URI(uri) = description.access_location {
                            ca_issuers.push(uri.to_string());
                        }
                    }
                }
            }
        }
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        let spki_oid = cert.public_key().algorithm.algorithm.to_id_string();
        let key = match cert.public_key().parsed() {
            // id-RSASSA-PSS: the key is an RSAPublicKey all the same.
            _ if spki_oid == "1.2.840.113549.1.1.10" => {
                x509_parser::public_key::RSAPublicKey::from_der(
                    &cert.public_key().subject_public_key.data,
                )
                .map_or(KeyInfo::Other, |(_, rsa)| KeyInfo::RsaPss(rsa.key_size()))
            }
            Ok(PublicKey::RSA(rsa)) => KeyInfo::Rsa(rsa.key_size()),
            Ok(PublicKey::EC(ec)) => KeyInfo::Ec(ec.key_size()),
            _ if cert
                .public_key()
                .algorithm
                .algorithm
                .to_id_string()
                .starts_with("1.3.101.") =>
            {
                KeyInfo::Edwards
            }
            _ => KeyInfo::Other,
        };
        let (eku_server_auth, eku_any_only) = match cert.extended_key_usage() {
            Ok(Some(eku)) => (
                Some(eku.value.server_auth || eku.value.any),
                eku.value.any && !eku.value.server_auth,
            ),
            // A malformed EKU allows nothing.
            Err(_) => (Some(false), false),
            Ok(None) => (None, false),
        };
        let key_usage = match cert.key_usage() {
            Ok(Some(usage)) => Some(KeyUsage {
                digital_signature: usage.value.digital_signature(),
                key_encipherment: usage.value.key_encipherment(),
                key_agreement: usage.value.key_agreement(),
                key_cert_sign: usage.value.key_cert_sign(),
            }),
            _ => None,
        };
        let unknown_critical = cert.extensions().iter().any(|e| {
            e.critical
                && matches!(
                    e.parsed_extension(),
                    ParsedExtension::UnsupportedExtension { .. }
                )
        });
        let has_san = cert
            .extensions()
            .iter()
            .any(|e| e.oid == OID_X509_EXT_SUBJECT_ALT_NAME);
        let self_issued = cert.subject().as_raw() == cert.issuer().as_raw();
        let name_constraints = match cert.name_constraints() {
            Ok(Some(nc)) => {
                nc.value.permitted_subtrees.as_ref().map_or(0, Vec::len)
                    + nc.value.excluded_subtrees.as_ref().map_or(0, Vec::len)
            }
            _ => 0,
        };
        Ok(CertInfo {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            common_names,
            issuer: cert.issuer().to_string(),
            san_dns,
            san_ip,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            sha256: sha256_hex(der),
            is_ca,
            self_issued,
            self_signed: OnceLock::new(),
            ca_issuers,
            key,
            signature_hash: signature_hash(&cert.signature_algorithm.algorithm.to_id_string()),
            eku_server_auth,
            eku_any_only,
            key_usage,
            unknown_critical,
            has_san,
            name_count,
            name_constraints,
        })
    }

    /// Self-issued and signed by its own key.
    pub fn self_signed(&self) -> bool {
        *self.self_signed.get_or_init(|| {
            self.self_issued
                && X509Certificate::from_der(&self.der)
                    .is_ok_and(|(_, cert)| cert.verify_signature(None).is_ok())
        })
    }

    /// The certificate in PEM form.
    pub fn pem(&self) -> String {
        let encoded = BASE64.encode(&self.der);
        let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 60);
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// A short name for people: the first SAN, else the CN, else the subject.
    pub fn display_name(&self) -> String {
        self.san_dns
            .first()
            .or(self.common_names.first())
            .cloned()
            .unwrap_or_else(|| self.subject.clone())
    }

    /// All DNS names the certificate presents, SAN first, then CN (deduplicated).
    pub fn presented_names(&self) -> Vec<String> {
        let mut names = self.san_dns.clone();
        names.extend(self.san_ip.iter().map(|ip| ip.to_string()));
        if self.san_dns.is_empty() && self.san_ip.is_empty() {
            for cn in &self.common_names {
                if !names.contains(cn) {
                    names.push(format!("{cn} (CN only)"));
                }
            }
        }
        names
    }
}

/// A certificate with only names filled in, for unit tests of the logic above parsing.
#[cfg(test)]
pub(crate) fn test_cert(subject: &str, issuer: &str) -> CertInfo {
    CertInfo {
        der: Vec::new(),
        subject: subject.to_string(),
        common_names: Vec::new(),
        issuer: issuer.to_string(),
        san_dns: Vec::new(),
        san_ip: Vec::new(),
        not_before: 0,
        not_after: 0,
        sha256: String::new(),
        is_ca: false,
        self_issued: subject == issuer,
        self_signed: OnceLock::new(),
        ca_issuers: Vec::new(),
        key: KeyInfo::Ec(256),
        signature_hash: SignatureHash::Modern,
        eku_server_auth: None,
        eku_any_only: false,
        key_usage: None,
        unknown_critical: false,
        has_san: false,
        name_count: 0,
        name_constraints: 0,
    }
}

/// Classifies a signature algorithm OID by its digest.
fn signature_hash(oid: &str) -> SignatureHash {
    match oid {
        // md5WithRSAEncryption, md2WithRSAEncryption
        "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.2" => SignatureHash::Md5,
        // sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1, sha1WithRSA (OIW)
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" | "1.3.14.3.2.29" => {
            SignatureHash::Sha1
        }
        // sha256/384/512/224WithRSAEncryption, RSASSA-PSS
        "1.2.840.113549.1.1.11"
        | "1.2.840.113549.1.1.12"
        | "1.2.840.113549.1.1.13"
        | "1.2.840.113549.1.1.14"
        | "1.2.840.113549.1.1.10"
        // ecdsa-with-SHA224/256/384/512
        | "1.2.840.10045.4.3.1"
        | "1.2.840.10045.4.3.2"
        | "1.2.840.10045.4.3.3"
        | "1.2.840.10045.4.3.4"
        // Ed25519, Ed448
        | "1.3.101.112"
        | "1.3.101.113" => SignatureHash::Modern,
        _ => SignatureHash::Unknown,
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Formats Unix seconds as RFC 3339 (UTC), e.g. `2026-11-23T20:55:41Z`.
pub fn rfc3339(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// Formats Unix seconds as a date, e.g. `2026-11-23`.
pub fn date(seconds: i64) -> String {
    let full = rfc3339(seconds);
    full.get(..10).map(str::to_string).unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertInfo::parse(b"").is_err());
        assert!(CertInfo::parse(b"\x30\x82\xff\xff junk").is_err());
        assert!(CertInfo::parse(&[0x30; 5000]).is_err());
    }

    #[test]
    fn dates_format() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(1_795_000_000), "2026-11-18");
    }

    #[test]
    fn ip_bytes() {
        assert_eq!(
            ip_from_bytes(&[127, 0, 0, 1]),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(ip_from_bytes(&[1, 2, 3]), None);
    }
}
