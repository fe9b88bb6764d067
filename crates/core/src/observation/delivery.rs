//! What a sending mail server learns about a mail domain before it delivers to it: the MX
//! records, the domain's MTA-STS record and policy (RFC 8461), its TLS-RPT record (RFC 8460)
//! and the TLSA records of each MX (RFC 7672), each with what DNSSEC said. The MX hosts' port 25
//! observations (certificate, STARTTLS) are the host checks beside this record; nothing here
//! interprets anything.

use serde::{Deserialize, Serialize};

use super::dnssec::{DnssecStatus, LookupFailure, MxLookup, TlsaLookup, TxtLookup, Validated};
use super::{Der, SourceErrorKind};

/// Largest MTA-STS policy read (RFC 8461 §3.3: senders may refuse one larger than 64 KiB).
pub const MAX_POLICY: usize = 64 * 1024;

/// The answer to `GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt`, as it came: redirects
/// are not followed (RFC 8461 §3.3), so a 3xx is recorded with its `Location`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFetch {
    /// The URL asked.
    pub url: String,
    /// The HTTP status, when the server answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `Location` of a redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The `Content-Type` header, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body as text (invalid UTF-8 replaced), at most [`MAX_POLICY`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body was longer than [`MAX_POLICY`] (what was kept is its start).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub too_large: bool,
    /// The certificate chain the policy host presented, leaf first (judged for
    /// `mta-sts.DOMAIN` like any HTTPS client would).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Der>,
    /// Why there was no answer, for programs: `not-published` (no such host),
    /// `bad-certificate`, `unreachable` (refused, reset, timeout), `inside-address` (this run
    /// does not connect there), `not-checked` (our resolver gave no answer), `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<SourceErrorKind>,
    /// Why there was no answer (no such host, refused, timeout, TLS failure), in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything a sender learns about delivering to one mail domain, apart from the MX hosts'
/// own port 25.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryObservations {
    /// The mail domain.
    pub domain: String,
    /// Its MX records, validated.
    pub mx: MxLookup,
    /// `_mta-sts.DOMAIN` TXT.
    pub mta_sts_record: TxtLookup,
    /// The policy, fetched when the record asks senders to (a `v=STSv1` record is there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyFetch>,
    /// `_smtp._tls.DOMAIN` TXT.
    pub tlsrpt_record: TxtLookup,
    /// `_25._tcp.MX` TLSA for every MX host, in the MX records' order.
    pub tlsa: Vec<TlsaLookup>,
}

impl DeliveryObservations {
    /// Whether mailtls's own resolver left a question unanswered (a timeout or a failure, as
    /// opposed to an answer, a proven absence or a bogus one), so that checking again may
    /// learn more: a fleet scan checks such a target again.
    pub fn unanswered(&self) -> bool {
        fn lost<T>(lookup: &Validated<T>) -> bool {
            lookup.dnssec != DnssecStatus::Bogus
                && matches!(
                    lookup.failure,
                    Some(LookupFailure::Timeout | LookupFailure::Failed)
                )
        }
        lost(&self.mx)
            || lost(&self.mta_sts_record)
            || lost(&self.tlsrpt_record)
            || self.tlsa.iter().any(lost)
            || self
                .policy
                .as_ref()
                .is_some_and(|p| p.failure == Some(SourceErrorKind::NotChecked))
    }
}
