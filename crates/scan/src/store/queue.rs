//! The work queue of a scan in PostgreSQL: one worker at a time loads the list into `queue`
//! (holding a lease on the scan's row, so another takes over from the last line in when it
//! dies); every worker claims targets with `FOR UPDATE SKIP LOCKED` and a lease it renews; a
//! target leaves the queue in the transaction that records it ([`Store::commit`] with
//! `dequeue`). A lease that is not renewed expires, and its target is claimed again: a worker
//! killed with `kill -9` loses nothing, and the primary key of `targets` records nothing twice.

use sqlx::Row;

use super::{Store, StoreError};
use crate::input::Line;

/// The database's clock, in milliseconds (one clock for every worker, whatever theirs say).
pub(crate) const NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
/// The same in microseconds (the rates' turns).
pub(crate) const NOW_US: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)";

/// Rows written to the queue in one statement.
pub const LOAD_BATCH: usize = 256;

/// A target claimed from the queue.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The line, parsed again.
    pub line: Line,
    /// How many times it was claimed before (by workers that did not finish it).
    pub attempts: u64,
}

/// How far the list is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    /// Every line is in.
    pub loaded: bool,
    /// Targets in the queue (claimed or not).
    pub queued: u64,
}

/// A batch of the list, for the queue.
#[derive(Debug, Clone, Copy)]
pub struct LoadBatch<'a> {
    /// Its targets.
    pub lines: &'a [Line],
    /// Its lines that are not targets: number, text, why.
    pub rejected: &'a [(u64, String, String)],
    /// The last line read so far.
    pub through: u64,
    /// Whether the list ends with it.
    pub last: bool,
}

/// What one batch of the list did in the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Targets added.
    pub queued: u64,
    /// Targets the queue already had (a repeated line, or a batch loaded again after a loader
    /// died).
    pub already_queued: u64,
}

impl Store {
    /// Takes (or renews) the lease on loading the scan's list; `Some(lines)` with the lines
    /// already in when this worker is now the loader, `None` when another worker holds the
    /// lease or the list is all in.
    pub async fn take_loading(
        &self,
        scan_id: &str,
        run_id: &str,
        lease_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        let sql = format!(
            "UPDATE scans SET loader = $2, loader_until_ms = {NOW_MS} + $3 \
             WHERE id = $1 AND loaded = 0 \
             AND (loader IS NULL OR loader = $2 OR loader_until_ms < {NOW_MS}) \
             RETURNING loaded_lines"
        );
        let rows = self
            .rows(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(scan_id.to_string())
                    .bind(run_id.to_string())
                    .bind(lease_ms),
                |row| row.try_get::<i64, _>(0),
            )
            .await?;
        Ok(rows.first().map(|&n| u64::try_from(n).unwrap_or(0)))
    }

    /// Adds a batch of the list to the queue, marks the list loaded through its last line (all
    /// of it when it is the last batch) and renews the loading lease, in one transaction.
    /// `Ok(None)`: this worker no longer holds the lease (it expired and another took over),
    /// and nothing was written.
    pub async fn load(
        &self,
        scan_id: &str,
        run_id: &str,
        lease_ms: i64,
        batch: &LoadBatch<'_>,
    ) -> Result<Option<Loaded>, StoreError> {
        let LoadBatch {
            lines,
            rejected,
            through,
            last,
        } = *batch;
        let mut tx = self.pool.begin().await.map_err(|e| self.error(&e))?;
        let sql = format!(
            "UPDATE scans SET loaded_lines = $3, loaded = $4, loader_until_ms = {NOW_MS} + $5 \
             WHERE id = $1 AND loader = $2 AND loaded = 0"
        );
        let held = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scan_id.to_string())
            .bind(run_id.to_string())
            .bind(to_i64(through))
            .bind(i64::from(last))
            .bind(lease_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(&e))?
            .rows_affected();
        if held == 0 {
            tx.rollback().await.map_err(|e| self.error(&e))?;
            return Ok(None);
        }
        let mut loaded = Loaded::default();
        for chunk in lines.chunks(LOAD_BATCH) {
            let mut sql =
                String::from("INSERT INTO queue (scan_id, target, line, text, account) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let n = i * 5;
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                ));
            }
            sql.push_str(" ON CONFLICT (scan_id, target) DO NOTHING");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for line in chunk {
                query = query
                    .bind(scan_id.to_string())
                    .bind(line.key.clone())
                    .bind(to_i64(line.line))
                    .bind(line.text.clone())
                    .bind(line.account.clone());
            }
            let added = query
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(&e))?
                .rows_affected();
            loaded.queued += added;
            loaded.already_queued += chunk.len() as u64 - added.min(chunk.len() as u64);
        }
        for (line, text, reason) in rejected {
            sqlx::query(
                "INSERT INTO rejected (scan_id, line, text, reason) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (scan_id, line) DO NOTHING",
            )
            .bind(scan_id.to_string())
            .bind(to_i64(*line))
            .bind(text.clone())
            .bind(reason.clone())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(&e))?;
        }
        tx.commit().await.map_err(|e| self.error(&e))?;
        Ok(Some(loaded))
    }

    /// Claims up to `room` targets nobody holds (or whose lease expired), in list order, for
    /// `lease_ms`; with `after`, only targets of later lines. A claimed target the scan already
    /// recorded (a line loaded again while its target was being recorded) leaves the queue
    /// instead.
    ///
    /// A claim walks the queue in list order from `after` and stops at the `room`th target it can
    /// take, however long the list: its plan must fit the tables as they are now, not as they were
    /// when a prepared statement's plan was made (empty, early in a scan, and a generic plan is
    /// kept): the statement is planned at each claim (not prepared), `room` is written into it (a
    /// `LIMIT $n` plan reads the whole queue and sorts it), and whether a target is recorded is
    /// asked of the rows claimed only, in `RETURNING` (as a condition of the walk, planned on empty
    /// tables, it read every recorded target for each queued one: 34 ms a claim in a 2,000-target
    /// scan). `after` spares the walk the queue's head, rows recorded (deleted) or held, which a
    /// claim from the start walks past until the next vacuum (50,000 such rows: 1.8 ms a claim
    /// against 0.06 ms).
    pub async fn claim(
        &self,
        scan_id: &str,
        run_id: &str,
        lease_ms: i64,
        room: usize,
        after: Option<u64>,
    ) -> Result<Vec<Claimed>, StoreError> {
        let sql = format!(
            "UPDATE queue SET holder = $2, lease_until_ms = {NOW_MS} + $3, \
             attempts = attempts + 1 \
             WHERE scan_id = $1 AND target IN (\
               SELECT q.target FROM queue q WHERE q.scan_id = $1 AND q.line > $4 \
               AND q.lease_until_ms < {NOW_MS} \
               ORDER BY q.line LIMIT {room} FOR UPDATE SKIP LOCKED) \
             RETURNING line, text, account, attempts, target, EXISTS (SELECT 1 FROM targets t \
               WHERE t.scan_id = queue.scan_id AND t.target = queue.target)",
            room = room.max(1)
        );
        let rows = self
            .rows(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .persistent(false)
                    .bind(scan_id.to_string())
                    .bind(run_id.to_string())
                    .bind(lease_ms)
                    .bind(after.map_or(-1, to_i64)),
                |row| {
                    Ok((
                        (
                            row.try_get::<i64, _>(0)?,
                            row.try_get::<String, _>(1)?,
                            row.try_get::<Option<String>, _>(2)?,
                            row.try_get::<i64, _>(3)?,
                        ),
                        row.try_get::<String, _>(4)?,
                        row.try_get::<bool, _>(5)?,
                    ))
                },
            )
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for ((line, text, account, attempts), target, recorded) in rows {
            if recorded {
                self.execute(
                    sqlx::query("DELETE FROM queue WHERE scan_id = $1 AND target = $2")
                        .bind(scan_id.to_string())
                        .bind(target),
                )
                .await?;
                continue;
            }
            let number = u64::try_from(line).unwrap_or(0);
            match Line::queued(number, text.clone(), account) {
                Some(line) => claimed.push(Claimed {
                    line,
                    attempts: u64::try_from(attempts - 1).unwrap_or(0),
                }),
                None => {
                    // Not written by mailtls: counted, and left to expire (never checked).
                    self.unreadable(format!("queue: line {number}: '{text}' is not a target"));
                }
            }
        }
        Ok(claimed)
    }

    /// Gives back the targets `run_id` holds (a worker with none in flight: a check that
    /// panicked left its target claimed).
    pub async fn give_back_claims(&self, scan_id: &str, run_id: &str) -> Result<u64, StoreError> {
        self.execute(
            sqlx::query(
                "UPDATE queue SET holder = NULL, lease_until_ms = 0 \
                 WHERE scan_id = $1 AND holder = $2",
            )
            .bind(scan_id.to_string())
            .bind(run_id.to_string()),
        )
        .await
    }

    /// Whether the list is all in, and how many targets wait in the queue.
    pub async fn queue_state(&self, scan_id: &str) -> Result<QueueState, StoreError> {
        let rows = self
            .rows(
                sqlx::query(
                    "SELECT loaded, (SELECT COUNT(*) FROM queue WHERE scan_id = $1) \
                     FROM scans WHERE id = $1",
                )
                .bind(scan_id.to_string()),
                |row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?)),
            )
            .await?;
        let (loaded, queued) = rows.first().copied().unwrap_or((0, 0));
        Ok(QueueState {
            loaded: loaded != 0,
            queued: u64::try_from(queued).unwrap_or(0),
        })
    }

    /// Renews every lease `run_id` holds on the scan (targets, places, loading) and records
    /// that the worker is alive, in one transaction.
    pub async fn renew(
        &self,
        scan_id: &str,
        run_id: &str,
        lease_ms: i64,
    ) -> Result<(), StoreError> {
        let statements = [
            format!(
                "UPDATE queue SET lease_until_ms = {NOW_MS} + $3 \
                 WHERE scan_id = $1 AND holder = $2"
            ),
            format!(
                "UPDATE address_slots SET expires_ms = {NOW_MS} + $3 \
                 WHERE scan_id = $1 AND holder = $2"
            ),
            format!(
                "UPDATE scans SET loader_until_ms = {NOW_MS} + $3 \
                 WHERE id = $1 AND loader = $2 AND loaded = 0"
            ),
            format!(
                "UPDATE scan_runs SET alive_until_ms = {NOW_MS} + $3 \
                 WHERE scan_id = $1 AND run_id = $2"
            ),
        ];
        let mut tx = self.pool.begin().await.map_err(|e| self.error(&e))?;
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(scan_id.to_string())
                .bind(run_id.to_string())
                .bind(lease_ms)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(&e))?;
        }
        tx.commit().await.map_err(|e| self.error(&e))
    }

    /// Gives back every lease `run_id` holds (a worker that stops): its targets and places
    /// are free for the others at once instead of at the end of their leases.
    pub async fn give_up_leases(&self, scan_id: &str, run_id: &str) -> Result<(), StoreError> {
        self.give_back_claims(scan_id, run_id).await?;
        let statements = [
            "UPDATE address_slots SET holder = NULL, expires_ms = 0 \
             WHERE scan_id = $1 AND holder = $2",
            "UPDATE scans SET loader = NULL, loader_until_ms = 0 WHERE id = $1 AND loader = $2",
        ];
        for sql in statements {
            self.execute(
                sqlx::query(sql)
                    .bind(scan_id.to_string())
                    .bind(run_id.to_string()),
            )
            .await?;
        }
        Ok(())
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
