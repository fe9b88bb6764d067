//! Reading a scan back, for reports and diffs: each row into mailtls's vocabularies. A row
//! that cannot be read (a spelling no vocabulary of this mailtls knows, a value of the wrong
//! type) is left out and counted as a store error, never a panic, never a silent gap.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};
use crate::record::{TargetKind, Unchecked};
use mailtls_core::diagnose::discovery::EntryStatus;
use mailtls_core::diagnose::{Code, Severity, Verdict};
use mailtls_core::observation::{Source, SourceErrorKind};

/// A scan in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanInfo {
    /// Its id.
    pub id: String,
    /// When it was started (Unix seconds).
    pub created_at: i64,
    /// Its input: a path, or `-`.
    pub input: String,
    /// Targets committed.
    pub targets: u64,
    /// Workers that started on it, and how many of them finished.
    pub runs: u64,
    /// Workers that finished.
    pub finished_runs: u64,
    /// Lines rejected.
    pub rejected: u64,
}

/// One target's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSummary {
    /// The target.
    pub target: String,
    /// Its line.
    pub line: u64,
    /// Its account.
    pub account: Option<String>,
    /// What it turned out to be.
    pub kind: TargetKind,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its exit status.
    pub exit_code: u8,
    /// The one-line answer.
    pub summary: String,
    /// The first thing to change.
    pub fix: Option<String>,
    /// The verified server name.
    pub recommendation: Option<String>,
    /// Why nothing could be checked, when nothing could.
    pub error: Option<Unchecked>,
}

/// One problem row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemRecord {
    /// The target it belongs to.
    pub target: String,
    /// The problem code.
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// The host it was found on.
    pub server: String,
    /// The port, if any.
    pub port: Option<u16>,
    /// The sources that sent clients to the server, by name.
    pub sources: Vec<Source>,
    /// The names the certificate presents, comma-separated.
    pub presented_names: Option<String>,
    /// A covered name reaching the same server.
    pub suggested_name: Option<String>,
    /// Whether that name was verified on every client port.
    pub verified: bool,
}

/// One discovery entry that is not `works`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRecord {
    /// The target (mail domain or address).
    pub target: String,
    /// The source.
    pub source: Source,
    /// The record or URL.
    pub url_or_record: String,
    /// The name handed out.
    pub hostname: String,
    /// What happens to a client sent there.
    pub status: EntryStatus,
    /// The problem code, or the source's error in words.
    pub detail: Option<String>,
    /// For a source error, its kind.
    pub error: Option<SourceErrorKind>,
    /// A verified name to hand out instead.
    pub instead: Option<String>,
}

impl Store {
    /// Every scan, newest first.
    pub async fn scans(&self) -> Result<Vec<ScanInfo>, StoreError> {
        self.rows(
            sqlx::query(
            "SELECT s.id, s.created_at, s.input, \
             (SELECT COUNT(*) FROM targets t WHERE t.scan_id = s.id), \
             (SELECT COUNT(*) FROM scan_runs r WHERE r.scan_id = s.id), \
             (SELECT COUNT(*) FROM scan_runs r WHERE r.scan_id = s.id AND r.finished_at IS NOT NULL \
              AND r.stopped IS NULL), \
             (SELECT COUNT(*) FROM rejected j WHERE j.scan_id = s.id) \
             FROM scans s ORDER BY s.created_at DESC, s.id",
        ),
            |row| {
                Ok(ScanInfo {
                    id: row.try_get(0)?,
                    created_at: row.try_get(1)?,
                    input: row.try_get(2)?,
                    targets: count(row, 3)?,
                    runs: count(row, 4)?,
                    finished_runs: count(row, 5)?,
                    rejected: count(row, 6)?,
                })
            },
        )
        .await
    }

    /// The scan called `id`, or the newest when `id` is `None`.
    pub async fn scan(&self, id: Option<&str>) -> Result<Option<ScanInfo>, StoreError> {
        let scans = self.scans().await?;
        Ok(match id {
            Some(id) => scans.into_iter().find(|s| s.id == id),
            None => scans.into_iter().next(),
        })
    }

    /// Every target of a scan, in input order.
    pub async fn targets(&self, scan_id: &str) -> Result<Vec<TargetSummary>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT target, line, account, kind, verdict, exit_code, summary, fix, \
                 recommendation, error FROM targets WHERE scan_id = $1 ORDER BY line, target",
            )
            .bind(scan_id.to_string()),
            "targets",
            target_summary,
        )
        .await
    }

    /// The targets of a scan whose verdict is not `ok`, worst first, at most `limit`.
    pub async fn affected(
        &self,
        scan_id: &str,
        limit: i64,
    ) -> Result<Vec<TargetSummary>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT target, line, account, kind, verdict, exit_code, summary, fix, \
                 recommendation, error FROM targets WHERE scan_id = $1 AND verdict <> $2 \
                 ORDER BY exit_code DESC, line, target LIMIT $3",
            )
            .bind(scan_id.to_string())
            .bind(Verdict::Ok.as_str())
            .bind(limit),
            "targets",
            target_summary,
        )
        .await
    }

    /// One target of a scan.
    pub async fn target(
        &self,
        scan_id: &str,
        target: &str,
    ) -> Result<Option<TargetSummary>, StoreError> {
        sqlx::query(
            "SELECT target, line, account, kind, verdict, exit_code, summary, fix, recommendation, \
             error FROM targets WHERE scan_id = $1 AND target = $2",
        )
        .bind(scan_id.to_string())
        .bind(target.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error(&e))?
        .map(|row| self.readable_row(&row, "targets", target_summary))
        .transpose()
    }

    /// How many targets each (server, problem code) affects in a scan, most first, at most
    /// `limit` pairs.
    pub async fn causes(
        &self,
        scan_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, Code, u64)>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT server, code, COUNT(DISTINCT target) AS n FROM problems \
                 WHERE scan_id = $1 AND severity = $2 GROUP BY server, code \
                 ORDER BY n DESC, server, code LIMIT $3",
            )
            .bind(scan_id.to_string())
            .bind(Severity::Error.as_str())
            .bind(limit),
            "problems",
            |row| {
                Ok((
                    row.try_get(0)?,
                    named(row, 1, "code", Code::from_name)?,
                    count(row, 2)?,
                ))
            },
        )
        .await
    }

    /// The problems of one target of a scan.
    pub async fn target_problems(
        &self,
        scan_id: &str,
        target: &str,
    ) -> Result<Vec<ProblemRecord>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT target, code, severity, server, port, source, presented_names, \
                 suggested_name, verified FROM problems WHERE scan_id = $1 AND target = $2 \
                 ORDER BY seq",
            )
            .bind(scan_id.to_string())
            .bind(target.to_string()),
            "problems",
            problem_record,
        )
        .await
    }

    /// Every problem of a scan, by target.
    pub async fn problems(&self, scan_id: &str) -> Result<Vec<ProblemRecord>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT target, code, severity, server, port, source, presented_names, \
                 suggested_name, verified FROM problems WHERE scan_id = $1 ORDER BY target, seq",
            )
            .bind(scan_id.to_string()),
            "problems",
            problem_record,
        )
        .await
    }

    /// The discovery entries of a scan that send clients somewhere that does not work, or
    /// that failed, by target.
    pub async fn discovery_issues(
        &self,
        scan_id: &str,
    ) -> Result<Vec<DiscoveryRecord>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT target, source, url_or_record, hostname, status, detail, error, instead \
                 FROM discovery WHERE scan_id = $1 AND status <> $2 ORDER BY target, seq",
            )
            .bind(scan_id.to_string())
            .bind(EntryStatus::Works.as_str()),
            "discovery",
            |row| {
                Ok(DiscoveryRecord {
                    target: row.try_get(0)?,
                    source: named(row, 1, "source", Source::from_name)?,
                    url_or_record: row.try_get(2)?,
                    hostname: row.try_get(3)?,
                    status: named(row, 4, "status", EntryStatus::from_name)?,
                    detail: row.try_get(5)?,
                    error: named_optional(row, 6, "error", SourceErrorKind::from_name)?,
                    instead: row.try_get(7)?,
                })
            },
        )
        .await
    }

    /// The lines of a scan's input that were not targets: (line, text, reason).
    pub async fn rejected(&self, scan_id: &str) -> Result<Vec<(u64, String, String)>, StoreError> {
        self.rows(
            sqlx::query("SELECT line, text, reason FROM rejected WHERE scan_id = $1 ORDER BY line")
                .bind(scan_id.to_string()),
            |row| Ok((count(row, 0)?, row.try_get(1)?, row.try_get(2)?)),
        )
        .await
    }

    /// The full report of one target, as `check --json` printed it.
    pub async fn report(&self, scan_id: &str, target: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT report FROM observations WHERE scan_id = $1 AND target = $2")
            .bind(scan_id.to_string())
            .bind(target.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(&e))?;
        row.map(|row| row.try_get(0))
            .transpose()
            .map_err(|e| self.error(&e))
    }

    /// Rows counted in `table` for a scan (for tests and summaries).
    pub async fn count_rows(&self, table: Table, scan_id: &str) -> Result<u64, StoreError> {
        let sql = match table {
            Table::Targets => "SELECT COUNT(*) FROM targets WHERE scan_id = $1",
            Table::Endpoints => "SELECT COUNT(*) FROM endpoints WHERE scan_id = $1",
            Table::Problems => "SELECT COUNT(*) FROM problems WHERE scan_id = $1",
            Table::Discovery => "SELECT COUNT(*) FROM discovery WHERE scan_id = $1",
            Table::Observations => "SELECT COUNT(*) FROM observations WHERE scan_id = $1",
            Table::Inbound => "SELECT COUNT(*) FROM inbound WHERE scan_id = $1",
            Table::InboundMx => "SELECT COUNT(*) FROM inbound_mx WHERE scan_id = $1",
        };
        let row = sqlx::query(sql)
            .bind(scan_id.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error(&e))?;
        count(&row, 0).map_err(|e| self.error(&e))
    }
}

/// The tables with rows per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// targets
    Targets,
    /// endpoints
    Endpoints,
    /// problems
    Problems,
    /// discovery
    Discovery,
    /// observations
    Observations,
    /// inbound
    Inbound,
    /// inbound_mx
    InboundMx,
}

/// Why a row cannot be read.
#[derive(Debug)]
pub(super) enum Unreadable {
    /// A column is missing or of another type.
    Column(sqlx::Error),
    /// A spelling no vocabulary of this mailtls knows.
    Unknown {
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
}

impl From<sqlx::Error> for Unreadable {
    fn from(error: sqlx::Error) -> Unreadable {
        Unreadable::Column(error)
    }
}

impl Unreadable {
    /// In words, naming the table and (when it can be read) the row's target.
    pub(super) fn describe(&self, table: &str, row: &AnyRow) -> String {
        let of = row
            .try_get::<String, _>("target")
            .map(|target| format!(" (target {target})"))
            .unwrap_or_default();
        match self {
            Unreadable::Column(error) => format!("a row of {table}{of} cannot be read: {error}"),
            Unreadable::Unknown { column, value } => format!(
                "a row of {table}{of} cannot be read: its {column} {value:?} is not one this \
                 mailtls knows (written by a newer mailtls, or by hand?)"
            ),
        }
    }
}

/// The value of a vocabulary in column `index`, by its stable name.
pub(super) fn named<T>(
    row: &AnyRow,
    index: impl sqlx::ColumnIndex<AnyRow>,
    column: &'static str,
    from_name: fn(&str) -> Option<T>,
) -> Result<T, Unreadable> {
    let value: String = row.try_get(index)?;
    from_name(&value).ok_or(Unreadable::Unknown { column, value })
}

/// Likewise, for a column that may be NULL.
pub(super) fn named_optional<T>(
    row: &AnyRow,
    index: impl sqlx::ColumnIndex<AnyRow>,
    column: &'static str,
    from_name: fn(&str) -> Option<T>,
) -> Result<Option<T>, Unreadable> {
    row.try_get::<Option<String>, _>(index)?
        .map(|value| from_name(&value).ok_or(Unreadable::Unknown { column, value }))
        .transpose()
}

fn target_summary(row: &AnyRow) -> Result<TargetSummary, Unreadable> {
    Ok(TargetSummary {
        target: row.try_get(0)?,
        line: count(row, 1)?,
        account: row.try_get(2)?,
        kind: named(row, 3, "kind", TargetKind::from_name)?,
        verdict: named(row, 4, "verdict", Verdict::from_name)?,
        exit_code: u8::try_from(row.try_get::<i64, _>(5)?).unwrap_or(u8::MAX),
        summary: row.try_get(6)?,
        fix: row.try_get(7)?,
        recommendation: row.try_get(8)?,
        error: named_optional(row, 9, "error", Unchecked::from_name)?,
    })
}

fn problem_record(row: &AnyRow) -> Result<ProblemRecord, Unreadable> {
    let sources = row.try_get::<Option<String>, _>(5)?.unwrap_or_default();
    Ok(ProblemRecord {
        target: row.try_get(0)?,
        code: named(row, 1, "code", Code::from_name)?,
        severity: named(row, 2, "severity", Severity::from_name)?,
        server: row.try_get(3)?,
        port: row
            .try_get::<Option<i64>, _>(4)?
            .and_then(|p| u16::try_from(p).ok()),
        sources: sources
            .split(',')
            .filter(|name| !name.is_empty())
            .map(|name| {
                Source::from_name(name).ok_or_else(|| Unreadable::Unknown {
                    column: "source",
                    value: name.to_string(),
                })
            })
            .collect::<Result<_, _>>()?,
        presented_names: row.try_get(6)?,
        suggested_name: row.try_get(7)?,
        verified: row.try_get::<i64, _>(8)? != 0,
    })
}

fn count(row: &AnyRow, index: usize) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or(0))
}
