//! `mailtls scan`: every customer domain of a hosting fleet, politely, resumably, into SQLite or
//! PostgreSQL, sharded across machines.
//!
//! input (streamed lines or CSV) -> shard -> skip what the store has -> check through the one
//! engine, whose memo probes each (address, port, name) once and whose budget keeps every
//! server's limits -> record (rows) -> store (one transaction per target) -> summary (what to
//! fix, by cause and server; what changed between two scans; `inbound`: the mail domains'
//! MTA-STS and DANE, counted and compared).

pub mod inbound;
pub mod input;
pub mod record;
pub mod run;
pub mod shard;
pub mod store;
pub mod summary;
pub mod text;
pub mod wire;
