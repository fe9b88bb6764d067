//! The access log: one `tracing` event per request, at `info`, when its answer's head is ready
//! (docs/serve.md, "Logs"). It names the route matched, not the path: a permalink's id is the
//! only key to a result, and a query can hold a visitor's address, so neither is logged; nor is
//! the visitor's address.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The route logged for a path no route has (answered by the fallback, 404).
pub const UNMATCHED: &str = "unmatched";

/// Logs `request`'s method, route, status and how long its answer took (milliseconds, to the
/// microsecond).
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_string());
    let response = next.run(request).await;
    tracing::info!(
        method = %method,
        route = %route.as_deref().unwrap_or(UNMATCHED),
        status = response.status().as_u16(),
        duration_ms = milliseconds(started),
        "request"
    );
    response
}

/// Milliseconds since `started`, to the microsecond.
pub fn milliseconds(started: Instant) -> f64 {
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    micros as f64 / 1000.0
}
