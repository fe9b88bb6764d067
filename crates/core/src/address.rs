//! Which addresses a server on the internet must never be made to connect to for a visitor:
//! loopback, private, link-local, CGNAT, multicast and reserved ranges, IPv4 and IPv6 (RFC 6890
//! and the IANA special-purpose registries). `mailtls serve` refuses targets there and its
//! engine does not connect there, unless `--allow-private`.

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

/// The special-purpose range `ip` is in, `None` for an ordinary public address. IPv4-mapped,
/// IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4
/// address inside.
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
