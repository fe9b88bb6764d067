//! Every JSON output mailtls writes, in one place: serialize-only types, separate from the
//! domain types, so the schema stays stable while the internals change. Closed vocabularies
//! (problem codes, verdicts, protocols...) are the `vocabulary!` enums, whose names are fixed
//! by their own tables.
//!
//! Each output opens with the same three fields ([`Header`]): `schema_version` ([`SCHEMA_VERSION`],
//! bumped on any incompatible change), `kind`, and `mailtls_version`. [`schemas`] generates the
//! JSON Schema of each output from these types (schemars); `docs/schema/` holds the committed
//! copies, and the tests check both that they are current and that every output validates.

pub mod check;
pub mod delivery;
pub mod domain;
pub mod explain;
pub mod provision;
pub mod reputation;
pub mod tlsrpt;
pub mod verify;

use schemars::JsonSchema;
use serde::Serialize;

use crate::analyze::cert::{CertInfo, rfc3339};
use crate::clients::dialogs::{self, Dialog as DomainDialog, During, Fault, When};
use crate::clients::{Client, ClientVerdict as DomainClientVerdict, Outcome};
use crate::diagnose::Severity;
use crate::diagnose::{Code, Problem as DomainProblem, Recommendation as DomainRecommendation};

/// Version of the JSON outputs; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

crate::vocabulary::vocabulary! {
    /// Which output a JSON document is.
    pub enum Kind {
        /// `mailtls check HOST --json`.
        CheckHost => "check-host",
        /// `mailtls check user@domain --json`, or a mail domain.
        CheckDomain => "check-domain",
        /// `mailtls reputation --json`.
        Reputation => "reputation",
        /// `mailtls cert verify --json`.
        CertVerify => "cert-verify",
        /// `mailtls provision --json`.
        Provision => "provision",
        /// `mailtls explain --json`.
        Explain => "explain",
        /// One line of `mailtls scan --json-lines`: one target's result.
        ScanTarget => "scan-target",
        /// `mailtls scan report --json`.
        ScanReport => "scan-report",
        /// `mailtls scan diff --json`.
        ScanDiff => "scan-diff",
        /// `mailtls scan status --json`.
        ScanStatus => "scan-status",
        /// `mailtls tlsrpt --json`.
        Tlsrpt => "tlsrpt",
    }
}

/// The fields every output opens with.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Header {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Which output this is.
    pub kind: Kind,
    /// The mailtls version that wrote it.
    pub mailtls_version: &'static str,
}

impl Header {
    /// The header of a `kind` output.
    pub fn new(kind: Kind) -> Header {
        Header {
            schema_version: SCHEMA_VERSION,
            kind,
            mailtls_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// One problem: a stable code, how bad, the words, and the same facts for programs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Problem {
    /// Stable code (docs/json.md lists every one).
    pub code: Code,
    /// `error` (clients warn or fail), `warning` or `info`.
    pub severity: Severity,
    /// Plain words, with the names and dates involved.
    pub message: String,
    /// The server name (or address) the client used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_name: Option<String>,
    /// The names the certificate presents.
    pub presented_names: Vec<String>,
    /// A name on the certificate that reaches the same server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_name: Option<String>,
    /// Whether a test connection with `suggested_name` was accepted on every client port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion_verified: Option<bool>,
    /// The ports where the problem was seen.
    pub ports: Vec<u16>,
    /// The certificate concerned (subject).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The issuer that is missing or untrusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The date that matters (expiry, start of validity), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Where a missing intermediate can be fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The client rules (docs/clients.md) that decide what mail clients do about it.
    pub rules: Vec<&'static str>,
    /// The dialog each mail client shows because of it, and where.
    pub dialogs: Vec<Dialog>,
}

/// A dialog a mail client shows: its words, when, and what caused it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Dialog {
    /// Stable id (docs/clients.md).
    pub id: &'static str,
    /// The client.
    pub client: Client,
    /// The window's title.
    pub title: String,
    /// What is wrong, as far as the dialog's words go: `wrong-name`, `dates` or `untrusted`.
    pub fault: Fault,
    /// The line that says what is wrong.
    pub line: String,
    /// Every line, as shown.
    pub text: Vec<String>,
    /// When it appears.
    pub when: When,
    /// What the user is doing when it appears: `finding-settings`, `checking-mail` or
    /// `sending`; null when the port is not known (e.g. `cert verify`).
    pub during: Option<During>,
    /// The port, or the step of the client's search, that caused it; null on a client verdict
    /// (the endpoint is the cause).
    pub cause: Option<String>,
    /// Whether a source settles the words for current versions.
    pub certain: bool,
}

impl Dialog {
    /// `dialog` for `fault`, with its placeholders filled by `server` (and `port`, when known).
    pub fn new(
        dialog: &'static DomainDialog,
        fault: Fault,
        server: &str,
        port: Option<u16>,
        cause: Option<String>,
    ) -> Dialog {
        let fill = |line: &str| dialogs::fill(line, server, port);
        Dialog {
            id: dialog.id,
            client: dialog.client,
            title: fill(dialog.title),
            fault,
            line: fill(dialog.key_line(fault)),
            text: dialog.text.iter().map(|line| fill(line)).collect(),
            when: dialog.when,
            during: During::of(dialog, port),
            cause,
            certain: dialog.certain
                && dialog
                    .variants
                    .iter()
                    .find(|v| v.fault == fault)
                    .is_none_or(|v| v.certain),
        }
    }
}

impl Problem {
    /// The wire form of `problem`, with `server` (the name asked) filling the dialogs' words.
    pub fn new(problem: &DomainProblem, server: &str) -> Problem {
        let context = &problem.context;
        Problem {
            code: problem.code,
            severity: problem.severity,
            message: problem.message.clone(),
            expected_name: context.expected_name.clone(),
            presented_names: context.presented_names.clone(),
            suggested_name: context.suggested_name.clone(),
            suggestion_verified: context.suggestion_verified,
            ports: context.ports.clone(),
            certificate: context.certificate.clone(),
            issuer: context.issuer.clone(),
            date: context.date.clone(),
            url: context.url.clone(),
            rules: context.rules.clone(),
            dialogs: context
                .dialogs
                .iter()
                .map(|shown| {
                    Dialog::new(
                        shown.dialog,
                        shown.fault,
                        server,
                        shown.port,
                        Some(shown.cause.clone()),
                    )
                })
                .collect(),
        }
    }
}

/// Problems, in order; `server` is the name asked.
pub fn problems(problems: &[DomainProblem], server: &str) -> Vec<Problem> {
    problems.iter().map(|p| Problem::new(p, server)).collect()
}

/// The server name to use.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Recommendation {
    /// Name to configure.
    pub server_name: String,
    /// Confirmed by a test connection on every client port offering TLS.
    pub verified: bool,
    /// Why, and what was verified.
    pub reason: String,
    /// Ports where it was confirmed.
    pub verified_ports: Vec<u16>,
}

impl From<&DomainRecommendation> for Recommendation {
    fn from(r: &DomainRecommendation) -> Recommendation {
        Recommendation {
            server_name: r.server_name.clone(),
            verified: r.verified,
            reason: r.reason.clone(),
            verified_ports: r.verified_ports.iter().map(|s| s.port).collect(),
        }
    }
}

/// One certificate.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Certificate {
    /// PEM encoding.
    pub pem: String,
    /// Subject DN.
    pub subject: String,
    /// subjectAltName dNSName entries.
    pub san_dns: Vec<String>,
    /// subjectAltName iPAddress entries.
    pub san_ip: Vec<String>,
    /// Issuer DN.
    pub issuer: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

impl From<&CertInfo> for Certificate {
    fn from(cert: &CertInfo) -> Self {
        Certificate {
            pem: cert.pem(),
            subject: cert.subject.clone(),
            san_dns: cert.san_dns.clone(),
            san_ip: cert.san_ip.iter().map(ToString::to_string).collect(),
            issuer: cert.issuer.clone(),
            not_before: rfc3339(cert.not_before),
            not_after: rfc3339(cert.not_after),
            sha256: cert.sha256.clone(),
        }
    }
}

/// One mail client's verdict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientVerdict {
    /// The client.
    pub client: Client,
    /// `works`, `depends`, `warns` or `fails`: the worst of its findings (docs/clients.md).
    pub verdict: Outcome,
    /// The rules that applied, worst first.
    pub rules: Vec<Finding>,
    /// When it warns: the certificate faults it warns about, in the order it reports them
    /// (`wrong-name`, `dates`, `untrusted`); its dialog's line is about the first. Empty
    /// otherwise.
    pub faults: Vec<Fault>,
    /// The certificate dialog it shows here: exactly when its verdict is `warns`.
    pub dialog: Option<Dialog>,
}

/// A client rule that applied.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Finding {
    /// The rule's id (docs/clients.md).
    pub rule: &'static str,
    /// What it means for the client.
    pub outcome: Outcome,
    /// Whether a source settles the behaviour for current versions.
    pub certain: bool,
    /// What happened, for this certificate.
    pub detail: String,
    /// Where the rule is documented.
    pub source: &'static str,
    /// The certificate fault a dialog for this rule is about (`wrong-name`, `dates`,
    /// `untrusted`); null for rules that stop the connection instead (TLS versions, no TLS).
    pub fault: Option<Fault>,
}

/// Client verdicts, in order; `server` is the name asked, on `port` when there is one.
pub fn clients(
    verdicts: &[DomainClientVerdict],
    server: &str,
    port: Option<u16>,
) -> Vec<ClientVerdict> {
    verdicts
        .iter()
        .map(|v| ClientVerdict {
            dialog: v
                .dialog
                .zip(v.fault())
                .map(|(dialog, fault)| Dialog::new(dialog, fault, server, port, None)),
            client: v.client,
            verdict: v.verdict,
            faults: v.faults.clone(),
            rules: v
                .rules
                .iter()
                .map(|f| Finding {
                    rule: f.rule,
                    outcome: f.outcome,
                    certain: f.certain,
                    detail: f.detail.clone(),
                    source: f.source,
                    fault: f.fault,
                })
                .collect(),
        })
        .collect()
}

/// Unix seconds as RFC 3339, as every output writes times.
pub fn time(seconds: i64) -> String {
    rfc3339(seconds)
}

/// The JSON Schema of every output, by file name (`docs/schema/NAME.json`).
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("check", schema::<check::CheckOutput>()),
        ("reputation", schema::<reputation::ReputationOutput>()),
        ("cert-verify", schema::<verify::VerifyOutput>()),
        ("provision", schema::<provision::ProvisionOutput>()),
        ("explain", schema::<explain::ExplainOutput>()),
        ("tlsrpt", schema::<tlsrpt::TlsrptOutput>()),
    ]
}

/// The schema of one output (draft 2020-12). Objects are closed: a field the schema does not
/// name fails validation, so an undocumented field cannot slip into an output.
pub fn schema<T: JsonSchema>() -> schemars::Schema {
    let closed = |schema: &mut schemars::Schema| {
        if let Some(object) = schema.as_object_mut() {
            if object.contains_key("properties") && !object.contains_key("additionalProperties") {
                object.insert("additionalProperties".to_string(), false.into());
            }
        }
    };
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .root_schema_for::<T>();
    schemars::transform::Transform::transform(
        &mut schemars::transform::RecursiveTransform(closed),
        &mut schema,
    );
    schema
}
