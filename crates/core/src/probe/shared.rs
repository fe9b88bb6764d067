//! Limits shared with other processes: when several workers (machines, pods) scan one fleet,
//! each connection and each DNS question must also fit the limits of all of them together.
//! The engine only asks; who keeps the count (a scan's PostgreSQL database, `mailtls-scan`'s
//! `shared` module) is the caller's business.
//!
//! The [`ConnectionBudget`](super::budget::ConnectionBudget) asks for a shared place after the
//! process's own place for that address (so a worker never asks for more than the limit) and
//! gives it back with its own, after the server has closed the connection; it asks for a shared
//! turn (the rate) just before connecting. [`Dns`](super::dns::Dns) asks for a shared turn
//! before each question.
//!
//! A shared limit that cannot be kept (the database went away for longer than a lease) never
//! lets a connection through without its place: the futures stay pending, and the owner stops
//! the work that waits on them.

use std::fmt::Debug;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

/// A future the engine awaits for a shared limit.
pub type Wait<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One place among an address's connections at once, held for this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharedPlace {
    /// The address.
    pub address: IpAddr,
    /// Which of its places.
    pub slot: u32,
}

/// Limits kept together with other processes.
pub trait SharedLimits: Send + Sync + Debug {
    /// Waits for one of `address`'s places (of `--per-ip` for all the workers).
    fn place(&self, address: IpAddr) -> Wait<'_, SharedPlace>;
    /// Gives a place back (without waiting: the owner returns it in the background).
    fn give_back(&self, place: SharedPlace);
    /// Waits for the turn of a new connection to `address` (`--per-ip-rate` for all).
    fn connection_turn(&self, address: IpAddr) -> Wait<'_, ()>;
    /// Waits for the turn of `questions` DNS questions sent at once (`--dns-rate` for all):
    /// they are sent together when it returns, so their turns must be next to each other.
    fn dns_turn(&self, questions: u32) -> Wait<'_, ()>;
}
