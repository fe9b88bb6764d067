//! The accept loop of `mailtls serve`, written out instead of `axum::serve` for the limits a
//! server on the internet needs and `axum::serve` does not set: a client must send each
//! request's head within [`HEADER_LIMIT`] (hyper enforces it only with a timer, which
//! `axum::serve` does not give it), so a slow or idle connection cannot be held open for ever;
//! at most [`MAX_CONNECTIONS`] are open at once (more wait in the kernel's backlog); a failed
//! `accept` (out of file descriptors) pauses instead of spinning; at shutdown the requests in
//! flight get [`DRAIN_LIMIT`] to finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Most connections open at once.
pub const MAX_CONNECTIONS: usize = 4096;
/// Longest a client may take to send a request's head, counted from when the server is ready
/// for it: also the longest an idle keep-alive connection stays open.
pub const HEADER_LIMIT: Duration = Duration::from_secs(10);
/// Longest the requests in flight get to finish at shutdown.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// Pause after a failed `accept`.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` completes; each request carries the peer's
/// address as [`ConnectInfo`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // A connection that failed before it was accepted concerns only its
                    // client; anything else (no file descriptors left) passes with time.
                    if !is_connection_error(&error) {
                        tracing::error!(%error, "cannot accept a connection");
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    request
                });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_LIMIT);
        let connection = graceful.watch(
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)),
        );
        tokio::spawn(async move {
            // A client that goes away or breaks the protocol ends only its own connection.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_LIMIT, graceful.shutdown()).await;
    Ok(())
}

fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
