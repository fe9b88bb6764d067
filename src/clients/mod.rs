//! Per-client verdicts: will Thunderbird, Outlook, Apple Mail, an Android app connect silently,
//! connect with a risk, or refuse?
//!
//! Clients disagree because they use different certificate engines (NSS/mozilla::pkix, Windows
//! CryptoAPI, Apple's Security framework, Android's Conscrypt) with different rules for the
//! Common Name, missing intermediates, weak algorithms and private CAs. Each client is a module
//! holding its rules, each rule with the public source that documents it and whether that
//! behaviour is certain; docs/clients.md lists them all. Rules that every client applies alike
//! (name not covered, expired, untrusted) live here.
//!
//! Pure: a verdict is computed from a [`CertAnalysis`] (and the negotiated TLS version).

pub mod android;
pub mod apple;
pub mod dialogs;
pub mod discovery;
pub mod gnome;
pub mod outlook;
pub mod releases;
pub mod thunderbird;

use crate::analyze::CertAnalysis;
use crate::analyze::chain::{AnchorOrigin, Dates, Trust};
use crate::analyze::names::NameCheck;
use crate::analyze::profile::{self, Weakness, WeaknessKind};
use crate::analyze::versions::VersionReport;
use crate::tls_catalog::TlsVersion;
use dialogs::Fault;

crate::vocabulary::vocabulary! {
    /// A mail client (family) with its own certificate rules.
    pub enum Client {
        /// Thunderbird on any desktop (NSS, mozilla::pkix, Mozilla's roots).
        Thunderbird => "thunderbird" | "tb",
        /// Classic Outlook on Windows (CryptoAPI/Schannel).
        Outlook => "outlook" | "windows",
        /// Apple Mail on iOS, iPadOS and macOS (Security framework).
        AppleMail => "apple-mail" | "apple" | "ios" | "macos" | "iphone",
        /// Mail apps on Android (Gmail, K-9 Mail/Thunderbird for Android), platform trust.
        Android => "android" | "gmail" | "k9" | "k-9",
        /// GNOME's mail clients, Evolution and Geary (GIO TLS, GnuTLS).
        Gnome => "gnome" | "evolution" | "geary" | "gnutls",
    }
}

impl Client {
    /// The identifier used by `--client` and in JSON.
    pub fn id(&self) -> &'static str {
        self.as_str()
    }

    /// The name for people.
    pub fn name(&self) -> &'static str {
        match self {
            Client::Thunderbird => "Thunderbird",
            Client::Outlook => "Outlook (Windows)",
            Client::AppleMail => "Apple Mail",
            Client::Android => "Android apps",
            Client::Gnome => "Evolution / Geary",
        }
    }

    /// This client's own rules (the shared ones are in [`COMMON_RULES`]).
    pub fn rules(&self) -> &'static [Rule] {
        match self {
            Client::Thunderbird => thunderbird::RULES,
            Client::Outlook => outlook::RULES,
            Client::AppleMail => apple::RULES,
            Client::Android => android::RULES,
            Client::Gnome => gnome::RULES,
        }
    }
}

crate::vocabulary::vocabulary! {
    /// What a client does with a server, worst last (so `max` is the verdict).
    pub enum Outcome {
        /// Connects without a prompt.
        Works => "works",
        /// Connects, but with a risk: a behaviour that depends on the version or the device's set-up,
        /// or that we could not confirm from a source.
        Warns => "warns",
        /// Refuses the certificate: an error, sometimes with a (dangerous) "accept anyway" button.
        Fails => "fails",
    }
}

/// A documented client behaviour.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable identifier, e.g. `thunderbird/no-aia-fetch`.
    pub id: &'static str,
    /// The behaviour, in one sentence.
    pub summary: &'static str,
    /// Where it is documented (URL or source file).
    pub source: &'static str,
    /// Whether the source settles it for current versions; if not, the output says so.
    pub certain: bool,
    /// The certificate fault its failure shows a dialog for; `None` for rules whose failure
    /// stops the connection instead (TLS versions).
    pub fault: Option<Fault>,
}

/// A rule that applied to one endpoint.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule's identifier.
    pub rule: &'static str,
    /// What it means for the client.
    pub outcome: Outcome,
    /// Whether the behaviour is documented for current versions.
    pub certain: bool,
    /// What happened, specific to this certificate.
    pub detail: String,
    /// Where the rule is documented.
    pub source: &'static str,
    /// The certificate fault behind it, when its failure shows a certificate dialog.
    pub fault: Option<Fault>,
}

impl Finding {
    /// A finding of `rule`.
    pub fn new(rule: &'static Rule, outcome: Outcome, detail: impl Into<String>) -> Finding {
        Finding {
            rule: rule.id,
            outcome,
            certain: rule.certain,
            detail: detail.into(),
            source: rule.source,
            fault: rule.fault,
        }
    }
}

/// One client's verdict on one endpoint.
#[derive(Debug, Clone)]
pub struct ClientVerdict {
    /// The client.
    pub client: Client,
    /// The worst outcome of its findings (`works` when none).
    pub verdict: Outcome,
    /// The rules that applied, worst first.
    pub rules: Vec<Finding>,
    /// The certificate dialog the client shows on this server, when its verdict is not `works`
    /// because of the certificate (a client that cannot connect at all shows an error instead).
    pub dialog: Option<&'static dialogs::Dialog>,
}

impl ClientVerdict {
    /// The finding that decided the verdict: the first (worst) one with the verdict's outcome.
    pub fn deciding(&self) -> Option<&Finding> {
        self.rules.iter().find(|f| f.outcome == self.verdict)
    }

    /// The certificate fault behind the verdict, when the deciding rule is about the certificate.
    pub fn fault(&self) -> Option<Fault> {
        self.deciding().and_then(|f| f.fault)
    }
}

/// What the client rules look at, gathered once per endpoint and shared by every client.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The certificate analysis.
    pub analysis: &'a CertAnalysis,
    /// The negotiated TLS version, e.g. "TLSv1.3", when known.
    pub tls_version: Option<&'a str>,
    /// Weak keys and signatures on the path.
    pub weaknesses: Vec<Weakness>,
    /// The versions the server accepts, when they were asked.
    pub versions: Option<&'a VersionReport>,
}

impl<'a> Facts<'a> {
    /// Gathers the facts of one analysis.
    pub fn new(analysis: &'a CertAnalysis, tls_version: Option<&'a str>) -> Facts<'a> {
        Facts {
            analysis,
            tls_version,
            weaknesses: profile::weaknesses(&analysis.chain, analysis.path.as_ref()),
            versions: None,
        }
    }

    /// Where the chain's anchor came from, when a path was built.
    pub fn anchor(&self) -> Option<AnchorOrigin> {
        self.analysis.path.as_ref().map(|p| p.anchor)
    }

    /// The negotiated version is older than TLS 1.2.
    pub fn legacy_tls(&self) -> bool {
        // With the server's versions known: it accepts nothing newer than TLS 1.1.
        if let Some(best) = self.versions.and_then(VersionReport::best) {
            return best < TlsVersion::Tls12;
        }
        matches!(self.tls_version, Some(v) if v.contains("1.0") || v.contains("1.1") || v.contains("SSL"))
    }
}

/// Rules every client applies the same way.
pub static COMMON_RULES: &[Rule] = &[
    NAME_NOT_COVERED,
    EXPIRED,
    NOT_YET_VALID,
    SELF_SIGNED,
    UNKNOWN_CA,
    INVALID_CHAIN,
    NO_TLS,
];

const NAME_NOT_COVERED: Rule = Rule {
    id: "name-not-covered",
    summary: "The server name must match a subjectAltName entry (or, for some clients, the CN).",
    source: "https://www.rfc-editor.org/rfc/rfc9525#section-6",
    certain: true,
    fault: Some(Fault::WrongName),
};
const EXPIRED: Rule = Rule {
    id: "expired",
    summary: "An expired certificate in the chain is rejected.",
    source: "https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3",
    certain: true,
    fault: Some(Fault::Dates),
};
const NOT_YET_VALID: Rule = Rule {
    id: "not-yet-valid",
    summary: "A certificate whose notBefore is in the future is rejected.",
    source: "https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3",
    certain: true,
    fault: Some(Fault::Dates),
};
const SELF_SIGNED: Rule = Rule {
    id: "self-signed",
    summary: "A self-signed server certificate is rejected unless the user adds an exception.",
    source: "https://www.rfc-editor.org/rfc/rfc5280#section-6.1",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const UNKNOWN_CA: Rule = Rule {
    id: "unknown-ca",
    summary: "A chain ending in a CA the client's store lacks is rejected.",
    source: "https://www.rfc-editor.org/rfc/rfc5280#section-6.1",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const INVALID_CHAIN: Rule = Rule {
    id: "invalid-chain",
    summary: "A chain with a bad signature, wrong key usage or a violated constraint is rejected.",
    source: "https://www.rfc-editor.org/rfc/rfc5280#section-6.1",
    certain: true,
    fault: Some(Fault::Untrusted),
};
/// The TLS handshake did not complete, so no client can connect.
pub const NO_TLS: Rule = Rule {
    id: "no-tls",
    summary: "Without a completed TLS handshake no client connects on this port.",
    source: "https://www.rfc-editor.org/rfc/rfc8314",
    certain: true,
    fault: None,
};

/// Judges one endpoint for `client`.
pub fn judge(client: Client, facts: &Facts<'_>) -> ClientVerdict {
    let mut rules = common(client, facts);
    rules.extend(match client {
        Client::Thunderbird => thunderbird::findings(facts),
        Client::Outlook => outlook::findings(facts),
        Client::AppleMail => apple::findings(facts),
        Client::Android => android::findings(facts),
        Client::Gnome => gnome::findings(facts),
    });
    verdict(client, rules)
}

/// Every client's verdict, in [`Client::ALL`] order.
pub fn judge_all(facts: &Facts<'_>) -> Vec<ClientVerdict> {
    Client::ALL.iter().map(|c| judge(*c, facts)).collect()
}

/// The verdict for a client on an endpoint that presented no certificate (no TLS).
pub fn judge_no_tls(client: Client, reason: &str) -> ClientVerdict {
    verdict(client, vec![Finding::new(&NO_TLS, Outcome::Fails, reason)])
}

fn verdict(client: Client, mut rules: Vec<Finding>) -> ClientVerdict {
    rules.sort_by_key(|f| std::cmp::Reverse(f.outcome));
    let mut verdict = ClientVerdict {
        client,
        verdict: rules
            .iter()
            .map(|f| f.outcome)
            .max()
            .unwrap_or(Outcome::Works),
        rules,
        dialog: None,
    };
    verdict.dialog = verdict
        .deciding()
        .filter(|f| f.outcome != Outcome::Works)
        .and_then(|f| f.fault)
        .and_then(|fault| dialogs::shown(client, fault, dialogs::Connection::MailServer));
    verdict
}

/// The shared rules. Name checks that differ per client (the CN fallback) are left to the
/// client modules: here only "not covered at all" fails.
fn common(client: Client, facts: &Facts<'_>) -> Vec<Finding> {
    let analysis = facts.analysis;
    let mut found = Vec::new();
    if analysis.name == NameCheck::NotCovered {
        found.push(Finding::new(
            &NAME_NOT_COVERED,
            Outcome::Fails,
            format!(
                "the certificate does not name this server ({})",
                analysis
                    .leaf()
                    .map(|l| l.presented_names().join(", "))
                    .unwrap_or_default()
            ),
        ));
    }
    match &analysis.dates {
        Dates::Valid => {}
        Dates::Expired { subject, .. } => {
            found.push(Finding::new(
                &EXPIRED,
                Outcome::Fails,
                format!("{subject} has expired"),
            ));
        }
        Dates::NotYetValid { subject, .. } => found.push(Finding::new(
            &NOT_YET_VALID,
            Outcome::Fails,
            format!("{subject} is not valid yet"),
        )),
    }
    match &analysis.trust {
        Trust::SelfSigned => found.push(Finding::new(
            &SELF_SIGNED,
            Outcome::Fails,
            format!(
                "{} asks the user to accept the certificate by hand",
                client.name()
            ),
        )),
        Trust::UnknownCa { issuer } => found.push(Finding::new(
            &UNKNOWN_CA,
            Outcome::Fails,
            format!("\"{issuer}\" is not in {}'s trust store", client.name()),
        )),
        Trust::Invalid { reason } => {
            found.push(Finding::new(&INVALID_CHAIN, Outcome::Fails, reason.clone()));
        }
        Trust::Trusted | Trust::IncompleteChain { .. } => {}
    }
    found
}

/// The incomplete-chain finding for clients that never fetch a missing intermediate.
fn no_fetch(rule: &'static Rule, facts: &Facts<'_>, client: Client) -> Option<Finding> {
    match &facts.analysis.trust {
        Trust::IncompleteChain {
            missing,
            found_elsewhere,
            ..
        } => Some(Finding::new(
            rule,
            Outcome::Fails,
            if *found_elsewhere {
                format!(
                    "this port does not send \"{missing}\" and {} does not fetch it",
                    client.name()
                )
            } else {
                format!(
                    "the server does not send the intermediate \"{missing}\" and {} does not \
                     fetch it",
                    client.name()
                )
            },
        )),
        _ => None,
    }
}

/// The incomplete-chain finding for clients that fetch the issuer from the AIA URL.
fn fetches(rule: &'static Rule, facts: &Facts<'_>, client: Client) -> Option<Finding> {
    match &facts.analysis.trust {
        Trust::IncompleteChain {
            missing,
            fetched_from: Some(url),
            ..
        } => Some(Finding::new(
            rule,
            Outcome::Works,
            format!(
                "{} fetches the missing \"{missing}\" from {url}",
                client.name()
            ),
        )),
        Trust::IncompleteChain { missing, .. } => Some(Finding::new(
            rule,
            Outcome::Fails,
            format!(
                "the intermediate \"{missing}\" is missing and could not be fetched from an AIA \
                 URL, so {} cannot complete the chain either",
                client.name()
            ),
        )),
        _ => None,
    }
}

/// The finding for a name found only in the subject CN, by a client that ignores the CN.
fn cn_ignored(rule: &'static Rule, facts: &Facts<'_>, client: Client) -> Option<Finding> {
    match &facts.analysis.name {
        NameCheck::CommonNameOnly(cn) => Some(Finding::new(
            rule,
            Outcome::Fails,
            format!(
                "the name is only in the Common Name ({cn}), which {} ignores",
                client.name()
            ),
        )),
        _ => None,
    }
}

/// A finding of `rule` with `outcome` when the path has weaknesses matching `select`; the detail
/// names each certificate.
fn weakness_finding(
    rule: &'static Rule,
    facts: &Facts<'_>,
    outcome: Outcome,
    select: impl Fn(WeaknessKind) -> bool,
) -> Option<Finding> {
    let detail: Vec<String> = facts
        .weaknesses
        .iter()
        .filter(|w| select(w.kind))
        .map(|w| match w.kind {
            WeaknessKind::ShortRsaKey(bits) => format!("{} has a {bits}-bit RSA key", w.subject),
            WeaknessKind::WeakSignature(hash) => format!("{} is signed with {hash}", w.subject),
        })
        .collect();
    (!detail.is_empty()).then(|| Finding::new(rule, outcome, detail.join("; ")))
}

/// An RSA key under `below` bits on the path.
fn rsa_under(
    rule: &'static Rule,
    facts: &Facts<'_>,
    below: usize,
    outcome: Outcome,
) -> Option<Finding> {
    weakness_finding(
        rule,
        facts,
        outcome,
        |kind| matches!(kind, WeaknessKind::ShortRsaKey(bits) if bits < below),
    )
}

/// A SHA-1 or MD5 signature on the path.
fn weak_signature(rule: &'static Rule, facts: &Facts<'_>, outcome: Outcome) -> Option<Finding> {
    weakness_finding(rule, facts, outcome, |kind| {
        matches!(kind, WeaknessKind::WeakSignature(_))
    })
}

/// SHA-1 on the path, for clients that refuse it under public roots only (Mozilla, Microsoft):
/// fails for a public root, warns for a private one.
fn sha1_public_only(rule: &'static Rule, facts: &Facts<'_>) -> Option<Finding> {
    let private = facts.anchor() == Some(AnchorOrigin::Added);
    weak_signature(
        rule,
        facts,
        if private {
            Outcome::Warns
        } else {
            Outcome::Fails
        },
    )
}
