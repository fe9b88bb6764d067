//! Forward and reverse DNS through the system resolver or one the user names with `--dns`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfigGroup, ResolveHosts, ResolverConfig,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::Name;

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
    /// The resolver failed: timeout, SERVFAIL, refused.
    #[error("DNS lookup of {name} failed: {reason}")]
    Failed {
        /// What was looked up.
        name: String,
        /// The resolver's words.
        reason: String,
    },
}

/// A DNS resolver with a bounded timeout and a small number of attempts.
#[derive(Debug, Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    /// The system's resolver (`/etc/resolv.conf`), including `/etc/hosts`.
    pub fn system(timeout: Duration) -> Result<Dns, DnsError> {
        let mut builder =
            TokioResolver::builder_tokio().map_err(|e| DnsError::Config(e.to_string()))?;
        configure(builder.options_mut(), timeout, ResolveHosts::Always);
        Ok(Dns {
            resolver: builder.build(),
        })
    }

    /// A specific resolver, e.g. a local test DNS or the admin's own recursive resolver.
    pub fn server(address: SocketAddr, timeout: Duration) -> Dns {
        let group = NameServerConfigGroup::from_ips_clear(&[address.ip()], address.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), group);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default());
        configure(builder.options_mut(), timeout, ResolveHosts::Never);
        Dns {
            resolver: builder.build(),
        }
    }

    /// All A and AAAA addresses of `name` (an ASCII name without trailing dot), sorted.
    pub async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        // A trailing dot makes the name absolute, so no search domain is ever appended.
        let absolute = Name::from_ascii(format!("{name}.")).map_err(|e| DnsError::Failed {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        match self.resolver.lookup_ip(absolute).await {
            Ok(lookup) => {
                let mut addresses: Vec<IpAddr> = lookup.iter().collect();
                addresses.sort();
                addresses.dedup();
                if addresses.is_empty() {
                    Err(DnsError::NotFound(name.to_string()))
                } else {
                    Ok(addresses)
                }
            }
            Err(error) if error.is_nx_domain() || error.is_no_records_found() => {
                Err(DnsError::NotFound(name.to_string()))
            }
            Err(error) => Err(DnsError::Failed {
                name: name.to_string(),
                reason: error.to_string(),
            }),
        }
    }

    /// The PTR names of `address`, lower case and without the trailing dot; empty when none.
    pub async fn ptr(&self, address: IpAddr) -> Result<Vec<String>, DnsError> {
        match self.resolver.reverse_lookup(address).await {
            Ok(lookup) => {
                let mut names: Vec<String> = lookup
                    .iter()
                    .map(|ptr| {
                        let text = ptr.0.to_ascii().to_ascii_lowercase();
                        text.strip_suffix('.').map(str::to_string).unwrap_or(text)
                    })
                    .collect();
                names.sort();
                names.dedup();
                Ok(names)
            }
            Err(error) if error.is_nx_domain() || error.is_no_records_found() => Ok(Vec::new()),
            Err(error) => Err(DnsError::Failed {
                name: address.to_string(),
                reason: error.to_string(),
            }),
        }
    }
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
    options.cache_size = 256;
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
}
