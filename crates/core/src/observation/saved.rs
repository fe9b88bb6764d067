//! A check's observations saved to a file (`check --save`), to be judged again later or
//! elsewhere (`mailtls judge`) without the network: what a support desk asks a customer for.
//!
//! The file holds the observations, the CA certificates the user added (`--ca-file`), so a
//! private CA judges the same on another machine, and when the observations were made.

use serde::{Deserialize, Serialize};

use super::{Der, DiscoveryObservations, Observations, ReputationObservations};

/// The version of this file format; a file of another version is refused, not misread.
pub const SAVED_FORMAT: u32 = 1;

/// A saved check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// [`SAVED_FORMAT`] when written.
    pub format: u32,
    /// The mailtls version that observed.
    pub mailtls_version: String,
    /// When the observations were made (Unix seconds).
    pub observed_at: i64,
    /// CA certificates the user added for the check (a private CA), DER.
    pub anchors: Vec<Der>,
    /// What was checked and what was seen.
    pub check: SavedCheck,
    /// With `--reputation`: the blocklist, reverse DNS and SMTP-name lookups.
    pub reputation: Option<ReputationObservations>,
}

/// The observations of one check: a host, or a mail domain's discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SavedCheck {
    /// `check HOST`.
    Host {
        /// Everything observed.
        observations: Observations,
    },
    /// `check user@domain` or a mail domain.
    Domain {
        /// Everything observed.
        observations: DiscoveryObservations,
    },
}
