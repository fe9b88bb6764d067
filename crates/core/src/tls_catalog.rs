//! The TLS catalogue: protocol versions, what a probe offers for each, and the names of cipher
//! suites and alerts. Shared by the probe (which builds ClientHellos), analysis (which judges
//! what was accepted) and the reports (which name them), so it sits below all three.

crate::vocabulary::vocabulary! {
    /// A protocol version.
    pub enum TlsVersion {
        /// SSL 3.0 (RFC 6101), prohibited by RFC 7568.
        Ssl3 => "SSLv3",
        /// TLS 1.0 (RFC 2246), deprecated by RFC 8996.
        Tls10 => "TLSv1.0",
        /// TLS 1.1 (RFC 4346), deprecated by RFC 8996.
        Tls11 => "TLSv1.1",
        /// TLS 1.2 (RFC 5246).
        Tls12 => "TLSv1.2",
        /// TLS 1.3 (RFC 8446).
        Tls13 => "TLSv1.3",
    }
}

/// The longest handshake message (a certificate list, mostly) mail clients accept: NSS
/// (Thunderbird) refuses one over `0x1ffff` bytes (`MAX_HANDSHAKE_MSG_LEN`, lib/ssl/ssl3con.c),
/// GnuTLS (Evolution, Geary) one over 128 KiB (`MAX_HANDSHAKE_PACKET_SIZE`, lib/gnutls_int.h).
/// rustls stops at 64 KiB, so the probe reads longer ones itself.
pub const MAX_CLIENT_HANDSHAKE_MESSAGE: u32 = 0x1ffff;

impl TlsVersion {
    /// The four TLS versions, oldest first.
    pub const TLS: [TlsVersion; 4] = [
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];

    /// The version's wire number.
    pub fn wire(self) -> u16 {
        match self {
            TlsVersion::Ssl3 => 0x0300,
            TlsVersion::Tls10 => 0x0301,
            TlsVersion::Tls11 => 0x0302,
            TlsVersion::Tls12 => 0x0303,
            TlsVersion::Tls13 => 0x0304,
        }
    }

    /// The version with this wire number.
    pub fn from_wire(wire: u16) -> Option<TlsVersion> {
        [TlsVersion::Ssl3]
            .into_iter()
            .chain(TlsVersion::TLS)
            .find(|v| v.wire() == wire)
    }

    /// The name rustls and OpenSSL print, e.g. `TLSv1.2`.
    pub fn name(self) -> &'static str {
        self.as_str()
    }

    /// Parses `TLSv1.2`, `TLSv1_2` (rustls' Debug form) and the like.
    pub fn parse(text: &str) -> Option<TlsVersion> {
        let normal = text.replace('_', ".");
        [TlsVersion::Ssl3]
            .into_iter()
            .chain(TlsVersion::TLS)
            .find(|v| v.name() == normal || (normal == "TLSv1" && *v == TlsVersion::Tls10))
    }
}

crate::vocabulary::vocabulary! {
    /// What a ClientHello offers.
    pub enum Offer {
        /// What a current client offers for that version (AEAD and CBC suites, ECDHE first).
        Modern => "modern",
        /// Only weak suites: RC4, 3DES, single DES, export, NULL encryption, anonymous.
        Weak => "weak",
        /// The TLS 1.2 suites Thunderbird offers (NSS as Thunderbird configures it).
        Thunderbird => "thunderbird",
        /// The TLS 1.2 suites GnuTLS's default priority offers (Evolution, Geary).
        Gnutls => "gnutls",
    }
}

impl Offer {
    /// The offers that stand for one client's own TLS 1.2 suite list.
    pub const CLIENTS: [Offer; 2] = [Offer::Thunderbird, Offer::Gnutls];
}

/// TLS 1.3 suites: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
const TLS13_SUITES: [u16; 3] = [0x1301, 0x1302, 0x1303];
/// TLS 1.2 AEAD suites, ECDHE then DHE then RSA key exchange (with AES-CCM), then the CBC
/// suites with SHA-256: every TLS 1.2 suite a current client offers, so that a server that
/// accepts any of them answers.
const AEAD_SUITES: [u16; 21] = [
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, 0xccaa, 0x009c, 0x009d, 0xc0ac,
    0xc0ad, 0xc09c, 0xc09d, 0xc09e, 0xc09f, 0xc023, 0xc027, 0xc024, 0xc028,
];
/// CBC suites with SHA-1 MACs, the best TLS 1.0 and 1.1 can do.
const CBC_SUITES: [u16; 8] = [
    0xc009, 0xc013, 0xc00a, 0xc014, 0x0033, 0x0039, 0x002f, 0x0035,
];
/// Weak suites: RC4, 3DES, DES, export, NULL, anonymous.
const WEAK_SUITES: [u16; 28] = [
    0xc011, 0xc007, 0x0005, 0x0004, // RC4
    0xc012, 0xc008, 0x0016, 0x000a, // 3DES
    0x0015, 0x0009, // single DES
    0x0003, 0x0006, 0x0008, 0x0014, 0x0062, 0x0064, // export
    0xc010, 0xc006, 0x003b, 0x0002, 0x0001, // NULL encryption
    0x0034, 0x003a, 0x00a6, 0x0018, 0x001b, 0xc018, 0xc019, // anonymous
];

/// The TLS 1.2 suites Thunderbird 153 offers: ECDHE with AES-GCM, ChaCha20 and AES-CBC-SHA
/// (but not ECDHE-ECDSA with AES-128-CBC-SHA), and RSA key exchange with AES-GCM and
/// AES-CBC-SHA; no DHE, no CBC with SHA-256/384. Measured one suite at a time by the fidelity
/// matrix (suites/*) against the real Thunderbird; mozilla-central
/// security/manager/ssl/nsNSSComponent.cpp (sCipherPrefs) lists the same prefs.
const THUNDERBIRD_TLS12: [u16; 13] = [
    0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
    0x0035,
];
/// The TLS 1.2 suites of GnuTLS's NORMAL priority (Debian 12's 3.7.9): ECDHE, RSA and DHE key
/// exchange with AES-GCM, ChaCha20, AES-CCM and AES-CBC-SHA; no CBC with SHA-256/384.
/// Measured one suite at a time (suites/*) with gnutls-cli; the CCM suites from
/// https://gnutls.org/manual/html_node/Priority-Strings.html (NORMAL).
const GNUTLS_TLS12: [u16; 25] = [
    0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc009, 0xc00a, 0xc013, 0xc014, 0x009c, 0x009d,
    0x002f, 0x0035, 0x009e, 0x009f, 0xccaa, 0x0033, 0x0039, 0xc0ac, 0xc0ad, 0xc09c, 0xc09d, 0xc09e,
    0xc09f,
];

/// The suites a probe offers for `version`.
pub fn suites(version: TlsVersion, offer: Offer) -> Vec<u16> {
    match (version, offer) {
        (TlsVersion::Tls13, _) => TLS13_SUITES.to_vec(),
        (_, Offer::Weak) => WEAK_SUITES.to_vec(),
        (TlsVersion::Tls12, Offer::Thunderbird) => THUNDERBIRD_TLS12.to_vec(),
        (TlsVersion::Tls12, Offer::Gnutls) => GNUTLS_TLS12.to_vec(),
        (TlsVersion::Tls12, Offer::Modern) => {
            AEAD_SUITES.iter().chain(&CBC_SUITES).copied().collect()
        }
        (_, Offer::Modern | Offer::Thunderbird | Offer::Gnutls) => CBC_SUITES.to_vec(),
    }
}

/// A suite's number from its IANA name, when known.
pub fn cipher_id(name: &str) -> Option<u16> {
    tls_parser::TlsCipherSuite::from_name(name).map(|suite| suite.id.0)
}

/// An alert description's name (RFC 8446 6.2, RFC 5246 7.2).
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        _ => "unknown alert",
    }
}

/// The IANA name of a cipher suite, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
pub fn cipher_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id)
        .map(|suite| suite.name.to_string())
        .unwrap_or_else(|| format!("0x{id:04x}"))
}

/// Why a suite is weak, when it is: RC4, 3DES, DES, export, NULL encryption, anonymous.
pub fn weakness(id: u16) -> Option<&'static str> {
    use tls_parser::{TlsCipherAu, TlsCipherEnc, TlsCipherKx};
    let suite = tls_parser::TlsCipherSuite::from_id(id)?;
    if suite.name.contains("EXPORT") {
        return Some("export-grade");
    }
    match (suite.enc, suite.au, suite.kx) {
        (TlsCipherEnc::Null, _, _) => Some("no encryption (NULL)"),
        (_, TlsCipherAu::Null, kx) if kx != TlsCipherKx::Tls13 => {
            Some("anonymous (no server authentication)")
        }
        (TlsCipherEnc::Rc4, _, _) => Some("RC4"),
        (TlsCipherEnc::TripleDes, _, _) => Some("3DES (Sweet32)"),
        (TlsCipherEnc::Des, _, _) | (TlsCipherEnc::Rc2, _, _) => Some("DES/RC2 (56 bits or less)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_suites_are_named() {
        assert_eq!(weakness(0x0005), Some("RC4"));
        assert_eq!(weakness(0x000a), Some("3DES (Sweet32)"));
        assert_eq!(weakness(0x0003), Some("export-grade"));
        assert_eq!(weakness(0x0002), Some("no encryption (NULL)"));
        assert_eq!(
            weakness(0x0034),
            Some("anonymous (no server authentication)")
        );
        assert_eq!(weakness(0xc02f), None);
        assert_eq!(weakness(0x1301), None);
        for suite in WEAK_SUITES {
            assert!(
                weakness(suite).is_some(),
                "0x{suite:04x} is offered as weak"
            );
        }
        for suite in AEAD_SUITES.iter().chain(&CBC_SUITES).chain(&TLS13_SUITES) {
            assert_eq!(weakness(*suite), None, "0x{suite:04x}");
        }
        assert_eq!(cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(TlsVersion::parse("TLSv1_2"), Some(TlsVersion::Tls12));
        assert_eq!(TlsVersion::parse("TLSv1"), Some(TlsVersion::Tls10));
    }

    /// `VersionReport::accepts_offer` relies on it: a server that refuses the modern offer
    /// refuses every client's own.
    #[test]
    fn each_clients_offer_is_within_the_modern_one() {
        let modern = suites(TlsVersion::Tls12, Offer::Modern);
        for offer in Offer::CLIENTS {
            for suite in suites(TlsVersion::Tls12, offer) {
                assert!(modern.contains(&suite), "{offer:?} 0x{suite:04x}");
            }
        }
    }
}
