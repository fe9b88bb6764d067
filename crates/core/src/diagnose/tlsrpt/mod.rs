//! What a pile of TLS reports (RFC 8460) says, and what to fix: the reports are summed per
//! sending organisation, policy and MX ([`Tally`]), then judged ([`judge`]): each failure is
//! a [`Finding`] with what it cost ([`Consequence`]), the fix in plain words and the
//! `mailtls check` command that confirms it (`fixes.rs`).
//!
//! A report is added as it is read and then dropped, so the memory a run needs grows with the
//! distinct senders, policies, MX hosts and result types, not with the reports.

mod fixes;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::Verdict;
use crate::analyze::tlsrpt::{Named, PolicyType, ResultType, StsMode, TlsReport};

crate::vocabulary::vocabulary! {
    /// What a failure cost, from the policy in force and the result type.
    pub enum Consequence {
        /// Senders that apply the policy did not deliver on these sessions (MTA-STS in
        /// `enforce` mode, DANE, or a sender that requires DANE): mail waits and then bounces
        /// unless another MX works.
        NotDelivered => "not-delivered",
        /// Senders delivered anyway: the MTA-STS policy is in `testing` (or `none`) mode, or no
        /// policy was in force.
        DeliveredAnyway => "delivered-anyway",
        /// The MTA-STS policy itself could not be fetched or used: senders with no cached copy
        /// deliver as if the domain had none.
        PolicyNotApplied => "policy-not-applied",
        /// An MTA-STS policy whose mode the reports do not give: under `enforce` these
        /// senders did not deliver.
        ModeUnknown => "mode-unknown",
        /// A policy type mailtls does not know: the reports do not say.
        Unknown => "unknown",
    }
}

impl Consequence {
    /// The verdict a failure with this consequence makes.
    pub fn verdict(self) -> Verdict {
        match self {
            Consequence::NotDelivered => Verdict::Fail,
            _ => Verdict::Warn,
        }
    }
}

/// Most distinct values (receiving addresses, reason codes) kept per failure, to show.
pub const MAX_SAMPLES: usize = 8;

/// What the reports say, summed as they are read.
#[derive(Debug, Default)]
pub struct Tally {
    senders: BTreeMap<String, SenderTally>,
    reports: usize,
    duplicates: usize,
    seen: HashSet<(String, String)>,
}

#[derive(Debug, Default)]
struct SenderTally {
    contact: Option<String>,
    reports: usize,
    start: Option<i64>,
    end: Option<i64>,
    policies: BTreeMap<PolicyKey, PolicyTally>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PolicyKey {
    policy_type: Named<PolicyType>,
    domain: Option<String>,
    mode: Option<StsMode>,
}

#[derive(Debug, Default)]
struct PolicyTally {
    mx_patterns: BTreeSet<String>,
    successful: u64,
    failed: u64,
    failures: BTreeMap<(Option<String>, Named<ResultType>), FailureTally>,
}

#[derive(Debug, Default, Clone)]
struct FailureTally {
    sessions: u64,
    receiving_ips: Vec<String>,
    reason_codes: Vec<String>,
}

impl Tally {
    /// Adds a report. A report already added (the same sender and `report-id`, e.g. the mail
    /// and the attachment saved from it) is counted once: returns false for it.
    pub fn add(&mut self, report: &TlsReport) -> bool {
        let name = sender_name(report);
        if let Some(id) = &report.report_id {
            if !self.seen.insert((name.clone(), id.clone())) {
                self.duplicates += 1;
                return false;
            }
        }
        self.reports += 1;
        let sender = self.senders.entry(name).or_default();
        sender.reports += 1;
        if sender.contact.is_none() {
            sender.contact.clone_from(&report.contact);
        }
        sender.start = earliest(sender.start, report.start);
        sender.end = latest(sender.end, report.end);
        for result in &report.policies {
            let key = PolicyKey {
                policy_type: result.policy_type.clone(),
                domain: result.policy_domain.clone(),
                mode: result.sts_mode(),
            };
            let policy = sender.policies.entry(key).or_default();
            policy.mx_patterns.extend(result.mx_patterns());
            policy.successful = policy.successful.saturating_add(result.successful);
            policy.failed = policy.failed.saturating_add(result.failed);
            for detail in &result.failures {
                let host = detail
                    .receiving_mx_hostname
                    .clone()
                    .filter(|_| !fixes::about_the_policy(&detail.result_type));
                let failure = policy
                    .failures
                    .entry((host, detail.result_type.clone()))
                    .or_default();
                failure.sessions = failure.sessions.saturating_add(detail.failed_sessions);
                sample(&mut failure.receiving_ips, detail.receiving_ip.as_deref());
                sample(
                    &mut failure.reason_codes,
                    detail.failure_reason_code.as_deref(),
                );
            }
        }
        true
    }

    /// How many reports were added (duplicates not counted).
    pub fn reports(&self) -> usize {
        self.reports
    }
}

/// Keeps `value` among at most [`MAX_SAMPLES`] distinct ones.
fn sample(values: &mut Vec<String>, value: Option<&str>) {
    if let Some(value) = value {
        if values.len() < MAX_SAMPLES && !values.iter().any(|v| v == value) {
            values.push(value.to_string());
        }
    }
}

/// Who sent a report: its `organization-name`, else its `contact-info`.
fn sender_name(report: &TlsReport) -> String {
    report
        .organization
        .clone()
        .or_else(|| report.contact.clone())
        .unwrap_or_else(|| "an unnamed sender".to_string())
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The judged summary of the reports.
#[derive(Debug, Clone)]
pub struct TlsrptSummary {
    /// `fail` when a failure cost mail ([`Consequence::NotDelivered`]), `warn` when senders
    /// report failures but delivered, `ok` when none failed.
    pub verdict: Verdict,
    /// Reports summed.
    pub reports: usize,
    /// Reports left out because the same sender's report with the same `report-id` was
    /// already summed.
    pub duplicates: usize,
    /// The earliest start of the reports' date ranges, Unix seconds.
    pub start: Option<i64>,
    /// The latest end.
    pub end: Option<i64>,
    /// The policy domains reported on.
    pub domains: Vec<String>,
    /// Every sender, those reporting failures first.
    pub senders: Vec<Sender>,
    /// Every failure, across senders, the costliest first.
    pub findings: Vec<Finding>,
}

/// One sending organisation's reports.
#[derive(Debug, Clone)]
pub struct Sender {
    /// `organization-name` (else `contact-info`).
    pub organization: String,
    /// `contact-info` of its first report.
    pub contact: Option<String>,
    /// How many reports.
    pub reports: usize,
    /// Earliest start, Unix seconds.
    pub start: Option<i64>,
    /// Latest end.
    pub end: Option<i64>,
    /// Sessions that succeeded, over its policies.
    pub successful: u64,
    /// Sessions that failed.
    pub failed: u64,
    /// Per policy.
    pub policies: Vec<Policy>,
}

/// One policy, as one sender applied it.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `sts`, `tlsa`, `no-policy-found` or as written.
    pub policy_type: Named<PolicyType>,
    /// The policy domain.
    pub domain: Option<String>,
    /// The MTA-STS mode, when the reports give it.
    pub mode: Option<StsMode>,
    /// The MX patterns of an MTA-STS policy.
    pub mx_patterns: Vec<String>,
    /// Sessions that succeeded.
    pub successful: u64,
    /// Sessions that failed (the summary's count).
    pub failed: u64,
    /// The failure details, per MX host and result type.
    pub failures: Vec<FailureCount>,
    /// Failed sessions the details do not account for (the summary counts more).
    pub undetailed: u64,
}

/// Failed sessions of one result type to one MX host.
#[derive(Debug, Clone)]
pub struct FailureCount {
    /// The MX host (None: not named, or a failure of the policy rather than of a host).
    pub host: Option<String>,
    /// The result type.
    pub result_type: Named<ResultType>,
    /// How many sessions.
    pub sessions: u64,
}

/// One failure, summed across senders: what it is, what it cost, and what to do.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The MX host concerned; None for the policy's own failures (`sts-policy-*`) and when
    /// the reports do not name the host.
    pub host: Option<String>,
    /// The result type; None for failed sessions the reports count but do not detail.
    pub result_type: Option<Named<ResultType>>,
    /// The policy in force.
    pub policy_type: Named<PolicyType>,
    /// Its domain.
    pub domain: Option<String>,
    /// Its MTA-STS mode.
    pub mode: Option<StsMode>,
    /// What it cost.
    pub consequence: Consequence,
    /// Failed sessions.
    pub sessions: u64,
    /// The senders reporting it, with their sessions, most first.
    pub senders: Vec<(String, u64)>,
    /// Receiving addresses reported (at most [`MAX_SAMPLES`]).
    pub receiving_ips: Vec<String>,
    /// Senders' reason codes (at most [`MAX_SAMPLES`]).
    pub reason_codes: Vec<String>,
    /// What is wrong, what it cost and what to change, in plain words; None for a result
    /// type mailtls does not know.
    pub fix: Option<String>,
    /// The `mailtls check` command that confirms it; None when the reports name no host or
    /// domain that can be checked.
    pub command: Option<String>,
}

impl TlsrptSummary {
    /// How many senders report failed sessions.
    pub fn senders_with_failures(&self) -> usize {
        self.senders.iter().filter(|s| s.failed > 0).count()
    }

    /// Every session, successful or not.
    pub fn sessions(&self) -> (u64, u64) {
        self.senders.iter().fold((0, 0), |(ok, failed), s| {
            (
                ok.saturating_add(s.successful),
                failed.saturating_add(s.failed),
            )
        })
    }
}

/// Judges what the reports say.
pub fn judge(tally: Tally) -> TlsrptSummary {
    let mut domains: BTreeSet<String> = BTreeSet::new();
    let mut findings: BTreeMap<FindingKey, Finding> = BTreeMap::new();
    let mut senders = Vec::new();
    for (name, sender) in tally.senders {
        let mut policies = Vec::new();
        for (key, policy) in sender.policies {
            domains.extend(key.domain.clone());
            let detailed = policy
                .failures
                .values()
                .fold(0u64, |sum, f| sum.saturating_add(f.sessions));
            let undetailed = policy.failed.saturating_sub(detailed);
            for ((host, result_type), failure) in &policy.failures {
                let finding = finding_for(&mut findings, &key, host, Some(result_type));
                add_to(finding, &name, failure);
            }
            if undetailed > 0 {
                let failure = FailureTally {
                    sessions: undetailed,
                    ..FailureTally::default()
                };
                add_to(
                    finding_for(&mut findings, &key, &None, None),
                    &name,
                    &failure,
                );
            }
            policies.push(Policy {
                failures: policy
                    .failures
                    .iter()
                    .map(|((host, result_type), failure)| FailureCount {
                        host: host.clone(),
                        result_type: result_type.clone(),
                        sessions: failure.sessions,
                    })
                    .collect(),
                policy_type: key.policy_type,
                domain: key.domain,
                mode: key.mode,
                mx_patterns: policy.mx_patterns.into_iter().collect(),
                successful: policy.successful,
                // A summary that counts fewer failures than its details is taken at the
                // details' word.
                failed: policy.failed.max(detailed),
                undetailed,
            });
        }
        let (successful, failed) = policies.iter().fold((0u64, 0u64), |(ok, bad), p| {
            (
                ok.saturating_add(p.successful),
                bad.saturating_add(p.failed),
            )
        });
        senders.push(Sender {
            organization: name,
            contact: sender.contact,
            reports: sender.reports,
            start: sender.start,
            end: sender.end,
            successful,
            failed,
            policies,
        });
    }
    senders.sort_by(|a, b| {
        b.failed
            .cmp(&a.failed)
            .then(a.organization.cmp(&b.organization))
    });
    let mut findings: Vec<Finding> = findings
        .into_values()
        // A detail line counting no session reports nothing.
        .filter(|f| f.sessions > 0)
        .map(|mut finding| {
            finding
                .senders
                .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let (fix, command) = fixes::fix(&finding);
            finding.fix = fix;
            finding.command = command;
            finding
        })
        .collect();
    findings.sort_by(|a, b| {
        b.consequence
            .verdict()
            .cmp(&a.consequence.verdict())
            .then(b.sessions.cmp(&a.sessions))
            .then(a.host.cmp(&b.host))
    });
    let verdict = findings
        .iter()
        .map(|f| f.consequence.verdict())
        .max()
        .unwrap_or(Verdict::Ok);
    TlsrptSummary {
        verdict,
        reports: tally.reports,
        duplicates: tally.duplicates,
        start: senders.iter().filter_map(|s| s.start).min(),
        end: senders.iter().filter_map(|s| s.end).max(),
        domains: domains.into_iter().collect(),
        senders,
        findings,
    }
}

/// Findings are summed across senders by host, result type and policy.
type FindingKey = (
    Option<String>,
    Option<Named<ResultType>>,
    Named<PolicyType>,
    Option<String>,
    Option<StsMode>,
);

fn finding_for<'a>(
    findings: &'a mut BTreeMap<FindingKey, Finding>,
    policy: &PolicyKey,
    host: &Option<String>,
    result_type: Option<&Named<ResultType>>,
) -> &'a mut Finding {
    let key = (
        host.clone(),
        result_type.cloned(),
        policy.policy_type.clone(),
        policy.domain.clone(),
        policy.mode,
    );
    findings.entry(key).or_insert_with(|| Finding {
        host: host.clone(),
        result_type: result_type.cloned(),
        policy_type: policy.policy_type.clone(),
        domain: policy.domain.clone(),
        mode: policy.mode,
        consequence: consequence(&policy.policy_type, policy.mode, result_type),
        sessions: 0,
        senders: Vec::new(),
        receiving_ips: Vec::new(),
        reason_codes: Vec::new(),
        fix: None,
        command: None,
    })
}

fn add_to(finding: &mut Finding, sender: &str, failure: &FailureTally) {
    finding.sessions = finding.sessions.saturating_add(failure.sessions);
    match finding.senders.iter_mut().find(|(name, _)| name == sender) {
        Some((_, sessions)) => *sessions = sessions.saturating_add(failure.sessions),
        None => finding.senders.push((sender.to_string(), failure.sessions)),
    }
    for ip in &failure.receiving_ips {
        sample(&mut finding.receiving_ips, Some(ip));
    }
    for code in &failure.reason_codes {
        sample(&mut finding.reason_codes, Some(code));
    }
}

/// What a failure of `result_type` under this policy cost (RFC 8461 §5, RFC 7672 §2.2).
pub fn consequence(
    policy_type: &Named<PolicyType>,
    mode: Option<StsMode>,
    result_type: Option<&Named<ResultType>>,
) -> Consequence {
    let known = result_type.and_then(Named::known);
    if result_type.is_some_and(fixes::about_the_policy) {
        return Consequence::PolicyNotApplied;
    }
    if known == Some(ResultType::DaneRequired) {
        return Consequence::NotDelivered;
    }
    match (policy_type.known(), mode) {
        (Some(PolicyType::Sts), Some(StsMode::Enforce)) | (Some(PolicyType::Tlsa), _) => {
            Consequence::NotDelivered
        }
        (Some(PolicyType::Sts), Some(StsMode::Testing | StsMode::None))
        | (Some(PolicyType::NoPolicyFound), _) => Consequence::DeliveredAnyway,
        (Some(PolicyType::Sts), None) => Consequence::ModeUnknown,
        (None, _) => Consequence::Unknown,
    }
}

#[cfg(test)]
mod tests;
