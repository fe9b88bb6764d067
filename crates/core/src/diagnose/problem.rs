//! Problems found on a server: data with a stable code, never an `Err`.

crate::vocabulary::vocabulary! {
    /// Stable problem identifiers (kebab-case in JSON). The order is the ranking used to pick the
    /// headline: the most specific, most actionable cause first (as webpki ranks its errors).
    pub enum Code {
        /// The name used is not on the certificate, but a name on it reaches the same server.
        NameMismatch => "name-mismatch",
        /// The client connected by IP address and the certificate has no matching iPAddress entry.
        IpAddressUsed => "ip-address-used",
        /// No name on the certificate leads to this server: the certificate must change.
        CertLacksName => "cert-lacks-name",
        /// The name is only in the subject Common Name, which modern clients ignore.
        CnOnly => "cn-only",
        /// A certificate in the chain has expired.
        Expired => "expired",
        /// A certificate in the chain is not valid yet.
        NotYetValid => "not-yet-valid",
        /// The server certificate is signed by itself.
        SelfSigned => "self-signed",
        /// The chain ends in a CA the trust store does not contain.
        UnknownCa => "unknown-ca",
        /// The server does not send the intermediate certificate(s).
        IncompleteChain => "incomplete-chain",
        /// The chain is broken in another way (signature, key usage, malformed).
        InvalidChain => "invalid-chain",
        /// A certificate on the path has an RSA key under 2048 bits.
        WeakKey => "weak-key",
        /// A certificate on the path is signed with SHA-1 (or MD5).
        WeakSignature => "weak-signature",
        /// The server certificate's keyUsage does not allow what the handshake does with its
        /// key.
        KeyUsage => "key-usage",
        /// The server sends more certificates than some clients verify.
        ChainTooLong => "chain-too-long",
        /// The certificate sent first for an issuer leads to an untrusted root; a client that
        /// does not try the other path warns.
        UntrustedPathFirst => "untrusted-path-first",
        /// A key some clients cannot use: Ed25519 or RSA-PSS (Thunderbird).
        UnsupportedKey => "unsupported-key",
        /// The name was typed in Unicode; a client that compares it as typed warns.
        UnicodeName => "unicode-name",
        /// A client finds no TLS 1.2 cipher suite in common with the server.
        NoCommonSuite => "no-common-suite",
        /// The server does not offer STARTTLS/STLS on a port where clients expect it.
        StarttlsNotOffered => "starttls-not-offered",
        /// The server refused the STARTTLS/STLS command.
        StarttlsRefused => "starttls-refused",
        /// The server speaks only TLS 1.0/1.1 (or SSL 3.0), which current clients refuse.
        LegacyTlsOnly => "legacy-tls-only",
        /// The TLS handshake failed.
        TlsHandshakeFailed => "tls-handshake-failed",
        /// The server broke the mail protocol (garbage, endless lines, wrong replies).
        ProtocolError => "protocol-error",
        /// Ports or addresses present different certificates.
        DifferentCertPerPort => "different-cert-per-port",
        /// Without SNI the server presents a different certificate.
        SniDependent => "sni-dependent",
        /// The server accepts weak cipher suites (RC4, 3DES, export, NULL, anonymous).
        WeakCipher => "weak-cipher",
        /// The server does not offer TLS 1.3.
        NoTls13 => "no-tls13",
        /// A step took longer than the timeout (often a firewall dropping packets).
        Timeout => "timeout",
        /// The server turned every attempt away as busy, or never greeted: not checked.
        RateLimited => "rate-limited",
        /// The address cannot be reached at all.
        Unreachable => "unreachable",
        /// Nothing listens on the port.
        ConnectionRefused => "connection-refused",
        /// Inbound delivery: an MX matches no `mx` pattern of the domain's MTA-STS policy.
        MtaStsMxUnlisted => "mta-sts-mx-unlisted",
        /// Inbound delivery: an MX's certificate fails MTA-STS validation (name, trust, dates).
        MtaStsMxCertificate => "mta-sts-mx-certificate",
        /// Inbound delivery: an MX under an MTA-STS policy offers no STARTTLS (or no working TLS).
        MtaStsMxNoStarttls => "mta-sts-mx-no-starttls",
        /// Inbound delivery: the `_mta-sts` TXT records are invalid, or several.
        MtaStsRecordInvalid => "mta-sts-record-invalid",
        /// Inbound delivery: the MTA-STS policy host does not answer (or does not exist).
        MtaStsPolicyUnreachable => "mta-sts-policy-unreachable",
        /// Inbound delivery: the MTA-STS policy host's certificate is not valid for it.
        MtaStsPolicyCertificate => "mta-sts-policy-certificate",
        /// Inbound delivery: the policy host answers with something senders do not read (a
        /// redirect, a status other than 200, over 64 KiB, not text/plain).
        MtaStsPolicyAnswer => "mta-sts-policy-answer",
        /// Inbound delivery: the MTA-STS policy is not valid.
        MtaStsPolicyInvalid => "mta-sts-policy-invalid",
        /// Inbound delivery: no TLSA record of an MX matches its certificate.
        DaneNoMatch => "dane-no-match",
        /// Inbound delivery: DNSSEC validation fails for the MX or TLSA answer.
        DaneBogus => "dane-bogus",
        /// Inbound delivery: an MX's TLSA records are none usable for SMTP.
        DaneUnusable => "dane-unusable",
        /// Inbound delivery: the next key change of an MX's certificate breaks its TLSA match.
        DaneRollover => "dane-rollover",
        /// Inbound delivery: no `_smtp._tls` record: senders report no failures.
        TlsrptMissing => "tlsrpt-missing",
        /// Inbound delivery: the `_smtp._tls` record is invalid, or several.
        TlsrptInvalid => "tlsrpt-invalid",
    }
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
                | Code::WeakKey
                | Code::WeakSignature
                | Code::KeyUsage
                | Code::ChainTooLong
                | Code::UnsupportedKey
                | Code::UnicodeName
                | Code::UntrustedPathFirst
                | Code::DifferentCertPerPort
                | Code::SniDependent
        )
    }
}

crate::vocabulary::vocabulary! {
    /// How bad a problem is for a mail client.
    pub enum Severity {
        /// A mail client will warn or fail.
        Error => "error",
        /// Something is off but clients configured the usual way will not warn.
        Warning => "warning",
        /// Worth knowing, no action needed (e.g. a port that is simply not offered).
        Info => "info",
    }
}

/// One problem, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable identifier.
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// Plain-words explanation, with the names and dates involved.
    pub message: String,
    /// The same facts for programs: no code (ours or a user's) should have to read `message`.
    pub context: Context,
}

/// The facts behind a problem. Each field is filled where it applies to the problem's code
/// (docs/json.md lists which).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The server name (or address) the client used.
    pub expected_name: Option<String>,
    /// The names the certificate presents (subjectAltName; the subject CN when it has none).
    pub presented_names: Vec<String>,
    /// A name that would work instead: on the certificate and pointing to the same server.
    pub suggested_name: Option<String>,
    /// Whether a test connection with `suggested_name` was accepted on every client port; `None`
    /// when there is no suggestion.
    pub suggestion_verified: Option<bool>,
    /// The ports where the problem was seen.
    pub ports: Vec<u16>,
    /// The certificate concerned (its subject), when one is.
    pub certificate: Option<String>,
    /// The issuer that is missing or untrusted.
    pub issuer: Option<String>,
    /// The date that matters (expiry, start of validity), RFC 3339.
    pub date: Option<String>,
    /// A URL involved: where a missing intermediate can be fetched.
    pub url: Option<String>,
    /// The client rules (ids in `clients` and docs/clients.md) that decide what mail clients do
    /// about this problem.
    pub rules: Vec<&'static str>,
    /// The dialogs mail clients show because of it, and where.
    pub dialogs: Vec<crate::clients::dialogs::Shown>,
}

impl Problem {
    /// A problem of `code` with `severity`, with no context yet.
    pub fn new(code: Code, severity: Severity, message: impl Into<String>) -> Problem {
        Problem {
            code,
            severity,
            message: message.into(),
            context: Context::default(),
        }
    }

    /// The same problem with its context filled in by `fill`.
    pub fn with(mut self, fill: impl FnOnce(&mut Context)) -> Problem {
        fill(&mut self.context);
        self
    }
}
