//! Where validation starts: the root's keys built into hickory (KSK-2017, tag 20326, and
//! KSK-2024, tag 38696), or the zones of an `--dnssec-anchor FILE`.
//!
//! The file is a trust anchor file as Unbound's `trust-anchor-file` reads it: DNSKEY or DS
//! records in presentation format (zone file syntax), one record per line (a record may go on
//! over lines inside parentheses), `;` comments, absolute owner names, an optional TTL and class.
//! `$TTL` lines are allowed, `$ORIGIN` and `$INCLUDE` are not. Several zones may have anchors
//! (a lab root, or a private zone). A DS anchor names a key by its digest, as the parent's DS
//! record would; a DNSKEY anchor is the key itself.
//!
//! Before the first lookup, the keys of each anchored zone (the root's too) are fetched and
//! accepted only if an anchored key signs them (in date; "priming", RFC 5011 §2 without the
//! automatic updates): every key of the zone is then trusted, kept until the key set's TTL runs
//! out (at most an hour), and fetched again after that. A resolver that returns the key set
//! without its signatures strips them: nothing is validated through it (`indeterminate`), and
//! hickory's validator is not even asked (its search for the missing signatures would nest
//! lookups as deep as it may).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::ProtoError;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_proto::dnssec::{PublicKey, TrustAnchors, Verifier};
use hickory_proto::op::Query;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;
use hickory_proto::serialize::txt::trust_anchor::{Entry, Parser as KeyParser};
use hickory_proto::xfer::{DnsHandle, DnsRequestOptions, FirstAnswer};
use tokio::time::Instant;

use super::signatures::{self, Broken};
use super::upstream::{MAX_KEPT, Upstream};
use crate::observation::dnssec::ValidationFault;

/// The largest anchor file read: a few records, with room for comments.
const MAX_FILE: u64 = 64 * 1024;

/// Most records in an anchor file.
const MAX_RECORDS: usize = 64;

/// A key-signing key's flags (zone key, secure entry point), as the root's keys have.
const KSK_FLAGS: u16 = 257;

/// Why an `--dnssec-anchor` file cannot be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AnchorFileError {
    /// The file cannot be read, or is too large.
    #[error("--dnssec-anchor {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A line is not a DNSKEY or DS record in presentation format.
    #[error("--dnssec-anchor {path} line {line}: {reason}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line (from 1) the record starts on.
        line: usize,
        /// Why.
        reason: String,
    },
    /// The file holds no record.
    #[error("--dnssec-anchor {path}: no DNSKEY or DS record in it")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// The trust anchors validation starts from.
#[derive(Debug, Clone, Default)]
pub enum Anchors {
    /// The root zone's keys built into hickory.
    #[default]
    Root,
    /// The zones of an anchor file, each with its anchored keys.
    Zones(Vec<AnchorZone>),
}

/// One anchored zone: its name and the records that name its trusted keys.
#[derive(Debug, Clone)]
pub struct AnchorZone {
    /// The zone (absolute).
    pub zone: Name,
    keys: Vec<DNSKEY>,
    delegations: Vec<DS>,
}

impl Anchors {
    /// Reads an anchor file (see the module's documentation for its format).
    pub fn read(path: &Path) -> Result<Anchors, AnchorFileError> {
        let read = |reason: String| AnchorFileError::Read {
            path: path.to_path_buf(),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| read(e.to_string()))?
            .len();
        if size > MAX_FILE {
            return Err(read(format!(
                "{size} bytes; an anchor file holds a few records (at most {MAX_FILE} bytes)"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
        Anchors::parse(&text).map_err(|error| match error {
            ParseFailure::Empty => AnchorFileError::Empty {
                path: path.to_path_buf(),
            },
            ParseFailure::Line(line, reason) => AnchorFileError::Syntax {
                path: path.to_path_buf(),
                line,
                reason,
            },
        })
    }

    /// Parses the text of an anchor file.
    pub fn parse(text: &str) -> Result<Anchors, ParseFailure> {
        let mut zones: Vec<AnchorZone> = Vec::new();
        let mut count = 0;
        for (line, record) in logical_records(text)? {
            count += 1;
            if count > MAX_RECORDS {
                return Err(ParseFailure::Line(
                    line,
                    format!("more than {MAX_RECORDS} records"),
                ));
            }
            let (zone, anchor) = parse_record(&record).map_err(|e| ParseFailure::Line(line, e))?;
            let at = match zones.iter().position(|z| z.zone == zone) {
                Some(at) => at,
                None => {
                    zones.push(AnchorZone {
                        zone,
                        keys: Vec::new(),
                        delegations: Vec::new(),
                    });
                    zones.len() - 1
                }
            };
            match anchor {
                Anchor::Key(key) => zones[at].keys.push(key),
                Anchor::Delegation(ds) => zones[at].delegations.push(ds),
            }
        }
        if zones.is_empty() {
            return Err(ParseFailure::Empty);
        }
        Ok(Anchors::Zones(zones))
    }

    /// The anchored zone closest above (or at) `name`; `None` when no anchor covers it.
    pub fn covering(&self, name: &Name) -> Option<Name> {
        match self {
            Anchors::Root => Some(Name::root()),
            Anchors::Zones(zones) => zones
                .iter()
                .filter(|zone| zone.zone.zone_of(name))
                .max_by_key(|zone| zone.zone.num_labels())
                .map(|zone| zone.zone.clone()),
        }
    }

    /// The zones validation starts from.
    pub fn zones(&self) -> Vec<Name> {
        match self {
            Anchors::Root => vec![Name::root()],
            Anchors::Zones(zones) => zones.iter().map(|zone| zone.zone.clone()).collect(),
        }
    }
}

/// Why an anchor file's text does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFailure {
    /// No record in it.
    Empty,
    /// The record starting on this line (from 1), and why.
    Line(usize, String),
}

enum Anchor {
    Key(DNSKEY),
    Delegation(DS),
}

/// The records of the file, each on one line (parentheses joined, comments gone), with the
/// line each starts on. `$TTL` lines are skipped.
fn logical_records(text: &str) -> Result<Vec<(usize, String)>, ParseFailure> {
    let mut records = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        // No quoted strings in DNSKEY or DS records: a semicolon always starts a comment.
        let line = raw.split(';').next().unwrap_or_default();
        let (start, mut record) = match open.take() {
            Some((start, so_far)) => (start, so_far + " " + line),
            None => {
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                if let Some(directive) = trimmed.strip_prefix('$') {
                    if directive.to_ascii_uppercase().starts_with("TTL") {
                        continue;
                    }
                    return Err(ParseFailure::Line(
                        number,
                        format!("${directive}: only $TTL is allowed; write absolute names"),
                    ));
                }
                if line.starts_with(char::is_whitespace) {
                    return Err(ParseFailure::Line(
                        number,
                        "each record names its owner (absolute, ending in '.')".to_string(),
                    ));
                }
                (number, line.to_string())
            }
        };
        let opened = record.matches('(').count();
        let closed = record.matches(')').count();
        if closed > opened {
            return Err(ParseFailure::Line(start, "')' without '('".to_string()));
        }
        if opened > closed {
            open = Some((start, record));
            continue;
        }
        record = record.replace(['(', ')'], " ");
        records.push((start, record));
    }
    if let Some((start, _)) = open {
        return Err(ParseFailure::Line(start, "'(' never closed".to_string()));
    }
    Ok(records)
}

/// One record (on one line) as an anchor of its owner zone.
fn parse_record(record: &str) -> Result<(Name, Anchor), String> {
    let fields: Vec<&str> = record.split_whitespace().collect();
    let owner = fields.first().copied().unwrap_or_default();
    if !owner.ends_with('.') {
        return Err(format!(
            "the owner {owner} is not absolute: write it with its final dot"
        ));
    }
    // owner [ttl] [class] TYPE rdata, the TTL and class in either order.
    let Some(at) = fields
        .iter()
        .skip(1)
        .take(3)
        .position(|field| matches!(field.to_ascii_uppercase().as_str(), "DNSKEY" | "DS"))
    else {
        return Err("only DNSKEY and DS records are trust anchors".to_string());
    };
    let at = at + 1;
    let mut ttl = None;
    for field in &fields[1..at] {
        if field.eq_ignore_ascii_case("IN") {
            continue;
        }
        if ttl.is_none() && field.starts_with(|c: char| c.is_ascii_digit()) {
            ttl = Some(*field);
            continue;
        }
        return Err(format!("{field}: expected a TTL or the class IN"));
    }
    let kind = match fields[at].to_ascii_uppercase().as_str() {
        "DNSKEY" => RecordType::DNSKEY,
        _ => RecordType::DS,
    };
    // As both of hickory's parsers read it: owner, TTL, class, type, data.
    let record = format!(
        "{owner} {} IN {kind} {}",
        ttl.unwrap_or("3600"),
        fields[at + 1..].join(" ")
    );
    let record = record.as_str();
    match kind {
        RecordType::DNSKEY => {
            let entries = KeyParser::new(record)
                .parse()
                .map_err(|e| format!("not a DNSKEY record: {e}"))?;
            match entries.into_iter().next() {
                Some(Entry::DNSKEY(key)) => {
                    Ok((key.name().to_lowercase(), Anchor::Key(key.data().clone())))
                }
                _ => Err("not a DNSKEY record".to_string()),
            }
        }
        _ => {
            let (_, sets) = Parser::new(record, None, Some(Name::root()))
                .parse()
                .map_err(|e| format!("not a DS record: {e}"))?;
            sets.values()
                .flat_map(|set| set.records_without_rrsigs())
                .find_map(|found| match found.data() {
                    RData::DNSSEC(DNSSECRData::DS(ds)) => {
                        Some((found.name().to_lowercase(), Anchor::Delegation(ds.clone())))
                    }
                    _ => None,
                })
                .ok_or_else(|| "not a DS record".to_string())
        }
    }
}

/// Why nothing validates through a resolver that gives `zone`'s key set without signatures.
pub(super) fn stripped(zone: &Name) -> Broken {
    Broken::new(
        ValidationFault::ResolverStripsDnssec,
        format!(
            "the resolver returns the keys of {} without their signatures (RRSIG): nothing can \
             be validated through it; use a resolver that passes DNSSEC records on (--dns)",
            signatures::shown(zone)
        ),
    )
}

/// The keys validation trusts, and until when (the anchored zones' key sets expire).
#[derive(Clone)]
pub(super) struct Primed {
    pub(super) trusted: Arc<TrustAnchors>,
    pub(super) until: Instant,
}

/// Why the anchors could not be primed.
#[derive(Debug, Clone)]
pub(super) enum PrimingFailed {
    /// The anchor matches none of the zone's keys, or they are not signed with it: every
    /// answer below is bogus.
    Bogus(Broken),
    /// The resolver gives the keys without signatures, or gives no keys: nothing can be
    /// validated.
    Indeterminate(Broken),
    /// The resolver did not answer (in words): nothing is known.
    Unanswered(ProtoError),
}

impl Anchors {
    /// The keys to trust: the root's built-in ones, or each anchored zone's key set once an
    /// anchored key is seen to sign it.
    pub(super) async fn prime(&self, upstream: &Upstream) -> Result<Primed, PrimingFailed> {
        let built_in;
        let zones = match self {
            Anchors::Root => {
                built_in = [AnchorZone::built_in_root()];
                &built_in[..]
            }
            Anchors::Zones(zones) => zones.as_slice(),
        };
        let mut trusted = TrustAnchors::empty();
        let mut keep = MAX_KEPT;
        for zone in zones {
            let (keys, ttl) = zone.accepted_keys(upstream).await?;
            keep = keep.min(ttl);
            for key in keys {
                trusted.insert(key.public_key());
            }
        }
        Ok(Primed {
            trusted: Arc::new(trusted),
            until: Instant::now() + keep,
        })
    }
}

impl AnchorZone {
    /// The root with the keys built into hickory (KSK-2017 and KSK-2024).
    fn built_in_root() -> AnchorZone {
        let built_in = TrustAnchors::default();
        let keys = (0..built_in.len())
            .filter_map(|index| built_in.get(index))
            .map(|key| DNSKEY::with_flags(KSK_FLAGS, key.clone()))
            .collect();
        AnchorZone {
            zone: Name::root(),
            keys,
            delegations: Vec::new(),
        }
    }

    /// The zone's key set, if an anchored key signs it, and how long it may be kept.
    async fn accepted_keys(
        &self,
        upstream: &Upstream,
    ) -> Result<(Vec<DNSKEY>, Duration), PrimingFailed> {
        let zone = signatures::shown(&self.zone);
        let mut options = DnsRequestOptions::default();
        options.use_edns = true;
        options.edns_set_dnssec_ok = true;
        let answer = upstream
            .lookup(Query::query(self.zone.clone(), RecordType::DNSKEY), options)
            .first_answer()
            .await
            .map_err(PrimingFailed::Unanswered)?;
        let records: Vec<Record> = answer.answers().to_vec();
        let set = signatures::rrset(&records, &self.zone, RecordType::DNSKEY);
        let published = signatures::keys(&set);
        if published.is_empty() {
            return Err(PrimingFailed::Indeterminate(Broken::new(
                ValidationFault::Unexplained,
                format!("the resolver gave no keys (DNSKEY) for the anchored zone {zone}"),
            )));
        }
        let rrsigs = signatures::signatures(&records, &self.zone, RecordType::DNSKEY);
        if rrsigs.is_empty() {
            // A zone's key set is always signed: the resolver dropped the signatures.
            return Err(PrimingFailed::Indeterminate(stripped(&self.zone)));
        }
        let delegation: Vec<&DS> = self.delegations.iter().collect();
        let mut anchored = signatures::named_by(&self.zone, &published, &delegation);
        anchored.extend(published.iter().copied().filter(|(_, key)| {
            self.keys.iter().any(|anchor| {
                anchor.algorithm() == key.algorithm()
                    && anchor.public_key().public_bytes() == key.public_key().public_bytes()
            })
        }));
        if anchored.is_empty() {
            return Err(PrimingFailed::Bogus(Broken::new(
                ValidationFault::DsMatchesNoKey,
                format!(
                    "the trust anchor matches none of the keys of {zone} (tags {})",
                    signatures::tags(&published)
                ),
            )));
        }
        let what = format!("the keys (DNSKEY) of {zone}");
        signatures::check(&what, &set, &rrsigs, &anchored, signatures::now())
            .map_err(PrimingFailed::Bogus)?;
        let ttl = set.iter().map(Record::ttl).min().unwrap_or(0);
        let keys = published
            .iter()
            .filter(|(_, key)| key.zone_key() && !key.revoke())
            .map(|(_, key)| (*key).clone())
            .collect();
        Ok((keys, Duration::from_secs(u64::from(ttl))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab root's key and its DS, as dnssec-keygen and dnssec-dsfromkey write them.
    const KEY: &str = ". IN DNSKEY 257 3 13 680edbKl68z7v4qP7WkW+Hoh15Qeo++Kx3E9+zRldNPGQ7oBgP25/f8P FL5SA58QluM5+6Dbf7k8Awg9/Y0NGg==";
    const DS: &str =
        ". IN DS 18046 13 2 6A42FD3EBF8230110CAFE87729A25002629D17D83258249C5DB92F9AA93E326A";

    fn zones(text: &str) -> Vec<AnchorZone> {
        match Anchors::parse(text) {
            Ok(Anchors::Zones(zones)) => zones,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn failure(text: &str) -> ParseFailure {
        match Anchors::parse(text) {
            Err(failure) => failure,
            Ok(anchors) => panic!("{text} parsed: {anchors:?}"),
        }
    }

    #[test]
    fn a_key_and_a_ds_of_one_zone() {
        let zones = zones(&format!("; the lab root\n{KEY}\n\n{DS} ; its digest\n"));
        assert_eq!(zones.len(), 1);
        assert!(zones[0].zone.is_root());
        assert_eq!(zones[0].keys.len(), 1);
        assert_eq!(zones[0].delegations.len(), 1);
        assert_eq!(zones[0].delegations[0].key_tag(), 18046);
        // The DS names the key: its digest is the key's.
        let key = &zones[0].keys[0];
        assert_eq!(tag_of(key), 18046);
        assert!(
            zones[0].delegations[0]
                .covers(&Name::root(), key)
                .unwrap_or(false)
        );
    }

    fn tag_of(key: &DNSKEY) -> u16 {
        super::signatures::tag(key).unwrap_or_default()
    }

    #[test]
    fn ttls_classes_parentheses_and_several_zones() {
        let text = "$TTL 86400\n\
                    lab.example. 3600 IN DS 18046 13 2 (\n\
                        6A42FD3EBF8230110CAFE87729A25002\n\
                        629D17D83258249C5DB92F9AA93E326A ) ; split\n\
                    LAB.example. DS 18046 13 2 6A42FD3EBF8230110CAFE87729A25002629D17D83258249C5DB92F9AA93E326A\n\
                    . 172800 DNSKEY 257 3 13 680edbKl68z7v4qP7WkW+Hoh15Qeo++Kx3E9+zRldNPGQ7oBgP25/f8P FL5SA58QluM5+6Dbf7k8Awg9/Y0NGg==\n";
        let zones = zones(text);
        let names: Vec<String> = zones.iter().map(|z| z.zone.to_ascii()).collect();
        assert_eq!(names, ["lab.example.", "."]);
        assert_eq!(zones[0].delegations.len(), 2, "names compare without case");
        assert_eq!(zones[1].keys.len(), 1);
        let anchors = Anchors::Zones(zones);
        let name = |text: &str| Name::from_ascii(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            anchors.covering(&name("_25._tcp.mx.lab.example.")),
            Some(name("lab.example."))
        );
        assert_eq!(anchors.covering(&name("mx.other.")), Some(Name::root()));
    }

    #[test]
    fn a_name_outside_every_anchor_is_not_covered() {
        let anchors = Anchors::Zones(zones(&DS.replacen('.', "lab.", 1)));
        let outside = Name::from_ascii("mx.example.com.").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(anchors.covering(&outside), None);
        assert_eq!(Anchors::Root.covering(&outside), Some(Name::root()));
    }

    #[test]
    fn what_is_refused_names_its_line() {
        assert_eq!(failure(""), ParseFailure::Empty);
        assert_eq!(failure("; nothing\n\n"), ParseFailure::Empty);
        let line = |text: &str| match failure(text) {
            ParseFailure::Line(line, reason) => (line, reason),
            ParseFailure::Empty => panic!("{text}: empty"),
        };
        assert_eq!(line(&format!("{DS}\n$ORIGIN example.\n")).0, 2);
        assert_eq!(line("$INCLUDE /etc/passwd\n").0, 1);
        assert!(line("lab IN DS 1 13 2 00\n").1.contains("not absolute"));
        assert!(line(". IN A 127.0.0.1\n").1.contains("only DNSKEY and DS"));
        assert!(
            line(". IN DS 18046 13 2 (\n6A42\n")
                .1
                .contains("never closed")
        );
        assert!(line(". IN DS 18046 13 2 ) 6A42\n").1.contains("without"));
        assert!(line(". IN DS 18046 13\n").1.contains("not a DS record"));
        assert!(
            line(". IN DNSKEY 257 3 13 !!!\n")
                .1
                .contains("not a DNSKEY record")
        );
        assert_eq!(
            line(&format!("{DS}\n  {DS}\n")).0,
            2,
            "a record without owner"
        );
        let many = format!("{DS}\n").repeat(MAX_RECORDS + 1);
        assert!(line(&many).1.contains("more than"));
    }

    #[test]
    fn a_file_too_large_or_missing_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("mailtls-anchors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let large = dir.join("large.key");
        std::fs::write(&large, " ".repeat(MAX_FILE as usize + 1)).unwrap_or_else(|e| panic!("{e}"));
        let error = Anchors::read(&large).map(|_| ()).unwrap_err();
        assert!(error.to_string().contains("large.key"), "{error}");
        let missing = dir.join("missing.key");
        assert!(matches!(
            Anchors::read(&missing),
            Err(AnchorFileError::Read { .. })
        ));
        let good = dir.join("root.key");
        std::fs::write(&good, format!("{KEY}\n")).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(Anchors::read(&good), Ok(Anchors::Zones(_))));
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    }
}
