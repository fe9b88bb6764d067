//! `mailtls scan FILE|-`, `mailtls scan report DB`, `mailtls scan diff OLD NEW`,
//! `mailtls scan status DB`.

mod status;
mod workers;

use std::io::{BufRead, BufReader, IsTerminal as _, Write as _};
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailtls::options::ObserveOptions;
use mailtls::probe::budget::Limits;
use mailtls::probe::memo::MemoOptions;
use mailtls::run::check::now;
use mailtls::scan::input::{Input, Item};
use mailtls::scan::run::{self, Destination, Event, ScanOptions, Stop};
use mailtls::scan::shard::Shard;
use mailtls::scan::shared::SharedSettings;
use mailtls::scan::store::{Backend, ProblemRecord, ScanSpec, Store, StoreError};
use mailtls::scan::{summary, text, wire};
use mailtls::target::Target;

use super::logs::{self, LogFormat};
use super::{EngineArgs, Failure, ProbeArgs};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScanArgs {
    #[command(subcommand)]
    action: Option<ScanAction>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum ScanAction {
    /// What a scan found: what to fix first, by cause and server; targets per cause; every
    /// target (exit 0 all ok, 1 warnings, 2 a target fails, 3 a target could not be checked or
    /// a row of the database could not be read).
    Report(ReportArgs),
    /// What changed between two scans (exit 2 when a target now fails that did not, 1 when one
    /// got worse otherwise, 3 when a row of the database could not be read, 0 when nothing
    /// broke).
    Diff(DiffArgs),
    /// How a scan is going, from any machine that reaches its database: its workers, their
    /// leases, targets done and left, the rate and the time left (exit 0).
    Status(status::StatusArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The list: one mail domain, e-mail address or host name per line, `#` comments
    /// allowed; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    input: Option<String>,
    /// Where results go: a SQLite file (created when missing) or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL", default_value = "scan.sqlite")]
    db: String,
    /// The list is CSV: the target in the first column (or one named target, domain, email,
    /// address or host in a header row), an account column (second, or named account,
    /// customer or id) kept with each result.
    #[arg(long)]
    csv: bool,
    /// Stream one JSON object per target to standard output (schema:
    /// docs/schema/scan-target.json).
    #[arg(long = "json-lines")]
    json_lines: bool,
    /// The scan's name: the same name continues it (default: derived from the list's path and
    /// the options, so the same command continues the same scan).
    #[arg(long = "scan", value_name = "NAME")]
    scan: Option<String>,
    /// Take only shard I of N of the list (0 <= I < N): N workers share one list and one
    /// database. Without it, workers on one PostgreSQL database share a work queue instead:
    /// any number join and leave as they like.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// How long a worker's lease on a target or a connection place lasts without renewal
    /// (PostgreSQL): a worker that dies holds nothing longer.
    #[arg(long, value_name = "SECONDS", default_value_t = 20, hide = true,
          value_parser = clap::value_parser!(u64).range(2..=3600))]
    lease: u64,
    /// Targets checked at once.
    #[arg(long, value_name = "N", default_value_t = run::DEFAULT_PARALLEL,
          value_parser = clap::value_parser!(u16).range(1..=4096).map(usize::from))]
    parallel: usize,
    /// Most connections at once to one server address (with PostgreSQL, for all the workers
    /// of the scan together).
    #[arg(long = "per-ip", value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    per_ip: usize,
    /// Most new connections per second to one server address (0: no limit; with PostgreSQL,
    /// for all the workers together).
    #[arg(long = "per-ip-rate", value_name = "N", default_value_t = 10)]
    per_ip_rate: u32,
    /// Most connections at once, in all (this worker's own).
    #[arg(long = "max-connections", value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=4096).map(usize::from))]
    max_connections: usize,
    /// Most DNS questions per second, evenly spaced (0: no limit; with PostgreSQL, for all the
    /// workers together). A domain costs about 20.
    #[arg(long = "dns-rate", value_name = "N", default_value_t = 500)]
    dns_rate: u32,
    /// How many more times to try a server that turns us away as busy (SMTP 421) or does not
    /// greet within --timeout, with growing pauses.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,
    /// The name to greet SMTP servers with (EHLO), the same for every connection (default:
    /// our address, e.g. [192.0.2.1]).
    #[arg(long, value_name = "NAME", value_parser = parse_ehlo)]
    ehlo: Option<String>,
    /// Scan again every DURATION (e.g. 24h), for ever: each period is a scan of its own, named
    /// --scan NAME and the period's start (NAME-20261205T0000Z), which every worker started
    /// within it joins; for a continuous scan (a Kubernetes Deployment).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "scan")]
    every: Option<Duration>,
    /// Most memory, in MiB, for the answers shared between targets (each server's
    /// certificates and TLS versions, fetches, whole host checks; estimated): more keeps more
    /// of a large fleet's answers. Default: 24, and 3/8 a target for --parallel above 64.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    memo: Option<u64>,
    /// Stop taking new targets after this long (e.g. 90s, 30m, 2h); the same command
    /// continues later.
    #[arg(long = "max-duration", value_name = "DURATION", value_parser = parse_duration)]
    max_duration: Option<Duration>,
    /// How log lines (the scan's start and end, and with MAILTLS_LOG=info one per target) are
    /// written to standard error; which are written: MAILTLS_LOG (default mailtls=warn).
    #[arg(
        long = "log-format",
        value_name = "FORMAT",
        value_enum,
        default_value_t
    )]
    log_format: LogFormat,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    probes: ProbeArgs,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// The scan database: a SQLite file or a postgres:// URL.
    #[arg(value_name = "DB")]
    db: String,
    /// Which scan (default: the newest).
    #[arg(long = "scan", value_name = "NAME")]
    scan: Option<String>,
    /// Print the report as JSON (schema: docs/schema/scan-report.json).
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print one CSV row per target.
    #[arg(long)]
    csv: bool,
}

#[derive(Args, Debug)]
struct DiffArgs {
    /// The older scan: a database (its newest scan), or a scan name with --db.
    #[arg(value_name = "OLD")]
    old: String,
    /// The newer scan: a database (its newest scan), or a scan name with --db.
    #[arg(value_name = "NEW")]
    new: String,
    /// Both scans are in this database, and OLD and NEW are their names.
    #[arg(long, value_name = "DB")]
    db: Option<String>,
    /// Print the changes as JSON (schema: docs/schema/scan-diff.json).
    #[arg(long)]
    json: bool,
}

pub fn run(args: ScanArgs) -> Result<u8, Failure> {
    match args.action {
        Some(ScanAction::Report(report)) => run_report(&report),
        Some(ScanAction::Diff(diff)) => run_diff(&diff),
        Some(ScanAction::Status(status)) => status::run(&status),
        None => run_scan(args.run),
    }
}

/// Parses `--max-duration`: seconds, or a number with s, m, h or d.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: use e.g. 90s, 30m, 2h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{text}' is not a duration: use e.g. 90s, 30m, 2h")),
    };
    match number.checked_mul(seconds) {
        Some(0) | None => Err(format!("'{text}' is not a duration of at least 1 s")),
        Some(total) => Ok(Duration::from_secs(total)),
    }
}

/// Parses `--ehlo`: a host name, or an address literal like `[192.0.2.1]`.
fn parse_ehlo(text: &str) -> Result<String, String> {
    let literal = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .map(|inner| inner.trim_start_matches("IPv6:"));
    let valid = match literal {
        Some(inner) => inner.parse::<std::net::IpAddr>().is_ok(),
        None => matches!(Target::parse(text), Ok(Target::Dns(_))),
    };
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{text}' is not an EHLO name: use a host name or an address literal like [192.0.2.1]"
        ))
    }
}

fn store_failure(error: StoreError) -> Failure {
    Failure::could_not_check(error.into())
}

fn run_scan(args: RunArgs) -> Result<u8, Failure> {
    logs::install(logs::SCAN_DEFAULT, args.log_format)?;
    let Some(every) = args.every else {
        return scan_once(&args, args.scan.clone());
    };
    if args.input.as_deref().is_none_or(|i| i == "-") {
        return Err(Failure::usage(anyhow::anyhow!(
            "--every reads the list again each time: give it as a file, not standard input"
        )));
    }
    let base = args
        .scan
        .clone()
        .unwrap_or_else(|| "continuous".to_string());
    let period = i64::try_from(every.as_secs()).unwrap_or(i64::MAX).max(1);
    loop {
        // Every worker names the period's scan alike: by when it started (UTC), so workers
        // that start at any time within it join one scan.
        let start = now() - now().rem_euclid(period);
        let code = scan_once(&args, Some(format!("{base}-{}", period_name(start))))?;
        if code != mailtls::exit::OK {
            return Ok(code);
        }
        let wait = (start + period - now()).max(0);
        tracing::info!(
            next_in_s = wait,
            "scan of this period done; waiting for the next"
        );
        let wait = Duration::from_secs(u64::try_from(wait).unwrap_or(0));
        if let Some(signal) = super::runtime()?.block_on(sleep_unless_stopped(wait)) {
            // Between two scans nothing is held: leaving is clean.
            tracing::info!(signal, "stopped between two scans");
            return Ok(mailtls::exit::OK);
        }
    }
}

/// Sleeps `wait`, unless SIGTERM or SIGINT comes first (then its name).
async fn sleep_unless_stopped(wait: Duration) -> Option<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tokio::time::sleep(wait).await;
        return None;
    };
    tokio::select! {
        () = tokio::time::sleep(wait) => None,
        _ = term.recv() => Some("SIGTERM"),
        _ = int.recv() => Some("SIGINT"),
    }
}

/// A period's start as a scan name's suffix: `20261205T1200Z`.
fn period_name(start: i64) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute]Z");
    time::OffsetDateTime::from_unix_timestamp(start)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| start.to_string())
}

/// One scan: `name`, or the name derived from the list and the options.
fn scan_once(args: &RunArgs, name: Option<String>) -> Result<u8, Failure> {
    // Everything the user typed is checked before the store is touched or a packet sent.
    let input_name = args.input.clone().unwrap_or_else(|| "-".to_string());
    let check = args.probes.options()?;
    let mut engine_options = args.engine.options()?;
    let reader = open_input(&input_name)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    engine_options.limits = Limits {
        total: args.max_connections,
        per_address: args.per_ip,
        per_address_rate: NonZeroU32::new(args.per_ip_rate),
    };
    engine_options.dns_rate = NonZeroU32::new(args.dns_rate);
    engine_options.retries = args.retries;
    engine_options.ehlo_name = args.ehlo.clone();
    engine_options.memo = Some(match args.memo {
        Some(mib) => MemoOptions {
            max_bytes: mib * 1024 * 1024,
        },
        None => MemoOptions::for_jobs(args.parallel),
    });
    let spec = ScanSpec {
        id: String::new(),
        input: input_identity(&input_name),
        options: fingerprint(&ObserveOptions::new(&check, &engine_options), args.csv),
    };
    let spec = ScanSpec {
        id: name.unwrap_or_else(|| default_id(&spec)),
        ..spec
    };
    let mut options = ScanOptions {
        check,
        shard,
        parallel: args.parallel,
        max_duration: args.max_duration,
        leases_failed: None,
        lease: Duration::from_secs(args.lease),
    };

    let runtime = super::runtime_threaded()?;
    let store = runtime
        .block_on(Store::open(&args.db))
        .map_err(store_failure)?;
    if let Some(theirs) = runtime
        .block_on(store.begin_scan(&spec, now()))
        .map_err(store_failure)?
    {
        return Err(Failure::usage(anyhow::anyhow!(
            "scan {} was started with other options ({}); continue it with those, or name a \
             new scan with --scan",
            spec.id,
            differences(&spec.options, &theirs)
        )));
    }
    let run_id = random_id();
    let queue = store.backend() == Backend::Postgres && args.shard.is_none();
    let leases = match store.backend() {
        Backend::Postgres => {
            let settings = SharedSettings {
                per_ip: u32::try_from(args.per_ip).unwrap_or(u32::MAX),
                per_ip_rate: NonZeroU32::new(args.per_ip_rate),
                dns_rate: NonZeroU32::new(args.dns_rate),
                lease: options.lease,
            };
            let leases = runtime.block_on(workers::join(&args.db, &spec.id, &run_id, settings))?;
            engine_options.shared = Some(leases.clone());
            options.leases_failed = Some(leases.failed());
            Some(leases)
        }
        Backend::Sqlite => None,
    };
    let engine = super::build_engine(engine_options)?;
    let shard_name = if queue {
        "queue".to_string()
    } else {
        shard.to_string()
    };
    runtime
        .block_on(workers::start_run(
            &store,
            &spec.id,
            &run_id,
            &shard_name,
            leases.as_deref(),
        ))
        .map_err(store_failure)?;
    let destination = Destination {
        store: store.clone(),
        scan_id: spec.id.clone(),
        run_id: run_id.clone(),
    };
    let input = if args.csv {
        Input::csv(reader)
    } else {
        Input::lines(reader)
    };
    let progress = progress_bar(&input_name, args.csv, shard);
    logs::above(&progress);
    let mut output = Output::new(&spec.id, args.json_lines, progress.clone());
    let outcome = if queue {
        runtime.block_on(mailtls::scan::queue::scan(
            &engine,
            &destination,
            input,
            &options,
            |event| output.event(event),
        ))
    } else {
        runtime.block_on(run::scan(&engine, &destination, input, &options, |event| {
            output.event(event)
        }))
    };
    progress.finish_and_clear();
    if let Some(leases) = &leases {
        runtime.block_on(leases.finish());
    }
    let finished = runtime.block_on(store.finish_run(&spec.id, &run_id, &outcome.stats, now()));
    let summary = format!(
        "scan {}: {} targets checked by this run, {} skipped as done before, {} duplicate lines, \
         {} lines rejected{}{}",
        spec.id,
        outcome.stats.targets_done,
        output.skipped_done,
        outcome.stats.duplicates,
        output.rejected,
        match outcome.stats.retried {
            0 => String::new(),
            n => format!(", {n} checks repeated because DNS did not answer"),
        },
        text::store_errors_in_brief(&store.errors())
            .map(|errors| format!(", {errors}"))
            .unwrap_or_default()
    );
    // Unrecorded, the run's end would make the scan look unfinished: say so, like a stop.
    let stopped = match (outcome.stopped, finished) {
        (None, Err(error)) => Some(Stop::Store(error)),
        (stopped, _) => stopped,
    };
    match stopped {
        None => {
            if output.to_terminal {
                let fleet = runtime
                    .block_on(read_fleet(&store, Some(&spec.id)))
                    .map_err(store_failure)?;
                super::write_text(&text::lead(&fleet));
                super::write_text(&format!(
                    "\n{summary}.\nEvery target: mailtls scan report {}\n",
                    args.db
                ));
            } else {
                eprintln!("mailtls: {summary}");
            }
            Ok(mailtls::exit::OK)
        }
        Some(stop) => {
            let why = match &stop {
                Stop::MaxDuration => "stopped after --max-duration".to_string(),
                Stop::Store(error) => format!("{error}"),
                Stop::Input(error) => format!("{error}"),
                Stop::Signal(signal) => format!("stopped by {signal}"),
            };
            Err(Failure::could_not_check(anyhow::anyhow!(
                "{why}; {summary}; what was committed is kept: run the same command to continue"
            )))
        }
    }
}

/// The list, buffered; a missing or unreadable file is a usage error.
fn open_input(name: &str) -> Result<Box<dyn BufRead + Send>, Failure> {
    if name == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let file =
        std::fs::File::open(name).map_err(|e| Failure::usage(anyhow::anyhow!("{name}: {e}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Failure::usage(anyhow::anyhow!(
            "{name} is a directory, not a list"
        )));
    }
    Ok(Box::new(BufReader::new(file)))
}

/// The list's identity for the default scan name: its canonical path, or `-`.
fn input_identity(name: &str) -> String {
    if name == "-" {
        return name.to_string();
    }
    std::fs::canonicalize(name)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| name.to_string())
}

/// The options that change results, as canonical JSON: a scan continues only with these. What
/// a check observes and how it is judged comes whole from [`ObserveOptions`]; how the list is
/// read (`--csv`) is the scan's own.
fn fingerprint(observe: &ObserveOptions, csv: bool) -> String {
    format!("{{\"observe\":{},\"csv\":{csv}}}", observe.fingerprint())
}

/// Which options differ between this run's fingerprint and the one a scan was started with,
/// named as the user sets them.
fn differences(ours: &str, theirs: &str) -> String {
    let part = |text: &str| -> (String, Option<bool>) {
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        (
            value
                .get("observe")
                .map(|o| o.to_string())
                .unwrap_or_default(),
            value.get("csv").and_then(serde_json::Value::as_bool),
        )
    };
    let ((our_observe, our_csv), (their_observe, their_csv)) = (part(ours), part(theirs));
    let mut names: Vec<&str> =
        ObserveOptions::differences(&our_observe, &their_observe).unwrap_or_default();
    if our_csv != their_csv {
        names.push("--csv");
    }
    if names.is_empty() {
        // A fingerprint of an older mailtls, in another shape.
        names.push("options recorded by another mailtls version");
    }
    let verb = if names.len() == 1 {
        "differs"
    } else {
        "differ"
    };
    format!("{} {verb}", names.join(", "))
}

/// `auto-` and 12 hex digits of SHA-256 over the list's identity and the options.
fn default_id(spec: &ScanSpec) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\n{}", spec.input, spec.options).as_bytes(),
    );
    let hex: String = digest.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("auto-{hex}")
}

/// 16 random hex digits: this process's run.
fn random_id() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    // Without randomness the id is the time, still unique enough for one worker's run.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        bytes = now().to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A progress bar on a terminal (targets done of this shard's total, rate, ETA, problems
/// found); hidden otherwise.
fn progress_bar(input: &str, csv: bool, shard: Shard) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    // A second, quick pass over a file gives the total; standard input has none.
    let total = (input != "-")
        .then(|| count_targets(input, csv, shard))
        .flatten();
    let bar = match total {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total.is_some() {
        "{wide_bar} {pos}/{len} targets · {per_sec} · ETA {eta} · {msg}"
    } else {
        "{spinner} {pos} targets · {per_sec} · {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message("0 with problems");
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// How many of the file's targets fall in `shard`, or `None` when it cannot be read.
fn count_targets(path: &str, csv: bool, shard: Shard) -> Option<u64> {
    let file = std::fs::File::open(Path::new(path)).ok()?;
    let reader = BufReader::new(file);
    let mut input = if csv {
        Input::csv(reader)
    } else {
        Input::lines(reader)
    };
    let mut count = 0;
    while let Ok(Some(item)) = input.next_item() {
        if let Item::Target(line) = item {
            if shard.contains(&line.key) {
                count += 1;
            }
        }
    }
    Some(count)
}

/// Where the scan's events go: the bar, stderr for rejected lines, stdout for results.
struct Output {
    scan_id: String,
    json_lines: bool,
    to_terminal: bool,
    progress: ProgressBar,
    with_problems: u64,
    skipped_done: u64,
    rejected: u64,
}

impl Output {
    fn new(scan_id: &str, json_lines: bool, progress: ProgressBar) -> Output {
        Output {
            scan_id: scan_id.to_string(),
            json_lines,
            to_terminal: std::io::stdout().is_terminal() && !json_lines,
            progress,
            with_problems: 0,
            skipped_done: 0,
            rejected: 0,
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Done(record) => {
                self.progress.inc(1);
                if record.serious_problems() > 0 {
                    self.with_problems += 1;
                    self.progress
                        .set_message(format!("{} with problems", self.with_problems));
                }
                let line = if self.json_lines {
                    serde_json::to_string(&wire::target_line(&self.scan_id, &record)).ok()
                } else if !self.to_terminal {
                    Some(text::target_line(&record))
                } else {
                    None
                };
                if let Some(line) = line {
                    // A closed pipe is not a reason to stop the scan: the store has it all.
                    let _ = writeln!(std::io::stdout().lock(), "{line}");
                }
            }
            Event::Skipped { duplicate, .. } => {
                self.progress.inc(1);
                if !duplicate {
                    self.skipped_done += 1;
                }
            }
            Event::Rejected { line, text, reason } => {
                self.rejected += 1;
                self.progress.suspend(|| {
                    eprintln!("mailtls: line {line} skipped: {reason}: {text}");
                });
            }
        }
    }
}

async fn read_fleet(store: &Store, scan: Option<&str>) -> Result<summary::Fleet, StoreError> {
    read_scan(store, scan).await.map(|(fleet, _)| fleet)
}

/// Scan `scan` of the store (the newest without a name), or the error saying there is none.
async fn find_scan(
    store: &Store,
    scan: Option<&str>,
) -> Result<mailtls::scan::store::ScanInfo, StoreError> {
    store.scan(scan).await?.ok_or_else(|| {
        StoreError::Other(
            store.location().to_string(),
            match scan {
                Some(name) => format!("no scan called {name}"),
                None => "no scan in it yet".to_string(),
            },
        )
    })
}

/// A scan summarised, with its problem rows.
async fn read_scan(
    store: &Store,
    scan: Option<&str>,
) -> Result<(summary::Fleet, Vec<ProblemRecord>), StoreError> {
    let info = find_scan(store, scan).await?;
    let targets = store.targets(&info.id).await?;
    let problems = store.problems(&info.id).await?;
    let discovery = store.discovery_issues(&info.id).await?;
    let inbound = store.inbound(&info.id).await?;
    let rejected = store.rejected(&info.id).await?;
    let fleet = summary::summarize(
        info,
        targets,
        &problems,
        &discovery,
        inbound,
        rejected,
        store.errors(),
    );
    Ok((fleet, problems))
}

fn run_report(args: &ReportArgs) -> Result<u8, Failure> {
    let runtime = super::runtime()?;
    let fleet = runtime
        .block_on(async {
            let store = Store::open_existing(&args.db).await?;
            read_fleet(&store, args.scan.as_deref()).await
        })
        .map_err(store_failure)?;
    if args.json {
        super::write_json(&wire::report(&fleet))?;
    } else if args.csv {
        write_csv(&fleet)?;
    } else {
        super::write_text(&text::report(&fleet));
    }
    Ok(fleet.exit_code)
}

fn write_csv(fleet: &summary::Fleet) -> Result<(), Failure> {
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    let failed = |e: csv::Error| Failure::could_not_check(anyhow::anyhow!("cannot write: {e}"));
    writer
        .write_record([
            "target",
            "line",
            "account",
            "verdict",
            "exit_code",
            "summary",
            "fix",
            "recommendation",
            "codes",
            "mta_sts",
            "dane",
            "costs_mail",
        ])
        .map_err(failed)?;
    for t in &fleet.targets {
        let codes = fleet
            .codes
            .get(&t.target)
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let inbound = fleet.inbound.iter().find(|r| r.target == t.target);
        writer
            .write_record([
                t.target.as_str(),
                &t.line.to_string(),
                t.account.as_deref().unwrap_or_default(),
                t.verdict.as_str(),
                &t.exit_code.to_string(),
                &t.summary,
                t.fix.as_deref().unwrap_or_default(),
                t.recommendation.as_deref().unwrap_or_default(),
                &codes,
                inbound.map_or("", |r| r.mta_sts.as_str()),
                inbound.and_then(|r| r.dane).map_or("", |d| d.as_str()),
                inbound.map_or("", |r| r.costs_mail.as_str()),
            ])
            .map_err(failed)?;
    }
    writer
        .flush()
        .map_err(|e| Failure::could_not_check(anyhow::anyhow!("cannot write: {e}")))
}

/// A summarised scan's rows, as a diff compares them.
fn rows<'a>(fleet: &'a summary::Fleet, problems: &'a [ProblemRecord]) -> summary::Rows<'a> {
    summary::Rows {
        targets: &fleet.targets,
        problems,
        inbound: &fleet.inbound,
    }
}

fn run_diff(args: &DiffArgs) -> Result<u8, Failure> {
    let runtime = super::runtime()?;
    let ((old, old_problems), (new, new_problems)) = runtime
        .block_on(async {
            match &args.db {
                Some(db) => {
                    let store = Store::open_existing(db).await?;
                    Ok::<_, StoreError>((
                        read_scan(&store, Some(&args.old)).await?,
                        read_scan(&store, Some(&args.new)).await?,
                    ))
                }
                None => Ok((
                    read_scan(&Store::open_existing(&args.old).await?, None).await?,
                    read_scan(&Store::open_existing(&args.new).await?, None).await?,
                )),
            }
        })
        .map_err(store_failure)?;
    // Each scan's summary holds the errors of its store as of its reading: in one database,
    // the newer's are the whole count.
    let store_errors = match &args.db {
        Some(_) => new.store_errors.clone(),
        None => old.store_errors.clone().merged(&new.store_errors),
    };
    let diff = summary::diff(
        rows(&old, &old_problems),
        rows(&new, &new_problems),
        store_errors,
    );
    if args.json {
        super::write_json(&wire::diff(&old.scan, &new.scan, &diff))?;
    } else {
        super::write_text(&text::diff(&old.scan, &new.scan, &diff));
    }
    Ok(diff.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_named_by_their_start_in_utc() {
        // 2026-12-05 00:00:00 UTC.
        assert_eq!(period_name(1_796_428_800), "20261205T0000Z");
        assert_eq!(period_name(1_796_428_800 + 90 * 60), "20261205T0130Z");
    }
}
