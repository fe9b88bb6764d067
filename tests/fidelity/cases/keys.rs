//! Keys and signatures: every leaf key kind over each TLS version, and issuing CAs of every
//! key kind signing with every digest each can use.

use super::*;

/// Every leaf key kind, over TLS 1.2 and 1.3, 1.2 only and 1.3 only.
pub(super) fn keys_group(b: &mut Builder<'_>) -> Result<(), String> {
    for key in ALL_LEAF_KEYS {
        for (tls, what) in [
            (Tls::Both, "tls12-13"),
            (Tls::Only12, "tls12"),
            (Tls::Only13, "tls13"),
        ] {
            let kind = b.keys.get(key).kind;
            let mut d = b.draft(
                "keys",
                what,
                key,
                format!("a {} server key, {what}", kind.words()),
            );
            d.tls = tls;
            if matches!(kind, KeyKind::Rsa(bits) if bits < 2048) {
                d.faults.push(Fault::WeakKey);
            }
            if matches!(kind, KeyKind::Ec(_)) || kind == KeyKind::Ed25519 {
                d.leaf.key_usage = Some(vec![Usage::DigitalSignature]);
            }
            b.push(d)?;
        }
    }
    Ok(())
}

/// The server certificate signed by issuing CAs of every key kind, with every digest each can
/// use, for an RSA and an ECDSA server key; and an intermediate signed with SHA-1.
pub(super) fn signatures_group(b: &mut Builder<'_>) -> Result<(), String> {
    let kinds = b.cas.by_kind.clone();
    for key in USUAL_KEYS {
        for (ca, signatures) in &kinds {
            for signature in signatures {
                let ca_kind = ca.key.kind;
                let what = match signature {
                    Signature::With(hash) => format!("{}-{}", ca_kind.words(), hash.words()),
                    Signature::Pss(hash) => format!("{}-PSS-{}", ca_kind.words(), hash.words()),
                    Signature::Unknown => "unknown".to_string(),
                }
                .to_ascii_lowercase();
                let mut d = b.draft(
                    "signatures",
                    &what,
                    key,
                    format!(
                        "server certificate signed by a {} CA with {what}",
                        ca_kind.words()
                    ),
                );
                d.issuer = Some(ca.clone());
                d.rest = vec![ca.clone()];
                d.signature = *signature;
                if matches!(signature, Signature::With(Hash::Sha1)) {
                    d.faults.push(Fault::Sha1);
                }
                if matches!(ca_kind, KeyKind::Rsa(bits) if bits < 2048) {
                    d.faults.push(Fault::WeakKey);
                }
                b.push(d)?;
            }
        }
        let sha1 = b.cas.int_sha1.clone();
        let mut d = b.draft(
            "signatures",
            "intermediate-sha1",
            key,
            "the intermediate is signed with SHA-1 by the root",
        );
        d.issuer = Some(sha1.clone());
        d.rest = vec![sha1];
        d.faults.push(Fault::Sha1);
        b.push(d)?;
        let (int, root) = (b.cas.int_under_sha1_root.clone(), b.cas.root_sha1.clone());
        let mut d = b.draft(
            "signatures",
            "root-self-signed-sha1",
            key,
            "a trusted root whose own signature is SHA-1 (nobody checks an anchor's signature)",
        );
        d.issuer = Some(int.clone());
        d.rest = vec![int, root];
        b.push(d)?;
        let int = b.cas.int_under_p384_root.clone();
        let mut d = b.draft(
            "signatures",
            "ec-root",
            key,
            "an RSA issuing CA under a trusted P-384 root",
        );
        d.issuer = Some(int.clone());
        d.rest = vec![int];
        b.push(d)?;
    }
    Ok(())
}
