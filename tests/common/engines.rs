//! The real TLS engines the tests hold mailtls's verdicts against, and how their answers read:
//! NSS's `tstclnt` configured as Thunderbird configures NSS, and GnuTLS's `gnutls-cli` as GIO
//! uses it for Evolution and Geary. Used by the fidelity matrix (tests/fidelity.rs) and the
//! lab's oracle tests (tests/servers/oracles.rs). Every run is bounded by `timeout`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Longest an engine may take on one connection, in seconds (`timeout`'s argument).
const LIMIT: &str = "20";

/// The certificate fault Thunderbird's dialog shows for an NSS error, in the vocabulary of
/// `clients::dialogs::Fault`; `None` for an error Thunderbird offers no exception for (and
/// shows no certificate dialog). Thunderbird's own categories: mozilla-central
/// security/manager/ssl/SSLServerCertVerification.cpp (CategorizeCertificateError): trust,
/// domain, time.
pub fn fault_of_nss(error: &str) -> Option<&'static str> {
    match error {
        "SEC_ERROR_CA_CERT_INVALID"
        | "SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED"
        | "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE"
        | "SEC_ERROR_UNKNOWN_ISSUER"
        | "MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY"
        | "MOZILLA_PKIX_ERROR_EMPTY_ISSUER_NAME"
        | "MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE"
        | "MOZILLA_PKIX_ERROR_INSUFFICIENT_CERTIFICATE_TRANSPARENCY"
        | "MOZILLA_PKIX_ERROR_MITM_DETECTED"
        | "MOZILLA_PKIX_ERROR_NOT_YET_VALID_ISSUER_CERTIFICATE"
        | "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"
        | "MOZILLA_PKIX_ERROR_V1_CERT_USED_AS_CA" => Some("untrusted"),
        "SSL_ERROR_BAD_CERT_DOMAIN" => Some("wrong-name"),
        "SEC_ERROR_EXPIRED_CERTIFICATE"
        | "SEC_ERROR_INVALID_TIME"
        | "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE" => Some("dates"),
        _ => None,
    }
}

/// Thunderbird's NSS (it ships its own, newer than the system's): tstclnt runs with it.
const THUNDERBIRD_LIBRARIES: &str = "/usr/lib/thunderbird";

/// What Thunderbird enables in NSS, given to tstclnt: TLS 1.3's suites and its TLS 1.2 ones
/// (crates/core/src/tls_catalog.rs, measured), its signature schemes (mozilla-central
/// security/manager/ssl/nsNSSIOLayer.cpp, sEnabledSignatureSchemes) and groups.
const THUNDERBIRD_SUITES: &str =
    ":1301:1302:1303:c02b:c02f:cca9:cca8:c02c:c030:c00a:c013:c014:009c:009d:002f:0035";
const THUNDERBIRD_SCHEMES: &str = "ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,\
ecdsa_secp521r1_sha512,rsa_pss_rsae_sha256,rsa_pss_rsae_sha384,rsa_pss_rsae_sha512,\
rsa_pkcs1_sha256,rsa_pkcs1_sha384,rsa_pkcs1_sha512,ecdsa_sha1,rsa_pkcs1_sha1";
const THUNDERBIRD_GROUPS: &str = "x25519,P256,P384,P521,FF2048,FF3072";

/// What an oracle said about one case.
#[derive(Debug, Clone)]
pub struct Answer {
    /// It connected and accepted the certificate.
    pub connected: bool,
    /// NSS: the error name; GnuTLS: the status words.
    pub said: String,
    /// The certificate faults it names (NSS: the one of its error; GnuTLS: every one).
    pub faults: Vec<&'static str>,
}

impl Answer {
    /// Whether `verdict` (mailtls's, for the client built on this engine) agrees: `works` when
    /// it connected; `warns` (a certificate dialog) when it refused the certificate with an
    /// error the client lets the user override; `fails` when it refused otherwise. `depends`
    /// is a question an engine settles, so it never agrees.
    pub fn agrees(&self, verdict: &str) -> bool {
        match verdict {
            "works" => self.connected,
            "warns" => !self.connected && !self.faults.is_empty(),
            "fails" => !self.connected && self.faults.is_empty(),
            _ => false,
        }
    }
}

/// A throwaway NSS database trusting `roots` (one PEM file) for servers, as Thunderbird would
/// after the user installed them.
pub fn nss_database(dir: &Path, roots: &[Vec<u8>]) -> Result<PathBuf, String> {
    let db = dir.join("nssdb");
    let _ = std::fs::remove_dir_all(&db);
    std::fs::create_dir_all(&db).map_err(|e| e.to_string())?;
    let spec = format!("sql:{}", db.display());
    run_ok(Command::new("certutil").args(["-N", "-d", &spec, "--empty-password"]))?;
    for (index, der) in roots.iter().enumerate() {
        let file = dir.join(format!("root-{index}.der"));
        std::fs::write(&file, der).map_err(|e| e.to_string())?;
        run_ok(
            Command::new("certutil")
                .args([
                    "-A",
                    "-d",
                    &spec,
                    "-n",
                    &format!("root{index}"),
                    "-t",
                    "C,,",
                    "-i",
                ])
                .arg(&file),
        )?;
    }
    Ok(db)
}

fn run_ok(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{command:?}: {e} (scripts/deps.sh installs libnss3-tools)"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// NSS as Thunderbird uses it: Thunderbird's own NSS libraries, its TLS versions (1.2 and
/// 1.3), suites, signature schemes and groups, SNI and the verified name = the name. Exit 0:
/// connected. The certificate verifier is NSS's classic one (CERT_VerifyCert), not
/// Thunderbird's mozilla::pkix: their differences are documented (docs/clients.md, "Oracles").
pub fn tstclnt(db: &Path, host: &str, port: u16, name: &str) -> Result<Answer, String> {
    let output = Command::new("timeout")
        .env("LD_LIBRARY_PATH", THUNDERBIRD_LIBRARIES)
        .args([
            LIMIT,
            "tstclnt",
            "-h",
            host,
            "-p",
            &port.to_string(),
            "-a",
            name,
        ])
        .args([
            "-d",
            &format!("sql:{}", db.display()),
            "-V",
            "tls1.2:tls1.3",
            "-Q",
        ])
        .args([
            "-c",
            THUNDERBIRD_SUITES,
            "-J",
            THUNDERBIRD_SCHEMES,
            "-I",
            THUNDERBIRD_GROUPS,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("tstclnt: {e}"))?;
    let text = String::from_utf8_lossy(&output.stderr);
    let error = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|word| {
            ["SEC_ERROR_", "SSL_ERROR_", "MOZILLA_PKIX_ERROR_", "PR_"]
                .iter()
                .any(|p| word.starts_with(p))
        })
        .unwrap_or_default()
        .to_string();
    let code = output.status.code().unwrap_or(-1);
    Ok(Answer {
        connected: code == 0,
        faults: fault_of_nss(&error).into_iter().collect(),
        said: if code == 0 {
            "connected".to_string()
        } else if error.is_empty() {
            format!("exit {code}")
        } else {
            error
        },
    })
}

/// GnuTLS as Evolution and Geary use it: the roots, SNI and the verified name = the name,
/// STARTTLS first when `starttls` names the protocol (`smtp`, `imap`, `pop3`).
pub fn gnutls(
    roots: &Path,
    host: &str,
    port: u16,
    name: &str,
    starttls: Option<&str>,
) -> Result<Answer, String> {
    let mut command = Command::new("timeout");
    command
        .args([LIMIT, "gnutls-cli", "--x509cafile"])
        .arg(roots)
        .args(["--verify-hostname", name, "--sni-hostname", name, "-p"])
        .arg(port.to_string());
    if let Some(protocol) = starttls {
        command.arg(format!("--starttls-proto={protocol}"));
    }
    let output = command
        .arg(host)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("gnutls-cli: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let connected = output.status.success()
        && text.contains("The certificate is trusted")
        && text.contains("Handshake was completed");
    let status = text
        .lines()
        .find(|l| l.contains("Status:"))
        .map(|l| l.trim().trim_start_matches("- Status:").trim().to_string());
    let said = match &status {
        Some(status) => status.clone(),
        None => text
            .lines()
            .find(|l| l.contains("rror") || l.contains("failed"))
            .unwrap_or("no TLS")
            .trim()
            .to_string(),
    };
    let mut faults = Vec::new();
    // A trusted certificate and no connection: the handshake failed after the verification
    // (a key usage violation, say), which is not about the certificate's trust.
    let trusted = text.contains("The certificate is trusted");
    if let Some(status) = status.filter(|_| !connected && !trusted) {
        // One sentence per reason: the name, the dates, or anything else about the chain
        // (unknown issuer, insecure algorithm, constraints, purpose, signature, unknown critical
        // extension); "NOT trusted" alone is about the chain too.
        let reasons: Vec<&str> = status
            .split(". ")
            .map(|r| r.trim().trim_end_matches('.'))
            .filter(|r| !r.is_empty() && !r.contains("is NOT trusted"))
            .collect();
        for reason in &reasons {
            let fault = if reason.contains("name in the certificate does not match") {
                "wrong-name"
            } else if reason.contains("expired") || reason.contains("not yet") {
                "dates"
            } else {
                "untrusted"
            };
            if !faults.contains(&fault) {
                faults.push(fault);
            }
        }
        if faults.is_empty() {
            faults.push("untrusted");
        }
    } else if !connected
        && !trusted
        && text.contains("PKI verification of server certificate failed")
    {
        // gnutls_certificate_verify_peers3 itself failed (too many certificates, say): the
        // chain, not the handshake.
        faults.push("untrusted");
    }
    Ok(Answer {
        connected,
        said,
        faults,
    })
}
