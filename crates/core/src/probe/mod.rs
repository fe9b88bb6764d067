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
pub mod backoff;
pub mod budget;
pub mod dns;
pub mod dnsbl;
pub mod dnssec;
pub mod hello;
pub mod http;
pub mod lines;
pub mod memo;
pub mod shared;
pub mod starttls;
pub mod tls;
pub mod versions;

use budget::{ConnectionBudget, Permit};
use lines::{DialogueError, LineConn};

/// Longest sending a goodbye may take: it is courtesy, so it must not slow the report down.
const GOODBYE_LIMIT: Duration = Duration::from_secs(2);

/// Settings shared by all probes of one engine: the step timeout, and the connection budget
/// every connection is counted against (cloning shares it).
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Limit for each step: connect, each reply, the TLS handshake.
    pub step_timeout: Duration,
    /// Connections in flight, in all and per address.
    pub budget: ConnectionBudget,
    /// The name to greet SMTP servers with (EHLO); `None`: our address as a literal, e.g.
    /// `[192.0.2.1]`.
    pub ehlo_name: Option<String>,
    /// How many more times to try an endpoint that turned us away as busy or never greeted.
    pub retries: u32,
    /// Answers shared by the jobs of a fleet scan; `None`: every probe connects.
    pub memo: Option<memo::ProbeMemo>,
    /// Never connect to an address in a special-purpose range (loopback, private...): a
    /// server on the internet (`mailtls serve`) must not be aimed inside its own network.
    pub refuse_special: bool,
}

impl ProbeSettings {
    /// Settings with `step_timeout` and `budget`, greeting with our address, retrying twice.
    pub fn new(step_timeout: Duration, budget: ConnectionBudget) -> ProbeSettings {
        ProbeSettings {
            step_timeout,
            budget,
            ehlo_name: None,
            retries: DEFAULT_RETRIES,
            memo: None,
            refuse_special: false,
        }
    }
}

/// Retries of an endpoint that turned us away, by default.
pub const DEFAULT_RETRIES: u32 = 2;

/// One endpoint to probe: where, and which SNI to send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    settings: &ProbeSettings,
) -> Vec<EndpointObservation> {
    let mut tasks = JoinSet::new();
    for (index, request) in requests.iter().cloned().enumerate() {
        let settings = settings.clone();
        tasks.spawn(async move {
            let observation = match &settings.memo {
                Some(memo) => {
                    memo.endpoint(request.clone(), probe(request, &settings))
                        .await
                }
                None => probe(request, &settings).await,
            };
            (index, observation)
        });
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

/// Probes one endpoint: connect, greet, STARTTLS if needed, TLS handshake, goodbye. A server
/// that turns us away as busy, or never greets, is tried again after a growing pause with
/// jitter ([`backoff`]), a bounded number of times; then it is recorded as rate-limited.
pub async fn probe(request: ProbeRequest, settings: &ProbeSettings) -> EndpointObservation {
    let started = Instant::now();
    let backoff = settings.budget.backoff();
    let attempts = backoff.attempts(request.address, request.service.port, settings.retries);
    let mut attempt = 1;
    let mut observation = loop {
        let mut observation =
            EndpointObservation::new(request.service, request.address, request.sni.clone());
        match run(&request, settings, &mut observation).await {
            Err(failure) if failure.kind == FailureKind::RateLimited => {
                if attempt >= attempts {
                    observation.failure = Some(Failure {
                        kind: FailureKind::RateLimited,
                        detail: format!(
                            "{} ({attempt} attempt{}, with pauses between them)",
                            failure.detail,
                            if attempt == 1 { "" } else { "s" }
                        ),
                    });
                    break observation;
                }
                tokio::time::sleep(backoff.retry_delay(attempt)).await;
                attempt += 1;
            }
            Err(failure) => {
                observation.failure = Some(failure);
                break observation;
            }
            Ok(()) => break observation,
        }
    };
    observation.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    observation
}

/// A connection ready for a ClientHello, with its place in the budget.
pub(crate) struct Ready {
    /// Where the ClientHello goes next.
    pub tcp: TcpStream,
    /// The name we greeted with (EHLO).
    pub ehlo_name: String,
    /// The connection's place in the budget, returned by [`budget::linger`].
    pub permit: Permit,
}

/// Takes a place in the budget, connects and, on a STARTTLS port, talks the protocol up to the
/// go-ahead for TLS.
pub(crate) async fn ready_for_tls(
    request: &ProbeRequest,
    settings: &ProbeSettings,
    observation: &mut EndpointObservation,
) -> Result<Ready, Failure> {
    let step = settings.step_timeout;
    let socket = SocketAddr::new(request.address, request.service.port);
    if let Some(range) =
        crate::address::special(request.address).filter(|_| settings.refuse_special)
    {
        return Err(failure(
            FailureKind::Unreachable,
            format!(
                "not connected: {} is {}, which this server does not connect to",
                request.address,
                range.describe()
            ),
        ));
    }
    let permit = settings.budget.acquire(request.address).await;
    let tcp = match tokio::time::timeout(step, TcpStream::connect(socket)).await {
        // No connection was made: the place goes back at once.
        Err(_) => {
            permit.release();
            return Err(failure(
                FailureKind::Timeout,
                format!(
                    "no answer to the connection attempt within {} s (filtered by a firewall?)",
                    step.as_secs()
                ),
            ));
        }
        Ok(Err(error)) => {
            permit.release();
            return Err(connect_failure(&error));
        }
        Ok(Ok(tcp)) => tcp,
    };
    observation.reachable = true;
    let protocol = request.service.protocol;
    let ehlo_name = match (&settings.ehlo_name, tcp.local_addr()) {
        (Some(name), _) => name.clone(),
        (None, Ok(SocketAddr::V4(local))) => format!("[{}]", local.ip()),
        (None, Ok(SocketAddr::V6(local))) => format!("[IPv6:{}]", local.ip()),
        (None, Err(_)) => "mailtls.invalid".to_string(),
    };

    let tcp = match request.service.tls_mode {
        TlsMode::Implicit => tcp,
        TlsMode::Starttls => {
            let mut conn = LineConn::new(tcp, step, Vec::new());
            let outcome = plain_dialogue(&mut conn, protocol, &ehlo_name, observation).await;
            note_politeness(settings, request, outcome.as_ref().err());
            if let Err(error) = outcome {
                if matches!(error, DialogueError::NotOffered(_)) {
                    bounded_goodbye(protocol, &mut conn).await;
                }
                observation.transcript = conn.transcript().to_vec();
                let (tcp, _, _) = conn.into_parts();
                budget::linger(tcp, permit);
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
    Ok(Ready {
        tcp,
        ehlo_name,
        permit,
    })
}

async fn run(
    request: &ProbeRequest,
    settings: &ProbeSettings,
    observation: &mut EndpointObservation,
) -> Result<(), Failure> {
    let step = settings.step_timeout;
    let protocol = request.service.protocol;
    let Ready {
        tcp,
        ehlo_name,
        permit,
    } = ready_for_tls(request, settings, observation).await?;

    let (tls, result) = tls::handshake(tcp, request.sni.as_deref(), request.address, step).await;
    observation.tls = Some(tls);
    let stream = match result {
        Ok(stream) => stream,
        Err(stopped) => {
            match stopped.tcp {
                Some(tcp) => budget::linger(tcp, permit),
                // Timed out: the connection went with the handshake. Dropped, its place stays
                // taken a moment, so the server has seen it close before the next one arrives.
                None => drop(permit),
            }
            if stopped.ours {
                if let Some(tls) = observation.tls.as_mut() {
                    tls.library_limit = Some(stopped.words.clone());
                }
            }
            return Err(failure(FailureKind::TlsHandshakeFailed, stopped.words));
        }
    };
    // After the handshake a TLS 1.3 server sends its session tickets, then (on implicit TLS)
    // the greeting. With Nagle on the server's side, the greeting waits for our ACK of the
    // tickets, which the kernel would delay by 40 ms: ACK at once instead.
    quick_ack(stream.get_ref().0);

    let transcript = std::mem::take(&mut observation.transcript);
    let mut conn = LineConn::new(stream, step, transcript);
    if request.service.tls_mode == TlsMode::Implicit {
        // Implicit TLS: the greeting comes inside TLS. A bad greeting is worth recording but
        // does not undo the TLS findings.
        let hello = starttls::hello(protocol, &mut conn, &ehlo_name).await;
        note_politeness(settings, request, hello.as_ref().err());
        match hello {
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
    let (stream, _, _) = conn.into_parts();
    budget::linger(stream, permit);
    Ok(())
}

/// Tells the shared backoff what the greeting said: a refusal pauses the address for every
/// job, silence marks the port, a greeting clears the address's refusals.
fn note_politeness(
    settings: &ProbeSettings,
    request: &ProbeRequest,
    error: Option<&DialogueError>,
) {
    let backoff = settings.budget.backoff();
    match error {
        Some(DialogueError::Busy { .. }) => {
            backoff.busy(request.address);
        }
        Some(DialogueError::Silent { .. }) => backoff.tarpit(request.address, request.service.port),
        _ => backoff.fine(request.address),
    }
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

/// Asks the kernel to acknowledge what arrives next at once (Linux `TCP_QUICKACK`); elsewhere,
/// or if it fails, ACKs are merely delayed as usual.
fn quick_ack(tcp: &TcpStream) {
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
    #[cfg(not(target_os = "linux"))]
    let _ = tcp;
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
        DialogueError::Busy { .. } | DialogueError::Silent { .. } => FailureKind::RateLimited,
        DialogueError::Closed(_)
        | DialogueError::LineTooLong
        | DialogueError::TooManyLines
        | DialogueError::Unexpected { .. }
        | DialogueError::Io(_) => FailureKind::ProtocolError,
    };
    failure(kind, error.to_string())
}
