//! The facts a pasted text carries: the name the client asked for, the names the certificate is
//! for, the server's address. Each comes from a producer's own wording ("uses an invalid
//! security certificate for mail.x; the certificate is only valid for luna.y"), never guessed
//! from a name merely standing in the text.

use std::sync::{LazyLock, OnceLock};

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

/// A name with a dot (a host name, wildcards allowed) or an address.
const DOTTED: &str = r"(?:\*\.)?[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)+\.?|\[[0-9a-f:.]+\]|[0-9a-f]*:[0-9a-f:]+";
/// Any name, a single label too (`localhost`, `mail04`, `*`): only where the wording says
/// exactly where a name stands.
const LABEL: &str =
    r"(?:\*\.)?[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)*\.?|\*";
const IP: &str = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}";
/// Quotes around a name, of every kind.
const Q: &str = r#"["'`‘’“”]?"#;

/// Wordings that say which name was asked for (group `asked`), which the certificate has (group
/// `cert`, possibly a comma-separated list) and the server's address (group `ip`). `{n}` is a
/// dotted name, `{l}` any name, `{list}` a list of any names, `{cert}` a certificate's name
/// (`{dcert}` a dotted one), `{q}` a quote, `{ip}` an address.
const WORDINGS: &[&str] = &[
    // NSS / Firefox / Thunderbird.
    r"{n}(?::\d+)? uses an invalid security certificate",
    r"certificate that is not valid for {n}",
    r"the certificate is not valid for the name {n}",
    r"only valid for (?:the following names: )?{list}",
    r"does not trust {n} because",
    r"certificate for {q}{n}{q}(?::\d+)?",
    r"during a connection to {n}",
    r"location:\s*(?:[a-z]+://)?{n}:\d+",
    // Apple.
    r"the identity of {q}{n}{q} cannot be verified",
    r"verify the identity of (?:the server )?{q}{n}{q}",
    r"always trust {q}{cert}{q} when connecting to {q}{n}{q}",
    r"{q}{dcert}{q} certificate (?:is|name|has)",
    // Java, Apache HttpClient, Android, JavaMail.
    r"certificate for <{n}>",
    r"subject alternative names: \[{list}\]",
    r"subjectaltnames: \[{list}\]",
    r"dn: cn={cert}",
    r"common name of the certificate subject: {cert}",
    r"no subject alternative dns name matching {l} found",
    r"no subject alternative names matching ip address {n} found",
    r"no name matching {l} found",
    r"hostname {n} not verified",
    r"identity of server: {n}",
    r"does not match {n}",
    r"continue to connect to {n}",
    r"imaps?://(?:[^@\s/]+@)?{n}",
    // Python.
    r"certificate is not valid for '{l}'",
    r"hostname '{l}' doesn't match (?:either of )?{list}",
    r"(?:imap|smtp|pop3?) server '\[?{n}\]?:\d+'",
    // Go.
    r"x509: certificate is valid for {list}, not {l}",
    r"x509: cannot validate certificate for {n}",
    // curl.
    r"target host ?name '{l}'",
    r"certificate subject name '{cert}' does not match",
    // PHP, c-client, isync, imapfilter, OpenSSL's -connect.
    r"peer certificate cn={q}{cert}{q} did not match expected cn={q}{n}{q}",
    r"certificate failure for {n}",
    r"error connecting {n}",
    r"does not match hostname {n}",
    r"ssl connection to {n}",
    r"opening to {n}:\d+",
    r"-connect {n}:\d+",
    r"(?:ssl|tls|imaps|imap|smtps|pop3s)://{n}:\d+",
    // Postfix: "... to mail.x[192.0.2.1]:25", "relay=mail.x[192.0.2.1]:25".
    r"established to {n}\[{ip}\]",
    r"verification failed for {n}\[{ip}\]",
    r"mismatch for {n}\[{ip}\]",
    r"handshake failed for {n}\[{ip}\]",
    r"ssl_connect error to {n}\[{ip}\]",
    r"relay={n}\[{ip}\]",
    r"subject_cn={cert}",
    // Dovecot: the server's own address (lip), its imapc client's server.
    r"lip={ip}",
    r"imapc\({n}:\d+\)",
    r"expected host name {n}",
    // OpenSSL s_client, c-client, Dovecot: the leaf's subject.
    r"(?m)depth=0 (?:[^\n]*?, )?cn ?= ?{cert}\s*$",
    r"subject ?= ?/?(?:[^\n]*?[,/] ?)?cn ?= ?{cert}",
    r"certificate: /(?:[^\n]*?/)?cn={cert}",
    // GnuTLS, MailKit: "subject `CN=luna.y'".
    r"subject[: ]+{q}cn={cert}",
    // gnutls-cli, s_client: "Connecting to '192.0.2.1:993'", "Connecting to 192.0.2.1".
    r"connecting to '?{ip}(?::\d+)?'?(?:\s|$)",
];

/// A wording, compiled when a text first holds its anchor (most texts hold few of them, and
/// compiling all would cost more than matching).
struct Wording {
    /// The literal words before its first group or operator, in lower case.
    anchor: String,
    source: String,
    regex: OnceLock<Regex>,
}

static COMPILED: LazyLock<Vec<Wording>> = LazyLock::new(|| {
    let list = format!(r"{Q}(?:{LABEL}){Q}(?:,\s*{Q}(?:{LABEL}){Q})*");
    WORDINGS
        .iter()
        .map(|wording| {
            let source = wording
                .replace("{list}", &format!("(?P<cert>{list})"))
                .replace("{cert}", &format!("(?P<cert>{LABEL})"))
                .replace("{dcert}", &format!("(?P<cert>{DOTTED})"))
                .replace("{n}", &format!("(?P<asked>{DOTTED})"))
                .replace("{l}", &format!("(?P<asked>{LABEL})"))
                .replace("{ip}", &format!("(?P<ip>{IP})"))
                .replace("{q}", Q);
            Wording {
                anchor: anchor(wording),
                // Matched against the text in lower case: no case folding to compile.
                source: source.replace(r"\d", "[0-9]").replace(r"\s", "[ \t\r\n]"),
                regex: OnceLock::new(),
            }
        })
        .collect()
});

/// The longest run of literal words in a wording (outside placeholders, groups, classes and
/// escapes, without a character a quantifier makes optional), in lower case: a text without it
/// cannot match.
fn anchor(wording: &str) -> String {
    let mut best = String::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut chars = wording.chars().peekable();
    let end_run = |run: &mut String, best: &mut String| {
        let trimmed = run.trim();
        if trimmed.len() > best.len() {
            *best = trimmed.to_string();
        }
        run.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '{' | '(' | '[' => {
                depth += 1;
                end_run(&mut run, &mut best);
            }
            '}' | ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '\\' => {
                chars.next();
                end_run(&mut run, &mut best);
            }
            '?' | '*' | '+' => {
                run.pop();
                end_run(&mut run, &mut best);
            }
            '.' | '^' | '$' | '|' => end_run(&mut run, &mut best),
            c => run.push(c),
        }
    }
    end_run(&mut run, &mut best);
    best.to_lowercase()
}

/// The facts in `text`.
pub fn of(text: &str) -> Facts {
    let lower = text.to_lowercase();
    let mut facts = Facts::default();
    for wording in COMPILED.iter() {
        if !wording.anchor.is_empty() && !lower.contains(wording.anchor.as_str()) {
            continue;
        }
        let regex = wording.regex.get_or_init(|| {
            Regex::new(&wording.source).unwrap_or_else(|e| {
                panic!("the wordings are a fixed table: {}: {e}", wording.source)
            })
        });
        for captures in regex.captures_iter(&lower).take(16) {
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
    facts
}

/// Whether a certificate's name covers the name asked for: the same name, or a wildcard for one
/// label of it (`*.example.com` covers `mail.example.com`, not `example.com`).
pub fn covers(certificate_name: &str, asked: &str) -> bool {
    let name = certificate_name.trim_end_matches('.');
    let asked = asked.trim_end_matches('.');
    if name.eq_ignore_ascii_case(asked) {
        return true;
    }
    match (name.strip_prefix("*."), asked.split_once('.')) {
        (Some(parent), Some((label, rest))) => {
            !label.is_empty() && parent.eq_ignore_ascii_case(rest)
        }
        _ => false,
    }
}

/// A name as found: lower case, brackets, quotes and a final dot gone.
fn clean(name: &str) -> Option<String> {
    let name = name
        .trim_matches(|c: char| "'\"[]<>`‘’“”".contains(c))
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

fn split_names(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| !word.is_empty())
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
    fn anchors_are_literal_words_the_text_must_hold() {
        assert_eq!(
            anchor(r"{n}(?::\d+)? uses an invalid security certificate"),
            "uses an invalid security certificate"
        );
        assert_eq!(anchor(r"imaps?://(?:[^@\s/]+@)?{n}"), "imap");
        assert_eq!(anchor(r"hostname {n} not verified"), "not verified");
        for wording in WORDINGS {
            assert!(!anchor(wording).is_empty(), "{wording} has no anchor");
        }
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
