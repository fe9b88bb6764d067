//! Politeness beyond the connection count: how fast new connections to one address may start,
//! and how long to stay away from a server that said it is busy.
//!
//! - A rate per address (`governor`'s keyed limiter): at most so many new connections per
//!   second to one address, however many jobs want it.
//! - A pause per address: a server that answers `421` (SMTP), `* BYE` (IMAP) or `-ERR` (POP3)
//!   at its greeting is refusing connections from us for now, so every job stays away from that
//!   address for a while, doubling with each refusal (1 s, 2 s, 4 s, ... at most
//!   [`MAX_PAUSE`]), with jitter so that waiting jobs do not return at the same instant.
//! - Tarpits: a port that accepts the connection but does not greet within the step timeout.
//!   Once a port has used up its retries that way, later probes of it try once: a fleet scan
//!   must not spend its retries on every one of the thousand names that port serves.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Jitter, Quota, RateLimiter};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::time::Instant;

/// The longest pause after refusals.
pub const MAX_PAUSE: Duration = Duration::from_secs(60);
/// The first pause after a refusal; each further one doubles it.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// Most waits for one address's pause in one acquisition (a pause may be extended while we
/// wait; this keeps the wait bounded).
const MAX_PAUSE_WAITS: usize = 8;
/// How often (in acquisitions) the rate limiter forgets addresses not seen for a while.
const FORGET_EVERY: u64 = 4096;
/// Most addresses remembered with a pause or a tarpit; beyond it, the oldest are forgotten.
const MAX_REMEMBERED: usize = 65_536;

/// Per-address politeness state, shared by every job of one engine.
#[derive(Debug)]
pub struct Backoff {
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    acquisitions: AtomicU64,
    state: Mutex<State>,
    random: SystemRandom,
}

#[derive(Debug, Default)]
struct State {
    /// Refusals in a row, and until when to stay away.
    pauses: HashMap<IpAddr, Pause>,
    /// Greetings that did not come, per (address, port).
    tarpits: HashMap<(IpAddr, u16), u32>,
}

#[derive(Debug, Clone, Copy)]
struct Pause {
    strikes: u32,
    until: Instant,
}

impl Backoff {
    /// State with at most `per_second` new connections per second to one address (`None`: no
    /// rate limit).
    pub fn new(per_second: Option<NonZeroU32>) -> Backoff {
        Backoff {
            // No burst: connections are spaced evenly, so no second ever sees more than the
            // rate (plus the one on its edge).
            rate: per_second.map(|rate| {
                RateLimiter::keyed(Quota::per_second(rate).allow_burst(NonZeroU32::MIN))
            }),
            acquisitions: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            random: SystemRandom::new(),
        }
    }

    /// Waits until a new connection to `address` may start: after its pause, if any, and
    /// within its rate.
    pub async fn ready(&self, address: IpAddr) {
        for _ in 0..MAX_PAUSE_WAITS {
            let until = self.lock().pauses.get(&address).map(|p| p.until);
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        if let Some(rate) = &self.rate {
            rate.until_key_ready_with_jitter(&address, Jitter::up_to(Duration::from_millis(20)))
                .await;
            if self.acquisitions.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == 0 {
                rate.retain_recent();
            }
        }
    }

    /// Records that `address` refused a connection as busy; returns how long every job now
    /// stays away from it.
    pub fn busy(&self, address: IpAddr) -> Duration {
        let jitter = self.jitter();
        let mut state = self.lock();
        let now = Instant::now();
        // Refusals while a pause runs belong to the same episode (the connections were opened
        // before it): they do not lengthen it.
        if let Some(pause) = state.pauses.get(&address).filter(|p| p.until > now) {
            return pause.until - now;
        }
        let strikes = state.pauses.get(&address).map_or(0, |p| p.strikes) + 1;
        let pause = pause_after(strikes, jitter);
        if state.pauses.len() >= MAX_REMEMBERED {
            state.pauses.clear();
        }
        state.pauses.insert(
            address,
            Pause {
                strikes,
                until: now + pause,
            },
        );
        pause
    }

    /// Records that `address` greeted normally: refusals in a row start again from zero.
    pub fn fine(&self, address: IpAddr) {
        let mut state = self.lock();
        if state.pauses.contains_key(&address) {
            state.pauses.remove(&address);
        }
    }

    /// Records that `address`'s `port` accepted a connection but did not greet in time.
    pub fn tarpit(&self, address: IpAddr, port: u16) {
        let mut state = self.lock();
        if state.tarpits.len() >= MAX_REMEMBERED {
            state.tarpits.clear();
        }
        *state.tarpits.entry((address, port)).or_default() += 1;
    }

    /// How many times to try `address`'s `port`: `1 + retries`, or once when it has already
    /// failed to greet that many times.
    pub fn attempts(&self, address: IpAddr, port: u16, retries: u32) -> u32 {
        let silent = self
            .lock()
            .tarpits
            .get(&(address, port))
            .copied()
            .unwrap_or(0);
        if silent > retries { 1 } else { 1 + retries }
    }

    /// The wait before retry number `attempt` (1, 2, ...) of one probe: the same doubling as a
    /// pause, with jitter.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        pause_after(attempt, self.jitter())
    }

    /// A fraction in [0, 0.5): how much longer than the base this wait is.
    fn jitter(&self) -> f64 {
        let mut byte = [0u8; 1];
        // Without randomness the jitter is merely zero; the pause itself still holds.
        let _ = self.random.fill(&mut byte);
        f64::from(byte[0]) / 512.0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Plain maps: consistent after any panic of a holder, since each change is one call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// 1 s, 2 s, 4 s, ... for the `strikes`-th refusal, `jitter` longer, at most [`MAX_PAUSE`].
fn pause_after(strikes: u32, jitter: f64) -> Duration {
    let doubled = FIRST_PAUSE.saturating_mul(1u32 << strikes.saturating_sub(1).min(6));
    doubled.mul_f64(1.0 + jitter).min(MAX_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_and_stop_growing() {
        assert_eq!(pause_after(1, 0.0), Duration::from_secs(1));
        assert_eq!(pause_after(2, 0.0), Duration::from_secs(2));
        assert_eq!(pause_after(3, 0.25), Duration::from_secs(5));
        assert_eq!(pause_after(40, 0.4), MAX_PAUSE);
    }

    #[test]
    fn a_port_that_never_greets_is_tried_once_after_its_retries() {
        let backoff = Backoff::new(None);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(backoff.attempts(a, 25, 2), 3);
        for _ in 0..3 {
            backoff.tarpit(a, 25);
        }
        assert_eq!(backoff.attempts(a, 25, 2), 1);
        assert_eq!(backoff.attempts(a, 587, 2), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_address_makes_everyone_wait() {
        let backoff = Backoff::new(None);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let pause = backoff.busy(a);
        assert!(pause >= Duration::from_secs(1) && pause < Duration::from_millis(1500));
        // Refusals during the pause are the same episode.
        assert!(backoff.busy(a) <= pause);
        let started = Instant::now();
        backoff.ready(b).await;
        assert_eq!(started.elapsed(), Duration::ZERO, "another address waits");
        backoff.ready(a).await;
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "the busy one does not"
        );
        backoff.fine(a);
        let again = Instant::now();
        backoff.ready(a).await;
        assert_eq!(again.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn the_rate_per_address_holds() {
        // governor keeps its own (real) clock, so this runs in real time.
        let backoff = Backoff::new(NonZeroU32::new(50));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let started = std::time::Instant::now();
        for _ in 0..20 {
            backoff.ready(a).await;
        }
        // One every 20 ms, no burst: 20 take at least 19 intervals.
        let spent = started.elapsed();
        assert!(spent >= Duration::from_millis(370), "{spent:?}");
        // Another address has its own rate.
        let other = std::time::Instant::now();
        backoff.ready(b).await;
        assert!(other.elapsed() < Duration::from_millis(15));
    }
}
