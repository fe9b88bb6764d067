//! Inbound delivery: what each kind of sending server does with the domain's MX hosts, given
//! their port 25 (STARTTLS, the certificate), the domain's MTA-STS policy (RFC 8461) and the
//! TLSA records of its MX hosts (DANE, RFC 7672). Pure: everything comes from the discovery
//! observations.
//!
//! Three kinds of sender, each with what it checks:
//! - MTA-STS senders (Gmail, Microsoft 365): under a policy in `enforce` mode they deliver only
//!   to an MX that matches a pattern of the policy, offers STARTTLS and presents a certificate
//!   valid for its name and trusted (RFC 8461 §4.1, §4.2, §5); under `testing` they deliver
//!   and report what `enforce` would refuse.
//! - DANE senders (Postfix and Exim with DANE, Microsoft 365): where the MX has TLSA records in
//!   a signed zone, they deliver only when one matches the chain, defer when none does or
//!   DNSSEC fails, and require TLS without authenticating when none is usable (RFC 7672 §2.2).
//! - Every other sender: opportunistic TLS (RFC 3207, RFC 7435): any certificate, or none.
//!
//! A certificate problem on port 25 is a warning on the host; here it becomes an error only where
//! MTA-STS in `enforce` or DANE makes a kind of sender keep its mail and finally bounce it.

mod problems;
mod senders;

use std::net::IpAddr;

use super::{Problem, Severity, Verdict};
use crate::analyze::CertAnalysis;
use crate::analyze::chain::{Extra, PathOptions, TrustAnchors};
use crate::analyze::dane::DaneJudgement;
use crate::analyze::mta_sts::{self, Mode, Policy};
use crate::analyze::tlsrpt_record;
use crate::observation::delivery::DeliveryObservations;
use crate::observation::{Der, DiscoveryObservations};
use crate::target::Target;

crate::vocabulary::vocabulary! {
    /// The kinds of sending server, by what they check on port 25.
    pub enum SenderKind {
        /// Senders that honour MTA-STS (RFC 8461): Gmail, Microsoft 365 (Exchange Online).
        MtaSts => "mta-sts",
        /// Senders that validate DANE (RFC 7672): Postfix and Exim with DANE on, Microsoft 365.
        Dane => "dane",
        /// Every other sender: opportunistic TLS, any certificate (or none) accepted.
        Opportunistic => "opportunistic",
    }
}

impl SenderKind {
    /// Who they are, in words.
    pub fn who(self) -> &'static str {
        match self {
            SenderKind::MtaSts => "Gmail and Microsoft 365",
            SenderKind::Dane => {
                "senders that validate DANE (Postfix and Exim with DANE, Microsoft 365)"
            }
            SenderKind::Opportunistic => "other senders",
        }
    }
}

crate::vocabulary::vocabulary! {
    /// What one kind of sender does with one MX (or, for the domain, with its mail).
    pub enum SenderAction {
        /// Delivers (over TLS when the MX offers it).
        Delivers => "delivers",
        /// Delivers over TLS without checking the certificate (DANE records none of which is
        /// usable), and defers where there is no TLS.
        EncryptsOnly => "encrypts-only",
        /// Does not deliver there: tries the next MX; with none left, keeps the mail queued,
        /// retrying, until it bounces (after days).
        Defers => "defers",
        /// Not known: port 25 was not reached or not checked, or a lookup went unanswered.
        Unknown => "unknown",
    }
}

crate::vocabulary::vocabulary! {
    /// What an MX's port 25 did.
    pub enum Port25 {
        /// STARTTLS and a TLS handshake.
        Tls => "tls",
        /// No STARTTLS (not offered, or refused).
        NoStarttls => "no-starttls",
        /// STARTTLS offered, but the TLS handshake failed.
        TlsFailed => "tls-failed",
        /// Nothing answered on port 25 (from where mailtls ran: many networks block it).
        Unreachable => "unreachable",
        /// The server turned every attempt away as busy: nothing known.
        RateLimited => "rate-limited",
        /// Not checked: the name does not resolve, the resolver did not answer, or more MX
        /// hosts than a check takes.
        NotChecked => "not-checked",
    }
}

crate::vocabulary::vocabulary! {
    /// An MX certificate, as an MTA-STS sender validates it (RFC 8461 §4.2): a DNS name in
    /// its subjectAltName matching the MX host, a chain to a trusted root from what the server
    /// sends, within its dates.
    pub enum CertificateVerdict {
        /// Valid for the MX host.
        Valid => "valid",
        /// Does not name the MX host (in subjectAltName).
        WrongName => "wrong-name",
        /// No chain to a trusted root from what the server sends (self-signed, unknown CA,
        /// missing intermediate).
        Untrusted => "untrusted",
        /// Expired, or not valid yet.
        OutsideValidity => "outside-validity",
        /// The certificate cannot be read.
        Unreadable => "unreadable",
    }
}

crate::vocabulary::vocabulary! {
    /// The domain's MTA-STS, as a sender without a cached policy finds it.
    pub enum MtaStsState {
        /// No `_mta-sts` record begins with v=STSv1.
        NotPublished => "not-published",
        /// A valid policy in mode enforce.
        Enforce => "enforce",
        /// A valid policy in mode testing.
        Testing => "testing",
        /// A valid policy in mode none.
        None => "none",
        /// The `_mta-sts` records are invalid, or several: senders see no policy.
        RecordInvalid => "record-invalid",
        /// The policy cannot be fetched (no answer, a bad certificate, a redirect, a status
        /// other than 200, over 64 KiB, not text/plain).
        PolicyUnavailable => "policy-unavailable",
        /// The policy was fetched but no sender can use it.
        PolicyInvalid => "policy-invalid",
        /// mailtls's resolver did not answer for the record: not known.
        NotChecked => "not-checked",
    }
}

crate::vocabulary::vocabulary! {
    /// The domain's `_smtp._tls` record (RFC 8460).
    pub enum TlsRptState {
        /// None: senders send no reports.
        NotPublished => "not-published",
        /// Valid: senders report where `rua` says.
        Valid => "valid",
        /// Invalid or several: senders send no reports.
        Invalid => "invalid",
        /// mailtls's resolver did not answer: not known.
        NotChecked => "not-checked",
    }
}

/// Where the behaviour is written down.
pub mod sources {
    /// RFC 8461 §3.1, the `_mta-sts` TXT record.
    pub const RFC8461_RECORD: &str =
        "RFC 8461 §3.1: https://www.rfc-editor.org/rfc/rfc8461#section-3.1";
    /// RFC 8461 §3.2, the policy.
    pub const RFC8461_POLICY: &str =
        "RFC 8461 §3.2: https://www.rfc-editor.org/rfc/rfc8461#section-3.2";
    /// RFC 8461 §3.3, fetching the policy.
    pub const RFC8461_FETCH: &str =
        "RFC 8461 §3.3: https://www.rfc-editor.org/rfc/rfc8461#section-3.3";
    /// RFC 8461 §4.1, MX host validation.
    pub const RFC8461_MX: &str =
        "RFC 8461 §4.1: https://www.rfc-editor.org/rfc/rfc8461#section-4.1";
    /// RFC 8461 §4.2, certificate validation.
    pub const RFC8461_CERTIFICATE: &str =
        "RFC 8461 §4.2: https://www.rfc-editor.org/rfc/rfc8461#section-4.2";
    /// RFC 8461 §5, policy application.
    pub const RFC8461_APPLY: &str = "RFC 8461 §5: https://www.rfc-editor.org/rfc/rfc8461#section-5";
    /// Google's admin help on MTA-STS.
    pub const GOOGLE_MTA_STS: &str = "Google Workspace Admin Help, About MTA-STS and TLS reporting: https://support.google.com/a/answer/9261504";
    /// Microsoft's page on MTA-STS in Exchange Online.
    pub const MICROSOFT_MTA_STS: &str = "Microsoft Learn, Enhancing mail flow with MTA-STS: https://learn.microsoft.com/en-us/purview/enhancing-mail-flow-with-mta-sts";
    /// RFC 7672 §2.2, DANE's effect on SMTP delivery.
    pub const RFC7672: &str = "RFC 7672 §2.2: https://www.rfc-editor.org/rfc/rfc7672#section-2.2";
    /// Postfix's DANE documentation.
    pub const POSTFIX_DANE: &str =
        "Postfix TLS_README, DANE: https://www.postfix.org/TLS_README.html#client_tls_dane";
    /// Microsoft's page on DANE in Exchange Online.
    pub const MICROSOFT_DANE: &str = "Microsoft Learn, How SMTP DNS-based Authentication of Named Entities (DANE) works: https://learn.microsoft.com/en-us/purview/how-smtp-dane-works";
    /// RFC 7435, opportunistic security.
    pub const RFC7435: &str = "RFC 7435 §3: https://www.rfc-editor.org/rfc/rfc7435#section-3";
    /// RFC 4035 §5.5, a validating resolver's answer to a bogus RRset (SERVFAIL).
    pub const RFC4035: &str = "RFC 4035 §5.5: https://www.rfc-editor.org/rfc/rfc4035#section-5.5";
    /// RFC 8460 §3, the `_smtp._tls` record.
    pub const RFC8460_RECORD: &str =
        "RFC 8460 §3: https://www.rfc-editor.org/rfc/rfc8460#section-3";
}

/// What one kind of sender does with one MX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderVerdict {
    /// The kind of sender.
    pub sender: SenderKind,
    /// What it does.
    pub action: SenderAction,
    /// Under a policy in mode testing: what it would do under `enforce`, when that differs.
    pub if_enforced: Option<SenderAction>,
    /// Why, in words.
    pub reason: String,
    /// Where the behaviour is documented.
    pub sources: Vec<&'static str>,
}

/// One MX host, as senders meet it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxDelivery {
    /// The host name.
    pub host: String,
    /// Its MX preference (lower is tried first).
    pub preference: u16,
    /// What its port 25 did (the worst of its addresses).
    pub port25: Port25,
    /// The address that state was seen at.
    pub address: Option<IpAddr>,
    /// Its certificate, as an MTA-STS sender validates it; `None` without one.
    pub certificate: Option<CertificateVerdict>,
    /// What is wrong with the certificate, in words (`None` when valid or absent).
    pub certificate_fault: Option<String>,
    /// The DNS names its certificate presents.
    pub presented_names: Vec<String>,
    /// The policy's patterns it matches; `None` when no policy is in force.
    pub policy_patterns: Option<Vec<String>>,
    /// DANE's verdict on it.
    pub dane: DaneJudgement,
    /// What each kind of sender does with it, in [`SenderKind::ALL`]'s order.
    pub senders: Vec<SenderVerdict>,
    /// Why port 25 is not known, when it is not, in words.
    pub detail: Option<String>,
}

/// What one kind of sender does with the domain's mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderOutcome {
    /// The kind of sender.
    pub sender: SenderKind,
    /// `delivers` (to some MX), `encrypts-only`, `defers` (to every MX: the mail bounces in the
    /// end) or `unknown`.
    pub action: SenderAction,
    /// The MX hosts its mail goes to (empty unless it delivers).
    pub to: Vec<String>,
}

/// The domain's MTA-STS, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtaSts {
    /// What a sender without a cached policy finds.
    pub state: MtaStsState,
    /// The record's id, when one record is valid.
    pub id: Option<String>,
    /// The policy URL, when it was fetched.
    pub url: Option<String>,
    /// The policy, when a sender can use it.
    pub policy: Option<Policy>,
}

/// The domain's TLS-RPT record, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRpt {
    /// Whether senders report, and where.
    pub state: TlsRptState,
    /// Where reports go (`mailto:` and `https:` URIs).
    pub rua: Vec<String>,
}

/// The judgement of inbound delivery.
#[derive(Debug, Clone)]
pub struct DeliveryReport {
    /// The mail domain.
    pub domain: String,
    /// `fail`: a kind of sender keeps the domain's mail and bounces it; `warn`: something
    /// weakens delivery or protection; `unknown`: no MX could be checked; `ok` otherwise.
    pub verdict: Verdict,
    /// The answer in plain words, first.
    pub summary: String,
    /// What to change, most important first.
    pub fixes: Vec<String>,
    /// MTA-STS.
    pub mta_sts: MtaSts,
    /// TLS-RPT.
    pub tlsrpt: TlsRpt,
    /// Every MX host, most preferred first.
    pub mx: Vec<MxDelivery>,
    /// What each kind of sender does with the domain's mail.
    pub senders: Vec<SenderOutcome>,
    /// The problems, errors first.
    pub problems: Vec<Problem>,
}

/// Judges what senders do with `delivery`, the MX hosts' port 25 taken from `observations`'
/// host checks, with `anchors` at `now`.
pub fn judge(
    delivery: &DeliveryObservations,
    observations: &DiscoveryObservations,
    anchors: &TrustAnchors,
    now: i64,
) -> DeliveryReport {
    let domain = delivery.domain.clone();
    let mta_sts = mta_sts_of(delivery);
    let tlsrpt = tlsrpt_of(delivery);
    let in_force = match (&mta_sts.policy, mta_sts.state) {
        (Some(policy), MtaStsState::Enforce | MtaStsState::Testing) => Some(policy),
        _ => None,
    };
    let mx = senders::judge_mx(delivery, observations, in_force, anchors, now);
    let outcomes: Vec<SenderOutcome> = SenderKind::ALL
        .iter()
        .map(|kind| outcome(*kind, &mx))
        .collect();
    let mut problems =
        problems::problems(delivery, &mta_sts, &tlsrpt, &mx, &outcomes, anchors, now);
    problems.sort_by_key(|p| p.severity);
    let verdict = if problems.iter().any(|p| p.severity == Severity::Error) {
        Verdict::Fail
    } else if problems.iter().any(|p| p.severity == Severity::Warning) {
        Verdict::Warn
    } else if (!mx.is_empty() && mx.iter().all(|m| m.port25_unknown()))
        || (mx.is_empty() && unanswered(delivery.mx.failure))
    {
        Verdict::Unknown
    } else {
        Verdict::Ok
    };
    let summary = problems::summary(&domain, delivery, &mta_sts, &mx, &outcomes, &problems);
    let fixes = problems::fixes(&domain, &mta_sts, &mx, &problems);
    DeliveryReport {
        domain,
        verdict,
        summary,
        fixes,
        mta_sts,
        tlsrpt,
        mx,
        senders: outcomes,
        problems,
    }
}

impl MxDelivery {
    /// Port 25 was not seen working or failing: nothing is known of its TLS.
    pub fn port25_unknown(&self) -> bool {
        matches!(
            self.port25,
            Port25::Unreachable | Port25::RateLimited | Port25::NotChecked
        )
    }

    /// What `kind` does here.
    pub fn action(&self, kind: SenderKind) -> SenderAction {
        self.senders
            .iter()
            .find(|s| s.sender == kind)
            .map_or(SenderAction::Unknown, |s| s.action)
    }

    /// `kind`'s verdict here.
    pub fn verdict(&self, kind: SenderKind) -> Option<&SenderVerdict> {
        self.senders.iter().find(|s| s.sender == kind)
    }
}

/// What `kind` does with the domain's mail: it delivers when some MX takes it, defers when every
/// MX turns it away (then the mail bounces in the end), and is unknown otherwise.
fn outcome(kind: SenderKind, mx: &[MxDelivery]) -> SenderOutcome {
    let to: Vec<String> = mx
        .iter()
        .filter(|m| {
            matches!(
                m.action(kind),
                SenderAction::Delivers | SenderAction::EncryptsOnly
            )
        })
        .map(|m| m.host.clone())
        .collect();
    let action = if !to.is_empty() {
        if mx
            .iter()
            .filter(|m| to.contains(&m.host))
            .all(|m| m.action(kind) == SenderAction::EncryptsOnly)
        {
            SenderAction::EncryptsOnly
        } else {
            SenderAction::Delivers
        }
    } else if !mx.is_empty() && mx.iter().all(|m| m.action(kind) == SenderAction::Defers) {
        SenderAction::Defers
    } else {
        SenderAction::Unknown
    };
    SenderOutcome {
        sender: kind,
        action,
        to,
    }
}

/// The domain's MTA-STS as a sender without a cached policy finds it.
fn mta_sts_of(delivery: &DeliveryObservations) -> MtaSts {
    let lookup = &delivery.mta_sts_record;
    let url = delivery.policy.as_ref().map(|p| p.url.clone());
    let mut out = MtaSts {
        state: MtaStsState::NotPublished,
        id: None,
        url,
        policy: None,
    };
    let record = match mta_sts::select_record(&lookup.records) {
        Ok(Some(record)) => record,
        Ok(None) => {
            if lookup.records.is_empty() && unanswered(lookup.failure) {
                out.state = MtaStsState::NotChecked;
            }
            return out;
        }
        Err(_) => {
            out.state = MtaStsState::RecordInvalid;
            return out;
        }
    };
    out.id = Some(record.id);
    let Some(fetch) = &delivery.policy else {
        out.state = MtaStsState::PolicyUnavailable;
        return out;
    };
    match mta_sts::answered(fetch) {
        Some(Ok(text)) => match mta_sts::parse_policy(text) {
            Ok(policy) => {
                out.state = match policy.mode {
                    Mode::Enforce => MtaStsState::Enforce,
                    Mode::Testing => MtaStsState::Testing,
                    Mode::None => MtaStsState::None,
                };
                out.policy = Some(policy);
            }
            Err(_) => out.state = MtaStsState::PolicyInvalid,
        },
        Some(Err(_)) | None => out.state = MtaStsState::PolicyUnavailable,
    }
    out
}

/// The domain's `_smtp._tls` record.
fn tlsrpt_of(delivery: &DeliveryObservations) -> TlsRpt {
    let lookup = &delivery.tlsrpt_record;
    match tlsrpt_record::select(&lookup.records) {
        Ok(Some(record)) => TlsRpt {
            state: TlsRptState::Valid,
            rua: record.rua,
        },
        Ok(None) if lookup.records.is_empty() && unanswered(lookup.failure) => TlsRpt {
            state: TlsRptState::NotChecked,
            rua: Vec::new(),
        },
        Ok(None) => TlsRpt {
            state: TlsRptState::NotPublished,
            rua: Vec::new(),
        },
        Err(_) => TlsRpt {
            state: TlsRptState::Invalid,
            rua: Vec::new(),
        },
    }
}

/// A lookup our resolver did not answer (as opposed to one that found no records).
fn unanswered(failure: Option<crate::observation::dnssec::LookupFailure>) -> bool {
    use crate::observation::dnssec::LookupFailure;
    matches!(
        failure,
        Some(LookupFailure::Timeout | LookupFailure::Failed)
    )
}

/// `chain` judged for `host` as a sending server judges it: what the server sends and nothing
/// else (senders fetch no missing intermediate). `None` when it is empty or unreadable.
fn as_sent(chain: &[Der], host: &str, anchors: &TrustAnchors, now: i64) -> Option<CertAnalysis> {
    let ders: Vec<&[u8]> = chain.iter().map(|d| d.0.as_slice()).collect();
    let extra = Extra {
        elsewhere: &[],
        fetched: &[],
    };
    crate::analyze::chain_of(
        &ders,
        Some(&Target::Dns(host.to_string())),
        anchors,
        extra,
        now,
        &PathOptions::default(),
    )
}
