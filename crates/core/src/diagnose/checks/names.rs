//! Does the certificate cover the name the client used? If not, is there a name on it that
//! reaches the same server (use that), or none (the certificate must change)?

use super::Endpoint;
use crate::analyze::names::{self, NameCheck};
use crate::diagnose::evidence::{alternatives, presented_list};
use crate::diagnose::problem::{Code, Problem};
use crate::target::Target;

/// The client rule every name problem decides by.
const RULE: &str = "name-not-covered";
/// How clients treat a name found only in the subject CN.
const CN_RULES: [&str; 4] = [
    "thunderbird/cn-ignored",
    "outlook/cn-fallback",
    "apple/san-required",
    "android/san-required",
];

/// Whether `leaf` covers the DNS name `name`.
fn leaf_covers(leaf: &crate::analyze::cert::CertInfo, name: &str) -> bool {
    Target::parse(name)
        .is_ok_and(|target| matches!(names::check(leaf, &target), NameCheck::Covered(_)))
}

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let Some(analysis) = endpoint.analysis else {
        return Vec::new();
    };
    let Some(leaf) = analysis.leaf() else {
        return Vec::new();
    };
    let severity = endpoint.cert_severity();
    let target = endpoint.target();
    let presented = presented_list(leaf);
    let facts = |c: &mut crate::diagnose::problem::Context| {
        c.expected_name = Some(target.to_string());
        c.presented_names = leaf.presented_names();
        c.certificate = Some(leaf.subject.clone());
        c.rules = vec![RULE];
    };
    match &analysis.name {
        // `check` always has a name; nothing to say without one.
        NameCheck::Covered(_) | NameCheck::NotChecked => Vec::new(),
        NameCheck::CommonNameOnly(cn) => vec![
            Problem::new(
                Code::CnOnly,
                severity,
                format!(
                    "{target} appears only in the certificate's Common Name ({cn}), not in its \
                     subjectAltName list; Apple Mail, Android, Chrome-based and most modern \
                     clients ignore the Common Name and reject the certificate. Reissue it with \
                     {target} as a subjectAltName (DNS) entry."
                ),
            )
            .with(|c| {
                facts(c);
                c.rules = CN_RULES.to_vec();
            }),
        ],
        NameCheck::NotCovered => {
            let address = endpoint.observation.address;
            let alternatives = alternatives(endpoint.observations, leaf, address);
            let (code, opening) = match target {
                Target::Ip(ip) => (
                    Code::IpAddressUsed,
                    format!(
                        "The client connected to the IP address {ip}, but the certificate has no \
                         IP address entry; it names {presented}. Clients compare the certificate \
                         with exactly what was typed as the server name."
                    ),
                ),
                Target::Dns(name) => (
                    Code::NameMismatch,
                    format!("The certificate is for {presented}, not for {name}."),
                ),
            };
            // The name typed may be an alias (CNAME) of a name on the certificate: clients
            // compare the name typed, never where it points.
            let alias_of = endpoint
                .observations
                .aliases
                .iter()
                .find(|alias| leaf_covers(leaf, alias));
            if let Some(alias) = alias_of {
                let message = format!(
                    "{opening} {target} is an alias (CNAME) of {alias}, which the certificate \
                     names, but mail clients check the name typed, not the name it points to. \
                     Use {alias} as the server name, or add {target} to the certificate."
                );
                return vec![Problem::new(code, severity, message).with(|c| {
                    facts(c);
                    c.suggested_name = Some(alias.clone());
                    c.suggestion_verified = Some(false);
                })];
            }
            if let Some(alternative) = alternatives.first() {
                let message = format!(
                    "{opening} {alternative} is on the certificate and points to the same server \
                     ({address}): use {alternative} as the server name."
                );
                vec![Problem::new(code, severity, message).with(|c| {
                    facts(c);
                    c.suggested_name = Some(alternative.clone());
                    // Settled by the recommendation, once the re-probes are judged.
                    c.suggestion_verified = Some(false);
                })]
            } else {
                let name = match target {
                    Target::Dns(name) => name.clone(),
                    Target::Ip(_) => "the server's DNS name".to_string(),
                };
                vec![
                    Problem::new(code, severity, opening).with(facts),
                    Problem::new(
                        Code::CertLacksName,
                        severity,
                        format!(
                            "No name on this certificate leads to {address} ({presented} point \
                             elsewhere or nowhere). The certificate must be reissued to include \
                             {name} as a subjectAltName, or clients must use a name it covers."
                        ),
                    )
                    .with(facts),
                ]
            }
        }
    }
}
