//! `mailtls scan`: every customer domain of a hosting fleet, politely, resumably, into SQLite or
//! PostgreSQL, on one machine or many.
//!
//! input (streamed lines or CSV) -> shard, or a work queue in PostgreSQL (`queue`) -> skip what
//! the store has -> check through the one engine, whose memo probes each (address, port, name)
//! once and whose budget keeps every server's limits (with PostgreSQL, together with every
//! other worker: `shared`) -> record (rows) -> store (one transaction per target) -> summary
//! (what to fix, by cause and server; what changed between two scans; `inbound`: the mail
//! domains' MTA-STS and DANE, counted and compared; `status`: a running scan's workers,
//! leases and time left).

pub mod inbound;
pub mod input;
pub mod queue;
pub mod record;
pub mod run;
pub mod shard;
pub mod shared;
pub mod status;
pub mod store;
pub mod summary;
pub mod text;
pub mod wire;
