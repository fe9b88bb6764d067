//! From the words a user saw to the mechanisms behind them (`mailtls explain`). What people
//! paste is recognised in two ways: [`messages`], the error codes and sentences of TLS libraries,
//! apps and server logs, and [`dialogs`], every client's certificate dialogs (tolerant of case,
//! quotes, line breaks and partial text). [`facts`] takes the names the text carries (the name
//! asked for, the certificate's own names), and [`input`] turns pasted bytes (UTF-16, Latin-1,
//! HTML, RTF) into words. Each finding names the mechanisms that produce it, most likely first,
//! with the `mailtls` command that finds out which one it is. Pure.

pub mod dialogs;
pub mod facts;
pub mod input;
pub mod messages;

pub use dialogs::{Closeness, Match};
pub use facts::Facts;
pub use messages::{Finding, Message, Producer};

use crate::clients::dialogs::Fault;

/// Longest text read: room for a whole day's log of a small server, and a bound on the work.
pub const MAX_TEXT: usize = 1024 * 1024;
/// Most messages reported from one text (a log repeats the same few lines).
const MAX_MESSAGES: usize = 12;

crate::vocabulary::vocabulary! {
    /// What makes a client show a certificate dialog.
    pub enum Mechanism {
        /// Outlook's Autodiscover asked the domain's website, which answered with another
        /// name's certificate (typically the web host's).
        AutodiscoverWebsite => "autodiscover-website",
        /// Outlook's Autodiscover was sent to another server for the settings (an HTTP redirect
        /// or the SRV record), and asks before it uses them.
        AutodiscoverRedirect => "autodiscover-redirect",
        /// The server's certificate names the hosting machine, not the name the client uses.
        HostingName => "hosting-name",
        /// The provisioning (autoconfig, SRV, autodiscover, a profile) hands out a name the
        /// certificate does not cover.
        ProvisioningName => "provisioning-name",
        /// The client is configured with the server's IP address.
        ConnectedByIp => "connected-by-ip",
        /// A certificate has expired (or is not valid yet).
        Expired => "expired",
        /// The certificate is self-signed or from a private CA.
        UntrustedCa => "untrusted-ca",
        /// The server does not send its intermediate certificate.
        MissingIntermediate => "missing-intermediate",
        /// The certificate was revoked by its CA.
        Revoked => "revoked",
        /// The certificate has a key or signature the client refuses (RSA under 2048 bits,
        /// SHA-1).
        WeakCertificate => "weak-certificate",
        /// The server offers only TLS versions or cipher suites the client refuses.
        OldTls => "old-tls",
    }
}

/// What to run to find out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A server name (or address) found in the text.
    Host(&'a str),
    /// An e-mail address found in the text.
    Address(&'a str),
    /// Nothing found: a placeholder the user fills in.
    Unknown,
}

impl Mechanism {
    /// The mechanism, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Mechanism::AutodiscoverWebsite => {
                "Outlook's Autodiscover first asks https://YOUR-DOMAIN/autodiscover/autodiscover.xml, \
                 and your website (often on a shared web host) answers with a certificate for \
                 another name. The mail server itself may be fine; Outlook shows this at every start."
            }
            Mechanism::AutodiscoverRedirect => {
                "Outlook's Autodiscover was sent to another server for the settings (by an HTTP \
                 redirect from autodiscover.YOUR-DOMAIN or by the _autodiscover._tcp SRV record), \
                 usually your hosting provider's. Outlook asks before it uses them: allow it only \
                 when that server is your provider's."
            }
            Mechanism::HostingName => {
                "The mail server's certificate is for the hosting machine's name (e.g. \
                 luna.hostingco.com), not for the name the account uses (e.g. mail.your-domain): \
                 a name on the certificate usually works instead."
            }
            Mechanism::ProvisioningName => {
                "The automatic set-up (autoconfig, SRV records, autodiscover or a profile) hands out \
                 a server name the certificate does not cover."
            }
            Mechanism::ConnectedByIp => {
                "The account uses the server's IP address; certificates name servers, not addresses."
            }
            Mechanism::Expired => {
                "The server's certificate (or an intermediate) has expired, or the device's clock is \
                 wrong."
            }
            Mechanism::UntrustedCa => {
                "The certificate is self-signed or from a private CA the device does not trust."
            }
            Mechanism::MissingIntermediate => {
                "The server does not send its intermediate certificate: Outlook and Apple Mail may \
                 fetch it, Thunderbird and Android apps do not."
            }
            Mechanism::Revoked => {
                "The CA revoked the server's certificate: install a new one (a revoked certificate \
                 never works again)."
            }
            Mechanism::WeakCertificate => {
                "The certificate has a key under 2048 bits or a SHA-1 signature, which current \
                 clients refuse: replace it with an RSA-2048 or ECDSA certificate."
            }
            Mechanism::OldTls => {
                "The server offers only TLS versions or cipher suites the client refuses (e.g. TLS \
                 1.0 only): enable TLS 1.2 and 1.3 in the server's settings."
            }
        }
    }

    /// The command that finds out, for what the text names.
    pub fn command(self, target: Target<'_>) -> String {
        let wants_address = matches!(
            self,
            Mechanism::AutodiscoverWebsite
                | Mechanism::AutodiscoverRedirect
                | Mechanism::ProvisioningName
        );
        match (target, wants_address) {
            (Target::Address(address), _) => format!("mailtls check {address}"),
            (Target::Host(host), true) => {
                let domain = host
                    .strip_prefix("autodiscover.")
                    .or_else(|| host.strip_prefix("autoconfig."))
                    .or_else(|| host.strip_prefix("mail."))
                    .unwrap_or(host);
                format!("mailtls check you@{domain}")
            }
            (Target::Host(host), false) => format!("mailtls check {host}"),
            (Target::Unknown, true) => "mailtls check you@YOUR-DOMAIN".to_string(),
            (Target::Unknown, false) => "mailtls check YOUR-MAIL-SERVER".to_string(),
        }
    }
}

/// One error message the text carries (a code, a library's sentence, a log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMatch {
    /// The message.
    pub message: &'static Message,
    /// Its form found in the text (folded: lower case).
    pub matched: &'static str,
    /// What it says here.
    pub finding: Finding,
}

/// What the text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The error messages it carries, in the order they stand; a vague one ("certificate verify
    /// failed") only when nothing more specific stands beside it.
    pub messages: Vec<MessageMatch>,
    /// The dialogs it matched, best first.
    pub matches: Vec<Match>,
    /// What is wrong, each once: the messages' findings first, then the dialogs'.
    pub findings: Vec<Finding>,
    /// What produces it, most likely first.
    pub mechanisms: Vec<Mechanism>,
    /// The names it carries in a producer's wording (asked for, the certificate's).
    pub facts: Facts,
    /// Server names found anywhere in the text.
    pub hosts: Vec<String>,
    /// E-mail addresses found in the text.
    pub addresses: Vec<String>,
}

impl Explanation {
    /// Whether anything was recognised.
    pub fn recognised(&self) -> bool {
        !self.messages.is_empty() || !self.matches.is_empty()
    }

    /// What the commands should name: the name asked for, else an e-mail address, else a server
    /// name in the text, else the server's IP address, else a placeholder.
    pub fn target(&self) -> Target<'_> {
        if let Some(asked) = &self.facts.asked {
            Target::Host(asked)
        } else if let Some(address) = self.addresses.first() {
            Target::Address(address)
        } else if let Some(host) = self.hosts.first() {
            Target::Host(host)
        } else if let Some(address) = &self.facts.address {
            // A server's log gives only its own address.
            Target::Host(address)
        } else {
            Target::Unknown
        }
    }

    /// The name to try instead, when the text says the certificate does not name the server
    /// asked for and names what it is for: its first name that is not a wildcard.
    pub fn candidate(&self) -> Option<&str> {
        if !self.findings.contains(&Finding::WrongName) {
            return None;
        }
        self.facts
            .certificate_names
            .iter()
            .find(|name| {
                !name.starts_with('*')
                    && name.contains('.')
                    && self.facts.asked.as_ref() != Some(*name)
            })
            .map(String::as_str)
    }
}

impl Finding {
    /// Whether it says what is wrong (not only that something is).
    pub fn is_specific(self) -> bool {
        !matches!(
            self,
            Finding::Untrusted | Finding::RefusedByClient | Finding::HandshakeFailed
        )
    }

    /// What it means, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Finding::WrongName => "the certificate does not name the server the client asked for",
            Finding::Expired => "a certificate has expired",
            Finding::NotYetValid => {
                "a certificate is not valid yet (new, or the device's clock is wrong)"
            }
            Finding::SelfSigned => "the certificate is self-signed",
            Finding::UnknownIssuer => {
                "the certificate's issuer is unknown to the client (a private CA, or a missing \
                 intermediate certificate)"
            }
            Finding::MissingIntermediate => "the server does not send the intermediate certificate",
            Finding::Untrusted => "the client does not trust the certificate (it does not say why)",
            Finding::Revoked => "the certificate was revoked",
            Finding::WeakAlgorithm => "the certificate's key or signature is too weak",
            Finding::OldTls => "no TLS version in common (the server's are too old)",
            Finding::NoCommonCipher => "no cipher suite in common",
            Finding::RefusedByClient => {
                "a client refused the server's certificate (the server's log does not say why)"
            }
            Finding::HandshakeFailed => "the TLS handshake failed (the text does not say why)",
        }
    }

    /// The mechanisms behind it, most likely first. `by_ip`: whether the text says the client
    /// asked for an address (`Some(false)`: it asked for a name), when it says what was asked.
    pub fn mechanisms(self, by_ip: Option<bool>) -> Vec<Mechanism> {
        use Mechanism::*;
        match self {
            Finding::WrongName => match by_ip {
                Some(true) => vec![ConnectedByIp, HostingName, ProvisioningName],
                Some(false) => vec![HostingName, ProvisioningName],
                None => vec![HostingName, ProvisioningName, ConnectedByIp],
            },
            Finding::Expired | Finding::NotYetValid => vec![Expired],
            Finding::SelfSigned => vec![UntrustedCa],
            Finding::UnknownIssuer => vec![MissingIntermediate, UntrustedCa],
            Finding::MissingIntermediate => vec![MissingIntermediate],
            Finding::Revoked => vec![Revoked],
            Finding::WeakAlgorithm => vec![WeakCertificate],
            Finding::OldTls | Finding::NoCommonCipher => vec![OldTls],
            Finding::Untrusted | Finding::RefusedByClient => {
                vec![HostingName, MissingIntermediate, UntrustedCa, Expired]
            }
            Finding::HandshakeFailed => vec![OldTls, HostingName, MissingIntermediate, UntrustedCa],
        }
    }
}

impl From<Fault> for Finding {
    fn from(fault: Fault) -> Finding {
        match fault {
            Fault::WrongName => Finding::WrongName,
            Fault::Dates => Finding::Expired,
            Fault::Untrusted => Finding::Untrusted,
        }
    }
}

/// Why a text cannot be explained at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// Nothing but white space.
    #[error("nothing to explain: give the text of the dialog (or pipe it in)")]
    Empty,
    /// Not text: NUL bytes, or UTF-16 that does not decode.
    #[error("the input is not text (it holds NUL bytes or broken UTF-16): paste only the words")]
    Binary,
    /// Longer than [`MAX_TEXT`].
    #[error(
        "the input is longer than {MAX_TEXT} bytes: paste only the lines around the error \
         (e.g. grep -i -e tls -e ssl -e certificate)"
    )]
    TooLong,
}

/// Checks that `text` is something a person could have pasted (other control characters than
/// NUL are taken off by [`input::plain`]).
pub fn check_text(text: &str) -> Result<(), ExplainError> {
    if text.len() > MAX_TEXT {
        return Err(ExplainError::TooLong);
    }
    if text.contains('\0') {
        return Err(ExplainError::Binary);
    }
    if text.trim().is_empty() {
        return Err(ExplainError::Empty);
    }
    Ok(())
}

/// Explains pasted bytes in any encoding (see [`input`]).
pub fn explain_bytes(bytes: &[u8]) -> Result<Explanation, ExplainError> {
    explain(&input::decode(bytes)?)
}

/// Explains pasted text: its error messages, the dialogs it matches, the names it carries.
pub fn explain(text: &str) -> Result<Explanation, ExplainError> {
    check_text(text)?;
    let text = input::plain(text);
    if text.trim().is_empty() {
        return Err(ExplainError::Empty);
    }
    let folded = messages::fold(&text);
    let mut found = messages::find(&folded);
    // A vague message adds nothing beside a specific one.
    if found.iter().any(|f| f.finding.is_specific()) {
        found.retain(|f| f.finding.is_specific());
    }
    found.truncate(MAX_MESSAGES);
    let matches = dialogs::matches(&text);
    let facts = facts::of(&text);
    let (hosts, addresses) = names_in(&text);

    let mut findings: Vec<Finding> = Vec::new();
    // A text that names both the name asked for and the certificate's, and they differ, says
    // the name does not match, whatever its words.
    let names_differ = facts.asked.as_deref().is_some_and(|asked| {
        !facts.certificate_names.is_empty()
            && !facts
                .certificate_names
                .iter()
                .any(|name| facts::covers(name, asked))
    });
    let message_findings = names_differ
        .then_some(Finding::WrongName)
        .into_iter()
        .chain(found.iter().map(|f| f.finding));
    let dialog_findings = matches.iter().filter_map(|m| m.fault.map(Finding::from));
    for finding in message_findings.chain(dialog_findings) {
        if !findings.contains(&finding) {
            findings.push(finding);
        }
    }
    if findings.iter().any(|f| f.is_specific()) {
        findings.retain(|f| f.is_specific());
    }
    let by_ip = facts
        .asked
        .as_deref()
        .map(|asked| asked.parse::<std::net::IpAddr>().is_ok());
    // A dialog's own mechanisms first (they know where the dialog comes from, e.g. Outlook's
    // Autodiscover), then the findings'.
    let mut mechanisms: Vec<Mechanism> = Vec::new();
    let from_dialogs = matches.iter().flat_map(|m| m.mechanisms.iter().copied());
    let from_findings = findings.iter().flat_map(|f| f.mechanisms(by_ip));
    for mechanism in from_dialogs.chain(from_findings) {
        if !mechanisms.contains(&mechanism) {
            mechanisms.push(mechanism);
        }
    }
    Ok(Explanation {
        messages: found
            .into_iter()
            .map(|f| MessageMatch {
                message: f.message,
                matched: f.pattern,
                finding: f.finding,
            })
            .collect(),
        matches,
        findings,
        mechanisms,
        facts,
        hosts,
        addresses,
    })
}

/// Top-level domains names end in: the public ones, and those reserved for tests, examples and
/// private networks (RFC 2606, 6761, 6762, 8375). A Java class (`javax.net.ssl.SSLException`)
/// or a file (`_ssl.c`) is not a name.
fn is_top_level(label: &str) -> bool {
    const PRIVATE: &[&str] = &[
        "test",
        "example",
        "invalid",
        "localhost",
        "local",
        "internal",
        "lan",
        "home",
        "corp",
        "arpa",
    ];
    label.len() >= 2
        && label.chars().all(|c| c.is_ascii_alphabetic())
        && (PRIVATE.contains(&label) || psl::suffix(label.as_bytes()).is_some_and(|s| s.is_known()))
}

/// Most server names and e-mail addresses kept from one text (a log holds hundreds).
const MAX_NAMES: usize = 16;

/// The server names and e-mail addresses in a text, in order, each once, at most
/// [`MAX_NAMES`] of each.
fn names_in(text: &str) -> (Vec<String>, Vec<String>) {
    let mut hosts: Vec<String> = Vec::new();
    let mut addresses: Vec<String> = Vec::new();
    for token in text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '@' | '_')))
    {
        if hosts.len() >= MAX_NAMES && addresses.len() >= MAX_NAMES {
            break;
        }
        let token = token.trim_matches('.').to_ascii_lowercase();
        if token.contains('@') {
            if addresses.len() < MAX_NAMES
                && !addresses.contains(&token)
                && crate::target::Address::parse(&token).is_ok()
            {
                addresses.push(token);
            }
            continue;
        }
        if hosts.len() >= MAX_NAMES || hosts.contains(&token) {
            continue;
        }
        let labels: Vec<&str> = token.split('.').collect();
        let is_name = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels.last().is_some_and(|tld| is_top_level(tld))
            && crate::target::Target::parse(&token).is_ok();
        if is_name {
            hosts.push(token);
        }
    }
    (hosts, addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(text: &str) -> Option<(&'static str, Closeness, Option<Fault>)> {
        explain(text)
            .ok()?
            .matches
            .first()
            .map(|m| (m.dialog.id, m.closeness, m.fault))
    }

    #[test]
    fn outlook_autodiscover_alert_in_any_case_and_quotes() {
        let text = "SECURITY ALERT\n\n“The name on the security certificate is invalid or does \
                    not match\nthe name of the site”";
        assert_eq!(
            best(text),
            Some((
                "outlook/security-alert",
                Closeness::Whole,
                Some(Fault::WrongName)
            ))
        );
        let explained = explain(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            explained.matches[0].mechanisms,
            vec![Mechanism::AutodiscoverWebsite]
        );
    }

    #[test]
    fn partial_and_retyped_text() {
        assert_eq!(
            best("The target principal name is incorrect."),
            Some((
                "outlook/internet-security-warning",
                Closeness::Whole,
                Some(Fault::WrongName)
            ))
        );
        assert_eq!(
            best("principal name is incor").map(|b| b.1),
            Some(Closeness::Partial)
        );
        assert_eq!(
            best("certificate belongs to another site, someone trying to impersonate this site")
                .map(|b| (b.0, b.1)),
            Some(("thunderbird/add-security-exception", Closeness::Words))
        );
    }

    #[test]
    fn ios_names_the_server_and_the_command_uses_it() {
        let text = "Cannot Verify Server Identity\nThe identity of \"mail.customer.com\" cannot \
                    be verified by Mail. Review the certificate details to continue.";
        let explained = explain(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            explained.matches[0].dialog.id,
            "apple-mail/cannot-verify-server-identity"
        );
        assert_eq!(explained.hosts, vec!["mail.customer.com".to_string()]);
        assert_eq!(
            Mechanism::HostingName.command(explained.target()),
            "mailtls check mail.customer.com"
        );
        assert_eq!(
            Mechanism::AutodiscoverWebsite.command(Target::Host("autodiscover.customer.com")),
            "mailtls check you@customer.com"
        );
    }

    #[test]
    fn a_piece_with_its_name_filled_in_and_one_word_titles() {
        assert_eq!(
            best("The certificate for mail.customer.test is not valid for that server."),
            Some((
                "thunderbird/certificate-notification",
                Closeness::Partial,
                Some(Fault::WrongName)
            ))
        );
        // "Thunderbird" alone is a title of one word: it matches nothing.
        assert_eq!(best("Thunderbird"), None);
    }

    #[test]
    fn unknown_and_bad_input() {
        assert_eq!(
            explain("The printer is out of paper").map(|e| e.matches.len()),
            Ok(0)
        );
        assert_eq!(explain("  \n "), Err(ExplainError::Empty));
        assert_eq!(explain("abc\0def"), Err(ExplainError::Binary));
        assert_eq!(
            explain(&"a".repeat(MAX_TEXT + 1)),
            Err(ExplainError::TooLong)
        );
    }
}
