//! Many workers on one scan in PostgreSQL (docs/scan.md, "Many machines"): the limits per
//! server address kept by all of them together, counted by the proxy in front of the hosting
//! server (what that server sees); a work queue that loses no target and records none twice
//! when workers are killed with `kill -9`, join late, or left stale leases behind; a worker
//! with other options or limits refused while the scan's workers run.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use libtest_mimic::Failed;

use super::super::{ensure, expect_eq};
use super::{
    Kind, domains_of, front, number, on_postgres, query, rows_of, run_all, scan, spawn, wait_for,
    write_list,
};
use crate::run::output_of;

/// Every one of `count` targets recorded in scan `scan`, each once.
fn each_once(db: &str, scan: &str, count: usize) -> Result<(), Failed> {
    expect_eq(
        "targets recorded, and distinct",
        vec![vec![Some(count.to_string()), Some(count.to_string())]],
        query(
            db,
            &format!(
                "SELECT COUNT(*), COUNT(DISTINCT target) FROM targets WHERE scan_id = '{scan}'"
            ),
        )?,
    )
}

/// Four workers: on the queue of `db` (scan `name`), or (`db` a directory) four SQLite shards,
/// each with a database of its own and its limits to itself.
fn four(ca: &str, list: &Path, db: &str, name: &str, limits: &[&str]) -> Vec<Command> {
    (0..4)
        .map(|i| {
            let shard = format!("{i}/4");
            if db.starts_with("postgres://") {
                scan(
                    ca,
                    list,
                    db,
                    &[&["--scan", name, "--parallel", "8"], limits].concat(),
                )
            } else {
                let file = format!("{db}/{name}-{i}.sqlite");
                let args = [&["--shard", shard.as_str(), "--parallel", "8"], limits].concat();
                scan(ca, list, &file, &args)
            }
        })
        .collect()
}

/// Four workers on one PostgreSQL scan of fleet domains that all live on the hosting server
/// behind the counting proxy. Flooding (no rate), the server never sees more than `--per-ip 2`
/// connections at once, and the rows are those of one worker's run; paced (`--per-ip-rate
/// 10`), it never sees more than 10 new ones in a second (plus the one on its edge). Each is
/// measured against the same four workers on SQLite shards, whose limits are each their own:
/// there the server sees more, so the count can tell.
pub fn workers_keep_the_limits_together(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("together")?;
    let counter = front()?;
    let dir_name = dir.display().to_string();
    let domains = domains_of(&[Kind::Hosted, Kind::Autoconfig], 30);
    let list = write_list(&dir, "fleet.txt", &domains)?;
    let flood = ["--per-ip", "2", "--per-ip-rate", "0"];

    counter.reset();
    run_all(four(ca, &list, &dir_name, "flood", &flood))?;
    let alone = counter.peak.load(Ordering::SeqCst);
    counter.reset();
    let started = Instant::now();
    run_all(four(ca, &list, &db, "flood", &flood))?;
    let took = started.elapsed();
    let together = counter.peak.load(Ordering::SeqCst);
    let connections = counter.total.load(Ordering::SeqCst);
    eprintln!(
        "four workers, --per-ip 2: at most {alone} connections at once with a limit each, \
         {together} with the limit kept together ({connections} connections, {:.1} s)",
        took.as_secs_f64()
    );
    ensure(alone > 2, || {
        format!("the control (four workers, each its own limit) saw only {alone} at once")
    })?;
    ensure(together <= 2, || {
        format!("{together} connections at once to one address (limit 2 for all workers)")
    })?;
    let runs = number(
        &db,
        "SELECT COUNT(DISTINCT run_id) FROM targets WHERE scan_id = 'flood'",
    )?;
    ensure(runs >= 3, || {
        format!("only {runs} of the four workers recorded targets: the queue did not share")
    })?;
    let (status, _, stderr) = output_of(&mut scan(
        ca,
        &list,
        &db,
        &[&["--scan", "one"], &flood[..]].concat(),
    ));
    ensure(status == 0, || {
        format!("one worker: exit {status}: {stderr}")
    })?;
    let (four_rows, one_rows) = (rows_of(&db, "flood")?, rows_of(&db, "one")?);
    expect_eq("targets", domains.len(), four_rows[0].len())?;
    for (table, (a, b)) in ["targets", "endpoints", "problems", "discovery"]
        .iter()
        .zip(four_rows.iter().zip(&one_rows))
    {
        ensure(a == b, || {
            format!(
                "{table}: {} rows by four workers, {} by one; first difference: {:?}",
                a.len(),
                b.len(),
                a.iter().zip(b).find(|(x, y)| x != y)
            )
        })?;
    }

    let paced = ["--per-ip", "2", "--per-ip-rate", "10"];
    let few = write_list(&dir, "few.txt", &domains[..16])?;
    counter.reset();
    run_all(four(ca, &few, &dir_name, "paced", &paced))?;
    let alone = counter.peak_per_second();
    counter.reset();
    run_all(four(ca, &few, &db, "paced", &paced))?;
    let together = counter.peak_per_second();
    let peak = counter.peak.load(Ordering::SeqCst);
    eprintln!(
        "four workers, --per-ip-rate 10: at most {alone} new connections in a second with a \
         rate each, {together} with the rate kept together (at most {peak} at once)"
    );
    ensure(alone > 11, || {
        format!("the control (four workers, each its own rate) started only {alone} in a second")
    })?;
    ensure(together <= 11, || {
        format!("{together} connections started in one second (limit 10 for all workers)")
    })?;
    ensure(peak <= 2, || {
        format!("{peak} connections at once (limit 2)")
    })?;

    // The status of the finished scan, from its database.
    let (status, json, stderr) = output_of(
        Command::new(env!("CARGO_BIN_EXE_mailtls"))
            .args(["scan", "status", &db, "--scan", "flood", "--json"]),
    );
    ensure(status == 0, || {
        format!("scan status: exit {status}: {stderr}")
    })?;
    let json: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    crate::schema::validate(&json)?;
    expect_eq("state", Some("finished"), json["state"].as_str())?;
    expect_eq(
        "done",
        Some(domains.len() as u64),
        json["targets"]["done"].as_u64(),
    )?;
    expect_eq("left", Some(0), json["targets"]["left"].as_u64())?;
    let workers = json["workers"].as_array().cloned().unwrap_or_default();
    expect_eq("workers", 4, workers.len())?;
    ensure(workers.iter().all(|w| w["state"] == "finished"), || {
        format!("every worker finished: {workers:?}")
    })?;
    expect_eq(
        "limits",
        serde_json::json!({"per_ip": 2, "per_ip_rate": 0, "dns_rate": 2000}),
        json["limits"].clone(),
    )
}

/// A worker reading the list from standard input loads half of it and is killed with `kill -9`
/// in the middle of its targets; two workers with the list as a file take the loading over
/// from the last line in once its lease passes (3 s), and its claimed targets with it; a
/// fourth joins late. No target is lost or recorded twice, and `scan status` calls the killed
/// worker gone.
pub fn takes_over_from_killed_workers(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("takeover")?;
    let domains = domains_of(&[Kind::Hosted, Kind::Good], 60);
    let list = write_list(&dir, "list.txt", &domains)?;
    let args = [
        "--scan",
        "takeover",
        "--lease",
        "3",
        "--parallel",
        "4",
        "--per-ip-rate",
        "20",
    ];
    let mut first = scan(ca, Path::new("-"), &db, &args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let half = domains.len() / 2;
    let mut stdin = first.stdin.take().ok_or("no standard input")?;
    stdin.write_all((domains[..half].join("\n") + "\n").as_bytes())?;
    stdin.flush()?;
    let waited = wait_for(&db, 5, Duration::from_secs(60), &mut first);
    let run = query(
        &db,
        "SELECT run_id FROM scan_runs WHERE scan_id = 'takeover'",
    )?;
    let held = query(
        &db,
        "SELECT q.target FROM queue q JOIN scan_runs r ON q.holder = r.run_id \
         WHERE q.scan_id = 'takeover'",
    );
    let loaded = number(&db, "SELECT loaded_lines FROM scans WHERE id = 'takeover'");
    let _ = first.kill();
    let _ = first.wait();
    drop(stdin);
    waited?;
    let (held, loaded) = (held?, loaded?);
    let killed = run
        .first()
        .and_then(|r| r[0].clone())
        .ok_or("no run recorded")?;
    expect_eq("lines loaded by the first worker", half as u64, loaded)?;
    ensure(!held.is_empty(), || {
        "the killed worker held no target: nothing to take over".to_string()
    })?;
    let others: Vec<Child> = (0..2)
        .map(|_| spawn(scan(ca, &list, &db, &args)))
        .collect::<Result<_, _>>()?;
    std::thread::sleep(Duration::from_secs(4));
    let late = spawn(scan(ca, &list, &db, &args))?;
    for (i, child) in others.into_iter().chain([late]).enumerate() {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        ensure(output.status.success(), || {
            format!("worker {i}: {}", output.status)
        })?;
    }
    each_once(&db, "takeover", domains.len())?;
    expect_eq(
        "queue rows left",
        0,
        number(&db, "SELECT COUNT(*) FROM queue")?,
    )?;
    for row in &held {
        let target = row[0].clone().unwrap_or_default();
        let by = query(
            &db,
            &format!(
                "SELECT run_id FROM targets WHERE scan_id = 'takeover' AND target = '{target}'"
            ),
        )?;
        ensure(
            by.len() == 1 && by[0][0].as_deref() != Some(killed.as_str()),
            || format!("{target}, held by the killed worker, was recorded by {by:?}"),
        )?;
    }
    let (status, json, stderr) = output_of(
        Command::new(env!("CARGO_BIN_EXE_mailtls"))
            .args(["scan", "status", &db, "--scan", "takeover", "--json"]),
    );
    ensure(status == 0, || format!("scan status: {stderr}"))?;
    let json: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let states: Vec<(String, String)> = json["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            (
                w["run"].as_str().unwrap_or_default().to_string(),
                w["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    ensure(
        states.len() == 4
            && states
                .iter()
                .all(|(run, state)| state == if *run == killed { "gone" } else { "finished" }),
        || format!("the killed worker gone, the others finished: {states:?}"),
    )?;
    expect_eq("state", Some("finished"), json["state"].as_str())
}

/// A crashed run left leases that have passed: on queued targets, on every connection place of
/// the hosting server's address, and on the list's loading (half of it in). A new worker takes
/// them all over and finishes the scan, each target once. A recorded target found queued again
/// leaves the queue unchecked.
pub fn stale_leases(ca: &str) -> Result<(), Failed> {
    let (_turn, postgres, db, dir) = on_postgres("stale")?;
    let domains = domains_of(&[Kind::Hosted], 40);
    let list = write_list(&dir, "list.txt", &domains)?;
    let args = ["--scan", "stale", "--per-ip", "2", "--per-ip-rate", "20"];
    // A run that crashes with a long lease on all it holds.
    let mut first = spawn(scan(
        ca,
        &list,
        &db,
        &[&args[..], &["--lease", "600", "--parallel", "4"]].concat(),
    ))?;
    let waited = wait_for(&db, 3, Duration::from_secs(60), &mut first);
    let _ = first.kill();
    let _ = first.wait();
    waited?;
    // Its leases, and those of a crashed loader, as they are ten minutes later: passed. The
    // lines after the first half are not in the queue yet.
    let half = domains.len() / 2;
    for statement in [
        "UPDATE queue SET lease_until_ms = lease_until_ms - 600000".to_string(),
        "UPDATE address_slots SET expires_ms = expires_ms - 600000".to_string(),
        format!("DELETE FROM queue WHERE line > {half}"),
        format!(
            "UPDATE scans SET loaded = 0, loaded_lines = {half}, loader = 'crashed', \
             loader_until_ms = 1"
        ),
        "UPDATE address_slots SET holder = 'crashed', expires_ms = 1".to_string(),
    ] {
        postgres.sql("stale", &statement)?;
    }
    let held = number(
        &db,
        "SELECT COUNT(*) FROM address_slots WHERE holder IS NOT NULL",
    )?;
    ensure(held > 0, || "no stale place to take over".to_string())?;
    let mut second = scan(ca, &list, &db, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while second.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() > deadline {
            let _ = second.kill();
            return Err("the worker waited for the stale leases for 2 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = second.wait_with_output().map_err(|e| e.to_string())?;
    ensure(output.status.success(), || {
        format!(
            "the second worker: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    each_once(&db, "stale", domains.len())?;
    let left = || {
        query(
            &db,
            "SELECT (SELECT COUNT(*) FROM queue), (SELECT COUNT(*) FROM address_slots \
             WHERE holder IN (SELECT run_id FROM scan_runs))",
        )
    };
    let none = vec![vec![Some("0".to_string()), Some("0".to_string())]];
    expect_eq(
        "queue rows, and places a run still holds",
        none.clone(),
        left()?,
    )?;
    // A recorded target queued again (a line loaded while its target was being recorded):
    // the next worker drops it from the queue, without checking it again.
    postgres.sql(
        "stale",
        "INSERT INTO queue (scan_id, target, line, text) SELECT scan_id, target, line, target \
         FROM targets WHERE scan_id = 'stale' ORDER BY line LIMIT 1",
    )?;
    let counter = front()?;
    counter.reset();
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &db, &args));
    ensure(status == 0, || {
        format!("the third worker: exit {status}: {stderr}")
    })?;
    expect_eq(
        "connections to the hosting server for a target recorded before",
        0,
        counter.total.load(Ordering::SeqCst),
    )?;
    each_once(&db, "stale", domains.len())?;
    expect_eq("queue rows, and places a run still holds", none, left()?)
}

/// While a scan's worker runs, a worker with another `--per-ip` is refused naming it and the
/// scan's value, and one with another option that changes results is refused naming that
/// option (exit 64, one line, before probing); once the scan's workers are gone, the limits
/// may change.
pub fn other_options(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("options")?;
    let domains = domains_of(&[Kind::Hosted], 120);
    let list = write_list(&dir, "list.txt", &domains)?;
    let base = [
        "--scan",
        "opts",
        "--lease",
        "3",
        "--per-ip-rate",
        "20",
        "--parallel",
        "4",
    ];
    let mut running = spawn(scan(
        ca,
        &list,
        &db,
        &[&base[..], &["--per-ip", "2"]].concat(),
    ))?;
    let waited = wait_for(&db, 2, Duration::from_secs(60), &mut running);
    let refused = waited.and_then(|_| {
        let (status, stdout, stderr) = output_of(&mut scan(
            ca,
            &list,
            &db,
            &[&base[..], &["--per-ip", "8"]].concat(),
        ));
        ensure(
            status == 64
                && stdout.is_empty()
                && stderr.lines().count() == 1
                && stderr.contains("--per-ip 8 (the scan's: 2)"),
            || format!("another --per-ip: exit {status}: {stderr}"),
        )?;
        let (status, _, stderr) = output_of(&mut scan(
            ca,
            &list,
            &db,
            &[&base[..], &["--per-ip", "2", "--no-sni"]].concat(),
        ));
        ensure(
            status == 64 && stderr.lines().count() == 1 && stderr.contains("--no-sni differs"),
            || format!("another option: exit {status}: {stderr}"),
        )
    });
    let _ = running.kill();
    let _ = running.wait();
    refused?;
    // Its lease passes: the scan may go on with other limits.
    std::thread::sleep(Duration::from_secs(4));
    let (status, _, stderr) = output_of(&mut scan(
        ca,
        &list,
        &db,
        &[&base[..], &["--per-ip", "8", "--max-duration", "1s"]].concat(),
    ));
    ensure(
        status == 3 && stderr.contains("stopped after --max-duration"),
        || format!("other limits once no worker runs: exit {status}: {stderr}"),
    )
}

/// Four workers through a counting DNS relay (what one resolver sees) keep `--dns-rate 40`
/// together, where four SQLite workers, each with its own rate, ask four times that. Counted
/// over any one second (a sliding window, as the resolver would), evenly spaced turns allow 41
/// (one on each edge), and A and AAAA go out together at the second of their two turns (one
/// more when the first fell just before the second counted): at most 42. (Before shared turns
/// were spaced 5% wider, a question leaving late on this loaded machine made it 43 or 44; before
/// A and AAAA took two turns next to each other, 58.)
pub fn dns_rate_kept_together(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("dnsrate")?;
    let domains = domains_of(&[Kind::Good, Kind::Hosted, Kind::Unresolvable], 4);
    let list = write_list(&dir, "list.txt", &domains)?;
    let worker = |db: &str, relay: &str, name: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailtls"));
        command
            .arg("scan")
            .arg(&list)
            .args([
                "--db",
                db,
                "--dns",
                relay,
                "--ca-file",
                ca,
                "--timeout",
                "5",
            ])
            .args(["--dns-rate", "40", "--per-ip-rate", "0", "--scan", name])
            .env("NO_COLOR", "1");
        command
    };
    let alone = super::super::lossy_dns::start(crate::lab::DNS.parse()?, 0, |_| false)?;
    let relay = alone.address.to_string();
    run_all(
        (0..4)
            .map(|i| {
                let file = dir.join(format!("alone-{i}.sqlite")).display().to_string();
                let mut command = worker(&file, &relay, "alone");
                command.args(["--shard", &format!("{i}/4")]);
                command
            })
            .collect(),
    )?;
    let together = super::super::lossy_dns::start(crate::lab::DNS.parse()?, 0, |_| false)?;
    let relay = together.address.to_string();
    let started = Instant::now();
    run_all((0..4).map(|_| worker(&db, &relay, "together")).collect())?;
    let (alone, together, asked) = (
        alone.peak_per_second(),
        together.peak_per_second(),
        together.questions.lock().map_or(0, |q| q.len()),
    );
    eprintln!(
        "four workers, --dns-rate 40: at most {alone} questions in a second with a rate each, \
         {together} with the rate kept together ({asked} questions in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    ensure(alone > 41, || {
        format!("the control (four workers, each its own rate) asked only {alone} in a second")
    })?;
    ensure(together <= 42, || {
        format!("{together} questions in one second (limit 40 for all workers, 42 counted)")
    })?;
    expect_eq(
        "targets",
        domains.len() as u64,
        number(
            &db,
            "SELECT COUNT(*) FROM targets WHERE scan_id = 'together'",
        )?,
    )
}

/// A worker that leaves on SIGTERM (Kubernetes removing its pod) stops cleanly (exit 3, one
/// line saying so) and gives back at once what it held: its claimed targets and connection
/// places are free, though its leases (10 minutes here) have not passed, and another worker
/// finishes the scan without waiting for them.
pub fn leaves_on_sigterm(ca: &str) -> Result<(), Failed> {
    let (_turn, _, db, dir) = on_postgres("leaving")?;
    let domains = domains_of(&[Kind::Hosted], 60);
    let list = write_list(&dir, "list.txt", &domains)?;
    let args = [
        "--scan",
        "leaving",
        "--lease",
        "600",
        "--parallel",
        "4",
        "--per-ip-rate",
        "20",
    ];
    let mut leaving = scan(ca, &list, &db, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let waited = wait_for(&db, 3, Duration::from_secs(60), &mut leaving);
    let held = number(&db, "SELECT COUNT(*) FROM queue WHERE holder IS NOT NULL");
    let signalled = Command::new("kill")
        .args(["-TERM", &leaving.id().to_string()])
        .status();
    let output = leaving.wait_with_output().map_err(|e| e.to_string())?;
    waited?;
    ensure(held? > 0, || {
        "the worker held no target when signalled".to_string()
    })?;
    ensure(signalled.is_ok_and(|s| s.success()), || {
        "kill -TERM failed".to_string()
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure(
        output.status.code() == Some(3)
            && stderr.lines().count() == 1
            && stderr.contains("stopped by SIGTERM")
            && stderr.contains("run the same command to continue"),
        || format!("exit {}: {stderr}", output.status),
    )?;
    expect_eq(
        "targets and places still held",
        vec![vec![Some("0".to_string()), Some("0".to_string())]],
        query(
            &db,
            "SELECT (SELECT COUNT(*) FROM queue WHERE holder IS NOT NULL), \
             (SELECT COUNT(*) FROM address_slots WHERE holder IS NOT NULL)",
        )?,
    )?;
    let started = Instant::now();
    let (status, _, stderr) = output_of(&mut scan(ca, &list, &db, &args));
    ensure(status == 0, || {
        format!("the next worker: exit {status}: {stderr}")
    })?;
    ensure(started.elapsed() < Duration::from_secs(120), || {
        format!("the next worker took {:?}", started.elapsed())
    })?;
    each_once(&db, "leaving", domains.len())
}
