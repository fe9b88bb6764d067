//! Which TLS versions and suites an endpoint accepts, one hand-built ClientHello per question.
//!
//! Each question costs a connection (and on STARTTLS ports the plain-text dialogue), so few are
//! asked and what the main handshake already showed is not asked again: rustls offered TLS 1.3
//! and 1.2, so a finished main handshake settles those two (1.3 accepted, or refused if the
//! server chose 1.2). The rest go out at once: TLS 1.0/1.1, whatever of 1.2/1.3 is still
//! open, and one offer of only weak suites (at most TLS 1.2, so the server may pick its best
//! version). TLS 1.0 and 1.1 share one hello (highest version 1.1): a refusal settles both, and
//! TLS 1.0 is asked on its own only of a server that picked 1.1. SSL 3.0 is asked only of a
//! server that accepted TLS 1.0. Three connections for a current server, at most six, each
//! bounded by the step timeout and a 64 KiB read cap.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::budget::{self, Permit};
use super::hello::{self, Response};
use super::{ProbeRequest, ProbeSettings, Ready};
use crate::concurrent::in_order;
use crate::observation::{
    Completion, Der, EndpointObservation, FailureKind, HelloAnswer, VersionProbe,
};
use crate::tls_catalog::{self, Offer, TlsVersion};

/// Most bytes read for one answer: a ServerHello and a certificate message of up to 128 KiB,
/// the largest handshake message NSS and GnuTLS accept (rustls stops at 64 KiB, so a larger
/// chain is read here), with the records around them.
const READ_CAP: usize = 136 * 1024;

/// Most TLS records read before the server's first flight is complete. Real servers send a few
/// (up to about a dozen with small records); the answer is parsed again only when a record
/// completes, so this bounds the work a server dripping tiny records can cause.
pub const MAX_FLIGHT_RECORDS: usize = 256;

/// The questions to ask of an endpoint, given its main probe; empty when TLS never started.
pub fn questions(main: &EndpointObservation) -> Vec<(TlsVersion, Offer)> {
    let tls_started = match &main.failure {
        None => true,
        Some(failure) => failure.kind == FailureKind::TlsHandshakeFailed,
    };
    if !main.reachable || !tls_started {
        return Vec::new();
    }
    let negotiated = main
        .tls
        .as_ref()
        .and_then(|t| t.version.as_deref())
        .and_then(TlsVersion::parse);
    // A hello whose highest version is TLS 1.1 lets the server pick 1.1 or 1.0: a refusal
    // settles both, and only a server that picks 1.1 is asked about 1.0 on its own.
    let mut asked = vec![(TlsVersion::Tls11, Offer::Modern)];
    if negotiated != Some(TlsVersion::Tls12) {
        asked.push((TlsVersion::Tls12, Offer::Modern));
    }
    if negotiated.is_none() {
        asked.push((TlsVersion::Tls13, Offer::Modern));
    }
    asked.push((TlsVersion::Tls12, Offer::Weak));
    asked
}

/// The question asked with `--no-versions` (beside [`client_questions`], asked either way): a
/// TLS 1.2 ClientHello like a mail client's, to an endpoint whose handshake rustls gave up at a
/// limit of its own (see [`complete`]).
pub fn completion_question(main: &EndpointObservation) -> Vec<(TlsVersion, Offer)> {
    let stopped_by_library = main
        .tls
        .as_ref()
        .is_some_and(|tls| tls.library_limit.is_some() && tls.completion.is_none());
    if stopped_by_library {
        vec![(TlsVersion::Tls12, Offer::Modern)]
    } else {
        Vec::new()
    }
}

/// The clients' own TLS 1.2 offers to ask of an endpoint that speaks TLS 1.2 but not 1.3 and
/// chose a suite some client does not offer (a CBC suite with SHA-256, DHE, ...): whether that
/// client finds a suite in common at all. Asked after [`complete`], since the suite is known
/// only then; a current server (TLS 1.3, or an AEAD suite every client offers) is asked
/// nothing more.
pub fn client_questions(main: &EndpointObservation) -> Vec<(TlsVersion, Offer)> {
    let Some(tls) = &main.tls else {
        return Vec::new();
    };
    if tls.version.as_deref().and_then(TlsVersion::parse) != Some(TlsVersion::Tls12) {
        return Vec::new();
    }
    let Some(suite) = tls.cipher.as_deref().and_then(tls_catalog::cipher_id) else {
        return Vec::new();
    };
    Offer::CLIENTS
        .into_iter()
        .filter(|offer| !tls_catalog::suites(TlsVersion::Tls12, *offer).contains(&suite))
        .filter(|offer| !main.versions.iter().any(|p| p.offer == *offer))
        .map(|offer| (TlsVersion::Tls12, offer))
        .collect()
}

/// Completes the observation of an endpoint whose handshake rustls gave up at a limit of its
/// own (`library_limit`), from the newest client-like ClientHello of TLS 1.2 or later the
/// server accepted with its certificates: version, suite and chain, as a mail client would have
/// them. The failure is then rustls's, not the server's, and is dropped; the observation keeps
/// it in `library_limit` and says how it was completed.
pub fn complete(endpoint: &mut EndpointObservation) {
    let stopped = matches!(&endpoint.failure, Some(f) if f.kind == FailureKind::TlsHandshakeFailed);
    let Some(tls) = endpoint.tls.as_mut() else {
        return;
    };
    if !stopped || tls.library_limit.is_none() || tls.completion.is_some() {
        return;
    }
    let best = endpoint
        .versions
        .iter()
        .filter(|probe| probe.offer == Offer::Modern)
        .filter_map(|probe| match &probe.answer {
            HelloAnswer::Accepted {
                version: Some(version),
                cipher_name,
                certificates,
                ..
            } if *version >= TlsVersion::Tls12 && !certificates.is_empty() => {
                Some((*version, cipher_name, certificates))
            }
            _ => None,
        })
        .max_by_key(|(version, _, _)| *version);
    let oversized = endpoint
        .versions
        .iter()
        .find_map(|probe| match &probe.answer {
            HelloAnswer::Accepted {
                certificate_length: Some(length),
                ..
            } if *length > tls_catalog::MAX_CLIENT_HANDSHAKE_MESSAGE => Some(*length),
            _ => None,
        });
    if let (None, Some(length)) = (&best, oversized) {
        // Not rustls's limit after all: no mail client reads a message this long.
        tls.library_limit = None;
        if let Some(failure) = endpoint.failure.as_mut() {
            failure.detail = format!(
                "the server's certificate list is {length} bytes, more than mail clients accept \
                 (Thunderbird and Evolution stop at 128 KiB, {} bytes): send only the server \
                 certificate and its intermediates",
                tls_catalog::MAX_CLIENT_HANDSHAKE_MESSAGE
            );
        }
        return;
    }
    if let Some((version, cipher, certificates)) = best {
        tls.version = Some(version.name().to_string());
        tls.cipher = Some(cipher.clone());
        if tls.chain.is_empty() {
            tls.chain = certificates.clone();
        }
        tls.completion = Some(Completion::ClientHello);
        endpoint.failure = None;
    }
}

/// Asks `questions` of the endpoint at once; then TLS 1.0 on its own if the server picked 1.1
/// when offered both, and SSL 3.0 if it accepted TLS 1.0. With a memo (a fleet scan), the same
/// questions are asked of one (address, port) once, whatever the name: which versions a port
/// speaks is the server's configuration, not the name's.
pub async fn probe_versions(
    request: &ProbeRequest,
    questions: Vec<(TlsVersion, Offer)>,
    settings: &ProbeSettings,
) -> Vec<VersionProbe> {
    if questions.is_empty() {
        return Vec::new();
    }
    match &settings.memo {
        Some(memo) => {
            let ask = ask_everything(request, questions.clone(), settings);
            memo.versions(request.address, request.service, questions, ask)
                .await
        }
        None => ask_everything(request, questions, settings).await,
    }
}

async fn ask_everything(
    request: &ProbeRequest,
    questions: Vec<(TlsVersion, Offer)>,
    settings: &ProbeSettings,
) -> Vec<VersionProbe> {
    let mut answers = ask_all(request, questions, settings).await;
    let chose = |answers: &[VersionProbe], version: TlsVersion| {
        answers.iter().any(|p| {
            p.offer == Offer::Modern
                && matches!(p.answer, HelloAnswer::Accepted { version: Some(v), .. } if v == version)
        })
    };
    if chose(&answers, TlsVersion::Tls11) {
        answers.extend(ask_all(request, vec![(TlsVersion::Tls10, Offer::Modern)], settings).await);
    }
    if chose(&answers, TlsVersion::Tls10) {
        answers.extend(ask_all(request, vec![(TlsVersion::Ssl3, Offer::Modern)], settings).await);
    }
    answers
}

async fn ask_all(
    request: &ProbeRequest,
    questions: Vec<(TlsVersion, Offer)>,
    settings: &ProbeSettings,
) -> Vec<VersionProbe> {
    in_order(questions.into_iter().map(|(version, offer)| {
        let request = request.clone();
        let settings = settings.clone();
        async move { ask(&request, version, offer, &settings).await }
    }))
    .await
}

/// One question: connect, STARTTLS if needed, send the ClientHello, read the answer.
async fn ask(
    request: &ProbeRequest,
    version: TlsVersion,
    offer: Offer,
    settings: &ProbeSettings,
) -> VersionProbe {
    let started = Instant::now();
    let mut scratch = EndpointObservation::new(request.service, request.address, None);
    let answer = match super::ready_for_tls(request, settings, &mut scratch).await {
        Err(failure) => HelloAnswer::NotSent {
            detail: failure.detail,
        },
        Ok(Ready { tcp, permit, .. }) => {
            exchange(tcp, permit, request, version, offer, settings).await
        }
    };
    VersionProbe {
        asked: version,
        offer,
        answer,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

async fn exchange(
    mut stream: TcpStream,
    permit: Permit,
    request: &ProbeRequest,
    version: TlsVersion,
    offer: Offer,
    settings: &ProbeSettings,
) -> HelloAnswer {
    let mut random = [0u8; 96];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).is_err() {
        return HelloAnswer::NotSent {
            detail: "no random numbers from the operating system".to_string(),
        };
    }
    let suites = tls_catalog::suites(version, offer);
    let message = hello::client_hello(version, &suites, request.sni.as_deref(), &random);
    let deadline = Instant::now() + settings.step_timeout;
    let step = async {
        stream.write_all(&message).await?;
        let mut received: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        let mut records = Records::default();
        loop {
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok::<_, std::io::Error>((received, Ended::Closed));
            }
            received.extend_from_slice(&chunk[..read]);
            // Parsed again only when a record (or a record's header) is new: a server sending
            // a byte at a time costs a parse per record, not per byte.
            if !records.advance(&received) {
                if received.len() >= READ_CAP {
                    return Ok((received, Ended::Read));
                }
                continue;
            }
            if records.complete > MAX_FLIGHT_RECORDS {
                return Ok((received, Ended::TooManyRecords));
            }
            let done = match hello::read_response(&received) {
                Response::Incomplete => false,
                Response::Hello {
                    certificates,
                    hello,
                    certificate_length,
                } => {
                    certificates.is_some()
                        || hello.version >= 0x0304
                        || hello.retry
                        || certificate_length
                            .is_some_and(|n| n > tls_catalog::MAX_CLIENT_HANDSHAKE_MESSAGE)
                }
                Response::Alert { .. } | Response::Invalid(_) => true,
            };
            if done || received.len() >= READ_CAP {
                return Ok((received, Ended::Read));
            }
        }
    };
    let answer = match tokio::time::timeout_at(deadline, step).await {
        Err(_) => HelloAnswer::Timeout,
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => {
            HelloAnswer::Closed
        }
        Ok(Err(error)) => HelloAnswer::Invalid {
            detail: format!("the connection failed: {error}"),
        },
        Ok(Ok((_, Ended::TooManyRecords))) => HelloAnswer::Invalid {
            detail: format!(
                "more than {MAX_FLIGHT_RECORDS} TLS records before the end of the server's \
                 first answer"
            ),
        },
        Ok(Ok((received, ended))) => match hello::read_response(&received) {
            Response::Incomplete if received.is_empty() && ended == Ended::Closed => {
                HelloAnswer::Closed
            }
            Response::Incomplete => HelloAnswer::Invalid {
                detail: format!(
                    "the answer stopped after {} bytes, before a whole ServerHello",
                    received.len()
                ),
            },
            Response::Alert { description, .. } => HelloAnswer::Alert {
                description,
                name: tls_catalog::alert_name(description).to_string(),
            },
            Response::Invalid(detail) => HelloAnswer::Invalid { detail },
            Response::Hello {
                hello,
                certificates,
                certificate_length,
            } => HelloAnswer::Accepted {
                version: TlsVersion::from_wire(hello.version),
                version_wire: hello.version,
                cipher: hello.cipher,
                cipher_name: tls_catalog::cipher_name(hello.cipher),
                certificate_length: certificate_length.filter(|_| certificates.is_none()),
                certificates: certificates
                    .unwrap_or_default()
                    .into_iter()
                    .map(Der)
                    .collect(),
            },
        },
    };
    // Courtesy: a fatal alert tells the server we are going; errors no longer matter.
    let _ = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        stream.write_all(&[21, 3, 1, 0, 2, 2, 90]),
    )
    .await;
    budget::linger(stream, permit);
    answer
}
/// Why reading a server's first answer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The server closed the connection.
    Closed,
    /// Enough was read: a decision, or the cap.
    Read,
    /// More records than a first flight has.
    TooManyRecords,
}

/// Where the complete TLS records of what was received end, advanced as bytes arrive.
#[derive(Debug, Default)]
struct Records {
    /// Bytes of complete records.
    end: usize,
    /// How many complete records.
    complete: usize,
    /// Whether the header of the record after `end` has been seen (and parsed once).
    header_seen: bool,
}

impl Records {
    /// Takes in what `received` now holds; whether a record or a record header is new since
    /// the last call (only then can the answer have changed).
    fn advance(&mut self, received: &[u8]) -> bool {
        let mut new = false;
        while let Some(header) = received.get(self.end..self.end + 5) {
            if !self.header_seen {
                self.header_seen = true;
                new = true;
            }
            let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if received.len() < self.end + 5 + length {
                break;
            }
            self.end += 5 + length;
            self.complete += 1;
            self.header_seen = false;
            new = true;
        }
        new
    }
}
