//! `check`: a host, or the servers a mail domain sends clients to. The library decides which.
//!
//! For a host: resolve -> probe every port of every address (with SNI; without SNI where the
//! answer can differ) while looking up PTR records -> resolve the names the certificates present
//! -> re-probe the best candidate names as SNI -> judge. The version probes and AIA fetches run
//! beside that. All network work happens here and in `probe`; what comes out is an
//! [`Observations`] record that `diagnose` judges without I/O, so it can be saved and judged
//! again ([`Engine::judge`]).

use super::reputation::{Known, ReputationError, ReputationReport};
use crate::analyze::cert::CertInfo;
use crate::analyze::chain::TrustAnchors;
use crate::analyze::names::{self, NameCheck};
use crate::clients::Client;
use crate::concurrent::in_order;
use crate::diagnose::discovery::DiscoveryReport;
use crate::diagnose::{self, Diagnosis, plan};
use crate::engine::{Engine, HostKey};
use crate::exit;
use crate::observation::saved::{SAVED_FORMAT, Saved, SavedCheck};
use crate::observation::{
    AiaFetch, CandidateProbe, Der, DiscoveryObservations, EndpointObservation, Observations,
    SourceErrorKind, VersionProbe,
};
pub use crate::options::CheckOptions;
use crate::probe::dns::{DnsError, lookup_names, lookup_ptrs};
use crate::probe::{self, ProbeRequest, aia};
use crate::target::{Address, Subject, Target};
use crate::tls_catalog::{Offer, TlsVersion};

/// Why a check could not run at all (as opposed to problems found on the server).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CheckError {
    /// DNS could not be used or the name does not resolve.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

impl CheckError {
    /// The documented exit status: 3, nothing could be checked.
    pub fn exit_code(&self) -> u8 {
        exit::UNKNOWN
    }

    /// Whether the same check may well succeed later: the resolver gave no answer or failed,
    /// as opposed to a name that does not exist.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CheckError::Dns(DnsError::Timeout(_) | DnsError::Failed { .. })
        )
    }
}

/// One host checked.
#[derive(Debug, Clone)]
pub struct HostCheck {
    /// What was seen.
    pub observations: Observations,
    /// What it means.
    pub diagnosis: Diagnosis,
}

/// A mail domain checked: where its sources send clients, and each host there.
#[derive(Debug, Clone)]
pub struct DomainCheck {
    /// What was seen.
    pub observations: DiscoveryObservations,
    /// What it means.
    pub report: DiscoveryReport,
}

/// A host or a mail domain.
#[derive(Debug, Clone)]
pub enum Checked {
    /// `check HOST`.
    Host(Box<HostCheck>),
    /// `check user@domain`, or a name that is a mail domain.
    Domain(Box<DomainCheck>),
}

/// The result of `check`.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The check itself.
    pub checked: Checked,
    /// With reputation: its part.
    pub reputation: Option<ReputationReport>,
    /// When the observations were made (Unix seconds).
    pub observed_at: i64,
    /// When they were judged (Unix seconds): now, or the time asked for when judging again.
    pub judged_at: i64,
}

impl CheckReport {
    /// Whether some question went unanswered by mailtls's own resolver: a discovery source or
    /// a host handed out left `not-checked` (the verdict is `unknown`), or a name or PTR lookup
    /// a suggestion or the reverse DNS rests on. The same check may well finish later.
    pub fn unfinished(&self) -> bool {
        let checked = match &self.checked {
            Checked::Host(host) => host.observations.unanswered(),
            Checked::Domain(domain) => {
                let observations = &domain.observations;
                !observations.unanswered.is_empty()
                    || observations.hosts.iter().any(Observations::unanswered)
                    || observations
                        .delivery
                        .as_ref()
                        .is_some_and(|d| d.unanswered())
                    || observations.records.iter().any(|record| {
                        record
                            .error
                            .as_ref()
                            .is_some_and(|e| e.kind == SourceErrorKind::NotChecked)
                    })
            }
        };
        let reputation = self.reputation.as_ref().is_some_and(|r| {
            let seen = &r.observations;
            seen.ptr.iter().any(|p| p.unanswered) || seen.forward.iter().any(|f| f.unanswered)
        });
        checked || reputation
    }

    /// The exit status: the check's verdict, or the reputation's when that is worse.
    pub fn exit_code(&self) -> u8 {
        let check = match &self.checked {
            Checked::Host(host) => host.diagnosis.verdict.exit_code(),
            Checked::Domain(domain) => domain.report.verdict.exit_code(),
        };
        check.max(
            self.reputation
                .as_ref()
                .map_or(exit::OK, |r| r.judged.verdict.exit_code()),
        )
    }

    /// The observations, to be saved and judged again later; `anchors` are the CA
    /// certificates the user added, saved with them.
    pub fn saved(&self, anchors: &TrustAnchors) -> Saved {
        Saved {
            format: SAVED_FORMAT,
            mailtls_version: env!("CARGO_PKG_VERSION").to_string(),
            observed_at: self.observed_at,
            anchors: anchors.added().into_iter().map(Der).collect(),
            check: match &self.checked {
                Checked::Host(host) => SavedCheck::Host {
                    observations: host.observations.clone(),
                },
                Checked::Domain(domain) => SavedCheck::Domain {
                    observations: domain.observations.clone(),
                },
            },
            reputation: self.reputation.as_ref().map(|r| r.observations.clone()),
        }
    }
}

/// The time now, in Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Engine {
    /// Checks what the user asked about: a host, or (for an address, or a name that is a mail
    /// domain) the servers its domain sends clients to.
    pub async fn check(
        &self,
        subject: &Subject,
        options: &CheckOptions,
    ) -> Result<CheckReport, CheckError> {
        let observed_at = now();
        let domain = match subject {
            Subject::Address(address) => Ok(address.clone()),
            Subject::Host(Target::Dns(name)) if self.is_mail_domain(name).await? => {
                Ok(Address::for_domain(name))
            }
            Subject::Host(target) => Err(target.clone()),
        };
        let (checked, smtp, target) = match domain {
            Ok(address) => {
                let observations = self.discover(&address, options).await?;
                // For a mail domain, reputation follows its MX hosts: reuse their port-25 probes.
                let smtp: Vec<EndpointObservation> = observations
                    .hosts
                    .iter()
                    .flat_map(|h| h.endpoints.iter().filter(|e| e.service.port == 25))
                    .cloned()
                    .collect();
                let report = self.judge_domain(&observations, self.anchors(), observed_at);
                let target = Target::Dns(address.domain);
                let checked = Checked::Domain(Box::new(DomainCheck {
                    observations,
                    report,
                }));
                (checked, smtp, target)
            }
            Err(target) => {
                let observations = self.observe_host(&target, options).await?;
                let diagnosis = diagnose::diagnose(&observations, self.anchors(), observed_at);
                let smtp = observations.endpoints.clone();
                let checked = Checked::Host(Box::new(HostCheck {
                    observations,
                    diagnosis,
                }));
                (checked, smtp, target)
            }
        };
        let reputation = match &options.reputation {
            Some(zones) => {
                // A mail domain's delivery was observed beside its discovery: reused.
                let delivery = match &checked {
                    Checked::Domain(domain) => domain.observations.delivery.as_deref(),
                    Checked::Host(_) => None,
                };
                let known = Known {
                    smtp: &smtp,
                    delivery,
                };
                Some(
                    self.reputation(&target, zones.clone(), known)
                        .await
                        .map_err(|ReputationError::Dns(e)| CheckError::Dns(e))?,
                )
            }
            None => None,
        };
        let mut report = CheckReport {
            checked,
            reputation,
            observed_at,
            judged_at: observed_at,
        };
        report.keep_clients(&options.clients);
        Ok(report)
    }

    /// Judges saved observations again, at `at` (Unix seconds), with this engine's anchors and
    /// the ones saved with them. No network.
    pub fn judge(&self, saved: &Saved, at: i64, clients: &[Client]) -> CheckReport {
        let mut anchors = self.anchors().clone();
        let saved_anchors: Vec<rustls::pki_types::CertificateDer<'_>> = saved
            .anchors
            .iter()
            .map(|der| rustls::pki_types::CertificateDer::from(der.0.as_slice()))
            .collect();
        anchors.add(&saved_anchors, crate::analyze::chain::AnchorOrigin::Added);
        let checked = match &saved.check {
            SavedCheck::Host { observations } => Checked::Host(Box::new(HostCheck {
                diagnosis: diagnose::diagnose(observations, &anchors, at),
                observations: observations.clone(),
            })),
            SavedCheck::Domain { observations } => Checked::Domain(Box::new(DomainCheck {
                report: self.judge_domain(observations, &anchors, at),
                observations: observations.clone(),
            })),
        };
        let reputation = saved
            .reputation
            .as_ref()
            .map(|observations| ReputationReport {
                judged: diagnose::reputation::judge(observations, &anchors, at),
                observations: observations.clone(),
            });
        let mut report = CheckReport {
            checked,
            reputation,
            observed_at: saved.observed_at,
            judged_at: at,
        };
        report.keep_clients(clients);
        report
    }

    /// Does all the network work of checking one host and records it (with a memo, once per
    /// host and question).
    pub async fn observe_host(
        &self,
        target: &Target,
        options: &CheckOptions,
    ) -> Result<Observations, CheckError> {
        let key = HostKey {
            target: target.clone(),
            typed: options.typed.clone(),
            options: self.observe_options(options),
        };
        self.host_once(key, self.observe_host_now(target, options))
            .await
    }

    async fn observe_host_now(
        &self,
        target: &Target,
        options: &CheckOptions,
    ) -> Result<Observations, CheckError> {
        let dns = self.dns();
        let settings = self.probe_settings();
        let (addresses, aliases) = match target {
            Target::Ip(ip) => (vec![*ip], Vec::new()),
            Target::Dns(name) => dns.addresses_and_aliases(name).await?,
        };
        let services = options.services();
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
                    services.iter().map(move |service| ProbeRequest {
                        service: *service,
                        address: *address,
                        sni: sni.clone(),
                    })
                })
                .collect()
        };
        // The probes and the PTR records at once: they are independent.
        let (endpoints, ptr) = tokio::join!(
            probe::probe_all(requests(sni.clone()), settings),
            lookup_ptrs(dns, &addresses, settings.memo.as_ref())
        );
        let mut observations = Observations {
            target: target.clone(),
            typed: options
                .typed
                .clone()
                .filter(|typed| Some(typed.as_str()) != target.dns_name()),
            addresses,
            aliases,
            endpoints,
            without_sni: Vec::new(),
            names: Vec::new(),
            ptr,
            candidates: Vec::new(),
            aia: Vec::new(),
        };
        // Everything else needs only the first probes; it runs side by side.
        let endpoints = observations.endpoints.clone();
        let versions = self.probe_versions(&endpoints, options.no_versions);
        let without_sni = self.probe_without_sni(&endpoints, target, sni.is_some());
        let rest = async {
            let names = lookup_names(dns, plan::names_to_resolve(&observations));
            let aia = self.fetch_missing_issuers(&observations, options.no_aia);
            let (names, aia) = tokio::join!(names, aia);
            observations.names = names;
            observations.aia = aia;
            let candidates = plan::candidates(&observations);
            observations.candidates = self.probe_candidates(&endpoints, candidates).await;
        };
        let (versions, without_sni, ()) = tokio::join!(versions, without_sni, rest);
        for (endpoint, answers) in observations.endpoints.iter_mut().zip(versions) {
            endpoint.versions = answers;
            probe::versions::complete(endpoint);
        }
        // A TLS 1.2 server that chose a suite some client does not offer: ask with that
        // client's own offer (most servers are asked nothing more).
        let second = self
            .ask_versions(&observations.endpoints, probe::versions::client_questions)
            .await;
        for (endpoint, answers) in observations.endpoints.iter_mut().zip(second) {
            endpoint.versions.extend(answers);
        }
        observations.without_sni = without_sni;
        Ok(observations)
    }

    /// The same endpoints without SNI, where the answer can differ: only ports whose certificate
    /// covers the name asked for. A server that does not choose its certificate by name presents
    /// its default with SNI and without; one that does present the default only without.
    async fn probe_without_sni(
        &self,
        endpoints: &[EndpointObservation],
        target: &Target,
        sent_sni: bool,
    ) -> Vec<EndpointObservation> {
        if !sent_sni {
            return Vec::new();
        }
        let requests: Vec<ProbeRequest> = endpoints
            .iter()
            .filter(|endpoint| covers_target(endpoint, target))
            .map(|endpoint| ProbeRequest {
                service: endpoint.service,
                address: endpoint.address,
                sni: None,
            })
            .collect();
        probe::probe_all(requests, self.probe_settings()).await
    }

    /// Fetches the issuers of incomplete chains from their AIA URLs: a second round follows the
    /// fetched certificate's own AIA when it is not the last missing piece. From inside
    /// addresses only when the server checked lives inside too.
    async fn fetch_missing_issuers(
        &self,
        observations: &Observations,
        skip: bool,
    ) -> Vec<AiaFetch> {
        let mut fetched: Vec<AiaFetch> = Vec::new();
        if skip {
            return fetched;
        }
        let allow_inside = observations
            .addresses
            .iter()
            .copied()
            .any(|ip| crate::address::special(ip).is_some());
        for _round in 0..plan::MAX_AIA_ROUNDS {
            let urls = plan::aia_urls(observations, &fetched, self.anchors(), now());
            if urls.is_empty() {
                break;
            }
            fetched.extend(aia::fetch_all(self.fetcher(), urls, allow_inside).await);
        }
        fetched
    }

    /// Asks every endpoint which TLS versions and weak suites it accepts (see `probe::versions`),
    /// all endpoints at once; one list of answers per endpoint, in order.
    async fn probe_versions(
        &self,
        endpoints: &[EndpointObservation],
        skip: bool,
    ) -> Vec<Vec<VersionProbe>> {
        let questions = if skip {
            probe::versions::completion_question
        } else {
            probe::versions::questions
        };
        self.ask_versions(endpoints, questions).await
    }

    /// Asks every endpoint the hellos `questions` picks for it, all endpoints at once; one list
    /// of answers per endpoint, in order (empty where there was nothing to ask).
    async fn ask_versions(
        &self,
        endpoints: &[EndpointObservation],
        questions: fn(&EndpointObservation) -> Vec<(TlsVersion, Offer)>,
    ) -> Vec<Vec<VersionProbe>> {
        in_order(endpoints.iter().map(|endpoint| {
            let questions = questions(endpoint);
            let request = ProbeRequest {
                service: endpoint.service,
                address: endpoint.address,
                sni: endpoint.sni.clone(),
            };
            let settings = self.probe_settings().clone();
            async move { probe::versions::probe_versions(&request, questions, &settings).await }
        }))
        .await
    }

    /// Re-probes every endpoint that presented a certificate, once per candidate name as SNI.
    async fn probe_candidates(
        &self,
        endpoints: &[EndpointObservation],
        candidates: Vec<String>,
    ) -> Vec<CandidateProbe> {
        let mut requests = Vec::new();
        for name in &candidates {
            for endpoint in endpoints.iter().filter(|e| e.leaf().is_some()) {
                requests.push(ProbeRequest {
                    service: endpoint.service,
                    address: endpoint.address,
                    sni: Some(name.clone()),
                });
            }
        }
        let results = probe::probe_all(requests, self.probe_settings()).await;
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
}

impl CheckReport {
    /// Keeps only `clients`' verdicts (all when empty), in every host judged.
    fn keep_clients(&mut self, clients: &[Client]) {
        if clients.is_empty() {
            return;
        }
        let diagnoses: Vec<&mut Diagnosis> = match &mut self.checked {
            Checked::Host(host) => vec![&mut host.diagnosis],
            Checked::Domain(domain) => domain.report.hosts.iter_mut().collect(),
        };
        for diagnosis in diagnoses {
            for endpoint in &mut diagnosis.endpoints {
                endpoint.clients.retain(|v| clients.contains(&v.client));
            }
        }
    }
}

/// Whether the leaf an endpoint presented covers the target name.
fn covers_target(endpoint: &EndpointObservation, target: &Target) -> bool {
    endpoint
        .leaf()
        .and_then(|der| CertInfo::parse(&der.0).ok())
        .is_some_and(|leaf| matches!(names::check(&leaf, target), NameCheck::Covered(_)))
}
