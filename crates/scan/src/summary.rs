//! What a scan found, from the store's rows: what to fix first, grouped by cause and server
//! ("412 domains on luna.hostingco.example hand out mail.DOMAIN through srv and autoconfig; the
//! certificate covers luna.hostingco.example, verified: provision that"), then counts per cause,
//! then one row per target. And what changed between two scans. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::store::{DiscoveryRecord, ProblemRecord, ScanInfo, TargetSummary};
use mailtls_core::exit;

/// Most example targets kept per group.
const EXAMPLES: usize = 3;

/// A scan, summarised.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The scan.
    pub scan: ScanInfo,
    /// Targets per verdict (ok, warn, fail, unknown).
    pub verdicts: BTreeMap<String, u64>,
    /// What to fix, most important first.
    pub fixes: Vec<FixGroup>,
    /// Targets affected per cause, most first.
    pub causes: Vec<Cause>,
    /// Every target.
    pub targets: Vec<TargetSummary>,
    /// Per target, its causes (the [`FixGroup::cause`]s it is counted under): errors first,
    /// then warnings, alphabetically within each. A target with none is absent.
    pub codes: BTreeMap<String, Vec<String>>,
    /// Lines that were not targets: (line, text, reason).
    pub rejected: Vec<(u64, String, String)>,
    /// The exit status: 2 if a target fails, else 1 if one warns, else 3 if one could not be
    /// checked, else 0.
    pub exit_code: u8,
}

/// Targets sharing one cause on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixGroup {
    /// The problem code, `source-error`, `plaintext`, or why nothing could be checked.
    pub cause: String,
    /// error or warning.
    pub severity: String,
    /// The server: the names its certificate presents, else its host name.
    pub server: String,
    /// A name on the certificate verified to work on every client port, to provision.
    pub verified_name: Option<String>,
    /// How many targets.
    pub targets: u64,
    /// The names handed out, with the target's domain written DOMAIN (e.g. `mail.DOMAIN`).
    pub names: Vec<String>,
    /// The discovery sources that handed them out.
    pub sources: Vec<String>,
    /// A few of the targets.
    pub examples: Vec<String>,
    /// The group in one sentence, with what to do.
    pub sentence: String,
}

/// One cause and how many targets have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The code.
    pub cause: String,
    /// How many targets.
    pub targets: u64,
}

#[derive(Default)]
struct Group {
    severity: String,
    targets: BTreeSet<String>,
    names: BTreeMap<String, u64>,
    sources: BTreeSet<String>,
}

/// Summarises a scan from its rows.
pub fn summarize(
    scan: ScanInfo,
    targets: Vec<TargetSummary>,
    problems: &[ProblemRecord],
    discovery: &[DiscoveryRecord],
    rejected: Vec<(u64, String, String)>,
) -> Fleet {
    let mut verdicts: BTreeMap<String, u64> = BTreeMap::new();
    for target in &targets {
        *verdicts.entry(target.verdict.clone()).or_default() += 1;
    }
    let mut groups: HashMap<(String, String, Option<String>), Group> = HashMap::new();
    let mut causes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Per target, each cause with its most serious severity's rank.
    let mut per_target: BTreeMap<String, BTreeMap<String, u8>> = BTreeMap::new();
    let mut note = |target: &str, cause: &str, severity: &str| {
        let rank = rank(severity);
        per_target
            .entry(target.to_string())
            .or_default()
            .entry(cause.to_string())
            .and_modify(|r| *r = (*r).min(rank))
            .or_insert(rank);
    };
    for problem in problems.iter().filter(|p| p.severity != "info") {
        let server = problem
            .presented_names
            .clone()
            .filter(|names| !names.is_empty())
            .unwrap_or_else(|| problem.server.clone());
        let verified = problem.suggested_name.clone().filter(|_| problem.verified);
        let group = groups
            .entry((problem.code.clone(), server, verified))
            .or_default();
        if group.severity != "error" {
            group.severity = problem.severity.clone();
        }
        if group.targets.insert(problem.target.clone()) {
            *group
                .names
                .entry(pattern(&problem.server, &problem.target))
                .or_default() += 1;
        }
        for source in problem.source.iter().flat_map(|s| s.split(',')) {
            group.sources.insert(source.to_string());
        }
        causes
            .entry(problem.code.clone())
            .or_default()
            .insert(problem.target.clone());
        note(&problem.target, &problem.code, &problem.severity);
    }
    for entry in discovery {
        let cause = match (entry.status.as_str(), entry.error.as_deref()) {
            ("source-error", Some("bad-certificate")) => "source-bad-certificate",
            ("source-error", Some("bad-document")) => "source-bad-document",
            ("plaintext", _) => "plaintext",
            _ => continue,
        };
        let host = host_of(&entry.url_or_record);
        let group = groups
            .entry((cause.to_string(), pattern(&host, &entry.target), None))
            .or_default();
        group.severity = "error".to_string();
        if group.targets.insert(entry.target.clone()) {
            *group
                .names
                .entry(pattern(&host, &entry.target))
                .or_default() += 1;
        }
        group.sources.insert(entry.source.clone());
        causes
            .entry(cause.to_string())
            .or_default()
            .insert(entry.target.clone());
        note(&entry.target, cause, "error");
    }
    for target in &targets {
        if let Some(error) = &target.error {
            let group = groups
                .entry((error.clone(), String::new(), None))
                .or_default();
            group.severity = "warning".to_string();
            group.targets.insert(target.target.clone());
            causes
                .entry(error.clone())
                .or_default()
                .insert(target.target.clone());
            note(&target.target, error, "warning");
        }
    }
    let codes: BTreeMap<String, Vec<String>> = per_target
        .into_iter()
        .map(|(target, causes)| {
            let mut causes: Vec<(u8, String)> = causes
                .into_iter()
                .map(|(cause, rank)| (rank, cause))
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
                severity: group.severity,
                server,
                verified_name,
                targets: group.targets.len() as u64,
                names: names.into_iter().take(EXAMPLES).map(|(n, _)| n).collect(),
                sources: group.sources.into_iter().collect(),
                examples: group.targets.into_iter().take(EXAMPLES).collect(),
                sentence: String::new(),
            };
            fix.sentence = sentence(&fix);
            fix
        })
        .collect();
    fixes.sort_by(|a, b| {
        rank(&a.severity)
            .cmp(&rank(&b.severity))
            .then(b.targets.cmp(&a.targets))
            .then(a.cause.cmp(&b.cause))
            .then(a.server.cmp(&b.server))
    });
    let mut causes: Vec<Cause> = causes
        .into_iter()
        .map(|(cause, targets)| Cause {
            cause,
            targets: targets.len() as u64,
        })
        .collect();
    causes.sort_by(|a, b| b.targets.cmp(&a.targets).then(a.cause.cmp(&b.cause)));
    let exit_code = fleet_exit(&verdicts);
    Fleet {
        scan,
        verdicts,
        fixes,
        causes,
        targets,
        codes,
        rejected,
        exit_code,
    }
}

/// 2 if a target fails, else 1 if one warns, else 3 if one could not be checked, else 0.
fn fleet_exit(verdicts: &BTreeMap<String, u64>) -> u8 {
    let has = |v: &str| verdicts.get(v).is_some_and(|&n| n > 0);
    if has("fail") {
        exit::FAIL
    } else if has("warn") {
        exit::WARN
    } else if has("unknown") {
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

fn rank(severity: &str) -> u8 {
    match severity {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
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
    let sources: Vec<String> = fix.sources.iter().map(|s| source_words(s)).collect();
    // Mail domains hand names out (through their sources); host targets are the names used.
    let (hand_out, through) = if sources.is_empty() {
        (verb("uses", "use"), String::new())
    } else {
        (
            verb("hands out", "hand out"),
            format!(" through {}", and_list(&sources)),
        )
    };
    match fix.cause.as_str() {
        "name-mismatch" | "cert-lacks-name" | "ip-address-used" | "cn-only" => {
            match &fix.verified_name {
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
            }
        }
        "no-such-name" => format!("{targets} could not be checked: the name does not resolve."),
        "dns-timeout" | "dns-failed" => {
            format!("{targets} could not be checked: DNS did not answer; scan again.")
        }
        "source-bad-certificate" => format!(
            "{targets} {} settings at {names}{through} with an HTTPS certificate that does not \
             cover the name: clients skip them (Outlook warns); fix the web certificate.",
            verb("publishes", "publish")
        ),
        "source-bad-document" => format!(
            "{targets} {} settings at {names}{through} that clients cannot read: fix the \
             document.",
            verb("publishes", "publish")
        ),
        "plaintext" => format!(
            "{targets} {hand_out} {names}{through} without TLS: hand out the TLS ports instead."
        ),
        code => {
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
fn source_words(source: &str) -> String {
    match source {
        "srv" => "SRV records",
        "mx" => "MX",
        "autoconfig" => "autoconfig",
        "autoconfig-well-known" => "autoconfig (.well-known)",
        "autodiscover" => "autodiscover",
        "autodiscover-domain" => "autodiscover (the domain's website)",
        "autodiscover-redirect" => "an autodiscover redirect",
        "autodiscover-srv" => "the autodiscover SRV record",
        "guess" => "clients' name guesses",
        other => other,
    }
    .to_string()
}

/// What a problem code says about a server, and what to do.
fn describe(code: &str) -> (&'static str, &'static str) {
    match code {
        "expired" => ("has an expired certificate", "renew it"),
        "not-yet-valid" => (
            "has a certificate that is not valid yet",
            "check the server's clock and the certificate",
        ),
        "self-signed" => (
            "has a self-signed certificate",
            "install one from a CA clients trust",
        ),
        "unknown-ca" => (
            "has a certificate from a CA clients do not trust",
            "install one from a CA clients trust",
        ),
        "incomplete-chain" => (
            "does not send its intermediate certificate",
            "add it to the server's certificate file",
        ),
        "invalid-chain" => (
            "has a broken certificate chain",
            "reinstall the certificate",
        ),
        "weak-key" => (
            "has a certificate with an RSA key under 2048 bits",
            "have it reissued with a 2048-bit RSA or an ECDSA key",
        ),
        "weak-signature" => (
            "has a certificate signed with SHA-1",
            "have it reissued with a SHA-256 signature",
        ),
        "key-usage" => (
            "has a certificate whose keyUsage does not fit its key's use",
            "have it reissued with digitalSignature (and keyEncipherment for RSA)",
        ),
        "chain-too-long" => (
            "sends more than 16 certificates",
            "send only the server certificate and its intermediates",
        ),
        "untrusted-path-first" => (
            "sends first a certificate that leads to an untrusted root",
            "send only the certificates that lead to the trusted root",
        ),
        "unsupported-key" => (
            "has an Ed25519 or RSA-PSS key Thunderbird cannot use",
            "use an RSA (2048 bits or more) or ECDSA P-256 key",
        ),
        "unicode-name" => (
            "is reached by a name typed in Unicode",
            "type the name's xn-- form in Thunderbird",
        ),
        "no-common-suite" => (
            "offers no TLS 1.2 cipher suite some clients use",
            "enable ECDHE with AES-GCM (and TLS 1.3)",
        ),
        "legacy-tls-only" => ("speaks only TLS 1.0/1.1", "enable TLS 1.2 and 1.3"),
        "starttls-not-offered" => ("offers no STARTTLS", "enable STARTTLS"),
        "starttls-refused" => ("refuses STARTTLS", "fix its TLS configuration"),
        "tls-handshake-failed" => ("fails the TLS handshake", "fix its TLS configuration"),
        "rate-limited" => (
            "turned the scan away as busy",
            "scan again later, or with fewer connections per server (--per-ip)",
        ),
        "different-cert-per-port" => (
            "presents different certificates on different ports",
            "install the same certificate on every service",
        ),
        "sni-dependent" => (
            "presents another certificate to clients without SNI",
            "make the right certificate the default",
        ),
        "weak-cipher" => ("accepts weak cipher suites", "disable them"),
        "timeout" | "unreachable" => ("did not answer", "check that it is up and reachable"),
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
    /// 2 if a target fails that did not, else 1 if one warns that did not, else 0.
    pub exit_code: u8,
}

/// One target's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The target.
    pub target: String,
    /// Its verdict before.
    pub before: String,
    /// Its verdict after.
    pub after: String,
    /// Problem codes it gained.
    pub gained: Vec<String>,
    /// Problem codes it lost.
    pub lost: Vec<String>,
}

/// What changed from `old` to `new` (targets and their problem rows).
pub fn diff(
    old: &[TargetSummary],
    old_problems: &[ProblemRecord],
    new: &[TargetSummary],
    new_problems: &[ProblemRecord],
) -> Diff {
    let codes = |problems: &[ProblemRecord]| {
        let mut by_target: HashMap<String, BTreeSet<String>> = HashMap::new();
        for p in problems.iter().filter(|p| p.severity != "info") {
            by_target
                .entry(p.target.clone())
                .or_default()
                .insert(p.code.clone());
        }
        by_target
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
            before: before.verdict.clone(),
            after: after.verdict.clone(),
            gained: is.difference(was).cloned().collect(),
            lost: was.difference(is).cloned().collect(),
        };
        let worse = verdict_rank(&after.verdict) > verdict_rank(&before.verdict);
        let better = verdict_rank(&after.verdict) < verdict_rank(&before.verdict);
        if worse || (!better && !change.gained.is_empty()) {
            diff.broke.push(change);
        } else if better || !change.lost.is_empty() {
            diff.fixed.push(change);
        }
    }
    diff.removed = old
        .iter()
        .filter(|t| !new_keys.contains(t.target.as_str()))
        .map(|t| t.target.clone())
        .collect();
    let now_fails = diff.broke.iter().any(|c| c.after == "fail")
        || diff
            .added
            .iter()
            .any(|t| new.iter().any(|n| &n.target == t && n.verdict == "fail"));
    diff.exit_code = if now_fails {
        exit::FAIL
    } else if !diff.broke.is_empty() {
        exit::WARN
    } else {
        exit::OK
    };
    diff
}

/// ok < unknown < warn < fail.
fn verdict_rank(verdict: &str) -> u8 {
    match verdict {
        "ok" => 0,
        "unknown" => 1,
        "warn" => 2,
        _ => 3,
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
            kind: "domain".to_string(),
            verdict: verdict.to_string(),
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
            code: "name-mismatch".to_string(),
            severity: "error".to_string(),
            server: server.to_string(),
            port: Some(993),
            source: Some(source.to_string()),
            presented_names: Some("luna.hostingco.example".to_string()),
            suggested_name: Some("luna.hostingco.example".to_string()),
            verified: true,
        }
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
        let fleet = summarize(scan(), targets, &problems, &[], Vec::new());
        assert_eq!(fleet.exit_code, 2);
        let first = &fleet.fixes[0];
        assert_eq!(first.targets, 2, "{first:?}");
        assert_eq!(first.names, ["mail.DOMAIN"]);
        assert_eq!(first.sources, ["autoconfig", "mx", "srv"]);
        assert_eq!(
            first.sentence,
            "2 targets on luna.hostingco.example hand out mail.DOMAIN through autoconfig, MX and \
             SRV records; the certificate covers luna.hostingco.example, verified: provision \
             luna.hostingco.example instead."
        );
        assert_eq!(
            fleet.causes,
            [Cause {
                cause: "name-mismatch".to_string(),
                targets: 2
            }]
        );
        // Each target carries the causes it is counted under; one with none is absent.
        assert_eq!(fleet.codes["a.example"], ["name-mismatch"]);
        assert!(!fleet.codes.contains_key("c.example"));
    }

    #[test]
    fn a_targets_codes_put_errors_before_warnings() {
        let mut weak = mismatch("a.example", "mail.a.example", "srv");
        weak.code = "weak-cipher".to_string();
        weak.severity = "warning".to_string();
        let mut info = weak.clone();
        info.code = "no-tls13".to_string();
        info.severity = "info".to_string();
        let problems = vec![weak, info, mismatch("a.example", "mail.a.example", "srv")];
        let fleet = summarize(
            scan(),
            vec![target("a.example", "fail")],
            &problems,
            &[],
            Vec::new(),
        );
        assert_eq!(fleet.codes["a.example"], ["name-mismatch", "weak-cipher"]);
    }

    #[test]
    fn a_diff_names_what_broke_and_what_was_fixed() {
        let old = vec![target("a.example", "ok"), target("b.example", "fail")];
        let new = vec![target("a.example", "fail"), target("b.example", "ok")];
        let new_problems = vec![mismatch("a.example", "mail.a.example", "srv")];
        let old_problems = vec![mismatch("b.example", "mail.b.example", "srv")];
        let diff = diff(&old, &old_problems, &new, &new_problems);
        assert_eq!(diff.broke.len(), 1);
        assert_eq!(diff.broke[0].gained, ["name-mismatch"]);
        assert_eq!(diff.fixed[0].target, "b.example");
        assert_eq!(diff.exit_code, 2);
        let same = super::diff(&new, &new_problems, &new, &new_problems);
        assert_eq!(same.exit_code, 0);
        assert!(same.broke.is_empty() && same.fixed.is_empty());
    }
}
