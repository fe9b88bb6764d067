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

use super::{DecodeError, FailureDetail, Named, PolicyResult, TlsReport, host_name};

#[macro_use]
mod values;

pub use values::MAX_LIST;
use values::{Count, Field, MxHosts, Strings, Text, Time};

/// Most policies read from one report (a sender reports one per policy it applied: a few).
pub const MAX_POLICIES: usize = 1_000;

/// Most failure details read from one report, over its policies (Google's and Microsoft's
/// have one per result type, sending and receiving address: dozens).
pub const MAX_DETAILS: usize = 100_000;

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
