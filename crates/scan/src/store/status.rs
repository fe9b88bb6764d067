//! Reading how a scan is going (`scan status`): its workers and their leases, the queue, the
//! places held per address, and how many targets were recorded lately.

use std::collections::HashMap;

use sqlx::Row;

use super::queue::NOW_MS;
use super::{Backend, Store, StoreError};

/// One worker's run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    /// Its id.
    pub run_id: String,
    /// Its shard (`queue` for a worker on the work queue).
    pub shard: String,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// When it ended, if it recorded that.
    pub finished_at: Option<i64>,
    /// Why it stopped early, if it did.
    pub stopped: Option<String>,
    /// Until when its last renewal of its leases holds (milliseconds of the database's clock;
    /// none for a worker without leases, on SQLite).
    pub alive_until_ms: Option<i64>,
}

/// Everything `scan status` shows, as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRows {
    /// The database's clock (milliseconds).
    pub now_ms: i64,
    /// Every run, oldest first.
    pub runs: Vec<RunRow>,
    /// Targets recorded, per run.
    pub done_by_run: HashMap<String, u64>,
    /// Targets recorded in the last minute (by the workers' clocks).
    pub done_last_minute: u64,
    /// Targets in the queue, per holder (`None`: nobody holds them).
    pub queued_by_holder: HashMap<Option<String>, u64>,
    /// Whether the whole list is in the queue, and how many lines are.
    pub loaded: bool,
    /// Lines of the list in the queue.
    pub loaded_lines: u64,
    /// Places held now, per address, most first.
    pub places: Vec<(String, u64)>,
    /// The limits the workers keep together (canonical JSON), if recorded.
    pub limits: Option<String>,
}

impl Store {
    /// How scan `scan_id` is going.
    pub async fn status_rows(&self, scan_id: &str) -> Result<StatusRows, StoreError> {
        let id = || scan_id.to_string();
        let now_ms = match self.backend {
            Backend::Postgres => {
                let sql = format!("SELECT {NOW_MS}");
                self.rows(sqlx::query(sqlx::AssertSqlSafe(sql)), |row| {
                    row.try_get::<i64, _>(0)
                })
                .await?
                .first()
                .copied()
                .unwrap_or(0)
            }
            Backend::Sqlite => mailtls_core::run::check::now().saturating_mul(1000),
        };
        let runs = self
            .rows(
                sqlx::query(
                    "SELECT run_id, shard, started_at, finished_at, stopped, alive_until_ms \
                     FROM scan_runs WHERE scan_id = $1 ORDER BY started_at, run_id",
                )
                .bind(id()),
                |row| {
                    Ok(RunRow {
                        run_id: row.try_get(0)?,
                        shard: row.try_get(1)?,
                        started_at: row.try_get(2)?,
                        finished_at: row.try_get(3)?,
                        stopped: row.try_get(4)?,
                        alive_until_ms: row.try_get(5)?,
                    })
                },
            )
            .await?;
        let counts = |rows: Vec<(String, i64)>| -> HashMap<String, u64> {
            rows.into_iter()
                .map(|(k, n)| (k, u64::try_from(n).unwrap_or(0)))
                .collect()
        };
        let done_by_run = counts(
            self.rows(
                sqlx::query(
                    "SELECT run_id, COUNT(*) FROM targets WHERE scan_id = $1 GROUP BY run_id",
                )
                .bind(id()),
                |row| Ok((row.try_get(0)?, row.try_get(1)?)),
            )
            .await?,
        );
        let minute_ago = now_ms / 1000 - 60;
        let done_last_minute = self
            .rows(
                sqlx::query("SELECT COUNT(*) FROM targets WHERE scan_id = $1 AND checked_at >= $2")
                    .bind(id())
                    .bind(minute_ago),
                |row| row.try_get::<i64, _>(0),
            )
            .await?
            .first()
            .map_or(0, |&n| u64::try_from(n).unwrap_or(0));
        let queued_by_holder = self
            .rows(
                sqlx::query(
                    "SELECT holder, COUNT(*) FROM queue WHERE scan_id = $1 GROUP BY holder",
                )
                .bind(id()),
                |row| {
                    Ok((
                        row.try_get::<Option<String>, _>(0)?,
                        u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
                    ))
                },
            )
            .await?
            .into_iter()
            .collect();
        let (loaded, loaded_lines, limits) = self
            .rows(
                sqlx::query("SELECT loaded, loaded_lines, limits FROM scans WHERE id = $1")
                    .bind(id()),
                |row| {
                    Ok((
                        row.try_get::<i64, _>(0)? != 0,
                        u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
                        row.try_get::<Option<String>, _>(2)?,
                    ))
                },
            )
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let places = self
            .rows(
                sqlx::query(
                    "SELECT address, COUNT(*) FROM address_slots WHERE scan_id = $1 \
                     AND holder IS NOT NULL AND expires_ms > $2 \
                     GROUP BY address ORDER BY COUNT(*) DESC, address LIMIT 10",
                )
                .bind(id())
                .bind(now_ms),
                |row| {
                    Ok((
                        row.try_get::<String, _>(0)?,
                        u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
                    ))
                },
            )
            .await?;
        Ok(StatusRows {
            now_ms,
            runs,
            done_by_run,
            done_last_minute,
            queued_by_holder,
            loaded,
            loaded_lines,
            places,
            limits,
        })
    }
}
