//! The engine: everything a command needs that is costly to build or must be shared, built once
//! from options and shared by any number of concurrent jobs (cloning an engine shares it).
//!
//! - the resolver, with its cache (`--dns`, or the system's);
//! - the trust anchors (the system store and `--ca-file`s), loaded once;
//! - the connection budget every connection of every job counts against (in all, and per
//!   address: a thousand checks of names hosted on one server keep to its limit together);
//! - the HTTP(S) fetcher for provisioning documents and AIA issuers, on the same resolver,
//!   anchors, budget and refusal of special-purpose addresses;
//! - the step timeout, the EHLO name and how often to retry a server that turns us away;
//! - the copy of Mozilla's ISP database discovery asks (the bundled one, `--ispdb DIR|URL`);
//! - for a fleet scan, a memo of answers shared by every job (each endpoint probed once).
//!
//! There is no global state besides the crypto provider (`crypto::PROVIDER`, immutable). The
//! commands are methods on the engine, one file each under [`crate::run`]. Every job is
//! cancel-safe: dropping its future closes its connections and returns their places in the
//! budget.
//!
//! ```no_run
//! use mailtls_core::engine::{Engine, EngineOptions};
//! use mailtls_core::run::check::CheckOptions;
//! use mailtls_core::target::Subject;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new(EngineOptions::default())?;
//! let options = CheckOptions::default();
//! // Any number of checks at once, sharing the resolver's cache and the budget.
//! let jobs: Vec<_> = ["mail.example.com", "jane@example.org"]
//!     .into_iter()
//!     .map(|input| {
//!         let (engine, options) = (engine.clone(), options.clone());
//!         tokio::spawn(async move {
//!             let subject = Subject::parse(input)?;
//!             Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
//!                 engine.check(&subject, &options).await?,
//!             )
//!         })
//!     })
//!     .collect();
//! for job in jobs {
//!     let report = job.await?.map_err(|e| e.to_string())?;
//!     println!("{}", mailtls_core::report::check(&report));
//! }
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::analyze::chain::{AnchorError, TrustAnchors};
use crate::observation::Observations;
use crate::options::{CheckOptions, ObserveOptions};
use crate::probe::ProbeSettings;
use crate::probe::budget::{ConnectionBudget, Limits};
use crate::probe::dns::{Dns, DnsError};
use crate::probe::dnssec::Validator;
use crate::probe::dnssec::anchors::{AnchorFileError, Anchors};
use crate::probe::http::Fetcher;
use crate::probe::memo::{MemoOptions, ProbeMemo};
use crate::probe::shared::SharedLimits;
use crate::provisioning::ispdb::{self, IspDb, Skipped};
use crate::target::Target;

/// Default limit for each step (connect, each reply, the handshake, each DNS query).
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// How to build an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Resolver to use instead of the system's.
    pub dns_server: Option<SocketAddr>,
    /// Trust the operating system's store (the public roots clients ship with).
    pub system_roots: bool,
    /// Also trust the CA certificates in these PEM files (a private CA).
    pub ca_files: Vec<PathBuf>,
    /// Limit for each step.
    pub step_timeout: Duration,
    /// Connections in flight, in all and per address, and new connections per second per
    /// address.
    pub limits: Limits,
    /// The name to greet SMTP servers with; `None`: our address as a literal.
    pub ehlo_name: Option<String>,
    /// How many more times to try an endpoint that turned us away as busy or never greeted.
    pub retries: u32,
    /// At most so many DNS questions per second; `None`: no limit.
    pub dns_rate: Option<NonZeroU32>,
    /// Share answers between jobs (a fleet scan): each endpoint probed once, each host checked
    /// once. `None` for anything long-lived, which must not answer from the past.
    pub memo: Option<MemoOptions>,
    /// Never resolve to, or connect to, addresses in special-purpose ranges
    /// ([`crate::address::special`]: loopback, private, link-local, CGNAT, multicast,
    /// reserved...): for a server on the internet. The resolver drops them from its answers, the
    /// probes and the fetcher (every hop, a literal address in a URL or a redirect included)
    /// refuse them before connecting.
    pub refuse_special: bool,
    /// The copy of Mozilla's ISP database Thunderbird's steps 5 and 6 are answered from.
    pub ispdb: IspdbOption,
    /// DNSSEC trust anchors (DNSKEY or DS records, see [`crate::probe::dnssec::anchors`])
    /// instead of the root's keys built into mailtls: for a private signed hierarchy.
    pub dnssec_anchor: Option<PathBuf>,
    /// Limits kept together with other workers (a fleet scan on several machines): every
    /// connection and DNS question also waits for its place and turn there.
    pub shared: Option<Arc<dyn SharedLimits>>,
}

/// Which copy of Mozilla's ISP database to ask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "at")]
pub enum IspdbOption {
    /// The copy built into mailtls (`data/ispdb/`).
    #[default]
    Bundled,
    /// The files of a directory: an `ispdb/` folder of thunderbird/autoconfig, or the files its
    /// tools/convert.py writes (one per domain).
    Dir(PathBuf),
    /// A server answering as Thunderbird's `mailnews.auto_config_url` does: the domain is
    /// appended, or put in place of `{{domain}}`. HTTPS only.
    Url(String),
}

/// The copy of Mozilla's ISP database an engine asks.
#[derive(Debug, Clone)]
pub enum Ispdb {
    /// Files on this machine: the bundled copy (indexed at first use) or a directory's.
    Local(Option<Arc<IspDb>>),
    /// A server, asked per domain through the fetcher.
    Url(String),
}

impl Ispdb {
    /// The local copy, indexed; `None` for a server.
    pub fn local(&self) -> Option<&IspDb> {
        match self {
            Ispdb::Local(Some(db)) => Some(db),
            Ispdb::Local(None) => Some(IspDb::bundled()),
            Ispdb::Url(_) => None,
        }
    }
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            dns_server: None,
            system_roots: true,
            ca_files: Vec::new(),
            step_timeout: DEFAULT_STEP_TIMEOUT,
            limits: Limits::default(),
            ehlo_name: None,
            retries: crate::probe::DEFAULT_RETRIES,
            dns_rate: None,
            memo: None,
            refuse_special: false,
            ispdb: IspdbOption::Bundled,
            dnssec_anchor: None,
            shared: None,
        }
    }
}

impl EngineOptions {
    /// Options for the commands that judge offline (`judge`, `cert verify`): the anchors only.
    /// The resolver is set to loopback so that building the engine never depends on the
    /// system's DNS configuration; nothing is ever asked of it.
    pub fn offline(system_roots: bool, ca_files: Vec<PathBuf>) -> EngineOptions {
        EngineOptions {
            dns_server: Some(SocketAddr::from(([127, 0, 0, 1], 53))),
            system_roots,
            ca_files,
            ..EngineOptions::default()
        }
    }
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The resolver could not be set up.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// A CA file could not be loaded.
    #[error("cannot load CA file {0}")]
    Anchors(#[from] AnchorError),
    /// The `--ispdb` directory cannot be read, or the URL is not an HTTPS URL.
    #[error("--ispdb: {0}")]
    Ispdb(String),
    /// The `--dnssec-anchor` file cannot be read or holds no trust anchor.
    #[error(transparent)]
    DnssecAnchor(#[from] AnchorFileError),
}

impl EngineError {
    /// The documented exit status: 64 for a bad CA file (the user's input), 3 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            EngineError::Anchors(_)
            | EngineError::Ispdb(_)
            | EngineError::DnssecAnchor(_)
            | EngineError::Dns(DnsError::BadServer(_)) => crate::exit::USAGE,
            EngineError::Dns(_) => crate::exit::UNKNOWN,
        }
    }
}

/// The shared engine. Cheap to clone; every clone is the same engine.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The options it was built from: the engine's half of every check's [`ObserveOptions`].
    options: EngineOptions,
    dns: Dns,
    /// The same resolver's answers, validated with DNSSEC (MX, TLSA, TXT for delivery).
    validator: Validator,
    anchors: TrustAnchors,
    probe: ProbeSettings,
    fetcher: Fetcher,
    ispdb: Ispdb,
    /// With a memo: every host checked, by what was asked of it.
    hosts: Option<Cache<HostKey, Arc<Observations>>>,
}

impl Engine {
    /// Builds the engine: sets up the resolver, loads the anchors, creates the budget.
    pub fn new(options: EngineOptions) -> Result<Engine, EngineError> {
        let built_from = options.clone();
        let ispdb = match &options.ispdb {
            IspdbOption::Bundled => Ispdb::Local(None),
            IspdbOption::Dir(dir) => Ispdb::Local(Some(Arc::new(read_ispdb(dir)?))),
            IspdbOption::Url(url) => match url::Url::parse(url) {
                Ok(parsed) if parsed.scheme() == "https" && parsed.host_str().is_some() => {
                    Ispdb::Url(url.clone())
                }
                _ => return Err(EngineError::Ispdb(format!("{url} is not an https:// URL"))),
            },
        };
        let dnssec_anchors = match &options.dnssec_anchor {
            Some(path) => Anchors::read(path)?,
            None => Anchors::Root,
        };
        let dns = match options.dns_server {
            Some(address) => Dns::server(address, options.step_timeout),
            None => Dns::system(options.step_timeout)?,
        }
        .with_rate(options.dns_rate)
        .sharing(options.shared.clone());
        let dns = if options.refuse_special {
            dns.refusing_special()
        } else {
            dns
        };
        let mut anchors = if options.system_roots {
            TrustAnchors::system()
        } else {
            TrustAnchors::default()
        };
        for path in &options.ca_files {
            anchors.add_pem_file(path)?;
        }
        // A connection keeps its place until the server has closed it, as long as a step may
        // take: a slow server is not sent the next connection early.
        let budget =
            ConnectionBudget::sharing(options.limits, options.step_timeout, options.shared.clone());
        let mut fetcher = Fetcher::new(
            dns.clone(),
            budget.clone(),
            anchors.root_store(),
            options.step_timeout,
        );
        if options.refuse_special {
            fetcher = fetcher.refusing_special();
        }
        if let Some(memo) = options.memo {
            fetcher = fetcher.with_memo(memo.max_bytes / 8);
        }
        Ok(Engine {
            inner: Arc::new(Inner {
                options: built_from,
                validator: Validator::new(dns.clone(), dnssec_anchors),
                dns,
                anchors,
                probe: ProbeSettings {
                    ehlo_name: options.ehlo_name,
                    retries: options.retries,
                    refuse_special: options.refuse_special,
                    // Endpoints, versions and DNS: half; whole hosts: three eighths; fetches: the
                    // rest.
                    memo: options.memo.map(|memo| {
                        ProbeMemo::new(MemoOptions {
                            max_bytes: memo.max_bytes / 2,
                        })
                    }),
                    ..ProbeSettings::new(options.step_timeout, budget)
                },
                fetcher,
                ispdb,
                hosts: options.memo.map(|memo| {
                    Cache::builder()
                        .max_capacity(memo.max_bytes / 8 * 3)
                        .weigher(|_, observations: &Arc<Observations>| host_weight(observations))
                        .build()
                }),
            }),
        })
    }

    /// The shared resolver.
    pub fn dns(&self) -> &Dns {
        &self.inner.dns
    }

    /// The DNSSEC-validating resolver.
    pub fn validator(&self) -> &Validator {
        &self.inner.validator
    }

    /// The trust anchors.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.inner.anchors
    }

    /// The probes' settings: step timeout and connection budget.
    pub fn probe_settings(&self) -> &ProbeSettings {
        &self.inner.probe
    }

    /// The connection budget.
    pub fn budget(&self) -> &ConnectionBudget {
        &self.inner.probe.budget
    }

    /// The HTTP(S) fetcher.
    pub fn fetcher(&self) -> &Fetcher {
        &self.inner.fetcher
    }

    /// The copy of Mozilla's ISP database discovery asks.
    pub fn ispdb(&self) -> &Ispdb {
        &self.inner.ispdb
    }

    /// Everything a check with `check` on this engine runs under: what its answers depend on.
    pub fn observe_options(&self, check: &CheckOptions) -> ObserveOptions {
        ObserveOptions::new(check, &self.inner.options)
    }

    /// The limit for each step.
    pub fn step_timeout(&self) -> Duration {
        self.inner.probe.step_timeout
    }

    /// The observations of one host: checked by `observe` unless, with a memo, a job already
    /// asked the same of it.
    pub(crate) async fn host_once<F, E>(&self, key: HostKey, observe: F) -> Result<Observations, E>
    where
        F: Future<Output = Result<Observations, E>>,
        E: Clone + Send + Sync + 'static,
    {
        match &self.inner.hosts {
            None => observe.await,
            Some(hosts) => {
                let shared = hosts
                    .try_get_with(key.clone(), async { observe.await.map(Arc::new) })
                    .await
                    .map_err(|error| E::clone(&error))?;
                // Observations resting on a question our resolver left unanswered are not
                // kept: the next job (or this target checked again) asks again.
                if shared.unanswered() {
                    hosts.invalidate(&key).await;
                }
                Ok(Observations::clone(&shared))
            }
        }
    }
}

/// What is asked of a host: the same key, the same observations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    /// The host.
    pub target: Target,
    /// The name as typed, where it differs from the target (some clients compare that).
    pub typed: Option<String>,
    /// Everything the observations depend on.
    pub options: ObserveOptions,
}

/// Reads an ISP database directory: every regular file (at most [`ispdb::MAX_FILES`], each read
/// up to one byte over the document limit, so that a larger one is skipped by name). A file that
/// cannot be read is skipped and named too; the directory itself must be readable.
fn read_ispdb(dir: &Path) -> Result<IspDb, EngineError> {
    use std::io::Read as _;
    let unreadable = |error: std::io::Error| {
        EngineError::Ispdb(format!("cannot read directory {}: {error}", dir.display()))
    };
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        if files.len() + skipped.len() >= ispdb::MAX_FILES {
            return Err(EngineError::Ispdb(format!(
                "{} holds more than {} files",
                dir.display(),
                ispdb::MAX_FILES
            )));
        }
        // Sub-directories are not part of the database (convert.py skips them too).
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let limit = crate::observation::discovery::MAX_DOCUMENT as u64 + 1;
        let mut bytes = Vec::new();
        match std::fs::File::open(entry.path())
            .and_then(|file| file.take(limit).read_to_end(&mut bytes))
        {
            // A file that is not UTF-8 is read as well as it can be; its domain names are ASCII.
            Ok(_) => files.push((
                name,
                std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
            )),
            Err(error) => skipped.push(Skipped {
                file: name,
                reason: format!("cannot be read: {error}"),
            }),
        }
    }
    let label = format!("the ISP database in {}", dir.display());
    Ok(IspDb::new(label, files).skipping(skipped))
}

/// About how many bytes a host's observations take.
fn host_weight(observations: &Observations) -> u32 {
    let endpoints = observations
        .endpoints
        .iter()
        .chain(&observations.without_sni)
        .chain(observations.candidates.iter().flat_map(|c| &c.endpoints));
    let bytes: u64 = endpoints
        .map(|e| u64::from(crate::probe::memo::weight(e)))
        .sum::<u64>()
        + 1024;
    u32::try_from(bytes).unwrap_or(u32::MAX)
}
