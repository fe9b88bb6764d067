//! `mailtls reputation --json`, and the `reputation` object of `check --reputation --json`.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Header, Kind};
use crate::analyze::dnsbl::ListingStatus;
use crate::diagnose::Verdict;
use crate::diagnose::costs_mail::{CostAnswer, CostReason, CostsMail as JudgedCosts};
use crate::diagnose::reputation::{
    Listing as JudgedListing, MISMATCH_STATEMENT, Reputation as Judged,
};

/// What `reputation --json` prints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReputationOutput {
    /// Schema version, kind (`reputation`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// When the lookups were made (RFC 3339, UTC).
    pub checked_at: String,
    /// The judgement.
    #[serde(flatten)]
    pub reputation: Reputation,
}

/// The JSON form of `reputation`, observed at `observed_at` (Unix seconds).
pub fn output(judged: &Judged, observed_at: i64) -> ReputationOutput {
    ReputationOutput {
        header: Header::new(Kind::Reputation),
        checked_at: super::time(observed_at),
        reputation: wire(judged),
    }
}

/// The `reputation` object of the JSON output.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Reputation {
    /// The host, address or domain asked about.
    pub target: String,
    /// `ok`, `warn`, `fail` (listed) or `unknown` (no list answered).
    pub verdict: Verdict,
    /// The exit status `mailtls reputation` uses for this verdict.
    pub exit_code: u8,
    /// The answer in one sentence.
    pub summary: String,
    /// The statement about certificate mismatches and listings.
    pub mismatch_statement: &'static str,
    /// Can a certificate warning cost the domain mail? From its own MTA-STS and DANE.
    pub costs_mail: CostsMail,
    /// What to change.
    pub fixes: Vec<String>,
    /// Facts that need no change.
    pub notes: Vec<String>,
    /// How many zones were asked.
    pub zones_asked: usize,
    /// Per address.
    pub addresses: Vec<Address>,
    /// Per name, for the domain lists.
    pub names: Vec<Name>,
    /// The HELO/EHLO name of the first address whose port 25 answered.
    pub helo: Option<Helo>,
    /// The SMTP banner of the same address.
    pub banner: Option<Banner>,
}

/// Can a certificate warning cost the domain mail?
#[derive(Debug, Serialize, JsonSchema)]
pub struct CostsMail {
    /// `yes` (a kind of sender refuses an MX today), `no`, `not-yet` (a policy in testing, or a
    /// TLSA match the next key breaks), `unknown`.
    pub answer: CostAnswer,
    /// The facts it rests on (codes, docs/json.md), MTA-STS first, then DANE, then port 25.
    pub because: Vec<CostReason>,
    /// The answer in plain words.
    pub summary: String,
    /// What to change (inbound delivery's fixes), empty when the answer is `no`.
    pub fixes: Vec<String>,
}

impl From<&JudgedCosts> for CostsMail {
    fn from(costs: &JudgedCosts) -> CostsMail {
        CostsMail {
            answer: costs.answer,
            because: costs.because.clone(),
            summary: costs.summary.clone(),
            fixes: costs.fixes.clone(),
        }
    }
}

/// One address.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Address {
    /// The address.
    pub address: String,
    /// Hosts that resolve to it.
    pub hosts: Vec<String>,
    /// Its PTR names.
    pub ptr: Vec<String>,
    /// A PTR name resolves back to the address.
    pub fcrdns: bool,
    /// The port-25 certificate covers a PTR name; null without PTR or certificate.
    pub ptr_on_certificate: Option<bool>,
    /// Each IP list's answer.
    pub listings: Vec<Listing>,
}

/// One list's answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Listing {
    /// The zone.
    pub zone: String,
    /// true listed, false not listed, null could not check.
    pub listed: Option<bool>,
    /// `listed`, `not-listed`, `refused`, `unknown`.
    pub status: ListingStatus,
    /// The A records answered.
    pub codes: Vec<String>,
    /// The answer in words.
    pub meaning: String,
    /// Where to look up and request removal.
    pub delist_url: Option<String>,
}

/// One name's domain-list answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Name {
    /// The name.
    pub name: String,
    /// Each domain list's answer.
    pub listings: Vec<Listing>,
}

/// The HELO/EHLO name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Helo {
    /// The address whose port 25 answered.
    pub address: String,
    /// The name (EHLO reply, else banner).
    pub name: Option<String>,
    /// It is one of the address's PTR names.
    pub matches_ptr: bool,
    /// It resolves to the address.
    pub resolves_to_address: bool,
    /// The port-25 certificate covers it; null without a certificate.
    pub on_certificate: Option<bool>,
}

/// The SMTP banner.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Banner {
    /// The address whose port 25 answered.
    pub address: String,
    /// The greeting as received.
    pub text: String,
    /// The name in it.
    pub name: Option<String>,
}

fn wire_listing(listing: &JudgedListing) -> Listing {
    Listing {
        zone: listing.zone.clone(),
        listed: match listing.status {
            ListingStatus::Listed => Some(true),
            ListingStatus::NotListed => Some(false),
            ListingStatus::Refused | ListingStatus::Unknown => None,
        },
        status: listing.status,
        codes: listing.codes.iter().map(ToString::to_string).collect(),
        meaning: listing.meaning.clone(),
        delist_url: listing.delist_url.clone(),
    }
}

/// Builds the JSON form.
pub fn wire(reputation: &Judged) -> Reputation {
    let answered = reputation
        .addresses
        .iter()
        .find_map(|a| a.smtp.as_ref().map(|s| (a.address, s)));
    Reputation {
        target: reputation.target.to_string(),
        verdict: reputation.verdict,
        exit_code: reputation.verdict.exit_code(),
        summary: reputation.summary.clone(),
        mismatch_statement: MISMATCH_STATEMENT,
        costs_mail: CostsMail::from(&reputation.costs_mail),
        fixes: reputation.fixes.clone(),
        notes: reputation.notes.clone(),
        zones_asked: reputation.zones_asked,
        addresses: reputation
            .addresses
            .iter()
            .map(|a| Address {
                address: a.address.to_string(),
                hosts: a.hosts.clone(),
                ptr: a.ptr.clone(),
                fcrdns: a.fcrdns,
                ptr_on_certificate: a.ptr_on_certificate,
                listings: a.listings.iter().map(wire_listing).collect(),
            })
            .collect(),
        names: reputation
            .names
            .iter()
            .map(|n| Name {
                name: n.name.clone(),
                listings: n.listings.iter().map(wire_listing).collect(),
            })
            .collect(),
        helo: answered.map(|(address, smtp)| Helo {
            address: address.to_string(),
            name: smtp.name().map(str::to_string),
            matches_ptr: smtp.matches_ptr,
            resolves_to_address: smtp.resolves_to_address,
            on_certificate: smtp.on_certificate,
        }),
        banner: answered.map(|(address, smtp)| Banner {
            address: address.to_string(),
            text: smtp.banner.clone(),
            name: smtp.banner_name.clone(),
        }),
    }
}
