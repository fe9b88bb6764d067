//! GNOME's mail clients, Evolution (evolution-data-server's Camel) and Geary: GIO's
//! GTlsConnection from glib-networking, whose usual backend (Debian's among them) is GnuTLS. The
//! certificate is verified by `gnutls_certificate_verify_peers3` against the system store, and
//! each client asks the user what to do with a failure (Evolution: "Certificate trust...",
//! Geary: "Untrusted Connection"). `gnutls-cli` runs the same verification, which makes it this
//! client family's oracle in the tests; the rules marked "measured" were found by the fidelity
//! matrix (tests/fidelity.rs) against Debian 12's GnuTLS 3.7.9.

use super::{Client, Facts, Fault, Finding, Outcome, Rule, no_fetch};
use crate::analyze::chain::{Defect, Trust};
use crate::analyze::names::NameCheck;
use crate::analyze::profile::WeaknessKind;
use crate::target::Target;
use crate::tls_catalog::Offer;

const CN: Rule = Rule {
    id: "gnome/cn-fallback-without-san",
    summary: "GnuTLS falls back to the subject Common Name only for a DNS name, and only when the \
              certificate has no dNSName (nor other supported) subjectAltName at all; an IP \
              address must be an iPAddress entry.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/x509/hostname-verify.c \
             (gnutls_x509_crt_check_hostname2); measured: names/ip-in-cn-only",
    certain: true,
    fault: Some(Fault::WrongName),
};
const WILDCARD: Rule = Rule {
    id: "gnome/wildcard-prefix",
    summary: "GnuTLS accepts a wildcard that starts the left-most label and is followed by more \
              characters (*mail.example.com covers webmail.example.com), which RFC 9525 and \
              other clients refuse; it refuses mail*.example.com.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/str.c (_gnutls_hostname_compare); \
             measured: names/wildcard-partial-prefix, names/wildcard-partial-suffix",
    certain: true,
    fault: Some(Fault::WrongName),
};
const NO_AIA: Rule = Rule {
    id: "gnome/no-aia-fetch",
    summary: "GnuTLS does not fetch missing intermediates from AIA URLs: a server that omits them \
              fails with an unknown issuer.",
    source: "https://gitlab.com/gnutls/gnutls/-/tree/master/lib/x509 (caIssuers is parsed for \
             printing only; no fetching code)",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const FIRST_MATCH: Rule = Rule {
    id: "gnome/no-alternative-paths",
    summary: "GnuTLS orders the chain by taking, for each issuer, the first certificate sent with \
              that name, and never tries another: when two certificates share the issuer's name \
              (a cross-signed CA) and the first leads to an untrusted root, the chain is refused.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/x509/verify-high.c \
             (_gnutls_sort_clist); measured: chains/cross-signed-intermediate",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const DEPTH: Rule = Rule {
    id: "gnome/at-most-16-certificates",
    summary: "GnuTLS verifies at most 16 certificates (DEFAULT_MAX_VERIFY_DEPTH): a longer list is \
              refused whatever it holds.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/gnutls_int.h \
             (DEFAULT_MAX_VERIFY_DEPTH); measured: hostile/thirty-certificates",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const SHA1: Rule = Rule {
    id: "gnome/sha1-refused",
    summary: "GnuTLS treats SHA-1 certificate signatures as insecure (since 3.6; Debian 12 ships \
              3.7): a chain with one is not trusted, under a private root too.",
    source: "https://gitlab.com/gnutls/gnutls/issues/173; measured: signatures/*-sha-1",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const ANY_EKU: Rule = Rule {
    id: "gnome/any-eku-accepted",
    summary: "GnuTLS accepts a server certificate whose extendedKeyUsage is anyExtendedKeyUsage \
              alone, which Thunderbird and the strict verifiers refuse.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/x509/verify.c \
             (check_key_purpose: GNUTLS_KP_ANY matches); measured: eku/any",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const CA_LEAF: Rule = Rule {
    id: "gnome/ca-as-server-certificate",
    summary: "GnuTLS accepts a server certificate that is itself a CA (basicConstraints cA \
              true), which other clients refuse.",
    source: "measured: chains/leaf-is-ca",
    certain: true,
    fault: Some(Fault::Untrusted),
};
const KEY_USAGE: Rule = Rule {
    id: "gnome/key-usage",
    summary: "GnuTLS stops the handshake (\"Key usage violation\") when the server certificate's \
              keyUsage does not allow what the key does in it: digitalSignature for TLS 1.3 and \
              ECDHE/DHE, keyEncipherment for RSA key exchange.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/cert-session.c \
             (check_key_usage_for_sig); measured: key-usage/*",
    certain: true,
    fault: None,
};
const SUITES: Rule = Rule {
    id: "gnome/cipher-suites",
    summary: "In TLS 1.2 GnuTLS's default priority offers ECDHE, RSA and DHE key exchange with \
              AES-GCM, ChaCha20, AES-CCM and AES-CBC-SHA, but no CBC suite with SHA-256/384: a \
              server that accepts none of them fails the handshake.",
    source: "https://gnutls.org/manual/html_node/Priority-Strings.html (NORMAL); measured: \
             suites/* one suite at a time",
    certain: true,
    fault: None,
};
const BACKEND: Rule = Rule {
    id: "gnome/gnutls-backend",
    summary: "The verdict assumes glib-networking's GnuTLS backend (Debian, Ubuntu, Fedora); a \
              build with the OpenSSL backend verifies with OpenSSL instead.",
    source: "https://gitlab.gnome.org/GNOME/glib-networking/-/blob/master/tls/gnutls/gtlsconnection-gnutls.c",
    certain: false,
    fault: Some(Fault::Untrusted),
};
const TLS: Rule = Rule {
    id: "gnome/tls-versions-by-system-policy",
    summary: "Which TLS versions GnuTLS enables is the system's policy: Debian's and Ubuntu's \
              defaults still accept TLS 1.0 and 1.1, Fedora's and RHEL's crypto policies refuse \
              them.",
    source: "https://gnutls.org/manual/html_node/Priority-Strings.html; \
             https://docs.fedoraproject.org/en-US/packaging-guidelines/CryptoPolicies/",
    certain: false,
    fault: None,
};

/// GNOME's own rules.
pub static RULES: &[Rule] = &[
    CN,
    WILDCARD,
    NO_AIA,
    FIRST_MATCH,
    DEPTH,
    SHA1,
    ANY_EKU,
    CA_LEAF,
    KEY_USAGE,
    SUITES,
    BACKEND,
    TLS,
];

/// Whether GnuTLS judges this chain defect differently from the common rule: it accepts a CA
/// as the server certificate, and anyExtendedKeyUsage alone.
pub fn own_defect(defect: Defect, facts: &Facts<'_>) -> bool {
    match defect {
        Defect::CaAsLeaf => true,
        Defect::LeafEku => facts.analysis.leaf().is_some_and(|leaf| leaf.eku_any_only),
        _ => false,
    }
}

/// Most certificates GnuTLS verifies in one list.
const MAX_CERTIFICATES: usize = 16;

/// GNOME's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Gnome;
    let analysis = facts.analysis;
    let mut found = Vec::new();
    let leaf = analysis.leaf();
    if let NameCheck::CommonNameOnly(cn) = &analysis.name {
        let no_san = leaf.is_some_and(|leaf| leaf.san_dns.is_empty() && leaf.san_ip.is_empty());
        let by_address = cn.parse::<std::net::IpAddr>().is_ok();
        found.push(if no_san && !by_address {
            Finding::new(
                &CN,
                Outcome::Works,
                format!(
                    "the certificate has no subjectAltName, so GnuTLS accepts the Common Name {cn}"
                ),
            )
        } else if by_address {
            Finding::new(
                &CN,
                Outcome::Warns,
                format!(
                    "the address is only in the Common Name ({cn}); GnuTLS matches an address \
                     against iPAddress entries only"
                ),
            )
        } else {
            Finding::new(
                &CN,
                Outcome::Warns,
                format!(
                    "the name is only in the Common Name ({cn}), which GnuTLS ignores because the \
                     certificate has other subjectAltName entries"
                ),
            )
        });
    }
    if let Some(pattern) = wildcard_covers(facts) {
        found.push(Finding::new(
            &WILDCARD,
            Outcome::Works,
            format!("GnuTLS lets the wildcard {pattern} cover the name"),
        ));
    }
    found.extend(no_fetch(&NO_AIA, facts, client));
    if analysis.first_match_trusted == Some(false) {
        found.push(Finding::new(
            &FIRST_MATCH,
            Outcome::Warns,
            "the first certificate sent for the issuer leads to an untrusted root; GnuTLS does \
             not try the other one that leads to a trusted root",
        ));
    }
    let sent = analysis.chain.len() + analysis.unparseable.len();
    if sent > MAX_CERTIFICATES {
        found.push(Finding::new(
            &DEPTH,
            Outcome::Warns,
            format!(
                "the server sends {sent} certificates; GnuTLS verifies at most {MAX_CERTIFICATES}"
            ),
        ));
    }
    found.extend(super::weakness_finding(
        &SHA1,
        facts,
        Outcome::Warns,
        |kind| matches!(kind, WeaknessKind::WeakSignature(_)),
    ));
    if let Trust::Invalid {
        defect: Defect::LeafEku,
        ..
    } = &analysis.trust
    {
        if leaf.is_some_and(|leaf| leaf.eku_any_only) {
            found.push(Finding::new(
                &ANY_EKU,
                Outcome::Works,
                "the server certificate's extendedKeyUsage is anyExtendedKeyUsage alone, which \
                 GnuTLS accepts",
            ));
        }
    }
    if let Trust::Invalid {
        defect: Defect::CaAsLeaf,
        ..
    } = &analysis.trust
    {
        found.push(Finding::new(
            &CA_LEAF,
            Outcome::Works,
            "the server certificate is a CA certificate; GnuTLS accepts it all the same",
        ));
    }
    // RSA key exchange (TLS_RSA_WITH_...) decrypts with the key; everything else signs.
    let rsa_exchange = facts
        .tls_cipher
        .is_some_and(|c| c.starts_with("TLS_RSA_WITH"));
    if let Some(usage) = leaf.and_then(|leaf| leaf.key_usage) {
        let (allowed, needs) = if rsa_exchange {
            (
                usage.key_encipherment,
                "keyEncipherment, which RSA key exchange needs",
            )
        } else {
            (
                usage.digital_signature,
                "digitalSignature, which the handshake needs",
            )
        };
        if !allowed {
            found.push(Finding::new(
                &KEY_USAGE,
                Outcome::Fails,
                format!(
                    "the server certificate's keyUsage lacks {needs}: GnuTLS stops with \"Key \
                     usage violation\""
                ),
            ));
        }
    }
    if facts.versions.and_then(|v| v.accepts_offer(Offer::Gnutls)) == Some(false) {
        found.push(Finding::new(
            &SUITES,
            Outcome::Fails,
            format!(
                "the server accepts none of the TLS 1.2 cipher suites GnuTLS offers (it chose {})",
                facts.tls_cipher.unwrap_or("another")
            ),
        ));
    }
    if facts.legacy_tls() {
        found.push(Finding::new(
            &TLS,
            Outcome::Depends,
            "the server speaks nothing newer than TLS 1.1: it works where the system still \
             enables it (Debian, Ubuntu) and fails where its crypto policy does not (Fedora, RHEL)",
        ));
    }
    found
}

/// The subjectAltName wildcard GnuTLS lets cover a name no other client finds on the
/// certificate (`*mail.example.com` for `webmail.example.com`), when there is one.
pub fn wildcard_covers<'f>(facts: &'f Facts<'_>) -> Option<&'f str> {
    let analysis = facts.analysis;
    if analysis.name != NameCheck::NotCovered {
        return None;
    }
    let (Some(leaf), Some(Target::Dns(name))) = (analysis.leaf(), facts.target) else {
        return None;
    };
    leaf.san_dns
        .iter()
        .find(|p| prefix_wildcard(p, name))
        .map(String::as_str)
}

/// GnuTLS's wildcard match (`_gnutls_hostname_compare`, lib/str.c): a pattern that starts with
/// `*` and has at least two labels after the first dot; the `*` stands for any run of
/// characters of the first label, none included (`*mail.example.com` covers
/// `webmail.example.com` and `mail.example.com`); the rest must match exactly, ignoring case.
fn prefix_wildcard(pattern: &str, name: &str) -> bool {
    let Some(rest) = pattern.strip_prefix('*') else {
        return false;
    };
    match (pattern.find('.'), pattern.rfind('.')) {
        (Some(first), Some(last)) if first != last && last + 1 < pattern.len() => {}
        _ => return false,
    }
    let mut host = name;
    // Bounded by the name: each turn drops one character of its first label.
    loop {
        if rest.eq_ignore_ascii_case(host) {
            return true;
        }
        let mut chars = host.chars();
        match chars.next() {
            None | Some('.') => return false,
            Some(_) => host = chars.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_wildcard;

    #[test]
    fn gnutls_wildcards_start_the_label() {
        assert!(prefix_wildcard("*mail.example.com", "webmail.example.com"));
        assert!(prefix_wildcard("*.example.com", "mail.example.com"));
        assert!(prefix_wildcard("*mail.example.com", "mail.example.com"));
        assert!(!prefix_wildcard("mail*.example.com", "mail1.example.com"));
        assert!(!prefix_wildcard("*.example.com", "example.com"));
        assert!(!prefix_wildcard("*.example.com", "a.b.example.com"));
        assert!(!prefix_wildcard("*.com", "example.com"));
    }
}
