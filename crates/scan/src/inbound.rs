//! A fleet's inbound delivery, from the store's `inbound` rows: how many mail domains have each
//! MTA-STS state, each DANE state and each answer to "can a certificate cost it mail?", and a
//! domain's change of MTA-STS state, DANE or that answer between two scans. Pure: no I/O.

use std::collections::BTreeMap;

use super::store::InboundRecord;
use mailtls_core::analyze::dane::DaneState;
use mailtls_core::diagnose::costs_mail::CostAnswer;
use mailtls_core::diagnose::delivery::MtaStsState;

/// How many mail domains have each value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundCounts {
    /// Per MTA-STS state.
    pub mta_sts: BTreeMap<MtaStsState, u64>,
    /// Per DANE state (domains without MX hosts are not counted).
    pub dane: BTreeMap<DaneState, u64>,
    /// Per answer to "can a certificate cost it mail?".
    pub costs_mail: BTreeMap<CostAnswer, u64>,
}

/// Counts `records`.
pub fn counts(records: &[InboundRecord]) -> InboundCounts {
    let mut counts = InboundCounts::default();
    for record in records {
        *counts.mta_sts.entry(record.mta_sts).or_default() += 1;
        if let Some(dane) = record.dane {
            *counts.dane.entry(dane).or_default() += 1;
        }
        *counts.costs_mail.entry(record.costs_mail).or_default() += 1;
    }
    counts
}

/// A value before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange<T> {
    /// In the older scan.
    pub before: T,
    /// In the newer scan.
    pub after: T,
}

/// What changed in a mail domain's MTA-STS and DANE, and in what they make of its
/// certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundChange {
    /// Its MTA-STS state, when it changed.
    pub mta_sts: Option<StateChange<MtaStsState>>,
    /// Its DANE state, when it changed (`None` within: no MX host).
    pub dane: Option<StateChange<Option<DaneState>>>,
    /// The answer to "can a certificate cost it mail?", when it changed.
    pub costs_mail: Option<StateChange<CostAnswer>>,
}

impl InboundChange {
    /// It costs mail now and did not.
    pub fn costs_mail_now(&self) -> bool {
        self.costs_mail
            .is_some_and(|c| c.after == CostAnswer::Yes && c.before != CostAnswer::Yes)
    }

    /// It cost mail and no longer does.
    pub fn costs_mail_no_longer(&self) -> bool {
        self.costs_mail
            .is_some_and(|c| c.before == CostAnswer::Yes && c.after != CostAnswer::Yes)
    }
}

/// What changed from `before` to `after`; `None` when neither changed, or when one of the scans
/// has no inbound row for the target (a host, or a scan made before mailtls stored them).
pub fn change(
    before: Option<&InboundRecord>,
    after: Option<&InboundRecord>,
) -> Option<InboundChange> {
    let (before, after) = (before?, after?);
    let mta_sts = (before.mta_sts != after.mta_sts).then_some(StateChange {
        before: before.mta_sts,
        after: after.mta_sts,
    });
    let dane = (before.dane != after.dane).then_some(StateChange {
        before: before.dane,
        after: after.dane,
    });
    let costs_mail = (before.costs_mail != after.costs_mail).then_some(StateChange {
        before: before.costs_mail,
        after: after.costs_mail,
    });
    (mta_sts.is_some() || dane.is_some() || costs_mail.is_some()).then_some(InboundChange {
        mta_sts,
        dane,
        costs_mail,
    })
}

/// "MTA-STS testing → enforce; DANE matches → no-match; costs mail no → yes".
pub fn describe(change: &InboundChange) -> String {
    let mut parts = Vec::new();
    if let Some(c) = change.mta_sts {
        parts.push(format!("MTA-STS {} → {}", c.before, c.after));
    }
    if let Some(c) = change.dane {
        let name = |d: Option<DaneState>| d.map_or("none", |d| d.as_str());
        parts.push(format!("DANE {} → {}", name(c.before), name(c.after)));
    }
    if let Some(c) = change.costs_mail {
        parts.push(format!("costs mail {} → {}", c.before, c.after));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtls_core::diagnose::delivery::TlsRptState;
    use mailtls_core::diagnose::{Code, Verdict};

    fn record(target: &str, mta_sts: MtaStsState, dane: Option<DaneState>) -> InboundRecord {
        InboundRecord {
            target: target.to_string(),
            verdict: Verdict::Ok,
            mta_sts,
            policy_problems: vec![Code::MtaStsMxCertificate],
            dane,
            tlsrpt: TlsRptState::Valid,
            costs_mail: CostAnswer::No,
        }
    }

    #[test]
    fn counts_and_changes() {
        let a = record("a.example", MtaStsState::Testing, Some(DaneState::Matches));
        let b = record("b.example", MtaStsState::Enforce, None);
        let counts = counts(&[a.clone(), b.clone()]);
        assert_eq!(counts.mta_sts[&MtaStsState::Testing], 1);
        assert_eq!(counts.mta_sts[&MtaStsState::Enforce], 1);
        assert_eq!(counts.dane.len(), 1);
        assert_eq!(counts.costs_mail[&CostAnswer::No], 2);
        assert_eq!(change(Some(&a), Some(&a)), None);
        assert_eq!(change(None, Some(&a)), None);
        let enforced = InboundRecord {
            mta_sts: MtaStsState::Enforce,
            dane: Some(DaneState::NoMatch),
            ..a.clone()
        };
        let changed = change(Some(&a), Some(&enforced)).expect("a change");
        assert_eq!(
            describe(&changed),
            "MTA-STS testing → enforce; DANE matches → no-match"
        );
        assert!(!changed.costs_mail_now());
        let costly = InboundRecord {
            costs_mail: CostAnswer::Yes,
            ..enforced
        };
        let changed = change(Some(&a), Some(&costly)).expect("a change");
        assert!(changed.costs_mail_now() && !changed.costs_mail_no_longer());
        assert!(describe(&changed).ends_with("; costs mail no → yes"));
    }
}
