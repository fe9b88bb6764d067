//! What stops some clients' handshakes although the certificate is sound: a key they have no
//! signature scheme for, no TLS 1.2 cipher suite in common, a name typed in Unicode that a
//! client compares as typed. Each is measured with the real client (tests/fidelity.rs).

use super::Endpoint;
use crate::analyze::cert::KeyInfo;
use crate::analyze::names::NameCheck;
use crate::analyze::profile;
use crate::diagnose::problem::{Code, Problem};
use crate::tls_catalog::Offer;

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let severity = endpoint.cert_severity();
    let mut problems = Vec::new();
    if let Some(analysis) = endpoint.analysis {
        let odd = |key: KeyInfo| matches!(key, KeyInfo::Edwards | KeyInfo::RsaPss(_));
        if let Some(cert) = profile::examined(&analysis.chain, analysis.path.as_ref())
            .into_iter()
            .find(|cert| odd(cert.key))
        {
            let leaf = analysis.leaf().is_some_and(|l| l.der == cert.der);
            problems.push(
                Problem::new(
                    Code::UnsupportedKey,
                    severity,
                    if leaf {
                        format!(
                            "The server's key is {}: Thunderbird offers no handshake signature \
                             for it and cannot connect. Use an RSA (2048 bits or more) or ECDSA \
                             P-256 key.",
                            cert.key
                        )
                    } else {
                        format!(
                            "The CA {} signs with a {} key, which Thunderbird does not accept: \
                             it cannot connect. Use a certificate from a CA with an RSA or ECDSA \
                             key.",
                            cert.subject, cert.key
                        )
                    },
                )
                .with(|c| {
                    c.certificate = Some(cert.subject.clone());
                    c.rules = vec!["thunderbird/no-ed25519-or-rsa-pss-keys"];
                }),
            );
        }
        let typed = endpoint.observations.typed.as_deref();
        if let Some(typed) = typed.filter(|t| !t.is_ascii()) {
            if matches!(analysis.name, NameCheck::Covered(_)) {
                let ascii = endpoint.target().to_string();
                problems.push(
                    Problem::new(
                        Code::UnicodeName,
                        severity,
                        format!(
                            "The server name was typed in Unicode ({typed}). The certificate \
                             covers it as {ascii}, but Thunderbird compares the name as typed \
                             and warns. In Thunderbird, type the server name as {ascii}."
                        ),
                    )
                    .with(|c| {
                        c.expected_name = Some(typed.to_string());
                        c.suggested_name = Some(ascii.clone());
                        c.rules = vec!["thunderbird/name-as-typed"];
                    }),
                );
            }
        }
    }
    if let Some(versions) = endpoint.versions {
        let refused: Vec<&str> = [
            (Offer::Thunderbird, "Thunderbird"),
            (Offer::Gnutls, "Evolution/Geary (GnuTLS)"),
        ]
        .into_iter()
        .filter(|(offer, _)| versions.accepts_offer(*offer) == Some(false))
        .map(|(_, who)| who)
        .collect();
        if !refused.is_empty() {
            let chosen = endpoint
                .observation
                .tls
                .as_ref()
                .and_then(|t| t.cipher.as_deref())
                .map(|cipher| format!(" (from a wider offer it chose {cipher})"))
                .unwrap_or_default();
            problems.push(
                Problem::new(
                    Code::NoCommonSuite,
                    severity,
                    format!(
                        "The server accepts none of the cipher suites {} offer{chosen}: they \
                         cannot connect. Enable ECDHE with AES-GCM (and TLS 1.3).",
                        refused.join(" and ")
                    ),
                )
                .with(|c| c.rules = vec!["thunderbird/cipher-suites", "gnome/cipher-suites"]),
            );
        }
    }
    problems
}
