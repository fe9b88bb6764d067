//! The questions the validator asks, as they leave: to the engine's resolver (its name servers
//! directly, without hickory's resolver and cache in front), paced by `--dns-rate`, each within
//! the step timeout, with DO set (signatures wanted) and CD set (checking disabled): a
//! validating resolver such as Unbound then hands over records it judged bogus instead of
//! answering SERVFAIL, so that mailtls validates them itself and can say why they are bogus.
//!
//! The keys and delegations every answer is validated up through (DNSKEY and DS answers) are
//! kept as long as their TTL says, at most [`MAX_KEPT`]: a fleet scan asks the same zones' keys
//! for every domain.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream};
use hickory_proto::op::{Edns, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::xfer::{DnsHandle, DnsRequest, DnsResponse, FirstAnswer};
use hickory_proto::{ProtoError, ProtoErrorKind};

/// Copies of a question sent before it counts as unanswered (as the system resolver's two
/// attempts).
const ATTEMPTS: u32 = 2;
use hickory_resolver::name_server::{NameServerPool, TokioConnectionProvider};
use moka::Expiry;
use moka::future::Cache;

use super::words::words;
use crate::probe::dns::Dns;

/// The largest UDP answer asked for (the DNS flag day 2020 value): signed answers are larger
/// than 512 bytes, and this keeps most of them off TCP.
const PAYLOAD: u16 = 1232;

/// Longest a DNSKEY or DS answer is kept, whatever its TTL.
pub(super) const MAX_KEPT: Duration = Duration::from_secs(3600);

/// Most DNSKEY and DS answers kept.
const KEPT_ANSWERS: u64 = 4096;

/// One lookup's account with the resolver: what went wrong (hickory's validator turns every
/// upstream error into words, so the handle notes them as they pass), and how much time its
/// questions may still take. Waiting for the pace (`--dns-rate`) is not counted: under a busy
/// scan a lookup waits its turn, then its questions have their time.
#[derive(Debug, Clone)]
pub(super) struct Trouble {
    inner: Arc<Mutex<TroubleSeen>>,
}

/// The upstream failures of one lookup, in kind.
#[derive(Debug, Clone)]
pub(super) struct TroubleSeen {
    /// A question got no answer within the timeout.
    pub(super) timeout: bool,
    /// Response codes other than NOERROR and NXDOMAIN (SERVFAIL, REFUSED...).
    pub(super) codes: BTreeSet<u16>,
    /// Other failures (network, malformed answers), in plain words.
    pub(super) other: Option<String>,
    /// The first failure noted other than a timeout, in plain words (which resolver, which
    /// question, what it answered).
    pub(super) first: Option<String>,
    /// What the lookup's questions may still take.
    remaining: Duration,
}

impl Trouble {
    /// A lookup whose questions may take `budget` in all.
    pub(super) fn with_budget(budget: Duration) -> Trouble {
        Trouble {
            inner: Arc::new(Mutex::new(TroubleSeen {
                timeout: false,
                codes: BTreeSet::new(),
                other: None,
                first: None,
                remaining: budget,
            })),
        }
    }

    /// What the next question may take.
    fn remaining(&self) -> Duration {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remaining
    }

    /// A question took `spent`.
    fn spend(&self, spent: Duration) {
        let mut seen = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        seen.remaining = seen.remaining.saturating_sub(spent);
    }

    /// `error` met asking the resolver at `server`.
    fn note(&self, error: &ProtoError, server: Option<IpAddr>) {
        let mut seen = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match error.kind() {
            ProtoErrorKind::Timeout => seen.timeout = true,
            ProtoErrorKind::NoRecordsFound { response_code, .. }
                if !matches!(
                    response_code,
                    ResponseCode::NXDomain | ResponseCode::NoError
                ) =>
            {
                seen.codes.insert(u16::from(*response_code));
                seen.first.get_or_insert_with(|| words(error, server));
            }
            ProtoErrorKind::NoRecordsFound { .. } => {}
            _ => {
                let said = words(error, server);
                seen.first.get_or_insert_with(|| said.clone());
                seen.other.get_or_insert(said);
            }
        }
    }

    /// What was noted.
    pub(super) fn seen(&self) -> TroubleSeen {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The resolver's name servers, as a [`DnsHandle`] hickory's validator sends through.
#[derive(Clone)]
pub(super) struct Upstream {
    dns: Dns,
    servers: NameServerPool<TokioConnectionProvider>,
    /// DNSKEY and DS answers, by question, until their TTL runs out.
    kept: Cache<(Name, RecordType), Result<DnsResponse, ProtoError>>,
    /// Where this lookup's failures are noted (a fresh one per lookup, see [`Upstream::noting`]).
    trouble: Trouble,
}

impl Upstream {
    /// Asks through `dns`'s name servers, at its pace.
    pub(super) fn new(dns: Dns) -> Upstream {
        Upstream {
            servers: dns.name_servers(),
            dns,
            kept: Cache::builder()
                .max_capacity(KEPT_ANSWERS)
                .expire_after(KeptFor)
                .build(),
            // The base handle asks nothing: each lookup asks through its own (`noting`).
            trouble: Trouble::with_budget(Duration::ZERO),
        }
    }

    /// The same handle (and the same kept answers), noting failures in `trouble`.
    pub(super) fn noting(&self, trouble: Trouble) -> Upstream {
        Upstream {
            trouble,
            ..self.clone()
        }
    }

    /// The limit for one question: [`ATTEMPTS`] copies of it, each within the step timeout.
    pub(super) fn question_limit(&self) -> Duration {
        self.dns.timeout() * ATTEMPTS
    }

    /// The address of the resolver asked, to name it in words.
    pub(super) fn server(&self) -> Option<IpAddr> {
        self.dns.server_address()
    }

    async fn ask(self, request: DnsRequest) -> Result<DnsResponse, ProtoError> {
        let keep = request
            .queries()
            .first()
            .filter(|query| matches!(query.query_type(), RecordType::DNSKEY | RecordType::DS))
            .map(|query| (query.name().to_lowercase(), query.query_type()));
        let answer = match keep {
            Some(key) => {
                let this = self.clone();
                self.kept
                    .get_with(key, async move { this.send_now(request).await })
                    .await
            }
            None => self.send_now(request).await,
        };
        if let Err(error) = &answer {
            self.trouble.note(error, self.server());
        }
        answer
    }

    /// Sends `request`, and once more when the first copy goes unanswered: the pool sends each
    /// question once, and a lost UDP answer is what a resolver under load gives (the system
    /// resolver's path, through hickory's `Resolver`, retries the same way).
    async fn send_now(&self, request: DnsRequest) -> Result<DnsResponse, ProtoError> {
        let mut answer = Err(ProtoError::from(ProtoErrorKind::Timeout));
        for _ in 0..ATTEMPTS {
            self.dns.pace().await;
            let limit = self.dns.timeout().min(self.trouble.remaining());
            if limit.is_zero() {
                break;
            }
            let started = Instant::now();
            let sent = self.servers.send(request.clone()).first_answer();
            answer = match tokio::time::timeout(limit, sent).await {
                Ok(answer) => answer,
                Err(_) => Err(ProtoError::from(ProtoErrorKind::Timeout)),
            };
            self.trouble.spend(started.elapsed());
            match &answer {
                Err(error) if matches!(error.kind(), ProtoErrorKind::Timeout) => continue,
                _ => break,
            }
        }
        answer
    }
}

impl DnsHandle for Upstream {
    type Response = Pin<Box<dyn Stream<Item = Result<DnsResponse, ProtoError>> + Send>>;

    fn send<R: Into<DnsRequest> + Unpin + Send + 'static>(&self, request: R) -> Self::Response {
        let mut request: DnsRequest = request.into();
        // Hickory's validator clears CD on what it sends; the answer it validates must be the
        // records as published, not a validating resolver's SERVFAIL.
        request.set_checking_disabled(true);
        request
            .extensions_mut()
            .get_or_insert_with(Edns::new)
            .set_max_payload(PAYLOAD)
            .set_dnssec_ok(true);
        Box::pin(stream::once(self.clone().ask(request)))
    }
}

/// How long a DNSKEY or DS answer is kept: its smallest TTL, at most [`MAX_KEPT`]; failures
/// and answers without records not at all.
struct KeptFor;

impl Expiry<(Name, RecordType), Result<DnsResponse, ProtoError>> for KeptFor {
    fn expire_after_create(
        &self,
        _key: &(Name, RecordType),
        answer: &Result<DnsResponse, ProtoError>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let ttl = match answer {
            Ok(response) => response
                .answers()
                .iter()
                .map(|record| record.ttl())
                .min()
                .unwrap_or(0),
            Err(_) => 0,
        };
        Some(Duration::from_secs(u64::from(ttl)).min(MAX_KEPT))
    }
}
