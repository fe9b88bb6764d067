//! Judges discovery: for every server a source hands out, whether a client sent there gets a
//! certificate that covers the name, and if not, what the source should say instead. Then the
//! settings that work without a warning. Pure.

use serde::Serialize;

use super::{Code, Diagnosis, Severity, Verdict};
use crate::analyze::chain::TrustAnchors;
use crate::discover::autoconfig::{Security, ServerEntry};
use crate::discovery::{DiscoveryObservations, Record, Source};
use crate::report::settings::{self, AccountSettings};
use crate::service::{Direction, Service};

/// What happens to a client sent to one handed-out server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The certificate covers the name, is valid and trusted.
    Works,
    /// The certificate does not cover the name handed out.
    NameNotCovered,
    /// Another certificate or TLS problem (the code is in `detail`).
    CertificateProblem,
    /// The security handed out is "none": the password travels in clear.
    Plaintext,
    /// Nothing answered on that port, or the name does not resolve.
    Unreachable,
    /// An SRV record with target "." (RFC 2782): the service is decidedly not offered.
    NotOffered,
    /// The source itself failed: not found, malformed, redirect loop, bad certificate.
    SourceError,
}

/// One line of the discovery table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub status: Status,
    /// The detail: the problem code, the source's error, or the name to use instead.
    pub detail: Option<String>,
    /// A verified name to hand out instead, when the name handed out is not covered.
    pub instead: Option<String>,
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
    /// The answer in one sentence.
    pub summary: String,
    /// What to change in the provisioning, most important first.
    pub fixes: Vec<String>,
    /// Every handed-out server and failed source.
    pub entries: Vec<Entry>,
    /// Settings that work without a warning (verified names only).
    pub settings: AccountSettings,
    /// The check of every host, for the details.
    pub hosts: Vec<Diagnosis>,
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
        entries.extend(record_entries(record, &hosts));
    }
    let fixes = provisioning_fixes(&entries);
    let settings = working_settings(&entries, &hosts);
    let published = entries
        .iter()
        .filter(|e| !matches!(e.source, Source::Guess | Source::Mx) && !e.hostname.is_empty())
        .count();
    let broken = entries
        .iter()
        .filter(|e| {
            matches!(
                e.status,
                Status::NameNotCovered | Status::CertificateProblem | Status::Plaintext
            )
        })
        .count();
    let bad_documents = observations
        .records
        .iter()
        .filter(|r| r.bad_certificate)
        .count();
    let (verdict, summary) = if entries.iter().all(|e| e.hostname.is_empty()) {
        (
            Verdict::Unknown,
            format!(
                "Nothing found for {}: no SRV, MX, autoconfig or autodiscover.",
                observations.domain
            ),
        )
    } else if broken > 0 {
        (
            Verdict::Fail,
            format!(
                "Problem: {broken} of the servers handed out for {} make clients warn; fix the \
                 provisioning below.",
                observations.domain
            ),
        )
    } else if bad_documents > 0 {
        (
            Verdict::Fail,
            format!(
                "Problem: {} serves its provisioning with an invalid HTTPS certificate, so clients \
                 refuse it and guess.",
                observations.domain
            ),
        )
    } else if let Some(error) = entries.iter().find(|e| e.status == Status::SourceError) {
        (
            Verdict::Warn,
            format!(
                "Warning: {} ({}) cannot be used by clients: {}.",
                error.url_or_record,
                error.source.as_str(),
                error.detail.clone().unwrap_or_default()
            ),
        )
    } else if published == 0 {
        (
            Verdict::Warn,
            format!(
                "Warning: {} publishes no SRV, autoconfig or autodiscover; clients must guess.",
                observations.domain
            ),
        )
    } else {
        (
            Verdict::Ok,
            format!(
                "All good: every server handed out for {} presents a certificate that covers its name.",
                observations.domain
            ),
        )
    };
    DiscoveryReport {
        email: observations.email.clone(),
        domain: observations.domain.clone(),
        verdict,
        summary,
        fixes,
        entries,
        settings,
        hosts,
    }
}

/// What to change, one line per source and name handed out (ports joined).
fn provisioning_fixes(entries: &[Entry]) -> Vec<String> {
    let mut fixes: Vec<String> = Vec::new();
    let mut seen: Vec<(Source, &str, &str)> = Vec::new();
    for entry in entries {
        let key = (
            entry.source,
            entry.url_or_record.as_str(),
            entry.hostname.as_str(),
        );
        if seen.contains(&key) {
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
            (Status::NameNotCovered, Some(instead)) if entry.port == Some(25) => format!(
                "{origin} names {} ({ports}), which its certificate does not cover: name \
                 {instead} (on the certificate) instead.",
                entry.hostname
            ),
            (Status::NameNotCovered, Some(instead)) => format!(
                "{origin} hands out {} ({ports}), which its certificate does not cover: hand out \
                 {instead} instead (verified there).",
                entry.hostname
            ),
            (Status::NameNotCovered, None) => format!(
                "{origin} hands out {} ({ports}), which its certificate does not cover, and no \
                 covered name was verified: add {} to the certificate.",
                entry.hostname, entry.hostname
            ),
            (Status::SourceError, _)
                if entry
                    .detail
                    .as_deref()
                    .is_some_and(|d| d.contains("certificate")) =>
            {
                format!(
                    "{} is served with an invalid HTTPS certificate ({}): clients refuse it and \
                     fall back to guessing. Fix the web server's certificate.",
                    entry.url_or_record,
                    entry.detail.clone().unwrap_or_default()
                )
            }
            (Status::SourceError, _) => format!(
                "{origin} cannot be used ({}): clients skip it and guess. Fix or remove it.",
                entry.detail.clone().unwrap_or_default()
            ),
            (Status::Plaintext, _) => format!(
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

fn describe(source: Source) -> &'static str {
    match source {
        Source::Srv => "The SRV record",
        Source::Autoconfig | Source::AutoconfigWellKnown => "The autoconfig file",
        Source::Autodiscover | Source::AutodiscoverSrv => "Autodiscover",
        Source::Mx => "The MX record",
        Source::Guess => "The guessed name",
    }
}

fn record_entries(record: &Record, hosts: &[Diagnosis]) -> Vec<Entry> {
    let bare = |status, detail: Option<String>| Entry {
        source: record.source,
        url_or_record: record.url_or_record.clone(),
        hostname: String::new(),
        port: None,
        security: None,
        status,
        detail,
        instead: None,
    };
    let mut out = Vec::new();
    if record.not_offered {
        out.push(bare(
            Status::NotOffered,
            Some("SRV target \".\": not offered".to_string()),
        ));
    }
    if let Some(error) = &record.error {
        // A missing document or record is normal; only say so for documents that exist.
        let missing = error.contains("does not resolve")
            || error.contains("HTTP status 404")
            || error.contains("no such name");
        if !missing || record.bad_certificate {
            out.push(bare(Status::SourceError, Some(error.clone())));
        }
    }
    for server in &record.servers {
        out.push(server_entry(record, server, hosts));
    }
    out
}

fn server_entry(record: &Record, server: &ServerEntry, hosts: &[Diagnosis]) -> Entry {
    let mut entry = Entry {
        source: record.source,
        url_or_record: record.url_or_record.clone(),
        hostname: server.hostname.clone(),
        port: Some(server.port),
        security: Some(server.security),
        status: Status::Unreachable,
        detail: None,
        instead: None,
    };
    let host = hosts
        .iter()
        .find(|d| d.target.dns_name() == Some(server.hostname.as_str()));
    let endpoint = host.and_then(|h| {
        h.endpoints
            .iter()
            .find(|e| e.observation.service.port == server.port && e.observation.reachable)
    });
    let (Some(host), Some(endpoint)) = (host, endpoint) else {
        entry.detail = Some(match host {
            None => "the name does not resolve".to_string(),
            Some(_) => "nothing answered on that port".to_string(),
        });
        return entry;
    };
    let top = endpoint.problems.iter().find(|p| {
        p.severity == Severity::Error
            || (p.severity == Severity::Warning && p.code.is_certificate())
    });
    entry.status = match top {
        None if server.security == Security::Plain => Status::Plaintext,
        None => Status::Works,
        Some(problem)
            if matches!(
                problem.code,
                Code::NameMismatch | Code::CertLacksName | Code::CnOnly
            ) =>
        {
            Status::NameNotCovered
        }
        Some(_) => Status::CertificateProblem,
    };
    if let Some(problem) = top {
        entry.detail = Some(problem.code.as_str().to_string());
    }
    if entry.status == Status::NameNotCovered {
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

/// The best verified incoming and outgoing server: a name handed out that works, else the name a
/// host's check verified instead.
fn working_settings(entries: &[Entry], hosts: &[Diagnosis]) -> AccountSettings {
    let mut working: Vec<(String, Service)> = Vec::new();
    for entry in entries.iter().filter(|e| e.status == Status::Works) {
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

    fn entry(
        source: Source,
        record: &str,
        port: u16,
        status: Status,
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
            instead: instead.map(str::to_string),
        }
    }

    #[test]
    fn fixes_join_ports_per_source_and_name() {
        let entries = vec![
            entry(
                Source::Autoconfig,
                "https://autoconfig.example.test/x",
                993,
                Status::NameNotCovered,
                Some("host.example.net"),
            ),
            entry(
                Source::Autoconfig,
                "https://autoconfig.example.test/x",
                465,
                Status::NameNotCovered,
                Some("host.example.net"),
            ),
            entry(
                Source::Mx,
                "example.test",
                25,
                Status::NameNotCovered,
                Some("host.example.net"),
            ),
            entry(
                Source::Srv,
                "_imaps._tcp.example.test",
                993,
                Status::Works,
                None,
            ),
        ];
        let fixes = provisioning_fixes(&entries);
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
            Status::SourceError,
            None,
        );
        broken.hostname.clear();
        broken.port = None;
        broken.detail = Some("not well-formed XML: oops".to_string());
        let mut clear = entry(
            Source::Autodiscover,
            "https://autodiscover.example.test/y",
            110,
            Status::Plaintext,
            None,
        );
        clear.security = Some(Security::Plain);
        let fixes = provisioning_fixes(&[broken, clear]);
        assert!(
            fixes[0].contains("cannot be used (not well-formed XML: oops)"),
            "{fixes:?}"
        );
        assert!(fixes[1].contains("without encryption"), "{fixes:?}");
    }
}
