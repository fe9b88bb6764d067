//! The logs of `serve` and `scan`: the `tracing` events the crates emit, written to standard
//! error as text or JSON lines, filtered by `MAILTLS_LOG` (tracing-subscriber's `EnvFilter`
//! syntax). Only the binary installs a subscriber; the library crates only emit events
//! (docs/serve.md and docs/scan.md, "Logs").

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use clap::ValueEnum;
use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;

use super::Failure;

/// The environment variable that sets which events are written.
pub const ENV: &str = "MAILTLS_LOG";
/// `serve`'s filter when `MAILTLS_LOG` is unset or empty: mailtls's own events from `info` (a
/// line per request, per check, per provisioning change). None of the libraries': what goes
/// wrong with the store mailtls logs itself, and sqlx's own warnings (a slow statement, the
/// notices of a PostgreSQL shutting down) are noise there (`MAILTLS_LOG=warn,mailtls=info`
/// adds them).
pub const SERVE_DEFAULT: &str = "mailtls=info";
/// `scan`'s: only mailtls's warnings and errors, so that the progress bar and the report stay
/// the terminal's and a scan's standard error is its one-line summary or error
/// (`MAILTLS_LOG=info` adds a line per target and the scan's start and end).
pub const SCAN_DEFAULT: &str = "mailtls=warn";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event: time, level, message, fields as `name=value`.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `message` and the event's fields.
    Json,
}

/// Writes the events `MAILTLS_LOG` (or `default`, when it is unset or empty) lets through to
/// standard error in `format`. An invalid `MAILTLS_LOG` is a usage error.
pub fn install(default: &str, format: LogFormat) -> Result<(), Failure> {
    let filter = filter(std::env::var(ENV).ok().as_deref(), default)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LineWriter)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| Failure::could_not_check(anyhow::anyhow!("cannot start the log: {e}")))
}

/// The filter `value` (the variable's value) asks for, else `default`.
fn filter(value: Option<&str>, default: &str) -> Result<EnvFilter, Failure> {
    let directives = match value.map(str::trim) {
        Some(value) if !value.is_empty() => value,
        _ => default,
    };
    EnvFilter::builder().parse(directives).map_err(|e| {
        Failure::usage(anyhow::anyhow!(
            "{ENV}={directives}: {e} (write e.g. info, warn or warn,mailtls=debug)"
        ))
    })
}

/// The progress bar log lines are written above, when there is one.
static BAR: OnceLock<ProgressBar> = OnceLock::new();

/// Writes log lines above `bar` (hiding it for the moment of the write) from now on.
pub fn above(bar: &ProgressBar) {
    let _ = BAR.set(bar.clone());
}

/// Standard error, each formatted event written at once (around the progress bar, if any).
struct LineWriter;

impl std::io::Write for LineWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let write = || std::io::stderr().lock().write_all(line);
        match BAR.get() {
            Some(bar) if !bar.is_hidden() => bar.suspend(write)?,
            _ => write()?,
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_the_default_and_a_bad_one_is_a_usage_error() {
        let shown = |value: Option<&str>| {
            filter(value, SERVE_DEFAULT)
                .map(|f| f.to_string())
                .map_err(|f| (f.status, f.error.to_string()))
        };
        assert_eq!(shown(None), Ok("mailtls=info".to_string()));
        assert_eq!(shown(Some(" ")), Ok("mailtls=info".to_string()));
        assert_eq!(shown(Some("debug")), Ok("debug".to_string()));
        let (status, message) = shown(Some("mailtls=loud")).expect_err("not a level");
        assert_eq!(status, mailtls::exit::USAGE);
        assert!(
            message.starts_with("MAILTLS_LOG=mailtls=loud: "),
            "{message}"
        );
    }
}
