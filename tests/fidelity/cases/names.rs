//! Names: how the name on the certificate relates to the name typed.

use super::*;

/// How the name on the certificate relates to the name typed.
pub(super) fn names_group(b: &mut Builder<'_>) -> Result<(), String> {
    for key in USUAL_KEYS {
        let dns = |names: &[&str]| names.iter().map(|n| San::Dns(n.to_string())).collect();
        // (what, about, SAN entries, CN, typed; `{}` is the case's base name), faults.
        type Shape = (
            &'static str,
            &'static str,
            Vec<&'static str>,
            Option<&'static str>,
            &'static str,
            Vec<Fault>,
        );
        let shapes: Vec<Shape> = vec![
            (
                "san-exact",
                "the name typed is in subjectAltName",
                vec!["mail.{}"],
                Some("mail.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "san-only-no-cn",
                "the name is in subjectAltName and the subject has no CN",
                vec!["mail.{}"],
                None,
                "mail.{}",
                vec![],
            ),
            (
                "cn-only",
                "the name is only in the CN; no subjectAltName at all",
                vec![],
                Some("mail.{}"),
                "mail.{}",
                vec![Fault::CommonNameOnly],
            ),
            (
                "cn-typed-san-other",
                "the CN is the name typed, the subjectAltName another",
                vec!["other.{}"],
                Some("mail.{}"),
                "mail.{}",
                vec![Fault::CommonNameOnly],
            ),
            (
                "cn-other-san-typed",
                "the subjectAltName is the name typed, the CN another",
                vec!["mail.{}"],
                Some("other.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "mismatch",
                "neither name is the one typed",
                vec!["other.{}"],
                Some("other.{}"),
                "mail.{}",
                vec![Fault::Name],
            ),
            (
                "san-upper-case",
                "the subjectAltName in upper case",
                vec!["MAIL.{U}"],
                Some("mail.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "typed-upper-case",
                "the name typed in upper case",
                vec!["mail.{}"],
                Some("mail.{}"),
                "MAIL.{U}",
                vec![],
            ),
            (
                "san-trailing-dot",
                "the subjectAltName ends in a dot",
                vec!["mail.{}."],
                Some("mail.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "typed-trailing-dot",
                "the name typed ends in a dot",
                vec!["mail.{}"],
                Some("mail.{}"),
                "mail.{}.",
                vec![],
            ),
            (
                "idn-typed-unicode",
                "an internationalised name typed in Unicode, A-label on the certificate",
                vec!["xn--mil-qla.{}"],
                Some("xn--mil-qla.{}"),
                "mäil.{}",
                vec![],
            ),
            (
                "idn-typed-a-label",
                "an internationalised name typed as its A-label",
                vec!["xn--mil-qla.{}"],
                Some("xn--mil-qla.{}"),
                "xn--mil-qla.{}",
                vec![],
            ),
            (
                "idn-typed-upper-unicode",
                "an internationalised name typed in upper-case Unicode",
                vec!["xn--mil-qla.{}"],
                Some("xn--mil-qla.{}"),
                "MÄIL.{U}",
                vec![],
            ),
            (
                "wildcard",
                "a wildcard covers the left-most label",
                vec!["*.{}"],
                Some("*.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "wildcard-two-labels",
                "a wildcard does not cover two labels",
                vec!["*.{}"],
                Some("*.{}"),
                "a.mail.{}",
                vec![Fault::Name],
            ),
            (
                "wildcard-apex",
                "a wildcard does not cover the apex",
                vec!["*.{}"],
                Some("*.{}"),
                "{}",
                vec![Fault::Name],
            ),
            (
                "wildcard-partial-suffix",
                "a partial wildcard mail*.",
                vec!["mail*.{}"],
                Some("mail*.{}"),
                "mail1.{}",
                vec![Fault::Name],
            ),
            (
                "wildcard-partial-prefix",
                "a partial wildcard *mail.",
                vec!["*mail.{}"],
                Some("*mail.{}"),
                "webmail.{}",
                vec![Fault::Name],
            ),
            (
                "wildcard-double",
                "a wildcard *.*.",
                vec!["*.*.{}"],
                Some("*.*.{}"),
                "a.b.{}",
                vec![Fault::Name],
            ),
            (
                "wildcard-not-left-most",
                "a wildcard that is not the left-most label",
                vec!["mail.*.{}"],
                Some("mail.{}"),
                "mail.x.{}",
                vec![Fault::Name],
            ),
            (
                "wildcard-in-cn-only",
                "a wildcard only in the CN",
                vec![],
                Some("*.{}"),
                "mail.{}",
                vec![Fault::CommonNameOnly],
            ),
            (
                "wildcard-and-exact",
                "a wildcard and the exact name",
                vec!["*.{}", "mail.{}"],
                Some("mail.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "many-names",
                "the name typed is the 60th of 60 names",
                vec![],
                Some("mail.{}"),
                "mail.{}",
                vec![],
            ),
            (
                "parent-only",
                "the certificate names only the domain, not the host",
                vec!["{}"],
                Some("{}"),
                "mail.{}",
                vec![Fault::Name],
            ),
            (
                "ip-in-dns-name",
                "the address written as a dNSName",
                vec!["{IP}"],
                Some("{IP}"),
                "{IP}",
                vec![Fault::Name],
            ),
        ];
        for (what, about, san, cn, typed, faults) in shapes {
            let base = b.base();
            let ip = b.address().to_string();
            let fill = |s: &str| {
                s.replace("{U}", &base.to_ascii_uppercase())
                    .replace("{IP}", &ip)
                    .replace("{}", &base)
            };
            let mut d = b.draft("names", what, key, about);
            d.typed = fill(typed);
            d.leaf.common_name = cn.map(fill);
            d.leaf.san = dns(&san
                .iter()
                .map(|s| fill(s))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>());
            if what == "many-names" {
                d.leaf.san = (1..60)
                    .map(|i| San::Dns(format!("host{i}.{base}")))
                    .chain(std::iter::once(San::Dns(format!("mail.{base}"))))
                    .collect();
            }
            d.faults = faults;
            b.push(d)?;
        }
        // Addresses: an iPAddress entry, none (a name only), the address only in the CN.
        for (what, about, ip_san, cn_ip, faults) in [
            (
                "ip-san",
                "connected by address; the address is an iPAddress entry",
                true,
                false,
                vec![],
            ),
            (
                "ip-not-on-certificate",
                "connected by address; the certificate names only a DNS name",
                false,
                false,
                vec![Fault::Name],
            ),
            (
                "ip-in-cn-only",
                "connected by address; the address only in the CN",
                false,
                true,
                vec![Fault::CommonNameOnly],
            ),
        ] {
            let ip = b.address();
            let base = b.base();
            let mut d = b.draft("names", what, key, about);
            d.typed = ip.to_string();
            d.leaf.san = if ip_san {
                vec![San::Dns(format!("mail.{base}")), San::Ip(ip.into())]
            } else if cn_ip {
                Vec::new()
            } else {
                vec![San::Dns(format!("mail.{base}"))]
            };
            d.leaf.common_name = Some(if cn_ip {
                ip.to_string()
            } else {
                format!("mail.{base}")
            });
            d.faults = faults;
            b.push(d)?;
        }
        // An alias: the name typed is a CNAME of the name on the certificate.
        let base = b.base();
        let mut d = b.draft(
            "names",
            "cname-alias",
            key,
            "the name typed is an alias (CNAME) of the name on the certificate",
        );
        d.typed = format!("mail.{base}");
        d.leaf.common_name = Some(format!("host.{base}"));
        d.leaf.san = vec![San::Dns(format!("host.{base}"))];
        d.cname = Some((format!("mail.{base}"), format!("host.{base}")));
        d.faults = vec![Fault::Name];
        b.push(d)?;
        // A wildcard over a public suffix (ICANN's co.uk): served under its own name.
        let mut d = b.draft(
            "names",
            "wildcard-public-suffix",
            key,
            "a wildcard over a public suffix (*.co.uk)",
        );
        let label = format!("mail{}", b.cases.len() + 1);
        d.typed = format!("{label}.co.uk");
        d.leaf.common_name = Some("*.co.uk".to_string());
        d.leaf.san = vec![San::Dns("*.co.uk".to_string())];
        // CAs may not issue it (CA/B BR 3.2.2.6), but every client takes it: not a fault here.
        b.push(d)?;
    }
    Ok(())
}
