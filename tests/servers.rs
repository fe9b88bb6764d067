//! End-to-end tests of `mailtls check` against real Dovecot, Postfix and dnsmasq (the lab in
//! tests/lab). Runs as root; if the lab cannot start, every test fails loudly: a skipped
//! real-server test is a defect, not a pass.
//!
//! A custom harness (libtest-mimic) so the lab starts once before the tests and stops after them.

#[path = "servers/account_setup.rs"]
mod account_setup;
#[path = "servers/delivery.rs"]
mod delivery;
#[path = "servers/discovery.rs"]
mod discovery;
#[path = "servers/engine.rs"]
mod engine;
#[path = "common/engines.rs"]
mod engines;
#[path = "servers/inbound_fleet.rs"]
mod inbound_fleet;
#[path = "servers/ispdb.rs"]
mod ispdb;
mod lab;
#[path = "servers/lossy_dns.rs"]
mod lossy_dns;
#[path = "servers/oracles.rs"]
mod oracles;
#[path = "servers/proxy.rs"]
mod proxy;
#[path = "servers/reputation.rs"]
mod reputation;
#[path = "common/run.rs"]
mod run;
#[path = "servers/scan.rs"]
mod scan;
#[path = "common/schema.rs"]
mod schema;
#[path = "servers/serve.rs"]
mod serve;
#[path = "servers/starttls_relay.rs"]
mod starttls_relay;
#[path = "servers/summaries.rs"]
mod summaries;
#[path = "common/thunderbird.rs"]
mod thunderbird;
#[path = "servers/versions.rs"]
mod versions;
#[path = "common/words.rs"]
mod words;

use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

use lab::{Lab, Scenario};

/// The lab's PostgreSQL, for the scan tests (started with the lab).
static POSTGRES: std::sync::OnceLock<Result<lab::postgres::Postgres, String>> =
    std::sync::OnceLock::new();

/// The lab's PostgreSQL, or a failure saying why it did not start.
fn postgres() -> Result<&'static lab::postgres::Postgres, Failed> {
    match POSTGRES.get() {
        Some(Ok(postgres)) => Ok(postgres),
        Some(Err(error)) => Err(format!("PostgreSQL did not start: {error}").into()),
        None => Err("PostgreSQL was not started".into()),
    }
}

fn main() {
    let args = Arguments::from_args();
    // Everything below runs in a network of this run's own (tests/lab/netns.rs).
    if let Err(error) = lab::netns::enter("servers") {
        eprintln!("servers: {error}");
        std::process::exit(1);
    }
    let dir = Lab::default_dir().join("servers-test");
    let lab = Lab::start(&dir);
    // Beside the lab directory, not in it: the lab wipes its directory at start.
    let _ = POSTGRES.set(lab::postgres::Postgres::start(
        &Lab::default_dir().join("servers-test-postgres"),
    ));
    let ca_file = lab
        .as_ref()
        .map(|l| l.ca_file.display().to_string())
        .map_err(Clone::clone);
    let trials = tests()
        .into_iter()
        .map(|(name, test)| {
            let ca_file = ca_file.clone();
            Trial::test(name, move || match &ca_file {
                Ok(ca) => test(ca),
                Err(error) => Err(format!("the lab did not start: {error}").into()),
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Ok(postgres)) = POSTGRES.get() {
        postgres.stop();
    }
    Lab::stop(&dir);
    conclusion.exit();
}

type Test = fn(&str) -> Result<(), Failed>;

fn tests() -> Vec<(&'static str, Test)> {
    let own: Vec<(&'static str, Test)> = vec![
        ("runs_in_a_network_of_its_own", runs_in_a_network_of_its_own),
        ("all_good", all_good),
        (
            "mismatch_recommends_hosting_name",
            mismatch_recommends_hosting_name,
        ),
        (
            "mismatch_text_report_leads_with_fix",
            mismatch_text_report_leads_with_fix,
        ),
        ("connected_by_ip", connected_by_ip),
        ("expired", expired),
        ("self_signed", self_signed),
        ("unknown_ca", unknown_ca),
        ("missing_intermediate", missing_intermediate),
        ("different_cert_on_smtp", different_cert_on_smtp),
        ("sni_dependent", sni_dependent),
        (
            "no_sni_flag_sees_default_certificate",
            no_sni_flag_sees_default_certificate,
        ),
        ("starttls_not_offered", starttls_not_offered),
        (
            "without_the_test_ca_the_chain_is_unknown",
            without_the_test_ca_the_chain_is_unknown,
        ),
        ("name_that_does_not_resolve", name_that_does_not_resolve),
        ("nothing_listens", nothing_listens),
        ("ports_option_limits_probes", ports_option_limits_probes),
        (
            "mismatch_names_each_clients_dialog",
            mismatch_names_each_clients_dialog,
        ),
    ];
    own.into_iter()
        .chain(reputation::tests())
        .chain(versions::tests())
        .chain(discovery::tests())
        .chain(delivery::tests())
        .chain(inbound_fleet::tests())
        .chain(ispdb::tests())
        .chain(account_setup::tests())
        .chain(engine::tests())
        .chain(oracles::tests())
        .chain(scan::tests())
        .chain(serve::tests())
        .chain(summaries::tests())
        .collect()
}

/// The lab runs in a network namespace of this run's own: no interface but its own loopback,
/// which answers the scenarios' addresses, and its own /etc/hosts (tests/lab/netns.rs).
fn runs_in_a_network_of_its_own(_: &str) -> Result<(), Failed> {
    lab::netns::check()?;
    let good: std::net::SocketAddr = format!("{}:993", lab::GOOD.address)
        .parse()
        .map_err(|e| format!("{e}"))?;
    std::net::TcpStream::connect_timeout(&good, std::time::Duration::from_secs(5))
        .map(drop)
        .map_err(|e| format!("{good} on the run's loopback: {e}").into())
}

/// Runs `mailtls check` with the lab's DNS and CA; returns (exit status, stdout, stderr).
fn mailtls(ca: &str, args: &[&str]) -> (i32, String, String) {
    in_lab("check", ca, args)
}

/// Runs `mailtls COMMAND` with the lab's DNS and CA and a 5 s step, then `args`.
fn in_lab(command: &str, ca: &str, args: &[&str]) -> (i32, String, String) {
    let mut full = vec![
        command,
        "--dns",
        lab::DNS,
        "--ca-file",
        ca,
        "--timeout",
        "5",
    ];
    full.extend_from_slice(args);
    run_mailtls(&full)
}

/// Runs the binary with `args` and no colour; returns (exit status, stdout, stderr). Whatever
/// it prints, text or JSON, never shows Rust debug text.
fn run_mailtls(args: &[&str]) -> (i32, String, String) {
    let (status, stdout, stderr) = run::mailtls(args);
    words::assert_no_debug_text(&stdout);
    words::assert_no_debug_text(&stderr);
    (status, stdout, stderr)
}

/// Parses a JSON report and validates it against the committed schema of its kind, or fails
/// with what was printed.
fn json_of(stdout: &str, stderr: &str) -> Result<Value, Failed> {
    let json: Value = serde_json::from_str(stdout)
        .map_err(|e| format!("not JSON ({e}); stdout: {stdout}\nstderr: {stderr}"))?;
    schema::validate(&json)?;
    Ok(json)
}

fn check_json(ca: &str, host: &str, extra: &[&str]) -> Result<(i32, Value), Failed> {
    let mut args = vec![host, "--json"];
    args.extend_from_slice(extra);
    let (status, stdout, stderr) = mailtls(ca, &args);
    Ok((status, json_of(&stdout, &stderr)?))
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if condition {
        Ok(())
    } else {
        Err(what().into())
    }
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: T,
    got: T,
) -> Result<(), Failed> {
    ensure(expected == got, || {
        format!("{what}\n  expected: {expected:?}\n  got:      {got:?}")
    })
}

/// `result` of each endpoint by port.
fn results(json: &Value) -> Vec<(u64, String)> {
    json["endpoints"]
        .as_array()
        .map(|endpoints| {
            endpoints
                .iter()
                .map(|e| {
                    (
                        e["port"].as_u64().unwrap_or(0),
                        e["result"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn codes(endpoint: &Value) -> Vec<String> {
    endpoint["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn endpoint(json: &Value, port: u64) -> Result<&Value, Failed> {
    json["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["port"].as_u64() == Some(port)))
        .ok_or_else(|| format!("no endpoint for port {port} in {json}").into())
}

fn all_results(json: &Value, expected: &str) -> Result<(), Failed> {
    let got = results(json);
    let want: Vec<(u64, String)> = [25, 587, 465, 143, 993, 110, 995]
        .iter()
        .map(|p| (*p, expected.to_string()))
        .collect();
    expect_eq("result per port", want, got)
}

fn all_good(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::GOOD.name, &[])?;
    expect_eq("exit status", 0, status)?;
    expect_eq("verdict", "ok", json["verdict"].as_str().unwrap_or(""))?;
    all_results(&json, "ok")?;
    expect_eq(
        "recommendation",
        Some(lab::GOOD.name),
        json["recommendation"]["server_name"].as_str(),
    )?;
    let imaps = endpoint(&json, 993)?;
    expect_eq("tls_mode", Some("implicit"), imaps["tls_mode"].as_str())?;
    expect_eq(
        "tls_version",
        Some("TLSv1.3"),
        imaps["tls_version"].as_str(),
    )?;
    expect_eq(
        "chain length (leaf + intermediate)",
        2,
        imaps["chain"].as_array().map_or(0, Vec::len),
    )?;
    expect_eq(
        "san_dns",
        Some(lab::GOOD.name),
        imaps["chain"][0]["san_dns"][0].as_str(),
    )?;
    ensure(
        imaps["chain"][0]["pem"]
            .as_str()
            .is_some_and(|p| p.starts_with("-----BEGIN CERTIFICATE-----")),
        || "pem".into(),
    )?;
    let smtp = endpoint(&json, 25)?;
    ensure(
        smtp["greeting"]
            .as_str()
            .is_some_and(|g| g.starts_with("220 ")),
        || format!("greeting {smtp}"),
    )?;
    ensure(
        smtp["transcript"]
            .as_array()
            .is_some_and(|t| t.iter().any(|l| l == "C: QUIT")),
        || "leaves with QUIT".into(),
    )?;
    let imap = endpoint(&json, 143)?;
    ensure(
        imap["transcript"]
            .as_array()
            .is_some_and(|t| t.iter().any(|l| l == "C: a3 LOGOUT")),
        || "leaves with LOGOUT".into(),
    )
}

fn mismatch_recommends_hosting_name(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::MISMATCH.name, &[])?;
    expect_eq("exit status", 2, status)?;
    all_results(&json, "name-mismatch")?;
    let recommendation = &json["recommendation"];
    expect_eq(
        "recommended name",
        Some(lab::HOSTING_NAME),
        recommendation["server_name"].as_str(),
    )?;
    expect_eq("verified", Some(true), recommendation["verified"].as_bool())?;
    expect_eq(
        "verified ports (client ports, not 25)",
        vec![587, 465, 143, 993, 110, 995],
        recommendation["verified_ports"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default(),
    )?;
    let imaps = endpoint(&json, 993)?;
    expect_eq(
        "severity on a client port",
        Some("error"),
        imaps["problems"][0]["severity"].as_str(),
    )?;
    expect_eq(
        "severity on port 25",
        Some("warning"),
        endpoint(&json, 25)?["problems"][0]["severity"].as_str(),
    )?;
    ensure(
        !codes(imaps).contains(&"cert-lacks-name".to_string()),
        || "a covered name reaches the server".into(),
    )
}

fn mismatch_text_report_leads_with_fix(ca: &str) -> Result<(), Failed> {
    let (status, stdout, _) = mailtls(ca, &[lab::MISMATCH.name]);
    expect_eq("exit status", 2, status)?;
    let first = stdout.lines().next().unwrap_or("");
    ensure(first.contains("use luna.hostingco.test instead"), || {
        format!("first line: {first}")
    })?;
    ensure(!stdout.contains('\u{1b}'), || {
        "no colour when not a TTY / NO_COLOR".into()
    })?;
    for needle in [
        "PORT  SERVICE",
        "What to change",
        "Thunderbird",
        "Outlook",
        "iOS Mail",
        "Server Name luna.hostingco.test, Port 993, Connection security SSL/TLS",
    ] {
        ensure(stdout.contains(needle), || {
            format!("missing {needle:?} in\n{stdout}")
        })?;
    }
    Ok(())
}

fn connected_by_ip(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::MISMATCH.address, &[])?;
    expect_eq("exit status", 2, status)?;
    expect_eq("target kind", Some("ip"), json["target_kind"].as_str())?;
    all_results(&json, "ip-address-used")?;
    expect_eq(
        "no SNI for an IP",
        Some(true),
        endpoint(&json, 993)?["sni"].as_null().map(|_| true),
    )?;
    expect_eq(
        "recommended (from PTR)",
        Some(lab::HOSTING_NAME),
        json["recommendation"]["server_name"].as_str(),
    )
}

fn single_cause(ca: &str, scenario: Scenario, code: &str) -> Result<Value, Failed> {
    let (status, json) = check_json(ca, scenario.name, &[])?;
    expect_eq("exit status", 2, status)?;
    all_results(&json, code)?;
    ensure(json["recommendation"].is_null(), || {
        "no name can work until the certificate is fixed".into()
    })?;
    expect_eq(
        "headline",
        true,
        json["summary"].as_str().is_some_and(|s| s.contains(code)),
    )?;
    Ok(json)
}

fn expired(ca: &str) -> Result<(), Failed> {
    let json = single_cause(ca, lab::EXPIRED, "expired")?;
    let message = endpoint(&json, 993)?["problems"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    ensure(message.contains("10 days ago"), || message)
}

fn self_signed(ca: &str) -> Result<(), Failed> {
    single_cause(ca, lab::SELF_SIGNED, "self-signed").map(drop)
}

fn unknown_ca(ca: &str) -> Result<(), Failed> {
    let json = single_cause(ca, lab::UNKNOWN_CA, "unknown-ca")?;
    let message = endpoint(&json, 465)?["problems"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    ensure(message.contains("Unknown Private Root CA"), || message)
}

fn missing_intermediate(ca: &str) -> Result<(), Failed> {
    let json = single_cause(ca, lab::NO_CHAIN, "incomplete-chain")?;
    expect_eq(
        "only the leaf is sent",
        1,
        endpoint(&json, 993)?["chain"]
            .as_array()
            .map_or(0, Vec::len),
    )?;
    // The leaf's AIA URL is served by the lab: the split verdict of a real Dovecot.
    let url = format!(
        "http://{}:{}/intermediate.der",
        lab::NO_CHAIN.address,
        lab::AIA_PORT
    );
    let message = endpoint(&json, 993)?["problems"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    ensure(message.contains(&url), || {
        format!("the fix names the AIA URL: {message}")
    })?;
    // Apple fetches the intermediate too; what it then does depends on the private lab CA
    // being installed on the device. Thunderbird and Android show their certificate warning.
    for (client, verdict, rule) in [
        ("outlook", "works", "outlook/aia-fetch"),
        ("apple-mail", "depends", "apple/aia-fetch"),
        ("thunderbird", "warns", "thunderbird/no-aia-fetch"),
        ("android", "warns", "android/no-aia-fetch"),
    ] {
        let found = client_verdict(&json, 993, client)?;
        expect_eq(
            &format!("{client} verdict on 993"),
            verdict,
            found["verdict"].as_str().unwrap_or(""),
        )?;
        ensure(
            found["rules"]
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f["rule"] == rule)),
            || format!("{client} on 993 lacks rule {rule}: {found}"),
        )?;
    }
    // Without fetching, nobody can complete the chain.
    let (_, json) = check_json(ca, lab::NO_CHAIN.name, &["--no-aia", "--client", "outlook"])?;
    let clients = endpoint(&json, 993)?["clients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    expect_eq("--client narrows to one", 1, clients.len())?;
    expect_eq(
        "outlook without AIA",
        "warns",
        clients[0]["verdict"].as_str().unwrap_or(""),
    )
}

/// The verdict object of `client` on `port`.
fn client_verdict(json: &Value, port: u64, client: &str) -> Result<Value, Failed> {
    endpoint(json, port)?["clients"]
        .as_array()
        .and_then(|all| all.iter().find(|v| v["client"] == client).cloned())
        .ok_or_else(|| format!("no verdict for {client} on port {port}").into())
}

fn different_cert_on_smtp(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::SPLIT.name, &[])?;
    expect_eq("exit status", 2, status)?;
    let want: Vec<(u64, String)> = [
        (25, "name-mismatch"),
        (587, "name-mismatch"),
        (465, "name-mismatch"),
        (143, "ok"),
        (993, "ok"),
        (110, "ok"),
        (995, "ok"),
    ]
    .iter()
    .map(|(p, r)| (*p, r.to_string()))
    .collect();
    expect_eq("results", want, results(&json))?;
    let host: Vec<&str> = json["problems"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["code"].as_str()).collect())
        .unwrap_or_default();
    expect_eq("host problems", vec!["different-cert-per-port"], host)?;
    let message = json["problems"][0]["message"].as_str().unwrap_or("");
    ensure(
        message.contains(lab::SPLIT_SMTP_NAME) && message.contains("ports 143, 993, 110, 995"),
        || message.to_string(),
    )?;
    // smtp.oldhost.test resolves nowhere: the certificate itself must change.
    ensure(
        codes(endpoint(&json, 587)?).contains(&"cert-lacks-name".to_string()),
        || "cert-lacks-name on 587".into(),
    )
}

fn sni_dependent(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::SNI.name, &[])?;
    expect_eq("exit status (warnings only)", 1, status)?;
    let imaps = endpoint(&json, 993)?;
    expect_eq(
        "codes on 993",
        vec!["sni-dependent".to_string()],
        codes(imaps),
    )?;
    expect_eq(
        "leaf without SNI",
        Some(lab::SNI_DEFAULT_NAME),
        imaps["leaf_without_sni"]["san_dns"][0].as_str(),
    )?;
    expect_eq(
        "Postfix has no SNI split",
        Some("ok"),
        endpoint(&json, 465)?["result"].as_str(),
    )?;
    expect_eq(
        "name still works with SNI",
        Some(lab::SNI.name),
        json["recommendation"]["server_name"].as_str(),
    )
}

fn no_sni_flag_sees_default_certificate(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::SNI.name, &["--no-sni", "--ports", "993"])?;
    expect_eq("exit status", 2, status)?;
    let imaps = endpoint(&json, 993)?;
    expect_eq("sni", true, imaps["sni"].is_null())?;
    expect_eq("result", Some("name-mismatch"), imaps["result"].as_str())
}

fn starttls_not_offered(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::NO_TLS.name, &[])?;
    expect_eq("exit status", 2, status)?;
    for port in [25, 587, 143, 110] {
        expect_eq(
            "result",
            Some("starttls-not-offered"),
            endpoint(&json, port)?["result"].as_str(),
        )?;
    }
    expect_eq(
        "severity on 25",
        Some("warning"),
        endpoint(&json, 25)?["problems"][0]["severity"].as_str(),
    )?;
    expect_eq(
        "severity on 143",
        Some("error"),
        endpoint(&json, 143)?["problems"][0]["severity"].as_str(),
    )?;
    expect_eq(
        "465 closed",
        Some("connection-refused"),
        endpoint(&json, 465)?["result"].as_str(),
    )?;
    expect_eq(
        "993 plain text",
        Some("tls-handshake-failed"),
        endpoint(&json, 993)?["result"].as_str(),
    )
}

fn without_the_test_ca_the_chain_is_unknown(_ca: &str) -> Result<(), Failed> {
    let output = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args([
            "check",
            lab::GOOD.name,
            "--json",
            "--dns",
            lab::DNS,
            "--ports",
            "993",
        ])
        .output()?;
    let json = json_of(
        &String::from_utf8_lossy(&output.stdout),
        &String::from_utf8_lossy(&output.stderr),
    )?;
    expect_eq("exit status", Some(2), output.status.code())?;
    expect_eq(
        "result",
        Some("unknown-ca"),
        endpoint(&json, 993)?["result"].as_str(),
    )
}

fn name_that_does_not_resolve(ca: &str) -> Result<(), Failed> {
    let (status, stdout, stderr) = mailtls(ca, &["nonexistent.test"]);
    expect_eq("exit status", 3, status)?;
    expect_eq("stdout", "", stdout.as_str())?;
    expect_eq("one-line error", 1, stderr.lines().count())?;
    ensure(stderr.contains("does not resolve"), || stderr)
}

fn nothing_listens(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, "127.0.0.99", &[])?;
    expect_eq("exit status", 3, status)?;
    all_results(&json, "connection-refused")?;
    expect_eq("verdict", Some("unknown"), json["verdict"].as_str())
}

fn ports_option_limits_probes(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::GOOD.name, &["--ports", "993,587"])?;
    expect_eq("exit status", 0, status)?;
    expect_eq(
        "ports",
        vec![(587, "ok".to_string()), (993, "ok".to_string())],
        {
            let mut r = results(&json);
            r.sort();
            r
        },
    )
}

/// Every problem that makes clients warn names each client's dialog, in its words, with when
/// it appears and the port that caused it; the text report has a section for it.
fn mismatch_names_each_clients_dialog(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::MISMATCH.name, &["--no-versions"])?;
    expect_eq("exit status", 2, status)?;
    let problem = &endpoint(&json, 993)?["problems"][0];
    expect_eq("code", Some("name-mismatch"), problem["code"].as_str())?;
    let dialogs: Vec<(String, String, String, String)> = problem["dialogs"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    (
                        d["client"].as_str().unwrap_or_default().to_string(),
                        d["title"].as_str().unwrap_or_default().to_string(),
                        d["line"].as_str().unwrap_or_default().to_string(),
                        d["cause"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let outlook = dialogs
        .iter()
        .find(|d| d.0 == "outlook")
        .ok_or_else(|| format!("no Outlook dialog: {dialogs:?}"))?;
    expect_eq(
        "Outlook's words",
        (
            "Internet Security Warning",
            "The target principal name is incorrect.",
            "port 993",
        ),
        (outlook.1.as_str(), outlook.2.as_str(), outlook.3.as_str()),
    )?;
    let apple = dialogs
        .iter()
        .find(|d| d.0 == "apple-mail")
        .ok_or_else(|| format!("no Apple Mail dialog: {dialogs:?}"))?;
    ensure(apple.2.contains(lab::MISMATCH.name), || {
        format!("the server's name in Apple's words: {apple:?}")
    })?;
    expect_eq("one dialog per client", 5, dialogs.len())?;
    // When it appears: checking mail on 993, sending on 587 (the client verdict's dialog).
    expect_eq(
        "during, on 993",
        Some("checking-mail"),
        problem["dialogs"][0]["during"].as_str(),
    )?;
    let outlook_587 = client_verdict(&json, 587, "outlook")?;
    expect_eq(
        "Outlook's dialog on 587",
        (Some("once-per-session"), Some("sending")),
        (
            outlook_587["dialog"]["when"].as_str(),
            outlook_587["dialog"]["during"].as_str(),
        ),
    )?;
    let (_, text, _) = mailtls(ca, &[lab::MISMATCH.name, "--no-versions"]);
    ensure(
        text.contains("What users see")
            && text.contains(&format!(
                "\"Thunderbird\": The certificate for {} is not valid for that server.",
                lab::MISMATCH.name
            ))
            && text.contains(": when checking mail (ports ")
            && text.contains(" and when sending (ports 587, 465)"),
        || text.clone(),
    )
}
