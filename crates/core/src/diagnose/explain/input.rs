//! From the bytes a user pasted to the words in them: UTF-8, UTF-16 (a Windows clipboard, with or
//! without its byte order mark) or Windows-1252/Latin-1 text, with HTML or RTF markup from a mail
//! client taken off and terminal colour codes dropped. Pure and bounded: every step is one pass
//! over at most [`MAX_TEXT`] bytes.
//!
//! Hand-written rather than a crate: std decodes UTF-16 and UTF-8; Windows-1252 differs from
//! Latin-1 in 27 characters (the table below); and the markup only has to give back the words a
//! person reads, not a document tree, so an HTML or RTF parser would be much more than needed.

use super::{ExplainError, MAX_TEXT};

/// The 32 characters Windows-1252 puts at 0x80..=0x9F (Latin-1's C1 controls); unassigned ones
/// stay as they are.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// How the bytes were read, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without a byte order mark).
    Utf8,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Windows-1252 (a superset of Latin-1's printable characters).
    Windows1252,
}

impl Encoding {
    /// The encoding's name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// The encoding a byte order mark names, and the bytes after the mark.
pub fn byte_order_mark(bytes: &[u8]) -> Option<(Encoding, &[u8])> {
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some((Encoding::Utf8, rest))
    } else if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        Some((Encoding::Utf16Le, rest))
    } else {
        bytes
            .strip_prefix(b"\xfe\xff")
            .map(|rest| (Encoding::Utf16Be, rest))
    }
}

/// Bytes in a known encoding, strictly: invalid UTF-8, a cut UTF-16 unit or a lone surrogate
/// give `None`.
pub fn decode_as(bytes: &[u8], encoding: Encoding) -> Option<String> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_string),
        Encoding::Utf16Le | Encoding::Utf16Be if bytes.len() % 2 != 0 => None,
        Encoding::Utf16Le => utf16(bytes, u16::from_le_bytes).ok(),
        Encoding::Utf16Be => utf16(bytes, u16::from_be_bytes).ok(),
        Encoding::Windows1252 => Some(bytes.iter().map(|b| windows_1252(*b)).collect()),
    }
}

/// The words in pasted bytes: decoded, markup taken off. Errors only for what cannot be text.
pub fn decode(bytes: &[u8]) -> Result<String, ExplainError> {
    if bytes.len() > MAX_TEXT {
        return Err(ExplainError::TooLong);
    }
    let (text, _) = decode_bytes(bytes)?;
    Ok(plain(&text))
}

/// The bytes as text, and the encoding they were read in.
pub fn decode_bytes(bytes: &[u8]) -> Result<(String, Encoding), ExplainError> {
    if let Some((encoding, rest)) = byte_order_mark(bytes) {
        // A paste cut in the middle of a UTF-16 unit loses that half unit.
        let rest = match encoding {
            Encoding::Utf8 => rest,
            _ => &rest[..rest.len() - rest.len() % 2],
        };
        return decode_as(rest, encoding)
            .map(|text| (text, encoding))
            .ok_or(ExplainError::Binary);
    }
    // UTF-16 without a mark: ASCII text has a zero in every other byte.
    if bytes.len() >= 4 {
        let pairs = bytes.len() / 2;
        let zero_odd = bytes.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let zero_even = bytes.iter().step_by(2).filter(|b| **b == 0).count();
        if zero_odd * 10 >= pairs * 8 && zero_even * 10 < pairs {
            return utf16(bytes, u16::from_le_bytes).map(|s| (s, Encoding::Utf16Le));
        }
        if zero_even * 10 >= pairs * 8 && zero_odd * 10 < pairs {
            return utf16(bytes, u16::from_be_bytes).map(|s| (s, Encoding::Utf16Be));
        }
    }
    if bytes.contains(&0) {
        return Err(ExplainError::Binary);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), Encoding::Utf8)),
        Err(_) => Ok((
            bytes.iter().map(|b| windows_1252(*b)).collect(),
            Encoding::Windows1252,
        )),
    }
}

fn windows_1252(byte: u8) -> char {
    match byte {
        0x80..=0x9f => CP1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// UTF-16 code units to text; an odd last byte (a cut paste) is dropped, a lone surrogate is not
/// text.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ExplainError> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| ExplainError::Binary)
}

/// The words a person reads in `text`: HTML and RTF markup taken off, terminal colour codes
/// dropped.
pub fn plain(text: &str) -> String {
    let trimmed = text.trim_start();
    let text = if trimmed.starts_with("{\\rtf") {
        rtf_text(trimmed)
    } else if looks_like_html(text) {
        html_text(text)
    } else {
        text.to_string()
    };
    without_escapes(&text)
}

/// HTML from a mail client or a web page: a tag the text starts with, or a few common ones.
fn looks_like_html(text: &str) -> bool {
    let lower = text.get(..text.len().min(4096)).unwrap_or(text);
    let lower = lower.to_ascii_lowercase();
    lower.trim_start().starts_with('<')
        && [
            "<html",
            "<body",
            "<div",
            "<p>",
            "<p ",
            "<br",
            "<span",
            "<!doctype",
            "<pre",
            "<td",
        ]
        .iter()
        .any(|tag| lower.contains(tag))
}

/// The text of an HTML document: tags become breaks (block tags) or nothing, `<script>` and
/// `<style>` are dropped with their content, entities are decoded.
fn html_text(html: &str) -> String {
    // Lower-cased once (ASCII only, so offsets stay the same) to find the end of a script or a
    // style: lower-casing what is left at each one would be quadratic in a long page.
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&entities(&rest[..open]));
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            // A lone "<" is text.
            out.push_str(&entities(&rest[open..]));
            return out;
        };
        let tag = after[..close].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        rest = &after[close + 1..];
        if (name == "script" || name == "style") && !tag.starts_with('/') {
            let end = format!("</{name}");
            let offset = html.len() - rest.len();
            match lower[offset..].find(&end) {
                Some(at) => rest = &rest[at..],
                None => return out,
            }
            continue;
        }
        let block = matches!(
            name.as_str(),
            "br" | "p"
                | "div"
                | "li"
                | "tr"
                | "td"
                | "th"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "pre"
                | "blockquote"
                | "table"
                | "ul"
                | "ol"
                | "title"
        );
        out.push(if block { '\n' } else { ' ' });
    }
    out.push_str(&entities(rest));
    out
}

/// HTML character references: the named ones text carries, and numeric ones.
fn entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .char_indices()
            .take(10)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of an RTF document: control words and destinations (font tables, colour tables,
/// pictures) dropped, `\par` and `\line` as line breaks, `\'hh` (Windows-1252) and `\uN`
/// decoded.
fn rtf_text(rtf: &str) -> String {
    // Destinations whose content is not text.
    const SKIPPED: &[&str] = &[
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "generator",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "themedata",
        "colorschememapping",
        "latentstyles",
        "datastore",
        "xmlnstbl",
        "mmathpr",
    ];
    let mut out = String::with_capacity(rtf.len() / 2);
    // For each open group: whether its content is skipped.
    let mut groups: Vec<bool> = Vec::new();
    let mut skip = false;
    // After \uN, the fallback characters to drop (\ucN, usually 1).
    let mut fallback = 0usize;
    // A high surrogate from \uN, waiting for the low one: characters beyond U+FFFF are written
    // as two \uN, one per UTF-16 unit.
    let mut high: Option<u32> = None;
    let mut chars = rtf.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                groups.push(skip);
                // "{\*\dest" is an optional destination: skip it.
                if chars.peek() == Some(&'\\') {
                    let mut look = chars.clone();
                    look.next();
                    if look.peek() == Some(&'*') {
                        skip = true;
                    }
                }
            }
            '}' => skip = groups.pop().unwrap_or(false),
            '\\' => {
                let Some(&next) = chars.peek() else { break };
                if !next.is_ascii_alphabetic() {
                    chars.next();
                    match next {
                        '\'' => {
                            let hex: String = chars.by_ref().take(2).collect();
                            if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                                if fallback > 0 {
                                    fallback -= 1;
                                } else if !skip {
                                    out.push(windows_1252(byte));
                                }
                            }
                        }
                        '~' if !skip => out.push(' '),
                        '\\' | '{' | '}' if !skip => out.push(next),
                        _ => {}
                    }
                    continue;
                }
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphabetic() && word.len() < 32 {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let mut number = String::new();
                if chars.peek() == Some(&'-') {
                    number.push('-');
                    chars.next();
                }
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_digit() && number.len() < 8 {
                        number.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                // One space ends a control word and belongs to it.
                if chars.peek() == Some(&' ') {
                    chars.next();
                }
                if SKIPPED.contains(&word.as_str()) {
                    skip = true;
                    continue;
                }
                if skip {
                    continue;
                }
                match word.as_str() {
                    "par" | "line" | "row" | "sect" | "page" => out.push('\n'),
                    "tab" | "cell" => out.push('\t'),
                    "u" => {
                        if let Ok(n) = number.parse::<i32>() {
                            // Negative values are code units above 32767.
                            let unit = if n < 0 { n + 65536 } else { n };
                            let pending = high.take();
                            match u32::try_from(unit) {
                                Ok(unit @ 0xd800..=0xdbff) => high = Some(unit),
                                Ok(low @ 0xdc00..=0xdfff) => {
                                    let pair = pending.map(|high| {
                                        0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                                    });
                                    out.extend(pair.and_then(char::from_u32));
                                }
                                Ok(unit) => out.extend(char::from_u32(unit)),
                                Err(_) => {}
                            }
                            fallback = 1;
                        }
                    }
                    "emdash" => out.push('—'),
                    "endash" => out.push('–'),
                    "lquote" => out.push('‘'),
                    "rquote" => out.push('’'),
                    "ldblquote" => out.push('“'),
                    "rdblquote" => out.push('”'),
                    _ => {}
                }
            }
            '\r' | '\n' => {}
            _ if skip => {}
            _ => {
                if fallback > 0 {
                    fallback -= 1;
                } else {
                    high = None;
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Drops terminal escape sequences (colours from a copied terminal) and turns other control
/// characters, except line breaks and tabs, into spaces.
fn without_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte; other escapes: ESC and one character.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref().take(32) {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "The certificate is only valid for luna.hostingco.com.";

    #[test]
    fn every_encoding_gives_the_same_words() {
        let utf16le: Vec<u8> = LINE.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = LINE.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_mark = [&[0xff, 0xfe][..], &utf16le].concat();
        for bytes in [LINE.as_bytes().to_vec(), utf16le, utf16be, with_mark] {
            assert_eq!(decode(&bytes).as_deref(), Ok(LINE));
        }
        // Windows-1252: curly quotes and an accented name.
        let latin = b"\x93mail.caf\xe9.de\x94 cannot be verified";
        assert_eq!(
            decode(latin).as_deref(),
            Ok("“mail.café.de” cannot be verified")
        );
    }

    #[test]
    fn markup_is_taken_off() {
        let html = "<html><head><style>p{color:red}</style></head><body><p>The certificate \
                    is only valid for <b>luna.hostingco.com</b>.</p><br>Error&nbsp;code: \
                    SSL_ERROR_BAD_CERT_DOMAIN &amp; more &#x2014; &lt;x&gt;</body></html>";
        let text = plain(html);
        assert!(text.contains("The certificate is only valid for  luna.hostingco.com"));
        assert!(text.contains("Error code: SSL_ERROR_BAD_CERT_DOMAIN & more — <x>"));
        assert!(!text.contains("color"));
        let rtf = r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss Calibri;}}{\colortbl;\red0\green0\blue0;}\f0\fs22 The identity of \ldblquote mail.caf\'e9.de\rdblquote  cannot be verified.\par Caf\u233?\par}";
        let text = plain(rtf);
        assert!(
            text.contains("The identity of “mail.café.de” cannot be verified."),
            "{text}"
        );
        assert!(text.contains("Café"), "{text}");
        // Beyond U+FFFF, one \uN per UTF-16 unit (found by tests/properties/explain.rs).
        assert_eq!(plain(r"{\rtf1 Smile \u-10179?\u-8704?!}"), "Smile 😀!");
        assert!(!text.contains("Calibri"), "{text}");
    }

    #[test]
    fn terminal_colours_and_bad_bytes() {
        assert_eq!(
            plain("\u{1b}[31mverify error:num=62:hostname mismatch\u{1b}[0m"),
            "verify error:num=62:hostname mismatch"
        );
        assert_eq!(decode(b"abc\0def"), Err(ExplainError::Binary));
        // A lone surrogate in UTF-16.
        assert_eq!(decode(&[0xff, 0xfe, 0x00, 0xd8]), Err(ExplainError::Binary));
        assert_eq!(
            decode(&vec![b'a'; MAX_TEXT + 1]),
            Err(ExplainError::TooLong)
        );
        // Unclosed markup never loops or panics.
        for text in [
            "<p>unclosed <b",
            "{\\rtf1 {{{ \\",
            "&#xffffffff; &;",
            "<script>x",
        ] {
            let _ = plain(text);
        }
        // A page of nothing but scripts: each one's end is found without lower-casing the rest.
        let scripts = format!("<html>{}words</html>", "<SCRIPT>x</Script>".repeat(50_000));
        assert_eq!(plain(&scripts).trim(), "words");
    }
}
