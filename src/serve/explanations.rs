//! Pasted words: `POST /api/v1/explanations`, and the page's box when it holds the words of a
//! warning rather than an address. The words go to `explain`, the same library call as
//! `mailtls explain`, and the API answers its JSON (`mailtls explain --json`,
//! docs/schema/explain.json); text that is not recognised is an answer too (no `matches`),
//! not an error. The same limits as the command: at most [`MAX_TEXT`] bytes of text, no
//! control characters; a body in any encoding [`super::charset`] reads; a rate per visitor,
//! counted apart from checks.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;

use super::AppState;
use super::api::{ApiError, ErrorBody};
use super::charset::{self, Charset};
use crate::diagnose::explain::{self, ExplainError, Explanation, MAX_TEXT};
use crate::report::wire::explain::output;

/// Largest body read for a pasted text: room for [`MAX_TEXT`] bytes of text in UTF-16, in a
/// form (`%XX` for every byte outside ASCII) or in JSON with its escapes.
pub const MAX_PASTE_BODY: usize = 4 * MAX_TEXT;

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
                    "That is more than {} KiB: paste only the words of the warning (a few lines).",
                    MAX_TEXT / 1024
                ),
            ),
            PasteError::NotText => (
                StatusCode::BAD_REQUEST,
                "not-text",
                "That is not text (it holds control characters): paste only the words of the \
                 warning."
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
/// visitor admitted, then matched. Counted in the metrics, whatever the outcome.
pub fn explain(state: &AppState, visitor: IpAddr, text: &str) -> Result<Explanation, PasteError> {
    let explained = explain::check_text(text)
        .map_err(PasteError::from)
        .and_then(|()| {
            state
                .explain_limit
                .admit(visitor)
                .map_err(PasteError::RateLimited)
        })
        .and_then(|()| explain::explain(text).map_err(PasteError::from));
    count(state, &explained);
    explained
}

/// Counts an outcome in `mailtls_explanations_total`.
pub fn count(state: &AppState, outcome: &Result<Explanation, PasteError>) {
    state.metrics.explained(match outcome {
        Ok(explained) if explained.matches.is_empty() => "not-recognised",
        Ok(_) => "recognised",
        Err(error) => error.status().1,
    });
}

/// The text an API request carries: a `text/plain` body in its charset, or JSON
/// `{"text": "..."}`.
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
        Some(label) => match Charset::from_label(&label) {
            Some(charset) => Some(charset),
            None => return Err(PasteError::UnsupportedCharset(label)),
        },
    };
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
    let text = match read(&headers, body)
        .await
        .and_then(|b| text_of(&headers, &b))
    {
        Ok(text) => text,
        Err(error) => {
            count(&state, &Err(error.clone()));
            return refusal(&error);
        }
    };
    match explain(&state, visitor, &text) {
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
            ("text/plain", b"caf\xe9", "not-text"),
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
