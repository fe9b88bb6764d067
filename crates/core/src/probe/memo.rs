//! Answers shared by every job of one engine, for a fleet scan: each (address, port, server
//! name) is probed once, each (address, port)'s TLS versions are asked once, and each
//! address's reverse DNS and each blocklist question once, however many targets lead there. Two thousand domains on five servers then cost thousands of handshakes,
//! not hundreds of thousands.
//!
//! Concurrent jobs asking the same question wait for the one answer (`moka`'s `get_with` runs
//! one initialisation per key). The memory is bounded by weight: each answer weighs about its
//! size in bytes, and the least useful answers are evicted beyond [`MemoOptions::max_bytes`]:
//! a name probed once for one customer is soon forgotten, the hosting names every customer
//! leads to stay. Only for jobs that run together: an engine that lives long (a server) must
//! not use a memo, or it would answer from the past.

use std::net::IpAddr;
use std::sync::Arc;

use moka::future::Cache;

use super::ProbeRequest;
use crate::observation::{DnsblAnswer, EndpointObservation, VersionProbe};
use crate::service::Service;
use crate::tls_catalog::{Offer, TlsVersion};

/// How much a memo may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoOptions {
    /// Most bytes (estimated) of answers kept, in all.
    pub max_bytes: u64,
}

/// The least a memo holds by default: room for the answers every target leads to (a hosting
/// provider's own servers) beside those of the targets in flight.
const LEAST_BYTES: u64 = 24 * 1024 * 1024;

/// What a target in flight keeps in the memo while it runs, about (a whole check's endpoints,
/// fetches and hosts, asked again by its later steps). In the lab's fleet, 64 targets at once
/// with 24 MiB asked the hosting server no more than with 64 MiB, and with 16 MiB 2% more.
const BYTES_PER_JOB: u64 = 384 * 1024;

impl MemoOptions {
    /// The default for `jobs` checks at once: 24 MiB, and 384 KiB a job beyond 64.
    pub fn for_jobs(jobs: usize) -> MemoOptions {
        let jobs = u64::try_from(jobs).unwrap_or(u64::MAX);
        MemoOptions {
            max_bytes: LEAST_BYTES.max(jobs.saturating_mul(BYTES_PER_JOB)),
        }
    }
}

impl Default for MemoOptions {
    /// 24 MiB: the default for up to 64 checks at once.
    fn default() -> MemoOptions {
        MemoOptions::for_jobs(1)
    }
}

/// The version questions asked of one (address, port).
type VersionKey = (IpAddr, Service, Vec<(TlsVersion, Offer)>);

/// The shared answers. Cloning shares them.
#[derive(Clone)]
pub struct ProbeMemo {
    endpoints: Cache<ProbeRequest, Arc<EndpointObservation>>,
    versions: Cache<VersionKey, Arc<Vec<VersionProbe>>>,
    /// PTR names by address.
    ptr: Cache<IpAddr, Arc<Vec<String>>>,
    /// Blocklist answers by the name looked up.
    dnsbl: Cache<String, Arc<DnsblAnswer>>,
}

impl std::fmt::Debug for ProbeMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeMemo")
            .field("endpoints", &self.endpoints.entry_count())
            .field("versions", &self.versions.entry_count())
            .field("ptr", &self.ptr.entry_count())
            .field("dnsbl", &self.dnsbl.entry_count())
            .finish()
    }
}

impl ProbeMemo {
    /// An empty memo holding at most `options.max_bytes` (estimated), most of it for endpoints.
    pub fn new(options: MemoOptions) -> ProbeMemo {
        let versions_bytes = options.max_bytes / 8;
        let dns_bytes = options.max_bytes / 8;
        ProbeMemo {
            ptr: Cache::builder()
                .max_capacity(dns_bytes / 2)
                .weigher(|_, names: &Arc<Vec<String>>| {
                    let bytes: usize = names.iter().map(|n| n.len() + 32).sum();
                    u32::try_from(bytes + 64).unwrap_or(u32::MAX)
                })
                .build(),
            dnsbl: Cache::builder()
                .max_capacity(dns_bytes / 2)
                .weigher(|query: &String, _: &Arc<DnsblAnswer>| {
                    u32::try_from(query.len() + 256).unwrap_or(u32::MAX)
                })
                .build(),
            endpoints: Cache::builder()
                .max_capacity(options.max_bytes - versions_bytes - dns_bytes)
                .weigher(|_, observation: &Arc<EndpointObservation>| weight(observation))
                .build(),
            versions: Cache::builder()
                .max_capacity(versions_bytes)
                .weigher(|key: &VersionKey, answers: &Arc<Vec<VersionProbe>>| {
                    let bytes = 64 * (key.2.len() + answers.len()) + 128;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The observation of `request`, probing it with `probe` only if no job has yet.
    pub async fn endpoint<F>(&self, request: ProbeRequest, probe: F) -> EndpointObservation
    where
        F: Future<Output = EndpointObservation>,
    {
        let shared = self
            .endpoints
            .get_with(request, async { Arc::new(probe.await) })
            .await;
        EndpointObservation::clone(&shared)
    }

    /// The answers to `questions` at (`address`, `service`), asking them with `ask` only if no
    /// job has yet.
    pub async fn versions<F>(
        &self,
        address: IpAddr,
        service: Service,
        questions: Vec<(TlsVersion, Offer)>,
        ask: F,
    ) -> Vec<VersionProbe>
    where
        F: Future<Output = Vec<VersionProbe>>,
    {
        let shared = self
            .versions
            .get_with((address, service, questions), async { Arc::new(ask.await) })
            .await;
        Vec::clone(&shared)
    }
}

impl ProbeMemo {
    /// The PTR names of `address`, looked up with `lookup` only if no job has yet.
    pub async fn ptr<F, E>(&self, address: IpAddr, lookup: F) -> Result<Vec<String>, Arc<E>>
    where
        F: Future<Output = Result<Vec<String>, E>>,
        E: Send + Sync + 'static,
    {
        // An unanswered question is not kept: the next job asks again.
        let shared = self
            .ptr
            .try_get_with(address, async { lookup.await.map(Arc::new) })
            .await?;
        Ok(Vec::clone(&shared))
    }

    /// The blocklist answer for `query`, asked with `ask` only if no job has yet.
    pub async fn dnsbl<F>(&self, query: String, ask: F) -> DnsblAnswer
    where
        F: Future<Output = DnsblAnswer>,
    {
        let shared = self
            .dnsbl
            .get_with(query, async { Arc::new(ask.await) })
            .await;
        DnsblAnswer::clone(&shared)
    }
}

/// About how many bytes an observation takes: its certificates, transcript and a fixed part.
pub fn weight(observation: &EndpointObservation) -> u32 {
    let chain: usize = observation
        .tls
        .as_ref()
        .map_or(0, |tls| tls.chain.iter().map(|der| der.0.len()).sum());
    let transcript: usize = observation.transcript.iter().map(String::len).sum();
    let capabilities: usize = observation.capabilities.iter().map(String::len).sum();
    let versions = observation.versions.len() * 64;
    u32::try_from(512 + chain + transcript + capabilities + versions).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_default_grows_with_the_jobs_beyond_64() {
        let mib = |jobs| MemoOptions::for_jobs(jobs).max_bytes / (1024 * 1024);
        assert_eq!(mib(1), 24);
        assert_eq!(mib(64), 24);
        assert_eq!(mib(128), 48);
        assert_eq!(mib(4096), 1536);
        assert_eq!(MemoOptions::default(), MemoOptions::for_jobs(64));
        assert_eq!(MemoOptions::for_jobs(usize::MAX).max_bytes, u64::MAX);
    }

    #[tokio::test]
    async fn an_unanswered_ptr_question_is_asked_again() {
        let memo = ProbeMemo::new(MemoOptions::default());
        let address: IpAddr = "192.0.2.1".parse().expect("an address");
        let lost = memo
            .ptr(address, async { Err::<Vec<String>, _>("timed out") })
            .await;
        assert!(lost.is_err());
        let answered = memo
            .ptr(address, async {
                Ok::<_, &str>(vec!["mx.example".to_string()])
            })
            .await;
        assert_eq!(answered.ok(), Some(vec!["mx.example".to_string()]));
        // Once answered, the answer is kept.
        let kept = memo
            .ptr(address, async { Err::<Vec<String>, _>("not asked") })
            .await;
        assert_eq!(kept.ok(), Some(vec!["mx.example".to_string()]));
    }

    #[tokio::test]
    async fn one_probe_per_request_however_many_ask_at_once() {
        let memo = ProbeMemo::new(MemoOptions::default());
        let probes = Arc::new(AtomicUsize::new(0));
        let service = Service::for_port(993).expect("993 is a mail port");
        let request = ProbeRequest {
            service,
            address: "192.0.2.1".parse().expect("an address"),
            sni: Some("mail.example".to_string()),
        };
        let jobs = (0..50).map(|_| {
            let (memo, probes, request) = (memo.clone(), Arc::clone(&probes), request.clone());
            tokio::spawn(async move {
                memo.endpoint(request.clone(), async {
                    probes.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    EndpointObservation::new(request.service, request.address, request.sni)
                })
                .await
            })
        });
        for job in jobs {
            let observation = job.await.expect("the job ran");
            assert_eq!(observation.sni.as_deref(), Some("mail.example"));
        }
        assert_eq!(probes.load(Ordering::SeqCst), 1);
        // Another name at the same endpoint is another question.
        let other = ProbeRequest {
            sni: None,
            ..request
        };
        memo.endpoint(other.clone(), async {
            probes.fetch_add(1, Ordering::SeqCst);
            EndpointObservation::new(other.service, other.address, None)
        })
        .await;
        assert_eq!(probes.load(Ordering::SeqCst), 2);
    }
}
