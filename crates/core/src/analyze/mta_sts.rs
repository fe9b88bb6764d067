//! MTA-STS (RFC 8461) as a sending server reads it: the `_mta-sts` TXT record (§3.1), the
//! policy fetched from `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (§3.2, §3.3) and the
//! matching of MX host names against its `mx` patterns (§4.1). Pure.
//!
//! The grammar is followed as written. Where senders part ways over what it leaves open (a line
//! the grammar has no place for, an `mx` pattern that is not one), the policy is read the lenient
//! way (the line skipped, the pattern matching nothing, as postfix-mta-sts-resolver does) and the
//! departure is kept in [`Policy::syntax`]: a strict parser (mox's) refuses the whole policy.

use super::txt_fields;
use crate::observation::delivery::PolicyFetch;

/// The largest `max_age` (RFC 8461 §3.2: 31557600 seconds, about a year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

crate::vocabulary::vocabulary! {
    /// What a policy asks of senders (RFC 8461 §5).
    pub enum Mode {
        /// Senders that honour MTA-STS deliver only to an MX that matches a pattern, offers
        /// STARTTLS and presents a certificate valid for its name.
        Enforce => "enforce",
        /// Senders deliver as usual and report (TLS-RPT) what `enforce` would refuse.
        Testing => "testing",
        /// Senders treat the domain as having no policy.
        None => "none",
    }
}

/// A valid `_mta-sts` TXT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsRecord {
    /// The policy's id: senders fetch the policy again when it changes.
    pub id: String,
    /// Other fields, as written.
    pub extensions: Vec<(String, String)>,
}

/// Why the `_mta-sts` TXT records give senders no policy to fetch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// More than one record starts with `v=STSv1`.
    #[error("{0} TXT records start with v=STSv1, and senders use one only when it is the only one")]
    Several(usize),
    /// The one record does not follow RFC 8461 §3.1's grammar.
    #[error("the record \"{record}\" is not valid: {why}")]
    Syntax {
        /// The record.
        record: String,
        /// What is wrong, in words.
        why: String,
    },
}

/// The record senders use among the TXT records at `_mta-sts.DOMAIN` (RFC 8461 §3.1: those
/// that do not begin with `v=STSv1` are discarded, and exactly one must remain); `Ok(None)`
/// when none begins so (the domain has no MTA-STS).
pub fn select_record(records: &[String]) -> Result<Option<StsRecord>, RecordError> {
    let announcing: Vec<&String> = records.iter().filter(|r| announces(r)).collect();
    match announcing.as_slice() {
        [] => Ok(None),
        [one] => parse_record(one)
            .map(Some)
            .map_err(|why| RecordError::Syntax {
                record: (*one).clone(),
                why,
            }),
        several => Err(RecordError::Several(several.len())),
    }
}

/// Whether a TXT record announces MTA-STS: it begins with `v=STSv1`, followed by a delimiter or
/// nothing (a record that begins so but is not valid still counts: it is the domain's record).
pub fn announces(record: &str) -> bool {
    txt_fields::announces(record, "v=STSv1")
}

/// Reads one record by RFC 8461 §3.1's grammar:
/// `v=STSv1` then `;`-separated fields, an `id` of 1 to 32 letters and digits among them,
/// extensions `name=value`, an optional `;` at the end. The first of duplicated fields counts.
pub fn parse_record(record: &str) -> Result<StsRecord, String> {
    let mut id: Option<String> = None;
    let mut extensions = Vec::new();
    for (name, value) in txt_fields::fields(record, "v=STSv1")? {
        if name == "id" {
            if !(1..=32).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(format!(
                    "its id \"{value}\" is not 1 to 32 letters and digits"
                ));
            }
            id.get_or_insert_with(|| value.to_string());
        } else {
            txt_fields::check_extension(name, value)?;
            extensions.push((name.to_string(), value.to_string()));
        }
    }
    let Some(id) = id else {
        return Err("it has no id field".to_string());
    };
    Ok(StsRecord { id, extensions })
}

/// A policy, as a lenient sender reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// What it asks of senders.
    pub mode: Mode,
    /// How long senders keep it, in seconds.
    pub max_age: u64,
    /// The valid `mx` patterns, lower-cased, in order.
    pub mx: Vec<String>,
    /// `mx` values that are not `["*."] domain`: they match no host.
    pub invalid_mx: Vec<String>,
    /// Fields the policy does not define, as written (senders ignore them).
    pub extensions: Vec<(String, String)>,
    /// What RFC 8461 §3.2's grammar does not allow, which a strict sender refuses the whole
    /// policy for: each with its line number (from 1).
    pub syntax: Vec<(usize, String)>,
    /// What is allowed but worth knowing (a duplicated field, of which the first counts).
    pub remarks: Vec<String>,
}

/// Why no sender can use a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Nothing in it.
    #[error("it is empty")]
    Empty,
    /// No `version` field.
    #[error("it has no version field (version: STSv1)")]
    NoVersion,
    /// A version other than `STSv1`.
    #[error("its version is \"{0}\", not STSv1")]
    Version(String),
    /// No `mode` field.
    #[error("it has no mode field")]
    NoMode,
    /// A mode other than enforce, testing or none.
    #[error("its mode is \"{0}\"; the modes are enforce, testing and none")]
    Mode(String),
    /// No `max_age` field.
    #[error("it has no max_age field")]
    NoMaxAge,
    /// A `max_age` that is not 1 to 10 digits.
    #[error("its max_age \"{0}\" is not a number of seconds")]
    MaxAge(String),
    /// A `max_age` over [`MAX_AGE_LIMIT`].
    #[error("its max_age of {0} seconds is over the limit of 31557600 (about a year)")]
    MaxAgeTooLarge(u64),
    /// Mode `enforce` or `testing` with no valid `mx` pattern.
    #[error("it has no valid mx pattern, which mode {0} needs")]
    NoMx(Mode),
}

/// Reads a policy body (RFC 8461 §3.2): `key: value` lines ended by CRLF or LF; `version`,
/// `mode` and `max_age` once each (the first counts), `mx` any number of times; other keys
/// ignored.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    if text.trim().is_empty() {
        return Err(PolicyError::Empty);
    }
    let mut syntax: Vec<(usize, String)> = Vec::new();
    let mut remarks: Vec<String> = Vec::new();
    let mut version: Option<&str> = None;
    let mut mode: Option<&str> = None;
    let mut max_age: Option<&str> = None;
    let mut mx: Vec<String> = Vec::new();
    let mut invalid_mx: Vec<String> = Vec::new();
    let mut extensions: Vec<(String, String)> = Vec::new();
    // One final line end is allowed; the lines are those before it.
    let body = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text);
    for (index, raw) in body.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.contains('\r') {
            syntax.push((number, "a carriage return without a line feed".to_string()));
        }
        let line = line.trim_end_matches(txt_fields::WSP);
        let Some((key, value)) = line.split_once(':') else {
            let what = if line.is_empty() {
                "an empty line".to_string()
            } else {
                format!("\"{}\" is not a key: value pair", shorten(line))
            };
            syntax.push((number, what));
            continue;
        };
        if !txt_fields::field_name(key) {
            syntax.push((number, format!("\"{}\" is not a key", shorten(key))));
            continue;
        }
        let value = value.trim_start_matches(txt_fields::WSP);
        let slot = match key {
            "version" => Some(&mut version),
            "mode" => Some(&mut mode),
            "max_age" => Some(&mut max_age),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                remarks.push(format!(
                    "{key} appears more than once (line {number}); senders use the first"
                ));
            } else {
                *slot = Some(value);
            }
            continue;
        }
        match key {
            "mx" => {
                let pattern = value.to_ascii_lowercase();
                if mx_pattern(&pattern) {
                    mx.push(pattern);
                } else {
                    syntax.push((
                        number,
                        format!("\"{}\" is not an mx pattern", shorten(value)),
                    ));
                    invalid_mx.push(value.to_string());
                }
            }
            _ => {
                if value.is_empty() || value.chars().any(|c| c.is_control()) {
                    syntax.push((number, format!("the value of {key} is not allowed")));
                }
                extensions.push((key.to_string(), value.to_string()));
            }
        }
    }
    match version {
        None => return Err(PolicyError::NoVersion),
        Some("STSv1") => {}
        Some(other) => return Err(PolicyError::Version(shorten(other))),
    }
    let mode = match mode {
        None => return Err(PolicyError::NoMode),
        Some(word) => Mode::from_name(word).ok_or_else(|| PolicyError::Mode(shorten(word)))?,
    };
    let max_age = match max_age {
        None => return Err(PolicyError::NoMaxAge),
        Some(digits)
            if (1..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            // Ten digits fit in a u64.
            let seconds: u64 = digits.parse().unwrap_or(u64::MAX);
            if seconds > MAX_AGE_LIMIT {
                return Err(PolicyError::MaxAgeTooLarge(seconds));
            }
            seconds
        }
        Some(other) => return Err(PolicyError::MaxAge(shorten(other))),
    };
    if mx.is_empty() && mode != Mode::None {
        return Err(PolicyError::NoMx(mode));
    }
    Ok(Policy {
        mode,
        max_age,
        mx,
        invalid_mx,
        extensions,
        syntax,
        remarks,
    })
}

/// Whether `pattern` is an `mx` pattern: `["*."] Domain` (RFC 8461 §3.2, `Domain` as in
/// RFC 5321 §4.1.2: letter-digit-hyphen labels, none starting or ending with a hyphen). A
/// wildcard is only the whole leftmost label.
pub fn mx_pattern(pattern: &str) -> bool {
    let domain = pattern.strip_prefix("*.").unwrap_or(pattern);
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Whether MX host `host` matches `pattern` (RFC 8461 §4.1): the same name, ignoring case, or
/// for `*.domain`, `domain` with exactly one label before it (`*.example.com` matches
/// `mail.example.com`, not `example.com` nor `a.mail.example.com`).
pub fn matches(pattern: &str, host: &str) -> bool {
    if !mx_pattern(&pattern.to_ascii_lowercase()) {
        return false;
    }
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(domain)),
        None => host.eq_ignore_ascii_case(pattern),
    }
}

/// The patterns of `policy` that match `host`.
pub fn matching<'a>(policy: &'a Policy, host: &str) -> Vec<&'a str> {
    policy
        .mx
        .iter()
        .filter(|p| matches(p, host))
        .map(String::as_str)
        .collect()
}

/// Why a fetched answer is not a policy a sender reads (RFC 8461 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerFault {
    /// The server answered with a redirect, which senders do not follow.
    #[error("it answers with a redirect ({status}{}), which senders do not follow", location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default())]
    Redirect {
        /// The status (301, 302, 307...).
        status: u16,
        /// Where it points.
        location: Option<String>,
    },
    /// A status other than 200.
    #[error("it answers HTTP {0}; senders take only 200")]
    Status(u16),
    /// A body over the 64 KiB senders read.
    #[error("the policy is larger than 64 KiB, more than senders read")]
    TooLarge,
    /// A Content-Type other than text/plain.
    #[error("it is served as {}, not text/plain", .0.as_deref().unwrap_or("no content type"))]
    ContentType(Option<String>),
}

/// The policy text of a fetch that answered, or why a sender does not read it. `None` when the
/// fetch got no answer at all (its `failure` says why).
pub fn answered(fetch: &PolicyFetch) -> Option<Result<&str, AnswerFault>> {
    let status = fetch.status?;
    Some(if (300..400).contains(&status) {
        Err(AnswerFault::Redirect {
            status,
            location: fetch.location.clone(),
        })
    } else if status != 200 {
        Err(AnswerFault::Status(status))
    } else if fetch.too_large {
        Err(AnswerFault::TooLarge)
    } else if !plain_text(fetch.content_type.as_deref()) {
        Err(AnswerFault::ContentType(fetch.content_type.clone()))
    } else {
        Ok(fetch.body.as_deref().unwrap_or_default())
    })
}

/// Whether a Content-Type is `text/plain` (any parameters, any case: RFC 8461 §3.2).
pub fn plain_text(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("text/plain")
    })
}

/// A value quoted in words, cut to a readable length.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let kept: String = text.chars().take(MAX - 1).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(records: &[&str]) -> Vec<String> {
        records.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn one_record_after_discarding_others() {
        let record = select_record(&strings(&[
            "v=spf1 -all",
            "v=STSv1; id=20240101T000000",
            "google-site-verification=abc",
        ]));
        assert_eq!(
            record,
            Ok(Some(StsRecord {
                id: "20240101T000000".to_string(),
                extensions: Vec::new()
            }))
        );
        assert_eq!(select_record(&strings(&["v=spf1 -all"])), Ok(None));
        assert_eq!(select_record(&[]), Ok(None));
    }

    #[test]
    fn two_sts_records_are_none_for_senders() {
        assert_eq!(
            select_record(&strings(&["v=STSv1; id=1", "v=STSv1; id=2"])),
            Err(RecordError::Several(2))
        );
        // An invalid second one still counts: both begin with v=STSv1.
        assert_eq!(
            select_record(&strings(&["v=STSv1; id=1", "v=STSv1"])),
            Err(RecordError::Several(2))
        );
    }

    #[test]
    fn record_grammar() {
        assert!(parse_record("v=STSv1; id=abc123;").is_ok());
        assert!(parse_record("v=STSv1;id=abc123").is_ok());
        assert!(parse_record("v=STSv1 ;\tid=abc123 ; ").is_ok());
        let extended = parse_record("v=STSv1; id=1; ext_x.y-z=va:lue").expect("valid");
        assert_eq!(
            extended.extensions,
            vec![("ext_x.y-z".to_string(), "va:lue".to_string())]
        );
        // The first id counts.
        assert_eq!(
            parse_record("v=STSv1; id=first; id=second").map(|r| r.id),
            Ok("first".to_string())
        );
        for bad in [
            "v=STSv1",
            "v=STSv1;",
            "v=STSv1; id=",
            "v=STSv1; id=has-hyphen",
            "v=STSv1; id=has space",
            "v=STSv1; id=123456789012345678901234567890123",
            "v=STSv1;; id=1",
            "v=STSv1; id=1;;",
            "v=STSv1; id",
            "v=STSv1; _x=1; id=1",
            "v=STSv1; x=a=b; id=1",
            "v=STSv1; x=; id=1",
            "V=STSv1; id=1",
            "v=STSv2; id=1",
            " v=STSv1; id=1",
        ] {
            assert!(parse_record(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_record(&format!("v=STSv1; id={}", "9".repeat(32))).is_ok());
    }

    #[test]
    fn what_announces_mta_sts() {
        assert!(announces("v=STSv1; id=1"));
        assert!(announces("v=STSv1"));
        assert!(announces("v=STSv1 ; id=1"));
        assert!(!announces("v=STSv10; id=1"));
        assert!(!announces("v=spf1"));
        assert!(!announces(" v=STSv1; id=1"));
    }

    const GOOD: &str = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n";

    #[test]
    fn a_policy_with_crlf_or_lf() {
        let crlf = parse_policy(GOOD).expect("valid");
        assert_eq!(crlf.mode, Mode::Enforce);
        assert_eq!(crlf.max_age, 604_800);
        assert_eq!(crlf.mx, vec!["mail.example.com", "*.example.net"]);
        assert!(
            crlf.syntax.is_empty() && crlf.remarks.is_empty(),
            "{crlf:?}"
        );
        let lf = parse_policy(&GOOD.replace("\r\n", "\n")).expect("valid");
        assert_eq!(lf, crlf);
        // No final line end, and spaces after the colon or at the end of a line.
        let loose = parse_policy("version:STSv1\nmode:   testing  \nmx: a.example\nmax_age: 0")
            .expect("valid");
        assert_eq!((loose.mode, loose.max_age), (Mode::Testing, 0));
        assert!(loose.syntax.is_empty(), "{loose:?}");
    }

    #[test]
    fn unknown_keys_are_ignored_and_duplicates_keep_the_first() {
        let policy = parse_policy(
            "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 86400\nmax_age: 1\nfuture_key: some value\n",
        )
        .expect("valid");
        assert_eq!((policy.mode, policy.max_age), (Mode::Testing, 86_400));
        assert_eq!(
            policy.extensions,
            vec![("future_key".to_string(), "some value".to_string())]
        );
        assert_eq!(policy.remarks.len(), 2, "{policy:?}");
        assert!(policy.syntax.is_empty());
    }

    #[test]
    fn max_age_range() {
        let with = |age: &str| {
            parse_policy(&format!(
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: {age}\n"
            ))
        };
        assert_eq!(with("31557600").map(|p| p.max_age), Ok(MAX_AGE_LIMIT));
        assert_eq!(
            with("31557601"),
            Err(PolicyError::MaxAgeTooLarge(31_557_601))
        );
        assert_eq!(
            with("9999999999"),
            Err(PolicyError::MaxAgeTooLarge(9_999_999_999))
        );
        for bad in ["-1", "12345678901", "1e6", "", "one week", "+5"] {
            assert!(
                matches!(with(bad), Err(PolicyError::MaxAge(_))),
                "{bad}: {:?}",
                with(bad)
            );
        }
    }

    #[test]
    fn required_fields_and_values() {
        assert_eq!(parse_policy(""), Err(PolicyError::Empty));
        assert_eq!(parse_policy("\r\n"), Err(PolicyError::Empty));
        assert_eq!(
            parse_policy("mode: enforce\nmx: a.example\nmax_age: 1"),
            Err(PolicyError::NoVersion)
        );
        assert_eq!(
            parse_policy("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1"),
            Err(PolicyError::Version("STSv2".to_string()))
        );
        assert_eq!(
            parse_policy("version: STSv1\nmx: a.example\nmax_age: 1"),
            Err(PolicyError::NoMode)
        );
        assert_eq!(
            parse_policy("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1"),
            Err(PolicyError::Mode("Enforce".to_string()))
        );
        assert_eq!(
            parse_policy("version: STSv1\nmode: enforce\nmx: a.example"),
            Err(PolicyError::NoMaxAge)
        );
        assert_eq!(
            parse_policy("version: STSv1\nmode: enforce\nmax_age: 1"),
            Err(PolicyError::NoMx(Mode::Enforce))
        );
        // Mode none needs no mx.
        assert!(parse_policy("version: STSv1\nmode: none\nmax_age: 1").is_ok());
    }

    #[test]
    fn lines_outside_the_grammar_are_kept_as_syntax_faults() {
        let policy =
            parse_policy("version: STSv1\n\nmode: enforce\nthis is not a field\n mx: b.example\nmx: a.example\nmax_age: 1\n")
                .expect("readable leniently");
        let lines: Vec<usize> = policy.syntax.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![2, 4, 5], "{policy:?}");
        assert_eq!(policy.mx, vec!["a.example"]);
    }

    #[test]
    fn mx_patterns() {
        for good in [
            "mail.example.com",
            "*.example.com",
            "*.example",
            "MX1.Example.COM",
            "xn--bcher-kva.example",
            "a-b.example",
        ] {
            assert!(mx_pattern(&good.to_ascii_lowercase()), "{good}");
        }
        for bad in [
            "*.*.example",
            "mail.*.example",
            "*example.com",
            "*",
            "*.",
            "",
            "mail.example.com.",
            "-mail.example.com",
            "mail-.example.com",
            "mail..example.com",
            "mail_1.example.com",
            "mail.example.com:25",
            "bücher.example",
        ] {
            assert!(!mx_pattern(bad), "{bad}");
        }
        let policy = parse_policy(
            "version: STSv1\nmode: enforce\nmx: *.*.example\nmx: a.example\nmax_age: 1",
        )
        .expect("valid apart from the pattern");
        assert_eq!(policy.invalid_mx, vec!["*.*.example"]);
        assert_eq!(policy.syntax.len(), 1);
        // A policy whose only pattern is invalid has none a sender can use.
        assert_eq!(
            parse_policy("version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1"),
            Err(PolicyError::NoMx(Mode::Enforce))
        );
    }

    #[test]
    fn a_wildcard_matches_exactly_one_label() {
        assert!(matches("*.example", "a.example"));
        assert!(!matches("*.example", "a.b.example"));
        assert!(!matches("*.example", "example"));
        assert!(!matches("*.example", ".example"));
        assert!(matches("*.example.com", "MAIL.example.com."));
        assert!(matches("mail.example.com", "Mail.Example.Com"));
        assert!(!matches("mail.example.com", "mail.example.co"));
        assert!(!matches("*.*.example", "a.b.example"));
        assert!(!matches("mail.*.example", "mail.b.example"));
        assert!(!matches("*.example.com", "mail.example.com.evil"));
    }

    fn answer(status: u16) -> PolicyFetch {
        PolicyFetch {
            url: "https://mta-sts.example.com/.well-known/mta-sts.txt".to_string(),
            status: Some(status),
            location: None,
            content_type: Some("text/plain; charset=utf-8".to_string()),
            body: Some(GOOD.to_string()),
            too_large: false,
            chain: Vec::new(),
            failure: None,
            error: None,
        }
    }

    #[test]
    fn senders_read_only_a_200_text_plain_answer_of_at_most_64_kib() {
        assert_eq!(answered(&answer(200)), Some(Ok(GOOD)));
        let mut redirect = answer(301);
        redirect.location = Some("https://www.example.com/mta-sts.txt".to_string());
        assert_eq!(
            answered(&redirect),
            Some(Err(AnswerFault::Redirect {
                status: 301,
                location: Some("https://www.example.com/mta-sts.txt".to_string())
            }))
        );
        assert_eq!(answered(&answer(404)), Some(Err(AnswerFault::Status(404))));
        assert_eq!(answered(&answer(204)), Some(Err(AnswerFault::Status(204))));
        let mut large = answer(200);
        large.too_large = true;
        assert_eq!(answered(&large), Some(Err(AnswerFault::TooLarge)));
        let mut html = answer(200);
        html.content_type = Some("text/html".to_string());
        assert_eq!(
            answered(&html),
            Some(Err(AnswerFault::ContentType(Some("text/html".to_string()))))
        );
        let mut none = answer(200);
        none.content_type = None;
        assert_eq!(answered(&none), Some(Err(AnswerFault::ContentType(None))));
        assert!(plain_text(Some("TEXT/PLAIN")));
        assert!(!plain_text(Some("text/plainx")));
        let mut silent = answer(200);
        silent.status = None;
        assert_eq!(answered(&silent), None);
    }
}
