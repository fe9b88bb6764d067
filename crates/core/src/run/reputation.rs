//! `mailtls reputation`: runs the network side for one host, address or mail domain.
//!
//! discover (the host's addresses, and a domain's MX hosts) -> per address, at once: reverse DNS,
//! port 25 (banner, EHLO name, certificate) and the IP blocklists -> forward DNS of the names
//! found, and the domain blocklists for every name involved. Beside all that, for a name, what
//! sending servers learn about it as a mail domain (`run::delivery`: MX, MTA-STS, TLSA), which
//! with those port 25 probes says whether a certificate can cost it mail. What comes out is a
//! [`ReputationObservations`] record that `diagnose::reputation` judges without I/O.

use std::net::IpAddr;

use crate::analyze::dnsbl::{self, Zone, ZoneKind};
use crate::analyze::smtp;
use crate::concurrent::in_order;
use crate::diagnose;
use crate::diagnose::reputation::Reputation;
use crate::engine::Engine;
use crate::exit;
use crate::observation::delivery::DeliveryObservations;
use crate::observation::{EndpointObservation, HostLookup, HostRole, ReputationObservations};
use crate::probe::dns::{Dns, DnsError, lookup_names, lookup_ptrs};
use crate::probe::dnsbl::{Question, ask_all};
use crate::probe::{self, ProbeRequest};
use crate::service::Service;
use crate::target::Target;

/// Most MX hosts of a domain examined: the same as inbound delivery's, so that both answers of
/// the reputation report ("listed?", "can it cost mail?") speak of the same MX hosts.
pub use super::delivery::MAX_MX_HOSTS;
/// Most names asked about in each domain list.
pub const MAX_NAMES: usize = 16;

/// Blocklists, reverse DNS and SMTP names, observed and judged.
#[derive(Debug, Clone)]
pub struct ReputationReport {
    /// What was seen.
    pub observations: ReputationObservations,
    /// What it means.
    pub judged: Reputation,
}

/// Why nothing could be examined.
#[derive(Debug, thiserror::Error)]
pub enum ReputationError {
    /// DNS could not be used, or the name has neither addresses nor mail exchangers.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

impl ReputationError {
    /// The documented exit status: 3, nothing could be examined.
    pub fn exit_code(&self) -> u8 {
        exit::UNKNOWN
    }
}

/// What a command already observed (`check`), reused instead of asking again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// Port 25 observations.
    pub smtp: &'a [EndpointObservation],
    /// What senders learn about the mail domain.
    pub delivery: Option<&'a DeliveryObservations>,
}

impl Engine {
    /// Examines `target` (a host, an address, or a mail domain and its MX hosts) against
    /// `zones`, and judges it. `known` are observations already made (by `check`), reused
    /// instead of connecting again.
    pub async fn reputation(
        &self,
        target: &Target,
        zones: Vec<Zone>,
        known: Known<'_>,
    ) -> Result<ReputationReport, ReputationError> {
        let observations = self.observe_reputation(target, zones, known).await?;
        Ok(ReputationReport {
            judged: diagnose::reputation::judge(&observations, self.anchors(), super::check::now()),
            observations,
        })
    }

    /// Does all the network work of [`Engine::reputation`].
    pub async fn observe_reputation(
        &self,
        target: &Target,
        zones: Vec<Zone>,
        known: Known<'_>,
    ) -> Result<ReputationObservations, ReputationError> {
        let hosts = hosts(self.dns(), target).await?;
        // The policy may be fetched from an inside address when the domain's servers live there.
        let allow_inside = hosts
            .iter()
            .flat_map(|h| &h.addresses)
            .any(|ip| crate::address::special(*ip).is_some());
        let delivery = async {
            match (known.delivery, target.dns_name()) {
                (Some(known), _) => Some(Box::new(known.clone())),
                (None, Some(name)) => {
                    Some(Box::new(self.observe_delivery(name, allow_inside).await))
                }
                (None, None) => None,
            }
        };
        let (mut observations, delivery) =
            tokio::join!(observe(self, target, hosts, zones, known.smtp), delivery);
        observations.delivery = delivery;
        Ok(observations)
    }
}

async fn observe(
    engine: &Engine,
    target: &Target,
    hosts: Vec<HostLookup>,
    zones: Vec<Zone>,
    known_smtp: &[EndpointObservation],
) -> ReputationObservations {
    let dns = engine.dns();
    let budget = engine.budget();
    let memo = engine.probe_settings().memo.as_ref();
    let mut observations = ReputationObservations {
        target: target.clone(),
        hosts,
        ptr: Vec::new(),
        forward: Vec::new(),
        dnsbl: Vec::new(),
        smtp: Vec::new(),
        zones,
        delivery: None,
    };
    let addresses = observations.addresses();

    let ip_questions: Vec<Question> = addresses
        .iter()
        .flat_map(|address| {
            observations
                .zones
                .iter()
                .filter(|z| z.kind == ZoneKind::Ip)
                .map(move |zone| Question {
                    zone: zone.name.clone(),
                    subject: address.to_string(),
                    query: dnsbl::ip_query(*address, &zone.name),
                })
        })
        .collect();
    let smtp_requests: Vec<ProbeRequest> = addresses
        .iter()
        .filter(|address| !known_smtp.iter().any(|o| o.address == **address))
        .filter_map(|address| {
            Some(ProbeRequest {
                service: Service::for_port(25)?,
                address: *address,
                sni: sni_for(&observations.hosts, *address),
            })
        })
        .collect();
    let (ptr, listed, probed) = tokio::join!(
        lookup_ptrs(dns, &addresses, memo),
        ask_all(dns, budget, memo, ip_questions),
        probe::probe_all(smtp_requests, engine.probe_settings()),
    );
    observations.ptr = ptr;
    observations.dnsbl = listed;
    observations.smtp = known_smtp
        .iter()
        .filter(|o| o.service.port == 25 && addresses.contains(&o.address))
        .cloned()
        .chain(probed)
        .collect();

    // The names involved: the target, the MX hosts, the PTR names, and what port 25 calls itself.
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && name.parse::<IpAddr>().is_err() && !names.contains(&name) {
            names.push(name);
        }
    };
    if let Some(name) = target.dns_name() {
        add(name);
    }
    for host in &observations.hosts {
        add(&host.name);
    }
    for lookup in &observations.ptr {
        lookup.names.iter().for_each(|n| add(n));
    }
    for smtp in &observations.smtp {
        if let Some(name) = smtp.ehlo_name.as_deref() {
            add(name);
        }
        if let Some(name) = smtp.greeting.as_deref().and_then(smtp::banner_name) {
            add(&name);
        }
    }
    names.truncate(MAX_NAMES);
    let domain_questions: Vec<Question> = names
        .iter()
        .flat_map(|name| {
            observations
                .zones
                .iter()
                .filter(|z| z.kind == ZoneKind::Domain)
                .map(move |zone| Question {
                    zone: zone.name.clone(),
                    subject: name.clone(),
                    query: dnsbl::domain_query(name, &zone.name),
                })
        })
        .collect();
    // Forward DNS of everything but the hosts themselves, which are already resolved.
    let unresolved: Vec<String> = names
        .iter()
        .filter(|n| !observations.hosts.iter().any(|h| &h.name == *n))
        .cloned()
        .collect();
    let (listed, forward) = tokio::join!(
        ask_all(dns, budget, memo, domain_questions),
        lookup_names(dns, unresolved)
    );
    observations.dnsbl.extend(listed);
    observations.forward = forward;
    observations
}

/// The target's addresses and, for a name with MX records, the MX hosts and theirs.
async fn hosts(dns: &Dns, target: &Target) -> Result<Vec<HostLookup>, ReputationError> {
    let name = match target {
        Target::Ip(ip) => {
            return Ok(vec![HostLookup {
                name: ip.to_string(),
                role: HostRole::Target,
                addresses: vec![*ip],
                error: None,
            }]);
        }
        Target::Dns(name) => name,
    };
    let (own, mx) = tokio::join!(dns.addresses(name), dns.mx(name));
    let mut hosts = Vec::new();
    match own {
        Ok(addresses) => hosts.push(HostLookup {
            name: name.clone(),
            role: HostRole::Target,
            addresses,
            error: None,
        }),
        // Fine for a mail domain with MX records; an error when there are none.
        Err(DnsError::NotFound(_)) => {}
        Err(other) => return Err(other.into()),
    }
    let exchangers: Vec<(u16, String)> = mx
        .unwrap_or_default()
        .into_iter()
        // A null MX ("." , RFC 7505) means the domain takes no mail: nothing to examine.
        .filter(|(_, host)| !host.is_empty() && host != name)
        .take(MAX_MX_HOSTS)
        .collect();
    hosts.extend(
        in_order(exchangers.into_iter().map(|(preference, host)| {
            let dns = dns.clone();
            async move {
                let (addresses, error) = match dns.addresses(&host).await {
                    Ok(addresses) => (addresses, None),
                    Err(error) => (Vec::new(), Some(error.to_string())),
                };
                HostLookup {
                    name: host,
                    role: HostRole::Mx { preference },
                    addresses,
                    error,
                }
            }
        }))
        .await,
    );
    if hosts.iter().all(|h| h.addresses.is_empty()) {
        return Err(DnsError::NotFound(name.clone()).into());
    }
    Ok(hosts)
}

/// SNI for port 25 of `address`: the name of the first MX host that resolved to it (as a
/// sender sends it), else of the first host.
fn sni_for(hosts: &[HostLookup], address: IpAddr) -> Option<String> {
    let of = |mx: bool| {
        hosts
            .iter()
            .find(|h| h.addresses.contains(&address) && matches!(h.role, HostRole::Mx { .. }) == mx)
    };
    of(true)
        .or_else(|| of(false))
        .filter(|h| h.name.parse::<IpAddr>().is_err())
        .map(|h| h.name.clone())
}
