//! `mailtls explain --json`: the dialogs pasted text matched, and the mechanisms behind them.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Dialog, Header, Kind};
use crate::diagnose::explain::{Closeness, Explanation, Mechanism};

/// What `explain --json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainOutput {
    /// Schema version, kind (`explain`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// The dialogs the text matched, best first.
    pub matches: Vec<ExplainMatch>,
    /// Server names found in the text.
    pub hosts: Vec<String>,
    /// E-mail addresses found in the text.
    pub addresses: Vec<String>,
}

/// One dialog the text matched.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainMatch {
    /// The dialog, its words and when it appears.
    pub dialog: Dialog,
    /// The dialog's line (or title) that matched.
    pub matched_line: &'static str,
    /// How well.
    pub closeness: Closeness,
    /// What produces it, most likely first.
    pub mechanisms: Vec<ExplainMechanism>,
}

/// One mechanism, and how to find out whether it is the one.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainMechanism {
    /// Stable id.
    pub mechanism: Mechanism,
    /// What happens, for people.
    pub description: &'static str,
    /// The command that finds out.
    pub command: String,
}

/// The JSON form of an explanation.
pub fn output(explanation: &Explanation) -> ExplainOutput {
    let target = explanation.target();
    let server = explanation
        .hosts
        .first()
        .map_or("your mail server", String::as_str);
    ExplainOutput {
        header: Header::new(Kind::Explain),
        matches: explanation
            .matches
            .iter()
            .map(|m| ExplainMatch {
                dialog: Dialog::new(
                    m.dialog,
                    m.fault.unwrap_or(crate::clients::dialogs::Fault::WrongName),
                    server,
                    None,
                    None,
                ),
                matched_line: m.line,
                closeness: m.closeness,
                mechanisms: m
                    .mechanisms
                    .iter()
                    .map(|mechanism| ExplainMechanism {
                        mechanism: *mechanism,
                        description: mechanism.describe(),
                        command: mechanism.command(target),
                    })
                    .collect(),
            })
            .collect(),
        hosts: explanation.hosts.clone(),
        addresses: explanation.addresses.clone(),
    }
}
