//! One target's result as the rows the store writes: the target, its endpoints, problems and
//! discovery records, a mail domain's inbound delivery (its MTA-STS, DANE and what they make
//! senders do with each MX), and its full report as `check --json` prints it. Pure: no I/O.

use std::collections::BTreeSet;

use super::input::Line;
use mailtls_core::analyze::dane::DaneState;
use mailtls_core::diagnose::costs_mail::{self, CostAnswer};
use mailtls_core::diagnose::delivery::{
    CertificateVerdict, DeliveryReport, MtaStsState, Port25, SenderAction, SenderKind, TlsRptState,
};
use mailtls_core::diagnose::discovery::EntryStatus;
use mailtls_core::diagnose::{Code, Diagnosis, Severity, Verdict};
use mailtls_core::exit;
use mailtls_core::observation::{Security, Source, SourceErrorKind};
use mailtls_core::report;
use mailtls_core::run::check::{CheckError, CheckReport, Checked};
use mailtls_core::vocabulary::vocabulary;

vocabulary! {
    /// What a target turned out to be.
    pub enum TargetKind {
        /// A host, checked on its ports.
        Host => "host",
        /// A mail domain (or address), checked through what it hands out.
        Domain => "domain",
        /// Nothing could be checked (e.g. the name does not resolve).
        None => "none",
    }
}

vocabulary! {
    /// Why nothing could be checked for a target.
    pub enum Unchecked {
        /// The name does not exist.
        NoSuchName => "no-such-name",
        /// DNS did not answer in time.
        DnsTimeout => "dns-timeout",
        /// DNS failed otherwise.
        DnsFailed => "dns-failed",
    }
}

/// One target's rows.
#[derive(Debug, Clone)]
pub struct TargetRecord {
    /// The target, normalised (the key).
    pub target: String,
    /// Its line in the input.
    pub line: u64,
    /// Its account (CSV).
    pub account: Option<String>,
    /// What it was.
    pub kind: TargetKind,
    /// The verdict.
    pub verdict: Verdict,
    /// The exit status `check` gives it.
    pub exit_code: u8,
    /// The one-line answer.
    pub summary: String,
    /// The first thing to change, when there is one.
    pub fix: Option<String>,
    /// The verified server name to use, when there is one.
    pub recommendation: Option<String>,
    /// Why nothing could be checked, when nothing could.
    pub error: Option<Unchecked>,
    /// When it was checked (Unix seconds).
    pub checked_at: i64,
    /// Every endpoint probed.
    pub endpoints: Vec<EndpointRow>,
    /// Every problem found.
    pub problems: Vec<ProblemRow>,
    /// Where a mail domain sends clients.
    pub discovery: Vec<DiscoveryRow>,
    /// A mail domain's inbound delivery (`None` for a host, or when it was not observed).
    pub inbound: Option<InboundRow>,
    /// Its MX hosts, most preferred first.
    pub inbound_mx: Vec<InboundMxRow>,
    /// The report as `check --json` prints it (`None` when nothing could be checked).
    pub report: Option<String>,
}

/// A mail domain's inbound delivery in a few stable values: what fleets count and diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRow {
    /// Inbound delivery's verdict (`fail`: a kind of sender bounces the domain's mail).
    pub verdict: Verdict,
    /// MTA-STS as a sender without a cached policy finds it (its mode, when usable).
    pub mta_sts: MtaStsState,
    /// The MTA-STS problems (record, policy host, policy, MX hosts under it), by code.
    pub policy_problems: Vec<Code>,
    /// The domain's DANE, the worst of its MX hosts' (`None`: no MX host).
    pub dane: Option<DaneState>,
    /// The TLS-RPT record.
    pub tlsrpt: TlsRptState,
    /// Can a certificate warning cost the domain mail?
    pub costs_mail: CostAnswer,
}

/// One MX host of a mail domain, as senders meet it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMxRow {
    /// The host.
    pub host: String,
    /// Its MX preference.
    pub preference: u16,
    /// What its port 25 did.
    pub port25: Port25,
    /// Its certificate, as an MTA-STS sender validates it.
    pub certificate: Option<CertificateVerdict>,
    /// DANE's verdict.
    pub dane: DaneState,
    /// What MTA-STS senders (Gmail, Microsoft 365) do there.
    pub mta_sts_sender: SenderAction,
    /// What DANE-validating senders do there.
    pub dane_sender: SenderAction,
}

impl TargetRecord {
    /// The most important problem's code, or "ok".
    pub fn headline(&self) -> &str {
        self.problems
            .iter()
            .min_by_key(|p| p.severity)
            .map_or("ok", |p| p.code.as_str())
    }

    /// How many problems of error or warning severity.
    pub fn serious_problems(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity != Severity::Info)
            .count()
    }
}

/// One (host, address, port) probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    /// The host name (or address) checked.
    pub host: String,
    /// The address connected to.
    pub address: String,
    /// The port.
    pub port: u16,
    /// The SNI sent.
    pub sni: Option<String>,
    /// "ok", "no certificate" or the top problem's code.
    pub result: String,
    /// The TLS version negotiated.
    pub tls_version: Option<String>,
    /// The leaf's DNS names, comma-separated.
    pub leaf_names: Option<String>,
    /// The leaf's expiry (Unix seconds).
    pub not_after: Option<i64>,
}

/// One problem, on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemRow {
    /// The stable code (docs/json.md).
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// The host it was found on.
    pub server: String,
    /// The port, for an endpoint's problem.
    pub port: Option<u16>,
    /// The discovery sources that sent clients to `server`, by name (mail domains; empty for
    /// a host).
    pub sources: Vec<Source>,
    /// The name a client used.
    pub expected_name: Option<String>,
    /// The names the certificate presents, comma-separated.
    pub presented_names: Option<String>,
    /// A name on the certificate that reaches the same server.
    pub suggested_name: Option<String>,
    /// Whether a connection with `suggested_name` was accepted on every client port.
    pub verified: bool,
}

/// One discovery entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRow {
    /// The source (srv, autoconfig, mx, ...).
    pub source: Source,
    /// The record or URL.
    pub url_or_record: String,
    /// The name handed out.
    pub hostname: String,
    /// The port handed out.
    pub port: Option<u16>,
    /// The security handed out.
    pub security: Option<Security>,
    /// What happens to a client sent there.
    pub status: EntryStatus,
    /// The problem code or the source's error.
    pub detail: Option<String>,
    /// For a source error, its kind.
    pub error: Option<SourceErrorKind>,
    /// A verified name to hand out instead.
    pub instead: Option<String>,
}

/// The rows for `line`, checked at `checked_at` with `result`.
pub fn record(
    line: &Line,
    result: &Result<CheckReport, CheckError>,
    checked_at: i64,
) -> TargetRecord {
    let mut record = TargetRecord {
        target: line.key.clone(),
        line: line.line,
        account: line.account.clone(),
        kind: TargetKind::None,
        verdict: Verdict::Unknown,
        exit_code: exit::UNKNOWN,
        summary: String::new(),
        fix: None,
        recommendation: None,
        error: None,
        checked_at,
        endpoints: Vec::new(),
        problems: Vec::new(),
        discovery: Vec::new(),
        inbound: None,
        inbound_mx: Vec::new(),
        report: None,
    };
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            record.summary = format!("Could not check {}: {error}.", line.key);
            record.error = Some(error_code(error));
            return record;
        }
    };
    record.exit_code = report.exit_code();
    record.report = serde_json::to_string(&report::wire::check::output(report)).ok();
    match &report.checked {
        Checked::Host(host) => {
            let diagnosis = &host.diagnosis;
            record.kind = TargetKind::Host;
            record.verdict = diagnosis.verdict;
            record.summary = report::summary(diagnosis);
            record.fix = report::fix(diagnosis).into_iter().next();
            record.recommendation = diagnosis
                .recommendation
                .as_ref()
                .map(|r| r.server_name.clone());
            add_host(&mut record, diagnosis, &[]);
        }
        Checked::Domain(domain) => {
            let judged = &domain.report;
            record.kind = TargetKind::Domain;
            record.verdict = judged.verdict;
            record.summary = judged.summary.clone();
            record.fix = judged.fixes.first().cloned();
            record.recommendation = judged
                .recommendation
                .as_ref()
                .map(|r| r.server_name.clone());
            for entry in &judged.entries {
                record.discovery.push(DiscoveryRow {
                    source: entry.source,
                    url_or_record: entry.url_or_record.clone(),
                    hostname: entry.hostname.clone(),
                    port: entry.port,
                    security: entry.security,
                    status: entry.status,
                    detail: entry.detail.clone(),
                    error: entry.error,
                    instead: entry.instead.clone(),
                });
            }
            for diagnosis in &judged.hosts {
                let host = diagnosis.target.to_string();
                let sources: BTreeSet<Source> = judged
                    .entries
                    .iter()
                    .filter(|e| e.hostname == host)
                    .map(|e| e.source)
                    .collect();
                add_host(&mut record, diagnosis, &by_name(sources));
            }
            if let Some(delivery) = &judged.delivery {
                add_inbound(&mut record, delivery);
            }
        }
    }
    record
}

/// A mail domain's inbound delivery: its row, its MX hosts and its problems (each on the host
/// it concerns: the MX, the policy host, the TXT record's name).
fn add_inbound(record: &mut TargetRecord, delivery: &DeliveryReport) {
    let costs = costs_mail::judge(Some(delivery), &delivery.domain);
    let mut policy_problems: Vec<Code> = Vec::new();
    for problem in &delivery.problems {
        if problem.code.as_str().starts_with("mta-sts-") && !policy_problems.contains(&problem.code)
        {
            policy_problems.push(problem.code);
        }
    }
    record.inbound = Some(InboundRow {
        verdict: delivery.verdict,
        mta_sts: delivery.mta_sts.state,
        policy_problems,
        dane: costs_mail::domain_dane(&delivery.mx),
        tlsrpt: delivery.tlsrpt.state,
        costs_mail: costs.answer,
    });
    record.inbound_mx = delivery
        .mx
        .iter()
        .map(|mx| InboundMxRow {
            host: mx.host.clone(),
            preference: mx.preference,
            port25: mx.port25,
            certificate: mx.certificate,
            dane: mx.dane.state,
            mta_sts_sender: mx.action(SenderKind::MtaSts),
            dane_sender: mx.action(SenderKind::Dane),
        })
        .collect();
    for problem in &delivery.problems {
        // The MX host or the policy host; a TXT record's problem is the domain's.
        let server = problem
            .context
            .expected_name
            .clone()
            .filter(|name| !name.starts_with('_'))
            .unwrap_or_else(|| delivery.domain.clone());
        // Senders reach an MX through the MX records.
        let sources = if delivery.mx.iter().any(|m| m.host == server) {
            vec![Source::Mx]
        } else {
            Vec::new()
        };
        let port = problem.context.ports.first().copied();
        record
            .problems
            .push(problem_row(problem, &server, port, &sources));
    }
}

/// A host's endpoints and problems.
fn add_host(record: &mut TargetRecord, diagnosis: &Diagnosis, sources: &[Source]) {
    let host = diagnosis.target.to_string();
    for endpoint in &diagnosis.endpoints {
        let observation = &endpoint.observation;
        let leaf = endpoint.analysis.as_ref().and_then(|a| a.leaf());
        record.endpoints.push(EndpointRow {
            host: host.clone(),
            address: observation.address.to_string(),
            port: observation.service.port,
            sni: observation.sni.clone(),
            result: endpoint.result().to_string(),
            tls_version: observation.tls.as_ref().and_then(|t| t.version.clone()),
            leaf_names: leaf.map(|l| l.san_dns.join(",")),
            not_after: leaf.map(|l| l.not_after),
        });
        for problem in &endpoint.problems {
            record.problems.push(problem_row(
                problem,
                &host,
                Some(observation.service.port),
                sources,
            ));
        }
    }
    for problem in &diagnosis.problems {
        record
            .problems
            .push(problem_row(problem, &host, None, sources));
    }
}

fn problem_row(
    problem: &mailtls_core::diagnose::Problem,
    server: &str,
    port: Option<u16>,
    sources: &[Source],
) -> ProblemRow {
    let context = &problem.context;
    ProblemRow {
        code: problem.code,
        severity: problem.severity,
        server: server.to_string(),
        port,
        sources: sources.to_vec(),
        expected_name: context.expected_name.clone(),
        presented_names: (!context.presented_names.is_empty())
            .then(|| context.presented_names.join(",")),
        suggested_name: context.suggested_name.clone(),
        verified: context.suggestion_verified == Some(true),
    }
}

/// Why a check could not run.
pub fn error_code(error: &CheckError) -> Unchecked {
    use mailtls_core::probe::dns::DnsError;
    match error {
        CheckError::Dns(DnsError::NotFound(_)) => Unchecked::NoSuchName,
        CheckError::Dns(DnsError::Timeout(_)) => Unchecked::DnsTimeout,
        CheckError::Dns(_) => Unchecked::DnsFailed,
    }
}

/// `sources` ordered by name, as the store lists them (comma-separated).
pub fn by_name(sources: impl IntoIterator<Item = Source>) -> Vec<Source> {
    let mut sources: Vec<Source> = sources.into_iter().collect();
    sources.sort_by_key(|s| s.as_str());
    sources.dedup();
    sources
}
