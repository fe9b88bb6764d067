//! Checks asked through the page or the API: accepted (a row in the store, then an id), run in
//! the background through the shared engine with a global cap on how many run at once, and
//! stored when done with the page's model and the same JSON output as `mailtls check --json`.
//! A check accepted is never lost: the row is written before the id is given out, and rows a
//! stopped process left unfinished are run again at start-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::metrics::Metrics;
use super::model::PageModel;
use mailtls_core::diagnose::{Diagnosis, Verdict};
use mailtls_core::engine::Engine;
use mailtls_core::report::wire;
use mailtls_core::run::check::{CheckOptions, CheckReport, Checked, now};
use mailtls_core::target::Subject;
use mailtls_scan::store::{CheckRow, CheckState, Store, StoreError};

/// Longest a whole check may take before it is given up as failed.
pub const CHECK_LIMIT: Duration = Duration::from_secs(180);

/// Why a check was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// As many checks as allowed are running.
    #[error("{0} checks are running, the most this server runs at once; try again in a minute")]
    Busy(usize),
    /// The store would not take the row.
    #[error("cannot record the check: {0}")]
    Store(#[from] StoreError),
}

/// The check runner. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Checks {
    engine: Engine,
    store: Store,
    options: CheckOptions,
    slots: Arc<Semaphore>,
    capacity: usize,
    metrics: Metrics,
    /// Woken whenever a check of this process ends (long polls wait on it).
    ended: Arc<Notify>,
    /// This instance, as recorded on the checks it accepts: host name and listen address.
    owner: String,
    /// What its checks' answers depend on (`ObserveOptions`, canonical JSON), recorded with
    /// every check it accepts or runs.
    fingerprint: String,
}

impl Checks {
    /// A runner of at most `in_flight` checks at once, with `options`, for the instance
    /// `owner` (host name and listen address).
    pub fn new(
        engine: Engine,
        store: Store,
        options: CheckOptions,
        in_flight: usize,
        metrics: Metrics,
        owner: String,
    ) -> Checks {
        let fingerprint = engine.observe_options(&options).fingerprint();
        Checks {
            fingerprint,
            engine,
            store,
            options,
            slots: Arc::new(Semaphore::new(in_flight)),
            capacity: in_flight,
            metrics,
            ended: Arc::new(Notify::new()),
            owner,
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Waits (at most `limit`) until some check ends: here, or elsewhere (on another instance
    /// sharing the store: then after a short while, to read the store again).
    pub async fn some_check_ended(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit.min(Duration::from_millis(250)), self.ended.notified())
            .await;
    }

    /// Accepts a check of `subject` and starts it; its row as accepted (state `queued`).
    pub async fn submit(&self, subject: Subject) -> Result<CheckRow, SubmitError> {
        let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
            return Err(SubmitError::Busy(self.capacity));
        };
        let row = CheckRow {
            id: new_id(),
            target: subject.to_string(),
            state: CheckState::Queued,
            created_at: now(),
            finished_at: None,
            verdict: None,
            page: None,
            report: None,
            error: None,
            options: self.fingerprint.clone(),
        };
        self.store.insert_check(&row, &self.owner).await?;
        self.spawn(row.id.clone(), subject, slot);
        Ok(row)
    }

    /// Runs again what a stopped process left queued or running (at most `limit`): this
    /// instance's own with `own` (at start: its previous process is gone, since this one holds
    /// its address), and anyone's older than a check may take (abandoned by an instance that
    /// never came back).
    pub async fn resume(&self, own: bool, limit: i64) -> Result<usize, StoreError> {
        let abandoned = now() - i64::try_from(CHECK_LIMIT.as_secs()).unwrap_or(i64::MAX / 2) - 60;
        let owner = own.then_some(self.owner.as_str());
        let rows = self
            .store
            .unfinished_checks(owner, abandoned, limit)
            .await?;
        let mut resumed = 0;
        for row in rows {
            let subject = match Subject::parse(&row.target) {
                Ok(subject) => subject,
                Err(error) => {
                    // Not a target (written by hand?): counted, and ended for good, or it would
                    // be found again at every turn.
                    let error = self.store.unreadable(format!(
                        "check {}: its target {:?} is not one: {error}",
                        row.id, row.target
                    ));
                    let failed = CheckRow {
                        state: CheckState::Failed,
                        finished_at: Some(now()),
                        error: Some(error_json("invalid", &error.to_string())),
                        ..row
                    };
                    // A failure is counted by the store; the next turn tries again.
                    self.store.finish_check(&failed).await.ok();
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
                break;
            };
            self.spawn(row.id, subject, slot);
            resumed += 1;
        }
        Ok(resumed)
    }

    fn spawn(&self, id: String, subject: Subject, slot: OwnedSemaphorePermit) {
        let this = self.clone();
        tokio::spawn(async move {
            this.metrics.in_flight().inc();
            let started = Instant::now();
            // Should this write fail, the row stays `queued` until its end is written below; the
            // store counts the error (mailtls_store_errors_total).
            this.store.start_check(&id).await.ok();
            let (row, outcome) = this.run(&id, &subject).await;
            tracing::info!(
                id,
                target = %subject,
                verdict = %row.verdict.unwrap_or(Verdict::Unknown),
                %outcome,
                duration_ms = crate::access_log::milliseconds(started),
                "check"
            );
            this.metrics
                .finished(row.verdict, started.elapsed().as_secs_f64());
            // The store may be away for a moment (a restart of PostgreSQL): a few tries.
            for attempt in 0..5u32 {
                match this.store.finish_check(&row).await {
                    Err(error) if error.is_transient() && attempt < 4 => {
                        tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
                    }
                    Err(error) => {
                        tracing::error!(id, %error, "cannot record a finished check");
                        break;
                    }
                    Ok(()) => break,
                }
            }
            this.metrics.in_flight().dec();
            this.ended.notify_waiters();
            drop(slot);
        });
    }

    /// Runs the check; its row, and its outcome for the log: the most serious problem's code
    /// ("ok" when none), or why it could not run.
    async fn run(&self, id: &str, subject: &Subject) -> (CheckRow, &'static str) {
        let mut row = CheckRow {
            id: id.to_string(),
            target: subject.to_string(),
            state: CheckState::Failed,
            created_at: 0,
            finished_at: None,
            verdict: None,
            page: None,
            report: None,
            error: None,
            options: self.fingerprint.clone(),
        };
        let checked =
            tokio::time::timeout(CHECK_LIMIT, self.engine.check(subject, &self.options)).await;
        row.finished_at = Some(now());
        let outcome = match checked {
            Err(_) => {
                row.error = Some(error_json(
                    "timeout",
                    &format!(
                        "The check took longer than {} s and was stopped.",
                        CHECK_LIMIT.as_secs()
                    ),
                ));
                "timeout"
            }
            Ok(Err(error)) => {
                let code = match &error {
                    mailtls_core::run::check::CheckError::Dns(dns) => match dns {
                        mailtls_core::probe::dns::DnsError::NotFound(_) => "no-such-name",
                        mailtls_core::probe::dns::DnsError::Refused { .. } => "private-address",
                        mailtls_core::probe::dns::DnsError::Timeout(_) => "dns-timeout",
                        _ => "dns-failed",
                    },
                };
                row.error = Some(error_json(code, &error.to_string()));
                code
            }
            Ok(Ok(report)) => {
                let output = wire::check::output(&report);
                let page = PageModel::new(&report, &output);
                row.state = CheckState::Done;
                row.verdict = Some(page.verdict);
                row.page = serde_json::to_string(&page).ok();
                row.report = serde_json::to_string(&output).ok();
                headline(&report)
            }
        };
        (row, outcome)
    }
}

/// The code of the most serious problem of `report` (the first error, else warning, else
/// info), or "ok": what `mailtls scan` prints as a target's top problem.
fn headline(report: &CheckReport) -> &'static str {
    let diagnoses: Vec<&Diagnosis> = match &report.checked {
        Checked::Host(host) => vec![&host.diagnosis],
        Checked::Domain(domain) => domain.report.hosts.iter().collect(),
    };
    diagnoses
        .into_iter()
        .flat_map(|d| {
            d.endpoints
                .iter()
                .flat_map(|e| &e.problems)
                .chain(&d.problems)
        })
        // Severity's order is its declaration's: error, warning, info.
        .min_by_key(|p| p.severity)
        .map_or("ok", |p| p.code.as_str())
}

fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}

/// 128 random bits, hex: an id nobody can guess (it is the permalink).
fn new_id() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // No system randomness: time and a counter still give distinct ids.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..].copy_from_slice(&(t as u64).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `id` looks like one of ours (32 lower-case hex digits).
pub fn is_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
