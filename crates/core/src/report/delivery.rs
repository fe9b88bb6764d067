//! The "Inbound mail (port 25)" section of the mail-domain report: the verdict and the fixes
//! first, then the domain's MTA-STS and TLS-RPT, then per MX what each kind of sender does, and
//! the sources. (Its JSON form is `wire::delivery`.)

use std::fmt::Write as _;

use super::style::{BOLD, DIM, GREEN, RED, YELLOW};
use crate::diagnose::delivery::{
    CertificateVerdict, DeliveryReport, MtaStsState, MxDelivery, Port25, SenderAction, SenderKind,
    TlsRptState,
};

/// The section when inbound delivery was not observed (`--no-inbound`, or a file saved before
/// it was): not checked, which says nothing of MTA-STS, DANE or TLS-RPT either way.
pub fn write_not_checked(out: &mut String) {
    let _ = writeln!(out, "{BOLD}Inbound mail (port 25){BOLD:#}");
    let _ = writeln!(
        out,
        "  {DIM}not checked (--no-inbound): MTA-STS, DANE and TLS-RPT were not looked at{DIM:#}"
    );
    let _ = writeln!(out);
}

/// Writes the section; `fixes_shown`: its fixes already lead the report.
pub fn write(out: &mut String, report: &DeliveryReport, fixes_shown: bool) {
    let _ = writeln!(out, "{BOLD}Inbound mail (port 25){BOLD:#}");
    let style = super::style::verdict(report.verdict);
    let _ = writeln!(out, "  {style}{}{style:#}", report.summary);
    if !fixes_shown {
        for fix in &report.fixes {
            let _ = writeln!(out, "  {BOLD}→{BOLD:#} {fix}");
        }
    }
    let _ = writeln!(out, "  MTA-STS: {}", mta_sts_line(report));
    let _ = writeln!(out, "  TLS-RPT: {}", tlsrpt_line(report));
    for mx in &report.mx {
        write_mx(out, mx);
    }
    let mut cited: Vec<&str> = Vec::new();
    for mx in &report.mx {
        for verdict in &mx.senders {
            if matches!(
                verdict.action,
                SenderAction::Defers | SenderAction::EncryptsOnly
            ) || verdict.if_enforced.is_some()
            {
                for source in &verdict.sources {
                    if !cited.contains(source) {
                        cited.push(source);
                    }
                }
            }
        }
    }
    if !cited.is_empty() {
        let _ = writeln!(out, "  {DIM}Sources:{DIM:#}");
        for source in cited {
            let _ = writeln!(out, "    {DIM}{source}{DIM:#}");
        }
    }
    let _ = writeln!(out);
}

fn mta_sts_line(report: &DeliveryReport) -> String {
    let sts = &report.mta_sts;
    match (sts.state, &sts.policy) {
        (MtaStsState::Enforce | MtaStsState::Testing | MtaStsState::None, Some(policy)) => {
            format!(
                "mode {} (id {}, max_age {} s, mx: {})",
                policy.mode,
                sts.id.as_deref().unwrap_or("?"),
                policy.max_age,
                if policy.mx.is_empty() {
                    "none".to_string()
                } else {
                    policy.mx.join(", ")
                }
            )
        }
        (MtaStsState::NotPublished, _) => {
            "not published: senders accept any certificate on port 25".to_string()
        }
        (MtaStsState::RecordInvalid, _) => "the _mta-sts record is not valid".to_string(),
        (MtaStsState::PolicyUnavailable, _) => format!(
            "the policy cannot be fetched ({})",
            sts.url.as_deref().unwrap_or("no URL")
        ),
        (MtaStsState::PolicyInvalid, _) => "the policy is not valid".to_string(),
        (MtaStsState::NotChecked, _) => "not checked (DNS did not answer)".to_string(),
        (state, None) => state.as_str().to_string(),
    }
}

fn tlsrpt_line(report: &DeliveryReport) -> String {
    match report.tlsrpt.state {
        TlsRptState::Valid => format!("reports go to {}", report.tlsrpt.rua.join(", ")),
        TlsRptState::NotPublished => {
            "not published: senders tell nobody about failed TLS deliveries".to_string()
        }
        TlsRptState::Invalid => "the _smtp._tls record is not valid: no reports".to_string(),
        TlsRptState::NotChecked => "not checked (DNS did not answer)".to_string(),
    }
}

fn write_mx(out: &mut String, mx: &MxDelivery) {
    let port25 = match mx.port25 {
        Port25::Tls => match (mx.certificate, &mx.certificate_fault) {
            (Some(CertificateVerdict::Valid), _) => {
                format!("{GREEN}STARTTLS, certificate valid for its name{GREEN:#}")
            }
            (_, Some(fault)) => format!("{YELLOW}STARTTLS; {fault}{YELLOW:#}"),
            _ => "STARTTLS".to_string(),
        },
        Port25::NoStarttls => format!("{YELLOW}no STARTTLS{YELLOW:#}"),
        Port25::TlsFailed => format!("{YELLOW}STARTTLS offered, TLS handshake fails{YELLOW:#}"),
        Port25::Unreachable | Port25::RateLimited | Port25::NotChecked => format!(
            "{DIM}not checked: {}{DIM:#}",
            mx.detail.as_deref().unwrap_or(mx.port25.as_str())
        ),
    };
    let _ = writeln!(
        out,
        "  {BOLD}{}{BOLD:#} (MX {}): {port25}",
        mx.host, mx.preference
    );
    for verdict in &mx.senders {
        let who = match verdict.sender {
            SenderKind::MtaSts => "Gmail, Microsoft 365 (MTA-STS)",
            SenderKind::Dane => "Postfix, Exim with DANE; Microsoft 365",
            SenderKind::Opportunistic => "other senders",
        };
        let (style, word) = match (verdict.action, verdict.if_enforced) {
            (SenderAction::Delivers, Some(_)) => (YELLOW, "deliver (would not under enforce)"),
            (SenderAction::Delivers, None) => (GREEN, "deliver"),
            (SenderAction::EncryptsOnly, _) => (YELLOW, "deliver, encrypted but unverified"),
            (SenderAction::Defers, _) => (RED, "do not deliver"),
            (SenderAction::Unknown, _) => (DIM, "not known"),
        };
        let _ = writeln!(
            out,
            "    {who:<40}{style}{word}{style:#}: {}",
            verdict.reason
        );
    }
}
