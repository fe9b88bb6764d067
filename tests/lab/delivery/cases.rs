//! The case table: one mail domain `LABEL.example` per case, what the lab publishes for it, and
//! what each real sender must do, with the source that says so.
//!
//! Two senders, both real Postfix 3.7 with a validating resolver (Unbound):
//! - **dane**: `smtp_tls_security_level = dane`, `smtp_dns_support_level = dnssec` (a validating
//!   sender such as Postfix or Exim with DANE, or Microsoft 365);
//! - **sts**: `smtp_tls_security_level = may` and postfix-mta-sts-resolver as
//!   `smtp_tls_policy_maps` (an MTA-STS sender such as Gmail), fresh: no policy cached.
//!
//! Expected outcomes come from RFC 7672 (SMTP DANE), RFC 8461 (MTA-STS) and Postfix's own
//! documentation (TLS_README "DANE TLS authentication", postconf(5)). Where the real sender does
//! otherwise, [`Expect::differs`] says what it does and why, and the test holds it to that.

/// What a sender did with the case's one message (its first delivery attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `status=sent`, over the connection of that kind.
    Sent(Tls),
    /// `status=deferred`, for that reason.
    Deferred(Why),
}

impl Outcome {
    /// Whether the message was delivered: the verdict mailtls gives for senders of this kind.
    pub fn delivers(self) -> bool {
        matches!(self, Outcome::Sent(_))
    }
}

/// The connection a message went over, as Postfix logs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// "Verified TLS connection": the server was authenticated (DANE, or the certificate and the
    /// name against the CA file).
    Verified,
    /// "Trusted" or "Untrusted TLS connection": encrypted, the server not authenticated by name
    /// (Postfix also logs a DANE match reached through an insecure MX lookup as "Trusted").
    Unverified,
    /// No TLS at all.
    Plain,
}

/// Why a message was deferred, from Postfix's `status=deferred (...)` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// "Server certificate not verified": authentication required and it failed.
    CertificateNotVerified,
    /// "TLSA lookup error": the TLSA answer could not be validated.
    TlsaLookup,
    /// "Name service error ... type=MX": the MX answer could not be had (bogus: SERVFAIL).
    MxLookup,
    /// "TLS is required, but was not offered by host".
    TlsNotOffered,
}

/// What one sender must do, and the source that says so.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub outcome: Outcome,
    pub source: &'static str,
    /// The real sender does something else: what it does, and why. The test fails when the
    /// sender does neither (or does the expected thing after all: the note is then stale).
    pub differs: Option<(Outcome, &'static str)>,
}

/// How the case's own zone is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Signed, with a DS record in `example.`.
    Secure,
    /// Not signed and no DS in `example.` (NSEC3 proves its absence): provably insecure.
    Insecure,
    /// Signed, but the DS in `example.` is of a key the zone does not publish.
    Bogus,
    /// Signed; the RRSIG of its TLSA RRset expired 30 days ago.
    ExpiredTlsaSignature,
}

/// Where the case's MX host lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `MX.LABEL.example`, in the case's own zone.
    Own,
    /// `LABEL.hosts-signed.example`: a secure zone of its own.
    SignedHosts,
    /// `LABEL.hosts-unsigned.example`: an insecure zone.
    UnsignedHosts,
}

/// The certificate the case's MX presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cert {
    /// For the MX host, from the lab's intermediate; leaf and intermediate sent.
    Mx,
    /// The same, leaf alone.
    MxLeafOnly,
    /// For [`super::HOSTING_NAME`] only, with its chain.
    Hosting,
    /// For `LABEL.DOMAIN` (a name the policy lists), not the MX, with its chain.
    Named(&'static str),
    /// For the MX, expired 10 days ago, with its chain.
    Expired,
    /// For the MX, self-signed.
    SelfSigned,
}

/// What a TLSA record's association data is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// The MX's own certificate (or its key).
    Leaf,
    /// The lab's intermediate CA.
    Intermediate,
    /// The lab's root CA.
    Root,
    /// A key no server of the lab has.
    OtherKey,
    /// The leaf's digest with its last byte cut: of the wrong length for its matching type.
    Truncated,
}

/// One TLSA record at `_25._tcp.MXHOST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlsa {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Data,
}

const fn tlsa(usage: u8, selector: u8, matching: u8, data: Data) -> Tlsa {
    Tlsa {
        usage,
        selector,
        matching,
        data,
    }
}

/// What the policy host answers for `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// 200, text/plain, the policy.
    Policy,
    /// 301 to `https://www.DOMAIN/mta-sts.txt`, which serves the policy (200, text/plain).
    Redirect,
    /// 404.
    NotFound,
    /// 200 and the policy, as text/html.
    Html,
    /// 200, text/plain, the policy padded with extension fields to 100 KiB.
    Oversize,
    /// 200 and the policy, under a certificate for another name (policy.hosting.example).
    WrongCertificate,
    /// `mta-sts.DOMAIN` resolves to [`super::DOWN`], where nothing listens.
    Down,
}

/// The domain's MTA-STS publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sts {
    /// How many `v=STSv1` TXT records `_mta-sts.DOMAIN` has (RFC 8461 §3.1 wants one).
    pub txt_records: u8,
    pub served: Served,
    pub mode: &'static str,
    /// The policy's `mx` lines; `{d}` stands for the domain.
    pub mx: &'static [&'static str],
    pub max_age: u64,
}

const fn sts(mode: &'static str, mx: &'static [&'static str]) -> Sts {
    Sts {
        txt_records: 1,
        served: Served::Policy,
        mode,
        mx,
        max_age: 604_800,
    }
}

const MX_ONLY: &[&str] = &["mx.{d}"];

/// One case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The mail domain is `LABEL.example`.
    pub label: &'static str,
    /// What the case is, in a few words.
    pub what: &'static str,
    pub zone: Zone,
    pub place: Place,
    /// The MX host's first label(s) under the domain ([`Place::Own`]).
    pub mx: &'static str,
    pub cert: Cert,
    /// Whether the MX offers STARTTLS.
    pub starttls: bool,
    pub tlsa: &'static [Tlsa],
    pub sts: Option<Sts>,
    /// The validating sender (Postfix, `dane`).
    pub dane: Expect,
    /// The MTA-STS sender (Postfix and postfix-mta-sts-resolver).
    pub mta_sts: Expect,
}

const fn expect(outcome: Outcome, source: &'static str) -> Expect {
    Expect {
        outcome,
        source,
        differs: None,
    }
}

use Outcome::{Deferred, Sent};

const VERIFIED: Outcome = Sent(Tls::Verified);
const UNVERIFIED: Outcome = Sent(Tls::Unverified);
const NOT_VERIFIED: Outcome = Deferred(Why::CertificateNotVerified);

/// The MTA-STS sender where the domain publishes no MTA-STS: opportunistic TLS.
const NO_STS: Expect = expect(
    UNVERIFIED,
    "no _mta-sts record: no policy (RFC 8461 §3.1, §5.1); postconf(5) smtp_tls_security_level \
     may: TLS if offered, the certificate not checked",
);
/// The DANE sender where the domain publishes no TLSA record for its MX (secure zone).
const NO_TLSA: Expect = expect(
    UNVERIFIED,
    "secure zone without TLSA: \"When DNSSEC-validated TLSA records are not found the effective \
     tls security level is may\" (postconf(5) smtp_tls_security_level dane; RFC 7672 §2.2)",
);
const DANE_MATCH: &str = "a usable TLSA record matches: authenticated (RFC 7672 §2.2, §3.1; \
                          TLS_README \"DANE TLS authentication\")";
const EE_NO_CHECKS: &str = "DANE-EE(3): \"no name checks or certificate expiration checks are \
                            applied\" (TLS_README \"DANE TLS authentication\"; RFC 7672 §3.1.1)";
const DANE_FAILS: &str = "usable TLSA records, none matches: \"When DANE authentication fails, \
                          there is no fallback\" (TLS_README; RFC 7672 §2.2): deferred";
const ALL_UNUSABLE: &str = "TLSA records present but all unusable: \"the effective security \
                            level is encrypt\" (postconf(5) smtp_tls_security_level dane; \
                            TLS_README; RFC 7672 §2.2)";
const STS_ENFORCE_FAILS: &str = "enforce: \"sending MTAs MUST NOT deliver the message to hosts \
                                 which fail MX matching or certificate validation\" \
                                 (RFC 8461 §5, §4.2); a transient failure (§5)";
const STS_NO_POLICY: &str = "no policy could be had and none is cached: \"senders MUST continue \
                             with delivery as though the domain has not implemented MTA-STS\" \
                             (RFC 8461 §3.3)";

/// A DANE case: a secure zone with the MX in it, a certificate for the MX, no MTA-STS.
const DANE: Case = Case {
    label: "",
    what: "",
    zone: Zone::Secure,
    place: Place::Own,
    mx: "mx",
    cert: Cert::Mx,
    starttls: true,
    tlsa: &[],
    sts: None,
    dane: NO_TLSA,
    mta_sts: NO_STS,
};

/// An MTA-STS case: a secure zone without TLSA records (the DANE sender uses opportunistic TLS).
const STS: Case = Case {
    sts: Some(sts("enforce", MX_ONLY)),
    ..DANE
};

pub static CASES: &[Case] = &[
    Case {
        label: "dane-ee-311",
        what: "DANE-EE 3 1 1 (SHA-256 of the key) matches",
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(VERIFIED, DANE_MATCH),
        ..DANE
    },
    Case {
        label: "dane-ee-301",
        what: "DANE-EE 3 0 1 (SHA-256 of the certificate) matches",
        tlsa: &[tlsa(3, 0, 1, Data::Leaf)],
        dane: expect(VERIFIED, DANE_MATCH),
        ..DANE
    },
    Case {
        label: "dane-ee-310",
        what: "DANE-EE 3 1 0 (the whole key) matches",
        tlsa: &[tlsa(3, 1, 0, Data::Leaf)],
        dane: expect(VERIFIED, DANE_MATCH),
        ..DANE
    },
    Case {
        label: "dane-ee-302",
        what: "DANE-EE 3 0 2 (SHA-512 of the certificate) matches",
        tlsa: &[tlsa(3, 0, 2, Data::Leaf)],
        dane: expect(VERIFIED, DANE_MATCH),
        ..DANE
    },
    Case {
        label: "dane-ee-other-name",
        what: "DANE-EE 3 1 1 matches a certificate for luna.hosting.example",
        cert: Cert::Hosting,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(VERIFIED, EE_NO_CHECKS),
        ..DANE
    },
    Case {
        label: "dane-ee-expired",
        what: "DANE-EE 3 1 1 matches an expired certificate",
        cert: Cert::Expired,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(VERIFIED, EE_NO_CHECKS),
        ..DANE
    },
    Case {
        label: "dane-ee-self-signed",
        what: "DANE-EE 3 1 1 matches a self-signed certificate",
        cert: Cert::SelfSigned,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(VERIFIED, EE_NO_CHECKS),
        ..DANE
    },
    Case {
        label: "dane-ee-mismatch",
        what: "DANE-EE 3 1 1 of another key",
        tlsa: &[tlsa(3, 1, 1, Data::OtherKey)],
        dane: expect(NOT_VERIFIED, DANE_FAILS),
        ..DANE
    },
    Case {
        label: "dane-ta-201",
        what: "DANE-TA 2 0 1 on the intermediate, certificate names the MX",
        tlsa: &[tlsa(2, 0, 1, Data::Intermediate)],
        dane: expect(
            VERIFIED,
            "DANE-TA(2): the chain reaches the TA and the certificate names the MX host \
             (RFC 7672 §3.1.2, §3.2.3; TLS_README: names checked are \"nexthop, hostname\")",
        ),
        ..DANE
    },
    Case {
        label: "dane-ta-211",
        what: "DANE-TA 2 1 1 (the intermediate's key), certificate names the MX",
        tlsa: &[tlsa(2, 1, 1, Data::Intermediate)],
        dane: expect(
            VERIFIED,
            "DANE-TA(2) on the TA's key (RFC 7672 §3.1.2, §3.2.3)",
        ),
        ..DANE
    },
    Case {
        label: "dane-ta-wrong-name",
        what: "DANE-TA 2 0 1 on the intermediate, certificate for luna.hosting.example",
        cert: Cert::Hosting,
        tlsa: &[tlsa(2, 0, 1, Data::Intermediate)],
        dane: expect(
            NOT_VERIFIED,
            "DANE-TA(2) requires a reference identifier, the MX host or the domain (RFC 7672 \
             §3.2.3; TLS_README: \"the server certificate must contain at least one of these \
             names\"): deferred",
        ),
        ..DANE
    },
    Case {
        label: "dane-ta-no-chain",
        what: "DANE-TA 2 0 1 on the intermediate, the server sends its leaf alone",
        cert: Cert::MxLeafOnly,
        tlsa: &[tlsa(2, 0, 1, Data::Intermediate)],
        dane: expect(
            NOT_VERIFIED,
            "a TA given by its digest must be in the chain the server sends (RFC 7671 §5.2.2, \
             RFC 7672 §3.1.2): nothing matches, deferred",
        ),
        ..DANE
    },
    Case {
        label: "dane-pkix-only",
        what: "only PKIX-TA 0 0 1 and PKIX-EE 1 1 1 records (unusable for SMTP)",
        tlsa: &[tlsa(0, 0, 1, Data::Root), tlsa(1, 1, 1, Data::Leaf)],
        dane: expect(
            UNVERIFIED,
            "usages 0 and 1 \"are treated as unusable\" (TLS_README; RFC 7672 §3.1.3); all \
             unusable: encrypt (postconf(5) smtp_tls_security_level dane)",
        ),
        ..DANE
    },
    Case {
        label: "dane-pkix-and-ee",
        what: "PKIX-EE 1 1 1 (unusable) beside a matching DANE-EE 3 1 1",
        tlsa: &[tlsa(1, 1, 1, Data::Leaf), tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(VERIFIED, DANE_MATCH),
        ..DANE
    },
    Case {
        label: "dane-bad-length",
        what: "TLSA 3 1 1 whose digest is 31 bytes (wrong length)",
        tlsa: &[tlsa(3, 1, 1, Data::Truncated)],
        dane: expect(
            UNVERIFIED,
            "\"unusable due to ... malformed data\": mandatory unauthenticated TLS (TLS_README; \
             RFC 7672 §2.2)",
        ),
        ..DANE
    },
    Case {
        label: "dane-unknown-usage",
        what: "TLSA with certificate usage 4 (unassigned)",
        tlsa: &[tlsa(4, 1, 1, Data::Leaf)],
        dane: expect(
            UNVERIFIED,
            "\"unusable due to unsupported parameters\": encrypt (TLS_README; RFC 7672 §2.2)",
        ),
        ..DANE
    },
    Case {
        label: "dane-no-starttls",
        what: "DANE-EE 3 1 1 matches, but the MX does not offer STARTTLS",
        starttls: false,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(
            Deferred(Why::TlsNotOffered),
            "TLSA records imply TLS; no fallback to plaintext (RFC 7672 §2.2; TLS_README)",
        ),
        mta_sts: expect(
            Sent(Tls::Plain),
            "no policy: opportunistic TLS sends in the clear when STARTTLS is not offered \
             (postconf(5) smtp_tls_security_level may)",
        ),
        ..DANE
    },
    Case {
        label: "dane-no-tlsa",
        what: "secure zone, no TLSA record",
        ..DANE
    },
    Case {
        label: "dane-insecure",
        what: "TLSA (of another key) in an unsigned zone without DS",
        zone: Zone::Insecure,
        tlsa: &[tlsa(3, 1, 1, Data::OtherKey)],
        dane: expect(
            UNVERIFIED,
            "\"Any TLSA records in DNS zones not protected via DNSSEC are ignored\" (TLS_README; \
             RFC 7672 §2.2.1, §2.2.3): opportunistic TLS",
        ),
        ..DANE
    },
    Case {
        label: "dane-bogus",
        what: "the DS in example. is of a key the zone does not publish (bogus)",
        zone: Zone::Bogus,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(
            Deferred(Why::MxLookup),
            "bogus: the validating resolver answers SERVFAIL (RFC 4035 §5.5); the MX lookup \
             fails temporarily, mail waits (RFC 7672 §2.1.1, §2.2.1)",
        ),
        mta_sts: expect(
            Deferred(Why::MxLookup),
            "a validating resolver fails the MX lookup for every client (RFC 4035 §5.5): a \
             temporary error (RFC 5321 §5.1)",
        ),
        ..DANE
    },
    Case {
        label: "dane-expired-rrsig",
        what: "DANE-EE 3 1 1 matches, but the TLSA RRset's RRSIG expired",
        zone: Zone::ExpiredTlsaSignature,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(
            Deferred(Why::TlsaLookup),
            "an expired RRSIG makes the TLSA RRset bogus (RFC 4035 §5.3.1): the server is \
             treated as unreachable, mail deferred (RFC 7672 §2.1.1, §2.2.3)",
        ),
        ..DANE
    },
    Case {
        label: "dane-insecure-mx",
        what: "unsigned domain; its MX in a signed zone with TLSA of another key",
        zone: Zone::Insecure,
        place: Place::SignedHosts,
        tlsa: &[tlsa(3, 1, 1, Data::OtherKey)],
        dane: expect(
            NOT_VERIFIED,
            "insecure MX RRset, secure TLSA: postconf(5) smtp_tls_dane_insecure_mx_policy, \
             default dane (Postfix >= 3.6): \"The TLSA records will be used just as with secure \
             MX records\" (RFC 7672 §2.2.1 lets DANE apply or not)",
        ),
        ..DANE
    },
    Case {
        label: "dane-insecure-mx-match",
        what: "unsigned domain; its MX in a signed zone with a matching 3 1 1",
        zone: Zone::Insecure,
        place: Place::SignedHosts,
        tlsa: &[tlsa(3, 1, 1, Data::Leaf)],
        dane: expect(
            UNVERIFIED,
            "smtp_tls_dane_insecure_mx_policy = dane: \"When authentication succeeds, it will be \
             logged only as Trusted, not Verified\" (postconf(5))",
        ),
        ..DANE
    },
    Case {
        label: "dane-mx-in-unsigned",
        what: "signed domain; its MX in an unsigned zone with TLSA of another key",
        place: Place::UnsignedHosts,
        tlsa: &[tlsa(3, 1, 1, Data::OtherKey)],
        dane: expect(
            UNVERIFIED,
            "\"will not look for TLSA records associated with MX hosts whose A or AAAA records \
             lie in an insecure DNS zone\" (TLS_README): may",
        ),
        ..DANE
    },
    Case {
        label: "sts-enforce",
        what: "MTA-STS enforce, the MX listed, certificate for the MX",
        mta_sts: expect(
            VERIFIED,
            "enforce, MX listed and certificate valid for it (RFC 8461 §4.1, §4.2, §5)",
        ),
        ..STS
    },
    Case {
        label: "sts-enforce-mismatch",
        what: "MTA-STS enforce, certificate for luna.hosting.example",
        cert: Cert::Hosting,
        mta_sts: expect(NOT_VERIFIED, STS_ENFORCE_FAILS),
        ..STS
    },
    Case {
        label: "sts-enforce-expired",
        what: "MTA-STS enforce, the MX's certificate expired",
        cert: Cert::Expired,
        mta_sts: expect(NOT_VERIFIED, STS_ENFORCE_FAILS),
        ..STS
    },
    Case {
        label: "sts-enforce-self-signed",
        what: "MTA-STS enforce, self-signed certificate",
        cert: Cert::SelfSigned,
        mta_sts: expect(NOT_VERIFIED, STS_ENFORCE_FAILS),
        ..STS
    },
    Case {
        label: "sts-enforce-no-starttls",
        what: "MTA-STS enforce, the MX does not offer STARTTLS",
        starttls: false,
        dane: expect(
            Sent(Tls::Plain),
            "no TLSA: may, which sends in the clear without STARTTLS (postconf(5))",
        ),
        mta_sts: expect(
            Deferred(Why::TlsNotOffered),
            "enforce: MUST NOT deliver to hosts which \"do not support STARTTLS\" (RFC 8461 §5)",
        ),
        ..STS
    },
    Case {
        label: "sts-testing",
        what: "MTA-STS testing, certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(sts("testing", MX_ONLY)),
        mta_sts: expect(
            UNVERIFIED,
            "testing: senders \"merely send a report\" (RFC 8461 §5): delivered",
        ),
        ..STS
    },
    Case {
        label: "sts-none",
        what: "MTA-STS none, certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(sts("none", MX_ONLY)),
        mta_sts: expect(
            UNVERIFIED,
            "none: \"as though it does not have any active policy\" (RFC 8461 §5)",
        ),
        ..STS
    },
    Case {
        label: "sts-mx-not-listed",
        what: "MTA-STS enforce listing mail.DOMAIN only; the MX is mx.DOMAIN",
        sts: Some(sts("enforce", &["mail.{d}"])),
        mta_sts: expect(
            NOT_VERIFIED,
            "the MX matches no mx pattern (RFC 8461 §4.1); enforce: MUST NOT deliver (§5)",
        ),
        ..STS
    },
    Case {
        label: "sts-listed-name-only",
        what: "MTA-STS enforce listing mail.DOMAIN; the MX mx.DOMAIN has a certificate for \
               mail.DOMAIN",
        cert: Cert::Named("mail"),
        sts: Some(sts("enforce", &["mail.{d}"])),
        mta_sts: Expect {
            outcome: NOT_VERIFIED,
            source: "the MX host mx.DOMAIN matches no mx pattern (RFC 8461 §4.1), and its \
                     certificate is not valid for it (§4.2); enforce: MUST NOT deliver (§5)",
            differs: Some((
                VERIFIED,
                "postfix-mta-sts-resolver answers \"secure match=mail.DOMAIN\": Postfix matches \
                 the patterns against the certificate's names, never the MX host's name against \
                 the patterns, so a certificate naming a listed host passes on any MX",
            )),
        },
        ..STS
    },
    Case {
        label: "sts-wildcard",
        what: "MTA-STS enforce with mx *.DOMAIN; MX mx.DOMAIN",
        sts: Some(sts("enforce", &["*.{d}"])),
        mta_sts: expect(
            VERIFIED,
            "\"*.example.com\" matches \"mail.example.com\" (RFC 8461 §4.1)",
        ),
        ..STS
    },
    Case {
        label: "sts-wildcard-deep",
        what: "MTA-STS enforce with mx *.DOMAIN; MX a.mx.DOMAIN (two labels deeper)",
        mx: "a.mx",
        sts: Some(sts("enforce", &["*.{d}"])),
        mta_sts: Expect {
            outcome: NOT_VERIFIED,
            source: "\"*.example.com\" does not match \"foo.bar.example.com\" (RFC 8461 §4.1); \
                     enforce: MUST NOT deliver (§5)",
            differs: Some((
                VERIFIED,
                "postfix-mta-sts-resolver turns \"*.DOMAIN\" into Postfix's \".DOMAIN\", which \
                 matches subdomains at any depth (postconf(5) smtp_tls_secure_cert_match)",
            )),
        },
        ..STS
    },
    Case {
        label: "sts-redirect",
        what: "MTA-STS enforce behind a 301 redirect; certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            served: Served::Redirect,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "\"HTTP 3xx redirects MUST NOT be followed\" and only 200 counts (RFC 8461 §3.3): no \
             policy, delivered (§3.3)",
        ),
        ..STS
    },
    Case {
        label: "sts-not-found",
        what: "_mta-sts record, policy URL answers 404; certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            served: Served::NotFound,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(UNVERIFIED, STS_NO_POLICY),
        ..STS
    },
    Case {
        label: "sts-html",
        what: "MTA-STS enforce served as text/html; certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            served: Served::Html,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "\"senders SHOULD validate that the media type is text/plain\" (RFC 8461 §3.2): no \
             policy, delivered (§3.3)",
        ),
        ..STS
    },
    Case {
        label: "sts-oversize",
        what: "MTA-STS enforce padded to 100 KiB; certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            served: Served::Oversize,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "senders MAY limit the body, \"a suggested maximum policy size 64 kilobytes\" \
             (RFC 8461 §3.3); postfix-mta-sts-resolver stops at 64 KiB (HARD_RESP_LIMIT): no \
             policy, delivered",
        ),
        ..STS
    },
    Case {
        label: "sts-policy-bad-cert",
        what: "policy host's certificate is for another name; enforce; MX certificate for \
               luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            served: Served::WrongCertificate,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "the policy host \"MUST present a X.509 certificate which is valid for the mta-sts \
             DNS-ID\" (RFC 8461 §3.3): no policy, delivered (§3.3)",
        ),
        ..STS
    },
    Case {
        label: "sts-policy-down",
        what: "policy host down (nothing listens); MX certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            served: Served::Down,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "a fresh sender (no cached policy) cannot fetch one: delivered (RFC 8461 §3.3); one \
             that cached the policy keeps enforcing it until max_age",
        ),
        ..STS
    },
    Case {
        label: "sts-two-records",
        what: "two v=STSv1 TXT records; enforce; MX certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            txt_records: 2,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "\"If the number of resulting records is not one ... senders MUST assume the \
             recipient domain does not have an available MTA-STS policy\" (RFC 8461 §3.1)",
        ),
        ..STS
    },
    Case {
        label: "sts-max-age-too-long",
        what: "MTA-STS enforce with max_age 31557601; certificate for luna.hosting.example",
        cert: Cert::Hosting,
        sts: Some(Sts {
            max_age: 31_557_601,
            ..sts("enforce", MX_ONLY)
        }),
        mta_sts: expect(
            UNVERIFIED,
            "max_age has a \"maximum value of 31557600\" (RFC 8461 §3.2): an invalid policy is \
             no policy, delivered (§3.3)",
        ),
        ..STS
    },
    Case {
        label: "dane-and-sts",
        what: "DANE-EE 3 1 1 of another key and MTA-STS enforce with a valid certificate",
        tlsa: &[tlsa(3, 1, 1, Data::OtherKey)],
        dane: expect(NOT_VERIFIED, DANE_FAILS),
        mta_sts: expect(
            VERIFIED,
            "enforce, MX listed and certificate valid (RFC 8461 §4, §5)",
        ),
        ..STS
    },
];
