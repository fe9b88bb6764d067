//! The scan store: SQLite (a file, nothing to run) or PostgreSQL (several workers, one
//! database), through one code path: sqlx's `Any` driver, SQL in the dialect both accept
//! (`$N` parameters, `ON CONFLICT ... DO NOTHING`, TEXT and BIGINT only), and one set of
//! migrations (`migrations/`, embedded in the binary).
//!
//! Opening refuses, before any probing and with one line each: a database that is not
//! mailtls's, one written by a newer mailtls, a corrupt or locked one, one that cannot be
//! written. Every target is written in one transaction, keyed by (scan, target), so a killed
//! scan resumes without losing or doubling anything.
//!
//! Rows are read into the vocabularies of mailtls (verdicts, problem codes, severities...): a
//! row with a spelling this mailtls does not know is left out and counted, like every other
//! store error ([`Store::errors`]).

mod checks;
mod errors;
mod inbound;
mod places;
mod queue;
mod read;
mod status;
mod write;

pub use checks::{CheckRow, CheckState};
pub use errors::{ErrorKind, StoreErrors};
pub use inbound::InboundRecord;
pub use places::DNS_RATE_ROW;
pub use queue::{Claimed, LOAD_BATCH, LoadBatch, Loaded, QueueState};
pub use read::{DiscoveryRecord, ProblemRecord, ScanInfo, Table, TargetSummary};
pub use status::{RunRow, StatusRows};
pub use write::{DONE_BATCH, RunStats, ScanSpec};

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Connection as _, Row};

/// The migrations, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The tables the migrations create (and sqlx's own).
const OUR_TABLES: [&str; 16] = [
    "_sqlx_migrations",
    "mailtls_meta",
    "scans",
    "scan_runs",
    "targets",
    "endpoints",
    "problems",
    "discovery",
    "observations",
    "rejected",
    "checks",
    "inbound",
    "inbound_mx",
    "queue",
    "address_slots",
    "address_rate",
];

/// How long a statement waits for a lock (SQLite) or a connection (PostgreSQL).
const WAIT: Duration = Duration::from_secs(5);

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why the store cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Another process holds a lock for longer than the wait.
    #[error("{0} is locked by another process (another scan writing to it?)")]
    Locked(String),
    /// The database (or its directory, or the server) refuses writes.
    #[error("{0} is read-only")]
    ReadOnly(String),
    /// It is not a mailtls scan database.
    #[error("{0} is not a mailtls scan database: {1}")]
    Foreign(String, String),
    /// It was written by a newer mailtls.
    #[error(
        "{location} was written by a newer mailtls (its schema has migration {found}; this \
         one knows up to {known}): use that version"
    )]
    Newer {
        /// Where.
        location: String,
        /// The newest migration found.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// It was written by an older mailtls and must be upgraded by a scan first.
    #[error(
        "{0} was written by an older mailtls: run `mailtls scan` with this version once to upgrade it"
    )]
    Older(String),
    /// The file is damaged.
    #[error("{0} is damaged (not a database, or corrupt): {1}")]
    Corrupt(String, String),
    /// The disk (or the server's) is full.
    #[error("the disk holding {0} is full")]
    Full(String),
    /// The database cannot be reached or opened.
    #[error("cannot reach {0}: {1}")]
    Unavailable(String, String),
    /// A SQLite file that does not exist, where one was expected.
    #[error("{0}: no such scan database")]
    Missing(String),
    /// A row that cannot be read: a value of the wrong type, or a spelling no vocabulary of
    /// this mailtls knows (written by a newer one, or by hand).
    #[error("{0}: {1}")]
    Unreadable(String, String),
    /// Anything else the database said.
    #[error("{0}: {1}")]
    Other(String, String),
}

impl StoreError {
    /// Whether waiting and trying again may help: the server went away, or a lock is held.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(..) | StoreError::Locked(_))
    }
}

/// An open store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where, for messages (without a password).
    location: String,
    /// The errors met, shared by every clone.
    tally: Arc<errors::Tally>,
}

/// Whether a commit waits for the disk (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commits {
    Durable,
    Relaxed,
}

impl Store {
    /// Opens (creating a SQLite file when missing) and upgrades the store at `location` (a
    /// path, or a `postgres://` URL), refusing what is not, or no longer, a mailtls store.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        Store::open_with(location, Commits::Durable).await
    }

    /// Opens the store as [`Store::open`] does, for the leases of the shared limits: on
    /// PostgreSQL its commits do not wait for the disk (`synchronous_commit = off`). A lease or
    /// a turn lives for seconds, and a worker that loses the database stops (it fences itself);
    /// what a database crash could lose is its last fraction of a second of places and turns.
    /// Each connection and DNS question takes a statement, and several statements a domain
    /// waiting each for a disk flush made workers wait for each other's flushes.
    pub async fn open_for_leases(location: &str) -> Result<Store, StoreError> {
        Store::open_with(location, Commits::Relaxed).await
    }

    async fn open_with(location: &str, commits: Commits) -> Result<Store, StoreError> {
        let store = Store::connect(location, true, commits).await?;
        store.check_foreign().await?;
        if let Err(error) = MIGRATOR.run(&store.pool).await {
            return Err(store.migrate_error(&error).await);
        }
        // A write at once: a read-only or locked database is refused before any probing.
        store
            .execute(sqlx::query(
                "UPDATE mailtls_meta SET value = 'mailtls-scan' WHERE key = 'format'",
            ))
            .await?;
        Ok(store)
    }

    /// Opens an existing store to read it (reports, diffs): never creates or upgrades.
    pub async fn open_existing(location: &str) -> Result<Store, StoreError> {
        let store = Store::connect(location, false, Commits::Durable).await?;
        store.check_foreign().await?;
        let applied = store.applied().await?;
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        match applied.iter().max() {
            Some(&found) if found > known => Err(StoreError::Newer {
                location: store.location.clone(),
                found,
                known,
            }),
            Some(&found) if found == known => Ok(store),
            _ => Err(StoreError::Older(store.location.clone())),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    async fn connect(location: &str, create: bool, commits: Commits) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend, shown) =
            if location.starts_with("postgres://") || location.starts_with("postgresql://") {
                (
                    location.to_string(),
                    Backend::Postgres,
                    without_password(location),
                )
            } else {
                let path = location.strip_prefix("sqlite://").unwrap_or(location);
                let exists = std::path::Path::new(path).exists();
                if !create && !exists {
                    return Err(StoreError::Missing(path.to_string()));
                }
                // SQLite would only say it cannot open the file: tell a read-only one apart.
                if create && exists {
                    if let Err(error) = std::fs::OpenOptions::new().append(true).open(path) {
                        use std::io::ErrorKind;
                        if matches!(
                            error.kind(),
                            ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied
                        ) {
                            return Err(StoreError::ReadOnly(path.to_string()));
                        }
                    }
                }
                let encoded: String =
                    url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
                // form encoding writes spaces as '+', which a path decoder keeps as '+'.
                let encoded = encoded.replace('+', "%20").replace("%2F", "/");
                let mode = if create { "rwc" } else { "rw" };
                (
                    format!("sqlite://{encoded}?mode={mode}"),
                    Backend::Sqlite,
                    path.to_string(),
                )
            };
        // One connection first, to hear the database's own error (a damaged file, a refused
        // connection) rather than a pool's timeout.
        let mut first = sqlx::AnyConnection::connect(&url)
            .await
            .map_err(|e| classify(&shown, &e))?;
        let check = match backend {
            Backend::Sqlite => "PRAGMA schema_version",
            Backend::Postgres => "SELECT 1",
        };
        let checked = sqlx::query(check).fetch_optional(&mut first).await;
        let _ = first.close().await;
        checked.map_err(|e| classify(&shown, &e))?;
        let pool = AnyPoolOptions::new()
            // SQLite has one writer; PostgreSQL gets a few for reads beside the writes.
            .max_connections(match backend {
                Backend::Sqlite => 2,
                Backend::Postgres => 4,
            })
            .acquire_timeout(WAIT)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // With WAL, a commit then survives any crash of the process; only a
                        // power cut may cost the last few.
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(connection)
                            .await?;
                    } else if commits == Commits::Relaxed {
                        sqlx::query("SET synchronous_commit = off")
                            .execute(connection)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| classify(&shown, &e))?;
        let store = Store {
            pool,
            backend,
            location: shown,
            tally: Arc::default(),
        };
        if backend == Backend::Sqlite && create {
            // WAL: readers (a report) beside the scan's writes. It stays set in the file.
            store
                .execute(sqlx::query("PRAGMA journal_mode = WAL"))
                .await?;
        }
        Ok(store)
    }

    /// Refuses a database that has tables but is not mailtls's.
    async fn check_foreign(&self) -> Result<(), StoreError> {
        let tables = self.tables().await?;
        // Marked as ours, or only our tables (another worker may be creating them right now).
        if tables.iter().any(|t| t == "mailtls_meta")
            || tables.iter().all(|t| OUR_TABLES.contains(&t.as_str()))
        {
            return Ok(());
        }
        Err(StoreError::Foreign(
            self.location.clone(),
            format!(
                "it has other tables ({})",
                tables
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    async fn tables(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema = current_schema()"
            }
        };
        self.rows(sqlx::query(sql), |row| row.try_get::<String, _>(0))
            .await
    }

    /// The migrations applied.
    async fn applied(&self) -> Result<Vec<i64>, StoreError> {
        if !self.tables().await?.iter().any(|t| t == "_sqlx_migrations") {
            return Ok(Vec::new());
        }
        self.rows(
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = $1").bind(true),
            |row| row.try_get::<i64, _>(0),
        )
        .await
    }

    async fn migrate_error(&self, error: &sqlx::migrate::MigrateError) -> StoreError {
        use sqlx::migrate::MigrateError;
        match error {
            MigrateError::VersionMissing(found) => StoreError::Newer {
                location: self.location.clone(),
                found: *found,
                known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
            },
            MigrateError::Execute(inner) => self.error(inner),
            other => StoreError::Other(self.location.clone(), other.to_string()),
        }
    }

    /// Runs a query and reads each row it returns with `row`.
    async fn rows<T>(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
        row: impl Fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(&e))?;
        rows.iter()
            .map(row)
            .collect::<Result<_, _>>()
            .map_err(|e| self.error(&e))
    }

    /// Runs a query and reads each row it returns with `row`, leaving out (and counting) each
    /// row that cannot be read: the rest of the answer is still good.
    async fn readable_rows<T>(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
        table: &str,
        row: impl Fn(&sqlx::any::AnyRow) -> Result<T, read::Unreadable>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(&e))?;
        let mut read = Vec::with_capacity(rows.len());
        for each in &rows {
            match row(each) {
                Ok(value) => read.push(value),
                Err(why) => {
                    self.unreadable(why.describe(table, each));
                }
            }
        }
        Ok(read)
    }

    /// Reads one row with `row`; a row that cannot be read is an error (counted).
    fn readable_row<T>(
        &self,
        each: &sqlx::any::AnyRow,
        table: &str,
        row: impl Fn(&sqlx::any::AnyRow) -> Result<T, read::Unreadable>,
    ) -> Result<T, StoreError> {
        row(each).map_err(|why| self.unreadable(why.describe(table, each)))
    }

    /// Runs one statement.
    async fn execute(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<u64, StoreError> {
        query
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| self.error(&e))
    }

    /// `error` as a [`StoreError`] about this store, counted.
    fn error(&self, error: &sqlx::Error) -> StoreError {
        let error = classify(&self.location, error);
        self.tally.count(&error);
        error
    }

    /// A row (or a document in one) that cannot be read, as a [`StoreError`] about this
    /// store, counted.
    pub fn unreadable(&self, what: String) -> StoreError {
        let error = StoreError::Unreadable(self.location.clone(), what);
        self.tally.count(&error);
        error
    }

    /// The errors this store (and every clone of it) met so far: failed operations, retried
    /// ones included, and rows left out because they could not be read.
    pub fn errors(&self) -> StoreErrors {
        self.tally.snapshot()
    }

    /// Closes every connection: each operation after this one fails (and is counted).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Sorts a database error by what the user can do about it.
fn classify(location: &str, error: &sqlx::Error) -> StoreError {
    let location = location.to_string();
    match error {
        sqlx::Error::Database(database) => {
            let code = database.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = database.message().to_string();
            // SQLite's codes are numbers (the primary code is the low byte of an extended one);
            // PostgreSQL's are five-character SQLSTATEs.
            if let Ok(extended) = code.parse::<u32>() {
                // SQLITE_READONLY_DBMOVED: the file was deleted or renamed while open.
                if extended == 1032 {
                    return StoreError::Other(
                        location,
                        "the database file was deleted or moved while in use".to_string(),
                    );
                }
                match extended & 0xff {
                    5 | 6 => StoreError::Locked(location),
                    8 => StoreError::ReadOnly(location),
                    11 | 26 => StoreError::Corrupt(location, message),
                    13 => StoreError::Full(location),
                    14 => StoreError::Unavailable(location, message),
                    _ => StoreError::Other(location, message),
                }
            } else {
                match code.as_str() {
                    "53100" => StoreError::Full(location),
                    "25006" => StoreError::ReadOnly(location),
                    "55P03" | "40P01" => StoreError::Locked(location),
                    c if c.starts_with("08") || c.starts_with("57P") => {
                        StoreError::Unavailable(location, message)
                    }
                    _ => StoreError::Other(location, message),
                }
            }
        }
        sqlx::Error::Io(io) => StoreError::Unavailable(location, io.to_string()),
        sqlx::Error::Tls(tls) => StoreError::Unavailable(location, tls.to_string()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable(location, "no connection within 5 s".to_string())
        }
        sqlx::Error::PoolClosed => StoreError::Other(location, "the store is closed".to_string()),
        sqlx::Error::Protocol(message) => StoreError::Unavailable(location, message.clone()),
        other => StoreError::Other(location, other.to_string()),
    }
}

/// A `postgres://user:password@host/db` URL with the password left out.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            without_password("postgres://scan:s3cret@db.example:5432/fleet"),
            "postgres://scan@db.example:5432/fleet"
        );
    }
}
