//! Hostile and broken servers: each must give a clear per-port failure, never a panic or a hang,
//! both to the main probe and to the hand-built ClientHellos of the version probe.
//! The servers are small tokio listeners on 127.0.0.1 that misbehave on purpose.

#[path = "common/words.rs"]
mod words;

use std::net::SocketAddr;
use std::time::Duration;

use mailtls::observation::{EndpointObservation, FailureKind, HelloAnswer};
use mailtls::probe::budget::{ConnectionBudget, Limits};
use mailtls::probe::versions::probe_versions;
use mailtls::probe::{ProbeRequest, ProbeSettings, probe};
use mailtls::service::{Protocol, Service, TlsMode};
use mailtls::tls_catalog::{Offer, TlsVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const STEP: Duration = Duration::from_secs(2);

/// Probe settings for one test: the step timeout, and a budget of its own.
fn settings() -> ProbeSettings {
    ProbeSettings {
        // One connection per server here: a retry would find nothing listening.
        retries: 0,
        ..ProbeSettings::new(STEP, ConnectionBudget::new(Limits::default()))
    }
}

/// Starts a one-connection server running `behave`, returns its address.
async fn server<F, Fut>(behave: F) -> SocketAddr
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind on loopback");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        if let Ok((stream, _)) = listener.accept().await {
            behave(stream).await;
        }
    });
    address
}

async fn probe_at(
    address: SocketAddr,
    protocol: Protocol,
    tls_mode: TlsMode,
) -> EndpointObservation {
    let request = ProbeRequest {
        service: Service {
            port: address.port(),
            protocol,
            tls_mode,
        },
        address: address.ip(),
        sni: Some("mail.example.test".to_string()),
    };
    // The outer timeout is the test's own guard against a hang; the probe must finish well before.
    tokio::time::timeout(Duration::from_secs(30), probe(request, &settings()))
        .await
        .expect("the probe finishes within its step timeouts")
}

/// The recorded failure; its words never show Rust debug text, whatever the server did.
fn failure(observation: &EndpointObservation) -> (FailureKind, String) {
    let failure = observation.failure.as_ref().expect("a failure is recorded");
    words::assert_no_debug_text(&failure.detail);
    (failure.kind, failure.detail.clone())
}

/// Reads and discards what the client sends, until it closes (bounded).
async fn drain(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    for _ in 0..1000 {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
    }
}

/// Speaks IMAP up to a granted STARTTLS, waits for the ClientHello, then answers with `tls`.
async fn imap_tls_answer(mut stream: TcpStream, tls: &[u8]) {
    let _ = stream.write_all(b"* OK ready\r\n").await;
    let mut buffer = [0u8; 4096];
    let _ = stream.read(&mut buffer).await; // a1 CAPABILITY
    let _ = stream
        .write_all(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n")
        .await;
    let _ = stream.read(&mut buffer).await; // a2 STARTTLS
    let _ = stream
        .write_all(b"a2 OK Begin TLS negotiation now.\r\n")
        .await;
    let _ = stream.read(&mut buffer).await; // the ClientHello
    let _ = stream.write_all(tls).await;
    drain(&mut stream).await;
}

/// Speaks IMAP up to a granted STARTTLS and pipelines `after` right behind the go-ahead.
async fn imap_starttls_then(mut stream: TcpStream, after: &[u8]) {
    let _ = stream.write_all(b"* OK ready\r\n").await;
    let mut buffer = [0u8; 1024];
    let _ = stream.read(&mut buffer).await; // a1 CAPABILITY
    let _ = stream
        .write_all(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n")
        .await;
    let _ = stream.read(&mut buffer).await; // a2 STARTTLS
    // One write, so bytes meant to follow the go-ahead arrive with it, as an injected pipeline does.
    let mut reply = b"a2 OK Begin TLS negotiation now.\r\n".to_vec();
    reply.extend_from_slice(after);
    let _ = stream.write_all(&reply).await;
    drain(&mut stream).await;
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let observation = probe_at(address, Protocol::Imap, TlsMode::Starttls).await;
    assert!(!observation.reachable);
    assert_eq!(failure(&observation).0, FailureKind::ConnectionRefused);
}

#[tokio::test]
async fn garbage_greeting() {
    let address = server(|mut s| async move {
        let _ = s.write_all(b"\x00\xffHTTP/1.0 400 what is this\r\n").await;
        drain(&mut s).await;
    })
    .await;
    let observation = probe_at(address, Protocol::Smtp, TlsMode::Starttls).await;
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::ProtocolError);
    assert!(detail.contains("SMTP greeting"), "{detail}");
}

#[tokio::test]
async fn endless_line() {
    let address = server(|mut s| async move {
        let chunk = vec![b'A'; 4096];
        for _ in 0..256 {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    let observation = probe_at(address, Protocol::Pop3, TlsMode::Starttls).await;
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::ProtocolError);
    assert!(detail.contains("longer than"), "{detail}");
}

#[tokio::test]
async fn slow_drip_greeting_is_a_tarpit() {
    let address = server(|mut s| async move {
        for byte in b"220 this greeting arrives one byte every half second\r\n" {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if s.write_all(std::slice::from_ref(byte)).await.is_err() {
                return;
            }
        }
    })
    .await;
    let observation = probe_at(address, Protocol::Smtp, TlsMode::Starttls).await;
    // A greeting slower than the step timeout is a tarpit: the server is not checked, which
    // is not a TLS problem (and with retries, it would have been tried again).
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::RateLimited);
    assert!(detail.contains("no complete greeting"), "{detail}");
}

#[tokio::test]
async fn silent_server_is_a_tarpit() {
    let address = server(|mut s| async move { drain(&mut s).await }).await;
    let observation = probe_at(address, Protocol::Imap, TlsMode::Starttls).await;
    assert!(observation.reachable);
    assert_eq!(failure(&observation).0, FailureKind::RateLimited);
}

#[tokio::test]
async fn starttls_refused() {
    let address = server(|mut s| async move {
        let _ = s.write_all(b"220 mx ESMTP\r\n").await;
        let mut buffer = [0u8; 1024];
        let _ = s.read(&mut buffer).await;
        let _ = s.write_all(b"250-mx\r\n250 STARTTLS\r\n").await;
        let _ = s.read(&mut buffer).await;
        let _ = s
            .write_all(b"454 4.7.0 TLS not available due to local problem\r\n")
            .await;
        drain(&mut s).await;
    })
    .await;
    let observation = probe_at(address, Protocol::Smtp, TlsMode::Starttls).await;
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::StarttlsRefused);
    assert!(detail.contains("454"), "{detail}");
}

#[tokio::test]
async fn tls_alert_after_starttls() {
    // A fatal handshake_failure alert (level 2, description 40) instead of a ServerHello.
    let address = server(|s| imap_tls_answer(s, b"\x15\x03\x03\x00\x02\x02\x28")).await;
    let observation = probe_at(address, Protocol::Imap, TlsMode::Starttls).await;
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::TlsHandshakeFailed);
    assert!(detail.contains("alert"), "{detail}");
}

#[tokio::test]
async fn megabyte_certificate_message_is_refused() {
    // A handshake record announcing a 1 MB handshake message, followed by 1 MB of it.
    let address = server(|s| async move {
        let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00, 0x0b, 0x0f, 0x42, 0x40];
        record.resize(5 + 0x4000, 0);
        let mut bytes = Vec::new();
        for _ in 0..64 {
            bytes.extend_from_slice(&record);
        }
        imap_tls_answer(s, &bytes).await;
    })
    .await;
    let observation = probe_at(address, Protocol::Imap, TlsMode::Starttls).await;
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::TlsHandshakeFailed);
    assert!(detail.contains("64 KiB"), "{detail}");
}

#[tokio::test]
async fn plain_text_on_an_implicit_tls_port() {
    let address = server(|mut s| async move {
        let _ = s
            .write_all(b"* OK [CAPABILITY IMAP4rev1] plain text here\r\n")
            .await;
        drain(&mut s).await;
    })
    .await;
    let observation = probe_at(address, Protocol::Imap, TlsMode::Implicit).await;
    let (kind, detail) = failure(&observation);
    assert_eq!(kind, FailureKind::TlsHandshakeFailed);
    assert!(detail.contains("valid TLS"), "{detail}");
}

#[tokio::test]
async fn bytes_after_starttls_reply_are_never_fed_to_tls() {
    // Classic STARTTLS injection: extra bytes right after the go-ahead.
    let address = server(|s| imap_starttls_then(s, b"* injected plaintext\r\n")).await;
    let observation = probe_at(address, Protocol::Imap, TlsMode::Starttls).await;
    assert!(
        observation
            .transcript
            .iter()
            .any(|line| line.contains("discarded, never fed to TLS")),
        "{:?}",
        observation.transcript
    );
}

#[tokio::test]
async fn reset_during_handshake() {
    let address = server(|mut s| async move {
        let _ = s.write_all(b"+OK hi\r\n").await;
        let mut buffer = [0u8; 1024];
        let _ = s.read(&mut buffer).await;
        let _ = s.write_all(b"+OK\r\nSTLS\r\n.\r\n").await;
        let _ = s.read(&mut buffer).await;
        let _ = s.write_all(b"+OK go\r\n").await;
        let _ = s.read(&mut buffer).await; // the ClientHello
        drop(s);
    })
    .await;
    let observation = probe_at(address, Protocol::Pop3, TlsMode::Starttls).await;
    assert_eq!(failure(&observation).0, FailureKind::TlsHandshakeFailed);
}

/// Asks one legacy ClientHello (TLS 1.0, modern suites) of a one-connection server.
async fn ask_tls10(address: SocketAddr) -> HelloAnswer {
    let request = ProbeRequest {
        service: Service {
            port: address.port(),
            protocol: Protocol::Imap,
            tls_mode: TlsMode::Implicit,
        },
        address: address.ip(),
        sni: Some("mail.example.test".to_string()),
    };
    let answers = tokio::time::timeout(
        Duration::from_secs(30),
        probe_versions(
            &request,
            vec![(TlsVersion::Tls10, Offer::Modern)],
            &settings(),
        ),
    )
    .await
    .expect("the version probe finishes within its step timeout");
    assert_eq!(
        answers.len(),
        1,
        "one question, one answer (no SSL 3.0 follow-up)"
    );
    answers[0].answer.clone()
}

/// Reads the ClientHello (or whatever arrives first).
async fn read_hello(stream: &mut TcpStream) {
    let mut buffer = [0u8; 2048];
    let _ = stream.read(&mut buffer).await;
}

#[tokio::test]
async fn version_probe_reset_after_hello_is_closed() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        // SO_LINGER 0 makes the close a reset. (Deprecated because a non-zero linger blocks
        // the thread on drop; zero does not.)
        #[allow(deprecated)]
        let _ = stream.set_linger(Some(Duration::ZERO));
        drop(stream);
    })
    .await;
    assert_eq!(ask_tls10(address).await, HelloAnswer::Closed);
}

#[tokio::test]
async fn version_probe_garbage_is_invalid() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        let _ = stream.write_all(b"* BYE this is not TLS\r\n").await;
    })
    .await;
    let answer = ask_tls10(address).await;
    assert!(
        matches!(&answer, HelloAnswer::Invalid { detail } if detail.contains("not TLS")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn version_probe_slow_drip_times_out() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        // A record header promising 100 bytes, then one byte a second.
        let _ = stream.write_all(&[22, 3, 1, 0, 100]).await;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if stream.write_all(&[2]).await.is_err() {
                break;
            }
        }
    })
    .await;
    let started = std::time::Instant::now();
    assert_eq!(ask_tls10(address).await, HelloAnswer::Timeout);
    assert!(started.elapsed() < STEP * 2, "bounded by the step timeout");
}

#[tokio::test]
async fn version_probe_oversized_record_is_invalid() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        let _ = stream.write_all(&[22, 3, 1, 0xff, 0xff]).await;
        let _ = stream.write_all(&[0u8; 4096]).await;
    })
    .await;
    let answer = ask_tls10(address).await;
    assert!(
        matches!(&answer, HelloAnswer::Invalid { detail } if detail.contains("more than TLS allows")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn version_probe_records_a_different_version_than_asked() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        // A ServerHello for TLS 1.2, answering a TLS 1.0 hello.
        let _ = stream.write_all(&server_hello_record()).await;
    })
    .await;
    match ask_tls10(address).await {
        HelloAnswer::Accepted {
            version,
            version_wire,
            cipher,
            ..
        } => {
            assert_eq!(
                (version, version_wire, cipher),
                (Some(TlsVersion::Tls12), 0x0303, 0xc02f)
            );
        }
        other => panic!("expected the odd ServerHello recorded as such, got {other:?}"),
    }
}

#[tokio::test]
async fn version_probe_alert_is_recorded_by_name() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        let _ = stream.write_all(&[21, 3, 1, 0, 2, 2, 70]).await;
    })
    .await;
    assert_eq!(
        ask_tls10(address).await,
        HelloAnswer::Alert {
            description: 70,
            name: "protocol_version".to_string()
        }
    );
}

/// A TLS 1.2 ServerHello (suite 0xc02f) in one record.
fn server_hello_record() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[9; 32]);
    body.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
    let mut message = vec![2, 0, 0, body.len() as u8];
    message.extend_from_slice(&body);
    let mut record = vec![22, 3, 3, 0, message.len() as u8];
    record.extend_from_slice(&message);
    record
}

#[tokio::test]
async fn version_probe_reads_an_answer_sent_a_byte_at_a_time() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        let _ = stream.set_nodelay(true);
        for byte in server_hello_record() {
            if stream.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(
        matches!(
            ask_tls10(address).await,
            HelloAnswer::Accepted { cipher: 0xc02f, .. }
        ),
        "the whole ServerHello is read, however it arrives"
    );
}

#[tokio::test]
async fn version_probe_refuses_an_answer_of_endless_tiny_records() {
    let address = server(|mut stream| async move {
        read_hello(&mut stream).await;
        // The start of a ServerHello spread one byte per record, and then more of the same:
        // a flight no server sends, each record forcing the answer to be read again.
        let hello = server_hello_record();
        let mut records = Vec::new();
        for byte in hello[5..6].iter().chain(std::iter::repeat_n(&0u8, 2000)) {
            records.extend_from_slice(&[22, 3, 3, 0, 1, *byte]);
        }
        let _ = stream.write_all(&records).await;
        tokio::time::sleep(STEP * 2).await;
    })
    .await;
    let answer = ask_tls10(address).await;
    assert!(
        matches!(&answer, HelloAnswer::Invalid { detail } if detail.contains("more than 256 TLS records")),
        "{answer:?}"
    );
}
