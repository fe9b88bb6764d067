//! Does a certificate cover the name the client used? RFC 6125 / RFC 9525 server identity.
//!
//! The rules, as current clients apply them:
//! - DNS names are compared against subjectAltName dNSName entries, case-insensitively, in A-label
//!   (ASCII) form; a trailing dot on the name asked for is ignored, one on a presented name matches
//!   nothing.
//! - A wildcard is accepted only as the complete left-most label (`*.example.com`), matches exactly
//!   one label, and needs at least two labels after it (`*.com` matches nothing). Partial
//!   wildcards (`f*.example.com`, `*mail.example.com`) match nothing (RFC 9525 section 6.3).
//! - IP literals are compared against iPAddress entries only, never against dNSName or CN.
//! - The subject common name is not used (RFC 9525 section 6.3; Apple, Chrome, Go, rustls). We
//!   still look at it to explain a certificate whose name is only there.

use std::net::IpAddr;

use super::cert::CertInfo;
use crate::target::Target;

/// How a certificate relates to the name a client used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameCheck {
    /// Covered by this subjectAltName entry (the entry as presented, e.g. `*.example.com`).
    Covered(String),
    /// Not in subjectAltName, but the subject CN matches: accepted only by clients with a CN
    /// fallback, rejected by Apple, Chrome/Android and most modern libraries.
    CommonNameOnly(String),
    /// Not covered at all.
    NotCovered,
    /// No name was given (`cert verify` without `--name`): only the path is judged.
    NotChecked,
}

/// Checks `target` against `cert`.
pub fn check(cert: &CertInfo, target: &Target) -> NameCheck {
    match target {
        Target::Ip(ip) => {
            if cert.san_ip.contains(ip) {
                NameCheck::Covered(ip.to_string())
            } else if cert.san_dns.is_empty()
                && cert.san_ip.is_empty()
                && cert
                    .common_names
                    .iter()
                    .any(|cn| cn.parse::<IpAddr>().ok() == Some(*ip))
            {
                NameCheck::CommonNameOnly(ip.to_string())
            } else {
                NameCheck::NotCovered
            }
        }
        Target::Dns(name) => {
            if let Some(pattern) = cert.san_dns.iter().find(|p| dns_matches(p, name)) {
                NameCheck::Covered(pattern.clone())
            } else if let Some(cn) = cert.common_names.iter().find(|cn| dns_matches(cn, name)) {
                NameCheck::CommonNameOnly(cn.clone())
            } else {
                NameCheck::NotCovered
            }
        }
    }
}

/// Whether a presented DNS identifier (possibly a wildcard) matches a reference name.
/// Both are expected in ASCII form; anything non-ASCII in the pattern matches nothing.
pub fn dns_matches(pattern: &str, reference: &str) -> bool {
    // A presented name never ends in a dot (RFC 5280 4.2.1.6: preferred name syntax); one that
    // does matches nothing in NSS or GnuTLS (measured: names/san-trailing-dot). The reference
    // name may: it is the same name as without the dot.
    if pattern.ends_with('.') {
        return false;
    }
    let reference = reference.strip_suffix('.').unwrap_or(reference);
    if !pattern.is_ascii() || !reference.is_ascii() || pattern.is_empty() || reference.is_empty() {
        return false;
    }
    if reference.parse::<IpAddr>().is_ok() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(parent) => {
            // The wildcard must cover one whole label, and the parent must have two or more
            // labels, so `*.com` or `*.` cover nothing.
            if parent.contains('*') || !parent.contains('.') || parent.split('.').any(str::is_empty)
            {
                return false;
            }
            match reference.split_once('.') {
                Some((first, rest)) => !first.is_empty() && rest.eq_ignore_ascii_case(parent),
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern.eq_ignore_ascii_case(reference),
    }
}

/// A wildcard over a public suffix: `*.co.uk`, `*.s3.amazonaws.com` (the Public Suffix List,
/// its ICANN and private sections, through the `psl` crate). CA/B BR 3.2.2.6 forbids issuing it
/// (it would cover every registrant under the suffix); the strict profile refuses to match it.
/// Single-label parents (`*.com`) already match nothing in [`dns_matches`].
pub fn public_suffix_wildcard(pattern: &str) -> Option<&str> {
    let parent = pattern.strip_prefix("*.")?;
    let parent = parent.strip_suffix('.').unwrap_or(parent);
    let lower = parent.to_ascii_lowercase();
    let suffix = psl::suffix(lower.as_bytes())?;
    (suffix.is_known() && suffix.as_bytes() == lower.as_bytes()).then_some(parent)
}

/// Whether an entry of `cert`'s subjectAltName other than a public-suffix wildcard covers the
/// DNS name `reference`.
pub fn covered_without_public_suffix_wildcard(cert: &CertInfo, reference: &str) -> bool {
    cert.san_dns
        .iter()
        .any(|p| dns_matches(p, reference) && public_suffix_wildcard(p).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(san_dns: &[&str], san_ip: &[&str], cn: &[&str]) -> CertInfo {
        let mut cert = crate::analyze::cert::test_cert("", "");
        cert.self_issued = false;
        cert.common_names = cn.iter().map(|s| s.to_string()).collect();
        cert.san_dns = san_dns.iter().map(|s| s.to_string()).collect();
        cert.san_ip = san_ip.iter().map(|s| s.parse().unwrap()).collect();
        cert.has_san = !san_dns.is_empty() || !san_ip.is_empty();
        cert
    }

    fn dns(name: &str) -> Target {
        Target::parse(name).unwrap()
    }

    #[test]
    fn exact_names_case_insensitive_trailing_dot() {
        assert!(dns_matches("mail.example.com", "mail.example.com"));
        assert!(dns_matches("MAIL.Example.com", "mail.example.COM"));
        assert!(!dns_matches("mail.example.com.", "mail.example.com"));
        assert!(dns_matches("mail.example.com", "mail.example.com."));
        assert!(!dns_matches("mail.example.com", "example.com"));
        assert!(!dns_matches("example.com", "mail.example.com"));
    }

    #[test]
    fn rfc6125_wildcard_examples() {
        // RFC 6125 6.4.3: *.example.com matches foo.example.com but not bar.foo.example.com
        // nor example.com.
        assert!(dns_matches("*.example.com", "foo.example.com"));
        assert!(!dns_matches("*.example.com", "bar.foo.example.com"));
        assert!(!dns_matches("*.example.com", "example.com"));
        // Partial-label wildcards (allowed as an option by RFC 6125, forbidden by RFC 9525).
        assert!(!dns_matches("baz*.example.net", "baz1.example.net"));
        assert!(!dns_matches("*baz.example.net", "foobaz.example.net"));
        assert!(!dns_matches("b*z.example.net", "buzz.example.net"));
        // Not in the left-most label, or more than one.
        assert!(!dns_matches("mail.*.example.com", "mail.x.example.com"));
        assert!(!dns_matches("*.*.example.com", "a.b.example.com"));
        // Too broad.
        assert!(!dns_matches("*.com", "example.com"));
        assert!(!dns_matches("*", "localhost"));
        assert!(!dns_matches("*.", "com"));
    }

    #[test]
    fn idna_names_match_in_a_label_form() {
        let target = dns("mail.bücher.example");
        assert_eq!(target, Target::Dns("mail.xn--bcher-kva.example".into()));
        let c = cert(&["mail.xn--bcher-kva.example"], &[], &[]);
        assert_eq!(
            check(&c, &target),
            NameCheck::Covered("mail.xn--bcher-kva.example".into())
        );
        let wild = cert(&["*.xn--bcher-kva.example"], &[], &[]);
        assert!(matches!(check(&wild, &target), NameCheck::Covered(_)));
        // A U-label in a certificate is malformed and matches nothing.
        assert!(!dns_matches(
            "mail.bücher.example",
            "mail.xn--bcher-kva.example"
        ));
    }

    #[test]
    fn ip_literals_use_ip_san_only() {
        let c = cert(&["127.0.0.10"], &["192.0.2.1", "2001:db8::1"], &[]);
        assert_eq!(
            check(&c, &dns("192.0.2.1")),
            NameCheck::Covered("192.0.2.1".into())
        );
        assert_eq!(
            check(&c, &dns("[2001:db8::1]")),
            NameCheck::Covered("2001:db8::1".into())
        );
        assert_eq!(
            check(&c, &dns("2001:db8:0:0::1")),
            NameCheck::Covered("2001:db8::1".into())
        );
        assert_eq!(check(&c, &dns("127.0.0.10")), NameCheck::NotCovered);
        assert!(!dns_matches("*.0.0.10", "127.0.0.10"));
    }

    #[test]
    fn wildcards_over_public_suffixes_are_found_with_the_list() {
        assert_eq!(public_suffix_wildcard("*.co.uk"), Some("co.uk"));
        assert_eq!(public_suffix_wildcard("*.CO.UK."), Some("CO.UK"));
        assert_eq!(
            public_suffix_wildcard("*.s3.amazonaws.com"),
            Some("s3.amazonaws.com")
        );
        assert_eq!(public_suffix_wildcard("*.com"), Some("com"));
        assert_eq!(public_suffix_wildcard("*.example.co.uk"), None);
        assert_eq!(public_suffix_wildcard("*.example.com"), None);
        assert_eq!(public_suffix_wildcard("co.uk"), None);
        // An unknown top-level domain is not on the list.
        assert_eq!(public_suffix_wildcard("*.corp.internal"), None);
        let c = cert(&["*.co.uk", "example.co.uk"], &[], &[]);
        assert!(covered_without_public_suffix_wildcard(&c, "example.co.uk"));
        assert!(!covered_without_public_suffix_wildcard(&c, "other.co.uk"));
    }

    #[test]
    fn common_name_is_only_an_explanation() {
        let cn_only = cert(&[], &[], &["mail.example.com"]);
        assert_eq!(
            check(&cn_only, &dns("mail.example.com")),
            NameCheck::CommonNameOnly("mail.example.com".into())
        );
        let with_san = cert(&["other.example.com"], &[], &["mail.example.com"]);
        assert_eq!(
            check(&with_san, &dns("mail.example.com")),
            NameCheck::CommonNameOnly("mail.example.com".into())
        );
        let none = cert(&["luna.hostingco.com"], &[], &["luna.hostingco.com"]);
        assert_eq!(
            check(&none, &dns("mail.customer.com")),
            NameCheck::NotCovered
        );
    }
}
