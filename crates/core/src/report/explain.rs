//! The text of `mailtls explain`: what the text says is wrong (its error messages and the dialog
//! it matches), the names it carries, the name to use when it names the certificate's own, and
//! what causes it, most likely first, each with the command that finds out.

use std::fmt::Write as _;

use super::style::{BOLD, DIM};
use super::text::describe_when;
use crate::clients::dialogs::{self, Fault};
use crate::diagnose::explain::{Explanation, Finding};

/// Renders a recognised explanation.
pub fn render(explanation: &Explanation) -> String {
    let mut out = String::new();
    let target = explanation.target();
    // One line per finding, naming every producer whose words say it.
    let mut said: Vec<(Finding, Vec<&str>)> = Vec::new();
    for found in &explanation.messages {
        let producer = found.message.producer.name();
        match said
            .iter_mut()
            .find(|(finding, _)| *finding == found.finding)
        {
            Some((_, producers)) if !producers.contains(&producer) => producers.push(producer),
            Some(_) => {}
            None => said.push((found.finding, vec![producer])),
        }
    }
    for (finding, producers) in &said {
        let _ = writeln!(
            out,
            "{BOLD}Recognised:{BOLD:#} {}: {}.",
            producers.join("; "),
            finding.describe()
        );
    }
    let server = explanation
        .facts
        .asked
        .as_deref()
        .or(explanation.hosts.first().map(String::as_str))
        .unwrap_or("your mail server");
    for found in &explanation.matches {
        let dialog = found.dialog;
        let _ = writeln!(
            out,
            "{BOLD}Recognised:{BOLD:#} {}, \"{}\"",
            dialog.client.name(),
            dialog.title
        );
        let line = dialogs::fill(
            dialog.key_line(found.fault.unwrap_or(Fault::WrongName)),
            server,
            None,
        );
        let _ = writeln!(out, "  \"{line}\"");
        let _ = writeln!(
            out,
            "  {DIM}{} shows it {}.{DIM:#}",
            dialog.client.name(),
            describe_when(dialog.when)
        );
    }
    let facts = &explanation.facts;
    match (&facts.asked, facts.certificate_names.as_slice()) {
        (Some(asked), []) => {
            let _ = writeln!(out, "  The client asked for {asked}.");
        }
        (Some(asked), names) => {
            let _ = writeln!(
                out,
                "  The client asked for {asked}; the certificate is for {}.",
                names.join(", ")
            );
        }
        (None, []) => {}
        (None, names) => {
            let _ = writeln!(out, "  The certificate is for {}.", names.join(", "));
        }
    }
    if let Some(address) = facts
        .address
        .as_ref()
        .filter(|a| facts.asked.as_ref() != Some(*a))
    {
        let _ = writeln!(out, "  The server's address: {address}.");
    }
    if let Some(candidate) = explanation.candidate() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{BOLD}The name to use:{BOLD:#} {candidate}, the certificate's own name. Check that \
             it works on every port, then set it as the incoming and outgoing server in the \
             account (and in the provisioning, if the account was set up automatically):"
        );
        let _ = writeln!(out, "  mailtls check {candidate}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{BOLD}What causes it, most likely first{BOLD:#}");
    for (index, mechanism) in explanation.mechanisms.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", index + 1, mechanism.describe());
        let _ = writeln!(out, "     Find out: {}", mechanism.command(target));
    }
    out
}
