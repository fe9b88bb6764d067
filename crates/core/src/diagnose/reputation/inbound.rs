//! Inbound delivery of the mail domain `reputation` asks about, judged from its own records
//! (MX, MTA-STS, TLSA) and the port 25 probes `reputation` makes of its MX hosts: the facts
//! that say whether a certificate warning can cost the domain mail.

use crate::analyze::chain::TrustAnchors;
use crate::diagnose::delivery::{self, DeliveryReport};
use crate::observation::{DiscoveryObservations, Observations, ReputationObservations};
use crate::observation::{EndpointObservation, UnansweredHost};
use crate::target::Target;

/// What senders do with the domain's mail, when its delivery was observed.
pub(super) fn judge(
    observations: &ReputationObservations,
    anchors: &TrustAnchors,
    now: i64,
) -> Option<DeliveryReport> {
    let delivery = observations.delivery.as_deref()?;
    let mut seen = DiscoveryObservations {
        email: format!("user@{}", delivery.domain),
        domain: delivery.domain.clone(),
        records: Vec::new(),
        hosts: Vec::new(),
        unanswered: Vec::new(),
        skipped: Vec::new(),
        guessed: Vec::new(),
        delivery: None,
    };
    // Each MX host, as the host lookups and port 25 probes of `reputation` saw it.
    for record in &delivery.mx.records {
        let name = record.exchange.trim_end_matches('.').to_ascii_lowercase();
        let Ok(target) = Target::parse(&name) else {
            continue;
        };
        if seen.hosts.iter().any(|h| h.target == target)
            || seen.unanswered.iter().any(|u| u.name == name)
        {
            continue;
        }
        let Some(lookup) = observations.hosts.iter().find(|h| h.name == name) else {
            continue;
        };
        if lookup.addresses.is_empty() {
            seen.unanswered.push(UnansweredHost {
                name,
                detail: lookup
                    .error
                    .clone()
                    .unwrap_or_else(|| "no address".to_string()),
            });
            continue;
        }
        let endpoints: Vec<EndpointObservation> = observations
            .smtp
            .iter()
            .filter(|e| e.service.port == 25 && lookup.addresses.contains(&e.address))
            .cloned()
            .collect();
        seen.hosts.push(Observations {
            target,
            addresses: lookup.addresses.clone(),
            typed: None,
            aliases: Vec::new(),
            endpoints,
            without_sni: Vec::new(),
            names: Vec::new(),
            ptr: Vec::new(),
            candidates: Vec::new(),
            aia: Vec::new(),
        });
    }
    Some(delivery::judge(delivery, &seen, anchors, now))
}
