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

pub mod account_setup;
pub mod android;
pub mod apple;
pub mod dialogs;
pub mod discovery;
pub mod gnome;
pub mod outlook;
pub mod releases;
pub mod thunderbird;

use crate::analyze::CertAnalysis;
use crate::analyze::chain::{AnchorOrigin, DateKind, Defect, Position, Trust};
use crate::analyze::names::NameCheck;
use crate::analyze::profile::{self, Weakness, WeaknessKind};
use crate::analyze::versions::VersionReport;
use crate::target::Target;
use crate::tls_catalog::{Offer, TlsVersion};
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
        /// Connects without showing the user anything. A finding may still name a risk (a key
        /// another client refuses), but this client says nothing about it.
        Works => "works",
        /// Depends on the device, its version or its set-up, or no source settles it: it
        /// connects silently on some and not on others; nothing is promised on screen.
        Depends => "depends",
        /// Shows the user a certificate warning (its dialog is named) and connects only if the
        /// user accepts a certificate it could not verify, which is exactly what a man in the
        /// middle looks like.
        Warns => "warns",
        /// Cannot connect at all: no TLS, no version or cipher suite in common, or a refusal
        /// with no way past it.
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
    /// The certificate fault its dialog is about when the rule makes the client warn; `None`
    /// for rules that stop the connection instead (TLS versions) or never warn.
    pub fault: Option<Fault>,
}

/// A rule that applied to one endpoint.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule's identifier.
    pub rule: &'static str,
    /// What it means for the client.
    pub outcome: Outcome,
    /// Whether the behaviour is documented (or measured) for current versions.
    pub certain: bool,
    /// What happened, specific to this certificate.
    pub detail: String,
    /// Where the rule is documented.
    pub source: &'static str,
    /// The certificate fault behind it, when it makes the client show a certificate dialog.
    pub fault: Option<Fault>,
    /// The fault is in a CA certificate (an intermediate or the root), not the server's own:
    /// some clients report those first.
    pub issuer: bool,
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
            issuer: false,
        }
    }

    /// The same finding, about a CA certificate.
    fn on_issuer(mut self, issuer: bool) -> Finding {
        self.issuer = issuer;
        self
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
    /// When it warns: every certificate fault it warns about, in the order the client reports
    /// them (the first is the one its notification names). Empty otherwise.
    pub faults: Vec<Fault>,
    /// The certificate dialog the client shows on this server: exactly when it warns.
    pub dialog: Option<&'static dialogs::Dialog>,
}

impl ClientVerdict {
    /// The finding that decided the verdict: for a warning, the one its dialog names first;
    /// else the first (worst) one with the verdict's outcome.
    pub fn deciding(&self) -> Option<&Finding> {
        let first = self.faults.first().copied();
        self.rules
            .iter()
            .filter(|f| f.outcome == self.verdict)
            .find(|f| first.is_none() || f.fault.map(|x| shown(self.client, x, f.issuer)) == first)
    }

    /// The certificate fault its dialog names, when it warns.
    pub fn fault(&self) -> Option<Fault> {
        self.faults.first().copied()
    }
}

/// What the client rules look at, gathered once per endpoint and shared by every client.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The certificate analysis.
    pub analysis: &'a CertAnalysis,
    /// The negotiated TLS version, e.g. "TLSv1.3", when known.
    pub tls_version: Option<&'a str>,
    /// The negotiated cipher suite's IANA name, when known.
    pub tls_cipher: Option<&'a str>,
    /// Weak keys and signatures on the path.
    pub weaknesses: Vec<Weakness>,
    /// The versions the server accepts, when they were asked.
    pub versions: Option<&'a VersionReport>,
    /// The name (or address) the client asks for, when one was given.
    pub target: Option<&'a Target>,
    /// The name as the user typed it, when that differs from `target`.
    pub typed: Option<&'a str>,
}

impl<'a> Facts<'a> {
    /// Gathers the facts of one analysis.
    pub fn new(analysis: &'a CertAnalysis, tls_version: Option<&'a str>) -> Facts<'a> {
        Facts {
            analysis,
            tls_version,
            weaknesses: profile::weaknesses(&analysis.chain, analysis.path.as_ref()),
            versions: None,
            target: None,
            typed: None,
            tls_cipher: None,
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
    ROOT_DATES,
    SELF_SIGNED,
    UNKNOWN_CA,
    INVALID_CHAIN,
    NO_TLS,
    NOT_OBSERVED,
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
const ROOT_DATES: Rule = Rule {
    id: "root-dates",
    summary: "A root outside its validity dates: NSS (Thunderbird) and GnuTLS (Evolution, Geary) \
              refuse the chain, as the fidelity matrix measures; RFC 5280 does not require \
              checking a trust anchor's dates, and Windows', Apple's and Android's behaviour is \
              not documented.",
    source: "https://www.rfc-editor.org/rfc/rfc5280#section-6.1.1; tests/fidelity.rs \
             (validity/root-expired: SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE, GnuTLS \
             \"uses expired certificate\")",
    certain: false,
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

/// mailtls's own TLS stack stopped where a client's may not, and nothing else told how the
/// handshake ends.
pub const NOT_OBSERVED: Rule = Rule {
    id: "not-observed",
    summary: "mailtls's TLS library (rustls) gave up at a limit of its own (a handshake message \
              over 64 KiB in TLS 1.3, no suite, group or signature scheme in common with it) and \
              no other probe could finish the handshake: whether a client connects is not known.",
    source: "https://docs.rs/rustls/latest/rustls/enum.InvalidMessage.html",
    certain: false,
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

/// The verdict for a client on an endpoint whose handshake mailtls could not finish for a
/// reason of its own (`library_limit`): unknown, unless the server is known to refuse every
/// cipher suite the client offers (its own offer, measured: Thunderbird's and GnuTLS's).
pub fn judge_not_observed(
    client: Client,
    reason: &str,
    versions: Option<&VersionReport>,
) -> ClientVerdict {
    let own = match client {
        Client::Thunderbird => Some(Offer::Thunderbird),
        Client::Gnome => Some(Offer::Gnutls),
        _ => None,
    };
    let refused =
        own.is_some_and(|offer| versions.and_then(|v| v.accepts_offer(offer)) == Some(false));
    if refused {
        return judge_no_tls(
            client,
            &format!(
                "the server refuses every TLS 1.2 and 1.3 cipher suite {} offers ({reason})",
                client.name()
            ),
        );
    }
    verdict(
        client,
        vec![Finding::new(&NOT_OBSERVED, Outcome::Depends, reason)],
    )
}

/// The verdict for a client on an endpoint whose certificate cannot be read at all.
pub fn judge_unreadable(client: Client) -> ClientVerdict {
    verdict(
        client,
        vec![Finding {
            fault: None,
            ..Finding::new(
                &INVALID_CHAIN,
                Outcome::Fails,
                "the server's certificate cannot be read, so the client cannot even show it",
            )
        }],
    )
}

/// The fault `client`'s dialog shows for a finding of `fault`: Thunderbird puts a CA outside
/// its dates (SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE) in the trust category, not the time one
/// (measured with the real Thunderbird: validity/intermediate-expired).
fn shown(client: Client, fault: Fault, issuer: bool) -> Fault {
    match (client, fault) {
        (Client::Thunderbird, Fault::Dates) if issuer => Fault::Untrusted,
        _ => fault,
    }
}

/// Where `fault` comes in the order `client` reports faults (lowest first). Thunderbird's
/// certificate error names the chain first, then the name, then the dates (an expired server
/// certificate for another name is reported as the name: measured,
/// combined/expired-and-mismatch). The others name the chain first, then the dates, then the
/// name (GnuTLS leaves out the dates of a chain whose issuer it does not know; Windows' SSL
/// policy checks the chain before the name).
fn rank(client: Client, fault: Fault) -> u8 {
    match (client, fault) {
        (_, Fault::Untrusted) => 0,
        (Client::Thunderbird, Fault::WrongName) => 1,
        (_, Fault::Dates) => 2,
        (_, Fault::WrongName) => 3,
    }
}

fn verdict(client: Client, mut rules: Vec<Finding>) -> ClientVerdict {
    rules.sort_by_key(|f| std::cmp::Reverse(f.outcome));
    let verdict = rules
        .iter()
        .map(|f| f.outcome)
        .max()
        .unwrap_or(Outcome::Works);
    let mut ranked: Vec<(u8, Fault)> = rules
        .iter()
        .filter(|f| verdict == Outcome::Warns && f.outcome == Outcome::Warns)
        .filter_map(|f| f.fault.map(|fault| shown(client, fault, f.issuer)))
        .map(|fault| (rank(client, fault), fault))
        .collect();
    ranked.sort();
    let mut faults: Vec<Fault> = Vec::new();
    for (_, fault) in ranked {
        if !faults.contains(&fault) {
            faults.push(fault);
        }
    }
    let dialog = faults
        .first()
        .and_then(|fault| dialogs::shown(client, *fault, dialogs::Connection::MailServer));
    ClientVerdict {
        client,
        verdict,
        rules,
        faults,
        dialog,
    }
}

/// The shared rules. Name checks that differ per client (the CN fallback) are left to the
/// client modules: here only "not covered at all" warns. A chain defect a client module judges
/// itself ([`own_defect`]) is left to it too.
fn common(client: Client, facts: &Facts<'_>) -> Vec<Finding> {
    let analysis = facts.analysis;
    let mut found = Vec::new();
    // GnuTLS covers a few names no one else does (its own wildcard rule): gnome says so.
    let gnome_covers = client == Client::Gnome && gnome::wildcard_covers(facts).is_some();
    if analysis.name == NameCheck::NotCovered && !gnome_covers {
        found.push(Finding::new(
            &NAME_NOT_COVERED,
            Outcome::Warns,
            format!(
                "the certificate does not name this server ({})",
                analysis
                    .leaf()
                    .map(|l| l.presented_names().join(", "))
                    .unwrap_or_default()
            ),
        ));
    }
    for fault in &analysis.dates {
        let which = match fault.position {
            Position::Leaf => "the server certificate".to_string(),
            Position::Intermediate(_) => format!("the intermediate {}", fault.subject),
            Position::Anchor => format!("the root {}", fault.subject),
        };
        let finding = match (fault.position, fault.kind) {
            (Position::Anchor, kind) => {
                let measured = matches!(client, Client::Thunderbird | Client::Gnome);
                let mut finding = Finding::new(
                    &ROOT_DATES,
                    if measured {
                        Outcome::Warns
                    } else {
                        Outcome::Depends
                    },
                    format!(
                        "{which} {}{}",
                        match kind {
                            DateKind::Expired => "has expired",
                            DateKind::NotYetValid => "is not valid yet",
                        },
                        if measured {
                            ""
                        } else {
                            "; whether this client checks a root's dates is not documented"
                        }
                    ),
                );
                finding.certain = measured;
                finding
            }
            (_, DateKind::Expired) => {
                Finding::new(&EXPIRED, Outcome::Warns, format!("{which} has expired"))
            }
            (_, DateKind::NotYetValid) => Finding::new(
                &NOT_YET_VALID,
                Outcome::Warns,
                format!("{which} is not valid yet"),
            ),
        };
        found.push(finding.on_issuer(fault.position.is_issuer()));
    }
    match &analysis.trust {
        Trust::SelfSigned => found.push(Finding::new(
            &SELF_SIGNED,
            Outcome::Warns,
            format!(
                "{} asks the user to accept the certificate by hand",
                client.name()
            ),
        )),
        Trust::UnknownCa { issuer } => found.push(Finding::new(
            &UNKNOWN_CA,
            Outcome::Warns,
            format!("\"{issuer}\" is not in {}'s trust store", client.name()),
        )),
        Trust::Invalid { reason, defect } if !own_defect(client, *defect, facts) => {
            found.push(Finding::new(&INVALID_CHAIN, Outcome::Warns, reason.clone()));
        }
        Trust::Invalid { .. } | Trust::Trusted | Trust::IncompleteChain { .. } => {}
    }
    found
}

/// Whether `client`'s module judges this chain defect itself (it behaves differently from the
/// common rule).
fn own_defect(client: Client, defect: Defect, facts: &Facts<'_>) -> bool {
    match client {
        Client::Gnome => gnome::own_defect(defect, facts),
        Client::Thunderbird => thunderbird::OWN_DEFECTS.contains(&defect),
        _ => false,
    }
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
            Outcome::Warns,
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
            Outcome::Warns,
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
            Outcome::Warns,
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

/// SHA-1 on the path, for clients that refuse it under public roots only (Microsoft): warns
/// for a public root; for a private one it depends (on the version and its policy).
fn sha1_public_only(rule: &'static Rule, facts: &Facts<'_>) -> Option<Finding> {
    let private = facts.anchor() == Some(AnchorOrigin::Added);
    weak_signature(
        rule,
        facts,
        if private {
            Outcome::Depends
        } else {
            Outcome::Warns
        },
    )
}
