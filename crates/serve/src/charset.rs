//! The bytes of a pasted text, decoded. What people paste comes from a browser (UTF-8), a
//! script (UTF-8, often with a byte-order mark), a Windows clipboard (UTF-16 little-endian) or
//! an old mail client (Latin-1, which browsers and this module read as its superset
//! Windows-1252, so the typographic quotes Outlook and Word write survive). A byte-order mark
//! wins over the declared charset, as in the WHATWG Encoding standard; the labels are that
//! standard's labels for these four encodings. Anything else is refused by name, never guessed.

use mailtls_core::diagnose::explain::input;

/// An encoding a body may come in: the ones `explain` reads.
pub use mailtls_core::diagnose::explain::input::Encoding as Charset;

/// The encoding a charset label names, if it is one of these (case and surrounding white space
/// ignored).
pub fn from_label(label: &str) -> Option<Charset> {
    let label = label.trim().to_ascii_lowercase();
    Some(match label.as_str() {
        "utf-8" | "utf8" | "unicode-1-1-utf-8" | "unicode11utf8" | "unicode20utf8"
        | "x-unicode20utf8" => Charset::Utf8,
        "utf-16" | "utf-16le" | "unicode" | "unicodefeff" | "csunicode" | "ucs-2"
        | "iso-10646-ucs-2" => Charset::Utf16Le,
        "utf-16be" | "unicodefffe" => Charset::Utf16Be,
        "iso-8859-1" | "iso8859-1" | "iso88591" | "iso_8859-1" | "iso_8859-1:1987"
        | "iso-ir-100" | "latin1" | "l1" | "csisolatin1" | "cp819" | "ibm819" | "us-ascii"
        | "ascii" | "ansi_x3.4-1968" | "windows-1252" | "cp1252" | "x-cp1252" => {
            Charset::Windows1252
        }
        _ => return None,
    })
}

/// Bytes that are not text in the encoding they came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body is not valid {}", .0.name())]
pub struct Malformed(pub Charset);

/// `bytes` as text: in the encoding its byte-order mark names, else in `declared`, else in
/// UTF-8. The mark is not part of the text.
pub fn decode(bytes: &[u8], declared: Option<Charset>) -> Result<String, Malformed> {
    let (charset, rest) =
        input::byte_order_mark(bytes).unwrap_or((declared.unwrap_or(Charset::Utf8), bytes));
    input::decode_as(rest, charset).ok_or(Malformed(charset))
}

/// A `Content-Type` value's media type (lower case, without parameters) and its `charset`
/// parameter (unquoted), if any.
pub fn media_type(content_type: &str) -> (String, Option<String>) {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
    });
    (essence, charset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &str =
        "The certificate for mail.customer.com is not valid \u{201C}here\u{201D} – café";

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn utf16_by_mark_or_label() {
        let le = utf16(WORDS, false);
        let be = utf16(WORDS, true);
        let marked_le = [&b"\xFF\xFE"[..], &le].concat();
        let marked_be = [&b"\xFE\xFF"[..], &be].concat();
        assert_eq!(decode(&marked_le, None).as_deref(), Ok(WORDS));
        assert_eq!(decode(&marked_be, None).as_deref(), Ok(WORDS));
        // The mark wins over a label that says otherwise.
        assert_eq!(
            decode(&marked_be, Some(Charset::Utf16Le)).as_deref(),
            Ok(WORDS)
        );
        let label = from_label(" UTF-16 ");
        assert_eq!(label, Some(Charset::Utf16Le));
        assert_eq!(decode(&le, label).as_deref(), Ok(WORDS));
        assert_eq!(decode(&be, from_label("utf-16be")).as_deref(), Ok(WORDS));
        // Half a unit, or half a surrogate pair: malformed, not a panic.
        assert_eq!(decode(&le[..5], label), Err(Malformed(Charset::Utf16Le)));
        assert_eq!(
            decode(&[0x3D, 0xD8], label),
            Err(Malformed(Charset::Utf16Le))
        );
        // Without a label or a mark, UTF-16 is not guessed: as UTF-8 it is malformed, or (ASCII)
        // full of NUL bytes, which the text check refuses.
        assert_eq!(decode(&le, None), Err(Malformed(Charset::Utf8)));
        let ascii = utf16("mail.customer.com", false);
        assert!(decode(&ascii, None).is_ok_and(|t| t.contains('\0')));
    }

    #[test]
    fn latin1_is_read_as_windows_1252() {
        // "café" and Outlook's curly quotes in Windows-1252.
        let bytes = b"\x93caf\xe9\x94 \x80 \x81";
        for label in ["ISO-8859-1", "latin1", "windows-1252", "us-ascii"] {
            assert_eq!(
                decode(bytes, from_label(label)).as_deref(),
                Ok("\u{201C}café\u{201D} € \u{81}"),
                "{label}"
            );
        }
    }

    #[test]
    fn utf8_by_default_and_its_mark_dropped() {
        assert_eq!(decode(WORDS.as_bytes(), None).as_deref(), Ok(WORDS));
        let marked = [&b"\xEF\xBB\xBF"[..], WORDS.as_bytes()].concat();
        assert_eq!(
            decode(&marked, Some(Charset::Windows1252)).as_deref(),
            Ok(WORDS)
        );
        assert_eq!(decode(b"caf\xe9", None), Err(Malformed(Charset::Utf8)));
        assert_eq!(from_label("koi8-r"), None);
        assert_eq!(from_label("utf-32"), None);
    }

    #[test]
    fn media_types_and_their_charset() {
        assert_eq!(
            media_type("Text/Plain; format=flowed; Charset=\"UTF-16\""),
            ("text/plain".to_string(), Some("UTF-16".to_string()))
        );
        assert_eq!(
            media_type("application/json"),
            ("application/json".to_string(), None)
        );
        assert_eq!(media_type(""), (String::new(), None));
        assert_eq!(media_type(";;=;charset"), (String::new(), None));
    }
}
