//! Reading a scan's store in tests: SQLite or PostgreSQL, every column as text.

use libtest_mimic::Failed;
use sqlx::Row;

/// Runs a SQL query on a scan database; every column as text (NULL as None).
pub fn query(db: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, Failed> {
    let url = if db.starts_with("postgres://") {
        db.to_string()
    } else {
        format!("sqlite://{db}?mode=ro")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| format!("{db}: {e}"))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&pool)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        pool.close().await;
        let mut out = Vec::new();
        for row in rows {
            let mut values = Vec::new();
            for index in 0..row.len() {
                let text = row
                    .try_get::<Option<String>, _>(index)
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(index)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .map_err(|e| format!("{sql}: column {index}: {e}"))?;
                values.push(text);
            }
            out.push(values);
        }
        Ok::<_, Failed>(out)
    })
}
