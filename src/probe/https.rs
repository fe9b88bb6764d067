//! Fetches provisioning documents (autoconfig, autodiscover) over HTTPS, the careful way.
//!
//! The certificate is validated against the same anchors as the mail ports (system store plus
//! `--ca-file`); a document served with a bad certificate is its own finding, since a client
//! would refuse it too. Names resolve through our resolver (`--dns`), and an address in
//! loopback, private or link-local space is refused unless the caller allows it (the target
//! itself lives there), so a hostile DNS answer cannot aim us at the inside of a network.
//! At most [`MAX_REDIRECTS`] redirects, to `https://` only and never in a circle; bodies are
//! capped at [`MAX_DOCUMENT`] bytes; every fetch has a deadline.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::discover::autoconfig::MAX_DOCUMENT;
use crate::discover::dns::Dns;

/// Redirects followed.
pub const MAX_REDIRECTS: usize = 3;

/// Why a fetch gave no document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host name does not resolve.
    #[error("{0} does not resolve")]
    NoSuchHost(String),
    /// The host resolves only to addresses we will not fetch from.
    #[error("{0} resolves to a private or loopback address; not fetched")]
    PrivateAddress(String),
    /// Nothing answered.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The HTTPS certificate is not valid for the host.
    #[error("the HTTPS certificate is not valid: {0}")]
    BadCertificate(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// Redirects went in a circle, too far, or to plain HTTP.
    #[error("{0}")]
    Redirect(String),
    /// The body was larger than [`MAX_DOCUMENT`].
    #[error("the document is larger than {MAX_DOCUMENT} bytes")]
    TooLarge,
    /// No answer within the deadline.
    #[error("no answer within {0} s")]
    Timeout(u64),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// One request.
#[derive(Debug, Clone)]
pub struct Request {
    /// An `https://` URL.
    pub url: String,
    /// A body to POST (autodiscover), or `None` for GET.
    pub body: Option<String>,
}

/// An HTTPS client bound to a resolver, anchors and an address policy.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
}

impl Fetcher {
    /// A fetcher validating against `roots`, resolving with `dns`.
    pub fn new(
        dns: Dns,
        roots: rustls::RootCertStore,
        allow_private: bool,
        timeout: Duration,
    ) -> Result<Fetcher, FetchError> {
        let tls =
            crate::crypto::client_config(roots).map_err(|e| FetchError::Other(e.to_string()))?;
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().scheme() != "https" {
                let target = attempt.url().to_string();
                return attempt.error(format!("redirected to {target}, which is not HTTPS"));
            }
            if attempt.previous().contains(attempt.url()) {
                let target = attempt.url().to_string();
                return attempt.error(format!("redirect loop (back to {target})"));
            }
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            attempt.follow()
        });
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .dns_resolver(Arc::new(GuardedResolver { dns, allow_private }))
            .redirect(policy)
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("mailtls/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Other(e.to_string()))?;
        Ok(Fetcher { client, timeout })
    }

    /// Fetches one document (GET, or POST with a body), returned as text.
    pub async fn fetch(&self, request: &Request) -> Result<String, FetchError> {
        if !request.url.starts_with("https://") {
            return Err(FetchError::Redirect(format!(
                "{} is not HTTPS",
                request.url
            )));
        }
        let builder = match &request.body {
            Some(body) => self
                .client
                .post(&request.url)
                .header("Content-Type", "text/xml; charset=utf-8")
                .body(body.clone()),
            None => self.client.get(&request.url),
        };
        let run = async {
            let mut response = builder.send().await.map_err(|e| self.classify(&e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let mut body: Vec<u8> = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(&e))? {
                if body.len() + chunk.len() > MAX_DOCUMENT {
                    return Err(FetchError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(String::from_utf8_lossy(&body).into_owned())
        };
        // reqwest's own timeout covers the request; this bounds redirects and the body too.
        tokio::time::timeout(self.timeout * 2, run)
            .await
            .unwrap_or(Err(FetchError::Timeout(self.timeout.as_secs())))
    }

    fn classify(&self, error: &reqwest::Error) -> FetchError {
        // The whole chain of causes, where the useful words are.
        let mut words = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            words.push_str(": ");
            words.push_str(&cause.to_string());
            source = cause.source();
        }
        // Our resolver's own refusal, carried through reqwest and hyper as a cause.
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            if let Some(refusal) = cause.downcast_ref::<FetchError>() {
                return refusal.clone();
            }
            source = cause.source();
        }
        if error.is_timeout() {
            FetchError::Timeout(self.timeout.as_secs())
        } else if error.is_redirect() {
            let reason = words.rsplit(": ").next().unwrap_or(&words).to_string();
            FetchError::Redirect(reason)
        } else if words.contains("certificate") {
            FetchError::BadCertificate(words.rsplit(": ").next().unwrap_or(&words).to_string())
        } else if error.is_connect() {
            FetchError::Connect(words.rsplit(": ").next().unwrap_or(&words).to_string())
        } else {
            FetchError::Other(words)
        }
    }
}

/// Resolves through our DNS and refuses inside addresses unless allowed.
struct GuardedResolver {
    dns: Dns,
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let dns = self.dns.clone();
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses = dns
                .addresses(&host)
                .await
                .map_err(|_| FetchError::NoSuchHost(host.clone()))?;
            let usable: Vec<SocketAddr> = addresses
                .into_iter()
                .filter(|ip| allow_private || !is_inside(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if usable.is_empty() {
                return Err(FetchError::PrivateAddress(host).into());
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Loopback, private (RFC 1918, RFC 4193), link-local, unspecified or CGNAT space.
pub fn is_inside(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_inside(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_inside(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["192.0.2.1", "8.8.8.8", "100.128.0.1", "2001:db8::1"] {
            assert!(!is_inside(outside.parse().unwrap()), "{outside}");
        }
    }
}
