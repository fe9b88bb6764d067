//! What a result page shows, computed once when a check ends and stored with it (so a permalink
//! shows the same page on every instance, later, without judging again): the verdict in plain
//! words, what to change per client with the exact field names, each client's verdict, the
//! blocklist answer and whether the warnings can cost mail, a mail domain's inbound delivery,
//! and the full text report for the folded details.

use serde::{Deserialize, Serialize};

use super::inbound::{self, CostsLine, InboundSection};
use mailtls_core::clients::{Client, Outcome};
use mailtls_core::diagnose::Verdict;
use mailtls_core::diagnose::reputation::MISMATCH_STATEMENT;
use mailtls_core::provisioning::settings::{self, AccountSettings};
use mailtls_core::report;
use mailtls_core::report::instructions::instructions;
use mailtls_core::report::wire::check::{CheckOutput, HostReport};
use mailtls_core::run::check::{CheckReport, Checked};

/// A result page's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageModel {
    /// What was checked, as shown.
    pub target: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The one-line answer.
    pub summary: String,
    /// What to do, in order.
    pub fix: Vec<String>,
    /// The server name verified to work, when there is one.
    pub verified_name: Option<String>,
    /// Why it is the one to use, and what was verified.
    pub verified_reason: Option<String>,
    /// Per client: its name and the fields to set.
    pub instructions: Vec<ClientFields>,
    /// Per client: what it does today with the servers as they are.
    pub clients: Vec<ClientLine>,
    /// The answer to "can these warnings get us blocklisted?".
    pub blocklist: String,
    /// The answer to "can they cost us mail?", from the mail domain's MTA-STS and DANE; `None`
    /// for a host checked alone (and in pages stored before it was given).
    #[serde(default)]
    pub costs_mail: Option<CostsLine>,
    /// What sending servers do with a mail domain's mail (`None` for a host).
    #[serde(default)]
    pub inbound: Option<InboundSection>,
    /// The full report, as the command line prints it (no colour).
    pub details: String,
    /// When the servers were checked (RFC 3339).
    pub checked_at: String,
}

/// The fields to set in one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFields {
    /// The client's name.
    pub client: String,
    /// One line per server: menu path, field names and values.
    pub lines: Vec<String>,
}

/// One client's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientLine {
    /// The client's name.
    pub client: String,
    /// What it does.
    pub verdict: Outcome,
    /// The dialog it shows, in its own words (title: line).
    pub dialog: Option<String>,
}

impl PageModel {
    /// The page of `report`, whose JSON output is `output` (per-client verdicts are read from
    /// there, where each endpoint's are already settled, dialogs included).
    pub fn new(report: &CheckReport, output: &CheckOutput) -> PageModel {
        let (target, verdict, summary, fix, recommendation, card) = match &report.checked {
            Checked::Host(host) => {
                let d = &host.diagnosis;
                let card = d
                    .recommendation
                    .as_ref()
                    .map(|r| settings::choose(&r.server_name, &r.verified_ports));
                (
                    d.target.to_string(),
                    d.verdict,
                    report::summary(d),
                    report::fix(d),
                    d.recommendation.clone(),
                    card,
                )
            }
            Checked::Domain(domain) => {
                let r = &domain.report;
                let card = (r.settings.incoming.is_some() || r.settings.outgoing.is_some())
                    .then(|| r.settings.clone());
                (
                    r.email.clone(),
                    r.verdict,
                    r.summary.clone(),
                    r.fixes.clone(),
                    r.recommendation.clone(),
                    card,
                )
            }
        };
        let verified = recommendation.as_ref().filter(|r| r.verified);
        PageModel {
            target,
            verdict,
            summary,
            fix,
            verified_name: verified.map(|r| r.server_name.clone()),
            verified_reason: recommendation.as_ref().map(|r| r.reason.clone()),
            instructions: card.as_ref().map(fields).unwrap_or_default(),
            clients: client_lines(output),
            blocklist: MISMATCH_STATEMENT.to_string(),
            costs_mail: inbound::costs(report),
            inbound: inbound::section(report),
            details: anstream::adapter::strip_str(&report::check(report)).to_string(),
            checked_at: mailtls_core::analyze::cert::rfc3339(report.observed_at),
        }
    }
}

fn fields(card: &AccountSettings) -> Vec<ClientFields> {
    instructions(card)
        .into_iter()
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(client, lines)| ClientFields {
            client: client.to_string(),
            lines,
        })
        .collect()
}

/// The worst verdict of each client over every endpoint of the output, with the dialog of the
/// worst.
fn client_lines(output: &CheckOutput) -> Vec<ClientLine> {
    let hosts: Vec<&HostReport> = match output {
        CheckOutput::Host(host) => vec![host],
        CheckOutput::Domain(domain) => domain.hosts.iter().collect(),
    };
    let mut worst: Vec<(Client, Outcome, Option<String>)> = Vec::new();
    let verdicts = hosts
        .into_iter()
        .flat_map(|host| &host.endpoints)
        .flat_map(|endpoint| &endpoint.clients);
    for verdict in verdicts {
        let (client, outcome) = (verdict.client, verdict.verdict);
        let dialog = verdict
            .dialog
            .as_ref()
            .map(|d| format!("{}: {}", d.title, d.line));
        match worst.iter_mut().find(|(c, ..)| *c == client) {
            Some(entry) if outcome > entry.1 => *entry = (client, outcome, dialog),
            Some(_) => {}
            None => worst.push((client, outcome, dialog)),
        }
    }
    worst.sort_by_key(|(client, ..)| *client);
    worst
        .into_iter()
        .map(|(client, outcome, dialog)| ClientLine {
            client: client.name().to_string(),
            verdict: outcome,
            dialog,
        })
        .collect()
}
