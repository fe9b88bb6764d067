//! What a visitor may ask: a target parsed and refused when it aims inside (loopback, private,
//! link-local, CGNAT, multicast, reserved ranges) unless `--allow-private`, and a rate per
//! visitor address. The engine behind `serve` also drops such addresses from every DNS answer
//! and never connects to them (`EngineOptions::refuse_special`), so a name that changes its
//! answer between this check and the probes (DNS rebinding) cannot aim a probe inside either.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use mailtls_core::address;
use mailtls_core::engine::Engine;
use mailtls_core::probe::dns::DnsError;
use mailtls_core::target::{Address, Subject, Target};

/// Longest target accepted, in bytes (a DNS name is at most 253; an address adds a local part
/// of at most 64 and the `@`).
pub const MAX_TARGET: usize = 320;

/// Why a target is refused: a message for the visitor and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// Stable code: `empty`, `too-long`, `invalid`, `private-address`, `no-such-name`,
    /// `dns-failed`.
    pub code: &'static str,
    /// In words.
    pub message: String,
    /// Whether it may pass later (DNS did not answer): the answer says when to try again.
    pub transient: bool,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            transient: false,
        }
    }

    /// A refusal that may pass later.
    fn for_now(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            transient: true,
            ..Refusal::new(code, message)
        }
    }
}

/// Parses what a visitor typed into what to check. Without `keep_local_part`, an e-mail
/// address's local part is replaced by `user` (neither sent to the domain's servers nor
/// stored).
pub fn parse(input: &str, keep_local_part: bool) -> Result<Subject, Refusal> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Refusal::new(
            "empty",
            "Type an e-mail address or a mail server's name, e.g. jane@example.com or mail.example.com.",
        ));
    }
    if input.len() > MAX_TARGET {
        return Err(Refusal::new(
            "too-long",
            format!(
                "That is {} characters long; an e-mail address or server name has at most {MAX_TARGET}.",
                input.len()
            ),
        ));
    }
    if input.contains("://") || input.contains('/') {
        return Err(Refusal::new(
            "invalid",
            "That looks like a web address: type only the server name (mail.example.com) or an e-mail address.",
        ));
    }
    let subject = Subject::parse(input).map_err(|e| Refusal::new("invalid", e.to_string()))?;
    Ok(match subject {
        Subject::Address(address) if !keep_local_part => {
            Subject::Address(Address::for_domain(&address.domain))
        }
        other => other,
    })
}

/// Whether what a visitor put in the page's box is a target to check rather than words to
/// explain: one word, with a dot, an `@` or a colon (a name, an address, an IP address), that
/// [`parse`] takes. Anything else (the text of a warning, an error code, a name with a port or
/// a scheme) goes to `explain`, which finds the names it carries.
pub fn is_target(input: &str) -> bool {
    let input = input.trim();
    !input.is_empty()
        && input.len() <= MAX_TARGET
        && !input.contains(char::is_whitespace)
        && input.contains(['.', '@', ':'])
        && parse(input, true).is_ok()
}

/// Refuses `subject` when it is, or resolves to, an address in a special-purpose range (the
/// first such address, named). A name that does not resolve is not refused here: it may be a
/// mail domain with only MX records, and the check says what it finds.
pub async fn refuse_inside(engine: &Engine, subject: &Subject) -> Result<(), Refusal> {
    let name = match subject {
        Subject::Host(Target::Ip(ip)) => return check_address(&ip.to_string(), *ip),
        Subject::Host(Target::Dns(name)) => name,
        Subject::Address(address) => &address.domain,
    };
    match engine.dns().addresses(name).await {
        Err(DnsError::Refused { address, .. }) => check_address(name, address),
        Err(DnsError::Timeout(_)) | Err(DnsError::Failed { .. }) => Err(Refusal::for_now(
            "dns-failed",
            format!("Could not look up {name} right now; try again in a minute."),
        )),
        _ => Ok(()),
    }
}

fn check_address(shown: &str, ip: IpAddr) -> Result<(), Refusal> {
    match address::special(ip) {
        None => Ok(()),
        Some(range) => Err(Refusal::new(
            "private-address",
            if shown == ip.to_string() {
                format!(
                    "{ip} is {}: this server checks only servers on the internet.",
                    range.describe()
                )
            } else {
                format!(
                    "{shown} resolves to {ip}, {}: this server checks only servers on the internet.",
                    range.describe()
                )
            },
        )),
    }
}

/// The visitor's address: the peer's, or, when the peer is one of `trusted` (a reverse proxy in
/// front of this server), the last address in `X-Forwarded-For` that is not a trusted proxy.
pub fn visitor(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    forwarded_for
        .into_iter()
        .flat_map(|header| header.rsplit(','))
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

/// Checks each visitor address may start, per minute (no burst beyond a tenth of it).
#[derive(Debug, Clone)]
pub struct VisitorLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl VisitorLimit {
    /// `per_minute` checks per visitor address.
    pub fn new(per_minute: NonZeroU32) -> VisitorLimit {
        let burst = NonZeroU32::new(per_minute.get().div_ceil(10).max(3)).unwrap_or(per_minute);
        VisitorLimit {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            )),
        }
    }

    /// Whether `visitor` may start a check now; `Err` holds the seconds to wait.
    pub fn admit(&self, visitor: IpAddr) -> Result<(), u64> {
        // IPv6 visitors are counted per /64: one host has a whole /64 to rotate through.
        let key = match visitor {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
            v4 => v4,
        };
        self.limiter.check_key(&key).map_err(|not_until| {
            not_until
                .wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ))
                .as_secs()
                .max(1)
        })?;
        // Forget visitors that are back to a full bucket, so the map stays small.
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_refused_with_a_code() {
        for (input, code) in [
            ("", "empty"),
            ("   ", "empty"),
            ("https://mail.example.com/", "invalid"),
            ("not a name", "invalid"),
            ("\u{0}\u{1}binary", "invalid"),
        ] {
            assert_eq!(
                parse(input, false).map_err(|r| r.code),
                Err(code),
                "{input:?}"
            );
        }
        let long = "a.".repeat(1000);
        assert_eq!(parse(&long, false).map_err(|r| r.code), Err("too-long"));
        let labels = format!("{}example.com", "a.".repeat(130));
        assert!(parse(&labels, false).is_err());
    }

    #[test]
    fn the_box_tells_targets_from_words() {
        for target in [
            "jane@customer.com",
            " mail.customer.com\n",
            "192.0.2.1",
            "[2001:db8::1]",
        ] {
            assert!(is_target(target), "{target:?}");
        }
        for words in [
            "",
            "SEC_ERROR_UNKNOWN_ISSUER",
            "localhost",
            "mail.customer.com:993",
            "https://mail.customer.com/",
            "The certificate for mail.customer.com is not valid for that server.",
            "mail.customer.com\nluna.hostingco.com",
        ] {
            assert!(!is_target(words), "{words:?}");
        }
    }

    #[test]
    fn local_part_is_dropped_unless_kept() {
        assert_eq!(
            parse("Jane.Doe@Example.com", false).map(|s| s.to_string()),
            Ok("user@example.com".to_string())
        );
        assert_eq!(
            parse("jane@example.com", true).map(|s| s.to_string()),
            Ok("jane@example.com".to_string())
        );
    }

    #[test]
    fn literals_in_every_range_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "::1",
            "fe80::1",
            "100.64.1.1",
            "224.0.0.1",
        ] {
            let refused = check_address(ip, ip.parse().expect("an address"));
            assert_eq!(refused.map_err(|r| r.code), Err("private-address"), "{ip}");
        }
        assert_eq!(
            check_address("8.8.8.8", "8.8.8.8".parse().expect("ip")),
            Ok(())
        );
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        let proxy = [ip("10.0.0.2")];
        let header = Some("198.51.100.7, 203.0.113.9, 10.0.0.2");
        // Not from the proxy: the header is the visitor's own words, ignored.
        assert_eq!(visitor(ip("192.0.2.1"), header, &proxy), ip("192.0.2.1"));
        // From the proxy: the last hop that is not the proxy.
        assert_eq!(visitor(ip("10.0.0.2"), header, &proxy), ip("203.0.113.9"));
        assert_eq!(
            visitor(ip("10.0.0.2"), Some("garbage"), &proxy),
            ip("10.0.0.2")
        );
        assert_eq!(visitor(ip("10.0.0.2"), None, &proxy), ip("10.0.0.2"));
    }

    #[test]
    fn visitors_are_limited_each_on_their_own() {
        let limit = VisitorLimit::new(NonZeroU32::new(30).expect("non-zero"));
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let admitted = (0..10).filter(|_| limit.admit(a).is_ok()).count();
        assert_eq!(
            admitted, 3,
            "the burst is a tenth of the minute's quota, at least 3"
        );
        assert!(limit.admit(a).is_err());
        assert!(limit.admit(b).is_ok(), "another visitor has its own quota");
    }
}
