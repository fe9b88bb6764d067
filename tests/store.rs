//! The scan store read back and written when it fails, on real SQLite files, without the lab:
//! a row with a spelling no vocabulary of this mailtls knows (a newer mailtls wrote it, or a
//! hand) is left out of `scan report` and `scan diff` and counted as a store error in their
//! text, JSON and exit status, never a panic; a store that fails under writes counts each
//! failure.

#[path = "common/run.rs"]
mod run;
#[path = "common/schema.rs"]
mod schema;

use std::path::{Path, PathBuf};

use mailtls::scan::store::{ErrorKind, ScanSpec, Store};
use run::mailtls;

/// A directory of its own under the system's temporary directory, for one test's files (each
/// test removes it when it passes; a failed one leaves it to look at).
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailtls-store-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Runs SQL statements on a SQLite file directly (not through mailtls).
fn execute(db: &Path, statements: &[&str]) {
    runtime().block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rw", db.display());
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("the database opens");
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        pool.close().await;
    });
}

/// A scan database made by `mailtls scan` (an empty list: nothing reaches the network), with
/// scan `s` in it.
fn database(dir: &Path) -> PathBuf {
    let list = dir.join("empty.txt");
    std::fs::write(&list, "").expect("the list is written");
    let db = dir.join("scan.sqlite");
    let (status, _, stderr) = mailtls(&[
        "scan",
        &list.display().to_string(),
        "--db",
        &db.display().to_string(),
        "--scan",
        "s",
        "--dns",
        "127.0.0.1:53",
    ]);
    assert_eq!(status, 0, "{stderr}");
    db
}

fn target_row(scan: &str, target: &str, line: u32, verdict: &str) -> String {
    format!(
        "INSERT INTO targets (scan_id, target, line, account, kind, verdict, exit_code, summary, \
         fix, recommendation, error, checked_at, run_id, shard) VALUES ('{scan}', '{target}', \
         {line}, NULL, 'domain', '{verdict}', 2, 'The certificate does not cover the name.', \
         NULL, NULL, NULL, 1767225600, 'r', '1/1')"
    )
}

fn problem_row(seq: u32, code: &str, severity: &str, source: &str) -> String {
    format!(
        "INSERT INTO problems (scan_id, target, seq, code, severity, server, port, source, \
         expected_name, presented_names, suggested_name, verified) VALUES ('s', 'good.example', \
         {seq}, '{code}', '{severity}', 'mail.good.example', 993, '{source}', \
         'mail.good.example', 'luna.example', 'luna.example', 1)"
    )
}

/// The spellings no vocabulary of this mailtls knows.
const UNKNOWN: [&str; 5] = [
    "maybe",
    "quantum-flux",
    "catastrophic",
    "carrier-pigeon",
    "teleported",
];

#[test]
fn rows_this_mailtls_cannot_read_are_counted_as_store_errors_not_dropped() {
    let dir = scratch("unknown-spellings");
    let db = database(&dir);
    let db_text = db.display().to_string();
    execute(
        &db,
        &[
            // Scan s: one target that fails and one with a verdict from the future; a problem
            // that reads, and one each with an unknown code, severity and source; a discovery
            // row with an unknown status.
            &target_row("s", "good.example", 1, "fail"),
            &target_row("s", "newer.example", 2, UNKNOWN[0]),
            &problem_row(0, "name-mismatch", "error", "mx,srv"),
            &problem_row(1, UNKNOWN[1], "error", "srv"),
            &problem_row(2, "expired", UNKNOWN[2], "srv"),
            &problem_row(3, "expired", "warning", &format!("srv,{}", UNKNOWN[3])),
            &format!(
                "INSERT INTO discovery (scan_id, target, seq, source, url_or_record, hostname, \
                 port, security, status, detail, error, instead) VALUES ('s', 'good.example', 0, \
                 'srv', '_imaps._tcp.good.example', 'mail.good.example', 993, 'tls', '{}', \
                 NULL, NULL, NULL)",
                UNKNOWN[4]
            ),
            // Scan t, later: the target fixed, the newer one unreadable still.
            "INSERT INTO scans (id, created_at, input, options, mailtls_version) \
             VALUES ('t', 1867225600, '-', '{}', '9.9.9')",
            &target_row("t", "good.example", 1, "ok"),
            &target_row("t", "newer.example", 2, UNKNOWN[0]),
        ],
    );

    // The JSON report: what reads is all there; each row left out is counted and named.
    let (status, stdout, stderr) = mailtls(&["scan", "report", &db_text, "--scan", "s", "--json"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status, 2, "a target fails: {stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    schema::validate(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["store_errors"]["total"], 5, "{}", json["store_errors"]);
    assert_eq!(json["store_errors"]["unreadable_rows"], 5);
    let first: Vec<&str> = json["store_errors"]["first"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    for spelling in UNKNOWN {
        assert!(
            first.iter().any(|words| words.contains(spelling)),
            "{spelling} is named: {first:?}"
        );
    }
    assert!(
        first
            .iter()
            .any(|w| w.contains("a row of targets (target newer.example)")),
        "{first:?}"
    );
    let targets: Vec<&str> = json["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["target"].as_str())
        .collect();
    assert_eq!(targets, ["good.example"]);
    assert_eq!(json["verdicts"]["fail"], 1);
    assert_eq!(json["fixes"][0]["cause"], "name-mismatch");
    assert_eq!(
        json["fixes"][0]["sources"],
        serde_json::json!(["mx", "srv"])
    );
    assert_eq!(
        json["targets"][0]["codes"],
        serde_json::json!(["name-mismatch"])
    );

    // The text report says so under its first line.
    let (status, text, _) = mailtls(&["scan", "report", &db_text, "--scan", "s"]);
    assert_eq!(status, 2);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Scan s ("), "{text}");
    assert_eq!(
        lines[1], "  5 store errors (5 rows left out: they could not be read):",
        "{text}"
    );
    assert!(
        text.contains("\"teleported\" is not one this mailtls knows"),
        "{text}"
    );
    assert!(
        text.find("store errors") < text.find("What to fix"),
        "{text}"
    );

    // Nothing worse than a row that could not be read: not "all ok" (exit 3).
    let (status, stdout, _) = mailtls(&["scan", "report", &db_text, "--scan", "t", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        (
            status,
            &json["verdicts"]["ok"],
            &json["store_errors"]["total"]
        ),
        (3, &serde_json::json!(1), &serde_json::json!(1)),
        "{json}"
    );
    let (status, csv, _) = mailtls(&["scan", "report", &db_text, "--scan", "t", "--csv"]);
    assert_eq!(status, 3);
    assert_eq!(
        csv.lines().count(),
        2,
        "a header and the target that reads: {csv}"
    );

    // The diff of the two: good.example was fixed; the rows of both scans left out are counted.
    let (status, stdout, _) = mailtls(&["scan", "diff", "s", "t", "--db", &db_text, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    schema::validate(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        status, 3,
        "nothing broke, but not everything could be read: {json}"
    );
    assert_eq!(json["fixed"][0]["target"], "good.example");
    assert_eq!(json["store_errors"]["unreadable_rows"], 6, "{json}");
    let (_, text, _) = mailtls(&["scan", "diff", "s", "t", "--db", &db_text]);
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("  6 store errors")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn inbound_row(scan: &str, target: &str, mta_sts: &str, dane: &str, costs: &str) -> String {
    format!(
        "INSERT INTO inbound (scan_id, target, verdict, mta_sts, policy_problems, dane, tlsrpt, \
         costs_mail) VALUES ('{scan}', '{target}', 'warn', '{mta_sts}', \
         'mta-sts-mx-certificate', '{dane}', 'valid', '{costs}')"
    )
}

/// The mail domains' MTA-STS and DANE in the report (text, JSON, CSV) and the diff; a state
/// this mailtls does not know is a row left out and counted, like any other.
#[test]
fn inbound_rows_are_reported_and_diffed_and_unknown_states_counted() {
    let dir = scratch("inbound");
    let db = database(&dir);
    let db_text = db.display().to_string();
    execute(
        &db,
        &[
            &target_row("s", "a.example", 1, "warn"),
            &target_row("s", "b.example", 2, "warn"),
            &target_row("s", "c.example", 3, "warn"),
            &inbound_row("s", "a.example", "testing", "matches", "not-yet"),
            &inbound_row("s", "b.example", "enforce", "no-match", "yes"),
            &inbound_row("s", "c.example", UNKNOWN[1], "matches", "no"),
            &target_row("s", "d.example", 4, "fail"),
            &inbound_row("s", "d.example", "testing", "not-published", "not-yet"),
            "INSERT INTO scans (id, created_at, input, options, mailtls_version) \
             VALUES ('t', 1867225600, '-', '{}', '9.9.9')",
            &target_row("t", "a.example", 1, "warn"),
            &target_row("t", "b.example", 2, "warn"),
            &target_row("t", "c.example", 3, "warn"),
            &inbound_row("t", "a.example", "enforce", "matches", "no"),
            &inbound_row("t", "b.example", "enforce", "no-match", "yes"),
            &inbound_row("t", "c.example", "enforce", "matches", "no"),
            &target_row("t", "d.example", 4, "fail"),
            &inbound_row("t", "d.example", "enforce", "not-published", "yes"),
        ],
    );
    let (status, stdout, stderr) = mailtls(&["scan", "report", &db_text, "--scan", "s", "--json"]);
    assert_eq!(status, 2, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    schema::validate(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        json["targets"][0]["inbound"],
        serde_json::json!({
            "verdict": "warn", "mta_sts": "testing", "policy_problems": ["mta-sts-mx-certificate"],
            "dane": "matches", "tlsrpt": "valid", "costs_mail": "not-yet"
        })
    );
    assert_eq!(json["targets"][2]["inbound"], serde_json::Value::Null);
    assert_eq!(
        json["inbound"]["mta_sts"],
        serde_json::json!([{"value": "testing", "targets": 2}, {"value": "enforce", "targets": 1}])
    );
    assert_eq!(
        json["inbound"]["dane"],
        serde_json::json!([
            {"value": "not-published", "targets": 1},
            {"value": "matches", "targets": 1},
            {"value": "no-match", "targets": 1}
        ])
    );
    assert_eq!(json["store_errors"]["unreadable_rows"], 1, "{json}");
    assert!(
        json["store_errors"]["first"][0].as_str().is_some_and(|w| w
            .contains("a row of inbound (target c.example)")
            && w.contains(UNKNOWN[1])),
        "{}",
        json["store_errors"]
    );
    let (_, text, _) = mailtls(&["scan", "report", &db_text, "--scan", "s"]);
    assert!(
        text.contains("\nInbound mail (port 25), per mail domain\n  MTA-STS     2 testing, 1 enforce\n  DANE        1 not-published, 1 matches, 1 no-match\n  costs mail  2 not-yet, 1 yes\n"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("b.example"))
        .expect("b.example's inbound line");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "b.example",
            "enforce",
            "no-match",
            "yes",
            "mta-sts-mx-certificate"
        ]
    );
    let (_, csv, _) = mailtls(&["scan", "report", &db_text, "--scan", "s", "--csv"]);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.ends_with(",codes,mta_sts,dane,costs_mail")),
        "{csv}"
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.ends_with(",testing,matches,not-yet")),
        "{csv}"
    );

    // From s to t: a.example went from testing to enforce, its verdict and codes alike: a
    // change, not a breakage. d.example too, but its certificate now costs mail: it broke,
    // though its verdict was `fail` already. b.example did not change; c.example's row in s is
    // unreadable, so no change is claimed for it.
    let (status, stdout, _) = mailtls(&["scan", "diff", "s", "t", "--db", &db_text, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    schema::validate(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 2, "d.example broke, and it fails: {json}");
    assert_eq!(
        json["broke"],
        serde_json::json!([{
            "target": "d.example", "before": "fail", "after": "fail", "gained": [], "lost": [],
            "mta_sts": {"before": "testing", "after": "enforce"}, "dane": null,
            "costs_mail": {"before": "not-yet", "after": "yes"}
        }])
    );
    assert_eq!(
        json["changed"],
        serde_json::json!([{
            "target": "a.example", "before": "warn", "after": "warn", "gained": [], "lost": [],
            "mta_sts": {"before": "testing", "after": "enforce"}, "dane": null,
            "costs_mail": {"before": "not-yet", "after": "no"}
        }])
    );
    let (_, text, _) = mailtls(&["scan", "diff", "s", "t", "--db", &db_text]);
    assert!(
        text.contains(
            "\nChanged (MTA-STS or DANE)\n  a.example: warn → warn (MTA-STS testing → enforce; \
             costs mail not-yet → no)\n"
        ) && text.contains(
            "\nBroke\n  d.example: fail → fail (MTA-STS testing → enforce; costs mail not-yet → \
             yes)\n"
        ),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_report_of_rows_that_all_read_has_no_store_errors() {
    let dir = scratch("all-read");
    let db = database(&dir);
    execute(&db, &[&target_row("s", "good.example", 1, "ok")]);
    let (status, stdout, _) = mailtls(&["scan", "report", &db.display().to_string(), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(status, 0, "{json}");
    assert_eq!(
        json["store_errors"],
        serde_json::json!({"total": 0, "unreadable_rows": 0, "first": []})
    );
    let (_, text, _) = mailtls(&["scan", "report", &db.display().to_string()]);
    assert!(!text.contains("store error"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_failed_write_is_counted() {
    let dir = scratch("closed");
    let db = dir.join("scan.sqlite").display().to_string();
    runtime().block_on(async {
        let store = Store::open(&db).await.expect("the store opens");
        let spec = ScanSpec {
            id: "s".to_string(),
            input: "-".to_string(),
            options: "{}".to_string(),
        };
        store.begin_scan(&spec, 1).await.expect("the scan begins");
        store
            .reject("s", 1, "bad line", "not a target")
            .await
            .expect("written");
        assert_eq!(store.errors().total(), 0);

        // A clone shares the count: the store as a whole met these.
        let clone = store.clone();
        store.close().await;
        let failed = mailtls::scan::run::with_retries(|| clone.reject("s", 2, "x", "y")).await;
        let error = failed.expect_err("a closed store writes nothing");
        assert!(!error.is_transient(), "{error}");
        assert!(clone.start_run("s", "r", "1/1", 2).await.is_err());
        let errors = store.errors();
        assert_eq!(errors.count(ErrorKind::Other), 2, "{errors:?}");
        assert_eq!(errors.total(), 2);
        assert!(
            errors.first[0].contains("the store is closed"),
            "{errors:?}"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn status_of_a_sqlite_scan_counts_what_is_done_and_cannot_know_what_is_left() {
    // A SQLite scan has no work queue (its workers read the list themselves) and no leases:
    // done is counted, left is not known, and an unfinished run cannot be told from a dead one.
    let dir = scratch("status");
    let db = database(&dir);
    let db = db.display().to_string();
    execute(
        Path::new(&db),
        &[
            &target_row("s", "a.example", 1, "ok"),
            &target_row("s", "b.example", 2, "fail"),
            "INSERT INTO scan_runs (scan_id, run_id, shard, started_at) \
             VALUES ('s', 'r', '1/1', 1767225600)",
        ],
    );
    let (status, stdout, stderr) = mailtls(&["scan", "status", &db, "--json"]);
    assert_eq!(status, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    schema::validate(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["targets"]["done"], 2, "{json}");
    assert_eq!(json["targets"]["left"], serde_json::Value::Null, "{json}");
    assert_eq!(json["limits"], serde_json::Value::Null, "{json}");
    let states: Vec<&str> = json["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .filter_map(|w| w["state"].as_str())
        .collect();
    // Oldest first: the one inserted by hand has no end and no leases; the run of `database()`
    // finished.
    assert_eq!(states, ["unknown", "finished"], "{json}");
    assert_eq!(json["state"], "running", "{json}");
    let (status, text, _) = mailtls(&["scan", "status", &db]);
    assert_eq!(status, 0);
    assert!(text.starts_with("scan s: running"), "{text}");
    assert!(text.contains("2 done (left: not known"), "{text}");
    // No such scan, and no such database: one line each, exit 3.
    let (status, _, stderr) = mailtls(&["scan", "status", &db, "--scan", "nope"]);
    assert_eq!((status, stderr.lines().count()), (3, 1), "{stderr}");
    assert!(stderr.contains("no scan called nope"), "{stderr}");
    let missing = dir.join("missing.sqlite").display().to_string();
    let (status, _, stderr) = mailtls(&["scan", "status", &missing]);
    assert_eq!((status, stderr.lines().count()), (3, 1), "{stderr}");
    assert!(stderr.contains("no such scan database"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_needs_a_named_scan_and_a_list_it_can_read_again() {
    let dir = scratch("every");
    let db = dir.join("every.sqlite").display().to_string();
    let (status, _, stderr) = mailtls(&["scan", "list.txt", "--db", &db, "--every", "24h"]);
    assert_eq!(status, 64, "{stderr}");
    assert!(stderr.contains("--scan"), "{stderr}");
    let (status, _, stderr) = mailtls(&[
        "scan", "-", "--db", &db, "--every", "24h", "--scan", "fleet",
    ]);
    assert_eq!((status, stderr.lines().count()), (64, 1), "{stderr}");
    assert!(stderr.contains("not standard input"), "{stderr}");
    let (status, _, stderr) = mailtls(&[
        "scan", "list.txt", "--db", &db, "--every", "0s", "--scan", "fleet",
    ]);
    assert_eq!(status, 64, "{stderr}");
    assert!(
        !Path::new(&db).exists(),
        "a usage error touched the database"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
