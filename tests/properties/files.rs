//! What a user hands over in files and options, and a server's name in its greeting: blocklist
//! zone files (`--dnsbl`, `analyze::dnsbl`), certificate chain and revocation list files
//! (`cert verify`, `run::verify`), resolver addresses (`--dns`, `probe::dns`), the name in an
//! SMTP greeting (`analyze::smtp`).
//!
//! - Zone files, chain files and resolver addresses written here are read back as written.
//! - Any text or bytes: read or refused with the line or block named, never a panic; a
//!   greeting's name is no longer than the greeting.

use std::net::{IpAddr, SocketAddr};

use mailtls::analyze::dnsbl::{CodeTable, MAX_ZONES, Zone, ZoneKind, parse_zone_file};
use mailtls::analyze::smtp::banner_name;
use mailtls::probe::dns::parse_server;
use mailtls::run::verify::{parse_chain, parse_crls};
use proptest::prelude::*;

fn zone() -> impl Strategy<Value = (Zone, bool, bool)> {
    (
        "[a-z0-9_]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){1,3}",
        prop_oneof![Just(ZoneKind::Ip), Just(ZoneKind::Domain)],
        proptest::option::of(prop_oneof![
            Just(CodeTable::Generic),
            Just(CodeTable::Spamhaus),
            Just(CodeTable::SpamhausDbl),
        ]),
        proptest::option::of("https?://[a-z.]{1,20}/[a-zA-Z0-9?=&%-]{0,20}"),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, kind, codes, delist_url, upper, dot)| {
            let zone = Zone {
                name,
                kind,
                codes: codes.unwrap_or(CodeTable::Generic),
                delist_url,
            };
            (zone, upper, dot)
        })
}

/// A zone's line: kind, name (upper-cased, with a trailing dot, at random), options in any
/// order, a comment.
fn zone_line(zone: &Zone, upper: bool, dot: bool, codes_written: bool) -> String {
    let mut name = if upper {
        zone.name.to_ascii_uppercase()
    } else {
        zone.name.clone()
    };
    if dot {
        name.push('.');
    }
    let kind = match zone.kind {
        ZoneKind::Ip => "ip",
        ZoneKind::Domain => "domain",
    };
    let mut options = Vec::new();
    if let Some(url) = &zone.delist_url {
        options.push(format!("delist={url}"));
    }
    if codes_written || zone.codes != CodeTable::Generic {
        let codes = match zone.codes {
            CodeTable::Generic => "generic",
            CodeTable::Spamhaus => "spamhaus",
            CodeTable::SpamhausDbl => "spamhaus-dbl",
        };
        options.push(format!("codes={codes}"));
    }
    if upper {
        options.reverse();
    }
    format!(
        "  {kind}\t{name} {}  # zone {}",
        options.join(" "),
        zone.name
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A zone file written with comments, blank lines, any case and trailing dots reads back.
    #[test]
    fn zone_files_read_back(zones in proptest::collection::vec((zone(), any::<bool>()), 1..12)) {
        let mut seen = std::collections::HashSet::new();
        let zones: Vec<_> = zones.into_iter().filter(|((z, _, _), _)| seen.insert(z.name.clone())).collect();
        let mut text = String::from("# blocklists\n\n");
        for ((zone, upper, dot), codes_written) in &zones {
            text.push_str(&zone_line(zone, *upper, *dot, *codes_written));
            text.push('\n');
        }
        let expected: Vec<Zone> = zones.iter().map(|((z, _, _), _)| z.clone()).collect();
        prop_assert_eq!(parse_zone_file(&text), Ok(expected));
        // The same zone twice is an error on the line of the second.
        let twice = format!("{text}{}\n", zone_line(&zones[0].0.0, false, false, false));
        let error = parse_zone_file(&twice).err();
        prop_assert_eq!(error.map(|e| e.line), Some(zones.len() + 3));
    }

    /// Any text as a zone file: zones or an error on a line the file has.
    #[test]
    fn any_zone_file_is_read(text in "((ip|domain|[ #a-z.=:/-]{0,12}|codes=|delist=https://|\\PC{0,6})[ \t\n]?){0,40}") {
        match crate::timed("a zone file", || parse_zone_file(&text)) {
            Ok(zones) => prop_assert!(!zones.is_empty() && zones.len() <= MAX_ZONES),
            Err(error) => prop_assert!(error.line <= text.lines().count(), "{error}"),
        }
    }

    /// Chain files: PEM blocks (LF or CRLF) or one DER certificate read back; any bytes, or a
    /// chain with bytes changed, are read or refused with the file named.
    #[test]
    fn chain_files_read_back(
        picks in proptest::collection::vec(0usize..3, 1..5),
        crlf in any::<bool>(),
        noise in proptest::collection::vec(any::<u8>(), 0..512),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let certificates = &*crate::aia::CERTIFICATES;
        let mut pem: String = picks.iter().map(|&p| certificates[p].1.clone()).collect();
        if crlf {
            pem = pem.replace('\n', "\r\n");
        }
        let expected: Vec<Vec<u8>> = picks.iter().map(|&p| certificates[p].0.clone()).collect();
        prop_assert_eq!(parse_chain(pem.as_bytes(), "chain.pem").map_err(|e| e.to_string()), Ok(expected));
        let der = &certificates[picks[0]].0;
        prop_assert_eq!(parse_chain(der, "leaf.der").map_err(|e| e.to_string()), Ok(vec![der.clone()]));
        let mut damaged = pem.into_bytes();
        for (at, byte) in edits {
            let at = at.index(damaged.len());
            damaged[at] = byte;
        }
        for bytes in [&damaged, &noise] {
            if let Err(error) = crate::timed("a chain file", || parse_chain(bytes, "chain.pem")) {
                prop_assert!(error.to_string().starts_with("chain.pem: "), "{error}");
            }
            if let Err(error) = crate::timed("a CRL file", || parse_crls(bytes, "crl.pem")) {
                prop_assert!(error.to_string().starts_with("crl.pem: "), "{error}");
            }
        }
    }

    /// `--dns`: an address, with or without a port, reads back; any text is read or refused.
    #[test]
    fn resolver_addresses_read_back(ip in any::<IpAddr>(), port in any::<u16>(), text in "[0-9a-fA-F:.\\[\\]%a-z]{0,30}") {
        prop_assert_eq!(parse_server(&ip.to_string()).ok(), Some(SocketAddr::new(ip, 53)));
        let with_port = SocketAddr::new(ip, port);
        prop_assert_eq!(parse_server(&with_port.to_string()).ok(), Some(with_port));
        if let Ok(read) = parse_server(&text) {
            prop_assert_eq!(parse_server(&read.to_string()).ok(), Some(read));
        }
    }

    /// A greeting's name: the name after 220, lower-cased, without its final dot; from any
    /// greeting, nothing longer than the greeting and no white space.
    #[test]
    fn greeting_names(
        name in "[A-Za-z0-9-]{1,10}(\\.[A-Za-z0-9-]{1,10}){1,3}\\.?",
        rest in "[ -~]{0,40}",
        any_greeting in "\\PC{0,80}",
    ) {
        let greeting = format!("220 {name} {rest}");
        prop_assert_eq!(banner_name(&greeting), Some(name.trim_end_matches('.').to_ascii_lowercase()));
        if let Some(found) = banner_name(&any_greeting) {
            prop_assert!(found.len() <= any_greeting.len());
            prop_assert!(!found.chars().any(char::is_whitespace));
        }
    }
}
