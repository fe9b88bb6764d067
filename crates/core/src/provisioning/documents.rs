//! What provisioning documents hand out, parsed: Thunderbird's clientConfig (autoconfig) and
//! Outlook's autodiscover POX response. Pure: text in, server settings out.
//!
//! clientConfig: <https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat>.
//! Autodiscover POX: [MS-OXDSCLI] and the Outlook response schema
//! `http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a`.

use crate::observation::discovery::MAX_DOCUMENT;
use crate::observation::{Security, ServerEntry};
use crate::service::Protocol;
use crate::target::Address;

/// Why a document could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    /// Well-formed, but not the expected document.
    #[error("not a {expected} document (root element <{found}>)")]
    WrongDocument {
        /// What was expected.
        expected: &'static str,
        /// The root element found.
        found: String,
    },
    /// The document lists no usable server.
    #[error("the document lists no server")]
    Empty,
    /// An autodiscover redirect to another address or URL.
    #[error("autodiscover redirects to {0}")]
    Redirect(String),
}

/// Parses a clientConfig document.
pub fn parse_client_config(
    xml: &str,
    address: &Address,
) -> Result<Vec<ServerEntry>, DocumentError> {
    let document = parse(xml)?;
    let root = document.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(DocumentError::WrongDocument {
            expected: "clientConfig",
            found: root.tag_name().name().to_string(),
        });
    }
    let mut servers = Vec::new();
    for provider in root.children().filter(|n| n.has_tag_name("emailProvider")) {
        for server in provider
            .children()
            .filter(|n| n.has_tag_name("incomingServer") || n.has_tag_name("outgoingServer"))
        {
            let protocol = match server.attribute("type") {
                Some("imap") => Protocol::Imap,
                Some("pop3") => Protocol::Pop3,
                Some("smtp") => Protocol::Smtp,
                // Exchange/EWS entries and the like: not ours to check.
                _ => continue,
            };
            let child = |name: &str| {
                server
                    .children()
                    .find(|n| n.has_tag_name(name))
                    .and_then(|n| n.text())
                    .map(|t| t.trim().to_string())
            };
            let (Some(hostname), Some(port)) = (child("hostname"), child("port")) else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let security = match child("socketType").as_deref() {
                Some("SSL") => Security::Tls,
                Some("STARTTLS") => Security::Starttls,
                _ => Security::Plain,
            };
            servers.push(ServerEntry {
                protocol,
                hostname: address.fill(&hostname).to_ascii_lowercase(),
                port,
                security,
            });
        }
    }
    if servers.is_empty() {
        return Err(DocumentError::Empty);
    }
    Ok(servers)
}

/// The autodiscover POX request for `email`.
pub fn autodiscover_request(email: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\n\
         <Request>\n<EMailAddress>{}</EMailAddress>\n\
         <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\n\
         </Request>\n</Autodiscover>\n",
        escape(email)
    )
}

/// Parses an autodiscover POX response.
pub fn parse_autodiscover(xml: &str) -> Result<Vec<ServerEntry>, DocumentError> {
    let document = parse(xml)?;
    let root = document.root_element();
    if root.tag_name().name() != "Autodiscover" {
        return Err(DocumentError::WrongDocument {
            expected: "Autodiscover",
            found: root.tag_name().name().to_string(),
        });
    }
    let text = |node: roxmltree::Node<'_, '_>, name: &str| {
        node.children()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
    };
    let mut servers = Vec::new();
    for account in root
        .descendants()
        .filter(|n| n.tag_name().name() == "Account")
    {
        if let Some(target) = text(account, "RedirectAddr").or_else(|| text(account, "RedirectUrl"))
        {
            return Err(DocumentError::Redirect(target));
        }
        for protocol in account
            .children()
            .filter(|n| n.tag_name().name() == "Protocol")
        {
            let kind = match text(protocol, "Type").as_deref() {
                Some("IMAP") => Protocol::Imap,
                Some("POP3") => Protocol::Pop3,
                Some("SMTP") => Protocol::Smtp,
                _ => continue,
            };
            let (Some(server), Some(port)) = (text(protocol, "Server"), text(protocol, "Port"))
            else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            // <Encryption> (SSL/TLS/None/Auto) wins over the older <SSL> (on/off).
            let security = match (
                text(protocol, "Encryption").as_deref(),
                text(protocol, "SSL").as_deref(),
            ) {
                (Some("SSL"), _) => Security::Tls,
                (Some("TLS"), _) => Security::Starttls,
                (Some("None"), _) => Security::Plain,
                (_, Some("off")) => Security::Plain,
                // SSL "on" means implicit TLS on the implicit ports, STARTTLS elsewhere.
                _ if matches!(port, 993 | 995 | 465) => Security::Tls,
                _ => Security::Starttls,
            };
            servers.push(ServerEntry {
                protocol: kind,
                hostname: server.to_ascii_lowercase(),
                port,
                security,
            });
        }
    }
    if servers.is_empty() {
        return Err(DocumentError::Empty);
    }
    Ok(servers)
}

fn parse(xml: &str) -> Result<roxmltree::Document<'_>, DocumentError> {
    if xml.len() > MAX_DOCUMENT {
        return Err(DocumentError::Malformed(format!(
            "longer than {MAX_DOCUMENT} bytes"
        )));
    }
    roxmltree::Document::parse(xml).map_err(|e| DocumentError::Malformed(e.to_string()))
}

/// XML text escaping for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Address {
        Address {
            local: "user".to_string(),
            domain: "example.test".to_string(),
        }
    }

    #[test]
    fn client_config_with_placeholders() {
        let xml = r#"<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname><port>110</port><socketType>STARTTLS</socketType>
    </incomingServer>
    <incomingServer type="exchange"><hostname>ews.example.test</hostname><port>443</port></incomingServer>
    <outgoingServer type="smtp">
      <hostname>SMTP.example.test</hostname><port>587</port><socketType>STARTTLS</socketType>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;
        let servers = parse_client_config(xml, &address()).unwrap();
        assert_eq!(servers.len(), 3);
        assert_eq!(servers[0].hostname, "imap.example.test");
        assert_eq!((servers[0].port, servers[0].security), (993, Security::Tls));
        assert_eq!(servers[1].protocol, Protocol::Pop3);
        assert_eq!(servers[2].hostname, "smtp.example.test");
        assert_eq!(servers[2].security, Security::Starttls);
    }

    #[test]
    fn broken_documents_say_why() {
        let a = address();
        assert!(matches!(
            parse_client_config("<clientConfig><emailProvider>", &a),
            Err(DocumentError::Malformed(_))
        ));
        assert!(matches!(
            parse_client_config("<html><body>404</body></html>", &a),
            Err(DocumentError::WrongDocument { .. })
        ));
        assert_eq!(
            parse_client_config("<clientConfig version=\"1.1\"/>", &a),
            Err(DocumentError::Empty)
        );
        let huge = format!("<clientConfig>{}</clientConfig>", " ".repeat(MAX_DOCUMENT));
        assert!(
            matches!(parse_client_config(&huge, &a), Err(DocumentError::Malformed(m)) if m.contains("longer"))
        );
    }

    #[test]
    fn autodiscover_response_and_redirect() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><AccountType>email</AccountType><Action>settings</Action>
      <Protocol><Type>IMAP</Type><Server>Mail.Example.test</Server><Port>993</Port><SSL>on</SSL></Protocol>
      <Protocol><Type>SMTP</Type><Server>mail.example.test</Server><Port>587</Port><Encryption>TLS</Encryption></Protocol>
      <Protocol><Type>POP3</Type><Server>mail.example.test</Server><Port>110</Port><SSL>off</SSL></Protocol>
    </Account>
  </Response>
</Autodiscover>"#;
        let servers = parse_autodiscover(xml).unwrap();
        assert_eq!(servers[0].hostname, "mail.example.test");
        assert_eq!(servers[0].security, Security::Tls);
        assert_eq!(servers[1].security, Security::Starttls);
        assert_eq!(servers[2].security, Security::Plain);
        let redirect = r#"<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>u@other.test</RedirectAddr></Account></Response></Autodiscover>"#;
        assert_eq!(
            parse_autodiscover(redirect),
            Err(DocumentError::Redirect("u@other.test".to_string()))
        );
        let request = autodiscover_request("a&b@example.test");
        assert!(roxmltree::Document::parse(&request).is_ok());
        assert!(request.contains("a&amp;b@example.test"));
    }
}
