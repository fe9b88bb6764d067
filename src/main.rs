//! The `mailtls` command: parses arguments once, runs the library, prints, and exits with a
//! documented status. All the work lives in the library; this file is glue.
#![forbid(unsafe_code)]

mod cert_verify;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use mailtls::analyze::dnsbl::{self, Zone};
use mailtls::check::{self, CheckError, CheckOptions};
use mailtls::clients::Client;
use mailtls::diagnose;
use mailtls::discover::dns::{self, DnsError};
use mailtls::discovery;
use mailtls::provision;
use mailtls::report;
use mailtls::reputation::{self, ReputationError, ReputationOptions};
use mailtls::service::{self, Service};
use mailtls::target::Target;

/// Exit status for a usage error (sysexits.h EX_USAGE).
pub(crate) const EXIT_USAGE: u8 = 64;
/// Exit status when nothing could be checked.
pub(crate) const EXIT_UNKNOWN: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "mailtls",
    version,
    about = "Explains why a mail client says the certificate does not match the server name, and what to change",
    after_help = "Exit status: 0 all good, 1 warnings only, 2 a problem that makes mail clients warn or fail, \
                  3 could not check, 64 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the TLS of a mail server on the seven mail ports and name the server name that works.
    Check(CheckArgs),
    /// Work with saved certificates, offline.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Is the mail server's address on a blocklist, and do its reverse DNS and HELO name hold
    /// up? (Certificate warnings cannot get an address listed; this shows what can.)
    Reputation(ReputationArgs),
    /// Write a provisioning file (Thunderbird autoconfig, Apple .mobileconfig, Outlook
    /// autodiscover) for a mail domain, with only server names verified to work.
    Provision(ProvisionArgs),
}

#[derive(Args, Debug)]
struct ProvisionArgs {
    /// The mail domain (or an address at it).
    domain: String,
    /// thunderbird, mobileconfig or autodiscover.
    #[arg(long, value_name = "FORMAT")]
    format: String,
    /// DNS resolver to use instead of the system's: IP or IP:PORT.
    #[arg(long, value_name = "IP[:PORT]")]
    dns: Option<String>,
    /// Also trust the CA certificates in this PEM file (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_files: Vec<PathBuf>,
    /// Timeout for each step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
}

#[derive(Args, Debug)]
struct ReputationArgs {
    /// Host name, IP address, or mail domain (its MX hosts are examined too).
    host: String,
    /// Print the result as JSON (schema in docs/json.md).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
    /// DNS resolver to use instead of the system's: IP or IP:PORT. Some blocklists refuse
    /// public resolvers; use your own.
    #[arg(long, value_name = "IP[:PORT]")]
    dns: Option<String>,
    /// Timeout for each step (each DNS query, connect, each reply), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
}

#[derive(Args, Debug)]
struct ListArgs {
    /// Blocklists to ask instead of the default set: one per line, `ip ZONE` or `domain ZONE`,
    /// optionally `codes=spamhaus|spamhaus-dbl|generic` and `delist=URL`.
    #[arg(long, value_name = "FILE")]
    dnsbl: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum CertCommand {
    /// Validate a saved chain for a server name, offline (exit 0 valid, 2 invalid, 64 usage).
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The chain: PEM (server certificate first, then intermediates) or one DER certificate.
    #[arg(long, value_name = "CHAIN.pem")]
    chain: PathBuf,
    /// Trust these CA certificates (PEM) instead of the system store.
    #[arg(long, value_name = "ROOTS.pem")]
    roots: Option<PathBuf>,
    /// The server name (or IP address) the client uses.
    #[arg(long, value_name = "NAME|IP")]
    name: String,
    /// Validate at this time (RFC 3339, e.g. 2026-01-31T12:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Judge by this client's rules instead of the strict profile (thunderbird, outlook,
    /// apple-mail, android).
    #[arg(long, value_name = "NAME")]
    client: Option<String>,
    /// Print the result as JSON (schema in docs/json.md).
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Server name or IP address a mail client is configured with (e.g. mail.example.com).
    host: String,
    /// Print the report as JSON (schema in docs/json.md).
    #[arg(long)]
    json: bool,
    /// DNS resolver to use instead of the system's: IP or IP:PORT.
    #[arg(long, value_name = "IP[:PORT]")]
    dns: Option<String>,
    /// Also trust the CA certificates in this PEM file (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_files: Vec<PathBuf>,
    /// Ports to probe, comma-separated (default: 25,587,465,143,993,110,995).
    #[arg(long, value_name = "PORTS", value_delimiter = ',')]
    ports: Vec<u16>,
    /// Timeout for each step (connect, each reply, TLS handshake, DNS), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// Send no SNI, as very old clients do.
    #[arg(long = "no-sni")]
    no_sni: bool,
    /// Do not fetch missing intermediate certificates from their AIA (caIssuers) URLs.
    #[arg(long = "no-aia")]
    no_aia: bool,
    /// Do not ask which TLS versions (1.0 to 1.3) and weak cipher suites each port accepts
    /// (saves up to six connections per port).
    #[arg(long = "no-versions")]
    no_versions: bool,
    /// Only show these mail clients, comma-separated (thunderbird, outlook, apple-mail, android).
    #[arg(long = "client", value_name = "CLIENTS", value_delimiter = ',')]
    clients: Vec<String>,
    /// Also check blocklists, reverse DNS and the SMTP name of every address.
    #[arg(long)]
    reputation: bool,
    #[command(flatten)]
    lists: ListArgs,
}

/// A failure before or instead of a report, with the exit status it maps to.
pub(crate) struct Failure {
    status: u8,
    error: anyhow::Error,
}

impl Failure {
    fn usage(error: anyhow::Error) -> Failure {
        Failure {
            status: EXIT_USAGE,
            error,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let status = if error.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = error.print();
            return ExitCode::from(status);
        }
    };
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            // One line: the error and its causes, joined.
            eprintln!("mailtls: error: {:#}", failure.error);
            ExitCode::from(failure.status)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Cert(CertCommand::Verify(args)) => cert_verify::run(&args),
        Command::Reputation(args) => run_reputation(args),
        Command::Provision(args) => run_provision(args),
    }
}

fn run_provision(args: ProvisionArgs) -> Result<u8, Failure> {
    let format: provision::Format = args
        .format
        .parse()
        .map_err(|e: String| Failure::usage(anyhow::anyhow!("--format: {e}")))?;
    let address = discovery::address(&args.domain).map_err(|e| Failure::usage(e.into()))?;
    existing_files(&args.ca_files)?;
    let options = CheckOptions {
        target: Target::Dns(address.domain.clone()),
        services: service::ALL.to_vec(),
        step_timeout: Duration::from_secs(args.timeout),
        dns_server: parse_dns(args.dns.as_deref())?,
        ca_files: args.ca_files.clone(),
        no_sni: false,
        no_aia: false,
        no_versions: true,
    };
    let anchors = check::load_anchors(&options.ca_files)
        .map_err(|e| check_failure(CheckError::Anchors(e)))?;
    let observed = runtime()?
        .block_on(discovery::observe(&address, &options, &anchors))
        .map_err(check_failure)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let report = diagnose::discovery::judge(&observed, &anchors, now);
    let settings = &report.settings;
    if settings.incoming.is_none() && settings.outgoing.is_none() {
        return Err(Failure {
            status: 2,
            error: anyhow::anyhow!(
                "no server name for {} was verified to work without a warning; nothing written \
                 (run mailtls check {} to see why)",
                address.domain,
                address.domain
            ),
        });
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(provision::write(format, &address.domain, settings).as_bytes())
        .map_err(|e| Failure {
            status: EXIT_UNKNOWN,
            error: anyhow::Error::from(e).context("cannot write the file"),
        })?;
    if settings.incoming.is_none() || settings.outgoing.is_none() {
        eprintln!(
            "mailtls: warning: no verified {} server; the file lists only the other",
            if settings.incoming.is_none() {
                "incoming"
            } else {
                "outgoing"
            }
        );
        return Ok(1);
    }
    Ok(0)
}

/// Largest `--dnsbl` file read.
const MAX_ZONE_FILE: u64 = 64 * 1024;

/// The blocklists: `--dnsbl FILE`, or the default set.
fn zones(args: &ListArgs) -> Result<Vec<Zone>, Failure> {
    let Some(path) = &args.dnsbl else {
        return Ok(dnsbl::default_zones());
    };
    let usage =
        |reason: String| Failure::usage(anyhow::anyhow!("--dnsbl {}: {reason}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| usage(e.to_string()))?
        .len();
    if size > MAX_ZONE_FILE {
        return Err(usage(format!("larger than {MAX_ZONE_FILE} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| usage(e.to_string()))?;
    dnsbl::parse_zone_file(&text).map_err(|e| usage(e.to_string()))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    // One thread is plenty: the work is waiting on sockets, and it keeps start-up and memory small.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(|error| Failure {
            status: EXIT_UNKNOWN,
            error,
        })
}

fn reputation_failure(error: ReputationError) -> Failure {
    let status = match &error {
        ReputationError::Dns(DnsError::BadServer(_)) => EXIT_USAGE,
        ReputationError::Dns(_) => EXIT_UNKNOWN,
    };
    Failure {
        status,
        error: error.into(),
    }
}

fn run_reputation(args: ReputationArgs) -> Result<u8, Failure> {
    let target = Target::parse(&args.host).map_err(|e| Failure::usage(e.into()))?;
    let zones = zones(&args.lists)?;
    let dns_server = parse_dns(args.dns.as_deref())?;
    let options = ReputationOptions {
        target,
        zones,
        dns_server,
        step_timeout: Duration::from_secs(args.timeout),
    };
    let observations = runtime()?
        .block_on(reputation::observe(&options, &[]))
        .map_err(reputation_failure)?;
    let judged = diagnose::reputation::judge(&observations, &options.zones);
    let status = judged.verdict.exit_code();
    if args.json {
        write_json(&report::reputation::wire(&judged))?;
    } else {
        let mut stdout = anstream::stdout();
        let _ = stdout.write_all(report::reputation::render(&judged).as_bytes());
    }
    Ok(status)
}

/// Writes `value` as pretty JSON and a newline to stdout.
fn write_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(stdout))
        .map_err(|error| Failure {
            status: EXIT_UNKNOWN,
            error: anyhow::Error::from(error).context("cannot write the report"),
        })
}

/// Checks that every `--ca-file` exists, so a typo is a usage error before any network work.
fn existing_files(paths: &[PathBuf]) -> Result<(), Failure> {
    match paths.iter().find(|path| !path.is_file()) {
        Some(path) => Err(Failure::usage(anyhow::anyhow!(
            "--ca-file {}: no such file",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// Prints a report and, with `--reputation`, its reputation part; returns the worse of the two
/// exit statuses. `wire` builds the JSON form given the reputation's, `text` the text form.
fn print_report<W: serde::Serialize>(
    json: bool,
    status: u8,
    reputation: Option<&diagnose::reputation::Reputation>,
    wire: impl FnOnce(Option<report::reputation::Wire>) -> W,
    text: impl FnOnce() -> String,
) -> Result<u8, Failure> {
    if json {
        write_json(&wire(reputation.map(report::reputation::wire)))?;
    } else {
        let mut text = text();
        if let Some(reputation) = reputation {
            text.push_str("\nReputation\n");
            text.push_str(&report::reputation::render(reputation));
        }
        let mut stdout = anstream::stdout();
        let _ = stdout.write_all(text.as_bytes());
    }
    Ok(status.max(reputation.map_or(0, |r| r.verdict.exit_code())))
}

/// Parses `--dns`.
fn parse_dns(text: Option<&str>) -> Result<Option<std::net::SocketAddr>, Failure> {
    text.map(dns::parse_server)
        .transpose()
        .map_err(|e| Failure::usage(anyhow::Error::from(e).context("--dns")))
}

fn check_options(args: &CheckArgs) -> Result<CheckOptions, Failure> {
    // For an email address the target is its domain; discovery takes it from there.
    let host = args.host.rsplit('@').next().unwrap_or(&args.host);
    let target = Target::parse(host).map_err(|e| Failure::usage(e.into()))?;
    let services = if args.ports.is_empty() {
        service::ALL.to_vec()
    } else {
        let mut services = Vec::new();
        for port in &args.ports {
            let service = Service::for_port(*port).ok_or_else(|| {
                Failure::usage(anyhow::anyhow!(
                    "--ports: {port} is not a mail port this tool knows (25, 587, 465, 143, 993, 110, 995)"
                ))
            })?;
            if !services.contains(&service) {
                services.push(service);
            }
        }
        services
    };
    let dns_server = parse_dns(args.dns.as_deref())?;
    existing_files(&args.ca_files)?;
    Ok(CheckOptions {
        target,
        services,
        step_timeout: Duration::from_secs(args.timeout),
        dns_server,
        ca_files: args.ca_files.clone(),
        no_sni: args.no_sni,
        no_aia: args.no_aia,
        no_versions: args.no_versions,
    })
}

/// Parses `--client` names; empty means all.
fn parse_clients(names: &[String]) -> Result<Vec<Client>, Failure> {
    names
        .iter()
        .map(|name| {
            name.parse::<Client>()
                .map_err(|e| Failure::usage(anyhow::Error::from(e).context("--client")))
        })
        .collect()
}

fn check_failure(error: CheckError) -> Failure {
    let status = match &error {
        CheckError::Anchors(_) | CheckError::Dns(DnsError::BadServer(_)) => EXIT_USAGE,
        CheckError::Dns(_) => EXIT_UNKNOWN,
    };
    Failure {
        status,
        error: error.into(),
    }
}

/// `check user@domain`, or a mail domain: discover the servers clients are sent to, check them.
/// Blocklists, reverse DNS and SMTP names for `options.target`, reusing `known_smtp` probes.
fn judge_reputation(
    runtime: &tokio::runtime::Runtime,
    options: &CheckOptions,
    zones: Vec<Zone>,
    known_smtp: &[mailtls::observation::EndpointObservation],
) -> Result<diagnose::reputation::Reputation, Failure> {
    let options = ReputationOptions {
        target: options.target.clone(),
        zones,
        dns_server: options.dns_server,
        step_timeout: options.step_timeout,
    };
    let observed = runtime
        .block_on(reputation::observe(&options, known_smtp))
        .map_err(reputation_failure)?;
    Ok(diagnose::reputation::judge(&observed, &options.zones))
}

fn run_discovery(
    runtime: &tokio::runtime::Runtime,
    args: &CheckArgs,
    options: &CheckOptions,
    zones: Option<Vec<Zone>>,
) -> Result<u8, Failure> {
    let address = discovery::address(&args.host).map_err(|e| Failure::usage(e.into()))?;
    let anchors = check::load_anchors(&options.ca_files)
        .map_err(|e| check_failure(CheckError::Anchors(e)))?;
    let observed = runtime
        .block_on(discovery::observe(&address, options, &anchors))
        .map_err(check_failure)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let report = diagnose::discovery::judge(&observed, &anchors, now);
    // For a mail domain, reputation follows its MX hosts; reuse the port-25 probes made.
    let known_smtp: Vec<_> = observed
        .hosts
        .iter()
        .flat_map(|h| h.endpoints.iter().filter(|e| e.service.port == 25).cloned())
        .collect();
    let reputation = zones
        .map(|zones| judge_reputation(runtime, options, zones, &known_smtp))
        .transpose()?;
    print_report(
        args.json,
        report.verdict.exit_code(),
        reputation.as_ref(),
        |reputation| {
            let mut wire = report::discovery::wire(&report, now);
            wire.reputation = reputation;
            wire
        },
        || report::discovery::render(&report),
    )
}

fn run_check(args: CheckArgs) -> Result<u8, Failure> {
    let options = check_options(&args)?;
    let selected = parse_clients(&args.clients)?;
    let zones = if args.reputation {
        Some(zones(&args.lists)?)
    } else {
        None
    };
    let runtime = runtime()?;
    let domain = options.target.dns_name().map(str::to_string);
    let discover = args.host.contains('@')
        || match &domain {
            Some(name) => runtime.block_on(discovery::is_mail_domain(&options, name)),
            None => false,
        };
    if discover {
        return run_discovery(&runtime, &args, &options, zones);
    }
    let (observations, mut diagnosis) = runtime
        .block_on(check::run(&options))
        .map_err(check_failure)?;
    if !selected.is_empty() {
        for endpoint in &mut diagnosis.endpoints {
            endpoint.clients.retain(|v| selected.contains(&v.client));
        }
    }
    // The reputation part reuses the port-25 probes the check already made.
    let reputation = zones
        .map(|zones| judge_reputation(&runtime, &options, zones, &observations.endpoints))
        .transpose()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    print_report(
        args.json,
        diagnosis.verdict.exit_code(),
        reputation.as_ref(),
        |reputation| {
            let mut wire = report::wire::report(&diagnosis, now);
            wire.reputation = reputation;
            wire
        },
        || report::text::render(&diagnosis),
    )
}
