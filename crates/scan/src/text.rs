//! The scan's text outputs: the report (what to fix first, then counts, then targets), the
//! diff, and the one line per target a scan prints on a pipe.

use std::fmt::Write as _;

use super::record::TargetRecord;
use super::store::ScanInfo;
use super::summary::{Diff, Fleet};
use mailtls_core::analyze::cert::rfc3339;

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

/// The report of a scan.
pub fn report(fleet: &Fleet) -> String {
    let mut out = String::new();
    let scan = &fleet.scan;
    let count = |v: &str| fleet.verdicts.get(v).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "Scan {} ({} targets from {}, started {}): {} fail, {} warn, {} ok, {} not checked.",
        scan.id,
        scan.targets,
        scan.input,
        rfc3339(scan.created_at),
        count("fail"),
        count("warn"),
        count("ok"),
        count("unknown")
    );
    if scan.finished_runs < scan.runs {
        let _ = writeln!(
            out,
            "  (not finished: {} of {} workers reached the end of their share; run the same scan \
             command to continue)",
            scan.finished_runs, scan.runs
        );
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
    if !fleet.causes.is_empty() {
        let _ = writeln!(out, "\nTargets per cause");
        for cause in &fleet.causes {
            let _ = writeln!(out, "  {:>7}  {}", cause.targets, cause.cause);
        }
    }
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
            target.verdict, target.target, target.summary
        );
    }
    out
}

/// What changed between two scans.
pub fn diff(old: &ScanInfo, new: &ScanInfo, diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "From scan {} ({}) to scan {} ({}): {} broke, {} fixed, {} new, {} gone.",
        old.id,
        rfc3339(old.created_at),
        new.id,
        rfc3339(new.created_at),
        diff.broke.len(),
        diff.fixed.len(),
        diff.added.len(),
        diff.removed.len()
    );
    for (title, changes) in [("Broke", &diff.broke), ("Fixed", &diff.fixed)] {
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        for change in changes {
            let mut codes = Vec::new();
            if !change.gained.is_empty() {
                codes.push(format!("now {}", change.gained.join(", ")));
            }
            if !change.lost.is_empty() {
                codes.push(format!("no longer {}", change.lost.join(", ")));
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
