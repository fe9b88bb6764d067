//! The case table as DNS zones: one child zone of `example.` per case, plus the two zones MX
//! hosts can live in elsewhere (`hosts-signed.example`, `hosts-unsigned.example`), and what
//! the validating resolver must answer for each (the lab checks itself before any sender runs).

use super::cases::{Case, Place, Served, Zone};
use super::certs::Certs;
use super::dns::{Signing, Status, ZoneSpec};
use super::{DOWN, POLICY_HOST, domain, mx_address};

/// The secure zone that holds MX hosts of cases with [`Place::SignedHosts`].
pub const SIGNED_HOSTS: &str = "hosts-signed.example";
/// The insecure one, for [`Place::UnsignedHosts`].
pub const UNSIGNED_HOSTS: &str = "hosts-unsigned.example";

/// The name of a case's MX host.
pub fn mx_host(case: &Case) -> String {
    match case.place {
        Place::Own => format!("{}.{}", case.mx, domain(case)),
        Place::SignedHosts => format!("{}.{SIGNED_HOSTS}", case.label),
        Place::UnsignedHosts => format!("{}.{UNSIGNED_HOSTS}", case.label),
    }
}

/// Every child zone of `example.` the lab serves.
pub fn zones(cases: &[Case], certs: &Certs) -> Result<Vec<ZoneSpec>, String> {
    let mut zones = Vec::new();
    let mut signed_hosts = Vec::new();
    let mut unsigned_hosts = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let origin = domain(case);
        let mx = mx_host(case);
        let mut records = vec![format!("{origin}. MX 10 {mx}.")];
        let mut host = vec![format!("{mx}. A {}", mx_address(index))];
        for tlsa in case.tlsa {
            host.push(format!(
                "_25._tcp.{mx}. TLSA {} {} {} {}",
                tlsa.usage,
                tlsa.selector,
                tlsa.matching,
                certs.association(index, tlsa)?
            ));
        }
        match case.place {
            Place::Own => records.extend(host),
            Place::SignedHosts => signed_hosts.extend(host),
            Place::UnsignedHosts => unsigned_hosts.extend(host),
        }
        if let Some(sts) = case.sts {
            for n in 0..sts.txt_records {
                records.push(format!(
                    "_mta-sts.{origin}. TXT \"v=STSv1; id=lab{index}n{n}\""
                ));
            }
            let address = if sts.served == Served::Down {
                DOWN
            } else {
                POLICY_HOST
            };
            records.push(format!("mta-sts.{origin}. A {address}"));
            // Where MTA-STS senders report (RFC 8460 §3); no sender of the lab sends reports.
            records.push(format!(
                "_smtp._tls.{origin}. TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@{origin}\""
            ));
            if sts.served == Served::Redirect {
                records.push(format!("www.{origin}. A {POLICY_HOST}"));
            }
        }
        let signing = match case.zone {
            Zone::Secure => Signing::Signed,
            Zone::Insecure => Signing::Unsigned,
            Zone::Bogus => Signing::Bogus,
            Zone::ExpiredTlsaSignature => Signing::ExpiredSignatures("TLSA"),
        };
        zones.push(ZoneSpec {
            origin,
            records,
            signing,
        });
    }
    zones.push(ZoneSpec {
        origin: SIGNED_HOSTS.to_string(),
        records: signed_hosts,
        signing: Signing::Signed,
    });
    zones.push(ZoneSpec {
        origin: UNSIGNED_HOSTS.to_string(),
        records: unsigned_hosts,
        signing: Signing::Unsigned,
    });
    Ok(zones)
}

/// What the validating resolver must answer: each domain's MX, and each MX host's TLSA.
pub fn expectations(cases: &[Case]) -> Vec<(String, u16, Status)> {
    let mut expected = Vec::new();
    for case in cases {
        let mx_status = match case.zone {
            Zone::Secure | Zone::ExpiredTlsaSignature => Status::Secure,
            Zone::Insecure => Status::Insecure,
            Zone::Bogus => Status::Bogus,
        };
        expected.push((domain(case), super::dns::MX, mx_status));
        if !case.tlsa.is_empty() {
            let tlsa_status = match (case.place, case.zone) {
                (Place::SignedHosts, _) => Status::Secure,
                (Place::UnsignedHosts, _) => Status::Insecure,
                (Place::Own, Zone::ExpiredTlsaSignature) => Status::Bogus,
                (Place::Own, _) => mx_status,
            };
            expected.push((
                format!("_25._tcp.{}", mx_host(case)),
                super::dns::TLSA,
                tlsa_status,
            ));
        }
    }
    expected
}
