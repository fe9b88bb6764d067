//! Thunderbird's guess (comm-central mail/components/accountcreation/modules/GuessConfig.sys.mjs),
//! run when no provisioning step answers.
//!
//! Incoming: the host names imap., pop3., pop., mail. and the domain itself; imap. is tried for
//! IMAP only, pop3. and pop. for POP3 only, the others for both. Outgoing: smtp., mail. and the
//! domain, each on 587 and 25 with STARTTLS, 465 with SSL/TLS, 587 and 25 without encryption.
//! Every try runs at once, but they are ranked (`sortTriesByPreference`, a stable sort): with
//! encryption before without, IMAP before POP3, SSL/TLS before STARTTLS, then the order above;
//! the first try that succeeds while every better-ranked one failed is chosen
//! (`_checkFinished`). A try succeeds:
//! - SSL/TLS: the handshake and the certificate are good (`requireGoodCert` is true: any
//!   certificate error fails the try) and the server says something;
//! - STARTTLS: the server's words before TLS (greeting, CAPABILITY/EHLO/CAPA answer) contain
//!   STARTTLS (STLS for POP3). The guess never starts TLS, so the certificate behind STARTTLS
//!   is first met at the first login;
//! - no encryption: the server says anything.
//!
//! When either direction finds nothing, the whole guess fails (`Promise.all`): a server that only
//! sends mail gets no settings at all.

use super::super::Outcome;
use super::super::dialogs::Fault;
use crate::observation::{Security, ServerEntry};
use crate::service::Protocol;

/// What mailtls saw at one host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The name does not resolve.
    NoSuchName,
    /// mailtls's resolver gave no answer for the name (the words).
    Unanswered(String),
    /// mailtls did not check this host or port.
    NotChecked,
    /// Nothing answered: refused, timed out or unreachable (the words).
    Silent(String),
    /// The server turned every attempt away as busy.
    Busy,
    /// A server answered.
    Answered(Answered),
}

/// A server that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// It sent a greeting.
    pub greeted: bool,
    /// Its words before TLS mention STARTTLS (STLS for POP3), as Thunderbird's guess reads them.
    pub starttls: bool,
    /// Thunderbird's verdict on its TLS connection, when TLS was tried.
    pub thunderbird: Option<ThunderbirdVerdict>,
}

/// Thunderbird's verdict on one TLS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThunderbirdVerdict {
    /// Works, warns, fails or depends.
    pub outcome: Outcome,
    /// The certificate fault its dialog is about, when it warns.
    pub fault: Option<Fault>,
    /// The deciding rule's words.
    pub reason: String,
}

crate::vocabulary::vocabulary! {
    /// How one try of the guess ends.
    pub enum TryResult {
        /// The try succeeds.
        Succeeds => "succeeds",
        /// The try fails.
        Fails => "fails",
        /// mailtls does not know.
        Unknown => "unknown",
    }
}

/// One try of the guess, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    /// The host, port and security tried.
    pub server: ServerEntry,
    /// How it ends.
    pub result: TryResult,
    /// Why, in words.
    pub detail: String,
}

/// The guess's outcome.
#[derive(Debug, Clone, Default)]
pub struct Guessed {
    /// The incoming server the guess finds.
    pub incoming: Option<ServerEntry>,
    /// The outgoing server it finds.
    pub outgoing: Option<ServerEntry>,
    /// Every try judged, incoming then outgoing, each up to the one chosen.
    pub tried: Vec<Tried>,
    /// Tries mailtls could not judge that rank before the choice.
    pub unless: Vec<String>,
}

fn entry(protocol: Protocol, hostname: &str, security: Security, port: u16) -> ServerEntry {
    ServerEntry {
        protocol,
        hostname: hostname.to_string(),
        port,
        security,
    }
}

/// The default port of a protocol and security (GuessConfig's IMAP_PORTS, POP_PORTS, SMTP_PORTS).
fn port(protocol: Protocol, security: Security) -> u16 {
    match (protocol, security) {
        (Protocol::Imap, Security::Tls) => 993,
        (Protocol::Imap, _) => 143,
        (Protocol::Pop3, Security::Tls) => 995,
        (Protocol::Pop3, _) => 110,
        (Protocol::Smtp, Security::Tls) => 465,
        (Protocol::Smtp, _) => 587,
    }
}

/// The ranking of `sortTriesByPreference`: encrypted first, IMAP before POP3, SSL/TLS before
/// STARTTLS; a stable sort keeps the host and port order within a rank.
fn rank(tries: &mut [ServerEntry]) {
    tries.sort_by_key(|t| {
        (
            t.security == Security::Plain,
            t.protocol == Protocol::Pop3,
            t.security == Security::Starttls,
        )
    });
}

/// The incoming tries, best first (`IncomingHostDetector`, `getIncomingTryOrder`).
pub fn incoming_tries(domain: &str) -> Vec<ServerEntry> {
    let mut tries = Vec::new();
    for name in [
        format!("imap.{domain}"),
        format!("pop3.{domain}"),
        format!("pop.{domain}"),
        format!("mail.{domain}"),
        domain.to_string(),
    ] {
        let lower = name.to_ascii_lowercase();
        let protocols: &[Protocol] = if lower.starts_with("pop.") || lower.starts_with("pop3.") {
            &[Protocol::Pop3]
        } else if lower.starts_with("imap.") {
            &[Protocol::Imap]
        } else {
            &[Protocol::Imap, Protocol::Pop3]
        };
        let order: Vec<(Protocol, Security)> = match protocols {
            [one] => [Security::Starttls, Security::Tls, Security::Plain]
                .into_iter()
                .map(|s| (*one, s))
                .collect(),
            _ => vec![
                (Protocol::Imap, Security::Starttls),
                (Protocol::Imap, Security::Tls),
                (Protocol::Pop3, Security::Starttls),
                (Protocol::Pop3, Security::Tls),
                (Protocol::Imap, Security::Plain),
                (Protocol::Pop3, Security::Plain),
            ],
        };
        for (protocol, security) in order {
            tries.push(entry(protocol, &name, security, port(protocol, security)));
        }
    }
    rank(&mut tries);
    tries
}

/// The outgoing tries, best first (`OutgoingHostDetector`, `getOutgoingTryOrder`).
pub fn outgoing_tries(domain: &str) -> Vec<ServerEntry> {
    let mut tries = Vec::new();
    for name in [
        format!("smtp.{domain}"),
        format!("mail.{domain}"),
        domain.to_string(),
    ] {
        for (security, port) in [
            (Security::Starttls, 587),
            (Security::Starttls, 25),
            (Security::Tls, 465),
            (Security::Plain, 587),
            (Security::Plain, 25),
        ] {
            tries.push(entry(Protocol::Smtp, &name, security, port));
        }
    }
    rank(&mut tries);
    tries
}

/// Every host name the guess tries, with the ports it tries there, in the order it names them.
pub fn hosts(domain: &str) -> Vec<(String, Vec<u16>)> {
    let mut hosts: Vec<(String, Vec<u16>)> = Vec::new();
    for tried in incoming_tries(domain)
        .into_iter()
        .chain(outgoing_tries(domain))
    {
        match hosts.iter_mut().find(|(name, _)| *name == tried.hostname) {
            Some((_, ports)) if ports.contains(&tried.port) => {}
            Some((_, ports)) => ports.push(tried.port),
            None => hosts.push((tried.hostname, vec![tried.port])),
        }
    }
    hosts
}

/// The names tried, in words.
pub fn hosts_tried(domain: &str) -> String {
    format!("imap., pop3., pop., mail., smtp.{domain} and {domain}")
}

/// How one try ends, from what mailtls saw there.
pub fn judge(server: &ServerEntry, seen: &Seen) -> (TryResult, String) {
    let answered = match seen {
        Seen::NoSuchName => return (TryResult::Fails, "the name does not resolve".to_string()),
        Seen::Unanswered(why) => return (TryResult::Unknown, why.clone()),
        Seen::NotChecked => return (TryResult::Unknown, "not checked by mailtls".to_string()),
        Seen::Silent(why) => return (TryResult::Fails, why.clone()),
        Seen::Busy => {
            return (
                TryResult::Unknown,
                "the server turned mailtls away as busy".to_string(),
            );
        }
        Seen::Answered(answered) => answered,
    };
    match server.security {
        Security::Tls => match &answered.thunderbird {
            Some(verdict) => match verdict.outcome {
                Outcome::Works => (TryResult::Succeeds, "certificate accepted".to_string()),
                Outcome::Depends => (TryResult::Unknown, verdict.reason.clone()),
                Outcome::Warns => (
                    TryResult::Fails,
                    format!(
                        "refused for its certificate (the guess takes good certificates only): {}",
                        verdict.reason
                    ),
                ),
                Outcome::Fails => (TryResult::Fails, verdict.reason.clone()),
            },
            None => (TryResult::Unknown, "no TLS verdict".to_string()),
        },
        Security::Starttls if answered.starttls => (
            TryResult::Succeeds,
            "STARTTLS offered (the guess reads only what comes before TLS)".to_string(),
        ),
        Security::Starttls if answered.greeted => {
            (TryResult::Fails, "STARTTLS not offered".to_string())
        }
        Security::Plain if answered.greeted => (TryResult::Succeeds, "answered".to_string()),
        Security::Starttls | Security::Plain => (TryResult::Fails, "no greeting".to_string()),
    }
}

/// The first try that succeeds while every better-ranked one failed; the tries judged go to
/// `tried`, the unknown ones ranked before the choice to `unless`.
fn first(
    tries: Vec<ServerEntry>,
    seen: &dyn Fn(&str, u16) -> Seen,
    tried: &mut Vec<Tried>,
    unless: &mut Vec<String>,
) -> Option<ServerEntry> {
    let mut unknown: Vec<String> = Vec::new();
    for server in tries {
        let (result, detail) = judge(&server, &seen(&server.hostname, server.port));
        if result == TryResult::Unknown {
            unknown.push(format!(
                "{} answers Thunderbird's guess ({detail})",
                super::setting(&server)
            ));
        }
        tried.push(Tried {
            server: server.clone(),
            result,
            detail,
        });
        if result == TryResult::Succeeds {
            unless.extend(unknown);
            return Some(server);
        }
    }
    unless.extend(unknown);
    None
}

/// The guess for `domain`.
pub fn guess(domain: &str, seen: &dyn Fn(&str, u16) -> Seen) -> Guessed {
    let mut guessed = Guessed::default();
    guessed.incoming = first(
        incoming_tries(domain),
        seen,
        &mut guessed.tried,
        &mut guessed.unless,
    );
    guessed.outgoing = first(
        outgoing_tries(domain),
        seen,
        &mut guessed.tried,
        &mut guessed.unless,
    );
    guessed
}
