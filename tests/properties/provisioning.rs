//! Provisioning documents (`provisioning::documents`, `provisioning::write`,
//! `provisioning::ispdb`).
//!
//! - Write -> parse: any account settings written as a clientConfig, an autodiscover response or
//!   an ISP database file are read back by mailtls's own readers as the same servers; written as
//!   a `.mobileconfig` (which mailtls writes but never reads) they are read back from the plist
//!   by roxmltree, and the profile's UUIDs are stable.
//! - XML escaping and the autodiscover request keep any text as it was.
//! - A clientConfig or an autodiscover response listing any servers, each with or without each
//!   element, gives the servers a client can use, in order, placeholders filled.
//! - Any document (generated trees of the elements the readers look for, with placeholders, then
//!   damaged): an answer in bounded time, no more servers than the document names.

use std::borrow::Cow;

use mailtls::observation::{Security, ServerEntry};
use mailtls::provisioning::documents::{
    DocumentError, autodiscover_request, escape, parse_autodiscover, parse_client_config,
};
use mailtls::provisioning::ispdb::IspDb;
use mailtls::provisioning::settings::{AccountSettings, ServerSetting};
use mailtls::provisioning::write::{autodiscover, mobileconfig, thunderbird};
use mailtls::service::{self, Protocol, TlsMode};
use mailtls::target::Address;
use proptest::prelude::*;

/// Host and domain names: real ones, ones with every character XML escapes, non-ASCII ones.
/// Lower-case and without white space at the ends or `%` (readers lower-case, trim and fill
/// placeholders, as clients do).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9]([a-z0-9-]{0,15}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,15}[a-z0-9])?){0,3}",
        1 => "[a-z0-9.&<>\"'_;#-]{1,30}",
        1 => "[a-zé漢ßø.-]{1,20}",
    ]
}

fn server() -> impl Strategy<Value = ServerSetting> {
    (name(), proptest::sample::select(service::ALL.to_vec()))
        .prop_map(|(host, service)| ServerSetting { host, service })
}

fn settings() -> impl Strategy<Value = AccountSettings> {
    (
        proptest::option::of(server()),
        proptest::option::of(server()),
    )
        .prop_map(|(incoming, outgoing)| AccountSettings { incoming, outgoing })
}

/// What a reader must give for `settings`: incoming first, then outgoing.
fn entries(settings: &AccountSettings) -> Vec<ServerEntry> {
    [&settings.incoming, &settings.outgoing]
        .into_iter()
        .flatten()
        .map(|s| ServerEntry {
            protocol: s.service.protocol,
            hostname: s.host.clone(),
            port: s.service.port,
            security: match s.service.tls_mode {
                TlsMode::Implicit => Security::Tls,
                TlsMode::Starttls => Security::Starttls,
            },
        })
        .collect()
}

fn expected(settings: &AccountSettings) -> Result<Vec<ServerEntry>, DocumentError> {
    let entries = entries(settings);
    if entries.is_empty() {
        Err(DocumentError::Empty)
    } else {
        Ok(entries)
    }
}

/// The keys and values of a plist `<dict>` (values as their text, or the element's name for
/// `<true/>`).
fn dict(node: roxmltree::Node<'_, '_>) -> Vec<(String, String)> {
    let children: Vec<_> = node.children().filter(|n| n.is_element()).collect();
    children
        .chunks(2)
        .filter_map(|pair| match pair {
            [key, value] if key.has_tag_name("key") => Some((
                key.text().unwrap_or_default().to_string(),
                value
                    .text()
                    .map_or_else(|| value.tag_name().name().to_string(), str::to_string),
            )),
            _ => None,
        })
        .collect()
}

fn value<'a>(dict: &'a [(String, String)], key: &str) -> Option<&'a str> {
    dict.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn uuid_like(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An element tree of the names the readers look for, with text that may hold placeholders;
/// written escaped or (`raw`) as is, which may not be XML at all.
#[derive(Debug, Clone)]
enum Node {
    Element {
        tag: &'static str,
        kind: Option<&'static str>,
        children: Vec<Node>,
    },
    Text {
        text: String,
        raw: bool,
    },
}

const TAGS: &[&str] = &[
    "clientConfig",
    "emailProvider",
    "domain",
    "incomingServer",
    "outgoingServer",
    "hostname",
    "port",
    "socketType",
    "Autodiscover",
    "Response",
    "Account",
    "Protocol",
    "Type",
    "Server",
    "Port",
    "SSL",
    "Encryption",
    "RedirectAddr",
    "RedirectUrl",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .-]{0,20}",
        "(%EMAILADDRESS%|%EMAILLOCALPART%|%EMAILDOMAIN%|[a-z.]){0,12}",
        prop_oneof![
            Just("993"),
            Just("65536"),
            Just("SSL"),
            Just("STARTTLS"),
            Just("IMAP"),
            Just("imap"),
            Just("on"),
            Just("off"),
            Just("TLS"),
        ]
        .prop_map(str::to_string),
        "\\PC{0,20}",
    ]
}

fn tree() -> impl Strategy<Value = Node> {
    let leaf = (text(), prop::bool::weighted(0.1)).prop_map(|(text, raw)| Node::Text { text, raw });
    leaf.prop_recursive(5, 64, 6, |inner| {
        (
            proptest::sample::select(TAGS),
            proptest::option::of(proptest::sample::select(
                &["imap", "pop3", "smtp", "exchange"][..],
            )),
            proptest::collection::vec(inner, 0..6),
        )
            .prop_map(|(tag, kind, children)| Node::Element {
                tag,
                kind,
                children,
            })
    })
}

fn render(node: &Node, out: &mut String) {
    match node {
        Node::Text { text, raw: false } => out.push_str(&escape(text)),
        Node::Text { text, raw: true } => out.push_str(text),
        Node::Element {
            tag,
            kind,
            children,
        } => {
            out.push('<');
            out.push_str(tag);
            if let Some(kind) = kind {
                out.push_str(&format!(" type=\"{kind}\""));
            }
            out.push('>');
            for child in children {
                render(child, out);
            }
            out.push_str(&format!("</{tag}>"));
        }
    }
}

fn address() -> impl Strategy<Value = Address> {
    ("[a-z0-9._%+-]{1,64}", "[a-z0-9]{1,20}\\.(test|example|com)")
        .prop_map(|(local, domain)| Address { local, domain })
}

/// One server element of a generated document: its type, and the text of each child (absent
/// when `None`), in the order written.
#[derive(Debug, Clone)]
struct Listed {
    kind: &'static str,
    host: Option<String>,
    port: Option<String>,
    security: Option<&'static str>,
    ssl: Option<&'static str>,
}

fn listed() -> impl Strategy<Value = Listed> {
    (
        proptest::sample::select(&["imap", "pop3", "smtp", "exchange", "IMAP", "POP3", "SMTP"][..]),
        proptest::option::of(
            "  ?(%EMAILLOCALPART%\\.|%EMAILDOMAIN%|mail\\.|[A-Za-z0-9-]{1,8}\\.){1,4}[a-z]{2,4} ?",
        ),
        proptest::option::of(prop_oneof![
            (0u32..70000).prop_map(|p| p.to_string()),
            Just(" 993 ".to_string()),
            Just("x".to_string()),
        ]),
        proptest::option::of(proptest::sample::select(
            &["SSL", "STARTTLS", "plain", "TLS", "None"][..],
        )),
        proptest::option::of(proptest::sample::select(&["on", "off"][..])),
    )
        .prop_map(|(kind, host, port, security, ssl)| Listed {
            kind,
            host,
            port,
            security,
            ssl,
        })
}

fn element(out: &mut String, tag: &str, text: Option<&str>) {
    if let Some(text) = text {
        out.push_str(&format!("<{tag}>{}</{tag}>", escape(text)));
    }
}

fn port_of(listed: &Listed) -> Option<u16> {
    listed.port.as_deref().and_then(|p| p.trim().parse().ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A clientConfig listing any servers, each with or without each element, placeholders in
    /// its host name: the servers a client can use, in order, placeholders filled.
    #[test]
    fn client_configs_give_their_servers(servers in proptest::collection::vec(listed(), 0..6), address in address()) {
        let mut xml = String::from("<?xml version=\"1.0\"?><clientConfig version=\"1.1\"><emailProvider id=\"x\">");
        for (i, server) in servers.iter().enumerate() {
            let element_name = if i % 2 == 0 { "incomingServer" } else { "outgoingServer" };
            xml.push_str(&format!("<{element_name} type=\"{}\">", server.kind));
            element(&mut xml, "hostname", server.host.as_deref());
            element(&mut xml, "port", server.port.as_deref());
            element(&mut xml, "socketType", server.security);
            xml.push_str(&format!("</{element_name}>"));
        }
        xml.push_str("</emailProvider></clientConfig>");
        let usable: Vec<ServerEntry> = servers.iter().filter_map(|s| {
            let protocol = match s.kind {
                "imap" => Protocol::Imap,
                "pop3" => Protocol::Pop3,
                "smtp" => Protocol::Smtp,
                _ => return None,
            };
            Some(ServerEntry {
                protocol,
                hostname: address.fill(s.host.as_deref()?.trim()).to_ascii_lowercase(),
                port: port_of(s)?,
                security: match s.security {
                    Some("SSL") => Security::Tls,
                    Some("STARTTLS") => Security::Starttls,
                    _ => Security::Plain,
                },
            })
        }).collect();
        let expected = if usable.is_empty() { Err(DocumentError::Empty) } else { Ok(usable) };
        prop_assert_eq!(parse_client_config(&xml, &address), expected);
    }

    /// An autodiscover response listing any protocols: the ones a client can use, in order,
    /// <Encryption> over <SSL>, SSL "on" meaning implicit TLS on the implicit ports.
    #[test]
    fn autodiscover_responses_give_their_servers(servers in proptest::collection::vec(listed(), 0..6)) {
        let mut xml = String::from("<Autodiscover><Response><Account>");
        for server in &servers {
            xml.push_str("<Protocol>");
            element(&mut xml, "Type", Some(server.kind));
            element(&mut xml, "Server", server.host.as_deref());
            element(&mut xml, "Port", server.port.as_deref());
            element(&mut xml, "Encryption", server.security);
            element(&mut xml, "SSL", server.ssl);
            xml.push_str("</Protocol>");
        }
        xml.push_str("</Account></Response></Autodiscover>");
        let usable: Vec<ServerEntry> = servers.iter().filter_map(|s| {
            let protocol = match s.kind {
                "IMAP" => Protocol::Imap,
                "POP3" => Protocol::Pop3,
                "SMTP" => Protocol::Smtp,
                _ => return None,
            };
            let port = port_of(s)?;
            Some(ServerEntry {
                protocol,
                hostname: s.host.as_deref()?.trim().to_ascii_lowercase(),
                port,
                security: match (s.security, s.ssl) {
                    (Some("SSL"), _) => Security::Tls,
                    (Some("TLS"), _) => Security::Starttls,
                    (Some("None"), _) | (_, Some("off")) => Security::Plain,
                    _ if matches!(port, 993 | 995 | 465) => Security::Tls,
                    _ => Security::Starttls,
                },
            })
        }).collect();
        let expected = if usable.is_empty() { Err(DocumentError::Empty) } else { Ok(usable) };
        prop_assert_eq!(parse_autodiscover(&xml), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// clientConfig and autodiscover: written, then read back by mailtls as the same servers.
    #[test]
    fn written_documents_read_back(domain in name(), settings in settings(), address in address()) {
        let config = thunderbird(&domain, &settings);
        prop_assert_eq!(parse_client_config(&config, &address), expected(&settings));
        let document = roxmltree::Document::parse(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let listed: Vec<&str> = document.descendants().filter(|n| n.has_tag_name("domain")).filter_map(|n| n.text()).collect();
        prop_assert_eq!(listed, vec![domain.as_str()]);
        let response = autodiscover(&domain, &settings);
        prop_assert_eq!(parse_autodiscover(&response), expected(&settings));
        // As a file of an ISP database: found under its domain, read as the same servers.
        let db = IspDb::new("generated", [("file".to_string(), Cow::Owned(config))]);
        prop_assert!(db.skipped().is_empty(), "{:?}", db.skipped());
        let lookup = db.lookup(&domain, &address).map(|l| l.servers);
        prop_assert_eq!(lookup, Some(expected(&settings)));
    }

    /// .mobileconfig: a plist whose mail payload holds the settings, with stable UUIDs.
    #[test]
    fn written_profiles_hold_the_settings(domain in name(), other in name(), settings in settings()) {
        let profile = mobileconfig(&domain, &settings);
        prop_assert_eq!(&profile, &mobileconfig(&domain, &settings));
        let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
        let document = roxmltree::Document::parse_with_options(&profile, options)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let top = document.root_element().children().find(|n| n.has_tag_name("dict"))
            .ok_or_else(|| TestCaseError::fail("no top dict"))?;
        let top_keys = dict(top);
        prop_assert_eq!(value(&top_keys, "PayloadType"), Some("Configuration"));
        let profile_uuid = value(&top_keys, "PayloadUUID").unwrap_or_default().to_string();
        prop_assert!(uuid_like(&profile_uuid), "{profile_uuid}");
        let payload = top.descendants().filter(|n| n.has_tag_name("dict")).nth(1)
            .ok_or_else(|| TestCaseError::fail("no mail payload"))?;
        let mail = dict(payload);
        prop_assert_eq!(value(&mail, "PayloadType"), Some("com.apple.mail.managed"));
        prop_assert_eq!(value(&mail, "EmailAccountDescription"), Some(domain.as_str()));
        let mail_uuid = value(&mail, "PayloadUUID").unwrap_or_default();
        prop_assert!(uuid_like(mail_uuid) && mail_uuid != profile_uuid, "{mail_uuid}");
        match &settings.incoming {
            Some(incoming) => {
                let kind = if incoming.service.protocol == Protocol::Pop3 { "EmailTypePOP" } else { "EmailTypeIMAP" };
                prop_assert_eq!(value(&mail, "EmailAccountType"), Some(kind));
                prop_assert_eq!(value(&mail, "IncomingMailServerHostName"), Some(incoming.host.as_str()));
                let port = incoming.service.port.to_string();
                prop_assert_eq!(value(&mail, "IncomingMailServerPortNumber"), Some(port.as_str()));
                prop_assert_eq!(value(&mail, "IncomingMailServerUseSSL"), Some("true"));
            }
            None => prop_assert_eq!(value(&mail, "IncomingMailServerHostName"), None),
        }
        match &settings.outgoing {
            Some(outgoing) => {
                prop_assert_eq!(value(&mail, "OutgoingMailServerHostName"), Some(outgoing.host.as_str()));
                let port = outgoing.service.port.to_string();
                prop_assert_eq!(value(&mail, "OutgoingMailServerPortNumber"), Some(port.as_str()));
                prop_assert_eq!(value(&mail, "OutgoingMailServerUseSSL"), Some("true"));
            }
            None => prop_assert_eq!(value(&mail, "OutgoingMailServerHostName"), None),
        }
        if other != domain {
            let again = mobileconfig(&other, &settings);
            prop_assert!(!again.contains(&profile_uuid), "the same UUID for {other:?} and {domain:?}");
        }
    }

    /// Any text escaped is read back by an XML parser as it was, in content and attributes;
    /// the autodiscover request carries any address as given.
    #[test]
    fn escaped_text_reads_back(text in "\\PC{0,60}") {
        let xml = format!("<a b=\"{0}\" c='{0}'>{0}</a>", escape(&text));
        let document = roxmltree::Document::parse(&xml).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let root = document.root_element();
        prop_assert_eq!(root.text().unwrap_or_default(), text.as_str());
        prop_assert_eq!(root.attribute("b"), Some(text.as_str()));
        prop_assert_eq!(root.attribute("c"), Some(text.as_str()));
        let request = autodiscover_request(&text);
        let document = roxmltree::Document::parse(&request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let email = document.descendants().find(|n| n.tag_name().name() == "EMailAddress").and_then(|n| n.text());
        prop_assert_eq!(email.unwrap_or_default(), text.as_str());
    }

    /// Any document of the readers' elements, damaged or not: an answer in bounded time, no
    /// more servers than it has hostname elements, names no longer than placeholders make them.
    #[test]
    fn any_document_is_answered(
        tree in tree(),
        address in address(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), any::<bool>()), 0..3),
    ) {
        let mut xml = String::new();
        render(&tree, &mut xml);
        let mut chars: Vec<char> = xml.chars().collect();
        for (at, c, insert) in edits {
            let at = at.index(chars.len() + 1);
            match (insert, at < chars.len()) {
                (true, _) => chars.insert(at, c),
                (false, true) => { chars.remove(at); }
                (false, false) => {}
            }
        }
        let xml: String = chars.into_iter().collect();
        // A placeholder of 13 or more bytes becomes at most the whole address.
        let longest = xml.len() * (1 + address.email().len() / 13);
        let (config, response, db) = crate::timed("a document", || {
            let config = parse_client_config(&xml, &address);
            let response = parse_autodiscover(&xml);
            let db = IspDb::new("any", [("any".to_string(), Cow::Owned(xml.clone()))]);
            (config, response, db)
        });
        if let Ok(servers) = &config {
            prop_assert!(servers.len() <= xml.matches("<hostname").count());
            prop_assert!(servers.iter().all(|s| s.hostname.len() <= longest));
        }
        if let Ok(servers) = &response {
            prop_assert!(servers.len() <= xml.matches("<Server").count());
        }
        for error in [config.err(), response.err()].into_iter().flatten() {
            prop_assert!(!error.to_string().contains('\n'), "{error}");
        }
        prop_assert!(db.files() + db.skipped().len() == 1);
        prop_assert!(db.domains() <= xml.matches("<domain").count());
    }
}
