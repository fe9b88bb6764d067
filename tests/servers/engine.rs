//! The engine as a library: many checks at once through one engine keep to the per-address
//! connection limit (counted by the server side), aborted checks leave no connection open and
//! no place taken, and observations saved by `check --save` are
//! judged again offline by `mailtls judge`, with no network at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use libtest_mimic::Failed;
use mailtls::engine::{Engine, EngineOptions};
use mailtls::probe::budget::Limits;
use mailtls::run::check::{CheckOptions, Checked};
use mailtls::service::Service;
use mailtls::target::Subject;
use serde_json::Value;
use tokio::net::TcpListener;

use super::proxy::{Counter, proxy};
use super::{ensure, expect_eq, json_of, lab, run_mailtls};

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![
        (
            "engine_many_checks_keep_the_per_address_limit",
            many_checks_keep_the_per_address_limit,
        ),
        (
            "judge_replays_saved_host_offline",
            replays_saved_host_offline,
        ),
        (
            "judge_replays_saved_domain_and_reputation",
            replays_saved_domain_and_reputation,
        ),
    ]
}

/// Checks run at once, all of names on one hosting server.
const CHECKS: usize = 200;
/// The per-address limit under test (the engine's default).
const PER_ADDRESS: usize = 4;

/// 200 checks of different customer names, all hosted on FLEET's server, run at once through one
/// engine. A proxy in front of the server counts connections: never more than 4 at a time, and
/// every report names the customer, the mismatch and the verified hosting name.
fn many_checks_keep_the_per_address_limit(ca: &str) -> Result<(), Failed> {
    // No other test's checks may reach FLEET's server meanwhile: they would count.
    let _turn = super::scan::serial();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let counter = Arc::new(Counter::default());
    let ports = [465u16, 993];
    let reports = runtime.block_on(async {
        for port in ports {
            let listener = TcpListener::bind((lab::FLEET_FRONT, port)).await?;
            let backend: SocketAddr = format!("{}:{port}", lab::FLEET.address).parse()?;
            tokio::spawn(proxy(listener, backend, Arc::clone(&counter)));
        }
        let engine = Engine::new(EngineOptions {
            dns_server: Some(lab::DNS.parse()?),
            system_roots: false,
            ca_files: vec![ca.into()],
            step_timeout: Duration::from_secs(10),
            limits: Limits {
                per_address: PER_ADDRESS,
                ..Limits::default()
            },
            ..EngineOptions::default()
        })?;
        let options = CheckOptions {
            services: ports.iter().filter_map(|p| Service::for_port(*p)).collect(),
            ..CheckOptions::default()
        };
        let jobs: Vec<_> = (0..CHECKS)
            .map(|i| {
                let engine = engine.clone();
                let options = options.clone();
                let name = format!("mail.customer{i}.{}", lab::FLEET_DOMAIN);
                tokio::spawn(async move {
                    let subject = Subject::parse(&name).map_err(|e| e.to_string())?;
                    let report = engine
                        .check(&subject, &options)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<_, String>((name, report))
                })
            })
            .collect();
        let mut reports = Vec::new();
        for job in jobs {
            reports.push(job.await.map_err(|e| e.to_string())??);
        }
        let counted = (
            counter.peak.load(Ordering::SeqCst),
            counter.total.load(Ordering::SeqCst),
        );
        cancelled_checks_leave_nothing_behind(&engine, &options, &counter).await?;
        Ok::<_, Failed>((reports, counted))
    })?;
    let (reports, (peak, total)) = reports;
    // What could have given a place back before the server saw its connection close: a
    // connection dropped at a timeout (its place is held only a moment).
    let timed_out = reports
        .iter()
        .filter_map(|(_, report)| match &report.checked {
            Checked::Host(host) => Some(host),
            _ => None,
        })
        .flat_map(|host| host.diagnosis.endpoints.iter())
        .filter(|e| {
            e.observation
                .failure
                .as_ref()
                .is_some_and(|f| f.kind == mailtls::observation::FailureKind::Timeout)
                || e.observation
                    .versions
                    .iter()
                    .any(|p| matches!(p.answer, mailtls::observation::HelloAnswer::Timeout))
        })
        .count();
    expect_eq(
        &format!(
            "most connections the server saw at once (the limit, reached and kept; endpoints \
             with a timeout: {timed_out})"
        ),
        PER_ADDRESS,
        peak,
    )?;
    // Two ports, each probed with SNI, asked about versions and re-probed with the hosting name.
    ensure(total >= CHECKS * ports.len() * 2, || {
        format!("only {total} connections went through the proxy")
    })?;
    expect_eq("reports", CHECKS, reports.len())?;
    for (name, report) in &reports {
        let Checked::Host(host) = &report.checked else {
            return Err(format!("{name} was taken for a mail domain").into());
        };
        let diagnosis = &host.diagnosis;
        expect_eq(
            "target",
            name.as_str(),
            diagnosis.target.to_string().as_str(),
        )?;
        expect_eq("exit status", 2, report.exit_code())?;
        expect_eq(
            "headline",
            Some("name-mismatch"),
            diagnosis.headline.as_ref().map(|p| p.code.as_str()),
        )?;
        let recommendation = diagnosis
            .recommendation
            .as_ref()
            .ok_or_else(|| format!("{name}: no recommendation"))?;
        expect_eq(
            "recommended",
            (lab::FLEET.name, true, 2),
            (
                recommendation.server_name.as_str(),
                recommendation.verified,
                recommendation.verified_ports.len(),
            ),
        )?;
    }
    Ok(())
}

/// Cancel-safety: 50 checks through the engine are aborted in the middle of their work; every
/// connection they had open is closed (the server side sees none left), every place in the
/// budget comes back, and the next check through the same engine is answered as before.
async fn cancelled_checks_leave_nothing_behind(
    engine: &Engine,
    options: &CheckOptions,
    counter: &Counter,
) -> Result<(), Failed> {
    let front: std::net::IpAddr = lab::FLEET_FRONT.parse()?;
    counter.reset();
    let jobs: Vec<_> = (0..50)
        .map(|i| {
            let engine = engine.clone();
            let options = options.clone();
            let name = format!("mail.cancelled{i}.{}", lab::FLEET_DOMAIN);
            tokio::spawn(async move {
                if let Ok(subject) = Subject::parse(&name) {
                    let _ = engine.check(&subject, &options).await;
                }
            })
        })
        .collect();
    // Until connections are open and places taken, then abort them all.
    let started = tokio::time::Instant::now();
    while counter.open() == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let busy = (counter.open(), engine.budget().in_flight(front));
    for job in &jobs {
        job.abort();
    }
    for job in jobs {
        let _ = job.await;
    }
    ensure(busy.0 > 0 && busy.1 > 0, || {
        format!("nothing was in flight when the checks were aborted: {busy:?}")
    })?;
    // The budget's places come back once the server has seen each close (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while (counter.open() > 0 || engine.budget().in_flight(front) > 0)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    expect_eq(
        "connections left open at the server after the abort",
        0,
        counter.open(),
    )?;
    expect_eq(
        "places the budget still counts for the server",
        0,
        engine.budget().in_flight(front),
    )?;
    let name = format!("mail.after-cancel.{}", lab::FLEET_DOMAIN);
    let subject = Subject::parse(&name).map_err(|e| e.to_string())?;
    let report = engine
        .check(&subject, options)
        .await
        .map_err(|e| e.to_string())?;
    expect_eq("exit status after the abort", 2, report.exit_code())?;
    expect_eq(
        "most connections at once, aborted checks included",
        true,
        counter.peak.load(Ordering::SeqCst) <= PER_ADDRESS,
    )
}

/// Runs `mailtls judge` in a network namespace of its own, which has no network at all (not
/// even a loopback that is up): whatever it prints came from the file.
fn judge_offline(args: &[&str]) -> Result<(i32, String, String), Failed> {
    Ok(super::run::output_of(
        std::process::Command::new("unshare")
            .arg("--net")
            .arg(env!("CARGO_BIN_EXE_mailtls"))
            .arg("judge")
            .args(args),
    ))
}

/// Judges `saved` offline at the time `original` was checked, and expects the same judgement
/// and exit status; returns the replayed report.
fn replay_matches(saved: &str, original: &Value, status: i32) -> Result<Value, Failed> {
    let checked_at = original["checked_at"].as_str().unwrap_or_default();
    let (replayed_status, stdout, stderr) = judge_offline(&[saved, "--json", "--at", checked_at])?;
    let replayed = json_of(&stdout, &stderr)?;
    expect_eq("exit status of the judgement", status, replayed_status)?;
    expect_eq(
        "the same judgement",
        judgement(original),
        judgement(&replayed),
    )?;
    expect_eq(
        "judged at",
        Some(checked_at),
        replayed["judged_at"].as_str(),
    )?;
    Ok(replayed)
}

/// The parts of a report that judging again at the same time must reproduce.
fn judgement(json: &Value) -> Value {
    serde_json::json!({
        "verdict": json["verdict"],
        "summary": json["summary"],
        "fix": json["fix"],
        "recommendation": json["recommendation"],
        "problems": json["problems"],
        "endpoints": json["endpoints"].as_array().map(|endpoints| endpoints
            .iter()
            .map(|e| serde_json::json!({
                "port": e["port"],
                "result": e["result"],
                "problems": e["problems"],
                "clients": e["clients"],
            }))
            .collect::<Vec<_>>()),
        "discovery": json["discovery"],
        "settings": json["settings"],
        "reputation": json["reputation"],
    })
}

/// `check --save` on the hosting mismatch, then `judge` with no network: the same judgement at
/// the time of the check, and two years later the certificate has expired.
fn replays_saved_host_offline(ca: &str) -> Result<(), Failed> {
    let dir = tempdir("host")?;
    let saved = dir.join("mismatch.json");
    let saved_arg = saved.display().to_string();
    let (status, stdout, stderr) =
        super::mailtls(ca, &[lab::MISMATCH.name, "--json", "--save", &saved_arg]);
    let original = json_of(&stdout, &stderr)?;
    expect_eq("exit status of the check", 2, status)?;
    let checked_at = original["checked_at"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The lab CA is not given: it travels in the saved file.
    replay_matches(&saved_arg, &original, 2)?;

    let later = "2028-12-01T00:00:00Z";
    let (status, stdout, stderr) = judge_offline(&[&saved_arg, "--json", "--at", later])?;
    let aged = json_of(&stdout, &stderr)?;
    expect_eq("exit status two years on", 2, status)?;
    let codes: Vec<&str> = aged["endpoints"][0]["problems"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["code"].as_str()).collect())
        .unwrap_or_default();
    ensure(codes.contains(&"expired"), || {
        format!("two years on, the leaf has expired: {codes:?}")
    })?;

    // The text report, and --client, work on a replay as on a check.
    let (status, stdout, _) =
        judge_offline(&[&saved_arg, "--at", &checked_at, "--client", "outlook"])?;
    expect_eq("exit status of the text judgement", 2, status)?;
    let clients: Vec<&str> = stdout
        .split("Mail clients\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|line| !line.is_empty())
        .collect();
    ensure(
        stdout.contains(lab::HOSTING_NAME)
            && !clients.is_empty()
            && clients
                .iter()
                .all(|line| line.trim_start().starts_with("Outlook")),
        || stdout.clone(),
    )?;

    // A file that is not a saved check is a usage error, in one line.
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"format\": 1}")?;
    let (status, stdout, stderr) = judge_offline(&[&garbage.display().to_string()])?;
    expect_eq("exit status for garbage", 64, status)?;
    expect_eq("nothing on stdout", "", stdout.as_str())?;
    expect_eq("one-line error", 1, stderr.lines().count())?;
    let future = dir.join("future.json");
    let text = std::fs::read_to_string(&saved)?.replacen("\"format\": 1", "\"format\": 99", 1);
    std::fs::write(&future, text)?;
    let (status, _, stderr) = judge_offline(&[&future.display().to_string()])?;
    expect_eq("exit status for another format", 64, status)?;
    ensure(stderr.contains("format 99"), || stderr.clone())
}

/// A mail domain with `--reputation`, saved and judged again offline: discovery, settings and
/// the blocklist answers all come back the same.
fn replays_saved_domain_and_reputation(ca: &str) -> Result<(), Failed> {
    let dir = tempdir("domain")?;
    let saved = dir.join("domain.json");
    let saved_arg = saved.display().to_string();
    let zones = lab::zone_file(ca, lab::ZONES).display().to_string();
    let address = format!("jane@{}", lab::DISC_BAD);
    let (status, stdout, stderr) = run_mailtls(&[
        "check",
        &address,
        "--dns",
        lab::DNS,
        "--ca-file",
        ca,
        "--timeout",
        "5",
        "--reputation",
        "--dnsbl",
        &zones,
        "--json",
        "--save",
        &saved_arg,
    ]);
    let original = json_of(&stdout, &stderr)?;
    expect_eq("exit status of the check", 2, status)?;
    expect_eq("kind", Some("check-domain"), original["kind"].as_str())?;
    let replayed = replay_matches(&saved_arg, &original, 2)?;
    ensure(replayed["reputation"]["addresses"].is_array(), || {
        "the reputation part is judged again too".into()
    })
}

fn tempdir(name: &str) -> Result<std::path::PathBuf, Failed> {
    let dir = lab::Lab::default_dir().join("engine-test").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
