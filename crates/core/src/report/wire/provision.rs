//! `mailtls provision --json`: the verified settings and the document written from them.

use schemars::JsonSchema;
use serde::Serialize;

use super::domain::{Server, server};
use super::{Header, Kind};
use crate::provisioning::write::Format;
use crate::run::provision::Provisioned;

/// What `provision --json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProvisionOutput {
    /// Schema version, kind (`provision`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// When the servers were checked (RFC 3339, UTC).
    pub checked_at: String,
    /// The mail domain.
    pub domain: String,
    /// The format written.
    pub format: Format,
    /// The verified incoming server; null when none was verified.
    pub incoming: Option<Server>,
    /// The verified outgoing server; null when none was verified.
    pub outgoing: Option<Server>,
    /// 0 both directions verified, 1 only one.
    pub exit_code: u8,
    /// The document, ready to serve.
    pub document: String,
}

/// The JSON form of `provision`.
pub fn output(provisioned: &Provisioned) -> ProvisionOutput {
    ProvisionOutput {
        header: Header::new(Kind::Provision),
        checked_at: super::time(provisioned.observed_at),
        domain: provisioned.domain.clone(),
        format: provisioned.format,
        incoming: provisioned.settings.incoming.as_ref().map(server),
        outgoing: provisioned.settings.outgoing.as_ref().map(server),
        exit_code: provisioned.exit_code(),
        document: provisioned.document.clone(),
    }
}
