//! The mail a report arrives in (RFC 8460 §5.3): a `multipart/report` whose part of type
//! `application/tlsrpt+gzip` (or `+json`) is the report, usually in base64. Enough MIME to find
//! that part in a saved message (`.eml`, or a message piped from a mail filter): header
//! unfolding, `boundary` and `filename` parameters, nested multiparts, base64 and
//! quoted-printable. Parts of the generic types (`application/gzip`, `application/json`,
//! `application/octet-stream`) count when their file name ends in `.json`, `.gz` or `.json.gz`,
//! as some senders label them so.

use base64::Engine as _;

/// How deep multiparts are followed.
const MAX_DEPTH: usize = 4;

/// Longest header line (with its continuations) looked at to tell a mail: RFC 5322's 998, with
/// room.
const MAX_FIRST_LINE: usize = 2048;

/// Whether `bytes` start like a mail: a header field `Name: value`, or an mbox `From ` line.
pub fn looks_like_mail(bytes: &[u8]) -> bool {
    let first = bytes
        .split(|b| *b == b'\n')
        .next()
        .unwrap_or_default()
        .iter()
        .take(MAX_FIRST_LINE)
        .copied()
        .collect::<Vec<u8>>();
    if first.starts_with(b"From ") {
        return true;
    }
    match first.iter().position(|b| *b == b':') {
        // RFC 5322 §2.2 allows any printable ASCII in a field name; the ones mail carries are
        // letters, digits and hyphens, which no JSON or gzip starts with.
        Some(colon) if colon > 0 => first[..colon]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-'),
        _ => false,
    }
}

/// The decoded bodies of the parts that hold a TLS report, in the order they stand.
pub fn report_parts(message: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    walk(message, 0, &mut found);
    found
}

fn walk(entity: &[u8], depth: usize, found: &mut Vec<Vec<u8>>) {
    let (headers, body) = split_entity(entity);
    let (mime, params) = content_type(&headers);
    if mime.starts_with("multipart/") {
        if depth >= MAX_DEPTH {
            return;
        }
        if let Some(boundary) = param(&params, "boundary") {
            for part in multipart(body, boundary.as_bytes()) {
                walk(part, depth + 1, found);
            }
        }
        return;
    }
    if is_report(&mime, &params, &headers) {
        let encoding = header(&headers, "content-transfer-encoding")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        found.push(match encoding.as_str() {
            "base64" => base64_body(body),
            "quoted-printable" => quoted_printable(body),
            _ => body.to_vec(),
        });
    }
}

/// Whether a part of this type and name is a TLS report.
fn is_report(mime: &str, params: &[(String, String)], headers: &[(String, String)]) -> bool {
    if matches!(mime, "application/tlsrpt+gzip" | "application/tlsrpt+json") {
        return true;
    }
    let generic = matches!(
        mime,
        "application/gzip" | "application/x-gzip" | "application/json" | "application/octet-stream"
    );
    let disposition = header(headers, "content-disposition")
        .map(|value| parameters(&value))
        .unwrap_or_default();
    let name = param(&disposition, "filename")
        .or_else(|| param(params, "name"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    generic && (name.ends_with(".json") || name.ends_with(".gz"))
}

/// Headers (unfolded, names in lower case) and body of a message or part.
fn split_entity(entity: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut at = 0;
    while at < entity.len() {
        let end = entity[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(entity.len(), |p| at + p);
        let line = &entity[at..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let next = (end + 1).min(entity.len());
        if line.is_empty() {
            return (headers, &entity[next..]);
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(text.trim());
            }
        } else if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        } else if headers.is_empty() && line.starts_with(b"From ") {
            // An mbox separator line.
        } else {
            // Not a header: the part has no header block.
            return (headers, &entity[at..]);
        }
        at = next;
    }
    (headers, &entity[entity.len()..])
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// The media type (lower case; `text/plain` when absent, as RFC 2045 §5.2 says) and its
/// parameters.
fn content_type(headers: &[(String, String)]) -> (String, Vec<(String, String)>) {
    let Some(value) = header(headers, "content-type") else {
        return ("text/plain".to_string(), Vec::new());
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    (mime, parameters(&value))
}

/// `; name=value` and `; name="value"` parameters after a header's first word.
fn parameters(value: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = value.split_once(';').map_or("", |(_, rest)| rest);
    while let Some((name, after)) = rest.split_once('=') {
        let name = name
            .trim()
            .trim_start_matches(';')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(';') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.push((name, value.trim().to_string()));
        rest = remainder.split_once(';').map_or("", |(_, rest)| rest);
    }
    params
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// The parts of a multipart body: what lies between `--boundary` lines, up to
/// `--boundary--` (RFC 2046 §5.1.1; the line break before a delimiter belongs to it).
fn multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<&'a [u8]> {
    let delimiter = [b"--".as_slice(), boundary].concat();
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut at = 0;
    while at < body.len() {
        let end = body[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(body.len(), |p| at + p);
        let line = &body[at..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(delimiter.as_slice()) {
            let closing = rest.starts_with(b"--");
            if closing || rest.iter().all(u8::is_ascii_whitespace) {
                if let Some(begin) = start {
                    // The part ends before the line break that precedes the delimiter.
                    let mut stop = at.saturating_sub(1).max(begin);
                    if stop > begin && body[stop - 1] == b'\r' {
                        stop -= 1;
                    }
                    parts.push(&body[begin..stop]);
                }
                if closing {
                    return parts;
                }
                start = Some((end + 1).min(body.len()));
            }
        }
        at = end + 1;
    }
    // No closing delimiter: the last part runs to the end.
    if let Some(begin) = start {
        parts.push(&body[begin.min(body.len())..]);
    }
    parts
}

/// A base64 body, line breaks and other characters outside the alphabet skipped; what does
/// not decode is kept as it is (and then fails as a report, saying so).
fn base64_body(body: &[u8]) -> Vec<u8> {
    let alphabet: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(&alphabet).unwrap_or_else(|_| body.to_vec())
}

/// A quoted-printable body (RFC 2045 §6.7): `=XX` escapes and soft line breaks.
fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    while at < body.len() {
        if body[at] != b'=' {
            out.push(body[at]);
            at += 1;
            continue;
        }
        let rest = &body[at + 1..];
        if rest.starts_with(b"\r\n") {
            at += 3;
        } else if rest.starts_with(b"\n") {
            at += 2;
        } else if let Some(byte) = rest
            .get(..2)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            at += 3;
        } else {
            out.push(b'=');
            at += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_report_part_of_a_multipart_report() {
        let message = b"From: noreply-smtp-tls-reporting@google.com\r\n\
Content-Type: multipart/report; boundary=\"b1\";\r\n report-type=tlsrpt\r\n\
MIME-Version: 1.0\r\n\r\n\
--b1\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report\r\n\
--b1\r\nContent-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: base64\r\n\r\n\
eyJwb2xp\r\nY2llcyI6W119\r\n\
--b1--\r\n";
        assert!(looks_like_mail(message));
        assert_eq!(report_parts(message), [b"{\"policies\":[]}".to_vec()]);
    }

    #[test]
    fn nested_generic_types_by_file_name_and_quoted_printable() {
        let message = b"Subject: r\nContent-Type: multipart/mixed; boundary=outer\n\n\
preamble\n--outer\nContent-Type: multipart/alternative; boundary=\"in ner\"\n\n\
--in ner\nContent-Type: application/octet-stream; name=\"x!y!1!2.json\"\n\
Content-Transfer-Encoding: quoted-printable\n\n{\"a\":=\n\"=3D\"}\n--in ner--\n\
--outer\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=notes.txt\n\nhello\n\
--outer--\n";
        assert_eq!(report_parts(message), [b"{\"a\":\"=\"}".to_vec()]);
    }

    #[test]
    fn what_is_not_a_mail() {
        assert!(!looks_like_mail(b"{\"policies\":[]}"));
        assert!(!looks_like_mail(b": no name\n"));
        assert!(!looks_like_mail(b"two words: here\n"));
        assert!(looks_like_mail(
            b"From someone@example Mon Jan  1\nSubject: x\n"
        ));
        assert!(report_parts(b"Subject: no attachment\n\nbody\n").is_empty());
    }
}
