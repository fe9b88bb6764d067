//! Is every certificate a client uses within its validity dates?

use super::Endpoint;
use crate::analyze::cert::{date, rfc3339};
use crate::analyze::chain::Dates;
use crate::diagnose::problem::{Code, Problem};

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let Some(analysis) = endpoint.analysis else {
        return Vec::new();
    };
    let severity = endpoint.cert_severity();
    match &analysis.dates {
        Dates::Valid => Vec::new(),
        Dates::Expired {
            index,
            subject,
            not_after,
        } => vec![
            Problem::new(
                Code::Expired,
                severity,
                format!(
                    "The {} ({subject}) expired on {} ({} days ago). Renew it and reload the \
                     server.",
                    position(*index),
                    date(*not_after),
                    ((endpoint.now - *not_after) / 86_400).max(0)
                ),
            )
            .with(|c| {
                c.certificate = Some(subject.clone());
                c.date = Some(rfc3339(*not_after));
                c.rules = vec!["expired"];
            }),
        ],
        Dates::NotYetValid {
            index,
            subject,
            not_before,
        } => vec![
            Problem::new(
                Code::NotYetValid,
                severity,
                format!(
                    "The {} ({subject}) is not valid before {}: check the clock of the server \
                     that issued it, or wait.",
                    position(*index),
                    date(*not_before)
                ),
            )
            .with(|c| {
                c.certificate = Some(subject.clone());
                c.date = Some(rfc3339(*not_before));
                c.rules = vec!["not-yet-valid"];
            }),
        ],
    }
}

fn position(index: usize) -> &'static str {
    if index == 0 {
        "server certificate"
    } else {
        "intermediate certificate"
    }
}
