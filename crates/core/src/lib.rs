//! mailtls-core: the diagnosis behind mailtls, which explains why a mail client says "the
//! certificate does not match the server name", and what to change. No database, no web server:
//! the fleet scan (`mailtls-scan`), the web server (`mailtls-serve`) and the `mailtls` binary are
//! built on it, and a hosting panel can embed it alone.
//!
//! # Layout
//!
//! A pipeline with I/O at the edges and pure logic in the middle; the library runs every command
//! through one shared [`engine::Engine`], and the binary is glue. Layers, lowest first (a module
//! uses only its own layer and those below; `tests/layers.rs` checks it):
//!
//! ```text
//! base:       vocabulary exit target service address tls_catalog crypto concurrent
//! records:    observation
//! network:    probe
//! judgement:  provisioning -> analyze -> clients -> diagnose
//! resources:  engine options
//! commands:   run
//! output:     report
//! fleet:      scan
//! web:        serve
//! ```
//!
//! - `vocabulary`: closed vocabularies (codes, verdicts, protocols) with one name table each.
//! - [`exit`]: the documented exit statuses.
//! - [`target`]: what the user typed, parsed once: a host (name or IP), an e-mail address.
//! - [`service`]: the seven mail ports, their protocol and TLS mode.
//! - [`address`]: special-purpose address ranges (loopback, private...): the one definition of
//!   inside every connection is judged by.
//! - [`tls_catalog`]: TLS versions, the suites probes offer (and Thunderbird's and GnuTLS's
//!   own), suite and alert names.
//! - [`crypto`]: the one rustls crypto provider, and the signature checks it lacks (weak RSA,
//!   SHA-1, P-521, RSA-PSS keys) that clients' engines still make.
//! - [`concurrent`]: independent network work at once, results in order.
//! - [`observation`]: plain serde records of what servers and DNS did (host, discovery,
//!   delivery: what a sending server learns, with DNSSEC status; reputation, saved files).
//! - [`probe`]: the network: connection budgets and backoff (rates, pauses after 421,
//!   tarpits), DNS (and DNSSEC-validated MX, TLSA and TXT lookups), STARTTLS dialogues, TLS
//!   handshakes, version probes, the HTTP(S) fetcher, AIA and blocklist lookups, and the memo a
//!   fleet scan shares.
//! - [`provisioning`]: account settings, autoconfig/autodiscover documents read and written,
//!   Mozilla's ISP database (a bundled copy) looked up.
//! - [`analyze`]: certificates, names (RFC 9525), chains, versions, blocklist answers, TLS
//!   reports (RFC 8460) read from bytes, MTA-STS records and policies, the TLS-RPT record, DANE
//!   (TLSA records against a chain).
//! - [`clients`]: what Thunderbird, Outlook, Apple Mail, Android apps and Evolution/Geary do,
//!   rule by rule; the dialogs they show; how they look for a new account's settings, and what
//!   Thunderbird's automatic set-up chooses.
//! - [`diagnose`]: planning a check's rounds; problems with stable codes and context; the
//!   recommendation; discovery, inbound delivery (what each kind of sending server does with
//!   each MX), reputation and chain verdicts (with whether a certificate can cost the domain
//!   mail, `costs_mail`); what each summary claims; TLS reports summed and their failures
//!   judged.
//! - [`engine`]: the shared resolver, anchors, connection budget, fetcher, ISP database copy
//!   and (for scans) memo.
//! - [`options`]: a check's options, and [`options::ObserveOptions`], everything an answer
//!   depends on: the memo key, a scan's resume fingerprint, the options serve records.
//! - [`run`]: the commands, as methods on the engine (check, judge, discover with what sending
//!   servers see beside it, reputation, provision, verify), and `tlsrpt`, which reads report
//!   files and needs no engine.
//! - [`report`]: the text reports and every JSON output ([`report::wire`], with its schemas).
//!
//! Above this crate: `mailtls-scan` (fleet scans into SQLite or PostgreSQL), `mailtls-serve` (the
//! web server) and the `mailtls` binary (`src/main.rs`, `src/cli/`).
#![forbid(unsafe_code)]

#[doc(hidden)]
pub mod vocabulary;

pub mod address;
pub mod analyze;
pub mod clients;
pub mod concurrent;
pub mod crypto;
pub mod diagnose;
pub mod engine;
pub mod exit;
pub mod observation;
pub mod options;
pub mod probe;
pub mod provisioning;
pub mod report;
pub mod run;
pub mod service;
pub mod target;
pub mod tls_catalog;
