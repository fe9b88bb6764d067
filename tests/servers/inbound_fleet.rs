//! Issue 23, part 6, on the main lab: a scan of the lab's MTA-STS domains (tests/lab/mta_sts.rs:
//! dnsmasq records, the Python policy host, the lab's Postfix on port 25) and of fleet domains
//! (tests/lab/fleet.rs) stores each one's MTA-STS state and policy problems, and the answer to
//! "can a certificate cost it mail?". dnsmasq signs nothing and reaches no root whose keys
//! mailtls could validate from: DANE is not known anywhere, and the answer is `unknown` except
//! where MTA-STS in enforce mode already refuses the MX (`yes`). The delivery lab's signed
//! zones are in tests/delivery_fleet.rs.

use libtest_mimic::Failed;
use serde_json::{Value, json};

use super::lab::{self, fleet, mta_sts};
use super::scan::{query, scan, scratch, write_list};
use super::{ensure, run};

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![(
        "inbound_scan_of_the_lab_mta_sts_domains_and_fleet",
        scan_rows,
    )]
}

/// Each domain: its MTA-STS state, its MTA-STS problems, the answer.
fn expected() -> Vec<(String, &'static str, &'static str, &'static str)> {
    let mut rows = vec![
        (mta_sts::ENFORCE, "enforce", "", "unknown"),
        (
            mta_sts::MISMATCH,
            "enforce",
            "mta-sts-mx-certificate",
            "yes",
        ),
        (
            mta_sts::TESTING,
            "testing",
            "mta-sts-mx-certificate",
            "unknown",
        ),
        (mta_sts::DEEP, "enforce", "mta-sts-mx-unlisted", "yes"),
        (
            mta_sts::DOWN,
            "policy-unavailable",
            "mta-sts-policy-unreachable",
            "unknown",
        ),
        (
            mta_sts::REDIRECT,
            "policy-unavailable",
            "mta-sts-policy-answer",
            "unknown",
        ),
        (
            mta_sts::MISSING,
            "policy-unavailable",
            "mta-sts-policy-answer",
            "unknown",
        ),
        (
            mta_sts::HTML,
            "policy-unavailable",
            "mta-sts-policy-answer",
            "unknown",
        ),
        (
            mta_sts::LARGE,
            "policy-unavailable",
            "mta-sts-policy-answer",
            "unknown",
        ),
        (
            mta_sts::MAX_AGE,
            "policy-invalid",
            "mta-sts-policy-invalid",
            "unknown",
        ),
        (
            mta_sts::BADCERT,
            "policy-unavailable",
            "mta-sts-policy-certificate",
            "unknown",
        ),
        (
            mta_sts::TWO_RECORDS,
            "record-invalid",
            "mta-sts-record-invalid",
            "unknown",
        ),
    ]
    .into_iter()
    .map(|(d, s, p, c)| (d.to_string(), s, p, c))
    .collect::<Vec<_>>();
    for (domain, _) in fleet::domains()
        .filter(|(_, kind)| *kind == fleet::Kind::Good)
        .take(3)
    {
        rows.push((domain, "not-published", "", "unknown"));
    }
    rows.sort();
    rows
}

fn scan_rows(ca: &str) -> Result<(), Failed> {
    let dir = scratch("inbound")?;
    let expected = expected();
    let domains: Vec<String> = expected.iter().map(|(d, ..)| d.clone()).collect();
    let list = write_list(&dir, "domains.txt", &domains)?;
    let db = dir.join("scan.sqlite").display().to_string();
    let (status, _, stderr) = run::output_of(&mut scan(ca, &list, &db, &["--scan", "inbound"]));
    ensure(status == 0, || format!("scan: exit {status}: {stderr}"))?;
    let rows = query(
        &db,
        "SELECT target, mta_sts, policy_problems, dane, costs_mail FROM inbound ORDER BY target",
    )?;
    let want: Vec<Vec<Option<String>>> = expected
        .iter()
        .map(|(d, s, p, c)| {
            vec![
                Some(d.clone()),
                Some(s.to_string()),
                (!p.is_empty()).then(|| p.to_string()),
                Some("unknown".to_string()),
                Some(c.to_string()),
            ]
        })
        .collect();
    for (row, want) in rows.iter().zip(&want) {
        ensure(row == want, || format!("row {row:?}, expected {want:?}"))?;
    }
    ensure(rows.len() == want.len(), || {
        format!("{} rows: {rows:?}", rows.len())
    })?;
    // The report's counts.
    let (_, stdout, stderr) = run::mailtls(&["scan", "report", &db, "--json"]);
    let json: Value =
        serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout} {stderr}"))?;
    ensure(
        json["inbound"]["mta_sts"]
            == json!([
                {"value": "policy-unavailable", "targets": 6},
                {"value": "not-published", "targets": 3},
                {"value": "enforce", "targets": 3},
                {"value": "testing", "targets": 1},
                {"value": "record-invalid", "targets": 1},
                {"value": "policy-invalid", "targets": 1},
            ])
            && json["inbound"]["dane"] == json!([{"value": "unknown", "targets": 15}])
            && json["inbound"]["costs_mail"]
                == json!([
                    {"value": "unknown", "targets": 13},
                    {"value": "yes", "targets": 2},
                ]),
        || format!("{}", json["inbound"]),
    )?;
    let _ = lab::DNS;
    Ok(())
}
