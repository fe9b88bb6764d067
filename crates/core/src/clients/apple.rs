//! Apple Mail on iOS, iPadOS and macOS: the Security framework's SSL policy, with the rules
//! Apple published for TLS server certificates.

use super::{Client, Facts, Fault, Finding, Outcome, Rule, cn_ignored, fetches};
use crate::analyze::chain::AnchorOrigin;
use crate::analyze::profile;

/// 2019-07-01T00:00:00Z: certificates issued from then on need the EKU and at most 825 days.
const JULY_2019: i64 = 1_561_939_200;
/// 2020-09-01T00:00:00Z: certificates to built-in roots issued from then on: at most 398 days.
const SEPTEMBER_2020: i64 = 1_598_918_400;
const DAY: i64 = 86_400;

const SAN: Rule = Rule {
    id: "apple/san-required",
    summary: "The DNS name must be in subjectAltName; names in the Common Name are not trusted \
              (iOS 13, macOS 10.15).",
    source: "https://support.apple.com/en-us/103769",
    certain: true,
    fault: Some(Fault::WrongName),
};
const RSA: Rule = Rule {
    id: "apple/rsa-2048",
    summary: "Server certificates and issuing CAs with RSA keys need at least 2048 bits.",
    source: "https://support.apple.com/en-us/103769",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const SHA2: Rule = Rule {
    id: "apple/sha2-required",
    summary: "Server certificates and issuing CAs must be signed with a SHA-2 family hash.",
    source: "https://support.apple.com/en-us/103769",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const EKU: Rule = Rule {
    id: "apple/eku-required",
    summary: "Certificates issued from 2019-07-01 must have an extendedKeyUsage extension with \
              id-kp-serverAuth.",
    source: "https://support.apple.com/en-us/103769",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const VALIDITY_825: Rule = Rule {
    id: "apple/validity-825-days",
    summary: "Certificates issued from 2019-07-01 may be valid for at most 825 days.",
    source: "https://support.apple.com/en-us/103769",
    certain: true,
    fault: Some(Fault::Dates),
};
const VALIDITY_398: Rule = Rule {
    id: "apple/validity-398-days",
    summary: "Certificates chaining to Apple's built-in roots issued from 2020-09-01 may be valid \
              for at most 398 days; private roots are exempt.",
    source: "https://support.apple.com/en-us/102028",
    certain: true,
    fault: Some(Fault::Dates),
};
const AIA: Rule = Rule {
    id: "apple/aia-fetch",
    summary: "The trust evaluation downloads a missing intermediate from the AIA caIssuers URL \
              when network fetching is allowed, which is the default for SSL policies.",
    source: "https://developer.apple.com/documentation/security/sectrustsetnetworkfetchallowed(_:_:)",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const PRIVATE_CA: Rule = Rule {
    id: "apple/private-ca-needs-full-trust",
    summary: "A private root works only once installed (profile) and enabled under Settings > \
              General > About > Certificate Trust Settings.",
    source: "https://support.apple.com/HT204477 (Trust manually installed certificate profiles in iOS and iPadOS)",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const TLS: Rule = Rule {
    id: "apple/tls-1.2",
    summary: "TLS 1.0 and 1.1 are deprecated since iOS 15 / macOS 12; Mail's behaviour is not \
              documented.",
    source: "https://developer.apple.com/documentation/ios-ipados-release-notes/ios-ipados-15-release-notes",
    certain: false,
    fault: None,
};

/// Apple Mail's own rules.
pub static RULES: &[Rule] = &[
    SAN,
    RSA,
    SHA2,
    EKU,
    VALIDITY_825,
    VALIDITY_398,
    AIA,
    PRIVATE_CA,
    TLS,
];

/// Apple Mail's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::AppleMail;
    let mut found = Vec::new();
    found.extend(cn_ignored(&SAN, facts, client));
    found.extend(super::rsa_under(
        &RSA,
        facts,
        profile::MIN_RSA_BITS,
        Outcome::Warns,
    ));
    found.extend(super::weak_signature(&SHA2, facts, Outcome::Warns));
    if let Some(leaf) = facts.analysis.leaf() {
        if leaf.not_before >= JULY_2019 {
            if leaf.eku_server_auth.is_none() {
                found.push(Finding::new(
                    &EKU,
                    Outcome::Warns,
                    "the server certificate has no extendedKeyUsage extension",
                ));
            }
            let days = profile::validity_days(leaf);
            if profile::validity_seconds(leaf) > 825 * DAY {
                found.push(Finding::new(
                    &VALIDITY_825,
                    Outcome::Warns,
                    format!("the server certificate is valid for {days} days (limit 825)"),
                ));
            } else if leaf.not_before >= SEPTEMBER_2020
                && profile::validity_seconds(leaf) > 398 * DAY
                && facts.anchor() == Some(AnchorOrigin::System)
            {
                found.push(Finding::new(
                    &VALIDITY_398,
                    Outcome::Warns,
                    format!(
                        "the server certificate is valid for {days} days; publicly trusted \
                         certificates may have at most 398"
                    ),
                ));
            }
        }
    }
    found.extend(fetches(&AIA, facts, client));
    if facts.anchor() == Some(AnchorOrigin::Added) {
        found.push(Finding::new(
            &PRIVATE_CA,
            Outcome::Depends,
            "the chain ends in a private CA: works only on devices where it is installed and \
             fully trusted",
        ));
    }
    if facts.legacy_tls() {
        found.push(Finding::new(
            &TLS,
            Outcome::Depends,
            format!(
                "the server negotiated {}, deprecated on Apple platforms",
                facts.tls_version.unwrap_or_default()
            ),
        ));
    }
    found
}
