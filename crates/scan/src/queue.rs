//! The scan loop of a worker on a work queue (a scan in PostgreSQL without `--shard`): any
//! number of workers, on any machines, join one scan and leave it when they like.
//!
//! One worker at a time loads the list into the queue (the first to take the loading lease;
//! when it dies, another that has the list takes over from the last line in). Every worker
//! claims targets in list order with a lease (renewed by [`crate::shared::Leases`]), checks
//! them through its engine and commits each in the transaction that takes it out of the queue.
//! A worker ends when the list is all in and the queue is empty; while other workers still
//! hold targets it waits, ready to take over those whose lease passes.

use std::collections::VecDeque;
use std::io::BufRead;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::input::{Input, InputError, Item, Line};
use super::run::{
    Destination, Event, Outcome, ScanOptions, State, Stop, StopSignals, checked_again, failure,
    far_future, read, with_retries,
};
use super::store::{Claimed, LOAD_BATCH, LoadBatch, Store};
use mailtls_core::engine::Engine;

/// How often a worker with room asks the queue again after finding nothing to claim.
const POLL: Duration = Duration::from_millis(300);
/// Items read ahead of the loading.
const READ_AHEAD: usize = 1024;
/// How often a worker claims from the queue's start rather than after its last claim: how
/// late, at most, it sees a target given back or whose lease passed behind it, as a fraction
/// of the lease.
const FROM_START_EVERY_LEASE: u32 = 4;
/// Targets claimed ahead of the checks, so that a check that ends makes room for the next at
/// once, not after its commit and a claim (two database round trips on the worker's path).
const CLAIM_AHEAD: usize = 1;

/// What loading the list did.
#[derive(Debug, Default, Clone, Copy)]
struct LoadStats {
    lines_read: u64,
    duplicates: u64,
}

/// Scans the queue of `destination`'s scan, loading `input` into it when no other worker does,
/// telling `on_event` what happens.
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
        parallel = options.parallel,
        "scan started on the work queue"
    );
    let lease_ms = i64::try_from(options.lease.as_millis()).unwrap_or(i64::MAX);
    let deadline = options
        .max_duration
        .map(|d| Instant::now() + d)
        .unwrap_or_else(far_future);
    let parallel = options.parallel.max(1);
    let store = &destination.store;
    let (scan_id, run_id) = (&destination.scan_id, &destination.run_id);
    let (events, mut loader_events) = mpsc::unbounded_channel();
    let mut input = Some(input);
    let mut loader: Option<JoinHandle<Result<LoadStats, Stop>>> = None;
    let mut next_loader_try = Instant::now();
    let mut next_claim = Instant::now();
    let mut failed = options.leases_failed.clone();
    let mut signals = StopSignals::listen();
    let mut state = State::new();
    let mut ready: VecDeque<Claimed> = VecDeque::new();
    // Claims start after the last line this worker claimed (the rows before it were recorded
    // or are held), and from the queue's start when that finds nothing and every so often,
    // for targets given back or whose lease passed.
    let mut after: Option<u64> = None;
    let mut from_start_at = Instant::now();
    let stopped = loop {
        // Load the list when nobody does (at the start, or after its loader died).
        if loader.is_none() && input.is_some() && Instant::now() >= next_loader_try {
            match with_retries(|| store.take_loading(scan_id, run_id, lease_ms)).await {
                Ok(Some(from)) => {
                    if let Some(input) = input.take() {
                        let task = load(
                            store.clone(),
                            destination.clone(),
                            lease_ms,
                            input,
                            from,
                            events.clone(),
                        );
                        loader = Some(tokio::spawn(task));
                    }
                }
                Ok(None) => next_loader_try = Instant::now() + options.lease / 2,
                Err(error) => break Some(Stop::Store(error)),
            }
        }
        start_ready(&mut state, &mut ready, parallel, engine, options);
        let room = (parallel + CLAIM_AHEAD).saturating_sub(state.in_flight.len() + ready.len());
        if room > 0 && Instant::now() >= next_claim {
            if Instant::now() >= from_start_at {
                after = None;
                from_start_at = Instant::now() + options.lease / FROM_START_EVERY_LEASE;
            }
            let claimed = with_retries(|| {
                store.claim(scan_id, run_id, lease_ms, room.min(LOAD_BATCH), after)
            })
            .await;
            match claimed {
                Ok(claimed) if claimed.is_empty() && after.is_some() => {
                    // Nothing after the last claim: from the start, at once.
                    from_start_at = Instant::now();
                    continue;
                }
                Ok(claimed) if claimed.is_empty() => {
                    next_claim = Instant::now() + POLL;
                    if state.in_flight.is_empty() && loader.is_none() {
                        match with_retries(|| store.queue_state(scan_id)).await {
                            Ok(queue) if queue.loaded && queue.queued == 0 => break None,
                            Ok(queue) if queue.loaded => {
                                // A target this worker holds with nothing in flight (its
                                // check panicked) would otherwise wait there for ever: given
                                // back, it is checked again. (A queued target already recorded
                                // leaves the queue when claimed.)
                                let tidied =
                                    with_retries(|| store.give_back_claims(scan_id, run_id)).await;
                                if let Err(error) = tidied {
                                    break Some(Stop::Store(error));
                                }
                            }
                            Ok(_) => {}
                            Err(error) => break Some(Stop::Store(error)),
                        }
                    }
                }
                Ok(claimed) => {
                    after = claimed.iter().map(|c| c.line.line).max();
                    ready.extend(claimed);
                    start_ready(&mut state, &mut ready, parallel, engine, options);
                }
                Err(error) => break Some(Stop::Store(error)),
            }
        }
        let can_claim = parallel + CLAIM_AHEAD > state.in_flight.len() + ready.len();
        tokio::select! {
            Some(event) = loader_events.recv() => on_event(event),
            loaded = async { loader.as_mut()?.await.ok() }, if loader.is_some() => {
                loader = None;
                next_claim = Instant::now();
                match loaded {
                    Some(Ok(loaded)) => {
                        state.stats.lines_read += loaded.lines_read;
                        state.stats.duplicates += loaded.duplicates;
                    }
                    Some(Err(stop)) => break Some(stop),
                    // The loading task panicked: another worker takes the loading over.
                    None => {}
                }
            }
            joined = state.in_flight.join_next(), if !state.in_flight.is_empty() => {
                let Some(Ok(checked)) = joined else {
                    continue;
                };
                // The next target takes the room at once; the commit and the claim follow.
                if !checked_again(&checked)
                    && let Some(each) = ready.pop_front()
                {
                    start(&mut state, engine, options, each);
                }
                if let Err(stop) = state
                    .settle(checked, engine, destination, options, true, &mut on_event)
                    .await
                {
                    break Some(stop);
                }
            }
            () = tokio::time::sleep_until(next_claim), if can_claim => {}
            () = tokio::time::sleep_until(next_loader_try), if loader.is_none() && input.is_some() => {}
            error = failure(&mut failed) => break Some(Stop::Store(error)),
            signal = signals.recv() => break Some(Stop::Signal(signal)),
            () = tokio::time::sleep_until(deadline) => break Some(Stop::MaxDuration),
        }
    };
    if let Some(loader) = loader {
        loader.abort();
    }
    while let Ok(event) = loader_events.try_recv() {
        on_event(event);
    }
    state.end(destination, started, stopped)
}

/// Starts checking claimed targets, in order, while fewer than `parallel` are in flight.
fn start_ready(
    state: &mut State,
    ready: &mut VecDeque<Claimed>,
    parallel: usize,
    engine: &Engine,
    options: &ScanOptions,
) {
    while state.in_flight.len() < parallel {
        let Some(each) = ready.pop_front() else {
            break;
        };
        start(state, engine, options, each);
    }
}

/// Starts checking a claimed target.
fn start(state: &mut State, engine: &Engine, options: &ScanOptions, each: Claimed) {
    if each.attempts > 0 {
        tracing::info!(
            target = %each.line.key,
            attempts = each.attempts,
            "taking over a target whose lease passed"
        );
    }
    state.in_flight_keys.insert(each.line.key.clone());
    state.spawn(engine, options, each.line, 0, Duration::ZERO);
}

/// Loads `input` into the queue from the line after `from`, while this worker holds the
/// loading lease; rejected lines and targets recorded before go to `events`.
async fn load<R: BufRead + Send + 'static>(
    store: Store,
    destination: Destination,
    lease_ms: i64,
    input: Input<R>,
    from: u64,
    events: mpsc::UnboundedSender<Event>,
) -> Result<LoadStats, Stop> {
    let (scan_id, run_id) = (&destination.scan_id, &destination.run_id);
    let (sender, mut items) = mpsc::channel(READ_AHEAD);
    let reader = std::thread::spawn(move || read(input, &sender));
    let mut stats = LoadStats::default();
    let mut through = from;
    loop {
        let first = items.recv().await;
        let last = first.is_none();
        let mut batch: Vec<Result<Item, InputError>> = first.into_iter().collect();
        while batch.len() < LOAD_BATCH {
            match items.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut lines: Vec<Line> = Vec::new();
        let mut rejected = Vec::new();
        for item in batch {
            let item = item?;
            let number = match &item {
                Item::Target(line) => line.line,
                Item::Rejected { line, .. } => *line,
            };
            through = through.max(number);
            if number <= from {
                continue;
            }
            stats.lines_read += 1;
            match item {
                Item::Target(line) => lines.push(line),
                Item::Rejected { line, text, reason } => {
                    let _ = events.send(Event::Rejected {
                        line,
                        text: text.clone(),
                        reason: reason.clone(),
                    });
                    rejected.push((line, text, reason));
                }
            }
        }
        // Targets recorded before (an earlier run of this scan) are not queued again.
        let keys: Vec<String> = lines.iter().map(|l| l.key.clone()).collect();
        let done = with_retries(|| store.done(scan_id, &keys)).await?;
        lines.retain(|line| {
            let recorded = done.contains_key(&line.key);
            if recorded {
                let _ = events.send(Event::Skipped {
                    line: line.line,
                    key: line.key.clone(),
                    duplicate: false,
                });
            }
            !recorded
        });
        let batch = LoadBatch {
            lines: &lines,
            rejected: &rejected,
            through,
            last,
        };
        let loaded = with_retries(|| store.load(scan_id, run_id, lease_ms, &batch)).await?;
        let Some(loaded) = loaded else {
            // The lease passed and another worker loads the list now.
            tracing::info!(scan = %scan_id, "the list's loading was taken over by another worker");
            break;
        };
        stats.duplicates += loaded.already_queued;
        if last {
            break;
        }
    }
    // The reader thread ends at its next line, as nobody takes it (not joined: standard input
    // may never give one).
    drop(items);
    drop(reader);
    Ok(stats)
}
