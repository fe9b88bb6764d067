//! The fixed CAs every case is built from.

use super::super::certgen::{Basic, Cert, Hash, Keys, Purpose, Signature, Spec, Usage, issue};
use super::DAY;

/// The fixed CAs every case is built from.
pub(super) struct Cas {
    pub(super) root: Cert,
    pub(super) int: Cert,
    pub(super) root_untrusted: Cert,
    pub(super) int_untrusted: Cert,
    pub(super) root_expired: Cert,
    pub(super) int_under_expired_root: Cert,
    pub(super) int_expired: Cert,
    pub(super) int_expired_untrusted: Cert,
    pub(super) int_not_yet_valid: Cert,
    pub(super) int2: Cert,
    pub(super) deep: Vec<Cert>,
    pub(super) int_no_basic: Cert,
    pub(super) int_ca_false: Cert,
    pub(super) int_path_len_0: Cert,
    pub(super) int_below_path_len_0: Cert,
    pub(super) int_nc_permits: Cert,
    pub(super) int_nc_elsewhere: Cert,
    pub(super) int_nc_excludes: Cert,
    pub(super) int_unknown_critical: Cert,
    pub(super) int_eku_client: Cert,
    pub(super) int_eku_server: Cert,
    pub(super) int_no_cert_sign: Cert,
    pub(super) root_b: Cert,
    pub(super) root_b_by_root: Cert,
    pub(super) int_cross_by_b: Cert,
    pub(super) int_cross_by_root: Cert,
    pub(super) int_sha1: Cert,
    pub(super) int_aia: Cert,
    pub(super) int_aia_dead: Cert,
    pub(super) root_sha1: Cert,
    pub(super) int_under_sha1_root: Cert,
    pub(super) root_p384: Cert,
    pub(super) int_under_p384_root: Cert,
    pub(super) int_unrelated: Cert,
    /// Issuing CAs of each key kind and the hashes each signs with.
    pub(super) by_kind: Vec<(Cert, Vec<Signature>)>,
}

fn ca_spec(name: &str, serial: u64, from: i64, to: i64) -> Spec {
    Spec::ca(name, serial, from, to)
}

impl Cas {
    pub(super) fn make(keys: &Keys, now: i64) -> Result<Cas, String> {
        let long = (now - 365 * DAY, now + 5 * 365 * DAY);
        let sha256 = Signature::With(Hash::Sha256);
        let mut serial = 1000;
        let mut next = || {
            serial += 1;
            serial
        };
        let root_spec = |name: &str, serial: u64| ca_spec(name, serial, long.0, long.1);
        let self_signed = |name: &str, key: &str, serial: u64| {
            issue(&root_spec(name, serial), &keys.get(key), None, sha256, 0)
        };
        let under = |name: &str, key: &str, issuer: &Cert, serial: u64| {
            issue(
                &root_spec(name, serial),
                &keys.get(key),
                Some(issuer),
                sha256,
                0,
            )
        };
        let with = |spec: Spec, key: &str, issuer: &Cert, signature: Signature| {
            issue(&spec, &keys.get(key), Some(issuer), signature, 0)
        };
        let root = self_signed("Fidelity Root CA", "ca01", next())?;
        let int = under("Fidelity Issuing CA", "ca02", &root, next())?;
        let root_untrusted = self_signed("Untrusted Root CA", "ca03", next())?;
        let int_untrusted = under("Untrusted Issuing CA", "ca04", &root_untrusted, next())?;
        let root_expired = issue(
            &ca_spec(
                "Expired Root CA",
                next(),
                now - 3 * 365 * DAY,
                now - 30 * DAY,
            ),
            &keys.get("ca05"),
            None,
            sha256,
            0,
        )?;
        let int_under_expired_root = under(
            "Issuing CA under an expired root",
            "ca06",
            &root_expired,
            next(),
        )?;
        let expired = ca_spec(
            "Expired Issuing CA",
            next(),
            now - 2 * 365 * DAY,
            now - 10 * DAY,
        );
        let int_expired = with(expired.clone(), "ca07", &root, sha256)?;
        let mut expired_untrusted = expired;
        expired_untrusted.common_name = Some("Expired CA under an untrusted root".into());
        expired_untrusted.serial = next();
        let int_expired_untrusted = with(expired_untrusted, "ca08", &root_untrusted, sha256)?;
        let int_not_yet_valid = with(
            ca_spec(
                "Future Issuing CA",
                next(),
                now + 10 * DAY,
                now + 3 * 365 * DAY,
            ),
            "ca09",
            &root,
            sha256,
        )?;
        let int2 = under("Fidelity Second-level CA", "ca10", &int, next())?;
        let mut deep = Vec::new();
        let mut parent = int2.clone();
        for (i, key) in ["ca11", "ca12", "ca13"].iter().enumerate() {
            let cert = under(
                &format!("Fidelity Level-{} CA", i + 3),
                key,
                &parent,
                next(),
            )?;
            parent = cert.clone();
            deep.push(cert);
        }
        let mut no_basic = root_spec("CA without basicConstraints", next());
        no_basic.basic = Basic::Absent;
        let int_no_basic = with(no_basic, "ca14", &root, sha256)?;
        let mut ca_false = root_spec("CA with cA false", next());
        ca_false.basic = Basic::EndEntity;
        let int_ca_false = with(ca_false, "ca15", &root, sha256)?;
        let mut path_len_0 = root_spec("CA with pathLen 0", next());
        path_len_0.basic = Basic::Ca(Some(0));
        let int_path_len_0 = with(path_len_0, "ca16", &root, sha256)?;
        let int_below_path_len_0 =
            under("CA below a pathLen-0 CA", "ca17", &int_path_len_0, next())?;
        let constrained =
            |name: &str, key: &str, serial: u64, permitted: &[&str], excluded: &[&str]| {
                let mut spec = root_spec(name, serial);
                spec.name_constraints = Some((
                    permitted.iter().map(|s| s.to_string()).collect(),
                    excluded.iter().map(|s| s.to_string()).collect(),
                ));
                with(spec, key, &root, sha256)
            };
        let int_nc_permits = constrained(
            "CA constrained to fidelity.test",
            "ca18",
            next(),
            &["fidelity.test"],
            &[],
        )?;
        let int_nc_elsewhere = constrained(
            "CA constrained to elsewhere.test",
            "ca19",
            next(),
            &["elsewhere.test"],
            &[],
        )?;
        let int_nc_excludes = constrained(
            "CA excluding fidelity.test",
            "ca20",
            next(),
            &[],
            &["fidelity.test"],
        )?;
        let mut unknown = root_spec("CA with an unknown critical extension", next());
        unknown.unknown_critical = true;
        let int_unknown_critical = with(unknown, "ca21", &root, sha256)?;
        let mut eku_client = root_spec("CA for client authentication only", next());
        eku_client.eku = Some(vec![Purpose::ClientAuth]);
        let int_eku_client = with(eku_client, "ca22", &root, sha256)?;
        let mut eku_server = root_spec("CA for server authentication", next());
        eku_server.eku = Some(vec![Purpose::ServerAuth]);
        let int_eku_server = with(eku_server, "ca23", &root, sha256)?;
        let mut no_cert_sign = root_spec("CA without keyCertSign", next());
        no_cert_sign.key_usage = Some(vec![Usage::DigitalSignature, Usage::CrlSign]);
        let int_no_cert_sign = with(no_cert_sign, "ca24", &root, sha256)?;
        let root_b = self_signed("Fidelity Root B", "ca25", next())?;
        let root_b_by_root = under("Fidelity Root B", "ca25", &root, next())?;
        let int_cross_by_b = under("Cross-signed Issuing CA", "ca26", &root_b, next())?;
        let int_cross_by_root = under("Cross-signed Issuing CA", "ca26", &root, next())?;
        let int_sha1 = with(
            root_spec("Issuing CA signed with SHA-1", next()),
            "ca27",
            &root,
            Signature::With(Hash::Sha1),
        )?;
        let int_aia = under("Issuing CA published at its AIA URL", "ca28", &root, next())?;
        let int_aia_dead = under("Issuing CA with a dead AIA URL", "ca29", &root, next())?;
        let root_sha1 = issue(
            &root_spec("Root CA self-signed with SHA-1", next()),
            &keys.get("ca30"),
            None,
            Signature::With(Hash::Sha1),
            0,
        )?;
        let int_under_sha1_root =
            under("Issuing CA under a SHA-1 root", "ca31", &root_sha1, next())?;
        let root_p384 = issue(
            &root_spec("Fidelity EC Root", next()),
            &keys.get("root-p384"),
            None,
            Signature::With(Hash::Sha384),
            0,
        )?;
        let int_under_p384_root = with(
            root_spec("Issuing CA under the EC root", next()),
            "ca32",
            &root_p384,
            Signature::With(Hash::Sha384),
        )?;
        let int_unrelated = under("Unrelated CA", "ca-rsapss", &root_untrusted, next())?;
        let kind = |name: &str, key: &str, serial: u64| under(name, key, &root, serial);
        let by_kind = vec![
            (
                kind("Fidelity CA RSA-1024", "ca-rsa1024", next())?,
                vec![
                    Signature::With(Hash::Sha1),
                    Signature::With(Hash::Sha256),
                    Signature::With(Hash::Sha512),
                ],
            ),
            (
                int.clone(),
                vec![
                    Signature::With(Hash::Sha1),
                    Signature::With(Hash::Sha384),
                    Signature::With(Hash::Sha512),
                    Signature::Pss(Hash::Sha256),
                    Signature::Pss(Hash::Sha384),
                ],
            ),
            (
                kind("Fidelity CA P-256", "ca-p256", next())?,
                vec![
                    Signature::With(Hash::Sha1),
                    Signature::With(Hash::Sha256),
                    Signature::With(Hash::Sha384),
                    Signature::With(Hash::Sha512),
                ],
            ),
            (
                kind("Fidelity CA P-384", "ca-p384", next())?,
                vec![
                    Signature::With(Hash::Sha256),
                    Signature::With(Hash::Sha384),
                    Signature::With(Hash::Sha512),
                ],
            ),
            (
                kind("Fidelity CA P-521", "ca-p521", next())?,
                vec![Signature::With(Hash::Sha256), Signature::With(Hash::Sha512)],
            ),
            (
                kind("Fidelity CA Ed25519", "ca-ed25519", next())?,
                vec![Signature::With(Hash::Sha512)],
            ),
            (
                kind("Fidelity CA RSA-PSS", "ca-rsapss", next())?,
                vec![Signature::With(Hash::Sha256), Signature::With(Hash::Sha384)],
            ),
        ];
        Ok(Cas {
            root,
            int,
            root_untrusted,
            int_untrusted,
            root_expired,
            int_under_expired_root,
            int_expired,
            int_expired_untrusted,
            int_not_yet_valid,
            int2,
            deep,
            int_no_basic,
            int_ca_false,
            int_path_len_0,
            int_below_path_len_0,
            int_nc_permits,
            int_nc_elsewhere,
            int_nc_excludes,
            int_unknown_critical,
            int_eku_client,
            int_eku_server,
            int_no_cert_sign,
            root_b,
            root_b_by_root,
            int_cross_by_b,
            int_cross_by_root,
            int_sha1,
            int_aia,
            int_aia_dead,
            root_sha1,
            int_under_sha1_root,
            root_p384,
            int_under_p384_root,
            int_unrelated,
            by_kind,
        })
    }
}
