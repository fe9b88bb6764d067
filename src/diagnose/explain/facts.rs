//! The facts a pasted text carries: the name the client asked for, the names the certificate is
//! for, the server's address. Each comes from a producer's own wording ("uses an invalid
//! security certificate for mail.x; the certificate is only valid for luna.y"), never guessed
//! from a name merely standing in the text.

use std::sync::LazyLock;

use regex::Regex;

/// What the text says about the server and its certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The server name (or address) the client asked for.
    pub asked: Option<String>,
    /// The names the text says the certificate is for, in order, each once.
    pub certificate_names: Vec<String>,
    /// The server's IP address, when the text gives it.
    pub address: Option<String>,
}

/// A name: a host name (wildcards allowed, for certificate names) or an IP address.
const NAME: &str =
    r"(\*\.)?[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)*\.?";
const IPV4: &str = r"\d{1,3}(?:\.\d{1,3}){3}";

/// Wordings that say which name was asked for (group `asked`) and which the certificate has
/// (group `cert`, possibly a list).
static WORDINGS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let n = format!(r"(?:{NAME}|\[[0-9a-f:.]+\])");
    // A list of names: "a, b, c" or "a b" or "'a', 'b'".
    let list = format!(r#"['"]?{n}['"]?(?:(?:,\s*|\s+and\s+|\s+)['"]?{n}['"]?)*"#);
    [
        // NSS / Firefox / Thunderbird error pages.
        format!(r"(?P<asked>{n})(?::\d+)? uses an invalid security certificate"),
        format!(r"certificate that is not valid for (?P<asked>{n})"),
        format!(r"the certificate is not valid for the name (?P<asked>{n})"),
        format!(r"only valid for (?:the following names: )?(?P<cert>{list})"),
        // Thunderbird's exception dialog, older Firefox: "Location: mail.x:993".
        format!(r"location:\s*(?:[a-z]+://)?(?P<asked>{n}):\d+"),
        // Apple Mail.
        format!(r#"the identity of ["']?(?P<asked>{n})["']? cannot be verified"#),
        format!(r#"verify the identity of (?:the server )?["']?(?P<asked>{n})["']?"#),
        // Java, Apache HttpClient, Android.
        format!(
            r"certificate for <(?P<asked>{n})> doesn't match any of the subject alternative names: \[(?P<cert>{list})\]"
        ),
        format!(r"no subject alternative dns name matching (?P<asked>{n}) found"),
        format!(r"no subject alternative names matching ip address (?P<asked>{IPV4}) found"),
        format!(r"no name matching (?P<asked>{n}) found"),
        format!(r"hostname (?P<asked>{n}) not verified"),
        // Python.
        format!(r"certificate is not valid for '(?P<asked>{n})'"),
        format!(r"hostname '(?P<asked>{n})' doesn't match (?:either of )?(?P<cert>{list})"),
        // Go.
        format!(r"x509: certificate is valid for (?P<cert>{list}), not (?P<asked>{n})"),
        format!(r"x509: cannot validate certificate for (?P<asked>{n})"),
        // curl.
        format!(r"target host name '(?P<asked>{n})'"),
        format!(r"certificate subject name '(?P<cert>{n})' does not match"),
        // PHP.
        format!(r"peer certificate cn=.(?P<cert>{n}). did not match expected cn=.(?P<asked>{n})."),
        // Postfix: "... for mail.x[192.0.2.1]:25", "... to mail.x[192.0.2.1]:25".
        format!(
            r"(?:established to|verification failed for|mismatch for|handshake failed for|ssl_connect error to) (?P<asked>{n})\[(?P<ip>{IPV4}|[0-9a-f:]+)\]"
        ),
        format!(r"subject_cn=(?P<cert>{n})"),
        // Roundcube / PHP streams: "ssl://mail.x:993", "tls://mail.x:587".
        format!(r"(?:ssl|tls|imaps|imap|smtps|pop3s)://(?P<asked>{n}):\d+"),
        // OpenSSL s_client: "depth=0 CN = luna.y", "subject=CN = luna.y".
        format!(r"depth=0 (?:[^\n]*?, )?cn ?= ?(?P<cert>{n})"),
        format!(r"subject ?= ?/?(?:[^\n]*?[,/] ?)?cn ?= ?(?P<cert>{n})"),
        // GnuTLS, MailKit, Windows certificate details: "subject `CN=luna.y'".
        format!(r"subject[: ]+[`'\x22]?cn=(?P<cert>{n})"),
        // gnutls-cli, s_client: "Connecting to '192.0.2.1:993'", "CONNECTED(00000003)" lines.
        format!(r"connecting to '(?P<ip>{IPV4}):\d+'"),
        format!(r"connecting to (?P<asked>{n}) \((?P<ip>{IPV4})\)"),
    ]
    .into_iter()
    .map(|source| {
        Regex::new(&format!("(?i){source}"))
            .unwrap_or_else(|e| panic!("the wordings are a fixed table: {e}"))
    })
    .collect()
});

/// The facts in `text`.
pub fn of(text: &str) -> Facts {
    let mut facts = Facts::default();
    for wording in WORDINGS.iter() {
        for captures in wording.captures_iter(text).take(16) {
            if let Some(asked) = captures.name("asked").and_then(|m| clean(m.as_str()))
                && facts.asked.is_none()
            {
                facts.asked = Some(asked);
            }
            if let Some(list) = captures.name("cert") {
                for name in split_names(list.as_str()) {
                    if !facts.certificate_names.contains(&name) {
                        facts.certificate_names.push(name);
                    }
                }
            }
            if let Some(ip) = captures.name("ip").and_then(|m| clean(m.as_str()))
                && facts.address.is_none()
            {
                facts.address = Some(ip);
            }
        }
    }
    // An address asked for is the address too.
    if facts.address.is_none()
        && let Some(asked) = &facts.asked
        && asked.parse::<std::net::IpAddr>().is_ok()
    {
        facts.address = Some(asked.clone());
    }
    // The name asked for is not one the certificate is for (a wording can catch both).
    if let Some(asked) = &facts.asked {
        facts.certificate_names.retain(|name| name != asked);
    }
    facts
}

/// A name as found: lower case, brackets, quotes and a final dot gone; `None` for what is not a
/// name (a bare word without a dot).
fn clean(name: &str) -> Option<String> {
    let name = name
        .trim_matches(|c: char| matches!(c, '\'' | '"' | '[' | ']' | '<' | '>' | '`'))
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (name.contains('.') || name.contains(':')).then_some(name)
}

fn split_names(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| !word.eq_ignore_ascii_case("and") && !word.is_empty())
        .filter_map(clean)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> (Option<String>, Vec<String>, Option<String>) {
        let facts = of(text);
        (facts.asked, facts.certificate_names, facts.address)
    }

    #[test]
    fn error_page_names_both_sides() {
        assert_eq!(
            facts(
                "mail.customer.com:993 uses an invalid security certificate. The certificate is \
                 only valid for luna.hostingco.com. Error code: SSL_ERROR_BAD_CERT_DOMAIN"
            ),
            (
                Some("mail.customer.com".into()),
                vec!["luna.hostingco.com".into()],
                None
            )
        );
        assert_eq!(
            facts(
                "The certificate is only valid for the following names: luna.hostingco.com, \
                 *.hostingco.com"
            )
            .1,
            vec![
                "luna.hostingco.com".to_string(),
                "*.hostingco.com".to_string()
            ]
        );
    }

    #[test]
    fn libraries_and_logs() {
        assert_eq!(
            facts(
                "javax.net.ssl.SSLPeerUnverifiedException: Certificate for <mail.customer.com> \
                 doesn't match any of the subject alternative names: [luna.hostingco.com, www.hostingco.com]"
            ),
            (
                Some("mail.customer.com".into()),
                vec!["luna.hostingco.com".into(), "www.hostingco.com".into()],
                None
            )
        );
        assert_eq!(
            facts("x509: certificate is valid for luna.hostingco.com, not mail.customer.com").1,
            vec!["luna.hostingco.com".to_string()]
        );
        assert_eq!(
            facts(
                "postfix/smtp[123]: Untrusted TLS connection established to \
                 mx.customer.com[192.0.2.7]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"
            ),
            (
                Some("mx.customer.com".into()),
                vec![],
                Some("192.0.2.7".into())
            )
        );
        assert_eq!(
            facts(
                "stream_socket_enable_crypto(): Peer certificate CN=`luna.hostingco.com' did \
                 not match expected CN=`mail.customer.com'"
            ),
            (
                Some("mail.customer.com".into()),
                vec!["luna.hostingco.com".into()],
                None
            )
        );
        assert_eq!(
            facts(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, certificate is not valid for '192.0.2.7'. (_ssl.c:1006)"
            ),
            (Some("192.0.2.7".into()), vec![], Some("192.0.2.7".into()))
        );
    }
}
