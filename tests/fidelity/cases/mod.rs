//! The generated cases of the fidelity matrix: one server configuration each, along the axes
//! the issue names (keys, signatures, names, EKU, key usage, validity, chains, TLS versions and
//! suites, several faults at once, hostile input). Each case is built from one fixed set of
//! CAs, so a case differs from its neighbours in the one thing it is about; its id says what
//! (`group/what/leaf-key`). Ids and order are stable: the test's stratified subset and the
//! documented differences name cases by id.

mod cas;
mod chains;
mod combined;
mod keys;
mod names;
mod tls;
mod usage;
mod validity;

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::certgen::{
    Basic, Cert, Hash, Key, KeyKind, Keys, Purpose, San, Signature, Spec, Usage, issue,
};
use cas::Cas;

/// Where the matrix's servers live: 127.77.0.0/16 (loopback only).
pub const DNS_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 77, 0, 53);
/// The AIA server (plain HTTP).
pub const AIA_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 77, 0, 80);
/// The name in the AIA URLs.
pub const AIA_HOST: &str = "aia.fidelity.test";

const DAY: i64 = 86_400;

/// Which TLS versions a case's server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// TLS 1.2 and 1.3.
    Both,
    /// TLS 1.2 only.
    Only12,
    /// TLS 1.3 only.
    Only13,
}

/// What serves a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// OpenSSL (Python's ssl module) at security level 0: presents any key and any chain
    /// exactly as listed.
    OpenSsl {
        /// An OpenSSL cipher string for TLS 1.2 and older, when not the default.
        ciphers: Option<&'static str>,
    },
    /// rustls, presenting raw bytes as the certificate list (hostile input), with a P-256 key.
    Raw,
}

/// A fault the generator put into a case, for the property test and the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The name typed is not on the certificate.
    Name,
    /// The name is only in the subject CN.
    CommonNameOnly,
    /// A certificate on the path has expired.
    Expired,
    /// A certificate on the path is not valid yet.
    NotYetValid,
    /// The chain ends in a root the client does not trust (or is self-signed).
    Untrusted,
    /// The server does not send its intermediate.
    MissingIntermediate,
    /// An RSA key under 2048 bits on the path.
    WeakKey,
    /// A SHA-1 signature on the path.
    Sha1,
    /// Anything else structural (EKU, key usage, constraints, extensions).
    Structure,
}

/// One server configuration.
#[derive(Clone)]
pub struct Case {
    /// Stable id: `group/what/leaf-key`.
    pub id: String,
    /// The group (the stratum of the test's subset).
    pub group: &'static str,
    /// What the case is about, in words.
    pub about: String,
    /// What the user types: the target of `mailtls check` and the account's server name.
    pub typed: String,
    /// The same as DNS and TLS see it: lower-case A-labels without a trailing dot (or the IP).
    pub host: String,
    /// The server's address (port 993).
    pub address: Ipv4Addr,
    /// An alias (CNAME) record the case needs: (alias, target).
    pub cname: Option<(String, String)>,
    /// The certificates as sent, leaf first (DER; not always certificates).
    pub chain: Vec<Vec<u8>>,
    /// The leaf's key (the server signs the handshake with it).
    pub key: Arc<Key>,
    /// TLS versions.
    pub tls: Tls,
    /// What serves it.
    pub server: Server,
    /// What is wrong with it, by construction.
    pub faults: Vec<Fault>,
}

/// Every case, and what the engines must trust and the AIA server must serve.
pub struct Matrix {
    /// The cases, in a stable order.
    pub cases: Vec<Case>,
    /// The roots every engine trusts (a throwaway store, PEM).
    pub trusted: Vec<Cert>,
    /// Files of the AIA server: (path, DER).
    pub aia: Vec<(String, Vec<u8>)>,
}

/// The leaf keys most groups are run with: the usual RSA and ECDSA server keys.
const USUAL_KEYS: [&str; 2] = ["leaf-rsa2048", "leaf-p256"];

/// Every leaf key kind.
const ALL_LEAF_KEYS: [&str; 9] = [
    "leaf-rsa1024",
    "leaf-rsa2048",
    "leaf-rsa3072",
    "leaf-rsa4096",
    "leaf-p256",
    "leaf-p384",
    "leaf-p521",
    "leaf-ed25519",
    "leaf-rsapss",
];

/// A case being built: its name and leaf, then [`Builder::push`].
struct Draft {
    id: String,
    group: &'static str,
    about: String,
    typed: String,
    leaf: Spec,
    key: String,
    issuer: Option<Cert>,
    signature: Signature,
    /// What follows the leaf, in order.
    rest: Vec<Cert>,
    tls: Tls,
    ciphers: Option<&'static str>,
    faults: Vec<Fault>,
    cname: Option<(String, String)>,
}

struct Builder<'k> {
    keys: &'k Keys,
    cas: Cas,
    now: i64,
    cases: Vec<Case>,
    serial: u64,
}

impl Builder<'_> {
    /// The next case's number, base name (`cNNN.fidelity.test`) and server name.
    fn base(&self) -> String {
        format!("c{:03}.fidelity.test", self.cases.len() + 1)
    }

    fn address(&self) -> Ipv4Addr {
        let n = self.cases.len() + 1;
        Ipv4Addr::new(127, 77, 1 + (n / 250) as u8, 1 + (n % 250) as u8)
    }

    /// A draft for the usual server certificate for `mail.<base>` under the issuing CA.
    fn draft(
        &mut self,
        group: &'static str,
        what: &str,
        key: &str,
        about: impl Into<String>,
    ) -> Draft {
        let base = self.base();
        let name = format!("mail.{base}");
        self.serial += 1;
        let leaf = Spec::leaf(
            &[&name],
            self.serial,
            self.now - 30 * DAY,
            self.now + 60 * DAY,
        );
        Draft {
            id: format!("{group}/{what}/{}", key.trim_start_matches("leaf-")),
            group,
            about: about.into(),
            typed: name,
            leaf,
            key: key.to_string(),
            issuer: Some(self.cas.int.clone()),
            signature: Signature::With(Hash::Sha256),
            rest: vec![self.cas.int.clone()],
            tls: Tls::Both,
            ciphers: None,
            faults: Vec::new(),
            cname: None,
        }
    }

    fn push(&mut self, draft: Draft) -> Result<(), String> {
        let key = self.keys.get(&draft.key);
        let leaf = issue(&draft.leaf, &key, draft.issuer.as_ref(), draft.signature, 0)
            .map_err(|e| format!("{}: {e}", draft.id))?;
        let mut chain = vec![leaf.der];
        chain.extend(draft.rest.iter().map(|c| c.der.clone()));
        let host = host_form(&draft.typed);
        self.cases.push(Case {
            id: draft.id,
            group: draft.group,
            about: draft.about,
            typed: draft.typed,
            host,
            address: self.address(),
            cname: draft.cname,
            chain,
            key,
            tls: draft.tls,
            server: Server::OpenSsl {
                ciphers: draft.ciphers,
            },
            faults: draft.faults,
        });
        Ok(())
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }
}

/// What DNS and TLS see for a typed name: UTS #46 (lower case, A-labels), no trailing dot.
pub fn host_form(typed: &str) -> String {
    if typed.parse::<std::net::IpAddr>().is_ok() {
        return typed.to_string();
    }
    let trimmed = typed.strip_suffix('.').unwrap_or(typed);
    idna::domain_to_ascii(trimmed).unwrap_or_else(|_| trimmed.to_ascii_lowercase())
}

/// Builds the whole matrix at `now`.
pub fn matrix(keys: &Keys, now: i64, dir: &std::path::Path) -> Result<Matrix, String> {
    let cas = Cas::make(keys, now)?;
    let trusted = vec![
        cas.root.clone(),
        cas.root_expired.clone(),
        cas.root_sha1.clone(),
        cas.root_p384.clone(),
    ];
    let aia = vec![("/int-aia.der".to_string(), cas.int_aia.der.clone())];
    let mut b = Builder {
        keys,
        cas,
        now,
        cases: Vec::new(),
        serial: 1,
    };
    keys::keys_group(&mut b)?;
    keys::signatures_group(&mut b)?;
    names::names_group(&mut b)?;
    usage::eku_group(&mut b)?;
    usage::key_usage_group(&mut b)?;
    validity::validity_group(&mut b)?;
    chains::chains_group(&mut b)?;
    tls::tls_group(&mut b)?;
    combined::combined_group(&mut b)?;
    combined::hostile_group(&mut b, keys.ring_p256(dir)?)?;
    Ok(Matrix {
        cases: b.cases,
        trusted,
        aia,
    })
}
