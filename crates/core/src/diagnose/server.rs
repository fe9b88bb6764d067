//! Problems of a server as a whole: different certificates on different ports or addresses.

use std::collections::BTreeMap;

use super::EndpointDiagnosis;
use super::evidence::presented_list;
use super::problem::{Code, Problem, Severity};

/// The certificates presented, grouped by leaf; a problem when there is more than one.
pub(super) fn different_certificates(
    endpoints: &[EndpointDiagnosis],
    by_address: bool,
) -> Option<Problem> {
    let mut groups: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut ports = Vec::new();
    let mut names = Vec::new();
    for endpoint in endpoints {
        let Some(leaf) = endpoint.analysis.as_ref().and_then(|a| a.leaf()) else {
            continue;
        };
        let place = endpoint.observation.place(by_address);
        ports.push(endpoint.observation.service.port);
        for name in leaf.presented_names() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        groups
            .entry(leaf.sha256.clone())
            .or_insert_with(|| (presented_list(leaf), Vec::new()))
            .1
            .push(place);
    }
    if groups.len() < 2 {
        return None;
    }
    let mut parts: Vec<String> = groups
        .into_values()
        .map(|(names, places)| {
            format!(
                "port{} {} present{} {names}",
                if places.len() > 1 { "s" } else { "" },
                places.join(", "),
                if places.len() > 1 { "" } else { "s" }
            )
        })
        .collect();
    parts.sort();
    ports.sort_unstable();
    ports.dedup();
    Some(
        Problem::new(
            Code::DifferentCertPerPort,
            Severity::Warning,
            format!(
                "The server uses different certificates on different {}: {}. Usually one \
                 service (e.g. Postfix) was forgotten when the certificate was renewed or \
                 replaced; point all services at the same certificate files.",
                if by_address {
                    "ports and addresses"
                } else {
                    "ports"
                },
                parts.join("; ")
            ),
        )
        .with(|c| {
            c.ports = ports;
            c.presented_names = names;
        }),
    )
}
