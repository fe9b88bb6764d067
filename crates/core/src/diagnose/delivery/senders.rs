//! Per MX host: its port 25 as the host check saw it, its certificate as an MTA-STS sender
//! validates it, and what each kind of sender does there.

use std::net::IpAddr;

use super::sources;
use super::{CertificateVerdict, MxDelivery, Port25, SenderAction, SenderKind, SenderVerdict};
use crate::analyze::chain::{DateKind, Trust, TrustAnchors};
use crate::analyze::dane::{self, DaneState};
use crate::analyze::mta_sts::{self, Mode, Policy};
use crate::analyze::names::NameCheck;
use crate::observation::delivery::DeliveryObservations;
use crate::observation::dnssec::DnssecStatus;
use crate::observation::{
    DiscoveryObservations, EndpointObservation, FailureKind, Observations, SkipReason,
};
use crate::target::Target;

/// Every MX host (at most `run::delivery::MAX_MX_HOSTS`, most preferred first), judged.
pub(super) fn judge_mx(
    delivery: &DeliveryObservations,
    observations: &DiscoveryObservations,
    policy: Option<&Policy>,
    anchors: &TrustAnchors,
    now: i64,
) -> Vec<MxDelivery> {
    let mut records: Vec<&crate::observation::dnssec::MxRecord> = delivery
        .mx
        .records
        .iter()
        .filter(|r| r.exchange != "." && !r.exchange.is_empty())
        .collect();
    records.sort_by_key(|r| r.preference);
    let mut out: Vec<MxDelivery> = Vec::new();
    for record in records {
        let host = record.exchange.trim_end_matches('.').to_ascii_lowercase();
        if out.iter().any(|m| m.host == host) {
            continue;
        }
        let name = format!("_25._tcp.{host}");
        let tlsa = delivery
            .tlsa
            .iter()
            .find(|t| t.name.trim_end_matches('.').eq_ignore_ascii_case(&name));
        let mut mx = port25(&host, record.preference, observations, anchors, now);
        let chain = chain_of(observations, &host, mx.address);
        mx.dane = match tlsa {
            Some(tlsa) => dane::judge(delivery.mx.dnssec, tlsa, &host, chain.as_deref()),
            None => dane::judge(delivery.mx.dnssec, &not_asked(&host), &host, None),
        };
        mx.policy_patterns = policy.map(|p| {
            mta_sts::matching(p, &host)
                .into_iter()
                .map(str::to_string)
                .collect()
        });
        // Validated TLSA records make TLS mandatory, usable or not (RFC 7672 §2.2).
        let tls_required =
            tlsa.is_some_and(|t| t.dnssec == DnssecStatus::Secure && !t.records.is_empty());
        mx.senders = vec![
            if delivery.mx.dnssec == DnssecStatus::Bogus {
                bogus_mx(SenderKind::MtaSts)
            } else {
                mta_sts_sender(&mx, policy)
            },
            dane_sender(&mx, delivery.mx.dnssec, tls_required),
            opportunistic_sender(&mx),
        ];
        out.push(mx);
    }
    out
}

/// A sender whose resolver validates DNSSEC, as Google's and Microsoft's do, facing a bogus MX
/// answer: the resolver answers SERVFAIL, the sender cannot find the MX hosts and retries until
/// the message expires (RFC 4035 §5.5).
fn bogus_mx(sender: SenderKind) -> SenderVerdict {
    SenderVerdict {
        sender,
        action: SenderAction::Defers,
        if_enforced: None,
        reason: "the MX answer fails DNSSEC validation: their validating resolvers answer \
                 SERVFAIL, so they cannot find the MX hosts; mail waits and then bounces"
            .to_string(),
        sources: vec![sources::RFC4035],
    }
}

/// A TLSA lookup that was not made (more MX hosts than a check takes).
fn not_asked(host: &str) -> crate::observation::dnssec::TlsaLookup {
    crate::observation::dnssec::Validated {
        name: format!("_25._tcp.{host}"),
        dnssec: DnssecStatus::Indeterminate,
        records: Vec::new(),
        failure: Some(crate::observation::dnssec::LookupFailure::Failed),
        fault: None,
        detail: Some("not asked: more MX hosts than a check takes".to_string()),
    }
}

/// The host check of `host`, if it was checked.
fn host_check<'a>(observations: &'a DiscoveryObservations, host: &str) -> Option<&'a Observations> {
    let target = Target::parse(host).ok()?;
    observations.hosts.iter().find(|o| o.target == target)
}

/// The chain `host` presented on port 25 at `address`.
fn chain_of(
    observations: &DiscoveryObservations,
    host: &str,
    address: Option<IpAddr>,
) -> Option<Vec<crate::observation::Der>> {
    let check = host_check(observations, host)?;
    let endpoint = check
        .endpoints
        .iter()
        .find(|e| e.service.port == 25 && Some(e.address) == address)?;
    let chain = endpoint.chain();
    (!chain.is_empty()).then(|| chain.to_vec())
}

/// How bad a port 25 state is for delivery, to pick the worst address.
fn badness(state: Port25) -> u8 {
    match state {
        Port25::NoStarttls => 5,
        Port25::TlsFailed => 4,
        Port25::Tls => 3,
        Port25::RateLimited => 2,
        Port25::Unreachable => 1,
        Port25::NotChecked => 0,
    }
}

fn state_of(endpoint: &EndpointObservation) -> Port25 {
    if !endpoint.reachable {
        return Port25::Unreachable;
    }
    match endpoint.failure.as_ref().map(|f| f.kind) {
        None => Port25::Tls,
        Some(FailureKind::RateLimited) => Port25::RateLimited,
        Some(FailureKind::StarttlsNotOffered | FailureKind::StarttlsRefused) => Port25::NoStarttls,
        Some(FailureKind::TlsHandshakeFailed | FailureKind::ProtocolError) => Port25::TlsFailed,
        Some(FailureKind::ConnectionRefused | FailureKind::Timeout | FailureKind::Unreachable) => {
            Port25::Unreachable
        }
    }
}

/// `host`'s port 25, the worst of its addresses (a sender may land on any), with its
/// certificate judged as an MTA-STS sender judges it; senders and DANE not yet filled in.
fn port25(
    host: &str,
    preference: u16,
    observations: &DiscoveryObservations,
    anchors: &TrustAnchors,
    now: i64,
) -> MxDelivery {
    let mut mx = MxDelivery {
        host: host.to_string(),
        preference,
        port25: Port25::NotChecked,
        address: None,
        certificate: None,
        certificate_fault: None,
        presented_names: Vec::new(),
        policy_patterns: None,
        dane: dane::judge(DnssecStatus::Indeterminate, &not_asked(host), host, None),
        senders: Vec::new(),
        detail: None,
    };
    let Some(check) = host_check(observations, host) else {
        mx.detail = Some(not_checked(observations, host));
        return mx;
    };
    let worst = check
        .endpoints
        .iter()
        .filter(|e| e.service.port == 25)
        .max_by_key(|e| badness(state_of(e)));
    let Some(endpoint) = worst else {
        mx.detail = Some("port 25 was not probed".to_string());
        return mx;
    };
    mx.port25 = state_of(endpoint);
    mx.address = Some(endpoint.address);
    if mx.port25_unknown() {
        mx.detail = endpoint.failure.as_ref().map(|f| f.detail.clone());
    }
    if endpoint.chain().is_empty() {
        return mx;
    }
    let Some(analysis) = super::as_sent(endpoint.chain(), host, anchors, now) else {
        mx.certificate = Some(CertificateVerdict::Unreadable);
        mx.certificate_fault = Some("its certificate cannot be read".to_string());
        return mx;
    };
    if let Some(leaf) = analysis.leaf() {
        mx.presented_names = leaf.san_dns.clone();
    }
    let names = if mx.presented_names.is_empty() {
        "no DNS name".to_string()
    } else {
        mx.presented_names.join(", ")
    };
    let (verdict, fault) = match (&analysis.name, &analysis.trust) {
        (NameCheck::NotCovered | NameCheck::CommonNameOnly(_), _) => (
            CertificateVerdict::WrongName,
            Some(format!("presents a certificate for {names}")),
        ),
        (_, Trust::Trusted) if !analysis.dates.is_empty() => (
            CertificateVerdict::OutsideValidity,
            Some(
                if analysis.dates.iter().any(|d| d.kind == DateKind::Expired) {
                    "presents an expired certificate".to_string()
                } else {
                    "presents a certificate that is not valid yet".to_string()
                },
            ),
        ),
        (_, Trust::Trusted) => (CertificateVerdict::Valid, None),
        (_, trust) => (
            CertificateVerdict::Untrusted,
            Some(format!("presents a certificate {}", untrusted_words(trust))),
        ),
    };
    mx.certificate = Some(verdict);
    mx.certificate_fault = fault;
    mx
}

fn untrusted_words(trust: &Trust) -> String {
    match trust {
        Trust::SelfSigned => "that is self-signed".to_string(),
        Trust::UnknownCa { issuer } => format!("from a CA senders do not trust ({issuer})"),
        Trust::IncompleteChain { missing, .. } => {
            format!("without its intermediate certificate ({missing})")
        }
        _ => "whose chain does not lead to a trusted root".to_string(),
    }
}

/// Why `host` has no host check.
fn not_checked(observations: &DiscoveryObservations, host: &str) -> String {
    if let Some(silent) = observations
        .unanswered
        .iter()
        .find(|u| u.name.eq_ignore_ascii_case(host))
    {
        return silent.detail.clone();
    }
    match observations
        .skipped
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(host))
    {
        Some(skipped) if skipped.reason == SkipReason::NoSuchName => {
            format!("{host} does not resolve: no sender can deliver there")
        }
        Some(skipped) => skipped.detail.clone(),
        None => "not checked".to_string(),
    }
}

/// What MTA-STS senders do with `mx` under `policy` (in force: enforce or testing).
fn mta_sts_sender(mx: &MxDelivery, policy: Option<&Policy>) -> SenderVerdict {
    let base = |action, reason: String, sources: Vec<&'static str>| SenderVerdict {
        sender: SenderKind::MtaSts,
        action,
        if_enforced: None,
        reason,
        sources,
    };
    let Some(policy) = policy else {
        let mut verdict = opportunistic_sender(mx);
        verdict.sender = SenderKind::MtaSts;
        verdict.reason = format!(
            "no MTA-STS policy in force for them: like other senders, {}",
            verdict.reason
        );
        return verdict;
    };
    let patterns = mx.policy_patterns.clone().unwrap_or_default();
    let listed = !patterns.is_empty();
    // RFC 8461 §4: the MX must match a pattern, then offer STARTTLS with a certificate valid for
    // its name.
    let failure: Option<(String, Vec<&'static str>)> = if !listed {
        Some((
            format!(
                "{} matches no mx pattern of the policy ({})",
                mx.host,
                if policy.mx.is_empty() {
                    "it lists none".to_string()
                } else {
                    policy.mx.join(", ")
                }
            ),
            vec![sources::RFC8461_MX],
        ))
    } else if mx.port25_unknown() {
        return base(
            SenderAction::Unknown,
            format!(
                "port 25 was not checked ({})",
                mx.detail.as_deref().unwrap_or("no answer")
            ),
            Vec::new(),
        );
    } else if mx.port25 == Port25::NoStarttls {
        Some((
            format!("{} does not offer STARTTLS", mx.host),
            vec![sources::RFC8461_APPLY],
        ))
    } else if mx.port25 == Port25::TlsFailed && mx.certificate.is_none() {
        Some((
            format!("the TLS handshake with {} fails", mx.host),
            vec![sources::RFC8461_APPLY],
        ))
    } else {
        match (mx.certificate, &mx.certificate_fault) {
            (Some(CertificateVerdict::Valid), _) if mx.port25 == Port25::Tls => None,
            (Some(CertificateVerdict::Valid), _) => Some((
                format!("the TLS handshake with {} fails", mx.host),
                vec![sources::RFC8461_APPLY],
            )),
            (_, fault) => Some((
                format!(
                    "{} {}",
                    mx.host,
                    fault.as_deref().unwrap_or("presents no certificate")
                ),
                vec![sources::RFC8461_CERTIFICATE],
            )),
        }
    };
    let vendors = vec![sources::GOOGLE_MTA_STS, sources::MICROSOFT_MTA_STS];
    match (failure, policy.mode) {
        (None, _) => base(
            SenderAction::Delivers,
            format!(
                "{} matches {} and offers STARTTLS with a certificate valid for its name",
                mx.host,
                patterns.join(", ")
            ),
            vec![sources::RFC8461_MX, sources::RFC8461_CERTIFICATE],
        ),
        (Some((why, mut cited)), Mode::Enforce) => {
            cited.push(sources::RFC8461_APPLY);
            cited.extend(vendors);
            base(
                SenderAction::Defers,
                format!("{why}: under the policy's enforce mode they do not deliver there"),
                cited,
            )
        }
        (Some((why, mut cited)), _) => {
            cited.push(sources::RFC8461_APPLY);
            cited.extend(vendors);
            let mut verdict = base(
                SenderAction::Delivers,
                format!(
                    "{why}: in testing mode they deliver all the same and only report it \
                     (TLS-RPT); under enforce they would not deliver there"
                ),
                cited,
            );
            verdict.if_enforced = Some(SenderAction::Defers);
            verdict
        }
    }
}

/// What DANE-validating senders do with `mx`; `mx_dnssec`: what validation said of the MX
/// answer; `tls_required`: its TLSA RRset is validated and not empty, so TLS is mandatory
/// whether or not a record is usable (RFC 7672 §2.2), and an MX without STARTTLS gets no mail
/// from them, with no certificate to match (Postfix: "TLS is required, but was not offered").
fn dane_sender(mx: &MxDelivery, mx_dnssec: DnssecStatus, tls_required: bool) -> SenderVerdict {
    let cited = vec![
        sources::RFC7672,
        sources::POSTFIX_DANE,
        sources::MICROSOFT_DANE,
    ];
    // analyze::dane's own words, when it has them, say what the records are and why (not when
    // nothing is known: then they are the resolver's, which say nothing to a sender).
    let verdict = |action, fallback: String| SenderVerdict {
        sender: SenderKind::Dane,
        action,
        if_enforced: None,
        reason: if mx.dane.detail.is_empty() {
            fallback
        } else {
            mx.dane.detail.clone()
        },
        sources: cited.clone(),
    };
    if mx_dnssec == DnssecStatus::Bogus {
        return verdict(
            SenderAction::Defers,
            "the MX answer fails DNSSEC validation: a validating resolver answers SERVFAIL, so \
             they cannot even find the MX hosts"
                .to_string(),
        );
    }
    if tls_required && mx.port25 == Port25::NoStarttls && mx.dane.state != DaneState::Insecure {
        return SenderVerdict {
            sender: SenderKind::Dane,
            action: SenderAction::Defers,
            if_enforced: None,
            reason: format!(
                "{} has TLSA records, so they require TLS, and it does not offer STARTTLS: \
                 they do not deliver there",
                mx.host
            ),
            sources: cited,
        };
    }
    match mx.dane.state {
        DaneState::NotPublished => {
            let mut like = opportunistic_sender(mx);
            like.sender = SenderKind::Dane;
            like.sources = cited.clone();
            like.reason = format!("no TLSA records: DANE is not in force; {}", like.reason);
            like
        }
        DaneState::Insecure => {
            let mut like = opportunistic_sender(mx);
            like.sender = SenderKind::Dane;
            like.sources = cited.clone();
            like.reason = format!(
                "the zone is not signed, so TLSA records do not count: {}",
                like.reason
            );
            like
        }
        DaneState::Matches => verdict(
            SenderAction::Delivers,
            format!("a TLSA record of {} matches its certificate", mx.host),
        ),
        DaneState::NoMatch => verdict(
            SenderAction::Defers,
            format!(
                "no TLSA record of {} matches the certificate it presents",
                mx.host
            ),
        ),
        DaneState::Unusable if mx.port25 == Port25::Tls => verdict(
            SenderAction::EncryptsOnly,
            format!(
                "none of {}'s TLSA records is usable for SMTP: they require TLS but check no \
                 certificate",
                mx.host
            ),
        ),
        DaneState::Unusable => verdict(
            SenderAction::Defers,
            format!("{}'s TLSA records require TLS, and it offers none", mx.host),
        ),
        DaneState::Bogus => verdict(
            SenderAction::Defers,
            format!("the TLSA answer for {} fails DNSSEC validation", mx.host),
        ),
        DaneState::Unknown => verdict(
            SenderAction::Unknown,
            "their TLSA lookup went unanswered, or port 25 was not reached".to_string(),
        ),
    }
}

/// What any other sender does with `mx`: opportunistic TLS.
fn opportunistic_sender(mx: &MxDelivery) -> SenderVerdict {
    let (action, reason) = match mx.port25 {
        Port25::Tls => (
            SenderAction::Delivers,
            "they deliver over TLS, whatever the certificate".to_string(),
        ),
        Port25::NoStarttls => (
            SenderAction::Delivers,
            "they deliver without encryption (no STARTTLS)".to_string(),
        ),
        Port25::TlsFailed => (
            SenderAction::Delivers,
            "the TLS handshake fails; most retry without TLS and deliver".to_string(),
        ),
        _ => (
            SenderAction::Unknown,
            format!(
                "port 25 was not checked ({})",
                mx.detail.as_deref().unwrap_or("no answer")
            ),
        ),
    };
    SenderVerdict {
        sender: SenderKind::Opportunistic,
        action,
        if_enforced: None,
        reason,
        sources: vec![sources::RFC7435],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::dane::DaneJudgement;

    fn mx(port25: Port25, dane: DaneState) -> MxDelivery {
        MxDelivery {
            host: "mx.example".to_string(),
            preference: 10,
            port25,
            address: None,
            certificate: (port25 == Port25::Tls).then_some(CertificateVerdict::Valid),
            certificate_fault: None,
            presented_names: vec!["mx.example".to_string()],
            policy_patterns: None,
            dane: DaneJudgement {
                host: "mx.example".to_string(),
                state: dane,
                matched: Vec::new(),
                unusable: Vec::new(),
                misnamed: Vec::new(),
                reference_names: vec!["mx.example".to_string()],
                rollover_risk: false,
                detail: String::new(),
            },
            senders: Vec::new(),
            detail: None,
        }
    }

    /// RFC 7672 §2.2 as a table: what a validating sender does for each DANE verdict.
    #[test]
    fn dane_senders_deliver_defer_or_only_encrypt() {
        use DaneState::{Bogus, Insecure, Matches, NoMatch, NotPublished, Unusable};
        use SenderAction::{Defers, Delivers, EncryptsOnly};
        for (port25, state, expected) in [
            (Port25::Tls, Matches, Delivers),
            (Port25::Tls, NoMatch, Defers),
            (Port25::NoStarttls, NoMatch, Defers),
            (Port25::Tls, Unusable, EncryptsOnly),
            (Port25::NoStarttls, Unusable, Defers),
            (Port25::Tls, Bogus, Defers),
            (Port25::Tls, NotPublished, Delivers),
            (Port25::NoStarttls, NotPublished, Delivers),
            (Port25::Tls, Insecure, Delivers),
            (Port25::Tls, DaneState::Unknown, SenderAction::Unknown),
            (Port25::Unreachable, NotPublished, SenderAction::Unknown),
        ] {
            let verdict = dane_sender(&mx(port25, state), DnssecStatus::Secure, false);
            assert_eq!(verdict.action, expected, "{port25} {state}: {verdict:?}");
            assert_eq!(verdict.sender, SenderKind::Dane);
            assert!(verdict.sources.contains(&sources::RFC7672));
        }
        // An MX answer that fails validation hides every host.
        let verdict = dane_sender(&mx(Port25::Tls, Matches), DnssecStatus::Bogus, false);
        assert_eq!(verdict.action, SenderAction::Defers);
    }

    /// Validated TLSA records require TLS (RFC 7672 §2.2): an MX without STARTTLS gets no mail,
    /// though with no certificate DANE's own verdict is unknown (nothing to match).
    #[test]
    fn dane_senders_defer_to_an_mx_without_starttls_when_tlsa_records_require_tls() {
        for state in [DaneState::Unknown, DaneState::NoMatch, DaneState::Unusable] {
            let verdict = dane_sender(&mx(Port25::NoStarttls, state), DnssecStatus::Secure, true);
            assert_eq!(verdict.action, SenderAction::Defers, "{state}: {verdict:?}");
            assert!(verdict.reason.contains("STARTTLS"), "{verdict:?}");
        }
        // Without validated records, nothing requires TLS: as before.
        let plain = dane_sender(
            &mx(Port25::NoStarttls, DaneState::Unknown),
            DnssecStatus::Secure,
            false,
        );
        assert_eq!(plain.action, SenderAction::Unknown);
        // Records of an unsigned zone do not count.
        let insecure = dane_sender(
            &mx(Port25::NoStarttls, DaneState::Insecure),
            DnssecStatus::Secure,
            true,
        );
        assert_eq!(insecure.action, SenderAction::Delivers);
    }

    #[test]
    fn opportunistic_senders_take_anything_that_answers() {
        for (port25, expected) in [
            (Port25::Tls, SenderAction::Delivers),
            (Port25::NoStarttls, SenderAction::Delivers),
            (Port25::TlsFailed, SenderAction::Delivers),
            (Port25::Unreachable, SenderAction::Unknown),
            (Port25::RateLimited, SenderAction::Unknown),
            (Port25::NotChecked, SenderAction::Unknown),
        ] {
            let mut one = mx(port25, DaneState::NotPublished);
            one.certificate = Some(CertificateVerdict::WrongName);
            assert_eq!(opportunistic_sender(&one).action, expected, "{port25}");
        }
    }

    #[test]
    fn mta_sts_senders_follow_the_mode() {
        let policy = |mode: &str| {
            mta_sts::parse_policy(&format!(
                "version: STSv1\nmode: {mode}\nmx: mx.example\nmax_age: 86400\n"
            ))
            .expect("valid")
        };
        let mut bad = mx(Port25::Tls, DaneState::NotPublished);
        bad.certificate = Some(CertificateVerdict::Untrusted);
        bad.certificate_fault = Some("presents a certificate that is self-signed".to_string());
        bad.policy_patterns = Some(vec!["mx.example".to_string()]);
        let enforce = mta_sts_sender(&bad, Some(&policy("enforce")));
        assert_eq!(
            (enforce.action, enforce.if_enforced),
            (SenderAction::Defers, None)
        );
        let testing = mta_sts_sender(&bad, Some(&policy("testing")));
        assert_eq!(
            (testing.action, testing.if_enforced),
            (SenderAction::Delivers, Some(SenderAction::Defers))
        );
        let none = mta_sts_sender(&bad, None);
        assert_eq!(
            (none.action, none.if_enforced),
            (SenderAction::Delivers, None)
        );
        let mut good = mx(Port25::Tls, DaneState::NotPublished);
        good.policy_patterns = Some(vec!["mx.example".to_string()]);
        assert_eq!(
            mta_sts_sender(&good, Some(&policy("enforce"))).action,
            SenderAction::Delivers
        );
        // Not reached on port 25: not known, whatever the policy.
        let mut silent = mx(Port25::Unreachable, DaneState::NotPublished);
        silent.policy_patterns = Some(vec!["mx.example".to_string()]);
        assert_eq!(
            mta_sts_sender(&silent, Some(&policy("enforce"))).action,
            SenderAction::Unknown
        );
    }
}
