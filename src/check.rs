//! `mailtls check`: runs the pipeline for one target.
//!
//! discover (resolve) -> probe every port of every address, with and without SNI, while looking
//! up PTR records -> resolve the names the certificates present -> re-probe the best candidate
//! names as SNI -> diagnose. All network work happens here and in `probe`/`discover`; what comes
//! out is an [`Observations`] record that `diagnose` judges without I/O.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::concurrent::in_order;

use crate::analyze::chain::{AnchorError, TrustAnchors};
use crate::diagnose::{self, Diagnosis};
use crate::discover::dns::{Dns, DnsError, lookup_names, lookup_ptrs};
use crate::observation::{
    AiaFetch, CandidateProbe, EndpointObservation, Observations, VersionProbe,
};
use crate::probe::{self, ProbeRequest, ProbeSettings};
use crate::service::Service;
use crate::target::Target;

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The host.
    pub target: Target,
    /// Ports to probe.
    pub services: Vec<Service>,
    /// Limit per step (connect, each reply, handshake, each DNS query).
    pub step_timeout: Duration,
    /// Resolver to use instead of the system's.
    pub dns_server: Option<SocketAddr>,
    /// Extra trust anchors (PEM files).
    pub ca_files: Vec<PathBuf>,
    /// Send no SNI, as a very old client would.
    pub no_sni: bool,
    /// Do not fetch missing intermediates from AIA URLs.
    pub no_aia: bool,
    /// Do not ask which TLS versions and weak suites each port accepts.
    pub no_versions: bool,
}

/// Why a check could not run at all (as opposed to problems found on the server).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// DNS could not be used or the name does not resolve.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// A `--ca-file` could not be loaded.
    #[error("cannot load CA file {0}")]
    Anchors(#[from] AnchorError),
}

/// The trust anchors for a run: the system store plus `--ca-file`s.
pub fn load_anchors(ca_files: &[PathBuf]) -> Result<TrustAnchors, AnchorError> {
    let mut anchors = TrustAnchors::system();
    for path in ca_files {
        anchors.add_pem_file(path)?;
    }
    Ok(anchors)
}

/// Runs the whole check: observe, then diagnose at the current time.
pub async fn run(options: &CheckOptions) -> Result<(Observations, Diagnosis), CheckError> {
    let anchors = load_anchors(&options.ca_files)?;
    let observations = observe(options, &anchors).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let diagnosis = diagnose::diagnose(&observations, &anchors, now);
    Ok((observations, diagnosis))
}

/// Does all the network work of a check and records it. `anchors` decide which chains are
/// incomplete, and so which AIA URLs are worth fetching.
pub async fn observe(
    options: &CheckOptions,
    anchors: &TrustAnchors,
) -> Result<Observations, CheckError> {
    let dns = Dns::configured(options.dns_server, options.step_timeout)?;
    let target = options.target.clone();
    let addresses = match &target {
        Target::Ip(ip) => vec![*ip],
        Target::Dns(name) => dns.addresses(name).await?,
    };
    let settings = ProbeSettings {
        step_timeout: options.step_timeout,
    };
    let sni = if options.no_sni {
        None
    } else {
        target.dns_name().map(str::to_string)
    };
    let requests = |sni: Option<String>| -> Vec<ProbeRequest> {
        addresses
            .iter()
            .flat_map(|address| {
                let sni = sni.clone();
                options.services.iter().map(move |service| ProbeRequest {
                    service: *service,
                    address: *address,
                    sni: sni.clone(),
                })
            })
            .collect()
    };
    // With SNI and without, and the PTR records, all at once: they are independent.
    let with_sni = probe::probe_all(requests(sni.clone()), settings);
    let without_sni = async {
        if sni.is_some() {
            probe::probe_all(requests(None), settings).await
        } else {
            Vec::new()
        }
    };
    let ptr = lookup_ptrs(&dns, &addresses);
    let (endpoints, without_sni, ptr) = tokio::join!(with_sni, without_sni, ptr);

    let mut observations = Observations {
        target,
        addresses,
        endpoints,
        without_sni,
        names: Vec::new(),
        ptr,
        candidates: Vec::new(),
        aia: Vec::new(),
    };
    // The version probes need only the main probes; they run beside everything that follows.
    let endpoints = observations.endpoints.clone();
    let versions = probe_versions(&endpoints, settings, options.no_versions);
    let rest = async {
        let names = lookup_names(&dns, diagnose::names_to_resolve(&observations));
        let aia = fetch_missing_issuers(&observations, anchors, options);
        let (names, aia) = tokio::join!(names, aia);
        observations.names = names;
        observations.aia = aia;
        let candidates = diagnose::candidates(&observations);
        observations.candidates = probe_candidates(&observations, candidates, settings).await;
    };
    let (versions, ()) = tokio::join!(versions, rest);
    for (endpoint, answers) in observations.endpoints.iter_mut().zip(versions) {
        endpoint.versions = answers;
    }
    Ok(observations)
}

/// Fetches the issuers of incomplete chains from their AIA URLs: a second round follows the
/// fetched certificate's own AIA when it is not the last missing piece.
async fn fetch_missing_issuers(
    observations: &Observations,
    anchors: &TrustAnchors,
    options: &CheckOptions,
) -> Vec<AiaFetch> {
    let mut fetched: Vec<AiaFetch> = Vec::new();
    if options.no_aia {
        return fetched;
    }
    for _round in 0..diagnose::MAX_AIA_ROUNDS {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let urls = diagnose::aia_urls(observations, &fetched, anchors, now);
        if urls.is_empty() {
            break;
        }
        fetched.extend(probe::aia::fetch_all(urls, options.step_timeout).await);
    }
    fetched
}

/// Asks every endpoint which TLS versions and weak suites it accepts (see `probe::versions`),
/// all endpoints at once; one list of answers per endpoint, in order.
async fn probe_versions(
    endpoints: &[EndpointObservation],
    settings: ProbeSettings,
    skip: bool,
) -> Vec<Vec<VersionProbe>> {
    in_order(endpoints.iter().map(|endpoint| {
        let questions = if skip {
            Vec::new()
        } else {
            probe::versions::questions(endpoint)
        };
        let request = ProbeRequest {
            service: endpoint.service,
            address: endpoint.address,
            sni: endpoint.sni.clone(),
        };
        async move { probe::versions::probe_versions(&request, questions, settings).await }
    }))
    .await
}

/// Re-probes every endpoint that presented a certificate, once per candidate name as SNI.
async fn probe_candidates(
    observations: &Observations,
    candidates: Vec<String>,
    settings: ProbeSettings,
) -> Vec<CandidateProbe> {
    let mut requests = Vec::new();
    for name in &candidates {
        for endpoint in observations.endpoints.iter().filter(|e| e.leaf().is_some()) {
            requests.push(ProbeRequest {
                service: endpoint.service,
                address: endpoint.address,
                sni: Some(name.clone()),
            });
        }
    }
    let results = probe::probe_all(requests, settings).await;
    candidates
        .into_iter()
        .map(|name| CandidateProbe {
            endpoints: results
                .iter()
                .filter(|o| o.sni.as_deref() == Some(name.as_str()))
                .cloned()
                .collect(),
            name,
        })
        .collect()
}
