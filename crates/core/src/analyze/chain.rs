//! Is the chain a server presents trusted, and if not, why not?
//!
//! Path building is done by rustls-webpki (the verifier rustls uses). What it cannot tell us is
//! *why* a path is missing, which is what a user needs: a self-signed certificate, a private CA,
//! and a forgotten intermediate all fail as "unknown issuer". This module tells them apart from
//! the shape of the presented chain, and completes it with intermediates seen on other ports.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::budget;
use super::cert::CertInfo;
use super::path;

/// Errors loading trust anchors.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The file could not be read or holds no certificate.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

crate::vocabulary::vocabulary! {
    /// Where a trust anchor came from. Clients treat the two differently: Apple's 398-day limit and
    /// Mozilla's subjectAltName-only rule apply to built-in roots, and Android apps do not trust
    /// user-added CAs at all by default.
    pub enum AnchorOrigin {
        /// The operating system's store, standing in for the public roots clients ship with.
        System => "system",
        /// Added by the user (`--ca-file`, `--roots`): a private CA.
        Added => "added",
    }
}

/// The certificates a client trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    origins: Vec<AnchorOrigin>,
    /// The anchors' certificates (DER), for the strict profile's checks of the root itself.
    ders: Vec<Vec<u8>>,
    /// The most name-constraint subtrees any one anchor has (see [`budget::name_checks`]).
    max_constraints: usize,
    /// Some anchor has a directoryName name constraint, which webpki cannot evaluate
    /// (see [`path`]).
    directory_constrained: bool,
    /// Where the anchors came from, for the report.
    pub sources: Vec<String>,
}

impl TrustAnchors {
    /// The operating system's store (e.g. /etc/ssl/certs). Unreadable entries are skipped.
    pub fn system() -> TrustAnchors {
        let loaded = rustls_native_certs::load_native_certs();
        let mut anchors = TrustAnchors::default();
        let added = anchors.add(&loaded.certs, AnchorOrigin::System);
        anchors
            .sources
            .push(format!("system store ({added} certificates)"));
        anchors
    }

    /// Adds every certificate in a PEM file; returns how many.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<usize, AnchorError> {
        let file_error = |reason: String| AnchorError::File {
            path: path.display().to_string(),
            reason,
        };
        let iter = CertificateDer::pem_file_iter(path).map_err(|e| file_error(e.to_string()))?;
        let mut certs = Vec::new();
        for (index, cert) in iter.enumerate() {
            certs.push(
                cert.map_err(|e| file_error(format!("certificate block {}: {e}", index + 1)))?,
            );
        }
        if certs.is_empty() {
            return Err(file_error("no PEM certificate found".to_string()));
        }
        let added = self.add(&certs, AnchorOrigin::Added);
        if added == 0 {
            return Err(file_error(
                "no usable CA certificate in the file".to_string(),
            ));
        }
        self.sources
            .push(format!("{} ({added} certificates)", path.display()));
        Ok(added)
    }

    /// Adds DER certificates of the given origin; returns how many were usable.
    pub fn add(&mut self, certs: &[CertificateDer<'_>], origin: AnchorOrigin) -> usize {
        let before = self.anchors.len();
        for cert in certs {
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(cert) {
                if anchor.name_constraints.is_some() {
                    let subtrees = CertInfo::parse(cert).map_or(0, |c| c.name_constraints);
                    self.max_constraints = self.max_constraints.max(subtrees);
                    self.directory_constrained |= path::directory_constrained(cert);
                }
                self.anchors.push(anchor.to_owned());
                self.origins.push(origin);
                self.ders.push(cert.to_vec());
            }
        }
        self.anchors.len() - before
    }

    /// The origin and certificate of an anchor webpki chose.
    fn find(&self, anchor: &TrustAnchor<'_>) -> (AnchorOrigin, Vec<u8>) {
        self.anchors
            .iter()
            .position(|a| {
                a.subject == anchor.subject
                    && a.subject_public_key_info == anchor.subject_public_key_info
            })
            .map_or((AnchorOrigin::Added, Vec::new()), |i| {
                (self.origins[i], self.ders[i].clone())
            })
    }

    /// The anchors as a rustls root store, for validating HTTPS (autoconfig, autodiscover).
    pub fn root_store(&self) -> rustls::RootCertStore {
        rustls::RootCertStore {
            roots: self.anchors.clone(),
        }
    }

    /// The certificates (DER) of the anchors a user added (`--ca-file`), e.g. to save with
    /// observations so they can be judged again elsewhere.
    pub fn added(&self) -> Vec<Vec<u8>> {
        self.ders
            .iter()
            .zip(&self.origins)
            .filter(|(_, origin)| **origin == AnchorOrigin::Added)
            .map(|(der, _)| der.clone())
            .collect()
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// No anchors at all.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// The trust verdict for a chain, dates aside (see [`Dates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// A path to a trust anchor exists using only what the server sent.
    Trusted,
    /// The leaf is signed by itself.
    SelfSigned,
    /// The chain ends in a CA that is not trusted (a private or unknown CA).
    UnknownCa {
        /// The untrusted CA at the top of what was sent.
        issuer: String,
    },
    /// The server sent too little: the issuer of the last certificate sent is missing.
    IncompleteChain {
        /// The missing issuer's name.
        missing: String,
        /// A path exists once intermediates seen on the server's other ports are added.
        found_elsewhere: bool,
        /// A path exists with the issuer fetched from this AIA caIssuers URL, as Windows and
        /// Apple platforms do by themselves.
        fetched_from: Option<String>,
    },
    /// Something else is wrong with the chain (bad signature, wrong key usage, ...).
    Invalid {
        /// What is wrong, in words.
        reason: String,
        /// What is wrong, for the client policies (clients differ on some of these).
        defect: Defect,
    },
}

/// What makes a chain invalid, beyond the anchor and the dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// The server certificate is a CA certificate (basicConstraints cA true).
    CaAsLeaf,
    /// The server certificate's extendedKeyUsage does not allow TLS server authentication.
    LeafEku,
    /// A CA's extendedKeyUsage does not allow TLS server authentication.
    IssuerEku,
    /// A certificate that signs another is not a CA (basicConstraints missing or cA false).
    IssuerNotCa,
    /// A CA's keyUsage lacks keyCertSign.
    IssuerKeyUsage,
    /// The chain is longer than a CA's pathLenConstraint allows.
    PathLength,
    /// A name violates a CA's name constraints.
    NameConstraints,
    /// A certificate has a critical extension the verifier does not know.
    UnknownCriticalExtension,
    /// A signature does not verify.
    BadSignature,
    /// A signature algorithm nobody accepts.
    UnsupportedAlgorithm,
    /// A certificate is revoked.
    Revoked,
    /// The certificate cannot be read, or the chain is beyond the verifier's limits.
    Unreadable,
    /// Anything else.
    Other,
}

/// Where a certificate sits on the path a client builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The server's own certificate.
    Leaf,
    /// An intermediate, 1 for the leaf's issuer, counting upwards.
    Intermediate(usize),
    /// The trust anchor (root) the path ends in.
    Anchor,
}

impl Position {
    /// A CA certificate (an intermediate or the root), not the server's own.
    pub fn is_issuer(&self) -> bool {
        *self != Position::Leaf
    }
}

/// Which end of its validity a certificate is outside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    /// Past its notAfter.
    Expired,
    /// Before its notBefore.
    NotYetValid,
}

/// One certificate a client checks that is outside its validity dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFault {
    /// Where it sits.
    pub position: Position,
    /// Its subject.
    pub subject: String,
    /// Expired, or not valid yet.
    pub kind: DateKind,
    /// The date it crossed (notAfter) or will cross (notBefore), Unix seconds.
    pub date: i64,
}

/// Every certificate of `chain` (in path order: the leaf, the intermediates upwards, then the
/// anchor when given) that is outside its validity at `now` (Unix seconds). Empty: all valid.
pub fn dates<'a>(
    chain: impl IntoIterator<Item = &'a CertInfo>,
    anchor: Option<&CertInfo>,
    now: i64,
) -> Vec<DateFault> {
    let positioned = chain
        .into_iter()
        .enumerate()
        .map(|(index, cert)| {
            let position = if index == 0 {
                Position::Leaf
            } else {
                Position::Intermediate(index)
            };
            (position, cert)
        })
        .chain(anchor.map(|cert| (Position::Anchor, cert)));
    positioned
        .filter_map(|(position, cert)| {
            let (kind, date) = if now > cert.not_after {
                (DateKind::Expired, cert.not_after)
            } else if now < cert.not_before {
                (DateKind::NotYetValid, cert.not_before)
            } else {
                return None;
            };
            Some(DateFault {
                position,
                subject: cert.subject.clone(),
                kind,
                date,
            })
        })
        .collect()
}

/// A path a client can build from the leaf to a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPath {
    /// Where the anchor came from.
    pub anchor: AnchorOrigin,
    /// The anchor's certificate (DER).
    pub anchor_der: Vec<u8>,
    /// The intermediates used, DER, from the leaf upwards.
    pub intermediates: Vec<Vec<u8>>,
}

/// An issuer certificate fetched from an Authority Information Access URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The caIssuers URL.
    pub url: String,
    /// The certificate (DER).
    pub der: Vec<u8>,
}

/// Certificates from outside the presented chain that may complete it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra<'a> {
    /// CA certificates the same server sent on other ports.
    pub elsewhere: &'a [Vec<u8>],
    /// Issuers fetched from AIA URLs.
    pub fetched: &'a [Fetched],
}

impl Extra<'_> {
    /// Nothing from outside the chain.
    pub fn is_empty(&self) -> bool {
        self.elsewhere.is_empty() && self.fetched.is_empty()
    }
}

/// Limits a strict validation adds (x509-limbo test cases use them; `check` does not).
#[derive(Default)]
pub struct PathOptions<'a> {
    /// Revocation lists (DER) to consult for the end entity and the intermediates.
    pub crls: &'a [&'a [u8]],
    /// Most intermediates a path may have.
    pub max_intermediates: Option<usize>,
}

/// The trust verdict and, when one exists, the path it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustReport {
    /// The verdict.
    pub trust: Trust,
    /// The path, when one was built (with or without help from [`Extra`]).
    pub path: Option<ChainPath>,
}

/// Judges trust of `chain` (leaf first, as sent). `extra` may complete it. Dates are judged
/// separately: path building runs at a moment inside the leaf's validity, so an expired leaf
/// does not hide an untrusted issuer.
pub fn trust(
    chain: &[CertInfo],
    anchors: &TrustAnchors,
    extra: Extra<'_>,
    now: i64,
    options: &PathOptions<'_>,
) -> TrustReport {
    let Some(leaf) = chain.first() else {
        return TrustReport {
            trust: Trust::Invalid {
                reason: "the server sent no certificate".to_string(),
                defect: Defect::Unreadable,
            },
            path: None,
        };
    };
    let at = if (leaf.not_before..=leaf.not_after).contains(&now) {
        now
    } else {
        leaf.not_before + (leaf.not_after - leaf.not_before) / 2
    };
    // A hostile chain is refused before it can cost much: see `budget`.
    let picked = budget::candidates(leaf, &chain[1..]);
    let kept = || picked.kept.iter().map(|&i| &chain[1 + i]);
    if let Some(comparisons) = budget::name_checks(leaf, kept(), anchors.max_constraints) {
        return bare(Trust::Invalid {
            reason: format!(
                "checking the certificate's {} names against its CA's name constraints would \
                 take {comparisons} comparisons (at most {} are made)",
                leaf.name_count,
                budget::NAME_CHECK_MAX
            ),
            defect: Defect::Unreadable,
        });
    }
    let capped = || {
        bare(Trust::Invalid {
            reason: format!(
                "the server sent {} certificates; no trusted path was found through the first {} \
                 that could issue for it, and the other {} were not tried",
                chain.len(),
                picked.kept.len(),
                picked.capped
            ),
            defect: Defect::Unreadable,
        })
    };
    let sent: Vec<CertificateDer<'_>> = kept()
        .map(|c| CertificateDer::from(c.der.as_slice()))
        .collect();
    let mut crls = Vec::new();
    for (index, der) in options.crls.iter().enumerate() {
        match webpki::BorrowedCertRevocationList::from_der(der) {
            Ok(crl) => crls.push(webpki::CertRevocationList::from(crl)),
            // A list that cannot be read cannot vouch that nothing is revoked.
            Err(error) => {
                return bare(Trust::Invalid {
                    reason: format!(
                        "revocation list {} cannot be read: {}",
                        index + 1,
                        describe_crl_error(&error)
                    ),
                    defect: Defect::Other,
                });
            }
        }
    }
    let crls: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    let limits = Limits {
        crls: &crls,
        max_intermediates: options.max_intermediates,
    };
    // Trust is decided apart from dates: webpki checks every certificate's dates as it builds,
    // so a path that fails only because a certificate is outside its dates is built again at a
    // moment when the certificates on it are all valid (or, when there is no such moment,
    // without dates by `path`). The dates are then judged on that path, by `dates`: an expired
    // intermediate never hides an untrusted root, nor the other way round.
    let verify = |intermediates: &[CertificateDer<'_>]| {
        let mut result = verify(&leaf.der, intermediates, anchors, at, &limits);
        for moment in moments(leaf, intermediates) {
            if !matches!(&result, Err(error) if expiry(error)) {
                break;
            }
            result = verify(&leaf.der, intermediates, anchors, moment, &limits);
        }
        if matches!(&result, Err(error) if expiry(error)) && options.crls.is_empty() {
            let ders: Vec<&[u8]> = intermediates.iter().map(|c| c.as_ref()).collect();
            result = dateless_path(&leaf.der, &ders, anchors, options.max_intermediates)
                .ok_or(webpki::Error::UnknownIssuer);
        }
        result
    };
    // webpki does not check a CA's keyUsage; NSS and GnuTLS refuse a path through a CA without
    // keyCertSign, whatever else it is.
    let done = |trust, path: ChainPath| match issuer_without_cert_sign(&path) {
        Some(subject) => bare(Trust::Invalid {
            reason: format!(
                "the CA certificate \"{subject}\" has a keyUsage without keyCertSign, so it may \
                 not sign certificates"
            ),
            defect: Defect::IssuerKeyUsage,
        }),
        None => TrustReport {
            trust,
            path: Some(path),
        },
    };
    let first = match verify(&sent) {
        // webpki refuses self-issued intermediates under a path length or name constraint, and
        // every directoryName constraint; RFC 5280 does not (see `path`).
        Err(error) if !expiry(&error) => match rfc5280_path(leaf, kept(), anchors, options) {
            Some(path) => return done(Trust::Trusted, path),
            None => Err(error),
        },
        other => other,
    };
    match first {
        Ok(path) => return done(Trust::Trusted, path),
        Err(webpki::Error::UnknownIssuer) => {}
        // A self-signed server certificate is that first, whatever else webpki found wrong
        // with it (a self-signed CA certificate is a "CA used as end entity" to webpki).
        Err(_) if leaf.self_signed() => return bare(Trust::SelfSigned),
        // Only with revocation lists (which the dateless builder does not read), when no single
        // moment has every certificate valid: the path is sound as far as can be told, and the
        // dates are reported by `dates`.
        Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) => {
            return bare(Trust::Trusted);
        }
        // What failed may be a decoy, and the certificate that would do was never tried.
        Err(_) if picked.capped > 0 => return capped(),
        Err(other) => {
            return bare(Trust::Invalid {
                reason: describe(&other),
                defect: defect(&other, leaf),
            });
        }
    }
    if leaf.self_signed() {
        return bare(Trust::SelfSigned);
    }
    // The top of what was sent: its issuer is what is missing or untrusted.
    let top = chain.last().unwrap_or(leaf);
    let mut extended = sent.clone();
    extended.extend(
        extra
            .elsewhere
            .iter()
            .map(|der| CertificateDer::from(der.as_slice())),
    );
    if extended.len() > sent.len() {
        if let Ok(path) = verify(&extended) {
            return done(
                Trust::IncompleteChain {
                    missing: top.issuer.clone(),
                    found_elsewhere: true,
                    fetched_from: None,
                },
                path,
            );
        }
    }
    if !extra.fetched.is_empty() {
        extended.extend(
            extra
                .fetched
                .iter()
                .map(|f| CertificateDer::from(f.der.as_slice())),
        );
        if let Ok(path) = verify(&extended) {
            // The URL of the first fetched certificate the path uses.
            let url = extra
                .fetched
                .iter()
                .find(|f| path.intermediates.contains(&f.der))
                .map(|f| f.url.clone());
            return done(
                Trust::IncompleteChain {
                    missing: top.issuer.clone(),
                    found_elsewhere: false,
                    fetched_from: url,
                },
                path,
            );
        }
    }
    if picked.capped > 0 {
        return capped();
    }
    let trust = if top.self_signed() || top.is_ca {
        // The server sent CA certificates, and the top one is not trusted: a private or unknown CA.
        Trust::UnknownCa {
            issuer: if top.self_signed() {
                top.subject.clone()
            } else {
                top.issuer.clone()
            },
        }
    } else {
        // Only the leaf was sent and its issuer is not an anchor: most likely the intermediate
        // was left out of the server's certificate file (else a private CA).
        Trust::IncompleteChain {
            missing: top.issuer.clone(),
            found_elsewhere: false,
            fetched_from: None,
        }
    };
    bare(trust)
}

/// Whether a verifier that, for each issuer, takes the first certificate sent with that subject
/// and never goes back to try another (GnuTLS's `_gnutls_sort_clist`) still reaches a trusted
/// path. `chain` is as sent, leaf first. Dates aside, like [`trust`].
pub fn first_match_trusted(chain: &[CertInfo], anchors: &TrustAnchors, now: i64) -> bool {
    let Some(leaf) = chain.first() else {
        return false;
    };
    let mut walked = vec![leaf.clone()];
    let mut used = vec![false; chain.len()];
    let mut current = leaf;
    // Bounded by the chain: each step uses a certificate not used before. A self-signed one
    // ends the walk, as it ends GnuTLS's.
    while let Some(next) = chain
        .iter()
        .enumerate()
        .skip(1)
        .filter(|_| !current.self_signed())
        .find(|(i, c)| !used[*i] && c.subject == current.issuer)
        .map(|(i, _)| i)
    {
        used[next] = true;
        current = &chain[next];
        walked.push(current.clone());
    }
    trust(
        &walked,
        anchors,
        Extra::default(),
        now,
        &PathOptions::default(),
    )
    .trust
        == Trust::Trusted
}

/// The subject of an intermediate on `path` whose keyUsage lacks keyCertSign: webpki does not
/// check it, NSS and GnuTLS refuse the chain (RFC 5280 4.2.1.3).
fn issuer_without_cert_sign(path: &ChainPath) -> Option<String> {
    path.intermediates
        .iter()
        .filter_map(|der| CertInfo::parse(der).ok())
        .find(|cert| cert.key_usage.is_some_and(|usage| !usage.key_cert_sign))
        .map(|cert| cert.subject)
}

/// A verdict without a path.
fn bare(trust: Trust) -> TrustReport {
    TrustReport { trust, path: None }
}

fn expiry(error: &webpki::Error) -> bool {
    matches!(
        error,
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }
    )
}

/// Moments to build a path at when webpki refused one for dates: the middle of the time every
/// certificate given is valid, then the middle of the leaf's overlap with each intermediate
/// (a decoy outside the others' dates must not stop the rest). Unreadable certificates are
/// skipped; at most one moment per certificate.
fn moments(leaf: &CertInfo, intermediates: &[CertificateDer<'_>]) -> Vec<i64> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let windows: Vec<(i64, i64)> = intermediates
        .iter()
        .filter_map(|der| X509Certificate::from_der(der.as_ref()).ok())
        .map(|(_, cert)| {
            (
                cert.validity().not_before.timestamp(),
                cert.validity().not_after.timestamp(),
            )
        })
        .collect();
    let middle = |(from, to): (i64, i64)| (from <= to).then(|| from + (to - from) / 2);
    let leaf_window = (leaf.not_before, leaf.not_after);
    let overlap = |a: (i64, i64), b: (i64, i64)| (a.0.max(b.0), a.1.min(b.1));
    let mut out: Vec<i64> = Vec::new();
    let all = windows.iter().fold(leaf_window, |acc, w| overlap(acc, *w));
    out.extend(middle(all));
    for window in &windows {
        if let Some(moment) = middle(overlap(leaf_window, *window)) {
            if !out.contains(&moment) {
                out.push(moment);
            }
        }
    }
    out
}

/// A path for `leaf` through `intermediates` (DER) found without looking at dates at all, by
/// [`path::build`] (the RFC 5280 builder, which holds a path to everything webpki checks but
/// dates and revocation).
fn dateless_path(
    leaf: &[u8],
    intermediates: &[&[u8]],
    anchors: &TrustAnchors,
    max_intermediates: Option<usize>,
) -> Option<ChainPath> {
    let candidates: Vec<(&[u8], &[u8])> = anchors
        .anchors
        .iter()
        .zip(&anchors.ders)
        .map(|(anchor, der)| (anchor.subject.as_ref(), der.as_slice()))
        .collect();
    let found = path::build(leaf, intermediates, &candidates, max_intermediates)?;
    Some(ChainPath {
        anchor: *anchors.origins.get(found.anchor)?,
        anchor_der: anchors.ders.get(found.anchor)?.clone(),
        intermediates: found
            .intermediates
            .iter()
            .map(|&i| intermediates.get(i).map(|der| der.to_vec()))
            .collect::<Option<_>>()?,
    })
}

/// The path [`path::build`] finds for a chain of a shape webpki refuses, when there is one. Not
/// with revocation lists, which that builder does not read.
fn rfc5280_path<'c>(
    leaf: &CertInfo,
    kept: impl Iterator<Item = &'c CertInfo>,
    anchors: &TrustAnchors,
    options: &PathOptions<'_>,
) -> Option<ChainPath> {
    let intermediates: Vec<&[u8]> = kept.map(|c| c.der.as_slice()).collect();
    if !options.crls.is_empty() || !(anchors.directory_constrained || path::wanted(&intermediates))
    {
        return None;
    }
    dateless_path(
        &leaf.der,
        &intermediates,
        anchors,
        options.max_intermediates,
    )
}

/// What path building is held to, once the revocation lists are parsed.
struct Limits<'a> {
    crls: &'a [&'a webpki::CertRevocationList<'a>],
    max_intermediates: Option<usize>,
}

/// Why webpki cannot read a revocation list, in words (its own Display is debug text).
pub fn describe_crl_error(error: &webpki::Error) -> &'static str {
    use webpki::Error as E;
    match error {
        E::BadDer | E::BadDerTime | E::TrailingData(_) => {
            "its DER encoding is malformed (is it a revocation list at all?)"
        }
        E::UnsupportedCrlVersion => "it is not a version 2 revocation list",
        E::UnsupportedCriticalExtension | E::MalformedExtensions | E::ExtensionValueInvalid => {
            "it has an extension that is malformed or critical and not understood"
        }
        E::UnsupportedDeltaCrl => "it is a delta revocation list, which is not supported",
        E::UnsupportedIndirectCrl => "it is an indirect revocation list, which is not supported",
        E::UnsupportedRevocationReason | E::UnsupportedRevocationReasonsPartitioning => {
            "it uses revocation reasons in a way that is not supported"
        }
        E::UnsupportedCrlIssuingDistributionPoint => {
            "its issuing distribution point is not supported"
        }
        E::InvalidCrlNumber => "its CRL number is invalid",
        E::InvalidSerialNumber => "it lists an invalid serial number",
        _ => "it does not parse as an X.509 revocation list",
    }
}

/// What webpki's error says is wrong, for the client policies.
fn defect(error: &webpki::Error, leaf: &CertInfo) -> Defect {
    use webpki::Error as E;
    match error {
        E::CaUsedAsEndEntity => Defect::CaAsLeaf,
        // webpki says the same for the server's EKU and a CA's: the leaf's own tells which.
        E::RequiredEkuNotFoundContext(_) => {
            if leaf.eku_server_auth == Some(false) || leaf.eku_any_only {
                Defect::LeafEku
            } else {
                Defect::IssuerEku
            }
        }
        E::EndEntityUsedAsCa => Defect::IssuerNotCa,
        E::PathLenConstraintViolated => Defect::PathLength,
        E::NameConstraintViolation => Defect::NameConstraints,
        E::UnsupportedCriticalExtension => Defect::UnknownCriticalExtension,
        E::InvalidSignatureForPublicKey => Defect::BadSignature,
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => Defect::UnsupportedAlgorithm,
        E::CertRevoked => Defect::Revoked,
        E::BadDer
        | E::BadDerTime
        | E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded => Defect::Unreadable,
        _ => Defect::Other,
    }
}

/// webpki's error in words a mail admin can act on.
fn describe(error: &webpki::Error) -> String {
    use webpki::Error as E;
    match error {
        E::CertNotValidForName(_) => "the certificate is not valid for this name".to_string(),
        E::RequiredEkuNotFoundContext(_) => {
            "the certificate's extended key usage does not allow TLS server authentication"
                .to_string()
        }
        E::CaUsedAsEndEntity => "the server certificate is a CA certificate".to_string(),
        E::EndEntityUsedAsCa => "a non-CA certificate was used to sign another".to_string(),
        E::CertRevoked => "a certificate in the chain is revoked".to_string(),
        E::NameConstraintViolation => {
            "the name violates the issuing CA's name constraints".to_string()
        }
        E::PathLenConstraintViolated => {
            "the chain is longer than a CA's path length allows".to_string()
        }
        E::InvalidSignatureForPublicKey => "a signature in the chain does not verify".to_string(),
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "the chain uses a signature algorithm no current client accepts".to_string()
        }
        E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded => {
            "no path could be built within the chain-building limits".to_string()
        }
        // webpki's error names are words too (e.g. "UnknownIssuer"); never its debug text.
        _ => "the chain does not validate".to_string(),
    }
}

/// Builds a path for `leaf` through `intermediates` to an anchor, at Unix time `at`.
fn verify(
    leaf: &[u8],
    intermediates: &[CertificateDer<'_>],
    anchors: &TrustAnchors,
    at: i64,
    limits: &Limits<'_>,
) -> Result<ChainPath, webpki::Error> {
    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der)?;
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(at).unwrap_or(0),
    ));
    let revocation = if limits.crls.is_empty() {
        None
    } else {
        webpki::RevocationOptionsBuilder::new(limits.crls)
            .ok()
            .map(|builder| {
                builder
                    .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                    .build()
            })
    };
    // Self-issued intermediates (key rollover) are not counted, as RFC 5280 4.2.1.9 does not
    // count them against a path length.
    let depth_check = |path: &webpki::VerifiedPath<'_>| match limits.max_intermediates {
        Some(max)
            if path
                .intermediate_certificates()
                .filter(|cert| cert.subject() != cert.issuer())
                .count()
                > max =>
        {
            Err(webpki::Error::MaximumPathDepthExceeded)
        }
        _ => Ok(()),
    };
    let path = end_entity.verify_for_usage(
        &super::algorithms::LENIENT,
        &anchors.anchors,
        intermediates,
        time,
        KeyUsage::server_auth(),
        revocation,
        Some(&depth_check),
    )?;
    let (anchor, anchor_der) = anchors.find(path.anchor());
    Ok(ChainPath {
        anchor,
        anchor_der,
        intermediates: path
            .intermediate_certificates()
            .map(|cert| cert.der().to_vec())
            .collect(),
    })
}
