//! Single checks asked of `mailtls serve`, in the same store as scans: a row written when a
//! check is accepted and again when it is done, so a permalink works on every instance.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::read::{Unreadable, named, named_optional};
use super::{Store, StoreError};
use mailtls_core::diagnose::Verdict;
use mailtls_core::vocabulary::vocabulary;

vocabulary! {
    /// Where a check stands.
    pub enum CheckState {
        /// Accepted, not started.
        Queued => "queued",
        /// Running.
        Running => "running",
        /// Finished: `report` holds the result.
        Done => "done",
        /// Could not run: `error` says why.
        Failed => "failed",
    }
}

impl CheckState {
    /// Whether the check has ended (done or failed).
    pub fn ended(self) -> bool {
        matches!(self, CheckState::Done | CheckState::Failed)
    }
}

/// One check's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    /// Its id (random, unguessable: it is the permalink).
    pub id: String,
    /// What was checked.
    pub target: String,
    /// Where it stands.
    pub state: CheckState,
    /// Accepted at (Unix seconds).
    pub created_at: i64,
    /// Finished at.
    pub finished_at: Option<i64>,
    /// Its verdict, when done.
    pub verdict: Option<Verdict>,
    /// The page's model (JSON), when done.
    pub page: Option<String>,
    /// The check's JSON output, when done.
    pub report: Option<String>,
    /// Why it could not run, when failed (JSON: code and message).
    pub error: Option<String>,
    /// The options it runs under: `ObserveOptions::fingerprint` of the instance that accepted
    /// it, then of the one that ran it (empty for rows older than the column).
    pub options: String,
}

impl Store {
    /// Records a check accepted by `owner` (the instance), with the options it will run under.
    pub async fn insert_check(&self, row: &CheckRow, owner: &str) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO checks (id, target, state, created_at, owner, options) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(row.id.clone())
            .bind(row.target.clone())
            .bind(CheckState::Queued.as_str())
            .bind(row.created_at)
            .bind(owner.to_string())
            .bind(row.options.clone()),
        )
        .await
        .map(drop)
    }

    /// Marks a check as running.
    pub async fn start_check(&self, id: &str) -> Result<(), StoreError> {
        self.execute(
            sqlx::query("UPDATE checks SET state = $2 WHERE id = $1 AND state = $3")
                .bind(id.to_string())
                .bind(CheckState::Running.as_str())
                .bind(CheckState::Queued.as_str()),
        )
        .await
        .map(drop)
    }

    /// Records a check's end: `done` with its verdict, page and report, or `failed` with its
    /// error.
    pub async fn finish_check(&self, row: &CheckRow) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "UPDATE checks SET state = $2, finished_at = $3, verdict = $4, page = $5, \
                 report = $6, error = $7, options = $8 WHERE id = $1",
            )
            .bind(row.id.clone())
            .bind(row.state.as_str())
            .bind(row.finished_at)
            .bind(row.verdict.map(|v| v.as_str()))
            .bind(row.page.clone())
            .bind(row.report.clone())
            .bind(row.error.clone())
            .bind(row.options.clone()),
        )
        .await
        .map(drop)
    }

    /// One check, by id.
    pub async fn check(&self, id: &str) -> Result<Option<CheckRow>, StoreError> {
        sqlx::query(
            "SELECT id, target, state, created_at, finished_at, verdict, page, report, error, \
             options FROM checks WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error(&e))?
        .map(|row| self.readable_row(&row, "checks", check_row))
        .transpose()
    }

    /// Checks left `queued` or `running` by a process that stopped, to be run again: those of
    /// `owner` (this instance's previous process), when given, and anyone's accepted before
    /// `abandoned_before` (Unix seconds). At most `limit`, oldest first.
    pub async fn unfinished_checks(
        &self,
        owner: Option<&str>,
        abandoned_before: i64,
        limit: i64,
    ) -> Result<Vec<CheckRow>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT id, target, state, created_at, finished_at, verdict, page, report, error, \
                 options FROM checks WHERE state IN ($1, $2) \
                 AND (owner = $3 OR created_at < $4) ORDER BY created_at LIMIT $5",
            )
            .bind(CheckState::Queued.as_str())
            .bind(CheckState::Running.as_str())
            .bind(owner.unwrap_or("-").to_string())
            .bind(abandoned_before)
            .bind(limit),
            "checks",
            check_row,
        )
        .await
    }
}

fn check_row(row: &AnyRow) -> Result<CheckRow, Unreadable> {
    Ok(CheckRow {
        id: row.try_get("id")?,
        target: row.try_get("target")?,
        state: named(row, "state", "state", CheckState::from_name)?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
        verdict: named_optional(row, "verdict", "verdict", Verdict::from_name)?,
        page: row.try_get("page")?,
        report: row.try_get("report")?,
        error: row.try_get("error")?,
        options: row.try_get("options")?,
    })
}
