//! The delivery lab's certificates, made by rcgen at every start: a root and an intermediate CA,
//! one certificate per case MX ([`Cert`]), the policy host's, and a key no server has (for TLSA
//! records that must not match). Files: `ca.pem` (the senders' and the resolver's trust), and
//! `LABEL.crt`/`LABEL.key` per case (leaf first, then the chain the server sends).

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::Digest;

use super::cases::{Case, Cert, Data, Served, Tlsa};
use super::{HOSTING_NAME, domain};
use crate::lab::{Ca, Issued, ca, leaf, write};

/// A certificate as TLSA records see it.
#[derive(Debug, Clone)]
pub struct Der {
    /// The whole certificate (selector 0).
    pub cert: Vec<u8>,
    /// Its SubjectPublicKeyInfo (selector 1).
    pub spki: Vec<u8>,
}

/// The certificates of one run.
#[derive(Debug)]
pub struct Certs {
    pub dir: PathBuf,
    /// The lab root CA: what the senders and the MTA-STS resolver trust.
    pub ca_file: PathBuf,
    root: Der,
    intermediate: Der,
    other: Der,
    /// Per case (in table order): the leaf its MX presents.
    leaves: Vec<Der>,
    /// The policy host's certificates: for every `mta-sts.DOMAIN` it serves, and for another
    /// name (the wrong-certificate case).
    pub policy_host: (PathBuf, PathBuf),
    pub policy_host_wrong: (PathBuf, PathBuf),
}

/// The name on the policy host's wrong certificate.
pub const WRONG_POLICY_NAME: &str = "policy.hosting.example";

impl Certs {
    /// Makes them all in `dir`.
    pub fn make(dir: &Path, cases: &[Case]) -> Result<Certs, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let root = ca("mailtls Delivery Lab Root CA", None)?;
        let intermediate = ca("mailtls Delivery Lab Intermediate CA", Some(&root))?;
        let ca_file = dir.join("ca.pem");
        write(&ca_file, &root.cert_pem)?;
        let current = (-1, 90);
        let mut leaves = Vec::new();
        for case in cases {
            let mx = super::zones::mx_host(case);
            let chain: &[&Ca] = match case.cert {
                Cert::MxLeafOnly | Cert::SelfSigned => &[],
                _ => &[&intermediate],
            };
            let issued = match case.cert {
                Cert::Mx | Cert::MxLeafOnly => leaf(&[&mx], Some(&intermediate), current)?,
                Cert::Hosting => leaf(&[HOSTING_NAME], Some(&intermediate), current)?,
                Cert::Named(label) => leaf(
                    &[&format!("{label}.{}", domain(case))],
                    Some(&intermediate),
                    current,
                )?,
                Cert::Expired => leaf(&[&mx], Some(&intermediate), (-400, -10))?,
                Cert::SelfSigned => leaf(&[&mx], None, current)?,
            };
            leaves.push(der(&issued.cert_pem)?);
            save(dir, case.label, &issued, chain)?;
        }
        // Every policy host name that should work, and the redirect's target.
        let mut names: Vec<String> = Vec::new();
        for case in cases {
            if let Some(sts) = case.sts
                && sts.served != Served::WrongCertificate
            {
                names.push(format!("mta-sts.{}", domain(case)));
                if sts.served == Served::Redirect {
                    names.push(format!("www.{}", domain(case)));
                }
            }
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        save(
            dir,
            "policy-host",
            &leaf(&refs, Some(&intermediate), current)?,
            &[&intermediate],
        )?;
        save(
            dir,
            "policy-host-wrong",
            &leaf(&[WRONG_POLICY_NAME], Some(&intermediate), current)?,
            &[&intermediate],
        )?;
        let other = leaf(&["other.hosting.example"], Some(&intermediate), current)?;
        Ok(Certs {
            dir: dir.to_path_buf(),
            ca_file,
            root: Der {
                spki: spki(&root.cert_der)?,
                cert: root.cert_der.clone(),
            },
            intermediate: Der {
                spki: spki(&intermediate.cert_der)?,
                cert: intermediate.cert_der.clone(),
            },
            other: der(&other.cert_pem)?,
            leaves,
            policy_host: files(dir, "policy-host"),
            policy_host_wrong: files(dir, "policy-host-wrong"),
        })
    }

    /// The certificate and key files of case `label`.
    pub fn files(&self, label: &str) -> (PathBuf, PathBuf) {
        files(&self.dir, label)
    }

    /// A TLSA record's association data, in hex, for the MX of case `index`.
    pub fn association(&self, index: usize, tlsa: &Tlsa) -> Result<String, String> {
        let leaf = self
            .leaves
            .get(index)
            .ok_or_else(|| format!("no certificate for case {index}"))?;
        let target = match tlsa.data {
            Data::Leaf | Data::Truncated => leaf,
            Data::Intermediate => &self.intermediate,
            Data::Root => &self.root,
            Data::OtherKey => &self.other,
        };
        let selected = match tlsa.selector {
            0 => &target.cert,
            _ => &target.spki,
        };
        let mut data = match tlsa.matching {
            0 => selected.clone(),
            2 => sha2::Sha512::digest(selected).to_vec(),
            _ => sha2::Sha256::digest(selected).to_vec(),
        };
        if tlsa.data == Data::Truncated {
            data.pop();
        }
        Ok(data.iter().map(|b| format!("{b:02x}")).collect())
    }
}

fn files(dir: &Path, label: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{label}.crt")),
        dir.join(format!("{label}.key")),
    )
}

/// Writes `label.crt` (the leaf, then `chain`) and `label.key`.
fn save(dir: &Path, label: &str, issued: &Issued, chain: &[&Ca]) -> Result<(), String> {
    let (crt, key) = files(dir, label);
    let mut pem = issued.cert_pem.clone();
    for ca in chain {
        pem.push_str(&ca.cert_pem);
    }
    write(&crt, &pem)?;
    write(&key, &issued.key_pem)
}

fn der(pem: &str) -> Result<Der, String> {
    let cert = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| format!("a certificate the lab made: {e}"))?
        .to_vec();
    Ok(Der {
        spki: spki(&cert)?,
        cert,
    })
}

fn spki(cert: &[u8]) -> Result<Vec<u8>, String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert)
        .map_err(|e| format!("a certificate the lab made: {e}"))?;
    Ok(parsed.tbs_certificate.subject_pki.raw.to_vec())
}
