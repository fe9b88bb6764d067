//! From observations to causes: which problems each endpoint has, why, and which server name
//! (if any) makes every client port work. Pure: everything comes from [`Observations`].
//!
//! [`plan`] decides what a check asks the network next from what it has seen; the rest judges.
//! The checks of one endpoint are in `checks/`, one family per file; the server-wide ones in
//! `server.rs`; the recommendation in `recommend.rs`; [`discovery`] and [`reputation`] judge
//! those commands' observations, [`account_setup`] what Thunderbird's set-up chooses there.

pub mod account_setup;
pub mod autodiscover;
mod checks;
pub mod costs_mail;
pub mod delivery;
pub mod discovery;
pub mod evidence;
pub mod explain;
pub mod plan;
pub mod problem;
mod recommend;
pub mod reputation;
mod server;
pub mod summary;
pub mod tlsrpt;
pub mod verify;

use std::net::IpAddr;

use crate::analyze::cert::CertInfo;
use crate::analyze::chain::TrustAnchors;
use crate::analyze::versions::VersionReport;
use crate::analyze::{self, CertAnalysis};
use crate::clients::releases::{self, Compatibility};
use crate::clients::{self, Client, ClientVerdict, Facts};
use crate::observation::FailureKind;
use crate::observation::{EndpointObservation, Observations};
use crate::service::{Direction, Protocol, Service};
use crate::target::Target;
use crate::tls_catalog::TlsVersion;
use evidence::Evidence;
pub use problem::{Code, Context, Problem, Severity};

crate::vocabulary::vocabulary! {
    /// The overall outcome, which is also the exit status.
    pub enum Verdict {
        /// Every port that answered is fine.
        Ok => "ok",
        /// Only warnings.
        Warn => "warn",
        /// At least one problem that makes a mail client warn or fail.
        Fail => "fail",
        /// Nothing could be checked (no port answered).
        Unknown => "unknown",
    }
}

impl Verdict {
    /// The documented exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Ok => crate::exit::OK,
            Verdict::Warn => crate::exit::WARN,
            Verdict::Fail => crate::exit::FAIL,
            Verdict::Unknown => crate::exit::UNKNOWN,
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

/// Judges everything observed. `now` is Unix seconds (a parameter, so tests run at a fixed time).
pub fn diagnose(observations: &Observations, anchors: &TrustAnchors, now: i64) -> Diagnosis {
    let target = &observations.target;
    let evidence = Evidence::gather(&observations.endpoints, &observations.aia);
    let mut endpoints: Vec<EndpointDiagnosis> = observations
        .endpoints
        .iter()
        .map(|observation| {
            let analysis =
                analyze::certificate(observation, target, anchors, evidence.extra(), now);
            let leaf_without_sni = observations
                .without_sni
                .iter()
                .find(|o| o.service == observation.service && o.address == observation.address)
                .and_then(|o| o.leaf())
                .filter(|leaf| Some(*leaf) != observation.leaf())
                .and_then(|leaf| CertInfo::parse(&leaf.0).ok());
            let versions = analyze::versions::summarize(observation);
            let mut problems = checks::endpoint_problems(&checks::Endpoint {
                observations,
                observation,
                analysis: analysis.as_ref(),
                versions: versions.as_ref(),
                leaf_without_sni: leaf_without_sni.as_ref(),
                now,
            });
            rank(&mut problems);
            let clients = client_verdicts(
                target,
                observations.typed.as_deref(),
                observation,
                analysis.as_ref(),
                versions.as_ref(),
            );
            name_dialogs(&mut problems, &clients, observation);
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
    if let Some(problem) =
        server::different_certificates(&endpoints, observations.addresses.len() > 1)
    {
        problems.push(problem);
    }
    let recommendation = recommend::recommend(observations, &endpoints, anchors, &evidence, now);
    recommend::settle_suggestions(&mut endpoints, recommendation.as_ref(), target);

    let all: Vec<&Problem> = endpoints
        .iter()
        .flat_map(|e| e.problems.iter())
        .chain(problems.iter())
        .collect();
    // Reached, and heard: an endpoint that turned every attempt away taught us nothing.
    let reachable = endpoints.iter().any(|e| {
        e.observation.reachable
            && e.observation
                .failure
                .as_ref()
                .is_none_or(|f| f.kind != FailureKind::RateLimited)
    });
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

impl Diagnosis {
    /// Every distinct fault that makes a mail client warn or fail (a problem seen on several
    /// ports counts once), in the order to fix them: what needs a new certificate first (an
    /// untrusted or self-signed one, a broken chain, a weak key or signature, a missing name),
    /// since a new certificate settles its dates and chain too; then the chain the server
    /// sends; then the dates; then the name clients use; then the TLS settings.
    pub fn to_fix(&self) -> Vec<&Problem> {
        let mut all = self.errors_where();
        // One name fault is one thing to fix, however many problems describe it; one
        // certificate fault is one, on however many ports; a server setting (STARTTLS, TLS
        // versions) is one per protocol, since IMAP, POP3 and SMTP are often separate daemons.
        let key = |(protocol, p): &(Option<Protocol>, &Problem)| match p.code {
            Code::NameMismatch
            | Code::IpAddressUsed
            | Code::CertLacksName
            | Code::CnOnly
            | Code::UnicodeName => (Code::NameMismatch, None, None),
            code if code.is_certificate() => (code, p.context.certificate.clone(), None),
            code => (code, None, *protocol),
        };
        let mut seen = Vec::new();
        all.retain(|found| {
            let key = key(found);
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        all.into_iter().map(|(_, p)| p).collect()
    }

    /// Every problem that makes a mail client warn or fail, in the order to fix them (see
    /// [`Diagnosis::to_fix`]), each endpoint's included; the same problem may appear once per
    /// port.
    pub fn errors_in_fix_order(&self) -> Vec<&Problem> {
        self.errors_where().into_iter().map(|(_, p)| p).collect()
    }

    /// [`Diagnosis::errors_in_fix_order`], each with the protocol of its endpoint (`None` for
    /// a server-wide problem).
    fn errors_where(&self) -> Vec<(Option<Protocol>, &Problem)> {
        let mut all: Vec<(Option<Protocol>, &Problem)> = self
            .endpoints
            .iter()
            .flat_map(|e| {
                let protocol = Some(e.observation.service.protocol);
                e.problems.iter().map(move |p| (protocol, p))
            })
            .chain(self.problems.iter().map(|p| (None, p)))
            .filter(|(_, p)| p.severity == Severity::Error)
            .collect();
        all.sort_by_key(|(_, p)| (fix_order(p.code), p.code));
        all
    }
}

/// Where a problem comes in [`Diagnosis::to_fix`], lowest first.
fn fix_order(code: Code) -> u8 {
    match code {
        Code::SelfSigned | Code::UnknownCa => 0,
        Code::InvalidChain => 1,
        Code::WeakKey | Code::WeakSignature | Code::KeyUsage | Code::UnsupportedKey => 2,
        Code::CnOnly | Code::CertLacksName => 3,
        Code::IncompleteChain | Code::ChainTooLong | Code::UntrustedPathFirst => 4,
        Code::Expired | Code::NotYetValid => 5,
        Code::NameMismatch | Code::IpAddressUsed | Code::UnicodeName => 6,
        Code::DifferentCertPerPort | Code::SniDependent => 7,
        _ => 8,
    }
}

/// Every client's verdict on one endpoint.
fn client_verdicts(
    target: &Target,
    typed: Option<&str>,
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
            facts.target = Some(target);
            facts.typed = typed;
            facts.tls_cipher = observation.tls.as_ref().and_then(|t| t.cipher.as_deref());
            clients::judge_all(&facts)
        }
        // A certificate nobody can read: no client gets as far as asking the user.
        (None, None) if !observation.chain().is_empty() => Client::ALL
            .iter()
            .map(|c| clients::judge_unreadable(*c))
            .collect(),
        // Our TLS library stopped, not the server: what a client does is not known.
        (None, Some(failure)) if observation.stopped_by_library() => Client::ALL
            .iter()
            .map(|c| clients::judge_not_observed(*c, &failure.detail, versions))
            .collect(),
        // A server that turned us away taught us nothing about what clients would see.
        (None, Some(failure))
            if observation.reachable && failure.kind != FailureKind::RateLimited =>
        {
            Client::ALL
                .iter()
                .map(|c| clients::judge_no_tls(*c, &failure.detail))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Names, on each problem, the dialog each client shows because of it: a client that shows a
/// certificate dialog, one of whose certificate rules (not a TLS-version rule, which stops the
/// connection instead) holds it back and belongs to the problem.
fn name_dialogs(
    problems: &mut [Problem],
    clients: &[ClientVerdict],
    observation: &EndpointObservation,
) {
    for problem in problems.iter_mut() {
        for verdict in clients {
            let (Some(dialog), Some(fault)) = (verdict.dialog, verdict.fault()) else {
                continue;
            };
            let caused = verdict.rules.iter().any(|f| {
                f.outcome != clients::Outcome::Works
                    && f.fault.is_some()
                    && problem.context.rules.contains(&f.rule)
            });
            if caused {
                problem.context.dialogs.push(clients::dialogs::Shown {
                    dialog,
                    fault,
                    cause: format!("port {}", observation.service.port),
                    port: Some(observation.service.port),
                });
            }
        }
    }
}

fn rank(problems: &mut [Problem]) {
    problems.sort_by_key(|p| (p.severity, p.code));
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
