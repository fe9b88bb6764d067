//! Thunderbird's steps 5 and 6 (Mozilla's ISP database, for the domain and for its MX host)
//! against the lab: the test database `tests/data/ispdb` given as a directory and served by the
//! lab's HTTPS server, and the bundled copy for a domain whose MX is at a real provider, whose
//! names the lab's resolver answers as non-existent so that nothing outside 127.0.0.0/8 is
//! ever contacted.

use std::net::IpAddr;

use libtest_mimic::Failed;
use serde_json::Value;

use super::{Test, ensure, expect_eq, in_lab, json_of, lab};

pub fn tests() -> Vec<(&'static str, Test)> {
    vec![
        ("ispdb_mx_step_in_thunderbirds_order", mx_step_in_order),
        ("ispdb_lists_the_domain_itself", lists_the_domain_itself),
        ("ispdb_from_a_server", from_a_server),
        (
            "ispdb_bundled_real_provider_stays_inside",
            real_provider_stays_inside,
        ),
    ]
}

/// The test database: its files, one of them malformed.
fn test_db() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ispdb").to_string()
}

/// `check ADDRESS --json --save FILE` with `extra`; returns (status, report, saved, stderr).
/// `name` names the saved file (the tests run at once).
fn check_saved(
    ca: &str,
    name: &str,
    address: &str,
    extra: &[&str],
) -> Result<(i32, Value, Value, String), Failed> {
    let dir = lab::Lab::default_dir().join("ispdb-test");
    std::fs::create_dir_all(&dir)?;
    let saved = dir.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&saved);
    let saved_arg = saved.display().to_string();
    let mut args = vec![address, "--json", "--save", &saved_arg];
    args.extend_from_slice(extra);
    let (status, stdout, stderr) = in_lab("check", ca, &args);
    let report = json_of(&stdout, &stderr)?;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&saved)?)?;
    Ok((status, report, saved, stderr))
}

/// The saved records of `sources`, as (source, url_or_record), in their order.
fn records(saved: &Value, sources: &[&str]) -> Vec<(String, String)> {
    saved["check"]["observations"]["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| sources.iter().any(|s| r["source"] == *s))
        .map(|r| {
            (
                r["source"].as_str().unwrap_or_default().to_string(),
                r["url_or_record"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The saved record of Thunderbird's steps 5 and 6 asked at `url`.
fn record<'a>(saved: &'a Value, url: &str) -> Result<&'a Value, Failed> {
    saved["check"]["observations"]["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            ["ispdb", "autoconfig-mx", "ispdb-mx"]
                .iter()
                .any(|s| r["source"] == *s)
        })
        .find(|r| r["url_or_record"] == url)
        .ok_or_else(|| format!("no record of {url}").into())
}

/// Thunderbird's steps, in order, as (reaction, asked, answer).
fn thunderbird_steps(report: &Value) -> Vec<(String, String, String)> {
    report["client_discovery"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["client"] == "thunderbird")
        .flat_map(|c| c["steps"].as_array().into_iter().flatten())
        .map(|s| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (text(&s["reaction"]), text(&s["asked"]), text(&s["answer"]))
        })
        .collect()
}

fn autoconfig_url(domain: &str, address: &str) -> String {
    format!(
        "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={}",
        address.replace('@', "%40")
    )
}

fn db_url(domain: &str) -> String {
    format!("https://live.thunderbird.net/autoconfig/v1.1/{domain}")
}

/// DISC_ISPDB's most preferred MX host is mx.eu.mailprovider.test: Thunderbird asks the
/// autoconfig and the ISP database of eu.mailprovider.test, then of mailprovider.test, and takes
/// the first answer in that order (the STARTTLS entry of eu.mailprovider.test.xml), which
/// mailtls then checks. The malformed file of the test database is named and skipped.
fn mx_step_in_order(ca: &str) -> Result<(), Failed> {
    let address = format!("jane@{}", lab::DISC_ISPDB);
    let db = test_db();
    let (_, report, saved, stderr) = check_saved(ca, "mx-step", &address, &["--ispdb", &db])?;
    ensure(
        stderr.contains("skipped broken.xml: not well-formed XML"),
        || format!("the malformed file is named: {stderr}"),
    )?;
    expect_eq(
        "step 6's records, in Thunderbird's order",
        vec![
            (
                "autoconfig-mx".to_string(),
                autoconfig_url("eu.mailprovider.test", &address),
            ),
            ("ispdb-mx".to_string(), db_url("eu.mailprovider.test")),
            (
                "autoconfig-mx".to_string(),
                autoconfig_url("mailprovider.test", &address),
            ),
            ("ispdb-mx".to_string(), db_url("mailprovider.test")),
        ],
        records(&saved, &["autoconfig-mx", "ispdb-mx"]),
    )?;
    // The file that answers is named, and the domain itself is not listed.
    for (domain, file) in [
        ("eu.mailprovider.test", "eu.mailprovider.test.xml"),
        ("mailprovider.test", "mailprovider.xml"),
    ] {
        let answered = record(&saved, &db_url(domain))?["answered_by"].to_string();
        ensure(answered.ends_with(&format!(": {file}\"")), || {
            format!("{domain} answered by {answered}")
        })?;
    }
    let own = record(&saved, &db_url(lab::DISC_ISPDB))?;
    expect_eq(
        "step 5",
        Some("not-published"),
        own["error"]["kind"].as_str(),
    )?;
    let steps = thunderbird_steps(&report);
    let (reaction, asked, answer) = steps.last().ok_or("no Thunderbird steps")?;
    expect_eq(
        "the step Thunderbird takes its settings from",
        ("uses", db_url("eu.mailprovider.test").as_str()),
        (reaction.as_str(), asked.as_str()),
    )?;
    ensure(
        answer.contains("mail.good.test:143") && answer.contains("mail.good.test:587"),
        || format!("step 6 hands out the STARTTLS entry: {answer}"),
    )?;
    ensure(
        steps
            .iter()
            .any(|(reaction, asked, _)| reaction == "skips" && *asked == db_url(lab::DISC_ISPDB)),
        || format!("step 5 is skipped: {steps:?}"),
    )?;
    // The servers found are checked like any other handed out.
    let checked: Vec<(u64, &str)> = report["discovery"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["source"] == "ispdb-mx" && e["hostname"] == lab::GOOD.name)
        .map(|e| {
            (
                e["port"].as_u64().unwrap_or_default(),
                e["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    expect_eq(
        "the ISP database's servers, checked",
        vec![
            (143, "works"),
            (587, "works"),
            (993, "works"),
            (465, "works"),
        ],
        checked,
    )
}

/// A domain with no DNS records at all that the database lists itself (in a file named for
/// another domain): step 5 gives Thunderbird its settings, and they work.
fn lists_the_domain_itself(ca: &str) -> Result<(), Failed> {
    let address = format!("jane@{}", lab::ISPDB_ALIAS);
    let db = test_db();
    let (_, report, saved, _) = check_saved(ca, "alias", &address, &["--ispdb", &db])?;
    let steps = thunderbird_steps(&report);
    let (reaction, asked, answer) = steps.last().ok_or("no Thunderbird steps")?;
    expect_eq(
        "step 5 is used",
        ("uses", db_url(lab::ISPDB_ALIAS).as_str()),
        (reaction.as_str(), asked.as_str()),
    )?;
    ensure(answer.contains("mail.good.test:993"), || {
        format!("step 5 hands out the listed servers: {answer}")
    })?;
    // Thunderbird would skip step 6: the domain has no MX host.
    let mx_step = record(&saved, lab::ISPDB_ALIAS)?;
    expect_eq(
        "step 6 skipped",
        Some("ispdb-mx"),
        mx_step["source"].as_str(),
    )?;
    ensure(
        mx_step["error"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("has no MX host")),
        || format!("step 6 says why: {mx_step}"),
    )?;
    let thunderbird = report["settings"]
        .as_array()
        .and_then(|s| s.iter().find(|c| c["client"] == "thunderbird"))
        .ok_or("no settings")?;
    expect_eq(
        "the verified settings",
        (Some(lab::GOOD.name), Some(993)),
        (
            thunderbird["incoming"]["hostname"].as_str(),
            thunderbird["incoming"]["port"].as_u64(),
        ),
    )
}

/// The same database asked from a server, as Thunderbird asks live.thunderbird.net: per domain,
/// through the fetcher (HTTPS, the lab CA).
fn from_a_server(ca: &str) -> Result<(), Failed> {
    let address = format!("jane@{}", lab::DISC_ISPDB);
    let base = format!("https://{}/v1.1/", lab::ISPDB_HOST);
    let (_, report, saved, _) = check_saved(ca, "server", &address, &["--ispdb", &base])?;
    let served = record(&saved, &format!("{base}eu.mailprovider.test"))?;
    expect_eq(
        "the server's answer",
        Some(format!("{base}eu.mailprovider.test").as_str()),
        served["answered_by"].as_str(),
    )?;
    ensure(
        served["https_chain"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        || "the server's chain is recorded".to_string(),
    )?;
    let own = record(&saved, &format!("{base}{}", lab::DISC_ISPDB))?;
    expect_eq(
        "a domain the server does not list (404)",
        Some("not-published"),
        own["error"]["kind"].as_str(),
    )?;
    let steps = thunderbird_steps(&report);
    let (reaction, asked, answer) = steps.last().ok_or("no Thunderbird steps")?;
    expect_eq(
        "step 6 from the server",
        ("uses", format!("{base}eu.mailprovider.test").as_str()),
        (reaction.as_str(), asked.as_str()),
    )?;
    ensure(answer.contains("mail.good.test:143"), || {
        format!("the server's entry: {answer}")
    })?;
    // Only https:// is fetched, and a directory must exist: usage errors before any work.
    for bad in [
        format!("http://{}/v1.1/", lab::ISPDB_HOST),
        "/nonexistent/ispdb".to_string(),
    ] {
        let (status, _, stderr) = in_lab("check", ca, &[&address, "--ispdb", &bad]);
        expect_eq(&format!("--ispdb {bad}: {stderr}"), 64, status)?;
    }
    Ok(())
}

/// A domain whose MX is at Google, with the bundled copy: the walk names Google's settings from
/// the real database (googlemail.com.xml lists google.com, the MX host's registrable domain,
/// asked after its parent l.google.com), while nothing outside the lab is contacted: the lab's
/// resolver answers google.com and gmail.com names as non-existent, so those hosts are "does
/// not resolve" and every address mailtls connected to is in 127.0.0.0/8.
fn real_provider_stays_inside(ca: &str) -> Result<(), Failed> {
    let address = format!("jane@{}", lab::DISC_GMAIL);
    let (_, report, saved, _) = check_saved(ca, "gmail", &address, &[])?;
    expect_eq(
        "step 6's records, the most preferred MX host's parent first",
        vec![
            (
                "autoconfig-mx".to_string(),
                autoconfig_url("l.google.com", &address),
            ),
            ("ispdb-mx".to_string(), db_url("l.google.com")),
            (
                "autoconfig-mx".to_string(),
                autoconfig_url("google.com", &address),
            ),
            ("ispdb-mx".to_string(), db_url("google.com")),
        ],
        records(&saved, &["autoconfig-mx", "ispdb-mx"]),
    )?;
    let google = record(&saved, &db_url("google.com"))?;
    ensure(
        google["answered_by"]
            .as_str()
            .is_some_and(|a| a.contains("bundled copy") && a.ends_with(": googlemail.com.xml")),
        || format!("answered by the bundled copy: {}", google["answered_by"]),
    )?;
    let steps = thunderbird_steps(&report);
    let (reaction, asked, answer) = steps.last().ok_or("no Thunderbird steps")?;
    expect_eq(
        "Thunderbird takes Google's settings",
        ("uses", db_url("google.com").as_str()),
        (reaction.as_str(), asked.as_str()),
    )?;
    for server in [
        "imap.gmail.com:993",
        "pop.gmail.com:995",
        "smtp.gmail.com:465",
    ] {
        ensure(answer.contains(server), || {
            format!("step 6 names {server}: {answer}")
        })?;
    }
    // Google's hosts were handed out, and none of them was reached.
    let google_entries: Vec<(&str, &str)> = report["discovery"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["source"] == "ispdb-mx")
        .map(|e| {
            (
                e["hostname"].as_str().unwrap_or_default(),
                e["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    ensure(
        google_entries.len() == 3
            && google_entries
                .iter()
                .all(|(_, status)| *status == "does-not-resolve"),
        || format!("Google's servers do not resolve in the lab: {google_entries:?}"),
    )?;
    let mut connected: Vec<IpAddr> = Vec::new();
    for host in report["hosts"].as_array().into_iter().flatten() {
        let target = host["target"].as_str().unwrap_or_default();
        ensure(
            !target.ends_with("google.com") && !target.ends_with("gmail.com"),
            || format!("a host outside the lab was checked: {target}"),
        )?;
        for endpoint in host["endpoints"].as_array().into_iter().flatten() {
            let address: IpAddr = endpoint["address"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|e| format!("endpoint address: {e}"))?;
            connected.push(address);
        }
    }
    ensure(
        connected.iter().all(|a| match a {
            IpAddr::V4(v4) => v4.is_loopback(),
            IpAddr::V6(_) => false,
        }),
        || format!("every address connected to is in 127.0.0.0/8: {connected:?}"),
    )
}
