//! Golden tests of the three provisioning formats `mailtls provision` writes, plus checks that
//! each is well-formed, carries the elements its format documents, and reads back (through the
//! same parsers discovery uses) as the settings it was written from. `UPDATE_GOLDEN=1` rewrites
//! the golden files after a deliberate change.
// Test code: a panic on unwrap is a failed test, which is the point.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use mailtls::observation::{Security, ServerEntry};
use mailtls::provisioning::documents as autoconfig;
use mailtls::provisioning::settings::{AccountSettings, ServerSetting};
use mailtls::provisioning::write::{self as provision, Format};
use mailtls::service::{Protocol, Service};
use mailtls::target::Address;

fn settings() -> AccountSettings {
    AccountSettings {
        incoming: Some(ServerSetting {
            host: "mail.example.test".to_string(),
            service: Service::for_port(993).unwrap(),
        }),
        outgoing: Some(ServerSetting {
            host: "smtp.example.test".to_string(),
            service: Service::for_port(587).unwrap(),
        }),
    }
}

fn golden(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(text, expected, "{name} differs from its golden file");
}

fn expected_entries() -> Vec<ServerEntry> {
    vec![
        ServerEntry {
            protocol: Protocol::Imap,
            hostname: "mail.example.test".to_string(),
            port: 993,
            security: Security::Tls,
        },
        ServerEntry {
            protocol: Protocol::Smtp,
            hostname: "smtp.example.test".to_string(),
            port: 587,
            security: Security::Starttls,
        },
    ]
}

#[test]
fn thunderbird_client_config() {
    let text = provision::write(Format::Thunderbird, "example.test", &settings());
    golden("example.test.autoconfig.xml", &text);
    let address = Address {
        local: "jane".to_string(),
        domain: "example.test".to_string(),
    };
    assert_eq!(
        autoconfig::parse_client_config(&text, &address).unwrap(),
        expected_entries()
    );
    let document = roxmltree::Document::parse(&text).unwrap();
    let root = document.root_element();
    assert_eq!(root.attribute("version"), Some("1.1"));
    for element in [
        "emailProvider",
        "domain",
        "incomingServer",
        "outgoingServer",
        "hostname",
        "port",
        "socketType",
        "authentication",
        "username",
    ] {
        assert!(
            root.descendants().any(|n| n.has_tag_name(element)),
            "<{element}> missing"
        );
    }
}

#[test]
fn apple_configuration_profile() {
    let text = provision::write(Format::Mobileconfig, "example.test", &settings());
    golden("example.test.mobileconfig", &text);
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(&text, options).unwrap();
    assert_eq!(document.root_element().tag_name().name(), "plist");
    // Each <key> is followed by its value: collect the account payload's keys and values.
    let account = document
        .descendants()
        .find(|n| n.has_tag_name("array"))
        .and_then(|a| a.children().find(|n| n.has_tag_name("dict")))
        .unwrap();
    let elements: Vec<roxmltree::Node> = account.children().filter(|n| n.is_element()).collect();
    let value = |key: &str| {
        let at = elements
            .iter()
            .position(|n| n.has_tag_name("key") && n.text() == Some(key))
            .unwrap_or_else(|| panic!("key {key} missing"));
        let node = elements[at + 1];
        node.text()
            .map(str::to_string)
            .unwrap_or_else(|| node.tag_name().name().to_string())
    };
    // Apple's com.apple.mail.managed payload: the required keys and ours.
    assert_eq!(value("PayloadType"), "com.apple.mail.managed");
    assert_eq!(value("EmailAccountType"), "EmailTypeIMAP");
    assert_eq!(value("IncomingMailServerHostName"), "mail.example.test");
    assert_eq!(value("IncomingMailServerPortNumber"), "993");
    assert_eq!(value("IncomingMailServerUseSSL"), "true");
    assert_eq!(value("OutgoingMailServerHostName"), "smtp.example.test");
    assert_eq!(value("OutgoingMailServerPortNumber"), "587");
    assert_eq!(
        value("IncomingMailServerAuthentication"),
        "EmailAuthPassword"
    );
    assert_eq!(value("PayloadVersion"), "1");
    let uuid = value("PayloadUUID");
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "5", "a version-5 style UUID");
    assert!(
        !text.contains("Password</key>\n      <string>"),
        "no password is written"
    );
}

#[test]
fn autodiscover_response() {
    let text = provision::write(Format::Autodiscover, "example.test", &settings());
    golden("example.test.autodiscover.xml", &text);
    assert_eq!(
        autoconfig::parse_autodiscover(&text).unwrap(),
        expected_entries()
    );
    let document = roxmltree::Document::parse(&text).unwrap();
    let response = document
        .descendants()
        .find(|n| n.tag_name().name() == "Response")
        .unwrap();
    assert_eq!(
        response.tag_name().namespace(),
        Some("http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a")
    );
    for element in [
        "Account",
        "AccountType",
        "Action",
        "Protocol",
        "Type",
        "Server",
        "Port",
        "SSL",
    ] {
        assert!(
            document
                .descendants()
                .any(|n| n.tag_name().name() == element),
            "<{element}> missing"
        );
    }
}

#[test]
fn names_are_escaped() {
    let mut odd = settings();
    if let Some(incoming) = odd.incoming.as_mut() {
        incoming.host = "a&b<c>.example.test".to_string();
    }
    for format in [
        Format::Thunderbird,
        Format::Mobileconfig,
        Format::Autodiscover,
    ] {
        let text = provision::write(format, "example.test", &odd);
        assert!(text.contains("a&amp;b&lt;c&gt;.example.test"), "{format:?}");
    }
}
