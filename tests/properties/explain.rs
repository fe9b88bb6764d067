//! What `explain` reads (`diagnose::explain::input`), beyond tests/explain.rs's two properties
//! (any bytes answered; real texts cut and spliced):
//!
//! - Any text, written as UTF-8 (with or without a byte order mark), UTF-16 in either order
//!   (with a mark, or without one for mostly-ASCII text) or Windows-1252, is decoded back to
//!   itself, in the encoding it was written in.
//! - Any text written as HTML (entities for markup characters and, at random, for others) or as
//!   RTF (escapes, `\uN` for what is not ASCII, `\par` for line breaks) reads back as the text;
//!   terminal colour codes spliced anywhere are dropped without touching the words.
//! - Any markup-like text: read in bounded time, the words never longer than what came.

use mailtls::diagnose::explain::explain;
use mailtls::diagnose::explain::input::{Encoding, decode, decode_as, decode_bytes, plain};
use proptest::prelude::*;

/// Windows-1252's characters at 0x80..=0x9F (the five it leaves unassigned are left out).
const CP1252_HIGH: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";

/// Text a person pastes: any printable characters, line breaks and tabs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\\PC\n\t]{0,80}",
        "[a-zA-Z0-9 .:,'\"<>&;#{}\\\\()\n-]{0,80}",
    ]
}

/// The byte Windows-1252 writes for `c`, when it has one.
fn cp1252(c: char) -> Option<u8> {
    match u32::from(c) {
        0..=0x7f | 0xa0..=0xff => u8::try_from(u32::from(c)).ok(),
        _ => CP1252_HIGH.chars().position(|h| h == c).and_then(|i| {
            // The unassigned 0x81, 0x8d, 0x8f, 0x90 and 0x9d are not in CP1252_HIGH.
            let assigned = (0x80u8..=0x9f).filter(|b| ![0x81, 0x8d, 0x8f, 0x90, 0x9d].contains(b));
            assigned.clone().nth(i)
        }),
    }
}

fn html(text: &str, entities: &[bool]) -> String {
    let mut out = String::from("<html><head><style>p { color: red }</style></head><body><div>");
    for (i, c) in text.chars().enumerate() {
        let numeric = entities
            .get(i % entities.len().max(1))
            .copied()
            .unwrap_or(false);
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            c if numeric => out.push_str(&format!("&#x{:X};", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str("</div></body></html>");
    out
}

fn rtf(text: &str) -> String {
    let mut out = String::from(
        r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss Calibri;}}{\colortbl;\red0\green0\blue0;}\f0\fs22 ",
    );
    for c in text.chars() {
        match c {
            '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\par "),
            '\t' => out.push_str("\\tab "),
            c if c.is_ascii() => out.push(c),
            c => {
                // \uN with a signed 16-bit N per UTF-16 unit, then a fallback character.
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{}?", *unit as i16));
                }
            }
        }
    }
    out.push('}');
    out
}

/// Text with ANSI colour sequences spliced in at `at` (character positions).
fn coloured(text: &str, at: &[prop::sample::Index]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut cuts: Vec<usize> = at.iter().map(|i| i.index(chars.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = String::new();
    let mut from = 0;
    for (n, cut) in cuts.into_iter().enumerate() {
        out.extend(&chars[from..cut]);
        out.push_str(if n % 2 == 0 {
            "\u{1b}[1;31m"
        } else {
            "\u{1b}[0m"
        });
        from = cut;
    }
    out.extend(&chars[from..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text comes back from each encoding it can be written in.
    #[test]
    fn every_encoding_decodes_back(text in text()) {
        prop_assume!(!text.contains('\0'));
        let utf8 = text.as_bytes();
        prop_assert_eq!(decode_bytes(utf8), Ok((text.clone(), Encoding::Utf8)));
        let marked = [&b"\xef\xbb\xbf"[..], utf8].concat();
        prop_assert_eq!(decode_bytes(&marked), Ok((text.clone(), Encoding::Utf8)));
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        prop_assert_eq!(decode_bytes(&[&[0xff, 0xfe][..], &le].concat()), Ok((text.clone(), Encoding::Utf16Le)));
        prop_assert_eq!(decode_bytes(&[&[0xfe, 0xff][..], &be].concat()), Ok((text.clone(), Encoding::Utf16Be)));
        prop_assert_eq!(decode_as(&le, Encoding::Utf16Le), Some(text.clone()));
        prop_assert_eq!(decode_as(&be, Encoding::Utf16Be), Some(text.clone()));
        // Without a mark, UTF-16 is recognised by its zero bytes: ASCII text of 2 characters
        // or more.
        if text.is_ascii() && text.len() >= 2 {
            prop_assert_eq!(decode_bytes(&le), Ok((text.clone(), Encoding::Utf16Le)));
            prop_assert_eq!(decode_bytes(&be), Ok((text.clone(), Encoding::Utf16Be)));
        }
        // Windows-1252, for text it can write.
        if let Some(bytes) = text.chars().map(cp1252).collect::<Option<Vec<u8>>>() {
            prop_assert_eq!(decode_as(&bytes, Encoding::Windows1252), Some(text.clone()));
            if std::str::from_utf8(&bytes).is_err() {
                prop_assert_eq!(decode_bytes(&bytes), Ok((text.clone(), Encoding::Windows1252)));
            }
        }
    }

    /// Text written as HTML or RTF reads back as the text; colour codes leave the words alone.
    #[test]
    fn markup_reads_back(
        text in text(),
        entities in proptest::collection::vec(any::<bool>(), 1..8),
        colours in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        // The text has no control characters but line breaks and tabs: its words are itself.
        let from_html = plain(&html(&text, &entities));
        prop_assert_eq!(from_html.trim_matches([' ', '\n']), text.trim_matches([' ', '\n']), "HTML");
        prop_assert_eq!(plain(&rtf(&text)), text.as_str(), "RTF");
        // Unless it is markup itself, which colour codes before it would hide.
        if !text.trim_start().starts_with(['<', '{']) {
            prop_assert_eq!(plain(&coloured(&text, &colours)), text, "colours");
        }
    }

}

proptest! {
    // explain takes some 20 ms for such a text in a debug build.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Markup-like text and bytes: read within bounded time, the words no longer than the text
    /// (three bytes of UTF-8 per byte decoded), the answer within its caps.
    #[test]
    fn any_markup_is_read(
        pieces in proptest::collection::vec(prop_oneof![
            Just("<"), Just(">"), Just("</"), Just("<script>"), Just("</script"), Just("<style>"),
            Just("<p>"), Just("<br>"), Just("&"), Just("&#x"), Just("&#"), Just(";"), Just("&amp;"),
            Just("{\\rtf1 "), Just("{"), Just("}"), Just("\\"), Just("\\'"), Just("\\u"), Just("-"),
            Just("\\par "), Just("{\\*\\x "), Just("\u{1b}["), Just("\u{1b}"), Just("m"), Just("9"),
            Just("ff"), Just(" "), Just("\n"), Just("certificate"), Just("mail.example.test"),
            Just("é"), Just("\u{fffd}"), Just("\u{1f600}"),
        ], 0..400),
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let text: String = pieces.concat();
        let words = crate::timed("markup", || plain(&text));
        prop_assert!(words.len() <= text.len(), "{} bytes from {}", words.len(), text.len());
        if let Ok(explained) = crate::timed("explain", || explain(&text)) {
            prop_assert!(explained.messages.len() <= 12);
        }
        let raw = [text.as_bytes(), &bytes].concat();
        if let Ok(decoded) = crate::timed("decode", || decode(&raw)) {
            prop_assert!(decoded.len() <= 3 * raw.len());
        }
    }
}
