//! Forward and reverse DNS through the system resolver or one the user names with `--dns`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use hickory_resolver::TokioResolver;

use super::memo::ProbeMemo;
use super::shared::SharedLimits;
use crate::concurrent::in_order;
use crate::observation::{NameLookup, PtrLookup};
use hickory_resolver::ResolveError;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfigGroup, ResolveHosts, ResolverConfig,
};
use hickory_resolver::name_server::NameServerPool;
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::{Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::proto::xfer::{DnsHandle, DnsRequestOptions, FirstAnswer};
use hickory_resolver::proto::{ProtoError, ProtoErrorKind};

/// Most CNAME records of one answer kept (a resolver follows at most a handful anyway).
const MAX_ALIASES: usize = 8;

/// Why a DNS question got no usable answer.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The system resolver configuration could not be read.
    #[error("cannot read the system's DNS configuration: {0}")]
    Config(String),
    /// `--dns` is not `IP` or `IP:PORT`.
    #[error("'{0}' is not a resolver address; use IP or IP:PORT, e.g. 127.0.0.53 or [::1]:5353")]
    BadServer(String),
    /// The name does not exist (NXDOMAIN) or has no records of the type asked.
    #[error("{0} does not resolve (no such name or no address records)")]
    NotFound(String),
    /// No answer within the timeout, after the configured attempts.
    #[error("DNS lookup of {0} timed out")]
    Timeout(String),
    /// The resolver failed: SERVFAIL, refused, a malformed answer.
    #[error("DNS lookup of {name} failed: {reason}")]
    Failed {
        /// What was looked up.
        name: String,
        /// The resolver's words.
        reason: String,
    },
    /// Every address of the name is in a range this resolver was told to refuse (`mailtls
    /// serve` without `--allow-private`).
    #[error("{name} resolves to {address}, {}, which this server does not connect to", range.describe())]
    Refused {
        /// What was looked up.
        name: String,
        /// The first refused address.
        address: IpAddr,
        /// Its range.
        range: crate::address::Range,
    },
}

/// A DNS resolver with a bounded timeout and a small number of attempts.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
    /// The same name servers without the resolver in front, for PTR lookups: the resolver
    /// answers every name under 127.in-addr.arpa with "localhost" itself (RFC 6761), and a
    /// report must show what DNS says (the test lab lives in 127.0.0.0/8).
    servers: NameServerPool<TokioConnectionProvider>,
    timeout: Duration,
    /// At most so many questions per second, when set (a fleet scan must not flood the
    /// resolver).
    rate: Option<Arc<DefaultDirectRateLimiter>>,
    /// The same rate kept with other workers (a scan's database), when there are any.
    shared: Option<Arc<dyn SharedLimits>>,
    /// Drop addresses in special-purpose ranges from every answer (DNS-rebinding protection
    /// for a server on the internet): nothing this resolver returns can aim a probe inside.
    refuse_special: bool,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("name_servers", &self.resolver.config().name_servers())
            .finish_non_exhaustive()
    }
}

impl Dns {
    /// The system's resolver (`/etc/resolv.conf`), including `/etc/hosts`.
    pub fn system(timeout: Duration) -> Result<Dns, DnsError> {
        let mut builder =
            TokioResolver::builder_tokio().map_err(|e| DnsError::Config(e.to_string()))?;
        configure(builder.options_mut(), timeout, ResolveHosts::Always);
        Ok(Dns::new(builder.build(), timeout))
    }

    /// The resolver a command runs with: `server` (from `--dns`) when given, else the system's.
    pub fn configured(server: Option<SocketAddr>, timeout: Duration) -> Result<Dns, DnsError> {
        match server {
            Some(address) => Ok(Dns::server(address, timeout)),
            None => Dns::system(timeout),
        }
    }

    /// A specific resolver, e.g. a local test DNS or the admin's own recursive resolver.
    pub fn server(address: SocketAddr, timeout: Duration) -> Dns {
        let group = NameServerConfigGroup::from_ips_clear(&[address.ip()], address.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), group);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default());
        configure(builder.options_mut(), timeout, ResolveHosts::Never);
        Dns::new(builder.build(), timeout)
    }

    fn new(resolver: TokioResolver, timeout: Duration) -> Dns {
        let servers = NameServerPool::from_config(
            resolver.config().name_servers().to_vec().into(),
            resolver.options().clone(),
            TokioConnectionProvider::default(),
        );
        Dns {
            resolver,
            servers,
            timeout,
            rate: None,
            shared: None,
            refuse_special: false,
        }
    }

    /// The same resolver, asked at most `per_second` questions per second (`None`: no limit).
    pub fn with_rate(mut self, per_second: Option<NonZeroU32>) -> Dns {
        // Evenly spaced, no burst: a burst of questions is what overflows a resolver's queue.
        self.rate = per_second.map(|rate| {
            Arc::new(RateLimiter::direct(
                Quota::per_second(rate).allow_burst(NonZeroU32::MIN),
            ))
        });
        self
    }

    /// The same resolver, also keeping its rate together with other workers through `shared`.
    pub fn sharing(mut self, shared: Option<Arc<dyn SharedLimits>>) -> Dns {
        self.shared = shared;
        self
    }

    /// The same resolver, leaving out every address in a special-purpose range
    /// ([`crate::address::special`]) from its address answers.
    pub fn refusing_special(mut self) -> Dns {
        self.refuse_special = true;
        self
    }

    /// Waits for the rate, if there is one. Answers from the cache count too: the limit is on
    /// questions, an upper bound of what reaches the server.
    pub(crate) async fn pace(&self) {
        self.pace_questions(1).await;
    }

    /// Waits for the rate's turns of `questions` questions sent at once (A and AAAA).
    async fn pace_questions(&self, questions: u32) {
        if let Some(rate) = &self.rate {
            for _ in 0..questions {
                rate.until_ready().await;
            }
        }
        if let Some(shared) = &self.shared {
            shared.dns_turn(questions).await;
        }
    }

    /// The name servers this resolver asks, without the resolver (and its cache) in front:
    /// for questions whose whole answer matters (PTR, DNSSEC validation in `probe::dnssec`).
    pub(crate) fn name_servers(&self) -> NameServerPool<TokioConnectionProvider> {
        self.servers.clone()
    }

    /// The limit for each question.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The address of the (first) name server asked: where every query goes.
    pub fn server_address(&self) -> Option<IpAddr> {
        self.resolver
            .config()
            .name_servers()
            .first()
            .map(|server| server.socket_addr.ip())
    }

    /// All A and AAAA addresses of `name` (an ASCII name without trailing dot), sorted.
    pub async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        self.addresses_and_aliases(name)
            .await
            .map(|(addresses, _)| addresses)
    }

    /// The addresses of `name`, as [`Dns::addresses`], and the names its CNAME records lead
    /// through, in order (empty when `name` has an address of its own).
    pub async fn addresses_and_aliases(
        &self,
        name: &str,
    ) -> Result<(Vec<IpAddr>, Vec<String>), DnsError> {
        // Two questions (A and AAAA, asked at once): two turns of the rate.
        self.pace_questions(2).await;
        let lookup = self
            .resolver
            .lookup_ip(absolute(name)?)
            .await
            .map_err(|e| classify(name, &e))?;
        let aliases: Vec<String> = lookup
            .as_lookup()
            .records()
            .iter()
            .filter_map(|record| match record.data() {
                RData::CNAME(target) => Some(plain(&target.0.to_ascii())),
                _ => None,
            })
            .take(MAX_ALIASES)
            .collect();
        let mut addresses: Vec<IpAddr> = lookup.iter().collect();
        addresses.sort();
        addresses.dedup();
        if self.refuse_special {
            let refused = addresses
                .iter()
                .find_map(|ip| crate::address::special(*ip).map(|range| (*ip, range)));
            addresses.retain(|ip| crate::address::special(*ip).is_none());
            if let (true, Some((address, range))) = (addresses.is_empty(), refused) {
                return Err(DnsError::Refused {
                    name: name.to_string(),
                    address,
                    range,
                });
            }
        }
        if addresses.is_empty() {
            return Err(DnsError::NotFound(name.to_string()));
        }
        Ok((addresses, aliases))
    }

    /// The A records of `name`, sorted: what a DNS blocklist answers for a listed entry.
    pub async fn ipv4(&self, name: &str) -> Result<Vec<Ipv4Addr>, DnsError> {
        self.pace().await;
        let lookup = self
            .resolver
            .ipv4_lookup(absolute(name)?)
            .await
            .map_err(|e| classify(name, &e))?;
        let mut addresses: Vec<Ipv4Addr> = lookup.iter().map(|a| a.0).collect();
        addresses.sort();
        addresses.dedup();
        Ok(addresses)
    }

    /// The TXT records of `name`, each one's strings joined (lossy UTF-8).
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        self.pace().await;
        let lookup = self
            .resolver
            .txt_lookup(absolute(name)?)
            .await
            .map_err(|e| classify(name, &e))?;
        Ok(lookup
            .iter()
            .map(|txt| {
                txt.iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>()
            })
            .collect())
    }

    /// The MX records of `domain` as (preference, exchange), lowest preference first. A "."
    /// exchange (RFC 7505 null MX: the domain takes no mail) is kept as an empty name.
    pub async fn mx(&self, domain: &str) -> Result<Vec<(u16, String)>, DnsError> {
        self.pace().await;
        let lookup = self
            .resolver
            .mx_lookup(absolute(domain)?)
            .await
            .map_err(|e| classify(domain, &e))?;
        let mut records: Vec<(u16, String)> = lookup
            .iter()
            .map(|mx| (mx.preference(), plain(&mx.exchange().to_ascii())))
            .collect();
        records.sort();
        records.dedup();
        Ok(records)
    }

    /// The SRV records of `name` as (priority, weight, port, target), in RFC 2782 order (lowest
    /// priority first, then highest weight). A target of "." (RFC 2782: the service is decidedly
    /// not offered) is kept as an empty name.
    pub async fn srv(&self, name: &str) -> Result<Vec<(u16, u16, u16, String)>, DnsError> {
        self.pace().await;
        let lookup = self
            .resolver
            .srv_lookup(absolute(name)?)
            .await
            .map_err(|e| classify(name, &e))?;
        let mut records: Vec<(u16, u16, u16, String)> = lookup
            .iter()
            .map(|srv| {
                (
                    srv.priority(),
                    srv.weight(),
                    srv.port(),
                    plain(&srv.target().to_ascii()),
                )
            })
            .collect();
        records.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.3.cmp(&b.3)));
        records.dedup();
        Ok(records)
    }

    /// The PTR names of `address`, lower case and without the trailing dot; empty when none.
    pub async fn ptr(&self, address: IpAddr) -> Result<Vec<String>, DnsError> {
        self.pace().await;
        let name = address.to_string();
        let query = Query::query(Name::from(address), RecordType::PTR);
        let mut options = DnsRequestOptions::default();
        options.recursion_desired = true;
        let answer = self.servers.lookup(query, options).first_answer();
        // The pool has its own per-attempt timeout; this bounds the attempts together.
        let limit = self.timeout * 3;
        let response = match tokio::time::timeout(limit, answer).await {
            Err(_) => return Err(DnsError::Timeout(name)),
            Ok(Err(error)) if error.is_nx_domain() || error.is_no_records_found() => {
                return Ok(Vec::new());
            }
            Ok(Err(error)) => return Err(proto_failure(name, &error)),
            Ok(Ok(response)) => response,
        };
        if response.response_code() == ResponseCode::NXDomain {
            return Ok(Vec::new());
        }
        if response.response_code() != ResponseCode::NoError {
            return Err(DnsError::Failed {
                name,
                reason: response.response_code().to_string(),
            });
        }
        let mut names: Vec<String> = response
            .answers()
            .iter()
            .filter_map(|record| match record.data() {
                RData::PTR(ptr) => Some(plain(&ptr.0.to_ascii())),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// A failed exchange with the name servers: a timeout, or a failure in the server's or the
/// library's words.
pub(crate) fn proto_failure(name: String, error: &ProtoError) -> DnsError {
    if matches!(error.kind(), ProtoErrorKind::Timeout) {
        DnsError::Timeout(name)
    } else {
        DnsError::Failed {
            name,
            reason: error.to_string(),
        }
    }
}

/// `name` made absolute (a trailing dot), so no search domain is ever appended.
pub(crate) fn absolute(name: &str) -> Result<Name, DnsError> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).map_err(|e| DnsError::Failed {
        name: name.to_string(),
        reason: e.to_string(),
    })
}

/// A DNS name as people write it: lower case, no trailing dot.
pub(crate) fn plain(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    lower.strip_suffix('.').map(str::to_string).unwrap_or(lower)
}

/// Sorts a resolver error into no-such-name, timeout, or failure. hickory reports a SERVFAIL
/// or REFUSED answer as "no records found" too, with that response code: only NXDOMAIN and an
/// empty NOERROR answer say the name has no such records; the others are the resolver's
/// failure (a validating resolver answers SERVFAIL for DNSSEC-bogus data, RFC 4035 §5.5).
fn classify(name: &str, error: &ResolveError) -> DnsError {
    let refused = error.proto().and_then(|p| match p.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. }
            if !matches!(
                response_code,
                ResponseCode::NXDomain | ResponseCode::NoError
            ) =>
        {
            Some(*response_code)
        }
        _ => None,
    });
    if let Some(code) = refused {
        DnsError::Failed {
            name: name.to_string(),
            reason: format!("the resolver answered {code}"),
        }
    } else if error.is_nx_domain() || error.is_no_records_found() {
        DnsError::NotFound(name.to_string())
    } else if error
        .proto()
        .is_some_and(|p| matches!(p.kind(), ProtoErrorKind::Timeout))
    {
        DnsError::Timeout(name.to_string())
    } else {
        DnsError::Failed {
            name: name.to_string(),
            reason: error.to_string(),
        }
    }
}

/// Reverse DNS of every address, at once; a lookup our resolver did not answer has no names
/// and says so. With a memo (a fleet scan), each address is looked up once it is answered.
pub async fn lookup_ptrs(
    dns: &Dns,
    addresses: &[IpAddr],
    memo: Option<&ProbeMemo>,
) -> Vec<PtrLookup> {
    let mut lookups: Vec<PtrLookup> = in_order(addresses.iter().copied().map(|address| {
        let dns = dns.clone();
        let memo = memo.cloned();
        async move {
            let lookup = dns.ptr(address);
            let names = match memo {
                Some(memo) => memo.ptr(address, lookup).await.ok(),
                None => lookup.await.ok(),
            };
            PtrLookup {
                address,
                unanswered: names.is_none(),
                names: names.unwrap_or_default(),
            }
        }
    }))
    .await;
    lookups.sort_by_key(|lookup| lookup.address);
    lookups
}

/// Forward DNS of every name, at once; a name that does not exist has no address, one our
/// resolver did not answer for has none either and says so.
pub async fn lookup_names(dns: &Dns, names: Vec<String>) -> Vec<NameLookup> {
    let mut lookups: Vec<NameLookup> = in_order(names.into_iter().map(|name| {
        let dns = dns.clone();
        async move {
            let (addresses, unanswered) = match dns.addresses(&name).await {
                Ok(addresses) => (addresses, false),
                Err(DnsError::NotFound(_)) => (Vec::new(), false),
                Err(_) => (Vec::new(), true),
            };
            NameLookup {
                name,
                addresses,
                unanswered,
            }
        }
    }))
    .await;
    lookups.sort_by(|a, b| a.name.cmp(&b.name));
    lookups
}

fn configure(
    options: &mut hickory_resolver::config::ResolverOpts,
    timeout: Duration,
    hosts: ResolveHosts,
) {
    options.timeout = timeout;
    options.attempts = 2;
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    options.use_hosts_file = hosts;
    // Shared by every job of an engine: a fleet of domains asks about the same hosts often.
    options.cache_size = 4096;
}

/// Parses `--dns`: `IP`, `IP:PORT`, `[IPv6]:PORT`; the port defaults to 53.
pub fn parse_server(text: &str) -> Result<SocketAddr, DnsError> {
    let bad = || DnsError::BadServer(text.to_string());
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    text.parse::<SocketAddr>().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_addresses() {
        assert_eq!(
            parse_server("127.0.0.53").unwrap(),
            "127.0.0.53:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(parse_server("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(
            parse_server("[::1]:5353").unwrap(),
            "[::1]:5353".parse().unwrap()
        );
        assert!(parse_server("dns.example").is_err());
        assert!(parse_server("127.0.0.1:99999").is_err());
    }

    /// What hickory makes of an answer with `code` and no records.
    fn no_records(code: ResponseCode) -> ResolveError {
        ResolveError::from(ProtoError::from(ProtoErrorKind::NoRecordsFound {
            query: Box::new(Query::query(
                Name::from_ascii("bogus.example.").unwrap(),
                RecordType::MX,
            )),
            soa: None,
            ns: None,
            negative_ttl: None,
            response_code: code,
            trusted: false,
            authorities: None,
        }))
    }

    #[test]
    fn servfail_is_a_failure_not_a_missing_name() {
        for code in [ResponseCode::NXDomain, ResponseCode::NoError] {
            assert_eq!(
                classify("bogus.example", &no_records(code)),
                DnsError::NotFound("bogus.example".to_string()),
                "{code}"
            );
        }
        for code in [ResponseCode::ServFail, ResponseCode::Refused] {
            let error = classify("bogus.example", &no_records(code));
            assert!(
                matches!(&error, DnsError::Failed { name, reason }
                    if name == "bogus.example" && reason.contains(&code.to_string())),
                "{code}: {error:?}"
            );
        }
    }
}
