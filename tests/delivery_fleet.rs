//! Issue 23, parts 5 and 6, against the delivery lab's real servers (tests/lab/delivery/: BIND
//! serving the signed case zones, Unbound validating them, one Postfix smtpd per case MX on
//! port 25, the HTTPS MTA-STS policy host); mailtls runs with `--dns` at Unbound,
//! `--dnssec-anchor` the lab root's DS and `--ca-file` the lab CA:
//!
//! - `reputation`: a domain that enforces MTA-STS with a certificate for another name "can cost
//!   mail: yes", a plain one "not today", one in testing mode "not yet"; `check --reputation`
//!   answers as its inbound section says.
//! - `scan` of a dozen case domains into SQLite and PostgreSQL: each domain's row holds its
//!   MTA-STS state, policy problems, DANE and the answer, its MX rows what senders do; `scan
//!   report` shows them in text, JSON and CSV; after the policy host changes two policies, a
//!   second scan and `scan diff` name exactly those two domains with their MTA-STS change.
//! - `serve` on that store: `/metrics` counts the newest scan's domains per MTA-STS and DANE
//!   state; a check's page answers "can they cost us mail?" and shows the inbound section, in
//!   Debian's Chromium too (tests/browser/inbound.mjs).
//!
//! A custom harness in a network of its own (tests/lab/netns.rs): the lab (without the delivery
//! lab's senders) starts once, the trials run one after the other (the policy host changes in
//! the last), and if the lab cannot start every trial fails with the reason.

mod lab;
#[path = "common/run.rs"]
mod run;
#[path = "common/schema.rs"]
mod schema;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};

use lab::delivery::cases::{CASES, Case, Sts};
use lab::delivery::certs::Certs;
use lab::delivery::{POLICY_HOST, domain, policy_host, receivers, start_dns, zones};

/// The lab, started once.
struct World {
    dir: PathBuf,
    resolver: String,
    anchor: String,
    ca: String,
    certs: Certs,
}

static WORLD: OnceLock<Result<World, String>> = OnceLock::new();

fn world() -> Result<&'static World, Failed> {
    match WORLD.get() {
        Some(Ok(world)) => Ok(world),
        Some(Err(error)) => Err(format!("the delivery lab did not start: {error}").into()),
        None => Err("the delivery lab was not started".into()),
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // One after the other: the last trial changes the policy host under everybody.
    args.test_threads = Some(1);
    if let Err(error) = lab::netns::enter("delivery-fleet") {
        eprintln!("delivery_fleet: {error}");
        std::process::exit(1);
    }
    let _ = WORLD.set(start(&lab::Lab::default_dir().join("delivery-fleet-test")));
    let trials = vec![
        Trial::test("reputation_of_an_enforced_mismatch_says_yes", || {
            reputation_yes()
        }),
        Trial::test("reputation_of_a_plain_domain_says_not_today", || {
            reputation_not_today()
        }),
        Trial::test("check_reputation_answers_as_the_inbound_section", || {
            check_reputation()
        }),
        Trial::test("scan_rows_report_and_csv", scan_rows),
        Trial::test("scan_into_postgres_writes_the_same_rows", scan_postgres),
        Trial::test("serve_page_metrics_and_chromium", serve),
        Trial::test("scan_diff_after_two_policies_change", scan_diff),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// The DNS part, the receiving MX hosts and the policy host (no senders: mailtls is the one
/// asking here).
fn start(dir: &Path) -> Result<World, String> {
    let started = Instant::now();
    let (dns, certs) = start_dns(dir)?;
    let receiving = dir.join("receivers");
    std::fs::create_dir_all(&receiving).map_err(|e| e.to_string())?;
    receivers::start(&receiving, CASES, &certs)?;
    let policies = dir.join("policy-host");
    std::fs::create_dir_all(&policies).map_err(|e| e.to_string())?;
    policy_host::start(&policies, CASES, &certs)?;
    println!(
        "delivery lab (DNS, MX hosts, policy host) up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(World {
        dir: dir.to_path_buf(),
        resolver: dns.resolver.to_string(),
        anchor: dns.anchor_ds.display().to_string(),
        ca: certs.ca_file.display().to_string(),
        certs,
    })
}

/// What mailtls must find for one case domain.
struct Expected {
    label: &'static str,
    mta_sts: &'static str,
    policy_problems: &'static [&'static str],
    dane: &'static str,
    costs_mail: &'static str,
    /// What MTA-STS senders do with its one MX, and what DANE-validating senders do.
    senders: (&'static str, &'static str),
}

const fn expected(
    label: &'static str,
    mta_sts: &'static str,
    policy_problems: &'static [&'static str],
    dane: &'static str,
    costs_mail: &'static str,
    senders: (&'static str, &'static str),
) -> Expected {
    Expected {
        label,
        mta_sts,
        policy_problems,
        dane,
        costs_mail,
        senders,
    }
}

/// The domains scanned, in list order, with what each one's rows must hold: the case table's
/// MTA-STS and DANE, as tests/delivery.rs holds real senders to them.
const SCANNED: [Expected; 12] = [
    expected(
        "sts-enforce",
        "enforce",
        &[],
        "not-published",
        "no",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-enforce-mismatch",
        "enforce",
        &["mta-sts-mx-certificate"],
        "not-published",
        "yes",
        ("defers", "delivers"),
    ),
    expected(
        "sts-testing",
        "testing",
        &["mta-sts-mx-certificate"],
        "not-published",
        "not-yet",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-none",
        "none",
        &[],
        "not-published",
        "no",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-mx-not-listed",
        "enforce",
        &["mta-sts-mx-unlisted"],
        "not-published",
        "yes",
        ("defers", "delivers"),
    ),
    expected(
        "sts-policy-down",
        "policy-unavailable",
        &["mta-sts-policy-unreachable"],
        "not-published",
        "unknown",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-two-records",
        "record-invalid",
        &["mta-sts-record-invalid"],
        "not-published",
        "unknown",
        ("delivers", "delivers"),
    ),
    expected(
        "dane-ee-311",
        "not-published",
        &[],
        "matches",
        "not-yet",
        ("delivers", "delivers"),
    ),
    expected(
        "dane-ee-mismatch",
        "not-published",
        &[],
        "no-match",
        "yes",
        ("delivers", "defers"),
    ),
    expected(
        "dane-no-tlsa",
        "not-published",
        &[],
        "not-published",
        "no",
        ("delivers", "delivers"),
    ),
    expected(
        "dane-pkix-only",
        "not-published",
        &[],
        "unusable",
        "no",
        ("delivers", "encrypts-only"),
    ),
    expected(
        "dane-insecure",
        "not-published",
        &[],
        "insecure",
        "no",
        ("delivers", "delivers"),
    ),
];

fn case(label: &str) -> Result<&'static Case, Failed> {
    CASES
        .iter()
        .find(|c| c.label == label)
        .ok_or_else(|| format!("no case {label} in the table").into())
}

/// `mailtls COMMAND` against the lab, then `args`; (exit status, stdout, stderr).
fn mailtls(world: &World, command: &str, args: &[&str]) -> (i32, String, String) {
    let mut full = vec![
        command,
        "--dns",
        &world.resolver,
        "--dnssec-anchor",
        &world.anchor,
        "--ca-file",
        &world.ca,
        "--timeout",
        "5",
    ];
    full.extend_from_slice(args);
    run::mailtls(&full)
}

fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(why().into()) }
}

fn json_of(stdout: &str, stderr: &str) -> Result<Value, Failed> {
    let json: Value = serde_json::from_str(stdout)
        .map_err(|e| format!("not JSON ({e}): {stdout}\nstderr: {stderr}"))?;
    schema::validate(&json).map_err(|e| format!("{e}: {json}"))?;
    Ok(json)
}

/// Enforce, and the MX presents a certificate for the hosting provider's name: yes, in words
/// that name both, and the reputation verdict at least warns.
fn reputation_yes() -> Result<(), Failed> {
    let world = world()?;
    let name = domain(case("sts-enforce-mismatch")?);
    let (status, stdout, stderr) = mailtls(world, "reputation", &[&name, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let costs = &json["costs_mail"];
    ensure(costs["answer"] == "yes", || format!("{costs}"))?;
    ensure(
        costs["because"] == json!(["mta-sts-enforce-refuses", "dane-not-published"]),
        || format!("{costs}"),
    )?;
    let said = format!(
        "Yes: {name} enforces MTA-STS and mx.{name}'s certificate is for luna.hosting.example: \
         Gmail and Microsoft 365 do not deliver to it; mail from them waits in their queues and \
         then bounces."
    );
    ensure(costs["summary"] == said.as_str(), || {
        format!("{}\nnot\n{said}", costs["summary"])
    })?;
    ensure(
        costs["fixes"][0]
            .as_str()
            .is_some_and(|f| f.starts_with(&format!("Give mx.{name} a certificate that names"))),
        || format!("{costs}"),
    )?;
    // No list names the lab's addresses; the answer makes the verdict a warning (exit 1).
    ensure(json["verdict"] == "warn" && status == 1, || {
        format!("exit {status}: {json}")
    })?;
    // The text report asks both questions, in this order, the answers right after.
    let (_, text, _) = mailtls(world, "reputation", &[&name]);
    let blocklisted = text.find("Can certificate warnings get us blocklisted? No.");
    let costs = text.find("Can they cost us mail? Yes:");
    ensure(
        blocklisted.is_some() && costs.is_some() && blocklisted < costs,
        || text.clone(),
    )
}

/// No MTA-STS, a signed zone without TLSA records: not today, whatever the certificate.
fn reputation_not_today() -> Result<(), Failed> {
    let world = world()?;
    let name = domain(case("dane-no-tlsa")?);
    let (status, stdout, stderr) = mailtls(world, "reputation", &[&name, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let costs = &json["costs_mail"];
    ensure(
        costs
            == &json!({
                "answer": "no",
                "because": ["mta-sts-not-published", "dane-not-published"],
                "summary": format!(
                    "Not today: {name} has no MTA-STS policy in enforce mode and no DANE \
                     records; senders deliver whatever the certificate."
                ),
                "fixes": []
            }),
        || format!("exit {status}: {costs}"),
    )?;
    // Testing mode: not yet.
    let name = domain(case("sts-testing")?);
    let (_, stdout, stderr) = mailtls(world, "reputation", &[&name, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let summary = json["costs_mail"]["summary"].as_str().unwrap_or_default();
    ensure(
        json["costs_mail"]["answer"] == "not-yet"
            && summary.starts_with(&format!(
                "Not yet: {name} tests MTA-STS (mode testing) and mx.{name}'s certificate is for \
                 luna.hosting.example: Gmail and Microsoft 365 deliver and only report it; once \
                 the policy is in enforce mode, they would not deliver to it."
            )),
        || format!("{}", json["costs_mail"]),
    )
}

/// `check --reputation` of an address: the reputation's answer is the one the inbound section
/// leads to, from the same observations.
fn check_reputation() -> Result<(), Failed> {
    let world = world()?;
    for label in ["sts-enforce-mismatch", "sts-testing", "dane-ee-mismatch"] {
        let name = domain(case(label)?);
        let address = format!("user@{name}");
        let (_, stdout, stderr) = mailtls(world, "check", &[&address, "--reputation", "--json"]);
        let json = json_of(&stdout, &stderr)?;
        let expected = SCANNED
            .iter()
            .find(|e| e.label == label)
            .ok_or("not in SCANNED")?;
        let costs = &json["reputation"]["costs_mail"];
        ensure(costs["answer"] == expected.costs_mail, || {
            format!("{label}: {costs}")
        })?;
        ensure(
            json["inbound"]["mta_sts"]["state"] == expected.mta_sts,
            || format!("{label}: {}", json["inbound"]["mta_sts"]),
        )?;
        let fixes = json["inbound"]["fix"].clone();
        ensure(costs["fixes"] == fixes, || {
            format!("{label}: {costs} against {fixes}")
        })?;
    }
    Ok(())
}

/// Runs a SQL query on a scan database; every column as text (NULL as None).
fn query(db: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, Failed> {
    let url = if db.starts_with("postgres://") {
        db.to_string()
    } else {
        format!("sqlite://{db}?mode=ro")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| format!("{db}: {e}"))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&pool)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        pool.close().await;
        let mut out = Vec::new();
        for row in rows {
            let mut values = Vec::new();
            for index in 0..row.len() {
                let text = row
                    .try_get::<Option<String>, _>(index)
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(index)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .map_err(|e| format!("{sql}: column {index}: {e}"))?;
                values.push(text);
            }
            out.push(values);
        }
        Ok::<_, Failed>(out)
    })
}

fn scratch(name: &str) -> Result<PathBuf, Failed> {
    let dir = world()?.dir.join("scans").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// The scan list: the domains of [`SCANNED`], one per line.
fn list(dir: &Path) -> Result<PathBuf, Failed> {
    let path = dir.join("domains.txt");
    let text: String = SCANNED
        .iter()
        .map(|e| format!("{}.example\n", e.label))
        .collect();
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// `mailtls scan` of `list` into `db` as scan `name`; its exit status must be 0.
fn scan_into(list: &Path, db: &str, name: &str) -> Result<(), Failed> {
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
fn scan_rows() -> Result<(), Failed> {
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
fn scan_postgres() -> Result<(), Failed> {
    let world = world()?;
    let postgres = lab::postgres::Postgres::start(&world.dir.join("postgres"))?;
    let outcome = (|| {
        postgres.create_database("inbound")?;
        let dir = scratch("postgres")?;
        let list = list(&dir)?;
        let db = lab::postgres::url("inbound");
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

/// A running `mailtls serve`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str) -> Result<(u16, String), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
        Ok::<_, Failed>((status, text))
    })
}

/// `serve` on the store of a scan: the metrics of that scan, the page of a check, and Chromium.
fn serve() -> Result<(), Failed> {
    let world = world()?;
    let dir = scratch("serve")?;
    let list = list(&dir)?;
    let db = dir.join("serve.sqlite").display().to_string();
    scan_into(&list, &db, "fleet")?;
    let address = "127.0.25.40";
    let log = dir.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["serve", "--listen", &format!("{address}:8080"), "--db", &db])
        .args(["--dns", &world.resolver, "--dnssec-anchor", &world.anchor])
        .args(["--ca-file", &world.ca, "--timeout", "5", "--allow-private"])
        .env_remove("MAILTLS_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("mailtls serve: {e}"))?;
    let server = Server {
        child,
        base: format!("http://{address}:8080"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(get(&format!("{}/healthz", server.base)), Ok((200, _))) {
        ensure(Instant::now() < deadline, || {
            format!(
                "serve did not answer: {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            )
        })?;
        std::thread::sleep(Duration::from_millis(100));
    }
    // The metrics: the scan's domains per MTA-STS state and DANE state, every state present.
    let (status, metrics) = get(&format!("{}/metrics", server.base))?;
    ensure(status == 200, || format!("/metrics: {status}"))?;
    let value = |series: &str| {
        metrics.lines().find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .parse::<u64>()
                .ok()
        })
    };
    for (mode, n) in [
        ("enforce", 3),
        ("testing", 1),
        ("none", 1),
        ("not-published", 5),
        ("record-invalid", 1),
        ("policy-unavailable", 1),
        ("policy-invalid", 0),
        ("not-checked", 0),
    ] {
        let series = format!("mailtls_mta_sts_mode{{mode=\"{mode}\"}}");
        ensure(value(&series) == Some(n), || {
            format!("{series}: {:?} in\n{metrics}", value(&series))
        })?;
    }
    for state in [
        "not-published",
        "insecure",
        "matches",
        "no-match",
        "unusable",
        "bogus",
        "unknown",
    ] {
        let n = SCANNED.iter().filter(|e| e.dane == state).count() as u64;
        let series = format!("mailtls_dane_state{{state=\"{state}\"}}");
        ensure(value(&series) == Some(n), || {
            format!("{series}: {:?} in\n{metrics}", value(&series))
        })?;
    }
    // Chromium: the page of a check of the enforced mismatch.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ensure(
        root.join("tests/browser/node_modules/playwright-core")
            .is_dir(),
        || "playwright-core is not installed: run scripts/test.sh".to_string(),
    )?;
    let name = domain(case("sts-enforce-mismatch")?);
    let screenshots = root.join("target/screenshots/inbound");
    let output = Command::new("node")
        .arg(root.join("tests/browser/inbound.mjs"))
        .env("BASE_URL", &server.base)
        .env("ADDRESS", format!("user@{name}"))
        .env("MX", format!("mx.{name}"))
        .env("MTA_STS", "enforce")
        .env("STS_ACTION", "defers")
        .env(
            "COSTS",
            format!("Yes: {name} enforces MTA-STS and mx.{name}'s certificate is for luna.hosting.example"),
        )
        .env("COSTS_ANSWER", "yes")
        .env("SCREENSHOTS", &screenshots)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure(output.status.success(), || {
        format!(
            "inbound.mjs: {}\n{stdout}\n{}\nserve's log: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(&server.log).unwrap_or_default()
        )
    })?;
    println!("inbound.mjs: {}", stdout.trim());
    for shot in ["inbound.png", "inbound-phone.png"] {
        ensure(screenshots.join(shot).is_file(), || format!("no {shot}"))?;
    }
    // A host checked alone: where to find out, through the API.
    let host = zones::mx_host(case("sts-none")?);
    let id = submit(&server.base, &host)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, text) = get(&format!("{}/api/v1/checks/{id}?wait=5", server.base))?;
        let check: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        if check["state"] == "done" {
            break;
        }
        ensure(Instant::now() < deadline, || format!("check {id}: {text}"))?;
    }
    let (_, page) = get(&format!("{}/r/{id}", server.base))?;
    let costs = page
        .split("id=\"costs-mail\"")
        .nth(1)
        .and_then(|rest| rest.split_once('>'))
        .map(|(_, text)| text.split('<').next().unwrap_or_default());
    ensure(
        costs.is_some_and(|words| {
            words.starts_with(
                "Only where the mail domain enforces MTA-STS or publishes DANE records",
            )
        }) && !page.contains("id=\"inbound\""),
        || format!("{costs:?} in {page}"),
    )
}

/// POSTs a check of `target`; its id.
fn submit(base: &str, target: &str) -> Result<String, Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let text = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let response = client
            .post(format!("{base}/api/v1/checks"))
            .header("Content-Type", "application/json")
            .body(json!({ "target": target }).to_string())
            .send()
            .await
            .map_err(|e| format!("POST: {e}"))?;
        response.text().await.map_err(|e| format!("POST: {e}"))
    })?;
    let check: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    check["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no id: {text}").into())
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
fn scan_diff() -> Result<(), Failed> {
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
