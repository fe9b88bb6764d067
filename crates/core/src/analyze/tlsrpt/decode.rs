//! From bytes to reports: a gzip stream is known by its magic bytes (not by a file's name), a
//! JSON document by its first character, a mail by its header lines. A gzip stream is inflated
//! to at most [`MAX_REPORT`] bytes, so a gzip bomb costs at most that much memory and the time
//! to inflate it.

use std::io::Read as _;

use super::{TlsReport, json, mail};

/// Largest report read, decompressed: a day's report from the largest senders is some KiB;
/// 16 MiB leaves room for a sender listing thousands of addresses, and stops a gzip bomb.
pub const MAX_REPORT: usize = 16 * 1024 * 1024;

/// How many layers of packing are unwrapped (a mail holding a gzip, a gzip holding a gzip).
const MAX_LAYERS: usize = 3;

/// The gzip magic (RFC 1952 §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why bytes hold no report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, not gzip, not a mail.
    #[error("not a TLS report: neither JSON, gzip nor a mail message")]
    NotJson,
    /// Starts like JSON but does not parse.
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    /// JSON, but not an RFC 8460 report.
    #[error("JSON, but not an RFC 8460 TLS report: {0}")]
    NotAReport(String),
    /// The gzip stream is broken.
    #[error("a broken gzip stream: {0}")]
    BadGzip(String),
    /// More policies or failure details than mailtls reads from one report.
    #[error("{0}")]
    TooManyEntries(String),
    /// The gzip stream inflates to more than [`MAX_REPORT`] bytes.
    #[error(
        "decompresses to more than {} MiB, more than any TLS report (a gzip bomb?); reports are read up to that size",
        MAX_REPORT / (1024 * 1024)
    )]
    TooLarge,
    /// A mail without a TLS report attached.
    #[error(
        "a mail message with no TLS report attached (an application/tlsrpt+gzip or application/tlsrpt+json part)"
    )]
    NoReportInMail,
    /// Packed in more layers than [`MAX_LAYERS`].
    #[error("packed in more than {MAX_LAYERS} layers of gzip or mail")]
    TooDeep,
}

/// The reports in `bytes`: a JSON report, a gzip of one, or a mail carrying one or more
/// (RFC 8460 §5.3).
pub fn decode(bytes: &[u8]) -> Result<Vec<TlsReport>, DecodeError> {
    decode_layer(bytes, 0)
}

fn decode_layer(bytes: &[u8], layer: usize) -> Result<Vec<TlsReport>, DecodeError> {
    if layer > MAX_LAYERS {
        return Err(DecodeError::TooDeep);
    }
    if bytes.starts_with(&GZIP_MAGIC) {
        return decode_layer(&gunzip(bytes)?, layer + 1);
    }
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Ok(vec![json::from_slice(text)?]),
        _ if mail::looks_like_mail(text) => {
            let parts = mail::report_parts(text);
            if parts.is_empty() {
                return Err(DecodeError::NoReportInMail);
            }
            let mut reports = Vec::new();
            for part in parts {
                reports.extend(decode_layer(&part, layer + 1)?);
            }
            Ok(reports)
        }
        _ => Err(DecodeError::NotJson),
    }
}

/// Inflates a gzip stream, to at most [`MAX_REPORT`] bytes.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_REPORT as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::BadGzip(e.to_string()))?;
    if out.len() > MAX_REPORT {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    const REPORT: &str = r#"{"organization-name":"Google Inc.","policies":[{"policy":{"policy-type":"no-policy-found"},"summary":{"total-successful-session-count":4}}]}"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).expect("in memory");
        encoder.finish().expect("in memory")
    }

    #[test]
    fn json_gzip_and_gzip_of_gzip() {
        let plain = decode(REPORT.as_bytes()).expect("JSON");
        assert_eq!(plain[0].policies[0].successful, 4);
        assert_eq!(decode(&gzip(REPORT.as_bytes())).expect("gzip"), plain);
        assert_eq!(
            decode(&gzip(&gzip(REPORT.as_bytes()))).expect("gzip of gzip"),
            plain
        );
        let bom = [b"\xef\xbb\xbf \n".as_slice(), REPORT.as_bytes()].concat();
        assert_eq!(decode(&bom).expect("with a byte order mark"), plain);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        let zeros = vec![0u8; MAX_REPORT + 1];
        assert_eq!(decode(&gzip(&zeros)), Err(DecodeError::TooLarge));
        let spaces = vec![b' '; MAX_REPORT];
        assert_eq!(
            decode(&gzip(&spaces)),
            Err(DecodeError::NotJson),
            "exactly the cap is read"
        );
    }

    #[test]
    fn what_is_not_a_report() {
        assert_eq!(decode(b"hello"), Err(DecodeError::NotJson));
        assert_eq!(decode(b""), Err(DecodeError::NotJson));
        assert!(matches!(
            decode(b"{\"policies\": [}"),
            Err(DecodeError::InvalidJson(_))
        ));
        assert!(matches!(decode(b"{}"), Err(DecodeError::NotAReport(_))));
        let broken = &gzip(REPORT.as_bytes())[..20];
        assert!(matches!(decode(broken), Err(DecodeError::BadGzip(_))));
        let mut deep = REPORT.as_bytes().to_vec();
        for _ in 0..5 {
            deep = gzip(&deep);
        }
        assert_eq!(decode(&deep), Err(DecodeError::TooDeep));
    }
}
