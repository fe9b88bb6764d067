//! The page's handlers: the box (`POST /check`: an address or a server name is checked, the
//! words of a warning explained), `/check?target=…` (a link a support desk can send), the
//! result with its permalink and print view, the fleet pages, health and metrics.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;

use super::checks::{SubmitError, is_id};
use super::guard::{self, Refusal};
use super::metrics::FleetInbound;
use super::model::PageModel;
use super::{AppState, explanations, fleet, page};
use mailtls_core::run::check::now;
use mailtls_scan::store::{CheckRow, CheckState, StoreError};

/// `GET /`.
pub async fn index() -> Markup {
    page::index()
}

/// Why a visitor's check was not started, with its status.
pub enum Declined {
    /// Bad input, or a target inside.
    Refused(Refusal),
    /// Too many checks from this visitor: seconds to wait.
    RateLimited(u64),
    /// Too many checks over all: try later.
    Busy(String),
    /// The store failed.
    Store(StoreError),
}

impl Declined {
    /// The status and the words.
    pub fn status(&self) -> (StatusCode, &'static str, String) {
        match self {
            Declined::Refused(refusal) => (
                if refusal.transient {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::BAD_REQUEST
                },
                refusal.code,
                refusal.message.clone(),
            ),
            Declined::RateLimited(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!("Too many checks from your address; try again in {wait} s."),
            ),
            Declined::Busy(message) => (StatusCode::SERVICE_UNAVAILABLE, "busy", message.clone()),
            // The store's own words name a path or a server: for the log, not for visitors.
            Declined::Store(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                "Cannot record the check right now; try again in a minute.".to_string(),
            ),
        }
    }

    /// `Retry-After`, when there is one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Declined::RateLimited(wait) => Some(*wait),
            Declined::Busy(_) | Declined::Store(_) => Some(30),
            Declined::Refused(r) if r.transient => Some(30),
            Declined::Refused(_) => None,
        }
    }
}

/// The visitor behind a request: `peer` is the connection's address, `headers` the request's
/// (for `X-Forwarded-For`).
pub fn visitor_of(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    guard::visitor(peer.ip(), forwarded, &state.trusted_proxies)
}

/// Parses, guards, rate-limits and submits a visitor's target: the check as accepted. `peer`
/// is the connection's address, `headers` the request's (for `X-Forwarded-For`).
pub async fn start(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    input: &str,
) -> Result<CheckRow, Declined> {
    let visitor = visitor_of(state, peer, headers);
    let declined = |declined: Declined| {
        state.metrics.refused(declined.status().1);
        declined
    };
    let subject =
        guard::parse(input, state.keep_local_part).map_err(|r| declined(Declined::Refused(r)))?;
    state
        .limit
        .admit(visitor)
        .map_err(|wait| declined(Declined::RateLimited(wait)))?;
    if !state.allow_private {
        guard::refuse_inside(&state.engine, &subject)
            .await
            .map_err(|r| declined(Declined::Refused(r)))?;
    }
    match state.checks.submit(subject).await {
        Ok(row) => Ok(row),
        Err(SubmitError::Busy(_)) => Err(declined(Declined::Busy(
            "This server is running as many checks as it can; try again in a minute.".to_string(),
        ))),
        Err(SubmitError::Store(error)) => {
            tracing::error!(%error, "cannot record a check");
            Err(declined(Declined::Store(error)))
        }
    }
}

/// `GET /check?target=…`: starts a check and sends the visitor to its result.
pub async fn check(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let input = query.get("target").map(String::as_str).unwrap_or("");
    check_page(&state, peer, &headers, input).await
}

/// Starts a check of `input`: 303 to its result, or the page that says why not.
async fn check_page(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    input: &str,
) -> Response {
    match start(state, peer, headers, input).await {
        Ok(row) => Redirect::to(&format!("/r/{}", row.id)).into_response(),
        Err(declined) => {
            let (status, _, text) = declined.status();
            let shown: String = input.chars().take(guard::MAX_TARGET).collect();
            let mut response =
                (status, page::message("Cannot check that", &text, &shown)).into_response();
            if let Some(wait) = declined.retry_after() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            response
        }
    }
}

/// `POST /check`: the box, sent as a form (`target=…`). One word that is an address, a name or
/// an IP address is checked (303 to its result); anything else is taken for the words of a
/// warning and explained, with a button to check each name they carry.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(_turn) = explanations::turn(&state).await else {
        return refused_paste(&explanations::PasteError::Failed, "");
    };
    let input = match explanations::read(&headers, body).await {
        // The page is UTF-8 and says so (`accept-charset`): a byte that is not is replaced, and
        // the words around it still count.
        Ok(bytes) => url::form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "target")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default(),
        Err(error) => {
            explanations::count(&state, &Err(error.clone()));
            return refused_paste(&error, "");
        }
    };
    if input.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            page::message(
                "Nothing to check",
                "Paste the words of the warning your mail app shows, or type your e-mail address or your mail server's name.",
                "",
            ),
        )
            .into_response();
    }
    if guard::is_target(&input) {
        return check_page(&state, peer, &headers, &input).await;
    }
    let visitor = visitor_of(&state, peer, &headers);
    // Kept for the page (the box shows the words again); a copy is matched.
    match explanations::explain(&state, visitor, input.clone()).await {
        Ok(explained) => {
            let mut response = page::explanation(&input, &explained).into_response();
            // The words may hold the user's address: no cache keeps them.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            let shown = if matches!(error, explanations::PasteError::RateLimited(_)) {
                input.as_str()
            } else {
                ""
            };
            refused_paste(&error, shown)
        }
    }
}

/// The page for words that were not explained, with the box (holding `value`) to try again.
fn refused_paste(error: &explanations::PasteError, value: &str) -> Response {
    let (status, _, text) = error.status();
    let mut response = (status, page::message("Cannot explain that", &text, value)).into_response();
    if let Some(wait) = error.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    response
}

/// `GET /r/{id}`.
pub async fn result(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    show(&state, &id, false).await
}

/// `GET /r/{id}/print`.
pub async fn print(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    show(&state, &id, true).await
}

async fn show(state: &AppState, id: &str, print: bool) -> Response {
    if !is_id(id) {
        return not_found().await.into_response();
    }
    // A finished result never changes: rendered once, then served from memory.
    let key = (id.to_string(), print);
    if let Some(html) = state.pages.get(&key).await {
        return html_response(html);
    }
    let row = match state.checks.store().check(id).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found().await.into_response(),
        Err(error) => return unavailable(&error),
    };
    match row.state {
        CheckState::Done => match row.page.as_deref().map(serde_json::from_str::<PageModel>) {
            Some(Ok(model)) => {
                let html = Bytes::from(page::result(id, &model, print).into_string());
                state.pages.insert(key, html.clone()).await;
                html_response(html)
            }
            Some(Err(e)) => unavailable(
                &state
                    .checks
                    .store()
                    .unreadable(format!("check {id}: its page cannot be read: {e}")),
            ),
            None => unavailable(
                &state
                    .checks
                    .store()
                    .unreadable(format!("check {id}: done, without its page")),
            ),
        },
        CheckState::Failed => {
            let message = row
                .error
                .as_deref()
                .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
                .and_then(|e| {
                    e.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "The check could not run.".to_string());
            page::failed(id, &row.target, &message).into_response()
        }
        CheckState::Queued | CheckState::Running => {
            let mut response = page::pending(&row.target).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}

fn html_response(html: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// `GET /fleet[?scan=ID]`.
pub async fn fleet(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let scan = query.get("scan").map(String::as_str);
    match fleet::overview(state.checks.store(), scan).await {
        Ok(Some(markup)) => markup.into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            page::message(
                "No fleet scan here",
                "This server's database holds no scan (yet): run mailtls scan with the same --db.",
                "",
            ),
        )
            .into_response(),
        Err(error) => unavailable(&error),
    }
}

/// `GET /fleet/{scan}/{target}`.
pub async fn fleet_target(
    State(state): State<AppState>,
    Path((scan, target)): Path<(String, String)>,
) -> Response {
    match fleet::target(state.checks.store(), &scan, &target).await {
        Ok(Some(markup)) => markup.into_response(),
        Ok(None) => not_found().await.into_response(),
        Err(error) => unavailable(&error),
    }
}

/// `GET /static/mailtls.css`.
pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        page::CSS,
    )
        .into_response()
}

/// `GET /healthz`: 200 while the store answers.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.checks.store().check("0").await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")).into_response(),
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.checks.store();
    // The fleet's counts come from the newest scan; an error reading them is counted by the
    // store (and shows in mailtls_store_errors_total), the rest is served all the same.
    let fleet = match store.scan(None).await {
        Ok(Some(scan)) => store
            .inbound_counts(&scan.id)
            .await
            .ok()
            .map(|(mta_sts, dane)| FleetInbound { mta_sts, dane }),
        _ => None,
    };
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state
            .metrics
            .render(&state.provisioner, &store.errors(), fleet.as_ref(), now()),
    )
        .into_response()
}

/// Anything else: 404.
pub async fn not_found() -> (StatusCode, Markup) {
    (
        StatusCode::NOT_FOUND,
        page::message("Not found", "There is nothing at this address.", ""),
    )
}

fn unavailable(error: &StoreError) -> Response {
    tracing::error!(%error, "the store does not answer");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "30")],
        page::message(
            "Try again in a minute",
            "The result store does not answer right now.",
            "",
        ),
    )
        .into_response()
}
