//! How each client looks for a new account's settings, step by step, and what it does with each
//! step's answer: uses it (and stops looking), skips it, or shows a dialog. Walking these steps
//! over what discovery observed says which dialog a user saw and why, e.g. Outlook's "Security
//! Alert" at every start when the domain's website answers its first Autodiscover request with
//! the web host's certificate. docs/clients.md lists every step with its source.

use super::Client;
use super::dialogs::{self, Connection, Dialog, Fault};
use crate::observation::{Record, Source, SourceErrorKind};

crate::vocabulary::vocabulary! {
    /// What a client does at one step.
    pub enum Reaction {
        /// Takes the settings found and stops looking.
        Uses => "uses",
        /// Goes on to the next step, silently.
        Skips => "skips",
        /// Shows a certificate dialog; if the user accepts, goes on with the answer.
        ShowsDialog => "shows-dialog",
        /// A step mailtls does not observe (its answer is unknown here).
        NotAsked => "not-asked",
    }
}

/// One step of a client's search.
#[derive(Debug, PartialEq, Eq)]
pub struct Step {
    /// The client.
    pub client: Client,
    /// What the client asks, with `DOMAIN` for the mail domain.
    pub asks: &'static str,
    /// The record mailtls makes of the same question; `None` when mailtls does not ask it.
    pub source: Option<Source>,
    /// What the client does when that server's certificate is not valid for it.
    pub on_bad_certificate: Reaction,
    /// Why mailtls does not ask, for a step it does not ask.
    pub not_asked_because: &'static str,
    /// Where the behaviour is documented.
    pub behaviour_source: &'static str,
    /// Whether the source settles it for current versions.
    pub certain: bool,
}

/// Outlook (classic, Windows) for an IMAP/POP account: Autodiscover (POX), in this order.
pub static OUTLOOK: &[Step] = &[
    Step {
        client: Client::Outlook,
        asks: "the domain's Active Directory (SCP lookup), on domain-joined computers only",
        source: None,
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "it needs the customer's own Active Directory",
        behaviour_source: "https://learn.microsoft.com/en-us/exchange/architecture/client-access/autodiscover",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "https://DOMAIN/autodiscover/autodiscover.xml (POST)",
        source: Some(Source::AutodiscoverDomain),
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/connectivity/certificate-error-when-start-outlook (KB 2772058); KB 2612922 (the order)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "https://autodiscover.DOMAIN/autodiscover/autodiscover.xml (POST)",
        source: Some(Source::Autodiscover),
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/connectivity/certificate-error-when-start-outlook (KB 2772058)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "http://autodiscover.DOMAIN/autodiscover/autodiscover.xml (GET), following a redirect to HTTPS",
        source: Some(Source::AutodiscoverRedirect),
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxdscli (section 3.1.5, HTTP redirect method)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "the _autodiscover._tcp.DOMAIN SRV record, then HTTPS to the name it gives",
        source: Some(Source::AutodiscoverSrv),
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/profiles-and-accounts/how-to-control-autodiscover-via-group-policy (KB 2612922)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "the URL that worked last time, and Microsoft 365 (Outlook 2016 and later)",
        source: None,
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "they depend on the user's profile and on Microsoft's cloud",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/profiles-and-accounts/unexpected-autodiscover-behavior (KB 2212902)",
        certain: false,
    },
];

/// Thunderbird's account setup. It asks all of these at once but takes the first answer in this
/// order (FindConfig's promiseFirstSuccessful), so the order is what decides.
pub static THUNDERBIRD: &[Step] = &[
    Step {
        client: Client::Thunderbird,
        asks: "the configuration files shipped with Thunderbird (isp/DOMAIN.xml in the installation)",
        source: None,
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "they are on the user's computer",
        behaviour_source: TB_FIND_CONFIG,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS",
        source: Some(Source::Autoconfig),
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml",
        source: Some(Source::AutoconfigWellKnown),
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "http://autoconfig.DOMAIN/mail/config-v1.1.xml and http://DOMAIN/.well-known/... (plain HTTP)",
        source: None,
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "plain HTTP: mailtls fetches settings over HTTPS only, but Thunderbird \
                            takes these when the HTTPS ones fail (mailnews.auto_config.fetchFromISP.sslOnly is false)",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "Mozilla's ISP database, https://live.thunderbird.net/autoconfig/v1.1/DOMAIN",
        source: None,
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "it is Mozilla's server on the internet; it answers only for providers listed there",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "for the MX host's domain: https://autoconfig.MXDOMAIN/mail/config-v1.1.xml, then the ISP database",
        source: None,
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "the MX host's provider answers for its own customers, not for DOMAIN",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "guesses: imap., mail. and the domain itself (IMAP 143, 993), smtp., mail. (587, 25, 465)",
        source: Some(Source::Guess),
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_GUESS,
        certain: true,
    },
];

/// comm-central's FindConfig (the order).
const TB_FIND_CONFIG: &str =
    "comm-central mail/components/accountcreation/modules/FindConfig.sys.mjs";
/// comm-central's FetchConfig/FetchHTTP (the URLs; a certificate error drops the fetch silently).
const TB_FETCH: &str = "comm-central mail/components/accountcreation/modules/FetchConfig.sys.mjs, \
                        FetchHTTP.sys.mjs";
/// comm-central's GuessConfig (a bad certificate fails the guess: requireGoodCert).
const TB_GUESS: &str = "comm-central mail/components/accountcreation/modules/GuessConfig.sys.mjs \
                        (mailnews.auto_config.guess.requireGoodCert = true)";

/// The steps of `client`, when mailtls models its search.
pub fn steps(client: Client) -> &'static [Step] {
    match client {
        Client::Outlook => OUTLOOK,
        Client::Thunderbird => THUNDERBIRD,
        Client::AppleMail | Client::Android | Client::Gnome => &[],
    }
}

/// What happened at one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked {
    /// The step.
    pub step: &'static Step,
    /// The URL or record asked, when mailtls asked it.
    pub asked: Option<String>,
    /// What the client does.
    pub reaction: Reaction,
    /// The dialog it shows, when it shows one.
    pub dialog: Option<&'static Dialog>,
    /// What the step answered, in words.
    pub answer: String,
}

/// A client's search over what discovery observed: every step up to the one whose answer it
/// uses (all of them when none is usable).
pub fn walk(client: Client, records: &[Record], domain: &str) -> Vec<Walked> {
    let mut walked = Vec::new();
    for step in steps(client) {
        let Some(source) = step.source else {
            walked.push(Walked {
                step,
                asked: None,
                reaction: Reaction::NotAsked,
                dialog: None,
                answer: step.not_asked_because.to_string(),
            });
            continue;
        };
        let record = records.iter().find(|r| r.source == source);
        let (reaction, answer) = match record {
            None => (Reaction::Skips, "nothing published".to_string()),
            Some(record) if !record.servers.is_empty() => (
                Reaction::Uses,
                format!(
                    "hands out {}",
                    record
                        .servers
                        .iter()
                        .map(|s| format!("{}:{}", s.hostname, s.port))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Some(record) => match &record.error {
                Some(error) if error.kind == SourceErrorKind::BadCertificate => {
                    (step.on_bad_certificate, error.detail.clone())
                }
                // Our resolver did not answer: what the client would get there is unknown.
                Some(error) if error.kind == SourceErrorKind::NotChecked => {
                    (Reaction::NotAsked, error.detail.clone())
                }
                Some(error) => (Reaction::Skips, error.detail.clone()),
                None if record.not_offered => (Reaction::Skips, "not offered".to_string()),
                None => (Reaction::Skips, "nothing usable".to_string()),
            },
        };
        let dialog = (reaction == Reaction::ShowsDialog)
            .then(|| dialogs::shown(client, Fault::WrongName, Connection::Settings))
            .flatten();
        let done = reaction == Reaction::Uses;
        walked.push(Walked {
            step,
            asked: record
                .map(|r| r.url_or_record.clone())
                .or_else(|| Some(step.asks.replace("DOMAIN", domain))),
            reaction,
            dialog,
            answer,
        });
        if done {
            break;
        }
    }
    walked
}
