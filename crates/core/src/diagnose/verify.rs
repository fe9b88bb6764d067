//! Judging a saved chain (`cert verify`): by the strict profile, or by one client's rules, with
//! the same engine `check` uses ([`analyze::chain_of`]).
//!
//! The strict profile accepts a chain only when every client would: the name is in
//! subjectAltName, a path reaches a trust anchor with what was given, every certificate is
//! within its dates, and no key or signature on the path is weak (RFC 5280 path validation by
//! rustls-webpki, plus RFC 9525 names and the CA/Browser Forum's algorithm rules).

use crate::analyze::chain::{DateKind, Extra, PathOptions, Position, Trust, TrustAnchors};
use crate::analyze::lint;
use crate::analyze::names::{self, NameCheck};
use crate::analyze::profile::{self, Weakness, WeaknessKind};
use crate::analyze::{self, CertAnalysis};
use crate::clients::{self, Client, ClientVerdict, Facts, Outcome};
use crate::target::Target;

crate::vocabulary::vocabulary! {
    /// Why the strict profile rejects a chain.
    pub enum RejectionCode {
        /// The name is only in the subject CN.
        CnOnly => "cn-only",
        /// The certificate does not cover the name.
        NameMismatch => "name-mismatch",
        /// The name is covered only by a wildcard over a public suffix (`*.co.uk`).
        PublicSuffixWildcard => "public-suffix-wildcard",
        /// Self-signed.
        SelfSigned => "self-signed",
        /// The chain ends in a CA that is not an anchor.
        UnknownCa => "unknown-ca",
        /// An issuer is missing.
        IncompleteChain => "incomplete-chain",
        /// The chain is broken otherwise.
        InvalidChain => "invalid-chain",
        /// A certificate has expired.
        Expired => "expired",
        /// A certificate is not valid yet.
        NotYetValid => "not-yet-valid",
        /// The root is outside its validity period.
        RootDates => "root-dates",
        /// An RFC 5280 / CA-B Forum structural rule (or a CRL) is broken.
        Profile => "profile",
        /// A key is too short.
        WeakKey => "weak-key",
        /// A signature uses a weak hash.
        WeakSignature => "weak-signature",
    }
}

/// Why the strict profile rejects a chain: a stable code and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Stable code, as in docs/json.md.
    pub code: RejectionCode,
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

/// Verifies `chain` (leaf first) for `target` at Unix time `at`; without a target, the path
/// alone. `None` when the leaf cannot be parsed (callers loading files with
/// `run::verify::load_chain` have already rejected that).
pub fn verify(
    chain: &[Vec<u8>],
    target: Option<&Target>,
    anchors: &TrustAnchors,
    at: i64,
    options: &PathOptions<'_>,
) -> Option<Verification> {
    let ders: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let analysis = analyze::chain_of(&ders, target, anchors, Extra::default(), at, options)?;
    let facts = Facts::new(&analysis, None);
    let clients = clients::judge_all(&facts);
    let mut rejections = strict(&analysis, &facts.weaknesses, target);
    if let Some(path) = &analysis.path {
        let mut certs: Vec<&[u8]> = path.intermediates.iter().map(Vec::as_slice).collect();
        certs.push(&path.anchor_der);
        for crl in options.crls {
            for message in lint::crl(crl, &certs) {
                rejections.push(Rejection {
                    code: RejectionCode::Profile,
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

/// The strict profile (the analysis was made at the time judged); `weaknesses` are those of the
/// analysis's path ([`profile::weaknesses`]), computed once for the strict profile and the
/// clients alike.
pub fn strict(
    analysis: &CertAnalysis,
    weaknesses: &[Weakness],
    target: Option<&Target>,
) -> Vec<Rejection> {
    let mut out = Vec::new();
    let mut reject = |code: RejectionCode, message: String| out.push(Rejection { code, message });
    let target = target.map_or_else(String::new, ToString::to_string);
    match &analysis.name {
        NameCheck::NotChecked => {}
        NameCheck::Covered(pattern) => {
            if let (Some(parent), Some(leaf)) =
                (names::public_suffix_wildcard(pattern), analysis.leaf())
            {
                if !names::covered_without_public_suffix_wildcard(leaf, &target) {
                    reject(
                        RejectionCode::PublicSuffixWildcard,
                        format!(
                            "{target} is covered only by {pattern}, a wildcard over the public \
                             suffix {parent} (CA/B BR 3.2.2.6)"
                        ),
                    );
                }
            }
        }
        NameCheck::CommonNameOnly(cn) => reject(
            RejectionCode::CnOnly,
            format!("{target} is only in the subject Common Name ({cn}), not in subjectAltName"),
        ),
        NameCheck::NotCovered => reject(
            RejectionCode::NameMismatch,
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
        Trust::SelfSigned => reject(
            RejectionCode::SelfSigned,
            "the certificate is self-signed".to_string(),
        ),
        Trust::UnknownCa { issuer } => reject(
            RejectionCode::UnknownCa,
            format!("\"{issuer}\" is not a trust anchor"),
        ),
        Trust::IncompleteChain { missing, .. } => reject(
            RejectionCode::IncompleteChain,
            format!("the issuer \"{missing}\" is neither in the chain nor a trust anchor"),
        ),
        Trust::Invalid { reason, .. } => reject(RejectionCode::InvalidChain, reason.clone()),
    }
    for fault in &analysis.dates {
        match (fault.position, fault.kind) {
            (Position::Anchor, _) => reject(
                RejectionCode::RootDates,
                format!("the root {} is outside its validity period", fault.subject),
            ),
            (_, DateKind::Expired) => reject(
                RejectionCode::Expired,
                format!("{} has expired", fault.subject),
            ),
            (_, DateKind::NotYetValid) => reject(
                RejectionCode::NotYetValid,
                format!("{} is not valid yet", fault.subject),
            ),
        }
    }
    if let (Some(path), Some(leaf)) = (&analysis.path, analysis.leaf()) {
        let anchor = (!path.anchor_der.is_empty()).then_some(path.anchor_der.as_slice());
        for message in lint::path(&leaf.der, &path.intermediates, anchor) {
            reject(RejectionCode::Profile, message);
        }
    }
    for weakness in weaknesses {
        match weakness.kind {
            WeaknessKind::ShortRsaKey(bits) => reject(
                RejectionCode::WeakKey,
                format!(
                    "{} has a {bits}-bit RSA key (at least {} required)",
                    weakness.subject,
                    profile::MIN_RSA_BITS
                ),
            ),
            WeaknessKind::WeakSignature(hash) => reject(
                RejectionCode::WeakSignature,
                format!("{} is signed with {hash}", weakness.subject),
            ),
        }
    }
    out
}
