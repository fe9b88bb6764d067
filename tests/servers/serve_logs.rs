//! `mailtls serve`'s logs (docs/serve.md, "Logs"): with `--log-format json`, one JSON line on
//! standard error per request (method, route, status, duration) and per check (its id, target,
//! verdict and outcome); the text format by default; `MAILTLS_LOG` choosing what is written
//! (an invalid one is a usage error).

use std::process::Command;
use std::time::Duration;

use libtest_mimic::Failed;
use serde_json::Value;

use super::super::{ensure, expect_eq, lab};
use super::{GENEROUS, Server, get, request, scratch};

/// Starts a server on `address` with `MAILTLS_LOG` = `filter` and `extra` options.
fn start(
    ca: &str,
    name: &str,
    address: &str,
    filter: Option<&str>,
    extra: &[&str],
) -> Result<Server, Failed> {
    let dir = scratch(name)?;
    let config = dir.join("serve.toml");
    std::fs::write(&config, GENEROUS).map_err(|e| e.to_string())?;
    let db = dir.join("serve.sqlite").display().to_string();
    Server::start_with_env(ca, address, &db, &config, &dir, extra, filter)
}

/// The log's lines from byte `from` on, each parsed as JSON.
fn parsed_lines(server: &Server, from: usize) -> Result<Vec<Value>, Failed> {
    let log = server.log_text();
    log.get(from..)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            serde_json::from_str(line).map_err(|e| format!("not a JSON line ({e}): {line}").into())
        })
        .collect()
}

/// Every JSON line has a timestamp and a level; a request line has exactly the documented
/// fields, with a duration.
fn request_line(line: &Value) -> Result<(String, String, u64), Failed> {
    let fields: Vec<&str> = line
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut sorted = fields.clone();
    sorted.sort_unstable();
    expect_eq(
        "a request line's fields",
        vec![
            "duration_ms",
            "level",
            "message",
            "method",
            "route",
            "status",
            "timestamp",
        ],
        sorted,
    )?;
    ensure(line["level"] == "INFO", || format!("level: {line}"))?;
    ensure(
        line["timestamp"]
            .as_str()
            .is_some_and(|t| t.len() >= 20 && t.ends_with('Z')),
        || format!("an RFC 3339 UTC timestamp: {line}"),
    )?;
    ensure(
        line["duration_ms"]
            .as_f64()
            .is_some_and(|d| (0.0..30_000.0).contains(&d)),
        || format!("a duration in milliseconds: {line}"),
    )?;
    Ok((
        line["method"].as_str().unwrap_or_default().to_string(),
        line["route"].as_str().unwrap_or_default().to_string(),
        line["status"].as_u64().unwrap_or_default(),
    ))
}

/// Every code of a problem of severity `error` in a `check --json` report.
fn error_codes(report: &Value, codes: &mut Vec<String>) {
    match report {
        Value::Object(map) => {
            if map.get("severity").and_then(Value::as_str) == Some("error") {
                if let Some(code) = map.get("code").and_then(Value::as_str) {
                    codes.push(code.to_string());
                }
            }
            map.values().for_each(|v| error_codes(v, codes));
        }
        Value::Array(items) => items.iter().for_each(|v| error_codes(v, codes)),
        _ => {}
    }
}

/// `--log-format json`, `MAILTLS_LOG=info`: a check's line with its target (the local part
/// dropped, as stored) and the code of its top problem; a check that cannot run, its cause;
/// then five requests, five lines, in order, naming routes (never a permalink's id).
pub fn json_lines(ca: &str) -> Result<(), Failed> {
    let server = start(
        ca,
        "serve-logs-json",
        "127.0.0.50",
        Some("info"),
        &["--allow-private", "--log-format", "json"],
    )?;
    let (status, accepted) = server.submit(&format!("jane@{}", lab::DISC_BAD))?;
    ensure(status == 202, || format!("POST: {status} {accepted}"))?;
    let id = accepted["id"].as_str().unwrap_or_default().to_string();
    let check = server.finished(&id, Duration::from_secs(60))?;
    let (status, refused) = server.submit("nonexistent.test")?;
    ensure(status == 202, || format!("POST: {status} {refused}"))?;
    let unresolved = refused["id"].as_str().unwrap_or_default().to_string();
    let failed = server.finished(&unresolved, Duration::from_secs(60))?;
    expect_eq(
        "the unresolvable check's cause",
        Some("no-such-name"),
        failed["error"]["code"].as_str(),
    )?;

    let lines = parsed_lines(&server, 0)?;
    let check_line = |id: &str| {
        let found: Vec<&Value> = lines
            .iter()
            .filter(|l| l["message"] == "check" && l["id"] == id)
            .collect();
        match found.as_slice() {
            [line] => Ok(*line),
            _ => Err(Failed::from(format!(
                "one check line for {id}, not {}: {}",
                found.len(),
                server.log_text()
            ))),
        }
    };
    let done = check_line(&id)?;
    expect_eq(
        "the check's target",
        Some(format!("user@{}", lab::DISC_BAD).as_str()),
        done["target"].as_str(),
    )?;
    ensure(!server.log_text().contains("jane@"), || {
        "the local part must not be logged".to_string()
    })?;
    expect_eq(
        "verdict",
        check["verdict"].as_str(),
        done["verdict"].as_str(),
    )?;
    let mut codes = Vec::new();
    error_codes(&check["report"], &mut codes);
    let outcome = done["outcome"].as_str().unwrap_or_default().to_string();
    ensure(codes.contains(&outcome), || {
        format!("the outcome {outcome} is one of the report's errors {codes:?}")
    })?;
    ensure(
        done["duration_ms"].as_f64().is_some_and(|d| d > 0.0),
        || format!("the check's duration: {done}"),
    )?;
    let not_run = check_line(&unresolved)?;
    expect_eq(
        "the unresolvable check's outcome",
        Some("no-such-name"),
        not_run["outcome"].as_str(),
    )?;
    expect_eq("its verdict", Some("unknown"), not_run["verdict"].as_str())?;

    // Five requests, five lines (the log is written before the answer is sent).
    let from = server.log_text().len();
    let (status, _, _) = get(&server.url("/healthz"))?;
    expect_eq("/healthz", 200, status)?;
    let (status, _, _) = get(&server.url(&format!("/r/{id}")))?;
    expect_eq("the permalink", 200, status)?;
    let (status, _, _) = get(&server.url(&format!("/api/v1/checks/{id}")))?;
    expect_eq("the API's check", 200, status)?;
    let (status, _, _) = get(&server.url("/no/such/page"))?;
    expect_eq("a path nothing serves", 404, status)?;
    let (status, _, _) = request(
        "POST",
        &server.url("/api/v1/checks"),
        Some(("application/json", b"{not json".to_vec())),
    )?;
    expect_eq("a body that is not JSON", 400, status)?;
    let requests = parsed_lines(&server, from)?
        .iter()
        .map(request_line)
        .collect::<Result<Vec<_>, _>>()?;
    let expected = [
        ("GET", "/healthz", 200),
        ("GET", "/r/{id}", 200),
        ("GET", "/api/v1/checks/{id}", 200),
        ("GET", "unmatched", 404),
        ("POST", "/api/v1/checks", 400),
    ];
    expect_eq(
        "one line per request",
        expected
            .iter()
            .map(|(m, r, s)| (m.to_string(), r.to_string(), *s))
            .collect::<Vec<_>>(),
        requests,
    )?;
    ensure(!server.log_text()[from..].contains(&id), || {
        "a permalink's id is not logged with its request".to_string()
    })
}

/// The default: text, `MAILTLS_LOG` unset logs each request as `INFO request method=…`.
pub fn text_lines(ca: &str) -> Result<(), Failed> {
    let server = start(ca, "serve-logs-text", "127.0.0.51", None, &[])?;
    let from = server.log_text().len();
    let (status, _, _) = get(&server.url("/static/mailtls.css"))?;
    expect_eq("the style sheet", 200, status)?;
    let log = server.log_text();
    let lines: Vec<&str> = log[from..].lines().collect();
    let pattern = regex::Regex::new(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z +INFO request method=GET route=/static/mailtls\.css status=200 duration_ms=\d+(\.\d+)?$",
    )
    .map_err(|e| e.to_string())?;
    ensure(lines.len() == 1 && pattern.is_match(lines[0]), || {
        format!("one text line for the request: {lines:?}")
    })?;
    ensure(
        log.lines()
            .next()
            .is_some_and(|l| l.contains("INFO listening on http://127.0.0.51:8080")),
        || format!("the first line says where it listens: {log}"),
    )
}

/// `MAILTLS_LOG=warn`: requests are answered and not logged; an invalid `MAILTLS_LOG` stops
/// the server before it starts, with exit 64 and one line.
pub fn filtered(ca: &str) -> Result<(), Failed> {
    let server = start(
        ca,
        "serve-logs-warn",
        "127.0.0.52",
        Some("warn"),
        &["--log-format", "json"],
    )?;
    for path in ["/healthz", "/", "/no/such/page"] {
        get(&server.url(path))?;
    }
    // Nothing of mailtls's at warn when all is well (a library's warning, a slow statement on
    // a busy machine, may be there: that is what `warn` asks for).
    let lines = parsed_lines(&server, 0)?;
    ensure(
        lines
            .iter()
            .all(|l| l["level"] != "INFO" && l["message"] != "request"),
        || format!("no request line at warn: {}", server.log_text()),
    )?;
    drop(server);

    let output = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["serve", "--listen", "127.0.0.52:8080", "--db"])
        .arg(scratch("serve-logs-invalid")?.join("never.sqlite"))
        .env("MAILTLS_LOG", "mailtls=loud")
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure(
        output.status.code() == Some(64)
            && stderr.lines().count() == 1
            && stderr.starts_with("mailtls: error: MAILTLS_LOG=mailtls=loud: "),
        || format!("an invalid MAILTLS_LOG: {:?} {stderr}", output.status),
    )
}
