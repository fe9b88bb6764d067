//! `check user@example.com` (or a mail domain): find the servers clients are sent to, the way
//! clients find them, then check each.
//!
//! discover: RFC 6186/8314 SRV records, Thunderbird autoconfig (two URLs), Outlook autodiscover
//! (two URLs and the `_autodiscover._tcp` SRV), MX, the names clients guess (`imap.`,
//! `smtp.`, `mail.`), and Mozilla's ISP database for the domain and for its MX host's domains
//! (`run::ispdb`) -> check every host handed out, on the ports handed out, each host once
//! -> a [`DiscoveryObservations`] record that `diagnose::discovery` judges without I/O.
//! Beside the documents and host checks, what sending servers see (`run::delivery`: MX, MTA-STS,
//! TLS-RPT, TLSA), whose port 25 is among the hosts checked.

use std::collections::BTreeMap;

use super::check::{CheckError, CheckOptions};
use super::delivery::MAX_MX_HOSTS;
use crate::analyze::chain::TrustAnchors;
use crate::clients::account_setup;
use crate::concurrent::in_order;
use crate::diagnose::discovery::{self, DiscoveryReport};
use crate::engine::Engine;
use crate::observation::dnssec::DnssecStatus;
use crate::observation::{
    DiscoveryObservations, DocumentAnswer, GuessedHost, Record, Security, ServerEntry, SkipReason,
    SkippedHost, Source, SourceErrorKind, UnansweredHost,
};
use crate::probe::dns::{Dns, DnsError};
use crate::probe::http::{FetchError, FetchFailure, Fetcher, Policy, Scheme};
use crate::provisioning::documents::{self, DocumentError};
use crate::service::{Protocol, Service};
use crate::target::{Address, Target};

/// Most hosts checked (each costs a full check).
pub const MAX_HOSTS: usize = 8;

/// The SRV services of RFC 6186 and RFC 8314, with what they imply.
const SRV_SERVICES: [(&str, Protocol, Security); 6] = [
    ("_submissions._tcp", Protocol::Smtp, Security::Tls),
    ("_submission._tcp", Protocol::Smtp, Security::Starttls),
    ("_imaps._tcp", Protocol::Imap, Security::Tls),
    ("_imap._tcp", Protocol::Imap, Security::Starttls),
    ("_pop3s._tcp", Protocol::Pop3, Security::Tls),
    ("_pop3._tcp", Protocol::Pop3, Security::Starttls),
];

impl Engine {
    /// Whether a name the user typed is a mail domain, so `check NAME` should discover rather
    /// than probe NAME itself: it has MX records naming other hosts, or no address of its own
    /// but MX or SRV records (a name with neither is left to the host check, which says it does
    /// not resolve). The answers stay in the resolver's cache for what follows.
    ///
    /// A resolver that times out or fails on the MX question leaves it undecided: that is an
    /// error (a guess would turn a busy resolver into "does not resolve").
    pub async fn is_mail_domain(&self, name: &str) -> Result<bool, DnsError> {
        let dns = self.dns();
        let (mx, own) = tokio::join!(dns.mx(name), dns.addresses(name));
        let exchangers = match mx {
            Ok(exchangers) => exchangers,
            Err(DnsError::NotFound(_)) => Vec::new(),
            // A validating resolver answers SERVFAIL for a bogus MX RRset. mailtls's own
            // validator tells that apart: a domain with MX records that fail validation is a
            // mail domain whose mail waits, which is for its report to say.
            Err(error @ DnsError::Failed { .. }) => {
                let validated = self.validator().mx(name).await;
                if validated.dnssec == DnssecStatus::Bogus && !validated.records.is_empty() {
                    return Ok(true);
                }
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        if !exchangers.is_empty() && exchangers.iter().all(|(_, host)| host != name) {
            return Ok(true);
        }
        match own {
            Err(DnsError::NotFound(_)) => {}
            Err(error @ (DnsError::Timeout(_) | DnsError::Failed { .. })) => return Err(error),
            _ => return Ok(false),
        }
        // No address of its own: a mail domain if it publishes anything for mail.
        if !exchangers.is_empty() {
            return Ok(true);
        }
        Ok(!srv_records(dns, name).await.is_empty())
    }

    /// Discovers where `address`'s domain sends clients, and checks every host handed out (with
    /// `options`' probe switches) on the ports it was handed out with.
    pub async fn discover(
        &self,
        address: &Address,
        options: &CheckOptions,
    ) -> Result<DiscoveryObservations, CheckError> {
        let dns = self.dns();
        let domain = address.domain.clone();
        let (srv, mx, guesses) = tokio::join!(
            srv_records(dns, &domain),
            mx_record(dns, &domain),
            guesses(dns, &domain)
        );
        let (mx, exchangers) = mx;
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
        let lookups = in_order(names.into_iter().map(|name| {
            let dns = dns.clone();
            async move { dns.addresses(&name).await }
        }))
        .await;
        let allow_inside = lookups
            .iter()
            .flat_map(|lookup| lookup.iter().flatten().copied())
            .any(|ip| crate::address::special(ip).is_some());
        let inside_unknown = lookups
            .iter()
            .any(|lookup| matches!(lookup, Err(DnsError::Timeout(_) | DnsError::Failed { .. })));
        // What senders see runs beside everything clients see: its DNS questions and policy
        // fetch are over long before the host checks.
        let clients = async {
            // Thunderbird's steps 5 and 6 come after the documents, in Thunderbird's order.
            let (mut documents, ispdb) = tokio::join!(
                self.documents(address, allow_inside),
                self.ispdb_steps(address, &exchangers, allow_inside)
            );
            documents.extend(ispdb);
            if inside_unknown {
                // A refusal rests on knowing that none of the domain's servers live inside; with a
                // question unanswered, that is not known.
                for error in documents.iter_mut().filter_map(|r| r.error.as_mut()) {
                    if error.kind == SourceErrorKind::InsideAddress {
                        error.kind = SourceErrorKind::NotChecked;
                        error.detail = format!(
                            "{}, and whether the domain's own servers are inside too is not known: \
                             DNS did not answer",
                            error.detail
                        );
                    }
                }
            }
            records.extend(documents);

            // Every host handed out, with the ports it was handed out with: the first MAX_HOSTS
            // in the records' order (the domain's own sources before the ISP database's), and
            // apart from them the first MAX_MX_HOSTS MX hosts (most preferred first) on port 25,
            // which senders deliver to.
            let mut hosts: BTreeMap<String, Vec<Service>> = BTreeMap::new();
            let mut skipped: Vec<SkippedHost> = Vec::new();
            let (mut for_clients, mut for_senders) = (0, 0);
            for record in &records {
                let mx = record.source == Source::Mx;
                for server in &record.servers {
                    let Some(service) =
                        Service::for_port(server.port).filter(|s| s.protocol == server.protocol)
                    else {
                        continue;
                    };
                    if !hosts.contains_key(&server.hostname) {
                        let (taken, cap, what) = if mx {
                            (&mut for_senders, MAX_MX_HOSTS, "MX hosts")
                        } else {
                            (&mut for_clients, MAX_HOSTS, "hosts were handed out")
                        };
                        if *taken >= cap {
                            if !skipped.iter().any(|s| s.name == server.hostname) {
                                skipped.push(SkippedHost {
                                    name: server.hostname.clone(),
                                    reason: SkipReason::TooMany,
                                    detail: format!(
                                        "more than {cap} {what}; the first were checked"
                                    ),
                                });
                            }
                            continue;
                        }
                        *taken += 1;
                    }
                    let ports = hosts.entry(server.hostname.clone()).or_default();
                    if !ports.contains(&service) {
                        ports.push(service);
                    }
                }
            }
            let checks = hosts.into_iter().filter_map(|(host, mut services)| {
                let target = Target::parse(&host).ok()?;
                services.sort();
                // The hosts handed out are names from DNS and documents, not typed by anyone.
                let options = CheckOptions {
                    services,
                    typed: None,
                    ..options.clone()
                };
                let engine = self.clone();
                Some(async move { (host, engine.observe_host(&target, &options).await) })
            });
            // A host that does not resolve, or that this run does not connect to, is reported per
            // entry with why; it has no observations. One our resolver did not answer for is
            // unknown, and said so.
            let mut hosts = Vec::new();
            let mut unanswered = Vec::new();
            for (name, result) in in_order(checks).await {
                match result {
                    Ok(observations) => hosts.push(observations),
                    Err(error) if error.is_transient() => unanswered.push(UnansweredHost {
                        name,
                        detail: error.to_string(),
                    }),
                    Err(CheckError::Dns(error @ DnsError::NotFound(_))) => {
                        skipped.push(SkippedHost {
                            name,
                            reason: SkipReason::NoSuchName,
                            detail: error.to_string(),
                        });
                    }
                    Err(CheckError::Dns(error @ DnsError::Refused { .. })) => {
                        skipped.push(SkippedHost {
                            name,
                            reason: SkipReason::Refused,
                            detail: error.to_string(),
                        });
                    }
                    // The resolver itself could not be used: nothing is known about the host.
                    Err(error) => unanswered.push(UnansweredHost {
                        name,
                        detail: error.to_string(),
                    }),
                }
            }
            // Thunderbird's guess, when no step before it answers for sure.
            let guessed = if account_setup::guess_matters(&records, &domain) {
                self.guessed(&domain, options).await
            } else {
                Vec::new()
            };
            (records, hosts, unanswered, skipped, guessed)
        };
        let delivery = async {
            if options.no_inbound {
                None
            } else {
                Some(Box::new(self.observe_delivery(&domain, allow_inside).await))
            }
        };
        let (delivery, (records, hosts, unanswered, skipped, guessed)) =
            tokio::join!(delivery, clients);
        Ok(DiscoveryObservations {
            email: address.email(),
            domain,
            records,
            hosts,
            unanswered,
            skipped,
            guessed,
            delivery,
        })
    }

    /// Judges discovery observations at `at` with `anchors`.
    pub fn judge_domain(
        &self,
        observations: &DiscoveryObservations,
        anchors: &TrustAnchors,
        at: i64,
    ) -> DiscoveryReport {
        discovery::judge(observations, anchors, at)
    }

    /// The autoconfig and autodiscover documents, fetched at once.
    async fn documents(&self, address: &Address, allow_inside: bool) -> Vec<Record> {
        let domain = &address.domain;
        let email = address.email();
        // Thunderbird's four autoconfig URLs. The plain-HTTP ones go without the address:
        // mailtls does not send it in clear.
        let mut asks: Vec<(Source, String, Option<String>, Scheme)> = vec![
            (
                Source::Autoconfig,
                format!(
                    "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={}",
                    email.replace('@', "%40")
                ),
                None,
                Scheme::Https,
            ),
            (
                Source::AutoconfigWellKnown,
                format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
                None,
                Scheme::Https,
            ),
            (
                Source::AutoconfigHttp,
                format!("http://autoconfig.{domain}/mail/config-v1.1.xml"),
                None,
                Scheme::HttpThenAny,
            ),
            (
                Source::AutoconfigWellKnownHttp,
                format!("http://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
                None,
                Scheme::HttpThenAny,
            ),
        ];
        // Outlook's order: the domain itself, then autodiscover.DOMAIN (the HTTP redirect
        // method and the SRV record are asked below).
        for (source, host) in [
            (Source::AutodiscoverDomain, domain.clone()),
            (Source::Autodiscover, format!("autodiscover.{domain}")),
        ] {
            asks.push((
                source,
                format!("https://{host}/autodiscover/autodiscover.xml"),
                Some(documents::autodiscover_request(&email)),
                Scheme::Https,
            ));
        }
        let srv_name = format!("_autodiscover._tcp.{domain}");
        let (srv, redirect) = tokio::join!(
            self.dns().srv(&srv_name),
            self.autodiscover_redirect(domain, allow_inside)
        );
        if let Some(location) = redirect {
            asks.push((
                Source::AutodiscoverRedirect,
                location,
                Some(documents::autodiscover_request(&email)),
                Scheme::Https,
            ));
        }
        if let Ok(answers) = srv {
            if let Some((_, _, port, target)) = answers.into_iter().find(|a| !a.3.is_empty()) {
                asks.push((
                    Source::AutodiscoverSrv,
                    format!("https://{target}:{port}/autodiscover/autodiscover.xml"),
                    Some(documents::autodiscover_request(&email)),
                    Scheme::Https,
                ));
            }
        }
        let fetches = asks.into_iter().map(|(source, url, body, scheme)| {
            let fetcher = self.fetcher().clone();
            let address = address.clone();
            let policy = Policy {
                scheme,
                max_body: crate::observation::discovery::MAX_DOCUMENT,
                allow_inside,
            };
            async move { fetch_document(&fetcher, source, url, body, policy, &address).await }
        });
        in_order(fetches).await
    }
}

impl Engine {
    /// Every host Thunderbird's guess tries, checked on the ports it tries there (all client
    /// verdicts kept: the guess needs Thunderbird's).
    async fn guessed(&self, domain: &str, options: &CheckOptions) -> Vec<GuessedHost> {
        let checks = account_setup::guess::hosts(domain)
            .into_iter()
            .map(|(name, ports)| {
                let engine = self.clone();
                let mut services: Vec<Service> =
                    ports.into_iter().filter_map(Service::for_port).collect();
                services.sort();
                let options = CheckOptions {
                    services,
                    typed: None,
                    clients: Vec::new(),
                    reputation: None,
                    ..options.clone()
                };
                async move {
                    let Ok(target) = Target::parse(&name) else {
                        return GuessedHost {
                            name,
                            check: None,
                            unanswered: None,
                        };
                    };
                    let (check, unanswered) = match engine.observe_host(&target, &options).await {
                        Ok(observations) => (Some(observations), None),
                        Err(error) if error.is_transient() => (None, Some(error.to_string())),
                        Err(_) => (None, None),
                    };
                    GuessedHost {
                        name,
                        check,
                        unanswered,
                    }
                }
            });
        in_order(checks).await
    }

    /// Outlook's HTTP redirect method: where http://autodiscover.DOMAIN/autodiscover/... sends
    /// clients, when it redirects to an HTTPS URL (anything else counts as not offered).
    async fn autodiscover_redirect(&self, domain: &str, allow_inside: bool) -> Option<String> {
        let policy = Policy {
            scheme: Scheme::Http,
            max_body: crate::observation::discovery::MAX_DOCUMENT,
            allow_inside,
        };
        let url = format!("http://autodiscover.{domain}/autodiscover/autodiscover.xml");
        match self.fetcher().redirect_of(&url, policy).await {
            Ok(Some(location)) if location.starts_with("https://") => Some(location),
            _ => None,
        }
    }
}

/// Fetches the document at `url` (POSTing `body`, for autodiscover) into a record of `source`:
/// the servers it hands out, or why a client cannot use it, with the chain its server presented.
pub(super) async fn fetch_document(
    fetcher: &Fetcher,
    source: Source,
    url: String,
    body: Option<String>,
    policy: Policy,
    address: &Address,
) -> Record {
    let mut record = Record::new(source, url.clone());
    match fetcher.fetch(&url, body.as_deref(), policy).await {
        Ok(fetched) => {
            record.https_chain = fetched.chain;
            record.answered_by = Some(fetched.url);
            let text = String::from_utf8_lossy(&fetched.body);
            let parsed = match source {
                Source::AutodiscoverDomain
                | Source::Autodiscover
                | Source::AutodiscoverRedirect
                | Source::AutodiscoverSrv => documents::parse_autodiscover(&text),
                _ => documents::parse_client_config(&text, address),
            };
            record.answer = Some(DocumentAnswer {
                content_type: fetched.content_type.clone(),
                well_formed: !matches!(parsed, Err(DocumentError::Malformed(_))),
            });
            match parsed {
                Ok(servers) => record.servers = servers,
                Err(error) => record.fail(document_error_kind(&error), error.to_string()),
            }
        }
        Err(FetchFailure { error, url, chain }) => {
            record.https_chain = chain;
            record.answered_by = Some(url);
            record.fail(fetch_error_kind(&error), error.to_string());
        }
    }
    record
}

/// What a failed fetch means for a client.
pub(super) fn fetch_error_kind(error: &FetchError) -> SourceErrorKind {
    match error {
        FetchError::NoSuchHost(_) | FetchError::Status(404) => SourceErrorKind::NotPublished,
        FetchError::BadCertificate(_) => SourceErrorKind::BadCertificate,
        FetchError::PrivateAddress { .. } => SourceErrorKind::InsideAddress,
        FetchError::Redirect(_) => SourceErrorKind::BadRedirect,
        FetchError::Connect(_) | FetchError::Status(_) | FetchError::Timeout(_) => {
            SourceErrorKind::Unreachable
        }
        FetchError::Resolver(_) => SourceErrorKind::NotChecked,
        FetchError::Url(_) | FetchError::TooLarge(_) | FetchError::Other(_) => {
            SourceErrorKind::Other
        }
    }
}

/// What an unusable document means for a client.
pub(super) fn document_error_kind(error: &DocumentError) -> SourceErrorKind {
    match error {
        DocumentError::Redirect(_) => SourceErrorKind::Redirect,
        DocumentError::Malformed(_)
        | DocumentError::WrongDocument { .. }
        | DocumentError::Empty => SourceErrorKind::BadDocument,
    }
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
                Err(DnsError::NotFound(name)) => record.fail(
                    SourceErrorKind::NotPublished,
                    format!("{name} does not resolve"),
                ),
                Err(error) => record.fail(unanswered(&error), error.to_string()),
            }
            record
        }
    });
    // A record that was not checked stays: the report must say that something is unknown.
    in_order(lookups)
        .await
        .into_iter()
        .filter(|r| {
            !r.servers.is_empty()
                || r.not_offered
                || r.error
                    .as_ref()
                    .is_some_and(|e| e.kind == SourceErrorKind::NotChecked)
        })
        .collect()
}

/// The MX record, with the answer itself (preferences included) for Thunderbird's step 6.
async fn mx_record(dns: &Dns, domain: &str) -> (Record, Result<Vec<(u16, String)>, DnsError>) {
    let mut record = Record::new(Source::Mx, domain.to_string());
    let answer = dns.mx(domain).await;
    match answer.clone() {
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
        Err(DnsError::NotFound(name)) => record.fail(
            SourceErrorKind::NotPublished,
            format!("{name} does not resolve"),
        ),
        Err(error) => record.fail(unanswered(&error), error.to_string()),
    }
    (record, answer)
}

/// What a DNS question that got no usable answer means for its source: our resolver's silence
/// or failure says nothing about the source; anything else is the source's own fault.
fn unanswered(error: &DnsError) -> SourceErrorKind {
    match error {
        DnsError::Timeout(_) | DnsError::Failed { .. } => SourceErrorKind::NotChecked,
        _ => SourceErrorKind::Other,
    }
}

/// `imap.`, `smtp.` and `mail.` + domain, when they resolve: marked as guesses. A guess our
/// resolver did not answer for is kept as not checked: clients might find a server there.
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
        let mut record = Record::new(Source::Guess, host.clone());
        match dns.addresses(&host).await {
            Ok(_) => {}
            Err(error @ (DnsError::Timeout(_) | DnsError::Failed { .. })) => {
                record.fail(SourceErrorKind::NotChecked, error.to_string());
                out.push(record);
                continue;
            }
            Err(_) => continue,
        }
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
