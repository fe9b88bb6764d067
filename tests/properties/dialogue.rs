//! The protocol line reader (`probe::lines`) and the SMTP, IMAP and POP3 exchanges up to the
//! STARTTLS go-ahead (`probe::starttls`), fed by a scripted server at the other end of a tokio
//! duplex pipe, on a runtime whose clock is paused (timeouts pass in no time).
//!
//! - The reader gives exactly the lines a model splits the bytes into, however they are cut into
//!   reads and however slowly they come (a line of exactly the cap whose CRLF was cut between
//!   two reads was refused until this test found it); a line longer than the cap is an error,
//!   never a longer line; the transcript stays within its caps.
//! - A well-formed dialogue with any greeting, capabilities and answers is read as written: the
//!   capabilities, whether STARTTLS is offered, the go-ahead or the refusal, the commands sent,
//!   and nothing after the go-ahead taken for more than left-over bytes.
//! - Any bytes (a damaged dialogue or noise): an answer within the step timeouts, and errors that
//!   quote the server in one line without control characters.

use std::time::Duration;

use mailtls::probe::lines::{DialogueError, LineConn, MAX_LINE};
use mailtls::probe::starttls::{self, Hello};
use mailtls::service::Protocol;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The step timeout of every exchange here (virtual time: the clock is paused).
const STEP: Duration = Duration::from_secs(10);

/// A runtime for one case: one thread, clock paused, so a timeout costs no wall-clock time.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

/// The client end of a pipe whose server writes each chunk after `pause`, then closes its side
/// (`close`) or stays silent; the handle gives what the client wrote.
fn server(
    chunks: Vec<Vec<u8>>,
    pause: Duration,
    close: bool,
) -> (DuplexStream, JoinHandle<Vec<u8>>) {
    let (client, server) = tokio::io::duplex(256 * 1024);
    let (mut read, mut write) = tokio::io::split(server);
    let heard = tokio::spawn(async move {
        let mut heard = Vec::new();
        let mut buffer = [0u8; 1024];
        while let Ok(n) = read.read(&mut buffer).await {
            if n == 0 || heard.len() > 64 * 1024 {
                break;
            }
            heard.extend_from_slice(&buffer[..n]);
        }
        heard
    });
    tokio::spawn(async move {
        for chunk in chunks {
            tokio::time::sleep(pause).await;
            if write.write_all(&chunk).await.is_err() {
                return;
            }
        }
        if close {
            let _ = write.shutdown().await;
        } else {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    (client, heard)
}

/// What one `read_line` gave, comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    Line(String),
    TooLong,
    Closed,
    Timeout,
    Other(String),
}

fn read_of(result: Result<String, DialogueError>) -> Read {
    match result {
        Ok(line) => Read::Line(line),
        Err(DialogueError::LineTooLong) => Read::TooLong,
        Err(DialogueError::Closed(_)) => Read::Closed,
        Err(DialogueError::Timeout { .. }) => Read::Timeout,
        Err(other) => Read::Other(other.to_string()),
    }
}

/// The model: the lines in `bytes`, each without its LF and one CR before it, until the first
/// one over [`MAX_LINE`]; then what ends the reading (an unfinished line over the cap, not
/// counting a CR that may start its CRLF, is too long already).
fn model(bytes: &[u8], close: bool) -> Vec<Read> {
    let mut reads = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.iter().position(|&b| b == b'\n') {
        let mut line = &rest[..at];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line.len() > MAX_LINE {
            reads.push(Read::TooLong);
            return reads;
        }
        reads.push(Read::Line(String::from_utf8_lossy(line).into_owned()));
        rest = &rest[at + 1..];
    }
    let unfinished = rest.len() - usize::from(rest.last() == Some(&b'\r'));
    reads.push(match (unfinished > MAX_LINE, close) {
        (true, _) => Read::TooLong,
        (false, true) => Read::Closed,
        (false, false) => Read::Timeout,
    });
    reads
}

/// Bytes in lines: short ones of any bytes but LF, and ones around the cap, each ended by LF,
/// CRLF or nothing.
fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
    let content = prop_oneof![
        3 => proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..24),
        1 => (MAX_LINE - 2..=MAX_LINE + 2, prop_oneof![Just(b'x'), Just(b'\r'), Just(0xff)])
            .prop_map(|(n, b)| vec![b; n]),
    ];
    let ending = prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b""[..])];
    proptest::collection::vec((content, ending), 0..6).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(mut content, ending)| {
                content.extend_from_slice(ending);
                content
            })
            .collect()
    })
}

/// Cuts `bytes` at `cuts`: each either anywhere or just after a CR (where a read that stops
/// matters most).
fn cut(bytes: &[u8], cuts: &[(bool, prop::sample::Index)]) -> Vec<Vec<u8>> {
    let crs: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'\r').collect();
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|(after_cr, index)| match (after_cr, crs.is_empty()) {
            (true, false) => crs[index.index(crs.len())] + 1,
            _ => index.index(bytes.len() + 1),
        })
        .collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
}

/// Checks a transcript's caps: 60 entries of at most 200 characters and their prefix.
fn transcript_bounded(transcript: &[String]) -> Result<(), TestCaseError> {
    prop_assert!(transcript.len() <= 60, "{} entries", transcript.len());
    for entry in transcript {
        prop_assert!(entry.chars().count() <= 203, "{} characters", entry.len());
    }
    Ok(())
}

/// An error quoting a server: one line, no control characters, bounded.
fn error_printable(error: &DialogueError) -> Result<(), TestCaseError> {
    if matches!(error, DialogueError::Io(_)) {
        return Ok(());
    }
    let words = error.to_string();
    prop_assert!(!words.chars().any(char::is_control), "{words:?}");
    prop_assert!(words.chars().count() <= 400, "{} characters", words.len());
    Ok(())
}

/// Capabilities tokens: atoms, and STARTTLS/STLS in any case.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9=+-]{1,12}",
        1 => prop_oneof![
            Just("STARTTLS".to_string()),
            Just("starttls".to_string()),
            Just("StartTls".to_string()),
            Just("STARTTLSX".to_string()),
            Just("STLS".to_string()),
            Just("stls".to_string()),
        ],
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,()!-]{0,30}"
}

/// A well-formed dialogue up to the STARTTLS answer, and what reading it must give.
#[derive(Debug, Clone)]
struct Dialogue {
    protocol: Protocol,
    /// The server's lines, each sent with CRLF.
    lines: Vec<String>,
    /// Bytes after the STARTTLS answer (an injection attempt).
    after: Vec<u8>,
    capabilities: Vec<String>,
    offered: bool,
    /// The STARTTLS answer is the go-ahead.
    go_ahead: bool,
    /// What the client must send, in order.
    commands: Vec<String>,
    /// The greeting `Hello` reports.
    greeting: String,
    ehlo_name: Option<String>,
}

impl Dialogue {
    fn bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self
            .lines
            .iter()
            .flat_map(|l| format!("{l}\r\n").into_bytes())
            .collect();
        out.extend_from_slice(&self.after);
        out
    }
}

const EHLO: &str = "client.example.test";

fn smtp() -> impl Strategy<Value = Dialogue> {
    (
        proptest::collection::vec(text(), 1..4),
        "[a-z0-9.-]{1,20}",
        text(),
        proptest::collection::vec((token(), proptest::option::of("[0-9]{1,6}")), 0..8),
        prop_oneof![Just(250u16), Just(502)],
        prop_oneof![Just(220u16), Just(454)],
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(greeting, name, hi, keywords, ehlo_code, answer, after)| {
            let mut lines = Vec::new();
            for (i, line) in greeting.iter().enumerate() {
                let sep = if i + 1 == greeting.len() { ' ' } else { '-' };
                lines.push(format!("220{sep}{line}"));
            }
            let capabilities: Vec<String> = keywords
                .iter()
                .map(|(k, arg)| match arg {
                    Some(arg) => format!("{k} {arg}"),
                    None => k.clone(),
                })
                .collect();
            let ok = ehlo_code == 250;
            let mut reply = vec![format!("{name} {hi}")];
            reply.extend(capabilities.iter().cloned());
            for (i, line) in reply.iter().enumerate() {
                let sep = if i + 1 == reply.len() { ' ' } else { '-' };
                lines.push(format!("{ehlo_code}{sep}{line}"));
            }
            let offered = ok
                && keywords
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("STARTTLS"));
            let mut commands = vec![format!("EHLO {EHLO}")];
            if offered {
                lines.push(format!("{answer} go"));
                commands.push("STARTTLS".to_string());
            }
            Dialogue {
                protocol: Protocol::Smtp,
                lines,
                after,
                capabilities: if ok { capabilities } else { Vec::new() },
                offered,
                go_ahead: answer == 220,
                commands,
                greeting: format!("220 {}", greeting.join(" / ")),
                ehlo_name: ok.then_some(name),
            }
        })
}

fn imap() -> impl Strategy<Value = Dialogue> {
    (
        proptest::option::of(proptest::collection::vec(token(), 1..6)),
        text().prop_map(|t| t.replace(['[', ']'], "")),
        proptest::collection::vec(token(), 0..8),
        proptest::collection::vec(text(), 0..3),
        any::<bool>(),
        prop_oneof![Just("OK"), Just("NO"), Just("BAD")],
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(code, hi, listed, untagged, ok, answer, after)| {
            let greeting = match &code {
                Some(code) => format!("* OK [CAPABILITY {}] {hi}", code.join(" ")),
                None => format!("* OK {hi}"),
            };
            let mut lines = vec![greeting.clone()];
            if ok {
                lines.push(format!("* CAPABILITY {}", listed.join(" ")));
            }
            for extra in &untagged {
                lines.push(format!("* ID {extra}"));
            }
            lines.push(if ok {
                "a1 OK done".to_string()
            } else {
                "a1 BAD no".to_string()
            });
            let capabilities = if ok && !listed.is_empty() {
                listed
            } else {
                code.unwrap_or_default()
            };
            let offered = capabilities
                .iter()
                .any(|c| c.eq_ignore_ascii_case("STARTTLS"));
            let mut commands = vec!["a1 CAPABILITY".to_string()];
            if offered {
                lines.push(format!("a2 {answer} go"));
                commands.push("a2 STARTTLS".to_string());
            }
            Dialogue {
                protocol: Protocol::Imap,
                lines,
                after,
                capabilities,
                offered,
                go_ahead: answer == "OK",
                commands,
                greeting,
                ehlo_name: None,
            }
        })
}

fn pop3() -> impl Strategy<Value = Dialogue> {
    (
        text(),
        proptest::option::of(proptest::collection::vec(
            prop_oneof![
                3 => (token(), proptest::option::of(text())).prop_map(|(k, a)| match a {
                    Some(a) => format!("{k} {a}"),
                    None => k,
                }),
                1 => "\\.[ -~]{0,10}",
            ],
            0..8,
        )),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(hi, capa, go_ahead, after)| {
            let greeting = format!("+OK {hi}");
            let mut lines = vec![greeting.clone()];
            match &capa {
                Some(capa) => {
                    lines.push("+OK list follows".to_string());
                    // Dot-stuffing: a line that starts with "." is sent with another.
                    for line in capa {
                        let stuffed = if line.starts_with('.') {
                            format!(".{line}")
                        } else {
                            line.clone()
                        };
                        lines.push(stuffed);
                    }
                    lines.push(".".to_string());
                }
                None => lines.push("-ERR unknown command".to_string()),
            }
            let capabilities = capa.unwrap_or_default();
            let offered = capabilities.iter().any(|c| {
                c.split_whitespace()
                    .next()
                    .is_some_and(|k| k.eq_ignore_ascii_case("STLS"))
            });
            let mut commands = vec!["CAPA".to_string()];
            if offered {
                lines.push(if go_ahead { "+OK go" } else { "-ERR not now" }.to_string());
                commands.push("STLS".to_string());
            }
            Dialogue {
                protocol: Protocol::Pop3,
                lines,
                after,
                capabilities,
                offered,
                go_ahead,
                commands,
                greeting,
                ehlo_name: None,
            }
        })
}

fn dialogue() -> impl Strategy<Value = Dialogue> {
    prop_oneof![smtp(), imap(), pop3()]
}

/// What running a dialogue's client gave.
struct Outcome {
    hello: Result<Hello, DialogueError>,
    starttls: Option<Result<(), DialogueError>>,
    leftover: Vec<u8>,
    transcript: Vec<String>,
    heard: Vec<u8>,
    /// Virtual time the exchange took.
    took: Duration,
}

/// Runs hello and, when it succeeded, STARTTLS against a server sending `bytes` in `chunks`.
fn exchange(protocol: Protocol, chunks: Vec<Vec<u8>>, close: bool) -> Outcome {
    runtime().block_on(async move {
        let (stream, heard) = server(chunks, Duration::from_millis(1), close);
        let started = Instant::now();
        let mut conn = LineConn::new(stream, STEP, Vec::new());
        let hello = starttls::hello(protocol, &mut conn, EHLO).await;
        let starttls = match &hello {
            Ok(hello) => Some(starttls::starttls(protocol, &mut conn, hello).await),
            Err(_) => None,
        };
        let took = started.elapsed();
        let (stream, leftover, transcript) = conn.into_parts();
        drop(stream);
        let heard = heard.await.unwrap_or_default();
        Outcome {
            hello,
            starttls,
            leftover,
            transcript,
            heard,
            took,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Lines come out as the model splits them, whatever the reads and however slow.
    #[test]
    fn the_line_reader_gives_the_lines_sent(
        bytes in line_bytes(),
        cuts in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 0..8),
        close in any::<bool>(),
    ) {
        let chunks = cut(&bytes, &cuts);
        let expected = model(&bytes, close);
        let (reads, transcript) = crate::timed("reading lines", || runtime().block_on(async {
            let (stream, _) = server(chunks, Duration::from_millis(1), close);
            let mut conn = LineConn::new(stream, STEP, Vec::new());
            let mut reads = Vec::new();
            for _ in 0..expected.len() + 1 {
                let deadline = conn.deadline();
                let read = read_of(conn.read_line(deadline, "a line").await);
                let last = !matches!(read, Read::Line(_));
                reads.push(read);
                if last {
                    break;
                }
            }
            (reads, conn.transcript().to_vec())
        }));
        prop_assert!(reads == expected, "read {reads:?}, expected {expected:?}");
        transcript_bounded(&transcript)?;
    }

    /// A well-formed dialogue is read as written, however its bytes are cut.
    #[test]
    fn a_dialogue_is_read_as_written(
        dialogue in dialogue(),
        cuts in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 0..6),
    ) {
        let bytes = dialogue.bytes();
        let outcome = crate::timed("a dialogue", || exchange(dialogue.protocol, cut(&bytes, &cuts), false));
        let hello = outcome.hello.as_ref().map_err(|e| TestCaseError::fail(format!("hello failed: {e}")))?;
        prop_assert_eq!(&hello.greeting, &dialogue.greeting);
        prop_assert_eq!(&hello.capabilities, &dialogue.capabilities);
        prop_assert_eq!(hello.starttls_offered, dialogue.offered);
        prop_assert_eq!(&hello.ehlo_name, &dialogue.ehlo_name);
        match outcome.starttls {
            Some(Ok(())) => prop_assert!(dialogue.offered && dialogue.go_ahead),
            Some(Err(DialogueError::NotOffered(_))) => prop_assert!(!dialogue.offered),
            Some(Err(DialogueError::Refused { .. })) => prop_assert!(dialogue.offered && !dialogue.go_ahead),
            other => return Err(TestCaseError::fail(format!("STARTTLS gave {:?}", other.map(|r| r.map_err(|e| e.to_string()))))),
        }
        let sent: String = dialogue.commands.iter().map(|c| format!("{c}\r\n")).collect();
        prop_assert_eq!(String::from_utf8_lossy(&outcome.heard), sent);
        // Bytes after the go-ahead are left over, never read as a reply (nor lost in between).
        if dialogue.offered {
            prop_assert!(dialogue.after.starts_with(&outcome.leftover),
                "left over {:?} of {:?}", outcome.leftover, dialogue.after);
        }
        transcript_bounded(&outcome.transcript)?;
    }

    /// A damaged dialogue, or noise: an answer within the step timeouts, and bounded words.
    #[test]
    fn any_server_bytes_are_answered(
        protocol in prop_oneof![Just(Protocol::Smtp), Just(Protocol::Imap), Just(Protocol::Pop3)],
        dialogue in dialogue(),
        noise in proptest::collection::vec(any::<u8>(), 0..512),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..6),
        use_noise in any::<bool>(),
        close in any::<bool>(),
        cuts in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 0..6),
    ) {
        let mut bytes = if use_noise { noise } else { dialogue.bytes() };
        for (at, byte, kind) in edits {
            let at = at.index(bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        let outcome = crate::timed("any bytes", || exchange(protocol, cut(&bytes, &cuts), close));
        // Greeting, capabilities and STARTTLS each wait at most one step.
        prop_assert!(outcome.took <= STEP * 5, "took {:?}", outcome.took);
        match &outcome.hello {
            Ok(hello) => {
                // Invalid UTF-8 becomes U+FFFD (3 bytes for 1); SMTP adds " / " between lines.
                prop_assert!(hello.greeting.len() <= 3 * bytes.len() + 8);
                let listed: usize = hello.capabilities.iter().map(String::len).sum();
                prop_assert!(listed <= 3 * bytes.len());
                prop_assert!(hello.capabilities.len() <= bytes.len());
            }
            Err(error) => error_printable(error)?,
        }
        if let Some(Err(error)) = &outcome.starttls {
            error_printable(error)?;
        }
        prop_assert!(outcome.leftover.len() <= bytes.len());
        transcript_bounded(&outcome.transcript)?;
    }
}
