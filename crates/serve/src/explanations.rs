//! Pasted words: `POST /api/v1/explanations`, and the page's box when it holds the words of a
//! warning rather than an address. The words go to `explain`, the same library call as
//! `mailtls explain`, and the API answers its JSON (`mailtls explain --json`,
//! docs/schema/explain.json); text that is not recognised is an answer too (no `matches`),
//! not an error. The same limits as the command: at most [`MAX_TEXT`] bytes of text, no NUL;
//! a body in the charset it names ([`super::charset`]), or, naming none, read as the command
//! reads standard input (UTF-8, UTF-16 with or without a mark, Windows-1252); a rate per
//! visitor, counted apart from checks. Matching a long text takes CPU (about 0.1 s for 1 MiB in
//! a release build): it runs off the async workers, at most [`PASTES_IN_FLIGHT`] at once, which
//! also bounds the memory the bodies take.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppState;
use super::api::{ApiError, ErrorBody};
use super::charset::{self, Charset};
use mailtls_core::diagnose::explain::{self, ExplainError, Explanation, MAX_TEXT, input};
use mailtls_core::report::wire::explain::output;

/// Largest body read for a pasted text: room for [`MAX_TEXT`] bytes of text in UTF-16, or in a
/// form (`%XX` for every byte outside ASCII).
pub const MAX_PASTE_BODY: usize = 3 * MAX_TEXT;
/// Pasted texts read and explained at once, over all visitors (more wait their turn, within the
/// request's deadline): at most this many bodies of [`MAX_PASTE_BODY`] are in memory.
pub const PASTES_IN_FLIGHT: usize = 8;

/// The turns to read and explain a pasted text.
pub fn turns() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(PASTES_IN_FLIGHT))
}

/// `POST /api/v1/explanations`'s JSON body (`text/plain` is the text itself).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplanationRequest {
    /// The words of the warning, as the user saw them: any part of it, line breaks and quotes
    /// included. At most 64 KiB in UTF-8: more is refused with 413 (a limit in bytes, which a
    /// schema's maxLength, in characters, cannot say).
    #[schemars(length(min = 1))]
    pub text: String,
}

/// Why pasted words were not explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasteError {
    /// Nothing but white space.
    Empty,
    /// More than [`MAX_TEXT`] bytes of text, or a body over [`MAX_PASTE_BODY`].
    TooLong,
    /// Control characters.
    NotText,
    /// Bytes that are not text in the encoding they came in (or UTF-8, when none was named).
    Undecodable(Charset),
    /// Too many texts from this visitor: seconds to wait.
    RateLimited(u64),
    /// Neither `text/plain` nor `application/json`.
    UnsupportedMediaType,
    /// A charset this server does not read (its label).
    UnsupportedCharset(String),
    /// JSON, but not `{"text": "..."}`.
    InvalidJson(String),
    /// The matching itself failed (a bug): said, never a dropped connection.
    Failed,
}

impl PasteError {
    /// The status, the stable code and the words (one line).
    pub fn status(&self) -> (StatusCode, &'static str, String) {
        match self {
            PasteError::Empty => (
                StatusCode::BAD_REQUEST,
                "empty",
                "There is nothing to explain: paste the words of the warning your mail app shows."
                    .to_string(),
            ),
            PasteError::TooLong => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-long",
                format!(
                    "That is more than {}: paste only the words of the warning, or the lines \
                     of the log around the error.",
                    size(MAX_TEXT)
                ),
            ),
            PasteError::NotText => (
                StatusCode::BAD_REQUEST,
                "not-text",
                "That is not text (it holds NUL bytes, or UTF-16 that does not decode): paste \
                 only the words of the warning."
                    .to_string(),
            ),
            PasteError::Undecodable(charset) => (
                StatusCode::BAD_REQUEST,
                "not-text",
                format!(
                    "The body is not valid {}: name its charset (text/plain; charset=utf-16, or \
                     iso-8859-1).",
                    charset.name()
                ),
            ),
            PasteError::RateLimited(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!("Too many texts from your address; try again in {wait} s."),
            ),
            PasteError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send the text as Content-Type: text/plain; charset=utf-8 (or utf-16, \
                 iso-8859-1), or as application/json {\"text\": \"...\"}."
                    .to_string(),
            ),
            PasteError::UnsupportedCharset(label) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-charset",
                format!(
                    "charset {:?} is not one this server reads: send UTF-8, UTF-16 or Latin-1 \
                     (ISO-8859-1, Windows-1252).",
                    label.chars().take(40).collect::<String>()
                ),
            ),
            PasteError::InvalidJson(error) => (
                StatusCode::BAD_REQUEST,
                "invalid-json",
                format!("The body is not {{\"text\": \"...\"}}: {error}"),
            ),
            PasteError::Failed => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "The words could not be matched: this is a bug in mailtls; the server's log has \
                 the details."
                    .to_string(),
            ),
        }
    }

    /// `Retry-After`, when there is one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            PasteError::RateLimited(wait) => Some(*wait),
            _ => None,
        }
    }
}

impl From<ExplainError> for PasteError {
    fn from(error: ExplainError) -> PasteError {
        match error {
            ExplainError::Empty => PasteError::Empty,
            ExplainError::Binary => PasteError::NotText,
            ExplainError::TooLong => PasteError::TooLong,
        }
    }
}

/// `bytes` in words: "64 KiB", "1 MiB".
fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// A turn to read and explain a pasted text: waits while [`PASTES_IN_FLIGHT`] are at work.
pub async fn turn(state: &AppState) -> Result<OwnedSemaphorePermit, PasteError> {
    // The semaphore is never closed; if it were, saying so beats waiting for ever.
    state
        .pastes
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PasteError::Failed)
}

/// A request's body, at most [`MAX_PASTE_BODY`] bytes. A body that does not arrive whole is
/// taken as too long: a client that breaks off gets no answer anyway.
pub async fn read(headers: &HeaderMap, body: Body) -> Result<Bytes, PasteError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_PASTE_BODY as u64) {
        return Err(PasteError::TooLong);
    }
    axum::body::to_bytes(body, MAX_PASTE_BODY)
        .await
        .map_err(|_| PasteError::TooLong)
}

/// Explains `text` for `visitor`: checked (before it counts against the visitor's rate), the
/// visitor admitted, then matched on a blocking thread. Counted in the metrics, whatever the
/// outcome. Hold a [`turn`] while calling it.
pub async fn explain(
    state: &AppState,
    visitor: IpAddr,
    text: String,
) -> Result<Explanation, PasteError> {
    let admitted = explain::check_text(&text)
        .map_err(PasteError::from)
        .and_then(|()| {
            state
                .explain_limit
                .admit(visitor)
                .map_err(PasteError::RateLimited)
        });
    let explained = match admitted {
        Ok(()) => match tokio::task::spawn_blocking(move || explain::explain(&text)).await {
            Ok(explained) => explained.map_err(PasteError::from),
            Err(error) => {
                tracing::error!(%error, "explaining a pasted text failed");
                Err(PasteError::Failed)
            }
        },
        Err(error) => Err(error),
    };
    count(state, &explained);
    explained
}

/// Counts an outcome in `mailtls_explanations_total`.
pub fn count(state: &AppState, outcome: &Result<Explanation, PasteError>) {
    state.metrics.explained(match outcome {
        Ok(explained) if explained.recognised() => "recognised",
        Ok(_) => "not-recognised",
        Err(error) => error.status().1,
    });
}

/// The text an API request carries: a `text/plain` body in the charset it names, else read as
/// `mailtls explain` reads standard input; or JSON `{"text": "..."}` (UTF-8 unless it names
/// another charset or starts with a byte-order mark).
fn text_of(headers: &HeaderMap, body: &[u8]) -> Result<String, PasteError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (media_type, label) = charset::media_type(content_type);
    let json = match media_type.as_str() {
        "text/plain" => false,
        "application/json" => true,
        _ => return Err(PasteError::UnsupportedMediaType),
    };
    let declared = match label {
        None => None,
        Some(label) => match charset::from_label(&label) {
            Some(charset) => Some(charset),
            None => return Err(PasteError::UnsupportedCharset(label)),
        },
    };
    if !json && declared.is_none() {
        if body.len() > MAX_TEXT {
            return Err(PasteError::TooLong);
        }
        return input::decode_bytes(body)
            .map(|(text, _)| text)
            .map_err(PasteError::from);
    }
    let body = charset::decode(body, declared).map_err(|e| PasteError::Undecodable(e.0))?;
    if json {
        serde_json::from_str::<ExplanationRequest>(&body)
            .map(|request| request.text)
            .map_err(|e| PasteError::InvalidJson(e.to_string()))
    } else {
        Ok(body)
    }
}

/// `POST /api/v1/explanations`: 200 with the output of `mailtls explain --json`, recognised or
/// not.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let visitor = super::web::visitor_of(&state, peer, &headers);
    let explained = match turn(&state).await {
        Ok(_turn) => match read(&headers, body)
            .await
            .and_then(|b| text_of(&headers, &b))
        {
            Ok(text) => explain(&state, visitor, text).await,
            Err(error) => {
                let error = Err(error);
                count(&state, &error);
                error
            }
        },
        Err(error) => Err(error),
    };
    match explained {
        Ok(explained) => Json(output(&explained)).into_response(),
        Err(error) => refusal(&error),
    }
}

/// The one-line JSON error for `error`, with its status and `Retry-After`.
fn refusal(error: &PasteError) -> Response {
    let (status, code, message) = error.status();
    let mut response = (
        status,
        Json(ErrorBody {
            error: ApiError {
                code: code.to_string(),
                message,
            },
        }),
    )
        .into_response();
    if let Some(wait) = error.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        headers
    }

    #[test]
    fn bodies_in_every_form_give_the_same_text() {
        let text = "Die Identit\u{e4}t von \u{201e}mail.customer.com\u{201c}";
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let latin1: Vec<u8> = b"Die Identit\xe4t von \x84mail.customer.com\x93".to_vec();
        let json = serde_json::json!({ "text": text }).to_string();
        for (content_type, body) in [
            ("text/plain", text.as_bytes().to_vec()),
            // Naming no charset, read as the command reads standard input.
            ("text/plain", utf16.clone()),
            ("text/plain", latin1.clone()),
            ("text/plain; charset=UTF-8", text.as_bytes().to_vec()),
            ("text/plain; charset=utf-16", utf16.clone()),
            ("text/plain;charset=\"UTF-16LE\"", utf16),
            ("text/plain; charset=windows-1252", latin1),
            ("application/json", json.clone().into_bytes()),
            ("Application/JSON; charset=utf-8", json.into_bytes()),
        ] {
            assert_eq!(
                text_of(&typed(content_type), &body).as_deref(),
                Ok(text),
                "{content_type}"
            );
        }
    }

    #[test]
    fn bodies_that_are_not_text_are_refused_by_code() {
        for (content_type, body, code) in [
            ("", &b"words"[..], "unsupported-media-type"),
            (
                "application/x-www-form-urlencoded",
                b"text=words",
                "unsupported-media-type",
            ),
            (
                "text/plain; charset=koi8-r",
                b"words",
                "unsupported-charset",
            ),
            ("text/plain; charset=utf-8", b"caf\xe9", "not-text"),
            ("text/plain", b"a\x00b", "not-text"),
            ("text/plain; charset=utf-16", b"\x41\x00\x42", "not-text"),
            ("application/json", b"{\"words\": \"x\"}", "invalid-json"),
            ("application/json", b"{\"text\": 1}", "invalid-json"),
            ("application/json", b"\xff\xfe\x00", "not-text"),
        ] {
            assert_eq!(
                text_of(&typed(content_type), body).map_err(|e| e.status().1),
                Err(code),
                "{content_type} {body:?}"
            );
        }
    }
}
