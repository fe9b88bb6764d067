//! What discovery learned: every source asked (SRV, autoconfig, autodiscover, MX, guesses),
//! what each handed out, and a full check of every host handed out.

use serde::{Deserialize, Serialize};

use super::{Der, Observations};
use crate::service::Protocol;

/// Longest document read (a clientConfig is a few KiB).
pub const MAX_DOCUMENT: usize = 256 * 1024;

crate::vocabulary::vocabulary! {
    /// How a client is told to secure a connection.
    pub enum Security {
        /// TLS from the first byte ("SSL/TLS", implicit TLS).
        Tls => "tls",
        /// STARTTLS / STLS.
        Starttls => "starttls",
        /// None: the password travels in clear.
        Plain => "plain",
    }
}

impl Security {
    /// The word clients use.
    pub fn label(self) -> &'static str {
        match self {
            Security::Tls => "SSL/TLS",
            Security::Starttls => "STARTTLS",
            Security::Plain => "none",
        }
    }
}

/// One server a provisioning source hands out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServerEntry {
    /// IMAP, POP3 or SMTP.
    pub protocol: Protocol,
    /// The host name, placeholders filled in.
    pub hostname: String,
    /// The port.
    pub port: u16,
    /// The connection security.
    pub security: Security,
}

crate::vocabulary::vocabulary! {
    /// Where a server name came from.
    pub enum Source {
        /// RFC 6186 / RFC 8314 SRV record.
        Srv => "srv",
        /// Thunderbird autoconfig at autoconfig.DOMAIN.
        Autoconfig => "autoconfig",
        /// Thunderbird autoconfig at DOMAIN/.well-known.
        AutoconfigWellKnown => "autoconfig-well-known",
        /// Thunderbird autoconfig at autoconfig.DOMAIN over plain HTTP (a redirect to HTTPS
        /// followed), which Thunderbird asks when the HTTPS URLs give nothing.
        AutoconfigHttp => "autoconfig-http",
        /// Thunderbird autoconfig at DOMAIN/.well-known over plain HTTP (likewise).
        AutoconfigWellKnownHttp => "autoconfig-well-known-http",
        /// Outlook autodiscover (POX) at the domain itself: https://DOMAIN/autodiscover/...,
        /// Outlook's first step, answered by whatever serves the domain's website.
        AutodiscoverDomain => "autodiscover-domain",
        /// Outlook autodiscover (POX) at https://autodiscover.DOMAIN/autodiscover/...
        Autodiscover => "autodiscover",
        /// Outlook's HTTP redirect method: http://autodiscover.DOMAIN/autodiscover/... answering
        /// with a redirect to an HTTPS autodiscover URL.
        AutodiscoverRedirect => "autodiscover-redirect",
        /// Outlook autodiscover reached through the `_autodiscover._tcp` SRV record.
        AutodiscoverSrv => "autodiscover-srv",
        /// MX record: where mail for the domain is delivered (port 25).
        Mx => "mx",
        /// A name clients try when nothing is published.
        Guess => "guess",
        /// Mozilla's ISP database, asked for the mail domain (Thunderbird's step 5): the bundled
        /// copy, or `--ispdb DIR|URL`.
        Ispdb => "ispdb",
        /// Thunderbird autoconfig at autoconfig.MXDOMAIN, where MXDOMAIN is a domain of the
        /// domain's MX host (Thunderbird's step 6, asked before `ispdb-mx` for each MXDOMAIN).
        AutoconfigMx => "autoconfig-mx",
        /// Mozilla's ISP database, asked for a domain of the MX host (Thunderbird's step 6).
        IspdbMx => "ispdb-mx",
    }
}

impl Source {
    /// Whether the source speaks for others than the domain: Mozilla's ISP database, and the
    /// autoconfig of the MX host's provider (Thunderbird's steps 5 and 6).
    pub fn elsewhere(self) -> bool {
        matches!(self, Source::Ispdb | Source::AutoconfigMx | Source::IspdbMx)
    }
}

/// What one source said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The source.
    pub source: Source,
    /// The DNS name asked or the URL fetched.
    pub url_or_record: String,
    /// The servers it hands out (placeholders filled).
    pub servers: Vec<ServerEntry>,
    /// The SRV record says the service is not offered (target ".").
    pub not_offered: bool,
    /// Why it gave nothing usable.
    pub error: Option<SourceError>,
    /// For a document fetched over HTTPS: the chain its server presented (valid or not), leaf
    /// first. Clients judge it as they judge a mail server's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub https_chain: Vec<Der>,
    /// For a document: the URL of the server that answered (after redirects) or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
    /// For a document that was fetched (HTTP 2xx): what came back, as a client reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<DocumentAnswer>,
}

/// A fetched document, before anyone reads its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentAnswer {
    /// The Content-Type header, as sent (absent when none was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Whether the body is well-formed XML.
    pub well_formed: bool,
}

/// Why a source gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceError {
    /// What kind of failure.
    pub kind: SourceErrorKind,
    /// The detail, in words.
    pub detail: String,
}

crate::vocabulary::vocabulary! {
    /// The kinds of source failure, by what they mean for a client.
    pub enum SourceErrorKind {
        /// Nothing is published there: no such DNS name or record, or HTTP 404. Normal.
        NotPublished => "not-published",
        /// The document's HTTPS certificate is not valid for its host.
        BadCertificate => "bad-certificate",
        /// The document is not well-formed, not the expected kind, or lists no server.
        BadDocument => "bad-document",
        /// An autodiscover answer that redirects elsewhere.
        Redirect => "redirect",
        /// Redirects in a circle, too many, or to another scheme.
        BadRedirect => "bad-redirect",
        /// The host is, or resolves only to, an inside address (`address::special`), or a
        /// redirect led to one; not fetched.
        InsideAddress => "inside-address",
        /// No answer, a refused connection, a timeout, or another HTTP error status.
        Unreachable => "unreachable",
        /// mailtls's own resolver gave no answer (it timed out or failed): nothing is known
        /// about the source, good or bad.
        NotChecked => "not-checked",
        /// Anything else (a body too large, a URL that is not one).
        Other => "other",
    }
}

impl Record {
    /// A record of `source` at `url_or_record` with nothing learned yet.
    pub fn new(source: Source, url_or_record: String) -> Record {
        Record {
            source,
            url_or_record,
            servers: Vec::new(),
            not_offered: false,
            error: None,
            https_chain: Vec::new(),
            answered_by: None,
            answer: None,
        }
    }

    /// Records why the source gave nothing usable.
    pub fn fail(&mut self, kind: SourceErrorKind, detail: impl Into<String>) {
        self.error = Some(SourceError {
            kind,
            detail: detail.into(),
        });
    }
}

/// Everything discovery learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryObservations {
    /// The address the placeholders were filled with.
    pub email: String,
    /// The mail domain.
    pub domain: String,
    /// One per source asked.
    pub records: Vec<Record>,
    /// A full check of every host handed out, on its ports.
    pub hosts: Vec<Observations>,
    /// Hosts handed out whose addresses mailtls's own resolver did not answer for: nothing is
    /// known about them (not even whether the name exists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unanswered: Vec<UnansweredHost>,
    /// Hosts handed out that were not checked though the resolver answered: the name does not
    /// exist, every address is one this run does not connect to, or more hosts were handed
    /// out than a check takes. (Files saved before this field list none: a host with no
    /// observations there is one whose name did not resolve.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedHost>,
    /// The hosts Thunderbird's guess tries (imap., pop3., pop., mail., smtp. and the domain
    /// itself), each checked on the ports it tries there; empty when an earlier step of its
    /// search already answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guessed: Vec<GuessedHost>,
    /// What sending servers learn before they deliver to the domain (MX, MTA-STS, TLS-RPT,
    /// TLSA); the MX hosts' port 25 is among `hosts`. Absent with `--no-inbound`, and in files
    /// saved before it was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Box<super::delivery::DeliveryObservations>>,
}

crate::vocabulary::vocabulary! {
    /// Why a host handed out was not checked, the resolver having answered.
    pub enum SkipReason {
        /// The name does not exist, or has no address records.
        NoSuchName => "no-such-name",
        /// Every address is in a range this run was told not to connect to (`mailtls serve`
        /// without `--allow-private`).
        Refused => "refused",
        /// More hosts were handed out than a check takes.
        TooMany => "too-many",
    }
}

/// A host handed out that was not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedHost {
    /// The name handed out.
    pub name: String,
    /// Why.
    pub reason: SkipReason,
    /// The resolver's or mailtls's words.
    pub detail: String,
}

/// One host name Thunderbird's guess tries, as mailtls found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuessedHost {
    /// The name.
    pub name: String,
    /// Its check on the ports the guess tries there; absent when the name has no address or
    /// the lookup went unanswered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Observations>,
    /// mailtls's resolver gave no answer for the name (the words): unknown, not absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<String>,
}

/// A host handed out whose address lookup got no answer from mailtls's resolver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnansweredHost {
    /// The name handed out.
    pub name: String,
    /// What the resolver said, in words.
    pub detail: String,
}
