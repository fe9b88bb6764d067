//! The receiving MX hosts: one private Postfix with an smtpd on port 25 of each case's own
//! address, presenting the case's certificate (or no STARTTLS at all), accepting mail for any
//! domain and discarding it.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use super::cases::Case;
use super::certs::Certs;
use super::mx_address;
use super::postfix::Instance;
use crate::lab::add_address;

/// Starts the receivers in `dir` and waits until every MX listens (bounded).
pub fn start(dir: &Path, cases: &[Case], certs: &Certs) -> Result<Instance, String> {
    let postfix = Instance::new(dir)?;
    let addresses: Vec<String> = (0..cases.len()).map(mx_address).collect();
    // Postfix wants its inet_interfaces on an interface: the run's own lo.
    for address in &addresses {
        add_address(address)?;
    }
    let domains: Vec<String> = cases.iter().map(super::domain).collect();
    let (first_crt, first_key) = certs.files(cases.first().map_or("", |c| c.label));
    postfix.set(&[
        format!("inet_interfaces = {}", addresses.join(", ")),
        "myhostname = receivers.lab".to_string(),
        "smtpd_tls_security_level = may".to_string(),
        format!("smtpd_tls_cert_file = {}", first_crt.display()),
        format!("smtpd_tls_key_file = {}", first_key.display()),
        "smtpd_tls_loglevel = 1".to_string(),
        // Every recipient at a case domain is accepted, every message thrown away once
        // received.
        format!("relay_domains = {}", domains.join(", ")),
        "mynetworks = 127.0.0.0/8".to_string(),
        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination".to_string(),
        "smtpd_recipient_restrictions =".to_string(),
        "default_transport = discard:received by the delivery lab".to_string(),
        "relay_transport = discard:received by the delivery lab".to_string(),
        // The senders connect from 127.0.0.1: no reverse lookup through the lab's DNS.
        "smtpd_peername_lookup = no".to_string(),
    ])?;
    for (index, case) in cases.iter().enumerate() {
        let a = mx_address(index);
        let tls = if case.starttls {
            let (crt, key) = certs.files(case.label);
            format!(
                "-o smtpd_tls_cert_file={} -o smtpd_tls_key_file={}",
                crt.display(),
                key.display()
            )
        } else {
            "-o smtpd_tls_security_level=none".to_string()
        };
        postfix.service(&format!(
            "{a}:smtp/inet={a}:smtp inet n - n - - smtpd {tls}"
        ))?;
    }
    postfix.start()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    for address in addresses {
        let socket: SocketAddr = format!("{address}:25")
            .parse()
            .map_err(|e| format!("{address}: {e}"))?;
        while TcpStream::connect_timeout(&socket, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "the receiving MX {socket} is not listening after 30 s; log: {}",
                    postfix.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(postfix)
}
