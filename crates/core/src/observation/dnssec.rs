//! DNS answers as a DNSSEC-validating sender gets them: the records, and what validation from
//! the trust anchor said of them (RFC 4035 §4.3). mailtls validates itself
//! (`probe::dnssec`), so a report shows what a validating sender such as Postfix with
//! `smtp_dns_support_level = dnssec` acts on, whatever resolver the user has.

use serde::{Deserialize, Serialize};

crate::vocabulary::vocabulary! {
    /// What DNSSEC validation said of an answer (RFC 4035 §4.3).
    pub enum DnssecStatus {
        /// A chain of signatures from the trust anchor proves the answer (or proves that there
        /// is no such record).
        Secure => "secure",
        /// The zone is provably unsigned (a parent proves there is no DS record): the answer
        /// is not protected, and DANE is not in force for it (RFC 7672 §2.2).
        Insecure => "insecure",
        /// The signatures do not verify (wrong key, expired or missing RRSIG, a DS that matches
        /// no key): a validating resolver answers SERVFAIL and a validating sender defers.
        Bogus => "bogus",
        /// Validation could not finish: no answer, a timeout, a resolver that strips DNSSEC
        /// records. Nothing is known either way.
        Indeterminate => "indeterminate",
    }
}

crate::vocabulary::vocabulary! {
    /// Why a lookup gave no records, when it did not.
    pub enum LookupFailure {
        /// The name does not exist (NXDOMAIN) or has no records of the type (NODATA): a fact,
        /// not a failure, when validated.
        NoRecords => "no-records",
        /// No answer within the timeout.
        Timeout => "timeout",
        /// SERVFAIL, REFUSED or a malformed answer.
        Failed => "failed",
    }
}

crate::vocabulary::vocabulary! {
    /// Which link of the chain of trust failed, when validation said `bogus` (or could not
    /// decide, for the last three): the first fault found walking from the answer up to the
    /// trust anchor.
    pub enum ValidationFault {
        /// A signed zone's records come without a signature (RRSIG).
        SignatureMissing => "signature-missing",
        /// Every signature over the records has expired (RFC 4035 §5.3.1).
        SignatureExpired => "signature-expired",
        /// Every signature over the records is dated in the future.
        SignatureNotYetValid => "signature-not-yet-valid",
        /// A signature does not verify with the key it names.
        SignatureInvalid => "signature-invalid",
        /// The zone publishes no key (DNSKEY) with the tag and algorithm a signature names.
        KeyMissing => "key-missing",
        /// The parent's DS records (or the trust anchor) match none of the zone's keys.
        DsMatchesNoKey => "ds-matches-no-key",
        /// The signed proof that no such record exists (NSEC, NSEC3) does not prove it.
        DenialInvalid => "denial-invalid",
        /// Validation failed and mailtls could not tell which link (the words say what it saw).
        Unexplained => "unexplained",
        /// Indeterminate: the resolver asked returns no DNSSEC signatures, so nothing can be
        /// validated through it.
        ResolverStripsDnssec => "resolver-strips-dnssec",
        /// Indeterminate: no trust anchor covers the name (`--dnssec-anchor` names other zones).
        NoTrustAnchor => "no-trust-anchor",
        /// Indeterminate: the resolver did not answer the question for the trust anchor's keys
        /// (many private resolvers refuse questions for the root), so validation could not
        /// start; the records are as the resolver gave them, not validated.
        AnchorKeysUnanswered => "anchor-keys-unanswered",
    }
}

/// One DNS question, its records and what validation said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validated<T> {
    /// The name asked, without the trailing dot (`_25._tcp.mx.example.com`).
    pub name: String,
    /// What validation said of the answer, records or their absence.
    pub dnssec: DnssecStatus,
    /// The records, in the order answered (empty when none). A bogus answer's records are kept
    /// to be shown; a validating sender never sees them (its resolver answers SERVFAIL).
    pub records: Vec<T>,
    /// Why there are no records, when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<LookupFailure>,
    /// Which link failed, when validation said `bogus` (or why it is `indeterminate`, when
    /// known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<ValidationFault>,
    /// The validator's or resolver's words (why bogus, what failed), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord {
    /// Lower is tried first.
    pub preference: u16,
    /// The exchanger's name, without the trailing dot (`.` alone for a null MX, RFC 7505).
    pub exchange: String,
}

/// One TLSA record (RFC 6698 §2.1), the fields as published: a record with an unknown usage,
/// selector or matching type, or data of the wrong length, is kept as it is and judged by
/// `analyze::dane`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsaRecord {
    /// Certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// Selector: 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    pub selector: u8,
    /// Matching type: 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching_type: u8,
    /// The certificate association data, lowercase hex.
    pub data: String,
}

/// The MX records of a domain, validated.
pub type MxLookup = Validated<MxRecord>;
/// The TLSA records of `_PORT._tcp.HOST`, validated.
pub type TlsaLookup = Validated<TlsaRecord>;
/// TXT records (each record's strings joined), validated.
pub type TxtLookup = Validated<String>;
