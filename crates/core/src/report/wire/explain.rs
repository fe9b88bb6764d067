//! `mailtls explain --json`: what the text says is wrong, the error messages and dialogs it
//! matched, the names it carries, and the mechanisms behind them.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Dialog, Header, Kind};
use crate::diagnose::explain::{Closeness, Explanation, Finding, Mechanism, Producer};

/// What `explain --json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainOutput {
    /// Schema version, kind (`explain`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// What the text says is wrong, each once, most specific first.
    pub findings: Vec<Finding>,
    /// The error messages it carries (codes, library errors, log lines), in the order they
    /// stand.
    pub messages: Vec<ExplainMessage>,
    /// The dialogs the text matched, best first.
    pub matches: Vec<ExplainMatch>,
    /// The server name (or address) the client asked for, as the text says.
    pub asked: Option<String>,
    /// The names the text says the certificate is for.
    pub certificate_names: Vec<String>,
    /// The server's IP address, when the text gives it.
    pub server_address: Option<String>,
    /// The certificate's own name to use instead, when the text says the name does not match
    /// and names the certificate's.
    pub candidate: Option<String>,
    /// What produces it, most likely first, with the command that finds out.
    pub mechanisms: Vec<ExplainMechanism>,
    /// Server names found anywhere in the text.
    pub hosts: Vec<String>,
    /// E-mail addresses found in the text.
    pub addresses: Vec<String>,
}

/// One error message the text carries.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainMessage {
    /// Stable id (producer/name).
    pub id: &'static str,
    /// Who writes it.
    pub producer: Producer,
    /// What it says is wrong.
    pub finding: Finding,
    /// Its form found in the text (lower case).
    pub matched: &'static str,
    /// Where its words come from.
    pub source: &'static str,
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
    let mechanism = |mechanism: &Mechanism| ExplainMechanism {
        mechanism: *mechanism,
        description: mechanism.describe(),
        command: mechanism.command(target),
    };
    let server = explanation
        .facts
        .asked
        .as_deref()
        .or(explanation.hosts.first().map(String::as_str))
        .unwrap_or("your mail server");
    ExplainOutput {
        header: Header::new(Kind::Explain),
        findings: explanation.findings.clone(),
        messages: explanation
            .messages
            .iter()
            .map(|m| ExplainMessage {
                id: m.message.id,
                producer: m.message.producer,
                finding: m.finding,
                matched: m.matched,
                source: m.message.source,
            })
            .collect(),
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
                mechanisms: m.mechanisms.iter().map(mechanism).collect(),
            })
            .collect(),
        asked: explanation.facts.asked.clone(),
        certificate_names: explanation.facts.certificate_names.clone(),
        server_address: explanation.facts.address.clone(),
        candidate: explanation.candidate().map(str::to_string),
        mechanisms: explanation.mechanisms.iter().map(mechanism).collect(),
        hosts: explanation.hosts.clone(),
        addresses: explanation.addresses.clone(),
    }
}
