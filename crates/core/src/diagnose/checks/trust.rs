//! Does the chain reach a trusted root, and if not, why not: self-signed, an unknown CA, a
//! forgotten intermediate (sent on another port? fetchable from AIA?), or broken otherwise.

use super::Endpoint;
use crate::analyze::chain::Trust;
use crate::diagnose::problem::{Code, Problem, Severity};

/// Which clients fetch a missing intermediate from its AIA URL, and which do not.
const AIA_RULES: [&str; 4] = [
    "outlook/aia-fetch",
    "apple/aia-fetch",
    "thunderbird/no-aia-fetch",
    "android/no-aia-fetch",
];

/// The top of what the server sends is a self-signed root (so nothing is missing above it).
fn sends_root(analysis: &crate::analyze::CertAnalysis) -> bool {
    analysis.chain.last().is_some_and(|c| c.self_signed())
}

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let severity = endpoint.cert_severity();
    let Some(analysis) = endpoint.analysis else {
        // A chain was sent but its leaf cannot be read.
        let unreadable = endpoint
            .observation
            .tls
            .as_ref()
            .is_some_and(|tls| !tls.chain.is_empty());
        return if unreadable {
            vec![
                Problem::new(
                    Code::InvalidChain,
                    severity,
                    "The server's certificate cannot be parsed, so no client can use or even \
                     show it. The certificate file is damaged or holds something else: install \
                     the certificate again from what the CA issued.",
                )
                .with(|c| c.rules = vec!["invalid-chain"]),
            ]
        } else {
            Vec::new()
        };
    };
    let Some(leaf) = analysis.leaf() else {
        return Vec::new();
    };
    let certificate = Some(leaf.subject.clone());
    let problem = match &analysis.trust {
        Trust::Trusted if analysis.first_match_trusted == Some(false) => {
            untrusted_path_first(analysis, severity)
        }
        Trust::Trusted => return Vec::new(),
        Trust::SelfSigned => Problem::new(
            Code::SelfSigned,
            severity,
            format!(
                "The certificate ({}) is self-signed: no client trusts it unless each user \
                 accepts it by hand, which teaches users to accept a man in the middle. Install a \
                 certificate from a public CA (e.g. Let's Encrypt).",
                leaf.display_name()
            ),
        )
        .with(|c| c.rules = vec!["self-signed"]),
        Trust::UnknownCa { issuer } => Problem::new(
            Code::UnknownCa,
            severity,
            format!(
                "The certificate chains to \"{issuer}\", which is not a trusted CA. Only devices \
                 where that CA was installed by hand will accept it; use a certificate from a \
                 public CA.{}",
                if sends_root(analysis) {
                    String::new()
                } else {
                    format!(
                        " If \"{issuer}\" is in fact an intermediate of a trusted CA, the server \
                         does not send it: add it after the other certificates in the \
                         certificate file."
                    )
                }
            ),
        )
        .with(|c| {
            c.issuer = Some(issuer.clone());
            c.rules = vec!["unknown-ca"];
        }),
        Trust::IncompleteChain {
            missing,
            found_elsewhere,
            fetched_from,
        } => Problem::new(
            Code::IncompleteChain,
            severity,
            if *found_elsewhere {
                format!(
                    "This port does not send the intermediate certificate \"{missing}\", which \
                     other ports of this server do send. Add it after the server certificate in \
                     this service's certificate file (the \"fullchain\" file)."
                )
            } else if let Some(url) = fetched_from {
                format!(
                    "The server does not send the intermediate certificate \"{missing}\". Outlook \
                     on Windows and Apple Mail fetch it from {url} and connect; Thunderbird and \
                     Android apps do not, and fail. Add the intermediate after the server \
                     certificate in the server's certificate file (e.g. fullchain.pem)."
                )
            } else {
                format!(
                    "The server sends only its own certificate; the issuing certificate \
                     \"{missing}\" is missing (or it belongs to a CA that is not trusted). \
                     Configure the full chain (server certificate followed by the \
                     intermediates, e.g. fullchain.pem). Until it is sent, whether it is within \
                     its dates and whether it leads to a trusted root cannot be checked."
                )
            },
        )
        .with(|c| {
            c.issuer = Some(missing.clone());
            c.url = fetched_from.clone();
            // Whether a client completes the chain itself is its AIA rule.
            c.rules = AIA_RULES.to_vec();
        }),
        Trust::Invalid { reason, .. } => Problem::new(
            Code::InvalidChain,
            severity,
            format!("The certificate chain is not valid: {reason}."),
        )
        .with(|c| c.rules = vec!["invalid-chain"]),
    };
    vec![problem.with(|c| c.certificate = certificate)]
}

/// The chain is trusted, but only through a certificate sent after another with the same
/// subject that leads elsewhere (a CA certificate cross-signed by an untrusted root, sent
/// before its twin that leads to a trusted one): GnuTLS takes the first and never tries the
/// second.
fn untrusted_path_first(analysis: &crate::analyze::CertAnalysis, severity: Severity) -> Problem {
    let twin = analysis
        .chain
        .iter()
        .enumerate()
        .find(|(i, c)| analysis.chain[..*i].iter().any(|e| e.subject == c.subject))
        .map(|(_, c)| c.subject.clone());
    let which = twin
        .as_deref()
        .map(|s| format!(" for \"{s}\""))
        .unwrap_or_default();
    Problem::new(
        Code::UntrustedPathFirst,
        severity,
        format!(
            "The server sends two certificates{which}, and the first one leads to a root that is \
             not trusted. Most clients find the other path; Evolution and Geary (GnuTLS) take the \
             first and warn. Send only the certificate that leads to the trusted root (or put it \
             first)."
        ),
    )
    .with(|c| {
        c.issuer = twin;
        c.rules = vec!["gnome/no-alternative-paths"];
    })
}
