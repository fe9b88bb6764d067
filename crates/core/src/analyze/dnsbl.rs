//! DNS blocklists: which zones to ask, how to ask them, and what their answers mean.
//!
//! A DNSBL is a DNS zone. To ask whether 192.0.2.1 is listed in `zen.spamhaus.org`, look up the
//! A record of `1.2.0.192.zen.spamhaus.org` (IPv6: the 32 nibbles reversed, RFC 5782 section
//! 2.4); a domain list is asked with `NAME.ZONE`. No such name means not listed; an answer in
//! 127.0.0.0/8 means listed, and its last octets say why. Some answers are not listings at
//! all: Spamhaus answers 127.255.255.254 to queries that come through a public resolver, and
//! such an answer must never be read as "listed".

use std::net::{IpAddr, Ipv4Addr};

pub use crate::observation::DnsblAnswer as Answer;
pub use crate::observation::{CodeTable, Zone, ZoneKind};

fn zone(name: &str, kind: ZoneKind, codes: CodeTable, delist_url: &str) -> Zone {
    Zone {
        name: name.to_string(),
        kind,
        codes,
        delist_url: Some(delist_url.to_string()),
    }
}

/// The zones asked when no `--dnsbl` file is given. Sources for the codes and removal pages
/// are in docs/reputation.md.
pub fn default_zones() -> Vec<Zone> {
    use CodeTable::{Generic, Spamhaus, SpamhausDbl};
    use ZoneKind::{Domain, Ip};
    vec![
        zone(
            "zen.spamhaus.org",
            Ip,
            Spamhaus,
            "https://check.spamhaus.org/",
        ),
        zone(
            "ips.backscatterer.org",
            Ip,
            Generic,
            "https://www.backscatterer.org/?target=test",
        ),
        zone(
            "bl.spamcop.net",
            Ip,
            Generic,
            "https://www.spamcop.net/bl.shtml",
        ),
        zone(
            "b.barracudacentral.org",
            Ip,
            Generic,
            "https://www.barracudacentral.org/rbl/removal-request",
        ),
        zone("psbl.surriel.com", Ip, Generic, "https://psbl.org/remove"),
        zone(
            "dbl.spamhaus.org",
            Domain,
            SpamhausDbl,
            "https://check.spamhaus.org/",
        ),
    ]
}

/// A line of a `--dnsbl` file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ZoneFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Most zones a file may name: every zone costs one query per address.
pub const MAX_ZONES: usize = 64;

/// Parses a `--dnsbl` file: one zone per line, `ip ZONE` or `domain ZONE`, then optionally
/// `codes=spamhaus|spamhaus-dbl|generic` and `delist=URL`. `#` starts a comment.
pub fn parse_zone_file(text: &str) -> Result<Vec<Zone>, ZoneFileError> {
    let mut zones: Vec<Zone> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| ZoneFileError {
            line: index + 1,
            reason,
        };
        let mut words = line.split_whitespace();
        let kind = match words.next() {
            Some("ip") => ZoneKind::Ip,
            Some("domain") => ZoneKind::Domain,
            Some(other) => return Err(bad(format!("'{other}' is not 'ip' or 'domain'"))),
            None => continue,
        };
        let name = words
            .next()
            .ok_or_else(|| bad("a zone name is missing".to_string()))?
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !valid_zone_name(&name) {
            return Err(bad(format!("'{name}' is not a DNS zone name")));
        }
        let mut zone = Zone {
            name,
            kind,
            codes: CodeTable::Generic,
            delist_url: None,
        };
        for option in words {
            match option.split_once('=') {
                Some(("codes", "spamhaus")) => zone.codes = CodeTable::Spamhaus,
                Some(("codes", "spamhaus-dbl")) => zone.codes = CodeTable::SpamhausDbl,
                Some(("codes", "generic")) => zone.codes = CodeTable::Generic,
                Some(("delist", url))
                    if url.starts_with("https://") || url.starts_with("http://") =>
                {
                    zone.delist_url = Some(url.to_string());
                }
                _ => {
                    return Err(bad(format!(
                        "'{option}' is not codes=spamhaus|spamhaus-dbl|generic or delist=URL"
                    )));
                }
            }
        }
        if zones.iter().any(|z| z.name == zone.name) {
            return Err(bad(format!("{} is listed twice", zone.name)));
        }
        if zones.len() == MAX_ZONES {
            return Err(bad(format!("more than {MAX_ZONES} zones")));
        }
        zones.push(zone);
    }
    if zones.is_empty() {
        return Err(ZoneFileError {
            line: 0,
            reason: "no zone in the file".to_string(),
        });
    }
    Ok(zones)
}

fn valid_zone_name(name: &str) -> bool {
    name.len() <= 200
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The name to look up for `address` in an IP zone (RFC 5782 section 2.1 and 2.4).
pub fn ip_query(address: IpAddr, zone: &str) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.{zone}")
        }
        IpAddr::V6(v6) => {
            let mut labels = String::with_capacity(64 + zone.len());
            for byte in v6.octets().iter().rev() {
                labels.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            labels.push_str(zone);
            labels
        }
    }
}

/// The name to look up for `name` in a domain zone.
pub fn domain_query(name: &str, zone: &str) -> String {
    format!("{}.{zone}", name.trim_end_matches('.').to_ascii_lowercase())
}

crate::vocabulary::vocabulary! {
    /// Whether a zone names the address or name.
    pub enum ListingStatus {
        /// Listed.
        Listed => "listed",
        /// Not listed.
        NotListed => "not-listed",
        /// The list refused to answer this resolver (public resolver, rate limit, unregistered).
        Refused => "refused",
        /// No usable answer: timeout, failure, or an answer that is not a listing code.
        Unknown => "unknown",
    }
}

/// An answer, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Listed or not, or why we cannot say.
    pub status: ListingStatus,
    /// The answer in words, e.g. "SBL: a direct spam source".
    pub meaning: String,
}

/// Reads an answer from `zone`.
pub fn read(zone: &Zone, answer: &Answer) -> Reading {
    let reading = |status, meaning: String| Reading { status, meaning };
    match answer {
        Answer::NotListed => reading(ListingStatus::NotListed, "not listed".to_string()),
        Answer::Timeout => reading(
            ListingStatus::Unknown,
            "no answer in time: could not check".to_string(),
        ),
        Answer::Failed { reason } => reading(
            ListingStatus::Unknown,
            format!("the lookup failed ({reason}): could not check"),
        ),
        Answer::Records { codes, text } => {
            if codes.is_empty() {
                return reading(ListingStatus::NotListed, "not listed".to_string());
            }
            // An error code anywhere means the rest cannot be trusted either.
            if let Some(refusal) = codes.iter().find_map(|code| refusal(zone, *code)) {
                return reading(ListingStatus::Refused, refusal);
            }
            let mut meanings: Vec<String> = Vec::new();
            for code in codes {
                match listing(zone, *code) {
                    Some(meaning) => meanings.push(meaning),
                    None => {
                        return reading(
                            ListingStatus::Unknown,
                            format!(
                                "answered {code}, which is not a listing code (a resolver that \
                                 rewrites answers?): could not check"
                            ),
                        );
                    }
                }
            }
            meanings.dedup();
            let mut meaning = meanings.join("; ");
            if let Some(reason) = text.first() {
                meaning.push_str(&format!(" (\"{}\")", excerpt(reason)));
            }
            reading(ListingStatus::Listed, meaning)
        }
    }
}

/// An answer that says "I will not answer you", in words; `None` for a real answer.
fn refusal(zone: &Zone, code: Ipv4Addr) -> Option<String> {
    let [a, b, c, d] = code.octets();
    if a != 127 {
        return None;
    }
    match (b, c, d, zone.codes) {
        (255, 255, 252, _) => Some("the list says the zone name is mistyped".to_string()),
        (255, 255, 254, _) => Some(
            "the list refuses queries from this resolver (a public or shared resolver): \
             could not check; ask through your own resolver"
                .to_string(),
        ),
        (255, 255, 255, _) => Some(
            "the list refuses this resolver for too many queries: could not check; \
             ask through your own resolver"
                .to_string(),
        ),
        (255, 255, _, _) => Some(format!("error code {code} from the list: could not check")),
        (0, 1, 255, CodeTable::SpamhausDbl) => {
            Some("the domain list was asked about an IP address".to_string())
        }
        // 127.0.0.1 is what a list answers for everything when it has shut down.
        (0, 0, 1, _) => Some(
            "the list answers 127.0.0.1, which means it lists everything or has shut down: \
             could not check"
                .to_string(),
        ),
        _ => None,
    }
}

/// A listing code in words; `None` when the code is not one this zone uses for listings.
fn listing(zone: &Zone, code: Ipv4Addr) -> Option<String> {
    let [a, b, c, d] = code.octets();
    if a != 127 {
        return None;
    }
    let words = match (zone.codes, b, c, d) {
        (CodeTable::Spamhaus, 0, 0, 2) => "SBL: a direct spam source or spam operation",
        (CodeTable::Spamhaus, 0, 0, 3) => "SBL CSS: sending low-reputation (snowshoe) mail",
        (CodeTable::Spamhaus, 0, 0, 4..=7) => "XBL: a machine infected or exploited by malware",
        (CodeTable::Spamhaus, 0, 0, 9) => "SBL DROP: a hijacked or criminal network",
        (CodeTable::Spamhaus, 0, 0, 10) => {
            "PBL (by the ISP): the address should not send mail directly; relay through the \
             provider's server or have the ISP remove the range"
        }
        (CodeTable::Spamhaus, 0, 0, 11) => {
            "PBL (by Spamhaus): a range that should not send mail directly, e.g. dynamic IPs"
        }
        (CodeTable::Spamhaus, 0, 0, 20) => "AuthBL: compromised mail accounts log in from here",
        (CodeTable::Spamhaus, 0, 0, 30) => "BCL: a botnet controller",
        (CodeTable::SpamhausDbl, 0, 1, 2) => "DBL: a low-reputation domain",
        (CodeTable::SpamhausDbl, 0, 1, 4) => "DBL: a phishing domain",
        (CodeTable::SpamhausDbl, 0, 1, 5) => "DBL: a malware domain",
        (CodeTable::SpamhausDbl, 0, 1, 6) => "DBL: a botnet command-and-control domain",
        (CodeTable::SpamhausDbl, 0, 1, 102..=106) => "DBL: a legitimate domain that was abused",
        (CodeTable::Generic, _, _, _) if (b, c) == (0, 0) && d >= 2 => "listed",
        _ => return None,
    };
    Some(words.to_string())
}

/// At most 200 characters of a TXT reason, control characters removed.
fn excerpt(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(codes: CodeTable) -> Zone {
        Zone {
            name: "zen.example".to_string(),
            kind: ZoneKind::Ip,
            codes,
            delist_url: None,
        }
    }

    fn records(codes: &[&str]) -> Answer {
        Answer::Records {
            codes: codes.iter().map(|c| c.parse().unwrap()).collect(),
            text: Vec::new(),
        }
    }

    #[test]
    fn query_names_follow_rfc_5782() {
        assert_eq!(
            ip_query("192.0.2.99".parse().unwrap(), "bl.example"),
            "99.2.0.192.bl.example"
        );
        // RFC 5782 section 2.4's own example.
        assert_eq!(
            ip_query(
                "2001:db8:1:2:3:4:567:89ab".parse().unwrap(),
                "ugly.example.com"
            ),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com"
        );
        assert_eq!(
            domain_query("Mail.Example.COM.", "dbl.example"),
            "mail.example.com.dbl.example"
        );
    }

    #[test]
    fn spamhaus_codes_are_read_by_meaning() {
        let zen = zone(CodeTable::Spamhaus);
        let r = read(&zen, &records(&["127.0.0.4"]));
        assert_eq!(r.status, ListingStatus::Listed);
        assert!(r.meaning.starts_with("XBL"), "{}", r.meaning);
        let r = read(&zen, &records(&["127.0.0.2", "127.0.0.10"]));
        assert_eq!(r.status, ListingStatus::Listed);
        assert!(r.meaning.contains("SBL") && r.meaning.contains("PBL (by the ISP)"));
        let dbl = zone(CodeTable::SpamhausDbl);
        assert!(
            read(&dbl, &records(&["127.0.1.4"]))
                .meaning
                .contains("phishing")
        );
    }

    #[test]
    fn refusals_are_never_listings() {
        for code in [
            "127.255.255.254",
            "127.255.255.255",
            "127.255.255.252",
            "127.0.0.1",
        ] {
            for table in [CodeTable::Spamhaus, CodeTable::Generic] {
                let r = read(&zone(table), &records(&[code]));
                assert_eq!(r.status, ListingStatus::Refused, "{code} {table:?}");
            }
        }
        // One refusal among listing codes spoils the whole answer.
        let r = read(
            &zone(CodeTable::Spamhaus),
            &records(&["127.0.0.2", "127.255.255.254"]),
        );
        assert_eq!(r.status, ListingStatus::Refused);
        assert!(r.meaning.contains("public or shared resolver"));
        let r = read(&zone(CodeTable::SpamhausDbl), &records(&["127.0.1.255"]));
        assert_eq!(r.status, ListingStatus::Refused);
    }

    #[test]
    fn odd_answers_and_failures_are_unknown() {
        let generic = zone(CodeTable::Generic);
        // A resolver that answers every name with an ad server's address.
        assert_eq!(
            read(&generic, &records(&["198.51.100.7"])).status,
            ListingStatus::Unknown
        );
        assert_eq!(
            read(&generic, &Answer::Timeout).status,
            ListingStatus::Unknown
        );
        let failed = Answer::Failed {
            reason: "SERVFAIL".to_string(),
        };
        assert_eq!(read(&generic, &failed).status, ListingStatus::Unknown);
        assert_eq!(
            read(&generic, &Answer::NotListed).status,
            ListingStatus::NotListed
        );
        assert_eq!(
            read(&generic, &records(&["127.0.0.2"])).status,
            ListingStatus::Listed
        );
        // Spamhaus does not use 127.0.0.8: not a listing we can name.
        assert_eq!(
            read(&zone(CodeTable::Spamhaus), &records(&["127.0.0.8"])).status,
            ListingStatus::Unknown
        );
    }

    #[test]
    fn txt_reasons_are_quoted_and_cleaned() {
        let answer = Answer::Records {
            codes: vec!["127.0.0.2".parse().unwrap()],
            text: vec!["Listed\u{7}\nsee https://example.test/".to_string()],
        };
        let r = read(&zone(CodeTable::Generic), &answer);
        assert_eq!(r.meaning, "listed (\"Listedsee https://example.test/\")");
    }

    #[test]
    fn zone_files() {
        let zones = parse_zone_file(
            "# test lists\nip zen.bl.test codes=spamhaus delist=https://example.test/\n\n\
             domain dbl.bl.test codes=spamhaus-dbl\nip plain.bl.test # generic\n",
        )
        .unwrap();
        assert_eq!(zones.len(), 3);
        assert_eq!(zones[0].codes, CodeTable::Spamhaus);
        assert_eq!(
            zones[0].delist_url.as_deref(),
            Some("https://example.test/")
        );
        assert_eq!(zones[1].kind, ZoneKind::Domain);
        assert_eq!(zones[2].codes, CodeTable::Generic);
        for (text, line) in [
            ("ipv4 zen.bl.test", 1),
            ("ip", 1),
            ("ip not_a zone", 1),
            ("ip bl.test\nip bl.test", 2),
            ("ip bl.test codes=weird", 1),
            ("ip bl.test delist=ftp://x", 1),
            ("# nothing\n", 0),
        ] {
            let error = parse_zone_file(text).unwrap_err();
            assert_eq!(error.line, line, "{text}: {error}");
        }
    }
}
