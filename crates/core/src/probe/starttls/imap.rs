//! IMAP before TLS (RFC 9051, RFC 3501): greeting, CAPABILITY, STARTTLS, LOGOUT.

use tokio::io::{AsyncRead, AsyncWrite};

use super::Hello;
use crate::probe::lines::{DialogueError, LineConn, MAX_REPLY_LINES, excerpt};

/// A tagged completion: `OK`, `NO` or `BAD`, with the untagged lines that came before it.
#[derive(Debug)]
struct Completion {
    status: String,
    text: String,
    untagged: Vec<String>,
}

/// Sends `TAG COMMAND` and reads until the tagged completion.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    tag: &str,
    command: &str,
    to: &'static str,
) -> Result<Completion, DialogueError> {
    conn.send(&format!("{tag} {command}")).await?;
    let deadline = conn.deadline();
    let mut untagged = Vec::new();
    for _ in 0..MAX_REPLY_LINES {
        let line = conn.read_line(deadline, to).await?;
        if let Some(rest) = line.strip_prefix("* ") {
            untagged.push(rest.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
            let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
            return Ok(Completion {
                status: status.to_ascii_uppercase(),
                text: text.to_string(),
                untagged,
            });
        }
        return Err(DialogueError::Unexpected {
            to,
            reply: excerpt(&line),
        });
    }
    Err(DialogueError::TooManyLines)
}

/// Capabilities from `CAPABILITY a b c` (an untagged reply or a response code).
fn parse_capabilities(text: &str) -> Option<Vec<String>> {
    let rest = text.strip_prefix("CAPABILITY ").or_else(|| {
        text.get(..11)
            .filter(|head| head.eq_ignore_ascii_case("CAPABILITY "))
            .map(|_| &text[11..])
    })?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// Greeting (`* OK`), then CAPABILITY.
pub async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
) -> Result<Hello, DialogueError> {
    let deadline = conn.deadline();
    let greeting = conn
        .read_line(deadline, "the IMAP greeting")
        .await
        .map_err(DialogueError::at_greeting)?;
    let upper = greeting.to_ascii_uppercase();
    // RFC 9051 7.1.5: a BYE greeting rejects the connection (too many, shutting down).
    if upper.starts_with("* BYE") {
        return Err(DialogueError::Busy {
            reply: excerpt(&greeting),
        });
    }
    if !(upper.starts_with("* OK") || upper.starts_with("* PREAUTH")) {
        return Err(DialogueError::Unexpected {
            to: "the IMAP greeting (expected * OK)",
            reply: excerpt(&greeting),
        });
    }
    let completion = command(conn, "a1", "CAPABILITY", "the reply to CAPABILITY").await?;
    let mut capabilities = Vec::new();
    if completion.status == "OK" {
        if let Some(caps) = completion
            .untagged
            .iter()
            .find_map(|line| parse_capabilities(line))
        {
            capabilities = caps;
        }
    }
    if capabilities.is_empty() {
        // Fall back to the [CAPABILITY ...] response code in the greeting.
        if let Some(code) = greeting
            .split_once('[')
            .and_then(|(_, r)| r.split_once(']'))
        {
            capabilities = parse_capabilities(code.0).unwrap_or_default();
        }
    }
    let starttls_offered = capabilities
        .iter()
        .any(|c| c.eq_ignore_ascii_case("STARTTLS"));
    Ok(Hello {
        greeting,
        capabilities,
        starttls_offered,
        ehlo_name: None,
    })
}

/// STARTTLS: expects a tagged OK.
pub async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    hello: &Hello,
) -> Result<(), DialogueError> {
    if !hello.starttls_offered {
        return Err(DialogueError::NotOffered("STARTTLS"));
    }
    let completion = command(conn, "a2", "STARTTLS", "the reply to STARTTLS").await?;
    if completion.status == "OK" {
        Ok(())
    } else {
        Err(DialogueError::Refused {
            command: "STARTTLS",
            reply: excerpt(&format!("{} {}", completion.status, completion.text)),
        })
    }
}

/// Sends LOGOUT. The `* BYE`, the tagged OK and the close are awaited in the background by
/// [`crate::probe::budget::linger`], so leaving costs the report no round trip.
pub async fn goodbye<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
) -> Result<(), DialogueError> {
    conn.send("a3 LOGOUT").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio_test::io::Builder;

    fn conn(mock: tokio_test::io::Mock) -> LineConn<tokio_test::io::Mock> {
        LineConn::new(mock, Duration::from_secs(5), Vec::new())
    }

    #[tokio::test]
    async fn dovecot_transcript() {
        // Recorded from Dovecot 2.3.19 (Debian 12).
        let mock = Builder::new()
            .read(b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n")
            .write(b"a1 CAPABILITY\r\n")
            .read(b"* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED\r\na1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n")
            .write(b"a2 STARTTLS\r\n")
            .read(b"a2 OK Begin TLS negotiation now.\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c).await.unwrap();
        assert!(hello.starttls_offered);
        assert!(hello.capabilities.contains(&"LOGINDISABLED".to_string()));
        starttls(&mut c, &hello).await.unwrap();
    }

    #[tokio::test]
    async fn greeting_capabilities_used_when_command_fails() {
        let mock = Builder::new()
            .read(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
            .write(b"a1 CAPABILITY\r\n")
            .read(b"a1 BAD not now\r\n")
            .build();
        let mut c = conn(mock);
        assert!(hello(&mut c).await.unwrap().starttls_offered);
    }

    #[tokio::test]
    async fn no_starttls_capability() {
        let mock = Builder::new()
            .read(b"* OK ready\r\n")
            .write(b"a1 CAPABILITY\r\n")
            .read(b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\na1 OK done\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c).await.unwrap();
        assert!(matches!(
            starttls(&mut c, &hello).await,
            Err(DialogueError::NotOffered(_))
        ));
    }

    #[tokio::test]
    async fn bye_greeting_is_rejected() {
        let mock = Builder::new()
            .read(b"* BYE too many connections\r\n")
            .build();
        let mut c = conn(mock);
        let error = hello(&mut c).await.unwrap_err();
        assert!(
            error.to_string().contains("too many connections"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn refused_starttls() {
        let mock = Builder::new()
            .read(b"* OK ready\r\n")
            .write(b"a1 CAPABILITY\r\n")
            .read(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n")
            .write(b"a2 STARTTLS\r\n")
            .read(b"a2 NO [UNAVAILABLE] TLS is broken\r\n")
            .build();
        let mut c = conn(mock);
        let hello = hello(&mut c).await.unwrap();
        assert!(matches!(
            starttls(&mut c, &hello).await,
            Err(DialogueError::Refused { .. })
        ));
    }

    #[tokio::test]
    async fn garbage_instead_of_tagged_reply() {
        let mock = Builder::new()
            .read(b"* OK ready\r\n")
            .write(b"a1 CAPABILITY\r\n")
            .read(b"HTTP/1.1 400 Bad Request\r\n")
            .build();
        let mut c = conn(mock);
        assert!(matches!(
            hello(&mut c).await,
            Err(DialogueError::Unexpected { .. })
        ));
    }

    #[test]
    fn capability_parsing() {
        assert_eq!(
            parse_capabilities("CAPABILITY IMAP4rev1 STARTTLS"),
            Some(vec!["IMAP4rev1".to_string(), "STARTTLS".to_string()])
        );
        assert_eq!(
            parse_capabilities("capability X"),
            Some(vec!["X".to_string()])
        );
        assert_eq!(parse_capabilities("OK fine"), None);
    }
}
