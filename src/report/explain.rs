//! The text of `mailtls explain`: the dialog recognised, when it appears, and what causes it,
//! most likely first, each with the command that finds out.

use std::fmt::Write as _;

use super::style::{BOLD, DIM};
use super::text::describe_when;
use crate::clients::dialogs::{self, Fault};
use crate::diagnose::explain::Explanation;

/// Renders a recognised explanation.
pub fn render(explanation: &Explanation) -> String {
    let mut out = String::new();
    let target = explanation.target();
    let server = explanation
        .hosts
        .first()
        .map_or("your mail server", String::as_str);
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
        let _ = writeln!(out);
        let _ = writeln!(out, "{BOLD}What causes it, most likely first{BOLD:#}");
        for (index, mechanism) in found.mechanisms.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", index + 1, mechanism.describe());
            let _ = writeln!(out, "     Find out: {}", mechanism.command(target));
        }
        let _ = writeln!(out);
    }
    out
}
