//! Why an answer is bogus. hickory's validator marks records bogus without saying which link of
//! the chain failed; this walks the chain again from the answer towards the trust anchor, one
//! link at a time (the records' signatures, the signing zone's keys, the DS records at its
//! parent), and names the first link that fails: an expired signature, a DS that matches no
//! key, a signature that does not verify... The walk asks through the same validating handle
//! (the keys and DS records come back with hickory's verdict on each) and is bounded by
//! [`MAX_LINKS`].

use std::net::IpAddr;

use hickory_proto::dnssec::{DnssecDnsHandle, Proof, TrustAnchors};
use hickory_proto::op::Query;
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::xfer::{DnsHandle, DnsRequestOptions, FirstAnswer};

use super::signatures::{self, Broken, shown};
use super::upstream::Upstream;
use super::words::words;
use crate::observation::dnssec::ValidationFault;

/// Most links walked (a chain is as long as the name has labels; real ones have a handful).
const MAX_LINKS: usize = 16;

/// One link to check.
enum Link {
    /// `name`'s `kind` records, found with their signatures in `section`.
    Records {
        name: Name,
        kind: RecordType,
        section: Vec<Record>,
    },
    /// The key set of `zone`, found with its signatures in `section`.
    Keys { zone: Name, section: Vec<Record> },
}

/// Walks the chain above an answer.
pub(super) struct Explainer<'a> {
    pub(super) handle: &'a DnssecDnsHandle<Upstream>,
    /// The keys validation starts from.
    pub(super) trusted: &'a TrustAnchors,
    /// The anchored zones (the root, or an anchor file's).
    pub(super) anchored: &'a [Name],
    pub(super) options: DnsRequestOptions,
    /// The resolver asked, to name it in words.
    pub(super) server: Option<IpAddr>,
}

impl Explainer<'_> {
    /// Why `name`'s `kind` records in `section` (records and their signatures, as answered)
    /// are bogus.
    pub(super) async fn records(
        &self,
        name: &Name,
        kind: RecordType,
        section: &[Record],
    ) -> Broken {
        self.walk(Link::Records {
            name: name.clone(),
            kind,
            section: section.to_vec(),
        })
        .await
    }

    /// Why the proof that `name` has no `kind` records does not hold: the first rrset of the
    /// proof (`authority`: SOA, NSEC, NSEC3 and their signatures) whose chain fails, else the
    /// proof itself.
    pub(super) async fn denial(
        &self,
        name: &Name,
        kind: RecordType,
        authority: &[Record],
    ) -> Broken {
        let mut sets: Vec<(Name, RecordType)> = Vec::new();
        for record in authority {
            let key = (record.name().clone(), record.record_type());
            if record.record_type() != RecordType::RRSIG && !sets.contains(&key) {
                sets.push(key);
            }
        }
        for (owner, set_kind) in sets.into_iter().take(MAX_LINKS) {
            let found = self.records(&owner, set_kind, authority).await;
            if found.fault != ValidationFault::Unexplained {
                return found;
            }
        }
        Broken::new(
            ValidationFault::DenialInvalid,
            format!(
                "the signed records (NSEC, NSEC3) meant to prove that {} has no {kind} records \
                 do not prove it",
                shown(name)
            ),
        )
    }

    /// Whether an answer hickory called insecure rests on a signed proof: a zone cut above
    /// `name` whose DS records a signed parent denies (its NSEC or NSEC3 records and SOA
    /// validated). hickory 0.25 takes the denial of a DS for insecure without checking the
    /// signatures on it, so an unsigned answer under a key the anchor does not vouch for would
    /// pass as insecure. `None` when the proof holds; otherwise why it does not.
    pub(super) async fn insecurity(&self, name: &Name) -> Option<Broken> {
        let mut at = name.clone();
        for _ in 0..MAX_LINKS {
            if self.anchored.contains(&at) {
                break;
            }
            let Ok(mut response) = self
                .handle
                .lookup(Query::query(at.clone(), RecordType::DS), self.options)
                .first_answer()
                .await
            else {
                // hickory refuses the denial itself (its NSEC proof fails): walk up.
                at = at.base_name();
                continue;
            };
            let answers = response.take_answers();
            let authority = response.take_name_servers();
            let proven = |record: &&Record| {
                matches!(
                    record.record_type(),
                    RecordType::SOA | RecordType::NSEC | RecordType::NSEC3
                )
            };
            let proofs: Vec<Proof> = authority.iter().filter(proven).map(Record::proof).collect();
            if answers
                .iter()
                .any(|record| record.record_type() == RecordType::DS)
            {
                // A DS above the answer: the zone below it is signed, not insecure.
                return Some(unexplained(format!(
                    "{} has DS records, yet the answer below it was not signed",
                    shown(&at)
                )));
            }
            if !proofs.is_empty() && proofs.iter().all(|proof| *proof == Proof::Secure) {
                return None;
            }
            if proofs.iter().any(|proof| *proof != Proof::Insecure) {
                // The parent's denial of the DS does not validate: find the link.
                return Some(self.denial(&at, RecordType::DS, &authority).await);
            }
            // Inside an unsigned zone: its cut is further up, at its apex (the SOA's owner) if
            // the answer names one above, else one label up.
            if at.is_root() {
                break;
            }
            let apex = authority
                .iter()
                .find(|record| record.record_type() == RecordType::SOA)
                .map(|soa| soa.name().clone())
                .filter(|apex| *apex != at && apex.zone_of(&at));
            at = apex.unwrap_or_else(|| at.base_name());
        }
        Some(unexplained(format!(
            "no signed proof that a zone above {} is unsigned",
            shown(name)
        )))
    }

    async fn walk(&self, first: Link) -> Broken {
        let now = signatures::now();
        let mut link = first;
        for _ in 0..MAX_LINKS {
            link = match link {
                Link::Records {
                    name,
                    kind,
                    section,
                } => {
                    let what = format!("the {kind} records of {}", shown(&name));
                    let set = signatures::rrset(&section, &name, kind);
                    let rrsigs = signatures::signatures(&section, &name, kind);
                    let in_date = match signatures::dated(&what, &rrsigs, now) {
                        Ok(in_date) => in_date,
                        Err(broken) => return broken,
                    };
                    let signer = in_date
                        .first()
                        .map(|rrsig| rrsig.signer_name().clone())
                        .unwrap_or_else(Name::root);
                    let keys = match self.ask(&signer, RecordType::DNSKEY).await {
                        Ok(keys) => keys,
                        Err(words) => return unexplained(words),
                    };
                    let key_set = signatures::rrset(&keys, &signer, RecordType::DNSKEY);
                    if key_set.iter().any(|key| key.proof() == Proof::Bogus) {
                        Link::Keys {
                            zone: signer,
                            section: keys,
                        }
                    } else {
                        let trusted = signatures::keys(&key_set);
                        return match signatures::signed_by(&what, &set, &in_date, &trusted) {
                            Err(broken) => broken,
                            Ok(()) => unexplained(format!(
                                "{what} verify with the keys of {}, yet the validator \
                                 rejected them",
                                shown(&signer)
                            )),
                        };
                    }
                }
                Link::Keys { zone, section } => match self.keys(&zone, &section, now).await {
                    Ok(next) => next,
                    Err(broken) => return broken,
                },
            };
        }
        unexplained(format!(
            "the chain of trust is longer than {MAX_LINKS} links"
        ))
    }

    /// Checks the key set of `zone` against what vouches for it (the trust anchor, or the DS
    /// records at its parent): the failure, or the next link to check (the DS records, when
    /// they are bogus themselves).
    async fn keys(&self, zone: &Name, section: &[Record], now: u32) -> Result<Link, Broken> {
        let what = format!("the keys (DNSKEY) of {}", shown(zone));
        let set = signatures::rrset(section, zone, RecordType::DNSKEY);
        let published = signatures::keys(&set);
        let rrsigs = signatures::signatures(section, zone, RecordType::DNSKEY);
        let in_date = signatures::dated(&what, &rrsigs, now)?;
        let vouched = if self.anchored.contains(zone) {
            let anchored: Vec<_> = published
                .iter()
                .copied()
                .filter(|(_, key)| self.trusted.contains(key.public_key()))
                .collect();
            if anchored.is_empty() {
                return Err(Broken::new(
                    ValidationFault::DsMatchesNoKey,
                    format!(
                        "the trust anchor matches none of the keys of {} (tags {})",
                        shown(zone),
                        signatures::tags(&published)
                    ),
                ));
            }
            anchored
        } else {
            let answer = self.ask(zone, RecordType::DS).await.map_err(unexplained)?;
            let ds_set = signatures::rrset(&answer, zone, RecordType::DS);
            if ds_set.iter().any(|ds| ds.proof() == Proof::Bogus) {
                return Ok(Link::Records {
                    name: zone.clone(),
                    kind: RecordType::DS,
                    section: answer,
                });
            }
            let delegation = signatures::delegations(&ds_set);
            if delegation.is_empty() {
                return Err(unexplained(format!(
                    "the parent of {} publishes no DS record for it",
                    shown(zone)
                )));
            }
            let named = signatures::named_by(zone, &published, &delegation);
            if named.is_empty() {
                let ds_tags: Vec<String> = delegation
                    .iter()
                    .map(|ds| ds.key_tag().to_string())
                    .collect();
                return Err(Broken::new(
                    ValidationFault::DsMatchesNoKey,
                    format!(
                        "the DS records of {} at its parent name keys tagged {}; the zone \
                         publishes keys tagged {}",
                        shown(zone),
                        ds_tags.join(", "),
                        signatures::tags(&published)
                    ),
                ));
            }
            named
        };
        signatures::signed_by(&what, &set, &in_date, &vouched)?;
        Err(unexplained(format!(
            "{what} are signed by a key their parent vouches for, yet the validator rejected \
             them"
        )))
    }

    /// The answer section for `name`'s `kind` records, validated (each record with hickory's
    /// proof), or why there is none.
    async fn ask(&self, name: &Name, kind: RecordType) -> Result<Vec<Record>, String> {
        self.handle
            .lookup(Query::query(name.clone(), kind), self.options)
            .first_answer()
            .await
            .map(|mut response| response.take_answers())
            .map_err(|error| {
                format!(
                    "the {kind} records of {} could not be had: {}",
                    shown(name),
                    words(&error, self.server)
                )
            })
    }
}

fn unexplained(words: String) -> Broken {
    Broken::new(ValidationFault::Unexplained, words)
}
