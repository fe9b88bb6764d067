//! DANE for SMTP (RFC 7672, RFC 6698, RFC 7671): whether the TLSA records of an MX match the
//! chain it presents on port 25, and so whether a validating sender (Postfix or Exim with
//! `dane`, Microsoft 365) delivers to it or defers.
//!
//! - DANE applies when the TLSA lookup is `secure` (RFC 7672 §2.2.2): a bogus MX or TLSA
//!   answer, validating senders defer; TLSA records in an insecure zone, DANE is not in force;
//!   no TLSA records (securely), DANE is not published. An insecure MX answer with a secure TLSA
//!   answer is left open by RFC 7672 §2.2.1: Postfix (since 3.6, `smtp_tls_dane_insecure_mx_policy
//!   = dane`) uses the TLSA records as for a secure MX, and so does this judgement, saying that
//!   senders requiring a signed MX do not.
//! - DANE-EE (usage 3) matches the leaf, its whole certificate (selector 0) or its
//!   SubjectPublicKeyInfo (selector 1), exactly (matching type 0) or by SHA-256 (1) or SHA-512
//!   (2) digest; names and dates do not matter (§3.1.1).
//! - DANE-TA (usage 2) matches a certificate the server sends above the leaf, or (a `2 1 0`
//!   record, the whole key) the key that signed a certificate of the chain; the leaf must chain
//!   up to it, signature by signature, and must name the MX (§3.1.2, §3.2.3): the reference
//!   identifiers are the TLSA base domain and the MX host name (the original, when the TLSA base
//!   domain is its CNAME expansion); DNS-IDs only when the leaf has any, else the CN; a wildcard
//!   only as the whole left-most label.
//! - PKIX-TA and PKIX-EE (usages 0 and 1) are not used for SMTP (§3.1.3); an unknown usage,
//!   selector or matching type, or a digest of the wrong length, is unusable (RFC 7671 §4). When
//!   no record is usable, senders still require TLS but do not authenticate the server (§2.2).
//!
//! What the sender does about dates of a DANE-TA chain is left out: only whether it matches.

use ring::digest::{SHA256, SHA512, digest};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use super::cert::CertInfo;
use super::names::dns_matches;
use crate::observation::Der;
use crate::observation::dnssec::{DnssecStatus, LookupFailure, TlsaLookup, TlsaRecord};

/// Most certificates of a presented chain looked at (a chain is a handful; the rest of a
/// hostile one is ignored).
pub const MAX_CHAIN: usize = 16;

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
    /// Indexes of DANE-TA records whose trust anchor the chain reaches, but whose leaf names
    /// none of [`DaneJudgement::reference_names`]: they do not match (RFC 7672 §3.2.3).
    pub misnamed: Vec<usize>,
    /// The names a leaf matched through DANE-TA must carry: the TLSA base domain and the MX
    /// host.
    pub reference_names: Vec<String>,
    /// Every matching record pins the current certificate or key and no record is published
    /// for another key: the next key change (a renewal with a new key) breaks delivery.
    pub rollover_risk: bool,
    /// What a validating sender does and why, in words, for people.
    pub detail: String,
}

/// Judges `tlsa` (for `host`'s port 25) against `chain`, the chain `host` presented there
/// (leaf first; `None` when port 25 gave no certificate). `mx` is what DNSSEC said of the MX
/// answer that named `host` (`secure` for a domain without MX records whose absence is
/// proven, RFC 7672 §2.2.1): bogus, validating senders defer; insecure, the TLSA records are
/// judged as Postfix does (see the module's documentation), and the words say so. The TLSA base domain is the name `tlsa` was asked at without its
/// `_25._tcp.` prefix; when it is `host`'s CNAME expansion, `host` is accepted as a name too.
pub fn judge(
    mx: DnssecStatus,
    tlsa: &TlsaLookup,
    host: &str,
    chain: Option<&[Der]>,
) -> DaneJudgement {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let base = base_domain(&tlsa.name);
    let mut reference_names = vec![base.clone()];
    if host != base && !host.is_empty() {
        reference_names.push(host.clone());
    }
    let mut judgement = DaneJudgement {
        host: host.clone(),
        state: DaneState::Unknown,
        matched: Vec::new(),
        unusable: Vec::new(),
        misnamed: Vec::new(),
        reference_names,
        rollover_risk: false,
        detail: String::new(),
    };
    if let Some((state, detail)) = lookup_state(mx, tlsa, &host) {
        judgement.state = state;
        judgement.detail = detail;
        return judgement;
    }
    let usable: Vec<(usize, Usable)> = tlsa
        .records
        .iter()
        .enumerate()
        .filter_map(|(index, record)| match usable(record) {
            Ok(usable) => Some((index, usable)),
            Err(why) => {
                judgement.unusable.push((index, why));
                None
            }
        })
        .collect();
    if usable.is_empty() {
        judgement.state = DaneState::Unusable;
        judgement.detail = format!(
            "none of the {} TLSA records of {host} is usable for SMTP: validating senders \
             still insist on TLS, but accept any certificate",
            tlsa.records.len()
        );
        return judgement;
    }
    let Some(chain) = chain.filter(|chain| !chain.is_empty()) else {
        judgement.detail = format!(
            "{host} has usable TLSA records, but no certificate from its port 25 to match them \
             against"
        );
        return judgement;
    };
    let presented = Presented::new(chain);
    for (index, record) in &usable {
        match presented.matches(record, &judgement.reference_names) {
            Match::Yes => judgement.matched.push(*index),
            Match::Misnamed => judgement.misnamed.push(*index),
            Match::No => {}
        }
    }
    judgement.rollover_risk = !judgement.matched.is_empty()
        && usable
            .iter()
            .all(|(index, record)| record.usage == EE && judgement.matched.contains(index));
    judgement.state = if judgement.matched.is_empty() {
        DaneState::NoMatch
    } else {
        DaneState::Matches
    };
    judgement.detail = detail(&judgement, &usable, tlsa);
    if mx == DnssecStatus::Insecure {
        judgement.detail.push_str(
            " (the MX records are not signed: Postfix still uses the MX host's signed TLSA \
             records, senders that require a signed MX as RFC 7672 §2.2.1 allows do not use \
             DANE here)",
        );
    }
    judgement
}

/// The TLSA base domain: the name asked without its `_PORT._tcp.` prefix.
fn base_domain(tlsa_name: &str) -> String {
    let name = tlsa_name.trim_end_matches('.').to_ascii_lowercase();
    let mut labels = name.splitn(3, '.');
    match (labels.next(), labels.next(), labels.next()) {
        (Some(port), Some(protocol), Some(rest))
            if port.starts_with('_') && protocol.starts_with('_') =>
        {
            rest.to_string()
        }
        _ => name,
    }
}

/// The verdict the lookups alone decide, before any record is looked at.
fn lookup_state(mx: DnssecStatus, tlsa: &TlsaLookup, host: &str) -> Option<(DaneState, String)> {
    let name = &tlsa.name;
    let why = tlsa
        .detail
        .as_deref()
        .map(|words| format!(" ({words})"))
        .unwrap_or_default();
    if mx == DnssecStatus::Bogus {
        return Some((
            DaneState::Bogus,
            "the MX records fail DNSSEC validation: validating senders defer all mail".to_string(),
        ));
    }
    if tlsa.dnssec == DnssecStatus::Bogus {
        return Some((
            DaneState::Bogus,
            format!(
                "the TLSA answer for {name} fails DNSSEC validation{why}: validating senders \
                 defer mail to {host}"
            ),
        ));
    }
    if tlsa.dnssec == DnssecStatus::Insecure {
        return Some((
            DaneState::Insecure,
            format!(
                "{name} is in an unsigned zone: any TLSA records there are ignored, DANE is not \
                 in force for {host}"
            ),
        ));
    }
    if mx == DnssecStatus::Indeterminate || tlsa.dnssec == DnssecStatus::Indeterminate {
        return Some((
            DaneState::Unknown,
            format!("whether {name} is signed could not be established{why}"),
        ));
    }
    match tlsa.failure {
        Some(LookupFailure::NoRecords) if tlsa.records.is_empty() => Some((
            DaneState::NotPublished,
            format!(
                "the signed zone proves {name} has no TLSA records: DANE is not published for \
                 {host}, senders use opportunistic TLS"
            ),
        )),
        Some(LookupFailure::Timeout | LookupFailure::Failed) => Some((
            DaneState::Unknown,
            format!("the TLSA lookup of {name} failed{why}"),
        )),
        _ if tlsa.records.is_empty() => Some((
            DaneState::NotPublished,
            format!("{name} has no TLSA records: DANE is not published for {host}"),
        )),
        _ => None,
    }
}

/// DANE-TA.
const TA: u8 = 2;
/// DANE-EE.
const EE: u8 = 3;

/// A record a validating SMTP sender can use.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Usable {
    usage: u8,
    /// 0: the certificate, 1: its SubjectPublicKeyInfo.
    selector: u8,
    /// 0: exact, 1: SHA-256, 2: SHA-512.
    matching: u8,
    data: Vec<u8>,
}

/// `record` as a sender uses it, or why it cannot.
fn usable(record: &TlsaRecord) -> Result<Usable, String> {
    let fields = format!(
        "{} {} {}",
        record.usage, record.selector, record.matching_type
    );
    match record.usage {
        0 | 1 => {
            return Err(format!(
                "{fields}: usage {} ({}) is not used for SMTP, only DANE-TA (2) and DANE-EE (3) \
                 are (RFC 7672 §3.1.3)",
                record.usage,
                if record.usage == 0 {
                    "PKIX-TA"
                } else {
                    "PKIX-EE"
                }
            ));
        }
        TA | EE => {}
        other => return Err(format!("{fields}: usage {other} is not defined")),
    }
    if record.selector > 1 {
        return Err(format!(
            "{fields}: selector {} is not defined (0 the certificate, 1 its public key)",
            record.selector
        ));
    }
    let data = hex(&record.data).ok_or_else(|| format!("{fields}: the data is not hexadecimal"))?;
    let wanted = match record.matching_type {
        0 => None,
        1 => Some(32),
        2 => Some(64),
        other => {
            return Err(format!(
                "{fields}: matching type {other} is not defined (0 exact, 1 SHA-256, 2 SHA-512)"
            ));
        }
    };
    if let Some(length) = wanted.filter(|length| *length != data.len()) {
        return Err(format!(
            "{fields}: a {} digest is {length} bytes, this one is {}",
            if length == 32 { "SHA-256" } else { "SHA-512" },
            data.len()
        ));
    }
    if data.is_empty() {
        return Err(format!("{fields}: the data is empty"));
    }
    Ok(Usable {
        usage: record.usage,
        selector: record.selector,
        matching: record.matching_type,
        data,
    })
}

/// Hexadecimal digits as bytes; `None` for anything else (or an odd count).
fn hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .bytes()
        .map(|byte| (byte as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if digits.len() % 2 != 0 {
        return None;
    }
    Some(
        digits
            .chunks(2)
            .map(|pair| pair[0] << 4 | pair[1])
            .collect(),
    )
}

/// What a record's match came to.
enum Match {
    Yes,
    /// DANE-TA: the chain reaches the anchor, but the leaf does not name the MX.
    Misnamed,
    No,
}

/// One certificate of the chain, as records select it.
struct Selected {
    der: Vec<u8>,
    /// Its SubjectPublicKeyInfo (DER); `None` when the certificate does not parse.
    spki: Option<Vec<u8>>,
}

impl Selected {
    fn new(der: &[u8]) -> Selected {
        let spki = X509Certificate::from_der(der)
            .ok()
            .map(|(_, cert)| cert.tbs_certificate.subject_pki.raw.to_vec());
        Selected {
            der: der.to_vec(),
            spki,
        }
    }

    /// Whether `record`'s selector and matching type over this certificate give its data.
    fn matches(&self, record: &Usable) -> bool {
        let selected = match record.selector {
            0 => Some(self.der.as_slice()),
            _ => self.spki.as_deref(),
        };
        selected.is_some_and(|bytes| association(bytes, record.matching) == record.data)
    }
}

/// The certificate association data of `bytes` under a matching type.
fn association(bytes: &[u8], matching: u8) -> Vec<u8> {
    match matching {
        1 => digest(&SHA256, bytes).as_ref().to_vec(),
        2 => digest(&SHA512, bytes).as_ref().to_vec(),
        _ => bytes.to_vec(),
    }
}

/// The chain as presented (at most [`MAX_CHAIN`] certificates).
struct Presented {
    certs: Vec<Selected>,
    /// For each certificate, whether the leaf chains up to it through the presented
    /// certificates, signature by signature (the leaf to itself trivially).
    reached: Vec<bool>,
}

impl Presented {
    fn new(chain: &[Der]) -> Presented {
        let certs: Vec<Selected> = chain
            .iter()
            .take(MAX_CHAIN)
            .map(|der| Selected::new(&der.0))
            .collect();
        let reached = reached(&certs);
        Presented { certs, reached }
    }

    fn matches(&self, record: &Usable, names: &[String]) -> Match {
        let Some(leaf) = self.certs.first() else {
            return Match::No;
        };
        if record.usage == EE {
            return if leaf.matches(record) {
                Match::Yes
            } else {
                Match::No
            };
        }
        // DANE-TA: a certificate above the leaf that the leaf chains up to, or (the whole key
        // published) the key that signed one of them.
        let in_chain = self
            .certs
            .iter()
            .zip(&self.reached)
            .skip(1)
            .any(|(cert, reached)| *reached && cert.matches(record));
        let signing_key = record.selector == 1
            && record.matching == 0
            && self
                .certs
                .iter()
                .zip(&self.reached)
                .any(|(cert, reached)| *reached && signed_by(&cert.der, &record.data));
        if !(in_chain || signing_key) {
            return Match::No;
        }
        if leaf_names(&leaf.der, names) {
            Match::Yes
        } else {
            Match::Misnamed
        }
    }
}

/// Which certificates the leaf chains up to: each step one whose subject is the issuer of
/// the last and whose key verifies its signature (x509-parser). Bounded by the chain's length.
fn reached(certs: &[Selected]) -> Vec<bool> {
    let mut reached = vec![false; certs.len()];
    let Some(first) = reached.first_mut() else {
        return reached;
    };
    *first = true;
    let mut current = 0;
    for _ in 0..certs.len() {
        let next = (0..certs.len()).find(|&candidate| {
            !reached[candidate]
                && certs[candidate]
                    .spki
                    .as_deref()
                    .is_some_and(|spki| signed_by(&certs[current].der, spki))
        });
        match next {
            Some(next) => {
                reached[next] = true;
                current = next;
            }
            None => break,
        }
    }
    reached
}

/// Whether the certificate `der` is signed by the key `spki` (a SubjectPublicKeyInfo, DER).
fn signed_by(der: &[u8], spki: &[u8]) -> bool {
    let (Ok((_, cert)), Ok((_, key))) = (
        X509Certificate::from_der(der),
        SubjectPublicKeyInfo::from_der(spki),
    ) else {
        return false;
    };
    cert.verify_signature(Some(&key)).is_ok()
}

/// Whether the leaf names one of `names` (RFC 7672 §3.2.3: its DNS-IDs when it has any, else
/// its CN; a wildcard only as the whole left-most label).
fn leaf_names(der: &[u8], names: &[String]) -> bool {
    let Ok(leaf) = CertInfo::parse(der) else {
        return false;
    };
    let presented = if leaf.san_dns.is_empty() {
        &leaf.common_names
    } else {
        &leaf.san_dns
    };
    names
        .iter()
        .any(|name| presented.iter().any(|pattern| dns_matches(pattern, name)))
}

/// The words of a matching or non-matching verdict.
fn detail(judgement: &DaneJudgement, usable: &[(usize, Usable)], tlsa: &TlsaLookup) -> String {
    let host = &judgement.host;
    let shown = |index: &usize| {
        tlsa.records
            .get(*index)
            .map(|r| format!("{} {} {}", r.usage, r.selector, r.matching_type))
            .unwrap_or_default()
    };
    let list = |indexes: &[usize]| indexes.iter().map(shown).collect::<Vec<_>>().join(", ");
    if judgement.state == DaneState::NoMatch {
        let mut words = format!(
            "none of the {} usable TLSA records of {host} matches the certificate it presents: \
             validating senders defer mail to it",
            usable.len()
        );
        if !judgement.misnamed.is_empty() {
            words.push_str(&format!(
                "; {} reaches the trust anchor, but the certificate names none of {}",
                list(&judgement.misnamed),
                judgement.reference_names.join(", ")
            ));
        }
        return words;
    }
    let mut words = format!(
        "{} matches the certificate {host} presents: validating senders deliver",
        list(&judgement.matched)
    );
    if judgement.rollover_risk {
        words.push_str(
            "; but only the current key (or certificate) is published: when it changes (a \
             renewal with a new key), validating senders defer until a TLSA record for the new \
             one is published. Publish a 3 1 1 record for the next key beside the current one \
             before the change, or a 2 1 1 record for the issuing CA",
        );
    }
    words
}

#[cfg(test)]
mod tests;
