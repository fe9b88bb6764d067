//! `mailtls tlsrpt --json`: what the senders' TLS reports say, per sender, policy and MX, and
//! each failure with what it cost, the fix and the command that confirms it.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Header, Kind, time};
use crate::analyze::tlsrpt::StsMode;
use crate::diagnose::Verdict;
use crate::diagnose::tlsrpt::{Consequence, Finding, Policy, Sender};
use crate::report::tlsrpt::headline;
use crate::run::tlsrpt::{SkipReason, TlsrptRun};

/// What `tlsrpt --json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptOutput {
    /// Schema version, kind (`tlsrpt`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// `fail`: a failure cost mail (senders that apply the policy did not deliver); `warn`:
    /// senders report failures but delivered; `ok`: no session failed.
    pub verdict: Verdict,
    /// The exit status: 2 fail, 1 warn, 3 ok but a file was skipped, 0 ok.
    pub exit_code: u8,
    /// The verdict in one sentence.
    pub summary: String,
    /// Reports summed (duplicates not counted).
    pub reports: usize,
    /// Reports left out as duplicates (the same sender and `report-id` already summed).
    pub duplicates: usize,
    /// Files that held at least one report.
    pub files: usize,
    /// Files in the directories given that were not taken for reports.
    pub ignored: usize,
    /// The earliest start of the reports' date ranges (RFC 3339); null when none gives one.
    pub start: Option<String>,
    /// The latest end.
    pub end: Option<String>,
    /// The policy domains reported on.
    pub domains: Vec<String>,
    /// Sessions that succeeded, over every sender and policy.
    pub successful_sessions: u64,
    /// Sessions that failed.
    pub failed_sessions: u64,
    /// How many senders report failed sessions.
    pub senders_with_failures: usize,
    /// Every failure, summed across senders, the costliest first.
    pub findings: Vec<TlsrptFinding>,
    /// Every sending organisation, those reporting failures first.
    pub senders: Vec<TlsrptSender>,
    /// Files and directories that gave no report.
    pub skipped: Vec<TlsrptSkipped>,
}

/// One failure, summed across senders.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptFinding {
    /// The MX host; null for the MTA-STS policy's own failures and when the reports do not
    /// name it.
    pub host: Option<String>,
    /// The result type as the senders wrote it (the RFC 8460 types, or another kept as
    /// written); null for failed sessions the reports count but do not detail.
    pub result_type: Option<String>,
    /// Whether mailtls knows the result type (then `fix` is set).
    pub known: bool,
    /// `sts`, `tlsa`, `no-policy-found`, or as written.
    pub policy_type: String,
    /// The policy domain.
    pub policy_domain: Option<String>,
    /// The MTA-STS policy's mode, when the reports give it.
    pub policy_mode: Option<StsMode>,
    /// What it cost.
    pub consequence: Consequence,
    /// Failed sessions.
    pub sessions: u64,
    /// The senders reporting it, most sessions first.
    pub senders: Vec<TlsrptSenderCount>,
    /// Receiving addresses reported (at most 8).
    pub receiving_ips: Vec<String>,
    /// The senders' `failure-reason-code`s (at most 8).
    pub reason_codes: Vec<String>,
    /// What is wrong, what it cost and what to change; null for a result type mailtls does
    /// not know.
    pub fix: Option<String>,
    /// The `mailtls check` command that confirms it; null when the reports name nothing that
    /// can be checked.
    pub command: Option<String>,
}

/// A sender's part of a finding.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptSenderCount {
    /// The sending organisation.
    pub organization: String,
    /// Its failed sessions.
    pub sessions: u64,
}

/// One sending organisation.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptSender {
    /// `organization-name` (else `contact-info`).
    pub organization: String,
    /// `contact-info`.
    pub contact: Option<String>,
    /// Its reports.
    pub reports: usize,
    /// Earliest start (RFC 3339).
    pub start: Option<String>,
    /// Latest end.
    pub end: Option<String>,
    /// Sessions that succeeded.
    pub successful_sessions: u64,
    /// Sessions that failed.
    pub failed_sessions: u64,
    /// Per policy.
    pub policies: Vec<TlsrptPolicy>,
}

/// One policy as one sender applied it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptPolicy {
    /// `sts`, `tlsa`, `no-policy-found`, or as written.
    pub policy_type: String,
    /// The policy domain.
    pub policy_domain: Option<String>,
    /// The MTA-STS mode.
    pub policy_mode: Option<StsMode>,
    /// The MX patterns of an MTA-STS policy (`mx-host`, else its `mx:` lines).
    pub mx_patterns: Vec<String>,
    /// Sessions that succeeded.
    pub successful_sessions: u64,
    /// Sessions that failed.
    pub failed_sessions: u64,
    /// Failed sessions the failure details do not account for.
    pub undetailed_sessions: u64,
    /// The failure details, per MX host and result type.
    pub failures: Vec<TlsrptFailure>,
}

/// Failed sessions of one result type to one MX host.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptFailure {
    /// The MX host; null when not named or for the policy's own failures.
    pub host: Option<String>,
    /// The result type, as written.
    pub result_type: String,
    /// Failed sessions.
    pub sessions: u64,
}

/// A file or directory that gave no report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsrptSkipped {
    /// The path.
    pub file: String,
    /// Why, as a stable code.
    pub reason: SkipReason,
    /// Why, in words.
    pub message: String,
}

/// The JSON form of a run.
pub fn output(run: &TlsrptRun) -> TlsrptOutput {
    let summary = &run.summary;
    let (successful, failed) = summary.sessions();
    TlsrptOutput {
        header: Header::new(Kind::Tlsrpt),
        verdict: summary.verdict,
        exit_code: run.exit_code(),
        summary: headline(summary),
        reports: summary.reports,
        duplicates: summary.duplicates,
        files: run.files,
        ignored: run.ignored,
        start: summary.start.map(time),
        end: summary.end.map(time),
        domains: summary.domains.clone(),
        successful_sessions: successful,
        failed_sessions: failed,
        senders_with_failures: summary.senders_with_failures(),
        findings: summary.findings.iter().map(finding).collect(),
        senders: summary.senders.iter().map(sender).collect(),
        skipped: run
            .skipped
            .iter()
            .map(|s| TlsrptSkipped {
                file: s.file.clone(),
                reason: s.reason,
                message: s.message.clone(),
            })
            .collect(),
    }
}

fn finding(finding: &Finding) -> TlsrptFinding {
    TlsrptFinding {
        host: finding.host.clone(),
        result_type: finding.result_type.as_ref().map(|r| r.as_str().to_string()),
        known: finding
            .result_type
            .as_ref()
            .is_some_and(|r| r.known().is_some()),
        policy_type: finding.policy_type.as_str().to_string(),
        policy_domain: finding.domain.clone(),
        policy_mode: finding.mode,
        consequence: finding.consequence,
        sessions: finding.sessions,
        senders: finding
            .senders
            .iter()
            .map(|(organization, sessions)| TlsrptSenderCount {
                organization: organization.clone(),
                sessions: *sessions,
            })
            .collect(),
        receiving_ips: finding.receiving_ips.clone(),
        reason_codes: finding.reason_codes.clone(),
        fix: finding.fix.clone(),
        command: finding.command.clone(),
    }
}

fn sender(sender: &Sender) -> TlsrptSender {
    TlsrptSender {
        organization: sender.organization.clone(),
        contact: sender.contact.clone(),
        reports: sender.reports,
        start: sender.start.map(time),
        end: sender.end.map(time),
        successful_sessions: sender.successful,
        failed_sessions: sender.failed,
        policies: sender.policies.iter().map(policy).collect(),
    }
}

fn policy(policy: &Policy) -> TlsrptPolicy {
    TlsrptPolicy {
        policy_type: policy.policy_type.as_str().to_string(),
        policy_domain: policy.domain.clone(),
        policy_mode: policy.mode,
        mx_patterns: policy.mx_patterns.clone(),
        successful_sessions: policy.successful,
        failed_sessions: policy.failed,
        undetailed_sessions: policy.undetailed,
        failures: policy
            .failures
            .iter()
            .map(|f| TlsrptFailure {
                host: f.host.clone(),
                result_type: f.result_type.as_str().to_string(),
                sessions: f.sessions,
            })
            .collect(),
    }
}
