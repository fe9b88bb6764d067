//! Facts drawn from a check's observations that both planning (what to ask the network next)
//! and judging need: which names on a certificate reach the same server, which CA certificates
//! other ports sent, which issuers AIA URLs gave.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::analyze::cert::CertInfo;
use crate::analyze::chain::{Extra, Fetched};
use crate::analyze::names::dns_matches;
use crate::observation::{AiaFetch, EndpointObservation, Observations};
use crate::target::Target;

/// What completes a chain besides what a port sent: CA certificates other ports sent, and
/// issuers fetched from AIA URLs. Gathered once per judgement.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    elsewhere: Vec<Vec<u8>>,
    fetched: Vec<Fetched>,
}

impl Evidence {
    /// The evidence in `observations`, with `fetched` as the AIA fetches so far.
    pub fn gather(endpoints: &[EndpointObservation], fetched: &[AiaFetch]) -> Evidence {
        Evidence {
            elsewhere: ca_certificates(endpoints),
            fetched: fetched_issuers(fetched),
        }
    }

    /// As the chain analysis takes it.
    pub fn extra(&self) -> Extra<'_> {
        Extra {
            elsewhere: &self.elsewhere,
            fetched: &self.fetched,
        }
    }

    /// The issuers fetched from AIA URLs.
    pub fn fetched(&self) -> &[Fetched] {
        &self.fetched
    }
}

/// The issuer certificates fetched from AIA URLs, flattened.
fn fetched_issuers(fetches: &[AiaFetch]) -> Vec<Fetched> {
    fetches
        .iter()
        .flat_map(|fetch| {
            fetch.certificates.iter().map(|der| Fetched {
                url: fetch.url.clone(),
                der: der.0.clone(),
            })
        })
        .collect()
}

/// CA certificates sent on any port, to tell "this port forgot the intermediate" from "unknown".
fn ca_certificates(endpoints: &[EndpointObservation]) -> Vec<Vec<u8>> {
    let mut seen = BTreeSet::new();
    endpoints
        .iter()
        .filter_map(|e| e.tls.as_ref())
        .flat_map(|tls| tls.chain.iter().skip(1))
        .filter(|der| seen.insert(der.0.clone()))
        .filter(|der| CertInfo::parse(&der.0).is_ok_and(|c| c.is_ca))
        .map(|der| der.0.clone())
        .collect()
}

/// Every distinct leaf the endpoints presented, parsed.
pub fn leaves(endpoints: &[EndpointObservation]) -> Vec<CertInfo> {
    let mut seen = BTreeSet::new();
    endpoints
        .iter()
        .filter_map(|e| e.leaf())
        .filter(|der| seen.insert(der.0.clone()))
        .filter_map(|der| CertInfo::parse(&der.0).ok())
        .collect()
}

/// Names on `leaf` (non-wildcard SANs, and PTR names it covers) that resolve to `address`,
/// other than the target itself.
pub fn alternatives(observations: &Observations, leaf: &CertInfo, address: IpAddr) -> Vec<String> {
    let mut names: Vec<String> = leaf
        .san_dns
        .iter()
        .filter(|name| !name.contains('*'))
        .filter(|name| resolves_to(observations, name, address))
        .cloned()
        .collect();
    for ptr in ptr_names(observations, address) {
        let covered = leaf
            .san_dns
            .iter()
            .any(|pattern| dns_matches(pattern, &ptr));
        if covered && resolves_to(observations, &ptr, address) && !names.contains(&ptr) {
            names.push(ptr);
        }
    }
    if let Target::Dns(target) = &observations.target {
        names.retain(|n| n != target);
    }
    names
}

fn resolves_to(observations: &Observations, name: &str, address: IpAddr) -> bool {
    observations
        .names
        .iter()
        .any(|lookup| lookup.name == name && lookup.addresses.contains(&address))
}

/// The PTR names of `address`.
pub fn ptr_names(observations: &Observations, address: IpAddr) -> Vec<String> {
    observations
        .ptr
        .iter()
        .filter(|p| p.address == address)
        .flat_map(|p| p.names.iter().cloned())
        .collect()
}

/// The names a certificate presents, for a sentence: all of up to four, else three and a count.
pub fn presented_list(leaf: &CertInfo) -> String {
    let names = leaf.presented_names();
    match names.len() {
        0 => format!("\"{}\" (no names)", leaf.subject),
        1..=4 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    }
}
