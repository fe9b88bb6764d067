//! Thunderbird's own account set-up is the oracle for mailtls's prediction of it. For every mail
//! domain of the discovery lab, and for the domain of every lab scenario served as mail.DOMAIN
//! (where only the guess finds it: every certificate fault meets the guess), the real Thunderbird (tests/thunderbird/account_setup.py: its
//! FindConfig.parallelAutoDiscovery, then GuessConfig.guessConfig, as the account hub calls them,
//! with the lab's DNS as its system resolver and the lab CA trusted) chooses the incoming and
//! outgoing server for jane@DOMAIN, and `mailtls check jane@DOMAIN` must predict the same
//! server, port and security, found the same way.

use std::path::Path;
use std::process::{Command, Stdio};

use libtest_mimic::Failed;
use serde_json::Value;

use super::{ensure, expect_eq, json_of, lab, run_mailtls, thunderbird};

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![(
        "account_setup_the_real_thunderbird_chooses_what_mailtls_predicts",
        real_thunderbird_chooses_the_prediction,
    )]
}

/// A server as both sides write it: `hostname:port security`.
fn server(value: &Value) -> Option<String> {
    Some(format!(
        "{}:{} {}",
        value["hostname"].as_str()?,
        value["port"].as_u64()?,
        value["security"].as_str()?
    ))
}

/// How Thunderbird found its settings (AccountConfig.subSource), in mailtls's words: the HTTPS
/// autoconfig URLs are one source to Thunderbird, the plain-HTTP ones another.
fn found_by(answer: &Value) -> Vec<&'static str> {
    match answer["sub_source"].as_str().unwrap_or("") {
        // The MX host's step reads the same two ways.
        "xml-from-isp-https" => vec!["autoconfig", "autoconfig-well-known", "mx-domain"],
        "xml-from-db" => vec!["ispdb", "mx-domain"],
        "xml-from-isp-http" => vec!["autoconfig-http", "autoconfig-well-known-http"],
        "xml-from-disk" => vec!["shipped-file"],
        "guess" => vec!["guess"],
        other if other.starts_with("exchange-from-") => vec!["autodiscover"],
        "" => vec!["nothing"],
        _ => vec![],
    }
}

/// Runs the real Thunderbird's account set-up for `addresses`; its answers in order. Fails
/// loudly when Thunderbird cannot run.
fn real_thunderbird(addresses: &[String], ca: &str) -> Result<Vec<Value>, Failed> {
    let version = thunderbird::version()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/thunderbird/account_setup.py");
    let dns = lab::DNS.split(':').next().unwrap_or(lab::DNS);
    let mut command = Command::new("timeout");
    // Start-up, and a few seconds per address (the silent DNS zones cost the most).
    command
        .arg((90 + addresses.len() * 20).to_string())
        .arg("python3")
        .arg(&script)
        .args(["--expect-version", &version, "--dns", dns, "--root", ca]);
    // The ISP database Thunderbird asks holds mailtls's bundled copy and the test database; no
    // domain is in both, so each address meets the one mailtls uses for it (`ispdb_args`).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for db in ["crates/core/data/ispdb/ispdb", TEST_ISPDB] {
        command.arg("--ispdb").arg(root.join(db));
    }
    let output = command
        .args(addresses)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let answers: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    if !output.status.success() || answers.len() != addresses.len() {
        return Err(format!(
            "the real Thunderbird's account set-up did not answer for every address \
             (exit {:?}, {} of {} answers; scripts/deps.sh installs Thunderbird {version}): {}",
            output.status.code(),
            answers.len(),
            addresses.len(),
            stderr.lines().rev().take(6).collect::<Vec<_>>().join(" / ")
        )
        .into());
    }
    Ok(answers)
}

/// The test ISP database (tests/data/ispdb), for the lab domains made for it.
const TEST_ISPDB: &str = "tests/data/ispdb";

/// The ISP database mailtls asks for `address`: the test database for the domains made for it,
/// else the bundled copy.
fn ispdb_args(address: &str) -> Vec<String> {
    if [lab::DISC_ISPDB, lab::ISPDB_ALIAS]
        .iter()
        .any(|d| address.ends_with(&format!("@{d}")))
    {
        vec![
            "--ispdb".to_string(),
            format!("{}/{TEST_ISPDB}", env!("CARGO_MANIFEST_DIR")),
        ]
    } else {
        Vec::new()
    }
}

/// mailtls's report on `address`: its JSON (schema-checked) and its text.
fn mailtls(address: &str, ca: &str) -> Result<(Value, String), Failed> {
    let ispdb = ispdb_args(address);
    let mut common = vec![
        "--dns",
        lab::DNS,
        "--ca-file",
        ca,
        "--timeout",
        "2",
        "--no-versions",
    ];
    common.extend(ispdb.iter().map(String::as_str));
    let mut args = vec!["check", address, "--json"];
    args.extend(&common);
    let (_, stdout, stderr) = run_mailtls(&args);
    let json = json_of(&stdout, &stderr)?;
    let mut args = vec!["check", address];
    args.extend(&common);
    let (_, text, _) = run_mailtls(&args);
    Ok((json, text))
}

fn real_thunderbird_chooses_the_prediction(ca: &str) -> Result<(), Failed> {
    let scenario_domains = lab::ALL
        .iter()
        .filter_map(|scenario| scenario.name.strip_prefix("mail."));
    let addresses: Vec<String> = lab::DISCOVERY_DOMAINS
        .iter()
        .copied()
        .chain(scenario_domains)
        .map(|domain| format!("jane@{domain}"))
        .collect();
    let answers = real_thunderbird(&addresses, ca)?;
    // mailtls on every address, a few at a time.
    let mut reports: Vec<Result<(Value, String), String>> = Vec::new();
    for chunk in addresses.chunks(4) {
        let done: Vec<Result<(Value, String), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|address| {
                    scope.spawn(move || {
                        mailtls(address, ca)
                            .map_err(|e| e.message().unwrap_or("failed").to_string())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("panicked".to_string())))
                .collect()
        });
        reports.extend(done);
    }
    let mut agree = 0;
    let mut disagreements = Vec::new();
    for ((address, answer), report) in addresses.iter().zip(&answers).zip(&reports) {
        let (json, _) = report.as_ref().map_err(|e| format!("{address}: {e}"))?;
        let setup = &json["thunderbird_setup"];
        let theirs = (
            found_by(answer),
            server(&answer["incoming"]),
            server(&answer["outgoing"]),
        );
        let ours = (
            setup["found_by"].as_str().unwrap_or("?"),
            server(&setup["incoming"]),
            server(&setup["outgoing"]),
        );
        // The walk says the same as the prediction.
        let walk_found = json["client_discovery"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["client"] == "thunderbird"))
            .map(|c| c["found"] == true);
        ensure(walk_found == Some(ours.1.is_some()), || {
            format!("{address}: Thunderbird's walk and its prediction disagree: {setup}")
        })?;
        if theirs.0.contains(&ours.0) && theirs.1 == ours.1 && theirs.2 == ours.2 {
            agree += 1;
        } else {
            disagreements.push(format!(
                "{address}: Thunderbird {} {:?} {:?} (guess tries {}); mailtls {} {:?} {:?} \
                 (unless {})",
                answer["sub_source"],
                theirs.1,
                theirs.2,
                answer["tries"],
                ours.0,
                ours.1,
                ours.2,
                setup["unless"]
            ));
        }
    }
    println!(
        "account setup: {} domains; thunderbird = mailtls {agree}/{}",
        addresses.len(),
        addresses.len()
    );
    ensure(disagreements.is_empty(), || disagreements.join("\n"))?;
    // Agreeing on "nothing" proves little: each of Thunderbird's ways to find settings is taken
    // on the domain made for it.
    for (domain, sub_source) in [
        (lab::DISC_GOOD, "xml-from-isp-https"),
        (lab::DISC_HTTP, "xml-from-isp-http"),
        (lab::DISC_AD, "exchange-from-url1"),
        (lab::ISPDB_ALIAS, "xml-from-db"),
        (lab::DISC_ISPDB, "xml-from-db"),
        (lab::DISC_GMAIL, "xml-from-db"),
        (lab::DISC_GUESS, "guess"),
    ] {
        let answer = addresses
            .iter()
            .position(|a| *a == format!("jane@{domain}"))
            .map(|i| &answers[i]);
        expect_eq(
            &format!("how Thunderbird found {domain}'s settings"),
            Some(sub_source),
            answer.and_then(|a| a["sub_source"].as_str()),
        )?;
    }
    guess_takes_starttls_and_warns_at_login(&addresses, &answers, &reports)
}

/// The measured behaviour: with nothing published, the guess refuses mail.DOMAIN:993 for its
/// certificate and takes 143 with STARTTLS, because it reads only what the server says before
/// TLS; the certificate is met at the first login, which mailtls says with the set-up's dialog.
fn guess_takes_starttls_and_warns_at_login(
    addresses: &[String],
    answers: &[Value],
    reports: &[Result<(Value, String), String>],
) -> Result<(), Failed> {
    let domain = lab::DISC_GUESS;
    let index = addresses
        .iter()
        .position(|a| a.ends_with(&format!("@{domain}")))
        .ok_or("the guess domain is not in the lab's list")?;
    let mail = format!("mail.{domain}");
    expect_eq(
        "Thunderbird's choice",
        (
            Some(format!("{mail}:143 starttls")),
            Some(format!("{mail}:587 starttls")),
        ),
        (
            server(&answers[index]["incoming"]),
            server(&answers[index]["outgoing"]),
        ),
    )?;
    let (json, text) = reports[index].as_ref().map_err(|e| e.to_string())?;
    let setup = &json["thunderbird_setup"];
    let refused = setup["guess"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["hostname"] == mail.as_str() && t["port"] == 993 && t["result"] == "fails");
    ensure(refused, || format!("the guess refuses {mail}:993: {setup}"))?;
    let warned = setup["first_login"].as_array().is_some_and(|logins| {
        logins.iter().any(|l| {
            l["server"]["port"] == 143
                && l["outcome"] == "warns"
                && l["dialog"]["id"] == "thunderbird/add-security-exception"
                && l["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains(lab::HOSTING_NAME))
        })
    });
    ensure(warned, || {
        format!("the first login to {mail}:143 warns: {setup}")
    })?;
    let sentence = format!(
        "Thunderbird's automatic set-up will choose: IMAP {mail}:143 STARTTLS, SMTP {mail}:587 \
         STARTTLS — and then, at the first login, shows \"Add Security Exception\""
    );
    ensure(text.contains(&sentence), || {
        format!("the text report says: {sentence}\n{text}")
    })
}
