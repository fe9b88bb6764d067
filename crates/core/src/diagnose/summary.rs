//! What a report's one-line summary claims, as a stable kind (`summary_kind` in the JSON): the
//! sentence is for people, the kind for programs and for the tests that hold every summary to
//! its details. The host report's kind is decided here, from the diagnosis; the mail-domain
//! report's where its summary is made ([`super::discovery`]). Pure.

use super::autodiscover::AutodiscoverWarning;
use super::discovery::{self, Entry, EntryStatus};
use super::{Code, Diagnosis, Verdict};
use crate::observation::{FailureKind, Source, SourceErrorKind, UnansweredHost};
use crate::target::Target;

crate::vocabulary::vocabulary! {
    /// The claim a summary makes.
    pub enum SummaryKind {
        /// Host: every port that answered works without a warning. Domain: every server handed
        /// out works, and every host checked is without a warning.
        AllGood => "all-good",
        /// Host: the certificate does not cover the name used; another name on it was
        /// verified on the client ports (the recommendation).
        UseOtherName => "use-other-name",
        /// Host: one problem leads the answer (the headline's code is in the sentence).
        Problem => "problem",
        /// Host: several faults that make clients warn or fail, counted and listed in the
        /// order to fix them.
        ProblemsToFix => "problems-to-fix",
        /// Every port that answered (host), or the servers named (domain), turned the check
        /// away as busy: nothing is known about their TLS.
        RateLimited => "rate-limited",
        /// Host: no mail port answered on any address.
        NoAnswer => "no-answer",
        /// Domain: Outlook shows a certificate dialog while its Autodiscover looks for the
        /// settings.
        AutodiscoverDialog => "autodiscover-dialog",
        /// Domain: no source hands out any server.
        NothingFound => "nothing-found",
        /// Domain: some servers handed out make clients warn (or send the password in clear);
        /// the sentence counts them: N of the M servers (host and port) handed out.
        ServersWarn => "servers-warn",
        /// Domain: a settings document is served behind an invalid HTTPS certificate.
        SettingsBadCertificate => "settings-bad-certificate",
        /// Domain: a host handed out does not resolve (no such name, or not a host name).
        DoesNotResolve => "does-not-resolve",
        /// Domain: nothing answered on a port handed out.
        DidNotAnswer => "did-not-answer",
        /// Domain: a source or a host handed out could not be checked (mailtls's resolver did
        /// not answer, or this run does not connect to the host's address).
        NotChecked => "not-checked",
        /// Domain: a source cannot be used by clients (not well-formed, a redirect loop...).
        SourceUnusable => "source-unusable",
        /// Domain: the servers work, but nothing but MX is published: clients must guess.
        NothingPublished => "nothing-published",
        /// Domain: every server handed out presents a certificate that covers its name, but a
        /// host checked has warnings.
        HostWarnings => "host-warnings",
        /// Domain: a kind of sending server (MTA-STS or DANE) delivers to none of the MX hosts:
        /// mail from it waits and then bounces (the inbound section's errors).
        InboundRefused => "inbound-refused",
    }
}

impl Diagnosis {
    /// The claim the host report's summary makes ([`crate::report::summary`] words it).
    pub fn summary_kind(&self) -> SummaryKind {
        match self.verdict {
            Verdict::Unknown
                if self.endpoints.iter().any(|e| {
                    e.observation.reachable
                        && e.observation
                            .failure
                            .as_ref()
                            .is_some_and(|f| f.kind == FailureKind::RateLimited)
                }) =>
            {
                SummaryKind::RateLimited
            }
            Verdict::Unknown => SummaryKind::NoAnswer,
            Verdict::Ok => SummaryKind::AllGood,
            Verdict::Fail if self.to_fix().len() > 1 => SummaryKind::ProblemsToFix,
            Verdict::Warn | Verdict::Fail => match (&self.recommendation, &self.headline) {
                (Some(r), Some(h))
                    if Some(r.server_name.as_str()) != self.target.dns_name()
                        && matches!(
                            h.code,
                            Code::NameMismatch
                                | Code::IpAddressUsed
                                | Code::SniDependent
                                | Code::DifferentCertPerPort
                        ) =>
                {
                    SummaryKind::UseOtherName
                }
                _ => SummaryKind::Problem,
            },
        }
    }
}

/// The verdict, the claim and the sentence that open the report: the first that applies of
/// Outlook's dialog, nothing found, servers that make clients warn, settings behind a bad
/// certificate, hosts that do not resolve, turn the check away or do not answer, something not
/// checked, a source clients cannot use, hosts with warnings, nothing published; else all good.
/// Each claim rests on the entries (or hosts) that make it true, and names or counts them; what
/// no client reaches (Thunderbird's steps 5 and 6 after settings found before) is left out.
/// `found_elsewhere`: the source of those steps where Thunderbird finds its settings.
pub(super) fn domain(
    domain: &str,
    entries: &[Entry],
    hosts: &[Diagnosis],
    warning: Option<&AutodiscoverWarning>,
    unanswered: &[UnansweredHost],
    found_elsewhere: Option<Source>,
) -> (Verdict, SummaryKind, String) {
    if let Some(warning) = warning {
        return (
            Verdict::Fail,
            SummaryKind::AutodiscoverDialog,
            warning.summary.clone(),
        );
    }
    let entries: &[Entry] = &entries
        .iter()
        .filter(|e| e.reached)
        .cloned()
        .collect::<Vec<_>>();
    let hosts: Vec<&Diagnosis> = hosts
        .iter()
        .filter(|h| {
            entries
                .iter()
                .any(|e| Target::parse(&e.hostname).is_ok_and(|t| t == h.target))
        })
        .collect();
    let handed_out = servers(entries, |_| true);
    if handed_out.is_empty() && !entries.iter().any(|e| e.status == EntryStatus::NotChecked) {
        return (
            Verdict::Unknown,
            SummaryKind::NothingFound,
            format!("Nothing found for {domain}: no SRV, MX, autoconfig or autodiscover."),
        );
    }
    let broken = servers(entries, |e| e.status.is_broken());
    if !broken.is_empty() {
        let one = broken.len() == 1;
        let verb =
            |singular: &'static str, plural: &'static str| if one { singular } else { plural };
        let plaintext = entries.iter().any(|e| e.status == EntryStatus::Plaintext);
        let certificate = entries
            .iter()
            .any(|e| e.status.is_broken() && e.status != EntryStatus::Plaintext);
        let what = match (certificate, plaintext) {
            (true, true) => format!(
                "{} clients warn or {} the password unencrypted",
                verb("makes", "make"),
                verb("sends", "send")
            ),
            (false, true) => format!("{} the password unencrypted", verb("sends", "send")),
            _ => format!("{} clients warn", verb("makes", "make")),
        };
        return (
            Verdict::Fail,
            SummaryKind::ServersWarn,
            format!(
                "Problem: {} of {} {} handed out for {domain} {what}; fix the provisioning below.",
                broken.len(),
                handed_out.len(),
                if handed_out.len() == 1 {
                    "server"
                } else {
                    "servers"
                }
            ),
        );
    }
    // Thunderbird skips the settings of its steps 5 and 6 behind a bad certificate without a
    // word: not the domain's provisioning.
    if let Some(bad) = entries
        .iter()
        .find(|e| e.error == Some(SourceErrorKind::BadCertificate) && !e.source.elsewhere())
    {
        return (
            Verdict::Fail,
            SummaryKind::SettingsBadCertificate,
            format!(
                "Problem: {domain} serves its provisioning with an invalid HTTPS certificate, so \
                 clients do not use it: {}.",
                discovery::client_reaction(bad.source)
            ),
        );
    }
    let works = entries.iter().any(|e| e.status == EntryStatus::Works);
    let unresolved = names(entries, EntryStatus::DoesNotResolve);
    if !unresolved.is_empty() {
        let verb = if unresolved.len() == 1 {
            "does not resolve"
        } else {
            "do not resolve"
        };
        let listed = and_list(&unresolved);
        return if works {
            (
                Verdict::Warn,
                SummaryKind::DoesNotResolve,
                format!(
                    "Warning: {listed}, handed out for {domain}, {verb}: clients sent there \
                     cannot connect."
                ),
            )
        } else {
            (
                Verdict::Unknown,
                SummaryKind::DoesNotResolve,
                format!(
                    "Could not check {domain}: no server handed out could be checked; {listed} \
                     {verb}."
                ),
            )
        };
    }
    for (status, kind, why) in [
        (
            EntryStatus::RateLimited,
            SummaryKind::RateLimited,
            "turned the check away as busy (rate-limited; not a TLS problem)",
        ),
        (
            EntryStatus::Unreachable,
            SummaryKind::DidNotAnswer,
            "did not answer on the port handed out",
        ),
    ] {
        let silent = servers(entries, |e| e.status == status);
        if silent.is_empty() {
            continue;
        }
        return if works {
            (
                Verdict::Warn,
                kind,
                format!(
                    "Warning: {} handed out for {domain} {why}.",
                    silent.join(", ")
                ),
            )
        } else {
            (
                Verdict::Unknown,
                kind,
                format!(
                    "Could not check {domain}: no server handed out could be checked; {} {why}.",
                    silent.join(", ")
                ),
            )
        };
    }
    if let Some(unknown) = entries.iter().find(|e| e.status == EntryStatus::NotChecked) {
        let what = if unknown.hostname.is_empty() {
            format!("{} ({})", unknown.url_or_record, unknown.source.as_str())
        } else {
            format!(
                "{}, handed out by {} ({}),",
                unknown.hostname,
                unknown.url_or_record,
                unknown.source.as_str()
            )
        };
        // Asking again helps only where the resolver was silent.
        let again =
            unknown.hostname.is_empty() || unanswered.iter().any(|u| u.name == unknown.hostname);
        return (
            Verdict::Unknown,
            SummaryKind::NotChecked,
            format!(
                "Could not finish checking {domain}: {what} was not checked ({}){}",
                unknown.detail.clone().unwrap_or_default(),
                if again { "; run the check again." } else { "." }
            ),
        );
    }
    if let Some(error) = entries
        .iter()
        .find(|e| e.status == EntryStatus::SourceError)
    {
        return (
            Verdict::Warn,
            SummaryKind::SourceUnusable,
            format!(
                "Warning: {} ({}) cannot be used by clients: {}.",
                error.url_or_record,
                error.source.as_str(),
                error.detail.clone().unwrap_or_default()
            ),
        );
    }
    let warned: Vec<String> = hosts
        .iter()
        .filter(|h| h.verdict != Verdict::Ok)
        .map(|h| match &h.headline {
            Some(headline) => format!("{} ({})", h.target, headline.code.as_str()),
            None => h.target.to_string(),
        })
        .collect();
    if !warned.is_empty() {
        return (
            Verdict::Warn,
            SummaryKind::HostWarnings,
            format!(
                "Warning: the servers handed out for {domain} present certificates that cover \
                 their names, but {} {} warnings; mailtls check HOST says more.",
                and_list(&warned),
                if warned.len() == 1 { "has" } else { "have" }
            ),
        );
    }
    let published = entries.iter().any(|e| {
        !matches!(e.source, Source::Guess | Source::Mx)
            && !e.source.elsewhere()
            && !e.hostname.is_empty()
    });
    if !published {
        // Thunderbird may still find settings that speak for the domain elsewhere.
        let who = match found_elsewhere {
            Some(Source::Ispdb) => {
                ": Thunderbird takes the settings Mozilla's ISP database lists for it, other \
                 clients must guess"
            }
            Some(_) => {
                ": Thunderbird takes the settings published for its MX host's provider, other \
                 clients must guess"
            }
            None => "; clients must guess",
        };
        return (
            Verdict::Warn,
            SummaryKind::NothingPublished,
            format!("Warning: {domain} publishes no SRV, autoconfig or autodiscover{who}."),
        );
    }
    (
        Verdict::Ok,
        SummaryKind::AllGood,
        format!(
            "All good: every server handed out for {domain} presents a certificate that covers \
             its name."
        ),
    )
}

/// The servers (`host:port`, distinct, sorted) of the entries that `keep`.
fn servers(entries: &[Entry], keep: impl Fn(&Entry) -> bool) -> Vec<String> {
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| !e.hostname.is_empty() && keep(e))
        .map(|e| match e.port {
            Some(port) => format!("{}:{port}", e.hostname),
            None => e.hostname.clone(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The host names (distinct, sorted) of the entries with `status`.
fn names(entries: &[Entry], status: EntryStatus) -> Vec<String> {
    let mut out: Vec<String> = entries
        .iter()
        .filter(|e| e.status == status && !e.hostname.is_empty())
        .map(|e| e.hostname.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::diagnose::{Problem, Severity};
    use crate::target::Target;

    const HOSTS: [&str; 3] = ["a.example.test", "b.example.test", "c.example.test"];
    const PORTS: [u16; 4] = [25, 465, 993, 143];
    const SOURCES: [Source; 6] = [
        Source::Srv,
        Source::Mx,
        Source::Autoconfig,
        Source::Guess,
        Source::Ispdb,
        Source::AutoconfigMx,
    ];

    /// One entry: a server handed out (any status but a source's own), or a source's failure;
    /// of Thunderbird's steps 5 and 6, reached or not.
    fn entry() -> impl Strategy<Value = Entry> {
        (
            any::<bool>(),
            0..HOSTS.len(),
            0..PORTS.len(),
            0..SOURCES.len(),
            0..EntryStatus::ALL.len(),
            prop_oneof![
                Just(SourceErrorKind::BadCertificate),
                Just(SourceErrorKind::BadDocument),
                Just(SourceErrorKind::BadRedirect),
                Just(SourceErrorKind::NotChecked),
            ],
        )
            .prop_map(|(reached, host, port, source, status, error)| {
                let status = EntryStatus::ALL[status];
                let bare = matches!(status, EntryStatus::SourceError | EntryStatus::NotOffered)
                    || (status == EntryStatus::NotChecked && error == SourceErrorKind::NotChecked);
                Entry {
                    source: SOURCES[source],
                    url_or_record: format!("record-{source}"),
                    hostname: if bare {
                        String::new()
                    } else {
                        HOSTS[host].to_string()
                    },
                    port: (!bare).then_some(PORTS[port]),
                    security: None,
                    status,
                    detail: Some("detail".to_string()),
                    error: (status == EntryStatus::SourceError
                        || (bare && status == EntryStatus::NotChecked))
                        .then_some(error),
                    instead: None,
                    reached: reached || !SOURCES[source].elsewhere(),
                }
            })
    }

    /// A host checked: `ok`, or with a warning.
    fn host(name: &str, warns: bool) -> Diagnosis {
        Diagnosis {
            target: Target::Dns(name.to_string()),
            addresses: Vec::new(),
            endpoints: Vec::new(),
            problems: Vec::new(),
            recommendation: None,
            verdict: if warns { Verdict::Warn } else { Verdict::Ok },
            headline: warns
                .then(|| Problem::new(Code::WeakCipher, Severity::Warning, "weak suites")),
        }
    }

    fn distinct(entries: &[Entry], keep: impl Fn(&Entry) -> bool) -> usize {
        servers(entries, keep).len()
    }

    proptest! {
        /// Whatever the entries, the summary's claim is one the entries (and hosts) make true,
        /// its verdict is the claim's, and its words say only that claim.
        #[test]
        fn the_summary_never_contradicts_the_entries(
            all in proptest::collection::vec(entry(), 0..8),
            warned in proptest::collection::vec(any::<bool>(), HOSTS.len()),
        ) {
            let hosts: Vec<Diagnosis> = HOSTS
                .iter()
                .zip(&warned)
                .filter(|(name, _)| all.iter().any(|e| e.hostname == **name))
                .map(|(name, warns)| host(name, *warns))
                .collect();
            let (verdict, kind, sentence) = domain("example.test", &all, &hosts, None, &[], None);
            // What no client reaches is not the summary's business; the hosts it names are.
            let entries: Vec<Entry> = all.iter().filter(|e| e.reached).cloned().collect();
            let hosts: Vec<&Diagnosis> = hosts
                .iter()
                .filter(|h| entries.iter().any(|e| e.hostname == h.target.to_string()))
                .collect();
            let any = |status: EntryStatus| entries.iter().any(|e| e.status == status);
            let handed_out: Vec<&Entry> =
                entries.iter().filter(|e| !e.hostname.is_empty()).collect();
            let works = any(EntryStatus::Works);
            prop_assert_eq!(verdict == Verdict::Ok, kind == SummaryKind::AllGood, "{}", sentence);
            match kind {
                SummaryKind::AllGood => {
                    prop_assert!(handed_out.iter().all(|e| matches!(
                        e.status,
                        EntryStatus::Works | EntryStatus::NotOffered
                    )));
                    prop_assert!(!any(EntryStatus::NotChecked) && !any(EntryStatus::SourceError));
                    prop_assert!(hosts.iter().all(|h| h.verdict == Verdict::Ok));
                    prop_assert!(sentence.starts_with("All good"));
                }
                SummaryKind::NothingFound => {
                    prop_assert!(handed_out.is_empty());
                    prop_assert_eq!(verdict, Verdict::Unknown);
                }
                SummaryKind::ServersWarn => {
                    prop_assert_eq!(verdict, Verdict::Fail);
                    let claim = format!(
                        "Problem: {} of {} server",
                        distinct(&entries, |e| e.status.is_broken()),
                        distinct(&entries, |_| true)
                    );
                    prop_assert!(sentence.starts_with(&claim), "{} / {}", claim, sentence);
                }
                SummaryKind::SettingsBadCertificate => {
                    let own_bad = entries.iter().any(|e| {
                        e.error == Some(SourceErrorKind::BadCertificate) && !e.source.elsewhere()
                    });
                    prop_assert!(own_bad);
                    prop_assert!(!entries.iter().any(|e| e.status.is_broken()));
                    prop_assert_eq!(verdict, Verdict::Fail);
                }
                SummaryKind::DoesNotResolve
                | SummaryKind::RateLimited
                | SummaryKind::DidNotAnswer => {
                    let status = match kind {
                        SummaryKind::DoesNotResolve => EntryStatus::DoesNotResolve,
                        SummaryKind::RateLimited => EntryStatus::RateLimited,
                        _ => EntryStatus::Unreachable,
                    };
                    prop_assert!(any(status));
                    prop_assert!(!entries.iter().any(|e| e.status.is_broken()));
                    // The most certain silence is the one said: a name that does not resolve
                    // is never said to be silent.
                    if kind != SummaryKind::DoesNotResolve {
                        prop_assert!(!any(EntryStatus::DoesNotResolve));
                    }
                    for entry in entries.iter().filter(|e| e.status == status) {
                        prop_assert!(sentence.contains(&entry.hostname), "{}", sentence);
                    }
                    prop_assert_eq!(
                        verdict,
                        if works { Verdict::Warn } else { Verdict::Unknown }
                    );
                }
                SummaryKind::NotChecked => {
                    prop_assert!(any(EntryStatus::NotChecked));
                    prop_assert_eq!(verdict, Verdict::Unknown);
                }
                SummaryKind::SourceUnusable => {
                    prop_assert!(any(EntryStatus::SourceError));
                    prop_assert_eq!(verdict, Verdict::Warn);
                }
                SummaryKind::HostWarnings => {
                    prop_assert!(hosts.iter().any(|h| h.verdict != Verdict::Ok));
                    prop_assert!(handed_out.iter().all(|e| matches!(
                        e.status,
                        EntryStatus::Works | EntryStatus::NotOffered
                    )));
                    prop_assert_eq!(verdict, Verdict::Warn);
                }
                SummaryKind::NothingPublished => {
                    let published = handed_out.iter().any(|e| {
                        !matches!(e.source, Source::Mx | Source::Guess) && !e.source.elsewhere()
                    });
                    prop_assert!(!published);
                    prop_assert_eq!(verdict, Verdict::Warn);
                }
                other => prop_assert!(false, "a host report's kind for a domain: {:?}", other),
            }
            // The words say only the claim made.
            prop_assert_eq!(
                sentence.contains("did not answer"),
                kind == SummaryKind::DidNotAnswer,
                "{}",
                sentence
            );
            prop_assert_eq!(
                sentence.contains("not resolve"),
                kind == SummaryKind::DoesNotResolve,
                "{}",
                sentence
            );
        }
    }
}
