//! Judging recorded reputation observations.

use super::*;
use crate::observation::{CodeTable, DnsblLookup, HostLookup, PtrLookup, ZoneKind};

const ADDRESS: &str = "192.0.2.25";

fn zones() -> Vec<Zone> {
    ["zen.example", "other.example"]
        .iter()
        .map(|name| Zone {
            name: name.to_string(),
            kind: ZoneKind::Ip,
            codes: CodeTable::Spamhaus,
            delist_url: Some(format!("https://{name}/remove")),
        })
        .collect()
}

/// A recorded run: one address, the given PTR names, and one answer per zone.
fn observed(ptr: &[&str], answers: [DnsblAnswer; 2]) -> ReputationObservations {
    let address: IpAddr = ADDRESS.parse().unwrap();
    ReputationObservations {
        target: Target::Ip(address),
        hosts: vec![HostLookup {
            name: ADDRESS.to_string(),
            role: HostRole::Target,
            addresses: vec![address],
            error: None,
        }],
        ptr: vec![PtrLookup {
            address,
            names: ptr.iter().map(|p| p.to_string()).collect(),
            unanswered: false,
        }],
        forward: Vec::new(),
        dnsbl: zones()
            .iter()
            .zip(answers)
            .map(|(zone, answer)| DnsblLookup {
                zone: zone.name.clone(),
                subject: ADDRESS.to_string(),
                query: dnsbl::ip_query(address, &zone.name),
                answer,
            })
            .collect(),
        smtp: Vec::new(),
        zones: zones(),
        delivery: None,
    }
}

fn judge_now(observations: &ReputationObservations) -> Reputation {
    judge(
        observations,
        &crate::analyze::chain::TrustAnchors::default(),
        0,
    )
}

fn refused() -> DnsblAnswer {
    DnsblAnswer::Records {
        codes: vec!["127.255.255.254".parse().unwrap()],
        text: Vec::new(),
    }
}

#[test]
fn refusals_alone_mean_could_not_check_never_listed() {
    let judged = judge_now(&observed(
        &["mx.example"],
        [refused(), DnsblAnswer::Timeout],
    ));
    assert_eq!(judged.verdict, Verdict::Unknown);
    assert!(
        judged.summary.starts_with("Could not check"),
        "{}",
        judged.summary
    );
    assert!(judged.notes.iter().any(|n| n.contains("--dns")));
    assert!(judged.fixes.iter().all(|f| !f.contains("listed")));
}

#[test]
fn a_listing_leads_with_the_cause_and_the_removal_page() {
    let listed = DnsblAnswer::Records {
        codes: vec!["127.0.0.10".parse().unwrap()],
        text: Vec::new(),
    };
    let judged = judge_now(&observed(&[], [listed, DnsblAnswer::NotListed]));
    assert_eq!(judged.verdict, Verdict::Fail);
    assert_eq!(
        judged.summary,
        format!("Listed: {ADDRESS} is on zen.example.")
    );
    assert!(
        judged.fixes[0].contains("provider's relay"),
        "{}",
        judged.fixes[0]
    );
    assert!(judged.fixes[0].ends_with("https://zen.example/remove."));
    // No PTR at all is the second thing to fix.
    assert!(
        judged.fixes[1].contains("no reverse DNS"),
        "{:?}",
        judged.fixes
    );
}

#[test]
fn clean_but_unconfirmed_reverse_dns_is_a_warning() {
    let judged = judge_now(&observed(
        &["mx.example"],
        [DnsblAnswer::NotListed, DnsblAnswer::NotListed],
    ));
    assert_eq!(judged.verdict, Verdict::Warn);
    assert!(judged.summary.starts_with("Not listed"));
    assert!(judged.fixes[0].contains("does not resolve back"));
    assert!(!judged.addresses[0].fcrdns);
}

#[test]
fn unanswered_reverse_dns_is_unknown_not_missing() {
    let mut seen = observed(&[], [DnsblAnswer::NotListed, DnsblAnswer::NotListed]);
    seen.ptr[0].unanswered = true;
    let judged = judge_now(&seen);
    assert!(
        judged.fixes.iter().all(|f| !f.contains("reverse DNS")),
        "{:?}",
        judged.fixes
    );
    assert!(
        judged
            .notes
            .iter()
            .any(|n| n.contains("could not be checked: DNS did not answer")),
        "{:?}",
        judged.notes
    );
    // A PTR name whose forward lookup went unanswered is not "does not resolve back".
    let mut seen = observed(
        &["mx.example"],
        [DnsblAnswer::NotListed, DnsblAnswer::NotListed],
    );
    seen.forward.push(crate::observation::NameLookup {
        name: "mx.example".to_string(),
        addresses: Vec::new(),
        unanswered: true,
    });
    let judged = judge_now(&seen);
    assert!(
        judged
            .fixes
            .iter()
            .all(|f| !f.contains("does not resolve back")),
        "{:?}",
        judged.fixes
    );
}
