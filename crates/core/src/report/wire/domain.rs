//! `mailtls check user@domain --json` (or a mail domain): where the domain's sources send
//! clients, what happens there, and the settings that work.

use schemars::JsonSchema;
use serde::Serialize;

use super::check::HostReport;
use super::{Dialog, Header, Kind, Recommendation};
use crate::clients::account_setup::{FoundBy, Prediction, TryResult};
use crate::clients::dialogs::Fault;
use crate::clients::discovery::Reaction;
use crate::clients::{Client, Outcome};
use crate::diagnose::Verdict;
use crate::diagnose::discovery::{DiscoveryReport, Entry, EntryStatus};
use crate::diagnose::summary::SummaryKind;
use crate::observation::{Security, ServerEntry, Source, SourceErrorKind};
use crate::provisioning::settings::{AccountSettings, ServerSetting};
use crate::service::{Protocol, TlsMode};

/// The report on a mail domain.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DomainReport {
    /// Schema version, kind (`check-domain`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// When the observations were made (RFC 3339, UTC).
    pub checked_at: String,
    /// When they were judged.
    pub judged_at: String,
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
    /// What the summary claims, as a stable name (docs/json.md lists them).
    pub summary_kind: SummaryKind,
    /// What to change in the provisioning.
    pub fix: Vec<String>,
    /// The server name to use (the verified incoming server, else the outgoing one), as in the
    /// host report.
    pub recommendation: Option<Recommendation>,
    /// Every server handed out, and every source that failed.
    pub discovery: Vec<DiscoveryEntry>,
    /// How Outlook and Thunderbird look for the settings, step by step, over what was found.
    pub client_discovery: Vec<ClientDiscovery>,
    /// Outlook shows a certificate dialog while it looks for the settings (its Autodiscover
    /// asked a server whose certificate does not fit); null otherwise.
    pub autodiscover_warning: Option<AutodiscoverWarning>,
    /// What Thunderbird's automatic account set-up will choose for the address.
    pub thunderbird_setup: ThunderbirdSetup,
    /// Per client, the settings that work without a warning.
    pub settings: Vec<ClientSettings>,
    /// What sending servers do with the domain's mail: MX port 25, MTA-STS, DANE, TLS-RPT;
    /// null when it was not observed (`--no-inbound`, or a file saved before it was).
    pub inbound: Option<super::delivery::Inbound>,
    /// The full report on every host handed out.
    pub hosts: Vec<HostReport>,
    /// With `--reputation`: blocklists, reverse DNS and SMTP names of the domain's MX hosts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<super::reputation::Reputation>,
}

/// One server a source hands out, or one source that failed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiscoveryEntry {
    /// Where the name came from.
    pub source: Source,
    /// The DNS record or URL.
    pub url_or_record: String,
    /// The name handed out (empty for source errors and "not offered").
    pub hostname: String,
    /// The port handed out.
    pub port: Option<u16>,
    /// The security handed out.
    pub security: Option<Security>,
    /// What happens to a client sent there.
    pub status: EntryStatus,
    /// The problem code, the source's error, or null.
    pub detail: Option<String>,
    /// For a source error, its kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SourceErrorKind>,
    /// A verified name to hand out instead, when the name handed out is not covered.
    pub instead: Option<String>,
    /// Whether a client gets as far as this source: false only for Thunderbird's steps 5 and 6
    /// (Mozilla's ISP database, the MX host's provider) when it finds settings before them;
    /// the summary leaves such entries out.
    pub reached: bool,
}

impl From<&Entry> for DiscoveryEntry {
    fn from(entry: &Entry) -> DiscoveryEntry {
        DiscoveryEntry {
            source: entry.source,
            url_or_record: entry.url_or_record.clone(),
            hostname: entry.hostname.clone(),
            port: entry.port,
            security: entry.security,
            status: entry.status,
            detail: entry.detail.clone(),
            error: entry.error,
            instead: entry.instead.clone(),
            reached: entry.reached,
        }
    }
}

/// One client's search for the settings.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientDiscovery {
    /// The client.
    pub client: Client,
    /// Whether a step gave settings the client uses.
    pub found: bool,
    /// The steps, in the client's order, up to the one it uses.
    pub steps: Vec<DiscoveryStep>,
}

/// One step of a client's search.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiscoveryStep {
    /// What the client asks at this step.
    pub asks: &'static str,
    /// The URL or record mailtls asked for it; null for a step mailtls does not ask.
    pub asked: Option<String>,
    /// What the client does: `uses`, `skips`, `shows-dialog` or `not-asked`.
    pub reaction: Reaction,
    /// What the step answered, in words.
    pub answer: String,
    /// The dialog it shows, for `shows-dialog`.
    pub dialog: Option<Dialog>,
    /// Where the behaviour is documented.
    pub source: &'static str,
    /// Whether the source settles it for current versions.
    pub certain: bool,
}

/// What Thunderbird's automatic account set-up will choose.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ThunderbirdSetup {
    /// Where the settings come from: `shipped-file`, `autoconfig`, `autoconfig-well-known`,
    /// `autoconfig-http`, `autoconfig-well-known-http`, `ispdb`, `mx-domain`, `autodiscover`,
    /// `guess`, or `nothing` (the user types them).
    pub found_by: FoundBy,
    /// The URL, record or host names that gave them.
    pub from: Option<String>,
    /// The incoming server chosen.
    pub incoming: Option<Server>,
    /// The outgoing server chosen; null with an incoming server when the settings name none.
    pub outgoing: Option<Server>,
    /// What mailtls does not know and could change the choice (each assumed to give nothing).
    pub unless: Vec<String>,
    /// Chosen servers where the first login does not simply connect.
    pub first_login: Vec<FirstLogin>,
    /// The guess, try by try in Thunderbird's order, up to the one chosen in each direction
    /// (empty when the guess did not run).
    pub guess: Vec<GuessTry>,
}

/// A chosen server where the first login meets a warning or a failure.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FirstLogin {
    /// The server.
    pub server: Server,
    /// Thunderbird's verdict there: `warns`, `fails` or `depends`.
    pub outcome: Outcome,
    /// The dialog the set-up shows at its login check, when it warns about a certificate.
    pub dialog: Option<Dialog>,
    /// Why, in words.
    pub reason: String,
}

/// One try of Thunderbird's guess.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GuessTry {
    /// The host, port and security tried.
    #[serde(flatten)]
    pub server: Server,
    /// `succeeds`, `fails` or `unknown`.
    pub result: TryResult,
    /// Why, in words.
    pub detail: String,
}

/// A server setting as the wire writes it.
fn entry(server: &ServerEntry) -> Server {
    Server {
        protocol: server.protocol,
        hostname: server.hostname.clone(),
        port: server.port,
        security: server.security,
    }
}

/// The prediction as the wire writes it.
fn thunderbird_setup(prediction: &Prediction) -> ThunderbirdSetup {
    ThunderbirdSetup {
        found_by: prediction.found_by,
        from: prediction.from.clone(),
        incoming: prediction.incoming.as_ref().map(entry),
        outgoing: prediction.outgoing.as_ref().map(entry),
        unless: prediction.unless.clone(),
        first_login: prediction
            .first_login
            .iter()
            .map(|login| FirstLogin {
                server: entry(&login.server),
                outcome: login.outcome,
                dialog: login.dialog.zip(login.fault).map(|(dialog, fault)| {
                    Dialog::new(
                        dialog,
                        fault,
                        &login.server.hostname,
                        Some(login.server.port),
                        Some("the account set-up's first login".to_string()),
                    )
                }),
                reason: login.reason.clone(),
            })
            .collect(),
        guess: prediction
            .guess
            .iter()
            .map(|tried| GuessTry {
                server: entry(&tried.server),
                result: tried.result,
                detail: tried.detail.clone(),
            })
            .collect(),
    }
}

/// Outlook's Autodiscover warning.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AutodiscoverWarning {
    /// The step of Outlook's search that shows it, numbered as in docs/clients.md (step 1, the
    /// Active Directory lookup, is one mailtls cannot ask).
    pub step: usize,
    /// The URL asked there.
    pub url: String,
    /// Its host.
    pub host: String,
    /// What is wrong with that host's certificate.
    pub fault: Fault,
    /// The names on that certificate.
    pub presented_names: Vec<String>,
    /// The dialog.
    pub dialog: Dialog,
    /// The mail servers handed out, when all of them work (empty otherwise).
    pub mail_servers_fine: Vec<String>,
}

crate::vocabulary::vocabulary! {
    /// The clients settings are given for.
    pub enum SettingsClient {
        /// Thunderbird.
        Thunderbird => "thunderbird",
        /// Outlook.
        Outlook => "outlook",
        /// iOS Mail.
        IosMail => "ios-mail",
    }
}

/// One client's settings.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientSettings {
    /// The client.
    pub client: SettingsClient,
    /// Reading mail.
    pub incoming: Option<Server>,
    /// Sending mail.
    pub outgoing: Option<Server>,
}

/// One server setting.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Server {
    /// `imap`, `pop3` or `smtp`.
    pub protocol: Protocol,
    /// Server name to type.
    pub hostname: String,
    /// Port.
    pub port: u16,
    /// `tls` (SSL/TLS) or `starttls`; `plain` (no encryption) only in Thunderbird's set-up.
    pub security: Security,
}

/// One server setting as the wire writes it.
pub fn server(server: &ServerSetting) -> Server {
    Server {
        protocol: server.service.protocol,
        hostname: server.host.clone(),
        port: server.service.port,
        security: match server.service.tls_mode {
            TlsMode::Implicit => Security::Tls,
            TlsMode::Starttls => Security::Starttls,
        },
    }
}

/// The settings, once per client (the same for each today; the list leaves room for clients
/// that need different ones).
pub fn client_settings(settings: &AccountSettings) -> Vec<ClientSettings> {
    SettingsClient::ALL
        .iter()
        .map(|client| ClientSettings {
            client: *client,
            incoming: settings.incoming.as_ref().map(server),
            outgoing: settings.outgoing.as_ref().map(server),
        })
        .collect()
}

/// The report on a mail domain, observed and judged at the given times (Unix seconds).
pub fn report(report: &DiscoveryReport, observed_at: i64, judged_at: i64) -> DomainReport {
    DomainReport {
        header: Header::new(Kind::CheckDomain),
        checked_at: super::time(observed_at),
        judged_at: super::time(judged_at),
        email: report.email.clone(),
        domain: report.domain.clone(),
        verdict: report.verdict,
        exit_code: report.verdict.exit_code(),
        summary: report.summary.clone(),
        summary_kind: report.summary_kind,
        fix: report.fixes.clone(),
        recommendation: report.recommendation.as_ref().map(Recommendation::from),
        discovery: report.entries.iter().map(DiscoveryEntry::from).collect(),
        client_discovery: report
            .walks
            .iter()
            .map(|(client, walk)| ClientDiscovery {
                client: *client,
                found: walk.iter().any(|w| w.reaction == Reaction::Uses),
                steps: walk
                    .iter()
                    .map(|w| DiscoveryStep {
                        asks: w.step.asks,
                        asked: w.asked.clone(),
                        reaction: w.reaction,
                        answer: w.answer.clone(),
                        dialog: w.dialog.map(|d| {
                            Dialog::new(d, Fault::WrongName, &report.domain, None, w.asked.clone())
                        }),
                        source: w.step.behaviour_source,
                        certain: w.step.certain,
                    })
                    .collect(),
            })
            .collect(),
        autodiscover_warning: report
            .autodiscover_warning
            .as_ref()
            .map(|w| AutodiscoverWarning {
                step: w.step,
                url: w.url.clone(),
                host: w.host.clone(),
                fault: w.fault,
                presented_names: w.presented.clone(),
                dialog: Dialog::new(
                    w.dialog,
                    w.fault,
                    &w.host,
                    None,
                    Some(format!("Outlook's Autodiscover step {}: {}", w.step, w.url)),
                ),
                mail_servers_fine: w.mail_servers_fine.clone(),
            }),
        thunderbird_setup: thunderbird_setup(&report.thunderbird_setup),
        settings: client_settings(&report.settings),
        inbound: report.delivery.as_ref().map(super::delivery::inbound),
        hosts: report
            .hosts
            .iter()
            .map(|h| super::check::host_report(h, observed_at, judged_at))
            .collect(),
        reputation: None,
    }
}
