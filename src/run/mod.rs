//! The commands, each a method on the [`Engine`](crate::engine::Engine): observe through the
//! probes, then judge with `diagnose`. One file per command.

pub mod check;
pub mod discovery;
pub mod provision;
pub mod reputation;
pub mod verify;
