//! The problems of inbound delivery, the sentence that leads the section and the fixes.

use super::{
    CertificateVerdict, MtaSts, MtaStsState, MxDelivery, Port25, SenderAction, SenderKind,
    SenderOutcome, TlsRpt, TlsRptState,
};
use crate::analyze::chain::TrustAnchors;
use crate::analyze::dane::DaneState;
use crate::analyze::mta_sts::{self, Mode};
use crate::analyze::tlsrpt_record;
use crate::diagnose::{Code, Problem, Severity};
use crate::observation::SourceErrorKind;
use crate::observation::delivery::DeliveryObservations;
use crate::observation::dnssec::{DnssecStatus, LookupFailure};

/// Every problem, in no particular order (the caller ranks them).
pub(super) fn problems(
    delivery: &DeliveryObservations,
    mta_sts: &MtaSts,
    tlsrpt: &TlsRpt,
    mx: &[MxDelivery],
    outcomes: &[SenderOutcome],
    anchors: &TrustAnchors,
    now: i64,
) -> Vec<Problem> {
    let domain = delivery.domain.as_str();
    let mut out = Vec::new();
    out.extend(record_problem(delivery));
    out.extend(policy_problem(delivery, mta_sts, anchors, now));
    let bounced = |kind: SenderKind| {
        outcomes
            .iter()
            .any(|o| o.sender == kind && o.action == SenderAction::Defers)
    };
    if let Some(policy) = &mta_sts.policy {
        if policy.mode != Mode::None {
            let all = bounced(SenderKind::MtaSts);
            for one in mx {
                out.extend(mx_policy_problem(
                    domain,
                    one,
                    policy.mode,
                    all,
                    mx,
                    mta_sts,
                ));
            }
        }
    }
    let all = bounced(SenderKind::Dane);
    for one in mx {
        out.extend(dane_problems(one, delivery.mx.dnssec, all, mx));
    }
    out.extend(tlsrpt_problem(domain, tlsrpt, delivery));
    out
}

/// The `_mta-sts` records, when senders find no valid one among those that announce MTA-STS.
fn record_problem(delivery: &DeliveryObservations) -> Option<Problem> {
    let lookup = &delivery.mta_sts_record;
    let error = mta_sts::select_record(&lookup.records).err()?;
    Some(
        Problem::new(
            Code::MtaStsRecordInvalid,
            Severity::Warning,
            format!(
                "{} announces MTA-STS, but {error}: senders that have no policy cached treat the \
                 domain as having none (RFC 8461 §3.1).",
                lookup.name
            ),
        )
        .with(|c| c.expected_name = Some(lookup.name.clone())),
    )
}

/// The policy, when a valid record announces it and senders cannot use it (or use it with a
/// fault a strict sender refuses).
fn policy_problem(
    delivery: &DeliveryObservations,
    mta_sts: &MtaSts,
    anchors: &TrustAnchors,
    now: i64,
) -> Option<Problem> {
    let fetch = delivery.policy.as_ref()?;
    mta_sts.id.as_ref()?;
    let host = format!("mta-sts.{}", delivery.domain);
    let cached = "Senders that fetched it before keep applying it until its max_age runs out; \
                  senders that never did deliver as if the domain had no MTA-STS (RFC 8461 \
                  §3.3)";
    let url = fetch.url.clone();
    let problem = |code: Code, severity: Severity, message: String| {
        let url = url.clone();
        let host = host.clone();
        Problem::new(code, severity, message).with(move |c| {
            c.url = Some(url);
            c.expected_name = Some(host);
            c.ports = vec![443];
        })
    };
    if let Some(failure) = fetch.failure {
        let why = fetch.error.clone().unwrap_or_default();
        return Some(match failure {
            SourceErrorKind::BadCertificate => {
                let names = policy_host_names(fetch, &host, anchors, now);
                problem(
                    Code::MtaStsPolicyCertificate,
                    Severity::Warning,
                    format!(
                        "The MTA-STS policy host {host} presents a certificate senders refuse \
                         ({why}), so they cannot fetch the policy. {cached}."
                    ),
                )
                .with(|c| c.presented_names = names)
            }
            SourceErrorKind::NotChecked | SourceErrorKind::InsideAddress => problem(
                Code::MtaStsPolicyUnreachable,
                Severity::Info,
                format!(
                    "The MTA-STS policy at {} was not fetched: {why}.",
                    fetch.url
                ),
            ),
            _ => problem(
                Code::MtaStsPolicyUnreachable,
                Severity::Warning,
                format!(
                    "Senders cannot fetch the MTA-STS policy at {} ({why}). {cached}.",
                    fetch.url
                ),
            ),
        });
    }
    match mta_sts::answered(fetch)? {
        Err(fault) => Some(problem(
            Code::MtaStsPolicyAnswer,
            Severity::Warning,
            format!(
                "Senders do not take the MTA-STS policy at {}: {fault} (RFC 8461 §3.3). {cached}.",
                fetch.url
            ),
        )),
        Ok(text) => match mta_sts::parse_policy(text) {
            Err(error) => Some(problem(
                Code::MtaStsPolicyInvalid,
                Severity::Warning,
                format!(
                    "The MTA-STS policy at {} is not valid: {error} (RFC 8461 §3.2). {cached}.",
                    fetch.url
                ),
            )),
            Ok(policy) if !policy.syntax.is_empty() => {
                let faults: Vec<String> = policy
                    .syntax
                    .iter()
                    .map(|(line, what)| format!("line {line}: {what}"))
                    .collect();
                Some(problem(
                    Code::MtaStsPolicyInvalid,
                    Severity::Warning,
                    format!(
                        "The MTA-STS policy at {} breaks RFC 8461 §3.2's grammar ({}): strict \
                         senders refuse the whole policy, lenient ones skip what they cannot \
                         read.",
                        fetch.url,
                        faults.join("; ")
                    ),
                ))
            }
            Ok(_) => None,
        },
    }
}

/// The DNS names on the policy host's certificate.
fn policy_host_names(
    fetch: &crate::observation::delivery::PolicyFetch,
    host: &str,
    anchors: &TrustAnchors,
    now: i64,
) -> Vec<String> {
    super::as_sent(&fetch.chain, host, anchors, now)
        .and_then(|a| a.leaf().map(|leaf| leaf.san_dns.clone()))
        .unwrap_or_default()
}

/// What keeps MTA-STS senders from `one` (or would, in testing mode).
fn mx_policy_problem(
    domain: &str,
    one: &MxDelivery,
    mode: Mode,
    all_refused: bool,
    mx: &[MxDelivery],
    mta_sts: &MtaSts,
) -> Option<Problem> {
    let verdict = one.verdict(SenderKind::MtaSts)?;
    let refused =
        verdict.action == SenderAction::Defers || verdict.if_enforced == Some(SenderAction::Defers);
    if !refused {
        return None;
    }
    let listed = one.policy_patterns.as_ref().is_some_and(|p| !p.is_empty());
    let (code, fault) = if !listed {
        let patterns = mta_sts
            .policy
            .as_ref()
            .map(|p| p.mx.join(", "))
            .unwrap_or_default();
        (
            Code::MtaStsMxUnlisted,
            format!("is not listed in its policy (mx: {patterns})"),
        )
    } else if matches!(one.port25, Port25::NoStarttls)
        || (one.port25 == Port25::TlsFailed && one.certificate.is_none())
    {
        (
            Code::MtaStsMxNoStarttls,
            if one.port25 == Port25::NoStarttls {
                "offers no STARTTLS".to_string()
            } else {
                "fails the TLS handshake".to_string()
            },
        )
    } else {
        (
            Code::MtaStsMxCertificate,
            one.certificate_fault
                .clone()
                .unwrap_or_else(|| "presents no certificate".to_string()),
        )
    };
    let who = SenderKind::MtaSts.who();
    let (severity, message) = match mode {
        Mode::Enforce if all_refused => (
            Severity::Error,
            format!(
                "{domain} enforces MTA-STS and its MX {} {fault}: {who} will not deliver to it; \
                 mail from them waits and then bounces (RFC 8461 §4, §5).",
                one.host
            ),
        ),
        Mode::Enforce => {
            let others: Vec<&str> = mx
                .iter()
                .filter(|m| m.action(SenderKind::MtaSts) == SenderAction::Delivers)
                .map(|m| m.host.as_str())
                .collect();
            (
                Severity::Warning,
                format!(
                    "{domain} enforces MTA-STS and its MX {} {fault}: {who} will not deliver to \
                     it{} (RFC 8461 §4, §5).",
                    one.host,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!("; they deliver to {} instead", others.join(", "))
                    }
                ),
            )
        }
        _ => (
            Severity::Warning,
            format!(
                "{domain} tests MTA-STS and its MX {} {fault}: under enforce, {who} would not \
                 deliver to it; in testing mode they deliver and only send reports (RFC 8461 §5).",
                one.host
            ),
        ),
    };
    let url = mta_sts.url.clone();
    let host = one.host.clone();
    let names = one.presented_names.clone();
    Some(Problem::new(code, severity, message).with(move |c| {
        c.expected_name = Some(host);
        c.presented_names = names;
        c.ports = vec![25];
        c.url = url;
    }))
}

/// What DANE makes of `one`: no match, DNSSEC failure, unusable records, a rollover to come.
fn dane_problems(
    one: &MxDelivery,
    mx_dnssec: DnssecStatus,
    all_deferred: bool,
    mx: &[MxDelivery],
) -> Vec<Problem> {
    let who = SenderKind::Dane.who();
    let severity = if all_deferred {
        Severity::Error
    } else {
        Severity::Warning
    };
    let consequence = if all_deferred {
        "mail from them waits and then bounces".to_string()
    } else {
        let others: Vec<&str> = mx
            .iter()
            .filter(|m| {
                matches!(
                    m.action(SenderKind::Dane),
                    SenderAction::Delivers | SenderAction::EncryptsOnly
                )
            })
            .map(|m| m.host.as_str())
            .collect();
        if others.is_empty() {
            "they try the other MX hosts".to_string()
        } else {
            format!("they deliver to {} instead", others.join(", "))
        }
    };
    let host = one.host.clone();
    let context = |problem: Problem| {
        let host = host.clone();
        let names = one.presented_names.clone();
        problem.with(move |c| {
            c.expected_name = Some(host);
            c.presented_names = names;
            c.ports = vec![25];
        })
    };
    let mut out = Vec::new();
    let bogus = mx_dnssec == DnssecStatus::Bogus || one.dane.state == DaneState::Bogus;
    if bogus {
        // One problem for the MX answer, however many hosts it hides.
        if mx_dnssec != DnssecStatus::Bogus || mx.first().map(|m| &m.host) == Some(&one.host) {
            let what = if mx_dnssec == DnssecStatus::Bogus {
                "the MX records fail DNSSEC validation".to_string()
            } else {
                format!("the TLSA records of {} fail DNSSEC validation", one.host)
            };
            out.push(context(Problem::new(
                Code::DaneBogus,
                severity,
                format!(
                    "{what}: {who} cannot trust the answer and defer; {consequence} (RFC 7672 \
                     §2.2)."
                ),
            )));
        }
        return out;
    }
    match one.dane.state {
        DaneState::NoMatch => out.push(context(Problem::new(
            Code::DaneNoMatch,
            severity,
            format!(
                "The TLSA records of {} (_25._tcp.{}) match none of the certificates it \
                 presents: {who} defer mail to it; {consequence} (RFC 7672 §2.2).",
                one.host, one.host
            ),
        ))),
        DaneState::Unusable => out.push(context(Problem::new(
            Code::DaneUnusable,
            Severity::Warning,
            format!(
                "None of the TLSA records of {} is usable for SMTP (usages 0 and 1, unknown \
                 fields or data of the wrong length): {who} require TLS there but check no \
                 certificate (RFC 7672 §2.2, §3.1.3).",
                one.host
            ),
        ))),
        _ => {}
    }
    if one.dane.rollover_risk && one.dane.state == DaneState::Matches {
        out.push(context(Problem::new(
            Code::DaneRollover,
            Severity::Warning,
            format!(
                "Every TLSA record of {} pins its current certificate or key, and none is \
                 published for the next: when the certificate is renewed with a new key, {who} \
                 will defer mail to it (RFC 7671 §8.1).",
                one.host
            ),
        )));
    }
    out
}

/// The `_smtp._tls` record: missing is worth knowing, invalid a warning.
fn tlsrpt_problem(
    domain: &str,
    tlsrpt: &TlsRpt,
    delivery: &DeliveryObservations,
) -> Option<Problem> {
    let name = delivery.tlsrpt_record.name.clone();
    let (code, severity, message) = match tlsrpt.state {
        TlsRptState::NotPublished => (
            Code::TlsrptMissing,
            Severity::Info,
            format!(
                "{domain} publishes no TLS-RPT record ({name}): senders that fail to deliver \
                 over TLS tell nobody (RFC 8460)."
            ),
        ),
        TlsRptState::Invalid => {
            let error = tlsrpt_record::select(&delivery.tlsrpt_record.records)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            (
                Code::TlsrptInvalid,
                Severity::Warning,
                format!(
                    "{name} announces TLS-RPT, but {error}: senders send no reports (RFC 8460 \
                     §3)."
                ),
            )
        }
        TlsRptState::Valid | TlsRptState::NotChecked => return None,
    };
    Some(Problem::new(code, severity, message).with(|c| c.expected_name = Some(name)))
}

/// The sentence that leads the section: the first error's, else the first warning's, else what
/// goes well.
pub(super) fn summary(
    domain: &str,
    delivery: &DeliveryObservations,
    mta_sts: &MtaSts,
    mx: &[MxDelivery],
    outcomes: &[SenderOutcome],
    problems: &[Problem],
) -> String {
    if let Some(first) = problems
        .iter()
        .find(|p| matches!(p.severity, Severity::Error | Severity::Warning))
    {
        return first.message.clone();
    }
    if delivery
        .mx
        .records
        .iter()
        .any(|r| r.exchange == "." || r.exchange.is_empty())
        && mx.is_empty()
    {
        return format!("{domain} accepts no mail: its MX record is \".\" (null MX, RFC 7505).");
    }
    if mx.is_empty()
        && matches!(
            delivery.mx.failure,
            Some(LookupFailure::Timeout | LookupFailure::Failed)
        )
    {
        return format!(
            "Could not check inbound delivery to {domain}: the MX lookup went unanswered ({}).",
            delivery.mx.detail.as_deref().unwrap_or("no answer")
        );
    }
    if mx.is_empty() {
        return format!(
            "{domain} has no MX record: senders deliver to the address of {domain} itself \
             (RFC 5321 §5.1)."
        );
    }
    if mx.iter().all(MxDelivery::port25_unknown) {
        return format!(
            "Could not check inbound delivery to {domain}: port 25 of its MX hosts did not \
             answer from here ({}).",
            mx.first()
                .and_then(|m| m.detail.clone())
                .unwrap_or_else(|| "many networks block port 25".to_string())
        );
    }
    let delivering: Vec<String> = outcomes
        .iter()
        .find(|o| o.sender == SenderKind::MtaSts)
        .map(|o| o.to.clone())
        .unwrap_or_default();
    let hosts = match delivering.as_slice() {
        [one] => format!("its MX {one} offers"),
        many => format!("its MX hosts {} offer", many.join(", ")),
    };
    match mta_sts.state {
        MtaStsState::Enforce => format!(
            "Mail to {domain} is delivered over TLS with verified certificates: {hosts} \
             STARTTLS with a certificate valid for its name, as the domain's MTA-STS policy \
             (enforce) requires."
        ),
        MtaStsState::Testing => format!(
            "{domain} tests MTA-STS and passes: {hosts} STARTTLS with a certificate valid for \
             its name, so mode enforce would refuse nothing."
        ),
        _ => {
            let faulty: Vec<String> = mx
                .iter()
                .filter(|m| {
                    m.certificate
                        .is_some_and(|c| c != CertificateVerdict::Valid)
                })
                .map(|m| {
                    format!(
                        "{} {}",
                        m.host,
                        m.certificate_fault.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            if faulty.is_empty() {
                format!(
                    "Senders deliver to {domain} over TLS; with no MTA-STS policy in force and no \
                     DANE, they would accept any certificate on port 25."
                )
            } else {
                format!(
                    "Senders deliver to {domain}: {}, but with no MTA-STS policy in force and no \
                     DANE, senders accept any certificate on port 25, so it costs no mail. It \
                     would if the domain published an MTA-STS policy in enforce mode.",
                    faulty.join("; ")
                )
            }
        }
    }
}

/// What to change, most important first.
pub(super) fn fixes(
    domain: &str,
    mta_sts: &MtaSts,
    mx: &[MxDelivery],
    problems: &[Problem],
) -> Vec<String> {
    let url = mta_sts
        .url
        .clone()
        .unwrap_or_else(|| format!("https://mta-sts.{domain}/.well-known/mta-sts.txt"));
    let refetch = format!(
        "then change the id in the _mta-sts.{domain} record, so senders fetch the policy again"
    );
    let mut out: Vec<String> = Vec::new();
    let mut enforce_refuses = false;
    for problem in problems {
        let host = problem.context.expected_name.clone().unwrap_or_default();
        let one = mx.iter().find(|m| m.host == host);
        let line = match problem.code {
            Code::MtaStsMxUnlisted => Some(format!(
                "Add the line \"mx: {host}\" to the MTA-STS policy at {url}; {refetch}."
            )),
            Code::MtaStsMxNoStarttls => Some(format!(
                "Enable STARTTLS on {host} port 25, with a certificate that names {host}."
            )),
            Code::MtaStsMxCertificate => one.map(certificate_fix),
            Code::MtaStsRecordInvalid => Some(format!(
                "Publish exactly one TXT record at _mta-sts.{domain}: \"v=STSv1; id=\" followed \
                 by 1 to 32 letters and digits (a date will do), changed with every policy \
                 change."
            )),
            Code::MtaStsPolicyCertificate => Some(format!(
                "Serve {url} with a certificate valid for mta-sts.{domain} from a CA senders \
                 trust, intermediates included."
            )),
            Code::MtaStsPolicyUnreachable if problem.severity != Severity::Info => Some(format!(
                "Serve the policy at {url} (HTTPS, status 200, Content-Type text/plain)."
            )),
            Code::MtaStsPolicyAnswer => Some(format!(
                "Serve the policy at {url} itself: status 200, Content-Type text/plain, at most \
                 64 KiB, no redirect (senders do not follow one)."
            )),
            Code::MtaStsPolicyInvalid => Some(format!(
                "Correct the policy at {url}: \"version: STSv1\", \"mode: enforce\" (or testing), \
                 one \"mx:\" line per MX host or \"*.\" pattern, \"max_age:\" up to 31557600, one \
                 per line; {refetch}."
            )),
            Code::DaneNoMatch => Some(format!(
                "Publish a TLSA record at _25._tcp.{host} for the certificate (or key) {host} \
                 presents now, or install the certificate its records name."
            )),
            Code::DaneBogus => Some(format!(
                "Repair the DNSSEC signatures of {domain}'s zone (expired or missing RRSIG, a DS \
                 record that matches no key)."
            )),
            Code::DaneUnusable => Some(format!(
                "Replace the TLSA records of {host} by DANE-EE (3 1 1) or DANE-TA (2 1 1) records; \
                 usages 0 and 1 are not for SMTP."
            )),
            Code::DaneRollover => Some(format!(
                "Before {host} gets a certificate with a new key, publish a TLSA record for that \
                 key beside the current one."
            )),
            Code::TlsrptInvalid => Some(format!(
                "Publish exactly one TXT record at _smtp._tls.{domain}: \"v=TLSRPTv1; \
                 rua=mailto:tls-reports@{domain}\"."
            )),
            _ => None,
        };
        if problem.severity == Severity::Error && problem.code.as_str().starts_with("mta-sts-mx") {
            enforce_refuses = true;
        }
        if let Some(line) = line.filter(|l| !out.contains(l)) {
            out.push(line);
        }
    }
    if enforce_refuses {
        out.push(format!(
            "Until then, set \"mode: testing\" in the policy at {url}; {refetch}: senders then \
             deliver again and report the failures."
        ));
    }
    if mta_sts.state == MtaStsState::Testing
        && !problems
            .iter()
            .any(|p| p.code.as_str().starts_with("mta-sts-mx"))
    {
        out.push(format!(
            "Every MX passes the policy: when the reports show no failures, set \"mode: \
             enforce\" at {url}; {refetch}."
        ));
    }
    let published = !matches!(
        mta_sts.state,
        MtaStsState::NotPublished | MtaStsState::NotChecked
    ) || mx.iter().any(|m| m.dane.state != DaneState::NotPublished);
    if published && problems.iter().any(|p| p.code == Code::TlsrptMissing) {
        out.push(format!(
            "Publish a TXT record at _smtp._tls.{domain}: \"v=TLSRPTv1; \
             rua=mailto:tls-reports@{domain}\", to receive senders' daily reports of TLS \
             failures."
        ));
    }
    out
}

/// The fix of an MX certificate that fails MTA-STS.
fn certificate_fix(mx: &MxDelivery) -> String {
    let host = &mx.host;
    match mx.certificate {
        Some(CertificateVerdict::WrongName) => match mx.presented_names.first() {
            Some(name) => format!(
                "Give {host} a certificate that names {host} (it presents one for {}), or point \
                 the MX record at {name}, which its certificate names, and list {name} in the \
                 policy's mx lines.",
                mx.presented_names.join(", ")
            ),
            None => format!("Give {host} a certificate that names {host} in subjectAltName."),
        },
        Some(CertificateVerdict::OutsideValidity) => {
            format!("Renew the certificate of {host} (port 25).")
        }
        _ => format!(
            "Install on {host} port 25 a certificate from a CA senders trust, with its \
             intermediate certificates."
        ),
    }
}
