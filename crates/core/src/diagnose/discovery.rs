//! Judges discovery: for every server a source hands out, whether a client sent there gets a
//! certificate that covers the name, and if not, what the source should say instead. Then the
//! settings that work without a warning. Pure.

use super::autodiscover::{self, AutodiscoverWarning};
use super::summary::SummaryKind;
use super::{Code, Diagnosis, Recommendation, Severity, Verdict, port_list};
use crate::analyze::chain::TrustAnchors;
use crate::clients::account_setup::Prediction;
use crate::clients::discovery::{Reaction, Walked};
use crate::clients::{self, Client};
use crate::observation::{
    DiscoveryObservations, Record, Security, ServerEntry, SkipReason, Source, SourceErrorKind,
};
use crate::provisioning::settings::{self, AccountSettings};
use crate::service::{Direction, Service};
use crate::target::Target;

crate::vocabulary::vocabulary! {
    /// What happens to a client sent to one handed-out server.
    pub enum EntryStatus {
        /// The certificate covers the name, is valid and trusted.
        Works => "works",
        /// The certificate does not cover the name handed out.
        NameNotCovered => "name-not-covered",
        /// Another certificate or TLS problem (the code is in `detail`).
        CertificateProblem => "certificate-problem",
        /// The security handed out is "none": the password travels in clear.
        Plaintext => "plaintext",
        /// Nothing answered on that port.
        Unreachable => "unreachable",
        /// The name handed out does not resolve (no such name, no address records, or not a
        /// host name at all): clients sent there cannot connect.
        DoesNotResolve => "does-not-resolve",
        /// The server turned every attempt away as busy, or never greeted: not checked.
        RateLimited => "rate-limited",
        /// An SRV record with target "." (RFC 2782): the service is decidedly not offered.
        NotOffered => "not-offered",
        /// The source itself failed: not found, malformed, redirect loop, bad certificate.
        SourceError => "source-error",
        /// mailtls's own resolver gave no answer for the source, or for the address of the
        /// host handed out, or this run does not connect to that host (its address is in a
        /// refused range, too many hosts, a port mailtls does not check for the protocol):
        /// nothing is known about it.
        NotChecked => "not-checked",
    }
}

impl EntryStatus {
    /// A client sent there warns, or sends the password in clear.
    pub fn is_broken(self) -> bool {
        matches!(
            self,
            EntryStatus::NameNotCovered | EntryStatus::CertificateProblem | EntryStatus::Plaintext
        )
    }
}

/// One line of the discovery table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the name came from.
    pub source: Source,
    /// The DNS record or URL.
    pub url_or_record: String,
    /// The name handed out (empty for source errors and "not offered").
    pub hostname: String,
    /// The port handed out.
    pub port: Option<u16>,
    /// The security handed out.
    pub security: Option<Security>,
    /// What happens to a client sent there.
    pub status: EntryStatus,
    /// The detail: the problem code, the source's error, or the name to use instead.
    pub detail: Option<String>,
    /// For a source error, its kind.
    pub error: Option<SourceErrorKind>,
    /// A verified name to hand out instead, when the name handed out is not covered.
    pub instead: Option<String>,
    /// Whether a client gets as far as this source: false only for Thunderbird's steps 5 and 6
    /// (Mozilla's ISP database, the MX host's provider) when it finds settings before them. The
    /// summary leaves out what no client reaches.
    pub reached: bool,
}

/// The judgement.
#[derive(Debug, Clone)]
pub struct DiscoveryReport {
    /// The address used.
    pub email: String,
    /// The mail domain.
    pub domain: String,
    /// Overall outcome.
    pub verdict: Verdict,
    /// What the summary claims.
    pub summary_kind: SummaryKind,
    /// The answer in one sentence.
    pub summary: String,
    /// What to change in the provisioning, most important first.
    pub fixes: Vec<String>,
    /// Every handed-out server and failed source.
    pub entries: Vec<Entry>,
    /// Settings that work without a warning (verified names only).
    pub settings: AccountSettings,
    /// The server name to use, as in the host report: the verified incoming server's name, else
    /// the outgoing one's.
    pub recommendation: Option<Recommendation>,
    /// The check of every host, for the details.
    pub hosts: Vec<Diagnosis>,
    /// How Outlook and Thunderbird would look for the settings, step by step.
    pub walks: Vec<(Client, Vec<Walked>)>,
    /// Outlook shows a certificate dialog while it looks for the settings.
    pub autodiscover_warning: Option<AutodiscoverWarning>,
    /// What Thunderbird's automatic set-up will choose (its walk is the Thunderbird one in
    /// `walks`).
    pub thunderbird_setup: Prediction,
    /// What sending servers do with the domain's mail (port 25, MTA-STS, DANE, TLS-RPT); absent
    /// when it was not observed (`--no-inbound`, or a file saved before).
    pub delivery: Option<super::delivery::DeliveryReport>,
}

/// Judges `observations` at `now`.
pub fn judge(
    observations: &DiscoveryObservations,
    anchors: &TrustAnchors,
    now: i64,
) -> DiscoveryReport {
    let hosts: Vec<Diagnosis> = observations
        .hosts
        .iter()
        .map(|o| super::diagnose(o, anchors, now))
        .collect();
    let mut entries: Vec<Entry> = Vec::new();
    for record in &observations.records {
        entries.extend(record_entries(record, &hosts, observations));
    }
    let settings = working_settings(&entries, &hosts);
    let thunderbird_setup = super::account_setup::predict(observations, &hosts, anchors, now);
    let walks: Vec<(Client, Vec<Walked>)> = vec![
        (
            Client::Outlook,
            clients::discovery::walk(Client::Outlook, &observations.records, &observations.domain),
        ),
        (Client::Thunderbird, thunderbird_setup.walk.clone()),
    ];
    let verified = settings
        .incoming
        .as_ref()
        .or(settings.outgoing.as_ref())
        .map(|s| s.host.as_str());
    let autodiscover_warning = walks
        .iter()
        .find(|(client, _)| *client == Client::Outlook)
        .and_then(|(_, walk)| {
            autodiscover::judge(
                walk,
                &observations.records,
                &entries,
                &observations.domain,
                verified,
                anchors,
                now,
            )
        });
    let mut fixes = autodiscover_warning
        .as_ref()
        .map(|w| w.fixes.clone())
        .unwrap_or_default();
    fixes.extend(provisioning_fixes(&entries, autodiscover_warning.as_ref()));
    // Mozilla's ISP database and the MX host's autoconfig only matter when Thunderbird gets that
    // far: a domain that publishes its own settings is never sent there.
    let thunderbird = walks
        .iter()
        .find(|(client, _)| *client == Client::Thunderbird)
        .map(|(_, walk)| walk.as_slice())
        .unwrap_or_default();
    for entry in entries.iter_mut().filter(|e| e.source.elsewhere()) {
        entry.reached = thunderbird
            .iter()
            .any(|w| w.step.source == Some(entry.source) || w.step.also.contains(&entry.source));
    }
    // Thunderbird may still find settings that speak for the domain elsewhere.
    let found_elsewhere = thunderbird
        .iter()
        .find(|w| w.reaction == Reaction::Uses)
        .and_then(|w| w.step.source)
        .filter(|source| source.elsewhere());
    let delivery = observations
        .delivery
        .as_ref()
        .map(|d| super::delivery::judge(d, observations, anchors, now));
    // Mail that senders keep and bounce leads: it costs more than a dialog.
    let (verdict, summary_kind, summary) = match &delivery {
        Some(inbound) if inbound.verdict == Verdict::Fail => {
            let mut first = inbound.fixes.clone();
            first.append(&mut fixes);
            fixes = first;
            (
                Verdict::Fail,
                SummaryKind::InboundRefused,
                inbound.summary.clone(),
            )
        }
        _ => super::summary::domain(
            &observations.domain,
            &entries,
            &hosts,
            autodiscover_warning.as_ref(),
            &observations.unanswered,
            found_elsewhere,
        ),
    };
    let recommendation = recommendation(&settings, &hosts, &entries);
    DiscoveryReport {
        recommendation,
        thunderbird_setup,
        delivery,
        walks,
        autodiscover_warning,
        email: observations.email.clone(),
        domain: observations.domain.clone(),
        verdict,
        summary_kind,
        summary,
        fixes,
        entries,
        settings,
        hosts,
    }
}

/// The settings' server name, with the ports it was verified on: the incoming server's name,
/// else the outgoing one's.
fn recommendation(
    settings: &AccountSettings,
    hosts: &[Diagnosis],
    entries: &[Entry],
) -> Option<Recommendation> {
    let chosen = settings.incoming.as_ref().or(settings.outgoing.as_ref())?;
    let name = chosen.host.clone();
    // Every client port this name was verified on: handed out and working, or confirmed by the
    // check of a host it reaches.
    let mut ports: Vec<Service> = entries
        .iter()
        .filter(|e| e.status == EntryStatus::Works && e.hostname == name)
        .filter_map(|e| e.port.and_then(Service::for_port))
        .chain(
            hosts
                .iter()
                .filter_map(|h| h.recommendation.as_ref())
                .filter(|r| r.verified && r.server_name == name)
                .flat_map(|r| r.verified_ports.iter().copied()),
        )
        .filter(|s| s.direction() != Direction::Relay)
        .collect();
    ports.sort();
    ports.dedup();
    let mut reason = format!(
        "{name} presents a valid, trusted certificate that covers it on {}",
        port_list(&ports)
    );
    match (&settings.incoming, &settings.outgoing) {
        (Some(incoming), Some(outgoing)) if incoming.host != outgoing.host => reason.push_str(
            &format!("; send mail through {} (verified too).", outgoing.host),
        ),
        _ => reason.push('.'),
    }
    Some(Recommendation {
        server_name: name,
        verified: true,
        reason,
        verified_ports: ports,
    })
}

/// What to change, one line per source and name handed out (ports joined). The source behind
/// Outlook's Autodiscover warning, when there is one, has its own fixes already.
fn provisioning_fixes(entries: &[Entry], warning: Option<&AutodiscoverWarning>) -> Vec<String> {
    let mut fixes: Vec<String> = Vec::new();
    let mut seen: Vec<(Source, &str, &str)> = Vec::new();
    for entry in entries {
        let key = (
            entry.source,
            entry.url_or_record.as_str(),
            entry.hostname.as_str(),
        );
        if seen.contains(&key) || warning.is_some_and(|w| w.source_url == entry.url_or_record) {
            continue;
        }
        let ports: Vec<String> = entries
            .iter()
            .filter(|e| {
                (e.source, e.url_or_record.as_str(), e.hostname.as_str()) == key
                    && e.status == entry.status
            })
            .filter_map(|e| e.port.map(|p| p.to_string()))
            .collect();
        let ports = match ports.as_slice() {
            [one] => format!("port {one}"),
            many => format!("ports {}", many.join(", ")),
        };
        let origin = format!("{} ({})", describe(entry.source), entry.url_or_record);
        let line = match (entry.status, &entry.instead) {
            (EntryStatus::NameNotCovered, Some(instead)) if entry.port == Some(25) => format!(
                "{origin} names {} ({ports}), which its certificate does not cover: name \
                 {instead} (on the certificate) instead.",
                entry.hostname
            ),
            (EntryStatus::NameNotCovered, instead)
                if matches!(entry.source, Source::Ispdb | Source::IspdbMx) =>
            {
                format!(
                    "{origin} hands out {} ({ports}), which its certificate does not cover: \
                     publish your own autoconfig file naming {}, which Thunderbird asks first, \
                     and ask for the entry to be corrected at {}.",
                    entry.hostname,
                    instead
                        .as_deref()
                        .unwrap_or("a name the certificate covers"),
                    crate::provisioning::ispdb::REPOSITORY
                )
            }
            (EntryStatus::NameNotCovered, Some(instead)) => format!(
                "{origin} hands out {} ({ports}), which its certificate does not cover: hand out \
                 {instead} instead (verified there).",
                entry.hostname
            ),
            (EntryStatus::NameNotCovered, None) => format!(
                "{origin} hands out {} ({ports}), which its certificate does not cover, and no \
                 covered name was verified: add {} to the certificate.",
                entry.hostname, entry.hostname
            ),
            (EntryStatus::SourceError, _)
                if entry.error == Some(SourceErrorKind::BadCertificate) =>
            {
                format!(
                    "{} is served with an invalid HTTPS certificate ({}): {}. Fix the web \
                     server's certificate.",
                    entry.url_or_record,
                    entry.detail.clone().unwrap_or_default(),
                    client_reaction(entry.source)
                )
            }
            (EntryStatus::SourceError, _) => format!(
                "{origin} cannot be used ({}): clients skip it and guess. Fix or remove it.",
                entry.detail.clone().unwrap_or_default()
            ),
            (EntryStatus::DoesNotResolve, _) => format!(
                "{origin} {} {} ({ports}), which does not resolve ({}): give it an address in \
                 DNS, or {} a name that has one.",
                if entry.source == Source::Mx {
                    "names"
                } else {
                    "hands out"
                },
                entry.hostname,
                entry.detail.clone().unwrap_or_default(),
                if entry.source == Source::Mx {
                    "name"
                } else {
                    "hand out"
                },
            ),
            (EntryStatus::Plaintext, _) => format!(
                "{origin} tells clients to connect to {} ({ports}) without encryption: hand out \
                 SSL/TLS (993, 995, 465) or STARTTLS instead.",
                entry.hostname
            ),
            _ => continue,
        };
        seen.push(key);
        fixes.push(line);
    }
    fixes
}

/// What the client that asks `source` does with a document behind an invalid certificate.
pub(super) fn client_reaction(source: Source) -> &'static str {
    match source {
        Source::Autoconfig
        | Source::AutoconfigWellKnown
        | Source::AutoconfigHttp
        | Source::AutoconfigWellKnownHttp
        | Source::AutoconfigMx => {
            "Thunderbird skips it without a word and goes on to its next step"
        }
        _ => "Outlook shows its \"Security Alert\" and, if the user accepts, goes on",
    }
}

fn describe(source: Source) -> &'static str {
    match source {
        Source::Srv => "The SRV record",
        Source::Autoconfig
        | Source::AutoconfigWellKnown
        | Source::AutoconfigHttp
        | Source::AutoconfigWellKnownHttp => "The autoconfig file",
        Source::AutodiscoverDomain
        | Source::Autodiscover
        | Source::AutodiscoverRedirect
        | Source::AutodiscoverSrv => "Autodiscover",
        Source::Mx => "The MX record",
        Source::Guess => "The guessed name",
        Source::Ispdb | Source::IspdbMx => "Mozilla's ISP database",
        Source::AutoconfigMx => "The MX host's autoconfig file",
    }
}

fn record_entries(
    record: &Record,
    hosts: &[Diagnosis],
    observations: &DiscoveryObservations,
) -> Vec<Entry> {
    let bare = |status, detail: Option<String>, error: Option<SourceErrorKind>| Entry {
        source: record.source,
        url_or_record: record.url_or_record.clone(),
        hostname: String::new(),
        port: None,
        security: None,
        status,
        detail,
        error,
        instead: None,
        reached: true,
    };
    let mut out = Vec::new();
    if record.not_offered {
        out.push(bare(
            EntryStatus::NotOffered,
            Some("SRV target \".\": not offered".to_string()),
            None,
        ));
    }
    // A missing document or record is normal; only say so for sources that exist. A plain-HTTP
    // autoconfig URL that does not answer is normal too: HTTPS is the way to publish.
    let plain_http = matches!(
        record.source,
        Source::AutoconfigHttp | Source::AutoconfigWellKnownHttp
    );
    if let Some(error) = record.error.as_ref().filter(|e| {
        e.kind != SourceErrorKind::NotPublished
            && !(plain_http && e.kind == SourceErrorKind::Unreachable)
    }) {
        let status = if error.kind == SourceErrorKind::NotChecked {
            EntryStatus::NotChecked
        } else {
            EntryStatus::SourceError
        };
        out.push(bare(status, Some(error.detail.clone()), Some(error.kind)));
    }
    for server in &record.servers {
        out.push(server_entry(record, server, hosts, observations));
    }
    out
}

fn server_entry(
    record: &Record,
    server: &ServerEntry,
    hosts: &[Diagnosis],
    observations: &DiscoveryObservations,
) -> Entry {
    let mut entry = Entry {
        source: record.source,
        url_or_record: record.url_or_record.clone(),
        hostname: server.hostname.clone(),
        port: Some(server.port),
        security: Some(server.security),
        status: EntryStatus::Unreachable,
        detail: None,
        error: None,
        instead: None,
        reached: true,
    };
    let target = Target::parse(&server.hostname).ok();
    let host = hosts.iter().find(|d| target.as_ref() == Some(&d.target));
    let endpoint = host.and_then(|h| {
        h.endpoints
            .iter()
            .find(|e| e.observation.service.port == server.port && e.observation.reachable)
    });
    let (Some(host), Some(endpoint)) = (host, endpoint) else {
        let (status, detail) = unchecked(server, target.is_some(), host.is_some(), observations);
        entry.status = status;
        entry.detail = Some(detail);
        return entry;
    };
    if endpoint
        .observation
        .failure
        .as_ref()
        .is_some_and(|f| f.kind == crate::observation::FailureKind::RateLimited)
    {
        entry.status = EntryStatus::RateLimited;
        entry.detail = Some(Code::RateLimited.as_str().to_string());
        return entry;
    }
    let top = endpoint.problems.iter().find(|p| {
        p.severity == Severity::Error
            || (p.severity == Severity::Warning && p.code.is_certificate())
    });
    entry.status = match top {
        None if server.security == Security::Plain => EntryStatus::Plaintext,
        None => EntryStatus::Works,
        Some(problem)
            if matches!(
                problem.code,
                Code::NameMismatch | Code::CertLacksName | Code::CnOnly
            ) =>
        {
            EntryStatus::NameNotCovered
        }
        Some(_) => EntryStatus::CertificateProblem,
    };
    if let Some(problem) = top {
        entry.detail = Some(problem.code.as_str().to_string());
    }
    if entry.status == EntryStatus::NameNotCovered {
        entry.instead = host
            .recommendation
            .as_ref()
            .filter(|r| r.verified && r.server_name != server.hostname)
            .filter(|r| r.verified_ports.iter().any(|s| s.port == server.port))
            .map(|r| r.server_name.clone());
        // Port 25 is MX delivery: the recommendation covers client ports only.
        if entry.instead.is_none() && server.port == 25 {
            entry.instead = host.recommendation.as_ref().map(|r| r.server_name.clone());
        }
    }
    entry
}

/// Why a server handed out has no reachable endpoint, as a status and words: most certain
/// first. `parsed`: the name is a host name; `observed`: its host was checked.
fn unchecked(
    server: &ServerEntry,
    parsed: bool,
    observed: bool,
    observations: &DiscoveryObservations,
) -> (EntryStatus, String) {
    let name = server.hostname.as_str();
    if !parsed {
        return (EntryStatus::DoesNotResolve, "not a host name".to_string());
    }
    if Service::for_port(server.port).is_none_or(|s| s.protocol != server.protocol) {
        return (
            EntryStatus::NotChecked,
            format!(
                "mailtls checks {} only on its own ports, and {} is not one",
                server.protocol.as_str().to_ascii_uppercase(),
                server.port
            ),
        );
    }
    if observed {
        return (
            EntryStatus::Unreachable,
            "nothing answered on that port".to_string(),
        );
    }
    if let Some(silent) = observations.unanswered.iter().find(|u| u.name == name) {
        return (EntryStatus::NotChecked, silent.detail.clone());
    }
    match observations.skipped.iter().find(|s| s.name == name) {
        Some(skipped) if skipped.reason != SkipReason::NoSuchName => {
            (EntryStatus::NotChecked, skipped.detail.clone())
        }
        // Named as such, or (in a file saved before skipped hosts were listed) a host with no
        // observations and no other reason.
        _ => (
            EntryStatus::DoesNotResolve,
            "no such name in DNS, or no address records".to_string(),
        ),
    }
}

/// The best verified incoming and outgoing server: a name handed out that works, else the name a
/// host's check verified instead.
fn working_settings(entries: &[Entry], hosts: &[Diagnosis]) -> AccountSettings {
    let mut working: Vec<(String, Service)> = Vec::new();
    for entry in entries.iter().filter(|e| e.status == EntryStatus::Works) {
        if let Some(service) = entry.port.and_then(Service::for_port) {
            if service.direction() != Direction::Relay {
                working.push((entry.hostname.clone(), service));
            }
        }
    }
    for host in hosts {
        if let Some(r) = host.recommendation.as_ref().filter(|r| r.verified) {
            for service in &r.verified_ports {
                working.push((r.server_name.clone(), *service));
            }
        }
    }
    let pick = |direction: Direction| {
        let services: Vec<Service> = working
            .iter()
            .map(|(_, s)| *s)
            .filter(|s| s.direction() == direction)
            .collect();
        let chosen = settings::choose("", &services);
        let service = match direction {
            Direction::Outgoing => chosen.outgoing,
            _ => chosen.incoming,
        }?
        .service;
        working
            .iter()
            .find(|(_, s)| *s == service)
            .map(|(name, service)| settings::ServerSetting {
                host: name.clone(),
                service: *service,
            })
    };
    AccountSettings {
        incoming: pick(Direction::Incoming),
        outgoing: pick(Direction::Outgoing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::UnansweredHost;

    fn entry(
        source: Source,
        record: &str,
        port: u16,
        status: EntryStatus,
        instead: Option<&str>,
    ) -> Entry {
        Entry {
            source,
            url_or_record: record.to_string(),
            hostname: "mail.example.test".to_string(),
            port: Some(port),
            security: Some(Security::Tls),
            status,
            detail: None,
            error: None,
            instead: instead.map(str::to_string),
            reached: true,
        }
    }

    #[test]
    fn fixes_join_ports_per_source_and_name() {
        let entries = vec![
            entry(
                Source::Autoconfig,
                "https://autoconfig.example.test/x",
                993,
                EntryStatus::NameNotCovered,
                Some("host.example.net"),
            ),
            entry(
                Source::Autoconfig,
                "https://autoconfig.example.test/x",
                465,
                EntryStatus::NameNotCovered,
                Some("host.example.net"),
            ),
            entry(
                Source::Mx,
                "example.test",
                25,
                EntryStatus::NameNotCovered,
                Some("host.example.net"),
            ),
            entry(
                Source::Srv,
                "_imaps._tcp.example.test",
                993,
                EntryStatus::Works,
                None,
            ),
        ];
        let fixes = provisioning_fixes(&entries, None);
        assert_eq!(fixes.len(), 2, "{fixes:?}");
        assert!(
            fixes[0].contains("(ports 993, 465)") && fixes[0].contains("hand out host.example.net")
        );
        // MX is server-to-server: the name is on the certificate, not "verified" on a client port.
        assert!(fixes[1].contains("(port 25)") && fixes[1].contains("(on the certificate)"));
    }

    #[test]
    fn source_errors_and_plaintext_get_their_own_fixes() {
        let mut broken = entry(
            Source::Autoconfig,
            "https://autoconfig.example.test/x",
            0,
            EntryStatus::SourceError,
            None,
        );
        broken.hostname.clear();
        broken.port = None;
        broken.detail = Some("not well-formed XML: oops".to_string());
        broken.error = Some(SourceErrorKind::BadDocument);
        let mut clear = entry(
            Source::Autodiscover,
            "https://autodiscover.example.test/y",
            110,
            EntryStatus::Plaintext,
            None,
        );
        clear.security = Some(Security::Plain);
        let fixes = provisioning_fixes(&[broken, clear], None);
        assert!(
            fixes[0].contains("cannot be used (not well-formed XML: oops)"),
            "{fixes:?}"
        );
        assert!(fixes[1].contains("without encryption"), "{fixes:?}");
    }

    fn observations(
        records: Vec<Record>,
        unanswered: Vec<UnansweredHost>,
    ) -> DiscoveryObservations {
        DiscoveryObservations {
            email: "jane@example.test".to_string(),
            domain: "example.test".to_string(),
            records,
            hosts: Vec::new(),
            unanswered,
            skipped: Vec::new(),
            guessed: Vec::new(),
            delivery: None,
        }
    }

    #[test]
    fn an_unanswered_source_is_not_nothing_found() {
        let mut mx = Record::new(Source::Mx, "example.test".to_string());
        mx.fail(
            SourceErrorKind::NotChecked,
            "DNS lookup of example.test timed out",
        );
        let report = judge(
            &observations(vec![mx], Vec::new()),
            &TrustAnchors::system(),
            0,
        );
        assert_eq!(report.verdict, Verdict::Unknown);
        assert!(
            report.summary.starts_with(
                "Could not finish checking example.test: example.test (mx) was not checked"
            ),
            "{}",
            report.summary
        );
    }

    #[test]
    fn an_unanswered_host_is_not_a_name_that_does_not_resolve() {
        let mut srv = Record::new(Source::Srv, "_imaps._tcp.example.test".to_string());
        for host in ["mail.example.test", "gone.example.test"] {
            srv.servers.push(ServerEntry {
                protocol: crate::service::Protocol::Imap,
                hostname: host.to_string(),
                port: 993,
                security: Security::Tls,
            });
        }
        let unanswered = vec![UnansweredHost {
            name: "mail.example.test".to_string(),
            detail: "DNS lookup of mail.example.test timed out".to_string(),
        }];
        let report = judge(
            &observations(vec![srv], unanswered),
            &TrustAnchors::system(),
            0,
        );
        let status = |host: &str| {
            report
                .entries
                .iter()
                .find(|e| e.hostname == host)
                .map(|e| (e.status, e.detail.clone().unwrap_or_default()))
        };
        assert_eq!(
            status("mail.example.test"),
            Some((
                EntryStatus::NotChecked,
                "DNS lookup of mail.example.test timed out".to_string()
            ))
        );
        assert_eq!(
            status("gone.example.test"),
            Some((
                EntryStatus::DoesNotResolve,
                "no such name in DNS, or no address records".to_string()
            ))
        );
    }

    #[test]
    fn a_host_this_run_does_not_connect_to_is_not_checked_not_unresolved() {
        let mut mx = Record::new(Source::Mx, "example.test".to_string());
        for host in ["inside.example.test", "<b>not a name</b>"] {
            mx.servers.push(ServerEntry {
                protocol: crate::service::Protocol::Smtp,
                hostname: host.to_string(),
                port: 25,
                security: Security::Starttls,
            });
        }
        let mut observations = observations(vec![mx], Vec::new());
        observations.skipped.push(crate::observation::SkippedHost {
            name: "inside.example.test".to_string(),
            reason: SkipReason::Refused,
            detail: "inside.example.test resolves to 10.0.0.1, a private address".to_string(),
        });
        let report = judge(&observations, &TrustAnchors::system(), 0);
        let status = |host: &str| {
            report
                .entries
                .iter()
                .find(|e| e.hostname == host)
                .map(|e| e.status)
        };
        assert_eq!(status("inside.example.test"), Some(EntryStatus::NotChecked));
        assert_eq!(
            status("<b>not a name</b>"),
            Some(EntryStatus::DoesNotResolve)
        );
        // The name that cannot resolve is the claim; asking again would not help either host.
        assert_eq!(report.summary_kind, SummaryKind::DoesNotResolve);
        assert_eq!(report.verdict, Verdict::Unknown);
        observations.records[0].servers.pop();
        let report = judge(&observations, &TrustAnchors::system(), 0);
        assert_eq!(report.summary_kind, SummaryKind::NotChecked);
        assert!(
            report.summary.ends_with("a private address)."),
            "{}",
            report.summary
        );
    }
}
