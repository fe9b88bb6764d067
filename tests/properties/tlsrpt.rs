//! TLS reports (`analyze::tlsrpt::decode`, summed and judged by `diagnose::tlsrpt`, rendered by
//! `report::tlsrpt` and `report::wire::tlsrpt`).
//!
//! - A report generated here, written in any of the shapes senders use (compact or pretty;
//!   `mx-host` a list, a string or objects; counts as numbers or strings), plain, gzipped, or
//!   in a mail as base64, reads back as written, and its sums are the model's.
//! - Any bytes, and a written report with bytes changed, inserted or cut: read or refused,
//!   never a panic, within the bounded time; what is read has no control characters and no
//!   text longer than the cap; the text and JSON made of it are bounded by the input.

use std::io::Write as _;

use base64::Engine as _;
use mailtls::analyze::tlsrpt::{MAX_TEXT, Named, TlsReport, decode};
use mailtls::diagnose::tlsrpt::{Tally, judge};
use mailtls::run::tlsrpt::TlsrptRun;
use proptest::prelude::*;
use serde_json::{Value, json};

const RESULT_TYPES: &[&str] = &[
    "starttls-not-supported",
    "certificate-host-mismatch",
    "certificate-expired",
    "certificate-not-trusted",
    "validation-failure",
    "tlsa-invalid",
    "dnssec-invalid",
    "dane-required",
    "sts-policy-fetch-error",
    "sts-policy-invalid",
    "sts-webpki-invalid",
    "a-type-of-the-future",
];

/// The model of one policy's part of a report.
#[derive(Debug, Clone)]
struct ModelPolicy {
    policy_type: &'static str,
    domain: String,
    mode: Option<&'static str>,
    mx: Vec<String>,
    successful: u64,
    failed: u64,
    failures: Vec<(usize, String, u64)>,
}

fn host() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}\\.example\\.(com|net)"
}

fn policy() -> impl Strategy<Value = ModelPolicy> {
    (
        prop_oneof![Just("sts"), Just("tlsa"), Just("no-policy-found")],
        host(),
        proptest::option::of(prop_oneof![Just("enforce"), Just("testing"), Just("none")]),
        proptest::collection::vec(host(), 0..3),
        0u64..100_000,
        0u64..1_000,
        proptest::collection::vec((0..RESULT_TYPES.len(), host(), 0u64..500), 0..5),
    )
        .prop_map(
            |(policy_type, domain, mode, mx, successful, failed, failures)| ModelPolicy {
                policy_type,
                domain,
                mode,
                mx,
                successful,
                failed,
                failures,
            },
        )
}

/// How a report is written: the shapes senders differ in.
#[derive(Debug, Clone, Copy)]
struct Style {
    pretty: bool,
    mx_as: u8,
    counts_as_strings: bool,
    packing: u8,
}

fn style() -> impl Strategy<Value = Style> {
    (any::<bool>(), 0u8..3, any::<bool>(), 0u8..3).prop_map(
        |(pretty, mx_as, counts_as_strings, packing)| Style {
            pretty,
            mx_as,
            counts_as_strings,
            packing,
        },
    )
}

fn count(value: u64, style: Style) -> Value {
    if style.counts_as_strings {
        Value::from(value.to_string())
    } else {
        Value::from(value)
    }
}

fn write(org: &str, id: u32, policies: &[ModelPolicy], style: Style) -> Vec<u8> {
    let policies: Vec<Value> = policies
        .iter()
        .map(|p| {
            let mut lines = vec!["version: STSv1".to_string()];
            lines.extend(p.mode.map(|m| format!("mode: {m}")));
            let mx = match style.mx_as {
                0 => json!(p.mx),
                1 => p.mx.first().map_or(Value::Null, |m| json!(m)),
                _ => json!(p.mx.iter().map(|m| json!({"hostname": m})).collect::<Vec<_>>()),
            };
            json!({
                "policy": {"policy-type": p.policy_type, "policy-string": lines, "policy-domain": p.domain, "mx-host": mx},
                "summary": {"total-successful-session-count": count(p.successful, style), "total-failure-session-count": count(p.failed, style)},
                "failure-details": p.failures.iter().map(|(kind, host, sessions)| json!({
                    "result-type": RESULT_TYPES[*kind],
                    "receiving-mx-hostname": host,
                    "sending-mta-ip": "192.0.2.1",
                    "failed-session-count": count(*sessions, style),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let report = json!({
        "organization-name": org,
        "date-range": {"start-datetime": "2026-05-01T00:00:00Z", "end-datetime": "2026-05-01T23:59:59Z"},
        "contact-info": "reports@sender.example",
        "report-id": format!("{id}"),
        "policies": policies,
    });
    let json = if style.pretty {
        serde_json::to_vec_pretty(&report)
    } else {
        serde_json::to_vec(&report)
    }
    .expect("serializes");
    match style.packing {
        0 => json,
        1 => gzip(&json),
        _ => mail(&gzip(&json)),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// The report as a sender mails it (RFC 8460 §5.3).
fn mail(gz: &[u8]) -> Vec<u8> {
    let body = base64::engine::general_purpose::STANDARD.encode(gz);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "From: reports@sender.example\r\nTLS-Report-Domain: example.com\r\n\
         Content-Type: multipart/report; report-type=tlsrpt;\r\n\tboundary=\"b=1\"\r\n\r\n\
         --b=1\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report.\r\n\
         --b=1\r\nContent-Type: application/tlsrpt+gzip;\r\n name=\"x!example.com!1!2.json.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b=1--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// Every text of a report is clean and within the cap.
fn clean(report: &TlsReport) -> Result<(), TestCaseError> {
    let mut texts: Vec<&str> = Vec::new();
    texts.extend(report.organization.as_deref());
    texts.extend(report.contact.as_deref());
    texts.extend(report.report_id.as_deref());
    for policy in &report.policies {
        texts.push(policy.policy_type.as_str());
        texts.extend(policy.policy_domain.as_deref());
        texts.extend(policy.policy_strings.iter().map(String::as_str));
        texts.extend(policy.mx_hosts.iter().map(String::as_str));
        for failure in &policy.failures {
            texts.push(failure.result_type.as_str());
            texts.extend(failure.receiving_mx_hostname.as_deref());
            texts.extend(failure.failure_reason_code.as_deref());
            texts.extend(failure.additional_information.as_deref());
        }
    }
    for text in texts {
        prop_assert!(text.chars().count() <= MAX_TEXT, "{text}");
        prop_assert!(!text.chars().any(char::is_control), "{text:?}");
    }
    Ok(())
}

/// Sums, judges and renders whatever was read; the text and JSON stay within a bound of the
/// input's size.
fn rendered_within_bounds(reports: &[TlsReport], input: usize) -> Result<(), TestCaseError> {
    let mut tally = Tally::default();
    for report in reports {
        tally.add(report);
    }
    let run = TlsrptRun {
        summary: judge(tally),
        files: 1,
        ignored: 0,
        skipped: Vec::new(),
    };
    let text = mailtls::report::tlsrpt::render(&run);
    let json = serde_json::to_string(&mailtls::report::wire::tlsrpt::output(&run)).expect("JSON");
    // Each distinct finding (at least a few bytes of input) gives a few lines of words.
    let bound = 4096 + 200 * input;
    prop_assert!(text.len() <= bound, "{} > {bound}", text.len());
    prop_assert!(json.len() <= bound, "{} > {bound}", json.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A report written in any shape and packing reads back as written; sums are the model's.
    #[test]
    fn written_reports_read_back(
        policies in proptest::collection::vec(policy(), 0..4),
        style in style(),
        org in "[A-Z][a-z]{1,10}( Inc\\.)?",
        id in any::<u32>(),
    ) {
        let bytes = write(&org, id, &policies, style);
        let reports = crate::timed("a report", || decode(&bytes)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(reports.len(), 1);
        let report = &reports[0];
        prop_assert_eq!(report.organization.as_deref(), Some(org.as_str()));
        prop_assert_eq!(report.report_id.clone(), Some(id.to_string()));
        prop_assert_eq!(report.start, Some(1_777_593_600));
        prop_assert_eq!(report.policies.len(), policies.len());
        for (read, model) in report.policies.iter().zip(&policies) {
            prop_assert_eq!(read.policy_type.as_str(), model.policy_type);
            prop_assert_eq!(read.policy_domain.as_deref(), Some(model.domain.as_str()));
            prop_assert_eq!((read.successful, read.failed), (model.successful, model.failed));
            // One string keeps the first; lists keep each host once, in order.
            let mut expected_mx: Vec<String> = Vec::new();
            for host in &model.mx {
                if !expected_mx.contains(host) && (style.mx_as != 1 || expected_mx.is_empty()) {
                    expected_mx.push(host.clone());
                }
            }
            prop_assert_eq!(&read.mx_hosts, &expected_mx);
            if model.policy_type == "sts" {
                prop_assert_eq!(read.sts_mode().map(|m| m.as_str()), model.mode);
            }
            prop_assert_eq!(read.failures.len(), model.failures.len());
            for (failure, (kind, host, sessions)) in read.failures.iter().zip(&model.failures) {
                prop_assert_eq!(failure.result_type.as_str(), RESULT_TYPES[*kind]);
                prop_assert_eq!(matches!(failure.result_type, Named::Known(_)), *kind + 1 < RESULT_TYPES.len());
                prop_assert_eq!(failure.receiving_mx_hostname.as_deref(), Some(host.as_str()));
                prop_assert_eq!(failure.failed_sessions, *sessions);
            }
        }
        // The sums: successes as written; failures per policy the larger of summary and details.
        let mut tally = Tally::default();
        prop_assert!(tally.add(report));
        prop_assert!(!tally.add(report), "the same report-id again is a duplicate");
        let summary = judge(tally);
        let ok: u64 = policies.iter().map(|p| p.successful).sum();
        let failed: u64 = policies.iter().map(|p| p.failed.max(p.failures.iter().map(|f| f.2).sum())).sum();
        prop_assert_eq!(summary.sessions(), (ok, failed));
        let found: u64 = summary.findings.iter().map(|f| f.sessions).sum();
        prop_assert_eq!(found, failed, "every failed session is in a finding");
        prop_assert_eq!(summary.duplicates, 1);
        rendered_within_bounds(&reports, bytes.len())?;
    }

    /// A written report with bytes changed, inserted or cut, and any bytes at all: read or
    /// refused, clean, bounded.
    #[test]
    fn damaged_reports_and_any_bytes(
        policies in proptest::collection::vec(policy(), 1..3),
        style in style(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        noise in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut damaged = write("Sender", 1, &policies, style);
        for (at, byte, how) in edits {
            let at = at.index(damaged.len().max(1)).min(damaged.len());
            match how {
                0 if at < damaged.len() => damaged[at] = byte,
                1 => damaged.insert(at, byte),
                _ => damaged.truncate(at),
            }
        }
        for bytes in [&damaged, &noise] {
            if let Ok(reports) = crate::timed("damaged report", || decode(bytes)) {
                for report in &reports {
                    clean(report)?;
                }
                rendered_within_bounds(&reports, bytes.len())?;
            }
        }
    }

    /// JSON of any shape, with the report's field names in it: read or refused as a report,
    /// never a panic.
    #[test]
    fn any_json_with_report_fields(value in json_value()) {
        let bytes = serde_json::to_vec(&value).expect("serializes");
        if let Ok(reports) = crate::timed("any JSON", || decode(&bytes)) {
            for report in &reports {
                clean(report)?;
            }
            rendered_within_bounds(&reports, bytes.len())?;
        }
    }
}

/// JSON values whose keys are mostly a report's: a report's fields with values of any type.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("policies"),
        Just("policy"),
        Just("policy-type"),
        Just("policy-string"),
        Just("policy-domain"),
        Just("mx-host"),
        Just("summary"),
        Just("total-successful-session-count"),
        Just("total-failure-session-count"),
        Just("failure-details"),
        Just("result-type"),
        Just("failed-session-count"),
        Just("receiving-mx-hostname"),
        Just("organization-name"),
        Just("report-id"),
        Just("date-range"),
        Just("start-datetime"),
        Just("hostname"),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,20}".prop_map(Value::from),
        prop_oneof![
            Just("sts"),
            Just("tlsa"),
            Just("certificate-expired"),
            Just("mode: enforce"),
            Just("12")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::vec((key.clone(), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}
