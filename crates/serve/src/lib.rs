//! `mailtls serve`: the support-desk page (it takes an address, a server name or the words of
//! a warning), the JSON API, provisioning endpoints that hand out only verified names, and
//! Prometheus metrics, in one process on one engine.
//!
//! - [`web`]: the page (`/`, `/check`, `/r/{id}`, `/r/{id}/print`) and the fleet pages.
//! - [`api`]: `/api/v1` (checks, scans) and its OpenAPI document.
//! - [`explanations`]: pasted words explained (`POST /api/v1/explanations`, and the page's box
//!   when it holds words), [`charset`]: their bytes decoded.
//! - [`documents`]: autoconfig, autodiscover and `.mobileconfig` for the domains of
//!   `serve.toml`, from [`provision::Provisioner`]'s verified settings.
//! - [`guard`]: what a visitor may ask (no inside addresses, a rate per visitor).
//! - [`checks`]: the runner (global cap, the store), [`model`]: what a result page shows
//!   ([`inbound`]: its inbound mail and whether the warnings can cost mail).
//! - [`metrics`]: the `/metrics` exposition.
//! - [`listen`]: the accept loop: a deadline for each request's head, a cap on connections.
//! - [`access_log`]: one log event per request (`tracing`; the binary installs the subscriber).
//!
//! Every request has a deadline for its head ([`listen::HEADER_LIMIT`]) and for its answer
//! ([`REQUEST_LIMIT`]), a capped body and capped headers (hyper's defaults: at most 100 headers
//! in a 400 KB head); nothing a server or a certificate says reaches a page
//! unescaped, and every answer forbids scripts, framing and content sniffing (CSP,
//! `X-Content-Type-Options`) and sends no referrer.

pub mod access_log;
pub mod api;
pub mod charset;
pub mod checks;
pub mod config;
pub mod documents;
pub mod explanations;
pub mod fleet;
pub mod guard;
pub mod inbound;
pub mod listen;
pub mod metrics;
pub mod model;
pub mod page;
pub mod provision;
pub mod web;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use checks::Checks;
use config::ServeConfig;
use guard::VisitorLimit;
use mailtls_core::engine::Engine;
use mailtls_core::run::check::CheckOptions;
use mailtls_scan::store::Store;
use metrics::Metrics;
use provision::Provisioner;

/// Largest request body accepted (an autodiscover request is well under 1 KB); pasted words
/// have their own cap, [`explanations::MAX_PASTE_BODY`].
pub const MAX_BODY: usize = 64 * 1024;
/// Longest any request may take to be answered.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Everything a request handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine every check and verification runs on.
    pub engine: Engine,
    /// The check runner and its store.
    pub checks: Checks,
    /// The verified provisioning settings.
    pub provisioner: Provisioner,
    /// The metrics.
    pub metrics: Metrics,
    /// Checks per visitor.
    pub limit: VisitorLimit,
    /// Pasted texts explained per visitor: as many as checks, counted apart.
    pub explain_limit: VisitorLimit,
    /// The turns to read and explain pasted texts ([`explanations::PASTES_IN_FLIGHT`]).
    pub pastes: std::sync::Arc<tokio::sync::Semaphore>,
    /// Whether targets inside (loopback, private...) may be checked.
    pub allow_private: bool,
    /// Whether to keep the local part of e-mail addresses.
    pub keep_local_part: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the visitor.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Finished result pages, rendered (id, print view): at most [`PAGE_CACHE`] bytes.
    pub pages: moka::future::Cache<(String, bool), axum::body::Bytes>,
}

/// Bytes of rendered result pages kept in memory.
pub const PAGE_CACHE: u64 = 32 * 1024 * 1024;

impl AppState {
    /// The state for `config`, on `engine` and `store`, for the instance listening on
    /// `listen`.
    pub fn new(
        engine: Engine,
        store: Store,
        config: &ServeConfig,
        options: CheckOptions,
        allow_private: bool,
        listen: SocketAddr,
    ) -> AppState {
        let metrics = Metrics::new();
        AppState {
            checks: Checks::new(
                engine.clone(),
                store,
                options,
                config.checks_in_flight,
                metrics.clone(),
                instance(listen),
            ),
            provisioner: Provisioner::new(engine.clone(), config.domains.clone()),
            engine,
            metrics,
            limit: VisitorLimit::new(config.checks_per_minute),
            explain_limit: VisitorLimit::new(config.checks_per_minute),
            pastes: explanations::turns(),
            allow_private,
            keep_local_part: config.keep_local_part,
            trusted_proxies: config.trusted_proxies.clone(),
            pages: moka::future::Cache::builder()
                .max_capacity(PAGE_CACHE)
                .weigher(|(id, _): &(String, bool), html: &axum::body::Bytes| {
                    u32::try_from(id.len() + html.len()).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }
}

/// How often abandoned checks are looked for.
pub const RESUME_EVERY: Duration = Duration::from_secs(300);

/// This instance's name on the checks it accepts: host name and listen address.
fn instance(listen: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!("{host} {listen}")
}

/// The routes.
pub fn router(state: AppState) -> Router {
    // The box and the API take pasted words: their bodies are read (and refused, in their own
    // words) by `explanations::read`, with its own cap; every other body has MAX_BODY.
    let pastes = Router::new()
        .route("/check", get(web::check).post(web::submit))
        .route("/api/v1/explanations", post(explanations::submit));
    Router::new()
        .route("/", get(web::index))
        .route("/r/{id}", get(web::result))
        .route("/r/{id}/print", get(web::print))
        .route("/fleet", get(web::fleet))
        .route("/fleet/{scan}/{target}", get(web::fleet_target))
        .route("/static/mailtls.css", get(web::css))
        .route("/healthz", get(web::healthz))
        .route("/metrics", get(web::metrics))
        .route("/api/v1/checks", post(api::submit))
        .route("/api/v1/checks/{id}", get(api::check))
        .route("/api/v1/scans", get(api::scans))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/mail/config-v1.1.xml", get(documents::autoconfig))
        .route(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            get(documents::autoconfig),
        )
        .route(
            "/autodiscover/autodiscover.xml",
            post(documents::autodiscover),
        )
        .route(
            "/Autodiscover/Autodiscover.xml",
            post(documents::autodiscover),
        )
        .route("/email.mobileconfig", get(documents::mobileconfig))
        .fallback(web::not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .merge(pastes)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_LIMIT,
        ))
        // Outermost, so that the log sees every answer, a timeout's 503 included.
        .layer(axum::middleware::from_fn(access_log::record))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes: verifies the provisioned names first (in
/// the background, renewed every `renew`), runs again the checks a stopped process left.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    renew: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let provisioner = state.provisioner.clone();
    tokio::spawn(async move {
        provisioner.verify_all().await;
        provisioner.renew_forever(renew).await;
    });
    let checks = state.checks.clone();
    tokio::spawn(async move {
        // At start, this instance's own unfinished checks; then, now and then, anyone's that
        // were abandoned.
        let mut own = true;
        loop {
            if let Err(error) = checks.resume(own, 10_000).await {
                tracing::error!(%error, "cannot resume unfinished checks");
            }
            own = false;
            tokio::time::sleep(RESUME_EVERY).await;
        }
    });
    listen::serve(listener, router(state), shutdown).await
}
