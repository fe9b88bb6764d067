//! `provision`: a corrected provisioning file for a mail domain, written from names verified to
//! work only. The failure policy lives here, not in the binary: nothing verified means nothing
//! written (an error), one direction verified means a partial file and a warning.

use super::check::{CheckError, CheckOptions, DomainCheck, now};
use crate::engine::Engine;
use crate::exit;
use crate::provisioning::settings::AccountSettings;
use crate::provisioning::write::{self, Format};
use crate::service::Direction;
use crate::target::Address;

/// A provisioning file, ready to serve.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// The mail domain.
    pub domain: String,
    /// The format written.
    pub format: Format,
    /// The verified settings it holds.
    pub settings: AccountSettings,
    /// The document.
    pub document: String,
    /// The check the settings come from.
    pub check: DomainCheck,
    /// When the servers were checked (Unix seconds).
    pub observed_at: i64,
}

impl Provisioned {
    /// The direction with no verified server, when the file is partial.
    pub fn missing(&self) -> Option<Direction> {
        match (&self.settings.incoming, &self.settings.outgoing) {
            (None, _) => Some(Direction::Incoming),
            (_, None) => Some(Direction::Outgoing),
            _ => None,
        }
    }

    /// The documented exit status: 0 complete, 1 one direction only.
    pub fn exit_code(&self) -> u8 {
        if self.missing().is_some() {
            exit::WARN
        } else {
            exit::OK
        }
    }
}

/// Why no file was written.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The check could not run.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// No server name works without a warning: writing one would hand out a broken name.
    #[error(
        "no server name for {domain} was verified to work without a warning; nothing written \
         (run mailtls check {domain} to see why)"
    )]
    NothingVerified {
        /// The mail domain.
        domain: String,
    },
}

impl ProvisionError {
    /// The documented exit status: 2 nothing verified, 3 could not check.
    pub fn exit_code(&self) -> u8 {
        match self {
            ProvisionError::Check(error) => error.exit_code(),
            ProvisionError::NothingVerified { .. } => exit::FAIL,
        }
    }
}

impl Engine {
    /// Discovers and checks `address`'s domain, and writes its settings in `format` with only
    /// verified names.
    pub async fn provision(
        &self,
        address: &Address,
        format: Format,
    ) -> Result<Provisioned, ProvisionError> {
        let options = CheckOptions {
            no_versions: true,
            ..CheckOptions::default()
        };
        let observed_at = now();
        let observations = self.discover(address, &options).await?;
        let report = self.judge_domain(&observations, self.anchors(), observed_at);
        let settings = report.settings.clone();
        if settings.incoming.is_none() && settings.outgoing.is_none() {
            return Err(ProvisionError::NothingVerified {
                domain: address.domain.clone(),
            });
        }
        Ok(Provisioned {
            domain: address.domain.clone(),
            format,
            document: write::write(format, &address.domain, &settings),
            settings,
            check: DomainCheck {
                observations,
                report,
            },
            observed_at,
        })
    }
}
