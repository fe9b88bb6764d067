//! SMTP TLS reports (RFC 8460 §4) as senders send them, read from bytes: the JSON, a gzip of it,
//! or the mail that carries it (§5.3). Pure: no file is opened here (`run::tlsrpt` reads them,
//! `diagnose::tlsrpt` sums the reports up and says what to fix).
//!
//! Liberal where real senders differ: optional fields missing, `null` or empty; `mx-host` a list
//! of strings (Google), one string, objects naming a host, or absent (Microsoft, whose MTA-STS
//! patterns are then read from the policy's `mx:` lines); a TLSA `policy-string` whose one entry
//! is itself a JSON list of records (Microsoft); counts as numbers or numeric strings; policy and
//! result types mailtls does not know kept as written. Strict where a summary would otherwise
//! be wrong: the document is a JSON object with a `policies` list of objects, each with a
//! `policy` naming its `policy-type`, and every count is a count.
//!
//! The JSON is read as it streams by (`json/`): what mailtls does not use is passed over
//! unkept, and what it keeps has caps ([`MAX_POLICIES`], [`MAX_DETAILS`], [`MAX_LIST`]). Every
//! text taken from a report has its control characters replaced and is cut to [`MAX_TEXT`]
//! characters, so a report cannot write escape sequences to a terminal.

mod decode;
mod json;
mod mail;

pub use decode::{DecodeError, MAX_REPORT, decode};
pub use json::{MAX_DETAILS, MAX_LIST, MAX_POLICIES};

crate::vocabulary::vocabulary! {
    /// Why a session failed (RFC 8460 §4.3, the IANA "STARTTLS Validation Result Types").
    pub enum ResultType {
        /// The MX did not offer STARTTLS (or the handshake failed).
        StarttlsNotSupported => "starttls-not-supported",
        /// The certificate does not name the MX (or, for DANE-TA, the name check failed).
        CertificateHostMismatch => "certificate-host-mismatch",
        /// The certificate has expired.
        CertificateExpired => "certificate-expired",
        /// The chain does not lead to a trusted CA (unknown CA, missing intermediates...).
        CertificateNotTrusted => "certificate-not-trusted",
        /// A general failure for a reason not matching another type.
        ValidationFailure => "validation-failure",
        /// The TLSA records do not match, or are malformed.
        TlsaInvalid => "tlsa-invalid",
        /// DNSSEC validation of the TLSA (or MX) answer failed.
        DnssecInvalid => "dnssec-invalid",
        /// The sender requires DANE for the domain and found no validated TLSA records.
        DaneRequired => "dane-required",
        /// The MTA-STS policy could not be fetched.
        StsPolicyFetchError => "sts-policy-fetch-error",
        /// The MTA-STS policy is not valid.
        StsPolicyInvalid => "sts-policy-invalid",
        /// The MTA-STS policy host's certificate is not valid (PKIX).
        StsWebpkiInvalid => "sts-webpki-invalid",
    }
}

crate::vocabulary::vocabulary! {
    /// Which policy the sender applied (RFC 8460 §4.3).
    pub enum PolicyType {
        /// MTA-STS (RFC 8461).
        Sts => "sts",
        /// DANE TLSA records (RFC 7672).
        Tlsa => "tlsa",
        /// Neither: opportunistic TLS.
        NoPolicyFound => "no-policy-found",
    }
}

crate::vocabulary::vocabulary! {
    /// An MTA-STS policy's `mode` (RFC 8461 §3.2), as the report's `policy-string` gives it.
    pub enum StsMode {
        /// Senders do not deliver to an MX that fails validation.
        Enforce => "enforce",
        /// Senders deliver anyway and report.
        Testing => "testing",
        /// The policy is withdrawn: senders treat the domain as having none.
        None => "none",
    }
}

/// A value a sender wrote for a closed vocabulary: one mailtls knows, or another, kept as
/// written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Named<T> {
    /// A value of the vocabulary.
    Known(T),
    /// Something else, as written.
    Other(String),
}

/// The vocabularies [`Named`] is used with.
pub trait Vocabulary: Copy {
    /// The value with this name.
    fn named(text: &str) -> Option<Self>;
    /// The value's name.
    fn name(self) -> &'static str;
}

impl Vocabulary for ResultType {
    fn named(text: &str) -> Option<Self> {
        ResultType::from_name(text)
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Vocabulary for PolicyType {
    fn named(text: &str) -> Option<Self> {
        PolicyType::from_name(text)
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl<T: Vocabulary> Named<T> {
    /// `text` read as a value of the vocabulary (names are matched without regard to case and
    /// surrounding blanks), or kept as written.
    pub fn parse(text: &str) -> Named<T> {
        let trimmed = text.trim();
        match T::named(&trimmed.to_ascii_lowercase()) {
            Some(value) => Named::Known(value),
            None => Named::Other(clean(trimmed)),
        }
    }

    /// The name, as mailtls writes it or as the sender did.
    pub fn as_str(&self) -> &str {
        match self {
            Named::Known(value) => value.name(),
            Named::Other(text) => text,
        }
    }

    /// The known value, if it is one.
    pub fn known(&self) -> Option<T> {
        match self {
            Named::Known(value) => Some(*value),
            Named::Other(_) => None,
        }
    }
}

/// Longest text kept from a report (names, codes, URLs), in characters.
pub const MAX_TEXT: usize = 512;

/// One report: who sent it, the days it covers, and each policy's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsReport {
    /// `organization-name`.
    pub organization: Option<String>,
    /// `contact-info`.
    pub contact: Option<String>,
    /// `report-id`.
    pub report_id: Option<String>,
    /// `date-range.start-datetime`, Unix seconds (None when absent or not a time).
    pub start: Option<i64>,
    /// `date-range.end-datetime`, Unix seconds.
    pub end: Option<i64>,
    /// `policies`.
    pub policies: Vec<PolicyResult>,
}

/// One policy's part of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResult {
    /// `policy.policy-type`.
    pub policy_type: Named<PolicyType>,
    /// `policy.policy-string`: the MTA-STS policy's lines or the TLSA records.
    pub policy_strings: Vec<String>,
    /// `policy.policy-domain`, lower case, without a final dot.
    pub policy_domain: Option<String>,
    /// `policy.mx-host`: the MX patterns of an MTA-STS policy.
    pub mx_hosts: Vec<String>,
    /// `summary.total-successful-session-count`.
    pub successful: u64,
    /// `summary.total-failure-session-count`.
    pub failed: u64,
    /// `failure-details`.
    pub failures: Vec<FailureDetail>,
}

/// One line of `failure-details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureDetail {
    /// `result-type`.
    pub result_type: Named<ResultType>,
    /// `sending-mta-ip`.
    pub sending_mta_ip: Option<String>,
    /// `receiving-mx-hostname`, lower case, without a final dot.
    pub receiving_mx_hostname: Option<String>,
    /// `receiving-mx-helo`.
    pub receiving_mx_helo: Option<String>,
    /// `receiving-ip`.
    pub receiving_ip: Option<String>,
    /// `failed-session-count`.
    pub failed_sessions: u64,
    /// `additional-information` (a URI, by the RFC).
    pub additional_information: Option<String>,
    /// `failure-reason-code`.
    pub failure_reason_code: Option<String>,
}

impl PolicyResult {
    /// The MTA-STS policy's mode, from its `mode:` line (None when the report does not give
    /// it, or for another kind of policy).
    pub fn sts_mode(&self) -> Option<StsMode> {
        if self.policy_type != Named::Known(PolicyType::Sts) {
            return None;
        }
        self.policy_strings
            .iter()
            .find_map(|line| policy_field(line, "mode"))
            .and_then(|mode| StsMode::from_name(&mode.to_ascii_lowercase()))
    }

    /// The MX patterns the policy allows: `mx-host`, else the policy's `mx:` lines.
    pub fn mx_patterns(&self) -> Vec<String> {
        if !self.mx_hosts.is_empty() {
            return self.mx_hosts.clone();
        }
        if self.policy_type != Named::Known(PolicyType::Sts) {
            return Vec::new();
        }
        let mut patterns: Vec<String> = Vec::new();
        for pattern in self
            .policy_strings
            .iter()
            .filter_map(|line| policy_field(line, "mx"))
        {
            let pattern = host_name(pattern);
            if !pattern.is_empty() && !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        patterns
    }
}

/// The value of `key: value` in an MTA-STS policy line.
fn policy_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (name, value) = line.split_once(':')?;
    name.trim()
        .eq_ignore_ascii_case(key)
        .then(|| value.trim())
        .filter(|value| !value.is_empty())
}

/// Reads one report from a parsed JSON document (`decode` reads the bytes without building
/// the document first).
pub fn from_json(document: &serde_json::Value) -> Result<TlsReport, DecodeError> {
    json::from_value(document)
}

/// `text` without control characters (each replaced by U+FFFD), at most [`MAX_TEXT`]
/// characters.
pub fn clean(text: &str) -> String {
    text.chars()
        .take(MAX_TEXT)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A host name as reports write it, compared as DNS does: lower case, no final dot.
fn host_name(text: &str) -> String {
    text.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// An RFC 3339 time, as Unix seconds; some senders write a space for the `T` or leave out the
/// offset (then UTC).
fn time_of(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let spaced = text.replacen(' ', "T", 1);
    [text.to_string(), format!("{spaced}Z"), spaced]
        .iter()
        .find_map(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> Result<TlsReport, DecodeError> {
        from_json(&serde_json::from_str(json).expect("test JSON"))
    }

    #[test]
    fn reads_the_rfc_example_shape() {
        let parsed = report(
            r#"{"organization-name":"Company-X","date-range":{"start-datetime":"2016-04-01T00:00:00Z","end-datetime":"2016-04-01T23:59:59Z"},
            "contact-info":"sts-reporting@company-x.example","report-id":"5065427c",
            "policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: *.mail.company-y.example","max_age: 86400"],
            "policy-domain":"Company-Y.example.","mx-host":["*.mail.company-y.example"]},
            "summary":{"total-successful-session-count":5326,"total-failure-session-count":303},
            "failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"2001:db8:abcd:0012::1","receiving-mx-hostname":"MX1.mail.company-y.example","failed-session-count":100},
            {"result-type":"something-new","failed-session-count":"3","failure-reason-code":"X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"}]}]}"#,
        )
        .expect("a report");
        assert_eq!(parsed.organization.as_deref(), Some("Company-X"));
        assert_eq!(parsed.start, Some(1_459_468_800));
        assert_eq!(parsed.end, Some(1_459_555_199));
        let policy = &parsed.policies[0];
        assert_eq!(policy.policy_domain.as_deref(), Some("company-y.example"));
        assert_eq!(policy.sts_mode(), Some(StsMode::Testing));
        assert_eq!(policy.mx_patterns(), ["*.mail.company-y.example"]);
        assert_eq!((policy.successful, policy.failed), (5326, 303));
        assert_eq!(
            policy.failures[0].result_type,
            Named::Known(ResultType::CertificateExpired)
        );
        assert_eq!(
            policy.failures[0].receiving_mx_hostname.as_deref(),
            Some("mx1.mail.company-y.example")
        );
        assert_eq!(
            policy.failures[1].result_type,
            Named::Other("something-new".into())
        );
        assert_eq!(policy.failures[1].failed_sessions, 3);
    }

    #[test]
    fn reads_the_shapes_senders_differ_in() {
        // Microsoft: no mx-host (patterns from the policy), TLSA records as one JSON string.
        let parsed = report(
            r#"{"organization-name":"Microsoft Corporation","policies":[
            {"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce","mx: *.example.net","mx: mail.example.net","max_age: 2592000"],"policy-domain":"example.net"},"summary":{"total-successful-session-count":2,"total-failure-session-count":0}},
            {"policy":{"policy-type":"tlsa","policy-string":["[\"3 1 1 6007EE\",\"3 1 1 837C77\"]"],"policy-domain":"example.net","mx-host":null},"summary":{"total-successful-session-count":2}},
            {"policy":{"policy-type":"sts","mx-host":"mx.example.org"},"summary":{}},
            {"policy":{"policy-type":"STS","mx-host":[{"hostname":"a.example.org","failure-count":1},{"name":"b.example.org"},7]}}]}"#,
        )
        .expect("a report");
        assert_eq!(parsed.policies[0].sts_mode(), Some(StsMode::Enforce));
        assert_eq!(
            parsed.policies[0].mx_patterns(),
            ["*.example.net", "mail.example.net"]
        );
        assert_eq!(
            parsed.policies[1].policy_strings,
            ["3 1 1 6007EE", "3 1 1 837C77"]
        );
        assert_eq!(parsed.policies[1].failed, 0);
        assert_eq!(parsed.policies[2].mx_hosts, ["mx.example.org"]);
        assert_eq!(parsed.policies[2].sts_mode(), None);
        assert_eq!(
            parsed.policies[3].policy_type,
            Named::Known(PolicyType::Sts)
        );
        assert_eq!(
            parsed.policies[3].mx_hosts,
            ["a.example.org", "b.example.org", "7"]
        );
    }

    #[test]
    fn empty_optional_fields_are_absent() {
        // parsedmarc's empty_failure_detail_fields.json: empty strings for the optional ones.
        let parsed = report(
            r#"{"policies":[{"policy":{"policy-type":"sts","policy-domain":""},"summary":{"total-failure-session-count":1},
            "failure-details":[{"result-type":"sts-policy-fetch-error","sending-mta-ip":"","receiving-ip":"","receiving-mx-hostname":"","failed-session-count":1,"additional-information":"","failure-reason-code":"no-policy-served"}]}]}"#,
        )
        .expect("a report");
        let detail = &parsed.policies[0].failures[0];
        assert_eq!(parsed.policies[0].policy_domain, None);
        assert_eq!(detail.receiving_mx_hostname, None);
        assert_eq!(detail.sending_mta_ip, None);
        assert_eq!(
            detail.failure_reason_code.as_deref(),
            Some("no-policy-served")
        );
    }

    #[test]
    fn what_is_not_a_report_says_why() {
        for (json, why) in [
            (
                "[]",
                "expected a TLS report: a JSON object with a \"policies\" list",
            ),
            (r#"{"feedback":{}}"#, "it has no \"policies\" list"),
            (r#"{"policies":{}}"#, "expected a \"policies\" list"),
            (r#"{"policies":[1]}"#, "expected a policy result"),
            (
                r#"{"policies":[{"summary":{}}]}"#,
                "without its \"policy\" object",
            ),
            (
                r#"{"policies":[{"policy":{}}]}"#,
                "a policy without \"policy-type\"",
            ),
            (
                r#"{"policies":[{"policy":{"policy-type":"sts"},"summary":{"total-failure-session-count":-1}}]}"#,
                "total-failure-session-count is not a count",
            ),
            (
                r#"{"policies":[{"policy":{"policy-type":"sts"},"failure-details":[{"failed-session-count":1}]}]}"#,
                "a failure detail without \"result-type\"",
            ),
        ] {
            let error = report(json).expect_err(json).to_string();
            assert!(error.contains(why), "{json}: {error}");
            // Read from bytes, the same, with the place.
            let error = decode(json.as_bytes()).expect_err(json).to_string();
            assert!(
                error.contains(why) && error.contains(" at line 1 column "),
                "{json}: {error}"
            );
        }
    }

    #[test]
    fn what_is_not_used_is_passed_over_and_what_is_kept_has_caps() {
        // Junk of every kind beside the report's fields, deep nesting included: passed over.
        let junk = format!(
            r#"{{"x":{}{}, "y":{{"a":[1,2,{{"b":null}}]}}, "policies":[{{"policy":{{"policy-type":"tlsa","z":[true]}},"summary":[1],"failure-details":"none"}}]}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        let read = decode(junk.as_bytes()).expect("a report");
        assert_eq!(read[0].policies[0].failures, []);
        // Nesting beyond serde_json's limit is refused, not a stack overflow.
        let deep = format!(r#"{{"x":{}}}"#, "[".repeat(100_000));
        assert!(matches!(
            decode(deep.as_bytes()),
            Err(DecodeError::InvalidJson(_))
        ));
        // One failure detail more than the cap refuses the report: a sum left short is wrong.
        let detail = r#"{"result-type":"certificate-expired","failed-session-count":1}"#;
        let details = vec![detail; MAX_DETAILS + 1].join(",");
        let many = format!(
            r#"{{"policies":[{{"policy":{{"policy-type":"sts"}},"failure-details":[{details}]}}]}}"#
        );
        assert!(matches!(
            decode(many.as_bytes()),
            Err(DecodeError::TooManyEntries(_))
        ));
        // Lists that are only shown keep their first MAX_LIST entries.
        let strings = vec![r#""mx: a.example""#; MAX_LIST + 5].join(",");
        let long = format!(
            r#"{{"policies":[{{"policy":{{"policy-type":"sts","policy-string":[{strings}]}}}}]}}"#
        );
        let read = decode(long.as_bytes()).expect("a report");
        assert_eq!(read[0].policies[0].policy_strings.len(), MAX_LIST);
    }

    #[test]
    fn texts_lose_control_characters_and_length() {
        let parsed = report(&format!(
            r#"{{"organization-name":"Evil\u001b[31mCorp","report-id":"{}","policies":[]}}"#,
            "x".repeat(2000)
        ))
        .expect("a report");
        assert_eq!(parsed.organization.as_deref(), Some("Evil\u{fffd}[31mCorp"));
        assert_eq!(parsed.report_id.map(|r| r.chars().count()), Some(MAX_TEXT));
    }

    #[test]
    fn times_in_the_forms_senders_write() {
        let at = time_of;
        assert_eq!(at("2024-01-09T00:00:00Z"), Some(1_704_758_400));
        assert_eq!(at("2024-01-09 00:00:00Z"), Some(1_704_758_400));
        assert_eq!(at("2024-01-09T00:00:00"), Some(1_704_758_400));
        assert_eq!(at("2024-01-09T01:00:00+01:00"), Some(1_704_758_400));
        assert_eq!(at("yesterday"), None);
    }
}
