//! The command line: arguments (clap), the options they become, and the output. One file per
//! command; what they share (engine options, output, failures) is here.

mod check;
mod explain;
mod judge;
mod logs;
mod provision;
mod reputation;
mod scan;
mod schema;
mod serve;
mod tlsrpt;
mod verify;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use mailtls::engine::{Engine, EngineOptions, IspdbOption};
use mailtls::exit;
use mailtls::observation::Zone;
use mailtls::run::check::CheckOptions;
use mailtls::service::Service;

#[derive(Parser, Debug)]
#[command(
    name = "mailtls",
    version,
    about = "Explains why a mail client says the certificate does not match the server name, and what to change",
    after_help = "Exit status: 0 all good, 1 warnings only, 2 a problem that makes mail clients warn or fail, \
                  3 could not check, 64 usage error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the TLS of a mail server on the seven mail ports and name the server name that
    /// works; for an e-mail address or a mail domain, check every server it sends clients to.
    Check(check::CheckArgs),
    /// Judge observations saved with `check --save` again, offline.
    Judge(judge::JudgeArgs),
    /// From the text of a warning a user saw (paste it, or pipe it in) to what causes it and the
    /// command that finds out (exit 64 when the text is not recognised).
    Explain(explain::ExplainArgs),
    /// Work with saved certificates, offline.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Is the mail server's address on a blocklist, and do its reverse DNS and HELO name hold
    /// up? (Certificate warnings cannot get an address listed; this shows what can.)
    Reputation(reputation::ReputationArgs),
    /// Write a provisioning file (Thunderbird autoconfig, Apple .mobileconfig, Outlook
    /// autodiscover) for a mail domain, with only server names verified to work.
    Provision(provision::ProvisionArgs),
    /// Check every domain, address or host of a list (a hosting fleet) politely and resumably
    /// into SQLite or PostgreSQL; `scan report` and `scan diff` read the results back.
    Scan(scan::ScanArgs),
    /// Serve the support-desk page, the JSON API, provisioning endpoints that hand out only
    /// verified names, and Prometheus metrics.
    Serve(serve::ServeArgs),
    /// Read the TLS reports (RFC 8460) senders mail to a domain's TLS-RPT address, JSON or
    /// gzipped, and say per sender and MX what failed, what it cost and what to fix (exit 0 no
    /// failures, 1 failures but mail delivered, 2 mail not delivered, 3 a file skipped, 64 no
    /// report could be read).
    Tlsrpt(tlsrpt::TlsrptArgs),
    /// Print the JSON Schema of an output (check, reputation, cert-verify, provision, explain,
    /// scan-target, scan-report, scan-diff, tlsrpt).
    Schema(schema::SchemaArgs),
}

#[derive(Subcommand, Debug)]
enum CertCommand {
    /// Validate a saved chain for a server name, offline (exit 0 valid, 2 invalid, 64 usage).
    Verify(verify::VerifyArgs),
}

/// Runs the command; returns the exit status.
pub fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Judge(args) => judge::run(args),
        Command::Explain(args) => explain::run(&args),
        Command::Cert(CertCommand::Verify(args)) => verify::run(&args),
        Command::Reputation(args) => reputation::run(args),
        Command::Provision(args) => provision::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Tlsrpt(args) => tlsrpt::run(&args),
        Command::Schema(args) => schema::run(&args),
    }
}

/// The options every networked command takes, with the same meaning everywhere.
#[derive(Args, Debug)]
struct EngineArgs {
    /// DNS resolver to use instead of the system's: IP or IP:PORT. Some blocklists refuse
    /// public resolvers; use your own.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns)]
    dns: Option<SocketAddr>,
    /// Also trust the CA certificates in this PEM file (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_files: Vec<PathBuf>,
    /// Timeout for each step (connect, each reply, TLS handshake, DNS), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// Mozilla's ISP database, for Thunderbird's settings search: a directory of its files (the
    /// ispdb/ folder of github.com/thunderbird/autoconfig) or an https:// URL answering as
    /// https://live.thunderbird.net/autoconfig/v1.1/ does (the domain appended, or in place of
    /// {{domain}}). Default: the copy built into mailtls.
    #[arg(long, value_name = "DIR|URL")]
    ispdb: Option<String>,
    /// DNSSEC trust anchors for the DANE and MX lookups, instead of the root's keys built into
    /// mailtls: a file of DNSKEY or DS records in zone-file format, as Unbound's
    /// trust-anchor-file (for a private signed zone or a lab root).
    #[arg(long = "dnssec-anchor", value_name = "FILE")]
    dnssec_anchor: Option<PathBuf>,
}

impl EngineArgs {
    /// Builds the engine; a `--ca-file` that does not exist is a usage error before any
    /// network work.
    fn engine(&self) -> Result<Engine, Failure> {
        build_engine(self.options()?)
    }

    /// The engine options these arguments ask for.
    fn options(&self) -> Result<EngineOptions, Failure> {
        existing_files("--ca-file", &self.ca_files)?;
        existing_files("--dnssec-anchor", self.dnssec_anchor.as_slice())?;
        // Read now too, so a file that holds no anchor is refused before a scan's store is
        // touched (the engine reads it again when it is built).
        if let Some(path) = &self.dnssec_anchor {
            mailtls::probe::dnssec::anchors::Anchors::read(path)
                .map_err(|e| Failure::usage(e.into()))?;
        }
        let ispdb = match self.ispdb.as_deref() {
            None => IspdbOption::Bundled,
            Some(url) if url.starts_with("https://") => IspdbOption::Url(url.to_string()),
            Some(url) if url.contains("://") => {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--ispdb {url}: only https:// URLs are fetched; for a copy on this machine, \
                     give its directory"
                )));
            }
            Some(dir) => IspdbOption::Dir(PathBuf::from(dir)),
        };
        Ok(EngineOptions {
            dns_server: self.dns,
            // Absolute, so that a scan continued from another directory has the same options.
            ca_files: self
                .ca_files
                .iter()
                .map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
                .collect(),
            step_timeout: Duration::from_secs(self.timeout),
            ispdb,
            // Absolute too.
            dnssec_anchor: self
                .dnssec_anchor
                .as_ref()
                .map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
            ..EngineOptions::default()
        })
    }
}

/// Builds an engine, mapping its error to the documented exit status. The files of an
/// `--ispdb` directory that were skipped are named on standard error.
fn build_engine(options: EngineOptions) -> Result<Engine, Failure> {
    let engine = Engine::new(options.clone()).map_err(|e| Failure {
        status: e.exit_code(),
        error: e.into(),
    })?;
    if let (IspdbOption::Dir(dir), Some(db)) = (&options.ispdb, engine.ispdb().local()) {
        for skipped in db.skipped() {
            eprintln!(
                "mailtls: --ispdb {}: skipped {}: {}",
                dir.display(),
                skipped.file,
                skipped.reason
            );
        }
    }
    Ok(engine)
}

/// What to check on each host, with the same meaning for `check` and `scan`.
#[derive(Args, Debug)]
struct ProbeArgs {
    /// Ports to probe, comma-separated (default: 25,587,465,143,993,110,995).
    #[arg(long, value_name = "PORTS", value_delimiter = ',', value_parser = parse_port)]
    ports: Vec<Service>,
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
    /// Do not check inbound delivery of a mail domain (its MTA-STS policy, TLS-RPT record and
    /// DNSSEC-validated MX and TLSA records); its MX hosts' port 25 is still checked.
    #[arg(long = "no-inbound")]
    no_inbound: bool,
    #[command(flatten)]
    clients: ClientArgs,
    /// Also check blocklists, reverse DNS and the SMTP name of every address.
    #[arg(long)]
    reputation: bool,
    #[command(flatten)]
    lists: ListArgs,
}

impl ProbeArgs {
    /// The check options these arguments ask for.
    fn options(&self) -> Result<CheckOptions, Failure> {
        let mut services: Vec<Service> = Vec::new();
        for service in &self.ports {
            if !services.contains(service) {
                services.push(*service);
            }
        }
        Ok(CheckOptions {
            services,
            no_sni: self.no_sni,
            no_aia: self.no_aia,
            no_versions: self.no_versions,
            no_inbound: self.no_inbound,
            clients: self.clients.clients.clone(),
            reputation: if self.reputation {
                Some(self.lists.zones()?)
            } else {
                None
            },
            typed: None,
        })
    }
}

/// Parses one `--ports` entry.
fn parse_port(text: &str) -> Result<Service, String> {
    let port: u16 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a port number"))?;
    Service::for_port(port).ok_or_else(|| {
        format!("{port} is not a mail port this tool knows (25, 587, 465, 143, 993, 110, 995)")
    })
}

/// `--client`: which mail clients' verdicts to show.
#[derive(Args, Debug)]
struct ClientArgs {
    /// Only show these mail clients, comma-separated.
    #[arg(
        long = "client",
        value_name = "CLIENTS",
        value_delimiter = ',',
        value_enum,
        ignore_case = true
    )]
    clients: Vec<mailtls::clients::Client>,
}

/// The blocklists to ask: `--dnsbl FILE`, or the default set.
#[derive(Args, Debug)]
struct ListArgs {
    /// Blocklists to ask instead of the default set: one per line, `ip ZONE` or `domain ZONE`,
    /// optionally `codes=spamhaus|spamhaus-dbl|generic` and `delist=URL`.
    #[arg(long, value_name = "FILE")]
    dnsbl: Option<PathBuf>,
}

/// Largest `--dnsbl` file read.
const MAX_ZONE_FILE: u64 = 64 * 1024;

impl ListArgs {
    fn zones(&self) -> Result<Vec<Zone>, Failure> {
        let Some(path) = &self.dnsbl else {
            return Ok(mailtls::analyze::dnsbl::default_zones());
        };
        let text = read_capped(path, MAX_ZONE_FILE).map_err(|reason| {
            Failure::usage(anyhow::anyhow!("--dnsbl {}: {reason}", path.display()))
        })?;
        mailtls::analyze::dnsbl::parse_zone_file(&text)
            .map_err(|e| Failure::usage(anyhow::anyhow!("--dnsbl {}: {e}", path.display())))
    }
}

/// A failure before or instead of a report, with the exit status it maps to.
pub struct Failure {
    pub status: u8,
    pub error: anyhow::Error,
}

impl Failure {
    fn usage(error: anyhow::Error) -> Failure {
        Failure {
            status: exit::USAGE,
            error,
        }
    }

    fn could_not_check(error: anyhow::Error) -> Failure {
        Failure {
            status: exit::UNKNOWN,
            error,
        }
    }
}

/// Parses `--dns`.
fn parse_dns(text: &str) -> Result<SocketAddr, String> {
    mailtls::probe::dns::parse_server(text).map_err(|e| e.to_string())
}

/// Checks that every file given to `option` exists, so a typo is a usage error before any
/// network work.
fn existing_files(option: &str, paths: &[PathBuf]) -> Result<(), Failure> {
    match paths.iter().find(|path| !path.is_file()) {
        Some(path) => Err(Failure::usage(anyhow::anyhow!(
            "{option} {}: no such file",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// Reads a text file of at most `cap` bytes.
fn read_capped(path: &Path, cap: u64) -> Result<String, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > cap {
        return Err(format!("larger than {cap} bytes"));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// One thread is plenty for one command: the work is waiting on sockets, and it keeps start-up
/// and memory small.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::could_not_check)
}

/// A runtime on every core, for a scan: the handshakes' cryptography is real work there.
fn runtime_threaded() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::could_not_check)
}

/// Writes `value` as pretty JSON and a newline to stdout. A reader that stops reading (`| head`)
/// is not an error: the command's own status stands, as ripgrep does.
fn write_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut stdout, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(stdout));
    match written {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
    .context("cannot write the report")
    .map_err(Failure::could_not_check)
}

/// Writes a text report; ANSI styles are stripped off a terminal and under `NO_COLOR`.
fn write_text(text: &str) {
    let mut stdout = anstream::stdout();
    let _ = stdout.write_all(text.as_bytes());
}

/// Parses `--at`: an RFC 3339 time, as Unix seconds.
fn parse_time(text: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("not an RFC 3339 time, e.g. 2026-01-31T12:00:00Z ({e})"))
}
