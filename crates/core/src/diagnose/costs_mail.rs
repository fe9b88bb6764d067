//! The second half of the seed question: a certificate warning cannot get an address onto a
//! blocklist (`diagnose::reputation`), but can it cost the domain mail? Only where the domain's
//! own MTA-STS policy (in `enforce` mode) or DANE records make a kind of sender refuse an MX for
//! what it presents. Answered from the judged inbound delivery ([`DeliveryReport`]): `yes` when
//! such a sender refuses an MX today, `not-yet` when a policy in `testing` would refuse one once
//! enforced (or the next key change breaks a TLSA match), `no` when nothing published makes the
//! certificate matter (or every MX passes), `unknown` when what decides it was not seen. Pure.
//!
//! Also here: a domain's DANE in one value ([`domain_dane`]), as fleets count it.

use super::delivery::{
    CertificateVerdict, DeliveryReport, MtaStsState, MxDelivery, Port25, SenderAction, SenderKind,
};
use crate::analyze::dane::DaneState;

crate::vocabulary::vocabulary! {
    /// Can a certificate warning cost the domain mail?
    pub enum CostAnswer {
        /// Yes, today: a kind of sender refuses an MX because of what it presents (MTA-STS in
        /// `enforce` mode, DANE).
        Yes => "yes",
        /// Not today, and nothing published would make it so: no policy in `enforce` mode and no
        /// DANE records, or every MX passes them.
        No => "no",
        /// Not today, but something published will: a policy in `testing` mode that would refuse
        /// an MX once enforced, or TLSA records that the next key change breaks.
        NotYet => "not-yet",
        /// Not known: what decides it was not seen (port 25 of an MX, the `_mta-sts` record,
        /// DNSSEC), the policy cannot be fetched while an MX certificate would fail a cached one,
        /// or the target is not a mail domain.
        Unknown => "unknown",
    }
}

crate::vocabulary::vocabulary! {
    /// The facts the answer rests on.
    pub enum CostReason {
        /// A policy in `enforce` mode, and MTA-STS senders refuse an MX (not listed, no STARTTLS,
        /// a certificate that fails validation).
        MtaStsEnforceRefuses => "mta-sts-enforce-refuses",
        /// A policy in `enforce` mode that every MX passes.
        MtaStsEnforcePasses => "mta-sts-enforce-passes",
        /// A policy in `testing` mode that would refuse an MX once enforced (senders deliver and
        /// report).
        MtaStsTestingWouldRefuse => "mta-sts-testing-would-refuse",
        /// A policy in `testing` mode that every MX passes.
        MtaStsTestingPasses => "mta-sts-testing-passes",
        /// A policy in mode `none`: senders check nothing.
        MtaStsModeNone => "mta-sts-mode-none",
        /// No MTA-STS record.
        MtaStsNotPublished => "mta-sts-not-published",
        /// A record announces MTA-STS, but senders cannot use the policy (an invalid record, a
        /// policy they cannot fetch or read): new senders have none, senders that cached one
        /// keep applying it until its `max_age` runs out.
        MtaStsUnusable => "mta-sts-unusable",
        /// mailtls's resolver did not answer for the `_mta-sts` record.
        MtaStsNotChecked => "mta-sts-not-checked",
        /// No TLSA record of an MX matches its certificate, or DNSSEC fails for its MX or TLSA
        /// answer, or its records require TLS it does not offer: validating senders defer.
        DaneDefers => "dane-defers",
        /// A TLSA record of each MX that has them matches.
        DaneMatches => "dane-matches",
        /// The TLSA records are none usable for SMTP: validating senders require TLS but check
        /// no certificate.
        DaneUnusable => "dane-unusable",
        /// Every matching TLSA record pins the current key: a renewal with a new key will make
        /// validating senders defer.
        DaneRollover => "dane-rollover",
        /// No TLSA records (or only in an unsigned zone): DANE is not in force.
        DaneNotPublished => "dane-not-published",
        /// DANE's verdict on an MX is not known (DNSSEC could not be established, the lookup went
        /// unanswered, or port 25 was not reached).
        DaneNotChecked => "dane-not-checked",
        /// Port 25 of an MX did not answer from where mailtls ran (many networks block it).
        Port25NotChecked => "port25-not-checked",
        /// The target is an address, or a name without MX hosts: MTA-STS and DANE belong to a
        /// mail domain.
        NotAMailDomain => "not-a-mail-domain",
    }
}

/// The answer, with why, in words and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostsMail {
    /// yes, no, not-yet, unknown.
    pub answer: CostAnswer,
    /// The facts it rests on, MTA-STS first, then DANE, then port 25.
    pub because: Vec<CostReason>,
    /// The answer in plain words: "Yes: ...", "Not yet: ...", "Not today: ...", "No: ...",
    /// "Not known: ...".
    pub summary: String,
    /// What to change (inbound delivery's fixes), when the answer is not `no`.
    pub fixes: Vec<String>,
}

/// Who MTA-STS senders are, in words.
const STS_SENDERS: &str = "Gmail and Microsoft 365";

/// Answers for `subject` (the name or address asked about) from its judged inbound delivery;
/// `None` when there is none (an address, or not observed).
pub fn judge(report: Option<&DeliveryReport>, subject: &str) -> CostsMail {
    let Some(report) = report.filter(|r| !r.mx.is_empty()) else {
        return not_a_mail_domain(report, subject);
    };
    let domain = report.domain.as_str();
    let mx = report.mx.as_slice();
    let sts = sts_reason(report);
    let dane = dane_reason(mx);
    let port25_unknown = mx.iter().any(MxDelivery::port25_unknown);
    let mut because = vec![sts];
    because.extend(dane.iter().copied());
    if port25_unknown {
        because.push(CostReason::Port25NotChecked);
    }
    let refused_by = |kind: SenderKind| -> Vec<&MxDelivery> {
        mx.iter()
            .filter(|m| m.action(kind) == SenderAction::Defers)
            .collect()
    };
    let outcome = |kind: SenderKind| {
        report
            .senders
            .iter()
            .find(|o| o.sender == kind)
            .map_or(SenderAction::Unknown, |o| o.action)
    };
    let elsewhere = |kind: SenderKind| {
        if outcome(kind) == SenderAction::Defers {
            "; mail from them waits in their queues and then bounces".to_string()
        } else {
            let to: Vec<&str> = mx
                .iter()
                .filter(|m| {
                    matches!(
                        m.action(kind),
                        SenderAction::Delivers | SenderAction::EncryptsOnly
                    )
                })
                .map(|m| m.host.as_str())
                .collect();
            if to.is_empty() {
                String::new()
            } else {
                format!("; they deliver to {} instead", to.join(", "))
            }
        }
    };

    // Yes: a kind of sender refuses an MX today.
    let mut yes: Vec<String> = Vec::new();
    if sts == CostReason::MtaStsEnforceRefuses {
        for one in refused_by(SenderKind::MtaSts) {
            yes.push(format!(
                "{domain} enforces MTA-STS and {}: {STS_SENDERS} do not deliver to it{}.",
                sts_fault(one),
                elsewhere(SenderKind::MtaSts)
            ));
        }
    }
    for one in refused_by(SenderKind::Dane) {
        let reason = one
            .verdict(SenderKind::Dane)
            .map(|v| v.reason.clone())
            .unwrap_or_default();
        yes.push(format!(
            "{} defer mail to {}: {reason}{}.",
            SenderKind::Dane.who(),
            one.host,
            elsewhere(SenderKind::Dane)
        ));
    }
    if !yes.is_empty() {
        return answer(CostAnswer::Yes, because, "Yes", &yes, report.fixes.clone());
    }

    // Unknown: what decides it was not seen.
    let mut unknown: Vec<String> = Vec::new();
    let policy_in_force = matches!(
        report.mta_sts.state,
        MtaStsState::Enforce | MtaStsState::Testing
    );
    if sts == CostReason::MtaStsNotChecked {
        unknown.push(format!(
            "whether {domain} publishes MTA-STS is not known: DNS did not answer for \
             _mta-sts.{domain}."
        ));
    }
    let silent: Vec<&str> = mx
        .iter()
        .filter(|m| m.port25_unknown())
        .map(|m| m.host.as_str())
        .collect();
    if policy_in_force && !silent.is_empty() {
        unknown.push(format!(
            "{domain} has an MTA-STS policy, and port 25 of {} did not answer from here (many \
             networks block it), so whether its certificate passes is not known.",
            silent.join(", ")
        ));
    }
    if dane.contains(&CostReason::DaneNotChecked) {
        let hosts: Vec<&str> = mx
            .iter()
            .filter(|m| m.dane.state == DaneState::Unknown)
            .map(|m| m.host.as_str())
            .collect();
        unknown.push(format!(
            "whether DANE senders accept {} is not known (DNSSEC could not be established, the \
             TLSA lookup went unanswered, or port 25 was not reached).",
            hosts.join(", ")
        ));
    }
    if sts == CostReason::MtaStsUnusable {
        let faulty: Vec<String> = mx
            .iter()
            .filter(|m| m.certificate != Some(CertificateVerdict::Valid))
            .map(sts_fault)
            .collect();
        if !faulty.is_empty() {
            unknown.push(format!(
                "senders cannot use {domain}'s MTA-STS policy now, but those that fetched it \
                 before keep applying it until its max_age runs out, and {}: if it was in \
                 enforce mode, {STS_SENDERS} do not deliver there.",
                faulty.join("; ")
            ));
        }
    }
    if !unknown.is_empty() {
        return answer(
            CostAnswer::Unknown,
            because,
            "Not known",
            &unknown,
            report.fixes.clone(),
        );
    }

    // Not yet: a policy in testing, or a TLSA match the next key breaks.
    let mut not_yet: Vec<String> = Vec::new();
    if sts == CostReason::MtaStsTestingWouldRefuse {
        for one in mx.iter().filter(|m| {
            m.verdict(SenderKind::MtaSts)
                .is_some_and(|v| v.if_enforced == Some(SenderAction::Defers))
        }) {
            not_yet.push(format!(
                "{domain} tests MTA-STS (mode testing) and {}: {STS_SENDERS} deliver and only \
                 report it; once the policy is in enforce mode, they would not deliver to it.",
                sts_fault(one)
            ));
        }
    }
    if dane.contains(&CostReason::DaneRollover) {
        for one in mx.iter().filter(|m| m.dane.rollover_risk) {
            not_yet.push(format!(
                "every TLSA record of {} pins its current certificate or key: when it is renewed \
                 with a new key, {} will defer mail to it.",
                one.host,
                SenderKind::Dane.who()
            ));
        }
    }
    if !not_yet.is_empty() {
        return answer(
            CostAnswer::NotYet,
            because,
            "Not yet",
            &not_yet,
            report.fixes.clone(),
        );
    }

    // No.
    let checks = matches!(
        sts,
        CostReason::MtaStsEnforcePasses | CostReason::MtaStsTestingPasses
    ) || dane.contains(&CostReason::DaneMatches);
    if !checks {
        let faulty: Vec<String> = mx
            .iter()
            .filter(|m| {
                m.certificate
                    .is_some_and(|c| c != CertificateVerdict::Valid)
            })
            .map(sts_fault)
            .collect();
        let policy = match sts {
            CostReason::MtaStsModeNone => format!("{domain}'s MTA-STS policy is in mode none"),
            CostReason::MtaStsUnusable => {
                format!("senders cannot use {domain}'s MTA-STS policy")
            }
            _ => format!("{domain} has no MTA-STS policy in enforce mode"),
        };
        let dane = if dane.contains(&CostReason::DaneUnusable) {
            "its TLSA records check no certificate"
        } else {
            "no DANE records"
        };
        let mut words =
            format!("Not today: {policy} and {dane}; senders deliver whatever the certificate.");
        if !faulty.is_empty() {
            words.push_str(&format!(
                " It would if the domain enforced MTA-STS: {}.",
                faulty.join("; ")
            ));
        }
        return CostsMail {
            answer: CostAnswer::No,
            because,
            summary: words,
            fixes: Vec::new(),
        };
    }
    let mut parts: Vec<String> = Vec::new();
    match sts {
        CostReason::MtaStsEnforcePasses => parts.push(format!(
            "{domain} enforces MTA-STS and every MX passes it (STARTTLS, a certificate valid for \
             its name)"
        )),
        CostReason::MtaStsTestingPasses => {
            parts.push(format!("{domain} tests MTA-STS and every MX passes it"))
        }
        _ => {}
    }
    if dane.contains(&CostReason::DaneMatches) {
        let matching: Vec<&str> = mx
            .iter()
            .filter(|m| m.dane.state == DaneState::Matches)
            .map(|m| m.host.as_str())
            .collect();
        parts.push(format!(
            "the TLSA records of {} match its certificate",
            matching.join(", ")
        ));
    }
    CostsMail {
        answer: CostAnswer::No,
        because,
        summary: format!(
            "No: {}; a certificate that stopped passing would.",
            parts.join(", and ")
        ),
        fixes: Vec::new(),
    }
}

/// The domain's DANE in one value, the worst of its MX hosts' (bogus, no-match, unusable,
/// unknown), else matches, insecure or not-published; `None` without MX hosts.
pub fn domain_dane(mx: &[MxDelivery]) -> Option<DaneState> {
    use DaneState::{Bogus, Insecure, Matches, NoMatch, NotPublished, Unknown, Unusable};
    [
        Bogus,
        NoMatch,
        Unusable,
        Unknown,
        Matches,
        Insecure,
        NotPublished,
    ]
    .into_iter()
    .find(|state| mx.iter().any(|m| m.dane.state == *state))
}

/// The MTA-STS fact the answer rests on.
fn sts_reason(report: &DeliveryReport) -> CostReason {
    let mx = report.mx.as_slice();
    match report.mta_sts.state {
        MtaStsState::Enforce
            if mx
                .iter()
                .any(|m| m.action(SenderKind::MtaSts) == SenderAction::Defers) =>
        {
            CostReason::MtaStsEnforceRefuses
        }
        MtaStsState::Enforce => CostReason::MtaStsEnforcePasses,
        MtaStsState::Testing
            if mx.iter().any(|m| {
                m.verdict(SenderKind::MtaSts)
                    .is_some_and(|v| v.if_enforced == Some(SenderAction::Defers))
            }) =>
        {
            CostReason::MtaStsTestingWouldRefuse
        }
        MtaStsState::Testing => CostReason::MtaStsTestingPasses,
        MtaStsState::None => CostReason::MtaStsModeNone,
        MtaStsState::NotPublished => CostReason::MtaStsNotPublished,
        MtaStsState::RecordInvalid
        | MtaStsState::PolicyUnavailable
        | MtaStsState::PolicyInvalid => CostReason::MtaStsUnusable,
        MtaStsState::NotChecked => CostReason::MtaStsNotChecked,
    }
}

/// The DANE facts the answer rests on: one of defers, not-checked, matches, unusable,
/// not-published, and rollover beside a match.
fn dane_reason(mx: &[MxDelivery]) -> Vec<CostReason> {
    let any = |state: DaneState| mx.iter().any(|m| m.dane.state == state);
    let mut out = Vec::new();
    if mx
        .iter()
        .any(|m| m.action(SenderKind::Dane) == SenderAction::Defers)
    {
        out.push(CostReason::DaneDefers);
    } else if any(DaneState::Unknown) {
        out.push(CostReason::DaneNotChecked);
    } else if any(DaneState::Matches) {
        out.push(CostReason::DaneMatches);
    } else if any(DaneState::Unusable) {
        out.push(CostReason::DaneUnusable);
    } else {
        out.push(CostReason::DaneNotPublished);
    }
    if mx
        .iter()
        .any(|m| m.dane.rollover_risk && m.dane.state == DaneState::Matches)
    {
        out.push(CostReason::DaneRollover);
    }
    out
}

/// What makes MTA-STS senders refuse `mx` (or would): "mx.example's certificate is for
/// luna.hosting.example", "its MX mx.example is not listed in the policy"...
fn sts_fault(mx: &MxDelivery) -> String {
    let host = &mx.host;
    if mx.policy_patterns.as_ref().is_some_and(Vec::is_empty) {
        return format!("its MX {host} is not listed in the policy");
    }
    match (mx.port25, mx.certificate) {
        (Port25::NoStarttls, _) => format!("its MX {host} offers no STARTTLS"),
        (Port25::TlsFailed, None) => format!("the TLS handshake with its MX {host} fails"),
        (_, Some(CertificateVerdict::WrongName)) if !mx.presented_names.is_empty() => {
            format!(
                "{host}'s certificate is for {}",
                mx.presented_names.join(", ")
            )
        }
        (_, Some(CertificateVerdict::WrongName)) => {
            format!("{host}'s certificate does not name it")
        }
        _ => format!(
            "its MX {host} {}",
            mx.certificate_fault
                .as_deref()
                .unwrap_or("presents no certificate")
        ),
    }
}

/// `lead`: the sentences, each with a capital.
fn answer(
    answer: CostAnswer,
    because: Vec<CostReason>,
    lead: &str,
    sentences: &[String],
    fixes: Vec<String>,
) -> CostsMail {
    let rest: Vec<String> = sentences.iter().skip(1).map(|s| capitalised(s)).collect();
    let mut summary = format!("{lead}: {}", sentences.first().cloned().unwrap_or_default());
    for sentence in rest {
        summary.push(' ');
        summary.push_str(&sentence);
    }
    CostsMail {
        answer,
        because,
        summary,
        fixes,
    }
}

/// An address, a name without MX hosts, or nothing observed.
fn not_a_mail_domain(report: Option<&DeliveryReport>, subject: &str) -> CostsMail {
    let why = match report {
        Some(report) => format!(
            "{} has no MX host (no MX records, or a null MX)",
            report.domain
        ),
        None if subject.parse::<std::net::IpAddr>().is_ok() => {
            format!("{subject} is an address")
        }
        None => format!("what senders see of {subject} was not observed"),
    };
    CostsMail {
        answer: CostAnswer::Unknown,
        because: vec![CostReason::NotAMailDomain],
        summary: format!(
            "Not known: {why}; MTA-STS and DANE are the mail domain's (the part after @ of its \
             addresses): ask about it."
        ),
        fixes: Vec::new(),
    }
}

fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
