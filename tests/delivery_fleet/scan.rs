//! The scans of tests/delivery_fleet.rs: the rows, `scan report` in text, JSON and CSV, the
//! same into PostgreSQL, and `scan diff` after the policy host changed two policies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use serde_json::json;

use super::lab::delivery::cases::{CASES, Case, Sts};
use super::lab::delivery::{POLICY_HOST, policy_host, zones};
use super::{SCANNED, World, case, ensure, json_of, mailtls, run, world};

pub use super::lab::sql::query;

pub fn scratch(name: &str) -> Result<PathBuf, Failed> {
    let dir = world()?.dir.join("scans").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// The scan list: the domains of [`SCANNED`], one per line.
pub fn list(dir: &Path) -> Result<PathBuf, Failed> {
    let path = dir.join("domains.txt");
    let text: String = SCANNED
        .iter()
        .map(|e| format!("{}.example\n", e.label))
        .collect();
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// `mailtls scan` of `list` into `db` as scan `name`; its exit status must be 0.
pub fn scan_into(list: &Path, db: &str, name: &str) -> Result<(), Failed> {
    let world = world()?;
    let started = Instant::now();
    let (status, _, stderr) = mailtls(
        world,
        "scan",
        &[
            &list.display().to_string(),
            "--db",
            db,
            "--scan",
            name,
            "--per-ip-rate",
            "0",
        ],
    );
    println!(
        "scan {name} of {} domains: {:.1} s",
        SCANNED.len(),
        started.elapsed().as_secs_f64()
    );
    ensure(status == 0, || {
        format!("scan {name}: exit {status}: {stderr}")
    })
}

/// The `inbound` rows of a scan: (target, mta_sts, policy_problems, dane, costs_mail).
fn inbound_rows(db: &str, scan: &str) -> Result<Vec<Vec<Option<String>>>, Failed> {
    query(
        db,
        &format!(
            "SELECT target, mta_sts, policy_problems, dane, costs_mail FROM inbound \
             WHERE scan_id = '{scan}' ORDER BY target"
        ),
    )
}

/// Each domain's row as [`SCANNED`] says, in target order.
fn expected_rows() -> Vec<Vec<Option<String>>> {
    let mut rows: Vec<Vec<Option<String>>> = SCANNED
        .iter()
        .map(|e| {
            vec![
                Some(format!("{}.example", e.label)),
                Some(e.mta_sts.to_string()),
                (!e.policy_problems.is_empty()).then(|| e.policy_problems.join(",")),
                Some(e.dane.to_string()),
                Some(e.costs_mail.to_string()),
            ]
        })
        .collect();
    rows.sort();
    rows
}

/// The scan's rows (SQLite), then `scan report` in JSON, text and CSV.
pub fn rows() -> Result<(), Failed> {
    let dir = scratch("rows")?;
    let list = list(&dir)?;
    let db = dir.join("scan.sqlite").display().to_string();
    scan_into(&list, &db, "first")?;
    let rows = inbound_rows(&db, "first")?;
    let expected = expected_rows();
    for (row, want) in rows.iter().zip(&expected) {
        ensure(row == want, || format!("row {row:?}, expected {want:?}"))?;
    }
    ensure(rows.len() == expected.len(), || {
        format!("{} rows: {rows:?}", rows.len())
    })?;
    // Each domain's one MX: what MTA-STS and DANE senders do there.
    let mx = query(
        &db,
        "SELECT target, host, mta_sts_sender, dane_sender FROM inbound_mx \
         WHERE scan_id = 'first' ORDER BY target",
    )?;
    for want in &SCANNED {
        let case = case(want.label)?;
        let target = format!("{}.example", want.label);
        let row = mx
            .iter()
            .find(|r| r[0].as_deref() == Some(target.as_str()))
            .ok_or_else(|| format!("no MX row of {target}: {mx:?}"))?;
        let host = zones::mx_host(case);
        ensure(
            row[1].as_deref() == Some(host.as_str())
                && row[2].as_deref() == Some(want.senders.0)
                && row[3].as_deref() == Some(want.senders.1),
            || format!("{target}: {row:?}, expected {host} {:?}", want.senders),
        )?;
    }
    // The refusals are problems of the scan, on the MX host, through MX.
    let problems = query(
        &db,
        "SELECT target, code, severity, server, port, source FROM problems \
         WHERE scan_id = 'first' AND code LIKE 'mta-sts-mx-%' ORDER BY target",
    )?;
    let mismatch = "sts-enforce-mismatch.example";
    ensure(
        problems.iter().any(|p| {
            p == &[
                Some(mismatch.to_string()),
                Some("mta-sts-mx-certificate".to_string()),
                Some("error".to_string()),
                Some(format!("mx.{mismatch}")),
                Some("25".to_string()),
                Some("mx".to_string()),
            ]
        }),
        || format!("{problems:?}"),
    )?;

    // A TXT record's problem is the domain's; the policy host's is on it, port 443.
    let domain_level = query(
        &db,
        "SELECT target, code, severity, server, port, source FROM problems \
         WHERE scan_id = 'first' AND code IN ('mta-sts-record-invalid', \
         'mta-sts-policy-unreachable') ORDER BY target",
    )?;
    let row = |target: &str, code: &str, server: &str, port: Option<&str>| {
        vec![
            Some(target.to_string()),
            Some(code.to_string()),
            Some("warning".to_string()),
            Some(server.to_string()),
            port.map(str::to_string),
            None,
        ]
    };
    ensure(
        domain_level
            == [
                row(
                    "sts-policy-down.example",
                    "mta-sts-policy-unreachable",
                    "mta-sts.sts-policy-down.example",
                    Some("443"),
                ),
                row(
                    "sts-two-records.example",
                    "mta-sts-record-invalid",
                    "sts-two-records.example",
                    None,
                ),
            ],
        || format!("{domain_level:?}"),
    )?;

    // The report, as JSON: each target's inbound, and the counts.
    let world = world()?;
    let (status, stdout, stderr) = run::mailtls(&["scan", "report", &db, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    ensure(status == 2, || format!("exit {status}: a domain fails"))?;
    for want in &SCANNED {
        let target = format!("{}.example", want.label);
        let row = json["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["target"] == target.as_str())
            .ok_or_else(|| format!("{target} not in the report"))?;
        let inbound = &row["inbound"];
        ensure(
            inbound["mta_sts"] == want.mta_sts
                && inbound["dane"] == want.dane
                && inbound["costs_mail"] == want.costs_mail
                && inbound["policy_problems"] == json!(want.policy_problems),
            || format!("{target}: {inbound}"),
        )?;
    }
    let count = |field: &str, value: &str| {
        SCANNED
            .iter()
            .filter(|e| match field {
                "mta_sts" => e.mta_sts == value,
                "dane" => e.dane == value,
                _ => e.costs_mail == value,
            })
            .count() as u64
    };
    for field in ["mta_sts", "dane", "costs_mail"] {
        for entry in json["inbound"][field].as_array().into_iter().flatten() {
            let value = entry["value"].as_str().unwrap_or_default();
            ensure(entry["targets"] == count(field, value), || {
                format!("{field} {value}: {entry}")
            })?;
        }
    }
    ensure(
        json["inbound"]["mta_sts"][0] == json!({"value": "not-published", "targets": 5}),
        || format!("{}", json["inbound"]),
    )?;

    // As text: the counts and one line per domain (printed: the lab's fleet at a glance).
    let (_, text, _) = run::mailtls(&["scan", "report", &db]);
    if let Some((lead, rest)) = text.split_once("\nTargets per cause") {
        let inbound = rest.split("\nTargets\n").next().unwrap_or_default();
        println!("\n{lead}\nTargets per cause{inbound}");
    }
    ensure(
        text.contains("\nInbound mail (port 25), per mail domain\n  MTA-STS     5 not-published, 3 enforce, 1 testing, 1 none, 1 record-invalid, 1 policy-unavailable\n"),
        || text.clone(),
    )?;
    for want in &SCANNED {
        let target = format!("{}.example", want.label);
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(target.as_str()))
            .ok_or_else(|| format!("no line for {target}: {text}"))?;
        let mut cells = vec![target.as_str(), want.mta_sts, want.dane, want.costs_mail];
        let problems = want.policy_problems.join(", ");
        if !problems.is_empty() {
            cells.push(&problems);
        }
        let found: Vec<&str> = line.split_whitespace().collect();
        ensure(found == cells, || format!("{line:?}, expected {cells:?}"))?;
    }
    // As CSV: the last three columns.
    let (_, csv, _) = run::mailtls(&["scan", "report", &db, "--csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let target = record.get(0).unwrap_or_default();
        let want = SCANNED
            .iter()
            .find(|e| format!("{}.example", e.label) == target)
            .ok_or_else(|| format!("{target} in the CSV"))?;
        let n = record.len();
        let last: Vec<&str> = (n - 3..n).filter_map(|i| record.get(i)).collect();
        ensure(last == [want.mta_sts, want.dane, want.costs_mail], || {
            format!("{target}: {last:?}")
        })?;
    }
    let _ = world;
    Ok(())
}

/// The same list into the lab's PostgreSQL: the migration there, the same inbound rows.
pub fn postgres() -> Result<(), Failed> {
    let world = world()?;
    let postgres = super::lab::postgres::Postgres::start(&world.dir.join("postgres"))?;
    let outcome = (|| {
        postgres.create_database("inbound")?;
        let dir = scratch("postgres")?;
        let list = list(&dir)?;
        let db = super::lab::postgres::url("inbound");
        scan_into(&list, &db, "first")?;
        let rows = inbound_rows(&db, "first")?;
        ensure(rows == expected_rows(), || format!("{rows:?}"))?;
        let mx = query(
            &db,
            "SELECT COUNT(*) FROM inbound_mx WHERE scan_id = 'first'",
        )?;
        ensure(mx == [[Some(SCANNED.len().to_string())]], || {
            format!("{mx:?}")
        })
    })();
    postgres.stop();
    outcome
}

/// The policy host answers the policies of `cases` from now on: the one started in directory
/// `from` stopped, one started in `to`.
fn restart_policy_host(world: &World, from: &str, to: &str, cases: &[Case]) -> Result<(), Failed> {
    let pid_file = world.dir.join(from).join("policy-host.pid");
    let pid =
        std::fs::read_to_string(&pid_file).map_err(|e| format!("{}: {e}", pid_file.display()))?;
    // The policy host is this test's own process (tests/lab/delivery/policy_host.rs).
    let status = Command::new("kill")
        .arg(pid.trim())
        .status()
        .map_err(|e| e.to_string())?;
    ensure(status.success(), || format!("kill {pid}: {status}"))?;
    let socket: std::net::SocketAddr = format!("{POLICY_HOST}:443")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect_timeout(&socket, Duration::from_millis(200)).is_ok() {
        ensure(Instant::now() < deadline, || {
            "the policy host still answers 10 s after kill".to_string()
        })?;
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = world.dir.join(to);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    policy_host::start(&dir, cases, &world.certs).map_err(Failed::from)
}

/// sts-testing is enforced (its MX's certificate is for another name: it now fails) and
/// sts-enforce goes back to testing (its MX passes: nothing else changes); a second scan and
/// `scan diff` name exactly those two, with their MTA-STS change.
pub fn diff() -> Result<(), Failed> {
    let world = world()?;
    let dir = scratch("diff")?;
    let list = list(&dir)?;
    let db = dir.join("scan.sqlite").display().to_string();
    scan_into(&list, &db, "before")?;
    let mode = |case: &Case, mode: &'static str| -> Case {
        Case {
            sts: case.sts.map(|sts| Sts { mode, ..sts }),
            ..*case
        }
    };
    let changed: Vec<Case> = CASES
        .iter()
        .map(|c| match c.label {
            "sts-testing" => mode(c, "enforce"),
            "sts-enforce" => mode(c, "testing"),
            _ => *c,
        })
        .collect();
    restart_policy_host(world, "policy-host", "policy-host-changed", &changed)?;
    let scanned = scan_into(&list, &db, "after");
    // Whatever happened, the lab's policies as the table has them again.
    restart_policy_host(world, "policy-host-changed", "policy-host-restored", CASES)?;
    scanned?;
    let (status, stdout, stderr) =
        run::mailtls(&["scan", "diff", "before", "after", "--db", &db, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let testing = "sts-testing.example";
    let enforce = "sts-enforce.example";
    // Its MX's certificate made clients warn before (the MX is handed out to them too): the
    // verdict stays `fail`, but the certificate now costs mail.
    ensure(
        json["broke"]
            == json!([{
                "target": testing, "before": "fail", "after": "fail", "gained": [], "lost": [],
                "mta_sts": {"before": "testing", "after": "enforce"}, "dane": null,
                "costs_mail": {"before": "not-yet", "after": "yes"}
            }]),
        || format!("broke: {}", json["broke"]),
    )?;
    ensure(json["fixed"] == json!([]), || {
        format!("fixed: {}", json["fixed"])
    })?;
    // Its MX passes the policy: enforce or testing, nothing else changes.
    ensure(
        json["changed"]
            == json!([{
                "target": enforce, "before": "warn", "after": "warn", "gained": [], "lost": [],
                "mta_sts": {"before": "enforce", "after": "testing"}, "dane": null,
                "costs_mail": null
            }]),
        || format!("changed: {}", json["changed"]),
    )?;
    // A domain that broke and fails: 2.
    ensure(status == 2, || format!("exit {status}: one broke, failing"))?;
    let (_, text, _) = run::mailtls(&["scan", "diff", "before", "after", "--db", &db]);
    ensure(
        text.contains(&format!(
            "\nBroke\n  {testing}: fail → fail (MTA-STS testing → enforce; costs mail not-yet \
             → yes)\n"
        )) && text.contains(&format!(
            "\nChanged (MTA-STS or DANE)\n  {enforce}: warn → warn (MTA-STS enforce → testing)\n"
        )),
        || text.clone(),
    )?;
    // The rows of the second scan say the same.
    let after = inbound_rows(&db, "after")?;
    let state = |target: &str| {
        after
            .iter()
            .find(|r| r[0].as_deref() == Some(target))
            .and_then(|r| r[1].clone())
    };
    ensure(
        state(testing).as_deref() == Some("enforce")
            && state(enforce).as_deref() == Some("testing"),
        || format!("{after:?}"),
    )
}
