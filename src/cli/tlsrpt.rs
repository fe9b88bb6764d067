//! `mailtls tlsrpt FILE|DIR...`: the TLS reports senders send (RFC 8460), summed and turned
//! into fixes.

use std::path::PathBuf;

use clap::Args;
use mailtls::report;
use mailtls::run::tlsrpt;

use super::Failure;

#[derive(Args, Debug)]
pub struct TlsrptArgs {
    /// Report files (JSON, gzip, or the mail they came in: .json, .json.gz, .gz, .eml) or
    /// directories of them (followed 8 levels deep); `-` reads one from standard input.
    #[arg(value_name = "FILE|DIR", required = true)]
    paths: Vec<PathBuf>,
    /// Print the summary as JSON (schema: docs/schema/tlsrpt.json).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &TlsrptArgs) -> Result<u8, Failure> {
    let run = tlsrpt::read_reports(&args.paths).map_err(|e| Failure {
        status: e.exit_code(),
        error: e.into(),
    })?;
    if args.json {
        super::write_json(&report::wire::tlsrpt::output(&run))?;
    } else {
        super::write_text(&report::tlsrpt::render(&run));
    }
    Ok(run.exit_code())
}
