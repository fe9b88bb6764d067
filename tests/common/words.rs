//! What a person reads never shows Rust's debug formatting.
#![allow(dead_code)]

/// An error when `text` holds Rust debug text: an `Identifier(` (an enum variant printed with
/// `{:?}`, e.g. `TrailingData(CertRevocationList)`, `DnsName("...")`) or a `{ field:` struct
/// body.
pub fn debug_text(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('(') {
        let start = bytes[..i]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric() && *b != b'_')
            .map_or(0, |p| p + 1);
        let word = &text[start..i];
        if word.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Err(format!("debug text ({word}(...)) in: {text}"));
        }
    }
    if text.contains("{ ") {
        return Err(format!("debug text ({{ ...) in: {text}"));
    }
    Ok(())
}

/// Panics when `text` holds Rust debug text (see [`debug_text`]).
pub fn assert_no_debug_text(text: &str) {
    if let Err(message) = debug_text(text) {
        panic!("{message}");
    }
}
