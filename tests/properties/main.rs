//! Property tests of every parser of input a server or a user controls (issue 22): whatever the
//! bytes, no panic, an answer within a bounded time, outputs bounded by the input and the caps,
//! and, where mailtls writes what it reads, the round trip. One module per family of parsers;
//! docs/architecture.md ("Property tests") lists which parser each covers. The DER reader of
//! `analyze::path` is private and is tested in `crates/core/src/analyze/path/properties.rs`.
//!
//! Case counts are modest (the whole binary runs in seconds); `PROPTEST_CASES` raises them for a
//! longer hunt.

mod aia;
mod dane;
mod dialogue;
mod explain;
mod files;
mod hello;
mod mta_sts;
mod provisioning;
mod scan_input;
mod tlsrpt;

use std::time::{Duration, Instant};

/// A generous bound on the wall-clock time of one case: every case here takes milliseconds.
pub const CASE: Duration = Duration::from_secs(2);

/// Runs `check` and fails when it took longer than [`CASE`].
pub fn timed<T>(what: &str, check: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = check();
    let elapsed = started.elapsed();
    assert!(elapsed < CASE, "{what} took {elapsed:?}");
    out
}
