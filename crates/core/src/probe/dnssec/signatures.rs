//! One link of a chain of trust checked by hand, for the words: whether a set of records is
//! signed, in date, by one of the given keys (RFC 4035 §5.3), and which of a zone's keys its
//! parent's DS records (or a trust anchor) name. hickory decides the status; this finds which
//! link failed when it said `bogus`, and checks the keys of an anchor file's zones.
//! The cryptography is hickory's (`Verifier`, `DS::covers`), run on ring.

use std::time::{SystemTime, UNIX_EPOCH};

use hickory_proto::dnssec::Verifier;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType, SerialNumber};

use crate::observation::dnssec::ValidationFault;

/// Why a link failed, in kind and in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Broken {
    pub(super) fault: ValidationFault,
    pub(super) detail: String,
}

impl Broken {
    pub(super) fn new(fault: ValidationFault, detail: String) -> Broken {
        Broken { fault, detail }
    }
}

/// Seconds since 1970 as DNSSEC dates count them (RFC 4034 §3.1.5: modulo 2^32).
pub(super) fn now() -> u32 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    // Serial number arithmetic: the date wraps, as the field does.
    (seconds % (1 << 32)) as u32
}

/// Whether DNSSEC date `a` is not after `b`, in serial number arithmetic (RFC 1982 §3.2: the
/// dates wrap every 2^32 seconds).
fn not_after(a: u32, b: u32) -> bool {
    b.wrapping_sub(a) < 1 << 31
}

/// A DNSSEC date as people read it (UTC).
fn date(serial: SerialNumber) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(i64::from(serial.get()))
        .ok()
        .and_then(|when| when.format(&format).ok())
        .unwrap_or_else(|| serial.get().to_string())
}

/// A name as the words show it: absolute, with its trailing dot (`.` for the root).
pub(super) fn shown(name: &Name) -> String {
    name.to_ascii()
}

/// The DNSKEY records among `records`.
pub(super) fn keys(records: &[Record]) -> Vec<(&Record, &DNSKEY)> {
    records
        .iter()
        .filter_map(|record| {
            let key = record.data().as_dnssec().and_then(DNSSECRData::as_dnskey)?;
            Some((record, key))
        })
        .collect()
}

/// The DS records among `records`.
pub(super) fn delegations(records: &[Record]) -> Vec<&DS> {
    records
        .iter()
        .filter_map(|record| record.data().as_dnssec().and_then(DNSSECRData::as_ds))
        .collect()
}

/// The RRSIG records among `records` that cover `name`'s `kind` records.
pub(super) fn signatures<'a>(
    records: &'a [Record],
    name: &Name,
    kind: RecordType,
) -> Vec<&'a RRSIG> {
    records
        .iter()
        .filter(|record| record.name() == name)
        .filter_map(|record| record.data().as_dnssec().and_then(DNSSECRData::as_rrsig))
        .filter(|rrsig| rrsig.type_covered() == kind)
        .collect()
}

/// `name`'s `kind` records among `records` (the set a signature covers).
pub(super) fn rrset(records: &[Record], name: &Name, kind: RecordType) -> Vec<Record> {
    records
        .iter()
        .filter(|record| record.name() == name && record.record_type() == kind)
        .cloned()
        .collect()
}

/// The tag of a key (RFC 4034 Appendix B); `None` when it cannot be computed.
pub(super) fn tag(key: &DNSKEY) -> Option<u16> {
    key.calculate_key_tag().ok()
}

/// The keys of `zone` that a DS record of `delegation` names (digest checked).
pub(super) fn named_by<'a>(
    zone: &Name,
    keys: &[(&'a Record, &'a DNSKEY)],
    delegation: &[&DS],
) -> Vec<(&'a Record, &'a DNSKEY)> {
    keys.iter()
        .filter(|(_, key)| {
            delegation
                .iter()
                .any(|ds| ds.covers(zone, key).unwrap_or(false))
        })
        .copied()
        .collect()
}

/// The tags of keys, for the words: `12345, 23456`.
pub(super) fn tags(keys: &[(&Record, &DNSKEY)]) -> String {
    keys.iter()
        .map(|(_, key)| tag(key).map_or_else(|| "?".to_string(), |t| t.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that `name`'s `kind` records (`rrset`, the set as published) carry a signature in
/// date, made by one of `keys`, that verifies. `what` names the records in the words ("the
/// TLSA records of _25._tcp.mx.example.").
pub(super) fn check(
    what: &str,
    rrset: &[Record],
    rrsigs: &[&RRSIG],
    keys: &[(&Record, &DNSKEY)],
    now: u32,
) -> Result<(), Broken> {
    let in_date = dated(what, rrsigs, now)?;
    signed_by(what, rrset, &in_date, keys)
}

/// The signatures among `rrsigs` that are in date; when none is, why not (none at all, all
/// expired, all not yet valid).
pub(super) fn dated<'a>(
    what: &str,
    rrsigs: &[&'a RRSIG],
    now: u32,
) -> Result<Vec<&'a RRSIG>, Broken> {
    if rrsigs.is_empty() {
        return Err(Broken::new(
            ValidationFault::SignatureMissing,
            format!("{what} carry no signature (RRSIG)"),
        ));
    }
    let in_date: Vec<&RRSIG> = rrsigs
        .iter()
        .copied()
        .filter(|rrsig| {
            not_after(rrsig.sig_inception().get(), now)
                && not_after(now, rrsig.sig_expiration().get())
        })
        .collect();
    if !in_date.is_empty() {
        return Ok(in_date);
    }
    // The latest expiry among those expired, else the earliest start among the rest.
    let expired = rrsigs
        .iter()
        .map(|rrsig| rrsig.sig_expiration())
        .filter(|expiry| !not_after(now, expiry.get()))
        .reduce(|a, b| if not_after(a.get(), b.get()) { b } else { a });
    Err(match expired {
        Some(when) => Broken::new(
            ValidationFault::SignatureExpired,
            format!("the signature over {what} expired on {}", date(when)),
        ),
        None => {
            let from = rrsigs
                .iter()
                .map(|rrsig| rrsig.sig_inception())
                .reduce(|a, b| if not_after(a.get(), b.get()) { a } else { b })
                .map(date)
                .unwrap_or_default();
            Broken::new(
                ValidationFault::SignatureNotYetValid,
                format!("the signature over {what} is valid only from {from}"),
            )
        }
    })
}

/// Checks that one of the signatures `in_date` over `rrset` was made by one of `keys` and
/// verifies.
pub(super) fn signed_by(
    what: &str,
    rrset: &[Record],
    in_date: &[&RRSIG],
    keys: &[(&Record, &DNSKEY)],
) -> Result<(), Broken> {
    let Some(first) = rrset.first() else {
        return Err(Broken::new(
            ValidationFault::Unexplained,
            format!("{what}: no records to check"),
        ));
    };
    let mut named_a_key = false;
    for rrsig in in_date {
        let signers = keys.iter().filter(|(record, key)| {
            record.name() == rrsig.signer_name()
                && key.algorithm() == rrsig.algorithm()
                && tag(key) == Some(rrsig.key_tag())
                && key.zone_key()
                && !key.revoke()
        });
        for (_, key) in signers {
            named_a_key = true;
            if key
                .verify_rrsig(first.name(), DNSClass::IN, rrsig, rrset.iter())
                .is_ok()
            {
                return Ok(());
            }
        }
    }
    let signed_with: Vec<String> = in_date
        .iter()
        .map(|rrsig| {
            format!(
                "{} key {} ({})",
                shown(rrsig.signer_name()),
                rrsig.key_tag(),
                rrsig.algorithm()
            )
        })
        .collect();
    Err(if named_a_key {
        Broken::new(
            ValidationFault::SignatureInvalid,
            format!(
                "the signature over {what} does not verify with the key that made it ({})",
                signed_with.join("; ")
            ),
        )
    } else {
        Broken::new(
            ValidationFault::KeyMissing,
            format!(
                "{what} are signed by {}, not by a trusted key of the zone (tags {})",
                signed_with.join("; "),
                tags(keys)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::dnssec::crypto::EcdsaSigningKey;
    use hickory_proto::dnssec::{Algorithm, DigestType, SigningKey, TBS};
    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::TLSA;
    use hickory_proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};

    const ZONE: &str = "example.";
    const OWNER: &str = "_25._tcp.mx.example.";
    const DAY: u32 = 86_400;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn signing_key() -> EcdsaSigningKey {
        let algorithm = Algorithm::ECDSAP256SHA256;
        let pkcs8 = EcdsaSigningKey::generate_pkcs8(algorithm).unwrap_or_else(|e| panic!("{e}"));
        EcdsaSigningKey::from_pkcs8(&pkcs8, algorithm).unwrap_or_else(|e| panic!("{e}"))
    }

    fn key_record(key: &EcdsaSigningKey) -> Record {
        let public = key.to_public_key().unwrap_or_else(|e| panic!("{e}"));
        let dnskey = DNSKEY::with_flags(257, public);
        Record::from_rdata(name(ZONE), 300, RData::DNSSEC(DNSSECRData::DNSKEY(dnskey)))
    }

    fn tlsa(byte: u8) -> Record {
        let data = TLSA::new(
            CertUsage::DaneEe,
            Selector::Spki,
            Matching::Sha256,
            vec![byte; 32],
        );
        Record::from_rdata(name(OWNER), 300, RData::TLSA(data))
    }

    /// An RRSIG over `records` by `key` (tag `tag`) valid from `inception` to `expiration`.
    fn sign(
        key: &EcdsaSigningKey,
        tag: u16,
        records: &[Record],
        inception: u32,
        expiration: u32,
    ) -> RRSIG {
        let unsigned = |sig: Vec<u8>| {
            RRSIG::new(
                RecordType::TLSA,
                key.algorithm(),
                4,
                300,
                expiration,
                inception,
                tag,
                name(ZONE),
                sig,
            )
        };
        let tbs = TBS::from_sig(
            &name(OWNER),
            DNSClass::IN,
            &unsigned(Vec::new()),
            records.iter(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        unsigned(key.sign(&tbs).unwrap_or_else(|e| panic!("{e}")))
    }

    struct Signed {
        key: EcdsaSigningKey,
        key_record: Record,
        tag: u16,
        records: Vec<Record>,
    }

    fn signed() -> Signed {
        let key = signing_key();
        let key_record = key_record(&key);
        let tag = key_record
            .data()
            .as_dnssec()
            .and_then(DNSSECRData::as_dnskey)
            .and_then(super::tag)
            .unwrap_or_else(|| panic!("no tag"));
        Signed {
            key,
            key_record,
            tag,
            records: vec![tlsa(1), tlsa(2)],
        }
    }

    fn checked(signed: &Signed, rrsig: &RRSIG, records: &[Record], now: u32) -> Result<(), Broken> {
        let keys = keys(std::slice::from_ref(&signed.key_record));
        check("the TLSA records", records, &[rrsig], &keys, now)
    }

    #[test]
    fn a_signature_in_date_by_the_key_verifies() {
        let s = signed();
        let now = now();
        let rrsig = sign(&s.key, s.tag, &s.records, now - DAY, now + DAY);
        assert_eq!(checked(&s, &rrsig, &s.records, now), Ok(()));
    }

    #[test]
    fn expired_and_future_signatures_say_their_dates() {
        let s = signed();
        let now = 1_600_000_000; // 2020-09-13
        let expired = sign(&s.key, s.tag, &s.records, now - 2 * DAY, now - DAY);
        let broken = checked(&s, &expired, &s.records, now).unwrap_err();
        assert_eq!(broken.fault, ValidationFault::SignatureExpired);
        assert!(
            broken.detail.contains("expired on 2020-09-12"),
            "{}",
            broken.detail
        );
        let future = sign(&s.key, s.tag, &s.records, now + DAY, now + 2 * DAY);
        let broken = checked(&s, &future, &s.records, now).unwrap_err();
        assert_eq!(broken.fault, ValidationFault::SignatureNotYetValid);
        assert!(
            broken.detail.contains("from 2020-09-14"),
            "{}",
            broken.detail
        );
    }

    #[test]
    fn dates_wrap_as_serial_numbers() {
        // 2106 and after: a date past 2^32 seconds is small again, and still later.
        assert!(not_after(u32::MAX - 10, 5));
        assert!(!not_after(5, u32::MAX - 10));
        assert!(not_after(7, 7));
        let s = signed();
        let rrsig = sign(&s.key, s.tag, &s.records, u32::MAX - DAY, DAY);
        assert_eq!(checked(&s, &rrsig, &s.records, u32::MAX), Ok(()));
        assert_eq!(checked(&s, &rrsig, &s.records, 10), Ok(()));
    }

    #[test]
    fn changed_records_an_unknown_key_or_no_signature_are_each_named() {
        let s = signed();
        let now = now();
        let rrsig = sign(&s.key, s.tag, &s.records, now - DAY, now + DAY);
        let changed = vec![tlsa(1), tlsa(3)];
        let broken = checked(&s, &rrsig, &changed, now).unwrap_err();
        assert_eq!(broken.fault, ValidationFault::SignatureInvalid);
        let other = sign(
            &s.key,
            s.tag.wrapping_add(1),
            &s.records,
            now - DAY,
            now + DAY,
        );
        let broken = checked(&s, &other, &s.records, now).unwrap_err();
        assert_eq!(broken.fault, ValidationFault::KeyMissing);
        assert!(
            broken.detail.contains(&s.tag.to_string()),
            "{}",
            broken.detail
        );
        let keys = keys(std::slice::from_ref(&s.key_record));
        let broken = check("the TLSA records", &s.records, &[], &keys, now).unwrap_err();
        assert_eq!(broken.fault, ValidationFault::SignatureMissing);
        // Signed by another key with the same tag: does not verify.
        let impostor = sign(&signing_key(), s.tag, &s.records, now - DAY, now + DAY);
        let broken = checked(&s, &impostor, &s.records, now).unwrap_err();
        assert_eq!(broken.fault, ValidationFault::SignatureInvalid);
    }

    #[test]
    fn a_ds_names_its_key_and_no_other() {
        let s = signed();
        let public = s.key.to_public_key().unwrap_or_else(|e| panic!("{e}"));
        let ds = DS::from_key(&public, &name(ZONE), DigestType::SHA256)
            .unwrap_or_else(|e| panic!("{e}"));
        let other = key_record(&signing_key());
        let records = vec![s.key_record.clone(), other];
        let keys = keys(&records);
        let named = named_by(&name(ZONE), &keys, &[&ds]);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, &s.key_record);
        // The digest covers the owner name too.
        assert!(named_by(&name("example.net."), &keys, &[&ds]).is_empty());
    }
}
