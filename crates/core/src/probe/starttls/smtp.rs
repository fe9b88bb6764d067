//! SMTP before TLS (RFC 5321, RFC 3207): greeting, EHLO, STARTTLS, QUIT.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::Hello;
use crate::probe::lines::{DialogueError, LineConn, MAX_REPLY_LINES, excerpt};

/// One SMTP reply: its code and the text of each line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// Text after the code, one entry per line.
    pub lines: Vec<String>,
}

/// Reads a (possibly multi-line) reply: `250-first`, `250-second`, `250 last`.
pub async fn read_reply<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    deadline: Instant,
    to: &'static str,
) -> Result<Reply, DialogueError> {
    let mut lines = Vec::new();
    let mut code = None;
    for _ in 0..MAX_REPLY_LINES {
        let line = conn.read_line(deadline, to).await?;
        let (this_code, last, text) =
            parse_line(&line).ok_or_else(|| DialogueError::Unexpected {
                to,
                reply: excerpt(&line),
            })?;
        if *code.get_or_insert(this_code) != this_code {
            return Err(DialogueError::Unexpected {
                to,
                reply: excerpt(&line),
            });
        }
        lines.push(text.to_string());
        if last {
            return Ok(Reply {
                code: this_code,
                lines,
            });
        }
    }
    Err(DialogueError::TooManyLines)
}

/// Splits `250-TEXT` / `250 TEXT` / `250` into code, is-last, text.
fn parse_line(line: &str) -> Option<(u16, bool, &str)> {
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = digits.parse().ok()?;
    match line.as_bytes().get(3) {
        None => Some((code, true, "")),
        Some(b' ') => Some((code, true, &line[4..])),
        Some(b'-') => Some((code, false, &line[4..])),
        Some(_) => None,
    }
}

/// Greeting, then EHLO (falling back to nothing: a server without EHLO cannot do STARTTLS).
pub async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    ehlo_name: &str,
) -> Result<Hello, DialogueError> {
    let deadline = conn.deadline();
    let greeting = read_reply(conn, deadline, "the SMTP greeting")
        .await
        .map_err(DialogueError::at_greeting)?;
    let greeting_text = format!("{} {}", greeting.code, greeting.lines.join(" / "));
    // 421 (RFC 5321 4.2.3: service not available, closing): busy or too many connections.
    if (400..500).contains(&greeting.code) {
        return Err(DialogueError::Busy {
            reply: excerpt(&greeting_text),
        });
    }
    if greeting.code != 220 {
        return Err(DialogueError::Unexpected {
            to: "the SMTP greeting (expected 220)",
            reply: excerpt(&greeting_text),
        });
    }
    conn.send(&format!("EHLO {ehlo_name}")).await?;
    let deadline = conn.deadline();
    let ehlo = read_reply(conn, deadline, "the reply to EHLO").await?;
    if ehlo.code != 250 {
        return Ok(Hello {
            greeting: greeting_text,
            ..Hello::default()
        });
    }
    // The first line of a 250 EHLO reply is the server's name, the rest are keywords.
    let capabilities: Vec<String> = ehlo.lines.iter().skip(1).cloned().collect();
    let starttls_offered = capabilities.iter().any(|keyword| {
        keyword
            .split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
    });
    let ehlo_name = ehlo
        .lines
        .first()
        .and_then(|line| line.split_whitespace().next())
        .map(|name| excerpt(name).to_ascii_lowercase());
    Ok(Hello {
        greeting: greeting_text,
        capabilities,
        starttls_offered,
        ehlo_name,
    })
}

/// STARTTLS: expects 220.
pub async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    hello: &Hello,
) -> Result<(), DialogueError> {
    if !hello.starttls_offered {
        return Err(DialogueError::NotOffered("STARTTLS"));
    }
    conn.send("STARTTLS").await?;
    let deadline = conn.deadline();
    let reply = read_reply(conn, deadline, "the reply to STARTTLS").await?;
    if reply.code == 220 {
        Ok(())
    } else {
        Err(DialogueError::Refused {
            command: "STARTTLS",
            reply: excerpt(&format!("{} {}", reply.code, reply.lines.join(" / "))),
        })
    }
}

/// Sends QUIT; its 221 and the close are awaited in the background (see `budget::linger`).
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
    async fn postfix_transcript_offers_starttls() {
        // Recorded from Postfix 3.7 (Debian 12).
        let mock = Builder::new()
            .read(b"220 luna.hostingco.test ESMTP Postfix (Debian/GNU)\r\n")
            .write(b"EHLO [127.0.0.1]\r\n")
            .read(b"250-luna.hostingco.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n")
            .write(b"STARTTLS\r\n")
            .read(b"220 2.0.0 Ready to start TLS\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c, "[127.0.0.1]").await.unwrap();
        assert!(hello.starttls_offered);
        assert_eq!(
            hello.greeting,
            "220 luna.hostingco.test ESMTP Postfix (Debian/GNU)"
        );
        assert_eq!(hello.capabilities.len(), 10);
        assert_eq!(hello.ehlo_name.as_deref(), Some("luna.hostingco.test"));
        starttls(&mut c, &hello).await.unwrap();
    }

    #[tokio::test]
    async fn no_starttls_keyword_means_not_offered() {
        let mock = Builder::new()
            .read(b"220-first line\r\n220 mx ESMTP\r\n")
            .write(b"EHLO x\r\n")
            .read(b"250-mx\r\n250-SIZE 100\r\n250 8BITMIME\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c, "x").await.unwrap();
        assert!(!hello.starttls_offered);
        assert_eq!(hello.ehlo_name.as_deref(), Some("mx"));
        assert!(matches!(
            starttls(&mut c, &hello).await,
            Err(DialogueError::NotOffered(_))
        ));
    }

    #[tokio::test]
    async fn refused_starttls_keeps_the_reply() {
        let mock = Builder::new()
            .read(b"220 mx\r\n")
            .write(b"EHLO x\r\n")
            .read(b"250-mx\r\n250 STARTTLS\r\n")
            .write(b"STARTTLS\r\n")
            .read(b"454 4.7.0 TLS not available due to local problem\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c, "x").await.unwrap();
        let error = starttls(&mut c, &hello).await.unwrap_err();
        assert!(
            error.to_string().contains("454 4.7.0 TLS not available"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn garbage_greeting_is_a_protocol_error() {
        let mock = Builder::new().read(b"\x00\x01binary junk\r\n").build();
        let mut c = conn(mock);
        assert!(matches!(
            hello(&mut c, "x").await,
            Err(DialogueError::Unexpected { .. })
        ));
    }

    #[tokio::test]
    async fn service_unavailable_greeting_is_reported() {
        let mock = Builder::new().read(b"554 5.3.2 go away\r\n").build();
        let mut c = conn(mock);
        let error = hello(&mut c, "x").await.unwrap_err();
        assert!(error.to_string().contains("554"), "{error}");
    }

    #[tokio::test]
    async fn too_many_connections_is_busy_not_a_protocol_error() {
        let mock = Builder::new()
            .read(b"421 4.7.0 mx.example Error: too many connections from 192.0.2.1\r\n")
            .build();
        let mut c = conn(mock);
        let error = hello(&mut c, "x").await.unwrap_err();
        assert!(matches!(error, DialogueError::Busy { .. }), "{error}");
        assert!(
            error.to_string().contains("too many connections"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_greeting_that_never_completes_is_silence() {
        // postscreen-style: the first line of a multi-line greeting, then nothing.
        let stream = hostile_server(vec![(Duration::ZERO, b"220-mx.example\r\n".to_vec())]);
        let mut c = LineConn::new(stream, Duration::from_secs(5), Vec::new());
        assert!(matches!(
            hello(&mut c, "x").await,
            Err(DialogueError::Silent { seconds: 5 })
        ));
    }

    #[tokio::test]
    async fn endless_multiline_reply_is_capped() {
        let mut script = b"220 mx\r\n".to_vec();
        let more = b"250-MORE\r\n".repeat(MAX_REPLY_LINES + 5);
        script.extend_from_slice(&more);
        let stream = hostile_server(vec![(Duration::ZERO, script)]);
        let mut c = LineConn::new(stream, Duration::from_secs(5), Vec::new());
        assert!(matches!(
            hello(&mut c, "x").await,
            Err(DialogueError::TooManyLines)
        ));
    }

    #[tokio::test]
    async fn mixed_codes_in_one_reply_are_rejected() {
        let mock = Builder::new().read(b"220-a\r\n250 b\r\n").build();
        let mut c = conn(mock);
        assert!(matches!(
            hello(&mut c, "x").await,
            Err(DialogueError::Unexpected { .. })
        ));
    }

    #[test]
    fn reply_lines_parse() {
        assert_eq!(
            parse_line("250-PIPELINING"),
            Some((250, false, "PIPELINING"))
        );
        assert_eq!(parse_line("250 OK"), Some((250, true, "OK")));
        assert_eq!(parse_line("221"), Some((221, true, "")));
        assert_eq!(parse_line("25"), None);
        assert_eq!(parse_line("abc def"), None);
        assert_eq!(parse_line("250xOK"), None);
    }
}
