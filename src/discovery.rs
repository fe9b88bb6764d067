//! `mailtls check user@example.com` (or a mail domain): find the servers clients are sent to,
//! the way clients find them, then check each.
//!
//! discover: RFC 6186/8314 SRV records, Thunderbird autoconfig (two URLs), Outlook autodiscover
//! (two URLs and the `_autodiscover._tcp` SRV), MX, and the names clients guess (`imap.`,
//! `smtp.`, `mail.`) -> check every host handed out, on the ports handed out, each host once
//! -> a [`DiscoveryObservations`] record that `diagnose::discovery` judges without I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analyze::chain::TrustAnchors;
use crate::check::{self, CheckError, CheckOptions};
use crate::concurrent::in_order;
use crate::discover::autoconfig::{self, Address, Security, ServerEntry};
use crate::discover::dns::{Dns, DnsError, lookup_names};
use crate::observation::Observations;
use crate::probe::https::{self, Fetcher, Request};
use crate::service::{Protocol, Service};
use crate::target::Target;

/// Most hosts checked (each costs a full check).
pub const MAX_HOSTS: usize = 8;

/// Where a server name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// RFC 6186 / RFC 8314 SRV record.
    Srv,
    /// Thunderbird autoconfig at autoconfig.DOMAIN.
    Autoconfig,
    /// Thunderbird autoconfig at DOMAIN/.well-known.
    AutoconfigWellKnown,
    /// Outlook autodiscover (POX) at autodiscover.DOMAIN or DOMAIN.
    Autodiscover,
    /// Outlook autodiscover reached through the `_autodiscover._tcp` SRV record.
    AutodiscoverSrv,
    /// MX record: where mail for the domain is delivered (port 25).
    Mx,
    /// A name clients try when nothing is published.
    Guess,
}

impl Source {
    /// The name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Srv => "srv",
            Source::Autoconfig => "autoconfig",
            Source::AutoconfigWellKnown => "autoconfig-well-known",
            Source::Autodiscover => "autodiscover",
            Source::AutodiscoverSrv => "autodiscover-srv",
            Source::Mx => "mx",
            Source::Guess => "guess",
        }
    }
}

/// What one source said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The source.
    pub source: Source,
    /// The DNS name asked or the URL fetched.
    pub url_or_record: String,
    /// The servers it hands out (placeholders filled).
    pub servers: Vec<ServerEntry>,
    /// The SRV record says the service is not offered (target ".").
    pub not_offered: bool,
    /// Why it gave nothing usable (not found, malformed, redirect loop, bad certificate...).
    pub error: Option<String>,
    /// The HTTPS certificate of the document's server was not valid.
    pub bad_certificate: bool,
}

impl Record {
    fn new(source: Source, url_or_record: String) -> Record {
        Record {
            source,
            url_or_record,
            servers: Vec::new(),
            not_offered: false,
            error: None,
            bad_certificate: false,
        }
    }
}

/// Everything discovery learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryObservations {
    /// The address the placeholders were filled with.
    pub email: String,
    /// The mail domain.
    pub domain: String,
    /// One per source asked.
    pub records: Vec<Record>,
    /// A full check of every host handed out, on its ports.
    pub hosts: Vec<Observations>,
}

/// The SRV services of RFC 6186 and RFC 8314, with what they imply.
const SRV_SERVICES: [(&str, Protocol, Security); 6] = [
    ("_submissions._tcp", Protocol::Smtp, Security::Tls),
    ("_submission._tcp", Protocol::Smtp, Security::Starttls),
    ("_imaps._tcp", Protocol::Imap, Security::Tls),
    ("_imap._tcp", Protocol::Imap, Security::Starttls),
    ("_pop3s._tcp", Protocol::Pop3, Security::Tls),
    ("_pop3._tcp", Protocol::Pop3, Security::Starttls),
];

/// Parses what the user typed: `user@domain`, or a domain (the local part is then `user`).
pub fn address(input: &str) -> Result<Address, crate::target::TargetError> {
    let (local, domain) = match input.trim().rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => (local.to_string(), domain),
        Some((_, domain)) => ("user".to_string(), domain),
        None => ("user".to_string(), input.trim()),
    };
    match Target::parse(domain)? {
        Target::Dns(domain) => Ok(Address { local, domain }),
        Target::Ip(ip) => Err(crate::target::TargetError::Invalid {
            input: ip.to_string(),
            reason: "a mail domain is a name, not an address",
        }),
    }
}

/// Whether a name the user typed is a mail domain, so `check NAME` should discover rather than
/// probe NAME itself: it has MX records naming other hosts, or no address of its own but MX or
/// SRV records (a name with neither is left to `check`, which says it does not resolve).
pub async fn is_mail_domain(options: &CheckOptions, name: &str) -> bool {
    let Ok(dns) = Dns::configured(options.dns_server, options.step_timeout) else {
        return false;
    };
    let (mx, own) = tokio::join!(dns.mx(name), dns.addresses(name));
    let exchangers = mx.unwrap_or_default();
    if !exchangers.is_empty() && exchangers.iter().all(|(_, host)| host != name) {
        return true;
    }
    if !matches!(own, Err(DnsError::NotFound(_))) {
        return false;
    }
    // No address of its own: a mail domain if it publishes anything for mail.
    if !exchangers.is_empty() {
        return true;
    }
    !srv_records(&dns, name).await.is_empty()
}

/// Discovers and checks. `options` carries the resolver, timeout, anchors and probe switches
/// used for every host.
pub async fn observe(
    address: &Address,
    options: &CheckOptions,
    anchors: &TrustAnchors,
) -> Result<DiscoveryObservations, CheckError> {
    let dns = Dns::configured(options.dns_server, options.step_timeout)?;
    let domain = address.domain.clone();
    let (srv, mx, guesses) = tokio::join!(
        srv_records(&dns, &domain),
        mx_record(&dns, &domain),
        guesses(&dns, &domain)
    );
    let mut records: Vec<Record> = srv;
    records.push(mx);
    records.extend(guesses);

    // Fetch from inside addresses only when the domain's own servers live there.
    let mut names: Vec<String> = records
        .iter()
        .flat_map(|r| r.servers.iter().map(|s| s.hostname.clone()))
        .chain([domain.clone()])
        .collect();
    names.sort();
    names.dedup();
    names.truncate(MAX_HOSTS * 2);
    let allow_private = lookup_names(&dns, names)
        .await
        .iter()
        .flat_map(|lookup| lookup.addresses.iter().copied())
        .any(https::is_inside);
    records.extend(documents(&dns, address, anchors, allow_private, options).await);

    // Every host handed out, with the ports it was handed out with.
    let mut hosts: BTreeMap<String, Vec<Service>> = BTreeMap::new();
    for server in records.iter().flat_map(|r| &r.servers) {
        if let Some(service) =
            Service::for_port(server.port).filter(|s| s.protocol == server.protocol)
        {
            let ports = hosts.entry(server.hostname.clone()).or_default();
            if !ports.contains(&service) {
                ports.push(service);
            }
        }
    }
    let checks = hosts
        .into_iter()
        .take(MAX_HOSTS)
        .filter_map(|(host, mut services)| {
            let mut host_options = options.clone();
            host_options.target = Target::parse(&host).ok()?;
            services.sort();
            host_options.services = services;
            let anchors = anchors.clone();
            Some(async move { check::observe(&host_options, &anchors).await })
        });
    // A host that does not resolve is reported per entry; it has no observations.
    let hosts = in_order(checks).await.into_iter().flatten().collect();
    Ok(DiscoveryObservations {
        email: address.email(),
        domain,
        records,
        hosts,
    })
}

async fn srv_records(dns: &Dns, domain: &str) -> Vec<Record> {
    let lookups = SRV_SERVICES.iter().map(|&(service, protocol, security)| {
        let dns = dns.clone();
        let name = format!("{service}.{domain}");
        async move {
            let mut record = Record::new(Source::Srv, name.clone());
            match dns.srv(&name).await {
                Ok(answers) => {
                    for (_, _, port, target) in answers {
                        if target.is_empty() {
                            record.not_offered = true;
                        } else {
                            record.servers.push(ServerEntry {
                                protocol,
                                hostname: target,
                                port,
                                security,
                            });
                        }
                    }
                }
                Err(error) => record.error = Some(error.to_string()),
            }
            record
        }
    });
    in_order(lookups)
        .await
        .into_iter()
        .filter(|r| !r.servers.is_empty() || r.not_offered)
        .collect()
}

async fn mx_record(dns: &Dns, domain: &str) -> Record {
    let mut record = Record::new(Source::Mx, domain.to_string());
    match dns.mx(domain).await {
        Ok(exchangers) => {
            for (_, host) in exchangers {
                if host.is_empty() {
                    record.not_offered = true;
                    continue;
                }
                record.servers.push(ServerEntry {
                    protocol: Protocol::Smtp,
                    hostname: host,
                    port: 25,
                    security: Security::Starttls,
                });
            }
        }
        Err(error) => record.error = Some(error.to_string()),
    }
    record
}

/// `imap.`, `smtp.` and `mail.` + domain, when they resolve: marked as guesses.
async fn guesses(dns: &Dns, domain: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for (prefix, entries) in [
        ("imap", vec![(Protocol::Imap, 993, Security::Tls)]),
        ("smtp", vec![(Protocol::Smtp, 465, Security::Tls)]),
        (
            "mail",
            vec![
                (Protocol::Imap, 993, Security::Tls),
                (Protocol::Smtp, 465, Security::Tls),
            ],
        ),
    ] {
        let host = format!("{prefix}.{domain}");
        if dns.addresses(&host).await.is_err() {
            continue;
        }
        let mut record = Record::new(Source::Guess, host.clone());
        record.servers = entries
            .into_iter()
            .map(|(protocol, port, security)| ServerEntry {
                protocol,
                hostname: host.clone(),
                port,
                security,
            })
            .collect();
        out.push(record);
    }
    out
}

/// The autoconfig and autodiscover documents, fetched at once.
async fn documents(
    dns: &Dns,
    address: &Address,
    anchors: &TrustAnchors,
    allow_private: bool,
    options: &CheckOptions,
) -> Vec<Record> {
    let domain = &address.domain;
    let email = address.email();
    let mut asks: Vec<(Source, Request)> = vec![
        (
            Source::Autoconfig,
            Request {
                url: format!(
                    "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={}",
                    email.replace('@', "%40")
                ),
                body: None,
            },
        ),
        (
            Source::AutoconfigWellKnown,
            Request {
                url: format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
                body: None,
            },
        ),
    ];
    for host in [format!("autodiscover.{domain}"), domain.clone()] {
        asks.push((
            Source::Autodiscover,
            Request {
                url: format!("https://{host}/autodiscover/autodiscover.xml"),
                body: Some(autoconfig::autodiscover_request(&email)),
            },
        ));
    }
    if let Ok(answers) = dns.srv(&format!("_autodiscover._tcp.{domain}")).await {
        if let Some((_, _, port, target)) = answers.into_iter().find(|a| !a.3.is_empty()) {
            asks.push((
                Source::AutodiscoverSrv,
                Request {
                    url: format!("https://{target}:{port}/autodiscover/autodiscover.xml"),
                    body: Some(autoconfig::autodiscover_request(&email)),
                },
            ));
        }
    }
    let fetcher = match Fetcher::new(
        dns.clone(),
        anchors.root_store(),
        allow_private,
        options.step_timeout,
    ) {
        Ok(fetcher) => fetcher,
        Err(error) => {
            return asks
                .into_iter()
                .map(|(source, request)| {
                    let mut record = Record::new(source, request.url);
                    record.error = Some(error.to_string());
                    record
                })
                .collect();
        }
    };
    let fetches = asks.into_iter().map(|(source, request)| {
        let fetcher = fetcher.clone();
        let address = address.clone();
        async move {
            let mut record = Record::new(source, request.url.clone());
            match fetcher.fetch(&request).await {
                Ok(text) => {
                    let parsed = match source {
                        Source::Autoconfig | Source::AutoconfigWellKnown => {
                            autoconfig::parse_client_config(&text, &address)
                        }
                        _ => autoconfig::parse_autodiscover(&text),
                    };
                    match parsed {
                        Ok(servers) => record.servers = servers,
                        Err(error) => record.error = Some(error.to_string()),
                    }
                }
                Err(error) => {
                    record.bad_certificate = matches!(error, https::FetchError::BadCertificate(_));
                    record.error = Some(error.to_string());
                }
            }
            record
        }
    });
    in_order(fetches).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_domains() {
        let a = address("Jane@Example.COM").unwrap();
        assert_eq!(
            (a.local.as_str(), a.domain.as_str()),
            ("Jane", "example.com")
        );
        let d = address("example.com").unwrap();
        assert_eq!(d.email(), "user@example.com");
        assert!(address("jane@192.0.2.1").is_err());
        assert!(address("jane@").is_err());
    }
}
