//! Corrected provisioning files, written from verified settings only: Thunderbird's clientConfig
//! (autoconfig), an Apple configuration profile (.mobileconfig) with a mail account payload, and
//! an Outlook autodiscover POX response. Pure: settings in, text out.
//!
//! Formats: <https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat>;
//! Apple's `com.apple.mail.managed` payload
//! (<https://developer.apple.com/documentation/devicemanagement/mail>); the autodiscover POX
//! response schema `.../outlook/responseschema/2006a` ([MS-OXDSCLI]).

use std::fmt::Write as _;

use super::documents::escape;
use super::settings::{AccountSettings, ServerSetting};
use crate::service::{Protocol, TlsMode};

crate::vocabulary::vocabulary! {
    /// The formats `mailtls provision` writes.
    pub enum Format {
        /// Thunderbird clientConfig XML (serve at autoconfig.DOMAIN/mail/config-v1.1.xml).
        Thunderbird => "thunderbird",
        /// Apple configuration profile (plist XML).
        Mobileconfig => "mobileconfig",
        /// Outlook autodiscover POX response.
        Autodiscover => "autodiscover",
    }
}

/// Writes `settings` for `domain` in `format`.
pub fn write(format: Format, domain: &str, settings: &AccountSettings) -> String {
    match format {
        Format::Thunderbird => thunderbird(domain, settings),
        Format::Mobileconfig => mobileconfig(domain, settings),
        Format::Autodiscover => autodiscover(domain, settings),
    }
}

fn socket_type(server: &ServerSetting) -> &'static str {
    match server.service.tls_mode {
        TlsMode::Implicit => "SSL",
        TlsMode::Starttls => "STARTTLS",
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Imap => "imap",
        Protocol::Pop3 => "pop3",
        Protocol::Smtp => "smtp",
    }
}

/// Thunderbird clientConfig 1.1.
pub fn thunderbird(domain: &str, settings: &AccountSettings) -> String {
    let domain = escape(domain);
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <clientConfig version=\"1.1\">\n  <emailProvider id=\"{domain}\">\n    \
         <domain>{domain}</domain>\n    <displayName>{domain}</displayName>\n    \
         <displayShortName>{domain}</displayShortName>\n"
    );
    for (element, server) in [
        ("incomingServer", &settings.incoming),
        ("outgoingServer", &settings.outgoing),
    ] {
        let Some(server) = server else { continue };
        let _ = write!(
            out,
            "    <{element} type=\"{}\">\n      <hostname>{}</hostname>\n      <port>{}</port>\n      \
             <socketType>{}</socketType>\n      <authentication>password-cleartext</authentication>\n      \
             <username>%EMAILADDRESS%</username>\n    </{element}>\n",
            protocol_name(server.service.protocol),
            escape(&server.host),
            server.service.port,
            socket_type(server)
        );
    }
    out.push_str("  </emailProvider>\n</clientConfig>\n");
    out
}

/// A stable UUID for `domain` and `purpose` (from SHA-256), so the same input gives the same
/// profile and a re-installed profile replaces the old one.
fn uuid(domain: &str, purpose: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("mailtls:{purpose}:{domain}").as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    // Version 5 (name-based) and the RFC 4122 variant bits.
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An Apple configuration profile with one `com.apple.mail.managed` payload. The address is left
/// out, so the device asks for it; a password is never written.
pub fn mobileconfig(domain: &str, settings: &AccountSettings) -> String {
    let name = escape(domain);
    let mut account = String::new();
    let mut key = |k: &str, v: String| {
        let _ = writeln!(account, "      <key>{k}</key>\n      {v}");
    };
    let string = |s: &str| format!("<string>{}</string>", escape(s));
    let integer = |n: u16| format!("<integer>{n}</integer>");
    key("EmailAccountDescription", string(domain));
    if let Some(incoming) = &settings.incoming {
        let kind = match incoming.service.protocol {
            Protocol::Pop3 => "EmailTypePOP",
            _ => "EmailTypeIMAP",
        };
        key("EmailAccountType", string(kind));
        key(
            "IncomingMailServerAuthentication",
            string("EmailAuthPassword"),
        );
        key("IncomingMailServerHostName", string(&incoming.host));
        key(
            "IncomingMailServerPortNumber",
            integer(incoming.service.port),
        );
        // UseSSL means TLS, implicit or by STARTTLS.
        key("IncomingMailServerUseSSL", "<true/>".to_string());
    }
    if let Some(outgoing) = &settings.outgoing {
        key(
            "OutgoingMailServerAuthentication",
            string("EmailAuthPassword"),
        );
        key("OutgoingMailServerHostName", string(&outgoing.host));
        key(
            "OutgoingMailServerPortNumber",
            integer(outgoing.service.port),
        );
        key("OutgoingMailServerUseSSL", "<true/>".to_string());
        key(
            "OutgoingPasswordSameAsIncomingPassword",
            "<true/>".to_string(),
        );
    }
    key("PayloadDisplayName", string(&format!("{domain} mail")));
    key(
        "PayloadIdentifier",
        string(&format!("mailtls.{domain}.mail")),
    );
    key("PayloadType", string("com.apple.mail.managed"));
    key("PayloadUUID", string(&uuid(domain, "mail")));
    key("PayloadVersion", integer(1));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n  <key>PayloadContent</key>\n  <array>\n    <dict>\n{account}    </dict>\n  </array>\n  \
         <key>PayloadDisplayName</key>\n  <string>{name} mail account</string>\n  \
         <key>PayloadIdentifier</key>\n  <string>mailtls.{name}</string>\n  \
         <key>PayloadType</key>\n  <string>Configuration</string>\n  \
         <key>PayloadUUID</key>\n  <string>{}</string>\n  \
         <key>PayloadVersion</key>\n  <integer>1</integer>\n</dict>\n</plist>\n",
        uuid(domain, "profile")
    )
}

/// An autodiscover POX response (what autodiscover.DOMAIN/autodiscover/autodiscover.xml should
/// answer). `%EMAILADDRESS%` is not part of this format: the login name is left out, and Outlook
/// uses the address it asked with.
pub fn autodiscover(_domain: &str, settings: &AccountSettings) -> String {
    let mut protocols = String::new();
    for server in [&settings.incoming, &settings.outgoing]
        .into_iter()
        .flatten()
    {
        let kind = match server.service.protocol {
            Protocol::Imap => "IMAP",
            Protocol::Pop3 => "POP3",
            Protocol::Smtp => "SMTP",
        };
        let encryption = match server.service.tls_mode {
            TlsMode::Implicit => "SSL",
            TlsMode::Starttls => "TLS",
        };
        let _ = write!(
            protocols,
            "      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{}</Server>\n        \
             <Port>{}</Port>\n        <DomainRequired>off</DomainRequired>\n        <SPA>off</SPA>\n        \
             <SSL>on</SSL>\n        <Encryption>{encryption}</Encryption>\n        \
             <AuthRequired>on</AuthRequired>\n      </Protocol>\n",
            escape(&server.host),
            server.service.port
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  \
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    \
         <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n\
         {protocols}    </Account>\n  </Response>\n</Autodiscover>\n"
    )
}
