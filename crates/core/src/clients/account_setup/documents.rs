//! The steps of Thunderbird's set-up before its guess, over discovery's records: which URL's
//! answer it takes, and what it reads there (FetchConfig.sys.mjs, FetchHTTP.sys.mjs,
//! readFromXML.sys.mjs, ExchangeAutoDiscover.sys.mjs). Pure.

use super::super::discovery::{Reaction, THUNDERBIRD, Walked};
use super::{FoundBy, SHIPPED, both};
use crate::observation::{Record, Security, ServerEntry, Source, SourceErrorKind};
use crate::service::Protocol;

/// Indexes into [`THUNDERBIRD`], which lists the steps in this order.
pub(super) const STEP_SHIPPED: usize = 0;
pub(super) const STEP_ISPDB: usize = 4;
pub(super) const STEP_MX: usize = 5;
pub(super) const STEP_GUESS: usize = 10;
/// The ISP's own autoconfig URLs, in Thunderbird's order, with their steps (the two plain-HTTP
/// URLs are one step).
pub(super) const ISP_URLS: [(Source, FoundBy, usize); 4] = [
    (Source::Autoconfig, FoundBy::Autoconfig, 1),
    (Source::AutoconfigWellKnown, FoundBy::AutoconfigWellKnown, 2),
    (Source::AutoconfigHttp, FoundBy::AutoconfigHttp, 3),
    (
        Source::AutoconfigWellKnownHttp,
        FoundBy::AutoconfigWellKnownHttp,
        3,
    ),
];
/// Autodiscover in Thunderbird's order (url1, url2, url3, SRV), with their steps.
pub(super) const AUTODISCOVER: [(Source, usize); 4] = [
    (Source::Autodiscover, 6),
    (Source::AutodiscoverDomain, 7),
    (Source::AutodiscoverRedirect, 8),
    (Source::AutodiscoverSrv, 9),
];

/// What one provisioning URL gave Thunderbird.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fetch {
    /// The fetch failed: Thunderbird goes on to the next URL, silently.
    Failed(String),
    /// Fetched, and these settings read from it: incoming, and outgoing when there is one.
    Usable(ServerEntry, Option<ServerEntry>),
    /// Fetched, but Thunderbird cannot read settings from it: the whole step fails.
    Unusable(String),
    /// mailtls does not know what Thunderbird got there.
    Unknown(String),
}

/// The outcome of the steps before the guess.
pub(super) struct Documents {
    pub(super) walk: Vec<Walked>,
    pub(super) unless: Vec<String>,
    pub(super) found: Option<(FoundBy, String, Option<ServerEntry>, Option<ServerEntry>)>,
}

/// The steps before the guess, up to the one that answers.
pub(super) fn documents(records: &[Record], domain: &str) -> Documents {
    let mut walk = Vec::new();
    let mut unless = Vec::new();
    let not_asked = |index: usize, answer: String| Walked {
        step: &THUNDERBIRD[index],
        asked: None,
        reaction: Reaction::NotAsked,
        dialog: None,
        answer,
    };
    if SHIPPED.contains(&domain) {
        walk.push(Walked {
            step: &THUNDERBIRD[STEP_SHIPPED],
            asked: Some(format!("isp/{domain}.xml")),
            reaction: Reaction::Uses,
            dialog: None,
            answer: format!("Thunderbird ships settings for {domain}; mailtls does not read them"),
        });
        return Documents {
            walk,
            unless,
            found: Some((
                FoundBy::ShippedFile,
                format!("isp/{domain}.xml"),
                None,
                None,
            )),
        };
    }
    walk.push(not_asked(
        STEP_SHIPPED,
        format!(
            "none for {domain} (Thunderbird ships only {})",
            SHIPPED.join(", ")
        ),
    ));
    let isp: Vec<(Source, usize)> = ISP_URLS.iter().map(|(s, _, i)| (*s, *i)).collect();
    if let Some((source, url, incoming, outgoing)) =
        first_fetched(records, domain, &isp, true, &mut walk, &mut unless)
    {
        let found_by = ISP_URLS
            .iter()
            .find(|(s, _, _)| *s == source)
            .map_or(FoundBy::Autoconfig, |(_, found_by, _)| *found_by);
        return Documents {
            walk,
            unless,
            found: Some((found_by, url, Some(incoming), outgoing)),
        };
    }
    // Mozilla's ISP database for the domain: one URL.
    if let Some((_, url, incoming, outgoing)) = first_fetched(
        records,
        domain,
        &[(Source::Ispdb, STEP_ISPDB)],
        true,
        &mut walk,
        &mut unless,
    ) {
        return Documents {
            walk,
            unless,
            found: Some((FoundBy::Ispdb, url, Some(incoming), outgoing)),
        };
    }
    if let Some((url, incoming, outgoing)) = mx_step(records, &mut walk, &mut unless) {
        return Documents {
            walk,
            unless,
            found: Some((FoundBy::MxDomain, url, Some(incoming), outgoing)),
        };
    }
    let found = first_fetched(
        records,
        domain,
        &AUTODISCOVER,
        false,
        &mut walk,
        &mut unless,
    )
    .map(|(_, url, incoming, outgoing)| (FoundBy::Autodiscover, url, Some(incoming), outgoing));
    Documents {
        walk,
        unless,
        found,
    }
}

/// Step 7, the MX host's domains: its records (`autoconfig-mx`, `ispdb-mx`) in the order
/// Thunderbird takes their answers, each fetched and read on its own (fetchConfigForMX's queue of
/// `_fetchConfigFromIsp` and `fetchConfigFromDB`): the first whose settings Thunderbird can read
/// wins. One step of the walk.
fn mx_step(
    records: &[Record],
    walk: &mut Vec<Walked>,
    unless: &mut Vec<String>,
) -> Option<(String, ServerEntry, Option<ServerEntry>)> {
    let step = &THUNDERBIRD[STEP_MX];
    let asked: Vec<&Record> = records
        .iter()
        .filter(|r| Some(r.source) == step.source || step.also.contains(&r.source))
        .collect();
    if asked.is_empty() {
        unless.push("the MX host's domains answer Thunderbird (not asked by mailtls)".to_string());
        walk.push(Walked {
            step,
            asked: None,
            reaction: Reaction::NotAsked,
            dialog: None,
            answer: "not asked by mailtls".to_string(),
        });
        return None;
    }
    let mut said: Vec<String> = Vec::new();
    let mut all_unknown = true;
    for record in &asked {
        let url = &record.url_or_record;
        match fetched(record, record.source == Source::AutoconfigMx) {
            Fetch::Usable(incoming, outgoing) => {
                walk.push(Walked {
                    step,
                    asked: Some(url.clone()),
                    reaction: Reaction::Uses,
                    dialog: None,
                    answer: uses(record, &incoming, outgoing.as_ref()),
                });
                return Some((url.clone(), incoming, outgoing));
            }
            Fetch::Unknown(why) => {
                unless.push(format!("{url} answers Thunderbird ({why})"));
                said.push(format!("{url}: {why}"));
            }
            Fetch::Failed(why) | Fetch::Unusable(why) => {
                all_unknown = false;
                said.push(format!("{url}: {why}"));
            }
        }
    }
    walk.push(Walked {
        step,
        asked: asked.first().map(|r| r.url_or_record.clone()),
        reaction: if all_unknown {
            Reaction::NotAsked
        } else {
            Reaction::Skips
        },
        dialog: None,
        answer: said.join("; "),
    });
    None
}

/// A step Thunderbird takes its settings from, in words: everything the record hands out, then
/// what Thunderbird reads of it.
fn uses(record: &Record, incoming: &ServerEntry, outgoing: Option<&ServerEntry>) -> String {
    let listed: Vec<String> = record
        .servers
        .iter()
        .map(|s| format!("{}:{}", s.hostname, s.port))
        .collect();
    format!(
        "hands out {}; Thunderbird takes {}",
        listed.join(", "),
        both(Some(incoming), outgoing)
    )
}

/// One group of URLs asked at once whose first successful fetch, in `steps`' order, is read and
/// ends the group (the ISP's autoconfig URLs, Autodiscover's): the step that answers, its URL and
/// the settings read there, or `None`. Every step looked at goes to `walk`.
fn first_fetched(
    records: &[Record],
    domain: &str,
    steps: &[(Source, usize)],
    autoconfig: bool,
    walk: &mut Vec<Walked>,
    unless: &mut Vec<String>,
) -> Option<(Source, String, ServerEntry, Option<ServerEntry>)> {
    let mut ended: Option<usize> = None;
    // What each URL of the step being walked gave: (reaction, URL, answer).
    let mut step: Vec<(Reaction, String, String)> = Vec::new();
    for (position, &(source, index)) in steps.iter().enumerate() {
        let record = records.iter().find(|r| r.source == source);
        let asked = record.map_or_else(
            || THUNDERBIRD[index].asks.replace("DOMAIN", domain),
            |r| r.url_or_record.clone(),
        );
        let (reaction, answer) = match (ended, record) {
            (Some(first), _) => (
                Reaction::Skips,
                format!("not read: step {} answered first", first + 1),
            ),
            // The redirect and SRV methods are recorded only when mailtls found a target.
            (None, None)
                if matches!(
                    source,
                    Source::AutodiscoverRedirect | Source::AutodiscoverSrv
                ) =>
            {
                (Reaction::Skips, "nothing published".to_string())
            }
            (None, None) => {
                unless.push(format!(
                    "{asked} answers Thunderbird (not asked by mailtls)"
                ));
                (Reaction::NotAsked, "not asked by mailtls".to_string())
            }
            (None, Some(record)) => match fetched(record, autoconfig) {
                Fetch::Failed(why) => (Reaction::Skips, why),
                Fetch::Unknown(why) => {
                    unless.push(format!("{asked} answers Thunderbird ({why})"));
                    (Reaction::NotAsked, why)
                }
                Fetch::Unusable(why) => {
                    ended = Some(index);
                    (
                        Reaction::Skips,
                        format!("{why}, and the URLs after it are not read"),
                    )
                }
                Fetch::Usable(incoming, outgoing) => {
                    walk.push(Walked {
                        step: &THUNDERBIRD[index],
                        asked: Some(asked.clone()),
                        reaction: Reaction::Uses,
                        dialog: None,
                        answer: uses(record, &incoming, outgoing.as_ref()),
                    });
                    return Some((source, asked, incoming, outgoing));
                }
            },
        };
        step.push((reaction, asked, answer));
        // The step's last URL: one line of the walk for all of them.
        if steps.get(position + 1).is_none_or(|next| next.1 != index) {
            walk.push(step_walked(index, std::mem::take(&mut step)));
        }
    }
    None
}

/// One step of the walk from what each of its URLs gave: not asked only when none was asked.
fn step_walked(index: usize, urls: Vec<(Reaction, String, String)>) -> Walked {
    let reaction = if urls.iter().all(|(r, _, _)| *r == Reaction::NotAsked) {
        Reaction::NotAsked
    } else {
        Reaction::Skips
    };
    let asked = urls.first().map(|(_, url, _)| url.clone());
    let same = urls.windows(2).all(|pair| pair[0].2 == pair[1].2);
    let answer = if same {
        urls.first().map(|(_, _, a)| a.clone()).unwrap_or_default()
    } else {
        urls.iter()
            .map(|(_, url, answer)| format!("{url}: {answer}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Walked {
        step: &THUNDERBIRD[index],
        asked,
        reaction,
        dialog: None,
        answer,
    }
}

/// What Thunderbird's fetch (FetchHTTP.sys.mjs) and reader make of one provisioning record:
/// `autoconfig` for clientConfig (readFromXML), else Autodiscover (readAutoDiscoverXML).
fn fetched(record: &Record, autoconfig: bool) -> Fetch {
    if let Some(error) = &record.error {
        let why = error.detail.clone();
        match error.kind {
            SourceErrorKind::NotPublished
            | SourceErrorKind::BadCertificate
            | SourceErrorKind::Unreachable
            | SourceErrorKind::BadRedirect => return Fetch::Failed(why),
            SourceErrorKind::NotChecked => return Fetch::Unknown(why),
            SourceErrorKind::InsideAddress => {
                return Fetch::Unknown(format!("{why}: not fetched by mailtls"));
            }
            SourceErrorKind::Redirect => {
                return Fetch::Unknown(format!(
                    "{why}: Thunderbird follows an address redirect, mailtls does not"
                ));
            }
            SourceErrorKind::Other => return Fetch::Unknown(why),
            SourceErrorKind::BadDocument => {}
        }
    }
    // A local copy of the ISP database stands for live.thunderbird.net, which answers text/xml.
    let (content_type, well_formed) = match &record.answer {
        Some(answer) => (
            answer.content_type.as_deref().unwrap_or(""),
            answer.well_formed,
        ),
        None if matches!(record.source, Source::Ispdb | Source::IspdbMx) => ("text/xml", true),
        None => {
            return Fetch::Unknown(
                "fetched by an older mailtls: what came back is not recorded".into(),
            );
        }
    };
    // FetchHTTP: an XML type is parsed (malformed XML too: the parser's error document comes
    // back, which the reader refuses), a JSON type as JSON (which XML is not: the fetch fails);
    // any other type comes back as text, which the reader refuses.
    let xml = ["text/xml", "application/xml", "text/rdf"]
        .iter()
        .any(|t| content_type.starts_with(t));
    let json = ["text/json", "application/json"]
        .iter()
        .any(|t| content_type.starts_with(t));
    if json {
        return Fetch::Failed(format!(
            "served as {content_type}, which Thunderbird reads as JSON and fails"
        ));
    }
    if xml && !well_formed {
        return Fetch::Unusable("not well-formed XML: Thunderbird cannot read it".to_string());
    }
    if !xml {
        let served = if content_type.is_empty() {
            "without a Content-Type".to_string()
        } else {
            format!("as {content_type}")
        };
        return Fetch::Unusable(format!(
            "served {served}, not as XML: Thunderbird cannot read it"
        ));
    }
    if record.servers.is_empty() {
        return if autoconfig {
            Fetch::Unusable(format!(
                "no settings Thunderbird can read ({})",
                record
                    .error
                    .as_ref()
                    .map_or("no server", |e| e.detail.as_str())
            ))
        } else {
            // An answer with Exchange servers only makes Thunderbird probe them: not modelled.
            Fetch::Unknown("no IMAP, POP3 or SMTP server in the answer".to_string())
        };
    }
    let valid = |s: &&ServerEntry| hostname_ok(&s.hostname);
    let incoming = record
        .servers
        .iter()
        .filter(|s| s.protocol != Protocol::Smtp)
        .find(valid)
        .map(|s| read_security(s, autoconfig));
    let outgoing = record
        .servers
        .iter()
        .filter(|s| s.protocol == Protocol::Smtp)
        .find(valid)
        .map(|s| read_security(s, autoconfig));
    match (incoming, outgoing) {
        (None, _) => Fetch::Unusable("no incoming server Thunderbird accepts".to_string()),
        // A clientConfig needs both; an Autodiscover answer without SMTP leaves Thunderbird
        // with the outgoing server it already has.
        (Some(_), None) if autoconfig => {
            Fetch::Unusable("no outgoing server Thunderbird accepts".to_string())
        }
        (Some(incoming), outgoing) => Fetch::Usable(incoming, outgoing),
    }
}

/// The security Thunderbird reads: a clientConfig says it; Autodiscover's `SSL on` is STARTTLS
/// on 143, 110, 25 and 587 and SSL/TLS on every other port (readAutoDiscoverXML).
fn read_security(server: &ServerEntry, autoconfig: bool) -> ServerEntry {
    let mut server = server.clone();
    if !autoconfig && server.security != Security::Plain {
        server.security = if matches!(server.port, 143 | 110 | 25 | 587) {
            Security::Starttls
        } else {
            Security::Tls
        };
    }
    server
}

/// Whether Thunderbird accepts a host name from a document (InputSanitizer.hostname: letters,
/// digits, `-` and `.` in labels of legal length).
pub fn hostname_ok(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}
