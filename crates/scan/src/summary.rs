//! What a scan found, from the store's rows: what to fix first, grouped by cause and server
//! ("412 domains on luna.hostingco.example hand out mail.DOMAIN through srv and autoconfig; the
//! certificate covers luna.hostingco.example, verified: provision that"), then counts per cause,
//! then one row per target. And what changed between two scans. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::inbound::{self, InboundChange, InboundCounts};
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
            "presents on port 25 a certificate MTA-STS senders (Gmail, Microsoft 365) refuse",
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

/// What changed between two scans.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diff {
    /// Targets that got worse, or gained a problem: (target, before, after, problems added).
    pub broke: Vec<Change>,
    /// Targets that got better, or lost a problem.
    pub fixed: Vec<Change>,
    /// Targets only in the new scan.
    pub added: Vec<String>,
    /// Targets only in the old scan.
    pub removed: Vec<String>,
    /// Mail domains whose MTA-STS state, DANE or answer to "can a certificate cost it mail?"
    /// changed, their verdict and problem codes alike (and not into or out of `yes`).
    pub changed: Vec<Change>,
    /// The store errors met reading both scans: rows left out because they could not be read
    /// are among them.
    pub store_errors: StoreErrors,
    /// 2 if a target fails that did not, else 1 if one warns that did not, else 3 if a row
    /// could not be read (what it held is not known), else 0.
    pub exit_code: u8,
}

/// One target's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The target.
    pub target: String,
    /// Its verdict before.
    pub before: Verdict,
    /// Its verdict after.
    pub after: Verdict,
    /// Problem codes it gained, by name.
    pub gained: Vec<Code>,
    /// Problem codes it lost, by name.
    pub lost: Vec<Code>,
    /// A mail domain's change of MTA-STS state, DANE or answer to "can it cost mail?".
    pub inbound: Option<InboundChange>,
}

/// What changed from `old` to `new` (targets, their problem rows, the mail domains' MTA-STS
/// and DANE).
pub fn diff(old: Rows<'_>, new: Rows<'_>, store_errors: StoreErrors) -> Diff {
    let (old_problems, new_problems) = (old.problems, new.problems);
    let inbound_of = |rows: Rows<'_>| -> HashMap<String, InboundRecord> {
        rows.inbound
            .iter()
            .map(|r| (r.target.clone(), r.clone()))
            .collect()
    };
    let (old_inbound, new_inbound) = (inbound_of(old), inbound_of(new));
    let (old, new) = (old.targets, new.targets);
    let codes = |problems: &[ProblemRecord]| {
        let mut by_target: HashMap<String, BTreeSet<Code>> = HashMap::new();
        for p in problems.iter().filter(|p| p.severity != Severity::Info) {
            by_target
                .entry(p.target.clone())
                .or_default()
                .insert(p.code);
        }
        by_target
    };
    let named = |codes: BTreeSet<&Code>| {
        let mut codes: Vec<Code> = codes.into_iter().copied().collect();
        codes.sort_by_key(|c| c.as_str());
        codes
    };
    let (old_codes, new_codes) = (codes(old_problems), codes(new_problems));
    let old_by: HashMap<&str, &TargetSummary> =
        old.iter().map(|t| (t.target.as_str(), t)).collect();
    let new_keys: BTreeSet<&str> = new.iter().map(|t| t.target.as_str()).collect();
    let mut diff = Diff::default();
    let empty = BTreeSet::new();
    for after in new {
        let Some(before) = old_by.get(after.target.as_str()) else {
            diff.added.push(after.target.clone());
            continue;
        };
        let was = old_codes.get(&after.target).unwrap_or(&empty);
        let is = new_codes.get(&after.target).unwrap_or(&empty);
        let change = Change {
            target: after.target.clone(),
            before: before.verdict,
            after: after.verdict,
            gained: named(is.difference(was).collect()),
            lost: named(was.difference(is).collect()),
            inbound: inbound::change(
                old_inbound.get(&after.target),
                new_inbound.get(&after.target),
            ),
        };
        let worse = verdict_rank(after.verdict) > verdict_rank(before.verdict);
        let better = verdict_rank(after.verdict) < verdict_rank(before.verdict);
        // A certificate that now costs mail breaks, even where the verdict was already `fail`
        // for clients (a problem's code that turns from warning into error is not gained).
        let costs_now = change.inbound.is_some_and(|i| i.costs_mail_now());
        let costs_no_longer = change.inbound.is_some_and(|i| i.costs_mail_no_longer());
        if worse || (!better && (!change.gained.is_empty() || costs_now)) {
            diff.broke.push(change);
        } else if better || !change.lost.is_empty() || costs_no_longer {
            diff.fixed.push(change);
        } else if change.inbound.is_some() {
            diff.changed.push(change);
        }
    }
    diff.removed = old
        .iter()
        .filter(|t| !new_keys.contains(t.target.as_str()))
        .map(|t| t.target.clone())
        .collect();
    let now_fails = diff.broke.iter().any(|c| c.after == Verdict::Fail)
        || diff.added.iter().any(|t| {
            new.iter()
                .any(|n| &n.target == t && n.verdict == Verdict::Fail)
        });
    diff.exit_code = if now_fails {
        exit::FAIL
    } else if !diff.broke.is_empty() {
        exit::WARN
    } else if store_errors.total() > 0 {
        exit::UNKNOWN
    } else {
        exit::OK
    };
    diff.store_errors = store_errors;
    diff
}

/// ok < unknown < warn < fail.
fn verdict_rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Ok => 0,
        Verdict::Unknown => 1,
        Verdict::Warn => 2,
        Verdict::Fail => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, verdict: &str) -> TargetSummary {
        TargetSummary {
            target: name.to_string(),
            line: 1,
            account: None,
            kind: crate::record::TargetKind::Domain,
            verdict: Verdict::from_name(verdict).expect("a verdict"),
            exit_code: 0,
            summary: String::new(),
            fix: None,
            recommendation: None,
            error: None,
        }
    }

    fn mismatch(target: &str, server: &str, source: &str) -> ProblemRecord {
        ProblemRecord {
            target: target.to_string(),
            code: Code::NameMismatch,
            severity: Severity::Error,
            server: server.to_string(),
            port: Some(993),
            sources: source
                .split(',')
                .map(|s| Source::from_name(s).expect("a source"))
                .collect(),
            presented_names: Some("luna.hostingco.example".to_string()),
            suggested_name: Some("luna.hostingco.example".to_string()),
            verified: true,
        }
    }

    /// Their names.
    fn names<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
        values.iter().map(ToString::to_string).collect()
    }

    fn scan() -> ScanInfo {
        ScanInfo {
            id: "s".to_string(),
            created_at: 0,
            input: "-".to_string(),
            targets: 0,
            runs: 1,
            finished_runs: 1,
            rejected: 0,
        }
    }

    #[test]
    fn hosting_names_are_grouped_by_server_with_the_name_to_provision() {
        let targets = vec![
            target("a.example", "fail"),
            target("b.example", "fail"),
            target("c.example", "ok"),
        ];
        let problems = vec![
            mismatch("a.example", "mail.a.example", "mx,srv"),
            mismatch("a.example", "mail.a.example", "mx,srv"),
            mismatch("b.example", "mail.b.example", "autoconfig"),
        ];
        let fleet = summarize(
            scan(),
            targets,
            &problems,
            &[],
            Vec::new(),
            Vec::new(),
            StoreErrors::default(),
        );
        assert_eq!(fleet.exit_code, 2);
        let first = &fleet.fixes[0];
        assert_eq!(first.targets, 2, "{first:?}");
        assert_eq!(first.names, ["mail.DOMAIN"]);
        assert_eq!(names(&first.sources), ["autoconfig", "mx", "srv"]);
        assert_eq!(
            first.sentence,
            "2 targets on luna.hostingco.example hand out mail.DOMAIN through autoconfig, MX and \
             SRV records; the certificate covers luna.hostingco.example, verified: provision \
             luna.hostingco.example instead."
        );
        assert_eq!(
            fleet.causes,
            [CauseCount {
                cause: Cause::Problem(Code::NameMismatch),
                targets: 2
            }]
        );
        // Each target carries the causes it is counted under; one with none is absent.
        assert_eq!(names(&fleet.codes["a.example"]), ["name-mismatch"]);
        assert!(!fleet.codes.contains_key("c.example"));
    }

    #[test]
    fn a_targets_codes_put_errors_before_warnings() {
        let mut weak = mismatch("a.example", "mail.a.example", "srv");
        weak.code = Code::WeakCipher;
        weak.severity = Severity::Warning;
        let mut info = weak.clone();
        info.code = Code::NoTls13;
        info.severity = Severity::Info;
        let problems = vec![weak, info, mismatch("a.example", "mail.a.example", "srv")];
        let fleet = summarize(
            scan(),
            vec![target("a.example", "fail")],
            &problems,
            &[],
            Vec::new(),
            Vec::new(),
            StoreErrors::default(),
        );
        assert_eq!(
            names(&fleet.codes["a.example"]),
            ["name-mismatch", "weak-cipher"]
        );
    }

    #[test]
    fn a_diff_names_what_broke_and_what_was_fixed() {
        let old = vec![target("a.example", "ok"), target("b.example", "fail")];
        let new = vec![target("a.example", "fail"), target("b.example", "ok")];
        let new_problems = vec![mismatch("a.example", "mail.a.example", "srv")];
        let old_problems = vec![mismatch("b.example", "mail.b.example", "srv")];
        let rows = |targets, problems| Rows {
            targets,
            problems,
            inbound: &[],
        };
        let diff = diff(
            rows(&old, &old_problems),
            rows(&new, &new_problems),
            StoreErrors::default(),
        );
        assert_eq!(diff.broke.len(), 1);
        assert_eq!(names(&diff.broke[0].gained), ["name-mismatch"]);
        assert_eq!(diff.fixed[0].target, "b.example");
        assert_eq!(diff.exit_code, 2);
        let same = super::diff(
            rows(&new, &new_problems),
            rows(&new, &new_problems),
            StoreErrors::default(),
        );
        assert_eq!(same.exit_code, 0);
        assert!(same.broke.is_empty() && same.fixed.is_empty());
    }

    #[test]
    fn a_domain_whose_mta_sts_or_dane_changed_is_a_change() {
        use mailtls_core::analyze::dane::DaneState;
        use mailtls_core::diagnose::costs_mail::CostAnswer;
        use mailtls_core::diagnose::delivery::{MtaStsState, TlsRptState};
        let inbound = |mta_sts, dane| InboundRecord {
            target: "a.example".to_string(),
            verdict: Verdict::Ok,
            mta_sts,
            policy_problems: Vec::new(),
            dane,
            tlsrpt: TlsRptState::Valid,
            costs_mail: CostAnswer::No,
        };
        let targets = vec![target("a.example", "ok")];
        let before = [inbound(MtaStsState::Testing, Some(DaneState::Matches))];
        let after = [inbound(MtaStsState::Enforce, Some(DaneState::Matches))];
        let rows = |inbound| Rows {
            targets: &targets,
            problems: &[],
            inbound,
        };
        let diff = diff(rows(&before), rows(&after), StoreErrors::default());
        assert!(diff.broke.is_empty() && diff.fixed.is_empty());
        assert_eq!(diff.changed.len(), 1);
        let change = diff.changed[0].inbound.expect("the change");
        assert_eq!(
            change.mta_sts.map(|c| (c.before, c.after)),
            Some((MtaStsState::Testing, MtaStsState::Enforce))
        );
        assert_eq!(change.dane, None);
        // A mode change alone breaks nothing.
        assert_eq!(diff.exit_code, 0);
        assert!(
            super::diff(rows(&after), rows(&after), StoreErrors::default())
                .changed
                .is_empty()
        );
    }
}
