//! The scan's text outputs: the report (its lead: the scan and what to fix first; then counts,
//! then targets), the diff, and the one line per target a scan prints on a pipe.

use std::fmt::Write as _;

use super::record::TargetRecord;
use super::store::{ErrorKind, ScanInfo, StoreErrors};
use super::summary::{Diff, Fleet};
use mailtls_core::analyze::cert::rfc3339;
use mailtls_core::diagnose::{Code, Verdict};

/// One target's line, tab-separated: target, verdict, top problem, summary.
pub fn target_line(record: &TargetRecord) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        record.target,
        record.verdict.as_str(),
        record.headline(),
        record.summary
    )
}

/// The report of a scan: its [`lead`], then targets per cause, the lines that were not
/// targets, and every target.
pub fn report(fleet: &Fleet) -> String {
    let mut out = lead(fleet);
    if !fleet.causes.is_empty() {
        let _ = writeln!(out, "\nTargets per cause");
        for cause in &fleet.causes {
            let _ = writeln!(out, "  {:>7}  {}", cause.targets, cause.cause);
        }
    }
    inbound(&mut out, fleet);
    if !fleet.rejected.is_empty() {
        let _ = writeln!(
            out,
            "\nLines that are not targets ({})",
            fleet.rejected.len()
        );
        for (line, text, reason) in fleet.rejected.iter().take(20) {
            let _ = writeln!(out, "  line {line}: {reason}: {text}");
        }
    }
    let _ = writeln!(out, "\nTargets");
    for target in &fleet.targets {
        let _ = writeln!(
            out,
            "  {:<7} {}  {}",
            target.verdict.as_str(),
            target.target,
            target.summary
        );
    }
    out
}

/// The mail domains' inbound delivery: counts (most first), then per domain its MTA-STS state,
/// DANE, the answer to "can a certificate cost it mail?" and the MTA-STS problems.
fn inbound(out: &mut String, fleet: &Fleet) {
    if fleet.inbound.is_empty() {
        return;
    }
    let counts = &fleet.inbound_counts;
    let _ = writeln!(out, "\nInbound mail (port 25), per mail domain");
    // Most first, as the JSON lists them.
    let line = |mut counts: Vec<(&str, u64)>| {
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        counts
            .into_iter()
            .map(|(name, n)| format!("{n} {name}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "  MTA-STS     {}",
        line(
            counts
                .mta_sts
                .iter()
                .map(|(k, n)| (k.as_str(), *n))
                .collect()
        )
    );
    if !counts.dane.is_empty() {
        let _ = writeln!(
            out,
            "  DANE        {}",
            line(counts.dane.iter().map(|(k, n)| (k.as_str(), *n)).collect())
        );
    }
    let _ = writeln!(
        out,
        "  costs mail  {}",
        line(
            counts
                .costs_mail
                .iter()
                .map(|(k, n)| (k.as_str(), *n))
                .collect()
        )
    );
    let width = fleet
        .inbound
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "  {:<width$}  {:<18}  {:<13}  {:<10}  MTA-STS problems",
        "domain", "MTA-STS", "DANE", "costs mail"
    );
    for record in &fleet.inbound {
        let line = format!(
            "  {:<width$}  {:<18}  {:<13}  {:<10}  {}",
            record.target,
            record.mta_sts.as_str(),
            record.dane.map_or("-", |d| d.as_str()),
            record.costs_mail.as_str(),
            names(&record.policy_problems)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The lead of a scan's report (what `scan` prints at its end on a terminal): the scan in one
/// line, the store errors met, and what to fix first.
pub fn lead(fleet: &Fleet) -> String {
    let mut out = String::new();
    let scan = &fleet.scan;
    let count = |v: Verdict| fleet.verdicts.get(&v).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "Scan {} ({} targets from {}, started {}): {} fail, {} warn, {} ok, {} not checked.",
        scan.id,
        scan.targets,
        scan.input,
        rfc3339(scan.created_at),
        count(Verdict::Fail),
        count(Verdict::Warn),
        count(Verdict::Ok),
        count(Verdict::Unknown)
    );
    if scan.finished_runs < scan.runs {
        let _ = writeln!(
            out,
            "  (not finished: {} of {} workers reached the end of their share; run the same scan \
             command to continue)",
            scan.finished_runs, scan.runs
        );
    }
    if let Some(errors) = store_errors(&fleet.store_errors) {
        let _ = writeln!(out, "  {errors}:");
        for words in &fleet.store_errors.first {
            let _ = writeln!(out, "    {words}");
        }
    }
    let _ = writeln!(out);
    if fleet.fixes.is_empty() {
        let _ = writeln!(out, "Nothing to fix.");
    } else {
        let _ = writeln!(out, "What to fix, most domains first");
        for fix in &fleet.fixes {
            let _ = writeln!(out, "  → {}", fix.sentence);
            if !fix.examples.is_empty() {
                let more = fix.targets.saturating_sub(fix.examples.len() as u64);
                let _ = writeln!(
                    out,
                    "    e.g. {}{}",
                    fix.examples.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    out
}

/// "3 store errors (2 rows left out: they could not be read)", or `None` when there were none.
pub fn store_errors(errors: &StoreErrors) -> Option<String> {
    let total = errors.total();
    if total == 0 {
        return None;
    }
    let mut words = format!("{total} store error{}", if total == 1 { "" } else { "s" });
    match errors.count(ErrorKind::Unreadable) {
        0 => {}
        1 => words.push_str(" (1 row left out: it could not be read)"),
        n => words.push_str(&format!(" ({n} rows left out: they could not be read)")),
    }
    Some(words)
}

/// What changed between two scans.
pub fn diff(old: &ScanInfo, new: &ScanInfo, diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "From scan {} ({}) to scan {} ({}): {} broke, {} fixed, {} changed, {} new, {} gone.",
        old.id,
        rfc3339(old.created_at),
        new.id,
        rfc3339(new.created_at),
        diff.broke.len(),
        diff.fixed.len(),
        diff.changed.len(),
        diff.added.len(),
        diff.removed.len()
    );
    if let Some(errors) = store_errors(&diff.store_errors) {
        let _ = writeln!(out, "  {errors}:");
        for words in &diff.store_errors.first {
            let _ = writeln!(out, "    {words}");
        }
    }
    for (title, changes) in [
        ("Broke", &diff.broke),
        ("Fixed", &diff.fixed),
        ("Changed (MTA-STS or DANE)", &diff.changed),
    ] {
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        for change in changes {
            let mut codes = Vec::new();
            if !change.gained.is_empty() {
                codes.push(format!("now {}", names(&change.gained)));
            }
            if !change.lost.is_empty() {
                codes.push(format!("no longer {}", names(&change.lost)));
            }
            if let Some(inbound) = &change.inbound {
                codes.push(crate::inbound::describe(inbound));
            }
            let _ = writeln!(
                out,
                "  {}: {} → {}{}",
                change.target,
                change.before,
                change.after,
                if codes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", codes.join("; "))
                }
            );
        }
    }
    for (title, targets) in [("New", &diff.added), ("Gone", &diff.removed)] {
        if !targets.is_empty() {
            let _ = writeln!(out, "\n{title}: {}", targets.join(", "));
        }
    }
    out
}

/// [`store_errors`] and the first in words, for one line: "2 store errors; the first: ...".
pub fn store_errors_in_brief(errors: &StoreErrors) -> Option<String> {
    let words = store_errors(errors)?;
    Some(match errors.first.first() {
        Some(first) => format!("{words}; the first: {first}"),
        None => words,
    })
}

/// "expired, unknown-ca".
fn names(codes: &[Code]) -> String {
    codes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::TargetKind;
    use crate::store::TargetSummary;

    fn fleet(verdict: Verdict, store_errors: StoreErrors) -> Fleet {
        let scan = ScanInfo {
            id: "s".to_string(),
            created_at: 0,
            input: "-".to_string(),
            targets: 1,
            runs: 1,
            finished_runs: 1,
            rejected: 0,
        };
        let target = TargetSummary {
            target: "a.example".to_string(),
            line: 1,
            account: None,
            kind: TargetKind::Domain,
            verdict,
            exit_code: verdict.exit_code(),
            summary: "All good.".to_string(),
            fix: None,
            recommendation: None,
            error: None,
        };
        crate::summary::summarize(
            scan,
            vec![target],
            &[],
            &[],
            Vec::new(),
            Vec::new(),
            store_errors,
        )
    }

    #[test]
    fn the_report_is_its_lead_then_the_rest() {
        let fleet = fleet(Verdict::Ok, StoreErrors::default());
        let (lead, report) = (lead(&fleet), report(&fleet));
        assert!(report.starts_with(&lead), "{report}");
        assert!(lead.ends_with("Nothing to fix.\n"), "{lead}");
        // The verdict column keeps its width.
        assert!(
            report.ends_with("\nTargets\n  ok      a.example  All good.\n"),
            "{report}"
        );
        assert!(!report.contains("store error"));
    }

    #[test]
    fn store_errors_follow_the_first_line_and_make_the_status_3() {
        let errors = StoreErrors {
            counts: vec![(ErrorKind::Locked, 1), (ErrorKind::Unreadable, 2)],
            first: vec!["db is locked".to_string()],
        };
        let fleet = fleet(Verdict::Ok, errors.clone());
        assert_eq!(fleet.exit_code, mailtls_core::exit::UNKNOWN);
        let lead = lead(&fleet);
        let lines: Vec<&str> = lead.lines().collect();
        assert_eq!(
            lines[1..3],
            [
                "  3 store errors (2 rows left out: they could not be read):",
                "    db is locked"
            ]
        );
        assert_eq!(
            store_errors_in_brief(&errors).as_deref(),
            Some(
                "3 store errors (2 rows left out: they could not be read); the first: db is locked"
            )
        );
    }
}
