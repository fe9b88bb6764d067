//! Fetches missing intermediate certificates from Authority Information Access caIssuers URLs,
//! as Windows and Apple platforms do when a server forgets to send them.
//!
//! Only `http://` is fetched (what the CA/Browser Forum requires for caIssuers, and what every
//! client that fetches supports); redirects are followed only to `http://`, at most three. The
//! body is capped at [`MAX_BODY`] bytes and every fetch has a deadline. Like a probe, a fetch
//! never fails: what went wrong is recorded in the [`AiaFetch`].

use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::analyze::cert::CertInfo;
use crate::observation::{AiaFetch, Der};

/// Largest response accepted: an intermediate certificate is 1-2 KiB, a PKCS#7 bundle a few.
pub const MAX_BODY: usize = 64 * 1024;
/// Redirects followed.
const MAX_REDIRECTS: usize = 3;

/// Fetches each URL (concurrently), each within `timeout`.
pub async fn fetch_all(urls: Vec<String>, timeout: Duration) -> Vec<AiaFetch> {
    let client = match client(timeout) {
        Ok(client) => client,
        Err(error) => {
            return urls
                .into_iter()
                .map(|url| record(url, Err(format!("no HTTP client: {error}"))))
                .collect();
        }
    };
    crate::concurrent::in_order(urls.into_iter().map(|url| {
        let client = client.clone();
        async move {
            let result = fetch(&client, &url, timeout).await;
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

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS || attempt.url().scheme() != "http" {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    // Only http:// is fetched, but reqwest needs a TLS setup all the same: ours, trusting nothing.
    let tls = crate::crypto::client_config(rustls::RootCertStore::empty())
        .map_err(|e| format!("no TLS configuration: {e}"))?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(policy)
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("mailtls/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

async fn fetch(client: &reqwest::Client, url: &str, timeout: Duration) -> Result<Vec<Der>, String> {
    if !url.to_ascii_lowercase().starts_with("http://") {
        return Err("only http:// caIssuers URLs are fetched".to_string());
    }
    let work = async {
        let mut response = client.get(url).send().await.map_err(|e| describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP status {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(format!("response larger than {MAX_BODY} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!("response larger than {MAX_BODY} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_body(&body)
    };
    // reqwest's own timeout covers each request; this bounds redirects and slow drips as a whole.
    tokio::time::timeout(timeout * 2, work)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no complete answer within {}s",
                (timeout * 2).as_secs()
            ))
        })
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_redirect() {
        "too many redirects, or a redirect to another scheme".to_string()
    } else if error.is_connect() {
        "connection failed".to_string()
    } else {
        error.to_string()
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
    match CertInfo::parse(body) {
        Ok(_) => Ok(vec![Der(body.to_vec())]),
        // signedData (1.2.840.113549.1.7.2), the OID a .p7c bundle starts with.
        Err(_)
            if contains(
                body,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
            ) =>
        {
            Err("PKCS#7 (.p7c) bundles are not read yet".to_string())
        }
        Err(error) => Err(error.to_string()),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w == needle)
}
