//! Single checks asked of `mailtls serve`, in the same store as scans: a row written when a
//! check is accepted and again when it is done, so a permalink works on every instance.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// One check's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    /// Its id (random, unguessable: it is the permalink).
    pub id: String,
    /// What was checked.
    pub target: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Accepted at (Unix seconds).
    pub created_at: i64,
    /// Finished at.
    pub finished_at: Option<i64>,
    /// ok, warn, fail or unknown, when done.
    pub verdict: Option<String>,
    /// The page's model (JSON), when done.
    pub page: Option<String>,
    /// The check's JSON output, when done.
    pub report: Option<String>,
    /// Why it could not run, when failed (JSON: code and message).
    pub error: Option<String>,
}

impl Store {
    /// Records a check accepted by `owner` (the instance).
    pub async fn insert_check(
        &self,
        id: &str,
        target: &str,
        created_at: i64,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO checks (id, target, state, created_at, owner) \
                 VALUES ($1, $2, 'queued', $3, $4)",
            )
            .bind(id.to_string())
            .bind(target.to_string())
            .bind(created_at)
            .bind(owner.to_string()),
        )
        .await
        .map(drop)
    }

    /// Marks a check as running.
    pub async fn start_check(&self, id: &str) -> Result<(), StoreError> {
        self.execute(
            sqlx::query("UPDATE checks SET state = 'running' WHERE id = $1 AND state = 'queued'")
                .bind(id.to_string()),
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
                 report = $6, error = $7 WHERE id = $1",
            )
            .bind(row.id.clone())
            .bind(row.state.clone())
            .bind(row.finished_at)
            .bind(row.verdict.clone())
            .bind(row.page.clone())
            .bind(row.report.clone())
            .bind(row.error.clone()),
        )
        .await
        .map(drop)
    }

    /// One check, by id.
    pub async fn check(&self, id: &str) -> Result<Option<CheckRow>, StoreError> {
        sqlx::query(
            "SELECT id, target, state, created_at, finished_at, verdict, page, report, error \
             FROM checks WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error(&e))?
        .map(|row| check_row(&row).map_err(|e| self.error(&e)))
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
        self.rows(
            sqlx::query(
                "SELECT id, target, state, created_at, finished_at, verdict, page, report, error \
                 FROM checks WHERE state IN ('queued', 'running') \
                 AND (owner = $1 OR created_at < $2) ORDER BY created_at LIMIT $3",
            )
            .bind(owner.unwrap_or("-").to_string())
            .bind(abandoned_before)
            .bind(limit),
            check_row,
        )
        .await
    }
}

fn check_row(row: &AnyRow) -> Result<CheckRow, sqlx::Error> {
    Ok(CheckRow {
        id: row.try_get("id")?,
        target: row.try_get("target")?,
        state: row.try_get("state")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
        verdict: row.try_get("verdict")?,
        page: row.try_get("page")?,
        report: row.try_get("report")?,
        error: row.try_get("error")?,
    })
}
