//! The reputation report: the answer first (listed or not, and the plain statement about
//! certificate mismatches), the fixes, then per address the reverse DNS, the SMTP names and
//! every list's answer. Also its JSON form, documented in docs/json.md.

use std::fmt::Write as _;

use super::style::{BOLD, DIM, GREEN, RED, YELLOW};
use serde::Serialize;

use crate::analyze::dnsbl::Status;
use crate::diagnose::Verdict;
use crate::diagnose::reputation::{
    AddressReputation, Listing, MISMATCH_STATEMENT, NameReputation, Reputation,
};

/// Renders the text report (ANSI styles; the caller's stream strips them off a terminal or
/// under `NO_COLOR`).
pub fn render(reputation: &Reputation) -> String {
    let mut out = String::new();
    let style = super::style::verdict(reputation.verdict);
    let _ = writeln!(out, "{style}{}{style:#}", reputation.summary);
    for fix in &reputation.fixes {
        let _ = writeln!(out, "  {BOLD}→{BOLD:#} {fix}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", wrap(MISMATCH_STATEMENT, 96));
    for note in &reputation.notes {
        let _ = writeln!(out, "{DIM}Note:{DIM:#} {note}");
    }
    for address in &reputation.addresses {
        let _ = writeln!(out);
        render_address(&mut out, address);
    }
    if !reputation.names.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{BOLD}Names{BOLD:#} (domain blocklists)");
        for name in &reputation.names {
            render_name(&mut out, name);
        }
    }
    out
}

fn render_address(out: &mut String, address: &AddressReputation) {
    let hosts = if address.hosts.is_empty() {
        String::new()
    } else {
        format!(" ({})", address.hosts.join(", "))
    };
    let _ = writeln!(out, "{BOLD}Address{BOLD:#} {}{hosts}", address.address);
    let ptr = if address.ptr.is_empty() {
        format!("{RED}none{RED:#}")
    } else {
        let confirmed = if address.fcrdns {
            "forward-confirmed".to_string()
        } else {
            format!("{YELLOW}does not resolve back{YELLOW:#}")
        };
        let certificate = match address.ptr_on_certificate {
            Some(true) => "; on the port-25 certificate",
            Some(false) => "; not on the port-25 certificate",
            None => "",
        };
        format!("{} ({confirmed}{certificate})", address.ptr.join(", "))
    };
    let _ = writeln!(out, "  {:<14}{ptr}", "reverse DNS");
    match (&address.smtp, &address.smtp_failure) {
        (Some(smtp), _) => {
            let name = smtp.name().unwrap_or("(no name)");
            let verdict = if smtp.matches_ptr {
                format!("{GREEN}matches the reverse DNS{GREEN:#}")
            } else {
                format!("{YELLOW}differs from the reverse DNS{YELLOW:#}")
            };
            let _ = writeln!(out, "  {:<14}{name}: {verdict}", "SMTP name");
            let _ = writeln!(out, "  {:<14}{DIM}{}{DIM:#}", "banner", smtp.banner);
        }
        (None, Some(failure)) => {
            let _ = writeln!(out, "  {:<14}{DIM}no answer: {failure}{DIM:#}", "port 25");
        }
        (None, None) => {}
    }
    for listing in &address.listings {
        render_listing(out, listing);
    }
}

fn render_name(out: &mut String, name: &NameReputation) {
    for listing in &name.listings {
        let _ = write!(out, "  {:<28}", name.name);
        render_listing_inline(out, listing);
    }
}

fn render_listing(out: &mut String, listing: &Listing) {
    let _ = write!(out, "  ");
    render_listing_inline(out, listing);
}

fn render_listing_inline(out: &mut String, listing: &Listing) {
    let (style, word) = match listing.status {
        Status::Listed => (RED, "LISTED"),
        Status::NotListed => (GREEN, "not listed"),
        Status::Refused => (YELLOW, "refused"),
        Status::Unknown => (YELLOW, "unknown"),
    };
    let _ = write!(out, "{:<26}{style}{word}{style:#}", listing.zone);
    if listing.status != Status::NotListed {
        let pad = 11usize.saturating_sub(word.len());
        let _ = write!(out, "{:pad$} {}", "", listing.meaning);
    }
    if listing.status == Status::Listed {
        if let Some(url) = &listing.delist_url {
            let _ = write!(out, " {DIM}(remove: {url}){DIM:#}");
        }
    }
    let _ = writeln!(out);
}

/// Wraps `text` at `width` columns on spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}

/// The `reputation` object of the JSON output.
#[derive(Debug, Serialize)]
pub struct Wire {
    /// The host, address or domain asked about.
    pub target: String,
    /// `ok`, `warn`, `fail` (listed) or `unknown` (no list answered).
    pub verdict: Verdict,
    /// The exit status `mailtls reputation` uses for this verdict.
    pub exit_code: u8,
    /// The answer in one sentence.
    pub summary: String,
    /// The statement about certificate mismatches and listings.
    pub mismatch_statement: &'static str,
    /// What to change.
    pub fixes: Vec<String>,
    /// Facts that need no change.
    pub notes: Vec<String>,
    /// How many zones were asked.
    pub zones_asked: usize,
    /// Per address.
    pub addresses: Vec<WireAddress>,
    /// Per name, for the domain lists.
    pub names: Vec<WireName>,
    /// The HELO/EHLO name of the first address whose port 25 answered.
    pub helo: Option<WireHelo>,
    /// The SMTP banner of the same address.
    pub banner: Option<WireBanner>,
}

/// One address.
#[derive(Debug, Serialize)]
pub struct WireAddress {
    /// The address.
    pub address: String,
    /// Hosts that resolve to it.
    pub hosts: Vec<String>,
    /// Its PTR names.
    pub ptr: Vec<String>,
    /// A PTR name resolves back to the address.
    pub fcrdns: bool,
    /// The port-25 certificate covers a PTR name; null without PTR or certificate.
    pub ptr_on_certificate: Option<bool>,
    /// Each IP list's answer.
    pub listings: Vec<WireListing>,
}

/// One list's answer.
#[derive(Debug, Serialize)]
pub struct WireListing {
    /// The zone.
    pub zone: String,
    /// true listed, false not listed, null could not check.
    pub listed: Option<bool>,
    /// `listed`, `not-listed`, `refused`, `unknown`.
    pub status: Status,
    /// The A records answered.
    pub codes: Vec<String>,
    /// The answer in words.
    pub meaning: String,
    /// Where to look up and request removal.
    pub delist_url: Option<String>,
}

/// One name's domain-list answers.
#[derive(Debug, Serialize)]
pub struct WireName {
    /// The name.
    pub name: String,
    /// Each domain list's answer.
    pub listings: Vec<WireListing>,
}

/// The HELO/EHLO name.
#[derive(Debug, Serialize)]
pub struct WireHelo {
    /// The address whose port 25 answered.
    pub address: String,
    /// The name (EHLO reply, else banner).
    pub name: Option<String>,
    /// It is one of the address's PTR names.
    pub matches_ptr: bool,
    /// It resolves to the address.
    pub resolves_to_address: bool,
    /// The port-25 certificate covers it; null without a certificate.
    pub on_certificate: Option<bool>,
}

/// The SMTP banner.
#[derive(Debug, Serialize)]
pub struct WireBanner {
    /// The address whose port 25 answered.
    pub address: String,
    /// The greeting as received.
    pub text: String,
    /// The name in it.
    pub name: Option<String>,
}

fn wire_listing(listing: &Listing) -> WireListing {
    WireListing {
        zone: listing.zone.clone(),
        listed: match listing.status {
            Status::Listed => Some(true),
            Status::NotListed => Some(false),
            Status::Refused | Status::Unknown => None,
        },
        status: listing.status,
        codes: listing.codes.iter().map(ToString::to_string).collect(),
        meaning: listing.meaning.clone(),
        delist_url: listing.delist_url.clone(),
    }
}

/// Builds the JSON form.
pub fn wire(reputation: &Reputation) -> Wire {
    let answered = reputation
        .addresses
        .iter()
        .find_map(|a| a.smtp.as_ref().map(|s| (a.address, s)));
    Wire {
        target: reputation.target.to_string(),
        verdict: reputation.verdict,
        exit_code: reputation.verdict.exit_code(),
        summary: reputation.summary.clone(),
        mismatch_statement: MISMATCH_STATEMENT,
        fixes: reputation.fixes.clone(),
        notes: reputation.notes.clone(),
        zones_asked: reputation.zones_asked,
        addresses: reputation
            .addresses
            .iter()
            .map(|a| WireAddress {
                address: a.address.to_string(),
                hosts: a.hosts.clone(),
                ptr: a.ptr.clone(),
                fcrdns: a.fcrdns,
                ptr_on_certificate: a.ptr_on_certificate,
                listings: a.listings.iter().map(wire_listing).collect(),
            })
            .collect(),
        names: reputation
            .names
            .iter()
            .map(|n| WireName {
                name: n.name.clone(),
                listings: n.listings.iter().map(wire_listing).collect(),
            })
            .collect(),
        helo: answered.map(|(address, smtp)| WireHelo {
            address: address.to_string(),
            name: smtp.name().map(str::to_string),
            matches_ptr: smtp.matches_ptr,
            resolves_to_address: smtp.resolves_to_address,
            on_certificate: smtp.on_certificate,
        }),
        banner: answered.map(|(address, smtp)| WireBanner {
            address: address.to_string(),
            text: smtp.banner.clone(),
            name: smtp.banner_name.clone(),
        }),
    }
}
