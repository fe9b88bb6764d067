//! Is every certificate a client checks (the server's, the intermediates', the root's) within
//! its validity dates? One problem per certificate outside them: renewing one must not reveal
//! another.

use super::Endpoint;
use crate::analyze::cert::{date, rfc3339};
use crate::analyze::chain::{DateKind, Position};
use crate::diagnose::problem::{Code, Problem};

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let Some(analysis) = endpoint.analysis else {
        return Vec::new();
    };
    let severity = endpoint.cert_severity();
    analysis
        .dates
        .iter()
        .map(|fault| {
            let subject = &fault.subject;
            let (code, message, rule) = match (fault.kind, fault.position) {
                (DateKind::Expired, Position::Anchor) => (
                    Code::Expired,
                    format!(
                        "The root certificate ({subject}) the chain ends in expired on {} ({} \
                         days ago). Install a certificate (and intermediates) from a CA whose \
                         root is current.",
                        date(fault.date),
                        ((endpoint.now - fault.date) / 86_400).max(0)
                    ),
                    "root-dates",
                ),
                (DateKind::Expired, position) => (
                    Code::Expired,
                    format!(
                        "The {} ({subject}) expired on {} ({} days ago). {}",
                        role(position),
                        date(fault.date),
                        ((endpoint.now - fault.date) / 86_400).max(0),
                        if position == Position::Leaf {
                            "Renew it and reload the server."
                        } else {
                            "Install the CA's current intermediate in the server's certificate \
                             file (the \"fullchain\" file) and reload the server."
                        }
                    ),
                    "expired",
                ),
                (DateKind::NotYetValid, Position::Anchor) => (
                    Code::NotYetValid,
                    format!(
                        "The root certificate ({subject}) the chain ends in is not valid before \
                         {}.",
                        date(fault.date)
                    ),
                    "root-dates",
                ),
                (DateKind::NotYetValid, position) => (
                    Code::NotYetValid,
                    format!(
                        "The {} ({subject}) is not valid before {}: check the clock of the \
                         server that issued it, or wait.",
                        role(position),
                        date(fault.date)
                    ),
                    "not-yet-valid",
                ),
            };
            Problem::new(code, severity, message).with(|c| {
                c.certificate = Some(subject.clone());
                c.date = Some(rfc3339(fault.date));
                c.rules = vec![rule];
            })
        })
        .collect()
}

fn role(position: Position) -> &'static str {
    match position {
        Position::Leaf => "server certificate",
        Position::Intermediate(_) => "intermediate certificate",
        Position::Anchor => "root certificate",
    }
}
