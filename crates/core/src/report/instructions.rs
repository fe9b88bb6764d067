//! "What to change": the exact fields to set in each mail client, for verified settings.

use crate::provisioning::settings::{AccountSettings, ServerSetting};
use crate::service::{Protocol, TlsMode};

/// Lines telling a person exactly what to set, per client. The menu paths are those of current
/// versions (see docs/clients.md for sources and caveats).
pub fn instructions(settings: &AccountSettings) -> Vec<(&'static str, Vec<String>)> {
    let mut clients = Vec::new();
    let security = |s: &ServerSetting| match s.service.tls_mode {
        TlsMode::Implicit => "SSL/TLS",
        TlsMode::Starttls => "STARTTLS",
    };
    let kind = |s: &ServerSetting| match s.service.protocol {
        Protocol::Imap => "IMAP",
        Protocol::Pop3 => "POP3",
        Protocol::Smtp => "SMTP",
    };

    let mut thunderbird = Vec::new();
    if let Some(s) = &settings.incoming {
        thunderbird.push(format!(
            "Account Settings > Server Settings: Server Name {}, Port {}, Connection security {}",
            s.host,
            s.service.port,
            security(s)
        ));
    }
    if let Some(s) = &settings.outgoing {
        thunderbird.push(format!(
            "Account Settings > Outgoing Server (SMTP) > Edit: Server Name {}, Port {}, Connection security {}",
            s.host, s.service.port, security(s)
        ));
    }
    clients.push(("Thunderbird", thunderbird));

    let mut outlook = Vec::new();
    if let Some(s) = &settings.incoming {
        outlook.push(format!(
            "File > Account Settings > Server Settings: Incoming mail ({}) Server {}, Port {}, Encryption method {}",
            kind(s), s.host, s.service.port, security(s)
        ));
    }
    if let Some(s) = &settings.outgoing {
        outlook.push(format!(
            "Outgoing mail (SMTP): Server {}, Port {}, Encryption method {}",
            s.host,
            s.service.port,
            security(s)
        ));
    }
    clients.push(("Outlook", outlook));

    let mut ios = Vec::new();
    if let Some(s) = &settings.incoming {
        ios.push(format!(
            "Settings > Apps > Mail > Mail Accounts > (account) > Account: Incoming Mail Server Host Name {}; Advanced: Use SSL on, Server Port {}",
            s.host, s.service.port
        ));
    }
    if let Some(s) = &settings.outgoing {
        ios.push(format!(
            "Outgoing Mail Server > SMTP > (server): Host Name {}, Use SSL on, Server Port {}{}",
            s.host,
            s.service.port,
            if s.service.tls_mode == TlsMode::Starttls {
                " (iOS uses STARTTLS on this port)"
            } else {
                ""
            }
        ));
    }
    clients.push(("iOS Mail", ios));
    clients
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::settings::choose;
    use crate::service::Service;

    fn services(ports: &[u16]) -> Vec<Service> {
        ports.iter().filter_map(|p| Service::for_port(*p)).collect()
    }

    #[test]
    fn instructions_name_every_field() {
        let s = choose("luna.hostingco.com", &services(&[587, 993]));
        let text = instructions(&s);
        let thunderbird = &text[0].1;
        assert!(
            thunderbird[0]
                .contains("Server Name luna.hostingco.com, Port 993, Connection security SSL/TLS")
        );
        assert!(thunderbird[1].contains("Port 587, Connection security STARTTLS"));
        assert!(text[2].1[1].contains("STARTTLS"));
    }
}
