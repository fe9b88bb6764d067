//! The `_smtp._tls` TXT record of SMTP TLS Reporting (RFC 8460 §3): where senders send their
//! daily reports of failed (and successful) TLS sessions with the domain's MX hosts. Pure.
//!
//! (Reading the reports themselves is `mailtls tlsrpt`'s business, elsewhere.)

use super::txt_fields;

/// A valid `_smtp._tls` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRptRecord {
    /// Where reports go: `mailto:` and `https:` URIs, in order.
    pub rua: Vec<String>,
    /// URIs of other schemes, which senders skip.
    pub skipped: Vec<String>,
    /// Other fields, as written.
    pub extensions: Vec<(String, String)>,
}

/// Why the `_smtp._tls` records give senders nowhere to report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsRptError {
    /// More than one record starts with `v=TLSRPTv1`.
    #[error(
        "{0} TXT records start with v=TLSRPTv1, and senders use one only when it is the only one"
    )]
    Several(usize),
    /// The one record does not follow RFC 8460 §3's grammar.
    #[error("the record \"{record}\" is not valid: {why}")]
    Syntax {
        /// The record.
        record: String,
        /// What is wrong, in words.
        why: String,
    },
}

/// The record senders use among the TXT records at `_smtp._tls.DOMAIN` (RFC 8460 §3: records
/// not beginning with `v=TLSRPTv1` are discarded, exactly one must remain); `Ok(None)` when
/// none begins so.
pub fn select(records: &[String]) -> Result<Option<TlsRptRecord>, TlsRptError> {
    let announcing: Vec<&String> = records
        .iter()
        .filter(|r| txt_fields::announces(r, "v=TLSRPTv1"))
        .collect();
    match announcing.as_slice() {
        [] => Ok(None),
        [one] => parse(one).map(Some).map_err(|why| TlsRptError::Syntax {
            record: (*one).clone(),
            why,
        }),
        several => Err(TlsRptError::Several(several.len())),
    }
}

/// Reads one record: `v=TLSRPTv1`, then `;`-separated fields, `rua=` a comma-separated list of
/// `mailto:` or `https:` URIs (required, the first `rua` counts), extensions `name=value`, an
/// optional `;` at the end.
pub fn parse(record: &str) -> Result<TlsRptRecord, String> {
    let mut rua: Option<(Vec<String>, Vec<String>)> = None;
    let mut extensions = Vec::new();
    for (name, value) in txt_fields::fields(record, "v=TLSRPTv1")? {
        if name == "rua" {
            if rua.is_some() {
                continue;
            }
            let mut usable = Vec::new();
            let mut skipped = Vec::new();
            for uri in value.split(',').map(|u| u.trim_matches(txt_fields::WSP)) {
                match uri_kind(uri) {
                    Some(true) => usable.push(uri.to_string()),
                    Some(false) => skipped.push(uri.to_string()),
                    None => return Err(format!("\"{uri}\" in rua is not a URI")),
                }
            }
            rua = Some((usable, skipped));
        } else {
            txt_fields::check_extension(name, value)?;
            extensions.push((name.to_string(), value.to_string()));
        }
    }
    let Some((rua, skipped)) = rua else {
        return Err("it has no rua field (where to send reports)".to_string());
    };
    if rua.is_empty() {
        return Err("its rua lists no mailto: or https: URI".to_string());
    }
    Ok(TlsRptRecord {
        rua,
        skipped,
        extensions,
    })
}

/// `Some(true)` for a `mailto:` URI with an address or an `https:` URL with a host, `Some(false)`
/// for a URI of another scheme, `None` for what is not a URI.
fn uri_kind(uri: &str) -> Option<bool> {
    let (scheme, rest) = uri.split_once(':')?;
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.is_empty() || rest.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return None;
    }
    if scheme.eq_ignore_ascii_case("mailto") {
        let address = rest.split('?').next().unwrap_or_default();
        let (local, domain) = address.rsplit_once('@')?;
        return (!local.is_empty() && domain.contains('.') && !domain.contains('@'))
            .then_some(true);
    }
    if scheme.eq_ignore_ascii_case("https") {
        return url::Url::parse(uri)
            .ok()
            .filter(|u| u.host_str().is_some_and(|h| !h.is_empty()))
            .map(|_| true);
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(records: &[&str]) -> Vec<String> {
        records.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn a_record_with_both_kinds_of_uri() {
        let record = parse(
            "v=TLSRPTv1; rua=mailto:tlsrpt@example.com, https://reports.example.com/v1/tlsrpt;",
        )
        .expect("valid");
        assert_eq!(
            record.rua,
            vec![
                "mailto:tlsrpt@example.com",
                "https://reports.example.com/v1/tlsrpt"
            ]
        );
        assert!(record.skipped.is_empty());
        let other = parse("v=TLSRPTv1;rua=ftp://x.example/r,mailto:r@example.com").expect("valid");
        assert_eq!(other.skipped, vec!["ftp://x.example/r"]);
    }

    #[test]
    fn what_is_not_a_record() {
        for bad in [
            "v=TLSRPTv1",
            "v=TLSRPTv1;",
            "v=TLSRPTv1; rua=",
            "v=TLSRPTv1; rua=ftp://x.example/r",
            "v=TLSRPTv1; rua=mailto:nobody",
            "v=TLSRPTv1; rua=https://",
            "v=TLSRPTv1; rua=not a uri",
            "v=TLSRPTv1;; rua=mailto:r@example.com",
            "v=TLSRPTv2; rua=mailto:r@example.com",
            "rua=mailto:r@example.com; v=TLSRPTv1",
            "v=TLSRPTv1; rua=mailto:r@example.com; _x=1",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn exactly_one_record_after_discarding_others() {
        assert_eq!(
            select(&strings(&["v=spf1 -all"])),
            Ok(None),
            "another record is no TLS-RPT record"
        );
        assert!(matches!(
            select(&strings(&[
                "v=TLSRPTv1; rua=mailto:a@example.com",
                "v=TLSRPTv1; rua=mailto:b@example.com"
            ])),
            Err(TlsRptError::Several(2))
        ));
        assert!(matches!(
            select(&strings(&["v=TLSRPTv1; rua=mailto:a@example.com", "x"])),
            Ok(Some(_))
        ));
        assert!(matches!(
            select(&strings(&["v=TLSRPTv1"])),
            Err(TlsRptError::Syntax { .. })
        ));
    }
}
