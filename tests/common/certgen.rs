//! Certificates made to order for the fidelity matrix and its property test: a small DER
//! writer for X.509 v3, so that a case can hold exactly the fault it is about (a SHA-1 signature
//! by a 1024-bit CA, a partial wildcard, an unknown critical extension, 10,000 names, a
//! signature algorithm nobody knows), which rcgen (no SHA-1, no RSA-1024 or P-521 signing with
//! ring) cannot all make. Signatures come from *ring* where it can sign, else from the `openssl`
//! command (SHA-1, RSA-1024, P-521, RSA-PSS keys, ECDSA with a hash other than the curve's).
//! The keys are committed in tests/data/fidelity/keys (made by its `make.sh`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};

/// Where the committed keys are.
pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fidelity/keys")
}

/// What kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA (rsaEncryption) with this many bits.
    Rsa(u32),
    /// An RSA-PSS key (id-RSASSA-PSS in its SubjectPublicKeyInfo): signs only with PSS.
    RsaPss,
    /// ECDSA on P-256, P-384 or P-521 (the bits).
    Ec(u32),
    /// Ed25519.
    Ed25519,
}

impl KeyKind {
    /// Words for a case's description.
    pub fn words(&self) -> String {
        match self {
            KeyKind::Rsa(bits) => format!("RSA-{bits}"),
            KeyKind::RsaPss => "RSA-PSS-2048".to_string(),
            KeyKind::Ec(bits) => format!("P-{bits}"),
            KeyKind::Ed25519 => "Ed25519".to_string(),
        }
    }
}

/// A digest for a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    fn openssl(&self) -> &'static str {
        match self {
            Hash::Sha1 => "sha1",
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }

    /// The digest's OID arcs (NIST's for SHA-2, OIW's for SHA-1).
    fn oid(&self) -> &'static [u64] {
        match self {
            Hash::Sha1 => &[1, 3, 14, 3, 2, 26],
            Hash::Sha256 => &[2, 16, 840, 1, 101, 3, 4, 2, 1],
            Hash::Sha384 => &[2, 16, 840, 1, 101, 3, 4, 2, 2],
            Hash::Sha512 => &[2, 16, 840, 1, 101, 3, 4, 2, 3],
        }
    }

    fn len(&self) -> u64 {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// Words for a case's description.
    pub fn words(&self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }
}

/// One key of the pool: its PEM file, its public key and, where *ring* can sign with it, the
/// key pair.
pub struct Key {
    /// The file name without `.pem`.
    pub name: String,
    /// What kind.
    pub kind: KeyKind,
    /// The PKCS#8 PEM file.
    pub path: PathBuf,
    /// The SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
    pkcs8: Vec<u8>,
}

impl Key {
    /// The private key, PKCS#8 DER.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
}

/// The committed keys, by name.
pub struct Keys {
    keys: HashMap<String, Arc<Key>>,
}

impl Keys {
    /// Loads every key of [`keys_dir`]; the public keys come from `openssl pkey`.
    pub fn load() -> Result<Keys, String> {
        let dir = keys_dir();
        let mut keys = HashMap::new();
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".pem"))
                .map(str::to_string)
            else {
                continue;
            };
            let spki = openssl(&[
                "pkey",
                "-in",
                &path.display().to_string(),
                "-pubout",
                "-outform",
                "DER",
            ])?;
            let pkcs8 = openssl(&[
                "pkey",
                "-in",
                &path.display().to_string(),
                "-outform",
                "DER",
            ])?;
            let kind = kind_of(&spki)?;
            keys.insert(
                name.clone(),
                Arc::new(Key {
                    name,
                    kind,
                    path,
                    spki,
                    pkcs8,
                }),
            );
        }
        if keys.is_empty() {
            return Err(format!("no keys in {}", dir.display()));
        }
        Ok(Keys { keys })
    }

    /// A P-256 key made by *ring* now, in the PKCS#8 form rustls loads (it refuses OpenSSL's,
    /// which repeats the curve inside the private key): for servers run by rustls.
    pub fn ring_p256(&self, dir: &Path) -> Result<Arc<Key>, String> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| "ring cannot make a P-256 key".to_string())?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                .map_err(|_| "ring cannot read its own P-256 key".to_string())?;
        use ring::signature::KeyPair as _;
        let spki = seq(&[
            seq(&[
                oid(&[1, 2, 840, 10045, 2, 1]),
                oid(&[1, 2, 840, 10045, 3, 1, 7]),
            ]),
            bit_string(pair.public_key().as_ref()),
        ]);
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
        let path = dir.join("ring-p256.pem");
        std::fs::write(
            &path,
            format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Arc::new(Key {
            name: "ring-p256".to_string(),
            kind: KeyKind::Ec(256),
            path,
            spki,
            pkcs8: pkcs8.as_ref().to_vec(),
        }))
    }

    /// The key called `name` (a file of the pool).
    pub fn get(&self, name: &str) -> Arc<Key> {
        match self.keys.get(name) {
            Some(key) => key.clone(),
            None => panic!("no key {name} in {}", keys_dir().display()),
        }
    }
}

/// The kind of a SubjectPublicKeyInfo, from its algorithm and (for RSA and EC) its size.
fn kind_of(spki: &[u8]) -> Result<KeyKind, String> {
    use x509_parser::prelude::FromDer;
    use x509_parser::public_key::PublicKey;
    use x509_parser::x509::SubjectPublicKeyInfo;
    let (_, info) = SubjectPublicKeyInfo::from_der(spki).map_err(|e| format!("public key: {e}"))?;
    let oid = info.algorithm.algorithm.to_id_string();
    Ok(match (oid.as_str(), info.parsed()) {
        ("1.2.840.113549.1.1.10", _) => KeyKind::RsaPss,
        (_, Ok(PublicKey::RSA(rsa))) => KeyKind::Rsa(rsa.key_size() as u32),
        (_, Ok(PublicKey::EC(ec))) => KeyKind::Ec(ec.key_size() as u32),
        ("1.3.101.112", _) => KeyKind::Ed25519,
        _ => return Err(format!("unexpected key algorithm {oid}")),
    })
}

/// Runs `openssl` with `args`; its standard output.
fn openssl(args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(output.stdout)
}

/// The signature a certificate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// The issuer key's usual scheme with this digest: PKCS#1 v1.5 for RSA, ECDSA, PSS for an
    /// RSA-PSS key; Ed25519 ignores the digest.
    With(Hash),
    /// RSA-PSS by an rsaEncryption key.
    Pss(Hash),
    /// An algorithm identifier nobody knows (1.3.6.1.4.1.55555.1), over a PKCS#1 SHA-256
    /// signature.
    Unknown,
}

// --- DER ---------------------------------------------------------------------------------------

/// A TLV with a short or long length.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

/// A SEQUENCE of the concatenated parts.
pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// An OBJECT IDENTIFIER.
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push = |mut value: u64| {
        let mut bytes = vec![(value & 0x7f) as u8];
        value >>= 7;
        while value > 0 {
            bytes.push(0x80 | (value & 0x7f) as u8);
            value >>= 7;
        }
        bytes.reverse();
        body.extend(bytes);
    };
    push(arcs[0] * 40 + arcs[1]);
    for arc in &arcs[2..] {
        push(*arc);
    }
    tlv(0x06, &body)
}

/// A non-negative INTEGER from big-endian bytes.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let mut body: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if body.is_empty() || body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    tlv(0x02, &body)
}

fn boolean(value: bool) -> Vec<u8> {
    tlv(0x01, &[if value { 0xff } else { 0 }])
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut body = vec![0];
    body.extend_from_slice(bytes);
    tlv(0x03, &body)
}

fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

/// UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5).
fn time(unix: i64) -> Vec<u8> {
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, mo, d, h, mi, s) = (
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
    );
    if (1950..2050).contains(&y) {
        tlv(
            0x17,
            format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes(),
        )
    } else {
        tlv(
            0x18,
            format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes(),
        )
    }
}

/// A Name of an O (optional) and a CN (optional), as UTF8Strings.
pub fn name(common_name: Option<&str>, organization: Option<&str>) -> Vec<u8> {
    let mut rdns = Vec::new();
    if let Some(o) = organization {
        rdns.push(tlv(
            0x31,
            &seq(&[oid(&[2, 5, 4, 10]), tlv(0x0c, o.as_bytes())]),
        ));
    }
    if let Some(cn) = common_name {
        rdns.push(tlv(
            0x31,
            &seq(&[oid(&[2, 5, 4, 3]), tlv(0x0c, cn.as_bytes())]),
        ));
    }
    seq(&rdns)
}

/// The contents of the subjectPublicKey BIT STRING of a SubjectPublicKeyInfo (after the
/// unused-bits byte): the key bits, whose SHA-1 is the key identifier.
fn key_bits(spki: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    use x509_parser::x509::SubjectPublicKeyInfo;
    SubjectPublicKeyInfo::from_der(spki)
        .map(|(_, info)| info.subject_public_key.data.to_vec())
        .unwrap_or_default()
}

fn key_id(spki: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &key_bits(spki))
        .as_ref()
        .to_vec()
}

// --- certificates ------------------------------------------------------------------------------

/// A subjectAltName entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// A dNSName, written exactly as given (case, trailing dot, wildcard).
    Dns(String),
    /// An iPAddress.
    Ip(IpAddr),
}

/// basicConstraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basic {
    /// No basicConstraints extension.
    Absent,
    /// cA = TRUE, critical, with a pathLenConstraint when given.
    Ca(Option<u8>),
    /// cA = FALSE written out (as many CAs do for end entities), not critical.
    EndEntity,
}

/// keyUsage bits (RFC 5280 4.2.1.3), by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// digitalSignature (0).
    DigitalSignature = 0,
    /// keyEncipherment (2).
    KeyEncipherment = 2,
    /// keyAgreement (4).
    KeyAgreement = 4,
    /// keyCertSign (5).
    KeyCertSign = 5,
    /// cRLSign (6).
    CrlSign = 6,
}

/// An extendedKeyUsage purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// id-kp-serverAuth.
    ServerAuth,
    /// id-kp-clientAuth.
    ClientAuth,
    /// anyExtendedKeyUsage.
    Any,
}

/// What a certificate says; [`issue`] writes and signs it.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Subject CN.
    pub common_name: Option<String>,
    /// Subject O.
    pub organization: Option<String>,
    /// Serial number (unique per issuer).
    pub serial: u64,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// subjectAltName entries; none: no extension.
    pub san: Vec<San>,
    /// basicConstraints.
    pub basic: Basic,
    /// keyUsage bits; `None`: no extension.
    pub key_usage: Option<Vec<Usage>>,
    /// extendedKeyUsage; `None`: no extension.
    pub eku: Option<Vec<Purpose>>,
    /// An AIA caIssuers URL.
    pub aia: Option<String>,
    /// nameConstraints: permitted and excluded dNSName subtrees.
    pub name_constraints: Option<(Vec<String>, Vec<String>)>,
    /// An extension nobody knows (1.3.6.1.4.1.55555.2), marked critical.
    pub unknown_critical: bool,
}

impl Spec {
    /// A server certificate for `names` (SAN, CN = the first), valid from `not_before` to
    /// `not_after`, serverAuth, digitalSignature + keyEncipherment.
    pub fn leaf(names: &[&str], serial: u64, not_before: i64, not_after: i64) -> Spec {
        Spec {
            common_name: names.first().map(|n| n.to_string()),
            organization: None,
            serial,
            not_before,
            not_after,
            san: names.iter().map(|n| San::Dns(n.to_string())).collect(),
            basic: Basic::EndEntity,
            key_usage: Some(vec![Usage::DigitalSignature, Usage::KeyEncipherment]),
            eku: Some(vec![Purpose::ServerAuth]),
            aia: None,
            name_constraints: None,
            unknown_critical: false,
        }
    }

    /// A CA called `common_name` of organisation "mailtls fidelity".
    pub fn ca(common_name: &str, serial: u64, not_before: i64, not_after: i64) -> Spec {
        Spec {
            common_name: Some(common_name.to_string()),
            organization: Some("mailtls fidelity".to_string()),
            serial,
            not_before,
            not_after,
            san: Vec::new(),
            basic: Basic::Ca(None),
            key_usage: Some(vec![Usage::KeyCertSign, Usage::CrlSign]),
            eku: None,
            aia: None,
            name_constraints: None,
            unknown_critical: false,
        }
    }
}

/// A certificate made: its DER, its subject Name and the key it certifies.
#[derive(Clone)]
pub struct Cert {
    /// The DER.
    pub der: Vec<u8>,
    /// The subject Name, DER.
    pub subject: Vec<u8>,
    /// Its key.
    pub key: Arc<Key>,
}

impl Cert {
    /// PEM.
    pub fn pem(&self) -> String {
        pem_of(&self.der)
    }
}

/// A certificate's DER as PEM.
pub fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Writes `spec` for `key`, signed by `issuer` (itself when `None`) with `signature`. `extra`
/// more dNSNames are added after `spec.san` (`name-N.fidelity.test`), for the flood cases.
pub fn issue(
    spec: &Spec,
    key: &Arc<Key>,
    issuer: Option<&Cert>,
    signature: Signature,
    extra: usize,
) -> Result<Cert, String> {
    let subject = name(spec.common_name.as_deref(), spec.organization.as_deref());
    let (issuer_name, signer) = match issuer {
        Some(cert) => (cert.subject.clone(), cert.key.clone()),
        None => (subject.clone(), key.clone()),
    };
    let algorithm = algorithm(signer.kind, signature)?;
    let mut extensions = Vec::new();
    let mut extension = |arcs: &[u64], critical: bool, value: Vec<u8>| {
        let mut parts = vec![oid(arcs)];
        if critical {
            parts.push(boolean(true));
        }
        parts.push(octet_string(&value));
        extensions.push(seq(&parts));
    };
    match spec.basic {
        Basic::Absent => {}
        Basic::Ca(path_len) => {
            let mut parts = vec![boolean(true)];
            if let Some(len) = path_len {
                parts.push(integer(&[len]));
            }
            extension(&[2, 5, 29, 19], true, seq(&parts));
        }
        Basic::EndEntity => extension(&[2, 5, 29, 19], false, seq(&[])),
    }
    if let Some(usages) = &spec.key_usage {
        let mut bits = [0u8; 2];
        let mut highest = 0;
        for usage in usages {
            let bit = *usage as usize;
            bits[bit / 8] |= 0x80 >> (bit % 8);
            highest = highest.max(bit);
        }
        let bytes = if highest < 8 { 1 } else { 2 };
        // DER: no trailing zero bits are counted as used.
        let last = bits[bytes - 1];
        let unused = if last == 0 {
            0
        } else {
            last.trailing_zeros() as u8
        };
        let mut body = vec![unused];
        body.extend_from_slice(&bits[..bytes]);
        extension(&[2, 5, 29, 15], true, tlv(0x03, &body));
    }
    if let Some(purposes) = &spec.eku {
        let oids: Vec<Vec<u8>> = purposes
            .iter()
            .map(|p| match p {
                Purpose::ServerAuth => oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]),
                Purpose::ClientAuth => oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]),
                Purpose::Any => oid(&[2, 5, 29, 37, 0]),
            })
            .collect();
        extension(&[2, 5, 29, 37], false, seq(&oids));
    }
    if !spec.san.is_empty() || extra > 0 {
        let mut names: Vec<Vec<u8>> = spec
            .san
            .iter()
            .map(|san| match san {
                San::Dns(dns) => tlv(0x82, dns.as_bytes()),
                San::Ip(IpAddr::V4(v4)) => tlv(0x87, &v4.octets()),
                San::Ip(IpAddr::V6(v6)) => tlv(0x87, &v6.octets()),
            })
            .collect();
        names.extend((0..extra).map(|i| tlv(0x82, format!("name-{i}.fidelity.test").as_bytes())));
        // Critical when the subject is empty (RFC 5280 4.2.1.6).
        extension(&[2, 5, 29, 17], spec.common_name.is_none(), seq(&names));
    }
    extension(&[2, 5, 29, 14], false, octet_string(&key_id(&key.spki)));
    if issuer.is_some() {
        extension(
            &[2, 5, 29, 35],
            false,
            seq(&[tlv(0x80, &key_id(&signer.spki))]),
        );
    }
    if let Some(url) = &spec.aia {
        let access = seq(&[
            oid(&[1, 3, 6, 1, 5, 5, 7, 48, 2]),
            tlv(0x86, url.as_bytes()),
        ]);
        extension(&[1, 3, 6, 1, 5, 5, 7, 1, 1], false, seq(&[access]));
    }
    if let Some((permitted, excluded)) = &spec.name_constraints {
        let subtrees = |names: &[String]| -> Vec<u8> {
            names
                .iter()
                .map(|n| seq(&[tlv(0x82, n.as_bytes())]))
                .collect::<Vec<_>>()
                .concat()
        };
        let mut parts = Vec::new();
        if !permitted.is_empty() {
            parts.push(tlv(0xa0, &subtrees(permitted)));
        }
        if !excluded.is_empty() {
            parts.push(tlv(0xa1, &subtrees(excluded)));
        }
        extension(&[2, 5, 29, 30], true, seq(&parts));
    }
    if spec.unknown_critical {
        extension(&[1, 3, 6, 1, 4, 1, 55555, 2], true, null());
    }
    let mut serial = spec.serial.to_be_bytes().to_vec();
    // A positive serial with a fixed first byte: unique per issuer, never negative.
    serial.insert(0, 0x42);
    let tbs = seq(&[
        tlv(0xa0, &integer(&[2])),
        integer(&serial),
        algorithm.clone(),
        issuer_name,
        seq(&[time(spec.not_before), time(spec.not_after)]),
        subject.clone(),
        key.spki.clone(),
        tlv(0xa3, &seq(&extensions)),
    ]);
    let signed = sign(&signer, signature, &tbs)?;
    let der = seq(&[tbs, algorithm, bit_string(&signed)]);
    Ok(Cert {
        der,
        subject,
        key: key.clone(),
    })
}

/// The AlgorithmIdentifier of a signature by a key of `kind`.
fn algorithm(kind: KeyKind, signature: Signature) -> Result<Vec<u8>, String> {
    let pss = |hash: Hash| {
        let hash_alg = seq(&[oid(hash.oid()), null()]);
        seq(&[
            oid(&[1, 2, 840, 113549, 1, 1, 10]),
            seq(&[
                tlv(0xa0, &hash_alg),
                tlv(
                    0xa1,
                    &seq(&[oid(&[1, 2, 840, 113549, 1, 1, 8]), hash_alg.clone()]),
                ),
                tlv(0xa2, &integer(&[hash.len() as u8])),
            ]),
        ])
    };
    Ok(match (kind, signature) {
        (_, Signature::Unknown) => seq(&[oid(&[1, 3, 6, 1, 4, 1, 55555, 1]), null()]),
        (KeyKind::Rsa(_), Signature::With(hash)) => {
            let last = match hash {
                Hash::Sha1 => 5,
                Hash::Sha256 => 11,
                Hash::Sha384 => 12,
                Hash::Sha512 => 13,
            };
            seq(&[oid(&[1, 2, 840, 113549, 1, 1, last]), null()])
        }
        (KeyKind::Rsa(_) | KeyKind::RsaPss, Signature::Pss(hash))
        | (KeyKind::RsaPss, Signature::With(hash)) => pss(hash),
        (KeyKind::Ec(_), Signature::With(hash)) => match hash {
            Hash::Sha1 => seq(&[oid(&[1, 2, 840, 10045, 4, 1])]),
            Hash::Sha256 => seq(&[oid(&[1, 2, 840, 10045, 4, 3, 2])]),
            Hash::Sha384 => seq(&[oid(&[1, 2, 840, 10045, 4, 3, 3])]),
            Hash::Sha512 => seq(&[oid(&[1, 2, 840, 10045, 4, 3, 4])]),
        },
        (KeyKind::Ed25519, Signature::With(_)) => seq(&[oid(&[1, 3, 101, 112])]),
        (kind, signature) => return Err(format!("{kind:?} cannot sign {signature:?}")),
    })
}

/// Signs `tbs` with `key`: *ring* where it can, else `openssl`.
fn sign(key: &Key, signature: Signature, tbs: &[u8]) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    let ring_rsa = |encoding: &'static dyn sig::RsaEncoding| -> Option<Vec<u8>> {
        let pair = RsaKeyPair::from_pkcs8(&key.pkcs8).ok()?;
        let mut out = vec![0; pair.public().modulus_len()];
        pair.sign(encoding, &rng, tbs, &mut out).ok()?;
        Some(out)
    };
    let ring_ec = |alg: &'static sig::EcdsaSigningAlgorithm| -> Option<Vec<u8>> {
        let pair = EcdsaKeyPair::from_pkcs8(alg, &key.pkcs8, &rng).ok()?;
        Some(pair.sign(&rng, tbs).ok()?.as_ref().to_vec())
    };
    let by_ring = match (key.kind, signature) {
        (KeyKind::Rsa(bits), Signature::With(Hash::Sha256) | Signature::Unknown)
            if bits >= 2048 =>
        {
            ring_rsa(&sig::RSA_PKCS1_SHA256)
        }
        (KeyKind::Rsa(bits), Signature::With(Hash::Sha384)) if bits >= 2048 => {
            ring_rsa(&sig::RSA_PKCS1_SHA384)
        }
        (KeyKind::Rsa(bits), Signature::With(Hash::Sha512)) if bits >= 2048 => {
            ring_rsa(&sig::RSA_PKCS1_SHA512)
        }
        (KeyKind::Rsa(bits), Signature::Pss(Hash::Sha256)) if bits >= 2048 => {
            ring_rsa(&sig::RSA_PSS_SHA256)
        }
        (KeyKind::Ec(256), Signature::With(Hash::Sha256)) => {
            ring_ec(&sig::ECDSA_P256_SHA256_ASN1_SIGNING)
        }
        (KeyKind::Ec(384), Signature::With(Hash::Sha384)) => {
            ring_ec(&sig::ECDSA_P384_SHA384_ASN1_SIGNING)
        }
        (KeyKind::Ed25519, Signature::With(_)) => {
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(&key.pkcs8)
                .ok()
                .map(|pair| pair.sign(tbs).as_ref().to_vec())
        }
        _ => None,
    };
    if let Some(signed) = by_ring {
        return Ok(signed);
    }
    sign_with_openssl(key, signature, tbs)
}

/// `openssl pkeyutl` over the message, in a scratch file (pkeyutl hashes with `-rawin`).
fn sign_with_openssl(key: &Key, signature: Signature, tbs: &[u8]) -> Result<Vec<u8>, String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "mailtls-certgen-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&scratch, tbs).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let path = key.path.display().to_string();
    let input = scratch.display().to_string();
    let mut args = vec!["pkeyutl", "-sign", "-rawin", "-inkey", &path, "-in", &input];
    let (hash, pss) = match signature {
        Signature::With(hash) => (hash, key.kind == KeyKind::RsaPss),
        Signature::Pss(hash) => (hash, true),
        Signature::Unknown => (Hash::Sha256, false),
    };
    if key.kind != KeyKind::Ed25519 {
        args.extend(["-digest", hash.openssl()]);
    }
    let mgf = format!("rsa_mgf1_md:{}", hash.openssl());
    if pss {
        args.extend([
            "-pkeyopt",
            "rsa_padding_mode:pss",
            "-pkeyopt",
            "rsa_pss_saltlen:digest",
            "-pkeyopt",
            &mgf,
        ]);
    }
    let signed = openssl(&args);
    let _ = std::fs::remove_file(&scratch);
    signed
}
