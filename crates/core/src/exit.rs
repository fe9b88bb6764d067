//! The documented exit statuses, in one place: a verdict maps to 0-3
//! ([`crate::diagnose::Verdict::exit_code`]), errors to [`USAGE`] or [`UNKNOWN`].

/// All good.
pub const OK: u8 = 0;
/// Warnings only.
pub const WARN: u8 = 1;
/// A problem that makes a mail client warn or fail (for `cert verify`: the chain is invalid).
pub const FAIL: u8 = 2;
/// Nothing could be checked.
pub const UNKNOWN: u8 = 3;
/// A usage error: bad arguments or unreadable input (sysexits.h EX_USAGE).
pub const USAGE: u8 = 64;
