//! Inbound delivery judged on built observations, at a fixed time, with no network: what each
//! kind of sender does with each MX under the domain's MTA-STS, and every bad policy the issue
//! lists (a redirect, a status other than 200, a wrong content type, over 64 KiB, two records,
//! max_age out of range, `*.*.example`, `mx: *.example` against `a.b.example`). The same cases
//! against real servers are in tests/servers/delivery.rs (mailtls), and tests/delivery.rs holds
//! real senders to the verdicts.
// Test code: a panic on unwrap is a failed test, which is the point.
#![allow(clippy::unwrap_used)]

use mailtls::analyze::chain::{AnchorOrigin, TrustAnchors};
use mailtls::diagnose::delivery::{
    self, CertificateVerdict, DeliveryReport, MtaStsState, Port25, SenderAction, SenderKind,
    TlsRptState,
};
use mailtls::diagnose::summary::SummaryKind;
use mailtls::diagnose::{Code, Severity, Verdict};
use mailtls::observation::delivery::{DeliveryObservations, PolicyFetch};
use mailtls::observation::dnssec::{DnssecStatus, LookupFailure, MxRecord, Validated};
use mailtls::observation::{
    Der, DiscoveryObservations, EndpointObservation, Failure, FailureKind, Observations, Record,
    Security, ServerEntry, Source, SourceErrorKind, TlsObservation,
};
use mailtls::service::{Protocol, Service};
use mailtls::target::Target;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::CertificateDer;

/// 2026-06-01T00:00:00Z: inside the validity of every certificate made below.
const NOW: i64 = 1_780_272_000;
const DOMAIN: &str = "futz.example";
const MX: &str = "mail.futz.example";
const BACKUP: &str = "backup.futz.example";
const HOSTING: &str = "luna.hosting.example";

struct Pki {
    anchors: TrustAnchors,
    ca: CertificateParams,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "Fixed Test Root");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.not_before = time::macros::datetime!(2026-01-01 0:00 UTC);
        ca.not_after = time::macros::datetime!(2027-01-01 0:00 UTC);
        let root = ca.self_signed(&ca_key).unwrap();
        let mut anchors = TrustAnchors::default();
        anchors.add(
            &[CertificateDer::from(root.der().to_vec())],
            AnchorOrigin::Added,
        );
        Pki {
            anchors,
            ca,
            ca_key,
        }
    }

    /// A leaf for `names`, signed by the root.
    fn leaf(&self, names: &[&str]) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.not_before = self.ca.not_before;
        params.not_after = self.ca.not_after;
        params
            .signed_by(&key, &Issuer::from_params(&self.ca, &self.ca_key))
            .unwrap()
            .der()
            .to_vec()
    }
}

/// Port 25 of `host`: STARTTLS with `leaf`, or (`None`) no STARTTLS.
fn port25(host: &str, leaf: Option<&[u8]>) -> Observations {
    let mut endpoint = EndpointObservation::new(
        Service::for_port(25).unwrap(),
        "192.0.2.25".parse().unwrap(),
        Some(host.to_string()),
    );
    endpoint.reachable = true;
    match leaf {
        Some(leaf) => {
            endpoint.tls = Some(TlsObservation {
                version: Some("TLSv1.3".into()),
                cipher: Some("TLS13_AES_128_GCM_SHA256".into()),
                chain: vec![Der(leaf.to_vec())],
                ..TlsObservation::default()
            });
        }
        None => {
            endpoint.failure = Some(Failure {
                kind: FailureKind::StarttlsNotOffered,
                detail: "no STARTTLS in the EHLO reply".into(),
            });
        }
    }
    Observations {
        aliases: Vec::new(),
        typed: None,
        target: Target::parse(host).unwrap(),
        addresses: vec!["192.0.2.25".parse().unwrap()],
        endpoints: vec![endpoint],
        without_sni: Vec::new(),
        names: Vec::new(),
        ptr: Vec::new(),
        candidates: Vec::new(),
        aia: Vec::new(),
    }
}

fn txt(name: &str, records: &[&str]) -> Validated<String> {
    Validated {
        name: name.to_string(),
        dnssec: DnssecStatus::Indeterminate,
        records: records.iter().map(|r| r.to_string()).collect(),
        failure: records.is_empty().then_some(LookupFailure::NoRecords),
        fault: None,
        detail: None,
    }
}

/// A policy served as senders want it.
fn served(body: &str) -> PolicyFetch {
    PolicyFetch {
        url: format!("https://mta-sts.{DOMAIN}/.well-known/mta-sts.txt"),
        status: Some(200),
        location: None,
        content_type: Some("text/plain".into()),
        body: Some(body.to_string()),
        too_large: false,
        chain: Vec::new(),
        failure: None,
        error: None,
    }
}

fn policy(mode: &str, mx: &[&str]) -> String {
    let mut text = format!("version: STSv1\r\nmode: {mode}\r\n");
    for pattern in mx {
        text.push_str(&format!("mx: {pattern}\r\n"));
    }
    text.push_str("max_age: 604800\r\n");
    text
}

/// A mail domain with `hosts` (name, preference, port 25), MTA-STS `record` and `fetch`, and a
/// TLS-RPT record.
fn domain(
    hosts: Vec<(&str, u16, Observations)>,
    record: &[&str],
    fetch: Option<PolicyFetch>,
) -> DiscoveryObservations {
    let mut mx_record = Record::new(Source::Mx, DOMAIN.to_string());
    let mut mx = Vec::new();
    let mut checks = Vec::new();
    for (name, preference, check) in hosts {
        mx_record.servers.push(ServerEntry {
            protocol: Protocol::Smtp,
            hostname: name.to_string(),
            port: 25,
            security: Security::Starttls,
        });
        mx.push(MxRecord {
            preference,
            exchange: name.to_string(),
        });
        checks.push(check);
    }
    let tlsa = mx
        .iter()
        .map(|r| Validated {
            name: format!("_25._tcp.{}", r.exchange),
            dnssec: DnssecStatus::Indeterminate,
            records: Vec::new(),
            failure: Some(LookupFailure::NoRecords),
            fault: None,
            detail: None,
        })
        .collect();
    DiscoveryObservations {
        email: format!("user@{DOMAIN}"),
        domain: DOMAIN.to_string(),
        records: vec![mx_record],
        hosts: checks,
        unanswered: Vec::new(),
        skipped: Vec::new(),
        guessed: Vec::new(),
        delivery: Some(Box::new(DeliveryObservations {
            domain: DOMAIN.to_string(),
            mx: Validated {
                name: DOMAIN.to_string(),
                dnssec: DnssecStatus::Indeterminate,
                records: mx,
                failure: None,
                fault: None,
                detail: None,
            },
            mta_sts_record: txt(&format!("_mta-sts.{DOMAIN}"), record),
            policy: fetch,
            tlsrpt_record: txt(
                &format!("_smtp._tls.{DOMAIN}"),
                &[&format!("v=TLSRPTv1; rua=mailto:tls@{DOMAIN}")],
            ),
            tlsa,
        })),
    }
}

const RECORD: [&str; 2] = ["v=STSv1; id=20260601", "v=spf1 -all"];

fn judge(observations: &DiscoveryObservations, pki: &Pki) -> DeliveryReport {
    delivery::judge(
        observations.delivery.as_ref().unwrap(),
        observations,
        &pki.anchors,
        NOW,
    )
}

fn codes(report: &DeliveryReport) -> Vec<(Code, Severity)> {
    report
        .problems
        .iter()
        .map(|p| (p.code, p.severity))
        .collect()
}

fn action(report: &DeliveryReport, host: &str, kind: SenderKind) -> SenderAction {
    report
        .mx
        .iter()
        .find(|m| m.host == host)
        .unwrap()
        .action(kind)
}

fn outcome(report: &DeliveryReport, kind: SenderKind) -> SenderAction {
    report
        .senders
        .iter()
        .find(|o| o.sender == kind)
        .unwrap()
        .action
}

#[test]
fn enforce_with_the_certificate_of_another_name_bounces_mail_from_mta_sts_senders() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
        &RECORD,
        Some(served(&policy("enforce", &[MX]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsMxCertificate, Severity::Error)]
    );
    assert!(
        report.summary.starts_with(
            "futz.example enforces MTA-STS and its MX mail.futz.example presents a certificate \
             for luna.hosting.example: Gmail and Microsoft 365 will not deliver to it; mail from \
             them waits and then bounces"
        ),
        "{}",
        report.summary
    );
    let mx = &report.mx[0];
    assert_eq!(mx.certificate, Some(CertificateVerdict::WrongName));
    assert_eq!(mx.presented_names, vec![HOSTING]);
    assert_eq!(mx.policy_patterns, Some(vec![MX.to_string()]));
    assert_eq!(
        action(&report, MX, SenderKind::MtaSts),
        SenderAction::Defers
    );
    assert_eq!(
        action(&report, MX, SenderKind::Opportunistic),
        SenderAction::Delivers
    );
    assert_eq!(outcome(&report, SenderKind::MtaSts), SenderAction::Defers);
    let sources = &mx.verdict(SenderKind::MtaSts).unwrap().sources;
    assert!(
        sources.iter().any(|s| s.contains("support.google.com"))
            && sources
                .iter()
                .any(|s| s.contains("enhancing-mail-flow-with-mta-sts"))
            && sources.iter().any(|s| s.contains("rfc8461#section-4.2")),
        "{sources:?}"
    );
    assert!(
        report.fixes[0].starts_with("Give mail.futz.example a certificate that names"),
        "{:?}",
        report.fixes
    );
    assert!(report.fixes.iter().any(|f| f.contains("mode: testing")));
    // The mail-domain report leads with it.
    let whole = mailtls::diagnose::discovery::judge(&seen, &pki.anchors, NOW);
    assert_eq!(whole.verdict, Verdict::Fail);
    assert_eq!(whole.summary_kind, SummaryKind::InboundRefused);
    assert_eq!(whole.summary, report.summary);
    assert_eq!(whole.fixes.first(), report.fixes.first());
}

#[test]
fn enforce_with_valid_certificates_delivers() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[MX]))))],
        &RECORD,
        Some(served(&policy("enforce", &["*.futz.example"]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Ok, "{:?}", report.problems);
    assert_eq!(report.mta_sts.state, MtaStsState::Enforce);
    assert_eq!(report.tlsrpt.state, TlsRptState::Valid);
    assert_eq!(outcome(&report, SenderKind::MtaSts), SenderAction::Delivers);
    assert!(
        report
            .summary
            .starts_with("Mail to futz.example is delivered over TLS")
    );
}

#[test]
fn enforce_with_one_bad_mx_sends_mail_to_the_other() {
    let pki = Pki::new();
    let seen = domain(
        vec![
            (MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING])))),
            (BACKUP, 20, port25(BACKUP, Some(&pki.leaf(&[BACKUP])))),
        ],
        &RECORD,
        Some(served(&policy("enforce", &["*.futz.example"]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Warn);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsMxCertificate, Severity::Warning)]
    );
    assert!(
        report
            .summary
            .contains("they deliver to backup.futz.example instead"),
        "{}",
        report.summary
    );
    let to = &report
        .senders
        .iter()
        .find(|o| o.sender == SenderKind::MtaSts)
        .unwrap()
        .to;
    assert_eq!(to, &vec![BACKUP.to_string()]);
}

#[test]
fn testing_mode_says_what_would_be_refused_and_refuses_nothing() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
        &RECORD,
        Some(served(&policy("testing", &[MX]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Warn);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsMxCertificate, Severity::Warning)]
    );
    let verdict = report.mx[0].verdict(SenderKind::MtaSts).unwrap();
    assert_eq!(verdict.action, SenderAction::Delivers);
    assert_eq!(verdict.if_enforced, Some(SenderAction::Defers));
    assert!(
        report
            .summary
            .contains("in testing mode they deliver and only send reports"),
        "{}",
        report.summary
    );
    // Not the mail-domain report's lead: no mail is lost.
    let whole = mailtls::diagnose::discovery::judge(&seen, &pki.anchors, NOW);
    assert_ne!(whole.summary_kind, SummaryKind::InboundRefused);
}

#[test]
fn a_wildcard_pattern_does_not_cover_two_labels() {
    let pki = Pki::new();
    let deep = "a.b.futz.example";
    let seen = domain(
        vec![(deep, 10, port25(deep, Some(&pki.leaf(&[deep]))))],
        &RECORD,
        Some(served(&policy("enforce", &["*.futz.example"]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsMxUnlisted, Severity::Error)]
    );
    assert_eq!(report.mx[0].policy_patterns, Some(Vec::new()));
    assert!(
        report.fixes[0].contains("\"mx: a.b.futz.example\""),
        "{:?}",
        report.fixes
    );
}

#[test]
fn an_invalid_pattern_matches_nothing_and_is_said() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[MX]))))],
        &RECORD,
        Some(served(&policy("enforce", &["*.*.example", MX]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsPolicyInvalid, Severity::Warning)]
    );
    assert!(report.problems[0].message.contains("*.*.example"));
    assert_eq!(outcome(&report, SenderKind::MtaSts), SenderAction::Delivers);
}

#[test]
fn no_starttls_under_enforce() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, None))],
        &RECORD,
        Some(served(&policy("enforce", &[MX]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.mx[0].port25, Port25::NoStarttls);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsMxNoStarttls, Severity::Error)]
    );
    assert_eq!(
        action(&report, MX, SenderKind::Opportunistic),
        SenderAction::Delivers
    );
}

/// Every way a policy host answers that senders do not take: the policy is not in force for a
/// sender without it cached, so MTA-STS senders deliver as anyone does.
#[test]
fn answers_senders_do_not_take() {
    let pki = Pki::new();
    let good = policy("enforce", &[MX]);
    let mut redirect = served("");
    redirect.status = Some(301);
    redirect.body = None;
    redirect.location = Some("https://www.futz.example/mta-sts.txt".into());
    let mut missing = served("not found");
    missing.status = Some(404);
    let mut html = served(&good);
    html.content_type = Some("text/html; charset=utf-8".into());
    let mut large = served(&good);
    large.too_large = true;
    let mut down = served("");
    down.status = None;
    down.body = None;
    down.content_type = None;
    down.failure = Some(SourceErrorKind::Unreachable);
    down.error = Some("cannot connect: Connection refused".into());
    let mut badcert = down.clone();
    badcert.failure = Some(SourceErrorKind::BadCertificate);
    badcert.error = Some("the HTTPS certificate is for www.webhost.example".into());
    badcert.chain = vec![Der(pki.leaf(&["www.webhost.example"]))];
    let out_of_range = served(&good.replace("604800", "31557601"));
    for (fetch, code, words) in [
        (
            redirect,
            Code::MtaStsPolicyAnswer,
            "redirect (301 to https://www.futz.example/mta-sts.txt)",
        ),
        (missing, Code::MtaStsPolicyAnswer, "HTTP 404"),
        (html, Code::MtaStsPolicyAnswer, "text/html"),
        (large, Code::MtaStsPolicyAnswer, "64 KiB"),
        (down, Code::MtaStsPolicyUnreachable, "Connection refused"),
        (
            badcert,
            Code::MtaStsPolicyCertificate,
            "www.webhost.example",
        ),
        (out_of_range, Code::MtaStsPolicyInvalid, "31557601"),
    ] {
        let seen = domain(
            vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
            &RECORD,
            Some(fetch),
        );
        let report = judge(&seen, &pki);
        assert_eq!(codes(&report), vec![(code, Severity::Warning)], "{words}");
        let message = &report.problems[0].message;
        assert!(message.contains(words), "{words}: {message}");
        if code != Code::MtaStsPolicyInvalid {
            assert!(
                message.contains("keep applying it until its max_age"),
                "{message}"
            );
        }
        assert_eq!(
            outcome(&report, SenderKind::MtaSts),
            SenderAction::Delivers,
            "{words}"
        );
        assert_eq!(report.summary, *message);
        if code == Code::MtaStsPolicyCertificate {
            assert_eq!(
                report.problems[0].context.presented_names,
                vec!["www.webhost.example"]
            );
        }
    }
}

#[test]
fn two_sts_records_are_no_policy() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
        &["v=STSv1; id=1", "v=STSv1; id=2"],
        Some(served(&policy("enforce", &[MX]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.mta_sts.state, MtaStsState::RecordInvalid);
    assert_eq!(
        codes(&report),
        vec![(Code::MtaStsRecordInvalid, Severity::Warning)]
    );
    assert!(
        report.problems[0]
            .message
            .contains("2 TXT records start with v=STSv1")
    );
    assert_eq!(outcome(&report, SenderKind::MtaSts), SenderAction::Delivers);
}

#[test]
fn without_mta_sts_a_wrong_certificate_costs_no_mail() {
    let pki = Pki::new();
    let mut seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
        &[],
        None,
    );
    if let Some(delivery) = seen.delivery.as_mut() {
        delivery.tlsrpt_record = txt(&format!("_smtp._tls.{DOMAIN}"), &[]);
    }
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Ok);
    assert_eq!(report.mta_sts.state, MtaStsState::NotPublished);
    assert_eq!(codes(&report), vec![(Code::TlsrptMissing, Severity::Info)]);
    for kind in SenderKind::ALL {
        if *kind != SenderKind::Dane {
            assert_eq!(action(&report, MX, *kind), SenderAction::Delivers, "{kind}");
        }
    }
    assert!(
        report
            .summary
            .contains("presents a certificate for luna.hosting.example")
            && report.summary.contains("costs no mail"),
        "{}",
        report.summary
    );
}

#[test]
fn an_invalid_tlsrpt_record_is_a_warning() {
    let pki = Pki::new();
    let mut seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[MX]))))],
        &RECORD,
        Some(served(&policy("enforce", &[MX]))),
    );
    if let Some(delivery) = seen.delivery.as_mut() {
        delivery.tlsrpt_record = txt(
            &format!("_smtp._tls.{DOMAIN}"),
            &["v=TLSRPTv1; rua=ftp://reports.futz.example/"],
        );
    }
    let report = judge(&seen, &pki);
    assert_eq!(
        codes(&report),
        vec![(Code::TlsrptInvalid, Severity::Warning)]
    );
    assert_eq!(report.tlsrpt.state, TlsRptState::Invalid);
}

#[test]
fn an_mx_not_reached_on_port_25_is_unknown() {
    let pki = Pki::new();
    let mut check = port25(MX, None);
    check.endpoints[0].reachable = false;
    check.endpoints[0].failure = Some(Failure {
        kind: FailureKind::Timeout,
        detail: "no answer within 10 s".into(),
    });
    let seen = domain(
        vec![(MX, 10, check)],
        &RECORD,
        Some(served(&policy("enforce", &[MX]))),
    );
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Unknown, "{:?}", report.problems);
    assert_eq!(outcome(&report, SenderKind::MtaSts), SenderAction::Unknown);
    assert!(
        report
            .summary
            .starts_with("Could not check inbound delivery")
    );
}

#[test]
fn saved_observations_judge_the_same_and_old_files_still_load() {
    let pki = Pki::new();
    let seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
        &RECORD,
        Some(served(&policy("enforce", &[MX]))),
    );
    let json = serde_json::to_string(&seen).unwrap();
    let again: DiscoveryObservations = serde_json::from_str(&json).unwrap();
    assert_eq!(again, seen);
    assert_eq!(judge(&again, &pki).summary, judge(&seen, &pki).summary);
    // A file saved before delivery was observed: no "delivery" key at all.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value.as_object_mut().unwrap().remove("delivery");
    let old: DiscoveryObservations = serde_json::from_value(value).unwrap();
    assert!(old.delivery.is_none());
    let whole = mailtls::diagnose::discovery::judge(&old, &pki.anchors, NOW);
    assert!(whole.delivery.is_none());
}

#[test]
fn an_unanswered_mx_lookup_is_unknown_not_no_mx() {
    let pki = Pki::new();
    let mut seen = domain(Vec::new(), &[], None);
    if let Some(delivery) = seen.delivery.as_mut() {
        delivery.mx.failure = Some(LookupFailure::Timeout);
        delivery.mx.detail = Some("DNS lookup of futz.example timed out".into());
    }
    let report = judge(&seen, &pki);
    assert_eq!(report.verdict, Verdict::Unknown);
    assert!(
        report.summary.contains("the MX lookup went unanswered"),
        "{}",
        report.summary
    );
    // No MX at all is a fact: senders use the domain's own address.
    if let Some(delivery) = seen.delivery.as_mut() {
        delivery.mx.failure = Some(LookupFailure::NoRecords);
    }
    let report = judge(&seen, &pki);
    assert!(
        report.summary.contains("has no MX record"),
        "{}",
        report.summary
    );
}

/// `--no-inbound`: nothing observed of what senders see, and the report says so: not checked,
/// never "no MTA-STS"; the enforce-mode refusal it would have found does not lead the report.
#[test]
fn inbound_not_observed_is_said_not_checked() {
    let pki = Pki::new();
    let mut seen = domain(
        vec![(MX, 10, port25(MX, Some(&pki.leaf(&[HOSTING]))))],
        &RECORD,
        Some(served(&policy("enforce", &[MX]))),
    );
    let observed = mailtls::diagnose::discovery::judge(&seen, &pki.anchors, NOW);
    assert_eq!(observed.summary_kind, SummaryKind::InboundRefused);
    seen.delivery = None;
    let report = mailtls::diagnose::discovery::judge(&seen, &pki.anchors, NOW);
    assert!(report.delivery.is_none());
    assert_ne!(report.summary_kind, SummaryKind::InboundRefused);
    let text = mailtls::report::discovery::render(&report);
    let section = text
        .split("Inbound mail (port 25)")
        .nth(1)
        .unwrap_or_else(|| panic!("no inbound section in:\n{text}"));
    // The section: its lines up to the blank line that ends it.
    let section: Vec<&str> = section
        .lines()
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(section.len(), 1, "{text}");
    assert!(section[0].contains("not checked (--no-inbound)"), "{text}");
    for wrong in ["not published", "no MTA-STS", "MTA-STS: "] {
        assert!(!section[0].contains(wrong), "{wrong}: {text}");
    }
}
