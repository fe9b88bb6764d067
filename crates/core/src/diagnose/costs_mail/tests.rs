//! The answer for each kind of fact, on inbound deliveries built by hand (the lab holds the
//! whole chain against real servers: tests/delivery_fleet.rs).

use super::*;
use crate::analyze::chain::TrustAnchors;
use crate::diagnose::delivery::{self, MtaSts, SenderOutcome, SenderVerdict};
use crate::observation::DiscoveryObservations;
use crate::observation::delivery::DeliveryObservations;

const DOMAIN: &str = "futz.example";
const MX: &str = "mail.futz.example";
const BACKUP: &str = "backup.futz.example";
const HOSTING: &str = "luna.hosting.example";

/// A judged delivery of `DOMAIN` with one MX and nothing else seen: the shape to fill in.
fn template() -> DeliveryReport {
    // Read as a saved file would be: fields added later take their defaults.
    let lookup = |name: String| {
        serde_json::json!({
            "name": name, "dnssec": "indeterminate", "records": [], "failure": "no-records",
            "detail": null
        })
    };
    let delivery: DeliveryObservations = serde_json::from_value(serde_json::json!({
        "domain": DOMAIN,
        "mx": {
            "name": DOMAIN, "dnssec": "secure",
            "records": [{"preference": 10, "exchange": MX}], "failure": null, "detail": null
        },
        "mta_sts_record": lookup(format!("_mta-sts.{DOMAIN}")),
        "tlsrpt_record": lookup(format!("_smtp._tls.{DOMAIN}")),
        "tlsa": []
    }))
    .expect("delivery observations");
    let discovery = DiscoveryObservations {
        email: format!("user@{DOMAIN}"),
        domain: DOMAIN.to_string(),
        records: Vec::new(),
        hosts: Vec::new(),
        unanswered: Vec::new(),
        skipped: Vec::new(),
        guessed: Vec::new(),
        delivery: None,
    };
    delivery::judge(&delivery, &discovery, &TrustAnchors::default(), 0)
}

/// What one MX shows senders: its port 25, certificate, the policy's patterns it matches
/// (`None`: no policy in force) and DANE's state, with what each kind of sender does there
/// (MTA-STS: action and, under testing, what it would do; DANE: action).
#[derive(Clone, Copy)]
struct Seen {
    host: &'static str,
    port25: Port25,
    certificate: Option<CertificateVerdict>,
    names: &'static [&'static str],
    patterns: Option<&'static [&'static str]>,
    dane: DaneState,
    rollover: bool,
    sts: (SenderAction, Option<SenderAction>),
    dane_action: SenderAction,
}

const GOOD: Seen = Seen {
    host: MX,
    port25: Port25::Tls,
    certificate: Some(CertificateVerdict::Valid),
    names: &[MX],
    patterns: None,
    dane: DaneState::NotPublished,
    rollover: false,
    sts: (SenderAction::Delivers, None),
    dane_action: SenderAction::Delivers,
};

const MISMATCH: Seen = Seen {
    certificate: Some(CertificateVerdict::WrongName),
    names: &[HOSTING],
    ..GOOD
};

fn report(state: MtaStsState, seen: &[Seen]) -> DeliveryReport {
    let mut report = template();
    let shape = report.mx[0].clone();
    report.mta_sts = MtaSts {
        state,
        id: None,
        url: None,
        policy: None,
    };
    report.mx = seen
        .iter()
        .map(|s| {
            let mut mx = shape.clone();
            mx.host = s.host.to_string();
            mx.port25 = s.port25;
            mx.certificate = s.certificate;
            mx.certificate_fault = (s.certificate == Some(CertificateVerdict::WrongName))
                .then(|| format!("presents a certificate for {}", s.names.join(", ")));
            mx.presented_names = s.names.iter().map(|n| n.to_string()).collect();
            mx.policy_patterns = s
                .patterns
                .map(|p| p.iter().map(|n| n.to_string()).collect());
            mx.dane.host = s.host.to_string();
            mx.dane.state = s.dane;
            mx.dane.rollover_risk = s.rollover;
            let verdict = |sender, action, if_enforced| SenderVerdict {
                sender,
                action,
                if_enforced,
                reason: format!("the reason of {sender} at {}", s.host),
                sources: Vec::new(),
            };
            mx.senders = vec![
                verdict(SenderKind::MtaSts, s.sts.0, s.sts.1),
                verdict(SenderKind::Dane, s.dane_action, None),
                verdict(SenderKind::Opportunistic, SenderAction::Delivers, None),
            ];
            mx
        })
        .collect();
    report.senders = SenderKind::ALL
        .iter()
        .map(|&kind| {
            let to: Vec<String> = report
                .mx
                .iter()
                .filter(|m| m.action(kind) == SenderAction::Delivers)
                .map(|m| m.host.clone())
                .collect();
            SenderOutcome {
                sender: kind,
                action: if to.is_empty() {
                    SenderAction::Defers
                } else {
                    SenderAction::Delivers
                },
                to,
            }
        })
        .collect();
    report.fixes = vec!["the fix".to_string()];
    report
}

#[test]
fn enforce_and_a_certificate_for_another_name_is_yes() {
    let refused = Seen {
        patterns: Some(&[MX]),
        sts: (SenderAction::Defers, None),
        ..MISMATCH
    };
    let costs = judge(Some(&report(MtaStsState::Enforce, &[refused])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::Yes);
    assert_eq!(
        costs.because,
        [
            CostReason::MtaStsEnforceRefuses,
            CostReason::DaneNotPublished
        ]
    );
    assert_eq!(
        costs.summary,
        "Yes: futz.example enforces MTA-STS and mail.futz.example's certificate is for \
         luna.hosting.example: Gmail and Microsoft 365 do not deliver to it; mail from them \
         waits in their queues and then bounces."
    );
    assert_eq!(costs.fixes, ["the fix"]);
}

#[test]
fn a_refused_mx_beside_one_that_passes_says_where_mail_goes() {
    let refused = Seen {
        patterns: Some(&["*.futz.example"]),
        sts: (SenderAction::Defers, None),
        ..MISMATCH
    };
    let backup = Seen {
        host: BACKUP,
        names: &[BACKUP],
        patterns: Some(&["*.futz.example"]),
        ..GOOD
    };
    let costs = judge(
        Some(&report(MtaStsState::Enforce, &[refused, backup])),
        DOMAIN,
    );
    assert_eq!(costs.answer, CostAnswer::Yes);
    assert!(
        costs
            .summary
            .ends_with("do not deliver to it; they deliver to backup.futz.example instead."),
        "{}",
        costs.summary
    );
}

#[test]
fn no_policy_and_no_dane_is_not_today_whatever_the_certificate() {
    let costs = judge(
        Some(&report(MtaStsState::NotPublished, &[MISMATCH])),
        DOMAIN,
    );
    assert_eq!(costs.answer, CostAnswer::No);
    assert_eq!(
        costs.because,
        [CostReason::MtaStsNotPublished, CostReason::DaneNotPublished]
    );
    assert_eq!(
        costs.summary,
        "Not today: futz.example has no MTA-STS policy in enforce mode and no DANE records; \
         senders deliver whatever the certificate. It would if the domain enforced MTA-STS: \
         mail.futz.example's certificate is for luna.hosting.example."
    );
    assert!(costs.fixes.is_empty());
    // With a certificate for the MX, nothing more to say.
    let costs = judge(Some(&report(MtaStsState::None, &[GOOD])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::No);
    assert_eq!(costs.because[0], CostReason::MtaStsModeNone);
    assert!(costs.summary.ends_with("whatever the certificate."));
}

#[test]
fn testing_mode_is_not_yet() {
    let tested = Seen {
        patterns: Some(&[MX]),
        sts: (SenderAction::Delivers, Some(SenderAction::Defers)),
        ..MISMATCH
    };
    let costs = judge(Some(&report(MtaStsState::Testing, &[tested])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::NotYet);
    assert_eq!(costs.because[0], CostReason::MtaStsTestingWouldRefuse);
    assert!(
        costs.summary.starts_with(
            "Not yet: futz.example tests MTA-STS (mode testing) and mail.futz.example's \
             certificate is for luna.hosting.example:"
        ) && costs.summary.contains("once the policy is in enforce mode"),
        "{}",
        costs.summary
    );
}

#[test]
fn dane_that_matches_nothing_is_yes_and_a_match_is_no() {
    let deferred = Seen {
        dane: DaneState::NoMatch,
        dane_action: SenderAction::Defers,
        ..GOOD
    };
    let costs = judge(
        Some(&report(MtaStsState::NotPublished, &[deferred])),
        DOMAIN,
    );
    assert_eq!(costs.answer, CostAnswer::Yes);
    assert_eq!(
        costs.because,
        [CostReason::MtaStsNotPublished, CostReason::DaneDefers]
    );
    assert!(
        costs.summary.starts_with(
            "Yes: senders that validate DANE (Postfix and Exim with DANE, Microsoft 365) defer \
             mail to mail.futz.example: the reason of dane at mail.futz.example"
        ),
        "{}",
        costs.summary
    );
    let matched = Seen {
        dane: DaneState::Matches,
        ..GOOD
    };
    let costs = judge(Some(&report(MtaStsState::NotPublished, &[matched])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::No);
    assert_eq!(costs.because[1], CostReason::DaneMatches);
    assert!(
        costs
            .summary
            .starts_with("No: the TLSA records of mail.futz.example match")
    );
    // A lone match on the current key: not yet.
    let pinned = Seen {
        dane: DaneState::Matches,
        rollover: true,
        ..GOOD
    };
    let costs = judge(Some(&report(MtaStsState::NotPublished, &[pinned])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::NotYet);
    assert_eq!(
        costs.because,
        [
            CostReason::MtaStsNotPublished,
            CostReason::DaneMatches,
            CostReason::DaneRollover
        ]
    );
}

#[test]
fn what_was_not_seen_is_not_known_unless_nothing_checks_the_certificate() {
    let silent = Seen {
        port25: Port25::Unreachable,
        certificate: None,
        names: &[],
        patterns: Some(&[MX]),
        sts: (SenderAction::Unknown, None),
        ..GOOD
    };
    let costs = judge(Some(&report(MtaStsState::Enforce, &[silent])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::Unknown);
    assert_eq!(
        costs.because,
        [
            CostReason::MtaStsEnforcePasses,
            CostReason::DaneNotPublished,
            CostReason::Port25NotChecked
        ]
    );
    assert!(
        costs
            .summary
            .starts_with("Not known: futz.example has an MTA-STS policy")
    );
    // Without a policy or DANE, port 25 does not matter.
    let silent = Seen {
        patterns: None,
        ..silent
    };
    let costs = judge(Some(&report(MtaStsState::NotPublished, &[silent])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::No);
    // DANE not known.
    let unknown = Seen {
        dane: DaneState::Unknown,
        dane_action: SenderAction::Unknown,
        ..GOOD
    };
    let costs = judge(Some(&report(MtaStsState::NotPublished, &[unknown])), DOMAIN);
    assert_eq!(costs.answer, CostAnswer::Unknown);
    assert_eq!(costs.because[1], CostReason::DaneNotChecked);
    // A policy that cannot be fetched, with a certificate a cached policy would refuse.
    let costs = judge(
        Some(&report(MtaStsState::PolicyUnavailable, &[MISMATCH])),
        DOMAIN,
    );
    assert_eq!(costs.answer, CostAnswer::Unknown);
    assert_eq!(costs.because[0], CostReason::MtaStsUnusable);
    let costs = judge(
        Some(&report(MtaStsState::PolicyUnavailable, &[GOOD])),
        DOMAIN,
    );
    assert_eq!(costs.answer, CostAnswer::No);
}

#[test]
fn an_address_or_a_name_without_mx_is_not_a_mail_domain() {
    let costs = judge(None, "192.0.2.25");
    assert_eq!(
        (costs.answer, costs.because.as_slice()),
        (CostAnswer::Unknown, [CostReason::NotAMailDomain].as_slice())
    );
    assert!(costs.summary.contains("192.0.2.25 is an address"));
    let mut none = template();
    none.mx.clear();
    let costs = judge(Some(&none), DOMAIN);
    assert_eq!(costs.because, [CostReason::NotAMailDomain]);
}

#[test]
fn a_domains_dane_is_the_worst_of_its_mx_hosts() {
    let mut report = report(MtaStsState::NotPublished, &[GOOD, GOOD]);
    assert_eq!(domain_dane(&report.mx), Some(DaneState::NotPublished));
    report.mx[1].dane.state = DaneState::Matches;
    assert_eq!(domain_dane(&report.mx), Some(DaneState::Matches));
    report.mx[0].dane.state = DaneState::NoMatch;
    assert_eq!(domain_dane(&report.mx), Some(DaneState::NoMatch));
    assert_eq!(domain_dane(&[]), None);
}
