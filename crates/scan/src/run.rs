//! The scan loop: read the list on a thread of its own (a bounded channel keeps memory constant
//! however long the list), keep this shard's targets, skip those the store already has, check
//! the rest through the one engine (so every job shares its budgets, pauses and memo), and
//! commit each result as soon as it is done.
//!
//! Stopping is always clean: at `--max-duration`, or when the store fails for good (after
//! retries for a database that went away), the checks in flight are dropped (their connections
//! close) and nothing half-written remains; the same command continues later.

use std::collections::HashSet;
use std::io::BufRead;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::input::{Input, InputError, Item, Line};
use super::record::{self, TargetRecord};
use super::shard::Shard;
use super::store::{DONE_BATCH, RunStats, Store, StoreError};
use mailtls_core::diagnose::Verdict;
use mailtls_core::engine::Engine;
use mailtls_core::run::check::{CheckError, CheckOptions, CheckReport, now};

/// Targets checked at once, by default.
pub const DEFAULT_PARALLEL: usize = 64;
/// Items read ahead of the checks.
const READ_AHEAD: usize = 1024;
/// Waits before checking a target again when its DNS questions went unanswered (a failure on
/// this side, not the target's): dropped UDP answers under load are retried by the resolver,
/// and a target that still lost some is checked again twice, later, before it is recorded.
const UNANSWERED_RETRIES: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(10)];
/// Waits before each retry of a store that went away (about 15 s in all).
pub(crate) const STORE_RETRIES: [Duration; 5] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// What `check` does for each target.
    pub check: CheckOptions,
    /// This worker's share of the list.
    pub shard: Shard,
    /// Targets checked at once.
    pub parallel: usize,
    /// Stop taking new targets after this long.
    pub max_duration: Option<Duration>,
    /// Leases kept with other workers (a scan in PostgreSQL): their failure stops the scan.
    pub leases_failed: Option<watch::Receiver<Option<StoreError>>>,
    /// How long a lease on a queued target lasts without renewal.
    pub lease: Duration,
}

/// Where a scan's results go.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The store.
    pub store: Store,
    /// The scan's id.
    pub scan_id: String,
    /// This process's run.
    pub run_id: String,
}

/// What happened, as it happens (for a progress bar or a stream of results).
#[derive(Debug)]
pub enum Event {
    /// A target was checked and committed.
    Done(Box<TargetRecord>),
    /// A line that is not a target.
    Rejected {
        /// Its number.
        line: u64,
        /// Its text.
        text: String,
        /// Why.
        reason: String,
    },
    /// A target the scan already has (from an earlier run, another worker, or an earlier line).
    Skipped {
        /// Its line.
        line: u64,
        /// The target.
        key: String,
        /// Whether this run had already read it (a duplicate line).
        duplicate: bool,
    },
}

/// Why a scan stopped before the end of its list.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// `--max-duration` passed.
    #[error("stopped after --max-duration")]
    MaxDuration,
    /// The store failed for good.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// SIGTERM (Kubernetes removing the pod) or SIGINT (Ctrl-C).
    #[error("stopped by {0}")]
    Signal(&'static str),
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// What it read and did.
    pub stats: RunStats,
    /// Why it stopped early, if it did.
    pub stopped: Option<Stop>,
    /// The worst verdict among the targets this run checked.
    pub worst: Option<Verdict>,
}

/// Scans `input` into `destination` with `engine`, telling `on_event` what happens.
pub async fn scan<R, F>(
    engine: &Engine,
    destination: &Destination,
    input: Input<R>,
    options: &ScanOptions,
    mut on_event: F,
) -> Outcome
where
    R: BufRead + Send + 'static,
    F: FnMut(Event),
{
    let started = Instant::now();
    tracing::info!(
        scan = %destination.scan_id,
        run = %destination.run_id,
        shard = %options.shard,
        parallel = options.parallel,
        "scan started"
    );
    let (sender, mut items) = mpsc::channel(READ_AHEAD);
    let reader = std::thread::spawn(move || read(input, &sender));
    let deadline = options
        .max_duration
        .map(|d| Instant::now() + d)
        .unwrap_or_else(far_future);
    let parallel = options.parallel.max(1);
    let mut state = State::new();
    let mut input_done = false;
    let mut failed = options.leases_failed.clone();
    let mut signals = StopSignals::listen();
    let stopped = loop {
        if input_done && state.in_flight.is_empty() {
            break None;
        }
        let can_take = !input_done && state.in_flight.len() < parallel;
        tokio::select! {
            item = items.recv(), if can_take => {
                let Some(first) = item else {
                    input_done = true;
                    continue;
                };
                let room = parallel - state.in_flight.len();
                if let Err(stop) = state
                    .take(first, room, &mut items, engine, destination, options, &mut on_event)
                    .await
                {
                    break Some(stop);
                }
            }
            joined = state.in_flight.join_next(), if !state.in_flight.is_empty() => {
                // A check that panicked leaves its target undone, for the next run.
                let Some(Ok(checked)) = joined else {
                    continue;
                };
                if let Err(stop) = state
                    .settle(checked, engine, destination, options, false, &mut on_event)
                    .await
                {
                    break Some(stop);
                }
            }
            error = failure(&mut failed) => break Some(Stop::Store(error)),
            signal = signals.recv() => break Some(Stop::Signal(signal)),
            () = tokio::time::sleep_until(deadline) => break Some(Stop::MaxDuration),
        }
    };
    drop(items);
    let _ = reader.join();
    state.end(destination, started, stopped)
}

impl State {
    pub(crate) fn new() -> State {
        State {
            stats: RunStats::default(),
            worst: None,
            in_flight: JoinSet::new(),
            in_flight_keys: HashSet::new(),
        }
    }

    /// Ends a run: drops the checks in flight (their connections close; they are redone next
    /// time), logs how it ended, and says so.
    pub(crate) fn end(
        mut self,
        destination: &Destination,
        started: Instant,
        stopped: Option<Stop>,
    ) -> Outcome {
        self.in_flight.abort_all();
        let state = self;
        let mut stats = state.stats;
        stats.stopped = stopped.as_ref().map(ToString::to_string);
        let duration_ms = milliseconds(started.elapsed());
        match &stats.stopped {
            None => tracing::info!(
                scan = %destination.scan_id,
                run = %destination.run_id,
                lines_read = stats.lines_read,
                targets_done = stats.targets_done,
                duplicates = stats.duplicates,
                retried = stats.retried,
                duration_ms,
                "scan finished"
            ),
            // The binary says why, in its one-line error: the log only records it.
            Some(why) => tracing::info!(
                scan = %destination.scan_id,
                run = %destination.run_id,
                lines_read = stats.lines_read,
                targets_done = stats.targets_done,
                duplicates = stats.duplicates,
                retried = stats.retried,
                duration_ms,
                stopped = %why,
                "scan stopped before the end of its list"
            ),
        }
        Outcome {
            stats,
            stopped,
            worst: state.worst,
        }
    }

    /// A check that ended: checked again later when DNS left questions unanswered, else
    /// committed (out of the work queue when `dequeue`) and told to `on_event`.
    pub(crate) async fn settle<F: FnMut(Event)>(
        &mut self,
        checked: Checked,
        engine: &Engine,
        destination: &Destination,
        options: &ScanOptions,
        dequeue: bool,
        on_event: &mut F,
    ) -> Result<(), Stop> {
        let (line, result, checked_at, attempt, took) = checked;
        if let Some(wait) = again_after(&result, attempt) {
            tracing::debug!(
                target = %line.key,
                attempt,
                wait_s = wait.as_secs(),
                "DNS left questions unanswered: checking again"
            );
            self.stats.retried += 1;
            self.spawn(engine, options, line, attempt + 1, wait);
            return Ok(());
        }
        self.in_flight_keys.remove(&line.key);
        let record = record::record(&line, &result, checked_at);
        match commit(destination, &record, options.shard, dequeue).await? {
            true => {
                tracing::info!(
                    target = %record.target,
                    line = record.line,
                    verdict = %record.verdict.as_str(),
                    outcome = %record.error.map_or_else(|| record.headline(), |e| e.as_str()),
                    duration_ms = milliseconds(took),
                    "target"
                );
                self.stats.targets_done += 1;
                self.worst = Some(worse(self.worst, record.verdict));
                on_event(Event::Done(Box::new(record)));
            }
            false => on_event(Event::Skipped {
                line: line.line,
                key: line.key,
                duplicate: true,
            }),
        }
        Ok(())
    }
}

/// SIGTERM (Kubernetes removing a pod) and SIGINT (Ctrl-C), listened to for the whole scan:
/// they stop it cleanly (what is committed is kept, the checks in flight are dropped, leases
/// are given back) instead of killing the process.
pub(crate) struct StopSignals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    pub(crate) fn listen() -> StopSignals {
        use tokio::signal::unix::{SignalKind, signal};
        StopSignals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// Waits for either; returns its name. (A signal that cannot be listened to keeps its
    /// default: it ends the process.)
    pub(crate) async fn recv(&mut self) -> &'static str {
        let term = async {
            match &mut self.term {
                Some(term) => term.recv().await,
                None => std::future::pending().await,
            }
        };
        let int = async {
            match &mut self.int {
                Some(int) => int.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term => "SIGTERM",
            _ = int => "SIGINT",
        }
    }
}

/// Waits until the leases of a scan shared with other workers fail (never, without them).
pub(crate) async fn failure(
    failed: &mut Option<watch::Receiver<Option<StoreError>>>,
) -> StoreError {
    if let Some(receiver) = failed {
        loop {
            if let Some(error) = receiver.borrow_and_update().clone() {
                return error;
            }
            if receiver.changed().await.is_err() {
                break;
            }
        }
    }
    std::future::pending().await
}

/// A deadline that never comes (about 30 years away).
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// A target, its result, when it was checked, how many times it had been checked before, and
/// how long this check took.
pub(crate) type Checked = (Line, Result<CheckReport, CheckError>, i64, usize, Duration);

/// `duration` in milliseconds, to the microsecond (for the log).
fn milliseconds(duration: Duration) -> f64 {
    let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
    micros as f64 / 1000.0
}

/// Whether a check that ended is to be checked again ([`State::settle`] does it), keeping its
/// room.
pub(crate) fn checked_again(checked: &Checked) -> bool {
    again_after(&checked.1, checked.3).is_some()
}

/// How long to wait before checking a target again, when its result says mailtls's resolver
/// gave no answer and retries are left.
fn again_after(result: &Result<CheckReport, CheckError>, attempt: usize) -> Option<Duration> {
    let unanswered = match result {
        Ok(report) => report.unfinished(),
        Err(error) => error.is_transient(),
    };
    unanswered
        .then(|| UNANSWERED_RETRIES.get(attempt).copied())
        .flatten()
}

pub(crate) struct State {
    pub(crate) stats: RunStats,
    worst: Option<Verdict>,
    pub(crate) in_flight: JoinSet<Checked>,
    pub(crate) in_flight_keys: HashSet<String>,
}

impl State {
    /// Takes `first` and what else is ready (up to `room` targets), skips what is not this
    /// shard's or already done, and starts checking the rest.
    #[allow(clippy::too_many_arguments)]
    async fn take<F: FnMut(Event)>(
        &mut self,
        first: Result<Item, InputError>,
        room: usize,
        items: &mut mpsc::Receiver<Result<Item, InputError>>,
        engine: &Engine,
        destination: &Destination,
        options: &ScanOptions,
        on_event: &mut F,
    ) -> Result<(), Stop> {
        let mut batch: Vec<Line> = Vec::new();
        let mut next = Some(first);
        while let Some(item) = next.take() {
            self.stats.lines_read += 1;
            match item? {
                Item::Rejected { line, text, reason } => {
                    // Every worker reads every line; one records the rejects.
                    if options.shard.index == 0 {
                        let scan = &destination.scan_id;
                        with_retries(|| destination.store.reject(scan, line, &text, &reason))
                            .await?;
                    }
                    on_event(Event::Rejected { line, text, reason });
                }
                Item::Target(line) if options.shard.contains(&line.key) => batch.push(line),
                Item::Target(_) => {}
            }
            if batch.len() < room.min(DONE_BATCH) {
                next = items.try_recv().ok();
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = batch.iter().map(|l| l.key.clone()).collect();
        let done = with_retries(|| destination.store.done(&destination.scan_id, &keys)).await?;
        for line in batch {
            let earlier = done.get(&line.key);
            if earlier.is_some() || self.in_flight_keys.contains(&line.key) {
                let duplicate = earlier.is_none_or(|run| *run == destination.run_id);
                if duplicate {
                    self.stats.duplicates += 1;
                }
                on_event(Event::Skipped {
                    line: line.line,
                    key: line.key,
                    duplicate,
                });
                continue;
            }
            self.in_flight_keys.insert(line.key.clone());
            self.spawn(engine, options, line, 0, Duration::ZERO);
        }
        Ok(())
    }

    /// Checks `line` after `wait`, as its `attempt`th retry (0: the first check).
    pub(crate) fn spawn(
        &mut self,
        engine: &Engine,
        options: &ScanOptions,
        line: Line,
        attempt: usize,
        wait: Duration,
    ) {
        let engine = engine.clone();
        let check = options.check.clone();
        self.in_flight.spawn(async move {
            tokio::time::sleep(wait).await;
            let started = Instant::now();
            let result = engine.check(&line.subject, &check).await;
            (line, result, now(), attempt, started.elapsed())
        });
    }
}

/// Commits a record, retrying a store that went away.
async fn commit(
    destination: &Destination,
    record: &TargetRecord,
    shard: Shard,
    dequeue: bool,
) -> Result<bool, StoreError> {
    let shard = if dequeue {
        "queue".to_string()
    } else {
        shard.to_string()
    };
    with_retries(|| {
        destination.store.commit(
            &destination.scan_id,
            &destination.run_id,
            &shard,
            record,
            dequeue,
        )
    })
    .await
}

/// Runs `operation`, retrying after growing waits while its error is transient.
pub async fn with_retries<T, F, Fut>(mut operation: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut waits = STORE_RETRIES.iter();
    loop {
        match operation().await {
            Err(error) if error.is_transient() => match waits.next() {
                Some(wait) => tokio::time::sleep(*wait).await,
                None => return Err(error),
            },
            other => return other,
        }
    }
}

/// The list's items, read on their own thread into `sender` until it ends or nobody listens.
pub(crate) fn read<R: BufRead>(
    mut input: Input<R>,
    sender: &mpsc::Sender<Result<Item, InputError>>,
) {
    loop {
        let item = match input.next_item() {
            Ok(Some(item)) => Ok(item),
            Ok(None) => return,
            Err(error) => Err(error),
        };
        let failed = item.is_err();
        if sender.blocking_send(item).is_err() || failed {
            return;
        }
    }
}

/// The worse of two verdicts for a fleet: fail, then warn, then unknown, then ok.
pub fn worse(current: Option<Verdict>, next: Verdict) -> Verdict {
    let rank = |v: Verdict| match v {
        Verdict::Ok => 0,
        Verdict::Unknown => 1,
        Verdict::Warn => 2,
        Verdict::Fail => 3,
    };
    match current {
        Some(current) if rank(current) >= rank(next) => current,
        _ => next,
    }
}
