//! `mailtls scan`'s logs (docs/scan.md, "Logs"): with `MAILTLS_LOG=info`, the scan's start,
//! one event per target with its outcome (its top problem's code, or why it could not be
//! checked) and the scan's end; by default (`mailtls=warn`), nothing but the scan's own lines.

use std::collections::BTreeMap;
use std::path::Path;

use libtest_mimic::Failed;
use serde_json::Value;

use super::super::{ensure, expect_eq};
use super::{Kind, domains_of, front, query, scan, scratch, serial, write_list};
use crate::run::output_of;

/// Two good domains, two whose servers' certificate does not cover the name handed out, two
/// that do not resolve: one `target` event each, saying what the store and stdout say.
pub fn one_event_per_target(ca: &str) -> Result<(), Failed> {
    let _turn = serial();
    front()?;
    let dir = scratch("logs")?;
    let (good, hosted, gone) = (
        domains_of(&[Kind::Good], 2),
        domains_of(&[Kind::Hosted], 2),
        domains_of(&[Kind::Unresolvable], 2),
    );
    let targets: Vec<String> = [good.clone(), hosted.clone(), gone.clone()].concat();
    let list = write_list(&dir, "list.txt", &targets)?;
    let db = dir.join("logs.sqlite").display().to_string();
    let (status, stdout, stderr) =
        output_of(scan(ca, &list, &db, &["--log-format", "json"]).env("MAILTLS_LOG", "info"));
    ensure(status == 0, || format!("exit {status}: {stderr}"))?;

    // stderr: the JSON events, and the scan's summary line (not a log line).
    let (events, other): (Vec<&str>, Vec<&str>) = stderr.lines().partition(|l| l.starts_with('{'));
    ensure(
        other.len() == 1 && other[0].starts_with("mailtls: scan "),
        || format!("besides the events, the summary only: {other:?}"),
    )?;
    let events = events
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).map_err(|e| format!("{e}: {l}")))
        .collect::<Result<Vec<Value>, _>>()?;
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default())
        .collect();
    ensure(
        messages.first() == Some(&"scan started")
            && messages.last() == Some(&"scan finished")
            && messages[1..messages.len() - 1]
                .iter()
                .all(|m| *m == "target"),
        || format!("start, the targets, end: {messages:?}"),
    )?;
    let scan_id = query(&db, "SELECT id FROM scans")?
        .first()
        .and_then(|row| row[0].clone())
        .unwrap_or_default();
    for event in [&events[0], &events[events.len() - 1]] {
        expect_eq(
            "the scan's id",
            Some(scan_id.as_str()),
            event["scan"].as_str(),
        )?;
    }
    expect_eq(
        "targets done, at the end",
        Some(targets.len() as u64),
        events[events.len() - 1]["targets_done"].as_u64(),
    )?;

    // What stdout (target, verdict, top problem) and the store (its error) say of each target.
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    let errors: BTreeMap<String, Option<String>> = query(&db, "SELECT target, error FROM targets")?
        .into_iter()
        .map(|row| (row[0].clone().unwrap_or_default(), row[1].clone()))
        .collect();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [target, verdict, headline, ..] = fields.as_slice() else {
            return Err(format!("not a target line: {line}").into());
        };
        let error = errors.get(*target).cloned().flatten();
        let outcome = error.unwrap_or_else(|| headline.to_string());
        expected.insert(target.to_string(), (verdict.to_string(), outcome));
    }
    let mut logged: BTreeMap<String, (String, String)> = BTreeMap::new();
    for event in events.iter().filter(|e| e["message"] == "target") {
        let target = event["target"].as_str().unwrap_or_default().to_string();
        let line = event["line"].as_u64().unwrap_or_default();
        expect_eq(
            "the target's line",
            targets
                .iter()
                .position(|t| *t == target)
                .map(|i| i as u64 + 1),
            Some(line),
        )?;
        ensure(
            event["duration_ms"].as_f64().is_some_and(|d| d > 0.0),
            || format!("a duration: {event}"),
        )?;
        let verdict = event["verdict"].as_str().unwrap_or_default().to_string();
        let outcome = event["outcome"].as_str().unwrap_or_default().to_string();
        ensure(logged.insert(target, (verdict, outcome)).is_none(), || {
            format!("one event per target: {event}")
        })?;
    }
    expect_eq(
        "each target's verdict and outcome",
        expected,
        logged.clone(),
    )?;
    for domain in &gone {
        expect_eq(
            "an unresolvable domain's outcome",
            Some("no-such-name"),
            logged.get(domain).map(|(_, outcome)| outcome.as_str()),
        )?;
    }
    for domain in &hosted {
        let errors = query(
            &db,
            &format!(
                "SELECT DISTINCT code FROM problems WHERE target = '{domain}' AND severity = 'error'"
            ),
        )?;
        let (verdict, outcome) = logged.get(domain).cloned().unwrap_or_default();
        ensure(
            verdict == "fail" && errors.iter().any(|row| row[0].as_deref() == Some(&outcome)),
            || format!("{domain}: {verdict} {outcome}, the errors stored: {errors:?}"),
        )?;
    }

    // By default (warn), nothing is logged when all goes well.
    let quiet = dir.join("quiet.sqlite").display().to_string();
    let (status, _, stderr) =
        output_of(scan(ca, Path::new(&list), &quiet, &[]).env_remove("MAILTLS_LOG"));
    ensure(
        status == 0 && stderr.lines().count() == 1 && stderr.starts_with("mailtls: scan "),
        || format!("the summary only: exit {status}: {stderr}"),
    )
}
