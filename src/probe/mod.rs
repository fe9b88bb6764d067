//! Talks to one server endpoint and records what it did, as an [`EndpointObservation`].
//!
//! The probe never fails: whatever goes wrong (refused, timeout, garbage, TLS alert) is written
//! into the observation's `failure`, because a broken server is a finding, not an error.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::observation::{EndpointObservation, Failure, FailureKind};
use crate::service::{Service, TlsMode};

pub mod aia;
pub mod dnsbl;
pub mod hello;
pub mod https;
pub mod lines;
pub mod starttls;
pub mod tls;
pub mod versions;

use lines::{DialogueError, LineConn};

/// Longest a goodbye may take: it is courtesy, so it must not slow the report down.
const GOODBYE_LIMIT: Duration = Duration::from_secs(2);

/// Settings shared by all probes of one run.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSettings {
    /// Limit for each step: connect, each reply, the TLS handshake.
    pub step_timeout: Duration,
}

/// One endpoint to probe: where, and which SNI to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    /// Port, protocol and TLS mode.
    pub service: Service,
    /// The address to connect to.
    pub address: IpAddr,
    /// SNI to send; `None` sends none.
    pub sni: Option<String>,
}

/// Probes every request concurrently; results come back in request order.
pub async fn probe_all(
    requests: Vec<ProbeRequest>,
    settings: ProbeSettings,
) -> Vec<EndpointObservation> {
    let mut tasks = JoinSet::new();
    for (index, request) in requests.iter().cloned().enumerate() {
        tasks.spawn(async move { (index, probe(request, settings).await) });
    }
    let mut results: Vec<Option<EndpointObservation>> = vec![None; requests.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, observation)) = joined {
            results[index] = Some(observation);
        }
    }
    // A probe task can only be missing if it panicked; record that rather than lose the port.
    results
        .into_iter()
        .zip(requests)
        .map(|(result, request)| {
            result.unwrap_or_else(|| {
                let mut observation =
                    EndpointObservation::new(request.service, request.address, request.sni);
                observation.failure = Some(Failure {
                    kind: FailureKind::ProtocolError,
                    detail: "internal error while probing (please report this)".to_string(),
                });
                observation
            })
        })
        .collect()
}

/// Probes one endpoint: connect, greet, STARTTLS if needed, TLS handshake, goodbye.
pub async fn probe(request: ProbeRequest, settings: ProbeSettings) -> EndpointObservation {
    let started = Instant::now();
    let mut observation =
        EndpointObservation::new(request.service, request.address, request.sni.clone());
    if let Err(failure) = run(&request, settings, &mut observation).await {
        observation.failure = Some(failure);
    }
    observation.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    observation
}

/// Connects and, on a STARTTLS port, talks the protocol up to the go-ahead for TLS: the stream
/// returned is where a ClientHello goes next. Also returns the EHLO name used.
pub(crate) async fn ready_for_tls(
    request: &ProbeRequest,
    settings: ProbeSettings,
    observation: &mut EndpointObservation,
) -> Result<(TcpStream, String), Failure> {
    let step = settings.step_timeout;
    let socket = SocketAddr::new(request.address, request.service.port);
    let tcp = match tokio::time::timeout(step, TcpStream::connect(socket)).await {
        Err(_) => {
            return Err(failure(
                FailureKind::Timeout,
                format!(
                    "no answer to the connection attempt within {} s (filtered by a firewall?)",
                    step.as_secs()
                ),
            ));
        }
        Ok(Err(error)) => return Err(connect_failure(&error)),
        Ok(Ok(tcp)) => tcp,
    };
    observation.reachable = true;
    let protocol = request.service.protocol;
    let ehlo_name = match tcp.local_addr() {
        Ok(SocketAddr::V4(local)) => format!("[{}]", local.ip()),
        Ok(SocketAddr::V6(local)) => format!("[IPv6:{}]", local.ip()),
        Err(_) => "mailtls.invalid".to_string(),
    };

    let tcp = match request.service.tls_mode {
        TlsMode::Implicit => tcp,
        TlsMode::Starttls => {
            let mut conn = LineConn::new(tcp, step, Vec::new());
            let outcome = plain_dialogue(&mut conn, protocol, &ehlo_name, observation).await;
            if let Err(error) = outcome {
                if matches!(error, DialogueError::NotOffered(_)) {
                    bounded_goodbye(protocol, &mut conn).await;
                }
                observation.transcript = conn.transcript().to_vec();
                return Err(dialogue_failure(&error));
            }
            let (tcp, leftover, mut transcript) = conn.into_parts();
            if !leftover.is_empty() {
                transcript.push(format!(
                    "# the server sent {} byte(s) after its STARTTLS reply; discarded, never fed to TLS",
                    leftover.len()
                ));
            }
            observation.transcript = transcript;
            tcp
        }
    };
    Ok((tcp, ehlo_name))
}

async fn run(
    request: &ProbeRequest,
    settings: ProbeSettings,
    observation: &mut EndpointObservation,
) -> Result<(), Failure> {
    let step = settings.step_timeout;
    let protocol = request.service.protocol;
    let (tcp, ehlo_name) = ready_for_tls(request, settings, observation).await?;

    let (tls, result) = tls::handshake(tcp, request.sni.as_deref(), request.address, step).await;
    observation.tls = Some(tls);
    let stream = result.map_err(|detail| failure(FailureKind::TlsHandshakeFailed, detail))?;

    let transcript = std::mem::take(&mut observation.transcript);
    let mut conn = LineConn::new(stream, step, transcript);
    if request.service.tls_mode == TlsMode::Implicit {
        // Implicit TLS: the greeting comes inside TLS. A bad greeting is worth recording but
        // does not undo the TLS findings.
        match starttls::hello(protocol, &mut conn, &ehlo_name).await {
            Ok(hello) => {
                observation.greeting = Some(hello.greeting);
                observation.capabilities = hello.capabilities;
                observation.ehlo_name = hello.ehlo_name;
            }
            Err(error) => conn.note(&format!("after the handshake: {error}")),
        }
    }
    bounded_goodbye(protocol, &mut conn).await;
    observation.transcript = conn.transcript().to_vec();
    Ok(())
}

async fn plain_dialogue<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    protocol: crate::service::Protocol,
    ehlo_name: &str,
    observation: &mut EndpointObservation,
) -> Result<(), DialogueError> {
    let hello = starttls::hello(protocol, conn, ehlo_name).await?;
    observation.greeting = Some(hello.greeting.clone());
    observation.capabilities = hello.capabilities.clone();
    observation.ehlo_name = hello.ehlo_name.clone();
    starttls::starttls(protocol, conn, &hello).await
}

async fn bounded_goodbye<S: AsyncRead + AsyncWrite + Unpin>(
    protocol: crate::service::Protocol,
    conn: &mut LineConn<S>,
) {
    let _ = tokio::time::timeout(GOODBYE_LIMIT, starttls::goodbye(protocol, conn)).await;
}

fn failure(kind: FailureKind, detail: String) -> Failure {
    Failure { kind, detail }
}

fn connect_failure(error: &std::io::Error) -> Failure {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => failure(
            FailureKind::ConnectionRefused,
            "connection refused: no server listens on this port".to_string(),
        ),
        ErrorKind::TimedOut => failure(
            FailureKind::Timeout,
            format!("connection timed out: {error}"),
        ),
        _ => failure(FailureKind::Unreachable, format!("cannot connect: {error}")),
    }
}

fn dialogue_failure(error: &DialogueError) -> Failure {
    let kind = match error {
        DialogueError::Timeout { .. } => FailureKind::Timeout,
        DialogueError::NotOffered(_) => FailureKind::StarttlsNotOffered,
        DialogueError::Refused { .. } => FailureKind::StarttlsRefused,
        DialogueError::Closed(_)
        | DialogueError::LineTooLong
        | DialogueError::TooManyLines
        | DialogueError::Unexpected { .. }
        | DialogueError::Io(_) => FailureKind::ProtocolError,
    };
    failure(kind, error.to_string())
}
