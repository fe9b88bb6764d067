//! The lab's mail domains for inbound delivery: MTA-STS records and policies (served by
//! tests/lab/mta_sts_server.py on [`WEB`]), TLS-RPT records, and MX records naming the lab's
//! Postfix servers (mail.good.test: a certificate for its name; mail.customer.test: one for
//! luna.hostingco.test only). See that script for what each policy host answers.

/// The policy host's address (HTTPS, 443).
pub const WEB: &str = "127.0.0.60";

/// Enforce; MX mail.good.test; a valid TLS-RPT record: senders deliver.
pub const ENFORCE: &str = "sts-enforce.test";
/// Enforce; MX mail.customer.test, whose certificate names luna.hostingco.test: MTA-STS
/// senders deliver nowhere.
pub const MISMATCH: &str = "sts-mismatch.test";
/// Testing; MX mail.customer.test: what enforce would refuse; an invalid TLS-RPT record.
pub const TESTING: &str = "sts-testing.test";
/// Enforce with `mx: *.test`, which does not cover mail.good.test.
pub const DEEP: &str = "sts-deep.test";
/// The policy host's name leads to an address where nothing listens.
pub const DOWN: &str = "sts-down.test";
/// The policy host answers with a redirect.
pub const REDIRECT: &str = "sts-redirect.test";
/// The policy host answers 404.
pub const MISSING: &str = "sts-missing.test";
/// The policy is served as text/html.
pub const HTML: &str = "sts-html.test";
/// The policy is over 64 KiB.
pub const LARGE: &str = "sts-large.test";
/// Its max_age is over the limit.
pub const MAX_AGE: &str = "sts-maxage.test";
/// The policy host's certificate does not name it.
pub const BADCERT: &str = "sts-badcert.test";
/// Two `_mta-sts` records begin with v=STSv1.
pub const TWO_RECORDS: &str = "sts-two.test";

/// Every domain, for the tests that go over all of them.
pub const DOMAINS: [&str; 12] = [
    ENFORCE,
    MISMATCH,
    TESTING,
    DEEP,
    DOWN,
    REDIRECT,
    MISSING,
    HTML,
    LARGE,
    MAX_AGE,
    BADCERT,
    TWO_RECORDS,
];

/// The names on the policy host's certificate: every policy host but BADCERT's.
pub fn web_names() -> Vec<String> {
    DOMAINS
        .iter()
        .filter(|d| **d != BADCERT)
        .map(|d| format!("mta-sts.{d}"))
        .chain([format!("www.{REDIRECT}")])
        .collect()
}

/// dnsmasq lines: MX, TXT and the policy hosts' addresses. `good` and `mismatch` are the MX
/// hosts, `dead` an address where nothing listens.
pub fn dns_records(good: &str, mismatch: &str, dead: &str) -> String {
    let mut conf = String::new();
    for domain in DOMAINS {
        let mx = if matches!(domain, MISMATCH | TESTING) {
            mismatch
        } else {
            good
        };
        let web = if domain == DOWN { dead } else { WEB };
        conf.push_str(&format!(
            "mx-host={domain},{mx},10\nhost-record=mta-sts.{domain},{web}\n\
             txt-record=_mta-sts.{domain},\"v=STSv1; id=20260601\"\n"
        ));
    }
    conf.push_str(&format!(
        "txt-record=_mta-sts.{TWO_RECORDS},\"v=STSv1; id=20260602\"\n\
         txt-record=_mta-sts.{ENFORCE},\"v=spf1 -all\"\n\
         host-record=www.{REDIRECT},{WEB}\n\
         txt-record=_smtp._tls.{ENFORCE},\"v=TLSRPTv1; rua=mailto:tls-reports@{ENFORCE}\"\n\
         txt-record=_smtp._tls.{TESTING},\"v=TLSRPTv1; rua=ftp://reports.{TESTING}/\"\n"
    ));
    conf
}
