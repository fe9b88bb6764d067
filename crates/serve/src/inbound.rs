//! The result page's inbound mail: what sending servers (Gmail and Microsoft 365 under MTA-STS,
//! DANE-validating senders, every other sender) do with a mail domain's MX hosts, and the
//! answer to "can these warnings cost us mail?". Computed once when a check ends, stored with
//! the page; rendered by `page::inbound`.

use serde::{Deserialize, Serialize};

use mailtls_core::analyze::dane::DaneState;
use mailtls_core::diagnose::Verdict;
use mailtls_core::diagnose::costs_mail::{self, CostAnswer, CostReason, CostsMail};
use mailtls_core::diagnose::delivery::{
    CertificateVerdict, DeliveryReport, MtaStsState, Port25, SenderAction, SenderKind, TlsRptState,
};
use mailtls_core::run::check::{CheckReport, Checked};

/// Inbound delivery of a mail domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundSection {
    /// `fail`: a kind of sender bounces the domain's mail.
    pub verdict: Verdict,
    /// The answer in plain words.
    pub summary: String,
    /// What to change.
    pub fixes: Vec<String>,
    /// MTA-STS as a sender without a cached policy finds it.
    pub mta_sts: MtaStsState,
    /// The policy's URL, when fetched.
    pub policy_url: Option<String>,
    /// The domain's DANE, the worst of its MX hosts'.
    pub dane: Option<DaneState>,
    /// The TLS-RPT record.
    pub tlsrpt: TlsRptState,
    /// Every MX host, most preferred first.
    pub mx: Vec<InboundMx>,
}

/// One MX host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMx {
    /// The host.
    pub host: String,
    /// Its port 25.
    pub port25: Port25,
    /// Its certificate, as MTA-STS senders validate it.
    pub certificate: Option<CertificateVerdict>,
    /// What is wrong with it, in words.
    pub certificate_fault: Option<String>,
    /// DANE's verdict.
    pub dane: DaneState,
    /// What MTA-STS senders, DANE senders and other senders do there.
    pub senders: Vec<(SenderKind, SenderAction)>,
}

/// The answer to "can these warnings cost us mail?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostsLine {
    /// yes, no, not-yet, unknown.
    pub answer: CostAnswer,
    /// The facts it rests on.
    pub because: Vec<CostReason>,
    /// In plain words.
    pub summary: String,
}

impl From<&CostsMail> for CostsLine {
    fn from(costs: &CostsMail) -> CostsLine {
        CostsLine {
            answer: costs.answer,
            because: costs.because.clone(),
            summary: costs.summary.clone(),
        }
    }
}

/// The section of a mail-domain check (`None` for a host, or when not observed).
pub fn section(report: &CheckReport) -> Option<InboundSection> {
    let Checked::Domain(domain) = &report.checked else {
        return None;
    };
    let delivery = domain.report.delivery.as_ref()?;
    Some(InboundSection {
        verdict: delivery.verdict,
        summary: delivery.summary.clone(),
        fixes: delivery.fixes.clone(),
        mta_sts: delivery.mta_sts.state,
        policy_url: delivery.mta_sts.url.clone(),
        dane: costs_mail::domain_dane(&delivery.mx),
        tlsrpt: delivery.tlsrpt.state,
        mx: delivery
            .mx
            .iter()
            .map(|mx| InboundMx {
                host: mx.host.clone(),
                port25: mx.port25,
                certificate: mx.certificate,
                certificate_fault: mx.certificate_fault.clone(),
                dane: mx.dane.state,
                senders: SenderKind::ALL
                    .iter()
                    .map(|kind| (*kind, mx.action(*kind)))
                    .collect(),
            })
            .collect(),
    })
}

/// The answer for `report`: from a mail domain's inbound delivery, else from the reputation
/// check's (`--reputation`); `None` for a host checked alone.
pub fn costs(report: &CheckReport) -> Option<CostsLine> {
    let delivery: Option<&DeliveryReport> = match &report.checked {
        Checked::Domain(domain) => domain.report.delivery.as_ref(),
        Checked::Host(_) => None,
    };
    match (delivery, &report.reputation) {
        (Some(delivery), _) => Some(CostsLine::from(&costs_mail::judge(
            Some(delivery),
            &delivery.domain,
        ))),
        (None, Some(reputation)) => Some(CostsLine::from(&reputation.judged.costs_mail)),
        (None, None) => None,
    }
}
