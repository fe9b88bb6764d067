//! The discovery report: the verdict and the provisioning fixes first, then where each source
//! sends clients and what happens there, then the settings that work without a warning, then a
//! line per host checked. Also its JSON form (docs/json.md).

use std::fmt::Write as _;

use super::style::{BOLD, DIM, GREEN, RED, YELLOW};
use serde::Serialize;

use super::settings::{self, AccountSettings, ServerSetting};
use super::wire;
use crate::diagnose::Verdict;
use crate::diagnose::discovery::{DiscoveryReport, Entry, Status};
use crate::discover::autoconfig::Security;
use crate::service::TlsMode;

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
    let card = settings::instructions(&report.settings);
    if report.settings.incoming.is_none() && report.settings.outgoing.is_none() {
        let _ = writeln!(
            out,
            "{RED}No server name was verified to work without a warning.{RED:#}"
        );
    } else {
        let _ = writeln!(out, "{BOLD}Settings that work without a warning{BOLD:#}");
        for (client, lines) in card {
            let _ = writeln!(out, "  {client}");
            for line in lines {
                let _ = writeln!(out, "    {line}");
            }
        }
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

fn write_entry(out: &mut String, entry: &Entry) {
    let (style, word) = match entry.status {
        Status::Works => (GREEN, "works"),
        Status::NameNotCovered => (RED, "name not on certificate"),
        Status::CertificateProblem => (RED, "certificate problem"),
        Status::Plaintext => (RED, "no encryption"),
        Status::Unreachable => (YELLOW, "unreachable"),
        Status::NotOffered => (DIM, "not offered"),
        Status::SourceError => (YELLOW, "source error"),
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
    let _ = write!(
        out,
        "  {:<22}{:<34} {:<36} {style}{word}{style:#}",
        entry.source.as_str(),
        shorten(&entry.url_or_record, 34),
        server
    );
    match (&entry.instead, &entry.detail) {
        (Some(instead), _) => {
            let _ = write!(out, ": use {instead}");
        }
        (None, Some(detail)) if entry.status != Status::Works => {
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

/// The JSON form.
#[derive(Debug, Serialize)]
pub struct Wire {
    /// Schema version (the same as `check`'s).
    pub schema_version: u32,
    /// The address placeholders were filled with.
    pub email: String,
    /// The mail domain.
    pub domain: String,
    /// `ok`, `warn`, `fail`, `unknown`.
    pub verdict: Verdict,
    /// The exit status for this verdict.
    pub exit_code: u8,
    /// The answer in one sentence.
    pub summary: String,
    /// What to change in the provisioning.
    pub fix: Vec<String>,
    /// Every server handed out, and every source that failed.
    pub discovery: Vec<Entry>,
    /// Per client, the settings that work without a warning.
    pub settings: Vec<WireClientSettings>,
    /// The full check report of every host handed out.
    pub hosts: Vec<wire::Report>,
    /// With `--reputation`: blocklists, reverse DNS and SMTP names of the domain's MX hosts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<super::reputation::Wire>,
}

/// One client's settings.
#[derive(Debug, Serialize)]
pub struct WireClientSettings {
    /// `thunderbird`, `outlook` or `ios-mail`.
    pub client: &'static str,
    /// Reading mail.
    pub incoming: Option<WireServer>,
    /// Sending mail.
    pub outgoing: Option<WireServer>,
}

/// One server setting.
#[derive(Debug, Serialize)]
pub struct WireServer {
    /// `imap`, `pop3` or `smtp`.
    pub protocol: crate::service::Protocol,
    /// Server name to type.
    pub hostname: String,
    /// Port.
    pub port: u16,
    /// `tls` (SSL/TLS) or `starttls`.
    pub security: Security,
}

fn wire_server(server: &ServerSetting) -> WireServer {
    WireServer {
        protocol: server.service.protocol,
        hostname: server.host.clone(),
        port: server.service.port,
        security: match server.service.tls_mode {
            TlsMode::Implicit => Security::Tls,
            TlsMode::Starttls => Security::Starttls,
        },
    }
}

fn client_settings(settings: &AccountSettings) -> Vec<WireClientSettings> {
    ["thunderbird", "outlook", "ios-mail"]
        .into_iter()
        .map(|client| WireClientSettings {
            client,
            incoming: settings.incoming.as_ref().map(wire_server),
            outgoing: settings.outgoing.as_ref().map(wire_server),
        })
        .collect()
}

/// Builds the JSON form.
pub fn wire(report: &DiscoveryReport, checked_at: i64) -> Wire {
    Wire {
        schema_version: wire::SCHEMA_VERSION,
        email: report.email.clone(),
        domain: report.domain.clone(),
        verdict: report.verdict,
        exit_code: report.verdict.exit_code(),
        summary: report.summary.clone(),
        fix: report.fixes.clone(),
        discovery: report.entries.clone(),
        settings: client_settings(&report.settings),
        hosts: report
            .hosts
            .iter()
            .map(|h| wire::report(h, checked_at))
            .collect(),
        reputation: None,
    }
}
