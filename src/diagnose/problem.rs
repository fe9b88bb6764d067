//! Problems found on a server: data with a stable code, never an `Err`.

use serde::{Deserialize, Serialize};

/// Stable problem identifiers (kebab-case in JSON). The order is the ranking used to pick the
/// headline: the most specific, most actionable cause first (as webpki ranks its errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The name used is not on the certificate, but a name on it reaches the same server.
    NameMismatch,
    /// The client connected by IP address and the certificate has no matching iPAddress entry.
    IpAddressUsed,
    /// No name on the certificate leads to this server: the certificate must change.
    CertLacksName,
    /// The name is only in the subject Common Name, which modern clients ignore.
    CnOnly,
    /// A certificate in the chain has expired.
    Expired,
    /// A certificate in the chain is not valid yet.
    NotYetValid,
    /// The server certificate is signed by itself.
    SelfSigned,
    /// The chain ends in a CA the trust store does not contain.
    UnknownCa,
    /// The server does not send the intermediate certificate(s).
    IncompleteChain,
    /// The chain is broken in another way (signature, key usage, malformed).
    InvalidChain,
    /// The server does not offer STARTTLS/STLS on a port where clients expect it.
    StarttlsNotOffered,
    /// The server refused the STARTTLS/STLS command.
    StarttlsRefused,
    /// The server speaks only TLS 1.0/1.1 (or SSL 3.0), which current clients refuse.
    LegacyTlsOnly,
    /// The TLS handshake failed.
    TlsHandshakeFailed,
    /// The server broke the mail protocol (garbage, endless lines, wrong replies).
    ProtocolError,
    /// Ports or addresses present different certificates.
    DifferentCertPerPort,
    /// Without SNI the server presents a different certificate.
    SniDependent,
    /// The server accepts weak cipher suites (RC4, 3DES, export, NULL, anonymous).
    WeakCipher,
    /// The server does not offer TLS 1.3.
    NoTls13,
    /// A step took longer than the timeout (often a firewall dropping packets).
    Timeout,
    /// The address cannot be reached at all.
    Unreachable,
    /// Nothing listens on the port.
    ConnectionRefused,
}

impl Code {
    /// A problem with the certificate itself, which clients show as a certificate warning.
    pub fn is_certificate(&self) -> bool {
        matches!(
            self,
            Code::NameMismatch
                | Code::IpAddressUsed
                | Code::CertLacksName
                | Code::CnOnly
                | Code::Expired
                | Code::NotYetValid
                | Code::SelfSigned
                | Code::UnknownCa
                | Code::IncompleteChain
                | Code::InvalidChain
                | Code::DifferentCertPerPort
                | Code::SniDependent
        )
    }

    /// The kebab-case identifier, as in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Code::NameMismatch => "name-mismatch",
            Code::IpAddressUsed => "ip-address-used",
            Code::CertLacksName => "cert-lacks-name",
            Code::CnOnly => "cn-only",
            Code::Expired => "expired",
            Code::NotYetValid => "not-yet-valid",
            Code::SelfSigned => "self-signed",
            Code::UnknownCa => "unknown-ca",
            Code::IncompleteChain => "incomplete-chain",
            Code::InvalidChain => "invalid-chain",
            Code::StarttlsNotOffered => "starttls-not-offered",
            Code::StarttlsRefused => "starttls-refused",
            Code::LegacyTlsOnly => "legacy-tls-only",
            Code::TlsHandshakeFailed => "tls-handshake-failed",
            Code::ProtocolError => "protocol-error",
            Code::DifferentCertPerPort => "different-cert-per-port",
            Code::SniDependent => "sni-dependent",
            Code::WeakCipher => "weak-cipher",
            Code::NoTls13 => "no-tls13",
            Code::Timeout => "timeout",
            Code::Unreachable => "unreachable",
            Code::ConnectionRefused => "connection-refused",
        }
    }
}

/// How bad a problem is for a mail client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A mail client will warn or fail.
    Error,
    /// Something is off but clients configured the usual way will not warn.
    Warning,
    /// Worth knowing, no action needed (e.g. a port that is simply not offered).
    Info,
}

/// One problem, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable identifier.
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// Plain-words explanation, with the names and dates involved.
    pub message: String,
}

impl Problem {
    /// A problem of `code` with `severity`.
    pub fn new(code: Code, severity: Severity, message: impl Into<String>) -> Problem {
        Problem {
            code,
            severity,
            message: message.into(),
        }
    }
}
