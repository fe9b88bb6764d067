//! Writing a scan: its row, each worker's run, each target in one transaction.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use super::{Store, StoreError};
use crate::record::TargetRecord;
use mailtls_core::observation::Source;

/// Most targets asked about in one "which of these are done?" query.
pub const DONE_BATCH: usize = 256;

/// What identifies a scan: its id, its input and the options that change results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSpec {
    /// The scan's id (`--scan NAME`, or derived from the input and options).
    pub id: String,
    /// The input's name: a path, or `-`.
    pub input: String,
    /// The options, as canonical JSON.
    pub options: String,
}

/// How one worker's run ended, for the record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Lines read.
    pub lines_read: u64,
    /// Targets this run checked and committed.
    pub targets_done: u64,
    /// Lines that repeated a target already read or done.
    pub duplicates: u64,
    /// Targets checked again because mailtls's resolver left questions unanswered.
    pub retried: u64,
    /// Why it stopped early, if it did.
    pub stopped: Option<String>,
}

type AnyQuery<'q> = Query<'q, sqlx::Any, AnyArguments>;

impl Store {
    /// Creates the scan, or joins it when it exists (another shard, or a resumed run). Returns
    /// the options it was started with when they differ from `spec`'s.
    pub async fn begin_scan(
        &self,
        spec: &ScanSpec,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO scans (id, created_at, input, options, mailtls_version) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(spec.id.clone())
            .bind(now)
            .bind(spec.input.clone())
            .bind(spec.options.clone())
            .bind(env!("CARGO_PKG_VERSION")),
        )
        .await?;
        let row = sqlx::query("SELECT options FROM scans WHERE id = $1")
            .bind(spec.id.clone())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error(&e))?;
        let options: String = row.try_get(0).map_err(|e| self.error(&e))?;
        Ok((options != spec.options).then_some(options))
    }

    /// Records that a worker started on the scan.
    pub async fn start_run(
        &self,
        scan_id: &str,
        run_id: &str,
        shard: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO scan_runs (scan_id, run_id, shard, started_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(scan_id.to_string())
            .bind(run_id.to_string())
            .bind(shard.to_string())
            .bind(now),
        )
        .await
        .map(drop)
    }

    /// Records how a worker's run ended.
    pub async fn finish_run(
        &self,
        scan_id: &str,
        run_id: &str,
        stats: &RunStats,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "UPDATE scan_runs SET finished_at = $1, lines_read = $2, targets_done = $3, \
                 duplicates = $4, stopped = $5 WHERE scan_id = $6 AND run_id = $7",
            )
            .bind(now)
            .bind(to_i64(stats.lines_read))
            .bind(to_i64(stats.targets_done))
            .bind(to_i64(stats.duplicates))
            .bind(stats.stopped.clone())
            .bind(scan_id.to_string())
            .bind(run_id.to_string()),
        )
        .await
        .map(drop)
    }

    /// Which of `keys` the scan already has, with the run that did each.
    pub async fn done(
        &self,
        scan_id: &str,
        keys: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut done = HashMap::new();
        for chunk in keys.chunks(DONE_BATCH) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT target, run_id FROM targets WHERE scan_id = $1 AND target IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scan_id.to_string());
            for key in chunk {
                query = query.bind(key.clone());
            }
            let rows = self
                .rows(query, |row| {
                    Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?))
                })
                .await?;
            done.extend(rows);
        }
        Ok(done)
    }

    /// Records a line that is not a target (once, whichever worker reads it first).
    pub async fn reject(
        &self,
        scan_id: &str,
        line: u64,
        text: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO rejected (scan_id, line, text, reason) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (scan_id, line) DO NOTHING",
            )
            .bind(scan_id.to_string())
            .bind(to_i64(line))
            .bind(text.to_string())
            .bind(reason.to_string()),
        )
        .await
        .map(drop)
    }

    /// Writes one target and everything found for it, in one transaction (taking it out of
    /// the work queue when `dequeue`). `false` when the scan already had it (nothing written).
    pub async fn commit(
        &self,
        scan_id: &str,
        run_id: &str,
        shard: &str,
        record: &TargetRecord,
        dequeue: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(&e))?;
        if dequeue {
            sqlx::query("DELETE FROM queue WHERE scan_id = $1 AND target = $2")
                .bind(scan_id.to_string())
                .bind(record.target.clone())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(&e))?;
        }
        let target = sqlx::query(
            "INSERT INTO targets (scan_id, target, line, account, kind, verdict, exit_code, \
             summary, fix, recommendation, error, checked_at, run_id, shard) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (scan_id, target) DO NOTHING",
        )
        .bind(scan_id.to_string())
        .bind(record.target.clone())
        .bind(to_i64(record.line))
        .bind(record.account.clone())
        .bind(record.kind.as_str())
        .bind(record.verdict.as_str())
        .bind(i64::from(record.exit_code))
        .bind(record.summary.clone())
        .bind(record.fix.clone())
        .bind(record.recommendation.clone())
        .bind(record.error.map(|e| e.as_str()))
        .bind(record.checked_at)
        .bind(run_id.to_string())
        .bind(shard.to_string());
        let inserted = target
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(&e))?
            .rows_affected();
        if inserted == 0 {
            // The queue's row goes all the same: the target is recorded.
            if dequeue {
                tx.commit().await.map_err(|e| self.error(&e))?;
            } else {
                tx.rollback().await.map_err(|e| self.error(&e))?;
            }
            return Ok(false);
        }
        for query in rows(scan_id, record) {
            query.execute(&mut *tx).await.map_err(|e| self.error(&e))?;
        }
        tx.commit().await.map_err(|e| self.error(&e))?;
        Ok(true)
    }
}

/// The multi-row inserts of a target's endpoints, problems, discovery, inbound delivery and
/// report.
fn rows<'q>(scan_id: &str, record: &'q TargetRecord) -> Vec<AnyQuery<'q>> {
    let mut queries = Vec::new();
    let key = || (scan_id.to_string(), record.target.clone());
    if !record.endpoints.is_empty() {
        let sql = insert(
            "endpoints (scan_id, target, host, address, port, sni, result, tls_version, \
             leaf_names, not_after)",
            10,
            record.endpoints.len(),
            "(scan_id, target, host, address, port)",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in &record.endpoints {
            let (scan, target) = key();
            query = query
                .bind(scan)
                .bind(target)
                .bind(e.host.clone())
                .bind(e.address.clone())
                .bind(i64::from(e.port))
                .bind(e.sni.clone())
                .bind(e.result.clone())
                .bind(e.tls_version.clone())
                .bind(e.leaf_names.clone())
                .bind(e.not_after);
        }
        queries.push(query);
    }
    if !record.problems.is_empty() {
        let sql = insert(
            "problems (scan_id, target, seq, code, severity, server, port, source, \
             expected_name, presented_names, suggested_name, verified)",
            12,
            record.problems.len(),
            "(scan_id, target, seq)",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, p) in record.problems.iter().enumerate() {
            let (scan, target) = key();
            query = query
                .bind(scan)
                .bind(target)
                .bind(to_i64(seq as u64))
                .bind(p.code.as_str())
                .bind(p.severity.as_str())
                .bind(p.server.clone())
                .bind(p.port.map(i64::from))
                .bind(sources(&p.sources))
                .bind(p.expected_name.clone())
                .bind(p.presented_names.clone())
                .bind(p.suggested_name.clone())
                .bind(i64::from(p.verified));
        }
        queries.push(query);
    }
    if !record.discovery.is_empty() {
        let sql = insert(
            "discovery (scan_id, target, seq, source, url_or_record, hostname, port, security, \
             status, detail, error, instead)",
            12,
            record.discovery.len(),
            "(scan_id, target, seq)",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, d) in record.discovery.iter().enumerate() {
            let (scan, target) = key();
            query = query
                .bind(scan)
                .bind(target)
                .bind(to_i64(seq as u64))
                .bind(d.source.as_str())
                .bind(d.url_or_record.clone())
                .bind(d.hostname.clone())
                .bind(d.port.map(i64::from))
                .bind(d.security.map(|s| s.as_str()))
                .bind(d.status.as_str())
                .bind(d.detail.clone())
                .bind(d.error.map(|e| e.as_str()))
                .bind(d.instead.clone());
        }
        queries.push(query);
    }
    if let Some(inbound) = &record.inbound {
        let (scan, target) = key();
        let codes: Vec<&str> = inbound.policy_problems.iter().map(|c| c.as_str()).collect();
        queries.push(
            sqlx::query(
                "INSERT INTO inbound (scan_id, target, verdict, mta_sts, policy_problems, dane, \
                 tlsrpt, costs_mail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (scan_id, target) DO NOTHING",
            )
            .bind(scan)
            .bind(target)
            .bind(inbound.verdict.as_str())
            .bind(inbound.mta_sts.as_str())
            .bind((!codes.is_empty()).then(|| codes.join(",")))
            .bind(inbound.dane.map(|d| d.as_str()))
            .bind(inbound.tlsrpt.as_str())
            .bind(inbound.costs_mail.as_str()),
        );
    }
    if !record.inbound_mx.is_empty() {
        let sql = insert(
            "inbound_mx (scan_id, target, seq, host, preference, port25, certificate, dane, \
             mta_sts_sender, dane_sender)",
            10,
            record.inbound_mx.len(),
            "(scan_id, target, seq)",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, mx) in record.inbound_mx.iter().enumerate() {
            let (scan, target) = key();
            query = query
                .bind(scan)
                .bind(target)
                .bind(to_i64(seq as u64))
                .bind(mx.host.clone())
                .bind(i64::from(mx.preference))
                .bind(mx.port25.as_str())
                .bind(mx.certificate.map(|c| c.as_str()))
                .bind(mx.dane.as_str())
                .bind(mx.mta_sts_sender.as_str())
                .bind(mx.dane_sender.as_str());
        }
        queries.push(query);
    }
    if let Some(report) = &record.report {
        let (scan, target) = key();
        queries.push(
            sqlx::query(
                "INSERT INTO observations (scan_id, target, report) VALUES ($1, $2, $3) \
                 ON CONFLICT (scan_id, target) DO NOTHING",
            )
            .bind(scan)
            .bind(target)
            .bind(report.clone()),
        );
    }
    queries
}

/// `INSERT INTO {table} VALUES ($1, ...), (...) ON CONFLICT {key} DO NOTHING` for `rows` rows
/// of `columns` values.
fn insert(table: &str, columns: usize, rows: usize, key: &str) -> String {
    let mut sql = format!("INSERT INTO {table} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column + 1));
        }
        sql.push(')');
    }
    sql.push_str(&format!(" ON CONFLICT {key} DO NOTHING"));
    sql
}

/// Sources as the store lists them: their names, comma-separated (NULL for none).
fn sources(sources: &[Source]) -> Option<String> {
    (!sources.is_empty()).then(|| {
        sources
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    })
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
