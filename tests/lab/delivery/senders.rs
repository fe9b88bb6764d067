//! The real senders: two private Postfix instances delivering over the lab's DNS (Unbound as the
//! namespace's resolver, `options trust-ad`), each logging to a file of its own.
//!
//! - [`Sender::Dane`]: `smtp_tls_security_level = dane`, `smtp_dns_support_level = dnssec`;
//! - [`Sender::MtaSts`]: `smtp_tls_security_level = may` and postfix-mta-sts-resolver (PyPI,
//!   pinned, in target/tools/mta-sts; scripts/deps.sh installs it) as `smtp_tls_policy_maps`,
//!   trusting the lab CA (SSL_CERT_FILE), its cache empty: a sender meeting each policy first.
//!
//! Both trust the lab CA only (`smtp_tls_CAfile`). [`Senders::outcome`] reads a sender's log for
//! the first delivery attempt of a case's message.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cases::{Outcome, Tls, Why};
use super::certs::Certs;
use super::dns::Dns;
use super::postfix::Instance;
use super::{DANE_SENDER, STS_RESOLVER, STS_RESOLVER_PORT, STS_SENDER};
use crate::lab::{add_address, run_daemon, write};

/// postfix-mta-sts-resolver's daemon, where scripts/deps.sh installs it.
pub const STS_DAEMON: &str = "target/tools/mta-sts/bin/mta-sts-daemon";

/// Which sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Dane,
    MtaSts,
}

/// The two running senders.
#[derive(Debug)]
pub struct Senders {
    pub dane: Instance,
    pub mta_sts: Instance,
    /// postfix-mta-sts-resolver's log.
    pub resolver_log: PathBuf,
}

/// What a sender's log says of one message's first delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// `sent`, `deferred` or `bounced`.
    pub status: String,
    /// The text in parentheses after the status.
    pub reason: String,
    /// The first word of the TLS line for the MX (`Verified`, `Trusted`, `Untrusted`,
    /// `Anonymous`), if TLS was established.
    pub tls: Option<String>,
}

impl Measured {
    /// The outcome in the case table's terms; `None` when the log says something the table has
    /// no word for (the test shows the raw text).
    pub fn outcome(&self) -> Option<Outcome> {
        match self.status.as_str() {
            "sent" => Some(Outcome::Sent(match self.tls.as_deref() {
                Some("Verified") => Tls::Verified,
                Some(_) => Tls::Unverified,
                None => Tls::Plain,
            })),
            "deferred" => {
                let r = &self.reason;
                let why = if r.contains("Server certificate not verified") {
                    Why::CertificateNotVerified
                } else if r.contains("TLSA lookup error") {
                    Why::TlsaLookup
                } else if r.contains("type=MX") {
                    Why::MxLookup
                } else if r.contains("TLS is required, but was not offered") {
                    Why::TlsNotOffered
                } else {
                    return None;
                };
                Some(Outcome::Deferred(why))
            }
            _ => None,
        }
    }

    /// One line for the table: what Postfix said.
    pub fn summary(&self) -> String {
        let tls = self.tls.as_deref().unwrap_or("no TLS");
        if self.status == "sent" {
            format!("sent, {tls}")
        } else {
            format!("{} ({})", self.status, self.reason)
        }
    }
}

/// Starts the MTA-STS resolver and both senders in `dir`, with Unbound as the resolver.
pub fn start(dir: &Path, certs: &Certs, dns: &Dns) -> Result<Senders, String> {
    dns.use_as_system_resolver()?;
    let resolver_log = start_sts_resolver(&super::sub(dir, "mta-sts-resolver")?, certs)?;
    let common = |name: &str, address: &str| {
        vec![
            format!("inet_interfaces = {address}"),
            format!("myhostname = {name}.lab"),
            "mydomain = lab".to_string(),
            "myorigin = $myhostname".to_string(),
            "smtp_dns_support_level = dnssec".to_string(),
            "smtp_host_lookup = dns".to_string(),
            "smtp_address_preference = ipv4".to_string(),
            format!("smtp_tls_CAfile = {}", certs.ca_file.display()),
            "smtp_tls_CApath =".to_string(),
            "smtp_tls_loglevel = 1".to_string(),
            "smtp_connect_timeout = 10s".to_string(),
            // Nothing but the case messages: no bounce or delay notices.
            "delay_warning_time = 0h".to_string(),
        ]
    };
    let dane = Instance::new(&super::sub(dir, "dane")?)?;
    let mut settings = common("dane-sender", DANE_SENDER);
    settings.push("smtp_tls_security_level = dane".to_string());
    dane.set(&settings)?;
    let mta_sts = Instance::new(&super::sub(dir, "mta-sts")?)?;
    let mut settings = common("mta-sts-sender", STS_SENDER);
    settings.push("smtp_tls_security_level = may".to_string());
    settings.push(format!(
        "smtp_tls_policy_maps = socketmap:inet:{STS_RESOLVER}:{STS_RESOLVER_PORT}:postfix"
    ));
    mta_sts.set(&settings)?;
    for (instance, address) in [(&dane, DANE_SENDER), (&mta_sts, STS_SENDER)] {
        add_address(address)?;
        instance.start()?;
    }
    Ok(Senders {
        dane,
        mta_sts,
        resolver_log,
    })
}

/// postfix-mta-sts-resolver on its socketmap port, trusting the lab CA, empty cache.
fn start_sts_resolver(dir: &Path, certs: &Certs) -> Result<PathBuf, String> {
    let daemon = Path::new(env!("CARGO_MANIFEST_DIR")).join(STS_DAEMON);
    if !daemon.exists() {
        return Err(format!(
            "{} is missing: run scripts/test.sh (as root), whose mailtls_install_tools installs \
             postfix-mta-sts-resolver there",
            daemon.display()
        ));
    }
    add_address(STS_RESOLVER)?;
    // reuse_port stays at its default (true): 1.5.1 never sets up its listener with false.
    let config = dir.join("mta-sts-daemon.yml");
    write(
        &config,
        &format!(
            "host: {STS_RESOLVER}\nport: {STS_RESOLVER_PORT}\n\
             cache:\n  type: internal\n  options:\n    cache_size: 1000\n\
             default_zone:\n  strict_testing: false\n  timeout: 4\n"
        ),
    )?;
    let log = dir.join("mta-sts-daemon.log");
    let shell = format!(
        "SSL_CERT_FILE={} {} -c {} -v debug -l {} -p {} >{} 2>&1 &",
        certs.ca_file.display(),
        daemon.display(),
        config.display(),
        log.display(),
        dir.join("mta-sts-daemon.pid").display(),
        dir.join("mta-sts-daemon.out").display()
    );
    run_daemon(
        Command::new("sh").arg("-c").arg(shell),
        &dir.join("start.out"),
    )?;
    let socket: SocketAddr = format!("{STS_RESOLVER}:{STS_RESOLVER_PORT}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    super::wait_listening(socket, "postfix-mta-sts-resolver", || {
        std::fs::read_to_string(dir.join("mta-sts-daemon.out")).unwrap_or_default()
            + &std::fs::read_to_string(&log).unwrap_or_default()
    })?;
    Ok(log)
}

impl Senders {
    pub fn instance(&self, sender: Sender) -> &Instance {
        match sender {
            Sender::Dane => &self.dane,
            Sender::MtaSts => &self.mta_sts,
        }
    }

    /// Hands one message for `recipient` to `sender` (sendmail -C, as a local program does).
    pub fn send(&self, sender: Sender, recipient: &str, subject: &str) -> Result<(), String> {
        use std::io::Write as _;
        let instance = self.instance(sender);
        let mut child = Command::new("sendmail")
            .arg("-C")
            .arg(&instance.conf)
            .args(["-f", "lab@sender.lab", "--", recipient])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("sendmail: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            write!(
                stdin,
                "From: lab@sender.lab\nTo: {recipient}\nSubject: {subject}\n\nissue 23\n"
            )
            .map_err(|e| format!("sendmail: {e}"))?;
        }
        // sendmail hands the message to postdrop and returns: a bounded wait.
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            match child.try_wait().map_err(|e| format!("sendmail: {e}"))? {
                Some(status) => break status,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "sendmail -C {} did not return in 30 s",
                        instance.conf.display()
                    ));
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        if status.success() {
            Ok(())
        } else {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read as _;
                let _ = pipe.read_to_string(&mut stderr);
            }
            Err(format!(
                "sendmail -C {} {recipient}: {status}: {stderr}",
                instance.conf.display()
            ))
        }
    }

    /// The first delivery attempt to `recipient` in `sender`'s log, if it is there yet; the TLS
    /// word is that of the last TLS line for `mx` before it.
    pub fn outcome(&self, sender: Sender, recipient: &str, mx: &str) -> Option<Measured> {
        parse(&self.instance(sender).log_text(), recipient, mx)
    }
}

/// See [`Senders::outcome`].
pub fn parse(log: &str, recipient: &str, mx: &str) -> Option<Measured> {
    let to = format!("to=<{recipient}>");
    let tls_line = format!("TLS connection established to {mx}[");
    let mut tls = None;
    for line in log.lines() {
        if let Some(at) = line.find(&tls_line) {
            tls = line[..at].split_whitespace().last().map(str::to_string);
            continue;
        }
        if !line.contains(&to) {
            continue;
        }
        let Some(at) = line.find(", status=") else {
            continue;
        };
        let rest = &line[at + ", status=".len()..];
        let (status, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let reason = reason
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .to_string();
        return Some(Measured {
            status: status.to_string(),
            reason,
            tls: if status == "sent" { tls } else { None },
        });
    }
    None
}
