//! A probe that stopped before a finished handshake: refused, timed out, no STARTTLS, a broken
//! dialogue, a failed handshake.

use super::Endpoint;
use crate::analyze::versions::VersionReport;
use crate::diagnose::problem::{Code, Problem, Severity};
use crate::observation::FailureKind;
use crate::service::Protocol;

/// The failure, unless its cause is reported by another check: a handshake that failed because
/// the server speaks only TLS 1.0/1.1 (which rustls does not) is `legacy-tls-only`.
pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let observation = endpoint.observation;
    let Some(failure) = &observation.failure else {
        return Vec::new();
    };
    if failure.kind == FailureKind::TlsHandshakeFailed
        && endpoint.versions.is_some_and(VersionReport::legacy_only)
    {
        return Vec::new();
    }
    let (code, severity) = match failure.kind {
        FailureKind::ConnectionRefused => (Code::ConnectionRefused, Severity::Info),
        FailureKind::Timeout => (Code::Timeout, Severity::Warning),
        FailureKind::Unreachable => (Code::Unreachable, Severity::Warning),
        FailureKind::StarttlsNotOffered if endpoint.relay() => {
            (Code::StarttlsNotOffered, Severity::Warning)
        }
        FailureKind::StarttlsNotOffered => (Code::StarttlsNotOffered, Severity::Error),
        FailureKind::StarttlsRefused => (Code::StarttlsRefused, Severity::Error),
        // Our limit, not necessarily the server's fault: worth a look, not a verdict.
        FailureKind::TlsHandshakeFailed if observation.stopped_by_library() => {
            (Code::TlsHandshakeFailed, Severity::Warning)
        }
        FailureKind::TlsHandshakeFailed => (Code::TlsHandshakeFailed, Severity::Error),
        FailureKind::ProtocolError => (Code::ProtocolError, Severity::Error),
        // Not a TLS problem, and nothing is known about the TLS: worth a look, not an alarm.
        FailureKind::RateLimited => (Code::RateLimited, Severity::Warning),
    };
    let message = match failure.kind {
        FailureKind::StarttlsNotOffered => format!(
            "{} does not offer {}: a client set to \"STARTTLS\" on this port refuses to connect, \
             and one set to \"None\" sends the password in clear text. ({})",
            observation.service,
            if observation.service.protocol == Protocol::Pop3 {
                "STLS"
            } else {
                "STARTTLS"
            },
            failure.detail
        ),
        FailureKind::RateLimited => format!(
            "{} turned every attempt away, so its certificate could not be checked; this is not \
             a TLS problem. Check again later, or with fewer connections at a time. ({})",
            observation.service, failure.detail
        ),
        FailureKind::TlsHandshakeFailed if observation.stopped_by_library() => format!(
            "mailtls could not finish the TLS handshake, at a limit of its own TLS library: \
             {}. No other probe could finish it, so what a mail client does is known only \
             where its verdict below says so.",
            failure.detail
        ),
        // The port first: the same failure on two ports must not read as one fault said twice.
        _ => format!("{}: {}", observation.service, failure.detail),
    };
    let no_tls = matches!(
        failure.kind,
        FailureKind::StarttlsNotOffered
            | FailureKind::StarttlsRefused
            | FailureKind::TlsHandshakeFailed
            | FailureKind::ProtocolError
    );
    let unknown = observation.stopped_by_library();
    vec![Problem::new(code, severity, message).with(|c| {
        if unknown {
            c.rules = vec!["not-observed"];
        } else if no_tls {
            c.rules = vec!["no-tls"];
        }
    })]
}
