use super::*;
use crate::analyze::tlsrpt::{decode, from_json};

fn report(json: &str) -> TlsReport {
    from_json(&serde_json::from_str(json).expect("test JSON")).expect("a report")
}

fn sts(org: &str, id: &str, mode: &str, ok: u64, details: &str) -> TlsReport {
    report(&format!(
        r#"{{"organization-name":"{org}","report-id":"{id}",
        "date-range":{{"start-datetime":"2026-05-0{id}T00:00:00Z","end-datetime":"2026-05-0{id}T23:59:59Z"}},
        "policies":[{{"policy":{{"policy-type":"sts","policy-string":["version: STSv1","mode: {mode}","mx: mx1.example.com","max_age: 604800"],"policy-domain":"example.com"}},
        "summary":{{"total-successful-session-count":{ok},"total-failure-session-count":0}},
        "failure-details":[{details}]}}]}}"#
    ))
}

#[test]
fn sums_per_sender_policy_and_host_and_judges_enforce_as_mail_lost() {
    let mismatch = r#"{"result-type":"certificate-host-mismatch","receiving-mx-hostname":"mx1.example.com","receiving-ip":"192.0.2.10","failed-session-count":12}"#;
    let mut tally = Tally::default();
    assert!(tally.add(&sts("Google Inc.", "1", "enforce", 100, mismatch)));
    assert!(tally.add(&sts("Google Inc.", "2", "enforce", 50, mismatch)));
    assert!(
        !tally.add(&sts("Google Inc.", "2", "enforce", 50, mismatch)),
        "a duplicate"
    );
    assert!(tally.add(&sts("Microsoft Corporation", "3", "enforce", 7, "")));
    let summary = judge(tally);
    assert_eq!(summary.verdict, Verdict::Fail);
    assert_eq!((summary.reports, summary.duplicates), (3, 1));
    assert_eq!(summary.domains, ["example.com"]);
    assert_eq!(summary.senders_with_failures(), 1);
    assert_eq!(summary.sessions(), (157, 24));
    let google = &summary.senders[0];
    assert_eq!(google.organization, "Google Inc.");
    assert_eq!(
        (google.reports, google.successful, google.failed),
        (2, 150, 24)
    );
    assert_eq!(google.start, Some(1_777_593_600));
    let finding = &summary.findings[0];
    assert_eq!(finding.host.as_deref(), Some("mx1.example.com"));
    assert_eq!(finding.consequence, Consequence::NotDelivered);
    assert_eq!(finding.sessions, 24);
    assert_eq!(finding.senders, [("Google Inc.".to_string(), 24)]);
    assert_eq!(finding.receiving_ips, ["192.0.2.10"]);
    let fix = finding.fix.as_deref().unwrap_or_default();
    assert!(
        fix.starts_with("mx1.example.com presents a certificate that does not name it; senders that enforce example.com's MTA-STS policy"),
        "{fix}"
    );
    assert!(
        fix.contains("install a certificate naming mx1.example.com"),
        "{fix}"
    );
    assert_eq!(
        finding.command.as_deref(),
        Some("mailtls check mx1.example.com --ports 25")
    );
}

#[test]
fn testing_mode_and_no_policy_deliver_anyway() {
    let expired = r#"{"result-type":"certificate-expired","receiving-mx-hostname":"mx1.example.com","failed-session-count":3}"#;
    let mut tally = Tally::default();
    tally.add(&sts("Google Inc.", "1", "testing", 10, expired));
    let summary = judge(tally);
    assert_eq!(summary.verdict, Verdict::Warn);
    assert_eq!(
        summary.findings[0].consequence,
        Consequence::DeliveredAnyway
    );
    assert!(
        summary.findings[0]
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("testing mode"))
    );
    let none = report(
        r#"{"organization-name":"Mail.ru","policies":[{"policy":{"policy-type":"no-policy-found","policy-domain":"example.com"},"summary":{"total-successful-session-count":1,"total-failure-session-count":2},
        "failure-details":[{"result-type":"starttls-not-supported","receiving-mx-hostname":"mx2.example.com","failed-session-count":2}]}]}"#,
    );
    let mut tally = Tally::default();
    tally.add(&none);
    let summary = judge(tally);
    assert_eq!(summary.verdict, Verdict::Warn);
    assert!(
        summary.findings[0]
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("plain text"))
    );
}

#[test]
fn policy_failures_are_about_the_domain() {
    // parsedmarc's mail.ru.json: details sum to more than the summary, no host named.
    let mut tally = Tally::default();
    tally.add(&report(
        r#"{"organization-name":"Mail.ru","report-id":"b28254de","policies":[{"policy":{"policy-domain":"example.com","policy-type":"sts"},
        "summary":{"total-failure-session-count":1,"total-successful-session-count":0},
        "failure-details":[{"failed-session-count":1,"failure-reason-code":"bad https response code: 404","result-type":"sts-policy-fetch-error","receiving-mx-hostname":"mx1.example.com"},
        {"failed-session-count":1,"failure-reason-code":"bad https response code: 500","result-type":"sts-policy-fetch-error"}]}]}"#,
    ));
    let summary = judge(tally);
    assert_eq!(summary.verdict, Verdict::Warn);
    assert_eq!(summary.senders[0].failed, 2, "the details' count wins");
    assert_eq!(summary.findings.len(), 1);
    let finding = &summary.findings[0];
    assert_eq!(finding.host, None);
    assert_eq!(finding.consequence, Consequence::PolicyNotApplied);
    assert_eq!(
        finding.command.as_deref(),
        Some("mailtls check example.com")
    );
    let fix = finding.fix.as_deref().unwrap_or_default();
    assert!(
        fix.contains("https://mta-sts.example.com/.well-known/mta-sts.txt"),
        "{fix}"
    );
    assert!(
        fix.contains("bad https response code: 404; bad https response code: 500"),
        "{fix}"
    );
}

#[test]
fn dane_unknown_types_and_undetailed_failures() {
    let mut tally = Tally::default();
    tally.add(&report(
        r#"{"organization-name":"Microsoft Corporation","policies":[
        {"policy":{"policy-type":"tlsa","policy-string":["[\"3 1 1 AB\"]"],"policy-domain":"example.net"},"summary":{"total-successful-session-count":4,"total-failure-session-count":9},
         "failure-details":[{"result-type":"tlsa-invalid","receiving-mx-hostname":"mx.example.net","failed-session-count":5},
                            {"result-type":"brand-new-type","receiving-mx-hostname":"mx.example.net","failed-session-count":1}]},
        {"policy":{"policy-type":"sts","policy-domain":"example.net"},"summary":{"total-failure-session-count":2}}]}"#,
    ));
    let summary = judge(tally);
    assert_eq!(summary.verdict, Verdict::Fail);
    let by = |result: Option<&str>| {
        summary.findings.iter().find(|f| {
            f.result_type.as_ref().map(Named::as_str) == result
                && f.policy_type == Named::Known(PolicyType::Tlsa)
        })
    };
    let tlsa = by(Some("tlsa-invalid")).expect("tlsa-invalid");
    assert_eq!(tlsa.consequence, Consequence::NotDelivered);
    assert_eq!(tlsa.command.as_deref(), Some("mailtls check example.net"));
    let unknown = by(Some("brand-new-type")).expect("kept as written");
    assert_eq!(unknown.fix, None);
    assert_eq!(
        unknown.command.as_deref(),
        Some("mailtls check mx.example.net --ports 25")
    );
    let undetailed = by(None).expect("3 sessions the details do not explain");
    assert_eq!(undetailed.sessions, 3);
    let sts = summary
        .findings
        .iter()
        .find(|f| f.policy_type == Named::Known(PolicyType::Sts))
        .expect("the sts policy's 2 failures");
    assert_eq!(sts.consequence, Consequence::ModeUnknown);
}

#[test]
fn no_failures_is_ok() {
    let mut tally = Tally::default();
    tally.add(&sts("Google Inc.", "1", "enforce", 10, ""));
    let summary = judge(tally);
    assert_eq!(summary.verdict, Verdict::Ok);
    assert!(summary.findings.is_empty());
    let empty = judge(Tally::default());
    assert_eq!((empty.verdict, empty.reports), (Verdict::Ok, 0));
}

#[test]
fn consequences_follow_the_policy() {
    let sts = Named::Known(PolicyType::Sts);
    let mismatch = Named::Known(ResultType::CertificateHostMismatch);
    let fetch = Named::Known(ResultType::StsPolicyFetchError);
    let dane_required = Named::Known(ResultType::DaneRequired);
    let cases = [
        (
            &sts,
            Some(StsMode::Enforce),
            Some(&mismatch),
            Consequence::NotDelivered,
        ),
        (
            &sts,
            Some(StsMode::Testing),
            Some(&mismatch),
            Consequence::DeliveredAnyway,
        ),
        (
            &sts,
            Some(StsMode::None),
            Some(&mismatch),
            Consequence::DeliveredAnyway,
        ),
        (&sts, None, Some(&mismatch), Consequence::ModeUnknown),
        (
            &sts,
            Some(StsMode::Enforce),
            Some(&fetch),
            Consequence::PolicyNotApplied,
        ),
        (
            &Named::Known(PolicyType::Tlsa),
            None,
            Some(&mismatch),
            Consequence::NotDelivered,
        ),
        (
            &Named::Known(PolicyType::NoPolicyFound),
            None,
            Some(&mismatch),
            Consequence::DeliveredAnyway,
        ),
        (
            &Named::Known(PolicyType::NoPolicyFound),
            None,
            Some(&dane_required),
            Consequence::NotDelivered,
        ),
        (
            &Named::Other("future".into()),
            None,
            Some(&mismatch),
            Consequence::Unknown,
        ),
    ];
    for (policy, mode, result, expected) in cases {
        assert_eq!(
            consequence(policy, mode, result),
            expected,
            "{policy:?} {mode:?} {result:?}"
        );
    }
}

#[test]
fn a_gzipped_report_sums_like_its_json() {
    use std::io::Write as _;
    let json = br#"{"organization-name":"Google Inc.","policies":[{"policy":{"policy-type":"no-policy-found"},"summary":{"total-successful-session-count":4}}]}"#;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(json).expect("in memory");
    let reports = decode(&encoder.finish().expect("in memory")).expect("gzip");
    let mut tally = Tally::default();
    tally.add(&reports[0]);
    assert_eq!(judge(tally).sessions(), (4, 0));
}
