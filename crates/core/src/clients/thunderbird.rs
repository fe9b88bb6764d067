//! Thunderbird (desktop): NSS with mozilla::pkix, Mozilla's root store, the same certificate
//! verifier as Firefox (security/certverifier/CertVerifier.cpp). Thunderbird 153 ships its own
//! NSS (3.125); the rules marked "measured" were found by running the real Thunderbird 153.8.0esr
//! on the fidelity matrix (tests/fidelity.rs) and the lab, and every rule is held against it
//! there.
//!
//! Thunderbird offers the user an exception ("warns") only for the errors whose override
//! category is trust, domain or time (alertHook.sys.mjs); for the others (EKU, key usage,
//! constraints, an unknown critical extension, an unsupported key) it shows an error and
//! cannot connect ("fails").

use super::{Client, Facts, Fault, Finding, Outcome, Rule, cn_ignored, no_fetch};
use crate::analyze::cert::KeyInfo;
use crate::analyze::chain::{AnchorOrigin, Defect, Trust};
use crate::analyze::names::NameCheck;
use crate::tls_catalog::Offer;

const CN: Rule = Rule {
    id: "thunderbird/cn-ignored",
    summary: "The name must be in subjectAltName: mozilla::pkix never falls back to the subject \
              Common Name, for built-in and private roots alike (the old \
              security.pki.name_matching_mode fallback is gone).",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/CertVerifier.h \
             (SkipInvalidSANsForNonBuiltInRootsPolicy::FallBackToCommonName returns No); \
             measured: names/cn-only (SSL_ERROR_BAD_CERT_DOMAIN)",
    certain: true,
    fault: Some(Fault::WrongName),
};
const TYPED_UNICODE: Rule = Rule {
    id: "thunderbird/name-as-typed",
    summary: "Thunderbird compares the server name as it was typed with the certificate: an \
              internationalised name typed in Unicode (bücher.example) never matches the \
              certificate's A-label form (xn--bcher-kva.example), although it resolves; typed \
              as its A-label it does. Upper case and a trailing dot do not matter.",
    source: "measured with the real Thunderbird: names/idn-typed-unicode (SSL_ERROR_BAD_CERT_DOMAIN), \
             names/idn-typed-a-label, names/typed-upper-case, names/typed-trailing-dot",
    certain: true,
    fault: Some(Fault::WrongName),
};
const NO_AIA: Rule = Rule {
    id: "thunderbird/no-aia-fetch",
    summary: "Thunderbird does not fetch missing intermediates from AIA URLs. It preloads the \
              intermediates public CAs disclose (Intermediate CA Preloading), so a server that \
              forgets a public CA's intermediate usually still works; a private CA's fails.",
    source: "https://wiki.mozilla.org/Security/CryptoEngineering/Intermediate_Preloading; \
             comm-central mail/components/MailGlue.sys.mjs (RemoteSecuritySettings.init); \
             measured: chains/leaf-only-aia (SEC_ERROR_UNKNOWN_ISSUER, no fetch)",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const SHA1: Rule = Rule {
    id: "thunderbird/sha1",
    summary: "SHA-1 signatures in the chain are refused under every root, private ones \
              included (SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED, which the user may \
              override); a root's own signature is not checked.",
    source: "https://blog.mozilla.org/security/2017/02/23/the-end-of-sha-1-on-the-public-web/; \
             measured: signatures/*-sha-1, signatures/root-self-signed-sha1",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const RSA: Rule = Rule {
    id: "thunderbird/rsa-key-size",
    summary: "mozilla::pkix refuses RSA keys under 1024 bits; 1024-bit keys are accepted \
              without a word.",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/NSSCertDBTrustDomain.cpp \
             (MIN_RSA_BITS_WEAK); measured: keys/*/rsa1024",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const EKU: Rule = Rule {
    id: "thunderbird/server-auth-eku",
    summary: "An extendedKeyUsage on the server certificate or any CA must contain \
              id-kp-serverAuth (anyExtendedKeyUsage alone does not do); otherwise \
              SEC_ERROR_INADEQUATE_CERT_TYPE, with no exception offered.",
    source: "https://searchfox.org/mozilla-central/source/security/nss/lib/mozpkix/lib/pkixcheck.cpp \
             (CheckExtendedKeyUsage); measured: eku/client-auth-only, eku/any, \
             eku/ca-client-auth-only",
    certain: true,
    fault: None,
};
const KEY_USAGE: Rule = Rule {
    id: "thunderbird/key-usage",
    summary: "A server certificate whose keyUsage has none of digitalSignature, keyEncipherment \
              and keyAgreement, or a CA whose keyUsage lacks keyCertSign, is refused \
              (SEC_ERROR_INADEQUATE_KEY_USAGE) with no exception offered.",
    source: "https://searchfox.org/mozilla-central/source/security/certverifier/CertVerifier.cpp \
             (VerifySSLServerCert tries the three usages); measured: key-usage/*",
    certain: true,
    fault: None,
};
const CONSTRAINTS: Rule = Rule {
    id: "thunderbird/no-exception-for-constraints",
    summary: "A violated path length or name constraint, or an unknown critical extension in \
              the server certificate, is refused with no exception offered \
              (SEC_ERROR_PATH_LEN_CONSTRAINT_INVALID, SEC_ERROR_CERT_NOT_IN_NAME_SPACE, \
              SEC_ERROR_UNKNOWN_CRITICAL_EXTENSION); an unknown critical extension in a CA \
              makes it an unknown issuer, which may be overridden.",
    source: "comm-central mail/modules/activity/alertHook.sys.mjs (an exception only for the \
             trust, domain and time categories); measured: chains/path-length-violated, \
             chains/name-constraint-*, chains/*-unknown-critical-extension",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const KEYS: Rule = Rule {
    id: "thunderbird/no-ed25519-or-rsa-pss-keys",
    summary: "Thunderbird offers neither Ed25519 nor RSA-PSS-key (rsa_pss_pss) handshake \
              signatures, so a server with such a key fails the handshake \
              (SSL_ERROR_NO_CYPHER_OVERLAP); a CA with such a key is refused \
              (SEC_ERROR_UNSUPPORTED_KEYALG). Neither offers an exception.",
    source: "https://searchfox.org/mozilla-central/source/security/manager/ssl/nsNSSIOLayer.cpp \
             (sEnabledSignatureSchemes); measured: keys/*/ed25519, keys/*/rsapss, \
             signatures/ed25519-*, signatures/rsa-pss-*",
    certain: true,
    fault: None,
};
const SUITES: Rule = Rule {
    id: "thunderbird/cipher-suites",
    summary: "In TLS 1.2 Thunderbird offers ECDHE with AES-GCM, ChaCha20 and AES-CBC-SHA (not \
              ECDHE-ECDSA with AES-128-CBC-SHA) and RSA key exchange with AES-GCM and \
              AES-CBC-SHA; no DHE and no CBC suite with SHA-256/384. A server that accepts none \
              of them fails the handshake (SSL_ERROR_NO_CYPHER_OVERLAP).",
    source: "https://searchfox.org/mozilla-central/source/security/manager/ssl/nsNSSComponent.cpp \
             (sCipherPrefs); measured: suites/* one suite at a time",
    certain: true,
    fault: None,
};
const TLS: Rule = Rule {
    id: "thunderbird/tls-1.2-minimum",
    summary: "TLS 1.0 and 1.1 are disabled by default since Thunderbird 78 (security.tls.version.min = 3).",
    source: "https://www.thunderbird.net/en-US/thunderbird/78.0/releasenotes/",
    certain: true,
    fault: None,
};

/// Thunderbird's own rules.
pub static RULES: &[Rule] = &[
    CN,
    TYPED_UNICODE,
    NO_AIA,
    SHA1,
    RSA,
    EKU,
    KEY_USAGE,
    CONSTRAINTS,
    KEYS,
    SUITES,
    TLS,
];

/// Chain defects Thunderbird judges differently from the common rule: it offers no exception
/// for them (or, for an unknown critical extension in a CA, sees an unknown issuer).
pub const OWN_DEFECTS: &[Defect] = &[
    Defect::LeafEku,
    Defect::IssuerEku,
    Defect::IssuerKeyUsage,
    Defect::PathLength,
    Defect::NameConstraints,
    Defect::UnknownCriticalExtension,
];

/// Thunderbird's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Thunderbird;
    let analysis = facts.analysis;
    let leaf = analysis.leaf();
    let mut found = Vec::new();
    found.extend(cn_ignored(&CN, facts, client));
    if let (Some(typed), Some(target)) = (facts.typed.filter(|t| !t.is_ascii()), facts.target) {
        if matches!(analysis.name, NameCheck::Covered(_)) {
            found.push(Finding::new(
                &TYPED_UNICODE,
                Outcome::Warns,
                format!(
                    "the name was typed as {typed}, and Thunderbird compares that with the \
                     certificate's {target}: type the server name as {target} instead"
                ),
            ));
        }
    }
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
    found.extend(super::weak_signature(&SHA1, facts, Outcome::Warns));
    // Under 1024 bits warns; under 2048 Thunderbird says nothing (measured: a 1024-bit key logs
    // in without a word).
    found.extend(
        super::rsa_under(&RSA, facts, 1024, Outcome::Warns).or_else(|| {
            super::rsa_under(&RSA, facts, 2048, Outcome::Works).map(|mut finding| {
                finding.detail.push_str(
                    ": Thunderbird accepts it without a word, but Apple devices refuse it and \
                     public CAs no longer issue it",
                );
                finding
            })
        }),
    );
    let defect = match &analysis.trust {
        Trust::Invalid { defect, .. } => Some(*defect),
        _ => None,
    };
    let eku = leaf.is_some_and(|l| l.eku_any_only || l.eku_server_auth == Some(false));
    if eku || matches!(defect, Some(Defect::LeafEku | Defect::IssuerEku)) {
        found.push(Finding::new(
            &EKU,
            Outcome::Fails,
            if eku {
                "the server certificate's extendedKeyUsage does not contain id-kp-serverAuth"
            } else {
                "a CA's extendedKeyUsage does not allow TLS server authentication"
            },
        ));
    }
    let leaf_usage = leaf
        .and_then(|l| l.key_usage)
        .is_some_and(|u| !(u.digital_signature || u.key_encipherment || u.key_agreement));
    if leaf_usage || defect == Some(Defect::IssuerKeyUsage) {
        found.push(Finding::new(
            &KEY_USAGE,
            Outcome::Fails,
            if leaf_usage {
                "the server certificate's keyUsage allows neither signing nor key exchange"
            } else {
                "a CA's keyUsage does not allow it to sign certificates"
            },
        ));
    }
    match defect {
        Some(Defect::PathLength | Defect::NameConstraints) => found.push(Finding {
            fault: None,
            ..Finding::new(
                &CONSTRAINTS,
                Outcome::Fails,
                "the chain breaks a CA's constraints, and Thunderbird offers no exception for it",
            )
        }),
        Some(Defect::UnknownCriticalExtension) if leaf.is_some_and(|l| l.unknown_critical) => {
            found.push(Finding {
                fault: None,
                ..Finding::new(
                    &CONSTRAINTS,
                    Outcome::Fails,
                    "the server certificate has a critical extension Thunderbird does not know",
                )
            });
        }
        Some(Defect::UnknownCriticalExtension) => found.push(Finding::new(
            &CONSTRAINTS,
            Outcome::Warns,
            "a CA has a critical extension Thunderbird does not know, so it is not taken as \
             the issuer",
        )),
        _ => {}
    }
    if let Some(detail) = unsupported_key(facts) {
        found.push(Finding::new(&KEYS, Outcome::Fails, detail));
    }
    if facts
        .versions
        .and_then(|v| v.accepts_offer(Offer::Thunderbird))
        == Some(false)
    {
        found.push(Finding::new(
            &SUITES,
            Outcome::Fails,
            format!(
                "the server accepts none of the TLS 1.2 cipher suites Thunderbird offers (it \
                 chose {})",
                facts.tls_cipher.unwrap_or("another")
            ),
        ));
    }
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

/// An Ed25519 or RSA-PSS key on the server certificate or a CA that signs on the path.
fn unsupported_key(facts: &Facts<'_>) -> Option<String> {
    let analysis = facts.analysis;
    let odd = |key: KeyInfo| matches!(key, KeyInfo::Edwards | KeyInfo::RsaPss(_));
    let leaf = analysis.leaf()?;
    if odd(leaf.key) {
        return Some(format!(
            "the server's key is {}, for which Thunderbird offers no handshake signature",
            leaf.key
        ));
    }
    crate::analyze::profile::examined(&analysis.chain, analysis.path.as_ref())
        .into_iter()
        .skip(1)
        .find(|cert| odd(cert.key))
        .map(|cert| {
            format!(
                "the CA {} signs with a {} key, which Thunderbird does not accept",
                cert.subject, cert.key
            )
        })
}
