//! `mailtls serve --listen ADDR [--db FILE|postgres://…] [--config serve.toml]`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use mailtls::scan::store::Store;
use mailtls::serve::config::ServeConfig;
use mailtls::serve::{self, AppState};

use super::logs::{self, LogFormat};
use super::{EngineArgs, Failure, ProbeArgs};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on, e.g. 127.0.0.1:8080 or [::]:443 (put TLS in front).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The store for checks (and the scans the fleet page shows): a SQLite file or a
    /// postgres:// URL (several instances behind a load balancer share one).
    #[arg(long, value_name = "FILE|URL", default_value = "mailtls.sqlite")]
    db: String,
    /// Provisioned domains and their server pools, limits (see docs/serve.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also check targets on loopback, private, link-local, CGNAT and reserved addresses
    /// (for a server inside a company network; never on the internet).
    #[arg(long = "allow-private")]
    allow_private: bool,
    /// How log lines (one per request, per check, per provisioning change) are written to
    /// standard error; which are written: MAILTLS_LOG (default mailtls=info).
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

pub fn run(args: ServeArgs) -> Result<u8, Failure> {
    logs::install(logs::SERVE_DEFAULT, args.log_format)?;
    let config = match &args.config {
        Some(path) => ServeConfig::load(path).map_err(|e| Failure::usage(e.into()))?,
        None => ServeConfig::default(),
    };
    let options = args.probes.options()?;
    let mut engine_options = args.engine.options()?;
    engine_options.refuse_special = !args.allow_private;
    let engine = super::build_engine(engine_options)?;
    let runtime = super::runtime_threaded()?;
    runtime.block_on(async move {
        let store = Store::open(&args.db).await.map_err(|e| Failure {
            status: mailtls::exit::UNKNOWN,
            error: e.into(),
        })?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))
            .map_err(Failure::usage)?;
        let state = AppState::new(
            engine,
            store,
            &config,
            options,
            args.allow_private,
            args.listen,
        );
        tracing::info!(
            listen = %args.listen,
            provisioned_domains = config.domains.len(),
            "listening on http://{}",
            args.listen
        );
        serve::run(listener, state, config.renew, shutdown())
            .await
            .context("the server stopped")
            .map_err(Failure::could_not_check)?;
        Ok(mailtls::exit::OK)
    })
}

/// Ctrl-C or SIGTERM (what Kubernetes and systemd send).
async fn shutdown() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
