//! POP3 before TLS (RFC 1939, RFC 2449, RFC 2595): greeting, CAPA, STLS, QUIT.

use tokio::io::{AsyncRead, AsyncWrite};

use super::Hello;
use crate::probe::lines::{DialogueError, LineConn, MAX_REPLY_LINES, excerpt};

/// Reads a single-line status reply: `+OK ...` or `-ERR ...`. Returns (ok, line).
async fn status<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    to: &'static str,
) -> Result<(bool, String), DialogueError> {
    let deadline = conn.deadline();
    let line = conn.read_line(deadline, to).await?;
    if line.starts_with("+OK") {
        Ok((true, line))
    } else if line.starts_with("-ERR") {
        Ok((false, line))
    } else {
        Err(DialogueError::Unexpected {
            to,
            reply: excerpt(&line),
        })
    }
}

/// Greeting (`+OK`), then CAPA (RFC 2449). A server without CAPA may still support STLS, so
/// `starttls_offered` is then a guess worth trying: see [`starttls`].
pub async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
) -> Result<Hello, DialogueError> {
    let (ok, greeting) = status(conn, "the POP3 greeting")
        .await
        .map_err(DialogueError::at_greeting)?;
    // A -ERR greeting turns the connection away (RFC 2449: [SYS/TEMP], [IN-USE]).
    if !ok {
        return Err(DialogueError::Busy {
            reply: excerpt(&greeting),
        });
    }
    conn.send("CAPA").await?;
    let (ok, _) = status(conn, "the reply to CAPA").await?;
    let mut capabilities = Vec::new();
    if ok {
        let deadline = conn.deadline();
        let mut ended = false;
        for _ in 0..MAX_REPLY_LINES {
            let line = conn.read_line(deadline, "the CAPA list").await?;
            if line == "." {
                ended = true;
                break;
            }
            // Dot-stuffing (RFC 1939 3): a leading ".." stands for ".".
            let line = line.strip_prefix('.').unwrap_or(&line);
            capabilities.push(line.to_string());
        }
        if !ended {
            return Err(DialogueError::TooManyLines);
        }
    }
    let starttls_offered = capabilities.iter().any(|c| {
        c.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("STLS"))
    });
    Ok(Hello {
        greeting,
        capabilities,
        starttls_offered,
        ehlo_name: None,
    })
}

/// STLS: expects `+OK`.
pub async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    hello: &Hello,
) -> Result<(), DialogueError> {
    if !hello.starttls_offered {
        return Err(DialogueError::NotOffered("STLS"));
    }
    conn.send("STLS").await?;
    let (ok, line) = status(conn, "the reply to STLS").await?;
    if ok {
        Ok(())
    } else {
        Err(DialogueError::Refused {
            command: "STLS",
            reply: excerpt(&line),
        })
    }
}

/// Sends QUIT; its `+OK` and the close are awaited in the background (see `budget::linger`).
pub async fn goodbye<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
) -> Result<(), DialogueError> {
    conn.send("QUIT").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::lines::testing::hostile_server;
    use std::time::Duration;
    use tokio_test::io::Builder;

    fn conn(mock: tokio_test::io::Mock) -> LineConn<tokio_test::io::Mock> {
        LineConn::new(mock, Duration::from_secs(5), Vec::new())
    }

    #[tokio::test]
    async fn dovecot_transcript() {
        // Recorded from Dovecot 2.3.19 (Debian 12).
        let mock = Builder::new()
            .read(b"+OK Dovecot (Debian) ready.\r\n")
            .write(b"CAPA\r\n")
            .read(b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL\r\n.\r\n")
            .write(b"STLS\r\n")
            .read(b"+OK Begin TLS negotiation now.\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c).await.unwrap();
        assert!(hello.starttls_offered);
        assert_eq!(hello.capabilities.len(), 9);
        starttls(&mut c, &hello).await.unwrap();
    }

    #[tokio::test]
    async fn capa_without_stls() {
        let mock = Builder::new()
            .read(b"+OK hi\r\n")
            .write(b"CAPA\r\n")
            .read(b"+OK\r\nUSER\r\n.\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c).await.unwrap();
        assert!(matches!(
            starttls(&mut c, &hello).await,
            Err(DialogueError::NotOffered("STLS"))
        ));
    }

    #[tokio::test]
    async fn unterminated_capa_list_is_capped() {
        let mut script = b"+OK hi\r\n+OK\r\n".to_vec();
        script.extend_from_slice(&b"X-JUNK\r\n".repeat(MAX_REPLY_LINES + 5));
        let stream = hostile_server(vec![(Duration::ZERO, script)]);
        let mut c = LineConn::new(stream, Duration::from_secs(5), Vec::new());
        assert!(matches!(
            hello(&mut c).await,
            Err(DialogueError::TooManyLines)
        ));
    }

    #[tokio::test]
    async fn err_greeting() {
        let mock = Builder::new()
            .read(b"-ERR [SYS/TEMP] overloaded\r\n")
            .build();
        let mut c = conn(mock);
        assert!(matches!(
            hello(&mut c).await,
            Err(DialogueError::Busy { .. })
        ));
    }

    #[tokio::test]
    async fn garbage_reply() {
        let mock = Builder::new().read(b"SSH-2.0-OpenSSH_9.2\r\n").build();
        let mut c = conn(mock);
        let error = hello(&mut c).await.unwrap_err();
        assert!(error.to_string().contains("SSH-2.0"), "{error}");
    }
}
