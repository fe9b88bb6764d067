//! The discovery report: the verdict and the provisioning fixes first, then where each source
//! sends clients and what happens there, then inbound mail (what sending servers do on port 25,
//! `report::delivery`), then the settings that work without a warning, then a line per host
//! checked. (Its JSON form is `wire::domain`.)

use std::fmt::Write as _;

use super::style::{BOLD, DIM, GREEN, RED, YELLOW};

use super::instructions;
use crate::clients::account_setup::{self, FoundBy, Prediction};
use crate::clients::discovery::Reaction;
use crate::clients::{Client, Outcome};
use crate::diagnose::discovery::{DiscoveryReport, Entry, EntryStatus};
use crate::diagnose::summary::SummaryKind;
use crate::observation::{Security, Source};

/// Renders the text report (styles stripped by the caller's stream off a terminal).
pub fn render(report: &DiscoveryReport) -> String {
    let mut out = String::new();
    let style = super::style::verdict(report.verdict);
    let _ = writeln!(out, "{style}{}{style:#}", report.summary);
    for fix in &report.fixes {
        let _ = writeln!(out, "  {BOLD}→{BOLD:#} {fix}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{BOLD}Where clients are sent{BOLD:#} ({})",
        report.email
    );
    for entry in &report.entries {
        write_entry(&mut out, entry);
    }
    let _ = writeln!(out);
    match &report.delivery {
        Some(delivery) => {
            let fixes_shown = report.summary_kind == SummaryKind::InboundRefused;
            super::delivery::write(&mut out, delivery, fixes_shown);
        }
        None => super::delivery::write_not_checked(&mut out),
    }
    write_walks(&mut out, report);
    let card = instructions::instructions(&report.settings);
    if report.settings.incoming.is_some() || report.settings.outgoing.is_some() {
        let _ = writeln!(out, "{BOLD}Settings that work without a warning{BOLD:#}");
        for (client, lines) in card {
            let _ = writeln!(out, "  {client}");
            for line in lines {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if let Some(missing) = unverified(report) {
        let _ = writeln!(out, "{RED}{missing}{RED:#}");
    }
    if !report.hosts.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{BOLD}Hosts checked{BOLD:#} (mailtls check HOST for details)"
        );
        for host in &report.hosts {
            let _ = writeln!(
                out,
                "  {:<28}{}",
                host.target.to_string(),
                super::summary(host)
            );
        }
    }
    out
}

/// Which service has no verified server name, said as such: a server that works only on port
/// 25 (MX, mail between servers) is named, since mail apps do not connect there.
fn unverified(report: &DiscoveryReport) -> Option<String> {
    let what = match (&report.settings.incoming, &report.settings.outgoing) {
        (Some(_), Some(_)) => return None,
        (None, None) => "for reading mail (IMAP, POP3) or sending it (submission)",
        (None, Some(_)) => "for reading mail (IMAP, POP3)",
        (Some(_), None) => "for sending mail (submission)",
    };
    let mut line = format!("No server name {what} was verified to work without a warning.");
    let mut relays: Vec<&str> = report
        .entries
        .iter()
        .filter(|e| e.source == Source::Mx && e.status == EntryStatus::Works)
        .map(|e| e.hostname.as_str())
        .collect();
    relays.sort_unstable();
    relays.dedup();
    if !relays.is_empty() {
        let one = relays.len() == 1;
        let _ = write!(
            line,
            " The MX {} {} {} on port 25, where servers hand each other mail; mail apps do not \
             connect there (mailtls check {} checks its other ports).",
            if one { "server" } else { "servers" },
            relays.join(", "),
            if one { "works" } else { "work" },
            relays.first().copied().unwrap_or_default()
        );
    }
    Some(line)
}

/// Each modelled client's search for the settings, step by step.
fn write_walks(out: &mut String, report: &DiscoveryReport) {
    for (client, walk) in &report.walks {
        let _ = writeln!(
            out,
            "{BOLD}How {} looks for the settings{BOLD:#}",
            client.name()
        );
        // Numbered as docs/clients.md numbers the client's steps, those mailtls cannot ask
        // included.
        for (index, walked) in walk.iter().enumerate() {
            let asked = walked
                .asked
                .clone()
                .unwrap_or_else(|| walked.step.asks.to_string());
            let (style, what) = match walked.reaction {
                Reaction::Uses => (GREEN, "uses it".to_string()),
                Reaction::Skips => (DIM, "skips".to_string()),
                Reaction::ShowsDialog => (
                    RED,
                    walked.dialog.map_or("shows a warning".to_string(), |d| {
                        format!("shows \"{}\"", d.title)
                    }),
                ),
                Reaction::NotAsked => (DIM, "not asked by mailtls".to_string()),
            };
            let _ = writeln!(
                out,
                "  {:>2} {}\n     {style}{what}{style:#}: {}",
                index + 1,
                shorten(&asked, 90),
                walked.answer
            );
        }
        if *client == Client::Thunderbird {
            write_setup(out, &report.thunderbird_setup);
        } else if !walk.iter().any(|w| w.reaction == Reaction::Uses) {
            let _ = writeln!(
                out,
                "     {DIM}no settings found this way: the user types them by hand{DIM:#}"
            );
        }
        let _ = writeln!(out);
    }
}

/// What Thunderbird's automatic set-up chooses, in one sentence, then what could change it.
fn write_setup(out: &mut String, prediction: &Prediction) {
    let chosen: Vec<String> = [&prediction.incoming, &prediction.outgoing]
        .into_iter()
        .flatten()
        .map(account_setup::setting)
        .collect();
    let sentence = match prediction.found_by {
        FoundBy::Nothing => "Thunderbird's automatic set-up finds nothing: the user types the \
                             settings by hand."
            .to_string(),
        FoundBy::ShippedFile => "Thunderbird uses the settings it ships for this domain \
                                 (mailtls does not read them)."
            .to_string(),
        _ => {
            let mut sentence = format!(
                "Thunderbird's automatic set-up will choose: {}",
                chosen.join(", ")
            );
            if prediction.incoming.is_some() && prediction.outgoing.is_none() {
                sentence.push_str(" (no SMTP server: it keeps the one it has, if any)");
            }
            // One clause per thing met, naming every server where it is met.
            let mut logins: Vec<(String, Vec<String>, &str)> = Vec::new();
            for login in &prediction.first_login {
                let what = match (login.outcome, login.dialog) {
                    (Outcome::Warns, Some(dialog)) => format!("shows \"{}\"", dialog.title),
                    (Outcome::Warns, None) => "warns".to_string(),
                    (Outcome::Fails, _) => "cannot connect".to_string(),
                    _ => "may warn".to_string(),
                };
                let place = format!("{}:{}", login.server.hostname, login.server.port);
                match logins
                    .iter_mut()
                    .find(|(w, _, reason)| *w == what && *reason == login.reason)
                {
                    Some((_, places, _)) => places.push(place),
                    None => logins.push((what, vec![place], &login.reason)),
                }
            }
            let logins: Vec<String> = logins
                .into_iter()
                .map(|(what, places, reason)| format!("{what} ({}): {reason}", places.join(", ")))
                .collect();
            if logins.is_empty() {
                sentence.push('.');
            } else {
                sentence.push_str(&format!(
                    " — and then, at the first login, {}.",
                    logins.join("; ")
                ));
            }
            sentence
        }
    };
    let style = if prediction.first_login.is_empty() && prediction.found_by != FoundBy::Nothing {
        GREEN
    } else {
        YELLOW
    };
    let _ = writeln!(out, "  {style}→{style:#} {sentence}");
    for unless in &prediction.unless {
        let _ = writeln!(out, "     {DIM}unless {unless}{DIM:#}");
    }
}

fn write_entry(out: &mut String, entry: &Entry) {
    let (style, word) = match entry.status {
        EntryStatus::Works => (GREEN, "works"),
        EntryStatus::NameNotCovered => (RED, "name not on certificate"),
        EntryStatus::CertificateProblem => (RED, "certificate problem"),
        EntryStatus::Plaintext => (RED, "no encryption"),
        EntryStatus::Unreachable => (YELLOW, "unreachable"),
        EntryStatus::DoesNotResolve => (YELLOW, "does not resolve"),
        EntryStatus::RateLimited => (YELLOW, "busy, not checked"),
        EntryStatus::NotOffered => (DIM, "not offered"),
        EntryStatus::SourceError => (YELLOW, "source error"),
        EntryStatus::NotChecked => (YELLOW, "not checked"),
    };
    let server = if entry.hostname.is_empty() {
        String::new()
    } else {
        format!(
            "{}:{} {}",
            entry.hostname,
            entry.port.unwrap_or_default(),
            entry.security.map(Security::label).unwrap_or_default()
        )
    };
    // The ISP database's URLs differ only at their end (the domain asked).
    let asked = if matches!(entry.source, Source::Ispdb | Source::IspdbMx) {
        shorten_start(&entry.url_or_record, 34)
    } else {
        shorten(&entry.url_or_record, 34)
    };
    let _ = write!(
        out,
        "  {:<22}{:<34} {:<36} {style}{word}{style:#}",
        entry.source.as_str(),
        asked,
        server
    );
    match (&entry.instead, &entry.detail) {
        (Some(instead), _) => {
            let _ = write!(out, ": use {instead}");
        }
        (None, Some(detail)) if entry.status != EntryStatus::Works => {
            let _ = write!(out, " {DIM}({detail}){DIM:#}");
        }
        _ => {}
    }
    let _ = writeln!(out);
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// `text` cut to `width` characters from the start, keeping its end.
fn shorten_start(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let kept: String = text.chars().skip(count - width.saturating_sub(1)).collect();
    format!("…{kept}")
}
