//! DANE for SMTP (RFC 7672, RFC 6698): whether the TLSA records of an MX match the chain it
//! presents on port 25, and so whether a validating sender (Postfix or Exim with `dane`,
//! Microsoft 365) delivers to it or defers.

use serde::Serialize;

use crate::observation::Der;
use crate::observation::dnssec::TlsaLookup;

crate::vocabulary::vocabulary! {
    /// What DANE makes of one MX.
    pub enum DaneState {
        /// No TLSA records, in a signed zone: DANE is not in force; senders use opportunistic
        /// TLS.
        NotPublished => "not-published",
        /// The zone is unsigned (provably insecure): any TLSA records are ignored, DANE is not
        /// in force (RFC 7672 §2.2).
        Insecure => "insecure",
        /// A usable record matches the chain: validating senders deliver.
        Matches => "matches",
        /// Usable records, none of which matches: validating senders defer (RFC 7672 §2.2).
        NoMatch => "no-match",
        /// Records, none usable for SMTP (usages 0 and 1, unknown fields, data of the wrong
        /// length): validating senders require TLS but do not authenticate (RFC 7672 §2.2,
        /// "encrypt").
        Unusable => "unusable",
        /// DNSSEC validation failed on the MX or TLSA answer: validating senders defer.
        Bogus => "bogus",
        /// The TLSA lookup went unanswered, or port 25 was not reached: not known.
        Unknown => "unknown",
    }
}

/// DANE's verdict on one MX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaneJudgement {
    /// The MX host.
    pub host: String,
    /// The verdict.
    pub state: DaneState,
    /// Indexes (into the lookup's records) of the records that match the chain.
    pub matched: Vec<usize>,
    /// Indexes of the records a validating sender cannot use, each with why (in words).
    pub unusable: Vec<(usize, String)>,
    /// Every matching record pins the current certificate or key and no record is published
    /// for another key: the next key change (a renewal with a new key) breaks delivery.
    pub rollover_risk: bool,
}

/// Judges `tlsa` (for `host`'s port 25) against `chain`, the chain `host` presented there
/// (leaf first; `None` when port 25 gave no certificate).
pub fn judge(tlsa: &TlsaLookup, host: &str, chain: Option<&[Der]>) -> DaneJudgement {
    let _ = (tlsa, chain);
    DaneJudgement {
        host: host.to_string(),
        state: DaneState::Unknown,
        matched: Vec::new(),
        unusable: Vec::new(),
        rollover_risk: false,
    }
}
