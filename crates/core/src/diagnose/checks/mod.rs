//! The checks of one endpoint, one family per file, all registered in [`CHECKS`]: a new check
//! is a function in a file of its own and one line in that list. Each gets the same
//! [`Endpoint`] facts and returns the problems it finds; `diagnose` ranks them.

mod dates;
mod failure;
mod handshake;
mod names;
mod sni;
mod trust;
mod versions;
mod weak;

use super::Problem;
use super::problem::Severity;
use crate::analyze::CertAnalysis;
use crate::analyze::cert::CertInfo;
use crate::analyze::versions::VersionReport;
use crate::observation::{EndpointObservation, Observations};
use crate::service::Direction;
use crate::target::Target;

/// What every check of one endpoint may look at.
pub(super) struct Endpoint<'a> {
    /// The whole check's observations (names resolved, PTR records).
    pub observations: &'a Observations,
    /// This endpoint's probe.
    pub observation: &'a EndpointObservation,
    /// Its certificate, analysed; `None` when it presented none (or an unreadable one).
    pub analysis: Option<&'a CertAnalysis>,
    /// The TLS versions and suites it accepts, when known.
    pub versions: Option<&'a VersionReport>,
    /// The leaf it presents without SNI, when that differs.
    pub leaf_without_sni: Option<&'a CertInfo>,
    /// The time judged at (Unix seconds).
    pub now: i64,
}

impl Endpoint<'_> {
    /// Port 25: server to server, where senders rarely check certificates.
    pub fn relay(&self) -> bool {
        self.observation.service.direction() == Direction::Relay
    }

    /// How bad a certificate problem is here: on port 25 it makes no mail client warn.
    pub fn cert_severity(&self) -> Severity {
        if self.relay() {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// What the client asked for.
    pub fn target(&self) -> &Target {
        &self.observations.target
    }
}

type Check = fn(&Endpoint<'_>) -> Vec<Problem>;

/// Every check of an endpoint.
const CHECKS: [Check; 8] = [
    failure::check,
    names::check,
    dates::check,
    trust::check,
    weak::check,
    handshake::check,
    versions::check,
    sni::check,
];

/// The problems of one endpoint, unranked; each carries the endpoint's port.
pub(super) fn endpoint_problems(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let port = endpoint.observation.service.port;
    CHECKS
        .iter()
        .flat_map(|check| check(endpoint))
        .map(|mut problem| {
            if problem.context.ports.is_empty() {
                problem.context.ports.push(port);
            }
            problem
        })
        .collect()
}
