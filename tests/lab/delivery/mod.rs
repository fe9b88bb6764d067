//! The delivery lab (issue 23): real senders held against every MTA-STS and DANE case.
//!
//! - [`dns`]: a DNSSEC-signed hierarchy served by BIND (`named`, zones pre-signed with
//!   `dnssec-signzone`): a lab root zone "." whose key-signing key is the trust anchor, the
//!   signed TLD `example.` and one child zone per case (secure, provably insecure, bogus, or with
//!   an expired RRSIG), with Unbound as the validating recursive resolver;
//! - [`receivers`]: one private Postfix with an smtpd on port 25 of each case's MX address, each
//!   with its own certificate from the lab CA ([`certs`]);
//! - [`policy_host`]: the HTTPS MTA-STS policy host (tests/lab/delivery/policy_host.py);
//! - [`senders`]: the real senders, a Postfix with `smtp_tls_security_level = dane` and a Postfix
//!   with postfix-mta-sts-resolver as its `smtp_tls_policy_maps`, whose logs say what they did;
//! - [`cases`]: the case table, with what each sender must do and the source that says so.
//!
//! Everything listens on 127.0.25.0/24 (see the constants below), in the run's own network
//! ([`super::netns`]). [`start_dns`] starts the DNS part alone (`examples/lab.rs delivery-dns`).
#![allow(dead_code)]

pub mod cases;
pub mod certs;
pub mod dns;
pub mod mailtls;
pub mod policy_host;
pub mod postfix;
pub mod receivers;
pub mod senders;
pub mod zones;

use std::path::{Path, PathBuf};

use super::netns;

/// BIND, authoritative for every zone of the lab (the root's name server `ns.lab.`).
pub const AUTHORITATIVE: &str = "127.0.25.1";
/// Unbound, the validating recursive resolver (the senders' /etc/resolv.conf).
pub const RESOLVER: &str = "127.0.25.2";
/// The HTTPS MTA-STS policy host (every `mta-sts.DOMAIN` that is up).
pub const POLICY_HOST: &str = "127.0.25.3";
/// Where `mta-sts.DOMAIN` of the policy-host-down case points: nothing listens.
pub const DOWN: &str = "127.0.25.4";
/// postfix-mta-sts-resolver's socketmap.
pub const STS_RESOLVER: &str = "127.0.25.5";
/// Its port.
pub const STS_RESOLVER_PORT: u16 = 8461;
/// The DANE sender's address (its `inet_interfaces`; it listens on nothing).
pub const DANE_SENDER: &str = "127.0.25.6";
/// The MTA-STS sender's address.
pub const STS_SENDER: &str = "127.0.25.7";
/// A second Unbound that only recurses, not validating ([`dns::Dns::start_plain_resolver`]).
pub const PLAIN_RESOLVER: &str = "127.0.25.8";
/// dnsmasq stripping signatures ([`dns::Dns::start_stripping_resolver`]).
pub const STRIPPING_RESOLVER: &str = "127.0.25.9";
/// The first case's MX address; case N (from 0) has 127.0.25.(10 + N).
pub const FIRST_MX: u8 = 10;

/// The name every certificate for the wrong host names: the hosting provider's server.
pub const HOSTING_NAME: &str = "luna.hosting.example";

/// The DNS part, started alone: the case zones (and the certificates their TLSA records hash),
/// BIND and Unbound. For the DNSSEC validator's tests: `dns.resolver` answers with the AD bit
/// for secure data, SERVFAIL for bogus data, and the data unvalidated when asked with CD;
/// `dns.anchor_ds` / `dns.anchor_dnskey` hold the lab root's trust anchor (`--dnssec-anchor`).
pub fn start_dns(dir: &Path) -> Result<(dns::Dns, certs::Certs), String> {
    netns::check()?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let certs = certs::Certs::make(&dir.join("certs"), cases::CASES)?;
    let zones = zones::zones(cases::CASES, &certs)?;
    let dns = dns::Dns::start(&dir.join("dns"), &zones)?;
    dns.check(&zones::expectations(cases::CASES))?;
    Ok((dns, certs))
}

/// The whole delivery lab, running.
#[derive(Debug)]
pub struct DeliveryLab {
    pub dir: PathBuf,
    pub dns: dns::Dns,
    pub certs: certs::Certs,
    pub receivers: postfix::Instance,
    /// The policy host's directory (its log: [`policy_host::answered`]).
    pub policy_host: PathBuf,
    pub senders: senders::Senders,
}

impl DeliveryLab {
    /// Starts everything in `dir` (wiped first), inside the run's network: the DNS part, the
    /// receiving MX hosts, the policy host, the MTA-STS resolver and both senders.
    pub fn start(dir: &Path) -> Result<DeliveryLab, String> {
        let (dns, certs) = start_dns(dir)?;
        let receivers = receivers::start(&sub(dir, "receivers")?, cases::CASES, &certs)?;
        let policy_host = sub(dir, "policy-host")?;
        policy_host::start(&policy_host, cases::CASES, &certs)?;
        let senders = senders::start(&sub(dir, "senders")?, &certs, &dns)?;
        Ok(DeliveryLab {
            dir: dir.to_path_buf(),
            dns,
            certs,
            receivers,
            policy_host,
            senders,
        })
    }
}

/// A case's mail domain.
pub fn domain(case: &cases::Case) -> String {
    format!("{}.example", case.label)
}

/// The address of case `index`'s MX.
pub fn mx_address(index: usize) -> String {
    format!("127.0.25.{}", usize::from(FIRST_MX) + index)
}

/// Where the lab keeps the files of a directory's part.
fn sub(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Waits (at most 20 s) until something listens on `socket`; else says so with `logs()`, the
/// words of the daemon that should be there.
pub fn wait_listening(
    socket: std::net::SocketAddr,
    what: &str,
    logs: impl Fn() -> String,
) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect_timeout(&socket, std::time::Duration::from_millis(200))
        .is_err()
    {
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "{what} is not listening on {socket} after 20 s: {}",
                logs()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok(())
}
