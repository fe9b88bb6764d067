//! `explain` on real pasted texts: the corpus in tests/data/explain/pasted.toml (each text with
//! its source: the producer's code or documentation, or the forum thread it was pasted in) must
//! be recognised with the fault and the names a careful reader takes from it, and the texts that
//! are not about certificates must not be. Every text is also tried as a Windows clipboard
//! (UTF-16), as Latin-1, and wrapped in a mail client's HTML and RTF: the answer must not change.

use std::collections::BTreeMap;

use mailtls::diagnose::explain::{self, Explanation, Finding};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Corpus {
    text: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    family: String,
    source: String,
    text: String,
    fault: String,
    asked: Option<String>,
    #[serde(default)]
    certificate_names: Vec<String>,
    address: Option<String>,
}

static CORPUS: std::sync::LazyLock<Vec<Entry>> = std::sync::LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/explain/pasted.toml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let corpus: Corpus = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    corpus.text
});

fn corpus() -> &'static [Entry] {
    &CORPUS
}

/// What the corpus calls a fault, as findings mailtls may give for it: the same finding, or for
/// a text that only says "untrusted", a finding no more specific than the text.
fn accepted(fault: &str) -> Vec<Finding> {
    match fault {
        // Both say only that something is wrong; a server's log says it from the server's side.
        "untrusted" => vec![Finding::Untrusted, Finding::RefusedByClient],
        other => Finding::from_name(other)
            .map(|f| vec![f])
            .unwrap_or_else(|| panic!("corpus fault {other:?} is no finding")),
    }
}

/// What must stay the same whatever the encoding or markup.
fn answer(explained: &Explanation) -> (Vec<Finding>, Option<String>, Vec<String>, Option<String>) {
    (
        explained.findings.clone(),
        explained.facts.asked.clone(),
        explained.facts.certificate_names.clone(),
        explained.facts.address.clone(),
    )
}

fn html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>\n");
    format!(
        "<html><head><meta charset=\"utf-8\"><style>p {{ font-family: Calibri; }}</style></head>\
         <body><div dir=\"ltr\"><p>{escaped}</p></div></body></html>"
    )
}

fn rtf(text: &str) -> String {
    let mut body = String::new();
    for c in text.chars() {
        match c {
            '\\' | '{' | '}' => {
                body.push('\\');
                body.push(c);
            }
            '\n' => body.push_str("\\par\n"),
            c if c.is_ascii() => body.push(c),
            c => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    body.push_str(&format!("\\u{}?", *unit as i16));
                }
            }
        }
    }
    format!(
        "{{\\rtf1\\ansi\\ansicpg1252\\deff0{{\\fonttbl{{\\f0\\fswiss Calibri;}}}}\
         {{\\colortbl;\\red0\\green0\\blue0;}}\\f0\\fs22 {body}\\par\n}}"
    )
}

/// Latin-1 bytes, when every character has one.
fn latin1(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

#[test]
fn real_pasted_texts_are_understood() {
    let corpus = corpus();
    let mut failures: Vec<String> = Vec::new();
    let (mut positives, mut recognised, mut findings_right) = (0, 0, 0);
    let (mut negatives, mut refused) = (0, 0);
    let (mut named, mut names_right) = (0, 0);
    let mut encodings = 0;
    let mut families: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut ids = std::collections::HashSet::new();
    for entry in corpus {
        assert!(ids.insert(entry.id.as_str()), "{} twice", entry.id);
        assert!(
            !entry.source.trim().is_empty(),
            "{} has no source",
            entry.id
        );
        let explained =
            explain::explain(&entry.text).unwrap_or_else(|e| panic!("{}: {e}", entry.id));
        let family = families.entry(entry.family.as_str()).or_default();
        family.0 += 1;
        if entry.fault == "none" {
            negatives += 1;
            if explained.recognised() {
                failures.push(format!(
                    "{}: not about certificates, yet recognised as {:?}",
                    entry.id, explained.findings
                ));
            } else {
                refused += 1;
                family.1 += 1;
            }
            continue;
        }
        positives += 1;
        let mut right = true;
        if explained.recognised() {
            recognised += 1;
        } else {
            right = false;
            failures.push(format!("{}: not recognised", entry.id));
        }
        let wanted = accepted(&entry.fault);
        if explained.findings.iter().any(|f| wanted.contains(f)) {
            findings_right += 1;
        } else if explained.recognised() {
            right = false;
            failures.push(format!(
                "{}: finding {:?}, the text says {}",
                entry.id, explained.findings, entry.fault
            ));
        }
        if entry.asked.is_some() || !entry.certificate_names.is_empty() || entry.address.is_some() {
            named += 1;
            let facts = &explained.facts;
            let asked_right = entry.asked.as_ref().is_none_or(|asked| {
                facts.asked.as_deref() == Some(asked.to_ascii_lowercase().as_str())
            });
            let names_ok = entry
                .certificate_names
                .iter()
                .all(|name| facts.certificate_names.contains(&name.to_ascii_lowercase()));
            let address_ok = entry
                .address
                .as_ref()
                .is_none_or(|a| facts.address.as_deref() == Some(a.as_str()));
            if asked_right && names_ok && address_ok {
                names_right += 1;
            } else {
                right = false;
                failures.push(format!(
                    "{}: names asked {:?} certificate {:?} address {:?}, the text says {:?} {:?} {:?}",
                    entry.id, facts.asked, facts.certificate_names, facts.address,
                    entry.asked, entry.certificate_names, entry.address
                ));
            }
        }
        if right {
            family.1 += 1;
        }
        // The same text as a Windows clipboard, as Latin-1, in HTML and in RTF.
        let plain = answer(&explained);
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(entry.text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let mut forms: Vec<(&str, Vec<u8>)> = vec![
            ("utf-16", utf16),
            ("html", html(&entry.text).into_bytes()),
            ("rtf", rtf(&entry.text).into_bytes()),
        ];
        if let Some(bytes) = latin1(&entry.text).filter(|_| !entry.text.is_ascii()) {
            forms.push(("latin-1", bytes));
        }
        for (form, bytes) in forms {
            encodings += 1;
            match explain::explain_bytes(&bytes) {
                Ok(other) if answer(&other) == plain => {}
                Ok(other) => failures.push(format!(
                    "{} as {form}: {:?}, plain {:?}",
                    entry.id,
                    answer(&other),
                    plain
                )),
                Err(e) => failures.push(format!("{} as {form}: {e}", entry.id)),
            }
        }
    }
    let by_family: Vec<String> = families
        .iter()
        .map(|(family, (all, right))| format!("{family} {right}/{all}"))
        .collect();
    eprintln!("explain corpus by family: {}", by_family.join(", "));
    eprintln!(
        "explain corpus: {} texts; recognised {recognised}/{positives}; finding right \
         {findings_right}/{positives}; names right {names_right}/{named}; not about \
         certificates, refused {refused}/{negatives}; same answer in {} encodings and markups",
        corpus.len(),
        encodings - failures.iter().filter(|f| f.contains(" as ")).count()
    );
    assert!(corpus.len() >= 60, "the corpus must hold at least 60 texts");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes at all: an answer or a one-line error, never a panic.
    #[test]
    fn any_bytes_are_answered(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        match explain::explain_bytes(&bytes) {
            Ok(explained) => prop_assert!(explained.messages.len() <= 12),
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
    }

    /// A real text cut anywhere, with markup-like and control characters spliced in.
    #[test]
    fn cut_and_spliced_texts_are_answered(
        index in 0usize..1000,
        cut in 0usize..2000,
        splice in "[<>{}\\\\&;#\u{1b}\\[\\]'\"`\u{201c}\u{2019} a-z0-9.:=-]{0,40}",
    ) {
        let corpus = corpus();
        let text = &corpus[index % corpus.len()].text;
        let at = text.char_indices().map(|(i, _)| i).nth(cut % text.chars().count().max(1)).unwrap_or(0);
        let spliced = format!("{}{splice}{}", &text[..at], &text[at..]);
        let _ = explain::explain(&spliced);
        let _ = explain::explain_bytes(spliced.as_bytes());
    }
}
