//! What changed between two scans: targets that got worse or gained a problem, those that got
//! better or lost one, mail domains whose MTA-STS, DANE or answer to "can a certificate cost it
//! mail?" changed, and targets added or gone. Pure: no I/O.

use std::collections::{BTreeSet, HashMap};

use super::Rows;
use crate::inbound::{self, InboundChange};
use crate::store::{InboundRecord, ProblemRecord, StoreErrors, TargetSummary};
use mailtls_core::diagnose::{Code, Severity, Verdict};
use mailtls_core::exit;

/// What changed between two scans.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diff {
    /// Targets that got worse, or gained a problem: (target, before, after, problems added).
    pub broke: Vec<Change>,
    /// Targets that got better, or lost a problem.
    pub fixed: Vec<Change>,
    /// Targets only in the new scan.
    pub added: Vec<String>,
    /// Targets only in the old scan.
    pub removed: Vec<String>,
    /// Mail domains whose MTA-STS state, DANE or answer to "can a certificate cost it mail?"
    /// changed, their verdict and problem codes alike (and not into or out of `yes`).
    pub changed: Vec<Change>,
    /// The store errors met reading both scans: rows left out because they could not be read
    /// are among them.
    pub store_errors: StoreErrors,
    /// 2 if a target fails that did not, else 1 if one warns that did not, else 3 if a row
    /// could not be read (what it held is not known), else 0.
    pub exit_code: u8,
}

/// One target's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The target.
    pub target: String,
    /// Its verdict before.
    pub before: Verdict,
    /// Its verdict after.
    pub after: Verdict,
    /// Problem codes it gained, by name.
    pub gained: Vec<Code>,
    /// Problem codes it lost, by name.
    pub lost: Vec<Code>,
    /// A mail domain's change of MTA-STS state, DANE or answer to "can it cost mail?".
    pub inbound: Option<InboundChange>,
}

/// What changed from `old` to `new` (targets, their problem rows, the mail domains' MTA-STS
/// and DANE).
pub fn diff(old: Rows<'_>, new: Rows<'_>, store_errors: StoreErrors) -> Diff {
    let (old_problems, new_problems) = (old.problems, new.problems);
    let inbound_of = |rows: Rows<'_>| -> HashMap<String, InboundRecord> {
        rows.inbound
            .iter()
            .map(|r| (r.target.clone(), r.clone()))
            .collect()
    };
    let (old_inbound, new_inbound) = (inbound_of(old), inbound_of(new));
    let (old, new) = (old.targets, new.targets);
    let codes = |problems: &[ProblemRecord]| {
        let mut by_target: HashMap<String, BTreeSet<Code>> = HashMap::new();
        for p in problems.iter().filter(|p| p.severity != Severity::Info) {
            by_target
                .entry(p.target.clone())
                .or_default()
                .insert(p.code);
        }
        by_target
    };
    let named = |codes: BTreeSet<&Code>| {
        let mut codes: Vec<Code> = codes.into_iter().copied().collect();
        codes.sort_by_key(|c| c.as_str());
        codes
    };
    let (old_codes, new_codes) = (codes(old_problems), codes(new_problems));
    let old_by: HashMap<&str, &TargetSummary> =
        old.iter().map(|t| (t.target.as_str(), t)).collect();
    let new_keys: BTreeSet<&str> = new.iter().map(|t| t.target.as_str()).collect();
    let mut diff = Diff::default();
    let empty = BTreeSet::new();
    for after in new {
        let Some(before) = old_by.get(after.target.as_str()) else {
            diff.added.push(after.target.clone());
            continue;
        };
        let was = old_codes.get(&after.target).unwrap_or(&empty);
        let is = new_codes.get(&after.target).unwrap_or(&empty);
        let change = Change {
            target: after.target.clone(),
            before: before.verdict,
            after: after.verdict,
            gained: named(is.difference(was).collect()),
            lost: named(was.difference(is).collect()),
            inbound: inbound::change(
                old_inbound.get(&after.target),
                new_inbound.get(&after.target),
            ),
        };
        let worse = verdict_rank(after.verdict) > verdict_rank(before.verdict);
        let better = verdict_rank(after.verdict) < verdict_rank(before.verdict);
        // A certificate that now costs mail breaks, even where the verdict was already `fail`
        // for clients (a problem's code that turns from warning into error is not gained).
        let costs_now = change.inbound.is_some_and(|i| i.costs_mail_now());
        let costs_no_longer = change.inbound.is_some_and(|i| i.costs_mail_no_longer());
        if worse || (!better && (!change.gained.is_empty() || costs_now)) {
            diff.broke.push(change);
        } else if better || !change.lost.is_empty() || costs_no_longer {
            diff.fixed.push(change);
        } else if change.inbound.is_some() {
            diff.changed.push(change);
        }
    }
    diff.removed = old
        .iter()
        .filter(|t| !new_keys.contains(t.target.as_str()))
        .map(|t| t.target.clone())
        .collect();
    let now_fails = diff.broke.iter().any(|c| c.after == Verdict::Fail)
        || diff.added.iter().any(|t| {
            new.iter()
                .any(|n| &n.target == t && n.verdict == Verdict::Fail)
        });
    diff.exit_code = if now_fails {
        exit::FAIL
    } else if !diff.broke.is_empty() {
        exit::WARN
    } else if store_errors.total() > 0 {
        exit::UNKNOWN
    } else {
        exit::OK
    };
    diff.store_errors = store_errors;
    diff
}

/// ok < unknown < warn < fail.
fn verdict_rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Ok => 0,
        Verdict::Unknown => 1,
        Verdict::Warn => 2,
        Verdict::Fail => 3,
    }
}
