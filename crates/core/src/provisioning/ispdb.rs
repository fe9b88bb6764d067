//! Mozilla's ISP database (the `ispdb/` folder of github.com/thunderbird/autoconfig), as
//! Thunderbird's account setup asks it: steps 5 and 6 of its settings search. Pure: files in,
//! a lookup by domain out.
//!
//! Thunderbird 153 (`modules/accountcreation/FetchConfig.sys.mjs` in omni.ja):
//! - `fetchConfigFromDB(domain)` GETs `mailnews.auto_config_url` (default
//!   `https://live.thunderbird.net/autoconfig/v1.1/`) with `InputSanitizer.hostname(domain)`
//!   (lower-cased) appended, or put in place of `{{domain}}` when the URL has it ([`url_for`]);
//!   the answer is read by `readFromXML` like any clientConfig.
//! - The server answers from files written by the repository's `tools/convert.py -a`: one file
//!   per `<domain>` element of each `ispdb/` file (`findall(".//domain")`), named for that
//!   domain, holding the whole file. So a file answers for every domain it lists, whatever its
//!   own name; of two files listing one domain, the first in name order is written first and
//!   kept ([`IspDb::new`] does the same).
//! - `fetchConfigForMX(domain)` asks for the MX host's domains ([`mx_domains`]).
//!
//! The bundled copy is `data/ispdb/` (its origin in `data/ispdb/ORIGIN`), embedded by
//! `build.rs` as a table of the files' text and indexed at first use.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::documents::{self, DocumentError};
use crate::observation::ServerEntry;
use crate::observation::discovery::MAX_DOCUMENT;
use crate::target::Address;

/// Thunderbird's `mailnews.auto_config_url`: what it asks for a domain is this URL with the
/// domain appended.
pub const THUNDERBIRD_URL: &str = "https://live.thunderbird.net/autoconfig/v1.1/";

/// The upstream repository.
pub const REPOSITORY: &str = "https://github.com/thunderbird/autoconfig";

/// Most files read from a directory (`--ispdb DIR`); the snapshot has 163.
pub const MAX_FILES: usize = 10_000;

/// The URL Thunderbird asks for `domain` of a database at `base` (its `mailnews.auto_config_url`):
/// `{{domain}}` replaced by the lower-cased domain, or the domain appended.
pub fn url_for(base: &str, domain: &str) -> String {
    let domain = domain.to_ascii_lowercase();
    if base.contains("{{domain}}") {
        base.replacen("{{domain}}", &domain, 1)
    } else {
        format!("{base}{domain}")
    }
}

/// A file of the database that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file's name.
    pub file: String,
    /// Why, in words.
    pub reason: String,
}

/// One copy of the database, indexed by domain.
#[derive(Debug, Clone)]
pub struct IspDb {
    label: String,
    files: Vec<(String, Cow<'static, str>)>,
    domains: HashMap<String, usize>,
    skipped: Vec<Skipped>,
}

/// What the database lists for a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<'a> {
    /// The file that answers (the server would answer with its text).
    pub file: &'a str,
    /// The servers it hands out, placeholders filled; or why a client cannot use it.
    pub servers: Result<Vec<ServerEntry>, DocumentError>,
}

impl IspDb {
    /// Indexes `files` (name, text), in name order. A file that is not well-formed XML, or
    /// larger than a document may be, is skipped and listed in [`IspDb::skipped`]; a file
    /// that parses but is not a usable clientConfig stays (the server would hand it out; the
    /// lookup says why a client cannot use it). `label` names the copy in reports.
    pub fn new(
        label: impl Into<String>,
        files: impl IntoIterator<Item = (String, Cow<'static, str>)>,
    ) -> IspDb {
        let mut files: Vec<(String, Cow<'static, str>)> = files.into_iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut db = IspDb {
            label: label.into(),
            files: Vec::with_capacity(files.len()),
            domains: HashMap::new(),
            skipped: Vec::new(),
        };
        for (name, text) in files {
            match listed_domains(&text) {
                Ok(domains) => {
                    let index = db.files.len();
                    for domain in domains {
                        db.domains.entry(domain).or_insert(index);
                    }
                    db.files.push((name, text));
                }
                Err(reason) => db.skipped.push(Skipped { file: name, reason }),
            }
        }
        db
    }

    /// The same database, with `more` files skipped (files the caller could not read).
    pub fn skipping(mut self, more: impl IntoIterator<Item = Skipped>) -> IspDb {
        self.skipped.extend(more);
        self.skipped.sort_by(|a, b| a.file.cmp(&b.file));
        self
    }

    /// The copy built into mailtls (`data/ispdb/`), indexed once per process.
    pub fn bundled() -> &'static IspDb {
        static BUNDLED: OnceLock<IspDb> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            IspDb::new(
                bundled_label(),
                BUNDLED_FILES
                    .iter()
                    .map(|(name, text)| ((*name).to_string(), Cow::Borrowed(*text))),
            )
        })
    }

    /// What the database lists for `domain` (as Thunderbird asks: lower-cased), read for
    /// `address` (placeholders such as `%EMAILDOMAIN%` are the user's); `None` when it lists
    /// nothing for it.
    pub fn lookup(&self, domain: &str, address: &Address) -> Option<Listed<'_>> {
        let index = *self.domains.get(&domain.to_ascii_lowercase())?;
        let (file, text) = self.files.get(index)?;
        Some(Listed {
            file,
            servers: documents::parse_client_config(text, address),
        })
    }

    /// The files left out, with why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The copy, in words (for reports).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// How many files are indexed.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// How many domains the files list.
    pub fn domains(&self) -> usize {
        self.domains.len()
    }
}

/// Every `<domain>` element's text, as convert.py names its files: no trimming, no case change
/// (a domain with either is one Thunderbird's lower-cased request never reaches).
fn listed_domains(text: &str) -> Result<Vec<String>, String> {
    if text.len() > MAX_DOCUMENT {
        return Err(format!("longer than {MAX_DOCUMENT} bytes"));
    }
    let document = roxmltree::Document::parse(text)
        .map_err(|e| DocumentError::Malformed(e.to_string()).to_string())?;
    let mut domains = Vec::new();
    for element in document
        .root_element()
        .descendants()
        .skip(1)
        .filter(|n| n.has_tag_name("domain"))
    {
        match element.text() {
            Some(domain) if !domain.is_empty() => domains.push(domain.to_string()),
            // convert.py fails on the whole file (and the build with it).
            _ => return Err("a <domain> element is empty".to_string()),
        }
    }
    Ok(domains)
}

// `BUNDLED_FILES: &[(&str, &str)]`: every file of data/ispdb/ispdb/, name and text.
include!(concat!(env!("OUT_DIR"), "/ispdb_bundle.rs"));

/// `data/ispdb/ORIGIN`: the upstream commit and date of the bundled copy.
const ORIGIN: &str = include_str!("../../data/ispdb/ORIGIN");

/// "the bundled copy of Mozilla's ISP database (thunderbird/autoconfig c6ad796, 2026-03-12)".
fn bundled_label() -> String {
    let field = |name: &str| {
        ORIGIN
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("unknown")
    };
    let commit = field("commit:");
    format!(
        "the bundled copy of Mozilla's ISP database (thunderbird/autoconfig {}, {})",
        commit.get(..7).unwrap_or(commit),
        field("date:")
    )
}

/// What Thunderbird asks at step 6 for a domain's MX, or why it skips the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxLookup {
    /// Asks, for each domain in this order, autoconfig then the ISP database.
    Ask {
        /// The MX host chosen.
        host: String,
        /// The host's parent domain (when it differs from the next), then its registrable
        /// domain.
        domains: Vec<String>,
    },
    /// The domain has no MX host ("no hostname found in MX records").
    NoMx,
    /// The MX host has no registrable domain (a public suffix, or a single label).
    NoBaseDomain(String),
    /// The MX host's registrable domain is the mail domain itself: nothing new to ask.
    SameDomain {
        /// The MX host chosen.
        host: String,
    },
}

/// Thunderbird's `fetchConfigForMX` (FetchConfig.sys.mjs) for `domain` with MX records
/// `exchangers` (preference, host; a null MX as an empty host):
/// - `getMX` keeps hosts, sorts by preference and takes the first: the most preferred, on a
///   tie the first answer (mailtls's resolver answers ties in name order);
/// - `Services.eTLD.getBaseDomainFromHost(host)`: the registrable domain by the Public Suffix
///   List (ICANN and private sections; a name under an unknown top-level domain counts as
///   registrable below it), the "sld"; equal to the domain: the step fails;
/// - `Services.eTLD.getNextSubDomain(host)`: the host without its first label, when the host
///   is below its registrable domain; asked first when it differs from the sld.
pub fn mx_domains(domain: &str, exchangers: &[(u16, String)]) -> MxLookup {
    let Some(host) = exchangers
        .iter()
        .filter(|(_, host)| !host.is_empty())
        .min_by_key(|(preference, _)| *preference)
        .map(|(_, host)| host.trim_end_matches('.').to_ascii_lowercase())
    else {
        return MxLookup::NoMx;
    };
    let Some(base) = psl::domain_str(&host).map(str::to_string) else {
        return MxLookup::NoBaseDomain(host);
    };
    if base == domain.to_ascii_lowercase() {
        return MxLookup::SameDomain { host };
    }
    let mut domains = Vec::with_capacity(2);
    if host.len() > base.len() {
        if let Some((_, parent)) = host.split_once('.') {
            if parent != base {
                domains.push(parent.to_string());
            }
        }
    }
    domains.push(base);
    MxLookup::Ask { host, domains }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Security;
    use crate::service::Protocol;

    fn address(domain: &str) -> Address {
        Address {
            local: "jane".to_string(),
            domain: domain.to_string(),
        }
    }

    fn file(name: &str, domains: &[&str], host: &str) -> (String, Cow<'static, str>) {
        let domains: String = domains
            .iter()
            .map(|d| format!("<domain>{d}</domain>"))
            .collect();
        let text = format!(
            "<clientConfig version=\"1.1\"><emailProvider id=\"{name}\">{domains}\
             <incomingServer type=\"imap\"><hostname>{host}</hostname><port>993</port>\
             <socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>"
        );
        (name.to_string(), Cow::Owned(text))
    }

    #[test]
    fn every_listed_domain_answers_not_only_the_file_name() {
        let db = IspDb::new(
            "test",
            [
                file(
                    "provider.xml",
                    &["provider.test", "alias.test"],
                    "imap.provider.test",
                ),
                file("other.test.xml", &["other.test"], "imap.%EMAILDOMAIN%"),
            ],
        );
        assert_eq!((db.files(), db.domains()), (2, 3));
        let listed = db.lookup("Alias.TEST", &address("alias.test")).unwrap();
        assert_eq!(listed.file, "provider.xml");
        let servers = listed.servers.unwrap();
        assert_eq!(servers[0].hostname, "imap.provider.test");
        assert_eq!(
            (servers[0].protocol, servers[0].port, servers[0].security),
            (Protocol::Imap, 993, Security::Tls)
        );
        // Placeholders are the user's.
        let listed = db.lookup("other.test", &address("other.test")).unwrap();
        assert_eq!(listed.servers.unwrap()[0].hostname, "imap.other.test");
        // The file's own name is not a domain it lists.
        assert!(db.lookup("provider", &address("provider")).is_none());
        assert!(
            db.lookup("nowhere.test", &address("nowhere.test"))
                .is_none()
        );
    }

    #[test]
    fn the_first_file_in_name_order_wins_a_domain() {
        let db = IspDb::new(
            "test",
            [
                file("b.xml", &["shared.test"], "imap.b.test"),
                file("a.xml", &["shared.test"], "imap.a.test"),
            ],
        );
        let listed = db.lookup("shared.test", &address("shared.test")).unwrap();
        assert_eq!(listed.file, "a.xml");
    }

    #[test]
    fn malformed_files_are_skipped_by_name() {
        let db = IspDb::new(
            "test",
            [
                file("good.xml", &["good.test"], "imap.good.test"),
                (
                    "broken.xml".to_string(),
                    Cow::Borrowed("<clientConfig><emailProvider>"),
                ),
                (
                    "empty-domain.xml".to_string(),
                    Cow::Borrowed(
                        "<clientConfig><emailProvider><domain/></emailProvider></clientConfig>",
                    ),
                ),
                (
                    "huge.xml".to_string(),
                    Cow::Owned(format!(
                        "<clientConfig>{}</clientConfig>",
                        " ".repeat(MAX_DOCUMENT)
                    )),
                ),
            ],
        );
        let skipped: Vec<&str> = db.skipped().iter().map(|s| s.file.as_str()).collect();
        assert_eq!(skipped, ["broken.xml", "empty-domain.xml", "huge.xml"]);
        assert!(db.skipped()[0].reason.contains("not well-formed XML"));
        assert!(db.lookup("good.test", &address("good.test")).is_some());
    }

    #[test]
    fn a_listed_file_without_servers_says_why() {
        let db = IspDb::new(
            "test",
            [(
                "exchange.xml".to_string(),
                Cow::Borrowed(
                    "<clientConfig><emailProvider id=\"x\"><domain>ews.test</domain>\
                     <incomingServer type=\"ews\"><url>https://ews.test/</url></incomingServer>\
                     </emailProvider></clientConfig>",
                ),
            )],
        );
        let listed = db.lookup("ews.test", &address("ews.test")).unwrap();
        assert_eq!(listed.servers, Err(DocumentError::Empty));
    }

    #[test]
    fn urls_as_thunderbird_forms_them() {
        assert_eq!(
            url_for(THUNDERBIRD_URL, "Example.COM"),
            "https://live.thunderbird.net/autoconfig/v1.1/example.com"
        );
        assert_eq!(
            url_for("https://ispdb.test/{{domain}}.xml", "example.com"),
            "https://ispdb.test/example.com.xml"
        );
    }

    #[test]
    fn mx_domains_as_fetch_config_for_mx() {
        let mx = |list: &[(u16, &str)]| -> Vec<(u16, String)> {
            list.iter().map(|(p, h)| (*p, (*h).to_string())).collect()
        };
        // Google Workspace: the parent l.google.com first, then google.com.
        assert_eq!(
            mx_domains(
                "example.com",
                &mx(&[(5, "alt1.aspmx.l.google.com"), (1, "aspmx.l.google.com")])
            ),
            MxLookup::Ask {
                host: "aspmx.l.google.com".to_string(),
                domains: vec!["l.google.com".to_string(), "google.com".to_string()],
            }
        );
        // The parent is the registrable domain: asked once.
        assert_eq!(
            mx_domains("example.com", &mx(&[(10, "mx.hoster.co.uk")])),
            MxLookup::Ask {
                host: "mx.hoster.co.uk".to_string(),
                domains: vec!["hoster.co.uk".to_string()],
            }
        );
        // Office 365: the parent is what the ISP database lists.
        assert_eq!(
            mx_domains(
                "example.com",
                &mx(&[(0, "example-com.mail.protection.outlook.com")])
            ),
            MxLookup::Ask {
                host: "example-com.mail.protection.outlook.com".to_string(),
                domains: vec![
                    "mail.protection.outlook.com".to_string(),
                    "outlook.com".to_string()
                ],
            }
        );
        // An unknown top-level domain: registrable below it (the lab's .test names).
        assert_eq!(
            mx_domains("disc.test", &mx(&[(10, "mx.eu.provider.test")])),
            MxLookup::Ask {
                host: "mx.eu.provider.test".to_string(),
                domains: vec!["eu.provider.test".to_string(), "provider.test".to_string()],
            }
        );
        // The MX host is the registrable domain itself: no parent.
        assert_eq!(
            mx_domains("example.com", &mx(&[(10, "provider.net")])),
            MxLookup::Ask {
                host: "provider.net".to_string(),
                domains: vec!["provider.net".to_string()],
            }
        );
        assert_eq!(
            mx_domains("example.com", &mx(&[(10, "mail.example.com")])),
            MxLookup::SameDomain {
                host: "mail.example.com".to_string()
            }
        );
        assert_eq!(mx_domains("example.com", &mx(&[(0, "")])), MxLookup::NoMx);
        assert_eq!(mx_domains("example.com", &[]), MxLookup::NoMx);
        assert_eq!(
            mx_domains("example.com", &mx(&[(10, "co.uk")])),
            MxLookup::NoBaseDomain("co.uk".to_string())
        );
    }

    #[test]
    fn the_bundled_copy_is_indexed_without_skips() {
        let db = IspDb::bundled();
        assert!(db.skipped().is_empty(), "{:?}", db.skipped());
        assert!(db.files() > 100 && db.domains() > db.files());
        assert!(db.label().contains("thunderbird/autoconfig c6ad796"));
        // google.com is listed in googlemail.com.xml (for Google Workspace domains' MX).
        let listed = db.lookup("google.com", &address("example.com")).unwrap();
        assert_eq!(listed.file, "googlemail.com.xml");
    }
}
