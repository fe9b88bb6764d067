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
//! The model is here; the table itself is in `table.rs`.

mod table;

pub use table::CASES;

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
    /// mailtls's verdict for this kind of sender (`inbound.mx[].senders[].action`) disagrees
    /// with what the real sender did: what mailtls says instead (its action word, or
    /// `no-report`), and why, with the RFC section. tests/delivery.rs fails when mailtls says
    /// anything else, or agrees after all (the note is then stale).
    pub mailtls: Option<(&'static str, &'static str)>,
}

impl Expect {
    /// The same, with mailtls saying `says` instead of agreeing, for the reason `why`.
    pub const fn mailtls_differs(self, says: &'static str, why: &'static str) -> Expect {
        Expect {
            mailtls: Some((says, why)),
            ..self
        }
    }
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
        mailtls: None,
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
