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
    /// Other records of the same step. Discovery writes a step's records in the order the
    /// client takes their answers; the first that hands out servers is the one used.
    pub also: &'static [Source],
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
        also: &[],
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "it needs the customer's own Active Directory",
        behaviour_source: "https://learn.microsoft.com/en-us/exchange/architecture/client-access/autodiscover",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "https://DOMAIN/autodiscover/autodiscover.xml (POST)",
        source: Some(Source::AutodiscoverDomain),
        also: &[],
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/connectivity/certificate-error-when-start-outlook (KB 2772058); KB 2612922 (the order)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "https://autodiscover.DOMAIN/autodiscover/autodiscover.xml (POST)",
        source: Some(Source::Autodiscover),
        also: &[],
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/connectivity/certificate-error-when-start-outlook (KB 2772058)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "http://autodiscover.DOMAIN/autodiscover/autodiscover.xml (GET), following a redirect to HTTPS",
        source: Some(Source::AutodiscoverRedirect),
        also: &[],
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxdscli (section 3.1.5, HTTP redirect method)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "the _autodiscover._tcp.DOMAIN SRV record, then HTTPS to the name it gives",
        source: Some(Source::AutodiscoverSrv),
        also: &[],
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/profiles-and-accounts/how-to-control-autodiscover-via-group-policy (KB 2612922)",
        certain: true,
    },
    Step {
        client: Client::Outlook,
        asks: "the URL that worked last time, and Microsoft 365 (Outlook 2016 and later)",
        source: None,
        also: &[],
        on_bad_certificate: Reaction::ShowsDialog,
        not_asked_because: "they depend on the user's profile and on Microsoft's cloud",
        behaviour_source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/profiles-and-accounts/unexpected-autodiscover-behavior (KB 2212902)",
        certain: false,
    },
];

/// Thunderbird's account set-up. It asks all of these at once but takes the first answer in this
/// order (FindConfig's promiseFirstSuccessful), so the order is what decides; Outlook's
/// Autodiscover only when none of the steps before it answers. `account_setup` walks these
/// steps as Thunderbird's code does.
pub static THUNDERBIRD: &[Step] = &[
    Step {
        client: Client::Thunderbird,
        asks: "the configuration files shipped with Thunderbird (isp/DOMAIN.xml in the installation)",
        source: None,
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "they are on the user's computer",
        behaviour_source: TB_FIND_CONFIG,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS",
        source: Some(Source::Autoconfig),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml",
        source: Some(Source::AutoconfigWellKnown),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "http://autoconfig.DOMAIN/mail/config-v1.1.xml, then \
               http://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml (plain HTTP; a redirect \
               to HTTPS is followed)",
        source: Some(Source::AutoconfigHttp),
        also: &[Source::AutoconfigWellKnownHttp],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_FETCH,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "Mozilla's ISP database, https://live.thunderbird.net/autoconfig/v1.1/DOMAIN (lower-cased)",
        source: Some(Source::Ispdb),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_ISPDB,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "for the most preferred MX host's parent domain, then its registrable domain: \
               https://autoconfig.THAT/mail/config-v1.1.xml, then the ISP database for THAT",
        source: Some(Source::AutoconfigMx),
        also: &[Source::IspdbMx],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_FOR_MX,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "when nothing above answers, Outlook's Autodiscover: https://autodiscover.DOMAIN/autodiscover/autodiscover.xml (POST)",
        source: Some(Source::Autodiscover),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_AUTODISCOVER,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "https://DOMAIN/autodiscover/autodiscover.xml (POST)",
        source: Some(Source::AutodiscoverDomain),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_AUTODISCOVER,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "http://autodiscover.DOMAIN/autodiscover/autodiscover.xml, following its redirect to HTTPS",
        source: Some(Source::AutodiscoverRedirect),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_AUTODISCOVER,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "the _autodiscover._tcp.DOMAIN SRV record, then HTTPS to the name it gives",
        source: Some(Source::AutodiscoverSrv),
        also: &[],
        on_bad_certificate: Reaction::Skips,
        not_asked_because: "",
        behaviour_source: TB_AUTODISCOVER,
        certain: true,
    },
    Step {
        client: Client::Thunderbird,
        asks: "guesses: imap., pop3., pop., mail. and DOMAIN (IMAP 993, 143; POP3 995, 110), \
               smtp., mail. and DOMAIN (465, 587, 25); encrypted before plain, IMAP before POP3, \
               SSL/TLS before STARTTLS",
        source: Some(Source::Guess),
        also: &[],
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
/// Step 5: what Thunderbird asks, and what the server answers.
const TB_ISPDB: &str = "Thunderbird 153 omni.ja modules/accountcreation/FetchConfig.sys.mjs \
                        (fetchConfigFromDB: the pref mailnews.auto_config_url, default \
                        https://live.thunderbird.net/autoconfig/v1.1/, with \
                        InputSanitizer.hostname(domain), lower-cased, appended or put in place \
                        of {{domain}}), FindConfig.sys.mjs (parallelAutoDiscovery: fromDisk, \
                        fromISP, fromDB, forMX, the first success in that order wins, \
                        AccountCreationUtils.promiseFirstSuccessful); the server's files: \
                        github.com/thunderbird/autoconfig tools/convert.py (one file per \
                        domain element of each ispdb/ file, named for that domain)";
/// Step 6.
const TB_FOR_MX: &str = "Thunderbird 153 omni.ja modules/accountcreation/FetchConfig.sys.mjs \
                         (fetchConfigForMX: getMX takes the most preferred MX host; \
                         Services.eTLD.getBaseDomainFromHost gives its registrable domain, the \
                         step fails when that is the domain itself; \
                         Services.eTLD.getNextSubDomain gives the host's parent, asked first \
                         when it differs; for each: _fetchConfigFromIsp over HTTPS, autoconfig. \
                         only, then fetchConfigFromDB; the first success in that order)";
/// comm-central's ExchangeAutoDiscover (asked at once, used only when nothing before answers).
const TB_AUTODISCOVER: &str = "comm-central mail/components/accountcreation/modules/\
                               ExchangeAutoDiscover.sys.mjs, FindConfig.sys.mjs";
/// comm-central's GuessConfig (a bad certificate fails the guess: requireGoodCert; STARTTLS is
/// judged by the words before TLS).
const TB_GUESS: &str = "comm-central mail/components/accountcreation/modules/GuessConfig.sys.mjs \
                        (mailnews.auto_config.guess.requireGoodCert = true; STARTTLS judged \
                        before TLS)";

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
        // The step's records, in the order the client takes their answers.
        let asked: Vec<&Record> = records
            .iter()
            .filter(|r| r.source == source || step.also.contains(&r.source))
            .collect();
        let (record, reaction, answer) = step_outcome(step, &asked);
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

/// What one step gives, from its records: the first that hands out servers is used; with none,
/// the first record's failure decides (a bad certificate before an unanswered question before
/// the rest), and the answer says what each record gave.
fn step_outcome<'a>(step: &Step, asked: &[&'a Record]) -> (Option<&'a Record>, Reaction, String) {
    let Some(first) = asked.first().copied() else {
        // Discovery always records these steps: observations without them were saved before.
        if step.source.is_some_and(Source::elsewhere) {
            return (
                None,
                Reaction::NotAsked,
                "not asked: these observations were saved by a mailtls that did not ask this step"
                    .to_string(),
            );
        }
        return (None, Reaction::Skips, "nothing published".to_string());
    };
    if let Some(index) = asked.iter().position(|r| !r.servers.is_empty()) {
        let record = asked[index];
        let mut answer = format!(
            "hands out {}",
            record
                .servers
                .iter()
                .map(|s| format!("{}:{}", s.hostname, s.port))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // An earlier record whose answer is unknown could have been taken first.
        let unknown: Vec<&str> = asked[..index]
            .iter()
            .filter(|r| error_kind(r) == Some(SourceErrorKind::NotChecked))
            .map(|r| r.url_or_record.as_str())
            .collect();
        if !unknown.is_empty() {
            answer.push_str(&format!(
                " (unless {}, not checked, answers first)",
                unknown.join(", ")
            ));
        }
        return (Some(record), Reaction::Uses, answer);
    }
    let decisive = [SourceErrorKind::BadCertificate, SourceErrorKind::NotChecked]
        .into_iter()
        .find_map(|kind| asked.iter().copied().find(|r| error_kind(r) == Some(kind)))
        .unwrap_or(first);
    let reaction = match error_kind(decisive) {
        Some(SourceErrorKind::BadCertificate) => step.on_bad_certificate,
        // Our resolver did not answer: what the client would get there is unknown.
        Some(SourceErrorKind::NotChecked) => Reaction::NotAsked,
        _ => Reaction::Skips,
    };
    let answer = if asked.len() == 1 {
        record_answer(decisive)
    } else {
        asked
            .iter()
            .map(|r| format!("{}: {}", r.url_or_record, record_answer(r)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    (Some(decisive), reaction, answer)
}

fn error_kind(record: &Record) -> Option<SourceErrorKind> {
    record.error.as_ref().map(|e| e.kind)
}

/// What a record that hands out no server says.
fn record_answer(record: &Record) -> String {
    match &record.error {
        Some(error) => error.detail.clone(),
        None if record.not_offered => "not offered".to_string(),
        None => "nothing usable".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{Security, ServerEntry};
    use crate::service::Protocol;

    fn record(
        source: Source,
        url: &str,
        port: Option<u16>,
        error: Option<SourceErrorKind>,
    ) -> Record {
        let mut record = Record::new(source, url.to_string());
        if let Some(port) = port {
            record.servers.push(ServerEntry {
                protocol: Protocol::Imap,
                hostname: "imap.provider.test".to_string(),
                port,
                security: Security::Tls,
            });
        }
        if let Some(kind) = error {
            record.fail(kind, format!("{url}: {}", kind.as_str()));
        }
        record
    }

    fn last(walk: &[Walked]) -> (&str, Reaction, &str) {
        let step = walk.last().expect("a step");
        (
            step.asked.as_deref().unwrap_or_default(),
            step.reaction,
            step.answer.as_str(),
        )
    }

    #[test]
    fn step_6_uses_the_first_record_that_hands_out_servers() {
        let not_published = Some(SourceErrorKind::NotPublished);
        let mut records = vec![
            record(Source::Ispdb, "db/example.test", None, not_published),
            record(
                Source::AutoconfigMx,
                "autoconfig.eu.provider.test",
                None,
                not_published,
            ),
            record(Source::IspdbMx, "db/eu.provider.test", Some(143), None),
            record(
                Source::AutoconfigMx,
                "autoconfig.provider.test",
                None,
                not_published,
            ),
            record(Source::IspdbMx, "db/provider.test", Some(993), None),
        ];
        let walk = walk(Client::Thunderbird, &records, "example.test");
        assert_eq!(
            last(&walk),
            (
                "db/eu.provider.test",
                Reaction::Uses,
                "hands out imap.provider.test:143"
            )
        );
        // Step 5 was skipped on the way.
        assert!(walk.iter().any(
            |w| w.asked.as_deref() == Some("db/example.test") && w.reaction == Reaction::Skips
        ));

        // An earlier record whose answer is unknown is said.
        records[1] = record(
            Source::AutoconfigMx,
            "autoconfig.eu.provider.test",
            None,
            Some(SourceErrorKind::NotChecked),
        );
        let walk = super::walk(Client::Thunderbird, &records, "example.test");
        let (_, reaction, answer) = last(&walk);
        assert_eq!(reaction, Reaction::Uses);
        assert!(
            answer.contains("unless autoconfig.eu.provider.test, not checked"),
            "{answer}"
        );

        // Nothing anywhere: every record says what it gave, and the search goes on.
        records[2].servers.clear();
        records[4].servers.clear();
        records[1].error = None;
        let walk = super::walk(Client::Thunderbird, &records, "example.test");
        let step6 = walk
            .iter()
            .find(|w| w.step.also.contains(&Source::IspdbMx))
            .expect("step 6");
        assert_eq!(step6.reaction, Reaction::Skips);
        assert!(
            step6.answer.contains("db/provider.test: nothing usable"),
            "{}",
            step6.answer
        );
    }

    #[test]
    fn observations_saved_before_steps_5_and_6_say_so() {
        let records = vec![record(Source::Guess, "mail.example.test", Some(993), None)];
        let walk = walk(Client::Thunderbird, &records, "example.test");
        let not_asked: Vec<Reaction> = walk
            .iter()
            .filter(|w| w.step.source.is_some_and(Source::elsewhere))
            .map(|w| w.reaction)
            .collect();
        assert_eq!(not_asked, [Reaction::NotAsked, Reaction::NotAsked]);
        assert_eq!(last(&walk).1, Reaction::Uses);
    }
}
