//! The provisioning endpoints for the domains of `serve.toml`: Thunderbird's autoconfig, Outlook's
//! autodiscover (POX) and Apple's `.mobileconfig`, written by `provisioning::write` from the
//! settings [`super::provision::Provisioner`] verified. A domain whose names never verified
//! gets 503 (clients then try their next source), never a name that would warn.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::provision::Documents;

/// `GET /mail/config-v1.1.xml` and `/.well-known/autoconfig/mail/config-v1.1.xml`: the domain
/// from `emailaddress=`, else from the Host (`autoconfig.DOMAIN` or `DOMAIN`).
pub async fn autoconfig(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let domain = asked_domain(&query, &headers);
    serve(&state, domain, "text/xml; charset=utf-8", |d| {
        d.autoconfig.clone()
    })
}

/// `POST /autodiscover/autodiscover.xml`: Outlook's POX request names the address.
pub async fn autodiscover(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let from_body = std::str::from_utf8(&body)
        .ok()
        .and_then(|text| roxmltree::Document::parse(text).ok())
        .and_then(|document| {
            document
                .descendants()
                .find(|n| n.tag_name().name() == "EMailAddress")
                .and_then(|n| n.text())
                .and_then(domain_of)
        });
    let domain = from_body.or_else(|| host_domain(&headers, "autodiscover."));
    serve(&state, domain, "text/xml; charset=utf-8", |d| {
        d.autodiscover.clone()
    })
}

/// `GET /email.mobileconfig?emailaddress=…`: an Apple configuration profile.
pub async fn mobileconfig(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let domain = asked_domain(&query, &headers);
    serve(&state, domain, "application/x-apple-aspen-config", |d| {
        d.mobileconfig.clone()
    })
}

fn serve(
    state: &AppState,
    domain: Option<String>,
    content_type: &'static str,
    document: impl FnOnce(&Documents) -> Bytes,
) -> Response {
    let Some(domain) = domain.filter(|d| state.provisioner.serves(d)) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no provisioning for this domain here\n",
        )
            .into_response();
    };
    match state.provisioner.documents(&domain) {
        Some(documents) => {
            let body = document(&documents);
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                body,
            )
                .into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::RETRY_AFTER, "300"),
            ],
            "no server name of this domain has been verified yet\n",
        )
            .into_response(),
    }
}

/// The domain a GET asks about: from `emailaddress=`, else from the Host.
fn asked_domain(query: &HashMap<String, String>, headers: &HeaderMap) -> Option<String> {
    query
        .get("emailaddress")
        .and_then(|address| domain_of(address))
        .or_else(|| host_domain(headers, "autoconfig."))
}

/// The domain of `user@domain`, lower case.
fn domain_of(address: &str) -> Option<String> {
    mailtls_core::target::Address::parse(address.trim())
        .ok()
        .map(|a| a.domain)
}

/// The Host header's name without the port and without `prefix`.
fn host_domain(headers: &HeaderMap, prefix: &str) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    Some(name.strip_prefix(prefix).unwrap_or(&name).to_string())
}
