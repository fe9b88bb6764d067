//! Does the certificate depend on SNI: does a client that sends no server name get another one?

use super::Endpoint;
use crate::analyze::cert::CertInfo;
use crate::analyze::names::{self, NameCheck};
use crate::clients::releases;
use crate::diagnose::problem::{Code, Problem, Severity};

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let (Some(analysis), Some(without)) = (endpoint.analysis, endpoint.leaf_without_sni) else {
        return Vec::new();
    };
    let target = endpoint.target();
    let with = analysis
        .leaf()
        .map(CertInfo::display_name)
        .unwrap_or_default();
    let covers = matches!(names::check(without, target), NameCheck::Covered(_));
    vec![
        Problem::new(
            Code::SniDependent,
            Severity::Warning,
            format!(
                "The certificate depends on SNI: asked for {target} this port presents {with}, \
                 but a client that sends no server name ({}, some scanners and appliances) gets \
                 {}{}.",
                releases::without_sni().join(", "),
                without.display_name(),
                if covers {
                    ""
                } else {
                    ", which does not cover the name and makes such clients warn"
                }
            ),
        )
        .with(|c| {
            c.expected_name = Some(target.to_string());
            c.presented_names = without.presented_names();
            c.certificate = Some(without.subject.clone());
        }),
    ]
}
