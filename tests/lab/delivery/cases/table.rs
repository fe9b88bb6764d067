//! The case table (see the module above for its terms and sources).

use super::*;

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
            mailtls: Some((
                "defers",
                "mailtls holds the MX to RFC 8461 §4.1 (mx.DOMAIN matches no mx pattern) and \
                 §4.2 (its certificate must be valid for the MX host, not for some listed \
                 name): enforce, not delivered (§5); postfix-mta-sts-resolver checks only the \
                 certificate's names against the patterns, so the real sender delivers",
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
            mailtls: Some((
                "defers",
                "mailtls follows RFC 8461 §4.1: \"*.DOMAIN\" covers exactly one label, so \
                 a.mx.DOMAIN matches no pattern and enforce refuses it (§5); \
                 postfix-mta-sts-resolver's \".DOMAIN\" matches any depth, so the real sender \
                 delivers",
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
