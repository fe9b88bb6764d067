//! Usages: extendedKeyUsage and keyUsage, on the server certificate and on its CA.

use super::*;

/// extendedKeyUsage on the server certificate and on its CA.
pub(super) fn eku_group(b: &mut Builder<'_>) -> Result<(), String> {
    for key in USUAL_KEYS {
        for (what, about, eku, faults) in [
            ("none", "no extendedKeyUsage extension", None, vec![]),
            (
                "server-auth",
                "serverAuth",
                Some(vec![Purpose::ServerAuth]),
                vec![],
            ),
            (
                "client-auth-only",
                "clientAuth only",
                Some(vec![Purpose::ClientAuth]),
                vec![Fault::Structure],
            ),
            (
                "any",
                "anyExtendedKeyUsage only",
                Some(vec![Purpose::Any]),
                vec![],
            ),
            (
                "server-and-client",
                "serverAuth and clientAuth",
                Some(vec![Purpose::ServerAuth, Purpose::ClientAuth]),
                vec![],
            ),
        ] {
            let mut d = b.draft("eku", what, key, format!("server certificate EKU: {about}"));
            d.leaf.eku = eku;
            d.faults = faults;
            b.push(d)?;
        }
        for (what, about, ca, faults) in [
            (
                "ca-client-auth-only",
                "the issuing CA's EKU is clientAuth only",
                b.cas.int_eku_client.clone(),
                vec![Fault::Structure],
            ),
            (
                "ca-server-auth",
                "the issuing CA's EKU is serverAuth",
                b.cas.int_eku_server.clone(),
                vec![],
            ),
        ] {
            let mut d = b.draft("eku", what, key, about);
            d.issuer = Some(ca.clone());
            d.rest = vec![ca];
            d.faults = faults;
            b.push(d)?;
        }
    }
    Ok(())
}

/// keyUsage on the server certificate (for TLS 1.2 and 1.3 handshakes) and on its CA.
pub(super) fn key_usage_group(b: &mut Builder<'_>) -> Result<(), String> {
    for (key, shapes) in [
        (
            "leaf-rsa2048",
            vec![
                ("absent", None, vec![]),
                (
                    "digital-signature",
                    Some(vec![Usage::DigitalSignature]),
                    vec![],
                ),
                (
                    "key-encipherment-only",
                    Some(vec![Usage::KeyEncipherment]),
                    vec![Fault::Structure],
                ),
                (
                    "cert-sign-only",
                    Some(vec![Usage::KeyCertSign]),
                    vec![Fault::Structure],
                ),
            ],
        ),
        (
            "leaf-p256",
            vec![
                ("absent", None, vec![]),
                (
                    "digital-signature",
                    Some(vec![Usage::DigitalSignature]),
                    vec![],
                ),
                (
                    "key-encipherment-only",
                    Some(vec![Usage::KeyEncipherment]),
                    vec![Fault::Structure],
                ),
                (
                    "key-agreement-only",
                    Some(vec![Usage::KeyAgreement]),
                    vec![Fault::Structure],
                ),
            ],
        ),
    ] {
        for (what, usage, faults) in shapes {
            for (tls, version) in [(Tls::Only12, "tls12"), (Tls::Only13, "tls13")] {
                let mut d = b.draft(
                    "key-usage",
                    &format!("{what}-{version}"),
                    key,
                    format!("server certificate keyUsage {what}, {version}"),
                );
                d.leaf.key_usage = usage.clone();
                d.tls = tls;
                d.faults = faults.clone();
                b.push(d)?;
            }
        }
    }
    for key in USUAL_KEYS {
        let ca = b.cas.int_no_cert_sign.clone();
        let mut d = b.draft(
            "key-usage",
            "ca-without-cert-sign",
            key,
            "the issuing CA lacks keyCertSign",
        );
        d.issuer = Some(ca.clone());
        d.rest = vec![ca];
        d.faults = vec![Fault::Structure];
        b.push(d)?;
    }
    Ok(())
}
