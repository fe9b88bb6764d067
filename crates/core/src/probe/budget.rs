//! Connection budgets shared by every job of one engine: at most so many connections in flight
//! in all, and at most so many to any one address (4 by default, as Courier allows per IP and
//! close to sslyze's 5). Every TCP connection a probe, a version probe, a re-probe, an HTTP(S)
//! fetch or a blocklist query makes first takes a [`Permit`] for its destination; a thousand
//! checks of names hosted on one server then queue politely instead of opening a thousand
//! connections to it at once.
//!
//! A permit is held until the connection is closed at both ends ([`linger`]): we shut our side
//! down, wait (bounded) for the server to close its side, and only then let the next connection
//! to that address start, so the server never sees more than the limit, not even for the moment
//! its last close is still in flight. A permit dropped with its connection (a job cancelled in
//! the middle, a handshake that timed out) keeps its place [`HOLD_AFTER_DROP`] more, for the
//! same reason; where no connection is left open, [`Permit::release`] gives the place back at
//! once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::backoff::Backoff;
use super::shared::{SharedLimits, SharedPlace};

/// Default connections in flight to one address.
pub const DEFAULT_PER_ADDRESS: usize = 4;
/// Default connections in flight in all.
pub const DEFAULT_TOTAL: usize = 64;
/// Longest we wait, by default, for a server to close its side after we closed ours (the engine
/// uses its step timeout instead).
pub const LINGER: Duration = Duration::from_secs(2);
/// Most bytes read (and dropped) while waiting for the server to close.
const LINGER_READ_CAP: usize = 64 * 1024;

/// The limits of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections in flight in all (at least 1).
    pub total: usize,
    /// Connections in flight to one address (at least 1).
    pub per_address: usize,
    /// New connections per second to one address; `None`: no limit (one `check` opens a few
    /// dozen at once, and a limit would only slow it down).
    pub per_address_rate: Option<NonZeroU32>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            total: DEFAULT_TOTAL,
            per_address: DEFAULT_PER_ADDRESS,
            per_address_rate: None,
        }
    }
}

/// The shared budget; cloning it shares it.
#[derive(Debug, Clone)]
pub struct ConnectionBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limits: Limits,
    /// Longest a closed connection keeps its place while the server has not closed its side.
    linger: Duration,
    total: Arc<Semaphore>,
    /// One semaphore per address with connections in flight or waiting; an entry is removed
    /// when its last permit is returned, so the map holds only addresses in use.
    addresses: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    /// The rate per address, and the pauses after refusals.
    backoff: Backoff,
    /// The same limits kept with other workers (a scan's database), when there are any.
    shared: Option<Arc<dyn SharedLimits>>,
}

/// The right to one connection to one address. Dropping it returns the right
/// [`HOLD_AFTER_DROP`] later (its connection may still be closing); [`Permit::release`] returns
/// it at once.
#[derive(Debug)]
pub struct Permit {
    places: Option<Places>,
    budget: Arc<Inner>,
}

/// What a permit holds.
#[derive(Debug)]
struct Places {
    address_permit: Option<OwnedSemaphorePermit>,
    total: Option<OwnedSemaphorePermit>,
    address: IpAddr,
    /// The place among every worker's connections to the address.
    shared: Option<SharedPlace>,
}

impl ConnectionBudget {
    /// A budget with `limits` (zeros are raised to 1), lingering at most [`LINGER`].
    pub fn new(limits: Limits) -> ConnectionBudget {
        ConnectionBudget::with_linger(limits, LINGER)
    }

    /// A budget with `limits` whose connections keep their place at most `linger` after we close
    /// them, while the server has not closed its side (a slow server keeps it that long; one
    /// that never closes, no longer).
    pub fn with_linger(limits: Limits, linger: Duration) -> ConnectionBudget {
        ConnectionBudget::sharing(limits, linger, None)
    }

    /// A budget like [`ConnectionBudget::with_linger`] whose limits per address are also kept
    /// with other workers through `shared`.
    pub fn sharing(
        limits: Limits,
        linger: Duration,
        shared: Option<Arc<dyn SharedLimits>>,
    ) -> ConnectionBudget {
        let limits = Limits {
            total: limits.total.max(1),
            per_address: limits.per_address.max(1),
            per_address_rate: limits.per_address_rate,
        };
        ConnectionBudget {
            inner: Arc::new(Inner {
                limits,
                linger,
                total: Arc::new(Semaphore::new(limits.total)),
                addresses: Mutex::new(HashMap::new()),
                backoff: Backoff::new(limits.per_address_rate),
                shared,
            }),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The pauses, tarpits and rate per address.
    pub fn backoff(&self) -> &Backoff {
        &self.inner.backoff
    }

    /// Waits for the right to open one connection to `address`. The address's own limit is
    /// taken first, so a job waiting for a busy server holds no place in the global limit that
    /// jobs for other servers could use.
    pub async fn acquire(&self, address: IpAddr) -> Permit {
        let semaphore = {
            let mut map = self.inner.lock();
            Arc::clone(
                map.entry(address)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.inner.limits.per_address))),
            )
        };
        // The semaphores are never closed, so acquiring cannot fail; were one ever closed, the
        // connection would go ahead without its place rather than hang.
        let address_permit = semaphore.acquire_owned().await.ok();
        // Then the place among every worker's (once this process has one of its own, so it
        // never asks for more than the limit).
        let shared = match &self.inner.shared {
            Some(shared) => Some(shared.place(address).await),
            None => None,
        };
        let mut permit = Permit {
            places: Some(Places {
                address_permit,
                total: None,
                address,
                shared,
            }),
            budget: Arc::clone(&self.inner),
        };
        // Then the address's pause (after a refusal) and its rate, holding only its own place.
        self.inner.backoff.ready(address).await;
        let total = loop {
            if let Ok(permit) = Arc::clone(&self.inner.total).acquire_owned().await {
                break permit;
            }
        };
        if let Some(places) = permit.places.as_mut() {
            places.total = Some(total);
        }
        // The shared rate last, right before connecting: a turn is the moment of a connection.
        if let Some(shared) = &self.inner.shared {
            shared.connection_turn(address).await;
        }
        permit
    }

    /// Connections in flight to `address` now (for tests and metrics).
    pub fn in_flight(&self, address: IpAddr) -> usize {
        self.inner.lock().get(&address).map_or(0, |semaphore| {
            self.inner.limits.per_address - semaphore.available_permits()
        })
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Arc<Semaphore>>> {
        // The map stays consistent even if a holder panicked: every operation is one call.
        self.addresses.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns `places` to the budget and forgets their address when nobody uses it.
    fn give_back(&self, places: Places) {
        let Places {
            address_permit,
            total,
            address,
            shared,
        } = places;
        if let (Some(place), Some(limits)) = (shared, &self.shared) {
            limits.give_back(place);
        }
        drop(address_permit);
        drop(total);
        let mut map = self.lock();
        let idle = map.get(&address).is_some_and(|semaphore| {
            // Only the map holds it, and no permit is out: nobody uses or awaits this address.
            Arc::strong_count(semaphore) == 1
                && semaphore.available_permits() == self.limits.per_address
        });
        if idle {
            map.remove(&address);
        }
    }
}

impl Permit {
    /// Gives the place back now: for a permit whose connection is closed at both ends, never
    /// opened, or that had none (a DNS question).
    pub fn release(mut self) {
        if let Some(places) = self.places.take() {
            self.budget.give_back(places);
        }
    }
}

impl Drop for Permit {
    /// Dropped without [`Permit::release`]: its connection went with it (a job cancelled, a
    /// handshake that timed out), and the server may not have seen it close yet. The place stays
    /// taken [`HOLD_AFTER_DROP`] (at most the linger time) in the background.
    fn drop(&mut self) {
        let Some(places) = self.places.take() else {
            return;
        };
        let budget = Arc::clone(&self.budget);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let hold = HOLD_AFTER_DROP.min(budget.linger);
                // Were the runtime shutting down, the task is dropped and the places with it.
                runtime.spawn(async move {
                    tokio::time::sleep(hold).await;
                    budget.give_back(places);
                });
            }
            Err(_) => budget.give_back(places),
        }
    }
}

/// Closes a connection politely and returns its permit only once the server has closed too (or
/// the budget's linger time has passed). Runs in the background, so the caller's result is not
/// delayed.
pub fn linger<S>(mut stream: S, permit: Permit)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limit = permit.budget.linger;
    use std::io::ErrorKind;
    let close = async move {
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        let mut read = 0;
        let mut closed = false;
        while read < LINGER_READ_CAP {
            match stream.read(&mut sink).await {
                Ok(0) => {
                    closed = true;
                    break;
                }
                // A TCP close without TLS's close_notify, or a reset, is a close all the same.
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::UnexpectedEof
                            | ErrorKind::ConnectionReset
                            | ErrorKind::ConnectionAborted
                            | ErrorKind::BrokenPipe
                    ) =>
                {
                    closed = true;
                    break;
                }
                // Any other error (TLS's) says nothing of whether the server has closed yet.
                Err(_) => break,
                Ok(n) => read += n,
            }
        }
        drop(stream);
        if closed {
            // The server has closed too.
            permit.release();
        } else {
            // Closed by dropping: the place is held a moment more (see `Permit`'s `Drop`).
            drop(permit);
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            // At the linger limit the permit is dropped, and held a moment more.
            runtime.spawn(async move {
                let _ = tokio::time::timeout(limit, close).await;
            });
        }
        // Outside a runtime there is nothing to wait with: closing by dropping is all we can do.
        Err(_) => drop(close),
    }
}

/// How long a permit is kept after its connection was dropped without a polite close (a job
/// cancelled, a handshake that timed out): long enough for the server to see our close before
/// the place is given to the next connection to it.
pub const HOLD_AFTER_DROP: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn per_address_and_total_limits_hold() {
        let budget = ConnectionBudget::new(Limits {
            total: 3,
            per_address: 2,
            per_address_rate: None,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = budget.acquire(a).await;
        let _second = budget.acquire(a).await;
        assert_eq!(budget.in_flight(a), 2);
        // A third to `a` waits; one to `b` does not.
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.acquire(a)).await;
        assert!(
            waiting.is_err(),
            "a third permit for one address was granted"
        );
        let _other = budget.acquire(b).await;
        // The total (3) is now used up: even `b` waits.
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.acquire(b)).await;
        assert!(waiting.is_err(), "a fourth permit in all was granted");
        first.release();
        let third = tokio::time::timeout(Duration::from_millis(50), budget.acquire(a)).await;
        assert!(third.is_ok(), "a released permit was not handed on at once");
    }

    #[tokio::test]
    async fn idle_addresses_leave_the_map() {
        let budget = ConnectionBudget::new(Limits::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        budget.acquire(a).await.release();
        assert!(budget.inner.lock().is_empty());
        // A dropped one too, once its hold is over.
        drop(budget.acquire(a).await);
        tokio::time::sleep(HOLD_AFTER_DROP + Duration::from_millis(100)).await;
        assert!(budget.inner.lock().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_permit_keeps_its_place_a_moment() {
        // A job cancelled with its connection open: the server may not have seen the close.
        let budget = ConnectionBudget::new(Limits {
            total: 8,
            per_address: 1,
            per_address_rate: None,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let started = tokio::time::Instant::now();
        drop(budget.acquire(a).await);
        let _next = budget.acquire(a).await;
        assert!(
            started.elapsed() >= HOLD_AFTER_DROP,
            "{:?}",
            started.elapsed()
        );
        // The dropped one's place is back; only the new one is in flight.
        assert_eq!(budget.in_flight(a), 1);
    }
}
