//! Problems with the TLS versions and cipher suites a port accepts (see `analyze::versions`).

use super::Endpoint;
use crate::diagnose::problem::{Code, Problem, Severity};
use crate::tls_catalog::TlsVersion;

/// How clients treat a server that speaks nothing newer than TLS 1.1.
const LEGACY_RULES: [&str; 3] = [
    "thunderbird/tls-1.2-minimum",
    "outlook/tls-1.2-minimum",
    "apple/tls-1.2",
];

/// Problems with the TLS versions and suites an endpoint accepts. A legacy-only server also
/// failed the main handshake (rustls speaks TLS 1.2 and 1.3); the failure check leaves that
/// failure out, and this reports its cause.
pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let Some(report) = endpoint.versions else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let relay = endpoint.relay();
    if report.legacy_only() {
        let accepted: Vec<&str> = report
            .accepted_versions()
            .into_iter()
            .map(TlsVersion::name)
            .collect();
        problems.push(Problem::new(
            Code::LegacyTlsOnly,
            if relay { Severity::Warning } else { Severity::Error },
            format!(
                "The server speaks only {} and refuses TLS 1.2: Thunderbird 78 and later, Outlook \
                 on current Windows 11 and Apple Mail refuse to connect, and users read the error \
                 as a certificate problem. Enable TLS 1.2 and 1.3 (Dovecot: ssl_min_protocol = \
                 TLSv1.2; Postfix: smtpd_tls_protocols = >=TLSv1.2), which needs a current OpenSSL.",
                accepted.join(" and ")
            ),
        )
        .with(|c| c.rules = LEGACY_RULES.to_vec()));
    }
    if let Some(weak) = report.weak.as_ref().filter(|w| !w.is_empty()) {
        let suites: Vec<String> = weak
            .iter()
            .map(|w| format!("{} ({})", w.name, w.weakness))
            .collect();
        problems.push(Problem::new(
            Code::WeakCipher,
            // Between servers, opportunistic TLS takes any encryption over none (RFC 7435).
            if relay {
                Severity::Info
            } else {
                Severity::Warning
            },
            format!(
                "The server accepts {} when a client offers nothing better. No current client \
                 offers such suites, but an attacker in the middle can try to force them. Remove \
                 them (Dovecot: ssl_cipher_list; Postfix: smtpd_tls_exclude_ciphers = RC4, 3DES, \
                 aNULL, eNULL, EXPORT, DES).",
                suites.join(", ")
            ),
        ));
    }
    if report.accepted(TlsVersion::Tls13) == Some(false) && !report.legacy_only() {
        problems.push(Problem::new(
            Code::NoTls13,
            Severity::Info,
            "TLS 1.3 is not offered: clients use TLS 1.2, which works. Enabling TLS 1.3 (OpenSSL \
             1.1.1 or later) gives faster, better-protected connections.",
        ));
    }
    problems
}
