//! Plain records of what servers and DNS did. Probes produce them; analysis reads them.
//!
//! Nothing here interprets anything: a saved record can be judged again later, or in a test,
//! without touching the network. One file per command's observations: [`host`] (`check` of one
//! host), [`discovery`] (where a mail domain sends clients) and [`reputation`].

pub mod delivery;
pub mod discovery;
pub mod dnssec;
pub mod host;
pub mod reputation;
pub mod saved;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use discovery::{
    DiscoveryObservations, DocumentAnswer, GuessedHost, Record, Security, ServerEntry, SkipReason,
    SkippedHost, Source, SourceError, SourceErrorKind, UnansweredHost,
};
pub use host::{
    AiaFetch, CandidateProbe, Completion, EndpointObservation, Failure, FailureKind,
    HandshakeSignature, HelloAnswer, NameLookup, Observations, PtrLookup, SignatureStatus,
    TlsObservation, VersionProbe,
};
pub use reputation::{
    CodeTable, DnsblAnswer, DnsblLookup, HostLookup, HostRole, ReputationObservations, Zone,
    ZoneKind,
};

/// A DER-encoded certificate, serialized as base64.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Der(pub Vec<u8>);

impl Serialize for Der {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Der {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BASE64
            .decode(text.as_bytes())
            .map(Der)
            .map_err(serde::de::Error::custom)
    }
}
