//! The limits every worker of a scan in PostgreSQL keeps together (`--per-ip`, `--per-ip-rate`,
//! `--dns-rate`), and the leases that make them safe: the engine asks [`Leases`] (its
//! [`SharedLimits`]) for a place before each connection and a turn before each connection and
//! DNS question; the places are rows of `address_slots`, the turns reservations on
//! `address_rate` (see `store/places.rs`).
//!
//! Every place and queued target a worker holds is a lease it renews every quarter of the
//! lease's length. A worker that dies stops renewing, and its leases pass: nobody waits for it
//! longer than one lease. A worker that cannot renew (the database went away) must assume that
//! its leases passed and that other workers took its places: it *fences* itself, asking for
//! nothing more and letting nothing through, and its scan stops (the scan loop watches
//! [`Leases::failed`]), so that the limits hold even then.

use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::run::STORE_RETRIES;
use crate::store::{DNS_RATE_ROW, Store, StoreError};
use mailtls_core::probe::shared::{SharedLimits, SharedPlace, Wait};

/// How long a lease lasts without renewal, by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(20);
/// First wait for a place while every place of an address is held; it doubles up to
/// [`PLACE_POLL_MAX`].
const PLACE_POLL_FIRST: Duration = Duration::from_millis(5);
/// Longest wait between two asks for a place.
const PLACE_POLL_MAX: Duration = Duration::from_millis(50);
/// How much DNS time one reservation covers at most: up to `--dns-rate` / 50 turns at a time,
/// handed out here, so that a question costs a database round trip only once in so many.
const DNS_WINDOW: Duration = Duration::from_millis(20);
/// Most recent asks remembered to size the next window.
const MAX_ASKED: usize = 4096;
/// How far in the past a DNS turn may still be taken: a window may start that long ago (turns
/// nobody took), and a turn may be used that long after its time or, when its time had come
/// before it was reserved, after its reservation (so a window from the past lasts as long as
/// one from the future). A question thus leaves at most twice this after its turn's time
/// (and [`DNS_LEAVING`], and an interval more for the first of a pair): in any second all the
/// workers together ask at most (1 s + 50 ms) / interval + [`MOST_TOGETHER`] questions, which
/// the spacing of [`dns_interval_us`] keeps within `--dns-rate` from 3 a second up.
const DNS_CREDIT: Duration = Duration::from_millis(20);
/// How much wider DNS turns are spaced than `--dns-rate` says: room for the turns taken up to
/// twice [`DNS_CREDIT`] late (4% of a second), and for a question that leaves a moment after
/// its turn (the resolver's task must run first; later on a loaded machine), as the resolver
/// counts when they arrive.
const DNS_MARGIN_PERCENT: u64 = 6;
/// How late, at most, a question may leave after its turn was taken (the resolver's task must
/// run first): part of the [`DNS_MARGIN_PERCENT`].
const DNS_LEAVING: Duration = Duration::from_millis(10);
/// Most questions asked together (A and AAAA): they leave at the time of the last of their
/// turns, so the first is used up to an interval later than its time. Below about 200
/// questions a second, turns are spaced wider still for it (see [`dns_interval_us`]).
const MOST_TOGETHER: u64 = 2;
/// Most addresses (and rates) remembered as having their rows.
const MAX_KNOWN: usize = 65_536;
/// How long the clock offset of the shortest round trip is trusted.
const CLOCK_SAMPLE_AGE: Duration = Duration::from_secs(30);
/// Most reservations in a row whose turns all came too late before a turn is taken anyway (one
/// interval later, to be safe): a bound for a machine too loaded to keep time.
const MAX_RESERVATIONS: usize = 100;
/// Longest a stopping worker tries to give its leases back.
const GIVE_UP_WAIT: Duration = Duration::from_secs(3);
/// Places given back in one statement, at most.
const RELEASE_BATCH: usize = 64;

/// The limits kept together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedSettings {
    /// Connections at once to one address, for all workers.
    pub per_ip: u32,
    /// New connections a second to one address, for all workers.
    pub per_ip_rate: Option<NonZeroU32>,
    /// DNS questions a second, for all workers.
    pub dns_rate: Option<NonZeroU32>,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
}

impl SharedSettings {
    /// The limits as canonical JSON (stored with the scan: every live worker keeps the same).
    pub fn limits_json(&self) -> String {
        format!(
            "{{\"per_ip\":{},\"per_ip_rate\":{},\"dns_rate\":{}}}",
            self.per_ip,
            self.per_ip_rate.map_or(0, NonZeroU32::get),
            self.dns_rate.map_or(0, NonZeroU32::get)
        )
    }

    /// Which limits differ between two [`SharedSettings::limits_json`], named as options.
    pub fn differences(ours: &str, theirs: &str) -> Vec<String> {
        let read = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
        let (Some(ours), Some(theirs)) = (read(ours), read(theirs)) else {
            return vec!["the limits recorded by another mailtls version".to_string()];
        };
        [
            ("per_ip", "--per-ip"),
            ("per_ip_rate", "--per-ip-rate"),
            ("dns_rate", "--dns-rate"),
        ]
        .iter()
        .filter(|(key, _)| ours.get(key) != theirs.get(key))
        .map(|(key, option)| {
            let value =
                |v: &serde_json::Value| v.get(key).map_or("?".to_string(), |n| n.to_string());
            format!("{option} {} (the scan's: {})", value(&ours), value(&theirs))
        })
        .collect()
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }
}

/// One worker's leases on a scan, and its side of the shared limits.
#[derive(Debug)]
pub struct Leases {
    store: Store,
    scan_id: String,
    run_id: String,
    settings: SharedSettings,
    /// Addresses whose places and rate rows this worker has made sure of.
    places_known: Mutex<HashSet<IpAddr>>,
    rates_known: Mutex<HashSet<String>>,
    /// Places to give back, batched by a task of their own.
    release: mpsc::UnboundedSender<(IpAddr, u32)>,
    /// DNS turns reserved and not used yet.
    dns_turns: tokio::sync::Mutex<DnsTurns>,
    /// Turns asked for by questions waiting for `dns_turns`.
    dns_waiting: AtomicU64,
    /// The database's clock here.
    clock: Clock,
    /// Set, once, when the leases can no longer be kept.
    failed: watch::Sender<Option<StoreError>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Leases {
    /// Starts keeping `run_id`'s leases on `scan_id` in `store` (a store of its own is best:
    /// commits then never wait for a place's connection): renewing them, and giving back
    /// places in the background.
    pub fn start(
        store: Store,
        scan_id: &str,
        run_id: &str,
        settings: SharedSettings,
    ) -> Arc<Leases> {
        let (release, released) = mpsc::unbounded_channel();
        let (failed, _) = watch::channel(None);
        let leases = Arc::new(Leases {
            store,
            scan_id: scan_id.to_string(),
            run_id: run_id.to_string(),
            settings,
            places_known: Mutex::default(),
            rates_known: Mutex::default(),
            release,
            dns_turns: tokio::sync::Mutex::default(),
            dns_waiting: AtomicU64::new(0),
            clock: Clock::new(),
            failed,
            tasks: Mutex::default(),
        });
        let renewing = tokio::spawn(renew(Arc::downgrade(&leases)));
        let releasing = tokio::spawn(give_back(Arc::downgrade(&leases), released));
        leases.lock_tasks().extend([renewing, releasing]);
        leases
    }

    /// The limits kept.
    pub fn settings(&self) -> SharedSettings {
        self.settings
    }

    /// Why the leases can no longer be kept, once they cannot (watch it to stop the scan).
    pub fn failed(&self) -> watch::Receiver<Option<StoreError>> {
        self.failed.subscribe()
    }

    /// Stops renewing and gives back every lease still held (targets, places, loading), so
    /// that other workers need not wait for them to pass. Tried even after the leases failed
    /// (the worker's connections are closed now): what is still this worker's is freed, and
    /// what a database that stays away keeps passes with its lease.
    pub async fn finish(&self) {
        for task in self.lock_tasks().drain(..) {
            task.abort();
        }
        let given_up = self.store.give_up_leases(&self.scan_id, &self.run_id);
        let _ = tokio::time::timeout(GIVE_UP_WAIT, given_up).await;
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives up for good: nothing more is let through.
    fn fence(&self, error: StoreError) {
        tracing::info!(scan = %self.scan_id, run = %self.run_id, error = %error,
                       "the shared limits can no longer be kept: stopping");
        self.failed.send_if_modified(|failed| {
            if failed.is_none() {
                *failed = Some(error);
                true
            } else {
                false
            }
        });
    }

    fn fenced(&self) -> bool {
        self.failed.borrow().is_some()
    }

    /// Runs `operation`, retrying a database that went away; when it stays away (or fails
    /// otherwise), fences this worker and never returns.
    async fn keep<T, F, Fut>(&self, mut operation: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut waits = STORE_RETRIES.iter();
        loop {
            if self.fenced() {
                return std::future::pending().await;
            }
            match operation().await {
                Ok(value) => return value,
                Err(error) if error.is_transient() => match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => self.fence(error),
                },
                Err(error) => self.fence(error),
            }
        }
    }

    async fn wait_for_place(&self, address: IpAddr) -> SharedPlace {
        let known = lock(&self.places_known).contains(&address);
        if !known {
            let per_ip = self.settings.per_ip;
            self.keep(|| self.store.add_places(&self.scan_id, address, per_ip))
                .await;
            remember(&self.places_known, address);
        }
        let mut wait = PLACE_POLL_FIRST;
        loop {
            let taken = self
                .keep(|| {
                    self.store.take_place(
                        &self.scan_id,
                        &self.run_id,
                        address,
                        self.settings.per_ip,
                        self.settings.lease_ms(),
                    )
                })
                .await;
            if let Some(slot) = taken {
                return SharedPlace { address, slot };
            }
            tokio::time::sleep(wait + jitter(wait / 2)).await;
            wait = (wait * 2).min(PLACE_POLL_MAX);
        }
    }

    /// Waits for the next turn of the rate `row` at `per_second`.
    async fn wait_for_turn(&self, row: &str, per_second: NonZeroU32) {
        self.add_rate(row).await;
        let interval_us = 1_000_000u32.div_ceil(per_second.get());
        let late = Duration::from_micros(u64::from(interval_us / 2));
        for _ in 0..MAX_RESERVATIONS {
            let (turn, answered) = self
                .reserve(row, u64::from(interval_us), Duration::ZERO)
                .await;
            // Used later, a turn would come too close to the next, which another worker may
            // have: reserved again.
            if answered <= turn + late {
                wait_until(turn).await;
                return;
            }
        }
        // Late every time (a machine too loaded to keep time): one interval more, to be safe.
        tokio::time::sleep(Duration::from_micros(u64::from(interval_us))).await;
    }

    /// Reserves `span_us` of the rate `row`, starting no earlier than `credit` ago; returns
    /// when (on this machine's clock) the reservation starts, and when its answer came.
    async fn reserve(&self, row: &str, span_us: u64, credit: Duration) -> (Instant, Instant) {
        let span_us = i64::try_from(span_us).unwrap_or(i64::MAX);
        let credit_us = i64::try_from(credit.as_micros()).unwrap_or(0);
        let asked = Instant::now();
        let (turn_us, db_now_us) = self
            .keep(|| {
                self.store
                    .reserve_turns(&self.scan_id, row, span_us, credit_us)
            })
            .await;
        let answered = Instant::now();
        (
            self.clock.local(asked, answered, db_now_us, turn_us),
            answered,
        )
    }

    async fn add_rate(&self, row: &str) {
        let known = lock(&self.rates_known).contains(row);
        if !known {
            self.keep(|| self.store.add_rate(&self.scan_id, row)).await;
            remember(&self.rates_known, row.to_string());
        }
    }

    /// Waits for `n` turns next to each other, for questions sent together at the last of
    /// them. Turns come from windows this worker reserved: a window is the worker's alone, so
    /// two of its turns have no other worker's between them. A window holds as many turns as
    /// the worker asked for in the last [`DNS_WINDOW`] and is waiting to ask for now (at least
    /// `n`, at most the rate's turns in a [`DNS_WINDOW`]): a worker asking often pays a
    /// database round trip only once in many questions, and one asking seldom does not hold
    /// turns it will not use. A window may start up to [`DNS_CREDIT`] in the past (turns
    /// nobody took), and a turn may be used up to [`DNS_CREDIT`] after its time or, when its
    /// time had come before it was reserved, after it was reserved: so one worker's window
    /// does not make the others (and its own next question) wait while the resolver has turns
    /// to spare, and a window from the past lasts as long as one from the future.
    async fn wait_for_dns_turns(&self, per_second: NonZeroU32, n: u32) {
        let interval_us = dns_interval_us(per_second);
        let window_us = u64::try_from(DNS_WINDOW.as_micros()).unwrap_or(20_000);
        let full = (window_us / interval_us).max(1);
        self.dns_waiting.fetch_add(u64::from(n), Ordering::Relaxed);
        let mut turns = self.dns_turns.lock().await;
        self.dns_waiting.fetch_sub(u64::from(n), Ordering::Relaxed);
        // Asks still waiting for the lock will want turns too: one window for a burst.
        let demand = turns.asked(Instant::now(), n) + self.dns_waiting.load(Ordering::Relaxed);
        for _ in 0..MAX_RESERVATIONS {
            if let Some(last) = turns.take(Instant::now(), n) {
                drop(turns);
                wait_until(last).await;
                return;
            }
            let count = demand.clamp(u64::from(n), full.max(u64::from(n)));
            let span_us = count * interval_us;
            self.add_rate(DNS_RATE_ROW).await;
            // Before the reservation: a turn whose time had come is used within DNS_CREDIT of
            // this, which is no later than the database's time of the reservation.
            let asked = Instant::now();
            let (start, _) = self.reserve(DNS_RATE_ROW, span_us, DNS_CREDIT).await;
            let step = Duration::from_micros(interval_us);
            turns.add_window(start, step, count, asked);
        }
        drop(turns);
        tokio::time::sleep(Duration::from_micros(u64::from(n) * interval_us)).await;
    }
}

/// One reserved DNS turn.
#[derive(Debug, Clone, Copy)]
struct Turn {
    /// Its window (turns of one window have no other worker's between them).
    window: u64,
    /// Its time: no question before it.
    at: Instant,
    /// The last moment it may be used: [`DNS_CREDIT`] after its time or, when its time had
    /// come before it was reserved, after the reservation.
    until: Instant,
}

/// The DNS turns a worker reserved and has not used yet, by window, and how many it asked for
/// lately.
#[derive(Debug, Default)]
struct DnsTurns {
    /// Turns not used yet, in order.
    turns: VecDeque<Turn>,
    /// The next window's number.
    windows: u64,
    /// When turns were asked for in the last [`DNS_WINDOW`], and how many.
    asked: VecDeque<(Instant, u32)>,
}

impl DnsTurns {
    /// Notes that `n` turns are asked for now; returns how many were asked for in the last
    /// [`DNS_WINDOW`], these included.
    fn asked(&mut self, now: Instant, n: u32) -> u64 {
        while self
            .asked
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > DNS_WINDOW)
        {
            self.asked.pop_front();
        }
        if self.asked.len() >= MAX_ASKED {
            self.asked.pop_front();
        }
        self.asked.push_back((now, n));
        self.asked.iter().map(|(_, n)| u64::from(*n)).sum()
    }

    /// Takes `n` turns of one window, the first such, and returns when the questions leave: at
    /// the time of the last of them (or now, when that has passed). Turns that can no longer
    /// be used are dropped.
    fn take(&mut self, now: Instant, n: u32) -> Option<Instant> {
        self.turns.retain(|turn| turn.until >= now);
        let n = usize::try_from(n).ok()?.max(1);
        let mut first = 0;
        while first + n <= self.turns.len() {
            let (head, last) = (self.turns[first], self.turns[first + n - 1]);
            if head.window == last.window {
                return self
                    .turns
                    .drain(first..first + n)
                    .next_back()
                    .map(|turn| turn.at.max(now));
            }
            first += 1;
        }
        None
    }

    /// Adds a window of `count` turns `step` apart from `start`, reserved at `reserved` (or
    /// just after).
    fn add_window(&mut self, start: Instant, step: Duration, count: u64, reserved: Instant) {
        let window = self.windows;
        self.windows += 1;
        for i in 0..count {
            let at = start + step * u32::try_from(i).unwrap_or(u32::MAX);
            let until = at.max(reserved) + DNS_CREDIT;
            self.turns.push_back(Turn { window, at, until });
        }
    }
}

/// The database's clock on this machine's: the offset between the two, from the reservation
/// with the shortest round trip so far (its error is at most half that round trip), so that a
/// turn reserved on the database's clock starts at that moment here, however long the answer
/// took (a lock wait, a loaded machine).
#[derive(Debug)]
struct Clock {
    origin: Instant,
    /// The shortest round trip, the offset it gave (database microseconds minus local
    /// microseconds since `origin`), and when (a sample older than [`CLOCK_SAMPLE_AGE`] gives
    /// way: the two clocks drift apart).
    best: Mutex<Option<(Duration, i64, Instant)>>,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            // A second back: a turn up to DNS_CREDIT before the first reservation (the worker
            // has just started) is still a time after it.
            origin: Instant::now()
                .checked_sub(Duration::from_secs(1))
                .unwrap_or_else(Instant::now),
            best: Mutex::new(None),
        }
    }

    /// Learns from an answer (`db_now_us` happened between `asked` and `answered`) and returns
    /// when `db_us` is here.
    fn local(&self, asked: Instant, answered: Instant, db_now_us: i64, db_us: i64) -> Instant {
        let rtt = answered.saturating_duration_since(asked);
        let middle = asked + rtt / 2;
        let local_us = i64::try_from(middle.duration_since(self.origin).as_micros()).unwrap_or(0);
        let offset = {
            let mut best = self.best.lock().unwrap_or_else(|p| p.into_inner());
            match *best {
                Some((shortest, offset, at))
                    if shortest <= rtt && at.elapsed() < CLOCK_SAMPLE_AGE =>
                {
                    offset
                }
                _ => {
                    let offset = db_now_us - local_us;
                    *best = Some((rtt, offset, answered));
                    offset
                }
            }
        };
        let here_us = u64::try_from(db_us - offset).unwrap_or(0);
        self.origin + Duration::from_micros(here_us)
    }
}

impl SharedLimits for Leases {
    fn place(&self, address: IpAddr) -> Wait<'_, SharedPlace> {
        Box::pin(self.wait_for_place(address))
    }

    fn give_back(&self, place: SharedPlace) {
        // Without the task (the scan ended), the place's lease passes on its own.
        let _ = self.release.send((place.address, place.slot));
    }

    fn connection_turn(&self, address: IpAddr) -> Wait<'_, ()> {
        Box::pin(async move {
            if let Some(rate) = self.settings.per_ip_rate {
                self.wait_for_turn(&address.to_string(), rate).await;
            }
        })
    }

    fn dns_turn(&self, questions: u32) -> Wait<'_, ()> {
        Box::pin(async move {
            match (self.settings.dns_rate, questions) {
                (None, _) | (_, 0) => {}
                (Some(rate), n) => self.wait_for_dns_turns(rate, n).await,
            }
        })
    }
}

/// Renews the leases every quarter of a lease; fences the worker when three quarters of a
/// lease passed without a renewal (its leases may be gone before it could know).
async fn renew(leases: std::sync::Weak<Leases>) {
    let Some(every) = leases.upgrade().map(|l| l.settings.lease / 4) else {
        return;
    };
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let Some(leases) = leases.upgrade() else {
            return;
        };
        let lease_ms = leases.settings.lease_ms();
        let attempt = tokio::time::timeout(
            every,
            leases
                .store
                .renew(&leases.scan_id, &leases.run_id, lease_ms),
        )
        .await;
        match attempt {
            Ok(Ok(())) => renewed = Instant::now(),
            Ok(Err(error)) if !error.is_transient() => leases.fence(error),
            failed => {
                if renewed.elapsed() >= leases.settings.lease * 3 / 4 {
                    let error = match failed {
                        Ok(Err(error)) => error,
                        _ => StoreError::Unavailable(
                            leases.store.location().to_string(),
                            "no answer while renewing the scan's leases".to_string(),
                        ),
                    };
                    leases.fence(error);
                    return;
                }
            }
        }
    }
}

/// Gives back the places sent on `released`, in batches.
async fn give_back(
    leases: std::sync::Weak<Leases>,
    mut released: mpsc::UnboundedReceiver<(IpAddr, u32)>,
) {
    let mut batch = Vec::with_capacity(RELEASE_BATCH);
    while released.recv_many(&mut batch, RELEASE_BATCH).await > 0 {
        let Some(leases) = leases.upgrade() else {
            return;
        };
        if leases.fenced() {
            return;
        }
        // Not given back (the database went away): its lease passes.
        let freed = leases
            .store
            .free_places(&leases.scan_id, &leases.run_id, &batch)
            .await;
        if let Err(error) = freed {
            tracing::debug!(error = %error, "places not given back: their leases will pass");
        }
        batch.clear();
    }
}

/// The time between two DNS turns of all the workers at `per_second`, with
/// [`DNS_MARGIN_PERCENT`] more (microseconds); at low rates, where an interval is long, wider
/// still, so that a second also holds the first of [`MOST_TOGETHER`] questions used an
/// interval or more late: (1 s + the lateness) / interval + [`MOST_TOGETHER`] turns at most.
/// At 1 or 2 a second, questions asked together are that many at once, whatever the spacing.
fn dns_interval_us(per_second: NonZeroU32) -> u64 {
    let rate = u64::from(per_second.get());
    // Rounded up: rounded down, a turn of a high rate would lose the margin.
    let wider = (1_000_000 * (100 + DNS_MARGIN_PERCENT)).div_ceil(100 * rate);
    let together = match rate.checked_sub(MOST_TOGETHER) {
        Some(room) if room > 0 => (1_000_000 + dns_lateness_us()).div_ceil(room),
        _ => 0,
    };
    wider.max(together).max(1)
}

/// How late a question may leave after its turn's time, besides the spread of questions asked
/// together: twice [`DNS_CREDIT`] (a window from the past, used up to a credit after its
/// reservation) and [`DNS_LEAVING`].
fn dns_lateness_us() -> u64 {
    u64::try_from((DNS_CREDIT * 2 + DNS_LEAVING).as_micros()).unwrap_or(u64::MAX)
}

/// Waits until `at`, not at all when it has passed (tokio's timer rounds a deadline up to its
/// next millisecond, even one that has just passed).
async fn wait_until(at: Instant) {
    if at > Instant::now() {
        tokio::time::sleep_until(at).await;
    }
}

/// A random wait up to `most` (so that waiting workers do not ask at the same instant).
fn jitter(most: Duration) -> Duration {
    use ring::rand::SecureRandom as _;
    let mut byte = [0u8; 1];
    let _ = ring::rand::SystemRandom::new().fill(&mut byte);
    most * u32::from(byte[0]) / 255
}

/// Adds `value` to `set`, forgetting the set first when it is full (the rows exist in the
/// database; making sure of one again costs a statement).
fn remember<T: std::hash::Hash + Eq>(set: &Mutex<HashSet<T>>, value: T) {
    let mut set = lock(set);
    if set.len() >= MAX_KNOWN {
        set.clear();
    }
    set.insert(value);
}

/// A set behind a lock; one a panicking holder left is still consistent (each use is one call).
fn lock<T>(set: &Mutex<HashSet<T>>) -> std::sync::MutexGuard<'_, HashSet<T>> {
    set.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(per_ip: u32, rate: u32, dns: u32) -> SharedSettings {
        SharedSettings {
            per_ip,
            per_ip_rate: NonZeroU32::new(rate),
            dns_rate: NonZeroU32::new(dns),
            lease: DEFAULT_LEASE,
        }
    }

    #[test]
    fn differing_limits_are_named_as_options_with_the_scans_value() {
        let ours = settings(8, 10, 500).limits_json();
        let theirs = settings(2, 10, 0).limits_json();
        assert_eq!(
            SharedSettings::differences(&ours, &theirs),
            [
                "--per-ip 8 (the scan's: 2)",
                "--dns-rate 500 (the scan's: 0)"
            ]
        );
        assert!(SharedSettings::differences(&ours, &ours).is_empty());
        assert_eq!(
            SharedSettings::differences(&ours, "not json"),
            ["the limits recorded by another mailtls version"]
        );
    }

    #[test]
    fn dns_turns_are_spaced_a_little_wider_than_the_rate() {
        let interval = |rate| dns_interval_us(NonZeroU32::new(rate).expect("not zero"));
        assert_eq!(interval(500), 2_120);
        // At 40 a second, wider still, for the first of A and AAAA used an interval late.
        assert_eq!(interval(40), 27_632);
        // However high the rate, turns are at least a microsecond apart (never zero).
        assert_eq!(interval(u32::MAX), 1);
    }

    #[test]
    fn turns_taken_late_keep_every_second_within_the_rate() {
        // Each turn used within twice DNS_CREDIT of its time (and DNS_LEAVING more), the first
        // of two questions asked together an interval more, turns one interval apart: a second
        // holds the turns of (1 s + that lateness) / interval, and MOST_TOGETHER more.
        let late_us = u64::try_from(DNS_CREDIT.as_micros()).expect("small") * 2 + 10_000;
        assert_eq!(dns_lateness_us(), late_us);
        for rate in (3..=2_000).chain([4_000, 10_000, 65_535, 1_000_000]) {
            let interval = dns_interval_us(NonZeroU32::new(rate).expect("not zero"));
            let most = (1_000_000 + late_us) / interval + MOST_TOGETHER;
            assert!(most <= u64::from(rate), "{rate}/s: {most} in a second");
        }
        // At 1 and 2 a second, only the margin (two questions asked together are two).
        assert_eq!(dns_interval_us(NonZeroU32::MIN), 1_060_000);
    }

    #[test]
    fn turns_taken_together_come_from_one_window() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        let mut turns = DnsTurns::default();
        turns.add_window(now + ms(10), ms(1), 1, now);
        turns.add_window(now + ms(20), ms(1), 3, now);
        // Two turns together skip the lone turn of the first window (another worker's turns
        // may lie between the two windows) and take the first two of the second.
        assert_eq!(turns.take(now, 2), Some(now + ms(21)));
        assert_eq!(turns.take(now, 1), Some(now + ms(10)));
        assert_eq!(turns.take(now, 2), None);
        assert_eq!(turns.take(now, 1), Some(now + ms(22)));
        assert_eq!(turns.take(now, 1), None);
    }

    #[test]
    fn turns_taken_together_leave_at_the_last_ones_time() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        let mut turns = DnsTurns::default();
        // Turns 30 ms apart (a low rate): two together leave at the second's time, even though
        // the first is then used more than DNS_CREDIT after its own (the spacing allows it).
        turns.add_window(now, ms(30), 3, now);
        assert_eq!(turns.take(now, 2), Some(now + ms(30)));
        assert_eq!(turns.take(now, 1), Some(now + ms(60)));
        assert_eq!(turns.take(now, 1), None);
    }

    #[test]
    fn turns_from_the_past_last_a_credit_after_their_reservation() {
        let reserved = Instant::now() + Duration::from_secs(1);
        let ms = Duration::from_millis;
        let mut turns = DnsTurns::default();
        // A window reserved with turns 10 and 5 ms in the past, one now and one 5 ms ahead.
        turns.add_window(reserved - ms(10), ms(5), 4, reserved);
        // 15 ms later the three whose time had come can still go together, at once.
        assert_eq!(turns.take(reserved + ms(15), 3), Some(reserved + ms(15)));
        let mut turns = DnsTurns::default();
        turns.add_window(reserved - ms(10), ms(5), 4, reserved);
        // More than DNS_CREDIT after the reservation only the one ahead is left (usable until
        // DNS_CREDIT after its own time), and taken at once.
        let later = reserved + DNS_CREDIT + ms(1);
        assert_eq!(turns.take(later, 1), Some(later));
        assert_eq!(turns.take(later, 1), None);
        // Past that, none.
        let mut turns = DnsTurns::default();
        turns.add_window(reserved - ms(10), ms(5), 4, reserved);
        assert_eq!(turns.take(reserved + ms(5) + DNS_CREDIT + ms(1), 1), None);
    }

    #[test]
    fn windows_are_sized_by_the_questions_of_the_last_window() {
        let now = Instant::now();
        let mut turns = DnsTurns::default();
        assert_eq!(turns.asked(now, 2), 2);
        assert_eq!(turns.asked(now + Duration::from_millis(5), 1), 3);
        // After a window of quiet, only the new ask counts.
        assert_eq!(turns.asked(now + DNS_WINDOW * 2, 1), 1);
        // However many asks, the memory of them is bounded.
        for _ in 0..2 * MAX_ASKED {
            turns.asked(now + DNS_WINDOW * 2, 1);
        }
        assert_eq!(turns.asked.len(), MAX_ASKED);
    }

    #[test]
    fn the_lease_lasts_longer_than_three_renewals() {
        // Renewed every quarter, fenced after three quarters without one: a worker stops
        // before its leases can pass, whatever the lease.
        assert!(DEFAULT_LEASE / 4 * 3 < DEFAULT_LEASE);
        assert!(GIVE_UP_WAIT < DEFAULT_LEASE);
    }
}
