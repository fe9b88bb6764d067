//! What a domain publishes for sending servers: the `_mta-sts` TXT record and the MTA-STS
//! policy (`analyze::mta_sts`), the `_smtp._tls` record (`analyze::tlsrpt_record`).
//!
//! - Records and policies written here by the RFC grammars (CRLF or LF, spaces where allowed,
//!   extensions) read back as written.
//! - Any text: read or refused, never a panic, within the bound; what is read is bounded by the
//!   text (as many patterns as lines, an id of 1 to 32 characters, max_age within its limit).
//! - A `*.` pattern matches a host with exactly one more label, and no other.

use mailtls::analyze::mta_sts::{
    self, MAX_AGE_LIMIT, Mode, matches, mx_pattern, parse_policy, parse_record, select_record,
};
use mailtls::analyze::tlsrpt_record;
use proptest::prelude::*;

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

fn domain() -> impl Strategy<Value = String> {
    proptest::collection::vec(label(), 1..4).prop_map(|labels| labels.join("."))
}

fn pattern() -> impl Strategy<Value = String> {
    (any::<bool>(), domain()).prop_map(|(wild, d)| if wild { format!("*.{d}") } else { d })
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Enforce), Just(Mode::Testing), Just(Mode::None)]
}

/// A field name that is none of the policy's own.
fn extension() -> impl Strategy<Value = (String, String)> {
    ("x[a-zA-Z0-9_.-]{0,20}", "[!-~]([ -~]{0,20}[!-~])?")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A policy written with CRLF or LF, any field order, spaces after the colons and at line
    /// ends, extensions and an optional final line end reads back.
    #[test]
    fn policies_read_back(
        mode in mode(),
        max_age in 0..=MAX_AGE_LIMIT,
        patterns in proptest::collection::vec(pattern(), 1..6),
        extensions in proptest::collection::vec(extension(), 0..3),
        crlf in any::<bool>(),
        spaces in any::<bool>(),
        last_end in any::<bool>(),
        order in any::<prop::sample::Index>(),
    ) {
        let gap = if spaces { ":  " } else { ":" };
        let tail = if spaces { " \t" } else { "" };
        let mut lines = vec![
            format!("version{gap}STSv1{tail}"),
            format!("mode{gap}{mode}{tail}"),
            format!("max_age{gap}{max_age}{tail}"),
        ];
        lines.extend(patterns.iter().map(|p| format!("mx{gap}{p}{tail}")));
        lines.extend(extensions.iter().map(|(k, v)| format!("{k}: {v}")));
        let turn = order.index(lines.len());
        lines.rotate_left(turn);
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(end);
        if last_end {
            text.push_str(end);
        }
        let policy = parse_policy(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(policy.mode, mode);
        prop_assert_eq!(policy.max_age, max_age);
        // In the order written, which the rotation may have changed.
        let mut read = policy.mx.clone();
        let mut written = patterns.clone();
        read.sort();
        written.sort();
        prop_assert_eq!(read, written);
        prop_assert!(policy.syntax.is_empty(), "{:?}", policy.syntax);
        prop_assert!(policy.invalid_mx.is_empty());
        prop_assert_eq!(policy.extensions.len(), extensions.len());
    }

    /// Any text as a policy: read or refused, bounded by its lines.
    #[test]
    fn any_policy_is_read(text in "((version|mode|max_age|mx|[a-z_]{0,8}|\\PC{0,6})(: ?)?(STSv1|enforce|testing|none|[0-9]{0,12}|\\*\\.[a-z.*]{0,10}|\\PC{0,10})[ \t]*(\r\n|\n|\r)?){0,30}") {
        let lines = text.split('\n').count();
        if let Ok(policy) = crate::timed("a policy", || parse_policy(&text)) {
            prop_assert!(policy.mx.len() + policy.invalid_mx.len() <= lines);
            prop_assert!(policy.max_age <= MAX_AGE_LIMIT);
            prop_assert!(policy.mx.iter().all(|p| mx_pattern(p)));
            prop_assert!(policy.syntax.iter().all(|(line, _)| (1..=lines).contains(line)));
            prop_assert!(policy.mode == Mode::None || !policy.mx.is_empty());
        }
    }

    /// Any bytes, as a sender decodes them.
    #[test]
    fn any_bytes_are_read(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = crate::timed("a policy of bytes", || parse_policy(&text));
        let _ = crate::timed("a record of bytes", || parse_record(&text));
        let _ = crate::timed("a TLS-RPT record of bytes", || tlsrpt_record::parse(&text));
    }

    /// A record written by RFC 8461 §3.1's grammar reads back, among other TXT records; two
    /// records that announce MTA-STS are never one.
    #[test]
    fn records_read_back(
        id in "[a-zA-Z0-9]{1,32}",
        extensions in proptest::collection::vec(("[a-z0-9][a-z0-9_.-]{0,10}", "[!-:<>-~]{1,12}"), 0..3),
        spaces in any::<bool>(),
        final_delimiter in any::<bool>(),
        others in proptest::collection::vec("[a-z=0-9 ;-]{0,30}", 0..3),
    ) {
        let extensions: Vec<(String, String)> =
            extensions.into_iter().filter(|(k, _)| k != "id").collect();
        let delimiter = if spaces { " ;\t" } else { ";" };
        let mut record = format!("v=STSv1{delimiter}id={id}");
        for (k, v) in &extensions {
            record.push_str(&format!("{delimiter}{k}={v}"));
        }
        if final_delimiter {
            record.push_str(delimiter);
        }
        let parsed = parse_record(&record).map_err(|e| TestCaseError::fail(format!("{record}: {e}")))?;
        prop_assert_eq!(&parsed.id, &id);
        prop_assert_eq!(&parsed.extensions, &extensions);
        let mut all: Vec<String> = others.into_iter().filter(|o| !mta_sts::announces(o)).collect();
        all.push(record.clone());
        prop_assert_eq!(select_record(&all).map(|r| r.map(|r| r.id)), Ok(Some(id)));
        all.push(record);
        prop_assert!(select_record(&all).is_err());
    }

    /// Any text as a record: read or refused; an id read is 1 to 32 letters and digits.
    #[test]
    fn any_record_is_read(text in "(v=STSv1)?([ \t;]{0,3}(id|[a-z]{0,4})=?[a-zA-Z0-9=;!-]{0,40}){0,6}") {
        if let Ok(record) = crate::timed("a record", || parse_record(&text)) {
            prop_assert!((1..=32).contains(&record.id.len()));
            prop_assert!(record.id.bytes().all(|b| b.is_ascii_alphanumeric()));
            prop_assert!(text.starts_with("v=STSv1"));
        }
    }

    /// A TLS-RPT record of mailto: and https: URIs reads back.
    #[test]
    fn tlsrpt_records_read_back(
        uris in proptest::collection::vec(
            prop_oneof![
                ("[a-z0-9.]{1,10}", domain()).prop_map(|(l, d)| format!("mailto:{l}@{d}.example")),
                (domain(), "[a-z0-9/]{0,12}").prop_map(|(d, p)| format!("https://{d}.example/{p}")),
            ],
            1..4,
        ),
        spaces in any::<bool>(),
    ) {
        let comma = if spaces { " , " } else { "," };
        let record = format!("v=TLSRPTv1; rua={}", uris.join(comma));
        let parsed = tlsrpt_record::parse(&record).map_err(|e| TestCaseError::fail(format!("{record}: {e}")))?;
        prop_assert_eq!(parsed.rua, uris);
    }

    /// Any text as a TLS-RPT record: read or refused; what is read names somewhere to report.
    #[test]
    fn any_tlsrpt_record_is_read(text in "(v=TLSRPTv1)?([ \t;,]{0,3}(rua|[a-z]{0,4})=?(mailto:|https://|[a-z]{0,5}:)?[a-zA-Z0-9@.=;,/!-]{0,30}){0,6}") {
        if let Ok(record) = crate::timed("a TLS-RPT record", || tlsrpt_record::parse(&text)) {
            prop_assert!(!record.rua.is_empty());
            prop_assert!(record.rua.iter().all(|u| u.starts_with("mailto:") || u.starts_with("https:")));
        }
    }

    /// `*.D` matches L.D for one label L, and neither D, nor M.L.D, nor another domain.
    #[test]
    fn a_wildcard_covers_exactly_one_label(d in domain(), l in label(), m in label(), other in domain()) {
        let wildcard = format!("*.{d}");
        let one = format!("{l}.{d}");
        let shouting = format!("{}.{}", l.to_ascii_uppercase(), d);
        let two = format!("{m}.{l}.{d}");
        let elsewhere = format!("{l}.{other}");
        let double = format!("*.*.{d}");
        prop_assert!(matches(&wildcard, &one));
        prop_assert!(matches(&wildcard, &shouting));
        prop_assert!(!matches(&wildcard, &d));
        prop_assert!(!matches(&wildcard, &two));
        if other != d {
            prop_assert!(!matches(&wildcard, &elsewhere));
        }
        prop_assert!(matches(&d, &d) && !matches(&d, &one));
        prop_assert!(!matches(&double, &two));
    }
}
