//! The bundled copy of Mozilla's ISP database (data/ispdb/), read file by file: what the
//! lookup hands out is checked against a plain text count of each file's server elements, not
//! against the parser itself; and an ISP database directory with a malformed file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mailtls::engine::{Engine, EngineError, EngineOptions, IspdbOption};
use mailtls::provisioning::ispdb::IspDb;
use mailtls::service::Protocol;
use mailtls::target::Address;

fn bundle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/core/data/ispdb/ispdb")
}

/// The text with its XML comments taken out (a comment may mention an element).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The start tags of element `name` (`<name ...>` or `<name/>`), as their text.
fn start_tags<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut tags = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        // `<incomingServerX` is another element.
        if after.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            let end = after.find('>').map_or(after.len(), |e| e + 1);
            tags.push(&rest[at..at + open.len() + end]);
        }
        rest = after;
    }
    tags
}

/// The value of attribute `name` in a start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}="))?;
    let value = &tag[at + name.len() + 2..];
    let quote = value.chars().next()?;
    let value = &value[1..];
    Some(&value[..value.find(quote)?])
}

/// What a plain reading of the text says about one file.
#[derive(Debug, Default)]
struct Counted {
    /// Servers by protocol (`type` imap, pop3 for incoming; smtp for outgoing).
    servers: BTreeMap<&'static str, usize>,
    /// The `<domain>` texts, in order.
    domains: Vec<String>,
    /// Why the counts say the file is malformed, if they do.
    malformed: Option<String>,
}

fn count(text: &str) -> Counted {
    let text = without_comments(text);
    let mut counted = Counted::default();
    for (element, types) in [
        ("incomingServer", &["imap", "pop3"][..]),
        ("outgoingServer", &["smtp"][..]),
    ] {
        let tags = start_tags(&text, element);
        let self_closed = tags.iter().filter(|t| t.ends_with("/>")).count();
        let closed = text.matches(&format!("</{element}>")).count();
        if tags.len() != closed + self_closed {
            counted.malformed = Some(format!(
                "{} <{element}> start tags, {closed} end tags",
                tags.len()
            ));
        }
        for tag in tags {
            if let Some(kind) = attribute(tag, "type").and_then(|t| types.iter().find(|k| **k == t))
            {
                *counted.servers.entry(kind).or_default() += 1;
            }
        }
    }
    for element in [
        "clientConfig",
        "emailProvider",
        "domain",
        "hostname",
        "port",
    ] {
        let opened = start_tags(&text, element).len();
        let closed = text.matches(&format!("</{element}>")).count();
        if opened != closed {
            counted.malformed = Some(format!(
                "{opened} <{element}> start tags, {closed} end tags"
            ));
        }
    }
    let mut rest = text.as_str();
    while let Some(at) = rest.find("<domain>") {
        let after = &rest[at + "<domain>".len()..];
        let Some(end) = after.find("</domain>") else {
            break;
        };
        counted.domains.push(after[..end].to_string());
        rest = &after[end..];
    }
    counted
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Imap => "imap",
        Protocol::Pop3 => "pop3",
        Protocol::Smtp => "smtp",
    }
}

#[test]
fn every_bundled_file_hands_out_the_servers_it_lists() {
    let db = IspDb::bundled();
    let mut names: Vec<String> = std::fs::read_dir(bundle_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        db.files() + db.skipped().len(),
        names.len(),
        "every file is read"
    );
    let mut malformed_by_count = Vec::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut servers_total = 0;
    let mut compared: Vec<String> = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(bundle_dir().join(name)).unwrap();
        let counted = count(&text);
        if let Some(why) = &counted.malformed {
            malformed_by_count.push(format!("{name}: {why}"));
            continue;
        }
        assert!(!counted.domains.is_empty(), "{name} lists no domain");
        for domain in &counted.domains {
            owner.entry(domain.clone()).or_insert_with(|| name.clone());
        }
        // Asked for each domain it lists, the lookup answers with this file unless a file
        // earlier in name order lists the domain too; then with what the text lists.
        for domain in &counted.domains {
            let address = Address {
                local: "jane".to_string(),
                domain: domain.clone(),
            };
            let listed = db
                .lookup(domain, &address)
                .unwrap_or_else(|| panic!("{domain} ({name}) is not found"));
            assert_eq!(listed.file, owner[domain], "the file answering {domain}");
            if listed.file != name {
                continue;
            }
            let mut found: BTreeMap<&'static str, usize> = BTreeMap::new();
            for server in listed.servers.as_deref().unwrap_or_default() {
                *found.entry(protocol_name(server.protocol)).or_default() += 1;
            }
            compared.push(name.clone());
            if found != counted.servers {
                mismatches.push(format!(
                    "{name} ({domain}): parsed {found:?}, counted {:?}",
                    counted.servers
                ));
            }
            servers_total += found.values().sum::<usize>();
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    compared.dedup();
    let never: Vec<&String> = names
        .iter()
        .filter(|n| !compared.contains(n) && !malformed_by_count.iter().any(|m| m.starts_with(*n)))
        .collect();
    assert!(
        never.is_empty(),
        "files no domain is answered from: {never:?}"
    );
    let skipped: Vec<String> = db.skipped().iter().map(|s| s.file.clone()).collect();
    let counted_bad: Vec<String> = malformed_by_count
        .iter()
        .map(|m| m.split(':').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        skipped, counted_bad,
        "the files skipped are those the count finds malformed: {malformed_by_count:?}"
    );
    // The snapshot as committed: 163 files, all well-formed, 963 domain entries (one listed
    // twice in its own file).
    assert_eq!((names.len(), skipped.len()), (163, 0));
    assert_eq!(owner.len(), db.domains());
    assert!(servers_total > 500, "{servers_total} servers handed out");
}

#[test]
fn a_directory_with_a_malformed_file_is_read_and_the_file_named() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ispdb");
    let engine = Engine::new(EngineOptions {
        ispdb: IspdbOption::Dir(dir.clone()),
        ..EngineOptions::offline(false, Vec::new())
    })
    .unwrap();
    let db = engine.ispdb().local().expect("a local copy");
    let skipped: Vec<(&str, bool)> = db
        .skipped()
        .iter()
        .map(|s| (s.file.as_str(), s.reason.contains("not well-formed XML")))
        .collect();
    assert_eq!(skipped, [("broken.xml", true)]);
    assert_eq!((db.files(), db.domains()), (2, 3));
    let address = Address {
        local: "jane".to_string(),
        domain: "mailprovider-alias.test".to_string(),
    };
    let listed = db.lookup("mailprovider-alias.test", &address).unwrap();
    assert_eq!(listed.file, "mailprovider.xml");
    assert_eq!(listed.servers.unwrap().len(), 2);
    assert!(db.label().contains(&dir.display().to_string()));
}

#[test]
fn an_unreadable_directory_or_a_plain_http_url_is_a_usage_error() {
    for ispdb in [
        IspdbOption::Dir(PathBuf::from("/nonexistent/ispdb")),
        IspdbOption::Url("http://ispdb.example/".to_string()),
        IspdbOption::Url("https://".to_string()),
    ] {
        match Engine::new(EngineOptions {
            ispdb: ispdb.clone(),
            ..EngineOptions::offline(false, Vec::new())
        }) {
            Err(error @ EngineError::Ispdb(_)) => assert_eq!(error.exit_code(), 64),
            other => panic!("{ispdb:?}: {other:?}"),
        }
    }
}
