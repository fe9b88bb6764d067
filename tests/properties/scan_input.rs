//! What a user types or lists: targets (`target::Subject`) and a scan's input, lines or CSV
//! (`scan::input`).
//!
//! - Any text as a target: refused or parsed, and what was parsed, written out, parses again to
//!   the same target (the key a scan stores and shards by is stable).
//! - A list written with targets, addresses, comments, blank lines, bad lines, CRLF or LF, and a
//!   CSV written by the csv crate (quoting commas and quotes in the account, a header row or
//!   none) are read back line by line: the same keys, accounts and line numbers.
//! - Any bytes: every line answered (a target or a rejected line, never an error that stops the
//!   scan), line numbers in order, texts and accounts within their caps.

use mailtls::scan::input::{Input, Item, MAX_LINE};
use mailtls::target::Subject;
use proptest::prelude::*;

/// Text a user may type as a target.
fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[ \\[]?[A-Za-z0-9äöüßé漢._@-]{0,30}(\\.(xn--[a-z0-9-]{1,10}|[A-Za-z]{2,6}))?\\.?[\\] ]?",
        "[0-9a-fA-F:.%\\[\\]]{0,40}",
        "[a-z]{1,8}@[A-Za-z0-9.-]{1,20}",
        // Characters UTS #46 maps to ASCII: full-width letters and signs, other full stops.
        "[a-zＡ-Ｚ＠：／。．ß\u{2024}\u{fe52}-]{1,20}",
    ]
}

/// A host name with at least two labels, in any case. A label starting `xn--` is punycode and
/// most such strings are not (`xn--0` is rejected, rightly): left out, as the other strategies
/// give the IDNA cases.
fn host() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?){0,2}\\.[a-zA-Z]{2,6}"
        .prop_filter("no xn-- label", |host: &String| {
            !host.split('.').any(|label| label.to_ascii_lowercase().starts_with("xn--"))
        })
}

/// One line of a list, and what reading it gives: a key, a rejection, or nothing.
#[derive(Debug, Clone)]
enum Entry {
    Name { typed: String, pad: bool },
    Email { local: String, host: String },
    Comment(String),
    Blank(String),
    Bad(String),
}

impl Entry {
    fn text(&self) -> String {
        match self {
            Entry::Name { typed, pad: true } => format!("  {typed}\t"),
            Entry::Name { typed, pad: false } => typed.clone(),
            Entry::Email { local, host } => format!("{local}@{host}"),
            Entry::Comment(text) => format!("#{text}"),
            Entry::Blank(text) | Entry::Bad(text) => text.clone(),
        }
    }

    /// `Some(Some(key))` for a target, `Some(None)` for a rejected line, `None` when skipped.
    fn read(&self) -> Option<Option<String>> {
        match self {
            Entry::Name { typed, .. } => Some(Some(
                typed.trim_end_matches('.').to_ascii_lowercase().to_string(),
            )),
            Entry::Email { local, host } => {
                Some(Some(format!("{local}@{}", host.to_ascii_lowercase())))
            }
            Entry::Comment(_) | Entry::Blank(_) => None,
            Entry::Bad(_) => Some(None),
        }
    }
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        4 => (host(), any::<bool>(), any::<bool>()).prop_map(|(host, dot, pad)| Entry::Name {
            typed: if dot { format!("{host}.") } else { host },
            pad,
        }),
        2 => ("[a-z0-9.+_-]{1,20}", host()).prop_map(|(local, host)| Entry::Email { local, host }),
        1 => "[ -~]{0,30}".prop_map(Entry::Comment),
        1 => "[ \t]{0,4}".prop_map(Entry::Blank),
        1 => prop_oneof![
            Just("not a name!".to_string()),
            Just("a@b@c".to_string()),
            Just("-leading.example".to_string()),
            Just("1234".to_string()),
            "[a-z]{1,5} [a-z]{1,5}",
        ]
        .prop_map(Entry::Bad),
    ]
}

fn read_all(bytes: &[u8], csv: bool) -> Vec<Item> {
    let mut input = if csv {
        Input::csv(bytes)
    } else {
        Input::lines(bytes)
    };
    let mut items = Vec::new();
    // Every call reads at least one line: more calls than lines would be a loop.
    for _ in 0..=bytes.iter().filter(|&&b| b == b'\n').count() + 1 {
        match input.next_item() {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return items,
            Err(error) => panic!("reading a slice failed: {error}"),
        }
    }
    panic!("more items than lines");
}

fn line_of(item: &Item) -> u64 {
    match item {
        Item::Target(line) => line.line,
        Item::Rejected { line, .. } => *line,
    }
}

/// Bytes of lists: list-like characters, invalid UTF-8, NULs, quotes, and lines around the cap.
fn list_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        8 => proptest::collection::vec(
            prop_oneof![
                Just(b'a'), Just(b'.'), Just(b'@'), Just(b','), Just(b'"'), Just(b'#'),
                Just(b'\r'), Just(b'\n'), Just(b' '), Just(0xff), Just(0), any::<u8>(),
            ],
            0..40,
        ),
        1 => (MAX_LINE - 2..=MAX_LINE + 2, prop_oneof![Just(b'a'), Just(b'"'), Just(0xc3)])
            .prop_map(|(n, b)| vec![b; n]),
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A target parsed and written out parses to itself.
    #[test]
    fn targets_read_back_as_written(typed in typed()) {
        if let Ok(subject) = crate::timed("a target", || Subject::parse(&typed)) {
            let written = subject.to_string();
            prop_assert!(written.len() <= 64 + 1 + 253, "{written}");
            prop_assert_eq!(Subject::parse(&written), Ok(subject), "written as {}", written);
        }
    }

    /// A list is read back line by line: keys, rejections and line numbers.
    #[test]
    fn lists_read_back(entries in proptest::collection::vec(entry(), 0..20), crlf in any::<bool>(), last_newline in any::<bool>()) {
        let ending = if crlf { "\r\n" } else { "\n" };
        let mut text = entries.iter().map(Entry::text).collect::<Vec<_>>().join(ending);
        if last_newline {
            text.push_str(ending);
        }
        let got: Vec<(u64, Option<String>)> = read_all(text.as_bytes(), false)
            .iter()
            .map(|item| match item {
                Item::Target(line) => (line.line, Some(line.key.clone())),
                Item::Rejected { line, .. } => (*line, None),
            })
            .collect();
        let expected: Vec<(u64, Option<String>)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.read().map(|key| (i as u64 + 1, key)))
            .collect();
        prop_assert_eq!(got, expected);
    }

    /// A CSV written by the csv crate, with or without a header row, target column first or
    /// second: targets, accounts (trimmed, at most 256 characters) and line numbers come back.
    #[test]
    fn csv_reads_back(
        rows in proptest::collection::vec((host(), "[ -~é]{0,300}"), 1..12),
        header in 0usize..3,
    ) {
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
        let account_first = header == 2;
        match header {
            1 => writer.write_record(["target", "account"]),
            2 => writer.write_record(["Account", "Email"]),
            _ => Ok(()),
        }.map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (target, account) in &rows {
            let record = if account_first { [account, target] } else { [target, account] };
            writer.write_record(record).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let bytes = writer.into_inner().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = String::from_utf8(bytes.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let first = usize::from(header > 0);
        let mut expected = Vec::new();
        for (i, (line, (target, account))) in text.lines().skip(first).zip(&rows).enumerate() {
            // A row that starts with '#' is a comment; without a header row, a first row that
            // names a column is taken for one.
            if line.trim().starts_with('#') {
                continue;
            }
            let names = ["target", "domain", "email", "address", "host"];
            if header == 0 && i == 0 && [target, account].iter().any(|f| names.iter().any(|n| f.trim().eq_ignore_ascii_case(n))) {
                continue;
            }
            let account = account.trim();
            let account = (!account.is_empty()).then(|| account.chars().take(256).collect::<String>());
            expected.push((i + first + 1, target.to_ascii_lowercase(), account));
        }
        let got: Vec<(usize, String, Option<String>)> = read_all(&bytes, true)
            .into_iter()
            .map(|item| match item {
                Item::Target(line) => Ok((line.line as usize, line.key, line.account)),
                Item::Rejected { line, reason, .. } => Err(TestCaseError::fail(format!("line {line} rejected: {reason}"))),
            })
            .collect::<Result<_, _>>()?;
        prop_assert_eq!(got, expected);
    }

    /// Any bytes, as lines and as CSV: every line answered, in order, within the caps.
    #[test]
    fn any_list_is_read(bytes in list_bytes(), csv in any::<bool>()) {
        let items = crate::timed("a list", || read_all(&bytes, csv));
        let lines = bytes.split(|&b| b == b'\n').count() as u64;
        let mut previous = 0;
        for item in &items {
            let line = line_of(item);
            prop_assert!(line > previous && line <= lines, "line {line} after {previous} of {lines}");
            previous = line;
            match item {
                Item::Target(target) => {
                    prop_assert!(target.key.len() <= 64 + 1 + 253);
                    prop_assert!(target.account.as_ref().is_none_or(|a| a.chars().count() <= 256));
                    prop_assert_eq!(Subject::parse(&target.key), Ok(target.subject.clone()));
                }
                Item::Rejected { text, reason, .. } => {
                    prop_assert!(text.chars().count() <= 200);
                    prop_assert!(!reason.contains('\n'), "{reason:?}");
                }
            }
        }
    }
}
