//! Problems with the TLS versions and cipher suites a port accepts (see `analyze::versions`).

use super::{Code, Problem, Severity};
use crate::analyze::versions::VersionReport;
use crate::observation::EndpointObservation;
use crate::probe::hello::TlsVersion;
use crate::service::Direction;

/// Problems with the TLS versions and suites an endpoint accepts. A legacy-only server also
/// failed the main handshake (rustls speaks TLS 1.2 and 1.3); `endpoint_problems` leaves that
/// failure out, and this reports its cause.
pub(super) fn problems(
    observation: &EndpointObservation,
    report: &VersionReport,
    problems: &mut Vec<Problem>,
) {
    let relay = observation.service.direction() == Direction::Relay;
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
        ));
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
}
