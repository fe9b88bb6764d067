//! mailtls as one library: the crates of the workspace under one name, as ripgrep's `grep`
//! crate re-exports the `grep-*` crates. The binary (`src/main.rs`, `src/cli/`), the tests in
//! `tests/` and the benches in `benches/` use these paths.
//!
//! - `mailtls_core` (`crates/core`), re-exported at the top: targets, probes, observations,
//!   analysis, client rules, diagnoses, reports, the engine and the commands.
//! - [`scan`] (`crates/scan`): fleet scans into SQLite or PostgreSQL.
//! - [`serve`] (`crates/serve`): the web server.
#![forbid(unsafe_code)]

pub use mailtls_core::*;
pub use mailtls_scan as scan;
pub use mailtls_serve as serve;
