//! `mailtls reputation`: runs the network side for one host, address or mail domain.
//!
//! discover (the host's addresses, and a domain's MX hosts) -> per address, at once: reverse DNS,
//! port 25 (banner, EHLO name, certificate) and the IP blocklists -> forward DNS of the names
//! found, and the domain blocklists for every name involved. What comes out is a
//! [`ReputationObservations`] record that `diagnose::reputation` judges without I/O.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::concurrent::in_order;

use crate::analyze::dnsbl::{self, Zone, ZoneKind};
use crate::discover::dns::{Dns, DnsError, lookup_names, lookup_ptrs};
use crate::observation::{EndpointObservation, HostLookup, HostRole, ReputationObservations};
use crate::probe::dnsbl::{Question, ask_all};
use crate::probe::{self, ProbeRequest, ProbeSettings};
use crate::service::Service;
use crate::target::Target;

/// Most MX hosts of a domain examined (a domain with more is unusual and each costs queries).
pub const MAX_MX_HOSTS: usize = 5;
/// Most names asked about in each domain list.
pub const MAX_NAMES: usize = 16;

/// What to examine and how.
#[derive(Debug, Clone)]
pub struct ReputationOptions {
    /// The host, address or mail domain.
    pub target: Target,
    /// The blocklists to ask.
    pub zones: Vec<Zone>,
    /// Resolver to use instead of the system's. Some lists refuse public resolvers.
    pub dns_server: Option<SocketAddr>,
    /// Limit per step (connect, each reply, handshake, each DNS query).
    pub step_timeout: Duration,
}

/// Why nothing could be examined.
#[derive(Debug, thiserror::Error)]
pub enum ReputationError {
    /// DNS could not be used, or the name has neither addresses nor mail exchangers.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

/// Does all the network work. `known_smtp` are port-25 observations already made (by `check`),
/// reused instead of connecting again.
pub async fn observe(
    options: &ReputationOptions,
    known_smtp: &[EndpointObservation],
) -> Result<ReputationObservations, ReputationError> {
    let dns = Dns::configured(options.dns_server, options.step_timeout)?;
    let hosts = hosts(&dns, &options.target).await?;
    let mut observations = ReputationObservations {
        target: options.target.clone(),
        hosts,
        ptr: Vec::new(),
        forward: Vec::new(),
        dnsbl: Vec::new(),
        smtp: Vec::new(),
    };
    let addresses = observations.addresses();

    let ip_questions: Vec<Question> = addresses
        .iter()
        .flat_map(|address| {
            options
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
    let settings = ProbeSettings {
        step_timeout: options.step_timeout,
    };
    let (ptr, listed, probed) = tokio::join!(
        lookup_ptrs(&dns, &addresses),
        ask_all(&dns, ip_questions),
        probe::probe_all(smtp_requests, settings),
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
    if let Some(name) = options.target.dns_name() {
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
        if let Some(name) = smtp.greeting.as_deref().and_then(banner_name) {
            add(&name);
        }
    }
    names.truncate(MAX_NAMES);
    let domain_questions: Vec<Question> = names
        .iter()
        .flat_map(|name| {
            options
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
        ask_all(&dns, domain_questions),
        lookup_names(&dns, unresolved)
    );
    observations.dnsbl.extend(listed);
    observations.forward = forward;
    Ok(observations)
}

/// The name in an SMTP greeting: `220 mx.example.com ESMTP Postfix` gives `mx.example.com`.
pub fn banner_name(greeting: &str) -> Option<String> {
    let mut words = greeting.split_whitespace();
    let code = words.next()?;
    if !code.starts_with("220") {
        return None;
    }
    let name = words.next()?.trim_end_matches('.').to_ascii_lowercase();
    (name.contains('.') || name.parse::<IpAddr>().is_ok()).then_some(name)
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

/// SNI for port 25 of `address`: the name of the first host that resolved to it.
fn sni_for(hosts: &[HostLookup], address: IpAddr) -> Option<String> {
    hosts
        .iter()
        .find(|h| h.addresses.contains(&address))
        .filter(|h| h.name.parse::<IpAddr>().is_err())
        .map(|h| h.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names() {
        assert_eq!(
            banner_name("220 mx.lab.test ESMTP Postfix (Debian/GNU)").as_deref(),
            Some("mx.lab.test")
        );
        assert_eq!(
            banner_name("220 MX.Example.COM. ready").as_deref(),
            Some("mx.example.com")
        );
        assert_eq!(banner_name("220 ESMTP ready"), None);
        assert_eq!(banner_name("554 go away"), None);
        assert_eq!(banner_name(""), None);
    }
}
