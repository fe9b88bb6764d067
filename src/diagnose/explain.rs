//! From the words a user saw to the mechanisms behind them (`mailtls explain`): pasted dialog
//! text is matched against every client's dialogs (tolerant of case, quotes, line breaks and
//! partial text), and each match names the mechanisms that produce it, most likely first, with
//! the `mailtls` command that finds out which one it is. Pure.

use std::collections::HashSet;

use crate::clients::Client;
use crate::clients::dialogs::{self, DIALOGS, Dialog, Fault};

/// Longest text read: a dialog is a few hundred characters; this stops a pasted log early.
pub const MAX_TEXT: usize = 64 * 1024;
/// Shortest piece of a dialog's line that counts as a partial match.
const MIN_PARTIAL: usize = 12;

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

crate::vocabulary::vocabulary! {
    /// How well a piece of text matched a dialog (worst first: the order ranks matches).
    pub enum Closeness {
        /// Most of a line's words, in any order.
        Words => "words",
        /// A piece of a line.
        Partial => "partial",
        /// A whole line.
        Whole => "whole",
    }
}

/// One dialog the text matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The dialog.
    pub dialog: &'static Dialog,
    /// The dialog's line (or title) that matched best.
    pub line: &'static str,
    /// How well.
    pub closeness: Closeness,
    /// The fault the matched line names, when it names one.
    pub fault: Option<Fault>,
    /// The mechanisms that produce it, most likely first.
    pub mechanisms: Vec<Mechanism>,
}

/// What the text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The dialogs it matched, best first (empty: not recognised).
    pub matches: Vec<Match>,
    /// Server names found in the text.
    pub hosts: Vec<String>,
    /// E-mail addresses found in the text.
    pub addresses: Vec<String>,
}

impl Explanation {
    /// What the commands should name: an address, else a host, else a placeholder.
    pub fn target(&self) -> Target<'_> {
        if let Some(address) = self.addresses.first() {
            Target::Address(address)
        } else if let Some(host) = self.hosts.first() {
            Target::Host(host)
        } else {
            Target::Unknown
        }
    }
}

/// Why a text cannot be explained at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// Nothing but white space.
    #[error("nothing to explain: give the text of the dialog (or pipe it in)")]
    Empty,
    /// Not text: a NUL byte or other control characters.
    #[error("the input is not text (it holds control characters): paste only the dialog's words")]
    Binary,
    /// Longer than [`MAX_TEXT`].
    #[error("the input is longer than {MAX_TEXT} bytes: paste only the dialog's words")]
    TooLong,
}

/// Checks that `text` is something a person could have pasted.
pub fn check_text(text: &str) -> Result<(), ExplainError> {
    if text.len() > MAX_TEXT {
        return Err(ExplainError::TooLong);
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ExplainError::Binary);
    }
    if text.trim().is_empty() {
        return Err(ExplainError::Empty);
    }
    Ok(())
}

/// Matches `text` against every dialog.
pub fn explain(text: &str) -> Result<Explanation, ExplainError> {
    check_text(text)?;
    let words = normalize(text);
    // The pasted words as a set, made once: every dialog line is looked up in it.
    let given: HashSet<&str> = words.split(' ').collect();
    let mut matches: Vec<Match> = Vec::new();
    for dialog in DIALOGS {
        let best = std::iter::once(dialog.title)
            .chain(dialog.lines())
            .filter_map(|line| closeness(&words, &given, line).map(|c| (c, line)))
            .max_by_key(|(c, line)| (*c, line.len()));
        if let Some((closeness, line)) = best {
            let fault = dialog
                .variants
                .iter()
                .find(|variant| variant.line == line)
                .map(|variant| variant.fault);
            matches.push(Match {
                dialog,
                line,
                closeness,
                fault,
                mechanisms: mechanisms(dialog, fault),
            });
        }
    }
    // The best matches first; of equal ones, the longer line (the more specific).
    matches.sort_by_key(|m| std::cmp::Reverse((m.closeness, m.line.len())));
    if let Some(best) = matches.first().map(|m| m.closeness) {
        matches.retain(|m| m.closeness == best);
    }
    let (hosts, addresses) = names_in(text);
    Ok(Explanation {
        matches,
        hosts,
        addresses,
    })
}

/// The mechanisms behind a dialog, most likely first, narrowed by the fault its words name.
fn mechanisms(dialog: &Dialog, fault: Option<Fault>) -> Vec<Mechanism> {
    use Mechanism::*;
    let by_fault = |fault: Fault| -> Vec<Mechanism> {
        match (dialog.connection, fault) {
            (dialogs::Connection::Settings, _) => vec![AutodiscoverWebsite],
            (_, Fault::WrongName) if dialog.client == Client::Outlook => {
                vec![HostingName, ProvisioningName, ConnectedByIp]
            }
            (_, Fault::WrongName) => vec![HostingName, ProvisioningName, ConnectedByIp],
            (_, Fault::Dates) => vec![Expired],
            (_, Fault::Untrusted) => vec![MissingIntermediate, UntrustedCa],
        }
    };
    // A prompt that is not about a certificate: Outlook's question before it takes settings
    // from the server it was sent to.
    if dialog.faults.is_empty() {
        return vec![AutodiscoverRedirect];
    }
    let mut all: Vec<Mechanism> = Vec::new();
    let faults: &[Fault] = match &fault {
        Some(fault) => std::slice::from_ref(fault),
        None => dialog.faults,
    };
    for fault in faults {
        for mechanism in by_fault(*fault) {
            if !all.contains(&mechanism) {
                all.push(mechanism);
            }
        }
    }
    all
}

/// Lower case, quotes and punctuation gone, white space (line breaks too) folded to one space.
/// Dots, `@` and hyphens stay: they are parts of names.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '@' | '-') {
            out.extend(c.to_lowercase());
            space = false;
        } else if c.is_whitespace() || c.is_ascii_punctuation() || !c.is_alphanumeric() {
            // Quotes of every kind (' " “ ” ‘ ’ « »), commas, colons: all become a break.
            if !space {
                out.push(' ');
                space = true;
            }
        }
    }
    // A sentence's full stop is punctuation, not part of a name.
    out.split(' ')
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How `line` (a dialog's) matches the normalized pasted `words` (`given`: the same words as a
/// set), if at all. A placeholder (`{server}`, `{account}`...) matches anything.
fn closeness(words: &str, given: &HashSet<&str>, line: &str) -> Option<Closeness> {
    let pieces: Vec<String> = line
        .split(['{', '}'])
        .enumerate()
        // Every second piece is a placeholder's name.
        .filter(|(index, _)| index % 2 == 0)
        .map(|(_, piece)| normalize(piece))
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.is_empty() {
        return None;
    }
    if pieces.iter().all(|p| words.contains(p.as_str())) {
        return Some(Closeness::Whole);
    }
    if words.len() >= MIN_PARTIAL && pieces.iter().any(|p| p.contains(words)) {
        return Some(Closeness::Partial);
    }
    // Most of the line's words (three in five, at least four), for text retyped from memory.
    let wanted: Vec<&str> = pieces
        .iter()
        .flat_map(|p| p.split(' '))
        .filter(|w| w.len() >= 4)
        .collect();
    let found = wanted.iter().filter(|w| given.contains(*w)).count();
    (found >= 4 && found * 5 >= wanted.len() * 3).then_some(Closeness::Words)
}

/// The server names and e-mail addresses in a text, in order, each once.
fn names_in(text: &str) -> (Vec<String>, Vec<String>) {
    let mut hosts: Vec<String> = Vec::new();
    let mut addresses: Vec<String> = Vec::new();
    for token in text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '@' | '_')))
    {
        let token = token.trim_matches('.').to_ascii_lowercase();
        if token.contains('@') {
            if crate::target::Address::parse(&token).is_ok() && !addresses.contains(&token) {
                addresses.push(token);
            }
            continue;
        }
        let labels: Vec<&str> = token.split('.').collect();
        let is_name = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            && crate::target::Target::parse(&token).is_ok();
        if is_name && !hosts.contains(&token) {
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
