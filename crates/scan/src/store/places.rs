//! The limits per server address every worker of a scan keeps together, in PostgreSQL: `--per-ip`
//! rows per address in `address_slots`, each held by one worker until it gives it back or its
//! lease passes (claimed with `FOR UPDATE SKIP LOCKED`, so workers never wait on each other's
//! locks), and one row per rate in `address_rate` holding its next free turn (a reservation:
//! each taker moves it on by one interval and waits until its own turn, so turns are evenly
//! spaced across every worker, as `governor` spaces them within one).

use std::net::IpAddr;

use sqlx::Row;

use super::queue::{NOW_MS, NOW_US};
use super::{Store, StoreError};

/// The `address_rate` row of the scan's DNS questions.
pub const DNS_RATE_ROW: &str = "";

impl Store {
    /// Makes sure `address` has its `per_ip` places (once per address and worker is enough).
    pub async fn add_places(
        &self,
        scan_id: &str,
        address: IpAddr,
        per_ip: u32,
    ) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO address_slots (scan_id, address, slot) \
                 SELECT $1, $2, CAST(g AS BIGINT) FROM generate_series(0, $3 - 1) AS g \
                 ON CONFLICT (scan_id, address, slot) DO NOTHING",
            )
            .bind(scan_id.to_string())
            .bind(address.to_string())
            .bind(i64::from(per_ip)),
        )
        .await
        .map(drop)
    }

    /// Takes one of `address`'s first `per_ip` places that nobody holds (or whose lease
    /// passed) for `lease_ms`; `None` when all are held.
    pub async fn take_place(
        &self,
        scan_id: &str,
        run_id: &str,
        address: IpAddr,
        per_ip: u32,
        lease_ms: i64,
    ) -> Result<Option<u32>, StoreError> {
        let sql = format!(
            "UPDATE address_slots SET holder = $3, expires_ms = {NOW_MS} + $4 \
             WHERE scan_id = $1 AND address = $2 AND slot = (\
               SELECT slot FROM address_slots WHERE scan_id = $1 AND address = $2 \
               AND slot < $5 AND (holder IS NULL OR expires_ms < {NOW_MS}) \
               ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING slot"
        );
        let rows = self
            .rows(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(scan_id.to_string())
                    .bind(address.to_string())
                    .bind(run_id.to_string())
                    .bind(lease_ms)
                    .bind(i64::from(per_ip)),
                |row| row.try_get::<i64, _>(0),
            )
            .await?;
        Ok(rows.first().map(|&slot| u32::try_from(slot).unwrap_or(0)))
    }

    /// Gives back places `run_id` holds (a place taken over after its lease passed is left to
    /// its new holder).
    pub async fn free_places(
        &self,
        scan_id: &str,
        run_id: &str,
        places: &[(IpAddr, u32)],
    ) -> Result<(), StoreError> {
        for chunk in places.chunks(64) {
            let mut sql = String::from(
                "UPDATE address_slots SET holder = NULL, expires_ms = 0 \
                 WHERE scan_id = $1 AND holder = $2 AND (",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!(
                    "(address = ${} AND slot = ${})",
                    2 * i + 3,
                    2 * i + 4
                ));
            }
            sql.push(')');
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(scan_id.to_string())
                .bind(run_id.to_string());
            for (address, slot) in chunk {
                query = query.bind(address.to_string()).bind(i64::from(*slot));
            }
            self.execute(query).await?;
        }
        Ok(())
    }

    /// Makes sure the rate `row` exists (once per row and worker is enough).
    pub async fn add_rate(&self, scan_id: &str, row: &str) -> Result<(), StoreError> {
        self.execute(
            sqlx::query(
                "INSERT INTO address_rate (scan_id, address) VALUES ($1, $2) \
                 ON CONFLICT (scan_id, address) DO NOTHING",
            )
            .bind(scan_id.to_string())
            .bind(row.to_string()),
        )
        .await
        .map(drop)
    }

    /// Takes the limits `limits` (canonical JSON) for the scan, unless a live worker (one whose
    /// leases have not passed) keeps others: then returns those.
    pub async fn agree_limits(
        &self,
        scan_id: &str,
        limits: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "UPDATE scans SET limits = $2 WHERE id = $1 AND (limits IS NULL OR limits = $2 \
             OR NOT EXISTS (SELECT 1 FROM scan_runs r WHERE r.scan_id = $1 \
               AND r.finished_at IS NULL AND r.alive_until_ms > {NOW_MS}))"
        );
        let taken = self
            .execute(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(scan_id.to_string())
                    .bind(limits.to_string()),
            )
            .await?;
        if taken > 0 {
            return Ok(None);
        }
        let rows = self
            .rows(
                sqlx::query("SELECT limits FROM scans WHERE id = $1").bind(scan_id.to_string()),
                |row| row.try_get::<Option<String>, _>(0),
            )
            .await?;
        Ok(rows.into_iter().next().flatten())
    }

    /// Reserves `span_us` of the rate `row` (an address, or [`DNS_RATE_ROW`]): the next
    /// free time, but no earlier than `credit_us` ago (turns nobody took in that time may still
    /// be taken), moved on by `span_us`. Returns the reserved time and the database's time of
    /// the reservation (microseconds of its clock: a turn at thousands of questions a second
    /// is a fraction of a millisecond).
    pub async fn reserve_turns(
        &self,
        scan_id: &str,
        row: &str,
        span_us: i64,
        credit_us: i64,
    ) -> Result<(i64, i64), StoreError> {
        let sql = format!(
            "UPDATE address_rate SET next_us = GREATEST(next_us, {NOW_US} - $4) + $3 \
             WHERE scan_id = $1 AND address = $2 RETURNING next_us - $3, {NOW_US}"
        );
        let rows = self
            .rows(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(scan_id.to_string())
                    .bind(row.to_string())
                    .bind(span_us)
                    .bind(credit_us),
                |row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?)),
            )
            .await?;
        rows.first()
            .copied()
            .ok_or_else(|| StoreError::Other(self.location.clone(), format!("no rate row {row:?}")))
    }
}
