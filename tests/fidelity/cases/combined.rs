//! Several faults at once, and hostile certificate lists.

use super::*;

/// Several faults at once: none may hide another.
pub(super) fn combined_group(b: &mut Builder<'_>) -> Result<(), String> {
    let now = b.now;
    for key in USUAL_KEYS {
        let (int, int_u, int_exp_u, int_exp) = (
            b.cas.int.clone(),
            b.cas.int_untrusted.clone(),
            b.cas.int_expired_untrusted.clone(),
            b.cas.int_expired.clone(),
        );
        let base = b.base();
        let _ = base;
        type Shape = (
            &'static str,
            &'static str,
            Option<Cert>,
            Vec<Cert>,
            bool,
            bool,
            bool,
            Vec<Fault>,
        );
        // (what, about, issuer (None: self-signed), sent after the leaf, expired leaf, wrong
        // name, CN only, faults)
        let shapes: Vec<Shape> = vec![
            (
                "expired-and-mismatch",
                "expired and for another name",
                Some(int.clone()),
                vec![int.clone()],
                true,
                true,
                false,
                vec![Fault::Expired, Fault::Name],
            ),
            (
                "expired-self-signed",
                "expired and self-signed",
                None,
                vec![],
                true,
                false,
                false,
                vec![Fault::Expired, Fault::Untrusted],
            ),
            (
                "self-signed-mismatch",
                "self-signed and for another name",
                None,
                vec![],
                false,
                true,
                false,
                vec![Fault::Untrusted, Fault::Name],
            ),
            (
                "expired-self-signed-mismatch",
                "expired, self-signed and for another name",
                None,
                vec![],
                true,
                true,
                false,
                vec![Fault::Expired, Fault::Untrusted, Fault::Name],
            ),
            (
                "untrusted-mismatch",
                "an untrusted root and another name",
                Some(int_u.clone()),
                vec![int_u.clone()],
                false,
                true,
                false,
                vec![Fault::Untrusted, Fault::Name],
            ),
            (
                "untrusted-expired",
                "an untrusted root and an expired server certificate",
                Some(int_u.clone()),
                vec![int_u.clone()],
                true,
                false,
                false,
                vec![Fault::Untrusted, Fault::Expired],
            ),
            (
                "expired-intermediate-untrusted-root",
                "an expired intermediate under an untrusted root",
                Some(int_exp_u.clone()),
                vec![int_exp_u.clone()],
                false,
                false,
                false,
                vec![Fault::Expired, Fault::Untrusted],
            ),
            (
                "expired-intermediate-mismatch",
                "an expired intermediate and another name",
                Some(int_exp.clone()),
                vec![int_exp.clone()],
                false,
                true,
                false,
                vec![Fault::Expired, Fault::Name],
            ),
            (
                "expired-intermediate-and-leaf",
                "the intermediate and the server certificate both expired",
                Some(int_exp.clone()),
                vec![int_exp.clone()],
                true,
                false,
                false,
                vec![Fault::Expired],
            ),
            (
                "missing-intermediate-mismatch",
                "no intermediate sent and another name",
                Some(int.clone()),
                vec![],
                false,
                true,
                false,
                vec![Fault::MissingIntermediate, Fault::Name],
            ),
            (
                "missing-intermediate-expired",
                "no intermediate sent and expired",
                Some(int.clone()),
                vec![],
                true,
                false,
                false,
                vec![Fault::MissingIntermediate, Fault::Expired],
            ),
            (
                "cn-only-expired",
                "the name only in the CN, and expired",
                Some(int.clone()),
                vec![int.clone()],
                true,
                false,
                true,
                vec![Fault::CommonNameOnly, Fault::Expired],
            ),
            (
                "cn-only-untrusted",
                "the name only in the CN, under an untrusted root",
                Some(int_u.clone()),
                vec![int_u.clone()],
                false,
                false,
                true,
                vec![Fault::CommonNameOnly, Fault::Untrusted],
            ),
            (
                "expired-intermediate-untrusted-mismatch",
                "an expired intermediate, an untrusted root and another name",
                Some(int_exp_u.clone()),
                vec![int_exp_u.clone()],
                false,
                true,
                false,
                vec![Fault::Expired, Fault::Untrusted, Fault::Name],
            ),
        ];
        for (what, about, issuer, rest, expired, mismatch, cn_only, faults) in shapes {
            let mut d = b.draft("combined", what, key, about);
            let base = b.base();
            d.issuer = issuer;
            d.rest = rest;
            if expired {
                d.leaf.not_before = now - 91 * DAY;
                d.leaf.not_after = now - DAY;
            }
            if mismatch {
                d.leaf.san = vec![San::Dns(format!("other.{base}"))];
                d.leaf.common_name = Some(format!("other.{base}"));
            }
            if cn_only {
                d.leaf.san = Vec::new();
            }
            d.faults = faults;
            b.push(d)?;
        }
        // A weak key or SHA-1 together with another fault.
        // A 1024-bit RSA key (the server's, or for the ECDSA server key its CA's), expired.
        let mut d = if key == "leaf-p256" {
            let (ca, _) = b.cas.by_kind[0].clone();
            let mut d = b.draft(
                "combined",
                "rsa1024-ca-expired",
                key,
                "a 1024-bit CA, and expired",
            );
            d.issuer = Some(ca.clone());
            d.rest = vec![ca];
            d
        } else {
            b.draft(
                "combined",
                "rsa1024-expired",
                "leaf-rsa1024",
                "a 1024-bit server key, and expired",
            )
        };
        d.leaf.not_before = now - 91 * DAY;
        d.leaf.not_after = now - DAY;
        d.faults = vec![Fault::WeakKey, Fault::Expired];
        b.push(d)?;
        let mut d = b.draft(
            "combined",
            "sha1-mismatch",
            key,
            "signed with SHA-1 and for another name",
        );
        let base = b.base();
        d.signature = Signature::With(Hash::Sha1);
        d.leaf.san = vec![San::Dns(format!("other.{base}"))];
        d.leaf.common_name = Some(format!("other.{base}"));
        d.faults = vec![Fault::Sha1, Fault::Name];
        b.push(d)?;
    }
    Ok(())
}

/// Hostile certificate lists, served raw by rustls.
pub(super) fn hostile_group(b: &mut Builder<'_>, key: Arc<Key>) -> Result<(), String> {
    let int = b.cas.int.clone();
    let now = b.now;
    let raw_over = |b: &mut Builder<'_>, what: &str, about: &str, chain: Vec<Vec<u8>>, tls| {
        let base = b.base();
        let address = b.address();
        b.cases.push(Case {
            id: format!("hostile/{what}/p256"),
            group: "hostile",
            about: about.to_string(),
            typed: format!("mail.{base}"),
            host: format!("mail.{base}"),
            address,
            cname: None,
            chain,
            key: key.clone(),
            tls,
            server: Server::Raw,
            faults: vec![Fault::Structure],
        });
    };
    let raw = |b: &mut Builder<'_>, what: &str, about: &str, chain: Vec<Vec<u8>>| {
        raw_over(b, what, about, chain, Tls::Both);
    };
    let leaf = |b: &mut Builder<'_>, extra: usize, signature: Signature| {
        let base = b.base();
        let serial = b.next_serial();
        issue(
            &Spec::leaf(
                &[&format!("mail.{base}")],
                serial,
                now - DAY,
                now + 60 * DAY,
            ),
            &key,
            Some(&int),
            signature,
            extra,
        )
    };
    raw(
        b,
        "empty-list",
        "the server sends an empty certificate list",
        Vec::new(),
    );
    let good = leaf(b, 0, Signature::With(Hash::Sha256))?;
    let mut garbage = good.der.clone();
    garbage.truncate(garbage.len() / 2);
    raw(
        b,
        "unparseable",
        "the server certificate is cut in half",
        vec![garbage, int.der.clone()],
    );
    let good = leaf(b, 0, Signature::With(Hash::Sha256))?;
    let mut long = vec![good.der, int.der.clone()];
    while long.iter().map(Vec::len).sum::<usize>() < 64 * 1024 {
        long.push(b.cas.int_unrelated.der.clone());
    }
    raw(
        b,
        "chain-64k",
        "a 64 KiB chain (the intermediate, then copies of an unrelated CA)",
        long.clone(),
    );
    // The same over TLS 1.3 only, encrypted: rustls stops at 64 KiB and no ClientHello reads
    // the certificates in clear, so mailtls cannot see what NSS and GnuTLS accept.
    let good = leaf(b, 0, Signature::With(Hash::Sha256))?;
    long[0] = good.der;
    raw_over(
        b,
        "chain-64k-tls13",
        "the 64 KiB chain, TLS 1.3 only",
        long,
        Tls::Only13,
    );
    let good = leaf(b, 0, Signature::With(Hash::Sha256))?;
    let mut thirty = vec![good.der, int.der.clone()];
    thirty.extend(std::iter::repeat_n(b.cas.int_unrelated.der.clone(), 28));
    raw(b, "thirty-certificates", "thirty certificates", thirty);
    let flood = leaf(b, 10_000, Signature::With(Hash::Sha256))?;
    raw(
        b,
        "ten-thousand-names",
        "a server certificate with 10,000 subjectAltNames",
        vec![flood.der, int.der.clone()],
    );
    let unknown = leaf(b, 0, Signature::Unknown)?;
    raw(
        b,
        "unknown-signature-algorithm",
        "the server certificate is signed with an algorithm nobody knows",
        vec![unknown.der, int.der.clone()],
    );
    Ok(())
}
