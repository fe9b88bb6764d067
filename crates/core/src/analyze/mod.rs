//! Pure judgement of what a probe observed: certificates, names, chain, dates. No I/O here.

pub mod algorithms;
pub mod budget;
pub mod cert;
pub mod chain;
pub mod dane;
pub mod dnsbl;
pub mod lint;
pub mod mta_sts;
pub mod names;
pub mod path;
pub mod profile;
pub mod smtp;
pub mod tlsrpt;
pub mod tlsrpt_record;
pub mod txt_fields;
pub mod versions;

use crate::observation::EndpointObservation;
use crate::target::Target;
use cert::CertInfo;
use chain::{ChainPath, DateFault, Extra, PathOptions, Trust, TrustAnchors};
use names::NameCheck;

/// What we conclude about one endpoint's certificate.
#[derive(Debug, Clone)]
pub struct CertAnalysis {
    /// The presented chain, parsed (leaf first). Unparseable certificates are left out.
    pub chain: Vec<CertInfo>,
    /// Certificates that could not be parsed (position and reason).
    pub unparseable: Vec<(usize, String)>,
    /// The name check against the target.
    pub name: NameCheck,
    /// The trust verdict.
    pub trust: Trust,
    /// Every certificate a client checks (the path's, the anchor's included) that is outside
    /// its validity dates; empty when all are within them.
    pub dates: Vec<DateFault>,
    /// The path to a trust anchor, when one was built.
    pub path: Option<ChainPath>,
    /// Whether a verifier that takes the first certificate sent for each issuer and never tries
    /// another (GnuTLS) reaches a trusted path too; `None` when no trusted path exists at all.
    pub first_match_trusted: Option<bool>,
}

impl CertAnalysis {
    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.chain.first()
    }

    /// Whether a client with no CN fallback accepts this certificate for the target (for the
    /// path alone when no name was checked).
    pub fn accepted(&self) -> bool {
        matches!(self.name, NameCheck::Covered(_) | NameCheck::NotChecked)
            && self.trust == Trust::Trusted
            && self.dates.is_empty()
    }
}

/// Analyses the certificate an endpoint presented; `None` when it presented none.
pub fn certificate(
    observation: &EndpointObservation,
    target: &Target,
    anchors: &TrustAnchors,
    extra: Extra<'_>,
    now: i64,
) -> Option<CertAnalysis> {
    let ders: Vec<&[u8]> = observation
        .chain()
        .iter()
        .map(|der| der.0.as_slice())
        .collect();
    chain_of(
        &ders,
        Some(target),
        anchors,
        extra,
        now,
        &PathOptions::default(),
    )
}

/// Analyses a chain (leaf first) for `target`: the one engine behind `check`, `cert verify` and
/// the x509-limbo conformance test. Without a target only the path is judged
/// ([`NameCheck::NotChecked`]). `None` when the chain is empty or the leaf is unreadable.
pub fn chain_of(
    ders: &[&[u8]],
    target: Option<&Target>,
    anchors: &TrustAnchors,
    extra: Extra<'_>,
    now: i64,
    options: &PathOptions<'_>,
) -> Option<CertAnalysis> {
    let mut chain = Vec::new();
    let mut unparseable = Vec::new();
    for (index, der) in ders.iter().enumerate() {
        match CertInfo::parse(der) {
            Ok(info) => chain.push(info),
            Err(error) => unparseable.push((index, error.to_string())),
        }
    }
    // Without a readable leaf there is nothing to judge; the caller reports the chain as invalid.
    if unparseable.first().map(|(i, _)| *i) == Some(0) {
        return None;
    }
    let leaf = chain.first()?;
    let name = target.map_or(NameCheck::NotChecked, |target| names::check(leaf, target));
    let report = chain::trust(&chain, anchors, extra, now, options);
    // Dates of what a client uses: an expired certificate sent but not on the path is harmless;
    // an expired root the path ends in is not (NSS and GnuTLS refuse it).
    let dates = match &report.path {
        Some(path) => {
            let intermediates: Vec<CertInfo> = path
                .intermediates
                .iter()
                .filter_map(|der| CertInfo::parse(der).ok())
                .collect();
            let anchor = CertInfo::parse(&path.anchor_der).ok();
            chain::dates(
                std::iter::once(leaf).chain(&intermediates),
                anchor.as_ref(),
                now,
            )
        }
        None => chain::dates(profile::examined(&chain, None), None, now),
    };
    let first_match_trusted =
        (report.trust == Trust::Trusted).then(|| chain::first_match_trusted(&chain, anchors, now));
    Some(CertAnalysis {
        chain,
        unparseable,
        name,
        trust: report.trust,
        dates,
        path: report.path,
        first_match_trusted,
    })
}
