//! Pure judgement of what a probe observed: certificates, names, chain, dates. No I/O here.

pub mod cert;
pub mod chain;
pub mod names;

use crate::observation::EndpointObservation;
use crate::target::Target;
use cert::CertInfo;
use chain::{Dates, Trust, TrustAnchors};
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
    /// The dates verdict.
    pub dates: Dates,
}

impl CertAnalysis {
    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.chain.first()
    }

    /// Whether a client with no CN fallback accepts this certificate for the target.
    pub fn accepted(&self) -> bool {
        matches!(self.name, NameCheck::Covered(_))
            && self.trust == Trust::Trusted
            && self.dates == Dates::Valid
    }
}

/// Analyses the certificate an endpoint presented; `None` when it presented none.
pub fn certificate(
    observation: &EndpointObservation,
    target: &Target,
    anchors: &TrustAnchors,
    elsewhere: &[Vec<u8>],
    now: i64,
) -> Option<CertAnalysis> {
    let tls = observation.tls.as_ref()?;
    if tls.chain.is_empty() {
        return None;
    }
    let mut chain = Vec::new();
    let mut unparseable = Vec::new();
    for (index, der) in tls.chain.iter().enumerate() {
        match CertInfo::parse(&der.0) {
            Ok(info) => chain.push(info),
            Err(error) => unparseable.push((index, error.to_string())),
        }
    }
    // Without a readable leaf there is nothing to judge; the caller reports the chain as invalid.
    if unparseable.first().map(|(i, _)| *i) == Some(0) {
        return None;
    }
    let leaf = chain.first()?;
    let name = names::check(leaf, target);
    let trust = chain::trust(&chain, anchors, elsewhere, now);
    let dates = chain::dates(&chain, now);
    Some(CertAnalysis {
        chain,
        unparseable,
        name,
        trust,
        dates,
    })
}
