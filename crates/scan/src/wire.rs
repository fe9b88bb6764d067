//! The scan's JSON outputs, stable and schema-checked like the others (docs/json.md,
//! docs/schema/scan-*.json): one `scan-target` object per line of `scan --json-lines`, the
//! `scan-report` of `scan report --json`, the `scan-diff` of `scan diff --json`.

use schemars::JsonSchema;
use serde::Serialize;

use super::inbound::StateChange;
use super::record::{self, TargetRecord, Unchecked};
use super::store::{ErrorKind, InboundRecord, ScanInfo, StoreErrors, TargetSummary};
use super::summary::{Cause, Change, Diff, Fleet};
use mailtls_core::analyze::cert::rfc3339;
use mailtls_core::analyze::dane::DaneState;
use mailtls_core::diagnose::costs_mail::CostAnswer;
use mailtls_core::diagnose::delivery::{MtaStsState, TlsRptState};
use mailtls_core::diagnose::{Code, Severity, Verdict};
use mailtls_core::observation::Source;
use mailtls_core::report::wire::{self, Header, Kind};

/// One target's result, as `scan --json-lines` streams it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetLine {
    /// Schema version, kind (`scan-target`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// The scan's id.
    pub scan: String,
    /// The target's line in the input.
    pub line: u64,
    /// The target, normalised.
    pub target: String,
    /// The account column (CSV), or null.
    pub account: Option<String>,
    /// `host`, `domain`, or `none` when nothing could be checked.
    pub target_kind: record::TargetKind,
    /// ok, warn, fail or unknown.
    pub verdict: Verdict,
    /// The exit status `check` gives it.
    pub exit_code: u8,
    /// The answer in one sentence.
    pub summary: String,
    /// The first thing to change, or null.
    pub fix: Option<String>,
    /// The verified server name to use, or null.
    pub recommendation: Option<String>,
    /// Why nothing could be checked (`no-such-name`, `dns-timeout`, `dns-failed`), or null.
    pub error: Option<Unchecked>,
    /// Every problem found: code, severity, the server, the port, the sources.
    pub problems: Vec<ProblemLine>,
    /// A mail domain's inbound delivery (MTA-STS, DANE); null for a host, or when nothing
    /// could be checked.
    pub inbound: Option<InboundLine>,
    /// The full report, exactly as `mailtls check TARGET --json` prints it; null when nothing
    /// could be checked.
    #[schemars(with = "Option<wire::check::CheckOutput>")]
    pub report: Option<serde_json::Value>,
}

/// One problem of a target.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProblemLine {
    /// The problem code (docs/json.md).
    pub code: Code,
    /// error, warning or info.
    pub severity: Severity,
    /// The host it was found on.
    pub server: String,
    /// The port, or null for a problem of the server as a whole.
    pub port: Option<u16>,
    /// The discovery sources that sent clients to the server, comma-separated, or null.
    pub source: Option<String>,
}

/// A mail domain's inbound delivery, in a few stable values.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InboundLine {
    /// Inbound delivery's verdict (`fail`: a kind of sender bounces the domain's mail).
    pub verdict: Verdict,
    /// MTA-STS as a sender without a cached policy finds it: `enforce`, `testing`, `none` (the
    /// policy's mode), `not-published`, `record-invalid`, `policy-unavailable`,
    /// `policy-invalid`, `not-checked`.
    pub mta_sts: MtaStsState,
    /// The MTA-STS problems (record, policy host, policy, MX hosts under it), by code.
    pub policy_problems: Vec<Code>,
    /// The domain's DANE, the worst of its MX hosts' (`bogus`, `no-match`, `unusable`,
    /// `unknown`), else `matches`, `insecure` or `not-published`; null without an MX host.
    pub dane: Option<DaneState>,
    /// The `_smtp._tls` record: `not-published`, `valid`, `invalid`, `not-checked`.
    pub tlsrpt: TlsRptState,
    /// Can a certificate warning cost the domain mail? `yes`, `no`, `not-yet`, `unknown`.
    pub costs_mail: CostAnswer,
}

impl From<&InboundRecord> for InboundLine {
    fn from(r: &InboundRecord) -> InboundLine {
        InboundLine {
            verdict: r.verdict,
            mta_sts: r.mta_sts,
            policy_problems: r.policy_problems.clone(),
            dane: r.dane,
            tlsrpt: r.tlsrpt,
            costs_mail: r.costs_mail,
        }
    }
}

impl From<&record::InboundRow> for InboundLine {
    fn from(r: &record::InboundRow) -> InboundLine {
        InboundLine {
            verdict: r.verdict,
            mta_sts: r.mta_sts,
            policy_problems: r.policy_problems.clone(),
            dane: r.dane,
            tlsrpt: r.tlsrpt,
            costs_mail: r.costs_mail,
        }
    }
}

/// The `scan-target` line of a record.
pub fn target_line(scan: &str, record: &TargetRecord) -> TargetLine {
    TargetLine {
        header: Header::new(Kind::ScanTarget),
        scan: scan.to_string(),
        line: record.line,
        target: record.target.clone(),
        account: record.account.clone(),
        target_kind: record.kind,
        verdict: record.verdict,
        exit_code: record.exit_code,
        summary: record.summary.clone(),
        fix: record.fix.clone(),
        recommendation: record.recommendation.clone(),
        error: record.error,
        problems: record
            .problems
            .iter()
            .map(|p| ProblemLine {
                code: p.code,
                severity: p.severity,
                server: p.server.clone(),
                port: p.port,
                source: (!p.sources.is_empty()).then(|| {
                    p.sources
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                }),
            })
            .collect(),
        inbound: record.inbound.as_ref().map(InboundLine::from),
        report: record
            .report
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
    }
}

/// `scan report --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportOutput {
    /// Schema version, kind (`scan-report`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// The scan.
    pub scan: ScanLine,
    /// 2 if a target fails, else 1 if one warns, else 3 if one could not be checked, else 0.
    pub exit_code: u8,
    /// Targets per verdict.
    pub verdicts: Verdicts,
    /// What to fix, most important first.
    pub fixes: Vec<FixLine>,
    /// Targets per cause, most first.
    pub causes: Vec<CauseLine>,
    /// Every target, in input order.
    pub targets: Vec<TargetRow>,
    /// Lines of the input that were not targets.
    pub rejected: Vec<RejectedLine>,
    /// How many mail domains have each MTA-STS state, DANE state and answer to "can a
    /// certificate cost it mail?".
    pub inbound: InboundCountsLine,
    /// The store errors met reading the scan (rows that could not be read are left out of
    /// everything above, and counted here).
    pub store_errors: StoreErrorsLine,
}

/// Mail domains per inbound value, most first (values with none left out).
#[derive(Debug, Serialize, JsonSchema)]
pub struct InboundCountsLine {
    /// Per MTA-STS state.
    pub mta_sts: Vec<Count<MtaStsState>>,
    /// Per DANE state (domains without an MX host not counted).
    pub dane: Vec<Count<DaneState>>,
    /// Per answer to "can a certificate cost it mail?".
    pub costs_mail: Vec<Count<CostAnswer>>,
}

/// How many mail domains have a value.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Count<T> {
    /// The value.
    pub value: T,
    /// How many mail domains.
    pub targets: u64,
}

fn counts<T: Copy>(map: &std::collections::BTreeMap<T, u64>) -> Vec<Count<T>> {
    let mut out: Vec<Count<T>> = map
        .iter()
        .map(|(value, n)| Count {
            value: *value,
            targets: *n,
        })
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.targets));
    out
}

/// The store errors met.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StoreErrorsLine {
    /// How many in all (0: none).
    pub total: u64,
    /// How many were rows left out because they could not be read: a spelling this mailtls
    /// does not know (written by a newer mailtls, or by hand), or a value of the wrong type.
    pub unreadable_rows: u64,
    /// The first few, in words.
    pub first: Vec<String>,
}

impl From<&StoreErrors> for StoreErrorsLine {
    fn from(errors: &StoreErrors) -> StoreErrorsLine {
        StoreErrorsLine {
            total: errors.total(),
            unreadable_rows: errors.count(ErrorKind::Unreadable),
            first: errors.first.clone(),
        }
    }
}

/// A scan's identity and progress.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanLine {
    /// Its id.
    pub id: String,
    /// When it started, RFC 3339.
    pub created_at: String,
    /// Its input: a path, or `-`.
    pub input: String,
    /// Targets checked.
    pub targets: u64,
    /// Workers that started on it.
    pub runs: u64,
    /// Workers that reached the end of their share.
    pub finished_runs: u64,
}

/// Targets per verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Verdicts {
    /// No problem.
    pub ok: u64,
    /// Warnings only.
    pub warn: u64,
    /// A problem that makes clients warn or fail.
    pub fail: u64,
    /// Could not be checked.
    pub unknown: u64,
}

/// One group of targets sharing a cause on a server.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FixLine {
    /// The problem code; `source-bad-certificate`, `source-bad-document` or `plaintext` for
    /// what a discovery source hands out; `no-such-name`, `dns-timeout` or `dns-failed` for
    /// targets that could not be checked.
    pub cause: String,
    /// error or warning.
    pub severity: Severity,
    /// The server: the names its certificate presents, else its host name.
    pub server: String,
    /// A name on the certificate verified on every client port: provision it.
    pub verified_name: Option<String>,
    /// How many targets.
    pub targets: u64,
    /// The names handed out, the target's domain written DOMAIN.
    pub names: Vec<String>,
    /// The discovery sources that handed them out.
    pub sources: Vec<Source>,
    /// A few of the targets.
    pub examples: Vec<String>,
    /// The group in one sentence, with what to do.
    pub sentence: String,
}

/// Targets per cause.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CauseLine {
    /// The cause, as in [`FixLine::cause`].
    pub cause: String,
    /// How many targets have it.
    pub targets: u64,
}

/// One target in a report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetRow {
    /// The target.
    pub target: String,
    /// Its line in the input.
    pub line: u64,
    /// Its account, or null.
    pub account: Option<String>,
    /// ok, warn, fail or unknown.
    pub verdict: Verdict,
    /// Its exit status.
    pub exit_code: u8,
    /// The answer in one sentence.
    pub summary: String,
    /// The first thing to change, or null.
    pub fix: Option<String>,
    /// The verified server name, or null.
    pub recommendation: Option<String>,
    /// Its causes, as in [`FixLine::cause`]: errors first, then warnings (empty: none).
    pub codes: Vec<String>,
    /// A mail domain's inbound delivery (MTA-STS, DANE); null for a host.
    pub inbound: Option<InboundLine>,
}

/// A line that was not a target.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RejectedLine {
    /// Its number.
    pub line: u64,
    /// Its text (cut).
    pub text: String,
    /// Why.
    pub reason: String,
}

/// The JSON form of a summary.
pub fn report(fleet: &Fleet) -> ReportOutput {
    let count = |v: Verdict| fleet.verdicts.get(&v).copied().unwrap_or(0);
    ReportOutput {
        header: Header::new(Kind::ScanReport),
        scan: scan_line(&fleet.scan),
        exit_code: fleet.exit_code,
        verdicts: Verdicts {
            ok: count(Verdict::Ok),
            warn: count(Verdict::Warn),
            fail: count(Verdict::Fail),
            unknown: count(Verdict::Unknown),
        },
        fixes: fleet
            .fixes
            .iter()
            .map(|f| FixLine {
                cause: f.cause.as_str().to_string(),
                severity: f.severity,
                server: f.server.clone(),
                verified_name: f.verified_name.clone(),
                targets: f.targets,
                names: f.names.clone(),
                sources: f.sources.clone(),
                examples: f.examples.clone(),
                sentence: f.sentence.clone(),
            })
            .collect(),
        causes: fleet
            .causes
            .iter()
            .map(|c| CauseLine {
                cause: c.cause.as_str().to_string(),
                targets: c.targets,
            })
            .collect(),
        targets: fleet
            .targets
            .iter()
            .map(|t| {
                target_row(
                    t,
                    fleet.codes.get(&t.target),
                    fleet.inbound.iter().find(|r| r.target == t.target),
                )
            })
            .collect(),
        rejected: fleet
            .rejected
            .iter()
            .map(|(line, text, reason)| RejectedLine {
                line: *line,
                text: text.clone(),
                reason: reason.clone(),
            })
            .collect(),
        inbound: InboundCountsLine {
            mta_sts: counts(&fleet.inbound_counts.mta_sts),
            dane: counts(&fleet.inbound_counts.dane),
            costs_mail: counts(&fleet.inbound_counts.costs_mail),
        },
        store_errors: StoreErrorsLine::from(&fleet.store_errors),
    }
}

impl From<&ScanInfo> for ScanLine {
    fn from(scan: &ScanInfo) -> ScanLine {
        scan_line(scan)
    }
}

fn scan_line(scan: &ScanInfo) -> ScanLine {
    ScanLine {
        id: scan.id.clone(),
        created_at: rfc3339(scan.created_at),
        input: scan.input.clone(),
        targets: scan.targets,
        runs: scan.runs,
        finished_runs: scan.finished_runs,
    }
}

fn target_row(
    t: &TargetSummary,
    codes: Option<&Vec<Cause>>,
    inbound: Option<&InboundRecord>,
) -> TargetRow {
    TargetRow {
        target: t.target.clone(),
        line: t.line,
        account: t.account.clone(),
        verdict: t.verdict,
        exit_code: t.exit_code,
        summary: t.summary.clone(),
        fix: t.fix.clone(),
        recommendation: t.recommendation.clone(),
        codes: codes
            .into_iter()
            .flatten()
            .map(|c| c.as_str().to_string())
            .collect(),
        inbound: inbound.map(InboundLine::from),
    }
}

/// `scan diff --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffOutput {
    /// Schema version, kind (`scan-diff`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// The older scan.
    pub old: ScanLine,
    /// The newer scan.
    pub new: ScanLine,
    /// 2 if a target fails that did not, else 1 if one got worse, else 3 if a row could not be
    /// read, else 0.
    pub exit_code: u8,
    /// Targets that got worse or gained a problem.
    pub broke: Vec<ChangeLine>,
    /// Targets that got better or lost a problem.
    pub fixed: Vec<ChangeLine>,
    /// Targets only in the new scan.
    pub added: Vec<String>,
    /// Targets only in the old scan.
    pub removed: Vec<String>,
    /// Mail domains whose MTA-STS state, DANE or answer to "can a certificate cost it mail?"
    /// changed, verdict and problem codes alike.
    pub changed: Vec<ChangeLine>,
    /// The store errors met reading both scans (rows that could not be read are left out of
    /// everything above, and counted here).
    pub store_errors: StoreErrorsLine,
}

/// One target's change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeLine {
    /// The target.
    pub target: String,
    /// Its verdict before.
    pub before: Verdict,
    /// Its verdict after.
    pub after: Verdict,
    /// Problem codes it gained.
    pub gained: Vec<Code>,
    /// Problem codes it lost.
    pub lost: Vec<Code>,
    /// Its MTA-STS state before and after, when it changed (both scans having the domain's
    /// inbound delivery).
    pub mta_sts: Option<StateChangeLine<MtaStsState>>,
    /// Its DANE before and after (null within: no MX host), when it changed.
    pub dane: Option<StateChangeLine<Option<DaneState>>>,
    /// Its answer to "can a certificate cost it mail?" before and after, when it changed.
    pub costs_mail: Option<StateChangeLine<CostAnswer>>,
}

/// A value before and after.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StateChangeLine<T> {
    /// In the older scan.
    pub before: T,
    /// In the newer scan.
    pub after: T,
}

impl<T: Copy> From<StateChange<T>> for StateChangeLine<T> {
    fn from(c: StateChange<T>) -> StateChangeLine<T> {
        StateChangeLine {
            before: c.before,
            after: c.after,
        }
    }
}

/// The JSON form of a diff.
pub fn diff(old: &ScanInfo, new: &ScanInfo, diff: &Diff) -> DiffOutput {
    let change = |c: &Change| ChangeLine {
        target: c.target.clone(),
        before: c.before,
        after: c.after,
        gained: c.gained.clone(),
        lost: c.lost.clone(),
        mta_sts: c.inbound.and_then(|i| i.mta_sts).map(StateChangeLine::from),
        dane: c.inbound.and_then(|i| i.dane).map(StateChangeLine::from),
        costs_mail: c
            .inbound
            .and_then(|i| i.costs_mail)
            .map(StateChangeLine::from),
    };
    DiffOutput {
        header: Header::new(Kind::ScanDiff),
        old: scan_line(old),
        new: scan_line(new),
        exit_code: diff.exit_code,
        broke: diff.broke.iter().map(change).collect(),
        fixed: diff.fixed.iter().map(change).collect(),
        added: diff.added.clone(),
        removed: diff.removed.clone(),
        changed: diff.changed.iter().map(change).collect(),
        store_errors: StoreErrorsLine::from(&diff.store_errors),
    }
}

/// The scan outputs' schemas, by the name `mailtls schema` knows them by.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("scan-target", wire::schema::<TargetLine>()),
        ("scan-report", wire::schema::<ReportOutput>()),
        ("scan-diff", wire::schema::<DiffOutput>()),
        ("scan-status", wire::schema::<super::status::StatusOutput>()),
    ]
}
