//! `serve.toml`: which mail domains mailtls provisions, each with its pool of server names (most
//! preferred first), and the server's limits. A missing or malformed file stops start-up with
//! the line and the reason.
//!
//! ```toml
//! [serve]
//! renew_seconds = 3600        # re-verify provisioned names this often
//! checks_in_flight = 32       # checks running at once, over all visitors
//! checks_per_minute = 20      # per visitor address; more answer 429
//! keep_local_part = false     # store (and send) the local part of e-mail addresses
//! trusted_proxies = ["127.0.0.1"]  # take the visitor from X-Forwarded-For behind these
//!
//! [pools]
//! hostingco = ["mail.customer.example", "luna.hostingco.example"]
//!
//! [domains]
//! "customer.example" = "hostingco"
//! ```

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// The configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// How often provisioned names are verified again.
    pub renew: Duration,
    /// Checks running at once, over all visitors.
    pub checks_in_flight: usize,
    /// Checks each visitor address may start per minute.
    pub checks_per_minute: NonZeroU32,
    /// Keep the local part of e-mail addresses (otherwise `user@` is checked and stored).
    pub keep_local_part: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the visitor.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Each provisioned domain (lower case) and its pool of server names, preferred first.
    pub domains: BTreeMap<String, Vec<String>>,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            renew: Duration::from_secs(3600),
            checks_in_flight: 32,
            checks_per_minute: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            keep_local_part: false,
            trusted_proxies: Vec::new(),
            domains: BTreeMap::new(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid, at a line.
    #[error("{path}, line {line}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    serve: Limits,
    #[serde(default)]
    pools: BTreeMap<String, toml::Spanned<Vec<String>>>,
    #[serde(default)]
    domains: BTreeMap<String, toml::Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    renew_seconds: Option<toml::Spanned<u64>>,
    checks_in_flight: Option<toml::Spanned<u64>>,
    checks_per_minute: Option<toml::Spanned<u64>>,
    keep_local_part: Option<bool>,
    trusted_proxies: Option<toml::Spanned<Vec<String>>>,
}

impl ServeConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<ServeConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        ServeConfig::parse(&text, &shown)
    }

    /// Parses and checks `text` (from `path`, for messages).
    pub fn parse(text: &str, path: &str) -> Result<ServeConfig, ConfigError> {
        let invalid = |offset: usize, reason: String| ConfigError::Invalid {
            path: path.to_string(),
            line: text
                .get(..offset.min(text.len()))
                .map_or(1, |before| before.matches('\n').count() + 1),
            reason,
        };
        let file: File = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |span| span.start);
            invalid(offset, e.message().trim().to_string())
        })?;
        let mut config = ServeConfig::default();
        if let Some(renew) = file.serve.renew_seconds {
            if !(5..=7 * 86_400).contains(renew.get_ref()) {
                return Err(invalid(
                    renew.span().start,
                    "renew_seconds must be between 5 and 604800".to_string(),
                ));
            }
            config.renew = Duration::from_secs(*renew.get_ref());
        }
        if let Some(limit) = file.serve.checks_in_flight {
            config.checks_in_flight = match usize::try_from(*limit.get_ref()) {
                Ok(n @ 1..=4096) => n,
                _ => {
                    return Err(invalid(
                        limit.span().start,
                        "checks_in_flight must be between 1 and 4096".to_string(),
                    ));
                }
            };
        }
        if let Some(rate) = file.serve.checks_per_minute {
            config.checks_per_minute = u32::try_from(*rate.get_ref())
                .ok()
                .and_then(NonZeroU32::new)
                .filter(|n| n.get() <= 100_000)
                .ok_or_else(|| {
                    invalid(
                        rate.span().start,
                        "checks_per_minute must be between 1 and 100000".to_string(),
                    )
                })?;
        }
        config.keep_local_part = file.serve.keep_local_part.unwrap_or(false);
        if let Some(proxies) = file.serve.trusted_proxies {
            for proxy in proxies.get_ref() {
                let address = proxy.parse().map_err(|_| {
                    invalid(
                        proxies.span().start,
                        format!("trusted_proxies: '{proxy}' is not an IP address"),
                    )
                })?;
                config.trusted_proxies.push(address);
            }
        }
        for (name, pool) in &file.pools {
            if pool.get_ref().is_empty() {
                return Err(invalid(
                    pool.span().start,
                    format!("pool {name} lists no server"),
                ));
            }
            for server in pool.get_ref() {
                if mailtls_core::target::Target::parse(server).is_err() || server.contains('@') {
                    return Err(invalid(
                        pool.span().start,
                        format!("pool {name}: '{server}' is not a server name"),
                    ));
                }
            }
        }
        for (domain, pool) in &file.domains {
            let Some(servers) = file.pools.get(pool.get_ref()) else {
                return Err(invalid(
                    pool.span().start,
                    format!("domain {domain}: no pool called '{}'", pool.get_ref()),
                ));
            };
            let lower = domain.to_ascii_lowercase();
            if mailtls_core::target::Address::parse(&format!("user@{lower}")).is_err() {
                return Err(invalid(
                    pool.span().start,
                    format!("'{domain}' is not a mail domain"),
                ));
            }
            let servers = servers
                .get_ref()
                .iter()
                .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
                .collect();
            config.domains.insert(lower, servers);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file() {
        let config = ServeConfig::parse(
            "[serve]\nrenew_seconds = 120\n\n[pools]\nh = [\"Mail.A.test\", \"luna.h.test\"]\n\
             \n[domains]\n\"A.test\" = \"h\"\n",
            "serve.toml",
        )
        .expect("valid");
        assert_eq!(config.renew, Duration::from_secs(120));
        assert_eq!(
            config.domains.get("a.test"),
            Some(&vec!["mail.a.test".to_string(), "luna.h.test".to_string()])
        );
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, words) in [
            ("[serve]\nrenew_seconds = 1\n", 2, "between 5"),
            ("[pools]\nh = []\n", 2, "lists no server"),
            (
                "[pools]\nh = [\"a.test\"]\n[domains]\n\"b.test\" = \"x\"\n",
                4,
                "no pool",
            ),
            ("[serve]\nunknown = 1\n", 2, "unknown field"),
            ("[pools\n", 1, ""),
            ("[pools]\nh = [\"not a name\"]\n", 2, "not a server name"),
            (
                "[serve]\ntrusted_proxies = [\"proxy\"]\n",
                2,
                "not an IP address",
            ),
        ] {
            let error = ServeConfig::parse(text, "serve.toml").expect_err(text);
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("serve.toml, line {line}: ")),
                "{text:?}: {message}"
            );
            assert!(message.contains(words), "{text:?}: {message}");
        }
    }
}
