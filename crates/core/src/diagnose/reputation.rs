//! Judges what `reputation` observed: listed or not, and what receivers hold against the server.
//!
//! The question people bring is "can the certificate warnings get our IP blacklisted?". They
//! cannot: a blocklist never sees a mail client's TLS session. What lists act on is mail the
//! address sends (spam, bounces to forged senders), and what receiving servers check besides is
//! reverse DNS and the name the server gives in HELO/EHLO. So the answer leads with the
//! listings, states the mismatch question plainly, and then names the fixes that matter.
//!
//! The question's other half, "can it cost us mail?", is answered from the mail domain's own
//! MTA-STS and DANE facts (`inbound`: its delivery judged with the port 25 probes made here, then
//! `diagnose::costs_mail`).

mod inbound;

use std::net::{IpAddr, Ipv4Addr};

use super::Verdict;
use super::costs_mail::{self, CostAnswer, CostsMail};
use crate::analyze::cert::CertInfo;
use crate::analyze::chain::TrustAnchors;
use crate::analyze::dnsbl::{self, ListingStatus, Zone};
use crate::analyze::names::{self, NameCheck};
use crate::analyze::smtp::banner_name;
use crate::observation::{DnsblAnswer, EndpointObservation, HostRole, ReputationObservations};
use crate::target::Target;

/// The plain answer to "can certificate warnings get us listed?", shown in every report.
pub const MISMATCH_STATEMENT: &str = "A certificate name mismatch seen by mail clients cannot get \
an address onto a blocklist: blocklists never see a client's TLS session. They list addresses \
that send spam, bounces or auto-replies to forged senders (backscatter), or mail from ranges \
that should not send it; receiving servers also look at reverse DNS and the HELO name.";

/// One zone's answer about one address or name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The zone.
    pub zone: String,
    /// Listed, not listed, refused, unknown.
    pub status: ListingStatus,
    /// The A records the zone answered.
    pub codes: Vec<Ipv4Addr>,
    /// The answer in words.
    pub meaning: String,
    /// Where to look the entry up and ask for removal.
    pub delist_url: Option<String>,
}

/// What port 25 of an address said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpNames {
    /// The greeting, e.g. `220 mx.example.com ESMTP Postfix`.
    pub banner: String,
    /// The name in the greeting.
    pub banner_name: Option<String>,
    /// The name on the first line of the EHLO reply.
    pub ehlo_name: Option<String>,
    /// The name the server uses (EHLO, else banner) is one of the address's PTR names.
    pub matches_ptr: bool,
    /// That name resolves back to the address.
    pub resolves_to_address: bool,
    /// The port-25 certificate covers that name (`None` without a certificate).
    pub on_certificate: Option<bool>,
}

impl SmtpNames {
    /// The name the server introduces itself with: EHLO's, else the banner's.
    pub fn name(&self) -> Option<&str> {
        self.ehlo_name.as_deref().or(self.banner_name.as_deref())
    }
}

/// Everything about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressReputation {
    /// The address.
    pub address: IpAddr,
    /// The hosts that resolve to it (the target, MX hosts).
    pub hosts: Vec<String>,
    /// Its PTR names.
    pub ptr: Vec<String>,
    /// A PTR name resolves back to the address (forward-confirmed reverse DNS).
    pub fcrdns: bool,
    /// mailtls's resolver did not answer the PTR question, or (when not forward-confirmed) the
    /// forward question of a PTR name: the reverse DNS is unknown, not wrong.
    pub dns_unanswered: bool,
    /// The port-25 certificate covers a PTR name (`None` without PTR or certificate).
    pub ptr_on_certificate: Option<bool>,
    /// Each IP zone's answer.
    pub listings: Vec<Listing>,
    /// Port 25, when it answered.
    pub smtp: Option<SmtpNames>,
    /// Why port 25 gave nothing, when it did not answer.
    pub smtp_failure: Option<String>,
}

/// Domain lists' answers about one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameReputation {
    /// The name.
    pub name: String,
    /// Each domain zone's answer.
    pub listings: Vec<Listing>,
}

/// The judgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reputation {
    /// What was asked about.
    pub target: Target,
    /// Ok: not listed, nothing to fix. Warn: not listed but something to fix, or some lists
    /// could not be checked. Fail: listed. Unknown: no list could be checked.
    pub verdict: Verdict,
    /// The answer in one sentence.
    pub summary: String,
    /// What to change, most important first.
    pub fixes: Vec<String>,
    /// Facts worth knowing that need no change.
    pub notes: Vec<String>,
    /// Per address.
    pub addresses: Vec<AddressReputation>,
    /// Per name, for the domain lists.
    pub names: Vec<NameReputation>,
    /// How many zones were asked.
    pub zones_asked: usize,
    /// Can a certificate warning cost the domain mail? From its MTA-STS and DANE.
    pub costs_mail: CostsMail,
}

/// Judges `observations`, reading each list's answers by the zone's code table; the mail
/// domain's inbound delivery with `anchors` at `now`.
pub fn judge(
    observations: &ReputationObservations,
    anchors: &TrustAnchors,
    now: i64,
) -> Reputation {
    let zones = observations.zones.as_slice();
    let addresses: Vec<AddressReputation> = observations
        .addresses()
        .into_iter()
        .map(|address| address_reputation(observations, zones, address))
        .collect();
    let mut names: Vec<NameReputation> = Vec::new();
    for lookup in &observations.dnsbl {
        let Some(zone) = zones.iter().find(|z| z.name == lookup.zone) else {
            continue;
        };
        if zone.kind != dnsbl::ZoneKind::Domain {
            continue;
        }
        let listing = listing(zone, &lookup.answer);
        match names.iter_mut().find(|n| n.name == lookup.subject) {
            Some(entry) => entry.listings.push(listing),
            None => names.push(NameReputation {
                name: lookup.subject.clone(),
                listings: vec![listing],
            }),
        }
    }

    let all_listings = || {
        addresses
            .iter()
            .flat_map(|a| &a.listings)
            .chain(names.iter().flat_map(|n| &n.listings))
    };
    let count = |status: ListingStatus| all_listings().filter(|l| l.status == status).count();
    let (listed, answered) = (
        count(ListingStatus::Listed),
        count(ListingStatus::NotListed),
    );
    let unchecked = count(ListingStatus::Refused) + count(ListingStatus::Unknown);

    let mut fixes = Vec::new();
    let mut notes = Vec::new();
    for address in &addresses {
        for l in address
            .listings
            .iter()
            .filter(|l| l.status == ListingStatus::Listed)
        {
            fixes.push(listing_fix(&address.address.to_string(), l));
        }
    }
    for name in &names {
        for l in name
            .listings
            .iter()
            .filter(|l| l.status == ListingStatus::Listed)
        {
            fixes.push(listing_fix(&name.name, l));
        }
    }
    for address in &addresses {
        dns_fixes(address, &mut fixes, &mut notes);
    }
    let refused: Vec<&str> = all_listings()
        .filter(|l| l.status == ListingStatus::Refused)
        .map(|l| l.zone.as_str())
        .collect();
    if !refused.is_empty() {
        notes.push(format!(
            "{} refused to answer this resolver: run again with --dns pointing at your own \
             recursive resolver (lists refuse public and shared resolvers)",
            dedup_join(&refused)
        ));
    }

    let subject = subject(&addresses);
    let zones_asked = zones.len();
    let inbound = inbound::judge(observations, anchors, now);
    let costs_mail = costs_mail::judge(inbound.as_ref(), &observations.target.to_string());
    let (verdict, summary) = if listed > 0 {
        let on: Vec<String> = addresses
            .iter()
            .flat_map(|a| {
                a.listings
                    .iter()
                    .filter(|l| l.status == ListingStatus::Listed)
                    .map(move |l| format!("{} is on {}", a.address, l.zone))
            })
            .chain(names.iter().flat_map(|n| {
                n.listings
                    .iter()
                    .filter(|l| l.status == ListingStatus::Listed)
                    .map(move |l| format!("{} is on {}", n.name, l.zone))
            }))
            .collect();
        (Verdict::Fail, format!("Listed: {}.", on.join(", ")))
    } else if answered == 0 && unchecked > 0 {
        (
            Verdict::Unknown,
            format!(
                "Could not check: none of the {zones_asked} blocklists gave a usable answer for {subject}."
            ),
        )
    } else if unchecked > 0 {
        let zones_unchecked = all_listings()
            .filter(|l| matches!(l.status, ListingStatus::Refused | ListingStatus::Unknown))
            .map(|l| l.zone.as_str())
            .collect::<Vec<_>>();
        (
            Verdict::Warn,
            format!(
                "Not listed on the lists that answered for {subject}; {} could not be checked.",
                dedup_join(&zones_unchecked)
            ),
        )
    } else if costs_mail.answer == CostAnswer::Yes {
        (
            Verdict::Warn,
            format!(
                "Not listed: none of the {zones_asked} blocklists names {subject}, but senders \
                 that check the certificate refuse an MX (below)."
            ),
        )
    } else if fixes.is_empty() {
        (
            Verdict::Ok,
            format!("Not listed: none of the {zones_asked} blocklists names {subject}."),
        )
    } else {
        (
            Verdict::Warn,
            format!(
                "Not listed: none of the {zones_asked} blocklists names {subject}, but receivers \
                 will hold the points below against it."
            ),
        )
    };
    Reputation {
        target: observations.target.clone(),
        verdict,
        summary,
        fixes,
        notes,
        addresses,
        names,
        zones_asked,
        costs_mail,
    }
}

fn address_reputation(
    observations: &ReputationObservations,
    zones: &[Zone],
    address: IpAddr,
) -> AddressReputation {
    let hosts: Vec<String> = observations
        .hosts
        .iter()
        .filter(|h| h.addresses.contains(&address) && h.name != address.to_string())
        .map(|h| match h.role {
            HostRole::Target => h.name.clone(),
            HostRole::Mx { preference } => format!("{} (MX {preference})", h.name),
        })
        .collect();
    let lookup = observations.ptr.iter().find(|p| p.address == address);
    let ptr: Vec<String> = lookup.map(|p| p.names.clone()).unwrap_or_default();
    let resolves_to = |name: &str| {
        observations
            .forward
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.addresses.contains(&address))
            .or_else(|| {
                observations
                    .hosts
                    .iter()
                    .find(|h| h.name == name)
                    .map(|h| h.addresses.contains(&address))
            })
            .unwrap_or(false)
    };
    let fcrdns = ptr.iter().any(|name| resolves_to(name));
    let dns_unanswered = lookup.is_some_and(|p| p.unanswered)
        || (!fcrdns
            && observations
                .forward
                .iter()
                .any(|f| f.unanswered && ptr.contains(&f.name)));
    let smtp_observation: Option<&EndpointObservation> = observations
        .smtp
        .iter()
        .find(|o| o.address == address && o.service.port == 25);
    let leaf: Option<CertInfo> = smtp_observation
        .and_then(EndpointObservation::leaf)
        .and_then(|der| CertInfo::parse(&der.0).ok());
    let covers = |name: &str| {
        leaf.as_ref().map(|cert| match Target::parse(name) {
            Ok(target) => matches!(names::check(cert, &target), NameCheck::Covered(_)),
            Err(_) => false,
        })
    };
    let ptr_on_certificate = if ptr.is_empty() || leaf.is_none() {
        None
    } else {
        Some(ptr.iter().any(|name| covers(name) == Some(true)))
    };
    let smtp = smtp_observation
        .and_then(|o| o.greeting.as_ref().map(|g| (o, g)))
        .map(|(o, greeting)| {
            let banner_name = banner_name(greeting);
            let ehlo_name = o.ehlo_name.clone();
            let name = ehlo_name.clone().or(banner_name.clone());
            let name = name.as_deref().unwrap_or("");
            SmtpNames {
                banner: greeting.clone(),
                banner_name,
                ehlo_name,
                matches_ptr: ptr.iter().any(|p| p == name),
                resolves_to_address: !name.is_empty() && resolves_to(name),
                on_certificate: if name.is_empty() { None } else { covers(name) },
            }
        });
    let smtp_failure = match (&smtp, smtp_observation) {
        (None, Some(o)) => Some(
            o.failure
                .as_ref()
                .map(|f| f.detail.clone())
                .unwrap_or_else(|| "no greeting".to_string()),
        ),
        (None, None) => Some("port 25 was not probed".to_string()),
        _ => None,
    };
    let listings = zones
        .iter()
        .filter(|z| z.kind == dnsbl::ZoneKind::Ip)
        .filter_map(|zone| {
            observations
                .dnsbl
                .iter()
                .find(|l| l.zone == zone.name && l.subject == address.to_string())
                .map(|l| listing(zone, &l.answer))
        })
        .collect();
    AddressReputation {
        address,
        hosts,
        ptr,
        fcrdns,
        dns_unanswered,
        ptr_on_certificate,
        listings,
        smtp,
        smtp_failure,
    }
}

fn listing(zone: &Zone, answer: &DnsblAnswer) -> Listing {
    let reading = dnsbl::read(zone, answer);
    Listing {
        zone: zone.name.clone(),
        status: reading.status,
        codes: match answer {
            DnsblAnswer::Records { codes, .. } => codes.clone(),
            _ => Vec::new(),
        },
        meaning: reading.meaning,
        delist_url: zone.delist_url.clone(),
    }
}

/// What to do about one listing: the cause first, then removal.
fn listing_fix(subject: &str, listing: &Listing) -> String {
    let cause = if subject.parse::<IpAddr>().is_err() {
        "find where the name appears in spam (a compromised website or account, a link in \
         bulk mail) and stop it"
    } else if listing.zone.contains("backscatterer") {
        "stop sending bounces and auto-replies to forged senders: reject unknown recipients and \
         spam during the SMTP dialogue instead of bouncing them later, and turn off sender \
         callouts"
    } else if listing.meaning.starts_with("PBL") {
        "send mail through your provider's relay, or have the ISP mark the address as a mail \
         server"
    } else if listing.meaning.starts_with("XBL") {
        "find the infected machine, open proxy or compromised account sending through this address"
    } else {
        "find what sent the mail that got it listed (a compromised account, a form, a script)"
    };
    let removal = match &listing.delist_url {
        Some(url) => format!(", then request removal at {url}"),
        None => String::new(),
    };
    format!(
        "{subject} is listed on {} ({}): {cause}{removal}.",
        listing.zone, listing.meaning
    )
}

/// Reverse DNS and HELO fixes for one address, and notes that need no change.
fn dns_fixes(address: &AddressReputation, fixes: &mut Vec<String>, notes: &mut Vec<String>) {
    let ip = address.address;
    let smtp_name = address.smtp.as_ref().and_then(SmtpNames::name);
    if address.dns_unanswered {
        notes.push(format!(
            "The reverse DNS of {ip} could not be checked: DNS did not answer; run the check \
             again."
        ));
        return;
    }
    if address.ptr.is_empty() {
        let suggestion = smtp_name
            .map(|n| format!(" naming {n}"))
            .unwrap_or_default();
        fixes.push(format!(
            "{ip} has no reverse DNS (PTR): have whoever hosts the address set one{suggestion}; \
             many receivers refuse mail from addresses without it."
        ));
        return;
    }
    let ptr = address.ptr.join(", ");
    if !address.fcrdns {
        fixes.push(format!(
            "The reverse DNS of {ip} ({ptr}) does not resolve back to {ip}: add an A/AAAA record \
             for it, so the reverse DNS is forward-confirmed."
        ));
    }
    if let Some(smtp) = &address.smtp {
        match smtp.name() {
            Some(name) if !smtp.matches_ptr => fixes.push(format!(
                "Port 25 of {ip} calls itself {name}, but the reverse DNS says {ptr}: set the \
                 mail server's name (Postfix myhostname, Exim primary_hostname) to {first}, or \
                 the PTR to {name}; receivers compare the HELO name with the reverse DNS.",
                first = address.ptr[0]
            )),
            Some(name) if !smtp.resolves_to_address => fixes.push(format!(
                "The HELO name {name} does not resolve to {ip}: add an A/AAAA record for it."
            )),
            None => notes.push(format!(
                "Port 25 of {ip} gives no name in its banner or EHLO reply."
            )),
            _ => {}
        }
        if address.ptr_on_certificate == Some(false) {
            notes.push(format!(
                "The port-25 certificate of {ip} does not cover its reverse DNS name ({ptr}). \
                 Receivers do not check it unless the domain uses DANE or MTA-STS (which check \
                 the MX name), so this affects no listing."
            ));
        }
    }
}

/// "127.0.0.10" or "127.0.0.10 and 127.0.0.11" or "mail.example.com".
fn subject(addresses: &[AddressReputation]) -> String {
    let list: Vec<String> = addresses.iter().map(|a| a.address.to_string()).collect();
    match list.as_slice() {
        [] => "no address".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn dedup_join(items: &[&str]) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for item in items {
        if !unique.contains(item) {
            unique.push(item);
        }
    }
    unique.join(", ")
}

#[cfg(test)]
mod tests;
