//! The seven mail services a client may use, and how TLS starts on each.

use std::fmt;

use serde::{Deserialize, Serialize};

crate::vocabulary::vocabulary! {
    /// The application protocol spoken on a port.
    pub enum Protocol {
        /// SMTP: relay (25), submission (587) and submissions (465).
        Smtp => "smtp",
        /// IMAP (143) and IMAPS (993).
        Imap => "imap",
        /// POP3 (110) and POP3S (995).
        Pop3 => "pop3",
    }
}

crate::vocabulary::vocabulary! {
    /// How TLS begins on a port.
    pub enum TlsMode {
        /// Plain text first, then the protocol's STARTTLS/STLS command upgrades the connection.
        Starttls => "starttls",
        /// TLS from the first byte (RFC 8314 "implicit TLS").
        Implicit => "implicit",
    }
}

crate::vocabulary::vocabulary! {
    /// What a mail client uses a service for.
    pub enum Direction {
        /// Reading mail (IMAP, POP3).
        Incoming => "incoming",
        /// Sending mail (submission).
        Outgoing => "outgoing",
        /// Server-to-server relay (port 25): not what a mail client should be configured with.
        Relay => "relay",
    }
}

/// One well-known mail service: a port with its protocol and TLS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Service {
    /// TCP port.
    pub port: u16,
    /// Protocol spoken there.
    pub protocol: Protocol,
    /// How TLS starts there.
    pub tls_mode: TlsMode,
}

/// The seven ports `check` probes, in the order reports list them (outgoing, then incoming).
pub const ALL: [Service; 7] = [
    Service::new(25, Protocol::Smtp, TlsMode::Starttls),
    Service::new(587, Protocol::Smtp, TlsMode::Starttls),
    Service::new(465, Protocol::Smtp, TlsMode::Implicit),
    Service::new(143, Protocol::Imap, TlsMode::Starttls),
    Service::new(993, Protocol::Imap, TlsMode::Implicit),
    Service::new(110, Protocol::Pop3, TlsMode::Starttls),
    Service::new(995, Protocol::Pop3, TlsMode::Implicit),
];

impl Service {
    const fn new(port: u16, protocol: Protocol, tls_mode: TlsMode) -> Service {
        Service {
            port,
            protocol,
            tls_mode,
        }
    }

    /// The well-known service on `port`, if it is one of the seven.
    pub fn for_port(port: u16) -> Option<Service> {
        ALL.iter().copied().find(|service| service.port == port)
    }

    /// What a mail client uses this service for.
    pub fn direction(&self) -> Direction {
        match (self.protocol, self.port) {
            (Protocol::Smtp, 25) => Direction::Relay,
            (Protocol::Smtp, _) => Direction::Outgoing,
            _ => Direction::Incoming,
        }
    }

    /// The name people use for this service: "SMTP", "Submission", "IMAPS", ...
    pub fn label(&self) -> &'static str {
        match (self.protocol, self.tls_mode, self.port) {
            (Protocol::Smtp, _, 25) => "SMTP",
            (Protocol::Smtp, TlsMode::Starttls, _) => "Submission",
            (Protocol::Smtp, TlsMode::Implicit, _) => "Submissions",
            (Protocol::Imap, TlsMode::Starttls, _) => "IMAP",
            (Protocol::Imap, TlsMode::Implicit, _) => "IMAPS",
            (Protocol::Pop3, TlsMode::Starttls, _) => "POP3",
            (Protocol::Pop3, TlsMode::Implicit, _) => "POP3S",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.port, self.label())
    }
}

impl TlsMode {
    /// The word mail clients use for it: `STARTTLS` or `SSL/TLS`.
    pub fn label(self) -> &'static str {
        match self {
            TlsMode::Starttls => "STARTTLS",
            TlsMode::Implicit => "SSL/TLS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_distinct_ports() {
        let mut ports: Vec<u16> = ALL.iter().map(|s| s.port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports, [25, 110, 143, 465, 587, 993, 995]);
        assert_eq!(Service::for_port(993).map(|s| s.label()), Some("IMAPS"));
        assert_eq!(Service::for_port(8080), None);
        assert_eq!(
            Service::for_port(25).map(|s| s.direction()),
            Some(Direction::Relay)
        );
    }
}
