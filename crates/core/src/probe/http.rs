//! One careful HTTP(S) fetcher for everything mailtls fetches: provisioning documents
//! (autoconfig, autodiscover; `https://` only) and missing intermediates (AIA caIssuers;
//! `http://` only).
//!
//! Every hop is done by hand, so each obeys the same rules as a probe:
//! - the host is resolved through our resolver (`--dns`); the address, resolved or written in
//!   the URL or a redirect as a literal, is judged by [`crate::address::special`] before any
//!   connection: a special-purpose one is refused when the fetcher refuses them all
//!   ([`Fetcher::refusing_special`], `mailtls serve`) or the fetch's policy does not allow inside
//!   addresses (the checked server is not inside itself), so a hostile DNS answer, URL or
//!   redirect cannot aim us at the inside of a network;
//! - the connection goes to exactly the address that was checked (no second lookup, no
//!   rebinding), takes its place in the connection budget first, and is not pooled;
//! - redirects are followed by us: at most [`MAX_REDIRECTS`], only to the allowed scheme, never
//!   in a circle; or not at all ([`Fetcher::answer`], the MTA-STS policy, whose senders must not
//!   follow them), the answer then recorded as it came (status, `Location`, body);
//! - the body is capped; each hop's connection, request and body share the step timeout, and
//!   DNS has the resolver's own; the waits for our own limits (the DNS rate, a place in the
//!   connection budget) are not counted, so our queue never turns into a server's "no answer";
//! - over HTTPS the chain the server presented is recorded, valid or not, and its faults are
//!   said in words (never as a library's debug text).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::budget::ConnectionBudget;
use super::dns::{Dns, DnsError};
use crate::address::{self, Range};
use crate::crypto::PROVIDER;
use crate::observation::Der;

/// Redirects followed.
pub const MAX_REDIRECTS: usize = 3;

/// Which URLs a fetch may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://` only (AIA caIssuers, as the CA/Browser Forum requires).
    Http,
    /// `https://` only (provisioning documents).
    Https,
    /// An `http://` URL whose redirects may lead to `https://` and back, as a browser's request
    /// follows them (Thunderbird's plain-HTTP autoconfig URLs).
    HttpThenAny,
}

impl Scheme {
    /// The scheme the first URL must have.
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http | Scheme::HttpThenAny => "http",
            Scheme::Https => "https",
        }
    }

    /// Whether a redirect may lead to a URL of `scheme`.
    fn follows(self, scheme: &str) -> bool {
        match self {
            Scheme::HttpThenAny => matches!(scheme, "http" | "https"),
            _ => scheme == self.as_str(),
        }
    }
}

/// The rules of one fetch.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The only scheme followed.
    pub scheme: Scheme,
    /// Largest body read.
    pub max_body: usize,
    /// Whether addresses in special-purpose ranges ([`crate::address::special`]) may be fetched
    /// from (the checked server lives inside too). A fetcher that refuses them all
    /// ([`Fetcher::refusing_special`]) refuses them whatever this says.
    pub allow_inside: bool,
}

/// Why a fetch gave no document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host name does not resolve.
    #[error("{0} does not resolve")]
    NoSuchHost(String),
    /// The host is, or resolves only to, an address in a special-purpose range we will not fetch
    /// from; nothing was connected to.
    #[error("{}; not fetched", inside_words(host, *address, *range))]
    PrivateAddress {
        /// The host of the URL (a name, or the address itself).
        host: String,
        /// The (first) address refused.
        address: IpAddr,
        /// Its range.
        range: Range,
    },
    /// Nothing answered.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The HTTPS certificate is not valid for the host (the words say why).
    #[error("{0}")]
    BadCertificate(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// Redirects went in a circle, too far, or to another scheme.
    #[error("{0}")]
    Redirect(String),
    /// The URL is not one we fetch.
    #[error("{0}")]
    Url(String),
    /// The body was larger than the policy allows.
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// No answer within the step timeout (connection, request and body together).
    #[error("no answer within {0} s")]
    Timeout(u64),
    /// Our resolver gave no answer (a timeout or a failure): nothing is known about the URL.
    #[error("{0}")]
    Resolver(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A successful fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: String,
    /// The body, at most the policy's cap.
    pub body: Vec<u8>,
    /// Over HTTPS, the chain the last server presented, leaf first.
    pub chain: Vec<Der>,
    /// The answer's Content-Type header, as sent.
    pub content_type: Option<String>,
}

/// A failed fetch, with the chain the server presented when it got that far (a bad certificate
/// is judged like any other: a client would refuse it too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFailure {
    /// Why.
    pub error: FetchError,
    /// The URL of the hop that failed.
    pub url: String,
    /// Over HTTPS, the chain that hop's server presented, leaf first (empty if none).
    pub chain: Vec<Der>,
}

/// One answer as it came, redirects not followed (see [`Fetcher::answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The URL asked.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header of a redirect (3xx), as sent.
    pub location: Option<String>,
    /// The Content-Type header, as sent.
    pub content_type: Option<String>,
    /// The body of a 2xx answer, at most the policy's cap (empty for other statuses: not read).
    pub body: Vec<u8>,
    /// The body was longer than the cap: `body` is its start.
    pub too_large: bool,
    /// Over HTTPS, the chain the server presented, leaf first.
    pub chain: Vec<Der>,
}

/// The fetcher: resolver, budget, timeout and the trust anchors HTTPS is validated against.
/// Cloning shares it.
#[derive(Clone)]
pub struct Fetcher {
    dns: Dns,
    budget: ConnectionBudget,
    timeout: Duration,
    /// Validates HTTPS chains; the reason when the anchors could not make one (then every HTTPS
    /// fetch fails with it).
    verifier: Result<Arc<WebPkiServerVerifier>, String>,
    /// For a fleet scan: every fetch's outcome, so each URL (and body) is fetched once.
    memo: Option<Cache<FetchKey, Arc<Result<Fetched, FetchFailure>>>>,
    /// Refuse every special-purpose address, whatever a fetch's policy says.
    refuse_special: bool,
    /// Special-purpose addresses fetched from all the same (see [`Fetcher::allowing`]).
    allowed: Vec<IpAddr>,
}

/// What makes two fetches the same: URL, body and policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FetchKey {
    url: String,
    body: Option<String>,
    scheme: Scheme,
    max_body: usize,
    allow_inside: bool,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher resolving with `dns`, counting connections against `budget`, validating HTTPS
    /// against `roots`, with `timeout` per hop.
    pub fn new(
        dns: Dns,
        budget: ConnectionBudget,
        roots: rustls::RootCertStore,
        timeout: Duration,
    ) -> Fetcher {
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&PROVIDER))
                .build()
                .map_err(|e| format!("no trust anchors to validate HTTPS with ({e})"));
        Fetcher {
            dns,
            budget,
            timeout,
            verifier,
            memo: None,
            refuse_special: false,
            allowed: Vec::new(),
        }
    }

    /// The same fetcher, refusing every address in a special-purpose range
    /// ([`crate::address::special`]) whatever a fetch's policy says (`mailtls serve` without
    /// `--allow-private`). Without the memo: its answers were fetched under other rules.
    pub fn refusing_special(mut self) -> Fetcher {
        self.refuse_special = true;
        self.memo = None;
        self
    }

    /// The same fetcher, connecting to these special-purpose addresses whatever a fetch's policy
    /// says: servers of one's own (a test lab's) that a refusing fetcher must still reach. Only
    /// an address itself is matched (a literal in a URL, or what the resolver answered: a
    /// resolver that refuses special addresses never answers with them). Without the memo: its
    /// answers were fetched under other rules.
    pub fn allowing(mut self, addresses: impl IntoIterator<Item = IpAddr>) -> Fetcher {
        self.allowed.extend(addresses);
        self.memo = None;
        self
    }

    /// The range that makes `ip` refused under `policy`, `None` when it may be connected to.
    fn refused(&self, ip: IpAddr, policy: Policy) -> Option<Range> {
        let refuse = self.refuse_special || !policy.allow_inside;
        address::special(ip).filter(|_| refuse && !self.allowed.contains(&ip))
    }

    /// The same fetcher, fetching each URL (with its body) once and keeping at most `max_bytes`
    /// of outcomes (a fleet scan).
    pub fn with_memo(mut self, max_bytes: u64) -> Fetcher {
        self.memo = Some(
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(
                    |key: &FetchKey, outcome: &Arc<Result<Fetched, FetchFailure>>| {
                        let (body, chain) = match outcome.as_ref() {
                            Ok(fetched) => (fetched.body.len(), &fetched.chain),
                            Err(failure) => (0, &failure.chain),
                        };
                        let chain: usize = chain.iter().map(|der| der.0.len()).sum();
                        u32::try_from(key.url.len() + body + chain + 256).unwrap_or(u32::MAX)
                    },
                )
                .build(),
        );
        self
    }

    /// Fetches `url` (GET, or POST with `body`) under `policy`.
    pub async fn fetch(
        &self,
        url: &str,
        body: Option<&str>,
        policy: Policy,
    ) -> Result<Fetched, FetchFailure> {
        let Some(memo) = &self.memo else {
            return self.follow(url, body, policy).await;
        };
        let key = FetchKey {
            url: url.to_string(),
            body: body.map(str::to_string),
            scheme: policy.scheme,
            max_body: policy.max_body,
            allow_inside: policy.allow_inside,
        };
        let shared = memo
            .get_with(key.clone(), async {
                Arc::new(self.follow(url, body, policy).await)
            })
            .await;
        // Our resolver's silence is not an answer to share: the next job asks again.
        if matches!(&*shared, Err(failure) if matches!(failure.error, FetchError::Resolver(_))) {
            memo.invalidate(&key).await;
        }
        Result::clone(&shared)
    }

    /// Where `url` (`http://`) redirects to, without following: Outlook's redirect method asks
    /// http://autodiscover.DOMAIN/... and expects a redirect to an HTTPS URL. `Ok(None)` when it
    /// answers without redirecting.
    pub async fn redirect_of(
        &self,
        url: &str,
        policy: Policy,
    ) -> Result<Option<String>, FetchFailure> {
        let fail = |error: FetchError| FetchFailure {
            error,
            url: url.to_string(),
            chain: Vec::new(),
        };
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| fail(FetchError::Url(format!("{url} is not a URL: {e}"))))?;
        if parsed.scheme() != policy.scheme.as_str() {
            return Err(fail(FetchError::Url(format!(
                "{url} is not {}",
                policy.scheme.as_str().to_uppercase()
            ))));
        }
        match self.hop(&parsed, None, policy).await?.into_hop(policy)? {
            Hop::Done(_) => Ok(None),
            Hop::Redirect { location, .. } => parsed
                .join(&location)
                .map(|next| Some(next.to_string()))
                .map_err(|e| {
                    fail(FetchError::Redirect(format!(
                        "a redirect to {location}: {e}"
                    )))
                }),
        }
    }

    /// Asks `url` once (GET) under `policy`, following no redirect: the answer as it came, a
    /// redirect with its status and `Location`, an error status with its status (the MTA-STS
    /// policy fetch: RFC 8461 §3.3 has senders take only a 200 and never follow a redirect).
    /// The body of a 2xx answer is read up to the policy's cap, the rest left unread. Not
    /// memoised: each answer is one domain's.
    pub async fn answer(&self, url: &str, policy: Policy) -> Result<Answer, FetchFailure> {
        let parsed = reqwest::Url::parse(url).map_err(|e| FetchFailure {
            error: FetchError::Url(format!("{url} is not a URL: {e}")),
            url: url.to_string(),
            chain: Vec::new(),
        })?;
        if parsed.scheme() != policy.scheme.as_str() {
            return Err(FetchFailure {
                error: FetchError::Url(format!(
                    "{url} is not {}",
                    policy.scheme.as_str().to_uppercase()
                )),
                url: url.to_string(),
                chain: Vec::new(),
            });
        }
        self.hop(&parsed, None, policy).await
    }

    async fn follow(
        &self,
        url: &str,
        body: Option<&str>,
        policy: Policy,
    ) -> Result<Fetched, FetchFailure> {
        let fail = |error: FetchError, url: &str| FetchFailure {
            error,
            url: url.to_string(),
            chain: Vec::new(),
        };
        let mut current = reqwest::Url::parse(url)
            .map_err(|e| fail(FetchError::Url(format!("{url} is not a URL: {e}")), url))?;
        let mut body = body.map(str::to_string);
        let mut visited: Vec<reqwest::Url> = Vec::new();
        for _hop in 0..=MAX_REDIRECTS {
            let allowed = if visited.is_empty() {
                current.scheme() == policy.scheme.as_str()
            } else {
                policy.scheme.follows(current.scheme())
            };
            if !allowed {
                let error = if visited.is_empty() {
                    FetchError::Url(format!(
                        "{current} is not {}",
                        policy.scheme.as_str().to_uppercase()
                    ))
                } else {
                    FetchError::Redirect(format!(
                        "redirected to {current}, which is not {}",
                        policy.scheme.as_str().to_uppercase()
                    ))
                };
                return Err(fail(error, current.as_str()));
            }
            if visited.contains(&current) {
                return Err(fail(
                    FetchError::Redirect(format!("redirect loop (back to {current})")),
                    current.as_str(),
                ));
            }
            match self
                .hop(&current, body.as_deref(), policy)
                .await?
                .into_hop(policy)?
            {
                Hop::Done(fetched) => return Ok(fetched),
                Hop::Redirect { location, status } => {
                    let next = current.join(&location).map_err(|e| {
                        fail(
                            FetchError::Redirect(format!("a redirect to {location}: {e}")),
                            current.as_str(),
                        )
                    })?;
                    // 307 and 308 repeat the request as it was; the others turn it into a GET.
                    if !matches!(status, 307 | 308) {
                        body = None;
                    }
                    visited.push(std::mem::replace(&mut current, next));
                }
            }
        }
        Err(fail(
            FetchError::Redirect(format!("more than {MAX_REDIRECTS} redirects")),
            current.as_str(),
        ))
    }

    /// One request to one address.
    async fn hop(
        &self,
        url: &reqwest::Url,
        body: Option<&str>,
        policy: Policy,
    ) -> Result<Answer, FetchFailure> {
        let fail = |error: FetchError, chain: Vec<Der>| FetchFailure {
            error,
            url: url.to_string(),
            chain,
        };
        let (host, addresses) = match url.host() {
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                // The resolver's own timeouts bound this; waiting for the DNS rate is ours.
                let addresses = self.dns.addresses(&name).await.map_err(|error| {
                    let error = match error {
                        DnsError::NotFound(_) => FetchError::NoSuchHost(name.clone()),
                        DnsError::Refused { address, range, .. } => FetchError::PrivateAddress {
                            host: name.clone(),
                            address,
                            range,
                        },
                        other => FetchError::Resolver(other.to_string()),
                    };
                    fail(error, Vec::new())
                })?;
                (Some(name), addresses)
            }
            Some(url::Host::Ipv4(ip)) => (None, vec![IpAddr::V4(ip)]),
            Some(url::Host::Ipv6(ip)) => (None, vec![IpAddr::V6(ip)]),
            None => return Err(fail(FetchError::Url(format!("{url} has no host")), vec![])),
        };
        // Judged before anything is connected to: the first address not refused, else why not.
        let mut refused: Option<(IpAddr, Range)> = None;
        let allowed = addresses
            .iter()
            .copied()
            .find(|ip| match self.refused(*ip, policy) {
                Some(range) => {
                    refused.get_or_insert((*ip, range));
                    false
                }
                None => true,
            });
        let Some(address) = allowed else {
            let shown = host.clone().or_else(|| url.host_str().map(str::to_string));
            let error = match refused {
                Some((address, range)) => FetchError::PrivateAddress {
                    host: shown.unwrap_or_else(|| address.to_string()),
                    address,
                    range,
                },
                None => FetchError::NoSuchHost(shown.unwrap_or_default()),
            };
            return Err(fail(error, Vec::new()));
        };
        let https = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        // Over HTTPS the chain is validated (and recorded) as a client would; plain HTTP has
        // no certificate, but the client still wants a TLS set-up: one that trusts nothing.
        let capture = match (https, &self.verifier) {
            (true, Ok(inner)) => Some(Arc::new(Capturing {
                inner: Arc::clone(inner),
                seen: Mutex::new(Seen::default()),
            })),
            (true, Err(reason)) => {
                return Err(fail(FetchError::Other(reason.clone()), Vec::new()));
            }
            (false, _) => None,
        };
        let client = self
            .client(
                host.as_deref(),
                SocketAddr::new(address, port),
                capture.clone(),
            )
            .map_err(|e| fail(FetchError::Other(e), Vec::new()))?;
        let permit = self.budget.acquire(address).await;
        let outcome = self.exchange(client, url, body, policy, capture).await;
        // The exchange is over and its connection closed with its client (nothing is pooled).
        // A fetch cancelled before this point drops the permit instead, which holds the place
        // a moment longer (the server may not have seen that close yet).
        permit.release();
        outcome
    }

    /// The request and its answer, over `client`'s one connection.
    async fn exchange(
        &self,
        client: reqwest::Client,
        url: &reqwest::Url,
        body: Option<&str>,
        policy: Policy,
        capture: Option<Arc<Capturing>>,
    ) -> Result<Answer, FetchFailure> {
        let fail = |error: FetchError, chain: Vec<Der>| FetchFailure {
            error,
            url: url.to_string(),
            chain,
        };
        let request = match body {
            Some(body) => client
                .post(url.clone())
                .header("Content-Type", "text/xml; charset=utf-8")
                .body(body.to_string()),
            None => client.get(url.clone()),
        };
        let sent = request.send().await;
        let (chain, tls_error) = capture.map(|c| c.take()).unwrap_or_default();
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                let error = match tls_error {
                    Some(tls) => FetchError::BadCertificate(certificate_words(&tls, &chain, url)),
                    None => self.classify(&error),
                };
                return Err(fail(error, chain));
            }
        };
        let status = response.status();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let mut answer = Answer {
            url: url.to_string(),
            status: status.as_u16(),
            location: header(reqwest::header::LOCATION).filter(|_| status.is_redirection()),
            content_type: header(reqwest::header::CONTENT_TYPE),
            body: Vec::new(),
            too_large: false,
            chain,
        };
        if !status.is_success() {
            return Ok(answer);
        }
        // Read up to the cap, whatever length the server announces; the rest is left unread.
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = policy.max_body.saturating_sub(answer.body.len());
                    if chunk.len() > room {
                        answer.body.extend_from_slice(&chunk[..room]);
                        answer.too_large = true;
                        break;
                    }
                    answer.body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return Err(fail(self.classify(&error), answer.chain)),
            }
        }
        Ok(answer)
    }

    /// A client for one connection to `address`, with no other way to resolve anything and no
    /// proxy, redirects or pool of its own.
    fn client(
        &self,
        host: Option<&str>,
        address: SocketAddr,
        capture: Option<Arc<Capturing>>,
    ) -> Result<reqwest::Client, String> {
        let tls = match capture {
            Some(capture) => rustls::ClientConfig::builder_with_provider(Arc::clone(&PROVIDER))
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(capture as Arc<dyn ServerCertVerifier>)
                        .with_no_client_auth()
                }),
            None => crate::crypto::client_config(rustls::RootCertStore::empty()),
        }
        .map_err(|e| format!("no TLS configuration: {e}"))?;
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .dns_resolver(Arc::new(NoResolver))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!("mailtls/", env!("CARGO_PKG_VERSION")));
        if let Some(host) = host {
            builder = builder.resolve(host, address);
        }
        builder.build().map_err(|e| format!("no HTTP client: {e}"))
    }

    fn classify(&self, error: &reqwest::Error) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout(self.timeout.as_secs());
        }
        // The innermost cause says what happened ("Connection refused"); the outer layers only
        // say which library noticed.
        let mut innermost: &dyn std::error::Error = error;
        while let Some(cause) = innermost.source() {
            innermost = cause;
        }
        let words = innermost.to_string();
        if error.is_connect() {
            FetchError::Connect(words)
        } else {
            FetchError::Other(words)
        }
    }
}

enum Hop {
    Done(Fetched),
    Redirect { location: String, status: u16 },
}

impl Answer {
    /// What the answer means to a fetch that follows redirects and wants a whole 2xx body.
    fn into_hop(self, policy: Policy) -> Result<Hop, FetchFailure> {
        let fail = |error: FetchError, answer: Answer| FetchFailure {
            error,
            url: answer.url,
            chain: answer.chain,
        };
        if let Some(location) = self.location.clone() {
            return Ok(Hop::Redirect {
                location,
                status: self.status,
            });
        }
        if !(200..300).contains(&self.status) {
            return Err(fail(FetchError::Status(self.status), self));
        }
        if self.too_large {
            return Err(fail(FetchError::TooLarge(policy.max_body), self));
        }
        Ok(Hop::Done(Fetched {
            url: self.url,
            body: self.body,
            chain: self.chain,
            content_type: self.content_type,
        }))
    }
}

/// Refuses every lookup: each client is given the one address it may use.
struct NoResolver;

impl reqwest::dns::Resolve for NoResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            Err(FetchError::Other(format!("{host} was not resolved beforehand")).into())
        })
    }
}

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<Der>,
    error: Option<rustls::Error>,
}

/// Validates with webpki like any client, and keeps the chain and the verdict for the record.
#[derive(Debug)]
struct Capturing {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Seen>,
}

impl Capturing {
    fn take(&self) -> (Vec<Der>, Option<rustls::Error>) {
        // A poisoned lock only means a panic elsewhere; the data is plain and still usable.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let seen = std::mem::take(&mut *seen);
        (seen.chain, seen.error)
    }
}

impl ServerCertVerifier for Capturing {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| Der(c.as_ref().to_vec()))
            .collect();
        seen.error = result.as_ref().err().cloned();
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What is wrong with a certificate, in words. The names a certificate presents are read from
/// the certificate itself, not from the verifier's message (which prints them as debug text).
fn certificate_words(error: &rustls::Error, chain: &[Der], url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let rustls::Error::InvalidCertificate(error) = error else {
        return "the HTTPS certificate could not be checked".to_string();
    };
    match error {
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = chain
                .first()
                .map(|leaf| leaf_names(&leaf.0))
                .unwrap_or_default();
            if names.is_empty() {
                format!("the HTTPS certificate does not cover {host} (it names nothing)")
            } else {
                format!(
                    "the HTTPS certificate is for {}, not for {host}",
                    names.join(", ")
                )
            }
        }
        CertificateError::UnknownIssuer => {
            "the HTTPS certificate is issued by a CA the trust store does not contain (or the \
             server does not send its intermediate certificate)"
                .to_string()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the HTTPS certificate has expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the HTTPS certificate is not valid yet".to_string()
        }
        CertificateError::BadSignature => {
            "a signature in the HTTPS certificate chain does not verify".to_string()
        }
        CertificateError::Revoked => "the HTTPS certificate has been revoked".to_string(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "the HTTPS certificate is not for server authentication".to_string()
        }
        CertificateError::BadEncoding => "the HTTPS certificate is malformed".to_string(),
        _ => "the HTTPS certificate chain is not valid".to_string(),
    }
}

/// The DNS and IP names in a certificate's subjectAltName (what a client matches against).
fn leaf_names(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_string()),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes)
                    .ok()
                    .map(|b| IpAddr::from(b).to_string()),
                16 => <[u8; 16]>::try_from(*bytes)
                    .ok()
                    .map(|b| IpAddr::from(b).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Why a host is refused, in words: "10.0.0.1 is a private address", "x.test resolves to a
/// link-local address (169.254.169.254)".
fn inside_words(host: &str, address: IpAddr, range: Range) -> String {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if literal.parse::<IpAddr>() == Ok(address) {
        format!("{address} is {}", range.describe())
    } else {
        format!("{host} resolves to {} ({address})", range.describe())
    }
}
