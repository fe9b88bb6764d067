//! The human report: verdict and fix first, then the port table, the problems explained, what to
//! change in each client, and the certificates seen.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::style::{BOLD, DIM, GREEN, RED, YELLOW};

use super::instructions;
use crate::analyze::cert::date;
use crate::clients::dialogs::{self, During, When};
use crate::clients::{Client, Outcome};
use crate::diagnose::{Code, Diagnosis, Severity, Verdict};
use crate::provisioning::settings;
use crate::tls_catalog::TlsVersion;

/// Renders the report. Styles are ANSI escapes; the caller's stream strips them when the output
/// is not a terminal or `NO_COLOR` is set (anstream does both).
pub fn render(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    let verdict_style = super::style::verdict(diagnosis.verdict);
    let _ = writeln!(
        out,
        "{verdict_style}{}{verdict_style:#}",
        super::summary(diagnosis)
    );
    for step in super::fix(diagnosis) {
        let _ = writeln!(out, "  {BOLD}→{BOLD:#} {step}");
    }
    let _ = writeln!(out);

    let addresses: Vec<String> = diagnosis
        .addresses
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = writeln!(
        out,
        "{BOLD}Server{BOLD:#} {} ({})",
        diagnosis.target,
        addresses.join(", ")
    );
    let many = diagnosis.addresses.len() > 1;
    let _ = writeln!(
        out,
        "  {:<6}{:<13}{:<10}{}RESULT",
        "PORT",
        "SERVICE",
        "TLS",
        if many {
            format!("{:<40}", "ADDRESS")
        } else {
            String::new()
        },
    );
    for endpoint in &diagnosis.endpoints {
        let o = &endpoint.observation;
        let result = endpoint.result();
        let style = match endpoint.problems.first().map(|p| p.severity) {
            None if endpoint.analysis.is_some() => GREEN,
            Some(Severity::Error) => RED,
            Some(Severity::Warning) => YELLOW,
            _ => DIM,
        };
        let tls = o
            .tls
            .as_ref()
            .and_then(|t| t.version.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<6}{:<13}{:<10}{}{style}{result}{style:#} {DIM}{tls}{DIM:#}",
            o.service.port,
            o.service.label(),
            o.service.tls_mode.label(),
            if many {
                format!("{:<40}", o.address)
            } else {
                String::new()
            },
        );
    }
    let _ = writeln!(out);

    // Each distinct problem once, with the ports it affects.
    let mut grouped: BTreeMap<(Severity, Code, &str), Vec<String>> = BTreeMap::new();
    for endpoint in &diagnosis.endpoints {
        for problem in &endpoint.problems {
            let place = endpoint.observation.place(many);
            grouped
                .entry((problem.severity, problem.code, problem.message.as_str()))
                .or_default()
                .push(place);
        }
    }
    if !grouped.is_empty() || !diagnosis.problems.is_empty() {
        let _ = writeln!(out, "{BOLD}Problems{BOLD:#}");
        for problem in &diagnosis.problems {
            write_problem(
                &mut out,
                problem.severity,
                problem.code,
                &problem.message,
                "server",
            );
        }
        for ((severity, code, message), places) in &grouped {
            let label = format!(
                "{} {}",
                if places.len() > 1 { "ports" } else { "port" },
                places.join(", ")
            );
            write_problem(&mut out, *severity, *code, message, &label);
        }
        let _ = writeln!(out);
    }

    write_clients(&mut out, diagnosis, many);
    write_dialogs(&mut out, diagnosis, many);
    write_versions(&mut out, diagnosis, many);

    if let Some(recommendation) = &diagnosis.recommendation {
        let card = settings::choose(&recommendation.server_name, &recommendation.verified_ports);
        let _ = writeln!(
            out,
            "{BOLD}What to change{BOLD:#} (server name {}, verified)",
            recommendation.server_name
        );
        for (client, lines) in instructions::instructions(&card) {
            if lines.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {BOLD}{client}{BOLD:#}");
            for line in lines {
                let _ = writeln!(out, "    {line}");
            }
        }
        let _ = writeln!(out, "  {DIM}{}{DIM:#}", recommendation.reason);
        let _ = writeln!(out);
    } else if diagnosis.verdict == Verdict::Fail {
        let _ = writeln!(out, "{BOLD}What to change{BOLD:#}");
        let _ = writeln!(
            out,
            "  No server name works without a warning on this server yet: the certificate itself must be fixed (see above)."
        );
        let _ = writeln!(out);
    }

    let mut certificates: BTreeMap<&str, (&crate::analyze::cert::CertInfo, Vec<String>)> =
        BTreeMap::new();
    for endpoint in &diagnosis.endpoints {
        if let Some(leaf) = endpoint.analysis.as_ref().and_then(|a| a.leaf()) {
            certificates
                .entry(leaf.sha256.as_str())
                .or_insert((leaf, Vec::new()))
                .1
                .push(endpoint.observation.service.port.to_string());
        }
    }
    if !certificates.is_empty() {
        let _ = writeln!(out, "{BOLD}Certificates{BOLD:#}");
        for (sha, (cert, ports)) in certificates {
            let names = cert.presented_names().join(", ");
            let _ = writeln!(out, "  {names}  {DIM}(ports {}){DIM:#}", ports.join(", "));
            let _ = writeln!(
                out,
                "    {DIM}issuer {} · valid {} to {} · sha256 {}…{DIM:#}",
                cert.issuer,
                date(cert.not_before),
                date(cert.not_after),
                sha.get(..16).unwrap_or(sha)
            );
        }
    }
    out
}

/// One line per client and distinct outcome: the verdict, the ports, and the rule that decided.
fn write_clients(out: &mut String, diagnosis: &Diagnosis, many: bool) {
    let mut by_client: BTreeMap<Client, BTreeMap<(Outcome, String), Vec<String>>> = BTreeMap::new();
    for endpoint in &diagnosis.endpoints {
        for verdict in &endpoint.clients {
            let reason = verdict
                .deciding()
                .map(|f| {
                    format!(
                        "{}{} [{}]",
                        f.detail,
                        if f.certain {
                            ""
                        } else {
                            " (not confirmed by a source)"
                        },
                        f.rule
                    )
                })
                .unwrap_or_default();
            by_client
                .entry(verdict.client)
                .or_default()
                .entry((verdict.verdict, reason))
                .or_default()
                .push(endpoint.observation.place(many));
        }
    }
    if by_client.is_empty() {
        return;
    }
    let _ = writeln!(out, "{BOLD}Mail clients{BOLD:#}");
    for (client, groups) in &by_client {
        for ((outcome, reason), places) in groups {
            let style = match outcome {
                Outcome::Works => GREEN,
                Outcome::Depends => BOLD,
                Outcome::Warns => YELLOW,
                Outcome::Fails => RED,
            };
            let _ = write!(
                out,
                "  {:<19}{style}{:<7}{style:#} {} {}",
                client.name(),
                outcome.as_str(),
                if places.len() > 1 { "ports" } else { "port" },
                places.join(", ")
            );
            if reason.is_empty() {
                let _ = writeln!(out);
            } else {
                let _ = writeln!(out, ": {reason}");
            }
        }
    }
    let _ = writeln!(out);
}

/// What each client puts on the screen, in its own words, when and where.
fn write_dialogs(out: &mut String, diagnosis: &Diagnosis, many: bool) {
    let server = diagnosis.target.to_string();
    // (client, dialog, words) -> what the user is doing -> the ports.
    type Places = BTreeMap<Option<During>, Vec<String>>;
    let mut seen: BTreeMap<(Client, &str, String), Places> = BTreeMap::new();
    let mut when: BTreeMap<&str, &str> = BTreeMap::new();
    for endpoint in &diagnosis.endpoints {
        let port = endpoint.observation.service.port;
        for verdict in &endpoint.clients {
            let (Some(dialog), Some(fault)) = (verdict.dialog, verdict.fault()) else {
                continue;
            };
            let line = dialogs::fill(dialog.key_line(fault), &server, Some(port));
            when.insert(dialog.id, describe_when(dialog.when));
            let title = dialogs::fill(dialog.title, &server, None);
            seen.entry((verdict.client, dialog.id, format!("\"{title}\": {line}")))
                .or_default()
                .entry(During::of(dialog, Some(port)))
                .or_default()
                .push(endpoint.observation.place(many));
        }
    }
    if seen.is_empty() {
        return;
    }
    let _ = writeln!(out, "{BOLD}What users see{BOLD:#}");
    for ((client, id, words), places) in &seen {
        let wheres: Vec<String> = places
            .iter()
            .map(|(during, places)| {
                let ports = format!(
                    "{} {}",
                    if places.len() > 1 { "ports" } else { "port" },
                    places.join(", ")
                );
                match during {
                    Some(during) => format!("{} ({ports})", describe_during(*during)),
                    None => ports,
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<19}{words}\n  {:<19}{DIM}{}: {}{DIM:#}",
            client.name(),
            "",
            when.get(id).copied().unwrap_or_default(),
            wheres.join(" and ")
        );
    }
    let _ = writeln!(out);
}

/// What the user is doing when a dialog appears, for people.
pub fn describe_during(during: During) -> &'static str {
    match during {
        During::FindingSettings => "while it looks for the account's settings",
        During::CheckingMail => "when checking mail",
        During::Sending => "when sending",
    }
}

/// When a dialog appears, for people.
pub fn describe_when(when: When) -> &'static str {
    match when {
        When::AtStart => "at every start",
        When::EveryConnection => "on every connection until accepted",
        When::UntilExceptionStored => "until the user stores a permanent exception",
        When::AccountSetup => "while the account is set up",
        When::OncePerSession => "once each time it starts, at its first connection",
    }
}

/// The versions each port accepts, its weak suites, and the client releases locked out.
fn write_versions(out: &mut String, diagnosis: &Diagnosis, many: bool) {
    let known: Vec<_> = diagnosis
        .endpoints
        .iter()
        .filter_map(|e| e.versions.as_ref().map(|v| (e, v)))
        .collect();
    if known.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{BOLD}TLS versions{BOLD:#}  {:<14}1.0  1.1  1.2  1.3  weak suites",
        ""
    );
    for (endpoint, report) in &known {
        let _ = write!(out, "  {:<26}", endpoint.observation.place(many));
        for version in TlsVersion::TLS {
            let (style, word) = match report.accepted(version) {
                Some(true) if version < TlsVersion::Tls12 => (YELLOW, "yes"),
                Some(true) => (GREEN, "yes"),
                Some(false) => (DIM, "no"),
                None => (DIM, "?"),
            };
            let _ = write!(out, "{style}{word:<5}{style:#}");
        }
        let weak = match &report.weak {
            None => "?".to_string(),
            Some(w) if w.is_empty() => "none".to_string(),
            Some(w) => w
                .iter()
                .map(|s| s.weakness.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(out, "{weak}");
    }
    // Releases that cannot talk to some client port, with the ports.
    let mut locked_out: BTreeMap<&str, (bool, Vec<String>)> = BTreeMap::new();
    for (endpoint, _) in &known {
        for c in endpoint
            .compatibility
            .iter()
            .filter(|c| c.negotiates == Some(false))
        {
            let entry = locked_out
                .entry(c.release)
                .or_insert((c.certain, Vec::new()));
            entry.1.push(endpoint.observation.place(many));
        }
    }
    for (release, (certain, places)) in &locked_out {
        let _ = writeln!(
            out,
            "  {RED}cannot connect{RED:#}: {release}{} on {} {}",
            if *certain {
                ""
            } else {
                " (not confirmed by a source)"
            },
            if places.len() > 1 { "ports" } else { "port" },
            places.join(", ")
        );
    }
    let _ = writeln!(out);
}

fn write_problem(out: &mut String, severity: Severity, code: Code, message: &str, label: &str) {
    let (style, word) = match severity {
        Severity::Error => (RED, "error"),
        Severity::Warning => (YELLOW, "warning"),
        Severity::Info => (DIM, "info"),
    };
    let _ = writeln!(
        out,
        "  {style}{word}{style:#} {BOLD}{}{BOLD:#} ({label})",
        code.as_str()
    );
    let _ = writeln!(out, "    {message}");
}
