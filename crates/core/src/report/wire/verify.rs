//! `mailtls cert verify --json`.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Certificate, ClientVerdict, Header, Kind};
use crate::diagnose::verify::RejectionCode;
use crate::run::verify::VerifyReport;

/// What `cert verify --json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyOutput {
    /// Schema version, kind (`cert-verify`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// The name checked; null when none was given and only the path was judged.
    pub name: Option<String>,
    /// A name was given and checked; false when only the path was judged.
    pub name_checked: bool,
    /// The time judged at (RFC 3339).
    pub at: String,
    /// `strict`, or the client whose rules judged.
    pub profile: String,
    /// Valid under that profile.
    pub valid: bool,
    /// 0 valid, 2 invalid.
    pub exit_code: u8,
    /// Why the strict profile rejects the chain (empty when it accepts it).
    pub rejections: Vec<Rejection>,
    /// Each client's verdict.
    pub clients: Vec<ClientVerdict>,
    /// The chain as given, leaf first.
    pub chain: Vec<Certificate>,
    /// Where the trust anchors came from.
    pub anchors: Vec<String>,
}

/// One reason the strict profile rejects a chain.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Rejection {
    /// Stable code.
    pub code: RejectionCode,
    /// What is wrong.
    pub message: String,
}

/// The JSON form of `cert verify`.
pub fn output(report: &VerifyReport) -> VerifyOutput {
    let verification = &report.verification;
    VerifyOutput {
        header: Header::new(Kind::CertVerify),
        name: report.request.name.as_ref().map(ToString::to_string),
        name_checked: report.request.name.is_some(),
        at: super::time(report.request.at),
        profile: report
            .request
            .client
            .map_or("strict", |c| c.as_str())
            .to_string(),
        valid: report.valid(),
        exit_code: report.exit_code(),
        rejections: verification
            .rejections
            .iter()
            .map(|r| Rejection {
                code: r.code,
                message: r.message.clone(),
            })
            .collect(),
        clients: super::clients(
            &verification.clients,
            &report
                .request
                .name
                .as_ref()
                .map_or_else(|| "the server".to_string(), ToString::to_string),
            None,
        ),
        chain: verification
            .analysis
            .chain
            .iter()
            .map(Certificate::from)
            .collect(),
        anchors: report.anchors.clone(),
    }
}
