//! The JSON output of `mailtls check --json`: serialize-only types, separate from the domain
//! types so the schema stays stable while internals change. Documented in docs/json.md; bump
//! [`SCHEMA_VERSION`] on any incompatible change.

use serde::Serialize;

use crate::analyze::cert::{CertInfo, rfc3339};
use crate::analyze::versions::{VersionRow, WeakSuite};
use crate::clients::ClientVerdict;
use crate::clients::releases::Compatibility;
use crate::diagnose::{Diagnosis, EndpointDiagnosis, Problem, Verdict};
use crate::observation::{FailureKind, VersionProbe};
use crate::service::{Protocol, TlsMode};

/// Version of this JSON schema.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Schema version.
    pub schema_version: u32,
    /// `mailtls` version that produced it.
    pub mailtls_version: &'static str,
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: String,
    /// The host checked, as normalised (A-label form for DNS names).
    pub target: String,
    /// `"dns"` or `"ip"`.
    pub target_kind: &'static str,
    /// Addresses probed.
    pub addresses: Vec<String>,
    /// `ok`, `warn`, `fail` or `unknown`.
    pub verdict: Verdict,
    /// The process exit status matching the verdict.
    pub exit_code: u8,
    /// One-line verdict for people.
    pub summary: String,
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
    pub reputation: Option<super::reputation::Wire>,
}

/// The recommended server name.
#[derive(Debug, Serialize)]
pub struct Recommendation {
    /// Name to configure.
    pub server_name: String,
    /// Confirmed by a test connection on every client port offering TLS.
    pub verified: bool,
    /// Why, and what was verified.
    pub reason: String,
    /// Ports where it was confirmed.
    pub verified_ports: Vec<u16>,
}

/// One (address, port).
#[derive(Debug, Serialize)]
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
    /// Short result: `ok` or the top problem's code.
    pub result: &'static str,
    /// First reply line of the server.
    pub greeting: Option<String>,
    /// Capabilities announced before TLS.
    pub capabilities: Vec<String>,
    /// Negotiated TLS version (e.g. `TLSv1.3`), null when no handshake finished.
    pub tls_version: Option<String>,
    /// Negotiated cipher suite.
    pub cipher: Option<String>,
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
    /// SSL 3.0 (when asked) and TLS 1.0 to 1.3: accepted (with the suite chosen from a modern
    /// offer), refused (how) or unknown (why); null when TLS never started.
    pub tls_versions: Option<Vec<VersionRow>>,
    /// Weak suites the server accepts (empty: none); null when not learned.
    pub weak_ciphers: Option<Vec<WeakSuite>>,
    /// Which client releases can negotiate a version here (empty on port 25 and when the
    /// versions are not known).
    pub tls_clients: Vec<Compatibility>,
    /// Every hand-built ClientHello sent to this endpoint and what came back (one connection
    /// each).
    pub tls_probes: Vec<VersionProbe>,
    /// Protocol lines exchanged (capped).
    pub transcript: Vec<String>,
    /// Probe duration in milliseconds.
    pub elapsed_ms: u64,
}

/// Why a probe stopped early.
#[derive(Debug, Serialize)]
pub struct Failure {
    /// Kind, kebab-case.
    pub kind: FailureKind,
    /// Detail in words.
    pub detail: String,
}

/// One certificate.
#[derive(Debug, Serialize)]
pub struct Certificate {
    /// PEM encoding.
    pub pem: String,
    /// Subject DN.
    pub subject: String,
    /// subjectAltName dNSName entries.
    pub san_dns: Vec<String>,
    /// subjectAltName iPAddress entries.
    pub san_ip: Vec<String>,
    /// Issuer DN.
    pub issuer: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

impl From<&CertInfo> for Certificate {
    fn from(cert: &CertInfo) -> Self {
        Certificate {
            pem: cert.pem(),
            subject: cert.subject.clone(),
            san_dns: cert.san_dns.clone(),
            san_ip: cert.san_ip.iter().map(ToString::to_string).collect(),
            issuer: cert.issuer.clone(),
            not_before: rfc3339(cert.not_before),
            not_after: rfc3339(cert.not_after),
            sha256: cert.sha256.clone(),
        }
    }
}

fn endpoint(diagnosis: &EndpointDiagnosis) -> Endpoint {
    let observation = &diagnosis.observation;
    let tls = observation.tls.as_ref();
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
        problems: diagnosis.problems.clone(),
        clients: diagnosis.clients.clone(),
        tls_versions: diagnosis.versions.as_ref().map(|v| v.rows.clone()),
        weak_ciphers: diagnosis.versions.as_ref().and_then(|v| v.weak.clone()),
        tls_clients: diagnosis.compatibility.clone(),
        tls_probes: observation.versions.clone(),
        transcript: observation.transcript.clone(),
        elapsed_ms: observation.elapsed_ms,
    }
}

/// Builds the wire report.
pub fn report(diagnosis: &Diagnosis, checked_at: i64) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        mailtls_version: env!("CARGO_PKG_VERSION"),
        checked_at: rfc3339(checked_at),
        target: diagnosis.target.to_string(),
        target_kind: match diagnosis.target {
            crate::target::Target::Dns(_) => "dns",
            crate::target::Target::Ip(_) => "ip",
        },
        addresses: diagnosis
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect(),
        verdict: diagnosis.verdict,
        exit_code: diagnosis.verdict.exit_code(),
        summary: super::summary(diagnosis),
        fix: super::fix(diagnosis),
        recommendation: diagnosis.recommendation.as_ref().map(|r| Recommendation {
            server_name: r.server_name.clone(),
            verified: r.verified,
            reason: r.reason.clone(),
            verified_ports: r.verified_ports.iter().map(|s| s.port).collect(),
        }),
        problems: diagnosis.problems.clone(),
        endpoints: diagnosis.endpoints.iter().map(endpoint).collect(),
        reputation: None,
    }
}
