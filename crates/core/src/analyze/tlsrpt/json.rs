//! The report's JSON, read as it streams by (serde visitors) rather than built into a
//! `serde_json::Value` first: a field mailtls does not use is skipped without being kept, so a
//! 16 MiB document of junk costs no more than its bytes, where a `Value` of it took 300 MB.
//! What is kept has caps: [`MAX_POLICIES`] policies and [`MAX_DETAILS`] failure details per
//! report (beyond them the report is refused as too large: a sum left short would be wrong),
//! [`MAX_LIST`] entries of a `policy-string` or `mx-host` (beyond, the rest is passed over:
//! they are shown, never summed).
//!
//! Liberal in each value (see the module above): a text field of another type is absent, a
//! `date-range` or `summary` that is not an object is ignored. Strict in the frame: the
//! document, each policy and each failure detail are objects, `policies` a list, every
//! `policy` has a `policy-type` and every detail a `result-type`, counts are counts.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{DecodeError, FailureDetail, Named, PolicyResult, TlsReport, clean, host_name};

/// Most policies read from one report (a sender reports one per policy it applied: a few).
pub const MAX_POLICIES: usize = 1_000;

/// Most failure details read from one report, over its policies (Google's and Microsoft's
/// have one per result type, sending and receiving address: dozens).
pub const MAX_DETAILS: usize = 100_000;

/// Most entries kept of one `policy-string` or `mx-host` list.
pub const MAX_LIST: usize = 1_000;

/// Longest `policy-string` entry looked into for a JSON list of records (Microsoft's TLSA
/// policies).
const MAX_NESTED_LIST: usize = 64 * 1024;

/// What the visitors share: how many details were read, and whether a cap refused the report.
#[derive(Default)]
struct Budget {
    policies: Cell<usize>,
    details: Cell<usize>,
    exceeded: Cell<bool>,
}

impl Budget {
    fn take<E: de::Error>(&self, counter: &Cell<usize>, cap: usize, what: &str) -> Result<(), E> {
        counter.set(counter.get() + 1);
        if counter.get() > cap {
            self.exceeded.set(true);
            return Err(E::custom(format!(
                "more than {cap} {what}; mailtls reads at most that many per report"
            )));
        }
        Ok(())
    }
}

/// Reads one report from JSON text.
pub fn from_slice(bytes: &[u8]) -> Result<TlsReport, DecodeError> {
    let budget = Budget::default();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    ReportSeed(&budget)
        .deserialize(&mut deserializer)
        .and_then(|report| deserializer.end().map(|()| report))
        .map_err(|error| classify(&error, &budget))
}

/// Reads one report from a parsed document.
pub fn from_value(document: &serde_json::Value) -> Result<TlsReport, DecodeError> {
    let budget = Budget::default();
    ReportSeed(&budget)
        .deserialize(document)
        .map_err(|error| classify(&error, &budget))
}

fn classify(error: &serde_json::Error, budget: &Budget) -> DecodeError {
    if budget.exceeded.get() {
        return DecodeError::TooManyEntries(error.to_string());
    }
    match error.classify() {
        serde_json::error::Category::Data => DecodeError::NotAReport(error.to_string()),
        _ => DecodeError::InvalidJson(error.to_string()),
    }
}

/// Reads a map's keys as the index of a known name (None: another key).
struct Field(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for Field {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|known| *known == name))
    }
}

/// Passes over the rest of a map.
fn skip_map<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Passes over the rest of a list.
fn skip_seq<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The `visit_*` methods of a visitor for the JSON types it makes nothing of: each gives
/// `$value`, a list or an object being passed over first.
macro_rules! otherwise {
    ($value:expr; $($kind:ident),*) => { $( otherwise!(@one $value; $kind); )* };
    (@one $value:expr; bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; i64) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; u64) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; f64) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(&mut seq)?;
            Ok($value)
        }
    };
    (@one $value:expr; map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            skip_map(&mut map)?;
            Ok($value)
        }
    };
}

/// The whole report.
struct ReportSeed<'a>(&'a Budget);

const REPORT_FIELDS: &[&str] = &[
    "organization-name",
    "contact-info",
    "report-id",
    "date-range",
    "policies",
];

impl<'de> DeserializeSeed<'de> for ReportSeed<'_> {
    type Value = TlsReport;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TlsReport, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_> {
    type Value = TlsReport;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TLS report: a JSON object with a \"policies\" list")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TlsReport, A::Error> {
        let mut report = TlsReport {
            organization: None,
            contact: None,
            report_id: None,
            start: None,
            end: None,
            policies: Vec::new(),
        };
        let mut policies = None;
        while let Some(field) = map.next_key_seed(Field(REPORT_FIELDS))? {
            match field {
                Some(0) => report.organization = map.next_value_seed(Text)?,
                Some(1) => report.contact = map.next_value_seed(Text)?,
                Some(2) => report.report_id = map.next_value_seed(Text)?,
                Some(3) => (report.start, report.end) = map.next_value_seed(DateRange)?,
                Some(_) => policies = Some(map.next_value_seed(Policies(self.0))?),
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        report.policies =
            policies.ok_or_else(|| de::Error::custom("it has no \"policies\" list"))?;
        Ok(report)
    }
}

/// `date-range`: start and end, when they are times.
struct DateRange;

impl<'de> DeserializeSeed<'de> for DateRange {
    type Value = (Option<i64>, Option<i64>);
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DateRange {
    type Value = (Option<i64>, Option<i64>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date range")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut start, mut end) = (None, None);
        while let Some(field) = map.next_key_seed(Field(&["start-datetime", "end-datetime"]))? {
            match field {
                Some(0) => start = map.next_value_seed(Time)?,
                Some(_) => end = map.next_value_seed(Time)?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok((start, end))
    }
    otherwise!((None, None); bool, i64, u64, f64, str, unit, seq);
}

/// `policies`: a list of policy results.
struct Policies<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Policies<'_> {
    type Value = Vec<PolicyResult>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Policies<'_> {
    type Value = Vec<PolicyResult>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a \"policies\" list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut policies = Vec::new();
        loop {
            // Counted before it is read, so a report cannot hold more than the cap.
            if let Some(policy) = seq.next_element_seed(Policy(self.0))? {
                self.0.take(&self.0.policies, MAX_POLICIES, "policies")?;
                policies.push(policy);
            } else {
                return Ok(policies);
            }
        }
    }
}

/// One entry of `policies`: `policy`, `summary`, `failure-details`.
struct Policy<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Policy<'_> {
    type Value = PolicyResult;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Policy<'_> {
    type Value = PolicyResult;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a policy result: an object with \"policy\" and \"summary\"")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut description = None;
        let (mut successful, mut failed) = (0, 0);
        let mut failures = Vec::new();
        while let Some(field) =
            map.next_key_seed(Field(&["policy", "summary", "failure-details"]))?
        {
            match field {
                Some(0) => description = Some(map.next_value_seed(Description)?),
                Some(1) => (successful, failed) = map.next_value_seed(Summary)?,
                Some(_) => failures = map.next_value_seed(Details(self.0))?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        let (policy_type, policy_strings, policy_domain, mx_hosts) = description
            .ok_or_else(|| de::Error::custom("a policy result without its \"policy\" object"))?;
        Ok(PolicyResult {
            policy_type,
            policy_strings,
            policy_domain,
            mx_hosts,
            successful,
            failed,
            failures,
        })
    }
}

type DescriptionValue = (
    Named<super::PolicyType>,
    Vec<String>,
    Option<String>,
    Vec<String>,
);

/// `policy`: type, strings, domain, MX patterns.
struct Description;

impl<'de> DeserializeSeed<'de> for Description {
    type Value = DescriptionValue;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Description {
    type Value = DescriptionValue;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a \"policy\" object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut policy_type, mut strings, mut domain, mut mx) =
            (None, Vec::new(), None, Vec::new());
        let names = &["policy-type", "policy-string", "policy-domain", "mx-host"];
        while let Some(field) = map.next_key_seed(Field(names))? {
            match field {
                Some(0) => policy_type = map.next_value_seed(Text)?,
                Some(1) => strings = map.next_value_seed(Strings { nested: true })?,
                Some(2) => domain = map.next_value_seed(Text)?.map(|d| host_name(&d)),
                Some(_) => mx = map.next_value_seed(MxHosts)?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        let policy_type =
            policy_type.ok_or_else(|| de::Error::custom("a policy without \"policy-type\""))?;
        Ok((Named::parse(&policy_type), strings, domain, mx))
    }
}

/// `summary`: the two counts (a summary that is not an object counts nothing).
struct Summary;

impl<'de> DeserializeSeed<'de> for Summary {
    type Value = (u64, u64);
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Summary {
    type Value = (u64, u64);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a \"summary\" object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut successful, mut failed) = (0, 0);
        let names = &[
            "total-successful-session-count",
            "total-failure-session-count",
        ];
        while let Some(field) = map.next_key_seed(Field(names))? {
            match field {
                Some(0) => successful = map.next_value_seed(Count(names[0]))?,
                Some(_) => failed = map.next_value_seed(Count(names[1]))?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok((successful, failed))
    }
    otherwise!((0, 0); bool, i64, u64, f64, str, unit, seq);
}

/// `failure-details`: a list of details (anything else holds none).
struct Details<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Details<'_> {
    type Value = Vec<FailureDetail>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Details<'_> {
    type Value = Vec<FailureDetail>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a \"failure-details\" list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut details = Vec::new();
        while let Some(detail) = seq.next_element_seed(Detail)? {
            self.0
                .take(&self.0.details, MAX_DETAILS, "failure details")?;
            details.push(detail);
        }
        Ok(details)
    }
    otherwise!(Vec::new(); bool, i64, u64, f64, str, unit, map);
}

/// One failure detail.
struct Detail;

const DETAIL_FIELDS: &[&str] = &[
    "result-type",
    "sending-mta-ip",
    "receiving-mx-hostname",
    "receiving-mx-helo",
    "receiving-ip",
    "failed-session-count",
    "additional-information",
    "failure-reason-code",
];

impl<'de> DeserializeSeed<'de> for Detail {
    type Value = FailureDetail;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Detail {
    type Value = FailureDetail;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a failure detail: an object with \"result-type\"")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut texts: [Option<String>; 8] = Default::default();
        let mut sessions = 0;
        while let Some(field) = map.next_key_seed(Field(DETAIL_FIELDS))? {
            match field {
                Some(5) => sessions = map.next_value_seed(Count("failed-session-count"))?,
                Some(index) => texts[index] = map.next_value_seed(Text)?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        let [
            result_type,
            sending,
            mx,
            helo,
            receiving,
            _,
            information,
            reason,
        ] = texts;
        let result_type = result_type
            .ok_or_else(|| de::Error::custom("a failure detail without \"result-type\""))?;
        Ok(FailureDetail {
            result_type: Named::parse(&result_type),
            sending_mta_ip: sending,
            receiving_mx_hostname: mx.map(|h| host_name(&h)),
            receiving_mx_helo: helo,
            receiving_ip: receiving,
            failed_sessions: sessions,
            additional_information: information,
            failure_reason_code: reason,
        })
    }
}

/// A text field: a string (or a number, as some senders write codes), cleaned; empty, or of
/// another type, is none.
struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a text")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let cleaned = clean(text.trim());
        Ok((!cleaned.is_empty()).then_some(cleaned))
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        Ok(Some(number.to_string()))
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        Ok(Some(number.to_string()))
    }
    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
        Ok(Some(number.to_string()))
    }
    otherwise!(None; bool, unit, seq, map);
}

/// A time: RFC 3339 (some senders write a space for the `T` or leave out the offset, then UTC),
/// or a number of Unix seconds; anything else is none.
struct Time;

impl<'de> DeserializeSeed<'de> for Time {
    type Value = Option<i64>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Time {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a time")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(super::time_of(text))
    }
    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
        Ok(time::OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(|_| seconds))
    }
    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
        i64::try_from(seconds).map_or(Ok(None), |s| self.visit_i64(s))
    }
    otherwise!(None; bool, f64, unit, seq, map);
}

/// A count: a non-negative whole number, or a string holding one; `null` or an empty string
/// is 0; anything else makes the report unusable (its sums would be wrong).
struct Count(&'static str);

impl Count {
    fn wrong<E: de::Error>(&self) -> E {
        E::custom(format!("{} is not a count", self.0))
    }
}

impl<'de> DeserializeSeed<'de> for Count {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a count for {}", self.0)
    }
    fn visit_u64<E: de::Error>(self, count: u64) -> Result<u64, E> {
        Ok(count)
    }
    fn visit_i64<E: de::Error>(self, count: i64) -> Result<u64, E> {
        u64::try_from(count).map_err(|_| self.wrong())
    }
    fn visit_f64<E: de::Error>(self, count: f64) -> Result<u64, E> {
        // 12.0 is a count; 1.5 and -3.0 are not.
        if count.fract() == 0.0 && (0.0..1.8e19).contains(&count) {
            Ok(count as u64)
        } else {
            Err(self.wrong())
        }
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(0);
        }
        text.parse().map_err(|_| self.wrong())
    }
    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<u64, E> {
        Err(self.wrong())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<u64, A::Error> {
        Err(self.wrong())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<u64, A::Error> {
        Err(self.wrong())
    }
}

/// `policy-string`: a list of strings, or one; with `nested`, an entry that is itself a JSON
/// list of strings (Microsoft's TLSA records) is read as its entries.
struct Strings {
    nested: bool,
}

impl Strings {
    fn push(&self, strings: &mut Vec<String>, text: &str) {
        let trimmed = text.trim();
        if self.nested && trimmed.starts_with('[') && trimmed.len() <= MAX_NESTED_LIST {
            let mut inner = serde_json::Deserializer::from_str(trimmed);
            if let Ok(entries) = (Strings { nested: false }).deserialize(&mut inner) {
                if inner.end().is_ok() {
                    for entry in entries {
                        if strings.len() < MAX_LIST {
                            strings.push(entry);
                        }
                    }
                    return;
                }
            }
        }
        let cleaned = clean(trimmed);
        if !cleaned.is_empty() && strings.len() < MAX_LIST {
            strings.push(cleaned);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strings {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strings {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of strings")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let mut strings = Vec::new();
        self.push(&mut strings, text);
        Ok(strings)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut strings = Vec::new();
        while strings.len() < MAX_LIST {
            match seq.next_element_seed(Entry)? {
                Some(Some(entry)) => self.push(&mut strings, &entry),
                Some(None) => {}
                None => return Ok(strings),
            }
        }
        // Full: the rest is passed over unread.
        skip_seq(&mut seq)?;
        Ok(strings)
    }
    otherwise!(Vec::new(); bool, i64, u64, f64, unit, map);
}

/// A `policy-string` entry, as written (cleaned and cut once it is known not to be a nested
/// list); of another type, none.
struct Entry;

impl<'de> DeserializeSeed<'de> for Entry {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entry {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a policy string")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(text.to_string()))
    }
    otherwise!(None; bool, i64, u64, f64, unit, seq, map);
}

/// `mx-host`: a list of names or of objects naming a host, or one of either.
struct MxHosts;

impl MxHosts {
    fn push(hosts: &mut Vec<String>, name: Option<String>) {
        if let Some(name) = name.map(|n| host_name(&n)).filter(|n| !n.is_empty()) {
            if hosts.len() < MAX_LIST && !hosts.contains(&name) {
                hosts.push(name);
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for MxHosts {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MxHosts {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("MX host patterns")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut hosts = Vec::new();
        while hosts.len() < MAX_LIST {
            match seq.next_element_seed(MxHost)? {
                Some(name) => MxHosts::push(&mut hosts, name),
                None => return Ok(hosts),
            }
        }
        // Full: the rest is passed over unread.
        skip_seq(&mut seq)?;
        Ok(hosts)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let mut hosts = Vec::new();
        MxHosts::push(&mut hosts, MxHost.visit_str(text)?);
        Ok(hosts)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut hosts = Vec::new();
        MxHosts::push(&mut hosts, MxHost.visit_map(map)?);
        Ok(hosts)
    }
    otherwise!(Vec::new(); bool, i64, u64, f64, unit);
}

/// One `mx-host` entry: a name, or an object naming one (`hostname`, else `mx-host`, `host`,
/// `name`).
struct MxHost;

const HOST_FIELDS: &[&str] = &["hostname", "mx-host", "host", "name"];

impl<'de> DeserializeSeed<'de> for MxHost {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MxHost {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an MX host")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Text.visit_str(text)
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        Text.visit_u64(number)
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        Text.visit_i64(number)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: [Option<String>; 4] = Default::default();
        while let Some(field) = map.next_key_seed(Field(HOST_FIELDS))? {
            match field {
                Some(index) => found[index] = map.next_value_seed(Text)?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(found.into_iter().flatten().next())
    }
    otherwise!(None; bool, f64, unit, seq);
}
