//! Discovery from an address or a mail domain against the lab: dnsmasq serves SRV and MX
//! records, a real HTTPS server (tests/lab/provisioning_server.py, certificate from the lab CA)
//! serves autoconfig and autodiscover documents, and the servers handed out are the lab's real
//! Dovecot and Postfix.

use std::process::Command;

use libtest_mimic::Failed;
use serde_json::Value;

use super::{Test, check_json, ensure, expect_eq, in_lab, json_of, lab, run_mailtls};

pub fn tests() -> Vec<(&'static str, Test)> {
    vec![
        ("discovery_all_sources_agree", all_sources_agree),
        ("discovery_names_the_wrong_sources", names_the_wrong_sources),
        ("discovery_malformed_autoconfig", malformed_autoconfig),
        ("discovery_redirect_loop", redirect_loop),
        (
            "discovery_autoconfig_with_bad_certificate",
            autoconfig_with_bad_certificate,
        ),
        (
            "provision_writes_only_verified_names",
            provision_writes_only_verified_names,
        ),
        (
            "discovery_fetches_refuse_inside_addresses",
            fetches_refuse_inside_addresses,
        ),
        (
            "discovery_with_reputation_follows_mx",
            with_reputation_follows_mx,
        ),
        (
            "discovery_outlook_autodiscover_warning",
            outlook_autodiscover_warning,
        ),
        (
            "discovery_nothing_handed_out_answers",
            nothing_handed_out_answers,
        ),
        (
            "discovery_silent_resolver_is_not_checked",
            silent_resolver_is_not_checked,
        ),
        (
            "discovery_host_the_resolver_left_unanswered",
            host_left_unanswered,
        ),
        (
            "discovery_inside_fetch_undecided_is_not_checked",
            inside_fetch_undecided,
        ),
        (
            "discovery_host_that_does_not_resolve",
            host_that_does_not_resolve,
        ),
    ]
}

/// The IMAP SRV record names a host with no address, the MX a server that works on port 25:
/// the summary says the host does not resolve (never that it did not answer), the fix says
/// what to publish, and the text report says which service has no verified name and why the
/// working MX server is not one.
fn host_that_does_not_resolve(ca: &str) -> Result<(), Failed> {
    let domain = lab::DISC_NXHOST;
    let host = format!("mail.{domain}");
    let (status, json) = check_json(ca, &format!("jane@{domain}"), &[])?;
    expect_eq("exit status (a server works)", 1, status)?;
    expect_eq(
        "claim",
        Some("does-not-resolve"),
        json["summary_kind"].as_str(),
    )?;
    let srv = entries(&json, "srv");
    expect_eq(
        "the SRV entry",
        vec![(Some(host.as_str()), Some("does-not-resolve"))],
        srv.iter()
            .map(|e| (e["hostname"].as_str(), e["status"].as_str()))
            .collect::<Vec<_>>(),
    )?;
    let summary = json["summary"].as_str().unwrap_or_default();
    ensure(
        summary
            == format!(
                "Warning: {host}, handed out for {domain}, does not resolve: clients sent there \
             cannot connect."
            ),
        || format!("summary: {summary}"),
    )?;
    ensure(
        json["fix"].as_array().is_some_and(|fix| {
            fix.iter().any(|f| {
                f.as_str().is_some_and(|f| {
                    f.contains(&format!(
                        "hands out {host} (port 993), which does not resolve"
                    ))
                })
            })
        }),
        || format!("fix: {}", json["fix"]),
    )?;
    let (_, text, stderr) = in_lab("check", ca, &[&format!("jane@{domain}")]);
    ensure(
        text.contains(
            "No server name for reading mail (IMAP, POP3) or sending it (submission) was \
             verified to work without a warning.",
        ) && text.contains(&format!(
            "The MX server {} works on port 25, where servers hand each other mail",
            lab::GOOD.name
        )) && !text.contains("did not answer"),
        || format!("{text}{stderr}"),
    )
}

/// The only server handed out is a host the resolver never answers for, and the autoconfig
/// lives on an inside address: without knowing whether the domain's own servers live inside,
/// the autoconfig is "not checked", never "refused as an inside address".
fn inside_fetch_undecided(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_silent(ca, &format!("jane@{}", lab::DISC_SILENT_ONLY))?;
    expect_eq("exit status", 3, status)?;
    let entries: Vec<&Value> = json["discovery"].as_array().into_iter().flatten().collect();
    ensure(
        entries.iter().any(|e| {
            e["source"] == "autoconfig"
                && e["status"] == "not-checked"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("DNS did not answer"))
        }),
        || format!("the autoconfig entry is not-checked: {entries:?}"),
    )?;
    ensure(
        !entries.iter().any(|e| e["error"] == "inside-address"),
        || format!("no entry may say the fetch was refused: {entries:?}"),
    )
}

/// The resolver never answers for a host the SRV record hands out: that entry is "not checked"
/// with the resolver's words, never "the name does not resolve", and the answer is "could not
/// finish" (exit 3); the other SRV record's server is still checked and works.
fn host_left_unanswered(ca: &str) -> Result<(), Failed> {
    let domain = lab::DISC_SILENT_HOST;
    let host = format!("mail.{domain}");
    let (status, json) = check_silent(ca, &format!("jane@{domain}"))?;
    expect_eq("exit status", 3, status)?;
    expect_eq("verdict", Some("unknown"), json["verdict"].as_str())?;
    let summary = json["summary"].as_str().unwrap_or_default();
    ensure(
        summary.starts_with(&format!(
            "Could not finish checking {domain}: {host}, handed out by _imaps._tcp.{domain} (srv), \
             was not checked ("
        )) && summary.contains("timed out"),
        || format!("summary: {summary}"),
    )?;
    let entries: Vec<&Value> = json["discovery"].as_array().into_iter().flatten().collect();
    ensure(
        entries.iter().any(|e| {
            e["source"] == "srv" && e["hostname"] == host.as_str() && e["status"] == "not-checked"
        }),
        || format!("the SRV entry for {host} is not-checked: {entries:?}"),
    )?;
    ensure(
        !entries.iter().any(|e| {
            e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("does not resolve"))
        }),
        || format!("no entry may say the name does not resolve: {entries:?}"),
    )?;
    ensure(
        entries.iter().any(|e| {
            e["url_or_record"] == format!("_submissions._tcp.{domain}").as_str()
                && e["status"] == "works"
        }),
        || format!("the submission SRV record's server works: {entries:?}"),
    )
}

/// `check ADDRESS --json --no-versions` in the lab with a 1 s step: a name the silent server
/// is asked about costs the resolver's two tries of 1 s, not of 5.
fn check_silent(ca: &str, address: &str) -> Result<(i32, Value), Failed> {
    let (status, stdout, stderr) = run_mailtls(&[
        "check",
        address,
        "--json",
        "--no-versions",
        "--dns",
        lab::DNS,
        "--ca-file",
        ca,
        "--timeout",
        "1",
    ]);
    Ok((status, json_of(&stdout, &stderr)?))
}

/// The resolver never answers for the domain's autoconfig name, while its mail servers work:
/// the report says that source was not checked and the answer is "could not finish" (exit 3),
/// neither "all good" nor a fault of the domain's.
fn silent_resolver_is_not_checked(ca: &str) -> Result<(), Failed> {
    let address = format!("jane@{}", lab::DISC_SILENT);
    let (status, json) = check_silent(ca, &address)?;
    expect_eq("exit status", 3, status)?;
    expect_eq("verdict", Some("unknown"), json["verdict"].as_str())?;
    let summary = json["summary"].as_str().unwrap_or_default();
    ensure(
        summary.starts_with(&format!("Could not finish checking {}", lab::DISC_SILENT))
            && summary.contains(&format!("autoconfig.{}", lab::DISC_SILENT))
            && summary.contains("timed out"),
        || format!("summary: {summary}"),
    )?;
    let entries: Vec<&Value> = json["discovery"].as_array().into_iter().flatten().collect();
    ensure(
        entries.iter().any(|e| {
            e["source"] == "autoconfig"
                && e["status"] == "not-checked"
                && e["error"] == "not-checked"
        }),
        || format!("the autoconfig entry is not-checked: {entries:?}"),
    )?;
    ensure(
        entries
            .iter()
            .filter(|e| e["source"] == "srv")
            .all(|e| e["status"] == "works"),
        || format!("the SRV record's server works: {entries:?}"),
    )?;
    // Thunderbird's walk does not pretend to know what that step would have answered.
    let thunderbird = json["client_discovery"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["client"] == "thunderbird")
        .ok_or("no Thunderbird walk")?;
    ensure(
        thunderbird["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                s["reaction"] == "not-asked"
                    && s["asked"]
                        .as_str()
                        .is_some_and(|u| u.contains(&format!("autoconfig.{}", lab::DISC_SILENT)))
            }),
        || format!("Thunderbird's autoconfig step: {thunderbird}"),
    )
}

/// Every server the domain hands out is silent: the answer is "could not check" (exit 3), not
/// "all good".
fn nothing_handed_out_answers(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, &format!("jane@{}", lab::DISC_DEAD), &[])?;
    expect_eq("exit status", 3, status)?;
    expect_eq("verdict", Some("unknown"), json["verdict"].as_str())?;
    let summary = json["summary"].as_str().unwrap_or_default();
    ensure(
        summary.starts_with("Could not check disc-dead.test")
            && summary.contains(&format!("mail.{}:993", lab::DISC_DEAD)),
        || format!("summary: {summary}"),
    )?;
    ensure(
        json["discovery"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| !e["hostname"].as_str().unwrap_or_default().is_empty())
            .all(|e| e["status"] == "unreachable"),
        || format!("every entry unreachable: {}", json["discovery"]),
    )
}

/// The customer's website answers Outlook's first Autodiscover step with the web host's
/// certificate: that is the cause of Outlook's dialog, the mail servers are fine, and the fixes
/// come in order of effort, the SRV record with its honest caveat first.
fn outlook_autodiscover_warning(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, &format!("jane@{}", lab::DISC_WEB), &[])?;
    expect_eq("exit status", 2, status)?;
    let url = format!("https://{}/autodiscover/autodiscover.xml", lab::DISC_WEB);
    let warning = &json["autodiscover_warning"];
    // Numbered as docs/clients.md numbers Outlook's steps: 2 is https://DOMAIN/autodiscover/.
    expect_eq("step", Some(2), warning["step"].as_u64())?;
    expect_eq("url", Some(url.as_str()), warning["url"].as_str())?;
    expect_eq(
        "the web host's name",
        serde_json::json!([lab::WEBHOST_NAME]),
        warning["presented_names"].clone(),
    )?;
    expect_eq(
        "dialog",
        Some("outlook/security-alert"),
        warning["dialog"]["id"].as_str(),
    )?;
    ensure(
        warning["dialog"]["line"]
            .as_str()
            .is_some_and(|l| l.contains("does not match the name of the site")),
        || format!("the dialog's words: {}", warning["dialog"]),
    )?;
    expect_eq(
        "mail servers fine",
        serde_json::json!([lab::GOOD.name]),
        warning["mail_servers_fine"].clone(),
    )?;
    // The summary quotes the dialog's own line, from the catalogue, so the user recognises it.
    let line = mailtls::clients::dialogs::DIALOGS
        .iter()
        .find(|d| d.id == "outlook/security-alert")
        .map(|d| d.key_line(mailtls::clients::dialogs::Fault::WrongName))
        .ok_or("no outlook/security-alert dialog in the catalogue")?;
    let summary = json["summary"].as_str().unwrap_or_default();
    ensure(
        summary.contains(&format!(
            "Outlook shows \"Security Alert\" at every start: \"{line}\""
        )) && summary.contains(lab::WEBHOST_NAME)
            && summary.contains("mail servers themselves are fine"),
        || summary.to_string(),
    )?;
    let fix: Vec<&str> = json["fix"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ensure(
        fix.len() >= 3
            && fix[0].contains(&format!("_autodiscover._tcp.{}", lab::DISC_WEB))
            && fix[0].contains("only after the earlier steps fail cleanly")
            && fix[1].contains(&format!(
                "Add {} to the website's certificate",
                lab::DISC_WEB
            ))
            && fix[2].contains("not answer"),
        || format!("fixes in order of effort: {fix:#?}"),
    )?;
    // Outlook's walk: the SCP step is not asked, the first step shows the dialog, the rest skip.
    let outlook = json["client_discovery"]
        .as_array()
        .and_then(|w| w.iter().find(|c| c["client"] == "outlook"))
        .ok_or("no walk for Outlook")?;
    let reactions: Vec<&str> = outlook["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["reaction"].as_str()).collect())
        .unwrap_or_default();
    expect_eq(
        "Outlook's steps",
        vec![
            "not-asked",
            "shows-dialog",
            "skips",
            "skips",
            "skips",
            "not-asked",
        ],
        reactions,
    )?;
    // Thunderbird skips the same certificate without a word.
    let thunderbird = json["client_discovery"]
        .as_array()
        .and_then(|w| w.iter().find(|c| c["client"] == "thunderbird"))
        .ok_or("no walk for Thunderbird")?;
    ensure(
        thunderbird["steps"].as_array().is_some_and(|steps| {
            steps.iter().any(|s| {
                s["reaction"] == "skips"
                    && s["answer"]
                        .as_str()
                        .is_some_and(|a| a.contains(lab::WEBHOST_NAME))
            })
        }),
        || format!("Thunderbird's steps: {}", thunderbird["steps"]),
    )?;
    // The settings that work are still the verified mail server.
    expect_eq(
        "recommendation",
        Some(lab::GOOD.name),
        json["recommendation"]["server_name"].as_str(),
    )
}

fn entries<'a>(json: &'a Value, source: &str) -> Vec<&'a Value> {
    json["discovery"]
        .as_array()
        .map(|d| d.iter().filter(|e| e["source"] == source).collect())
        .unwrap_or_default()
}

fn thunderbird(json: &Value) -> Result<&Value, Failed> {
    json["settings"]
        .as_array()
        .and_then(|s| s.iter().find(|c| c["client"] == "thunderbird"))
        .ok_or_else(|| format!("no settings: {}", json["settings"]).into())
}

fn all_sources_agree(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, &format!("jane@{}", lab::DISC_GOOD), &[])?;
    expect_eq("exit status", 0, status)?;
    expect_eq(
        "email",
        Some(format!("jane@{}", lab::DISC_GOOD).as_str()),
        json["email"].as_str(),
    )?;
    for source in [
        "srv",
        "autoconfig",
        "autoconfig-well-known",
        "autodiscover",
        "autodiscover-srv",
        "mx",
    ] {
        let found = entries(&json, source);
        ensure(!found.is_empty(), || {
            format!("no {source} entries: {}", json["discovery"])
        })?;
        for entry in found.iter().filter(|e| e["status"] != "not-offered") {
            expect_eq(
                &format!("{source} entry"),
                (Some(lab::GOOD.name), Some("works")),
                (entry["hostname"].as_str(), entry["status"].as_str()),
            )?;
        }
    }
    // _pop3._tcp with target "." (RFC 2782): not offered, said so.
    let pop3 = entries(&json, "srv")
        .into_iter()
        .find(|e| {
            e["url_or_record"]
                .as_str()
                .is_some_and(|r| r.starts_with("_pop3._tcp"))
        })
        .ok_or("no _pop3._tcp entry")?;
    expect_eq(
        "SRV target \".\"",
        Some("not-offered"),
        pop3["status"].as_str(),
    )?;
    // The autoconfig URL carries the address.
    let autoconfig = entries(&json, "autoconfig");
    ensure(
        autoconfig[0]["url_or_record"]
            .as_str()
            .is_some_and(|u| u.contains("emailaddress=jane%40disc-good.test")),
        || format!("autoconfig URL: {}", autoconfig[0]),
    )?;
    let settings = thunderbird(&json)?;
    expect_eq(
        "incoming",
        (Some(lab::GOOD.name), Some(993), Some("tls")),
        (
            settings["incoming"]["hostname"].as_str(),
            settings["incoming"]["port"].as_u64(),
            settings["incoming"]["security"].as_str(),
        ),
    )?;
    expect_eq(
        "outgoing port",
        Some(465),
        settings["outgoing"]["port"].as_u64(),
    )
}

fn names_the_wrong_sources(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, &format!("jane@{}", lab::DISC_BAD), &[])?;
    expect_eq("exit status", 2, status)?;
    let wrong = format!("mail.{}", lab::DISC_BAD);
    for source in ["srv", "autoconfig"] {
        for entry in entries(&json, source) {
            expect_eq(
                &format!("{source} entry"),
                (
                    Some(wrong.as_str()),
                    Some("name-not-covered"),
                    Some(lab::HOSTING_NAME),
                ),
                (
                    entry["hostname"].as_str(),
                    entry["status"].as_str(),
                    entry["instead"].as_str(),
                ),
            )?;
        }
    }
    let fixes = json["fix"].to_string();
    ensure(
        fixes.contains("_imaps._tcp.disc-bad.test") && fixes.contains("autoconfig.disc-bad.test"),
        || format!("the fixes name the sources: {fixes}"),
    )?;
    let settings = thunderbird(&json)?;
    expect_eq(
        "the settings card uses the verified name",
        Some(lab::HOSTING_NAME),
        settings["incoming"]["hostname"].as_str(),
    )
}

fn source_error(json: &Value) -> String {
    entries(json, "autoconfig")
        .into_iter()
        .find(|e| e["status"] == "source-error")
        .map(|e| e["detail"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

fn malformed_autoconfig(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::DISC_BROKEN, &[])?;
    expect_eq("exit status", 1, status)?;
    let detail = source_error(&json);
    ensure(detail.contains("not well-formed XML"), || {
        format!("malformed XML reported: {}", json["discovery"])
    })?;
    // The SRV record still works.
    expect_eq(
        "SRV",
        Some("works"),
        entries(&json, "srv")
            .first()
            .and_then(|e| e["status"].as_str()),
    )
}

fn redirect_loop(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::DISC_LOOP, &[])?;
    expect_eq("exit status", 1, status)?;
    let detail = source_error(&json);
    ensure(detail.contains("redirect loop"), || {
        format!("redirect loop reported: {}", json["discovery"])
    })
}

fn autoconfig_with_bad_certificate(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::DISC_BADCERT, &[])?;
    expect_eq("exit status", 2, status)?;
    let detail = source_error(&json);
    // Said in words, with the names the certificate presents: the web server's certificate
    // names the other lab sites, not autoconfig.disc-badcert.test.
    ensure(
        detail.contains(&format!(
            "the HTTPS certificate is for autoconfig.{}",
            lab::DISC_GOOD
        )) && detail.contains(&format!("not for autoconfig.{}", lab::DISC_BADCERT))
            && !detail.contains("DnsName("),
        || format!("bad HTTPS certificate reported in words: {detail}"),
    )?;
    ensure(
        json["fix"]
            .to_string()
            .contains("invalid HTTPS certificate"),
        || format!("its own fix: {}", json["fix"]),
    )
}

fn provision_writes_only_verified_names(ca: &str) -> Result<(), Failed> {
    let output = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["provision", lab::DISC_BAD, "--format", "thunderbird"])
        .args(["--dns", lab::DNS, "--ca-file", ca, "--timeout", "5"])
        .output()?;
    expect_eq("exit status", Some(0), output.status.code())?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure(
        text.contains(&format!("<hostname>{}</hostname>", lab::HOSTING_NAME)),
        || format!("the verified name is written: {text}"),
    )?;
    ensure(!text.contains(&format!("mail.{}", lab::DISC_BAD)), || {
        format!("the uncovered name is not: {text}")
    })?;
    // The same as JSON: the settings and the document, as the schema says.
    let (status, stdout, stderr) = in_lab(
        "provision",
        ca,
        &[lab::DISC_BAD, "--format", "thunderbird", "--json"],
    );
    expect_eq("exit status with --json", 0, status)?;
    let json = json_of(&stdout, &stderr)?;
    let document = json["document"].as_str().unwrap_or_default();
    ensure(
        document.contains(&format!("<hostname>{}</hostname>", lab::HOSTING_NAME))
            && !document.contains(&format!("mail.{}", lab::DISC_BAD)),
        || format!("the JSON carries the verified document only: {stdout}"),
    )?;
    let output = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["provision", "nothing.test", "--format", "mobileconfig"])
        .args(["--dns", lab::DNS, "--timeout", "2"])
        .output()?;
    expect_eq("nothing verified", Some(2), output.status.code())?;
    expect_eq("nothing written", 0, output.stdout.len())
}

/// The HTTPS fetcher refuses loopback and private addresses unless told the domain lives there:
/// the lab's provisioning server is on 127.0.0.23, so the same URL is refused, then fetched.
fn fetches_refuse_inside_addresses(ca: &str) -> Result<(), Failed> {
    use mailtls::engine::{Engine, EngineOptions};
    use mailtls::probe::http::{FetchError, Policy, Scheme};

    let engine = Engine::new(EngineOptions {
        dns_server: Some(lab::DNS.parse()?),
        system_roots: false,
        ca_files: vec![ca.into()],
        step_timeout: std::time::Duration::from_secs(3),
        ..EngineOptions::default()
    })?;
    let url = format!("https://autoconfig.{}/mail/config-v1.1.xml", lab::DISC_GOOD);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let fetch = |allow_inside: bool| {
        let policy = Policy {
            scheme: Scheme::Https,
            max_body: 256 * 1024,
            allow_inside,
        };
        runtime.block_on(engine.fetcher().fetch(&url, None, policy))
    };
    let refused = fetch(false);
    ensure(
        matches!(&refused, Err(f) if matches!(f.error, FetchError::PrivateAddress { .. })),
        || format!("refused without permission: {refused:?}"),
    )?;
    let fetched = fetch(true);
    ensure(
        fetched
            .as_ref()
            .is_ok_and(|f| String::from_utf8_lossy(&f.body).contains("<clientConfig")),
        || format!("fetched with permission: {fetched:?}"),
    )
}

/// `--reputation` on a mail domain examines its MX hosts: DISC_BAD's MX is MISMATCH's address,
/// which the lab's zen.bl.test lists.
fn with_reputation_follows_mx(ca: &str) -> Result<(), Failed> {
    let (status, json) = super::reputation::check_listed(ca, &format!("jane@{}", lab::DISC_BAD))?;
    expect_eq("exit status", 2, status)?;
    let reputation = &json["reputation"];
    expect_eq(
        "the MX host's address",
        Some(lab::MISMATCH.address),
        reputation["addresses"][0]["address"].as_str(),
    )?;
    ensure(json["discovery"].as_array().is_some(), || {
        "the discovery report is still there".into()
    })
}
