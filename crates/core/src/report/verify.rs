//! The text of `cert verify`: valid or not and why, each client's verdict, the chain.

use std::fmt::Write as _;

use crate::analyze::cert::rfc3339;
use crate::clients::Outcome;
use crate::run::verify::VerifyReport;

/// Renders the report.
pub fn render(report: &VerifyReport, chain_file: &str) -> String {
    let request = &report.request;
    let verification = &report.verification;
    let mut out = String::new();
    let verdict = if report.valid() { "VALID" } else { "INVALID" };
    let judged_by = request
        .client
        .map_or_else(|| "strict profile".to_string(), |c| c.name().to_string());
    let name = request
        .name
        .as_ref()
        .map_or_else(|| "no name".to_string(), ToString::to_string);
    let _ = writeln!(
        out,
        "{verdict}: {chain_file} for {name} at {} ({judged_by})",
        rfc3339(request.at)
    );
    if request.name.is_none() {
        out.push_str("  No name was checked (no --name): only the path was judged.\n");
    }
    if request.client.is_none() {
        for rejection in &verification.rejections {
            let _ = writeln!(
                out,
                "  ✗ {}: {}",
                rejection.code.as_str(),
                rejection.message
            );
        }
    }
    out.push_str("Mail clients\n");
    for verdict in &verification.clients {
        if request.client.is_some_and(|c| c != verdict.client) {
            continue;
        }
        let reason = verdict
            .deciding()
            .filter(|f| f.outcome != Outcome::Works)
            .map(|f| format!(": {} [{}]", f.detail, f.rule))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<19}{}{reason}",
            verdict.client.name(),
            verdict.verdict.as_str()
        );
    }
    out.push_str("Chain\n");
    for (index, cert) in verification.analysis.chain.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {index} {} · issuer {} · {} to {} · {} · {}",
            cert.presented_names().join(", "),
            cert.issuer,
            rfc3339(cert.not_before),
            rfc3339(cert.not_after),
            cert.key,
            cert.signature_hash
        );
    }
    let _ = writeln!(out, "Trust anchors: {}", report.anchors.join(", "));
    out
}
