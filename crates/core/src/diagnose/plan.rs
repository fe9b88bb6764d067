//! Planning the network rounds of a check from what the earlier rounds observed: which names to
//! resolve, which AIA URLs to fetch, which candidate server names to re-probe. Pure, like the
//! judging beside it; `run::check` does the I/O.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::evidence::{self, Evidence};
use crate::analyze::cert::CertInfo;
use crate::analyze::chain::{Trust, TrustAnchors};
use crate::analyze::{self};
use crate::observation::{AiaFetch, Observations};
use crate::target::Target;

/// Most names from certificates and PTR records we look up: a certificate may carry hundreds of
/// SANs, and each costs DNS queries.
pub const MAX_NAMES_TO_RESOLVE: usize = 32;
/// Candidate server names re-probed, best first (each costs a connection per port).
pub const MAX_CANDIDATES: usize = 3;
/// Rounds of AIA fetching: the leaf's issuer, then that issuer's issuer.
pub const MAX_AIA_ROUNDS: usize = 2;
/// Most AIA URLs fetched per round.
pub const MAX_AIA_FETCHES: usize = 4;

/// The caIssuers URLs worth fetching: those of the top certificate of each chain that does not
/// reach a trust anchor with what the server (on any port) sent and what was already `fetched`.
/// At most [`MAX_AIA_FETCHES`], none fetched before.
pub fn aia_urls(
    observations: &Observations,
    fetched: &[AiaFetch],
    anchors: &TrustAnchors,
    now: i64,
) -> Vec<String> {
    let evidence = Evidence::gather(&observations.endpoints, fetched);
    let parsed_issuers: Vec<CertInfo> = evidence
        .fetched()
        .iter()
        .filter_map(|f| CertInfo::parse(&f.der).ok())
        .collect();
    let mut urls = BTreeSet::new();
    let mut seen_chains = HashSet::new();
    for endpoint in &observations.endpoints {
        let Some(tls) = &endpoint.tls else { continue };
        if !seen_chains.insert(&tls.chain) {
            continue;
        }
        let Some(analysis) = analyze::certificate(
            endpoint,
            &observations.target,
            anchors,
            evidence.extra(),
            now,
        ) else {
            continue;
        };
        let incomplete = matches!(
            analysis.trust,
            Trust::IncompleteChain {
                found_elsewhere: false,
                fetched_from: None,
                ..
            } | Trust::UnknownCa { .. }
        );
        if !incomplete {
            continue;
        }
        // The certificate whose issuer is missing: the top of the chain, or the fetched issuer of
        // that top.
        let sent_top = analysis.chain.last();
        let top = parsed_issuers
            .iter()
            .find(|c| sent_top.is_some_and(|t| t.issuer == c.subject))
            .or(sent_top);
        if let Some(top) = top.filter(|t| !t.self_signed()) {
            urls.extend(top.ca_issuers.iter().cloned());
        }
    }
    urls.into_iter()
        .filter(|url| !fetched.iter().any(|f| &f.url == url))
        .take(MAX_AIA_FETCHES)
        .collect()
}

/// Names worth resolving after the first probes: every non-wildcard SAN of every leaf and the
/// PTR names, at most [`MAX_NAMES_TO_RESOLVE`].
pub fn names_to_resolve(observations: &Observations) -> Vec<String> {
    let mut names = BTreeSet::new();
    for ptr in &observations.ptr {
        names.extend(ptr.names.iter().cloned());
    }
    for leaf in evidence::leaves(&observations.endpoints) {
        names.extend(leaf.san_dns.iter().filter(|n| !n.contains('*')).cloned());
    }
    if let Target::Dns(target) = &observations.target {
        names.remove(target);
    }
    names.into_iter().take(MAX_NAMES_TO_RESOLVE).collect()
}

/// Server names that might work instead of the target: names on a presented certificate (or PTR
/// names the certificate covers) that resolve to the address that presented it. Best first.
pub fn candidates(observations: &Observations) -> Vec<String> {
    let mut scores: BTreeMap<String, u32> = BTreeMap::new();
    for endpoint in &observations.endpoints {
        let Some(leaf) = endpoint.leaf().and_then(|der| CertInfo::parse(&der.0).ok()) else {
            continue;
        };
        let ptr = evidence::ptr_names(observations, endpoint.address);
        for name in evidence::alternatives(observations, &leaf, endpoint.address) {
            let bonus = u32::from(ptr.contains(&name));
            *scores.entry(name).or_default() += 2 + bonus;
        }
    }
    if let Target::Dns(target) = &observations.target {
        scores.remove(target);
    }
    let mut ranked: Vec<(String, u32)> = scores.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(name, _)| name)
        .collect()
}
