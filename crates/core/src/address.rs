//! What counts as inside: the special-purpose address ranges (RFC 6890 and the IANA
//! special-purpose registries) a server on the internet must never be made to connect to for a
//! visitor: loopback, private, link-local, CGNAT, multicast and reserved, IPv4 and IPv6.
//!
//! [`special`] is the one definition; every decision about where a connection may go asks it:
//! - the probes refuse to connect there (`ProbeSettings::refuse_special`) and the resolver drops
//!   such addresses from its answers (`Dns::refusing_special`), both set by
//!   `EngineOptions::refuse_special` (`mailtls serve` without `--allow-private`);
//! - the HTTP(S) fetcher (provisioning documents, the ISP database, AIA issuers, autodiscover
//!   redirects) judges every hop's address, a literal in a URL or a redirect included, before it
//!   connects: refused when the engine refuses special addresses, or when the fetch's policy does
//!   not allow inside addresses (the command line fetches from inside only when the checked
//!   server lives inside too, as decided by this same function);
//! - `serve` refuses a visitor's target there before anything else.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

crate::vocabulary::vocabulary! {
    /// A special-purpose range.
    pub enum Range {
        /// 127.0.0.0/8, ::1.
        Loopback => "loopback",
        /// RFC 1918 (10/8, 172.16/12, 192.168/16).
        Private => "private",
        /// RFC 4193 unique local addresses (fc00::/7).
        UniqueLocal => "unique-local",
        /// 169.254.0.0/16, fe80::/10.
        LinkLocal => "link-local",
        /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
        Cgnat => "cgnat",
        /// 224.0.0.0/4, ff00::/8.
        Multicast => "multicast",
        /// 0.0.0.0/8, ::.
        Unspecified => "unspecified",
        /// 255.255.255.255.
        Broadcast => "broadcast",
        /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32.
        Documentation => "documentation",
        /// 198.18.0.0/15 (RFC 2544).
        Benchmarking => "benchmarking",
        /// 240.0.0.0/4, 192.0.0.0/24, 100::/64 and the other IETF-reserved blocks.
        Reserved => "reserved",
    }
}

impl Range {
    /// In words, for a refusal: "a private address".
    pub fn describe(self) -> &'static str {
        match self {
            Range::Loopback => "a loopback address",
            Range::Private => "a private address",
            Range::UniqueLocal => "a private (unique local) address",
            Range::LinkLocal => "a link-local address",
            Range::Cgnat => "a carrier-grade NAT address",
            Range::Multicast => "a multicast address",
            Range::Unspecified => "the unspecified address",
            Range::Broadcast => "the broadcast address",
            Range::Documentation => "a documentation address",
            Range::Benchmarking => "a benchmarking address",
            Range::Reserved => "a reserved address",
        }
    }
}

/// The special-purpose range `ip` is in, `None` for an ordinary public address.
///
/// IPv6 addresses that carry an IPv4 address are judged by it, as the packets reach it:
/// - IPv4-mapped (`::ffff:a.b.c.d`): a socket connects to the IPv4 address itself;
/// - NAT64 with the well-known prefix (`64:ff9b::a.b.c.d`, RFC 6052): the translator connects to
///   the IPv4 address. RFC 6052 section 3.1 forbids the prefix for non-global IPv4 addresses, so
///   one embedding an inside address is never legitimate and is that address's range; one
///   embedding a public address is public. The rest of 64:ff9b::/32, the local-use prefix
///   64:ff9b:1::/48 (RFC 8215) included, is reserved: its translators belong to a local network;
/// - 6to4 (`2002:AABB:CCDD::/48`, RFC 3056): the relay tunnels to `AA.BB.CC.DD`;
/// - IPv4-compatible (`::a.b.c.d`, deprecated by RFC 4291): the range of the IPv4 address inside,
///   or reserved when that is public (no host has such an address any more).
pub fn special(ip: IpAddr) -> Option<Range> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<Range> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_broadcast() => Range::Broadcast,
        (0, ..) => Range::Unspecified,
        (127, ..) => Range::Loopback,
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => Range::Private,
        (169, 254, _) => Range::LinkLocal,
        (100, 64..=127, _) => Range::Cgnat,
        (224..=239, ..) => Range::Multicast,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Range::Documentation,
        (198, 18..=19, _) => Range::Benchmarking,
        (240..=255, ..) | (192, 0, 0) | (192, 88, 99) => Range::Reserved,
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<Range> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4);
    }
    // IPv4-compatible (deprecated) and NAT64: the IPv4 address in the last 32 bits.
    let embedded = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    Some(match s {
        _ if ip.is_unspecified() => Range::Unspecified,
        _ if ip.is_loopback() => Range::Loopback,
        [0, 0, 0, 0, 0, 0, ..] => return special_v4(embedded).or(Some(Range::Reserved)),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => return special_v4(embedded),
        [0x2002, hi, lo, ..] => {
            return special_v4(Ipv4Addr::new(
                (hi >> 8) as u8,
                (hi & 0xff) as u8,
                (lo >> 8) as u8,
                (lo & 0xff) as u8,
            ));
        }
        [first, ..] if first & 0xfe00 == 0xfc00 => Range::UniqueLocal,
        [first, ..] if first & 0xffc0 == 0xfe80 => Range::LinkLocal,
        [first, ..] if first & 0xff00 == 0xff00 => Range::Multicast,
        [0x2001, 0xdb8, ..] => Range::Documentation,
        [0x100, 0, 0, 0, ..] | [0x2001, 0..=0x1ff, ..] => Range::Reserved,
        // Outside 2000::/3 nothing is allocated for unicast on the internet.
        [first, ..] if first & 0xe000 != 0x2000 => Range::Reserved,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> Option<Range> {
        special(text.parse().expect("an address"))
    }

    #[test]
    fn every_range_ipv4_and_ipv6() {
        for (address, expected) in [
            ("127.0.0.1", Range::Loopback),
            ("10.1.2.3", Range::Private),
            ("172.31.255.255", Range::Private),
            ("192.168.0.1", Range::Private),
            ("169.254.169.254", Range::LinkLocal),
            ("100.64.0.1", Range::Cgnat),
            ("100.127.255.254", Range::Cgnat),
            ("224.0.0.251", Range::Multicast),
            ("0.0.0.0", Range::Unspecified),
            ("255.255.255.255", Range::Broadcast),
            ("240.0.0.1", Range::Reserved),
            ("192.0.0.8", Range::Reserved),
            ("192.0.2.1", Range::Documentation),
            ("198.18.0.1", Range::Benchmarking),
            ("::1", Range::Loopback),
            ("::", Range::Unspecified),
            ("fd00::1", Range::UniqueLocal),
            ("fe80::1", Range::LinkLocal),
            ("ff02::1", Range::Multicast),
            ("2001:db8::1", Range::Documentation),
            ("::ffff:10.0.0.1", Range::Private),
            ("::ffff:127.0.0.1", Range::Loopback),
            ("64:ff9b::a9fe:a9fe", Range::LinkLocal),
            ("2002:c0a8:0101::1", Range::Private),
            ("::127.0.0.1", Range::Loopback),
            ("100::1", Range::Reserved),
            ("4000::1", Range::Reserved),
        ] {
            assert_eq!(range(address), Some(expected), "{address}");
        }
    }

    /// Every range issue 22 lists, at both ends where it has ends, and the embedding forms.
    #[test]
    fn every_listed_range_at_its_edges() {
        for (address, expected) in [
            ("0.0.0.0", Range::Unspecified),
            ("0.255.255.255", Range::Unspecified),
            ("127.0.0.0", Range::Loopback),
            ("127.255.255.254", Range::Loopback),
            ("10.0.0.0", Range::Private),
            ("10.255.255.255", Range::Private),
            ("172.16.0.0", Range::Private),
            ("172.31.255.255", Range::Private),
            ("192.168.0.0", Range::Private),
            ("192.168.255.255", Range::Private),
            ("100.64.0.0", Range::Cgnat),
            ("100.127.255.255", Range::Cgnat),
            ("169.254.0.0", Range::LinkLocal),
            ("169.254.255.255", Range::LinkLocal),
            ("224.0.0.0", Range::Multicast),
            ("239.255.255.255", Range::Multicast),
            ("240.0.0.0", Range::Reserved),
            ("255.255.255.254", Range::Reserved),
            ("::", Range::Unspecified),
            ("::1", Range::Loopback),
            ("fc00::", Range::UniqueLocal),
            (
                "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Range::UniqueLocal,
            ),
            ("fe80::", Range::LinkLocal),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Range::LinkLocal),
            ("ff00::", Range::Multicast),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Range::Multicast),
            ("::ffff:169.254.169.254", Range::LinkLocal),
            ("::ffff:0.0.0.0", Range::Unspecified),
            ("64:ff9b::a9fe:a9fe", Range::LinkLocal),
            ("64:ff9b::7f00:1", Range::Loopback),
            ("64:ff9b::c0a8:1", Range::Private),
            // Outside the /96 and the local-use /48 (RFC 8215): reserved whatever follows.
            ("64:ff9b:1::808:808", Range::Reserved),
            ("64:ff9b:0:0:1::808:808", Range::Reserved),
            ("2002:a9fe:a9fe::", Range::LinkLocal),
            ("2002:7f00:1::1", Range::Loopback),
            ("2002:0a00:0001::", Range::Private),
            ("::10.0.0.1", Range::Private),
            ("::169.254.169.254", Range::LinkLocal),
            ("::8.8.8.8", Range::Reserved),
            // IPv4-translated (SIIT, ::ffff:0:a.b.c.d) and Teredo: never a server's address.
            ("::ffff:0:808:808", Range::Reserved),
            ("2001::1", Range::Reserved),
        ] {
            assert_eq!(range(address), Some(expected), "{address}");
        }
    }

    /// Just outside each listed IPv4 range: public.
    #[test]
    fn the_neighbours_of_each_range_are_public() {
        for address in [
            "1.0.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "223.255.255.255",
            "2002:0808:0808::1",
            "::ffff:1.1.1.1",
        ] {
            assert_eq!(range(address), None, "{address}");
        }
    }

    proptest::proptest! {
        /// An IPv6 address that embeds an IPv4 one is judged by it (IPv4-compatible ones are
        /// inside whatever they embed).
        #[test]
        fn embedded_ipv4_is_judged_by_itself(bits in proptest::prelude::any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            let [a, b, c, d] = v4.octets();
            let direct = special(IpAddr::V4(v4));
            let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
            for embedded in [
                v4.to_ipv6_mapped(),
                Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
                Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1),
            ] {
                proptest::prop_assert_eq!(special(IpAddr::V6(embedded)), direct, "{}", embedded);
            }
            let compatible = Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo);
            proptest::prop_assert!(special(IpAddr::V6(compatible)).is_some(), "{}", compatible);
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "193.0.2.1",
            "2a00:1450:4001::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(range(address), None, "{address}");
        }
    }
}
