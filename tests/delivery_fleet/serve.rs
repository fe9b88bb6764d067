//! `serve` in tests/delivery_fleet.rs: the metrics of a scan in its store, the result page's
//! inbound section in Chromium, a host checked alone.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use serde_json::{Value, json};

use super::lab::delivery::{domain, zones};
use super::scan::{list, scan_into, scratch};
use super::{SCANNED, case, ensure, world};

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
pub fn serve() -> Result<(), Failed> {
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
