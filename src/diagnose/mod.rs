//! From observations to causes: which problems each endpoint has, why, and which server name
//! (if any) makes every client port work. Pure: everything comes from [`Observations`].

pub mod discovery;
pub mod problem;
pub mod reputation;
mod versions;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::analyze::cert::{CertInfo, date};
use crate::analyze::chain::{Dates, Extra, Fetched, Trust, TrustAnchors};
use crate::analyze::names::{NameCheck, dns_matches};
use crate::analyze::versions::VersionReport;
use crate::analyze::{self, CertAnalysis};
use crate::clients::releases::{self, Compatibility};
use crate::clients::{self, Client, ClientVerdict, Facts};
use crate::observation::{AiaFetch, EndpointObservation, FailureKind, Observations};
use crate::probe::hello::TlsVersion;
use crate::service::{Direction, Service};
use crate::target::Target;
pub use problem::{Code, Problem, Severity};

/// Most names from certificates and PTR records we look up, and most candidates we re-probe:
/// a certificate may carry hundreds of SANs, and each costs DNS queries or connections.
pub const MAX_NAMES_TO_RESOLVE: usize = 32;
/// Candidate server names re-probed, best first.
pub const MAX_CANDIDATES: usize = 3;

/// The overall outcome, which is also the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every port that answered is fine.
    Ok,
    /// Only warnings.
    Warn,
    /// At least one problem that makes a mail client warn or fail.
    Fail,
    /// Nothing could be checked (no port answered).
    Unknown,
}

impl Verdict {
    /// The documented exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Warn => 1,
            Verdict::Fail => 2,
            Verdict::Unknown => 3,
        }
    }
}

/// The server name we advise clients to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The name to configure.
    pub server_name: String,
    /// A connection with this name as SNI was accepted (valid, trusted, name matches) on every
    /// client port that offers TLS.
    pub verified: bool,
    /// Why this name, and what was verified.
    pub reason: String,
    /// The client ports (not 25) where the name was confirmed.
    pub verified_ports: Vec<Service>,
}

/// One endpoint, judged.
#[derive(Debug, Clone)]
pub struct EndpointDiagnosis {
    /// What the probe saw.
    pub observation: EndpointObservation,
    /// The certificate analysis, when a certificate was presented.
    pub analysis: Option<CertAnalysis>,
    /// The leaf presented without SNI, when that differs from the one presented with SNI.
    pub leaf_without_sni: Option<CertInfo>,
    /// Problems on this endpoint, most important first.
    pub problems: Vec<Problem>,
    /// What each mail client does here (empty on port 25, which mail clients do not use, and
    /// where nothing listens).
    pub clients: Vec<ClientVerdict>,
    /// The TLS versions and weak suites accepted, when known.
    pub versions: Option<VersionReport>,
    /// Which client releases can negotiate a TLS version with this endpoint (empty on port 25
    /// and when the versions are not known).
    pub compatibility: Vec<Compatibility>,
}

impl EndpointDiagnosis {
    /// A short result for the port table: "ok", or the top problem's code.
    pub fn result(&self) -> &'static str {
        match self.problems.first() {
            None if self.analysis.is_some() => "ok",
            None => "no certificate",
            Some(problem) => problem.code.as_str(),
        }
    }
}

/// The whole diagnosis of one target.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// What was checked.
    pub target: Target,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
    /// One per probed (address, port), in probe order.
    pub endpoints: Vec<EndpointDiagnosis>,
    /// Problems of the server as a whole (e.g. different certificates per port).
    pub problems: Vec<Problem>,
    /// The name to use, when one is known to work.
    pub recommendation: Option<Recommendation>,
    /// The overall outcome.
    pub verdict: Verdict,
    /// The single most useful problem, if any.
    pub headline: Option<Problem>,
}

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
    let elsewhere = ca_certificates(&observations.endpoints);
    let issuers = fetched_issuers(fetched);
    let parsed_issuers: Vec<CertInfo> = issuers
        .iter()
        .filter_map(|f| CertInfo::parse(&f.der).ok())
        .collect();
    let extra = Extra {
        elsewhere: &elsewhere,
        fetched: &issuers,
    };
    let mut urls = BTreeSet::new();
    let mut seen_chains = std::collections::HashSet::new();
    for endpoint in &observations.endpoints {
        let Some(tls) = &endpoint.tls else { continue };
        if !seen_chains.insert(&tls.chain) {
            continue;
        }
        let Some(analysis) =
            analyze::certificate(endpoint, &observations.target, anchors, extra, now)
        else {
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

/// Names worth resolving after the first probes: every non-wildcard SAN of every leaf and the
/// PTR names, at most [`MAX_NAMES_TO_RESOLVE`].
pub fn names_to_resolve(observations: &Observations) -> Vec<String> {
    let mut names = BTreeSet::new();
    for ptr in &observations.ptr {
        names.extend(ptr.names.iter().cloned());
    }
    for leaf in leaves(&observations.endpoints) {
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
        for name in alternatives(observations, &leaf, endpoint.address) {
            let bonus = u32::from(ptr_names(observations, endpoint.address).contains(&name));
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

/// Judges everything observed. `now` is Unix seconds (a parameter, so tests run at a fixed time).
pub fn diagnose(observations: &Observations, anchors: &TrustAnchors, now: i64) -> Diagnosis {
    let target = &observations.target;
    let elsewhere = ca_certificates(&observations.endpoints);
    let fetched = fetched_issuers(&observations.aia);
    let extra = Extra {
        elsewhere: &elsewhere,
        fetched: &fetched,
    };
    let mut endpoints: Vec<EndpointDiagnosis> = observations
        .endpoints
        .iter()
        .map(|observation| {
            let analysis = analyze::certificate(observation, target, anchors, extra, now);
            let leaf_without_sni = observations
                .without_sni
                .iter()
                .find(|o| o.service == observation.service && o.address == observation.address)
                .and_then(|o| o.leaf())
                .filter(|leaf| Some(*leaf) != observation.leaf())
                .and_then(|leaf| CertInfo::parse(&leaf.0).ok());
            let versions = analyze::versions::summarize(observation);
            let mut problems = endpoint_problems(
                observations,
                observation,
                analysis.as_ref(),
                versions.as_ref(),
                now,
            );
            if let Some(report) = &versions {
                versions::problems(observation, report, &mut problems);
            }
            if let (Some(other), Some(analysis)) = (&leaf_without_sni, &analysis) {
                problems.push(sni_problem(target, analysis, other));
            }
            rank(&mut problems);
            let clients = client_verdicts(observation, analysis.as_ref(), versions.as_ref());
            let compatibility = match &versions {
                Some(report) if observation.service.direction() != Direction::Relay => {
                    releases::compatibility(report)
                }
                _ => Vec::new(),
            };
            EndpointDiagnosis {
                observation: observation.clone(),
                analysis,
                leaf_without_sni,
                problems,
                clients,
                versions,
                compatibility,
            }
        })
        .collect();

    let mut problems = Vec::new();
    if let Some(problem) = different_certificates(&endpoints, observations.addresses.len() > 1) {
        problems.push(problem);
    }
    let recommendation = recommend(observations, &endpoints, anchors, extra, now);
    annotate_mismatches(&mut endpoints, recommendation.as_ref(), target);

    let all: Vec<&Problem> = endpoints
        .iter()
        .flat_map(|e| e.problems.iter())
        .chain(problems.iter())
        .collect();
    let reachable = endpoints.iter().any(|e| e.observation.reachable);
    let verdict = if !reachable {
        Verdict::Unknown
    } else if all.iter().any(|p| p.severity == Severity::Error) {
        Verdict::Fail
    } else if all.iter().any(|p| p.severity == Severity::Warning) {
        Verdict::Warn
    } else {
        Verdict::Ok
    };
    let headline = all
        .iter()
        .filter(|p| p.severity != Severity::Info)
        .min_by_key(|p| (p.severity, p.code))
        .map(|p| (*p).clone());
    Diagnosis {
        target: target.clone(),
        addresses: observations.addresses.clone(),
        endpoints,
        problems,
        recommendation,
        verdict,
        headline,
    }
}

/// Every client's verdict on one endpoint.
fn client_verdicts(
    observation: &EndpointObservation,
    analysis: Option<&CertAnalysis>,
    versions: Option<&VersionReport>,
) -> Vec<ClientVerdict> {
    if observation.service.direction() == Direction::Relay {
        return Vec::new();
    }
    match (analysis, &observation.failure) {
        (Some(analysis), _) => {
            // The negotiated version, or for a server rustls cannot talk to, the newest one
            // a legacy ClientHello got.
            let version = observation
                .tls
                .as_ref()
                .and_then(|t| t.version.as_deref())
                .or_else(|| versions.and_then(VersionReport::best).map(TlsVersion::name));
            let mut facts = Facts::new(analysis, version);
            facts.versions = versions;
            clients::judge_all(&facts)
        }
        (None, Some(failure)) if observation.reachable => Client::ALL
            .iter()
            .map(|c| clients::judge_no_tls(*c, &failure.detail))
            .collect(),
        _ => Vec::new(),
    }
}

fn rank(problems: &mut [Problem]) {
    problems.sort_by_key(|p| (p.severity, p.code));
}

fn endpoint_problems(
    observations: &Observations,
    observation: &EndpointObservation,
    analysis: Option<&CertAnalysis>,
    versions: Option<&VersionReport>,
    now: i64,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let relay = observation.service.direction() == Direction::Relay;
    // A handshake that failed because the server speaks only TLS 1.0/1.1 (which rustls does
    // not) is reported by its cause, `legacy-tls-only` (see `versions`), not as a failure.
    let explained = |failure: &crate::observation::Failure| {
        failure.kind == FailureKind::TlsHandshakeFailed
            && versions.is_some_and(VersionReport::legacy_only)
    };
    if let Some(failure) = observation.failure.as_ref().filter(|f| !explained(f)) {
        let (code, severity) = match failure.kind {
            FailureKind::ConnectionRefused => (Code::ConnectionRefused, Severity::Info),
            FailureKind::Timeout => (Code::Timeout, Severity::Warning),
            FailureKind::Unreachable => (Code::Unreachable, Severity::Warning),
            FailureKind::StarttlsNotOffered if relay => {
                (Code::StarttlsNotOffered, Severity::Warning)
            }
            FailureKind::StarttlsNotOffered => (Code::StarttlsNotOffered, Severity::Error),
            FailureKind::StarttlsRefused => (Code::StarttlsRefused, Severity::Error),
            FailureKind::TlsHandshakeFailed => (Code::TlsHandshakeFailed, Severity::Error),
            FailureKind::ProtocolError => (Code::ProtocolError, Severity::Error),
        };
        let message = match failure.kind {
            FailureKind::StarttlsNotOffered => format!(
                "{} does not offer {}: a client set to \"STARTTLS\" on this port refuses to connect, \
                 and one set to \"None\" sends the password in clear text. ({})",
                observation.service,
                if observation.service.protocol == crate::service::Protocol::Pop3 {
                    "STLS"
                } else {
                    "STARTTLS"
                },
                failure.detail
            ),
            _ => failure.detail.clone(),
        };
        problems.push(Problem::new(code, severity, message));
    }
    let Some(analysis) = analysis else {
        if let Some(tls) = &observation.tls {
            if !tls.chain.is_empty() {
                problems.push(Problem::new(
                    Code::InvalidChain,
                    Severity::Error,
                    "the server's certificate cannot be parsed",
                ));
            }
        }
        return problems;
    };
    let Some(leaf) = analysis.leaf() else {
        return problems;
    };
    // Port 25 is server-to-server: sending servers use opportunistic TLS and rarely check the
    // certificate, so certificate problems there do not make any mail client warn.
    let cert_severity = if relay {
        Severity::Warning
    } else {
        Severity::Error
    };
    let presented = presented_list(leaf);
    let target = &observations.target;
    match &analysis.name {
        NameCheck::Covered(_) => {}
        NameCheck::CommonNameOnly(cn) => problems.push(Problem::new(
            Code::CnOnly,
            cert_severity,
            format!(
                "{target} appears only in the certificate's Common Name ({cn}), not in its \
                 subjectAltName list; Apple Mail, Android, Chrome-based and most modern clients \
                 ignore the Common Name and reject the certificate. Reissue it with {target} as a \
                 subjectAltName (DNS) entry."
            ),
        )),
        NameCheck::NotCovered => {
            let alternatives = alternatives(observations, leaf, observation.address);
            let (code, opening) = match target {
                Target::Ip(ip) => (
                    Code::IpAddressUsed,
                    format!(
                        "The client connected to the IP address {ip}, but the certificate has no IP \
                         address entry; it names {presented}. Clients compare the certificate with \
                         exactly what was typed as the server name."
                    ),
                ),
                Target::Dns(name) => (
                    Code::NameMismatch,
                    format!("The certificate is for {presented}, not for {name}."),
                ),
            };
            if let Some(alternative) = alternatives.first() {
                problems.push(Problem::new(
                    code,
                    cert_severity,
                    format!(
                        "{opening} {alternative} is on the certificate and points to the same server \
                         ({}): use {alternative} as the server name.",
                        observation.address
                    ),
                ));
            } else {
                problems.push(Problem::new(code, cert_severity, opening));
                problems.push(Problem::new(
                    Code::CertLacksName,
                    cert_severity,
                    format!(
                        "No name on this certificate leads to {} ({presented} point elsewhere or \
                         nowhere). The certificate must be reissued to include {} as a \
                         subjectAltName, or clients must use a name it covers.",
                        observation.address,
                        match target {
                            Target::Dns(name) => name.clone(),
                            Target::Ip(_) => "the server's DNS name".to_string(),
                        }
                    ),
                ));
            }
        }
    }
    match &analysis.dates {
        Dates::Valid => {}
        Dates::Expired {
            index,
            subject,
            not_after,
        } => problems.push(Problem::new(
            Code::Expired,
            cert_severity,
            format!(
                "The {} ({subject}) expired on {} ({} days ago). Renew it and reload the server.",
                position(*index),
                date(*not_after),
                ((now - *not_after) / 86_400).max(0)
            ),
        )),
        Dates::NotYetValid {
            index,
            subject,
            not_before,
        } => problems.push(Problem::new(
            Code::NotYetValid,
            cert_severity,
            format!(
                "The {} ({subject}) is not valid before {}: check the clock of the server that \
                 issued it, or wait.",
                position(*index),
                date(*not_before)
            ),
        )),
    }
    match &analysis.trust {
        Trust::Trusted => {}
        Trust::SelfSigned => problems.push(Problem::new(
            Code::SelfSigned,
            cert_severity,
            format!(
                "The certificate ({}) is self-signed: no client trusts it unless each user accepts \
                 it by hand, which teaches users to accept a man in the middle. Install a \
                 certificate from a public CA (e.g. Let's Encrypt).",
                leaf.display_name()
            ),
        )),
        Trust::UnknownCa { issuer } => problems.push(Problem::new(
            Code::UnknownCa,
            cert_severity,
            format!(
                "The certificate chains to \"{issuer}\", which is not a trusted CA. Only devices \
                 where that CA was installed by hand will accept it; use a certificate from a \
                 public CA."
            ),
        )),
        Trust::IncompleteChain {
            missing,
            found_elsewhere,
            fetched_from,
        } => problems.push(Problem::new(
            Code::IncompleteChain,
            cert_severity,
            if *found_elsewhere {
                format!(
                    "This port does not send the intermediate certificate \"{missing}\", which other \
                     ports of this server do send. Add it after the server certificate in this \
                     service's certificate file (the \"fullchain\" file)."
                )
            } else if let Some(url) = fetched_from {
                format!(
                    "The server does not send the intermediate certificate \"{missing}\". Outlook \
                     on Windows and Apple Mail fetch it from {url} and connect; Thunderbird and \
                     Android apps do not, and fail. Add the intermediate after the server \
                     certificate in the server's certificate file (e.g. fullchain.pem)."
                )
            } else {
                format!(
                    "The server sends only its own certificate; the issuing certificate \"{missing}\" \
                     is missing (or it belongs to a CA that is not trusted). Configure the full \
                     chain (server certificate followed by the intermediates, e.g. fullchain.pem)."
                )
            },
        )),
        Trust::Invalid { reason } => problems.push(Problem::new(
            Code::InvalidChain,
            cert_severity,
            format!("The certificate chain is not valid: {reason}."),
        )),
    }
    problems
}

fn position(index: usize) -> &'static str {
    if index == 0 {
        "server certificate"
    } else {
        "intermediate certificate"
    }
}

fn sni_problem(target: &Target, analysis: &CertAnalysis, without: &CertInfo) -> Problem {
    let with = analysis
        .leaf()
        .map(CertInfo::display_name)
        .unwrap_or_default();
    let covers = matches!(
        crate::analyze::names::check(without, target),
        NameCheck::Covered(_)
    );
    Problem::new(
        Code::SniDependent,
        Severity::Warning,
        format!(
            "The certificate depends on SNI: asked for {target} this port presents {with}, but a \
             client that sends no server name ({}, some scanners and appliances) gets {}{}.",
            releases::without_sni().join(", "),
            without.display_name(),
            if covers {
                ""
            } else {
                ", which does not cover the name and makes such clients warn"
            }
        ),
    )
}

/// Names on `leaf` (non-wildcard SANs, and PTR names it covers) that resolve to `address`.
fn alternatives(observations: &Observations, leaf: &CertInfo, address: IpAddr) -> Vec<String> {
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

fn ptr_names(observations: &Observations, address: IpAddr) -> Vec<String> {
    observations
        .ptr
        .iter()
        .filter(|p| p.address == address)
        .flat_map(|p| p.names.iter().cloned())
        .collect()
}

fn presented_list(leaf: &CertInfo) -> String {
    let names = leaf.presented_names();
    match names.len() {
        0 => format!("\"{}\" (no names)", leaf.subject),
        1..=4 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    }
}

fn leaves(endpoints: &[EndpointObservation]) -> Vec<CertInfo> {
    let mut seen = BTreeSet::new();
    endpoints
        .iter()
        .filter_map(|e| e.leaf())
        .filter(|der| seen.insert(der.0.clone()))
        .filter_map(|der| CertInfo::parse(&der.0).ok())
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

fn different_certificates(endpoints: &[EndpointDiagnosis], by_address: bool) -> Option<Problem> {
    let mut groups: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for endpoint in endpoints {
        let Some(leaf) = endpoint.analysis.as_ref().and_then(|a| a.leaf()) else {
            continue;
        };
        let place = endpoint.observation.place(by_address);
        groups
            .entry(leaf.sha256.clone())
            .or_insert_with(|| (presented_list(leaf), Vec::new()))
            .1
            .push(place);
    }
    if groups.len() < 2 {
        return None;
    }
    let mut parts: Vec<String> = groups
        .into_values()
        .map(|(names, places)| {
            format!(
                "port{} {} present{} {names}",
                if places.len() > 1 { "s" } else { "" },
                places.join(", "),
                if places.len() > 1 { "" } else { "s" }
            )
        })
        .collect();
    parts.sort();
    Some(Problem::new(
        Code::DifferentCertPerPort,
        Severity::Warning,
        format!(
            "The server uses different certificates on different {}: {}. Usually one service \
             (e.g. Postfix) was forgotten when the certificate was renewed or replaced; point all \
             services at the same certificate files.",
            if by_address {
                "ports and addresses"
            } else {
                "ports"
            },
            parts.join("; ")
        ),
    ))
}

/// Chooses the server name to recommend, and says how sure we are.
fn recommend(
    observations: &Observations,
    endpoints: &[EndpointDiagnosis],
    anchors: &TrustAnchors,
    extra: Extra<'_>,
    now: i64,
) -> Option<Recommendation> {
    // The client ports that offer TLS: those are what a user needs to work.
    let needed: Vec<&EndpointDiagnosis> = endpoints
        .iter()
        .filter(|e| e.observation.service.direction() != Direction::Relay && e.analysis.is_some())
        // A port only old clients can talk to is no place to send a current one.
        .filter(|e| !e.problems.iter().any(|p| p.code == Code::LegacyTlsOnly))
        .collect();
    if needed.is_empty() {
        return None;
    }
    if let Target::Dns(name) = &observations.target {
        if needed
            .iter()
            .all(|e| e.analysis.as_ref().is_some_and(CertAnalysis::accepted))
        {
            let ports = needed
                .iter()
                .map(|e| e.observation.service)
                .collect::<Vec<_>>();
            return Some(Recommendation {
                server_name: name.clone(),
                verified: true,
                reason: format!(
                    "{name} is covered by a valid, trusted certificate on {}.",
                    port_list(&ports)
                ),
                verified_ports: ports,
            });
        }
    }
    for candidate in &observations.candidates {
        let candidate_target = Target::Dns(candidate.name.clone());
        let mut confirmed = Vec::new();
        for endpoint in &needed {
            let reprobe = candidate.endpoints.iter().find(|o| {
                o.service == endpoint.observation.service
                    && o.address == endpoint.observation.address
            });
            let accepted = reprobe
                .and_then(|o| analyze::certificate(o, &candidate_target, anchors, extra, now))
                .is_some_and(|a| a.accepted());
            if accepted {
                confirmed.push(endpoint.observation.service);
            }
        }
        if confirmed.len() == needed.len() {
            let addresses: BTreeSet<String> = needed
                .iter()
                .map(|e| e.observation.address.to_string())
                .collect();
            return Some(Recommendation {
                server_name: candidate.name.clone(),
                verified: true,
                reason: format!(
                    "{} is on the certificate, resolves to the same server ({}), and a test \
                     connection using it was accepted (valid, trusted, name matches) on {}.",
                    candidate.name,
                    addresses.into_iter().collect::<Vec<_>>().join(", "),
                    port_list(&confirmed)
                ),
                verified_ports: confirmed,
            });
        }
    }
    None
}

/// When a name-mismatch names an alternative that was not confirmed, say so, so the message
/// never recommends a name we could not verify.
fn annotate_mismatches(
    endpoints: &mut [EndpointDiagnosis],
    recommendation: Option<&Recommendation>,
    target: &Target,
) {
    let recommended = recommendation.map(|r| r.server_name.as_str());
    if recommended == target.dns_name() && recommended.is_some() {
        return;
    }
    for endpoint in endpoints {
        for problem in &mut endpoint.problems {
            let is_mismatch = matches!(problem.code, Code::NameMismatch | Code::IpAddressUsed);
            if is_mismatch && problem.message.contains(" as the server name.") {
                let confirmed = recommended
                    .is_some_and(|name| problem.message.contains(&format!("use {name} as")));
                if !confirmed {
                    problem.message.push_str(
                        " (Not recommended yet: that name did not pass on every client port; see below.)",
                    );
                }
            }
        }
    }
}

/// "ports 465, 587 and 993" style list.
pub fn port_list(services: &[Service]) -> String {
    let ports: Vec<String> = services.iter().map(|s| s.port.to_string()).collect();
    match ports.len() {
        0 => "no port".to_string(),
        1 => format!("port {}", ports[0]),
        n => format!("ports {} and {}", ports[..n - 1].join(", "), ports[n - 1]),
    }
}
