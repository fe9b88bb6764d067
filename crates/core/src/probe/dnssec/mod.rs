//! DNS lookups validated the way a DNSSEC-validating sender validates them: MX, TLSA and TXT,
//! each with its [`DnssecStatus`], validated by mailtls itself from the trust anchor (the root's
//! keys, or `--dnssec-anchor FILE`, see [`anchors`]), whatever resolver answers.
//!
//! - The questions go to the engine's resolver (`--dns`, or the system's), paced by
//!   `--dns-rate`, each within the step timeout and the whole lookup within
//!   [`LOOKUP_STEPS`] of them ([`upstream`]). They ask with CD (checking disabled), so that a
//!   validating resolver hands over what it would call bogus, and mailtls says why ([`explain`]).
//! - hickory's validator (`DnssecDnsHandle`, on ring) decides each answer: `secure`,
//!   `insecure` (a signed proof that the zone has no DS), `bogus`, or `indeterminate`.
//! - A resolver that will not answer for the trust anchor's keys (a private dnsmasq that
//!   refuses questions for the root) leaves validation nothing to start from: each lookup then
//!   returns the records as the resolver gave them, `indeterminate`
//!   (`anchor-keys-unanswered`, with which resolver refused which question), not validated.
//!   MTA-STS and TLS-RPT senders do not validate; DANE reads `indeterminate` as unknown.
//! - Failures are said in plain words ([`words`]), never in the library's debug text.
//! - A resolver that strips signatures makes everything look bogus to a validator: when an
//!   answer is bogus and the anchored zone's own keys come without signatures, the answer is
//!   `indeterminate` (`resolver-strips-dnssec`), never `secure`.
//! - Nothing here returns addresses, so the engine's refusal of special-purpose addresses
//!   (`serve`) has nothing to drop: the resolver asked is the engine's own, as for every lookup.

pub mod anchors;
mod explain;
mod signatures;
mod upstream;
mod words;

use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::dnssec::{DnssecDnsHandle, Proof};
use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::xfer::{DnsHandle, DnsRequestOptions, DnsResponse, FirstAnswer};
use hickory_proto::{ProtoError, ProtoErrorKind};

use self::anchors::{Anchors, Primed, PrimingFailed};
use self::explain::Explainer;
use self::signatures::{Broken, shown};
use self::upstream::{Trouble, Upstream};
use super::dns::{Dns, absolute, plain};
use crate::observation::dnssec::{
    DnssecStatus, LookupFailure, MxLookup, MxRecord, TlsaLookup, TlsaRecord, TxtLookup, Validated,
    ValidationFault,
};

/// The questions of a lookup, with its validation and, for a bogus answer, the walk that
/// explains it, take at most this many step timeouts in all (waiting for the pace aside).
pub const LOOKUP_STEPS: u32 = 4;

/// How deep hickory's validator may nest its own lookups (each zone up the chain nests one or
/// two): a chain of a dozen zones, and a bound on the stack a hostile or stripping server can
/// make it use (hickory's default, 26, overflows a 2 MiB thread stack in a debug build).
const MAX_DEPTH: usize = 12;

/// Asks DNS questions and validates the answers.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    upstream: Upstream,
    anchors: Anchors,
    /// The keys trusted, once primed, or why they could not be, until when (one priming at a
    /// time: the others wait for it).
    primed: tokio::sync::Mutex<Option<(tokio::time::Instant, Result<Primed, PrimingFailed>)>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("anchors", &self.inner.anchors.zones())
            .finish_non_exhaustive()
    }
}

/// What one validated lookup found, before its records are read into their type.
struct Found {
    dnssec: DnssecStatus,
    records: Vec<Record>,
    failure: Option<LookupFailure>,
    fault: Option<ValidationFault>,
    detail: Option<String>,
}

impl Found {
    fn failed(dnssec: DnssecStatus, failure: LookupFailure, detail: String) -> Found {
        Found {
            dnssec,
            records: Vec::new(),
            failure: Some(failure),
            fault: None,
            detail: Some(detail),
        }
    }

    fn broken(mut self, dnssec: DnssecStatus, broken: Broken) -> Found {
        self.dnssec = dnssec;
        self.fault = Some(broken.fault);
        self.detail = Some(broken.detail);
        self
    }
}

impl Validator {
    /// A validator asking through `dns` (its name servers, pace and timeout), trusting
    /// `anchors`.
    pub fn new(dns: Dns, anchors: Anchors) -> Validator {
        Validator {
            inner: Arc::new(Inner {
                upstream: Upstream::new(dns),
                anchors,
                primed: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The MX records of `domain`, lowest preference first.
    pub async fn mx(&self, domain: &str) -> MxLookup {
        let mut lookup = self
            .lookup(domain, RecordType::MX, |data| {
                let mx = data.as_mx()?;
                let exchange = plain(&mx.exchange().to_ascii());
                Some(MxRecord {
                    preference: mx.preference(),
                    // The root (RFC 7505 null MX) as people write it.
                    exchange: if exchange.is_empty() {
                        ".".to_string()
                    } else {
                        exchange
                    },
                })
            })
            .await;
        lookup
            .records
            .sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        lookup.records.dedup();
        lookup
    }

    /// The TXT records of `name`, each record's strings joined (lossy UTF-8).
    pub async fn txt(&self, name: &str) -> TxtLookup {
        self.lookup(name, RecordType::TXT, |data| {
            let txt = data.as_txt()?;
            Some(
                txt.iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect(),
            )
        })
        .await
    }

    /// The TLSA records of `_PORT._tcp.HOST`, in the order answered.
    pub async fn tlsa(&self, host: &str, port: u16) -> TlsaLookup {
        let name = format!("_{port}._tcp.{}", host.trim_end_matches('.'));
        self.lookup(&name, RecordType::TLSA, |data| {
            let tlsa = data.as_tlsa()?;
            Some(TlsaRecord {
                usage: u8::from(tlsa.cert_usage()),
                selector: u8::from(tlsa.selector()),
                matching_type: u8::from(tlsa.matching()),
                data: tlsa
                    .cert_data()
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect(),
            })
        })
        .await
    }

    /// Asks `name`'s `kind` records, validates the answer and reads each record with `read`.
    async fn lookup<T>(
        &self,
        name: &str,
        kind: RecordType,
        read: impl Fn(&RData) -> Option<T>,
    ) -> Validated<T> {
        let shown_name = name.trim_end_matches('.').to_string();
        let found = match absolute(name) {
            Err(error) => Found::failed(
                DnssecStatus::Indeterminate,
                LookupFailure::Failed,
                error.to_string(),
            ),
            Ok(query) => {
                let budget = self.inner.upstream.question_limit() / 2 * LOOKUP_STEPS;
                self.validate(&query, kind, &Trouble::with_budget(budget))
                    .await
            }
        };
        let records: Vec<T> = found
            .records
            .iter()
            .filter(|record| record.record_type() == kind)
            .filter_map(|record| read(record.data()))
            .collect();
        let failure = match (&found.failure, records.is_empty()) {
            (Some(failure), _) => Some(*failure),
            (None, true) => Some(LookupFailure::NoRecords),
            (None, false) => None,
        };
        Validated {
            name: shown_name,
            dnssec: found.dnssec,
            records,
            failure,
            fault: found.fault,
            detail: found.detail,
        }
    }

    /// The keys validation trusts now, priming them when they are not, or no longer, known.
    async fn primed(&self, trouble: &Trouble) -> Result<Primed, PrimingFailed> {
        let mut primed = self.inner.primed.lock().await;
        let now = tokio::time::Instant::now();
        if let Some((_, known)) = primed.as_ref().filter(|(until, _)| *until > now) {
            return known.clone();
        }
        let fresh = self
            .inner
            .anchors
            .prime(&self.inner.upstream.noting(trouble.clone()))
            .await;
        // A failure is kept a moment too: the lookups waiting behind this one must not each
        // wait for a resolver that does not answer in turn.
        let until = match &fresh {
            Ok(primed) => primed.until,
            Err(_) => tokio::time::Instant::now() + self.inner.upstream.question_limit(),
        };
        *primed = Some((until, fresh.clone()));
        fresh
    }

    /// Validates `name`'s `kind` records.
    async fn validate(&self, name: &Name, kind: RecordType, trouble: &Trouble) -> Found {
        let Some(anchor) = self.inner.anchors.covering(name) else {
            let zones: Vec<String> = self.inner.anchors.zones().iter().map(shown).collect();
            let outside = Broken::new(
                ValidationFault::NoTrustAnchor,
                format!(
                    "no trust anchor covers {} (--dnssec-anchor names {})",
                    shown(name),
                    zones.join(", ")
                ),
            );
            return self
                .unvalidated(name, kind, PrimingFailed::Indeterminate(outside), trouble)
                .await;
        };
        let primed = match self.primed(trouble).await {
            Ok(primed) => primed,
            Err(failed) => return self.unvalidated(name, kind, failed, trouble).await,
        };
        let handle = DnssecDnsHandle::with_trust_anchor(
            self.inner.upstream.noting(trouble.clone()),
            primed.trusted.clone(),
        );
        let options = request_options();
        let answer = handle
            .lookup(Query::query(name.clone(), kind), options)
            .first_answer()
            .await;
        let anchored = self.inner.anchors.zones();
        let explainer = Explainer {
            handle: &handle,
            trusted: &primed.trusted,
            anchored: &anchored,
            options,
            server: self.server(),
        };
        let mut found = match answer {
            Ok(response) => positive_or_empty(response, kind),
            Err(error) => negative(&error, trouble, self.server()),
        };
        if found.dnssec == DnssecStatus::Insecure {
            // Insecure only on a signed denial of a DS above it (see `Explainer::insecurity`).
            let owner = found
                .records
                .iter()
                .find(|record| record.proof() == Proof::Insecure)
                .map_or_else(|| name.clone(), |record| record.name().clone());
            match explainer.insecurity(&owner).await {
                None => return found,
                Some(broken) => {
                    found.dnssec = DnssecStatus::Bogus;
                    return self.unless_stripped(&anchor, found, broken, trouble).await;
                }
            }
        }
        if found.dnssec != DnssecStatus::Bogus {
            return found;
        }
        let broken = match found
            .records
            .iter()
            .find(|record| record.proof() == Proof::Bogus)
        {
            Some(bogus) => {
                let (owner, set_kind) = (bogus.name().clone(), bogus.record_type());
                explainer.records(&owner, set_kind, &found.records).await
            }
            None => {
                let authority = self
                    .plain(name, kind, trouble)
                    .await
                    .map(|mut response| response.take_name_servers());
                explainer
                    .denial(name, kind, &authority.unwrap_or_default())
                    .await
            }
        };
        self.unless_stripped(&anchor, found, broken, trouble).await
    }

    /// A bogus answer, with why; or indeterminate, when the resolver strips signatures.
    async fn unless_stripped(
        &self,
        anchor: &Name,
        found: Found,
        broken: Broken,
        trouble: &Trouble,
    ) -> Found {
        match self.strips(anchor, trouble).await {
            Some(stripped) => found.broken(DnssecStatus::Indeterminate, stripped),
            None => found.broken(DnssecStatus::Bogus, broken),
        }
    }

    /// `name`'s `kind` records as answered, not validated: what a lookup shows when the
    /// anchors could not be primed (bogus when the anchor is, indeterminate otherwise) or none
    /// covers the name.
    async fn unvalidated(
        &self,
        name: &Name,
        kind: RecordType,
        failed: PrimingFailed,
        trouble: &Trouble,
    ) -> Found {
        let (dnssec, broken) = match failed {
            PrimingFailed::Bogus(broken) => (DnssecStatus::Bogus, broken),
            PrimingFailed::Indeterminate(broken) => (DnssecStatus::Indeterminate, broken),
            PrimingFailed::Unanswered(error) => (
                DnssecStatus::Indeterminate,
                Broken::new(
                    ValidationFault::AnchorKeysUnanswered,
                    format!(
                        "not validated: {}, so validation could not start; the records are as \
                         the resolver gave them",
                        words::words(&error, self.server())
                    ),
                ),
            ),
        };
        let found = match self.plain(name, kind, trouble).await {
            Ok(response) => Found {
                dnssec,
                records: response.answers().to_vec(),
                failure: None,
                fault: None,
                detail: None,
            },
            Err(error) => negative_unvalidated(&error, trouble, self.server()),
        };
        found.broken(dnssec, broken)
    }

    /// The address of the resolver asked, to name it in words.
    fn server(&self) -> Option<IpAddr> {
        self.inner.upstream.server()
    }

    /// `name`'s `kind` question asked as it is, without validation.
    async fn plain(
        &self,
        name: &Name,
        kind: RecordType,
        trouble: &Trouble,
    ) -> Result<DnsResponse, ProtoError> {
        self.inner
            .upstream
            .noting(trouble.clone())
            .lookup(Query::query(name.clone(), kind), request_options())
            .first_answer()
            .await
    }

    /// Whether the resolver strips signatures: the anchored zone's key set, always signed,
    /// comes without them (or not at all).
    async fn strips(&self, anchor: &Name, trouble: &Trouble) -> Option<Broken> {
        let keys = self.plain(anchor, RecordType::DNSKEY, trouble).await.ok()?;
        let signed = signatures::signatures(keys.answers(), anchor, RecordType::DNSKEY);
        signed.is_empty().then(|| anchors::stripped(anchor))
    }
}

/// How every question is asked: recursion desired, EDNS with DO.
fn request_options() -> DnsRequestOptions {
    let mut options = DnsRequestOptions::default();
    options.use_edns = true;
    options.edns_set_dnssec_ok = true;
    options.recursion_desired = true;
    options.max_request_depth = MAX_DEPTH;
    options
}

/// hickory's proof as a status.
fn status(proof: Proof) -> DnssecStatus {
    match proof {
        Proof::Secure => DnssecStatus::Secure,
        Proof::Insecure => DnssecStatus::Insecure,
        Proof::Bogus => DnssecStatus::Bogus,
        Proof::Indeterminate => DnssecStatus::Indeterminate,
    }
}

/// The weakest of the statuses of `records`: one bogus record makes the answer bogus, one
/// unproven makes it indeterminate, one in an unsigned zone (behind a CNAME) insecure.
fn weakest<'a>(records: impl Iterator<Item = &'a Record>) -> Option<DnssecStatus> {
    let rank = |status: DnssecStatus| match status {
        DnssecStatus::Bogus => 0,
        DnssecStatus::Indeterminate => 1,
        DnssecStatus::Insecure => 2,
        DnssecStatus::Secure => 3,
    };
    records
        .map(|record| status(record.proof()))
        .min_by_key(|status| rank(*status))
}

/// A validated answer: its records of `kind` and the CNAMEs leading to them decide; an answer
/// without them (a negative answer hickory proved) is decided by its authority records.
fn positive_or_empty(mut response: DnsResponse, kind: RecordType) -> Found {
    let answers = response.take_answers();
    let deciding = answers.iter().filter(|record| {
        matches!(record.record_type(), RecordType::CNAME) || record.record_type() == kind
    });
    if let Some(dnssec) = weakest(deciding) {
        return Found {
            dnssec,
            records: answers,
            failure: None,
            fault: None,
            detail: None,
        };
    }
    // No records: the proof of their absence (SOA, NSEC, NSEC3) decides.
    let proof = response.name_servers().iter().filter(|record| {
        matches!(
            record.record_type(),
            RecordType::SOA | RecordType::NSEC | RecordType::NSEC3
        )
    });
    Found {
        dnssec: weakest(proof).unwrap_or(DnssecStatus::Indeterminate),
        records: Vec::new(),
        failure: Some(LookupFailure::NoRecords),
        fault: None,
        detail: None,
    }
}

/// A lookup the validator answered with an error: a proof of absence it judged (secure ones
/// come back as answers), or a failure between it and the resolver.
fn negative(error: &ProtoError, trouble: &Trouble, server: Option<IpAddr>) -> Found {
    if let ProtoErrorKind::Nsec { proof, .. } = error.kind() {
        return Found {
            dnssec: status(*proof),
            records: Vec::new(),
            failure: Some(LookupFailure::NoRecords),
            fault: None,
            detail: None,
        };
    }
    negative_unvalidated(error, trouble, server)
}

/// A lookup that failed before anything could be validated: timeout, SERVFAIL, REFUSED...
fn negative_unvalidated(error: &ProtoError, trouble: &Trouble, server: Option<IpAddr>) -> Found {
    let seen = trouble.seen();
    if let ProtoErrorKind::NoRecordsFound { response_code, .. } = error.kind() {
        if matches!(
            response_code,
            ResponseCode::NXDomain | ResponseCode::NoError
        ) {
            return Found::failed(
                DnssecStatus::Indeterminate,
                LookupFailure::NoRecords,
                words::words(error, server),
            );
        }
    }
    if seen.timeout || matches!(error.kind(), ProtoErrorKind::Timeout) {
        return Found::failed(
            DnssecStatus::Indeterminate,
            LookupFailure::Timeout,
            format!(
                "{} did not answer within the timeout",
                words::resolver(server)
            ),
        );
    }
    let codes: Vec<String> = seen
        .codes
        .iter()
        .map(|code| <ResponseCode as From<u16>>::from(*code).to_string())
        .collect();
    let detail = match (seen.first, codes.is_empty()) {
        (Some(first), _) => first,
        (None, true) => words::words(error, server),
        (None, false) => format!("{} answered {}", words::resolver(server), codes.join(", ")),
    };
    Found::failed(DnssecStatus::Indeterminate, LookupFailure::Failed, detail)
}
