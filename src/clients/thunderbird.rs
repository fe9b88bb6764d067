//! Thunderbird (desktop): NSS with mozilla::pkix, Mozilla's root store, the same certificate
//! verifier as Firefox (security/certverifier/CertVerifier.cpp).

use super::{Client, Facts, Fault, Finding, Outcome, Rule, cn_ignored, no_fetch};
use crate::analyze::chain::AnchorOrigin;

const CN: Rule = Rule {
    id: "thunderbird/cn-ignored",
    summary: "The name must be in subjectAltName: mozilla::pkix never falls back to the subject \
              Common Name, for built-in and private roots alike (the old \
              security.pki.name_matching_mode fallback is gone).",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/CertVerifier.h \
             (SkipInvalidSANsForNonBuiltInRootsPolicy::FallBackToCommonName returns No); \
             security/manager/ssl/tests/unit/test_baseline_requirements_subject_common_name.js",
    certain: true,
    fault: Some(Fault::WrongName),
};
const NO_AIA: Rule = Rule {
    id: "thunderbird/no-aia-fetch",
    summary: "Thunderbird does not fetch missing intermediates from AIA URLs. It preloads the \
              intermediates public CAs disclose (Intermediate CA Preloading), so a server that \
              forgets a public CA's intermediate usually still works; a private CA's fails.",
    source: "https://wiki.mozilla.org/Security/CryptoEngineering/Intermediate_Preloading; \
             comm-central mail/components/MailGlue.sys.mjs (RemoteSecuritySettings.init)",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const SHA1: Rule = Rule {
    id: "thunderbird/sha1",
    summary: "SHA-1 signatures are rejected for chains to built-in roots (since Firefox/Thunderbird \
              52); for private roots they were still accepted.",
    source: "https://blog.mozilla.org/security/2017/02/23/the-end-of-sha-1-on-the-public-web/",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const RSA: Rule = Rule {
    id: "thunderbird/rsa-key-size",
    summary: "mozilla::pkix rejects RSA keys under 1024 bits; 1024-bit keys still verify for \
              domain-validated chains.",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/NSSCertDBTrustDomain.cpp \
             (MIN_RSA_BITS_WEAK)",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const TLS: Rule = Rule {
    id: "thunderbird/tls-1.2-minimum",
    summary: "TLS 1.0 and 1.1 are disabled by default since Thunderbird 78 (security.tls.version.min = 3).",
    source: "https://www.thunderbird.net/en-US/thunderbird/78.0/releasenotes/",
    certain: true,
    fault: None,
};

/// Thunderbird's own rules.
pub static RULES: &[Rule] = &[CN, NO_AIA, SHA1, RSA, TLS];

/// Thunderbird's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Thunderbird;
    let mut found = Vec::new();
    found.extend(cn_ignored(&CN, facts, client));
    // A missing intermediate of a public CA is preloaded; one of a private CA is not.
    let public = facts.anchor() == Some(AnchorOrigin::System);
    found.extend(no_fetch(&NO_AIA, facts, client).map(|finding| {
        if public {
            Finding::new(
                &NO_AIA,
                Outcome::Works,
                "the server does not send its intermediate, but it is a public CA's, which \
                 Thunderbird preloads",
            )
        } else {
            finding
        }
    }));
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
