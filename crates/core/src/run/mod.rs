//! The commands, each a method on the [`Engine`](crate::engine::Engine): observe through the
//! probes, then judge with `diagnose`. One file per command; `ispdb` is discovery's part for
//! Mozilla's ISP database, `delivery` its part for what sending servers see. `tlsrpt` needs no
//! engine (it reads files, never the network): it is a plain function.

pub mod check;
pub mod delivery;
pub mod discovery;
mod ispdb;
pub mod provision;
pub mod reputation;
pub mod tlsrpt;
pub mod verify;
