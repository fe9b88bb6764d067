//! What `reputation` learned: the hosts examined, their reverse DNS, the blocklists' answers and
//! what port 25 said.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::{EndpointObservation, NameLookup, PtrLookup};
use crate::target::Target;

crate::vocabulary::vocabulary! {
    /// What a zone lists.
    pub enum ZoneKind {
        /// IP addresses.
        Ip => "ip",
        /// Domain names.
        Domain => "domain",
    }
}

crate::vocabulary::vocabulary! {
    /// How a zone's answers are read.
    pub enum CodeTable {
        /// Spamhaus IP zones (ZEN, SBL, XBL, PBL).
        Spamhaus => "spamhaus",
        /// The Spamhaus Domain Blocklist.
        SpamhausDbl => "spamhaus-dbl",
        /// Any other list: 127.0.0.2 and the like mean listed.
        Generic => "generic",
    }
}

/// One blocklist zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Zone {
    /// The zone, e.g. `zen.spamhaus.org`.
    pub name: String,
    /// What it lists.
    pub kind: ZoneKind,
    /// How its answers are read.
    pub codes: CodeTable,
    /// Where a listed address or name can be looked up and removed.
    pub delist_url: Option<String>,
}

/// What a DNS blocklist zone said about one address or name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DnsblAnswer {
    /// No such name (NXDOMAIN) or no A record.
    NotListed,
    /// A records, and the TXT records of the same name.
    Records {
        /// The A records.
        codes: Vec<Ipv4Addr>,
        /// The TXT records (the list's reason, often with a URL).
        #[serde(default)]
        text: Vec<String>,
    },
    /// No answer in time.
    Timeout,
    /// The resolver failed (SERVFAIL, REFUSED, a malformed answer).
    Failed {
        /// The resolver's words.
        reason: String,
    },
}

/// One question to one DNS blocklist zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsblLookup {
    /// The zone asked, e.g. `zen.spamhaus.org`.
    pub zone: String,
    /// The address or name asked about.
    pub subject: String,
    /// The name looked up, e.g. `1.2.0.192.zen.spamhaus.org`.
    pub query: String,
    /// The answer.
    pub answer: DnsblAnswer,
}

/// Why a host's addresses are examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HostRole {
    /// The host (or address) the user named.
    Target,
    /// A mail exchanger of the domain the user named.
    Mx {
        /// The MX preference (lower is tried first).
        preference: u16,
    },
}

/// A host and the addresses it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostLookup {
    /// The host name, or the address literal.
    pub name: String,
    /// Why it is examined.
    pub role: HostRole,
    /// Its A and AAAA addresses.
    pub addresses: Vec<IpAddr>,
    /// Why it did not resolve, when it did not.
    pub error: Option<String>,
}

/// Everything `reputation` learned from the network about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReputationObservations {
    /// What was asked about.
    pub target: Target,
    /// The target and, when it names a mail domain, its MX hosts.
    pub hosts: Vec<HostLookup>,
    /// Reverse DNS of every address.
    pub ptr: Vec<PtrLookup>,
    /// Forward DNS of the PTR names and the SMTP names, to confirm them.
    pub forward: Vec<NameLookup>,
    /// Every blocklist question asked, once per zone and address or name.
    pub dnsbl: Vec<DnsblLookup>,
    /// Port 25 of every address: banner, EHLO name and certificate.
    pub smtp: Vec<EndpointObservation>,
    /// The zones asked, with how each one's answers are read.
    pub zones: Vec<Zone>,
    /// What sending servers learn about the mail domain asked about (MX, MTA-STS, TLS-RPT,
    /// TLSA), whose MX hosts' port 25 is in `smtp`: what makes a certificate cost mail. Absent
    /// for an address, and in files saved before it was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Box<super::delivery::DeliveryObservations>>,
}

impl ReputationObservations {
    /// Every address examined, once, in the order first seen.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = Vec::new();
        for address in self.hosts.iter().flat_map(|h| &h.addresses) {
            if !all.contains(address) {
                all.push(*address);
            }
        }
        all
    }
}
