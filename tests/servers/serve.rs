//! `mailtls serve` against the lab: the page and the API end to end, the provisioning endpoints
//! while the lab swaps a certificate, refusals of inside addresses, escaping of markup from
//! certificates and autoconfig documents, bad input, 500 submissions at once, pasted words
//! explained (serve_explain.rs), a real Chromium (Playwright) and schemathesis against the
//! OpenAPI document. Each test runs its own server
//! process on its own 127.0.0.x address.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use serde_json::Value;

use super::lab;
use super::scan::{query, scratch};

#[path = "serve_explain.rs"]
mod explain;
#[path = "serve_logs.rs"]
mod logs;
use super::{ensure, postgres, schema};

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![
        ("serve_api_page_and_permalink", api_and_page),
        ("serve_provisioning_follows_the_certificates", provisioning),
        (
            "serve_refuses_inside_addresses_and_limits_visitors",
            refusals,
        ),
        ("serve_escapes_markup_from_servers", markup),
        ("serve_bad_input_gets_4xx", bad_input),
        ("serve_500_submissions_at_once", load),
        ("serve_explains_pasted_words", explain::api_and_box),
        ("serve_logs_json_line_per_request", logs::json_lines),
        ("serve_logs_text", logs::text_lines),
        ("serve_logs_filtered_by_mailtls_log", logs::filtered),
        ("serve_in_chromium", browser),
        ("serve_openapi_schemathesis", schemathesis),
        ("serve_instances_share_postgres_and_resume", shared_postgres),
        ("serve_counts_rows_it_cannot_read", store_errors),
    ]
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

impl Server {
    /// Starts `mailtls serve` on `address:8080` with the lab's DNS and CA, a SQLite store in
    /// `dir`, `config` as serve.toml and `extra` options; waits until /healthz answers.
    fn start(
        ca: &str,
        address: &str,
        dir: &Path,
        config: &str,
        extra: &[&str],
    ) -> Result<Server, Failed> {
        let config_path = dir.join("serve.toml");
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let db = dir.join("serve.sqlite");
        Server::start_with(
            ca,
            address,
            &db.display().to_string(),
            &config_path,
            dir,
            extra,
        )
    }

    fn start_with(
        ca: &str,
        address: &str,
        db: &str,
        config: &Path,
        dir: &Path,
        extra: &[&str],
    ) -> Result<Server, Failed> {
        Server::start_with_env(ca, address, db, config, dir, extra, None)
    }

    /// As [`Server::start_with`], with `MAILTLS_LOG` set to `log_filter` (unset for `None`).
    fn start_with_env(
        ca: &str,
        address: &str,
        db: &str,
        config: &Path,
        dir: &Path,
        extra: &[&str],
        log_filter: Option<&str>,
    ) -> Result<Server, Failed> {
        let log = dir.join("serve.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(env!("CARGO_BIN_EXE_mailtls"))
            .args(["serve", "--listen", &format!("{address}:8080"), "--db", db])
            .arg("--config")
            .arg(config)
            .args(["--dns", lab::DNS, "--ca-file", ca, "--timeout", "3"])
            .args(extra)
            .env_remove("MAILTLS_LOG")
            .envs(log_filter.map(|filter| ("MAILTLS_LOG", filter)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("mailtls serve: {e}"))?;
        let mut server = Server {
            child,
            base: format!("http://{address}:8080"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((200, _, _)) = get(&format!("{}/healthz", server.base)) {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(
                    format!("mailtls serve exited ({status}): {}", server.log_text()).into(),
                );
            }
            if Instant::now() > deadline {
                return Err(format!("mailtls serve did not answer: {}", server.log_text()).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Peak resident memory (VmHWM) in KiB.
    fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// POSTs a check of `target`; (status, body).
    fn submit(&self, target: &str) -> Result<(u16, Value), Failed> {
        let body = serde_json::json!({ "target": target }).to_string();
        let (status, _, text) = request(
            "POST",
            &self.url("/api/v1/checks"),
            Some(("application/json", body.into_bytes())),
        )?;
        Ok((
            status,
            serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?,
        ))
    }

    /// Polls a check (long polls of up to 5 s) until it is done or failed (at most `limit`).
    fn finished(&self, id: &str, limit: Duration) -> Result<Value, Failed> {
        let deadline = Instant::now() + limit;
        loop {
            let (status, _, text) = get(&self.url(&format!("/api/v1/checks/{id}?wait=5")))?;
            ensure(status == 200, || format!("GET check {id}: {status} {text}"))?;
            let check: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if matches!(check["state"].as_str(), Some("done" | "failed")) {
                return Ok(check);
            }
            if Instant::now() > deadline {
                return Err(format!("check {id} not finished after {limit:?}: {text}").into());
            }
        }
    }

    /// The value of a metric line (`name{labels}` exactly), if present.
    fn metric(&self, series: &str) -> Result<Option<f64>, Failed> {
        let (_, _, text) = get(&self.url("/metrics"))?;
        Ok(text
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok()))
    }
}

/// One HTTP request with a 30 s limit; (status, headers, body).
fn request(
    method: &str,
    url: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Result<(u16, reqwest::header::HeaderMap, String), Failed> {
    runtime()?.block_on(async {
        let client = client()?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = client.request(method, url);
        if let Some((content_type, bytes)) = body {
            builder = builder.header("Content-Type", content_type).body(bytes);
        }
        let response = builder.send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
        Ok((status, headers, text))
    })
}

fn get(url: &str) -> Result<(u16, reqwest::header::HeaderMap, String), Failed> {
    request("GET", url, None)
}

fn client() -> Result<reqwest::Client, Failed> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string().into())
}

fn runtime() -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string().into())
}

const GENEROUS: &str = "[serve]\nchecks_per_minute = 100000\n";

/// The API and the page on the lab's hosting-mismatch domain: the same report as the CLI, the
/// verified name on the page, a permalink and a print view, the local part never stored.
fn api_and_page(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-api")?;
    let server = Server::start(ca, "127.0.0.40", &dir, GENEROUS, &["--allow-private"])?;
    let address = format!("jane@{}", lab::DISC_BAD);

    let (status, accepted) = server.submit(&address)?;
    ensure(status == 202, || format!("POST: {status} {accepted}"))?;
    ensure(accepted["state"] == "queued", || format!("{accepted}"))?;
    ensure(
        accepted["target"] == format!("user@{}", lab::DISC_BAD),
        || format!("the local part must be dropped: {accepted}"),
    )?;
    let id = accepted["id"].as_str().unwrap_or_default().to_string();
    let check = server.finished(&id, Duration::from_secs(60))?;
    ensure(
        check["state"] == "done" && check["verdict"] == "fail",
        || format!("{check}"),
    )?;
    let report = &check["report"];
    schema::validate(report)?;
    ensure(
        report["recommendation"]["server_name"] == lab::HOSTING_NAME,
        || format!("recommendation: {}", report["recommendation"]),
    )?;
    // The CLI says the same.
    let (_, stdout, stderr) = super::mailtls(ca, &[&format!("user@{}", lab::DISC_BAD), "--json"]);
    let cli = super::json_of(&stdout, &stderr)?;
    ensure(
        cli["summary"] == report["summary"] && cli["fix"] == report["fix"],
        || format!("CLI {} / API {}", cli["summary"], report["summary"]),
    )?;

    // The page: a link a support desk can send, the verdict first, the verified name.
    let (status, headers, _) = get(&server.url(&format!("/check?target={address}")))?;
    let location = headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    ensure(status == 303 && location.starts_with("/r/"), || {
        format!("/check: {status} {location}")
    })?;
    let page_id = location.trim_start_matches("/r/").to_string();
    server.finished(&page_id, Duration::from_secs(60))?;
    let (status, headers, html) = get(&server.url(&location))?;
    ensure(status == 200, || format!("{location}: {status}"))?;
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        || format!("Content-Security-Policy: {csp}"),
    )?;
    ensure(headers.get("x-content-type-options").is_some(), || {
        "no X-Content-Type-Options".to_string()
    })?;
    let verdict = html.find("id=\"verdict\"");
    let fix = html.find("id=\"fix\"");
    let details = html.find("id=\"details\"");
    ensure(verdict < fix && fix < details && verdict.is_some(), || {
        "the verdict first, then the fix, then the details".to_string()
    })?;
    for needle in [
        format!("<code class=\"verified-name\">{}</code>", lab::HOSTING_NAME),
        "Server Name luna.hostingco.test, Port 993".to_string(),
        "id=\"blocklist\"".to_string(),
        "cannot get an address onto a blocklist".to_string(),
        "id=\"clients\"".to_string(),
        format!("id=\"permalink\" href=\"/r/{page_id}\""),
    ] {
        ensure(html.contains(&needle), || {
            format!("the page lacks {needle}")
        })?;
    }
    ensure(!html.contains(&address), || {
        "the page shows the local part".to_string()
    })?;
    let (status, _, print) = get(&server.url(&format!("/r/{page_id}/print")))?;
    ensure(
        status == 200 && print.contains(lab::HOSTING_NAME) && !print.contains("<form"),
        || format!("print view: {status}"),
    )?;

    // Unknown ids, the OpenAPI document as committed, scans, health and metrics.
    let (status, _, text) = get(&server.url("/api/v1/checks/0123456789abcdef0123456789abcdef"))?;
    ensure(status == 404 && text.contains("not-found"), || {
        format!("{status} {text}")
    })?;
    let (status, _, _) = get(&server.url("/r/not-an-id"))?;
    ensure(status == 404, || format!("/r/not-an-id: {status}"))?;
    let (_, _, served) = get(&server.url("/api/v1/openapi.json"))?;
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json"))
            .map_err(|e| format!("docs/openapi.json: {e}"))?;
    let (served, committed): (Value, Value) = (
        serde_json::from_str(&served).map_err(|e| e.to_string())?,
        serde_json::from_str(&committed).map_err(|e| e.to_string())?,
    );
    ensure(served == committed, || {
        "docs/openapi.json is not what the server serves: `mailtls schema openapi > docs/openapi.json`".to_string()
    })?;
    let (status, _, scans) = get(&server.url("/api/v1/scans"))?;
    ensure(status == 200 && scans.contains("\"scans\""), || {
        format!("{status} {scans}")
    })?;
    ensure(
        server.metric("mailtls_checks_total{verdict=\"fail\"}")? >= Some(2.0),
        || "mailtls_checks_total{verdict=\"fail\"} should count both checks".to_string(),
    )?;

    // Nothing of the local part in the store either.
    let db = dir.join("serve.sqlite").display().to_string();
    let rows = query(&db, "SELECT target, report, page FROM checks")?;
    ensure(rows.len() == 2, || format!("{} rows", rows.len()))?;
    ensure(
        rows.iter()
            .flatten()
            .flatten()
            .all(|v| !v.contains(&address)),
        || "the store holds the local part".to_string(),
    )?;
    // Each row records the options its check ran under (ObserveOptions, as serve's flags set
    // them): --timeout 3, the lab's resolver, its CA, --allow-private.
    let ca_path = std::fs::canonicalize(ca).map_err(|e| e.to_string())?;
    for row in query(&db, "SELECT options FROM checks")? {
        let text = row.first().cloned().flatten().unwrap_or_default();
        let options: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        ensure(
            options["step_timeout"]["secs"] == 3
                && options["dns_server"] == lab::DNS
                && options["refuse_special"] == false
                && options["ca_files"][0] == ca_path.display().to_string()
                && options["services"].as_array().map(Vec::len) == Some(7),
            || format!("the options recorded: {text}"),
        )?;
    }
    Ok(())
}

/// A TLS server the test starts (tests/lab/tls_greeter.py) on `address`:993 with the lab's
/// `cert`; stopped when dropped.
struct Tls(Child);

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tls_server(ca: &str, address: &str, cert: &str) -> Result<Tls, Failed> {
    let certs = Path::new(ca).parent().ok_or("no certs directory")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/tls_greeter.py");
    let child = Command::new("python3")
        .arg(script)
        .args([address, "993"])
        .arg(certs.join(format!("{cert}.crt")))
        .arg(certs.join(format!("{cert}.key")))
        .arg(certs.join("intermediate.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("tls_greeter.py: {e}"))?;
    let tls = Tls(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect((address, 993)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("the TLS server on {address}:993 did not start").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(tls)
}

/// One reading of the provisioning endpoints: what each hands out, and both autoconfig answers
/// as served.
type Round = ([Result<String, u16>; 4], [String; 2]);

/// What each endpoint hands out for `domain`: the incoming host from autoconfig (both of
/// Thunderbird's URLs), autodiscover and the .mobileconfig (each read back by mailtls's own
/// parsers), or the status when none.
fn handed_out(server: &Server, domain: &str) -> Result<Result<String, u16>, Failed> {
    // The four are read one after the other; a renewal may land between them, so they are
    // read until two rounds in a row agree (a few tries at most).
    let mut last = None;
    for _ in 0..5 {
        let now = documents(server, domain)?;
        if last.as_ref() == Some(&now) {
            let (answers, [mail, well_known]) = now;
            ensure(mail == well_known, || {
                format!("/.well-known/autoconfig/ answers {well_known}, /mail/ answers {mail}")
            })?;
            let first = answers[0].clone();
            return if answers.iter().all(|answer| *answer == first) {
                Ok(first)
            } else {
                Err(format!("{domain}: the endpoints disagree: {answers:?}").into())
            };
        }
        last = Some(now);
    }
    Err(format!("{domain}: the endpoints keep changing: {last:?}").into())
}

/// The incoming host each endpoint hands out for `domain` (autoconfig at /mail/ and at
/// /.well-known/autoconfig/, autodiscover, .mobileconfig, each read back by a parser), or its
/// status when not 200; with the two autoconfig answers as served (status and body).
fn documents(server: &Server, domain: &str) -> Result<Round, Failed> {
    use mailtls::provisioning::documents::{parse_autodiscover, parse_client_config};
    use mailtls::target::Address;
    let address = Address::parse(&format!("jane@{domain}")).map_err(|e| e.to_string())?;
    let autoconfig_at = |path: &str| -> Result<(Result<String, u16>, String), Failed> {
        let (status, _, xml) = get(&server.url(&format!(
            "{path}config-v1.1.xml?emailaddress=jane%40{domain}"
        )))?;
        let incoming = match status {
            200 => Ok(parse_client_config(&xml, &address)
                .map_err(|e| format!("{e}: {xml}"))?
                .into_iter()
                .find(|s| s.protocol != mailtls::service::Protocol::Smtp)
                .map(|s| s.hostname)
                .ok_or_else(|| format!("no incoming server in {xml}"))?),
            status => Err(status),
        };
        Ok((incoming, format!("{status} {xml}")))
    };
    let (autoconfig, mail_body) = autoconfig_at("/mail/")?;
    // Thunderbird's second URL serves the same document.
    let (well_known, well_known_body) = autoconfig_at("/.well-known/autoconfig/mail/")?;
    let body = mailtls::provisioning::documents::autodiscover_request(&address.email());
    let (status, _, xml) = request(
        "POST",
        &server.url("/autodiscover/autodiscover.xml"),
        Some(("text/xml", body.into_bytes())),
    )?;
    let autodiscover = match status {
        200 => parse_autodiscover(&xml)
            .map_err(|e| format!("{e}: {xml}"))?
            .into_iter()
            .find(|s| s.protocol != mailtls::service::Protocol::Smtp)
            .map(|s| s.hostname)
            .ok_or_else(|| format!("no incoming server in {xml}"))
            .map(Ok)?,
        status => Err(status),
    };
    let (status, _, plist) =
        get(&server.url(&format!("/email.mobileconfig?emailaddress=jane%40{domain}")))?;
    let mobileconfig = match status {
        200 => {
            // Apple's profiles carry a DOCTYPE; roxmltree reads it when allowed.
            let options = roxmltree::ParsingOptions {
                allow_dtd: true,
                ..roxmltree::ParsingOptions::default()
            };
            let document = roxmltree::Document::parse_with_options(&plist, options)
                .map_err(|e| format!("{e}: {plist}"))?;
            Ok(document
                .descendants()
                .find(|n| n.text() == Some("IncomingMailServerHostName"))
                .and_then(|key| key.next_sibling_element())
                .and_then(|value| value.text())
                .unwrap_or_default()
                .to_string())
        }
        status => Err(status),
    };
    Ok((
        [autoconfig, well_known, autodiscover, mobileconfig],
        [mail_body, well_known_body],
    ))
}

/// Waits until `done` holds (at most 40 s: a few renewals).
fn until(
    what: &str,
    server: &Server,
    mut done: impl FnMut() -> Result<bool, Failed>,
) -> Result<(), Failed> {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !done()? {
        if Instant::now() > deadline {
            return Err(format!("{what}: not after 40 s; log: {}", server.log_text()).into());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(())
}

/// Provisioning while the lab changes SWAP's certificate: a verified name is handed out; while
/// its server is down, the last verified settings stay; once it presents a certificate for
/// another name, it is no longer handed out (the pool's next name is, or nothing: 503).
fn provisioning(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-provisioning")?;
    let config = format!(
        "[serve]\nrenew_seconds = 5\n\n[pools]\nswap = [\"{swap}\"]\nfallback = [\"{swap}\", \"{good}\"]\n\n\
         [domains]\n\"swap-only.test\" = \"swap\"\n\"swap-pool.test\" = \"fallback\"\n\"never.test\" = \"never\"\n\
         \n[pools.never]\n",
        swap = lab::SWAP.name,
        good = lab::GOOD.name
    );
    // A pool that cannot be parsed is refused at start-up with its line.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, &config).map_err(|e| e.to_string())?;
    let (status, _, stderr) = super::run_mailtls(&[
        "serve",
        "--listen",
        "127.0.0.41:8080",
        "--config",
        &bad.display().to_string(),
    ]);
    ensure(status == 64 && stderr.contains("line "), || {
        format!("a malformed serve.toml: exit {status}, {stderr}")
    })?;

    let config = config
        .replace("\"never.test\" = \"never\"\n", "")
        .replace("\n[pools.never]\n", "");
    let tls = tls_server(ca, lab::SWAP.address, "swap")?;
    let server = Server::start(ca, "127.0.0.41", &dir, &config, &["--allow-private"])?;
    until("both domains verified", &server, || {
        Ok(
            server.metric("mailtls_provisioning_verified{domain=\"swap-only.test\"}")? == Some(1.0)
                && server.metric("mailtls_provisioning_verified{domain=\"swap-pool.test\"}")?
                    == Some(1.0),
        )
    })?;
    ensure(
        handed_out(&server, "swap-only.test")? == Ok(lab::SWAP.name.to_string()),
        || "swap-only.test should hand out mail.swap.test".to_string(),
    )?;
    ensure(
        handed_out(&server, "swap-pool.test")? == Ok(lab::SWAP.name.to_string()),
        || "swap-pool.test should prefer mail.swap.test".to_string(),
    )?;
    let (status, _, _) = get(&server.url("/mail/config-v1.1.xml?emailaddress=a%40other.test"))?;
    ensure(status == 404, || {
        format!("a domain not provisioned here: {status}")
    })?;
    ensure(
        server
            .metric("mailtls_certificate_expiry_days{server=\"mail.swap.test\",port=\"993\"}")?
            .is_some_and(|days| (80.0..=91.0).contains(&days)),
        || {
            "mailtls_certificate_expiry_days for mail.swap.test:993 (the lab's leaves last 90 days)"
                .to_string()
        },
    )?;

    // The server goes away: the last verified settings stay, the metric shows the failure.
    drop(tls);
    until("the outage seen", &server, || {
        Ok(server.metric("mailtls_provisioning_verified{domain=\"swap-only.test\"}")? == Some(0.0))
    })?;
    ensure(
        server.metric("mailtls_provisioning_serving{domain=\"swap-only.test\"}")? == Some(1.0),
        || "serving must stay 1 during an outage".to_string(),
    )?;
    ensure(
        handed_out(&server, "swap-only.test")? == Ok(lab::SWAP.name.to_string()),
        || "during an outage, the last verified name stays".to_string(),
    )?;

    // It comes back with a certificate for another name: no longer handed out.
    let _tls = tls_server(ca, lab::SWAP.address, "swap-other")?;
    until("the swapped certificate seen", &server, || {
        Ok(handed_out(&server, "swap-only.test")? == Err(503))
    })?;
    ensure(
        handed_out(&server, "swap-pool.test")? == Ok(lab::GOOD.name.to_string()),
        || "the pool's next verified name must be handed out".to_string(),
    )?;
    ensure(
        server.metric(
            "mailtls_server_problem{server=\"mail.swap.test\",port=\"993\",code=\"name-mismatch\"}",
        )? == Some(1.0),
        || "mailtls_server_problem name-mismatch for mail.swap.test".to_string(),
    )?;
    ensure(
        server.metric("mailtls_provisioning_serving{domain=\"swap-only.test\"}")? == Some(0.0),
        || "serving 0 once nothing verified is left".to_string(),
    )?;
    ensure(
        server
            .log_text()
            .contains("swap-only.test: handing out nothing"),
        || format!("the log should say so: {}", server.log_text()),
    )?;
    Ok(())
}

/// Without --allow-private: every inside range refused (names and literals, IPv4 and IPv6),
/// a domain whose MX points inside is checked without a connection there; visitors are rate
/// limited with 429 and Retry-After.
fn refusals(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-refusals")?;
    let server = Server::start(ca, "127.0.0.42", &dir, GENEROUS, &[])?;
    let mut refused: Vec<String> = lab::SSRF_NAMES
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    refused.extend(
        [
            "127.0.0.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "0.0.0.0",
            "::1",
            "[::1]",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:192.168.0.1",
        ]
        .map(str::to_string),
    );
    refused.push(format!("jane@{}", lab::SSRF_NAMES[1].0));
    refused.push(lab::GOOD.name.to_string());
    for target in &refused {
        let (status, body) = server.submit(target)?;
        ensure(
            status == 400 && body["error"]["code"] == "private-address",
            || format!("{target}: {status} {body}"),
        )?;
    }
    let (status, _, html) = get(&server.url("/check?target=10.0.0.1"))?;
    ensure(status == 400 && html.contains("a private address"), || {
        format!("/check?target=10.0.0.1: {status}")
    })?;
    // The domain itself resolves nowhere; its MX resolves inside: checked, never connected.
    let (status, body) = server.submit(lab::SSRF_MX)?;
    ensure(status == 202, || {
        format!("{}: {status} {body}", lab::SSRF_MX)
    })?;
    let check = server.finished(
        body["id"].as_str().unwrap_or_default(),
        Duration::from_secs(30),
    )?;
    let endpoints = check["report"]["hosts"].as_array().map_or(0, |hosts| {
        hosts
            .iter()
            .map(|h| h["endpoints"].as_array().map_or(0, Vec::len))
            .sum()
    });
    ensure(endpoints == 0 && check["verdict"] == "unknown", || {
        format!("an MX inside must not be probed: {check}")
    })?;
    ensure(
        server.metric("mailtls_checks_refused_total{reason=\"private-address\"}")?
            == Some(refused.len() as f64 + 1.0),
        || "mailtls_checks_refused_total{reason=\"private-address\"}".to_string(),
    )?;
    drop(server);

    // 30 a minute: a burst of 3, then 429 with Retry-After.
    let dir = scratch("serve-ratelimit")?;
    let server = Server::start(
        ca,
        "127.0.0.42",
        &dir,
        "[serve]\nchecks_per_minute = 30\n",
        &[],
    )?;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let (status, headers, _) = request(
            "POST",
            &server.url("/api/v1/checks"),
            Some((
                "application/json",
                br#"{"target": "nxdomain.test"}"#.to_vec(),
            )),
        )?;
        if status == 429 {
            retry_after = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        statuses.push(status);
    }
    ensure(statuses == [202, 202, 202, 429, 429, 429], || {
        format!("statuses {statuses:?}")
    })?;
    ensure(
        retry_after
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s >= 1),
        || format!("Retry-After: {retry_after:?}"),
    )?;
    Ok(())
}

/// Names and documents full of markup end up as text on the page, never as markup.
fn markup(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-markup")?;
    let _tls = tls_server(ca, lab::XSS, "xss")?;
    let server = Server::start(ca, "127.0.0.43", &dir, GENEROUS, &["--allow-private"])?;
    for (target, shown) in [
        (
            lab::XSS.to_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt;.xss.test",
        ),
        (
            format!("jane@{}", lab::DISC_XSS),
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
    ] {
        let (status, body) = server.submit(&target)?;
        ensure(status == 202, || format!("{target}: {status} {body}"))?;
        let id = body["id"].as_str().unwrap_or_default().to_string();
        server.finished(&id, Duration::from_secs(60))?;
        for path in [format!("/r/{id}"), format!("/r/{id}/print")] {
            let (_, _, html) = get(&server.url(&path))?;
            ensure(html.contains(shown), || {
                format!("{target}: {path} should show {shown}")
            })?;
            // As text only: no element made of a server's words.
            for raw in ["<script", "<img"] {
                ensure(!html.contains(raw), || {
                    format!("{target}: {path} contains raw {raw}")
                })?;
            }
        }
    }
    Ok(())
}

/// One bad request: method, path, body (content type, bytes), words the answer must hold.
type Case<'a> = (&'a str, String, Option<(&'a str, Vec<u8>)>, &'a str);

/// Garbage in the form or the API gets a 4xx and a clear message, never a 500 or a hang; bad
/// start-up options stop with one line.
fn bad_input(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-bad-input")?;
    let server = Server::start(ca, "127.0.0.44", &dir, GENEROUS, &[])?;
    let ten_mb = vec![b'a'; 10 * 1024 * 1024];
    let long_target = format!("{}example.com", "a.".repeat(1000));
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/check?target=".into(),
            None,
            "Type an e-mail address",
        ),
        ("GET", "/check".into(), None, "Type an e-mail address"),
        (
            "GET",
            "/check?target=https%3A%2F%2Fmail.example.com%2F".into(),
            None,
            "web address",
        ),
        ("GET", "/check?target=%00%01%FF".into(), None, ""),
        (
            "GET",
            format!("/check?target={long_target}"),
            None,
            "at most 320",
        ),
        (
            "GET",
            "/check?target=10.0.0.1".into(),
            None,
            "private address",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some(("application/json", b"{}".to_vec())),
            "invalid-json",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some(("application/json", b"not json".to_vec())),
            "invalid-json",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some(("text/plain", b"{\"target\":\"a.test\"}".to_vec())),
            "invalid-json",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some(("application/json", br#"{"target":"","x":1}"#.to_vec())),
            "invalid-json",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some(("application/json", br#"{"target":""}"#.to_vec())),
            "empty",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some((
                "application/json",
                serde_json::json!({"target": long_target})
                    .to_string()
                    .into_bytes(),
            )),
            "too-long",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some((
                "application/json",
                br#"{"target":"\u0000\u0001binary"}"#.to_vec(),
            )),
            "invalid",
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            Some(("application/json", vec![0xff, 0xfe, 0x00, 0x80])),
            "invalid-json",
        ),
        (
            "GET",
            "/api/v1/checks/..%2F..%2Fetc%2Fpasswd".into(),
            None,
            "not-found",
        ),
        ("DELETE", "/api/v1/checks".into(), None, ""),
        ("GET", "/nothing/here".into(), None, "Not found"),
    ];
    for (method, path, body, words) in cases {
        let started = Instant::now();
        let shown: String = path.chars().take(60).collect();
        let (status, _, text) = match request(method, &server.url(&path), body) {
            Ok(answer) => answer,
            Err(e) => return Err(format!("{method} {shown}: {e:?}").into()),
        };
        ensure((400..500).contains(&status), || {
            format!("{method} {shown}: {status} {text}")
        })?;
        ensure(text.contains(words), || {
            format!("{method} {shown}: {status}, no \"{words}\" in {text}")
        })?;
        ensure(started.elapsed() < Duration::from_secs(10), || {
            format!("{method} {shown}: slow")
        })?;
    }
    // 10 MB bodies: 413, or the connection closed before the body is read (both refuse it).
    for path in ["/api/v1/checks", "/autodiscover/autodiscover.xml"] {
        let body = Some(("application/json", ten_mb.clone()));
        if let Ok((status, _, text)) = request("POST", &server.url(path), body) {
            ensure(status == 413, || {
                format!("10 MB to {path}: {status} {text}")
            })?;
        }
    }
    // A 10 MB request line is refused too, and the server is still there.
    let url = server.url(&format!("/check?target={}", "a".repeat(10 * 1024 * 1024)));
    if let Ok((status, _, _)) = get(&url) {
        ensure((400..500).contains(&status), || {
            format!("10 MB request line: {status}")
        })?;
    }
    slow_clients_are_cut_off("127.0.0.44:8080")?;
    let (status, _, _) = get(&server.url("/healthz"))?;
    ensure(status == 200, || "the server died".to_string())?;
    ensure(!server.log_text().contains("panicked"), || {
        server.log_text()
    })?;

    // Start-up: a missing or malformed serve.toml, a port taken: one line, exit 64.
    let missing = dir.join("missing.toml").display().to_string();
    let malformed = dir.join("malformed.toml");
    std::fs::write(&malformed, "[serve]\nchecks_in_flight = \"many\"\n")
        .map_err(|e| e.to_string())?;
    let malformed = malformed.display().to_string();
    for (args, words) in [
        (
            vec!["serve", "--listen", "127.0.0.44:8081", "--config", &missing],
            "cannot read",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.44:8081",
                "--config",
                &malformed,
            ],
            "line 2",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.44:8080",
                "--db",
                &dir.join("other.sqlite").display().to_string(),
            ],
            "cannot listen",
        ),
        (vec!["serve", "--listen", "nowhere"], "invalid value"),
    ] {
        let (status, _, stderr) = super::run_mailtls(&args);
        ensure(
            status == 64 && stderr.contains(words) && stderr.trim().lines().count() <= 3,
            || format!("{args:?}: exit {status}, {stderr}"),
        )?;
    }
    Ok(())
}

/// A client that sends half a request's head and then nothing (slowloris), and one that connects
/// and sends nothing: the server closes both once its head deadline has passed (10 s), instead of
/// keeping them open for ever.
fn slow_clients_are_cut_off(address: &str) -> Result<(), Failed> {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut half = std::net::TcpStream::connect(address)?;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.44\r\nX-Slow: ")?;
    let idle = std::net::TcpStream::connect(address)?;
    for (what, mut stream) in [("a half-sent head", half), ("an idle connection", idle)] {
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut buffer = [0u8; 1024];
        // An answer before the close (408) is allowed; only the close matters.
        let closed = loop {
            match stream.read(&mut buffer) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) => {
                    break !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                }
            }
        };
        let waited = started.elapsed();
        ensure(closed && waited < Duration::from_secs(20), || {
            format!("{what}: still open after {waited:?}")
        })?;
        ensure(waited >= Duration::from_secs(9), || {
            format!("{what}: closed after only {waited:?}, before the 10 s deadline")
        })?;
    }
    Ok(())
}

/// 500 submissions at once from one address: the server stays up, answers 429 beyond the
/// visitor's rate and 503 beyond the global cap, memory stays bounded, and every accepted check
/// finishes.
fn load(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-load")?;
    let server = Server::start(
        ca,
        "127.0.0.45",
        &dir,
        "[serve]\nchecks_per_minute = 600\nchecks_in_flight = 40\n",
        &["--allow-private", "--no-versions", "--ports", "993,465"],
    )?;
    let url = server.url("/api/v1/checks");
    let answers: Vec<(u16, String)> = runtime()?.block_on(async {
        let client = client()?;
        let jobs: Vec<_> = (0..500)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let response = client
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .body(format!("{{\"target\": \"{}\"}}", lab::GOOD.name))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = response.status().as_u16();
                    let text = response.text().await.map_err(|e| e.to_string())?;
                    Ok::<_, String>((status, text))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for job in jobs {
            answers.push(job.await.map_err(|e| e.to_string())??);
        }
        Ok::<_, Failed>(answers)
    })?;
    let count = |code: u16| answers.iter().filter(|(s, _)| *s == code).count();
    let (accepted, limited, busy) = (count(202), count(429), count(503));
    ensure(accepted + limited + busy == 500, || {
        format!(
            "only 202, 429 and 503 expected: {:?}",
            answers.iter().map(|a| a.0).collect::<Vec<_>>()
        )
    })?;
    ensure(accepted >= 40 && limited > 0, || {
        format!("{accepted} accepted, {limited} rate-limited, {busy} busy")
    })?;
    for (_, body) in answers.iter().filter(|(s, _)| *s == 202) {
        let body: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let check = server.finished(
            body["id"].as_str().unwrap_or_default(),
            Duration::from_secs(90),
        )?;
        ensure(check["state"] == "done" && check["verdict"] == "ok", || {
            format!("{check}")
        })?;
    }
    let db = dir.join("serve.sqlite").display().to_string();
    let rows = query(&db, "SELECT COUNT(*) FROM checks WHERE state = 'done'")?;
    ensure(
        rows.first().and_then(|r| r[0].clone()) == Some(accepted.to_string()),
        || format!("{rows:?} done in the store, {accepted} accepted"),
    )?;
    let rss = server.peak_rss().unwrap_or(u64::MAX);
    ensure(rss < 200 * 1024, || format!("peak RSS {rss} KiB"))?;
    let (status, _, _) = get(&server.url("/healthz"))?;
    ensure(status == 200, || "the server died".to_string())?;
    println!(
        "serve load: 500 submissions: {accepted} accepted (all done), {limited} answered 429, {busy} answered 503; peak RSS {} MiB",
        rss / 1024
    );
    Ok(())
}

/// The page in Debian's Chromium, driven by Playwright (tests/browser/serve.mjs): the lab's
/// hosting-mismatch address, the permalink, the print view, the phone width, no JavaScript,
/// the fleet page of a scan in the same store, and Thunderbird's dialog for the lab's
/// hosting-mismatch server pasted in the box: explained, and checked with one click. Screenshots in target/screenshots/serve.
fn browser(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-browser")?;
    let db = dir.join("serve.sqlite");
    let list = super::scan::write_list(
        &dir,
        "fleet.txt",
        &[
            lab::DISC_BAD,
            lab::DISC_GOOD,
            lab::DISC_WEB,
            lab::DISC_DEAD,
            lab::MISMATCH.name,
            lab::EXPIRED.name,
            lab::GOOD.name,
            lab::SPLIT.name,
        ]
        .map(str::to_string),
    )?;
    let status = super::scan::scan(
        ca,
        &list,
        &db.display().to_string(),
        &["--scan", "lab-fleet"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .map_err(|e| e.to_string())?;
    ensure(status.code() == Some(0), || {
        format!("the scan exited {status}")
    })?;
    let server = Server::start(ca, "127.0.0.46", &dir, GENEROUS, &["--allow-private"])?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser/serve.mjs");
    ensure(
        root.join("tests/browser/node_modules/playwright-core")
            .is_dir(),
        || {
            "playwright-core is not installed: run scripts/test.sh (mailtls_install_browser)"
                .to_string()
        },
    )?;
    let screenshots = root.join("target/screenshots/serve");
    std::fs::create_dir_all(&screenshots).map_err(|e| e.to_string())?;
    let output = Command::new("node")
        .arg(&script)
        .env("BASE_URL", &server.base)
        .env("ADDRESS", format!("jane@{}", lab::DISC_BAD))
        .env("EXPECTED_NAME", lab::HOSTING_NAME)
        .env("SCREENSHOTS", &screenshots)
        .env("FLEET", "1")
        .env("PASTE_HOST", lab::MISMATCH.name)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure(output.status.success(), || {
        format!("serve.mjs: {}\n{stdout}\n{stderr}", output.status)
    })?;
    println!("serve.mjs: {}", stdout.trim());
    for shot in [
        "result.png",
        "result-phone.png",
        "print.png",
        "fleet.png",
        "explain.png",
        "explain-phone.png",
        "explain-unrecognised.png",
    ] {
        ensure(screenshots.join(shot).is_file(), || {
            format!("no screenshot {shot}")
        })?;
    }
    Ok(())
}

/// schemathesis (PyPI, in target/tools/venv) against the live server's OpenAPI document, every
/// check, in a network namespace of its own: whatever targets it invents, no packet leaves it.
fn schemathesis(_ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-schemathesis")?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let st = root.join("target/tools/venv/bin/st");
    ensure(st.is_file(), || {
        "schemathesis is not installed: run scripts/test.sh (mailtls_install_tools)".to_string()
    })?;
    std::fs::write(dir.join("st.toml"), "[cache]\nenabled = false\n").map_err(|e| e.to_string())?;
    std::fs::write(dir.join("serve.toml"), GENEROUS).map_err(|e| e.to_string())?;
    // Inside the namespace: loopback only, and a dnsmasq that answers NXDOMAIN for every
    // name, so whatever schemathesis invents is checked quickly and goes nowhere.
    std::fs::write(
        dir.join("dnsmasq.conf"),
        "listen-address=127.0.0.1\nport=53\nbind-interfaces\nno-resolv\nno-hosts\nlocal=/#/\n",
    )
    .map_err(|e| e.to_string())?;
    // positive_data_acceptance is left out: the schema says a target is 1 to 320 characters,
    // and no schema can say "a name DNS accepts"; such a string is refused with 400 by design.
    let script = format!(
        "set -e; ip link set lo up; \
         dnsmasq -C dnsmasq.conf --keep-in-foreground --pid-file= >dnsmasq.out 2>&1 & dns=$!; \
         {mailtls} serve --listen 127.0.0.1:8080 --db serve.sqlite --config serve.toml \
           --dns 127.0.0.1:53 --timeout 2 --no-versions >serve.out 2>serve.log & serve=$!; \
         trap 'kill $serve $dns 2>/dev/null' EXIT; \
         for i in $(seq 100); do \
           python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8080/healthz\")' 2>/dev/null && break; sleep 0.1; done; \
         HYPOTHESIS_STORAGE_DIRECTORY=hypothesis {st} --config-file st.toml run \
           http://127.0.0.1:8080/api/v1/openapi.json --url http://127.0.0.1:8080 \
           --checks all --exclude-checks positive_data_acceptance --max-examples 30 \
           --request-timeout 20 --workers 1 --seed 1 --generation-database none \
           --report junit --report-junit-path junit.xml",
        mailtls = env!("CARGO_BIN_EXE_mailtls"),
        st = st.display(),
    );
    let output = Command::new("unshare")
        .args(["--net", "--", "sh", "-c", &script])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure(output.status.success(), || {
        format!(
            "schemathesis failed ({}):\n{stdout}\n{}\nserve.log: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
        )
    })?;
    println!(
        "schemathesis: {}",
        stdout
            .lines()
            .filter(|l| l.contains("passed") || l.contains("API operations"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(())
}

/// Two instances on one PostgreSQL, as behind a load balancer: a check accepted by one is
/// answered by the other. An instance killed (-9) with a check running runs it again when it
/// starts: nothing accepted is lost.
fn shared_postgres(ca: &str) -> Result<(), Failed> {
    let postgres = postgres()?;
    postgres.create_database("serve")?;
    let db = lab::postgres::url("serve");
    let dir = scratch("serve-postgres")?;
    let config = dir.join("serve.toml");
    std::fs::write(&config, GENEROUS).map_err(|e| e.to_string())?;
    let (a_dir, b_dir) = (dir.join("a"), dir.join("b"));
    for d in [&a_dir, &b_dir] {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let a = Server::start_with(ca, "127.0.0.48", &db, &config, &a_dir, &["--allow-private"])?;
    let b = Server::start_with(ca, "127.0.0.49", &db, &config, &b_dir, &["--allow-private"])?;
    let (status, body) = a.submit(lab::MISMATCH.name)?;
    ensure(status == 202, || format!("{status} {body}"))?;
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let check = b.finished(&id, Duration::from_secs(60))?;
    ensure(
        check["verdict"] == "fail"
            && check["report"]["recommendation"]["server_name"] == lab::HOSTING_NAME,
        || format!("instance b's answer: {check}"),
    )?;
    let (status, _, html) = get(&b.url(&format!("/r/{id}")))?;
    ensure(status == 200 && html.contains(lab::HOSTING_NAME), || {
        format!("/r/{id} on b: {status}")
    })?;
    drop(b);

    // The tarpit takes seconds to greet: kill the instance while it waits.
    let (status, body) = a.submit(lab::TARPIT.name)?;
    ensure(status == 202, || format!("{status} {body}"))?;
    let id = body["id"].as_str().unwrap_or_default().to_string();
    std::thread::sleep(Duration::from_millis(500));
    let mut a = a;
    let _ = a.child.kill();
    let _ = a.child.wait();
    let state = postgres.sql(
        "serve",
        &format!("SELECT state FROM checks WHERE id = '{id}'"),
    )?;
    ensure(matches!(state.trim(), "queued" | "running"), || {
        format!("the check should be unfinished when its instance dies: {state}")
    })?;
    drop(a);
    let a = Server::start_with(ca, "127.0.0.48", &db, &config, &a_dir, &["--allow-private"])?;
    let check = a.finished(&id, Duration::from_secs(90))?;
    ensure(check["state"] == "done", || {
        format!("after a restart: {check}")
    })?;
    Ok(())
}

/// Runs SQL statements on a SQLite store directly (as a newer mailtls, or a hand, would).
fn execute(db: &Path, statements: &[String]) -> Result<(), Failed> {
    runtime()?.block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rw", db.display());
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| format!("{}: {e}", db.display()))?;
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&pool)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
        }
        pool.close().await;
        Ok::<_, Failed>(())
    })
}

/// Rows of the store this mailtls cannot read (a check's state, a result page's verdict, a
/// fleet target's verdict or a problem's code it does not know: written by a newer mailtls, or
/// by hand) are answered 503 or left out of the page, never a crash, and each is counted in
/// `mailtls_store_errors_total{kind="unreadable"}`, present at 0 from the start.
fn store_errors(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-store-errors")?;
    let server = Server::start(ca, "127.0.0.50", &dir, GENEROUS, &["--allow-private"])?;
    let unreadable = "mailtls_store_errors_total{kind=\"unreadable\"}";
    for kind in ["unreadable", "unavailable", "locked", "read-only"] {
        let series = format!("mailtls_store_errors_total{{kind=\"{kind}\"}}");
        ensure(server.metric(&series)? == Some(0.0), || {
            format!("{series} at 0 from the start")
        })?;
    }
    // A real check, whose stored page then says a verdict no mailtls knows.
    let (status, accepted) = server.submit(&format!("user@{}", lab::DISC_BAD))?;
    ensure(status == 202, || format!("POST: {status} {accepted}"))?;
    let done = accepted["id"].as_str().unwrap_or_default().to_string();
    server.finished(&done, Duration::from_secs(60))?;
    let odd = "0123456789abcdef0123456789abcdef";
    let db = dir.join("serve.sqlite");
    execute(
        &db,
        &[
            format!(
                "UPDATE checks SET page = replace(page, '\"verdict\":\"fail\"', \
                 '\"verdict\":\"splendid\"') WHERE id = '{done}'"
            ),
            format!(
                "INSERT INTO checks (id, target, state, created_at, owner) \
                 VALUES ('{odd}', 'example.test', 'exploded', 1, '')"
            ),
            "INSERT INTO scans (id, created_at, input, options, mailtls_version) \
             VALUES ('fleet', 1767225600, '-', '{}', '9.9.9')"
                .to_string(),
            target_row("good.test", 1, "fail"),
            target_row("odd.test", 2, "splendid"),
            problem_row(0, "name-mismatch"),
            problem_row(1, "quantum-flux"),
        ],
    )?;
    let edited = query(
        &db.display().to_string(),
        &format!("SELECT page LIKE '%splendid%' FROM checks WHERE id = '{done}'"),
    )?;
    ensure(edited == [[Some("1".to_string())]], || {
        format!("the page was not edited: {edited:?}")
    })?;

    let (status, _, text) = get(&server.url(&format!("/api/v1/checks/{odd}")))?;
    ensure(status == 503 && text.contains("store-unavailable"), || {
        format!("a check in a state no mailtls knows: {status} {text}")
    })?;
    let (status, _, _) = get(&server.url(&format!("/r/{odd}")))?;
    ensure(status == 503, || format!("/r/{odd}: {status}"))?;
    let (status, _, _) = get(&server.url(&format!("/r/{done}")))?;
    ensure(status == 503, || {
        format!("a page with a verdict no mailtls knows: {status}")
    })?;
    // The fleet page shows what reads (the failing target, its cause) and leaves out the rest.
    let (status, _, html) = get(&server.url("/fleet?scan=fleet"))?;
    ensure(
        status == 200
            && html.contains("good.test")
            && html.contains("name-mismatch")
            && !html.contains("odd.test")
            && !html.contains("quantum-flux"),
        || format!("/fleet: {status}: {html}"),
    )?;
    let (status, _, _) = get(&server.url("/fleet/fleet/odd.test"))?;
    ensure(status == 503, || format!("/fleet/fleet/odd.test: {status}"))?;

    // Each counted once: the check, its page, the stored page, the target and the problem left
    // out of /fleet, the target's own page.
    let counted = server.metric(unreadable)?;
    ensure(counted == Some(6.0), || {
        format!("{unreadable} = {counted:?}, expected 6")
    })?;
    let (status, _, _) = get(&server.url("/healthz"))?;
    ensure(status == 200, || {
        format!("/healthz after all that: {status}")
    })
}

fn target_row(target: &str, line: u32, verdict: &str) -> String {
    format!(
        "INSERT INTO targets (scan_id, target, line, account, kind, verdict, exit_code, summary, \
         fix, recommendation, error, checked_at, run_id, shard) VALUES ('fleet', '{target}', \
         {line}, NULL, 'domain', '{verdict}', 2, 'The certificate does not cover the name.', \
         NULL, NULL, NULL, 1767225600, 'r', '1/1')"
    )
}

fn problem_row(seq: u32, code: &str) -> String {
    format!(
        "INSERT INTO problems (scan_id, target, seq, code, severity, server, port, source, \
         expected_name, presented_names, suggested_name, verified) VALUES ('fleet', 'good.test', \
         {seq}, '{code}', 'error', 'mail.good.test', 993, 'srv', 'mail.good.test', \
         'luna.test', 'luna.test', 1)"
    )
}
