//! `mailtls scan` against the lab's fleet (tests/lab/fleet.rs): two thousand customer domains
//! on a few real servers, one of them behind a counting proxy that sees what a server sees; a
//! real PostgreSQL beside SQLite; real `kill -9`, a real full disk, a database that really goes
//! away. The scan tests run one at a time: they share the proxy and the database server.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use tokio::net::TcpListener;

use super::lab::{self, fleet, fleet::Kind, postgres};
use super::proxy::{Counter, proxy};
use super::{ensure, expect_eq, postgres};
use crate::run::output_of;

#[path = "scan_logs.rs"]
mod logs;
#[path = "scan_queue.rs"]
mod queue;

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![
        ("scan_fleet_probes_once_and_keeps_the_limits", fleet_sqlite),
        (
            "scan_https_fetches_keep_the_per_address_limit",
            https_fetches_keep_the_limit,
        ),
        ("scan_resumes_after_kill_9_sqlite", resume_sqlite),
        ("scan_resumes_after_kill_9_postgres", resume_postgres),
        ("scan_four_shards_make_the_rows_of_one_run", shards_postgres),
        ("scan_kubernetes_indexed_job", kubernetes_job),
        ("scan_kubernetes_queue_job_and_deployment", kubernetes_queue),
        ("scan_postgres_going_away", postgres_goes_away),
        ("scan_counts_store_errors", store_errors_counted),
        ("scan_refuses_bad_databases_before_probing", bad_databases),
        ("scan_full_disk_stops_cleanly", full_disk),
        ("scan_report_and_diff", report_and_diff),
        ("scan_progress_on_a_terminal", progress_on_a_terminal),
        ("scan_bad_input", bad_input),
        ("scan_csv_from_standard_input", csv_from_standard_input),
        ("scan_logs_one_event_per_target", logs::one_event_per_target),
        (
            "scan_checks_again_what_dns_left_unanswered",
            unanswered_checked_again,
        ),
        ("scan_through_a_resolver_that_loses_answers", lossy_resolver),
        ("scan_max_duration_stops_resumably", max_duration),
        (
            "scan_queue_workers_keep_the_limits_together",
            queue::workers_keep_the_limits_together,
        ),
        (
            "scan_queue_takes_over_from_killed_workers",
            queue::takes_over_from_killed_workers,
        ),
        ("scan_queue_stale_leases_taken_over", queue::stale_leases),
        (
            "scan_queue_worker_leaves_on_sigterm",
            queue::leaves_on_sigterm,
        ),
        ("scan_queue_refuses_other_options", queue::other_options),
        (
            "scan_queue_workers_keep_the_dns_rate_together",
            queue::dns_rate_kept_together,
        ),
        ("busy_server_is_rate_limited_not_a_tls_problem", busy_server),
        ("tarpit_is_rate_limited", tarpit),
    ]
}

/// The scan tests take turns, and with them the tests that check the servers behind the lab's
/// counting proxies (the summaries test, the engine's per-address test).
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The counting proxy at SCAN_FRONT (every mail port, to SCANHOST), started once.
pub(crate) fn front() -> Result<Arc<Counter>, Failed> {
    static FRONT: OnceLock<Result<Arc<Counter>, String>> = OnceLock::new();
    let started = FRONT.get_or_init(|| {
        let counter = Arc::new(Counter::default());
        let (ready, wait) = std::sync::mpsc::channel();
        let shared = Arc::clone(&counter);
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                for port in [25, 587, 465, 143, 993, 110, 995] {
                    let listener = match TcpListener::bind((lab::SCAN_FRONT, port)).await {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready.send(Err(format!("{}:{port}: {e}", lab::SCAN_FRONT)));
                            return;
                        }
                    };
                    let backend: SocketAddr = format!("{}:{port}", lab::SCANHOST.address)
                        .parse()
                        .expect("a socket address");
                    tokio::spawn(proxy(listener, backend, Arc::clone(&shared)));
                }
                let _ = ready.send(Ok(()));
                std::future::pending::<()>().await;
            });
        });
        match wait.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => Ok(counter),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the proxy did not start".to_string()),
        }
    });
    started.clone().map_err(Failed::from)
}

/// A scan test on PostgreSQL: its turn, the lab's PostgreSQL, a new database `name` (its URL)
/// and a fresh directory, after the counting proxy is up.
pub(crate) type OnPostgres = (
    MutexGuard<'static, ()>,
    &'static postgres::Postgres,
    String,
    PathBuf,
);

pub(crate) fn on_postgres(name: &str) -> Result<OnPostgres, Failed> {
    let turn = serial();
    front()?;
    let postgres = postgres()?;
    postgres.create_database(name)?;
    Ok((turn, postgres, postgres::url(name), scratch(name)?))
}

/// Runs `workers` at once and waits for each; every one must exit 0.
pub(crate) fn run_all(workers: Vec<Command>) -> Result<(), Failed> {
    let children: Vec<Child> = workers
        .into_iter()
        .map(|mut command| {
            command
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        ensure(output.status.success(), || {
            format!(
                "worker {i} ended with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    }
    Ok(())
}

/// A fresh directory for one test.
pub(crate) fn scratch(name: &str) -> Result<PathBuf, Failed> {
    let dir = lab::Lab::default_dir().join("scan-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// A list of domains, one per line.
pub(crate) fn write_list(dir: &Path, name: &str, domains: &[String]) -> Result<PathBuf, Failed> {
    let path = dir.join(name);
    std::fs::write(&path, domains.join("\n") + "\n").map_err(|e| format!("{e}"))?;
    Ok(path)
}

/// The fleet's domains of the given kinds, the first `limit` of each.
pub(crate) fn domains_of(kinds: &[Kind], limit: usize) -> Vec<String> {
    kinds
        .iter()
        .flat_map(|kind| {
            fleet::domains()
                .filter(move |(_, k)| k == kind)
                .map(|(d, _)| d)
                .take(limit)
        })
        .collect()
}

/// `mailtls scan LIST --db DB` with the lab's DNS and CA and `extra`; no rate limit per server
/// and 2000 DNS questions a second unless `extra` says otherwise.
pub(crate) fn scan(ca: &str, list: &Path, db: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailtls"));
    command.arg("scan").arg(list).args([
        "--db",
        db,
        "--dns",
        lab::DNS,
        "--ca-file",
        ca,
        "--timeout",
        "5",
    ]);
    // dnsmasq answers a few thousand questions a second; a burst beyond that is dropped.
    if !extra.contains(&"--dns-rate") {
        command.args(["--dns-rate", "2000"]);
    }
    if !extra.contains(&"--per-ip-rate") {
        command.args(["--per-ip-rate", "0"]);
    }
    command.args(extra).env("NO_COLOR", "1");
    command
}

pub(crate) use crate::lab::sql::query;

/// One number from a query.
pub(crate) fn number(db: &str, sql: &str) -> Result<u64, Failed> {
    let rows = query(db, sql)?;
    rows.first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_deref())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{sql}: no number in {rows:?}").into())
}

/// Waits (at most `limit`) until the scan in `db` has at least `targets` committed.
pub(crate) fn wait_for(
    db: &str,
    targets: u64,
    limit: Duration,
    child: &mut Child,
) -> Result<u64, Failed> {
    let deadline = Instant::now() + limit;
    loop {
        // The database may not exist yet, or be busy for a moment: just ask again.
        if let Ok(done) = number(db, "SELECT COUNT(*) FROM targets") {
            if done >= targets {
                return Ok(done);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the scan ended ({status}) before {targets} targets were committed"
            )
            .into());
        }
        if Instant::now() > deadline {
            return Err(format!("fewer than {targets} targets after {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn spawn(mut command: Command) -> Result<Child, Failed> {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawning the scan: {e}").into())
}

/// The whole fleet, once: every kind of domain ends as it should, each endpoint is probed once
/// however many domains lead there, and the hosting server never sees more than the per-address
/// limits, at once or per second.
fn fleet_sqlite(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    let counter = front()?;
    counter.reset();
    let dir = scratch("fleet")?;
    let web_log = fleet_web_log(ca)?;
    let web_log_start = std::fs::metadata(&web_log).map_or(0, |m| m.len());
    let list = dir.join("fleet.txt");
    let text = fleet::list();
    std::fs::write(&list, &text).map_err(|e| e.to_string())?;
    let db = dir.join("fleet.sqlite").display().to_string();
    const RATE: usize = 100;
    let started = Instant::now();
    let (status, stdout, stderr) = output_of(&mut scan(
        ca,
        &list,
        &db,
        &["--per-ip-rate", &RATE.to_string()],
    ));
    ensure(status == 0, || format!("exit status {status}: {stderr}"))?;
    // On a pipe: one result per target and nothing else; the bad line and the summary on stderr.
    let lines: Vec<&str> = stdout.lines().collect();
    expect_eq("result lines", fleet::SIZE, lines.len())?;
    ensure(lines.iter().all(|l| l.split('\t').count() == 4), || {
        format!(
            "every line is target, verdict, problem, summary: {:?}",
            &lines[..3]
        )
    })?;
    let bad_line = text
        .lines()
        .position(|l| l == "not a domain!")
        .map(|i| i + 1)
        .unwrap_or(0);
    ensure(stderr.contains(&format!("line {bad_line} skipped")), || {
        format!("the bad line named on stderr: {stderr}")
    })?;
    ensure(stderr.contains("1 duplicate lines"), || {
        format!("the duplicate merged: {stderr}")
    })?;

    expect_eq(
        "targets",
        fleet::SIZE as u64,
        number(&db, "SELECT COUNT(*) FROM targets")?,
    )?;
    expect_eq(
        "rejected line",
        vec![vec![Some(bad_line.to_string())]],
        query(&db, "SELECT line FROM rejected")?,
    )?;
    // Every kind ends as it should.
    let rows = query(
        &db,
        "SELECT target, verdict, recommendation, error FROM targets ORDER BY target",
    )?;
    for (row, (domain, kind)) in rows.iter().zip(fleet::domains()) {
        let (target, verdict, recommended, error) = (
            row[0].as_deref().unwrap_or_default(),
            row[1].as_deref().unwrap_or_default(),
            row[2].as_deref(),
            row[3].as_deref(),
        );
        expect_eq("target", domain.as_str(), target)?;
        let fine = match kind {
            Kind::Good => verdict == "ok",
            Kind::Hosted | Kind::Autoconfig => {
                verdict == "fail" && recommended == Some(lab::SCANHOST.name)
            }
            Kind::Unresolvable => verdict == "unknown" && error == Some("no-such-name"),
            // Its MX turned the scan away, its IMAP server works: a warning, not a failure.
            Kind::Busy => verdict == "warn",
        };
        ensure(fine, || format!("{domain} ({kind:?}): {row:?}"))?;
    }
    // The 421 server is rate-limited, never a TLS problem.
    let busy_codes: BTreeSet<String> = query(
        &db,
        &format!(
            "SELECT DISTINCT code FROM problems WHERE server = '{}'",
            lab::BUSY.name
        ),
    )?
    .into_iter()
    .filter_map(|r| r[0].clone())
    .collect();
    expect_eq(
        "problems on the 421 server",
        BTreeSet::from(["rate-limited".to_string()]),
        busy_codes,
    )?;
    // Through the proxy went the hosted names (a few ports each) and, once for all, the
    // hosting name's re-probes and each port's TLS versions: without the memo every domain
    // would also cost six version probes and five re-probes per port.
    let uncovered = fleet::count(Kind::Hosted) + fleet::count(Kind::Autoconfig);
    let total = counter.total.load(Ordering::SeqCst);
    ensure(total >= uncovered && total <= 6 * uncovered, || {
        format!("{total} connections for {uncovered} domains on the hosting server")
    })?;
    let peak = counter.peak.load(Ordering::SeqCst);
    ensure(peak <= 4, || {
        format!("{peak} connections at once (limit 4)")
    })?;
    let per_second = counter.peak_per_second();
    eprintln!(
        "fleet scan: {} domains in {:.1} s; hosting server: {total} connections, at most {peak} \
         at once, at most {per_second} in one second",
        fleet::SIZE,
        started.elapsed().as_secs_f64()
    );
    ensure(per_second <= RATE + 1, || {
        format!("{per_second} connections started in one second (limit {RATE})")
    })?;
    // The HTTPS server of the fleet's autoconfig documents, from its own log: every document
    // fetched once however many jobs wanted it, and never more than 4 connections at once.
    let log = log_since(&web_log, web_log_start)?;
    let most_open = most_open(&log);
    let mut fetched: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"GET /mail/config-v1.1.xml"))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let requests = fetched.len();
    fetched.sort_unstable();
    fetched.dedup();
    eprintln!(
        "fleet scan: autoconfig server: {requests} requests for {} documents, at most {most_open} \
         connections at once",
        fetched.len()
    );
    expect_eq(
        "autoconfig documents fetched",
        fleet::count(Kind::Autoconfig),
        fetched.len(),
    )?;
    expect_eq("requests for them", fetched.len(), requests)?;
    ensure((1..=4).contains(&most_open), || {
        format!("{most_open} connections at once on the autoconfig server (limit 4)")
    })
}

/// The HTTPS fetches of a scan keep the per-address limit too, counted by the HTTPS server
/// itself: the fleet's 200 autoconfig documents with --per-ip 2 never see more than 2
/// connections at once, while with --per-ip 16 the same scan does (so the count can tell).
/// Neither run has a rate limit: at the default 10 new connections a second to the one HTTPS
/// address (and 500 DNS questions a second) a fetch of a few milliseconds seldom meets another,
/// and the control saw 2 or 3 at once; without them it sees about 10.
fn https_fetches_keep_the_limit(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("https-limit")?;
    let list = write_list(
        &dir,
        "autoconfig.txt",
        &domains_of(&[Kind::Autoconfig], 200),
    )?;
    let web_log = fleet_web_log(ca)?;
    let mut most = Vec::new();
    for per_ip in ["2", "16"] {
        let start = std::fs::metadata(&web_log).map_or(0, |m| m.len());
        let db = dir
            .join(format!("per-ip-{per_ip}.sqlite"))
            .display()
            .to_string();
        let (status, _, stderr) = output_of(&mut scan(
            ca,
            &list,
            &db,
            &[
                "--per-ip",
                per_ip,
                "--per-ip-rate",
                "0",
                "--dns-rate",
                "0",
                "--no-versions",
                "--ports",
                "993",
            ],
        ));
        ensure(status == 0, || {
            format!("--per-ip {per_ip}: exit {status}: {stderr}")
        })?;
        most.push(most_open(&log_since(&web_log, start)?));
    }
    eprintln!(
        "autoconfig server, most connections at once: {} with --per-ip 2, {} with --per-ip 16",
        most[0], most[1]
    );
    ensure(most[0] >= 1 && most[0] <= 2, || {
        format!("{} at once with --per-ip 2", most[0])
    })?;
    ensure(most[1] > 2, || {
        format!(
            "with --per-ip 16 the server saw at most {} at once: the count cannot tell",
            most[1]
        )
    })
}

/// What a log file got after its first `start` bytes.
fn log_since(path: &Path, start: u64) -> Result<String, Failed> {
    let log = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(String::from_utf8_lossy(log.get(start as usize..).unwrap_or_default()).into_owned())
}

/// The most connections the lab's HTTPS server had open at once, from its "open N" lines.
fn most_open(log: &str) -> usize {
    log.lines()
        .filter_map(|l| l.strip_prefix("open ")?.trim().parse::<usize>().ok())
        .max()
        .unwrap_or(0)
}

/// The request log of the fleet's autoconfig server (tests/lab/provisioning_server.py), in the
/// lab directory beside its CA.
fn fleet_web_log(ca: &str) -> Result<PathBuf, Failed> {
    Path::new(ca)
        .parent()
        .and_then(Path::parent)
        .map(|lab| lab.join("fleet-web.log"))
        .ok_or_else(|| Failed::from(format!("no lab directory above {ca}")))
}

/// `kill -9` in the middle, then the same command: nothing committed is lost or done again,
/// no row is doubled, and the second run checks only what the first did not commit.
/// With PostgreSQL the scan is a work queue: the killed worker's claimed targets wait for its
/// leases to pass (3 s here), and the second run does not read the list (it is all in).
fn resume(ca: &str, db: &str, dir: &Path) -> Result<(), Failed> {
    let queue = db.starts_with("postgres://");
    let domains = domains_of(&[Kind::Hosted, Kind::Good], 150);
    let list = write_list(dir, "resume.txt", &domains)?;
    let lease: &[&str] = if queue { &["--lease", "3"] } else { &[] };
    // Slow enough (20 new connections a second to the hosting server) to be caught mid-way.
    let mut first = spawn(scan(
        ca,
        &list,
        db,
        &[&["--per-ip-rate", "20"], lease].concat(),
    ))?;
    let before = wait_for(db, 30, Duration::from_secs(60), &mut first);
    // SIGKILL: no chance to clean up.
    let _ = first.kill();
    let _ = first.wait();
    let before = before?;
    let committed = number(db, "SELECT COUNT(*) FROM targets")?;
    ensure(
        committed >= before && committed < domains.len() as u64,
        || format!("{committed} of {} committed when killed", domains.len()),
    )?;
    // Whatever is committed is whole: every checked target has its report, and every failing
    // one its problems.
    expect_eq(
        "targets without their report",
        0,
        number(
            db,
            "SELECT COUNT(*) FROM targets t WHERE t.kind <> 'none' AND NOT EXISTS \
             (SELECT 1 FROM observations o WHERE o.scan_id = t.scan_id AND o.target = t.target)",
        )?,
    )?;
    expect_eq(
        "failing targets without problems",
        0,
        number(
            db,
            "SELECT COUNT(*) FROM targets t WHERE t.verdict = 'fail' AND NOT EXISTS \
             (SELECT 1 FROM problems p WHERE p.scan_id = t.scan_id AND p.target = t.target)",
        )?,
    )?;
    let first_run = query(db, "SELECT DISTINCT run_id FROM targets")?;
    expect_eq("runs so far", 1, first_run.len())?;
    // The same command again (without the rate limit: not an option that changes results;
    // on PostgreSQL the limits are the scan's, and may change once the killed worker's lease
    // has passed and it no longer counts as live).
    if queue {
        std::thread::sleep(Duration::from_secs(4));
    }
    let (status, stdout, stderr) = output_of(&mut scan(ca, &list, db, lease));
    ensure(status == 0, || format!("exit status {status}: {stderr}"))?;
    expect_eq(
        "targets checked by the second run (on stdout)",
        domains.len() as u64 - committed,
        stdout.lines().count() as u64,
    )?;
    let said = if queue {
        format!(
            "{} targets checked by this run",
            domains.len() as u64 - committed
        )
    } else {
        format!("{committed} skipped as done before")
    };
    ensure(stderr.contains(&said), || {
        format!("the second run did what the first left ({said}): {stderr}")
    })?;
    expect_eq(
        "targets",
        domains.len() as u64,
        number(db, "SELECT COUNT(*) FROM targets")?,
    )?;
    expect_eq(
        "distinct targets",
        domains.len() as u64,
        number(db, "SELECT COUNT(DISTINCT target) FROM targets")?,
    )?;
    let first_id = first_run[0][0].clone().unwrap_or_default();
    expect_eq(
        "targets still from the first run",
        committed,
        number(
            db,
            &format!("SELECT COUNT(*) FROM targets WHERE run_id = '{first_id}'"),
        )?,
    )?;
    expect_eq(
        "reports",
        domains.len() as u64,
        number(db, "SELECT COUNT(*) FROM observations")?,
    )?;
    // Each run left its record: the killed one without an end.
    expect_eq(
        "runs recorded, finished",
        vec![vec![Some("2".to_string()), Some("1".to_string())]],
        query(db, "SELECT COUNT(*), COUNT(finished_at) FROM scan_runs")?,
    )
}

fn resume_sqlite(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("resume-sqlite")?;
    let db = dir.join("resume.sqlite").display().to_string();
    resume(ca, &db, &dir)
}

fn resume_postgres(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let postgres = postgres()?;
    postgres.create_database("resume")?;
    let dir = scratch("resume-postgres")?;
    resume(ca, &postgres::url("resume"), &dir)
}

/// The rows of a scan that do not depend on when or by whom it ran, sorted.
pub(crate) fn rows_of(db: &str, scan: &str) -> Result<Vec<Vec<Vec<Option<String>>>>, Failed> {
    let tables = [
        "SELECT target, line, kind, verdict, exit_code, summary, fix, recommendation, error \
         FROM targets WHERE scan_id = '{scan}' ORDER BY target",
        "SELECT target, host, address, port, sni, result, tls_version, leaf_names \
         FROM endpoints WHERE scan_id = '{scan}' ORDER BY target, host, address, port",
        "SELECT target, seq, code, severity, server, port, source, expected_name, \
         presented_names, suggested_name, verified FROM problems WHERE scan_id = '{scan}' \
         ORDER BY target, seq",
        "SELECT target, seq, source, url_or_record, hostname, port, security, status, detail, \
         error, instead FROM discovery WHERE scan_id = '{scan}' ORDER BY target, seq",
    ];
    tables
        .iter()
        .map(|sql| query(db, &sql.replace("{scan}", scan)))
        .collect()
}

/// Four workers, each with `--shard I/4`, against one PostgreSQL: together they write exactly
/// the rows one unsharded run writes, each target once.
fn shards_postgres(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("shards")?;
    let domains = domains_of(
        &[
            Kind::Good,
            Kind::Hosted,
            Kind::Autoconfig,
            Kind::Unresolvable,
            Kind::Busy,
        ],
        60,
    );
    let list = write_list(&dir, "shards.txt", &domains)?;
    run_all(
        (0..4)
            .map(|i| {
                let shard = format!("{i}/4");
                // Four workers share dnsmasq, and on PostgreSQL its rate: 500 questions a
                // second for all of them together, as the unsharded run asks.
                let args = ["--scan", "sharded", "--shard", &shard, "--dns-rate", "500"];
                scan(ca, &list, &db, &args)
            })
            .collect(),
    )?;
    let (status, _, stderr) = output_of(&mut scan(
        ca,
        &list,
        &db,
        &["--scan", "whole", "--dns-rate", "500"],
    ));
    ensure(status == 0, || {
        format!("the unsharded run: exit status {status}: {stderr}")
    })?;
    let sharded = rows_of(&db, "sharded")?;
    let whole = rows_of(&db, "whole")?;
    expect_eq("targets", domains.len(), sharded[0].len())?;
    for (table, (a, b)) in ["targets", "endpoints", "problems", "discovery"]
        .iter()
        .zip(sharded.iter().zip(&whole))
    {
        ensure(a == b, || {
            let first = a.iter().zip(b).find(|(x, y)| x != y);
            format!(
                "{table}: {} rows sharded, {} unsharded; first difference: {first:?}",
                a.len(),
                b.len()
            )
        })?;
    }
    // Each shard took its own share, and the shares add up.
    let per_shard = query(
        &db,
        "SELECT shard, COUNT(*) FROM targets WHERE scan_id = 'sharded' GROUP BY shard ORDER BY shard",
    )?;
    expect_eq("shards that wrote", 4, per_shard.len())?;
    Ok(())
}

/// PostgreSQL stops under a running scan: a short outage is retried and the scan completes;
/// a long one stops the scan (exit 3, saying how to continue), and the same command finishes
/// it later, nothing doubled.
fn postgres_goes_away(ca: &str) -> Result<(), Failed> {
    let (_turn, postgres, db, dir) = on_postgres("outage")?;
    let domains = domains_of(&[Kind::Hosted], 60);
    let list = write_list(&dir, "outage.txt", &domains)?;

    // A short outage, inside the retry window.
    let mut scan_short = spawn(scan(
        ca,
        &list,
        &db,
        &["--scan", "short", "--per-ip-rate", "20"],
    ))?;
    let waited = wait_for(&db, 10, Duration::from_secs(60), &mut scan_short);
    let restarted = waited.and_then(|_| {
        postgres.pause()?;
        std::thread::sleep(Duration::from_secs(3));
        postgres.resume().map_err(Failed::from)
    });
    let status = scan_short.wait().map_err(|e| e.to_string())?;
    restarted?;
    ensure(status.success(), || {
        format!("after a 3 s outage the scan ended with {status}")
    })?;
    expect_eq(
        "targets after the short outage",
        domains.len() as u64,
        number(&db, "SELECT COUNT(*) FROM targets WHERE scan_id = 'short'")?,
    )?;

    // A long outage under two workers: both wait and retry, then give up, resumable.
    let long = || scan(ca, &list, &db, &["--scan", "long", "--per-ip-rate", "20"]);
    let mut workers: Vec<Child> = (0..2)
        .map(|_| {
            long()
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let waited = wait_for(
        &db,
        domains.len() as u64 + 10,
        Duration::from_secs(60),
        &mut workers[0],
    );
    let paused = waited.and_then(|_| postgres.pause().map_err(Failed::from));
    let outputs: Vec<_> = workers
        .into_iter()
        .map(|w| w.wait_with_output().map_err(|e| e.to_string()))
        .collect();
    let resumed = postgres.resume();
    paused?;
    resumed?;
    for output in outputs {
        let output = output?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        expect_eq(
            "exit status after a long outage",
            Some(3),
            output.status.code(),
        )?;
        ensure(
            stderr.contains("run the same command to continue") && stderr.lines().count() == 1,
            || format!("one line saying how to continue: {stderr}"),
        )?;
    }
    let committed = number(&db, "SELECT COUNT(*) FROM targets WHERE scan_id = 'long'")?;
    ensure(committed < domains.len() as u64, || {
        format!("{committed} committed before the outage")
    })?;
    let (status, _, stderr) = output_of(&mut long());
    ensure(status == 0, || {
        format!("the resumed scan: exit status {status}: {stderr}")
    })?;
    expect_eq(
        "targets after resuming",
        domains.len() as u64,
        number(
            &db,
            "SELECT COUNT(DISTINCT target) FROM targets WHERE scan_id = 'long'",
        )?,
    )?;
    expect_eq(
        "rows",
        domains.len() as u64,
        number(&db, "SELECT COUNT(*) FROM targets WHERE scan_id = 'long'")?,
    )
}

/// Another process holds the SQLite database's write lock for 8 s under a running scan: the
/// commits that waited longer than the store waits for a lock fail, are counted and retried;
/// the scan completes with every target, and its summary counts the store errors and names the
/// first (before, a lock or an outage the scan came through left no trace).
fn store_errors_counted(ca: &str) -> Result<(), Failed> {
    use std::io::BufRead as _;
    let _turn = serial();
    front()?;
    let dir = scratch("store-errors")?;
    let domains = domains_of(&[Kind::Hosted], 120);
    let list = write_list(&dir, "locked.txt", &domains)?;
    let db = dir.join("locked.sqlite").display().to_string();
    let mut child = scan(ca, &list, &db, &["--per-ip-rate", "20"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let waited = wait_for(&db, 10, Duration::from_secs(60), &mut child);
    let holder = waited.and_then(|_| {
        let mut holder = Command::new("python3")
            .args([
                "-c",
                "import sqlite3, sys, time\n\
                 c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n\
                 c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(8)\n\
                 c.execute('COMMIT')",
            ])
            .arg(&db)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        let mut line = String::new();
        if let Some(out) = holder.stdout.as_mut() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        ensure(line.trim() == "locked", || {
            format!("the lock was not taken: {line:?}")
        })?;
        Ok(holder)
    });
    // The scan must still be running while the lock is held, or the test shows nothing.
    let running = child.try_wait().map_err(|e| e.to_string())?.is_none();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let mut holder = holder?;
    let held = holder.wait().map_err(|e| e.to_string())?;
    ensure(held.success(), || format!("the lock holder: {held}"))?;
    ensure(running, || {
        "the scan ended before the lock was taken: take a longer list".to_string()
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    expect_eq("exit status", Some(0), output.status.code())
        .map_err(|_| format!("exit {}: {stderr}", output.status))?;
    ensure(
        stderr.lines().count() == 1
            && stderr.contains(&format!("{} targets checked by this run", domains.len()))
            && stderr.contains(" store error")
            && stderr.contains("; the first: ")
            && stderr.contains("is locked by another process"),
        || format!("the summary counts the store errors and names the first: {stderr}"),
    )?;
    expect_eq(
        "targets",
        domains.len() as u64,
        number(&db, "SELECT COUNT(DISTINCT target) FROM targets")?,
    )?;
    expect_eq(
        "rows",
        domains.len() as u64,
        number(&db, "SELECT COUNT(*) FROM targets")?,
    )
}

/// Runs a Python snippet (the sqlite3 module) with the database path as its argument.
fn python(script: &str, db: &Path) -> Result<(), Failed> {
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(db)
        .status()
        .map_err(|e| format!("python3: {e}"))?;
    ensure(status.success(), || format!("python3 -c {script:?} failed"))
}

/// Mounts a tmpfs of `size` at `dir`; the guard unmounts it.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Result<Mount, Failed> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .map_err(|e| format!("mount: {e}"))?;
        ensure(status.success(), || {
            format!("mount -t tmpfs at {} failed", dir.display())
        })?;
        Ok(Mount(dir.to_path_buf()))
    }

    fn remount(&self, options: &str) -> Result<(), Failed> {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .map_err(|e| format!("mount: {e}"))?;
        ensure(status.success(), || {
            format!("mount -o remount,{options} failed")
        })
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A CSV list on standard input (`scan - --csv`) with a header naming its columns in another
/// order, a quoted account with a comma, a row without an account: each result keeps its
/// account, in the JSON lines and in the database, and every SMTP server is greeted with the
/// `--ehlo` name (seen by the proxy in front of the hosting server).
fn csv_from_standard_input(ca: &str) -> Result<(), Failed> {
    use std::io::Write as _;
    let _turn = serial();
    let counter = front()?;
    counter.reset();
    let dir = scratch("csv")?;
    let db = dir.join("csv.sqlite").display().to_string();
    let (hosted, good, gone) = (
        domains_of(&[Kind::Hosted], 1).remove(0),
        domains_of(&[Kind::Good], 1).remove(0),
        domains_of(&[Kind::Unresolvable], 1).remove(0),
    );
    let csv = format!("customer,domain\n\"ACME, Inc.\",{hosted}\nacme-2,{good}\n,{gone}\n");
    let mut child = scan(ca, Path::new("-"), &db, &["--csv", "--json-lines"])
        .args(["--ehlo", "scanner.example.test"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no standard input")?
        .write_all(csv.as_bytes())?;
    let output = child.wait_with_output()?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    ensure(output.status.success(), || {
        format!("exit {}: {stderr}", output.status)
    })?;
    let mut accounts: Vec<(String, Option<String>)> = Vec::new();
    for line in stdout.lines() {
        let json = super::json_of(line, &stderr)?;
        accounts.push((
            json["target"].as_str().unwrap_or_default().to_string(),
            json["account"].as_str().map(str::to_string),
        ));
    }
    accounts.sort();
    let mut expected = vec![
        (hosted.clone(), Some("ACME, Inc.".to_string())),
        (good.clone(), Some("acme-2".to_string())),
        (gone.clone(), None),
    ];
    expected.sort();
    expect_eq("targets and accounts on stdout", expected.clone(), accounts)?;
    let stored: Vec<(String, Option<String>)> =
        query(&db, "SELECT target, account FROM targets ORDER BY target")?
            .into_iter()
            .map(|row| (row[0].clone().unwrap_or_default(), row[1].clone()))
            .collect();
    expect_eq("targets and accounts stored", expected, stored)?;
    expect_eq(
        "EHLO names the hosting server was greeted with",
        vec!["scanner.example.test".to_string()],
        counter.greetings(),
    )
}

/// A database that is locked, read-only, of a newer schema, someone else's, or damaged is
/// refused with one line and exit 3, before a single connection to a server.
fn bad_databases(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    let counter = front()?;
    let dir = scratch("bad-databases")?;
    let list = write_list(&dir, "one.txt", &domains_of(&[Kind::Hosted], 1))?;
    let empty = write_list(&dir, "empty.txt", &[])?;
    let fresh = |name: &str| -> Result<PathBuf, Failed> {
        let db = dir.join(name);
        let (status, _, stderr) = output_of(&mut scan(ca, &empty, &db.display().to_string(), &[]));
        ensure(status == 0, || format!("creating {name}: {stderr}"))?;
        Ok(db)
    };
    let refused = |db: &Path, expected: &str| -> Result<(), Failed> {
        counter.reset();
        let (status, stdout, stderr) =
            output_of(&mut scan(ca, &list, &db.display().to_string(), &[]));
        expect_eq("exit status", 3, status)
            .map_err(|_| format!("{}: exit {status}, expected 3: {stderr}", db.display()))?;
        ensure(stdout.is_empty() && stderr.lines().count() == 1, || {
            format!("one line only: {stdout}{stderr}")
        })?;
        ensure(stderr.contains(expected), || {
            format!("{}: {stderr:?} does not say {expected:?}", db.display())
        })?;
        expect_eq(
            "connections to the server",
            0,
            counter.total.load(Ordering::SeqCst),
        )
    };

    // Locked: another process holds an exclusive lock for longer than the scan waits.
    let locked = fresh("locked.sqlite")?;
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(30)",
        ])
        .arg(&locked)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    if let Some(out) = holder.stdout.as_mut() {
        use std::io::BufRead as _;
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let result = refused(&locked, "is locked by another process");
    let _ = holder.kill();
    let _ = holder.wait();
    result?;

    // Written by a newer mailtls.
    let newer = fresh("newer.sqlite")?;
    python(
        "import sqlite3, sys\n\
         c = sqlite3.connect(sys.argv[1])\n\
         c.execute(\"INSERT INTO _sqlx_migrations (version, description, success, checksum, \
         execution_time) VALUES (99990101000000, 'from the future', 1, x'00', 0)\")\n\
         c.commit()",
        &newer,
    )?;
    refused(&newer, "was written by a newer mailtls")?;

    // Someone else's database.
    let foreign = dir.join("foreign.sqlite");
    python(
        "import sqlite3, sys\n\
         c = sqlite3.connect(sys.argv[1])\n\
         c.execute('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)')\n\
         c.commit()",
        &foreign,
    )?;
    refused(&foreign, "is not a mailtls scan database")?;

    // Damaged: not a database at all.
    let damaged = dir.join("damaged.sqlite");
    std::fs::write(&damaged, vec![0x5a; 8192]).map_err(|e| e.to_string())?;
    refused(&damaged, "is damaged")?;

    // Read-only: on a file system mounted read-only.
    let readonly = fresh("readonly.sqlite")?;
    let mount = Mount::tmpfs(&dir.join("ro"), "2m")?;
    let inside = mount.0.join("readonly.sqlite");
    std::fs::copy(&readonly, &inside).map_err(|e| e.to_string())?;
    mount.remount("ro")?;
    refused(&inside, "is read-only")?;
    drop(mount);

    // And PostgreSQL that is someone else's.
    let postgres = postgres()?;
    postgres.create_database("foreign")?;
    postgres.sql("foreign", "CREATE TABLE invoices (id BIGINT PRIMARY KEY)")?;
    counter.reset();
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &postgres::url("foreign"), &[]));
    expect_eq("exit status (foreign PostgreSQL)", 3, status)?;
    ensure(stderr.contains("is not a mailtls scan database"), || {
        stderr.clone()
    })
}

/// The disk fills up under a scan: it stops with one line and exit 3, what was committed is
/// intact (SQLite's integrity check), and after space is freed the same command finishes.
fn full_disk(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("full-disk")?;
    let domains = domains_of(&[Kind::Hosted], 200);
    let list = write_list(&dir, "full.txt", &domains)?;
    let mount = Mount::tmpfs(&dir.join("disk"), "600k")?;
    let db = mount.0.join("full.sqlite").display().to_string();
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &db, &[]));
    expect_eq("exit status on a full disk", 3, status)
        .map_err(|_| format!("exit {status}: {stderr}"))?;
    ensure(
        stderr.contains("is full") && stderr.contains("run the same command to continue"),
        || format!("says the disk is full and how to continue: {stderr}"),
    )?;
    ensure(stderr.contains(" store error"), || {
        format!("counts the store errors: {stderr}")
    })?;
    ensure(stderr.lines().count() == 1, || {
        format!("one line: {stderr}")
    })?;
    let committed = number(&db, "SELECT COUNT(*) FROM targets")?;
    ensure(committed > 0 && committed < domains.len() as u64, || {
        format!(
            "{committed} of {} committed on the full disk",
            domains.len()
        )
    })?;
    expect_eq(
        "integrity",
        vec![vec![Some("ok".to_string())]],
        query(&db, "PRAGMA integrity_check")?,
    )?;
    mount.remount("size=64m")?;
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &db, &[]));
    ensure(status == 0, || {
        format!("after freeing space: exit {status}: {stderr}")
    })?;
    expect_eq(
        "targets",
        domains.len() as u64,
        number(&db, "SELECT COUNT(DISTINCT target) FROM targets")?,
    )?;
    expect_eq(
        "rows",
        domains.len() as u64,
        number(&db, "SELECT COUNT(*) FROM targets")?,
    )
}

/// `scan report` leads with what to fix, grouped by cause and server, in text, JSON and CSV;
/// `scan diff` names what broke and what was fixed between two scans; both exit as `check`
/// does, for cron.
fn report_and_diff(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("report")?;
    let domains = domains_of(&[Kind::Good, Kind::Hosted, Kind::Unresolvable], 10);
    let list = write_list(&dir, "report.txt", &domains)?;
    let trusted = dir.join("trusted.sqlite").display().to_string();
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &trusted, &["--scan", "trusted"]));
    ensure(status == 0, || format!("scan: exit {status}: {stderr}"))?;

    let report = |args: &[&str]| output_of(Command::new(env!("CARGO_BIN_EXE_mailtls")).args(args));
    let (status, text, _) = report(&["scan", "report", &trusted]);
    expect_eq("report exit status (a target fails)", 2, status)?;
    let lead = format!(
        "→ 10 targets on {host} hand out mail.DOMAIN through clients' name guesses, MX and SRV \
         records; the certificate covers {host}, verified: provision {host} instead.",
        host = lab::SCANHOST.name
    );
    let fixes = text.find("What to fix").unwrap_or(usize::MAX);
    ensure(
        text.starts_with("Scan trusted (30 targets")
            && fixes < text.find("Targets per cause").unwrap_or(0)
            && text.contains(&lead)
            && text.contains("10 targets could not be checked: the name does not resolve."),
        || format!("the report leads with the fixes:\n{text}"),
    )?;
    let (status, json, _) = report(&["scan", "report", &trusted, "--json"]);
    expect_eq("JSON report exit status", 2, status)?;
    let json: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    crate::schema::validate(&json)?;
    expect_eq(
        "first fix",
        (Some("name-mismatch"), Some(lab::SCANHOST.name), Some(10)),
        (
            json["fixes"][0]["cause"].as_str(),
            json["fixes"][0]["verified_name"].as_str(),
            json["fixes"][0]["targets"].as_u64(),
        ),
    )?;
    expect_eq(
        "verdicts",
        (10, 10, 10),
        (
            json["verdicts"]["ok"].as_u64().unwrap_or(0),
            json["verdicts"]["fail"].as_u64().unwrap_or(0),
            json["verdicts"]["unknown"].as_u64().unwrap_or(0),
        ),
    )?;
    // Each target carries its causes: the hosted ones the mismatch, the unresolvable ones
    // no-such-name, the good ones none; and the counts per cause are these targets, counted.
    let targets: Vec<&serde_json::Value> =
        json["targets"].as_array().into_iter().flatten().collect();
    let codes_of = |t: &serde_json::Value| -> Vec<String> {
        t["codes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect()
    };
    for target in &targets {
        let name = target["target"].as_str().unwrap_or_default();
        let codes = codes_of(target);
        let kind = fleet::domains().find(|(d, _)| d == name).map(|(_, k)| k);
        let expected: &[&str] = match kind {
            Some(Kind::Good) => &[],
            Some(Kind::Hosted) => &["name-mismatch"],
            Some(Kind::Unresolvable) => &["no-such-name"],
            other => return Err(format!("{name}: unexpected kind {other:?}").into()),
        };
        expect_eq(
            &format!("codes of {name}"),
            expected.to_vec(),
            codes.iter().map(String::as_str).collect::<Vec<_>>(),
        )?;
        ensure((target["verdict"] == "ok") == codes.is_empty(), || {
            format!("{name}: a target has codes exactly when it is not ok: {target}")
        })?;
    }
    for cause in json["causes"].as_array().into_iter().flatten() {
        let code = cause["cause"].as_str().unwrap_or_default();
        let carrying = targets
            .iter()
            .filter(|t| codes_of(t).iter().any(|c| c == code))
            .count() as u64;
        expect_eq(
            &format!("targets carrying {code}"),
            cause["targets"].as_u64(),
            Some(carrying),
        )?;
    }
    let (_, csv, _) = report(&["scan", "report", &trusted, "--csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    expect_eq(
        "CSV header (columns only added at the end)",
        vec![
            "target",
            "line",
            "account",
            "verdict",
            "exit_code",
            "summary",
            "fix",
            "recommendation",
            "codes",
            "mta_sts",
            "dane",
            "costs_mail",
        ],
        header.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    expect_eq("CSV rows", 30, rows.len())?;
    for row in &rows {
        let name = row.get(0).unwrap_or_default();
        let json_codes = targets
            .iter()
            .find(|t| t["target"] == name)
            .map(|t| codes_of(t).join(" "));
        expect_eq(
            &format!("CSV codes of {name}, as in the JSON"),
            json_codes.as_deref(),
            row.get(8),
        )?;
        // A mail domain's inbound values, as in the JSON; empty for a host.
        let inbound = targets.iter().find(|t| t["target"] == name).map(|t| {
            let i = &t["inbound"];
            ["mta_sts", "dane", "costs_mail"].map(|k| i[k].as_str().unwrap_or_default().to_string())
        });
        expect_eq(
            &format!("CSV inbound of {name}, as in the JSON"),
            inbound,
            Some([9, 10, 11].map(|i| row.get(i).unwrap_or_default().to_string())),
        )?;
    }

    // The same list where the lab's CA is not trusted: every certificate broke.
    let untrusted = dir.join("untrusted.sqlite").display().to_string();
    let mut without_ca = Command::new(env!("CARGO_BIN_EXE_mailtls"));
    without_ca
        .arg("scan")
        .arg(&list)
        .args([
            "--db",
            &untrusted,
            "--dns",
            lab::DNS,
            "--timeout",
            "5",
            "--scan",
            "untrusted",
        ])
        .args(["--dns-rate", "2000", "--per-ip-rate", "0"]);
    let (status, _, stderr) = output_of(&mut without_ca);
    ensure(status == 0, || {
        format!("scan without the CA: exit {status}: {stderr}")
    })?;
    let (status, text, _) = report(&["scan", "diff", &trusted, &untrusted]);
    expect_eq("diff exit status (targets now fail)", 2, status)?;
    ensure(
        text.contains("From scan trusted")
            // The good ones now fail, the hosted ones gained a problem.
            && text.contains("20 broke")
            && text.contains(&format!("{}: ok → fail (now unknown-ca)", domains[0])),
        || format!("the diff names what broke:\n{text}"),
    )?;
    let (status, json, _) = report(&["scan", "diff", &trusted, &untrusted, "--json"]);
    expect_eq("JSON diff exit status", 2, status)?;
    let json: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    crate::schema::validate(&json)?;
    expect_eq("broke", 20, json["broke"].as_array().map_or(0, Vec::len))?;
    // The other way round, it was all fixed, and nothing broke.
    let (status, text, _) = report(&["scan", "diff", &untrusted, &trusted]);
    expect_eq("reverse diff exit status", 0, status)?;
    ensure(text.contains("0 broke, 20 fixed"), || text.clone())?;
    // Two scans in one database, by name.
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &untrusted, &["--scan", "again"]));
    ensure(status == 0, || format!("scan: exit {status}: {stderr}"))?;
    let (status, text, _) = report(&["scan", "diff", "untrusted", "again", "--db", &untrusted]);
    expect_eq("diff by name exit status (only fixes)", 0, status)?;
    ensure(text.contains("0 broke, 20 fixed"), || text.clone())
}

/// On a terminal, a progress bar (targets done of the total, rate, ETA, problems found) and,
/// at the end, what to fix first.
fn progress_on_a_terminal(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("terminal")?;
    let domains = domains_of(&[Kind::Hosted, Kind::Good], 20);
    let list = write_list(&dir, "terminal.txt", &domains)?;
    let db = dir.join("terminal.sqlite").display().to_string();
    let command = format!(
        "{} scan {} --db {db} --dns {} --ca-file {ca} --per-ip-rate 0 --dns-rate 2000",
        env!("CARGO_BIN_EXE_mailtls"),
        list.display(),
        lab::DNS
    );
    // script(1) gives the scan a terminal.
    let (status, out, _) = output_of(
        Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("COLUMNS", "120"),
    );
    expect_eq("exit status", 0, status)?;
    ensure(
        out.contains("/40 targets") && out.contains("ETA") && out.contains("with problems"),
        || format!("a progress bar: {out}"),
    )?;
    ensure(
        out.contains("What to fix") && out.contains("Every target: mailtls scan report"),
        || format!("the fixes at the end: {out}"),
    )?;
    // Not one line per target on a terminal.
    ensure(!out.contains(&format!("{}\tok", domains[20])), || {
        format!("no per-target lines on a terminal: {out}")
    })
}

/// Bad input: a wrong command line is a usage error before anything happens; bad lines (and
/// binary, and an endless line) are reported with their number and skipped, never fatal; a
/// scan name cannot be continued with other options.
fn bad_input(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("bad-input")?;
    let db = dir.join("bad.sqlite").display().to_string();
    let list = write_list(&dir, "good.txt", &domains_of(&[Kind::Good], 3))?;
    let usage = |args: &[&str], expected: &str| -> Result<(), Failed> {
        let (status, stdout, stderr) =
            output_of(Command::new(env!("CARGO_BIN_EXE_mailtls")).args(args));
        expect_eq("exit status", 64, status)
            .map_err(|_| format!("{args:?}: exit {status}: {stderr}"))?;
        ensure(stdout.is_empty() && stderr.contains(expected), || {
            format!("{args:?}: {stderr:?} does not say {expected:?}")
        })?;
        ensure(!stderr.contains("panicked"), || stderr.clone())
    };
    let list_arg = list.display().to_string();
    let dir_arg = dir.display().to_string();
    usage(
        &["scan", "/nonexistent/list.txt", "--db", &db],
        "/nonexistent/list.txt",
    )?;
    usage(&["scan", &dir_arg, "--db", &db], "is a directory")?;
    usage(&["scan", &list_arg, "--shard", "4/4"], "is not a shard")?;
    usage(
        &["scan", &list_arg, "--ehlo", "not a name!"],
        "is not an EHLO name",
    )?;
    usage(&["scan", &list_arg, "--max-duration", "0"], "at least 1 s")?;
    usage(
        &["scan", &list_arg, "--max-duration", "soon"],
        "is not a duration",
    )?;
    usage(&["scan", &list_arg, "--parallel", "0"], "invalid value")?;
    usage(&["scan", &list_arg, "--memo", "0"], "invalid value")?;
    usage(&["scan", &list_arg, "--memo", "65537"], "invalid value")?;
    // A database to report on that does not exist: "could not check" (3), one line.
    let (status, _, stderr) = output_of(Command::new(env!("CARGO_BIN_EXE_mailtls")).args([
        "scan",
        "report",
        "/nonexistent.sqlite",
    ]));
    ensure(
        status == 3 && stderr.contains("no such scan database") && stderr.lines().count() == 1,
        || format!("report on a missing database: {status}: {stderr}"),
    )?;
    ensure(!Path::new(&db).exists(), || {
        "no database was created by a usage error".to_string()
    })?;

    // Binary, an endless line, and a bad name among good ones: reported, skipped, not fatal.
    let messy = dir.join("messy.txt");
    let mut bytes = format!("{}\n", domains_of(&[Kind::Good], 1)[0]).into_bytes();
    bytes.extend([0xff, 0xfe, 0x00, 0x01, b'\n']);
    bytes.extend(vec![b'a'; 100_000]);
    bytes.push(b'\n');
    bytes.extend(b"mail..example\n");
    bytes.extend(format!("{}\n", domains_of(&[Kind::Good], 2)[1]).into_bytes());
    std::fs::write(&messy, bytes).map_err(|e| e.to_string())?;
    let (status, stdout, stderr) = output_of(&mut scan(ca, &messy, &db, &[]));
    expect_eq("exit status with bad lines", 0, status)?;
    expect_eq("results", 2, stdout.lines().count())?;
    for (line, why) in [(2, "not UTF-8"), (3, "longer than 4096 bytes"), (4, "")] {
        ensure(
            stderr.contains(&format!("line {line} skipped: {why}")),
            || format!("line {line} reported: {stderr}"),
        )?;
    }
    expect_eq(
        "rejected lines kept",
        3,
        number(&db, "SELECT COUNT(*) FROM rejected")?,
    )?;
    // The same scan name with other options is refused.
    let (status, _, stderr) = output_of(&mut scan(
        ca,
        &messy,
        &db,
        &["--scan", "auto-named", "--no-versions"],
    ));
    ensure(status == 0, || format!("a new scan name: {stderr}"))?;
    let (status, _, stderr) = output_of(&mut scan(ca, &messy, &db, &["--scan", "auto-named"]));
    expect_eq("other options for a scan", 64, status)?;
    ensure(stderr.contains("was started with other options"), || {
        stderr.clone()
    })
}

/// `--max-duration` stops taking targets; the scan says so (exit 3) and the same command
/// continues.
fn max_duration(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("max-duration")?;
    let domains = domains_of(&[Kind::Hosted], 100);
    let list = write_list(&dir, "slow.txt", &domains)?;
    let db = dir.join("slow.sqlite").display().to_string();
    let started = Instant::now();
    let (status, _, stderr) = output_of(&mut scan(
        ca,
        &list,
        &db,
        &["--per-ip-rate", "10", "--max-duration", "3s"],
    ));
    expect_eq("exit status", 3, status)?;
    ensure(started.elapsed() < Duration::from_secs(20), || {
        format!("it stopped in time: {:?}", started.elapsed())
    })?;
    ensure(
        stderr.contains("stopped after --max-duration")
            && stderr.contains("run the same command to continue"),
        || stderr.clone(),
    )?;
    let committed = number(&db, "SELECT COUNT(*) FROM targets")?;
    ensure(committed < domains.len() as u64, || {
        format!("{committed} done")
    })?;
    let (status, stdout, stderr) = output_of(&mut scan(ca, &list, &db, &[]));
    ensure(status == 0, || {
        format!("continued: exit {status}: {stderr}")
    })?;
    expect_eq(
        "checked by the second run",
        domains.len() as u64 - committed,
        stdout.lines().count() as u64,
    )
}

/// A server answering 421 to every connection is retried with pauses, then recorded as
/// rate-limited: a warning that is not a TLS problem, and no client verdict made up for it.
fn busy_server(ca: &str) -> Result<(), Failed> {
    let (status, json) = super::check_json(
        ca,
        lab::BUSY.name,
        &["--ports", "25,587,465", "--no-versions"],
    )?;
    expect_eq("exit status (warnings only)", 1, status)?;
    for port in [25, 587] {
        let endpoint = super::endpoint(&json, port)?;
        expect_eq(
            "failure",
            Some("rate-limited"),
            endpoint["failure"]["kind"].as_str(),
        )?;
        let detail = endpoint["failure"]["detail"].as_str().unwrap_or_default();
        ensure(
            detail.contains("421 4.7.0") && detail.contains("3 attempts"),
            || format!("port {port}: {detail}"),
        )?;
        expect_eq(
            "codes",
            vec!["rate-limited".to_string()],
            super::codes(endpoint),
        )?;
        ensure(
            endpoint["clients"].as_array().is_some_and(Vec::is_empty),
            || {
                format!(
                    "no client verdict for an unchecked port: {}",
                    endpoint["clients"]
                )
            },
        )?;
    }
    // 465 speaks TLS before its greeting: the certificate was seen, and it is fine.
    expect_eq(
        "465",
        Some("ok"),
        super::endpoint(&json, 465)?["result"].as_str(),
    )
}

/// A greeting slower than the timeout (postscreen's pregreet wait) is a tarpit: retried, then
/// rate-limited, and the host "could not be checked"; with a timeout longer than the wait, the
/// same server is checked normally.
fn tarpit(ca: &str) -> Result<(), Failed> {
    let check = |timeout: &str| -> Result<(i32, serde_json::Value), Failed> {
        let (status, stdout, stderr) = super::run_mailtls(&[
            "check",
            lab::TARPIT.name,
            "--dns",
            lab::DNS,
            "--ca-file",
            ca,
            "--ports",
            "25",
            "--no-versions",
            "--timeout",
            timeout,
            "--json",
        ]);
        Ok((status, super::json_of(&stdout, &stderr)?))
    };
    let (status, json) = check("2")?;
    expect_eq("exit status", 3, status)?;
    let endpoint = super::endpoint(&json, 25)?;
    expect_eq(
        "failure",
        Some("rate-limited"),
        endpoint["failure"]["kind"].as_str(),
    )?;
    ensure(
        endpoint["failure"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no complete greeting within 2 s")),
        || format!("{}", endpoint["failure"]),
    )?;
    ensure(
        json["summary"]
            .as_str()
            .is_some_and(|s| s.contains("rate-limited") && s.contains("not a TLS problem")),
        || format!("{}", json["summary"]),
    )?;
    let (status, json) = check(&(lab::TARPIT_WAIT + 4).to_string())?;
    expect_eq("exit status with a longer timeout", 0, status)?;
    expect_eq(
        "25",
        Some("ok"),
        super::endpoint(&json, 25)?["result"].as_str(),
    )
}

/// deploy/kubernetes/scan-job.yaml is a valid Indexed Job (the Kubernetes API's own schemas,
/// strict), and its pods, run here as the Job controller would run them (each with its
/// JOB_COMPLETION_INDEX, `$(VAR)`s expanded, the list where the ConfigMap is mounted), write
/// exactly the rows of one unsharded run into one PostgreSQL.
fn kubernetes_job(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let documents = manifest("scan-job.yaml")?;
    let job = documents
        .iter()
        .find(|d| d["kind"] == "Job")
        .ok_or("no Job in the manifest")?;
    expect_eq(
        "completion mode",
        Some("Indexed"),
        job["spec"]["completionMode"].as_str(),
    )?;
    let completions = job["spec"]["completions"].as_u64().unwrap_or(0);
    expect_eq(
        "parallelism",
        Some(completions),
        job["spec"]["parallelism"].as_u64(),
    )?;
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let env = pod_env(container, job, "kubernetes");
    expect_eq(
        "SHARDS",
        Some(completions.to_string()),
        env.iter()
            .find(|(n, _)| n == "SHARDS")
            .map(|(_, v)| v.clone()),
    )?;
    let postgres = postgres()?;
    postgres.create_database("kubernetes")?;
    let db = postgres::url("kubernetes");
    let dir = scratch("kubernetes")?;
    let domains = domains_of(&[Kind::Good, Kind::Hosted, Kind::Unresolvable], 10);
    write_list(&dir, "domains.txt", &domains)?;
    let pods: Vec<Child> = (0..completions)
        .map(|index| {
            let mut vars = env.clone();
            vars.push(("JOB_COMPLETION_INDEX".to_string(), index.to_string()));
            pod(container, &vars, &dir, ca)
        })
        .collect::<Result<_, _>>()?;
    pods_do_what_one_run_does(ca, pods, domains.len(), &dir, &db, job)
}

/// The Job of workers on one work queue (`scan-queue-job.yaml`: a plain Job, `parallelism`
/// pods, no `completions`): its pods, run with their own arguments, record what one run does;
/// and the continuous scan (`scan-deployment.yaml`): its replicas scan the list as the period's
/// scan (named after the period's start), then wait for the next period instead of exiting.
fn kubernetes_queue(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("kubequeue")?;
    let domains = domains_of(&[Kind::Good, Kind::Hosted, Kind::Unresolvable], 8);
    write_list(&dir, "domains.txt", &domains)?;

    let documents = manifest("scan-queue-job.yaml")?;
    let job = documents
        .iter()
        .find(|d| d["kind"] == "Job")
        .ok_or("no Job in scan-queue-job.yaml")?;
    ensure(
        job["spec"]["completionMode"].is_null() && job["spec"]["completions"].is_null(),
        || "a work-queue Job sets neither completionMode nor completions".to_string(),
    )?;
    let parallelism = job["spec"]["parallelism"].as_u64().unwrap_or(0);
    ensure(parallelism > 1, || format!("parallelism {parallelism}"))?;
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let args = container["args"].to_string();
    ensure(!args.contains("--shard"), || format!("no shards: {args}"))?;
    let env = pod_env(container, job, "kubequeue");
    let pods: Vec<Child> = (0..parallelism)
        .map(|_| pod(container, &env, &dir, ca))
        .collect::<Result<_, _>>()?;
    pods_do_what_one_run_does(ca, pods, domains.len(), &dir, &db, job)?;

    let documents = manifest("scan-deployment.yaml")?;
    let deployment = documents
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .ok_or("no Deployment in scan-deployment.yaml")?;
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let env = pod_env(container, deployment, "kubequeue");
    let mut replicas: Vec<Child> = (0..2)
        .map(|_| pod(container, &env, &dir, ca))
        .collect::<Result<_, _>>()?;
    // Their output is drained (a pod whose pipe nobody reads stops at its next line).
    for replica in &mut replicas {
        if let Some(mut out) = replica.stdout.take() {
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        }
        if let Some(mut err) = replica.stderr.take() {
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let scanned = loop {
        let row = query(
            &db,
            "SELECT scan_id, COUNT(*) FROM targets WHERE scan_id LIKE 'fleet-%' GROUP BY scan_id",
        )
        .unwrap_or_default();
        let finished = number(
            &db,
            "SELECT COUNT(*) FROM scan_runs WHERE scan_id LIKE 'fleet-%'              AND finished_at IS NOT NULL",
        )
        .unwrap_or(0);
        if finished == 2 || Instant::now() > deadline {
            break row;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let still_running = replicas
        .iter_mut()
        .all(|r| r.try_wait().is_ok_and(|status| status.is_none()));
    // Removed while waiting for the next period (SIGTERM): each leaves at once, exit 0.
    let mut left = Vec::new();
    for replica in &mut replicas {
        let _ = Command::new("kill")
            .args(["-TERM", &replica.id().to_string()])
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for replica in &mut replicas {
        let status = loop {
            match replica.try_wait() {
                Ok(Some(status)) => break Some(status),
                _ if Instant::now() > deadline => break None,
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        if status.is_none() {
            let _ = replica.kill();
            let _ = replica.wait();
        }
        left.push(status.and_then(|s| s.code()));
    }
    ensure(scanned.len() == 1, || {
        format!("one scan of the period: {scanned:?}")
    })?;
    let name = scanned[0][0].clone().unwrap_or_default();
    let suffix = name.trim_start_matches("fleet-");
    ensure(
        suffix.len() == 14 && suffix.ends_with("0000Z") && suffix.as_bytes()[8] == b'T',
        || format!("the day's scan is named after its start: {name}"),
    )?;
    expect_eq(
        "targets of the day's scan",
        Some(domains.len().to_string()),
        scanned[0][1].clone(),
    )?;
    ensure(still_running, || {
        "the replicas exited after the scan instead of waiting for the next".to_string()
    })?;
    expect_eq("exit statuses on SIGTERM", vec![Some(0), Some(0)], left)
}

/// A manifest of `deploy/kubernetes/`, validated (kubernetes-validate --strict, Kubernetes
/// 1.33), as JSON documents.
fn manifest(name: &str) -> Result<Vec<serde_json::Value>, Failed> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes")
        .join(name);
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin");
    ensure(venv.join("kubernetes-validate").exists(), || {
        "kubernetes-validate is not installed: run scripts/test.sh, which installs it".to_string()
    })?;
    let (status, out, err) = output_of(
        Command::new(venv.join("kubernetes-validate"))
            .args(["--strict", "-k", "1.33.0"])
            .arg(&manifest),
    );
    ensure(
        status == 0 && !out.contains("ERROR") && !err.contains("ERROR"),
        || format!("{name} does not validate: {out}{err}"),
    )?;
    let (status, json, err) = output_of(
        Command::new(venv.join("python"))
            .args([
                "-c",
                "import json, sys, yaml\nprint(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
            ])
            .arg(&manifest),
    );
    ensure(status == 0, || format!("reading {name}: {err}"))?;
    serde_json::from_str(&json).map_err(|e| Failed::from(e.to_string()))
}

/// A pod's environment: its variables, the database secret as the lab's `database`, the
/// Job's name for SCAN_NAME.
fn pod_env(
    container: &serde_json::Value,
    owner: &serde_json::Value,
    database: &str,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap_or_default().to_string();
        let value = match name.as_str() {
            "SCAN_DB" => postgres::url(database),
            "SCAN_NAME" => owner["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            _ => var["value"].as_str().unwrap_or_default().to_string(),
        };
        env.push((name, value));
    }
    env
}

/// Runs a pod's container: its own arguments (the variables put in, the list's mount moved to
/// `dir`), and the lab's resolver and CA (a cluster has its own).
fn pod(
    container: &serde_json::Value,
    vars: &[(String, String)],
    dir: &Path,
    ca: &str,
) -> Result<Child, Failed> {
    let mount = container["volumeMounts"][0]["mountPath"]
        .as_str()
        .ok_or("no volume mount")?;
    let args: Vec<String> = container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str())
        .map(|arg| {
            let mut arg = arg.to_string();
            for (name, value) in vars {
                arg = arg.replace(&format!("$({name})"), value);
            }
            arg.replacen(mount, &dir.display().to_string(), 1)
        })
        .collect();
    Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(&args)
        .args(["--dns", lab::DNS, "--ca-file", ca, "--timeout", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failed::from(e.to_string()))
}

/// Waits for every pod; each must exit 0 and print valid JSON lines: how many in all. Every
/// pod's output is read at once (a pod whose pipe nobody reads stops at its next line).
fn json_lines_of(pods: Vec<Child>) -> Result<usize, Failed> {
    let readers: Vec<_> = pods
        .into_iter()
        .map(|pod| std::thread::spawn(move || pod.wait_with_output()))
        .collect();
    let mut lines = 0;
    for (index, reader) in readers.into_iter().enumerate() {
        let output = reader
            .join()
            .map_err(|_| format!("pod {index}: its reader panicked"))?
            .map_err(|e| e.to_string())?;
        ensure(output.status.success(), || {
            format!(
                "pod {index}: {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let json: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            crate::schema::validate(&json)?;
            lines += 1;
        }
    }
    Ok(lines)
}

/// The pods of `job` print a valid JSON line for each of the list's `targets`, and write the
/// rows one run of the list writes.
fn pods_do_what_one_run_does(
    ca: &str,
    pods: Vec<Child>,
    targets: usize,
    dir: &Path,
    db: &str,
    job: &serde_json::Value,
) -> Result<(), Failed> {
    expect_eq("JSON lines from all pods", targets, json_lines_of(pods)?)?;
    let job_name = job["metadata"]["name"].as_str().unwrap_or_default();
    same_rows_as_one_run(ca, dir, db, job_name)
}

/// Scan `name` in `db` has the rows one run of `dir`'s list does.
fn same_rows_as_one_run(ca: &str, dir: &Path, db: &str, name: &str) -> Result<(), Failed> {
    let list = dir.join("domains.txt");
    let whole = format!("{name}-whole");
    let (status, _, stderr) = output_of(&mut scan(
        ca,
        &list,
        db,
        &["--scan", &whole, "--dns-rate", "500"],
    ));
    ensure(status == 0, || format!("the single run: {stderr}"))?;
    let pods = rows_of(db, name)?;
    let one = rows_of(db, &whole)?;
    ensure(pods == one, || {
        format!(
            "the pods' rows differ from one run's: {:?}",
            pods[0].iter().zip(&one[0]).find(|(a, b)| a != b)
        )
    })
}

/// The number in the summary's "N checks repeated because DNS did not answer", if any.
fn repeated_checks(stderr: &str) -> Option<u32> {
    stderr
        .split(", ")
        .find_map(|part| {
            part.trim_end()
                .strip_suffix(" checks repeated because DNS did not answer")
        })
        .and_then(|n| n.trim().parse().ok())
}

/// Through a resolver that leaves the first two copies of every SRV and autoconfig question
/// unanswered (both of mailtls's tries), a scan checks those targets again and records exactly
/// what a scan through the lab's own resolver records: nothing lost is remembered (the HTTPS
/// fetch memo, the host memo), nothing is blamed on the domains.
fn lossy_resolver(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("lossy")?;
    let db = dir.join("lossy.sqlite").display().to_string();
    let domains = domains_of(&[Kind::Good, Kind::Hosted, Kind::Autoconfig], 3);
    let list = write_list(&dir, "lossy.txt", &domains)?;
    let lossy = super::lossy_dns::start(lab::DNS.parse()?, 3, |name| {
        name.starts_with('_') || name.starts_with("autoconfig.")
    })?;
    let run = |scan: &str, dns: &str| {
        output_of(
            Command::new(env!("CARGO_BIN_EXE_mailtls"))
                .arg("scan")
                .arg(&list)
                .args(["--db", &db, "--dns", dns, "--ca-file", ca])
                .args(["--timeout", "2", "--per-ip-rate", "0", "--scan", scan])
                .env("NO_COLOR", "1"),
        )
    };
    let (status, _, stderr) = run("clean", lab::DNS);
    ensure(status == 0, || {
        format!("through dnsmasq: exit {status}: {stderr}")
    })?;
    let (status, _, stderr) = run("lossy", &lossy.address.to_string());
    ensure(status == 0, || {
        format!("through the lossy relay: exit {status}: {stderr}")
    })?;
    let dropped = lossy.dropped.load(Ordering::SeqCst);
    ensure(dropped > 0, || "the relay lost no question".to_string())?;
    ensure(
        repeated_checks(&stderr).is_some_and(|n| n as usize >= domains.len()),
        || {
            format!(
                "every domain should have been checked again ({dropped} questions lost): {stderr}"
            )
        },
    )?;
    eprintln!(
        "lossy resolver: {dropped} questions lost, {} checks repeated, for {} domains",
        repeated_checks(&stderr).unwrap_or(0),
        domains.len()
    );
    let clean = rows_of(&db, "clean")?;
    let lossy_rows = rows_of(&db, "lossy")?;
    expect_eq("targets", domains.len(), clean[0].len())?;
    for (table, (a, b)) in ["targets", "endpoints", "problems", "discovery"]
        .iter()
        .zip(clean.iter().zip(&lossy_rows))
    {
        ensure(a == b, || {
            let first = a.iter().zip(b).find(|(x, y)| x != y);
            format!(
                "{table}: {} rows clean, {} lossy; first difference: {first:?}",
                a.len(),
                b.len()
            )
        })?;
    }
    Ok(())
}

/// A domain whose autoconfig name our resolver gets no answer for (its DNS server never
/// answers) is checked again twice, later, before it is recorded as `unknown`; a domain that
/// was answered is checked once.
fn unanswered_checked_again(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    let dir = scratch("unanswered")?;
    let db = dir.join("unanswered.sqlite").display().to_string();
    let list = write_list(
        &dir,
        "unanswered.txt",
        &[lab::DISC_SILENT.to_string(), lab::DISC_GOOD.to_string()],
    )?;
    // A short timeout keeps the three attempts short: each waits for the resolver's two tries.
    let (status, _, stderr) = output_of(
        Command::new(env!("CARGO_BIN_EXE_mailtls"))
            .arg("scan")
            .arg(&list)
            .args(["--db", &db, "--dns", lab::DNS, "--ca-file", ca])
            .args(["--timeout", "1", "--per-ip-rate", "0"])
            .env("NO_COLOR", "1"),
    );
    ensure(status == 0, || format!("exit {status}: {stderr}"))?;
    // The silent domain is checked three times; the other only again if the lab's DNS lost an
    // answer twice in a row.
    let repeated = repeated_checks(&stderr);
    ensure(
        stderr.contains("2 targets checked by this run") && repeated.is_some_and(|n| n >= 2),
        || format!("the summary should count two repeated checks: {stderr}"),
    )?;
    let rows = query(&db, "SELECT target, verdict FROM targets ORDER BY target")?;
    let expected = vec![
        vec![Some(lab::DISC_GOOD.to_string()), Some("ok".to_string())],
        vec![
            Some(lab::DISC_SILENT.to_string()),
            Some("unknown".to_string()),
        ],
    ];
    expect_eq("verdicts", expected, rows)?;
    let not_checked = query(
        &db,
        &format!(
            "SELECT url_or_record FROM discovery WHERE target = '{}' AND status = 'not-checked'",
            lab::DISC_SILENT
        ),
    )?;
    ensure(!not_checked.is_empty(), || {
        format!("{}: no not-checked discovery row", lab::DISC_SILENT)
    })?;
    Ok(())
}
