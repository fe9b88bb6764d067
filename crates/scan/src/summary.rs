//! What a scan found, from the store's rows: what to fix first, grouped by cause and server
//! ("412 domains on luna.hostingco.example hand out mail.DOMAIN through srv and autoconfig; the
//! certificate covers luna.hostingco.example, verified: provision that"), then counts per cause,
//! then one row per target. And what changed between two scans. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::inbound::{self, InboundCounts};
use super::record::{Unchecked, by_name};
use super::store::{
    DiscoveryRecord, InboundRecord, ProblemRecord, ScanInfo, StoreErrors, TargetSummary,
};
use mailtls_core::diagnose::discovery::EntryStatus;
use mailtls_core::diagnose::{Code, Severity, Verdict};
use mailtls_core::exit;
use mailtls_core::observation::{Source, SourceErrorKind};

/// Most example targets kept per group.
const EXAMPLES: usize = 3;

/// A scan, summarised.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The scan.
    pub scan: ScanInfo,
    /// Targets per verdict.
    pub verdicts: BTreeMap<Verdict, u64>,
    /// What to fix, most important first.
    pub fixes: Vec<FixGroup>,
    /// Targets affected per cause, most first.
    pub causes: Vec<CauseCount>,
    /// Every target.
    pub targets: Vec<TargetSummary>,
    /// Per target, its causes (the [`FixGroup::cause`]s it is counted under): errors first,
    /// then warnings, alphabetically within each. A target with none is absent.
    pub codes: BTreeMap<String, Vec<Cause>>,
    /// Lines that were not targets: (line, text, reason).
    pub rejected: Vec<(u64, String, String)>,
    /// The mail domains' inbound delivery (MTA-STS, DANE), by target.
    pub inbound: Vec<InboundRecord>,
    /// How many have each MTA-STS state, DANE state and answer to "can it cost mail?".
    pub inbound_counts: InboundCounts,
    /// The store errors met reading (and, after a scan, writing) it: rows left out because
    /// they could not be read are among them.
    pub store_errors: StoreErrors,
    /// The exit status: 2 if a target fails, else 1 if one warns, else 3 if one could not be
    /// checked or a row could not be read, else 0.
    pub exit_code: u8,
}

/// What a group of targets shares: a problem on a server, something a discovery source hands
/// out, or why nothing could be checked. Ordered by name, as reports list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A problem found on the server.
    Problem(Code),
    /// A source publishes settings with an HTTPS certificate that does not cover its host.
    SourceBadCertificate,
    /// A source publishes settings clients cannot read.
    SourceBadDocument,
    /// A source hands out a server without TLS.
    Plaintext,
    /// Nothing could be checked.
    Unchecked(Unchecked),
}

impl Cause {
    /// Its stable name: the problem code, `source-bad-certificate`, `source-bad-document`,
    /// `plaintext`, or why nothing could be checked (docs/json.md).
    pub fn as_str(&self) -> &'static str {
        match self {
            Cause::Problem(code) => code.as_str(),
            Cause::SourceBadCertificate => "source-bad-certificate",
            Cause::SourceBadDocument => "source-bad-document",
            Cause::Plaintext => "plaintext",
            Cause::Unchecked(why) => why.as_str(),
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Ord for Cause {
    fn cmp(&self, other: &Cause) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Cause {
    fn partial_cmp(&self, other: &Cause) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Targets sharing one cause on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixGroup {
    /// What the targets share.
    pub cause: Cause,
    /// Error or warning.
    pub severity: Severity,
    /// The server: the names its certificate presents, else its host name.
    pub server: String,
    /// A name on the certificate verified to work on every client port, to provision.
    pub verified_name: Option<String>,
    /// How many targets.
    pub targets: u64,
    /// The names handed out, with the target's domain written DOMAIN (e.g. `mail.DOMAIN`).
    pub names: Vec<String>,
    /// The discovery sources that handed them out, by name.
    pub sources: Vec<Source>,
    /// A few of the targets.
    pub examples: Vec<String>,
    /// The group in one sentence, with what to do.
    pub sentence: String,
}

/// One cause and how many targets have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseCount {
    /// The cause.
    pub cause: Cause,
    /// How many targets.
    pub targets: u64,
}

#[derive(Default)]
struct Group {
    /// The most serious severity among its problems.
    severity: Option<Severity>,
    targets: BTreeSet<String>,
    names: BTreeMap<String, u64>,
    sources: BTreeSet<Source>,
}

impl Group {
    /// Notes a problem of `severity`: the group is as serious as its worst.
    fn worst(&mut self, severity: Severity) {
        self.severity = Some(self.severity.map_or(severity, |s| s.min(severity)));
    }
}

/// A scan's rows, as read from the store.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    /// Its targets.
    pub targets: &'a [TargetSummary],
    /// Their problems.
    pub problems: &'a [ProblemRecord],
    /// The mail domains' inbound delivery.
    pub inbound: &'a [InboundRecord],
}

/// Summarises a scan from its rows.
pub fn summarize(
    scan: ScanInfo,
    targets: Vec<TargetSummary>,
    problems: &[ProblemRecord],
    discovery: &[DiscoveryRecord],
    inbound: Vec<InboundRecord>,
    rejected: Vec<(u64, String, String)>,
    store_errors: StoreErrors,
) -> Fleet {
    let mut verdicts: BTreeMap<Verdict, u64> = BTreeMap::new();
    for target in &targets {
        *verdicts.entry(target.verdict).or_default() += 1;
    }
    let mut groups: HashMap<(Cause, String, Option<String>), Group> = HashMap::new();
    let mut causes: BTreeMap<Cause, BTreeSet<String>> = BTreeMap::new();
    // Per target, each cause with its most serious severity.
    let mut per_target: BTreeMap<String, BTreeMap<Cause, Severity>> = BTreeMap::new();
    let mut note = |target: &str, cause: Cause, severity: Severity| {
        per_target
            .entry(target.to_string())
            .or_default()
            .entry(cause)
            .and_modify(|s| *s = (*s).min(severity))
            .or_insert(severity);
    };
    for problem in problems.iter().filter(|p| p.severity != Severity::Info) {
        let cause = Cause::Problem(problem.code);
        let server = problem
            .presented_names
            .clone()
            .filter(|names| !names.is_empty())
            .unwrap_or_else(|| problem.server.clone());
        let verified = problem.suggested_name.clone().filter(|_| problem.verified);
        let group = groups.entry((cause, server, verified)).or_default();
        group.worst(problem.severity);
        if group.targets.insert(problem.target.clone()) {
            *group
                .names
                .entry(pattern(&problem.server, &problem.target))
                .or_default() += 1;
        }
        group.sources.extend(problem.sources.iter().copied());
        causes
            .entry(cause)
            .or_default()
            .insert(problem.target.clone());
        note(&problem.target, cause, problem.severity);
    }
    for entry in discovery {
        let cause = match (entry.status, entry.error) {
            (EntryStatus::SourceError, Some(SourceErrorKind::BadCertificate)) => {
                Cause::SourceBadCertificate
            }
            (EntryStatus::SourceError, Some(SourceErrorKind::BadDocument)) => {
                Cause::SourceBadDocument
            }
            (EntryStatus::Plaintext, _) => Cause::Plaintext,
            _ => continue,
        };
        let host = host_of(&entry.url_or_record);
        let group = groups
            .entry((cause, pattern(&host, &entry.target), None))
            .or_default();
        group.severity = Some(Severity::Error);
        if group.targets.insert(entry.target.clone()) {
            *group
                .names
                .entry(pattern(&host, &entry.target))
                .or_default() += 1;
        }
        group.sources.insert(entry.source);
        causes
            .entry(cause)
            .or_default()
            .insert(entry.target.clone());
        note(&entry.target, cause, Severity::Error);
    }
    for target in &targets {
        if let Some(error) = target.error {
            let cause = Cause::Unchecked(error);
            let group = groups.entry((cause, String::new(), None)).or_default();
            group.severity = Some(Severity::Warning);
            group.targets.insert(target.target.clone());
            causes
                .entry(cause)
                .or_default()
                .insert(target.target.clone());
            note(&target.target, cause, Severity::Warning);
        }
    }
    let codes: BTreeMap<String, Vec<Cause>> = per_target
        .into_iter()
        .map(|(target, causes)| {
            let mut causes: Vec<(Severity, Cause)> = causes
                .into_iter()
                .map(|(cause, severity)| (severity, cause))
                .collect();
            causes.sort();
            (target, causes.into_iter().map(|(_, cause)| cause).collect())
        })
        .collect();
    let mut fixes: Vec<FixGroup> = groups
        .into_iter()
        .map(|((cause, server, verified_name), group)| {
            let mut names: Vec<(String, u64)> = group.names.into_iter().collect();
            names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut fix = FixGroup {
                cause,
                severity: group.severity.unwrap_or(Severity::Warning),
                server,
                verified_name,
                targets: group.targets.len() as u64,
                names: names.into_iter().take(EXAMPLES).map(|(n, _)| n).collect(),
                sources: by_name(group.sources),
                examples: group.targets.into_iter().take(EXAMPLES).collect(),
                sentence: String::new(),
            };
            fix.sentence = sentence(&fix);
            fix
        })
        .collect();
    fixes.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.targets.cmp(&a.targets))
            .then(a.cause.cmp(&b.cause))
            .then(a.server.cmp(&b.server))
    });
    let mut causes: Vec<CauseCount> = causes
        .into_iter()
        .map(|(cause, targets)| CauseCount {
            cause,
            targets: targets.len() as u64,
        })
        .collect();
    causes.sort_by(|a, b| b.targets.cmp(&a.targets).then(a.cause.cmp(&b.cause)));
    let exit_code = fleet_exit(&verdicts, &store_errors);
    Fleet {
        scan,
        verdicts,
        fixes,
        causes,
        targets,
        codes,
        rejected,
        inbound_counts: inbound::counts(&inbound),
        inbound,
        store_errors,
        exit_code,
    }
}

/// 2 if a target fails, else 1 if one warns, else 3 if one could not be checked (or a row
/// could not be read: what it held is not known), else 0.
fn fleet_exit(verdicts: &BTreeMap<Verdict, u64>, store_errors: &StoreErrors) -> u8 {
    let has = |v: Verdict| verdicts.get(&v).is_some_and(|&n| n > 0);
    if has(Verdict::Fail) {
        exit::FAIL
    } else if has(Verdict::Warn) {
        exit::WARN
    } else if has(Verdict::Unknown) || store_errors.total() > 0 {
        exit::UNKNOWN
    } else {
        exit::OK
    }
}

/// `server` with the target's domain written DOMAIN: `mail.example.com` for target
/// `jane@example.com` (or for target `example.com`, or `mail.example.com` itself) is
/// `mail.DOMAIN`. A host target's domain is its registrable domain (Public Suffix List).
fn pattern(server: &str, target: &str) -> String {
    let domain = match target.split_once('@') {
        Some((_, domain)) => domain,
        None if target == server => psl::domain_str(target).unwrap_or(target),
        None => target,
    };
    if server == domain {
        "DOMAIN".to_string()
    } else if let Some(prefix) = server.strip_suffix(&format!(".{domain}")) {
        format!("{prefix}.DOMAIN")
    } else {
        server.to_string()
    }
}

/// The host of a URL, or the record itself.
fn host_of(url_or_record: &str) -> String {
    url::Url::parse(url_or_record)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url_or_record.to_string())
}

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The group in one sentence, leading with what to do.
fn sentence(fix: &FixGroup) -> String {
    let n = fix.targets;
    let one = n == 1;
    // Singular or plural verb.
    let verb = |singular: &'static str, plural: &'static str| if one { singular } else { plural };
    let targets = if one {
        "1 target".to_string()
    } else {
        format!("{n} targets")
    };
    let names = and_list(&fix.names);
    let sources: Vec<String> = fix
        .sources
        .iter()
        .map(|s| source_words(*s).to_string())
        .collect();
    // Mail domains hand names out (through their sources); host targets are the names used.
    let (hand_out, through) = if sources.is_empty() {
        (verb("uses", "use"), String::new())
    } else {
        (
            verb("hands out", "hand out"),
            format!(" through {}", and_list(&sources)),
        )
    };
    match fix.cause {
        Cause::Problem(
            Code::NameMismatch | Code::CertLacksName | Code::IpAddressUsed | Code::CnOnly,
        ) => match &fix.verified_name {
            Some(verified) => format!(
                "{targets} on {} {hand_out} {names}{through}; the certificate covers {}, \
                     verified: provision {verified} instead.",
                fix.server, fix.server
            ),
            None => format!(
                "{targets} {hand_out} {names}{through}, which the certificate ({}) does not \
                     cover, and no name on it reaches the server: add the names to the \
                     certificate.",
                fix.server
            ),
        },
        Cause::Unchecked(Unchecked::NoSuchName) => {
            format!("{targets} could not be checked: the name does not resolve.")
        }
        Cause::Unchecked(Unchecked::DnsTimeout | Unchecked::DnsFailed) => {
            format!("{targets} could not be checked: DNS did not answer; scan again.")
        }
        Cause::SourceBadCertificate => format!(
            "{targets} {} settings at {names}{through} with an HTTPS certificate that does not \
             cover the name: clients skip them (Outlook warns); fix the web certificate.",
            verb("publishes", "publish")
        ),
        Cause::SourceBadDocument => format!(
            "{targets} {} settings at {names}{through} that clients cannot read: fix the \
             document.",
            verb("publishes", "publish")
        ),
        Cause::Plaintext => format!(
            "{targets} {hand_out} {names}{through} without TLS: hand out the TLS ports instead."
        ),
        Cause::Problem(code) => {
            let (what, todo) = describe(code);
            format!(
                "{targets} {} {names}{through}, whose server ({}) {what}: {todo}.",
                verb("uses", "use"),
                fix.server
            )
        }
    }
}

/// A discovery source, for people.
fn source_words(source: Source) -> &'static str {
    match source {
        Source::Srv => "SRV records",
        Source::Mx => "MX",
        Source::Autoconfig => "autoconfig",
        Source::AutoconfigWellKnown => "autoconfig (.well-known)",
        Source::Autodiscover => "autodiscover",
        Source::AutodiscoverDomain => "autodiscover (the domain's website)",
        Source::AutodiscoverRedirect => "an autodiscover redirect",
        Source::AutodiscoverSrv => "the autodiscover SRV record",
        Source::Guess => "clients' name guesses",
        other => other.as_str(),
    }
}

/// What a problem code says about a server, and what to do.
fn describe(code: Code) -> (&'static str, &'static str) {
    match code {
        Code::Expired => ("has an expired certificate", "renew it"),
        Code::NotYetValid => (
            "has a certificate that is not valid yet",
            "check the server's clock and the certificate",
        ),
        Code::SelfSigned => (
            "has a self-signed certificate",
            "install one from a CA clients trust",
        ),
        Code::UnknownCa => (
            "has a certificate from a CA clients do not trust",
            "install one from a CA clients trust",
        ),
        Code::IncompleteChain => (
            "does not send its intermediate certificate",
            "add it to the server's certificate file",
        ),
        Code::InvalidChain => (
            "has a broken certificate chain",
            "reinstall the certificate",
        ),
        Code::WeakKey => (
            "has a certificate with an RSA key under 2048 bits",
            "have it reissued with a 2048-bit RSA or an ECDSA key",
        ),
        Code::WeakSignature => (
            "has a certificate signed with SHA-1",
            "have it reissued with a SHA-256 signature",
        ),
        Code::KeyUsage => (
            "has a certificate whose keyUsage does not fit its key's use",
            "have it reissued with digitalSignature (and keyEncipherment for RSA)",
        ),
        Code::ChainTooLong => (
            "sends more than 16 certificates",
            "send only the server certificate and its intermediates",
        ),
        Code::UntrustedPathFirst => (
            "sends first a certificate that leads to an untrusted root",
            "send only the certificates that lead to the trusted root",
        ),
        Code::UnsupportedKey => (
            "has an Ed25519 or RSA-PSS key Thunderbird cannot use",
            "use an RSA (2048 bits or more) or ECDSA P-256 key",
        ),
        Code::UnicodeName => (
            "is reached by a name typed in Unicode",
            "type the name's xn-- form in Thunderbird",
        ),
        Code::NoCommonSuite => (
            "offers no TLS 1.2 cipher suite some clients use",
            "enable ECDHE with AES-GCM (and TLS 1.3)",
        ),
        Code::LegacyTlsOnly => ("speaks only TLS 1.0/1.1", "enable TLS 1.2 and 1.3"),
        Code::StarttlsNotOffered => ("offers no STARTTLS", "enable STARTTLS"),
        Code::StarttlsRefused => ("refuses STARTTLS", "fix its TLS configuration"),
        Code::TlsHandshakeFailed => ("fails the TLS handshake", "fix its TLS configuration"),
        Code::RateLimited => (
            "turned the scan away as busy",
            "scan again later, or with fewer connections per server (--per-ip)",
        ),
        Code::DifferentCertPerPort => (
            "presents different certificates on different ports",
            "install the same certificate on every service",
        ),
        Code::SniDependent => (
            "presents another certificate to clients without SNI",
            "make the right certificate the default",
        ),
        Code::WeakCipher => ("accepts weak cipher suites", "disable them"),
        Code::Timeout | Code::Unreachable => {
            ("did not answer", "check that it is up and reachable")
        }
        Code::MtaStsMxUnlisted => (
            "is an MX that the domain's MTA-STS policy does not list",
            "add it to the policy's mx lines and change the policy id",
        ),
        Code::MtaStsMxCertificate => (
            "presents on port 25 a certificate MTA-STS senders (Gmail, Microsoft 365) refuse, or \
             would once the policy is enforced",
            "give it a trusted certificate that names the MX",
        ),
        Code::MtaStsMxNoStarttls => (
            "offers no STARTTLS on port 25 under an MTA-STS policy",
            "enable STARTTLS",
        ),
        Code::MtaStsRecordInvalid => (
            "has an invalid _mta-sts record (or several)",
            "publish one v=STSv1 record with an id",
        ),
        Code::MtaStsPolicyUnreachable => (
            "serves no MTA-STS policy at mta-sts.DOMAIN",
            "serve it, or remove the _mta-sts record",
        ),
        Code::MtaStsPolicyCertificate => (
            "serves its MTA-STS policy with an invalid HTTPS certificate",
            "give mta-sts.DOMAIN a valid certificate",
        ),
        Code::MtaStsPolicyAnswer => (
            "answers the MTA-STS policy URL with a redirect, an error, or not as text/plain",
            "serve the policy itself: 200, text/plain, at most 64 KiB",
        ),
        Code::MtaStsPolicyInvalid => (
            "publishes an invalid MTA-STS policy",
            "correct its version, mode, mx and max_age lines",
        ),
        Code::DaneNoMatch => (
            "has TLSA records that match no certificate it presents",
            "publish a TLSA record for the current certificate",
        ),
        Code::DaneBogus => (
            "fails DNSSEC validation for its MX or TLSA records",
            "repair the zone's signatures",
        ),
        Code::DaneUnusable => (
            "has TLSA records none of which is usable for SMTP",
            "publish DANE-EE (3 1 1) or DANE-TA (2 1 1) records",
        ),
        Code::DaneRollover => (
            "pins in TLSA only the key of its current certificate",
            "publish a TLSA record for the next key before the renewal",
        ),
        Code::TlsrptMissing => (
            "publishes no TLS-RPT record",
            "publish _smtp._tls with v=TLSRPTv1 and a rua",
        ),
        Code::TlsrptInvalid => (
            "publishes an invalid TLS-RPT record",
            "publish one v=TLSRPTv1 record with a mailto: or https: rua",
        ),
        _ => ("has a problem", "see `mailtls check` for the details"),
    }
}

mod changes;
pub use changes::{Change, Diff, diff};

#[cfg(test)]
mod tests;
