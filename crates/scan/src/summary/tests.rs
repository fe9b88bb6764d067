//! Summaries and diffs of rows made by hand.

use super::*;

fn target(name: &str, verdict: &str) -> TargetSummary {
    TargetSummary {
        target: name.to_string(),
        line: 1,
        account: None,
        kind: crate::record::TargetKind::Domain,
        verdict: Verdict::from_name(verdict).expect("a verdict"),
        exit_code: 0,
        summary: String::new(),
        fix: None,
        recommendation: None,
        error: None,
    }
}

fn mismatch(target: &str, server: &str, source: &str) -> ProblemRecord {
    ProblemRecord {
        target: target.to_string(),
        code: Code::NameMismatch,
        severity: Severity::Error,
        server: server.to_string(),
        port: Some(993),
        sources: source
            .split(',')
            .map(|s| Source::from_name(s).expect("a source"))
            .collect(),
        presented_names: Some("luna.hostingco.example".to_string()),
        suggested_name: Some("luna.hostingco.example".to_string()),
        verified: true,
    }
}

/// Their names.
fn names<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

fn scan() -> ScanInfo {
    ScanInfo {
        id: "s".to_string(),
        created_at: 0,
        input: "-".to_string(),
        targets: 0,
        runs: 1,
        finished_runs: 1,
        rejected: 0,
    }
}

#[test]
fn hosting_names_are_grouped_by_server_with_the_name_to_provision() {
    let targets = vec![
        target("a.example", "fail"),
        target("b.example", "fail"),
        target("c.example", "ok"),
    ];
    let problems = vec![
        mismatch("a.example", "mail.a.example", "mx,srv"),
        mismatch("a.example", "mail.a.example", "mx,srv"),
        mismatch("b.example", "mail.b.example", "autoconfig"),
    ];
    let fleet = summarize(
        scan(),
        targets,
        &problems,
        &[],
        Vec::new(),
        Vec::new(),
        StoreErrors::default(),
    );
    assert_eq!(fleet.exit_code, 2);
    let first = &fleet.fixes[0];
    assert_eq!(first.targets, 2, "{first:?}");
    assert_eq!(first.names, ["mail.DOMAIN"]);
    assert_eq!(names(&first.sources), ["autoconfig", "mx", "srv"]);
    assert_eq!(
        first.sentence,
        "2 targets on luna.hostingco.example hand out mail.DOMAIN through autoconfig, MX and \
         SRV records; the certificate covers luna.hostingco.example, verified: provision \
         luna.hostingco.example instead."
    );
    assert_eq!(
        fleet.causes,
        [CauseCount {
            cause: Cause::Problem(Code::NameMismatch),
            targets: 2
        }]
    );
    // Each target carries the causes it is counted under; one with none is absent.
    assert_eq!(names(&fleet.codes["a.example"]), ["name-mismatch"]);
    assert!(!fleet.codes.contains_key("c.example"));
}

#[test]
fn a_targets_codes_put_errors_before_warnings() {
    let mut weak = mismatch("a.example", "mail.a.example", "srv");
    weak.code = Code::WeakCipher;
    weak.severity = Severity::Warning;
    let mut info = weak.clone();
    info.code = Code::NoTls13;
    info.severity = Severity::Info;
    let problems = vec![weak, info, mismatch("a.example", "mail.a.example", "srv")];
    let fleet = summarize(
        scan(),
        vec![target("a.example", "fail")],
        &problems,
        &[],
        Vec::new(),
        Vec::new(),
        StoreErrors::default(),
    );
    assert_eq!(
        names(&fleet.codes["a.example"]),
        ["name-mismatch", "weak-cipher"]
    );
}

#[test]
fn a_diff_names_what_broke_and_what_was_fixed() {
    let old = vec![target("a.example", "ok"), target("b.example", "fail")];
    let new = vec![target("a.example", "fail"), target("b.example", "ok")];
    let new_problems = vec![mismatch("a.example", "mail.a.example", "srv")];
    let old_problems = vec![mismatch("b.example", "mail.b.example", "srv")];
    let rows = |targets, problems| Rows {
        targets,
        problems,
        inbound: &[],
    };
    let diff = diff(
        rows(&old, &old_problems),
        rows(&new, &new_problems),
        StoreErrors::default(),
    );
    assert_eq!(diff.broke.len(), 1);
    assert_eq!(names(&diff.broke[0].gained), ["name-mismatch"]);
    assert_eq!(diff.fixed[0].target, "b.example");
    assert_eq!(diff.exit_code, 2);
    let same = super::diff(
        rows(&new, &new_problems),
        rows(&new, &new_problems),
        StoreErrors::default(),
    );
    assert_eq!(same.exit_code, 0);
    assert!(same.broke.is_empty() && same.fixed.is_empty());
}

#[test]
fn a_domain_whose_mta_sts_or_dane_changed_is_a_change() {
    use mailtls_core::analyze::dane::DaneState;
    use mailtls_core::diagnose::costs_mail::CostAnswer;
    use mailtls_core::diagnose::delivery::{MtaStsState, TlsRptState};
    let inbound = |mta_sts, dane| InboundRecord {
        target: "a.example".to_string(),
        verdict: Verdict::Ok,
        mta_sts,
        policy_problems: Vec::new(),
        dane,
        tlsrpt: TlsRptState::Valid,
        costs_mail: CostAnswer::No,
    };
    let targets = vec![target("a.example", "ok")];
    let before = [inbound(MtaStsState::Testing, Some(DaneState::Matches))];
    let after = [inbound(MtaStsState::Enforce, Some(DaneState::Matches))];
    let rows = |inbound| Rows {
        targets: &targets,
        problems: &[],
        inbound,
    };
    let diff = diff(rows(&before), rows(&after), StoreErrors::default());
    assert!(diff.broke.is_empty() && diff.fixed.is_empty());
    assert_eq!(diff.changed.len(), 1);
    let change = diff.changed[0].inbound.expect("the change");
    assert_eq!(
        change.mta_sts.map(|c| (c.before, c.after)),
        Some((MtaStsState::Testing, MtaStsState::Enforce))
    );
    assert_eq!(change.dane, None);
    // A mode change alone breaks nothing.
    assert_eq!(diff.exit_code, 0);
    assert!(
        super::diff(rows(&after), rows(&after), StoreErrors::default())
            .changed
            .is_empty()
    );
}
