//! A line-oriented connection with hard limits, shared by the SMTP, IMAP and POP3 dialogues.
//!
//! Mail protocols before TLS are CRLF-terminated text. A server may be hostile or broken: it may
//! never end a line, drip one byte a second, or send megabytes. So every read here is bounded in
//! size (per line, per reply) and in time (a deadline per reply, not per read, so a slow drip
//! cannot stretch a step forever).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Longest line we accept. SMTP allows 512 octets per reply line (RFC 5321 4.5.3.1.5); IMAP
/// capability lines are longer in practice, so allow a generous 8 KiB.
pub const MAX_LINE: usize = 8 * 1024;
/// Most lines in one reply (an EHLO reply or a POP3 CAPA list is typically 5-20 lines).
pub const MAX_REPLY_LINES: usize = 100;
/// Most transcript entries kept per probe, and longest entry, so observations stay small.
const MAX_TRANSCRIPT: usize = 60;
const MAX_TRANSCRIPT_ENTRY: usize = 200;
/// Read size: small, because we never want to swallow much beyond the reply we are reading.
const READ_CHUNK: usize = 1024;

/// Why a plain-text dialogue with a server failed.
#[derive(Debug, thiserror::Error)]
pub enum DialogueError {
    /// The server did not finish a reply before the step's deadline.
    #[error("no complete reply within {seconds} s while waiting for {waiting_for}")]
    Timeout {
        /// What we were waiting for.
        waiting_for: &'static str,
        /// The step timeout, in seconds.
        seconds: u64,
    },
    /// The server closed the connection.
    #[error("the server closed the connection while we waited for {0}")]
    Closed(&'static str),
    /// A line went past [`MAX_LINE`] without ending.
    #[error("the server sent a line longer than {MAX_LINE} bytes without ending it")]
    LineTooLong,
    /// A reply went past [`MAX_REPLY_LINES`] lines.
    #[error("the server sent a reply longer than {MAX_REPLY_LINES} lines")]
    TooManyLines,
    /// The server answered something the protocol does not allow here.
    #[error("unexpected answer to {to}: \"{reply}\"")]
    Unexpected {
        /// The command or step we were at.
        to: &'static str,
        /// The offending line (truncated).
        reply: String,
    },
    /// The capabilities list does not include STARTTLS/STLS.
    #[error("the server does not offer {0}")]
    NotOffered(&'static str),
    /// The server answered the STARTTLS/STLS command with an error.
    #[error("the server refused {command}: \"{reply}\"")]
    Refused {
        /// STARTTLS or STLS.
        command: &'static str,
        /// The server's reply (truncated).
        reply: String,
    },
    /// The server turned the connection away at its greeting, for now: SMTP `421` (or another
    /// 4xx), IMAP `* BYE`, POP3 `-ERR`. Usually too many connections from one address.
    #[error("the server turned the connection away at its greeting: \"{reply}\"")]
    Busy {
        /// The greeting (truncated).
        reply: String,
    },
    /// The server accepted the connection but did not complete its greeting in time: a tarpit
    /// (or a greeting delay longer than the step timeout).
    #[error("the server accepted the connection but sent no complete greeting within {seconds} s")]
    Silent {
        /// The step timeout, in seconds.
        seconds: u64,
    },
    /// The socket failed.
    #[error("network error: {}", super::tls::io_error_words(.0))]
    Io(#[from] std::io::Error),
}

impl DialogueError {
    /// The same error, read as the answer to a greeting: a timeout there means a silent
    /// (tarpitting) server.
    pub fn at_greeting(self) -> DialogueError {
        match self {
            DialogueError::Timeout { seconds, .. } => DialogueError::Silent { seconds },
            other => other,
        }
    }
}

/// A text connection: reads bounded lines, writes commands, and keeps a transcript.
#[derive(Debug)]
pub struct LineConn<S> {
    stream: S,
    pending: Vec<u8>,
    transcript: Vec<String>,
    step: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> LineConn<S> {
    /// Wraps a stream; each reply must arrive within `step`.
    pub fn new(stream: S, step: Duration, transcript: Vec<String>) -> Self {
        LineConn {
            stream,
            pending: Vec::new(),
            transcript,
            step,
        }
    }

    /// The deadline for the reply we are about to read.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.step
    }

    /// Reads one line (without CRLF) before `deadline`.
    pub async fn read_line(
        &mut self,
        deadline: Instant,
        waiting_for: &'static str,
    ) -> Result<String, DialogueError> {
        let seconds = self.step.as_secs();
        match tokio::time::timeout_at(deadline, self.read_line_unbounded(waiting_for)).await {
            Ok(result) => result,
            Err(_) => Err(DialogueError::Timeout {
                waiting_for,
                seconds,
            }),
        }
    }

    async fn read_line_unbounded(
        &mut self,
        waiting_for: &'static str,
    ) -> Result<String, DialogueError> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > MAX_LINE {
                    return Err(DialogueError::LineTooLong);
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                self.record("S: ", &text);
                return Ok(text);
            }
            // A CR at the end may be the start of the CRLF that ends a line of MAX_LINE bytes:
            // whether such a line is taken must not depend on where a read happened to stop.
            let unfinished = self.pending.len() - usize::from(self.pending.last() == Some(&b'\r'));
            if unfinished > MAX_LINE {
                return Err(DialogueError::LineTooLong);
            }
            let mut chunk = [0u8; READ_CHUNK];
            let read = self.stream.read(&mut chunk).await?;
            if read == 0 {
                return Err(DialogueError::Closed(waiting_for));
            }
            self.pending.extend_from_slice(&chunk[..read]);
        }
    }

    /// Sends one command line (CRLF is added).
    pub async fn send(&mut self, line: &str) -> Result<(), DialogueError> {
        self.record("C: ", line);
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        let seconds = self.step.as_secs();
        let write = async {
            self.stream.write_all(&bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.step, write).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(DialogueError::Timeout {
                waiting_for: "the server to accept our command",
                seconds,
            }),
        }
    }

    /// Adds a note (not a protocol line) to the transcript.
    pub fn note(&mut self, text: &str) {
        self.record("# ", text);
    }

    /// Gives back the stream, any bytes read past the last line, and the transcript.
    ///
    /// Bytes left over after a STARTTLS reply must never be fed into TLS: they came before
    /// the handshake and could be injected (CVE-2011-0411 and its many descendants).
    pub fn into_parts(self) -> (S, Vec<u8>, Vec<String>) {
        (self.stream, self.pending, self.transcript)
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &[String] {
        &self.transcript
    }

    fn record(&mut self, prefix: &str, text: &str) {
        if self.transcript.len() < MAX_TRANSCRIPT {
            let mut entry =
                String::with_capacity(prefix.len() + text.len().min(MAX_TRANSCRIPT_ENTRY));
            entry.push_str(prefix);
            entry.extend(text.chars().take(MAX_TRANSCRIPT_ENTRY));
            self.transcript.push(entry);
        }
    }
}

/// Truncates a server line for use in a message.
/// A server's line for a message: control characters shown as `\xNN` (a hostile server must
/// not be able to move the cursor of whoever reads the report), at most 120 characters.
pub fn excerpt(line: &str) -> String {
    const MAX: usize = 120;
    let mut out = String::new();
    for (count, c) in line.chars().enumerate() {
        if count == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// A scripted server for tests of hostile behaviour, where the client stops reading early (which a
/// strict mock would flag as unconsumed input).
#[cfg(test)]
pub(crate) mod testing {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    /// Returns the client end of a pipe whose server end sends `chunks`, each after its delay,
    /// and discards whatever the client writes.
    pub(crate) fn hostile_server(chunks: Vec<(Duration, Vec<u8>)>) -> DuplexStream {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (mut server_read, mut server_write) = tokio::io::split(server);
        tokio::spawn(async move {
            let mut sink = [0u8; 1024];
            while matches!(server_read.read(&mut sink).await, Ok(n) if n > 0) {}
        });
        tokio::spawn(async move {
            for (delay, bytes) in chunks {
                tokio::time::sleep(delay).await;
                if server_write.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            // Keep the connection open, as a stuck server would.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        client
    }
}

#[cfg(test)]
mod tests {
    use super::testing::hostile_server;
    use super::*;
    use tokio_test::io::Builder;

    fn conn(mock: tokio_test::io::Mock) -> LineConn<tokio_test::io::Mock> {
        LineConn::new(mock, Duration::from_secs(10), Vec::new())
    }

    #[tokio::test]
    async fn lines_split_across_reads_and_crlf_stripped() {
        let mock = Builder::new()
            .read(b"220 mail.exa")
            .read(b"mple ESMTP\r\n250 ok\n")
            .build();
        let mut c = conn(mock);
        let deadline = c.deadline();
        assert_eq!(
            c.read_line(deadline, "greeting").await.unwrap(),
            "220 mail.example ESMTP"
        );
        assert_eq!(c.read_line(deadline, "reply").await.unwrap(), "250 ok");
        assert_eq!(c.transcript(), ["S: 220 mail.example ESMTP", "S: 250 ok"]);
    }

    #[tokio::test]
    async fn endless_line_is_cut_off() {
        let junk = vec![b'A'; MAX_LINE + 2 * READ_CHUNK];
        let mut c = LineConn::new(
            hostile_server(vec![(Duration::ZERO, junk)]),
            Duration::from_secs(10),
            Vec::new(),
        );
        let deadline = c.deadline();
        assert!(matches!(
            c.read_line(deadline, "greeting").await,
            Err(DialogueError::LineTooLong)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_line_of_the_longest_length_is_taken_however_its_crlf_arrives() {
        // Found by tests/properties/dialogue.rs: the CR in one read, the LF in the next.
        let mut line = vec![b'A'; MAX_LINE];
        line.push(b'\r');
        let chunks = vec![
            (Duration::ZERO, line),
            (Duration::from_millis(5), b"\n".to_vec()),
        ];
        let mut c = LineConn::new(hostile_server(chunks), Duration::from_secs(10), Vec::new());
        let deadline = c.deadline();
        let read = c.read_line(deadline, "greeting").await.unwrap();
        assert_eq!(read.len(), MAX_LINE);
    }

    #[tokio::test]
    async fn closed_connection_is_reported() {
        let mock = Builder::new().read(b"220 partial").build();
        let mut c = conn(mock);
        let deadline = c.deadline();
        assert!(matches!(
            c.read_line(deadline, "greeting").await,
            Err(DialogueError::Closed("greeting"))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_drip_hits_the_reply_deadline() {
        // One byte a second: each read is quick to arrive, but the whole line is not.
        let drip = b"220 slow server that never gets to the end of its line\r\n"
            .iter()
            .map(|&byte| (Duration::from_secs(1), vec![byte]))
            .collect();
        let mut c = LineConn::new(hostile_server(drip), Duration::from_secs(10), Vec::new());
        let deadline = c.deadline();
        let started = Instant::now();
        let result = c.read_line(deadline, "greeting").await;
        assert!(
            matches!(result, Err(DialogueError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() <= Duration::from_secs(11));
    }

    #[tokio::test]
    async fn invalid_utf8_is_kept_readable() {
        let mock = Builder::new().read(b"* OK \xff\xfe garbage\r\n").build();
        let mut c = conn(mock);
        let deadline = c.deadline();
        let line = c.read_line(deadline, "greeting").await.unwrap();
        assert!(line.starts_with("* OK "));
    }

    #[tokio::test]
    async fn leftover_bytes_are_returned_not_lost() {
        let mock = Builder::new()
            .read(b"220 go ahead\r\n\x16\x03\x01injected")
            .build();
        let mut c = conn(mock);
        let deadline = c.deadline();
        c.read_line(deadline, "reply").await.unwrap();
        let (_, leftover, _) = c.into_parts();
        assert_eq!(leftover, b"\x16\x03\x01injected");
    }

    #[test]
    fn excerpt_cuts_long_lines() {
        assert_eq!(excerpt("short"), "short");
        assert_eq!(excerpt(&"x".repeat(500)).chars().count(), 121);
        assert_eq!(excerpt("220 \u{1b}[2Jhi\r"), "220 \\x1b[2Jhi\\x0d");
    }
}
