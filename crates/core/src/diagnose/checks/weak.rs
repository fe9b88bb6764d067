//! What some clients refuse in a chain that is otherwise sound: weak keys and signatures on the
//! path (Apple: RSA under 2048 bits, SHA-1; GnuTLS and Thunderbird: SHA-1), a server
//! certificate's keyUsage that does not fit its use in the handshake, more certificates than
//! GnuTLS verifies. One problem per certificate and weakness, so a fix of one never reveals
//! another.

use super::Endpoint;
use crate::analyze::profile::{self, WeaknessKind};
use crate::diagnose::problem::{Code, Problem};

/// The client rules that decide what each client does about a short RSA key.
const KEY_RULES: [&str; 3] = [
    "apple/rsa-2048",
    "thunderbird/rsa-key-size",
    "outlook/rsa-key-size",
];

/// The client rules that decide what each client does about a SHA-1 signature.
const SIGNATURE_RULES: [&str; 5] = [
    "apple/sha2-required",
    "gnome/sha1-refused",
    "thunderbird/sha1",
    "outlook/sha1",
    "android/sha1",
];

/// Most certificates GnuTLS verifies in one list (DEFAULT_MAX_VERIFY_DEPTH).
const GNUTLS_MAX_CERTIFICATES: usize = 16;

pub(super) fn check(endpoint: &Endpoint<'_>) -> Vec<Problem> {
    let Some(analysis) = endpoint.analysis else {
        return Vec::new();
    };
    let severity = endpoint.cert_severity();
    let mut problems = weaknesses(endpoint, severity);
    if let Some(leaf) = analysis.leaf() {
        if let Some(usage) = leaf.key_usage {
            let cipher = endpoint
                .observation
                .tls
                .as_ref()
                .and_then(|t| t.cipher.as_deref())
                .unwrap_or_default();
            // RSA key exchange decrypts with the key; every other exchange signs with it.
            let signs = !cipher.starts_with("TLS_RSA_WITH");
            let none = !(usage.digital_signature || usage.key_encipherment || usage.key_agreement);
            let lacking = if signs {
                (!usage.digital_signature).then_some("digitalSignature, which this handshake needs")
            } else {
                (!usage.key_encipherment)
                    .then_some("keyEncipherment, which RSA key exchange (the suite chosen) needs")
            };
            if none || lacking.is_some() {
                problems.push(
                    Problem::new(
                        Code::KeyUsage,
                        severity,
                        match lacking {
                            Some(needs) if !none => format!(
                                "The server certificate's keyUsage lacks {needs}: GnuTLS \
                                 (Evolution, Geary) stops with \"Key usage violation\"; \
                                 Thunderbird lets it pass. Have it reissued with \
                                 digitalSignature (and keyEncipherment for an RSA key)."
                            ),
                            _ => "The server certificate's keyUsage allows its key neither to \
                                  sign nor to exchange keys: Thunderbird refuses it with no way \
                                  past it, and GnuTLS (Evolution, Geary) stops the handshake. \
                                  Have it reissued with digitalSignature (and keyEncipherment for \
                                  an RSA key)."
                                .to_string(),
                        },
                    )
                    .with(|c| {
                        c.certificate = Some(leaf.subject.clone());
                        c.rules = vec!["thunderbird/key-usage", "gnome/key-usage"];
                    }),
                );
            }
        }
    }
    let sent = analysis.chain.len() + analysis.unparseable.len();
    if sent > GNUTLS_MAX_CERTIFICATES {
        problems.push(
            Problem::new(
                Code::ChainTooLong,
                severity,
                format!(
                    "The server sends {sent} certificates; GnuTLS (Evolution, Geary) verifies at \
                     most {GNUTLS_MAX_CERTIFICATES} and refuses the rest. Send only the server \
                     certificate and its intermediates."
                ),
            )
            .with(|c| c.rules = vec!["gnome/at-most-16-certificates"]),
        );
    }
    problems
}

/// One problem per weak key and weak signature on the path.
fn weaknesses(endpoint: &Endpoint<'_>, severity: crate::diagnose::Severity) -> Vec<Problem> {
    let Some(analysis) = endpoint.analysis else {
        return Vec::new();
    };
    profile::weaknesses(&analysis.chain, analysis.path.as_ref())
        .into_iter()
        .map(|weakness| {
            let whose = if weakness.index == 0 {
                "The server certificate".to_string()
            } else {
                format!("The CA certificate \"{}\"", weakness.subject)
            };
            let problem = match weakness.kind {
                WeaknessKind::ShortRsaKey(bits) => Problem::new(
                    Code::WeakKey,
                    severity,
                    format!(
                        "{whose} has a {bits}-bit RSA key. Apple devices refuse keys under {} \
                         bits, and public CAs no longer issue them; {}. {}",
                        profile::MIN_RSA_BITS,
                        if bits < 1024 {
                            "Thunderbird and Outlook warn about one under 1024 bits"
                        } else {
                            "Thunderbird and Outlook still accept it"
                        },
                        if weakness.index == 0 {
                            "Make a new key (RSA 2048 bits or ECDSA P-256) and have the \
                             certificate reissued for it."
                        } else {
                            "Get a certificate from a CA with a current key."
                        }
                    ),
                )
                .with(|c| c.rules = KEY_RULES.to_vec()),
                WeaknessKind::WeakSignature(hash) => Problem::new(
                    Code::WeakSignature,
                    severity,
                    format!(
                        "{whose} is signed with {hash}. Apple devices, Thunderbird and GnuTLS \
                         (Evolution, Geary) refuse it, and public CAs stopped issuing it in \
                         2016. {}",
                        if weakness.index == 0 {
                            "Have the certificate reissued with a SHA-256 signature."
                        } else {
                            "Get a certificate from a CA whose intermediate is signed with \
                             SHA-256."
                        }
                    ),
                )
                .with(|c| c.rules = SIGNATURE_RULES.to_vec()),
            };
            problem.with(|c| c.certificate = Some(weakness.subject.clone()))
        })
        .collect()
}
