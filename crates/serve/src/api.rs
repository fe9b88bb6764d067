//! `/api/v1`: submit a check, poll it, list scans (pasted words are explained by
//! [`super::explanations`]). The report inside a finished check is the
//! very output of `mailtls check --json` (docs/schema/check.json); the OpenAPI document
//! ([`openapi_document`], committed as docs/openapi.json) is generated from these types.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::checks::is_id;
use super::web::{Declined, start};
use mailtls_core::analyze::cert::rfc3339;
use mailtls_core::diagnose::Verdict;
use mailtls_scan::store::{self, CheckRow, Store, StoreError};

/// `POST /api/v1/checks`'s body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// An e-mail address, a mail domain, or a server name or IP address.
    #[schemars(length(min = 1, max = 320))]
    pub target: String,
}

/// A check's state (the store's [`store::CheckState`], with its words for the API's document).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckState {
    /// Accepted, not started.
    Queued,
    /// Running.
    Running,
    /// Finished: `report` holds the result.
    Done,
    /// Could not run: `error` says why.
    Failed,
}

/// A check: its state and, when done, its report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Check {
    /// Its id (also its permalink: `/r/{id}`).
    pub id: String,
    /// What is checked (an e-mail address's local part is `user` unless the server keeps it).
    pub target: String,
    /// Its state.
    pub state: CheckState,
    /// When it was accepted (RFC 3339).
    pub created_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
    /// ok, warn, fail or unknown, when done.
    pub verdict: Option<Verdict>,
    /// When done: the output of `mailtls check --json`.
    #[schemars(with = "Option<mailtls_core::report::wire::check::CheckOutput>")]
    pub report: Option<serde_json::Value>,
    /// When failed: why.
    pub error: Option<ApiError>,
    /// Where to poll it and where people see it.
    pub links: Links,
}

/// Links of a check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Links {
    /// This resource.
    #[serde(rename = "self")]
    pub this: String,
    /// The result page.
    pub page: String,
}

/// An error: a stable code and the words.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ApiError {
    /// Stable code: empty, too-long, invalid, private-address, dns-failed, rate-limited, busy,
    /// store-unavailable, invalid-json, not-found; for a failed check: no-such-name,
    /// dns-timeout, timeout; for a text to explain: not-text, unsupported-media-type,
    /// unsupported-charset.
    pub code: String,
    /// In words.
    pub message: String,
}

/// An error answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ApiError,
}

/// The scans in the store.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanList {
    /// Newest first.
    pub scans: Vec<Scan>,
}

/// One scan: the fields of `scan report --json`'s `scan`, its rejected lines and its page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Scan {
    /// Its identity and progress.
    #[serde(flatten)]
    pub scan: mailtls_scan::wire::ScanLine,
    /// Lines rejected.
    pub rejected: u64,
    /// Its fleet page.
    pub page: String,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ApiError {
                code: code.to_string(),
                message: message.to_string(),
            },
        }),
    )
        .into_response()
}

/// `POST /api/v1/checks`.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid-json",
            "send a JSON body with Content-Type: application/json, e.g. {\"target\": \"jane@example.com\"}",
        );
    }
    let request: CheckRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                &format!("the body is not {{\"target\": \"…\"}}: {e}"),
            );
        }
    };
    match start(&state, peer, &headers, &request.target).await {
        Ok(row) => {
            let location = HeaderValue::from_str(&format!("/api/v1/checks/{}", row.id));
            let mut response =
                (StatusCode::ACCEPTED, Json(view(row, state.checks.store()))).into_response();
            if let Ok(location) = location {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(declined) => {
            let (status, code, message) = declined.status();
            let mut response = error(status, code, &message);
            if let Some(wait) = Declined::retry_after(&declined) {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            response
        }
    }
}

/// Longest `wait` a poll may ask for (the request deadline is 30 s).
pub const MAX_WAIT: u64 = 25;

/// `GET /api/v1/checks/{id}[?wait=SECONDS]`: with `wait`, answers as soon as the check is
/// done or failed, or when the wait is over (a long poll).
pub async fn check(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !is_id(&id) {
        return error(StatusCode::NOT_FOUND, "not-found", "no check with this id");
    }
    let wait = match query.get("wait").map(|w| w.parse::<u64>()) {
        None => 0,
        Some(Ok(seconds)) if seconds <= MAX_WAIT => seconds,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid",
                &format!("wait is a number of seconds from 0 to {MAX_WAIT}"),
            );
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let row = match state.checks.store().check(&id).await {
            Ok(Some(row)) => row,
            Ok(None) => return error(StatusCode::NOT_FOUND, "not-found", "no check with this id"),
            Err(e) => return store_error(&e),
        };
        let now = tokio::time::Instant::now();
        if row.state.ended() || now >= deadline {
            return Json(view(row, state.checks.store())).into_response();
        }
        state.checks.some_check_ended(deadline - now).await;
    }
}

/// `GET /api/v1/scans`.
pub async fn scans(State(state): State<AppState>) -> Response {
    match state.checks.store().scans().await {
        Ok(scans) => Json(ScanList {
            scans: scans
                .into_iter()
                .map(|s| Scan {
                    scan: mailtls_scan::wire::ScanLine::from(&s),
                    rejected: s.rejected,
                    page: super::fleet::scan_page(&s.id),
                })
                .collect(),
        })
        .into_response(),
        Err(e) => store_error(&e),
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

fn store_error(e: &StoreError) -> Response {
    tracing::error!(error = %e, "the store does not answer");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "store-unavailable",
        "the result store does not answer right now; try again in a minute",
    )
}

/// The API's view of a check's row; a stored document that cannot be read is left out (null)
/// and counted as a store error of `store`.
pub fn view(row: CheckRow, store: &Store) -> Check {
    let report = stored(store, &row.id, "report", row.report.as_deref());
    let error = stored(store, &row.id, "error", row.error.as_deref());
    Check {
        links: Links {
            this: format!("/api/v1/checks/{}", row.id),
            page: format!("/r/{}", row.id),
        },
        state: match row.state {
            store::CheckState::Queued => CheckState::Queued,
            store::CheckState::Running => CheckState::Running,
            store::CheckState::Done => CheckState::Done,
            store::CheckState::Failed => CheckState::Failed,
        },
        id: row.id,
        target: row.target,
        created_at: rfc3339(row.created_at),
        finished_at: row.finished_at.map(rfc3339),
        verdict: row.verdict,
        report,
        error,
    }
}

/// The JSON document in `column` of check `id`'s row; one that cannot be read is counted.
fn stored<T: serde::de::DeserializeOwned>(
    store: &Store,
    id: &str,
    column: &str,
    text: Option<&str>,
) -> Option<T> {
    match serde_json::from_str(text?) {
        Ok(value) => Some(value),
        Err(e) => {
            store.unreadable(format!("check {id}: its {column} cannot be read: {e}"));
            None
        }
    }
}

/// The OpenAPI 3.1 document of `/api/v1`, its schemas generated from the types above.
pub fn openapi_document() -> serde_json::Value {
    use schemars::generate::SchemaSettings;
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "#/components/schemas".into())
        .into_generator();
    let request = generator.subschema_for::<CheckRequest>();
    let check = generator.subschema_for::<Check>();
    let error = generator.subschema_for::<ErrorBody>();
    let scans = generator.subschema_for::<ScanList>();
    let paste = generator.subschema_for::<super::explanations::ExplanationRequest>();
    let explained = generator.subschema_for::<mailtls_core::report::wire::explain::ExplainOutput>();
    let components = generator.take_definitions(true);
    let json =
        |schema: &schemars::Schema| serde_json::json!({ "application/json": { "schema": schema } });
    let failure =
        |words: &str| serde_json::json!({ "description": words, "content": json(&error) });
    let id = serde_json::json!({
        "name": "id", "in": "path", "required": true,
        "schema": { "type": "string", "pattern": "^[0-9a-f]{32}$" }
    });
    serde_json::json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mailtls serve",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Why a mail client says the certificate does not match the server name, and what to change. A check's report is the output of `mailtls check --json` (docs/json.md)."
        },
        "paths": {
            "/api/v1/checks": {
                "post": {
                    "operationId": "submitCheck",
                    "summary": "Start a check of an e-mail address, a mail domain or a server",
                    "requestBody": { "required": true, "content": json(&request) },
                    "responses": {
                        "202": { "description": "Accepted: poll links.self", "content": json(&check),
                                 "headers": { "Location": { "schema": { "type": "string" } } },
                                 "links": { "getCheck": { "operationId": "getCheck",
                                     "parameters": { "id": "$response.body#/id" } } } },
                        "400": failure("Not a target, or a target inside a private network"),
                        "413": { "description": "The body is larger than 64 KiB" },
                        "415": failure("The body is not JSON"),
                        "429": failure("Too many checks from this address (Retry-After)"),
                        "503": failure("Too many checks over all, or the store is away (Retry-After)")
                    }
                }
            },
            "/api/v1/checks/{id}": {
                "get": {
                    "operationId": "getCheck",
                    "summary": "A check's state and, when done, its report",
                    "parameters": [id, {
                        "name": "wait", "in": "query", "required": false,
                        "description": "Answer as soon as the check ends, or after this many seconds (a long poll)",
                        "schema": { "type": "integer", "minimum": 0, "maximum": MAX_WAIT }
                    }],
                    "responses": {
                        "200": { "description": "The check", "content": json(&check) },
                        "400": failure("wait is not 0 to 25"),
                        "404": failure("No check with this id"),
                        "503": failure("The store is away")
                    }
                }
            },
            "/api/v1/explanations": {
                "post": {
                    "operationId": "explainText",
                    "summary": "Explain the words of a warning a mail client showed",
                    "description": "The text as text/plain (in the charset it names: utf-8, utf-16, utf-16le, utf-16be or Latin-1; naming none, read as `mailtls explain` reads standard input: UTF-8, UTF-16 with or without a byte-order mark, Windows-1252), or as JSON {\"text\": \"...\"}. The answer is the output of `mailtls explain --json` (docs/schema/explain.json), also when nothing is recognised (no messages, no matches); `candidate`, `asked`, `hosts` and `addresses` are the names to check (POST /api/v1/checks).",
                    "requestBody": { "required": true, "content": {
                        "application/json": { "schema": paste },
                        "text/plain": { "schema": { "type": "string", "minLength": 1 } }
                    } },
                    "responses": {
                        "200": { "description": "The explanation, recognised or not", "content": json(&explained) },
                        "400": failure("Empty, not text (NUL bytes, bytes not in the charset it names), or not {\"text\": \"...\"}"),
                        "413": failure(&format!("The text is over {} bytes (the limit of `mailtls explain`), or the body over {} bytes", mailtls_core::diagnose::explain::MAX_TEXT, super::explanations::MAX_PASTE_BODY)),
                        "415": failure("Neither text/plain nor application/json, or a charset other than UTF-8, UTF-16 or Latin-1"),
                        "429": failure("Too many texts from this address (Retry-After)"),
                        "500": failure("The matching failed: a bug")
                    }
                }
            },
            "/api/v1/scans": {
                "get": {
                    "operationId": "listScans",
                    "summary": "The fleet scans in the store (mailtls scan --db)",
                    "responses": {
                        "200": { "description": "The scans, newest first", "content": json(&scans) },
                        "503": failure("The store is away")
                    }
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } }
                }
            }
        },
        "components": { "schemas": components }
    })
}
