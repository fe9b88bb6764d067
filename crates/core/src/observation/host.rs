//! What one host's mail ports, its DNS and its certificates' AIA URLs did during `check`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Der;
use crate::service::Service;
use crate::target::Target;
use crate::tls_catalog::{Offer, TlsVersion};

crate::vocabulary::vocabulary! {
    /// Why a probe of one endpoint stopped before a finished TLS handshake.
    pub enum FailureKind {
        /// The address answered with a TCP reset: nothing listens on the port.
        ConnectionRefused => "connection-refused",
        /// A step (connect, greeting, reply, handshake) took longer than the step timeout.
        Timeout => "timeout",
        /// The network could not reach the address at all.
        Unreachable => "unreachable",
        /// The server's capabilities do not include STARTTLS/STLS.
        StarttlsNotOffered => "starttls-not-offered",
        /// The server refused the STARTTLS/STLS command.
        StarttlsRefused => "starttls-refused",
        /// The TLS handshake did not complete.
        TlsHandshakeFailed => "tls-handshake-failed",
        /// The server broke the protocol: garbage, an endless line, an unexpected reply.
        ProtocolError => "protocol-error",
        /// The server turned us away as busy (SMTP 421, IMAP BYE, POP3 -ERR at the greeting)
        /// or never greeted (a tarpit), on every attempt: nothing was learned about its TLS.
        RateLimited => "rate-limited",
    }
}

/// A probe that stopped early: what kind of stop, and the detail in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The kind of stop.
    pub kind: FailureKind,
    /// What happened, for people: the server's reply, the TLS alert, the step that timed out.
    pub detail: String,
}

crate::vocabulary::vocabulary! {
    /// Whether mailtls checked the server's handshake signature (the proof that it holds the key
    /// of the certificate it sent).
    pub enum SignatureStatus {
        /// It verifies with the certificate's key.
        Verified => "verified",
        /// mailtls has no code for this kind of key or scheme (e.g. Ed448); the clients that do
        /// check it.
        NotChecked => "not-checked",
    }
}

/// The server's signature over the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeSignature {
    /// The TLS signature scheme, e.g. `rsa_pss_rsae_sha256`.
    pub scheme: String,
    /// Whether it was checked.
    pub status: SignatureStatus,
    /// Why it was not, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

crate::vocabulary::vocabulary! {
    /// How the TLS observation was completed.
    pub enum Completion {
        /// mailtls's own TLS library (rustls) finished the handshake.
        Handshake => "handshake",
        /// rustls could not finish it for a limit of its own (no suite, key exchange group or
        /// signature scheme in common, a certificate message over 64 KiB, an RSA-PSS key in
        /// TLS 1.2), but a ClientHello like a mail client's got the server's choice of version
        /// and suite and, in clear (TLS 1.2 and older), its certificates.
        ClientHello => "client-hello",
    }
}

/// What the TLS layer showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsObservation {
    /// Negotiated protocol version, e.g. `TLSv1.3`, when the handshake finished.
    pub version: Option<String>,
    /// Negotiated cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`, when the handshake finished.
    pub cipher: Option<String>,
    /// The certificates exactly as the server sent them, leaf first. Captured even when they
    /// are invalid, and even when the handshake failed after the Certificate message.
    pub chain: Vec<Der>,
    /// The server's handshake signature, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<HandshakeSignature>,
    /// How version, suite and chain were learned; absent when the handshake did not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
    /// When rustls stopped for a limit of its own and a client-like ClientHello completed the
    /// observation: what stopped rustls, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library_limit: Option<String>,
}

/// What one server endpoint (address, port) did during one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointObservation {
    /// The port, protocol and TLS mode probed.
    pub service: Service,
    /// The address connected to.
    pub address: IpAddr,
    /// The server name sent in the TLS SNI extension; `None` when no SNI was sent.
    pub sni: Option<String>,
    /// Whether the TCP connection was established.
    pub reachable: bool,
    /// The server's greeting (first reply line), as far as it was read.
    pub greeting: Option<String>,
    /// Capabilities announced before TLS (EHLO keywords, IMAP CAPABILITY, POP3 CAPA).
    pub capabilities: Vec<String>,
    /// SMTP only: the name on the first line of the server's EHLO reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo_name: Option<String>,
    /// The TLS layer, when a handshake was attempted.
    pub tls: Option<TlsObservation>,
    /// Why the probe stopped early, when it did.
    pub failure: Option<Failure>,
    /// Hand-built ClientHellos sent to learn which TLS versions and suites the server accepts
    /// (with `--no-versions` only those a client verdict needs; none on probes made only to
    /// compare certificates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionProbe>,
    /// Protocol lines exchanged, `C: ` for ours and `S: ` for the server's (truncated, capped).
    pub transcript: Vec<String>,
    /// Wall time the probe took, in milliseconds.
    pub elapsed_ms: u64,
}

impl EndpointObservation {
    /// An observation with nothing observed yet.
    pub fn new(service: Service, address: IpAddr, sni: Option<String>) -> Self {
        EndpointObservation {
            service,
            address,
            sni,
            reachable: false,
            greeting: None,
            capabilities: Vec::new(),
            ehlo_name: None,
            tls: None,
            failure: None,
            versions: Vec::new(),
            transcript: Vec::new(),
            elapsed_ms: 0,
        }
    }

    /// The leaf certificate the server presented, if any.
    pub fn leaf(&self) -> Option<&Der> {
        self.chain().first()
    }

    /// Whether the handshake failed at a limit of mailtls's TLS library (`library_limit`) and
    /// no other probe finished it: then nothing says what a client would see.
    pub fn stopped_by_library(&self) -> bool {
        let failed = self
            .failure
            .as_ref()
            .is_some_and(|f| f.kind == FailureKind::TlsHandshakeFailed);
        failed
            && self
                .tls
                .as_ref()
                .is_some_and(|tls| tls.library_limit.is_some() && tls.completion.is_none())
    }

    /// The chain the server presented: from the main handshake, or, when that failed (a server
    /// that speaks only TLS 1.0 or 1.1, which rustls does not), from the newest legacy
    /// ClientHello it accepted, whose Certificate message travels in clear.
    pub fn chain(&self) -> &[Der] {
        if let Some(tls) = self.tls.as_ref().filter(|t| !t.chain.is_empty()) {
            return &tls.chain;
        }
        self.versions
            .iter()
            .filter_map(|probe| match &probe.answer {
                HelloAnswer::Accepted {
                    version,
                    certificates,
                    ..
                } if !certificates.is_empty() && probe.offer == Offer::Modern => {
                    Some((*version, certificates.as_slice()))
                }
                _ => None,
            })
            .max_by_key(|(version, _)| *version)
            .map_or(&[], |(_, chain)| chain)
    }

    /// Where this is, for people: "993", or "192.0.2.1 port 993" when a host has several addresses.
    pub fn place(&self, with_address: bool) -> String {
        if with_address {
            format!("{} port {}", self.address, self.service.port)
        } else {
            self.service.port.to_string()
        }
    }
}

/// Forward DNS of one name: the addresses it resolves to (empty when it does not resolve).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameLookup {
    /// The name looked up (A-label form).
    pub name: String,
    /// Its A and AAAA addresses.
    pub addresses: Vec<IpAddr>,
    /// mailtls's own resolver gave no answer (timed out or failed): the addresses are unknown,
    /// not absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unanswered: bool,
}

/// Reverse DNS of one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtrLookup {
    /// The address looked up.
    pub address: IpAddr,
    /// Its PTR names, without the trailing dot.
    pub names: Vec<String>,
    /// mailtls's own resolver gave no answer (timed out or failed): the names are unknown, not
    /// absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unanswered: bool,
}

/// A second round of probes made with a candidate server name as SNI, to confirm it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateProbe {
    /// The candidate server name.
    pub name: String,
    /// One observation per endpoint, probed with SNI = `name`.
    pub endpoints: Vec<EndpointObservation>,
}

/// One fetch of an Authority Information Access caIssuers URL (a missing intermediate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiaFetch {
    /// The URL, from a certificate's AIA extension.
    pub url: String,
    /// The certificates it returned (DER or PEM bodies, decoded).
    pub certificates: Vec<Der>,
    /// Why nothing usable came back.
    pub error: Option<String>,
}

/// Everything `check` learned from the network about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observations {
    /// What was checked.
    pub target: Target,
    /// The addresses the target resolved to (or the literal itself).
    pub addresses: Vec<IpAddr>,
    /// The name as the user typed it, when that differs from `target` (Unicode, upper case, a
    /// trailing dot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed: Option<String>,
    /// The names the target's CNAME records lead through, in order: the target is an alias of
    /// the last. Empty when it has addresses of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One observation per (address, port), with SNI = the target name.
    pub endpoints: Vec<EndpointObservation>,
    /// The same endpoints probed without SNI, where that can differ (DNS-name targets only).
    pub without_sni: Vec<EndpointObservation>,
    /// Forward DNS of the names found in certificates and PTR records.
    pub names: Vec<NameLookup>,
    /// Reverse DNS of each address.
    pub ptr: Vec<PtrLookup>,
    /// Probes that confirmed or refuted candidate server names.
    pub candidates: Vec<CandidateProbe>,
    /// Issuer certificates fetched from AIA URLs of chains that were incomplete.
    #[serde(default)]
    pub aia: Vec<AiaFetch>,
}

impl Observations {
    /// Whether mailtls's resolver left a forward or reverse question unanswered: what depends
    /// on it (a suggested name, its verification) may differ when asked again.
    pub fn unanswered(&self) -> bool {
        self.names.iter().any(|n| n.unanswered) || self.ptr.iter().any(|p| p.unanswered)
    }
}

/// One hand-built ClientHello and what the server did with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionProbe {
    /// The highest version offered (and, below TLS 1.3, the only one).
    pub asked: TlsVersion,
    /// Which suites were offered.
    pub offer: Offer,
    /// What came back.
    pub answer: HelloAnswer,
    /// Wall time, in milliseconds.
    pub elapsed_ms: u64,
}

/// The server's answer to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HelloAnswer {
    /// A ServerHello.
    Accepted {
        /// The version the server chose (its wire number when it is none we know).
        version: Option<TlsVersion>,
        /// The wire number of that version.
        version_wire: u16,
        /// The suite the server chose.
        cipher: u16,
        /// Its IANA name.
        cipher_name: String,
        /// The chain from the Certificate message (TLS 1.2 and older), leaf first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        certificates: Vec<Der>,
        /// The length the Certificate message announced, when it did not arrive whole
        /// (`certificates` is then empty): cut short, or longer than any client reads (see
        /// [`crate::tls_catalog::MAX_CLIENT_HANDSHAKE_MESSAGE`]), which the probe stops at.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_length: Option<u32>,
    },
    /// A TLS alert.
    Alert {
        /// The description number (RFC 8446 6.2).
        description: u8,
        /// Its name, e.g. `protocol_version`.
        name: String,
    },
    /// The connection was closed or reset without an answer.
    Closed,
    /// No answer within the step timeout.
    Timeout,
    /// An answer that is not TLS, or breaks its rules.
    Invalid {
        /// What was wrong.
        detail: String,
    },
    /// The ClientHello could not be sent: connect or STARTTLS failed.
    NotSent {
        /// Why.
        detail: String,
    },
}
