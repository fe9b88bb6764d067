//! The reputation report: the answer first (listed or not), the fixes, the seed question answered
//! whole (blocklisted? no, and why; costs mail? from the domain's MTA-STS and DANE, with its
//! fixes), then per address the reverse DNS, the SMTP names and every list's answer. (Its JSON
//! form is `wire::reputation`.)

use std::fmt::Write as _;

use super::style::{BOLD, DIM, GREEN, RED, YELLOW};

use crate::analyze::dnsbl::ListingStatus;
use crate::diagnose::costs_mail::CostAnswer;
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
    let _ = writeln!(
        out,
        "{}",
        wrap(
            &format!("Can certificate warnings get us blocklisted? No. {MISMATCH_STATEMENT}"),
            96
        )
    );
    let costs = &reputation.costs_mail;
    let style = match costs.answer {
        CostAnswer::Yes => RED,
        CostAnswer::NotYet | CostAnswer::Unknown => YELLOW,
        CostAnswer::No => GREEN,
    };
    let _ = writeln!(
        out,
        "{style}{}{style:#}",
        wrap(&format!("Can they cost us mail? {}", costs.summary), 96)
    );
    for fix in &costs.fixes {
        let _ = writeln!(out, "  {BOLD}→{BOLD:#} {fix}");
    }
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
        ListingStatus::Listed => (RED, "LISTED"),
        ListingStatus::NotListed => (GREEN, "not listed"),
        ListingStatus::Refused => (YELLOW, "refused"),
        ListingStatus::Unknown => (YELLOW, "unknown"),
    };
    let _ = write!(out, "{:<26}{style}{word}{style:#}", listing.zone);
    if listing.status != ListingStatus::NotListed {
        let pad = 11usize.saturating_sub(word.len());
        let _ = write!(out, "{:pad$} {}", "", listing.meaning);
    }
    if listing.status == ListingStatus::Listed {
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
