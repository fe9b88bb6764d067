//! The settings a mail account should use: one incoming and one outgoing server, chosen among
//! those verified to work (implicit TLS over STARTTLS, IMAP over POP3).

use crate::service::{Direction, Service};

/// One account setting: server name, port and connection security.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSetting {
    /// Server name to type.
    pub host: String,
    /// Port and protocol.
    pub service: Service,
}

/// The incoming and outgoing servers a client should use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSettings {
    /// Reading mail: IMAP preferred over POP3, implicit TLS over STARTTLS.
    pub incoming: Option<ServerSetting>,
    /// Sending mail: 465 (implicit TLS, RFC 8314's preference) over 587.
    pub outgoing: Option<ServerSetting>,
}

/// Picks the best incoming and outgoing services among `working`, for `host`.
pub fn choose(host: &str, working: &[Service]) -> AccountSettings {
    const INCOMING: [u16; 4] = [993, 143, 995, 110];
    const OUTGOING: [u16; 2] = [465, 587];
    let pick = |order: &[u16], direction: Direction| {
        order
            .iter()
            .find_map(|port| {
                working
                    .iter()
                    .find(|s| s.port == *port && s.direction() == direction)
            })
            .map(|service| ServerSetting {
                host: host.to_string(),
                service: *service,
            })
    };
    AccountSettings {
        incoming: pick(&INCOMING, Direction::Incoming),
        outgoing: pick(&OUTGOING, Direction::Outgoing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(ports: &[u16]) -> Vec<Service> {
        ports.iter().filter_map(|p| Service::for_port(*p)).collect()
    }

    #[test]
    fn prefers_imaps_and_submissions() {
        let s = choose(
            "mail.example.com",
            &services(&[25, 587, 465, 143, 993, 110, 995]),
        );
        assert_eq!(s.incoming.map(|x| x.service.port), Some(993));
        assert_eq!(s.outgoing.map(|x| x.service.port), Some(465));
    }

    #[test]
    fn falls_back_to_starttls_and_pop3() {
        let s = choose("m", &services(&[25, 587, 110]));
        assert_eq!(s.incoming.map(|x| x.service.port), Some(110));
        assert_eq!(s.outgoing.map(|x| x.service.port), Some(587));
        let none = choose("m", &services(&[25]));
        assert_eq!(none.incoming, None);
        assert_eq!(none.outgoing, None);
    }
}
