//! The text of `mailtls tlsrpt`: the verdict first ("2 of 3 senders report failures for
//! example.com: ..."), then per MX host each failure with its fix and the command that confirms
//! it, then the senders and their sessions, and the files skipped. (Its JSON form is
//! `wire::tlsrpt`.)

use std::fmt::Write as _;

use super::style::{BOLD, DIM, RED, YELLOW};
use crate::analyze::cert::date;
use crate::analyze::tlsrpt::{Named, PolicyType, ResultType};
use crate::diagnose::Verdict;
use crate::diagnose::tlsrpt::{Consequence, Finding, Policy, TlsrptSummary};
use crate::run::tlsrpt::TlsrptRun;

/// Renders the text report (ANSI styles; the caller's stream strips them off a terminal or
/// under `NO_COLOR`).
pub fn render(run: &TlsrptRun) -> String {
    let summary = &run.summary;
    let mut out = String::new();
    let style = super::style::verdict(summary.verdict);
    let _ = writeln!(out, "{style}{}{style:#}", headline(summary));
    render_findings(&mut out, &summary.findings);
    render_senders(&mut out, summary);
    if !run.skipped.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{BOLD}Skipped{BOLD:#} ({}: the summary above leaves them out)",
            count(run.skipped.len(), "file")
        );
        for skipped in &run.skipped {
            let _ = writeln!(
                out,
                "  {YELLOW}!{YELLOW:#} {skipped} {DIM}[{}]{DIM:#}",
                skipped.reason
            );
        }
    }
    let _ = writeln!(out);
    let mut read = format!(
        "Read {} from {}",
        count(summary.reports, "report"),
        count(run.files, "file")
    );
    if summary.duplicates > 0 {
        let _ = write!(
            read,
            "; {} counted once (the same sender and report-id)",
            count(summary.duplicates, "duplicate")
        );
    }
    if run.ignored > 0 {
        let _ = write!(
            read,
            "; {} in the directories not taken for reports",
            count(run.ignored, "other file")
        );
    }
    let _ = writeln!(out, "{DIM}{read}.{DIM:#}");
    out
}

/// The verdict in one sentence: how many senders report failures, for which domains and days,
/// and the costliest failure.
pub fn headline(summary: &TlsrptSummary) -> String {
    let senders = summary.senders.len();
    let failing = summary.senders_with_failures();
    let domains = match summary.domains.as_slice() {
        [] => "the domain".to_string(),
        [one] => one.clone(),
        [one, two] => format!("{one} and {two}"),
        more => format!("{} domains", more.len()),
    };
    let days = match (summary.start, summary.end) {
        (Some(start), Some(end)) if date(start) == date(end) => format!(" on {}", date(start)),
        (Some(start), Some(end)) => format!(" from {} to {}", date(start), date(end)),
        _ => String::new(),
    };
    let Some(top) = summary.findings.first() else {
        let (successful, _) = summary.sessions();
        return format!(
            "All good: {} {} {} to {domains}{days}, none failed.",
            count(senders, "sender"),
            if senders == 1 { "reports" } else { "report" },
            count_u64(successful, "session"),
        );
    };
    let word = if summary.verdict == Verdict::Fail {
        "Problem"
    } else {
        "Warning"
    };
    let more = match summary.findings.len() - 1 {
        0 => String::new(),
        1 => "; 1 more failure below".to_string(),
        n => format!("; {n} more failures below"),
    };
    format!(
        "{word}: {failing} of {senders} {} {} failures for {domains}{days}: {}{more}.",
        if senders == 1 { "sender" } else { "senders" },
        if failing == 1 { "reports" } else { "report" },
        short(top)
    )
}

/// A finding in a clause: "24 sessions to mx1.example.com failed with
/// certificate-host-mismatch, and senders that enforce example.com's MTA-STS policy did not
/// deliver them".
fn short(finding: &Finding) -> String {
    let sessions = count_u64(finding.sessions, "session");
    let domain = finding.domain.as_deref().unwrap_or("the domain");
    let result = finding
        .result_type
        .as_ref()
        .map_or_else(|| "no reason given".to_string(), |r| r.as_str().to_string());
    if finding.consequence == Consequence::PolicyNotApplied {
        return format!("{sessions} could not use {domain}'s MTA-STS policy ({result})");
    }
    let to = finding
        .host
        .as_deref()
        .map(|host| format!(" to {host}"))
        .unwrap_or_default();
    let cost = match finding.consequence {
        Consequence::NotDelivered if finding.policy_type == Named::Known(PolicyType::Tlsa) => {
            ", and DANE-validating senders deferred the mail".to_string()
        }
        Consequence::NotDelivered
            if finding.result_type == Some(Named::Known(ResultType::DaneRequired)) =>
        {
            ", and those senders did not deliver the mail".to_string()
        }
        Consequence::NotDelivered => {
            format!(", and senders that enforce {domain}'s MTA-STS policy did not deliver the mail")
        }
        Consequence::DeliveredAnyway => " (the senders delivered anyway)".to_string(),
        Consequence::ModeUnknown => {
            " (under an MTA-STS policy whose mode the reports do not give)".to_string()
        }
        Consequence::PolicyNotApplied | Consequence::Unknown => String::new(),
    };
    format!("{sessions}{to} failed with {result}{cost}")
}

fn render_findings(out: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    // Per MX host, in the order of their costliest failure.
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    for finding in findings {
        let heading = heading(finding);
        match groups.iter_mut().find(|(h, _)| *h == heading) {
            Some((_, members)) => members.push(finding),
            None => groups.push((heading, vec![finding])),
        }
    }
    for (heading, members) in groups {
        let _ = writeln!(out);
        let _ = writeln!(out, "{BOLD}{heading}{BOLD:#}");
        for finding in members {
            render_finding(out, finding);
        }
    }
}

/// The heading a finding stands under: its MX host, or the domain's policy.
fn heading(finding: &Finding) -> String {
    let domain = finding.domain.as_deref().unwrap_or("the domain");
    match (&finding.host, finding.consequence) {
        (Some(host), _) => host.clone(),
        (None, Consequence::PolicyNotApplied) => format!("{domain}'s MTA-STS policy"),
        (None, _) => format!("{domain} (the reports do not name the MX host)"),
    }
}

fn render_finding(out: &mut String, finding: &Finding) {
    let (mark, style) = if finding.consequence == Consequence::NotDelivered {
        ("✗", RED)
    } else {
        ("!", YELLOW)
    };
    let result = finding
        .result_type
        .as_ref()
        .map_or("failed sessions without a result type", |r| r.as_str());
    let senders: Vec<String> = finding
        .senders
        .iter()
        .map(|(name, sessions)| format!("{name} {sessions}"))
        .collect();
    let _ = writeln!(
        out,
        "  {style}{mark} {result}{style:#}: {} ({}) {DIM}· {} · {}{DIM:#}",
        count_u64(finding.sessions, "session"),
        senders.join(", "),
        policy_words(
            &finding.policy_type,
            finding.domain.as_deref(),
            finding.mode.map(|m| m.as_str())
        ),
        consequence_words(finding.consequence)
    );
    match &finding.fix {
        Some(fix) => {
            let _ = writeln!(out, "    {fix}");
        }
        None => {
            let _ = writeln!(
                out,
                "    mailtls does not know this result type; the senders' reason codes and \
                 additional information may say more."
            );
        }
    }
    if let Some(command) = &finding.command {
        let _ = writeln!(out, "    {BOLD}→{BOLD:#} to confirm: {command}");
    }
    let mut details = Vec::new();
    if !finding.receiving_ips.is_empty() {
        details.push(format!(
            "receiving IPs {}",
            finding.receiving_ips.join(", ")
        ));
    }
    // The fix quotes them; without one they are what there is.
    if finding.fix.is_none() && !finding.reason_codes.is_empty() {
        details.push(format!("reason codes {}", finding.reason_codes.join("; ")));
    }
    if !details.is_empty() {
        let _ = writeln!(out, "    {DIM}{}{DIM:#}", details.join(" · "));
    }
}

/// What a failure cost, in a few words.
fn consequence_words(consequence: Consequence) -> &'static str {
    match consequence {
        Consequence::NotDelivered => "not delivered",
        Consequence::DeliveredAnyway => "delivered anyway",
        Consequence::PolicyNotApplied => "policy not applied",
        Consequence::ModeUnknown => "mode not given",
        Consequence::Unknown => "outcome not known",
    }
}

/// "sts example.com, mode enforce".
fn policy_words(
    policy_type: &Named<PolicyType>,
    domain: Option<&str>,
    mode: Option<&str>,
) -> String {
    let mut words = policy_type.as_str().to_string();
    if let Some(domain) = domain {
        let _ = write!(words, " {domain}");
    }
    if let Some(mode) = mode {
        let _ = write!(words, ", mode {mode}");
    }
    words
}

fn render_senders(out: &mut String, summary: &TlsrptSummary) {
    let _ = writeln!(out);
    let _ = writeln!(out, "{BOLD}Senders{BOLD:#}");
    let width = summary
        .senders
        .iter()
        .map(|s| s.organization.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    for sender in &summary.senders {
        let days = match (sender.start, sender.end) {
            (Some(start), Some(end)) if date(start) == date(end) => format!(" · {}", date(start)),
            (Some(start), Some(end)) => format!(" · {} to {}", date(start), date(end)),
            _ => String::new(),
        };
        let failed = if sender.failed > 0 {
            format!("{RED}{} failed{RED:#}", sender.failed)
        } else {
            "0 failed".to_string()
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {} ok, {failed} {DIM}· {}{days}{DIM:#}",
            sender.organization,
            sender.successful,
            count(sender.reports, "report"),
        );
        for policy in &sender.policies {
            render_policy(out, policy);
        }
    }
}

fn render_policy(out: &mut String, policy: &Policy) {
    let mut words = policy_words(
        &policy.policy_type,
        policy.domain.as_deref(),
        policy.mode.map(|m| m.as_str()),
    );
    if !policy.mx_patterns.is_empty() {
        let _ = write!(words, ", mx {}", policy.mx_patterns.join(" "));
    }
    let mut failures: Vec<String> = policy
        .failures
        .iter()
        .map(|f| match &f.host {
            Some(host) => format!("{} {} at {host}", f.sessions, f.result_type.as_str()),
            None => format!("{} {}", f.sessions, f.result_type.as_str()),
        })
        .collect();
    if policy.undetailed > 0 {
        failures.push(format!("{} without details", policy.undetailed));
    }
    let failures = if failures.is_empty() {
        String::new()
    } else {
        format!(" ({})", failures.join(", "))
    };
    let _ = writeln!(
        out,
        "    {DIM}{words}: {} ok, {} failed{failures}{DIM:#}",
        policy.successful, policy.failed
    );
}

fn count(n: usize, noun: &str) -> String {
    count_u64(n as u64, noun)
}

fn count_u64(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
