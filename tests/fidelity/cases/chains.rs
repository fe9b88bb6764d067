//! Chains: what is sent, in what order, and the CAs' own structure.

use super::*;

/// A chain shape: what, about, the leaf's issuer, what is sent after the leaf, the faults.
type ChainShape<'a> = (&'a str, &'a str, Cert, Vec<Cert>, Vec<Fault>);

/// Chains: what is sent, in what order, and the CAs' own structure.
pub(super) fn chains_group(b: &mut Builder<'_>) -> Result<(), String> {
    for key in USUAL_KEYS {
        let c = |b: &Builder<'_>| {
            let cas = &b.cas;
            (
                cas.int.clone(),
                cas.root.clone(),
                cas.int2.clone(),
                cas.root_untrusted.clone(),
                cas.int_untrusted.clone(),
            )
        };
        let (int, root, int2, root_u, int_u) = c(b);
        let base = b.base();
        // (what, about, issuer, sent after the leaf, faults)
        let shapes: Vec<ChainShape<'_>> = vec![
            (
                "leaf-only",
                "the server sends no intermediate (and it has no AIA URL)",
                int.clone(),
                vec![],
                vec![Fault::MissingIntermediate],
            ),
            (
                "root-sent",
                "the trusted root is sent along",
                int.clone(),
                vec![int.clone(), root.clone()],
                vec![],
            ),
            (
                "wrong-order-root-first",
                "the root is sent before the intermediate",
                int.clone(),
                vec![root.clone(), int.clone()],
                vec![],
            ),
            (
                "two-level",
                "two intermediates, in order",
                int2.clone(),
                vec![int2.clone(), int.clone()],
                vec![],
            ),
            (
                "two-level-reversed",
                "two intermediates, in reverse order",
                int2.clone(),
                vec![int.clone(), int2.clone()],
                vec![],
            ),
            (
                "two-level-missing-top",
                "two-level, the upper intermediate missing",
                int2.clone(),
                vec![int2.clone()],
                vec![Fault::MissingIntermediate],
            ),
            (
                "extra-unrelated",
                "an unrelated CA certificate is sent too",
                int.clone(),
                vec![int.clone(), b.cas.int_unrelated.clone()],
                vec![],
            ),
            (
                "duplicate-intermediate",
                "the intermediate is sent twice",
                int.clone(),
                vec![int.clone(), int.clone()],
                vec![],
            ),
            (
                "directly-under-root",
                "issued directly by the trusted root",
                root.clone(),
                vec![],
                vec![],
            ),
            (
                "untrusted-root-sent",
                "a whole chain to an untrusted root, root sent along",
                int_u.clone(),
                vec![int_u.clone(), root_u.clone()],
                vec![Fault::Untrusted],
            ),
            (
                "untrusted-root-not-sent",
                "a chain to an untrusted root, root not sent",
                int_u.clone(),
                vec![int_u.clone()],
                vec![Fault::Untrusted],
            ),
            (
                "directly-under-untrusted-root",
                "issued directly by an untrusted root, not sent",
                root_u.clone(),
                vec![],
                vec![Fault::Untrusted],
            ),
            (
                "cross-signed-path",
                "an intermediate under an untrusted root, with that root cross-signed by the trusted one",
                b.cas.int_cross_by_b.clone(),
                vec![b.cas.int_cross_by_b.clone(), b.cas.root_b_by_root.clone()],
                vec![],
            ),
            (
                "cross-signed-missing-cross",
                "an intermediate under an untrusted root, without the cross-signature",
                b.cas.int_cross_by_b.clone(),
                vec![b.cas.int_cross_by_b.clone(), b.cas.root_b.clone()],
                vec![Fault::Untrusted],
            ),
            (
                "cross-signed-intermediate",
                "the intermediate signed by both roots, the untrusted one's first",
                b.cas.int_cross_by_b.clone(),
                vec![
                    b.cas.int_cross_by_b.clone(),
                    b.cas.int_cross_by_root.clone(),
                ],
                vec![],
            ),
            (
                "depth-5",
                "four intermediates",
                b.cas.deep[2].clone(),
                vec![
                    b.cas.deep[2].clone(),
                    b.cas.deep[1].clone(),
                    b.cas.deep[0].clone(),
                    int2.clone(),
                    int.clone(),
                ],
                vec![],
            ),
            (
                "ca-without-basic-constraints",
                "the issuing CA has no basicConstraints",
                b.cas.int_no_basic.clone(),
                vec![b.cas.int_no_basic.clone()],
                vec![Fault::Structure],
            ),
            (
                "ca-with-ca-false",
                "the issuing CA says cA false",
                b.cas.int_ca_false.clone(),
                vec![b.cas.int_ca_false.clone()],
                vec![Fault::Structure],
            ),
            (
                "path-length-violated",
                "a CA below a CA with pathLen 0",
                b.cas.int_below_path_len_0.clone(),
                vec![
                    b.cas.int_below_path_len_0.clone(),
                    b.cas.int_path_len_0.clone(),
                ],
                vec![Fault::Structure],
            ),
            (
                "name-constraint-permits",
                "the CA is constrained to fidelity.test",
                b.cas.int_nc_permits.clone(),
                vec![b.cas.int_nc_permits.clone()],
                vec![],
            ),
            (
                "name-constraint-elsewhere",
                "the CA is constrained to elsewhere.test",
                b.cas.int_nc_elsewhere.clone(),
                vec![b.cas.int_nc_elsewhere.clone()],
                vec![Fault::Structure],
            ),
            (
                "name-constraint-excludes",
                "the CA excludes fidelity.test",
                b.cas.int_nc_excludes.clone(),
                vec![b.cas.int_nc_excludes.clone()],
                vec![Fault::Structure],
            ),
            (
                "ca-unknown-critical-extension",
                "the issuing CA has an unknown critical extension",
                b.cas.int_unknown_critical.clone(),
                vec![b.cas.int_unknown_critical.clone()],
                vec![Fault::Structure],
            ),
            (
                "intermediate-under-sha1-root",
                "a SHA-256 chain to a root self-signed with SHA-1",
                b.cas.int_under_sha1_root.clone(),
                vec![b.cas.int_under_sha1_root.clone()],
                vec![],
            ),
        ];
        let _ = base;
        for (what, about, issuer, rest, faults) in shapes {
            let mut d = b.draft("chains", what, key, about);
            d.issuer = Some(issuer);
            d.rest = rest;
            d.faults = faults;
            b.push(d)?;
        }
        // A missing intermediate with an AIA URL that serves it, and one that does not.
        for (what, about, ca, path) in [
            (
                "leaf-only-aia",
                "the server sends no intermediate; its AIA URL serves it",
                b.cas.int_aia.clone(),
                "/int-aia.der",
            ),
            (
                "leaf-only-aia-dead",
                "the server sends no intermediate; its AIA URL answers 404",
                b.cas.int_aia_dead.clone(),
                "/gone.der",
            ),
        ] {
            let mut d = b.draft("chains", what, key, about);
            d.issuer = Some(ca);
            d.rest = Vec::new();
            d.leaf.aia = Some(format!("http://{AIA_HOST}{path}"));
            d.faults = vec![Fault::MissingIntermediate];
            b.push(d)?;
        }
        // The leaf's own structure.
        let mut d = b.draft(
            "chains",
            "leaf-unknown-critical-extension",
            key,
            "the server certificate has an unknown critical extension",
        );
        d.leaf.unknown_critical = true;
        d.faults = vec![Fault::Structure];
        b.push(d)?;
        let mut d = b.draft(
            "chains",
            "leaf-is-ca",
            key,
            "the server certificate says cA true",
        );
        d.leaf.basic = Basic::Ca(None);
        d.faults = vec![Fault::Structure];
        b.push(d)?;
        let mut d = b.draft(
            "chains",
            "self-signed",
            key,
            "a self-signed server certificate",
        );
        d.issuer = None;
        d.rest = Vec::new();
        d.faults = vec![Fault::Untrusted];
        b.push(d)?;
        let mut d = b.draft(
            "chains",
            "self-signed-ca",
            key,
            "a self-signed server certificate with cA true (openssl req -x509)",
        );
        d.issuer = None;
        d.rest = Vec::new();
        d.leaf.basic = Basic::Ca(None);
        d.leaf.key_usage = Some(vec![
            Usage::DigitalSignature,
            Usage::KeyEncipherment,
            Usage::KeyCertSign,
        ]);
        d.faults = vec![Fault::Untrusted];
        b.push(d)?;
    }
    Ok(())
}
