//! `mailtls check --json`: the host report, or the mail-domain report ([`super::domain`]).

use schemars::JsonSchema;
use serde::Serialize;

use super::{Certificate, ClientVerdict, Header, Kind, Problem, Recommendation};
use crate::analyze::versions::Support;
use crate::diagnose::summary::SummaryKind;
use crate::diagnose::{Diagnosis, EndpointDiagnosis, Verdict};
use crate::observation::{Completion, FailureKind, HelloAnswer, SignatureStatus, VersionProbe};
use crate::run::check::{CheckReport, Checked};
use crate::service::{Protocol, TlsMode};
use crate::target::Target;
use crate::tls_catalog::{Offer, TlsVersion};

/// What `check --json` prints: a host report, or a mail-domain report.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CheckOutput {
    /// `kind: check-host`.
    Host(Box<HostReport>),
    /// `kind: check-domain`.
    Domain(Box<super::domain::DomainReport>),
}

/// The JSON form of a check.
pub fn output(report: &CheckReport) -> CheckOutput {
    let reputation = report
        .reputation
        .as_ref()
        .map(|r| super::reputation::wire(&r.judged));
    match &report.checked {
        Checked::Host(host) => {
            let mut wire = host_report(&host.diagnosis, report.observed_at, report.judged_at);
            wire.reputation = reputation;
            CheckOutput::Host(Box::new(wire))
        }
        Checked::Domain(domain) => {
            let mut wire =
                super::domain::report(&domain.report, report.observed_at, report.judged_at);
            wire.reputation = reputation;
            CheckOutput::Domain(Box::new(wire))
        }
    }
}

/// The report on one host.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HostReport {
    /// Schema version, kind (`check-host`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// When the observations were made (RFC 3339, UTC).
    pub checked_at: String,
    /// When they were judged: the same, or the time asked for by `mailtls judge --at`.
    pub judged_at: String,
    /// The host checked, as normalised (A-label form for DNS names).
    pub target: String,
    /// `dns` or `ip`.
    pub target_kind: TargetKind,
    /// Addresses probed.
    pub addresses: Vec<String>,
    /// `ok`, `warn`, `fail` or `unknown`.
    pub verdict: Verdict,
    /// The exit status for the verdict.
    pub exit_code: u8,
    /// One-line verdict for people.
    pub summary: String,
    /// What the summary claims, as a stable name (docs/json.md lists them).
    pub summary_kind: SummaryKind,
    /// Steps to take, in order.
    pub fix: Vec<String>,
    /// The server name to use, when one was verified.
    pub recommendation: Option<Recommendation>,
    /// Problems of the server as a whole.
    pub problems: Vec<Problem>,
    /// One entry per (address, port).
    pub endpoints: Vec<Endpoint>,
    /// With `--reputation`: blocklists, reverse DNS and SMTP names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<super::reputation::Reputation>,
}

crate::vocabulary::vocabulary! {
    /// What kind of host was checked.
    pub enum TargetKind {
        /// A DNS name.
        Dns => "dns",
        /// An IP address.
        Ip => "ip",
    }
}

/// One (address, port).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Endpoint {
    /// TCP port.
    pub port: u16,
    /// `smtp`, `imap` or `pop3`.
    pub protocol: Protocol,
    /// `starttls` or `implicit`.
    pub tls_mode: TlsMode,
    /// Address probed.
    pub address: String,
    /// SNI sent, or null.
    pub sni: Option<String>,
    /// TCP connection established.
    pub reachable: bool,
    /// Short result: `ok`, `no certificate`, or the top problem's code.
    pub result: &'static str,
    /// First reply line of the server.
    pub greeting: Option<String>,
    /// Capabilities announced before TLS.
    pub capabilities: Vec<String>,
    /// Negotiated TLS version (e.g. `TLSv1.3`), null when no handshake finished.
    pub tls_version: Option<String>,
    /// Negotiated cipher suite.
    pub cipher: Option<String>,
    /// How version, suite and chain were learned: `handshake` (mailtls's own TLS library
    /// finished it) or `client-hello` (it stopped at a limit of its own, and a ClientHello like
    /// a mail client's got the server's answer); null when no handshake completed.
    pub tls_completion: Option<Completion>,
    /// What stopped mailtls's own TLS library, when a limit of its own did (then
    /// `tls_completion` says whether a client-like hello got further).
    pub tls_library_limit: Option<String>,
    /// The server's handshake signature: its scheme and whether mailtls checked it.
    pub handshake_signature: Option<HandshakeSignature>,
    /// The chain as presented, leaf first.
    pub chain: Vec<Certificate>,
    /// The leaf presented to a client that sends no SNI, when it differs.
    pub leaf_without_sni: Option<Certificate>,
    /// Why the probe stopped early, if it did.
    pub failure: Option<Failure>,
    /// Problems on this endpoint, most important first.
    pub problems: Vec<Problem>,
    /// What each mail client does here (empty on port 25 and where nothing listens).
    pub clients: Vec<ClientVerdict>,
    /// SSL 3.0 (when asked) and TLS 1.0 to 1.3; null when TLS never started.
    pub tls_versions: Option<Vec<VersionRow>>,
    /// Weak suites the server accepts (empty: none); null when not learned.
    pub weak_ciphers: Option<Vec<WeakSuite>>,
    /// Which client releases can negotiate a version here.
    pub tls_clients: Vec<Compatibility>,
    /// Every hand-built ClientHello sent here and what came back (one connection each).
    pub tls_probes: Vec<TlsProbe>,
    /// Protocol lines exchanged (capped).
    pub transcript: Vec<String>,
    /// Probe duration in milliseconds.
    pub elapsed_ms: u64,
}

/// The server's signature over the handshake (the proof it holds the certificate's key).
#[derive(Debug, Serialize, JsonSchema)]
pub struct HandshakeSignature {
    /// The TLS signature scheme, e.g. `rsa_pss_rsae_sha256`.
    pub scheme: String,
    /// `verified`, or `not-checked` for a scheme mailtls has no code for (clients do check it).
    pub status: SignatureStatus,
    /// Why it was not checked.
    pub note: Option<String>,
}

/// Why a probe stopped early.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Failure {
    /// The kind of stop.
    pub kind: FailureKind,
    /// Detail in words.
    pub detail: String,
}

crate::vocabulary::vocabulary! {
    /// Whether a version is accepted.
    pub enum VersionStatus {
        /// Accepted.
        Accepted => "accepted",
        /// Refused.
        Refused => "refused",
        /// Not known.
        Unknown => "unknown",
    }
}

/// One TLS version.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionRow {
    /// The version.
    pub version: TlsVersion,
    /// Accepted, refused or unknown.
    pub status: VersionStatus,
    /// Accepted: the suite the server chose from a modern offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// Refused: how (an alert, a closed connection, a lower version chosen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
    /// Unknown: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// A weak suite the server accepted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WeakSuite {
    /// IANA name.
    pub name: String,
    /// Why it is weak: RC4, 3DES, export, NULL, anonymous.
    pub weakness: String,
    /// The version it was accepted with.
    pub version: Option<TlsVersion>,
}

/// Whether a client release can negotiate with this port.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Compatibility {
    /// The release.
    pub release: &'static str,
    /// true: a version both enable; false: none; null: not all versions known.
    pub negotiates: Option<bool>,
    /// The version they would agree on.
    pub version: Option<TlsVersion>,
    /// Whether a source settles the release's range.
    pub certain: bool,
}

crate::vocabulary::vocabulary! {
    /// What came back to a hand-built ClientHello.
    pub enum AnswerKind {
        /// A ServerHello.
        Accepted => "accepted",
        /// A TLS alert.
        Alert => "alert",
        /// Closed or reset without an answer.
        Closed => "closed",
        /// No answer within the step timeout.
        Timeout => "timeout",
        /// Not TLS, or broken TLS.
        Invalid => "invalid",
        /// Not sent: connect or STARTTLS failed.
        NotSent => "not-sent",
    }
}

/// One hand-built ClientHello and its answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsProbe {
    /// The highest version offered (below TLS 1.3, the only one).
    pub asked: TlsVersion,
    /// `modern` or `weak` suites offered.
    pub offer: Offer,
    /// What came back.
    pub answer: TlsAnswer,
    /// Wall time, in milliseconds.
    pub elapsed_ms: u64,
}

/// The answer to a ClientHello.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsAnswer {
    /// What kind of answer.
    pub kind: AnswerKind,
    /// Accepted: the version chosen, when it is one we know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<TlsVersion>,
    /// Accepted: that version's wire number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_wire: Option<u16>,
    /// Accepted: the suite chosen, its number and IANA name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<u16>,
    /// Accepted: the suite's IANA name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_name: Option<String>,
    /// Accepted (TLS 1.2 and older): how many certificates the server sent in clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<usize>,
    /// Accepted (TLS 1.2 and older): the length in bytes the Certificate message announced,
    /// when it did not arrive whole (cut short, or longer than clients accept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_length: Option<u32>,
    /// Alert: the description number and name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<u8>,
    /// Alert: the description's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Invalid or not sent: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn tls_probe(probe: &VersionProbe) -> TlsProbe {
    let mut answer = TlsAnswer {
        kind: AnswerKind::Closed,
        version: None,
        version_wire: None,
        cipher: None,
        cipher_name: None,
        certificates: None,
        certificate_length: None,
        description: None,
        name: None,
        detail: None,
    };
    match &probe.answer {
        HelloAnswer::Accepted {
            version,
            version_wire,
            cipher,
            cipher_name,
            certificates,
            certificate_length,
        } => {
            answer.kind = AnswerKind::Accepted;
            answer.version = *version;
            answer.version_wire = Some(*version_wire);
            answer.cipher = Some(*cipher);
            answer.cipher_name = Some(cipher_name.clone());
            answer.certificates = Some(certificates.len());
            answer.certificate_length = *certificate_length;
        }
        HelloAnswer::Alert { description, name } => {
            answer.kind = AnswerKind::Alert;
            answer.description = Some(*description);
            answer.name = Some(name.clone());
        }
        HelloAnswer::Closed => answer.kind = AnswerKind::Closed,
        HelloAnswer::Timeout => answer.kind = AnswerKind::Timeout,
        HelloAnswer::Invalid { detail } => {
            answer.kind = AnswerKind::Invalid;
            answer.detail = Some(detail.clone());
        }
        HelloAnswer::NotSent { detail } => {
            answer.kind = AnswerKind::NotSent;
            answer.detail = Some(detail.clone());
        }
    }
    TlsProbe {
        asked: probe.asked,
        offer: probe.offer,
        answer,
        elapsed_ms: probe.elapsed_ms,
    }
}

fn endpoint(diagnosis: &EndpointDiagnosis, server: &str) -> Endpoint {
    let observation = &diagnosis.observation;
    let tls = observation.tls.as_ref();
    let versions = diagnosis.versions.as_ref();
    Endpoint {
        port: observation.service.port,
        protocol: observation.service.protocol,
        tls_mode: observation.service.tls_mode,
        address: observation.address.to_string(),
        sni: observation.sni.clone(),
        reachable: observation.reachable,
        result: diagnosis.result(),
        greeting: observation.greeting.clone(),
        capabilities: observation.capabilities.clone(),
        tls_version: tls.and_then(|t| t.version.clone()),
        cipher: tls.and_then(|t| t.cipher.clone()),
        tls_completion: tls.and_then(|t| t.completion),
        tls_library_limit: tls.and_then(|t| t.library_limit.clone()),
        handshake_signature: tls.and_then(|t| t.signature.as_ref()).map(|signature| {
            HandshakeSignature {
                scheme: signature.scheme.clone(),
                status: signature.status,
                note: signature.note.clone(),
            }
        }),
        chain: diagnosis
            .analysis
            .as_ref()
            .map(|a| a.chain.iter().map(Certificate::from).collect())
            .unwrap_or_default(),
        leaf_without_sni: diagnosis.leaf_without_sni.as_ref().map(Certificate::from),
        failure: observation.failure.as_ref().map(|f| Failure {
            kind: f.kind,
            detail: f.detail.clone(),
        }),
        problems: super::problems(&diagnosis.problems, server),
        clients: super::clients(&diagnosis.clients, server, Some(observation.service.port)),
        tls_versions: versions.map(|v| {
            v.rows
                .iter()
                .map(|row| {
                    let (status, cipher, how, why) = match &row.support {
                        Support::Accepted { cipher } => {
                            (VersionStatus::Accepted, Some(cipher.clone()), None, None)
                        }
                        Support::Refused { how } => {
                            (VersionStatus::Refused, None, Some(how.clone()), None)
                        }
                        Support::Unknown { why } => {
                            (VersionStatus::Unknown, None, None, Some(why.clone()))
                        }
                    };
                    VersionRow {
                        version: row.version,
                        status,
                        cipher,
                        how,
                        why,
                    }
                })
                .collect()
        }),
        weak_ciphers: versions.and_then(|v| {
            v.weak.as_ref().map(|weak| {
                weak.iter()
                    .map(|w| WeakSuite {
                        name: w.name.clone(),
                        weakness: w.weakness.clone(),
                        version: w.version,
                    })
                    .collect()
            })
        }),
        tls_clients: diagnosis
            .compatibility
            .iter()
            .map(|c| Compatibility {
                release: c.release,
                negotiates: c.negotiates,
                version: c.version,
                certain: c.certain,
            })
            .collect(),
        tls_probes: observation.versions.iter().map(tls_probe).collect(),
        transcript: observation.transcript.clone(),
        elapsed_ms: observation.elapsed_ms,
    }
}

/// The report on one host, observed and judged at the given times (Unix seconds).
pub fn host_report(diagnosis: &Diagnosis, observed_at: i64, judged_at: i64) -> HostReport {
    let server = diagnosis.target.to_string();
    HostReport {
        header: Header::new(Kind::CheckHost),
        checked_at: super::time(observed_at),
        judged_at: super::time(judged_at),
        target: diagnosis.target.to_string(),
        target_kind: match diagnosis.target {
            Target::Dns(_) => TargetKind::Dns,
            Target::Ip(_) => TargetKind::Ip,
        },
        addresses: diagnosis
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect(),
        verdict: diagnosis.verdict,
        exit_code: diagnosis.verdict.exit_code(),
        summary: crate::report::summary(diagnosis),
        summary_kind: diagnosis.summary_kind(),
        fix: crate::report::fix(diagnosis),
        recommendation: diagnosis.recommendation.as_ref().map(Recommendation::from),
        problems: super::problems(&diagnosis.problems, &server),
        endpoints: diagnosis
            .endpoints
            .iter()
            .map(|e| endpoint(e, &server))
            .collect(),
        reputation: None,
    }
}
