//! GNOME's mail clients, Evolution (evolution-data-server's Camel) and Geary: GIO's
//! GTlsConnection from glib-networking, whose usual backend (Debian's among them) is GnuTLS. The
//! certificate is verified by `gnutls_certificate_verify_peers3` against the system store, and
//! each client asks the user what to do with a failure (Evolution: "Certificate trust...",
//! Geary: "Untrusted Connection"). `gnutls-cli` runs the same verification, which makes it this
//! client family's oracle in the tests.

use super::{Client, Facts, Fault, Finding, Outcome, Rule, no_fetch};
use crate::analyze::names::NameCheck;

const CN: Rule = Rule {
    id: "gnome/cn-fallback-without-san",
    summary: "GnuTLS falls back to the subject Common Name only when the certificate has no \
              dNSName (nor other supported) subjectAltName at all.",
    source: "https://gitlab.com/gnutls/gnutls/-/blob/master/lib/x509/hostname-verify.c \
             (gnutls_x509_crt_check_hostname2)",
    certain: true,
    fault: Some(Fault::WrongName),
};
const NO_AIA: Rule = Rule {
    id: "gnome/no-aia-fetch",
    summary: "GnuTLS does not fetch missing intermediates from AIA URLs: a server that omits them \
              fails with an unknown issuer.",
    source: "https://gitlab.com/gnutls/gnutls/-/tree/master/lib/x509 (caIssuers is parsed for \
             printing only; no fetching code)",
    certain: false,
    fault: Some(Fault::Untrusted),
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
pub static RULES: &[Rule] = &[CN, NO_AIA, BACKEND, TLS];

/// GNOME's findings for one endpoint.
pub fn findings(facts: &Facts<'_>) -> Vec<Finding> {
    let client = Client::Gnome;
    let mut found = Vec::new();
    if let NameCheck::CommonNameOnly(cn) = &facts.analysis.name {
        let no_san = facts
            .analysis
            .leaf()
            .is_some_and(|leaf| leaf.san_dns.is_empty() && leaf.san_ip.is_empty());
        found.push(if no_san {
            Finding::new(
                &CN,
                Outcome::Works,
                format!(
                    "the certificate has no subjectAltName, so GnuTLS accepts the Common Name {cn}"
                ),
            )
        } else {
            Finding::new(
                &CN,
                Outcome::Fails,
                format!(
                    "the name is only in the Common Name ({cn}), which GnuTLS ignores because the \
                     certificate has other subjectAltName entries"
                ),
            )
        });
    }
    found.extend(no_fetch(&NO_AIA, facts, client));
    if facts.legacy_tls() {
        found.push(Finding::new(
            &TLS,
            Outcome::Warns,
            "the server speaks nothing newer than TLS 1.1: it works where the system still \
             enables it (Debian, Ubuntu) and fails where its crypto policy does not (Fedora, RHEL)",
        ));
    }
    found
}
