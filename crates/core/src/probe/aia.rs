//! Fetches missing intermediate certificates from Authority Information Access caIssuers URLs,
//! as Windows and Apple platforms do when a server forgets to send them.
//!
//! Only `http://` is fetched (what the CA/Browser Forum requires for caIssuers, and what every
//! client that fetches supports), through [`Fetcher`]: redirects only to `http://`, at most
//! three; the body capped at [`MAX_BODY`] bytes; a deadline; inside addresses only when the
//! checked server lives inside too. Like a probe, a fetch
//! never fails: what went wrong is recorded in the [`AiaFetch`].

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::http::{Fetcher, Policy, Scheme};
use crate::observation::{AiaFetch, Der};

/// Largest response accepted: an intermediate certificate is 1-2 KiB, a PKCS#7 bundle a few.
pub const MAX_BODY: usize = 64 * 1024;

/// Fetches each URL (concurrently) with `fetcher`, from inside addresses only when
/// `allow_inside` (the checked server lives there itself).
pub async fn fetch_all(fetcher: &Fetcher, urls: Vec<String>, allow_inside: bool) -> Vec<AiaFetch> {
    let policy = Policy {
        scheme: Scheme::Http,
        max_body: MAX_BODY,
        allow_inside,
    };
    crate::concurrent::in_order(urls.into_iter().map(|url| {
        let fetcher = fetcher.clone();
        async move {
            let result = match fetcher.fetch(&url, None, policy).await {
                Ok(fetched) => parse_body(&fetched.body),
                Err(failure) => Err(failure.error.to_string()),
            };
            record(url, result)
        }
    }))
    .await
}

/// The record of one fetch.
fn record(url: String, result: Result<Vec<Der>, String>) -> AiaFetch {
    match result {
        Ok(certificates) => AiaFetch {
            url,
            certificates,
            error: None,
        },
        Err(error) => AiaFetch {
            url,
            certificates: Vec::new(),
            error: Some(error),
        },
    }
}

/// The certificates in a caIssuers response: DER (the usual `.cer`/`.der`), or PEM.
pub fn parse_body(body: &[u8]) -> Result<Vec<Der>, String> {
    if body.starts_with(b"-----BEGIN") {
        let mut certificates = Vec::new();
        for (index, item) in CertificateDer::pem_slice_iter(body).enumerate() {
            let der = item.map_err(|e| format!("PEM block {}: {e}", index + 1))?;
            certificates.push(Der(der.to_vec()));
        }
        if certificates.is_empty() {
            return Err("no certificate in the PEM response".to_string());
        }
        return Ok(certificates);
    }
    // Only whether it is one DER certificate is asked here; what it says is analysis's business.
    match x509_parser::parse_x509_certificate(body) {
        Ok(([], _)) => Ok(vec![Der(body.to_vec())]),
        Ok(_) => Err("trailing bytes after the certificate".to_string()),
        // signedData (1.2.840.113549.1.7.2), the OID a .p7c bundle starts with.
        Err(_)
            if contains(
                body,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
            ) =>
        {
            Err("PKCS#7 (.p7c) bundles are not read yet".to_string())
        }
        Err(error) => Err(format!("not a DER certificate: {error}")),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w == needle)
}
