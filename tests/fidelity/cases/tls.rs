//! TLS versions and cipher suites.

use super::*;

/// TLS versions and suites the server allows.
pub(super) fn tls_group(b: &mut Builder<'_>) -> Result<(), String> {
    let shapes: [(&str, &str, Tls, Option<&'static str>); 12] = [
        (
            "tls12-aes128-gcm",
            "leaf-rsa2048",
            Tls::Only12,
            Some("ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
        ),
        (
            "tls12-chacha20",
            "leaf-rsa2048",
            Tls::Only12,
            Some("ECDHE-RSA-CHACHA20-POLY1305:@SECLEVEL=0"),
        ),
        (
            "tls12-cbc-only",
            "leaf-rsa2048",
            Tls::Only12,
            Some("ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0"),
        ),
        (
            "tls12-cbc-sha256",
            "leaf-rsa2048",
            Tls::Only12,
            Some("ECDHE-RSA-AES128-SHA256:@SECLEVEL=0"),
        ),
        (
            "tls12-rsa-key-exchange",
            "leaf-rsa2048",
            Tls::Only12,
            Some("AES128-GCM-SHA256:AES128-SHA:@SECLEVEL=0"),
        ),
        (
            "tls12-dhe-only",
            "leaf-rsa2048",
            Tls::Only12,
            Some("DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
        ),
        (
            "tls12-ecdsa-aes256-gcm",
            "leaf-p256",
            Tls::Only12,
            Some("ECDHE-ECDSA-AES256-GCM-SHA384:@SECLEVEL=0"),
        ),
        (
            "tls12-ecdsa-cbc-only",
            "leaf-p256",
            Tls::Only12,
            Some("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"),
        ),
        ("tls13-only-rsa", "leaf-rsa2048", Tls::Only13, None),
        ("tls13-only-p384", "leaf-p384", Tls::Only13, None),
        (
            "tls12-rsa4096-aes256-gcm",
            "leaf-rsa4096",
            Tls::Only12,
            Some("ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"),
        ),
        (
            "tls12-ed25519-chacha20",
            "leaf-ed25519",
            Tls::Only12,
            Some("ECDHE-ECDSA-CHACHA20-POLY1305:@SECLEVEL=0"),
        ),
    ];
    for (what, key, tls, ciphers) in shapes {
        let mut d = b.draft("tls", what, key, format!("the server allows only {what}"));
        d.tls = tls;
        d.ciphers = ciphers;
        b.push(d)?;
    }
    // One TLS 1.2 suite at a time: which of them each client offers.
    for (suite, key) in [
        ("ECDHE-RSA-AES128-GCM-SHA256", "leaf-rsa2048"),
        ("ECDHE-RSA-AES256-GCM-SHA384", "leaf-rsa2048"),
        ("ECDHE-RSA-CHACHA20-POLY1305", "leaf-rsa2048"),
        ("ECDHE-RSA-AES128-SHA", "leaf-rsa2048"),
        ("ECDHE-RSA-AES256-SHA", "leaf-rsa2048"),
        ("ECDHE-RSA-AES128-SHA256", "leaf-rsa2048"),
        ("ECDHE-RSA-AES256-SHA384", "leaf-rsa2048"),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", "leaf-p256"),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", "leaf-p256"),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", "leaf-p256"),
        ("ECDHE-ECDSA-AES128-SHA", "leaf-p256"),
        ("ECDHE-ECDSA-AES256-SHA", "leaf-p256"),
        ("ECDHE-ECDSA-AES128-SHA256", "leaf-p256"),
        ("ECDHE-ECDSA-AES256-SHA384", "leaf-p256"),
        ("AES128-GCM-SHA256", "leaf-rsa2048"),
        ("AES256-GCM-SHA384", "leaf-rsa2048"),
        ("AES128-SHA", "leaf-rsa2048"),
        ("AES256-SHA", "leaf-rsa2048"),
        ("AES128-SHA256", "leaf-rsa2048"),
        ("AES256-SHA256", "leaf-rsa2048"),
        ("DHE-RSA-AES128-GCM-SHA256", "leaf-rsa2048"),
        ("DHE-RSA-AES256-GCM-SHA384", "leaf-rsa2048"),
        ("DHE-RSA-CHACHA20-POLY1305", "leaf-rsa2048"),
        ("DHE-RSA-AES128-SHA", "leaf-rsa2048"),
        ("DHE-RSA-AES256-SHA", "leaf-rsa2048"),
    ] {
        let what = suite.to_ascii_lowercase();
        let mut d = b.draft(
            "suites",
            &what,
            key,
            format!("TLS 1.2 with the one suite {suite}"),
        );
        d.tls = Tls::Only12;
        let cipher_string: &'static str =
            Box::leak(format!("{suite}:@SECLEVEL=0").into_boxed_str());
        d.ciphers = Some(cipher_string);
        b.push(d)?;
    }
    Ok(())
}
