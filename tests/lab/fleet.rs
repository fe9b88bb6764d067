//! A hosting provider's fleet in the lab: [`SIZE`] customer domains `cNNNN.hosted.test` on a
//! handful of servers, for `mailtls scan`. Every domain is one of these kinds (by its number):
//!
//! - [`Kind::Good`]: SRV and MX hand out mail.good.test, whose certificate covers it.
//! - [`Kind::Hosted`]: SRV and MX hand out mail.cNNNN.hosted.test, which resolves to the
//!   hosting server behind [`super::SCAN_FRONT`] (a counting proxy in the tests), whose
//!   certificate names only luna.scanhosting.test: the classic mismatch, with a verified name
//!   to provision instead.
//! - [`Kind::Autoconfig`]: autoconfig.cNNNN.hosted.test (on [`WEB`], valid HTTPS) hands out
//!   mail.cNNNN.hosted.test, the same uncovered name; MX is mail.good.test.
//! - [`Kind::Unresolvable`]: nothing at all in DNS.
//! - [`Kind::Busy`]: MX is mx.busy.test ([`super::BUSY`]), a Postfix that answers every
//!   connection with `421 4.7.0 ... too many connections`; IMAP (SRV) is mail.good.test.

use std::fmt::Write as _;

/// How many customer domains.
pub const SIZE: usize = 2000;
/// Their parent domain.
pub const PARENT: &str = "hosted.test";
/// The HTTPS server for the fleet's autoconfig documents (its certificate names every
/// autoconfig.cNNNN.hosted.test of [`Kind::Autoconfig`]).
pub const WEB: &str = "127.0.0.33";

/// What a customer domain is like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Everything handed out works.
    Good,
    /// SRV and MX hand out a name the hosting certificate does not cover.
    Hosted,
    /// Autoconfig hands out a name the hosting certificate does not cover.
    Autoconfig,
    /// Does not resolve.
    Unresolvable,
    /// Its MX turns every connection away with 421.
    Busy,
}

/// The kind of domain number `n`: 40 % good, 30 % hosted, 10 % each of the rest.
pub fn kind(n: usize) -> Kind {
    match n % 20 {
        0..=7 => Kind::Good,
        8..=13 => Kind::Hosted,
        14 | 15 => Kind::Autoconfig,
        16 | 17 => Kind::Unresolvable,
        _ => Kind::Busy,
    }
}

/// Domain number `n`.
pub fn domain(n: usize) -> String {
    format!("c{n:04}.{PARENT}")
}

/// Every domain with its kind.
pub fn domains() -> impl Iterator<Item = (String, Kind)> {
    (0..SIZE).map(|n| (domain(n), kind(n)))
}

/// How many domains of `kind`.
pub fn count(kind: Kind) -> usize {
    domains().filter(|(_, k)| *k == kind).count()
}

/// The names the fleet's HTTPS server must present.
pub fn web_names() -> Vec<String> {
    domains()
        .filter(|(_, k)| *k == Kind::Autoconfig)
        .map(|(d, _)| format!("autoconfig.{d}"))
        .collect()
}

/// dnsmasq lines for the whole fleet; `good` is mail.good.test, `front` the hosting server's
/// public address, `busy` the 421 server's name.
pub fn dns_records(good: &str, front: &str, busy: &str) -> String {
    let mut conf = String::new();
    for (domain, kind) in domains() {
        let mail = format!("mail.{domain}");
        match kind {
            Kind::Good => {
                let _ = writeln!(
                    conf,
                    "srv-host=_imaps._tcp.{domain},{good},993,0,1\n\
                     srv-host=_submissions._tcp.{domain},{good},465,0,1\n\
                     mx-host={domain},{good},10"
                );
            }
            Kind::Hosted => {
                let _ = writeln!(
                    conf,
                    "host-record={mail},{front}\n\
                     srv-host=_imaps._tcp.{domain},{mail},993,0,1\n\
                     srv-host=_submissions._tcp.{domain},{mail},465,0,1\n\
                     mx-host={domain},{mail},10"
                );
            }
            Kind::Autoconfig => {
                let _ = writeln!(
                    conf,
                    "host-record={mail},{front}\n\
                     host-record=autoconfig.{domain},{WEB}\n\
                     mx-host={domain},{good},10"
                );
            }
            Kind::Unresolvable => {}
            Kind::Busy => {
                let _ = writeln!(
                    conf,
                    "srv-host=_imaps._tcp.{domain},{good},993,0,1\n\
                     mx-host={domain},{busy},10"
                );
            }
        }
    }
    conf
}

/// The fleet as a scan's input: one domain per line, with a comment, a blank line, a bad line
/// and a duplicate among them, as real lists have.
pub fn list() -> String {
    let mut list = String::from("# customer domains, exported from provisioning\n\n");
    for (n, (domain, _)) in domains().enumerate() {
        let _ = writeln!(list, "{domain}");
        if n == 10 {
            list.push_str("not a domain!\n");
        }
        if n == 20 {
            let _ = writeln!(list, "{}", domain.to_uppercase());
        }
    }
    list
}
