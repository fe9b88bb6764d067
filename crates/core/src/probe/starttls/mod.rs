//! The plain-text part of each mail protocol: greeting, capabilities, the STARTTLS command, and
//! a polite goodbye. One file per protocol, each exposing the same three functions over any
//! `AsyncRead + AsyncWrite` stream, so they are tested on recorded transcripts.

use tokio::io::{AsyncRead, AsyncWrite};

use super::lines::{DialogueError, LineConn};
use crate::service::Protocol;

pub mod imap;
pub mod pop3;
pub mod smtp;

/// What a server said before TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hello {
    /// The greeting line (the last line of a multi-line SMTP greeting).
    pub greeting: String,
    /// Capabilities as announced: EHLO keywords, IMAP capabilities, POP3 CAPA lines.
    pub capabilities: Vec<String>,
    /// Whether the capabilities include STARTTLS (SMTP, IMAP) or STLS (POP3).
    pub starttls_offered: bool,
    /// The name an SMTP server gives for itself on the first line of its EHLO reply.
    pub ehlo_name: Option<String>,
}

/// Reads the greeting and asks for capabilities.
pub async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
    protocol: Protocol,
    conn: &mut LineConn<S>,
    ehlo_name: &str,
) -> Result<Hello, DialogueError> {
    match protocol {
        Protocol::Smtp => smtp::hello(conn, ehlo_name).await,
        Protocol::Imap => imap::hello(conn).await,
        Protocol::Pop3 => pop3::hello(conn).await,
    }
}

/// Sends STARTTLS/STLS and waits for the go-ahead. Fails with `NotOffered` without sending
/// anything when the capabilities lack it.
pub async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
    protocol: Protocol,
    conn: &mut LineConn<S>,
    hello: &Hello,
) -> Result<(), DialogueError> {
    match protocol {
        Protocol::Smtp => smtp::starttls(conn, hello).await,
        Protocol::Imap => imap::starttls(conn, hello).await,
        Protocol::Pop3 => pop3::starttls(conn, hello).await,
    }
}

/// Says goodbye (QUIT / LOGOUT) without waiting for the answer; errors are of no interest by then.
pub async fn goodbye<S: AsyncRead + AsyncWrite + Unpin>(
    protocol: Protocol,
    conn: &mut LineConn<S>,
) {
    let _ = match protocol {
        Protocol::Smtp => smtp::goodbye(conn).await,
        Protocol::Imap => imap::goodbye(conn).await,
        Protocol::Pop3 => pop3::goodbye(conn).await,
    };
}

/// Whether a server's first bytes look like a TLS record: a plain-text port answered by a TLS
/// server usually stays silent, but a misconfigured one may send an alert.
pub fn looks_like_tls(line: &str) -> bool {
    line.as_bytes()
        .first()
        .is_some_and(|&b| b == 0x15 || b == 0x16)
}
