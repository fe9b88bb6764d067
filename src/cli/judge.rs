//! `mailtls judge FILE`: observations saved with `check --save`, judged again offline.

use std::path::PathBuf;

use clap::Args;
use mailtls::engine::{Engine, EngineOptions};
use mailtls::observation::saved::{SAVED_FORMAT, Saved};
use mailtls::report;
use mailtls::run::check::now;

use super::Failure;

#[derive(Args, Debug)]
pub struct JudgeArgs {
    /// A file written by `mailtls check --save`.
    file: PathBuf,
    /// Judge at this time (RFC 3339, e.g. 2026-01-31T12:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = super::parse_time)]
    at: Option<i64>,
    /// Also trust the CA certificates in this PEM file (repeatable); those saved with the
    /// observations are trusted anyway.
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_files: Vec<PathBuf>,
    #[command(flatten)]
    clients: super::ClientArgs,
    /// Print the report as JSON (schema: docs/schema/check.json).
    #[arg(long)]
    json: bool,
}

/// Largest saved file read (a domain with eight hosts saves well under 10 MiB).
const MAX_SAVED: u64 = 64 * 1024 * 1024;

pub fn run(args: JudgeArgs) -> Result<u8, Failure> {
    let usage =
        |reason: String| Failure::usage(anyhow::anyhow!("{}: {reason}", args.file.display()));
    let text = super::read_capped(&args.file, MAX_SAVED).map_err(usage)?;
    let saved: Saved = serde_json::from_str(&text)
        .map_err(|e| usage(format!("not a file written by mailtls check --save ({e})")))?;
    if saved.format != SAVED_FORMAT {
        return Err(usage(format!(
            "saved in format {} by mailtls {}; this mailtls reads format {SAVED_FORMAT}",
            saved.format, saved.mailtls_version
        )));
    }
    super::existing_files("--ca-file", &args.ca_files)?;
    let engine =
        Engine::new(EngineOptions::offline(true, args.ca_files.clone())).map_err(|e| Failure {
            status: e.exit_code(),
            error: e.into(),
        })?;
    let report = engine.judge(&saved, args.at.unwrap_or_else(now), &args.clients.clients);
    if args.json {
        super::write_json(&report::wire::check::output(&report))?;
    } else {
        super::write_text(&report::check(&report));
    }
    Ok(report.exit_code())
}
