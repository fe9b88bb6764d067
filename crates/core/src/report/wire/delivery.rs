//! `inbound` in the mail-domain report: what sending servers do with the domain's mail (port 25,
//! MTA-STS, DANE, TLS-RPT). Serialize-only, apart from the domain types.

use schemars::JsonSchema;
use serde::Serialize;

use super::Problem;
use crate::analyze::dane::DaneState;
use crate::analyze::mta_sts::Mode;
use crate::diagnose::Verdict;
use crate::diagnose::delivery::{
    CertificateVerdict, DeliveryReport, MtaStsState, MxDelivery, Port25, SenderAction, SenderKind,
    TlsRptState,
};

/// Inbound delivery.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Inbound {
    /// `fail`: a kind of sender delivers to no MX (its mail waits and then bounces); `warn`:
    /// something weakens delivery or its protection; `unknown`: no MX's port 25 could be
    /// checked; `ok` otherwise.
    pub verdict: Verdict,
    /// The answer in plain words.
    pub summary: String,
    /// What to change, most important first.
    pub fix: Vec<String>,
    /// The domain's MTA-STS.
    pub mta_sts: MtaSts,
    /// The domain's TLS-RPT record.
    pub tlsrpt: TlsRpt,
    /// Every MX host, most preferred first.
    pub mx: Vec<Mx>,
    /// What each kind of sender does with the domain's mail.
    pub senders: Vec<SenderOutcome>,
    /// The problems, errors first.
    pub problems: Vec<Problem>,
}

/// MTA-STS as a sender without a cached policy finds it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MtaSts {
    /// `not-published`, `enforce`, `testing`, `none`, `record-invalid`, `policy-unavailable`,
    /// `policy-invalid`, `not-checked`.
    pub state: MtaStsState,
    /// The record's id.
    pub id: Option<String>,
    /// The policy URL, when it was fetched.
    pub url: Option<String>,
    /// The policy's mode, when senders can use it.
    pub mode: Option<Mode>,
    /// Its max_age in seconds.
    pub max_age: Option<u64>,
    /// Its valid mx patterns.
    pub mx: Vec<String>,
    /// Its mx values that are not patterns (they match nothing).
    pub invalid_mx: Vec<String>,
}

/// The `_smtp._tls` record.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TlsRpt {
    /// `not-published`, `valid`, `invalid`, `not-checked`.
    pub state: TlsRptState,
    /// Where reports go.
    pub rua: Vec<String>,
}

/// One MX host.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Mx {
    /// The host name.
    pub host: String,
    /// Its MX preference.
    pub preference: u16,
    /// `tls`, `no-starttls`, `tls-failed`, `unreachable`, `rate-limited`, `not-checked`.
    pub port25: Port25,
    /// The address that state was seen at.
    pub address: Option<String>,
    /// `valid`, `wrong-name`, `untrusted`, `outside-validity`, `unreadable`; null without a
    /// certificate.
    pub certificate: Option<CertificateVerdict>,
    /// What is wrong with the certificate, in words.
    pub certificate_fault: Option<String>,
    /// The DNS names its certificate presents.
    pub presented_names: Vec<String>,
    /// The policy patterns it matches; null when no policy is in force.
    pub policy_patterns: Option<Vec<String>>,
    /// DANE's verdict.
    pub dane: Dane,
    /// What each kind of sender does with it.
    pub senders: Vec<Sender>,
    /// Why port 25 is not known, when it is not.
    pub detail: Option<String>,
}

/// DANE's verdict on one MX.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Dane {
    /// `not-published`, `insecure`, `matches`, `no-match`, `unusable`, `bogus`, `unknown`.
    pub state: DaneState,
    /// Indexes of the TLSA records that match.
    pub matched: Vec<usize>,
    /// The records validating senders cannot use, each with why.
    pub unusable: Vec<Unusable>,
    /// The next key change breaks the match.
    pub rollover_risk: bool,
}

/// A TLSA record senders cannot use.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Unusable {
    /// Its index among the records.
    pub index: usize,
    /// Why, in words.
    pub why: String,
}

/// What one kind of sender does with one MX.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Sender {
    /// `mta-sts` (Gmail, Microsoft 365), `dane` (Postfix, Exim with DANE; Microsoft 365),
    /// `opportunistic` (every other sender).
    pub sender: SenderKind,
    /// `delivers`, `encrypts-only`, `defers`, `unknown`.
    pub action: SenderAction,
    /// Under a policy in testing mode: what it would do under enforce, when that differs.
    pub if_enforced: Option<SenderAction>,
    /// Why, in words.
    pub reason: String,
    /// Where the behaviour is documented.
    pub sources: Vec<&'static str>,
}

/// What one kind of sender does with the domain's mail.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SenderOutcome {
    /// The kind of sender.
    pub sender: SenderKind,
    /// `delivers` (to `to`), `encrypts-only`, `defers` (to no MX: the mail bounces in the end),
    /// `unknown`.
    pub action: SenderAction,
    /// The MX hosts its mail goes to.
    pub to: Vec<String>,
}

/// The wire form of `report`.
pub fn inbound(report: &DeliveryReport) -> Inbound {
    let policy = report.mta_sts.policy.as_ref();
    Inbound {
        verdict: report.verdict,
        summary: report.summary.clone(),
        fix: report.fixes.clone(),
        mta_sts: MtaSts {
            state: report.mta_sts.state,
            id: report.mta_sts.id.clone(),
            url: report.mta_sts.url.clone(),
            mode: policy.map(|p| p.mode),
            max_age: policy.map(|p| p.max_age),
            mx: policy.map(|p| p.mx.clone()).unwrap_or_default(),
            invalid_mx: policy.map(|p| p.invalid_mx.clone()).unwrap_or_default(),
        },
        tlsrpt: TlsRpt {
            state: report.tlsrpt.state,
            rua: report.tlsrpt.rua.clone(),
        },
        mx: report.mx.iter().map(mx).collect(),
        senders: report
            .senders
            .iter()
            .map(|o| SenderOutcome {
                sender: o.sender,
                action: o.action,
                to: o.to.clone(),
            })
            .collect(),
        problems: report
            .problems
            .iter()
            .map(|p| Problem::new(p, p.context.expected_name.as_deref().unwrap_or_default()))
            .collect(),
    }
}

fn mx(mx: &MxDelivery) -> Mx {
    Mx {
        host: mx.host.clone(),
        preference: mx.preference,
        port25: mx.port25,
        address: mx.address.map(|a| a.to_string()),
        certificate: mx.certificate,
        certificate_fault: mx.certificate_fault.clone(),
        presented_names: mx.presented_names.clone(),
        policy_patterns: mx.policy_patterns.clone(),
        dane: Dane {
            state: mx.dane.state,
            matched: mx.dane.matched.clone(),
            unusable: mx
                .dane
                .unusable
                .iter()
                .map(|(index, why)| Unusable {
                    index: *index,
                    why: why.clone(),
                })
                .collect(),
            rollover_risk: mx.dane.rollover_risk,
        },
        senders: mx
            .senders
            .iter()
            .map(|s| Sender {
                sender: s.sender,
                action: s.action,
                if_enforced: s.if_enforced,
                reason: s.reason.clone(),
                sources: s.sources.clone(),
            })
            .collect(),
        detail: mx.detail.clone(),
    }
}
