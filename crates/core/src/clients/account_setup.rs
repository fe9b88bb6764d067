//! Thunderbird's automatic account set-up, as its code runs it: which incoming and outgoing
//! server, port and security it chooses for an address, over what discovery observed. Pure.
//!
//! The account hub (comm-central mail/components/accountcreation/views/email.mjs, `#findConfig`)
//! calls `FindConfig.parallelAutoDiscovery` and, when that finds nothing, `GuessConfig.guessConfig`.
//! parallelAutoDiscovery asks everything at once but takes the first answer in a fixed order
//! (`promiseFirstSuccessful`): the files shipped with Thunderbird, the ISP's own autoconfig (four
//! URLs, themselves in order: HTTPS autoconfig.DOMAIN, HTTPS .well-known, then the same over plain
//! HTTP), Mozilla's ISP database, the MX host's domain; only when all of them fail, Outlook's
//! Autodiscover (ExchangeAutoDiscover.sys.mjs). Within the ISP's four URLs (and Autodiscover's)
//! the first *fetch* that succeeds wins and is then read (readFromXML.sys.mjs): a document fetched
//! but unusable ends the step, the later URLs are not read; the MX host's step reads each of its
//! answers on its own (fetchConfigForMX). The guess is in [`guess`]. tests/servers/account_setup.rs
//! holds this model against the real Thunderbird on every discovery lab domain.

mod documents;
pub mod guess;

use super::discovery::{Reaction, THUNDERBIRD, Walked};
use super::{Outcome, dialogs};
use crate::observation::{Record, Security, ServerEntry};
use crate::service::Protocol;

pub use documents::hostname_ok;
use documents::{Documents, STEP_GUESS, documents};
pub use guess::{Answered, Seen, ThunderbirdVerdict, Tried, TryResult};

crate::vocabulary::vocabulary! {
    /// Where Thunderbird's set-up finds the settings it chooses.
    pub enum FoundBy {
        /// The configuration files shipped with Thunderbird.
        ShippedFile => "shipped-file",
        /// https://autoconfig.DOMAIN/mail/config-v1.1.xml.
        Autoconfig => "autoconfig",
        /// https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml.
        AutoconfigWellKnown => "autoconfig-well-known",
        /// The same as `autoconfig`, over plain HTTP.
        AutoconfigHttp => "autoconfig-http",
        /// The same as `autoconfig-well-known`, over plain HTTP.
        AutoconfigWellKnownHttp => "autoconfig-well-known-http",
        /// Mozilla's ISP database, asked for the domain.
        Ispdb => "ispdb",
        /// The MX host's domains: their autoconfig or the ISP database's entry for them.
        MxDomain => "mx-domain",
        /// Outlook's Autodiscover (POX), asked when nothing above answers.
        Autodiscover => "autodiscover",
        /// Its own guess: host names and ports tried one by one.
        Guess => "guess",
        /// Nothing: the user types the settings by hand.
        Nothing => "nothing",
    }
}

/// What Thunderbird's set-up will choose for an address.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Where the settings come from.
    pub found_by: FoundBy,
    /// The URL, record or host names that gave them.
    pub from: Option<String>,
    /// The incoming server chosen.
    pub incoming: Option<ServerEntry>,
    /// The outgoing server chosen; `None` with an incoming server when the settings name none
    /// (Thunderbird then uses the SMTP server it already has, if any).
    pub outgoing: Option<ServerEntry>,
    /// What mailtls does not know and could change the choice: the prediction assumes each of
    /// these gives Thunderbird nothing, as it gave mailtls nothing.
    pub unless: Vec<String>,
    /// What happens at the first login to a chosen server, when Thunderbird does not simply
    /// connect there.
    pub first_login: Vec<LoginOutcome>,
    /// The guess, try by try in Thunderbird's order up to the one chosen (empty when the guess
    /// did not run).
    pub guess: Vec<Tried>,
    /// Thunderbird's search, step by step (numbered as [`THUNDERBIRD`]), up to the step used.
    pub walk: Vec<Walked>,
}

/// What the first login to a chosen server meets.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The server.
    pub server: ServerEntry,
    /// Thunderbird's verdict there: warns, fails or depends.
    pub outcome: Outcome,
    /// The certificate fault, when it warns about one.
    pub fault: Option<dialogs::Fault>,
    /// The dialog the account set-up shows at that login, when it warns.
    pub dialog: Option<&'static dialogs::Dialog>,
    /// Why, in words.
    pub reason: String,
}

/// What mailtls saw where Thunderbird would connect: `(host, port)` to what was seen there.
pub type Lookup<'a> = &'a dyn Fn(&str, u16) -> Seen;

/// The domains whose settings this Thunderbird ships in its installation's `isp/` folder
/// (measured: /usr/lib/thunderbird/isp of 153.8.0esr holds riseup.net.xml only).
pub const SHIPPED: &[&str] = &["riseup.net"];

/// Whether Thunderbird's guess could decide the set-up: no step before it answers for sure. The
/// guessed hosts are checked only then.
pub fn guess_matters(records: &[Record], domain: &str) -> bool {
    let documents = documents(records, domain);
    documents.found.is_none() || !documents.unless.is_empty()
}

/// Thunderbird's choice for `domain`, from the provisioning `records` and what `seen` says of the
/// hosts and ports it would connect to.
pub fn predict(records: &[Record], domain: &str, seen: Lookup<'_>) -> Prediction {
    let Documents {
        mut walk,
        mut unless,
        found,
    } = documents(records, domain);
    let mut prediction = Prediction {
        found_by: FoundBy::Nothing,
        from: None,
        incoming: None,
        outgoing: None,
        unless: Vec::new(),
        first_login: Vec::new(),
        guess: Vec::new(),
        walk: Vec::new(),
    };
    if let Some((found_by, from, incoming, outgoing)) = found {
        prediction.found_by = found_by;
        prediction.from = Some(from);
        prediction.incoming = incoming;
        prediction.outgoing = outgoing;
    } else {
        let guessed = guess::guess(domain, seen);
        unless.extend(guessed.unless.iter().cloned());
        let answer = match (&guessed.incoming, &guessed.outgoing) {
            (Some(incoming), Some(outgoing)) => {
                prediction.found_by = FoundBy::Guess;
                prediction.from = Some(guess::hosts_tried(domain));
                prediction.incoming = Some(incoming.clone());
                prediction.outgoing = Some(outgoing.clone());
                format!("chooses {}", both(Some(incoming), Some(outgoing)))
            }
            (Some(found), None) | (None, Some(found)) => format!(
                "finds {} but no {} server, and gives up",
                setting(found),
                if found.protocol == Protocol::Smtp {
                    "incoming"
                } else {
                    "outgoing"
                }
            ),
            (None, None) => "finds no server".to_string(),
        };
        prediction.guess = guessed.tried;
        walk.push(Walked {
            step: &THUNDERBIRD[STEP_GUESS],
            asked: Some(guess::hosts_tried(domain)),
            reaction: if prediction.found_by == FoundBy::Guess {
                Reaction::Uses
            } else {
                Reaction::Skips
            },
            dialog: None,
            answer,
        });
    }
    unless.dedup();
    prediction.unless = unless;
    prediction.walk = walk;
    for server in [&prediction.incoming, &prediction.outgoing]
        .into_iter()
        .flatten()
    {
        if let Some(login) = first_login(server, seen) {
            prediction.first_login.push(login);
        }
    }
    prediction
}

/// What the first login to `server` meets, when Thunderbird does not simply connect.
fn first_login(server: &ServerEntry, seen: Lookup<'_>) -> Option<LoginOutcome> {
    let Seen::Answered(answered) = seen(&server.hostname, server.port) else {
        return None;
    };
    if server.security == Security::Plain {
        return Some(LoginOutcome {
            server: server.clone(),
            outcome: Outcome::Warns,
            fault: None,
            dialog: None,
            reason: "no encryption: the password travels in clear".to_string(),
        });
    }
    let verdict = answered.thunderbird?;
    (verdict.outcome != Outcome::Works).then(|| LoginOutcome {
        server: server.clone(),
        outcome: verdict.outcome,
        fault: verdict.fault,
        dialog: verdict.fault.and_then(setup_dialog),
        reason: verdict.reason,
    })
}

/// The dialog Thunderbird's account set-up shows at its login check for `fault`.
fn setup_dialog(fault: dialogs::Fault) -> Option<&'static dialogs::Dialog> {
    dialogs::DIALOGS.iter().find(|d| {
        d.client == super::Client::Thunderbird
            && d.when == dialogs::When::AccountSetup
            && d.faults.contains(&fault)
    })
}

/// "IMAP mail.example.com:993 SSL/TLS".
pub fn setting(server: &ServerEntry) -> String {
    let protocol = match server.protocol {
        Protocol::Imap => "IMAP",
        Protocol::Pop3 => "POP3",
        Protocol::Smtp => "SMTP",
    };
    let security = match server.security {
        Security::Plain => "without encryption",
        other => other.label(),
    };
    format!("{protocol} {}:{} {security}", server.hostname, server.port)
}

/// Both settings, in words.
fn both(incoming: Option<&ServerEntry>, outgoing: Option<&ServerEntry>) -> String {
    match (incoming, outgoing) {
        (Some(incoming), Some(outgoing)) => {
            format!("{}, {}", setting(incoming), setting(outgoing))
        }
        (Some(incoming), None) => format!("{} (no SMTP server)", setting(incoming)),
        (None, Some(outgoing)) => setting(outgoing),
        (None, None) => "nothing".to_string(),
    }
}

#[cfg(test)]
mod tests;
