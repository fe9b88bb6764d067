//! What the user asked us to check, parsed once at the edge.
//!
//! A target is a DNS name (stored in its ASCII/A-label form, lower case, no trailing dot) or an
//! IP literal. Everything downstream works on this type, never on the raw string.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A host to check: the name or address a mail client was configured with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Target {
    /// A DNS name in A-label form, e.g. `mail.example.com` or `xn--bcher-kva.example`.
    Dns(String),
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
}

/// Why a string is not a host we can check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// Nothing was given.
    #[error("empty host name")]
    Empty,
    /// The string is neither an IP literal nor a valid DNS name.
    #[error("'{input}' is not a valid host name: {reason}")]
    Invalid {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Longest DNS name in text form (RFC 1035: 255 octets on the wire, 253 as text).
const MAX_NAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

impl Target {
    /// Parses a host as a user types it: `mail.example.com`, `Mail.Example.COM.`, `bücher.example`,
    /// `192.0.2.1`, `2001:db8::1` or `[2001:db8::1]`.
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(TargetError::Empty);
        }
        let unbracketed = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(trimmed);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Target::Ip(ip));
        }
        let invalid = |reason| TargetError::Invalid {
            input: trimmed.to_string(),
            reason,
        };
        if trimmed.contains('@') {
            return Err(invalid("looks like an email address; give the server name"));
        }
        if trimmed.contains(['/', ':', ' ']) {
            return Err(invalid(
                "give a bare host name, without scheme, port or path",
            ));
        }
        let without_dot = trimmed.strip_suffix('.').unwrap_or(trimmed);
        // UTS #46 processing maps U-labels (bücher) to A-labels (xn--bcher-kva) and lower-cases.
        // Not its strict (STD3) mode, which refuses underscores: they occur in real certificates
        // and host names (`_dmarc`, `mail_relay`), so the labels are checked below instead.
        let ascii = idna::domain_to_ascii(without_dot)
            .map_err(|_| invalid("not a valid internationalised domain name"))?;
        if ascii.is_empty() || ascii.len() > MAX_NAME_LEN {
            return Err(invalid("name is empty or longer than 253 characters"));
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(invalid("empty label (two dots in a row)"));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(invalid("a label is longer than 63 characters"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid("a label starts or ends with '-'"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid("only letters, digits, '-' and '_' are allowed"));
            }
        }
        if ascii.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(invalid("all-numeric name that is not an IP address"));
        }
        Ok(Target::Dns(ascii))
    }

    /// The DNS name, if this target is one.
    pub fn dns_name(&self) -> Option<&str> {
        match self {
            Target::Dns(name) => Some(name),
            Target::Ip(_) => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Dns(name) => f.write_str(name),
            Target::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// An e-mail address: where discovery starts, and what fills `%EMAILDOMAIN%` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Address {
    /// The part before the @ (`user` when only a domain was given).
    pub local: String,
    /// The domain, in A-label form.
    pub domain: String,
}

/// Longest local part (RFC 5321 section 4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;

impl Address {
    /// Parses `user@domain`: exactly one `@`, a local part of printable characters without
    /// spaces, a valid DNS name after it.
    pub fn parse(input: &str) -> Result<Address, TargetError> {
        let trimmed = input.trim();
        let invalid = |reason| TargetError::Invalid {
            input: trimmed.to_string(),
            reason,
        };
        let Some((local, domain)) = trimmed.split_once('@') else {
            return Err(invalid("an e-mail address needs an @"));
        };
        if domain.contains('@') {
            return Err(invalid("an e-mail address has exactly one @"));
        }
        if local.is_empty() {
            return Err(invalid("nothing before the @"));
        }
        if domain.is_empty() {
            return Err(invalid("no domain after the @"));
        }
        if local.len() > MAX_LOCAL_LEN {
            return Err(invalid(
                "the part before the @ is longer than 64 characters",
            ));
        }
        if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                "the part before the @ contains spaces or control characters",
            ));
        }
        match Target::parse(domain) {
            Ok(Target::Dns(domain)) => Ok(Address {
                local: local.to_string(),
                domain,
            }),
            Ok(Target::Ip(_)) => Err(invalid("a mail domain is a name, not an IP address")),
            Err(TargetError::Invalid { reason, .. }) => Err(invalid(reason)),
            Err(TargetError::Empty) => Err(invalid("no domain after the @")),
        }
    }

    /// The address discovery uses for a bare mail domain: `user@domain`.
    pub fn for_domain(domain: &str) -> Address {
        Address {
            local: "user".to_string(),
            domain: domain.to_string(),
        }
    }

    /// `local@domain`.
    pub fn email(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }

    /// Fills the placeholders clients fill (`%EMAILADDRESS%`, `%EMAILLOCALPART%`,
    /// `%EMAILDOMAIN%`).
    pub fn fill(&self, text: &str) -> String {
        text.replace("%EMAILADDRESS%", &self.email())
            .replace("%EMAILLOCALPART%", &self.local)
            .replace("%EMAILDOMAIN%", &self.domain)
    }
}

/// What a user asks about: a host (name or address), or an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A server name or IP address; a name may turn out to be a mail domain.
    Host(Target),
    /// An e-mail address: check the servers its domain sends clients to.
    Address(Address),
}

impl Subject {
    /// Parses what the user typed: anything with an `@` must be an address.
    pub fn parse(input: &str) -> Result<Subject, TargetError> {
        if input.contains('@') {
            Address::parse(input).map(Subject::Address)
        } else {
            Target::parse(input).map(Subject::Host)
        }
    }

    /// The mail domain meant: an address's domain, or a host name taken as a domain.
    pub fn mail_domain(&self) -> Result<Address, TargetError> {
        match self {
            Subject::Address(address) => Ok(address.clone()),
            Subject::Host(Target::Dns(name)) => Ok(Address::for_domain(name)),
            Subject::Host(Target::Ip(ip)) => Err(TargetError::Invalid {
                input: ip.to_string(),
                reason: "a mail domain is a name, not an IP address",
            }),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Host(target) => target.fmt(f),
            Subject::Address(address) => f.write_str(&address.email()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_normalised() {
        assert_eq!(
            Target::parse(" Mail.Example.COM. "),
            Ok(Target::Dns("mail.example.com".into()))
        );
        assert_eq!(
            Target::parse("bücher.example"),
            Ok(Target::Dns("xn--bcher-kva.example".into()))
        );
    }

    #[test]
    fn underscores_are_accepted_as_in_real_host_names() {
        assert_eq!(
            Target::parse("Foo_Bar.example.com"),
            Ok(Target::Dns("foo_bar.example.com".into()))
        );
        assert_eq!(
            Target::parse("_dmarc.bücher.example"),
            Ok(Target::Dns("_dmarc.xn--bcher-kva.example".into()))
        );
    }

    #[test]
    fn ip_literals_are_recognised() {
        assert_eq!(
            Target::parse("192.0.2.7"),
            Ok(Target::Ip("192.0.2.7".parse().unwrap()))
        );
        assert_eq!(
            Target::parse("[2001:db8::1]"),
            Ok(Target::Ip("2001:db8::1".parse().unwrap()))
        );
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        for bad in [
            "",
            "a..b",
            "-a.example",
            "user@example.com",
            "imaps://mail.example.com",
            "mail.example.com:993",
            "has space.example",
            "1.2.3",
            &"a".repeat(64),
            &format!("{}.example", "a.".repeat(130)),
            "exa$mple.com",
            "exa*mple.com",
            "*.example.com",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn addresses_need_one_at_a_local_part_and_a_domain() {
        let a = Address::parse("Jane@Example.COM").unwrap();
        assert_eq!(
            (a.local.as_str(), a.domain.as_str()),
            ("Jane", "example.com")
        );
        assert_eq!(
            Address::for_domain("example.com").email(),
            "user@example.com"
        );
        for bad in [
            "a@b@c",
            "@example.com",
            "user@",
            "jane@192.0.2.1",
            "ja ne@example.com",
            "@",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?} should be rejected");
            assert!(Subject::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            Subject::parse("mail.example.com").unwrap(),
            Subject::Host(Target::Dns("mail.example.com".into()))
        );
        assert!(matches!(
            Subject::parse("u@example.com"),
            Ok(Subject::Address(_))
        ));
    }
}
