//! The server name to recommend, and how sure we are: the target itself when it is accepted on
//! every client port, else a candidate name whose re-probe was accepted on every client port
//! offering TLS. Never an unconfirmed name.

use std::collections::BTreeSet;

use super::evidence::Evidence;
use super::problem::Code;
use super::{EndpointDiagnosis, Recommendation, port_list};
use crate::analyze::chain::TrustAnchors;
use crate::analyze::{self, CertAnalysis};
use crate::observation::Observations;
use crate::service::Direction;
use crate::target::Target;

/// Chooses the server name to recommend.
pub(super) fn recommend(
    observations: &Observations,
    endpoints: &[EndpointDiagnosis],
    anchors: &TrustAnchors,
    evidence: &Evidence,
    now: i64,
) -> Option<Recommendation> {
    // The client ports that offer TLS: those are what a user needs to work.
    let needed: Vec<&EndpointDiagnosis> = endpoints
        .iter()
        .filter(|e| e.observation.service.direction() != Direction::Relay && e.analysis.is_some())
        // A port only old clients can talk to is no place to send a current one.
        .filter(|e| !e.problems.iter().any(|p| p.code == Code::LegacyTlsOnly))
        .collect();
    if needed.is_empty() {
        return None;
    }
    if let Target::Dns(name) = &observations.target {
        if needed
            .iter()
            .all(|e| e.analysis.as_ref().is_some_and(CertAnalysis::accepted))
        {
            let ports = needed
                .iter()
                .map(|e| e.observation.service)
                .collect::<Vec<_>>();
            return Some(Recommendation {
                server_name: name.clone(),
                verified: true,
                reason: format!(
                    "{name} is covered by a valid, trusted certificate on {}.",
                    port_list(&ports)
                ),
                verified_ports: ports,
            });
        }
    }
    for candidate in &observations.candidates {
        let candidate_target = Target::Dns(candidate.name.clone());
        let mut confirmed = Vec::new();
        for endpoint in &needed {
            let reprobe = candidate.endpoints.iter().find(|o| {
                o.service == endpoint.observation.service
                    && o.address == endpoint.observation.address
            });
            let accepted = reprobe
                .and_then(|o| {
                    analyze::certificate(o, &candidate_target, anchors, evidence.extra(), now)
                })
                .is_some_and(|a| a.accepted());
            if accepted {
                confirmed.push(endpoint.observation.service);
            }
        }
        if confirmed.len() == needed.len() {
            let addresses: BTreeSet<String> = needed
                .iter()
                .map(|e| e.observation.address.to_string())
                .collect();
            return Some(Recommendation {
                server_name: candidate.name.clone(),
                verified: true,
                reason: format!(
                    "{} is on the certificate, resolves to the same server ({}), and a test \
                     connection using it was accepted (valid, trusted, name matches) on {}.",
                    candidate.name,
                    addresses.into_iter().collect::<Vec<_>>().join(", "),
                    port_list(&confirmed)
                ),
                verified_ports: confirmed,
            });
        }
    }
    None
}

/// Settles each name problem's suggestion against the recommendation: verified when it is the
/// recommended name; otherwise the message says it is not recommended yet, so a report never
/// recommends a name we could not verify.
pub(super) fn settle_suggestions(
    endpoints: &mut [EndpointDiagnosis],
    recommendation: Option<&Recommendation>,
    target: &Target,
) {
    let recommended = recommendation
        .filter(|r| r.verified)
        .map(|r| r.server_name.as_str());
    if recommended.is_some() && recommended == target.dns_name() {
        return;
    }
    for problem in endpoints.iter_mut().flat_map(|e| e.problems.iter_mut()) {
        let Some(suggested) = problem.context.suggested_name.as_deref() else {
            continue;
        };
        let verified = recommended == Some(suggested);
        problem.context.suggestion_verified = Some(verified);
        if !verified {
            problem.message.push_str(
                " (Not recommended yet: that name did not pass on every client port; see below.)",
            );
        }
    }
}
