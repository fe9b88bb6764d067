//! What Thunderbird's automatic account set-up will choose for the address discovery checked
//! ([`crate::clients::account_setup`]), with what mailtls saw at every host and port it would
//! connect to: the checks of the hosts handed out and of the hosts its guess tries. Pure.

use super::{Diagnosis, EndpointDiagnosis};
use crate::analyze::chain::TrustAnchors;
use crate::clients::account_setup::{self, Answered, Prediction, Seen, ThunderbirdVerdict};
use crate::clients::{Client, Outcome};
use crate::observation::{DiscoveryObservations, FailureKind};
use crate::service::Protocol;

/// Thunderbird's choice, over `observations`; `hosts` are the diagnoses of its `hosts`.
pub fn predict(
    observations: &DiscoveryObservations,
    hosts: &[Diagnosis],
    anchors: &TrustAnchors,
    now: i64,
) -> Prediction {
    let guessed: Vec<Diagnosis> = observations
        .guessed
        .iter()
        .filter_map(|g| g.check.as_ref())
        .map(|o| super::diagnose(o, anchors, now))
        .collect();
    let seen = |host: &str, port: u16| -> Seen {
        // The checks that probed this port of this host: the guess's first, then discovery's.
        let checked = guessed
            .iter()
            .chain(hosts)
            .filter(|d| d.target.dns_name() == Some(host))
            .find(|d| {
                d.endpoints
                    .iter()
                    .any(|e| e.observation.service.port == port)
            });
        if let Some(diagnosis) = checked {
            return seen_at(diagnosis, port);
        }
        if let Some(guess) = observations.guessed.iter().find(|g| g.name == host) {
            return match (&guess.check, &guess.unanswered) {
                (_, Some(why)) => Seen::Unanswered(why.clone()),
                (None, None) => Seen::NoSuchName,
                (Some(_), None) => Seen::NotChecked,
            };
        }
        if let Some(silent) = observations.unanswered.iter().find(|u| u.name == host) {
            return Seen::Unanswered(silent.detail.clone());
        }
        Seen::NotChecked
    };
    account_setup::predict(&observations.records, &observations.domain, &seen)
}

/// What Thunderbird meets at `port` of a checked host: at the first address that answers, as
/// it tries a host's addresses in turn only while the connection is refused.
fn seen_at(diagnosis: &Diagnosis, port: u16) -> Seen {
    let endpoints: Vec<&EndpointDiagnosis> = diagnosis
        .endpoints
        .iter()
        .filter(|e| e.observation.service.port == port)
        .collect();
    let Some(endpoint) = endpoints
        .iter()
        .find(|e| e.observation.reachable)
        .or(endpoints.first())
    else {
        return Seen::NotChecked;
    };
    let observation = &endpoint.observation;
    if !observation.reachable {
        return Seen::Silent(observation.failure.as_ref().map_or_else(
            || "nothing answered".to_string(),
            |f| format!("nothing answered ({})", f.detail),
        ));
    }
    if observation
        .failure
        .as_ref()
        .is_some_and(|f| f.kind == FailureKind::RateLimited)
    {
        return Seen::Busy;
    }
    // The guess searches everything the server said before TLS for the word.
    let word = if observation.service.protocol == Protocol::Pop3 {
        "STLS"
    } else {
        "STARTTLS"
    };
    let starttls = observation
        .capabilities
        .iter()
        .chain(observation.greeting.iter())
        .any(|said| said.to_ascii_uppercase().contains(word));
    let thunderbird = endpoint
        .clients
        .iter()
        .find(|v| v.client == Client::Thunderbird)
        .map(|verdict| ThunderbirdVerdict {
            outcome: verdict.verdict,
            fault: (verdict.verdict == Outcome::Warns)
                .then(|| verdict.fault())
                .flatten(),
            reason: verdict.deciding().map_or_else(
                || verdict.verdict.as_str().to_string(),
                |f| f.detail.clone(),
            ),
        });
    Seen::Answered(Answered {
        greeted: observation.greeting.is_some(),
        starttls,
        thunderbird,
    })
}
