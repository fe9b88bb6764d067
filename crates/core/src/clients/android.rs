//! Mail apps on Android (Gmail, K-9 Mail / Thunderbird for Android): the platform's trust
//! manager (Conscrypt) and hostname verifier, under the app's network security configuration.

use super::{Client, Facts, Fault, Finding, Outcome, Rule, cn_ignored, no_fetch};
use crate::analyze::chain::AnchorOrigin;

const NO_AIA: Rule = Rule {
    id: "android/no-aia-fetch",
    summary: "Android does not download missing intermediates: a server that omits them fails \
              with 'Trust anchor for certification path not found'.",
    source: "https://developer.android.com/privacy-and-security/security-ssl#MissingCa",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const USER_CA: Rule = Rule {
    id: "android/user-ca-not-trusted",
    summary: "Apps targeting API level 24 (Android 7) or later do not trust user-added CAs \
              unless their network security configuration opts in.",
    source: "https://developer.android.com/privacy-and-security/security-config#base-config",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const CN: Rule = Rule {
    id: "android/san-required",
    summary: "The platform hostname verifier (OkHostnameVerifier) matches subjectAltName only.",
    source: "https://android.googlesource.com/platform/external/okhttp/+/refs/heads/main/okhttp/src/main/java/com/squareup/okhttp/internal/tls/OkHostnameVerifier.java",
    certain: false,
    fault: Some(Fault::WrongName),
};
const SHA1: Rule = Rule {
    id: "android/sha1",
    summary: "SHA-1 signed certificates are not documented as rejected by the platform; \
              support is being removed across the ecosystem.",
    source: "https://developer.android.com/privacy-and-security/security-ssl",
    certain: false,
    fault: Some(Fault::Untrusted),
};

/// Android's own rules.
pub static RULES: &[Rule] = &[NO_AIA, USER_CA, CN, SHA1];

/// Android's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Android;
    let mut found = Vec::new();
    found.extend(cn_ignored(&CN, facts, client));
    found.extend(no_fetch(&NO_AIA, facts, client));
    if facts.anchor() == Some(AnchorOrigin::Added) {
        found.push(Finding::new(
            &USER_CA,
            Outcome::Warns,
            "the chain ends in a private CA: even when installed on the phone, apps ignore \
             user-added CAs unless they opt in",
        ));
    }
    found.extend(super::weak_signature(&SHA1, facts, Outcome::Depends));
    found
}
