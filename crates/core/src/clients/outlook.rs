//! Classic Outlook on Windows: certificates are checked by Windows (CryptoAPI chain engine and
//! the SSL policy of CertVerifyCertificateChainPolicy), TLS is Schannel's.
//!
//! The new Outlook for Windows syncs IMAP/POP accounts through Microsoft's cloud, so the check
//! is made by Microsoft's servers, not the PC: docs/clients.md notes it; we do not model it.

use super::{Client, Facts, Fault, Finding, Outcome, Rule, fetches};
use crate::analyze::names::NameCheck;

const AIA: Rule = Rule {
    id: "outlook/aia-fetch",
    summary: "The Windows chain engine downloads missing intermediates from the leaf's AIA \
              caIssuers URL.",
    source: "https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certgetcertificatechain \
             (and the TechNet article 'Certificate Chaining Engine')",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const CN: Rule = Rule {
    id: "outlook/cn-fallback",
    summary: "The SSL chain policy falls back to the subject Common Name when the certificate has \
              no DNS subjectAltName.",
    source: "https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certverifycertificatechainpolicy \
             (CERT_CHAIN_POLICY_SSL)",
    certain: false,
    fault: Some(Fault::WrongName),
};
const SHA1: Rule = Rule {
    id: "outlook/sha1",
    summary: "SHA-1 server certificates from public (Microsoft Trusted Root Program) CAs are \
              blocked since 2017; private CAs are not affected.",
    source: "https://learn.microsoft.com/en-us/security-updates/securityadvisories/2017/4010323",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const RSA: Rule = Rule {
    id: "outlook/rsa-key-size",
    summary: "RSA keys under 1024 bits are blocked (KB2661254); 1024 bits are still accepted.",
    source: "https://support.microsoft.com/kb/2661254",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const TLS: Rule = Rule {
    id: "outlook/tls-1.2-minimum",
    summary: "TLS 1.0 and 1.1 are disabled by default in Windows 11 releases since late 2023; \
              Windows 10 still enables them.",
    source: "https://techcommunity.microsoft.com/t5/windows-it-pro-blog/tls-1-0-and-tls-1-1-soon-to-be-disabled-in-windows/ba-p/3887947",
    certain: true,
    fault: None,
};

/// Outlook's own rules.
pub static RULES: &[Rule] = &[AIA, CN, SHA1, RSA, TLS];

/// Outlook's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Outlook;
    let mut found = Vec::new();
    if let NameCheck::CommonNameOnly(cn) = &facts.analysis.name {
        found.push(Finding::new(
            &CN,
            Outcome::Depends,
            format!(
                "Windows is expected to accept the Common Name {cn} because there is no DNS \
                 subjectAltName; not confirmed for current Windows"
            ),
        ));
    }
    found.extend(fetches(&AIA, facts, client));
    found.extend(super::sha1_public_only(&SHA1, facts));
    found.extend(super::rsa_under(&RSA, facts, 1024, Outcome::Warns));
    if facts.legacy_tls() {
        found.push(Finding::new(
            &TLS,
            Outcome::Depends,
            format!(
                "the server negotiated {}: fails on Windows 11, works on Windows 10",
                facts.tls_version.unwrap_or_default()
            ),
        ));
    }
    found
}
