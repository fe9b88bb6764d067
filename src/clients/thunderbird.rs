//! Thunderbird (desktop): NSS with mozilla::pkix, Mozilla's root store, the same certificate
//! verifier as Firefox (security/certverifier/CertVerifier.cpp).

use super::{Client, Facts, Finding, Outcome, Rule, cn_ignored, no_fetch};
use crate::analyze::chain::AnchorOrigin;
use crate::analyze::names::NameCheck;

const CN_BUILTIN: Rule = Rule {
    id: "thunderbird/cn-ignored-for-public-roots",
    summary: "For chains to a built-in (Mozilla) root the name must be in subjectAltName; the \
              Common Name is ignored.",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/CertVerifier.cpp \
             (BRNameMatchingPolicy, security.pki.name_matching_mode)",
    certain: true,
};
const CN_PRIVATE: Rule = Rule {
    id: "thunderbird/cn-fallback-for-private-roots",
    summary: "For chains to a root that is not built in (a private or user-added CA) mozilla::pkix \
              still falls back to the subject Common Name.",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/CertVerifier.cpp \
             (BRNameMatchingPolicy::Mode::DoNotEnforce unless the root is built in)",
    certain: true,
};
const NO_AIA: Rule = Rule {
    id: "thunderbird/no-aia-fetch",
    summary: "NSS does not fetch missing intermediates from AIA URLs; it only uses intermediates \
              it has cached from earlier connections (and, in Firefox, preloaded ones).",
    source: "https://wiki.mozilla.org/Security/CryptoEngineering/Intermediate_Preloading",
    certain: false,
};
const SHA1: Rule = Rule {
    id: "thunderbird/sha1",
    summary: "SHA-1 signatures are rejected for chains to built-in roots (since Firefox/Thunderbird \
              52); for private roots they were still accepted.",
    source: "https://blog.mozilla.org/security/2017/02/23/the-end-of-sha-1-on-the-public-web/",
    certain: false,
};
const RSA: Rule = Rule {
    id: "thunderbird/rsa-key-size",
    summary: "mozilla::pkix rejects RSA keys under 1024 bits; 1024-bit keys still verify for \
              domain-validated chains.",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/NSSCertDBTrustDomain.cpp \
             (MIN_RSA_BITS_WEAK)",
    certain: false,
};
const TLS: Rule = Rule {
    id: "thunderbird/tls-1.2-minimum",
    summary: "TLS 1.0 and 1.1 are disabled by default since Thunderbird 78 (security.tls.version.min = 3).",
    source: "https://www.thunderbird.net/en-US/thunderbird/78.0/releasenotes/",
    certain: true,
};

/// Thunderbird's own rules.
pub static RULES: &[Rule] = &[CN_BUILTIN, CN_PRIVATE, NO_AIA, SHA1, RSA, TLS];

/// Thunderbird's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Thunderbird;
    let mut found = Vec::new();
    if let NameCheck::CommonNameOnly(cn) = &facts.analysis.name {
        if facts.anchor() == Some(AnchorOrigin::Added) {
            found.push(Finding::new(
                &CN_PRIVATE,
                Outcome::Works,
                format!("the CA is private, so Thunderbird accepts the Common Name {cn}"),
            ));
        } else {
            found.extend(cn_ignored(&CN_BUILTIN, facts, client));
        }
    }
    found.extend(no_fetch(&NO_AIA, facts, client));
    found.extend(super::sha1_public_only(&SHA1, facts));
    // Under 1024 bits fails; under 2048 still verifies, with a warning.
    found.extend(
        super::rsa_under(&RSA, facts, 1024, Outcome::Fails).or_else(|| {
            super::rsa_under(&RSA, facts, 2048, Outcome::Warns).map(|mut finding| {
                finding.detail.push_str(
                    ": still accepted, but rejected by Apple and no longer issued by public CAs",
                );
                finding
            })
        }),
    );
    if facts.legacy_tls() {
        found.push(Finding::new(
            &TLS,
            Outcome::Fails,
            format!(
                "the server negotiated {}, which Thunderbird no longer enables",
                facts.tls_version.unwrap_or_default()
            ),
        ));
    }
    found
}
