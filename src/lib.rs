//! mailtls: explains why a mail client says "the certificate does not match the server name",
//! and what to change.
//!
//! # Layout
//!
//! The work is a pipeline with I/O at the edges and pure logic in the middle:
//!
//! ```text
//! target -> discover (DNS) -> probe (network; records Observations)
//!        -> analyze (pure: x509, names, chain) -> diagnose (pure: causes, fix) -> report
//! ```
//!
//! - [`target`]: the host the user typed, parsed once (DNS name in A-label form, or IP literal).
//! - [`service`]: the seven mail ports, their protocol and TLS mode.
//! - [`observation`]: plain, serializable records of what servers and DNS did.
//! - [`discover`]: DNS lookups (forward, reverse) through the system or a chosen resolver.
//! - [`probe`]: connects, speaks SMTP/IMAP/POP3 up to STARTTLS, captures the TLS chain.
//! - [`analyze`]: parses certificates, matches names (RFC 6125/9525), validates the chain.
//! - [`diagnose`]: turns analyses into problems with stable codes, finds the cause and the fix.
//! - [`check`]: runs the pipeline for `mailtls check`.
//! - [`concurrent`]: independent network work at once, results in order.
//! - [`discovery`]: from an email address or mail domain to the servers clients are sent to.
//! - [`reputation`]: runs the blocklist, reverse DNS and SMTP-name lookups of `mailtls reputation`.
//! - [`crypto`]: the one rustls crypto provider, shared by probing and chain validation.
//! - [`provision`]: corrected autoconfig, .mobileconfig and autodiscover files from verified settings.
//! - [`report`]: the human text report and the stable JSON wire format.
#![forbid(unsafe_code)]

pub mod analyze;
pub mod check;
pub mod clients;
pub mod concurrent;
pub mod crypto;
pub mod diagnose;
pub mod discover;
pub mod discovery;
pub mod observation;
pub mod probe;
pub mod provision;
pub mod report;
pub mod reputation;
pub mod service;
pub mod target;
pub mod verify;
