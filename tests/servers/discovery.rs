//! Discovery from an address or a mail domain against the lab: dnsmasq serves SRV and MX
//! records, a real HTTPS server (tests/lab/provisioning_server.py, certificate from the lab CA)
//! serves autoconfig and autodiscover documents, and the servers handed out are the lab's real
//! Dovecot and Postfix.

use std::process::Command;

use libtest_mimic::Failed;
use serde_json::Value;

use super::{Test, check_json, ensure, expect_eq, lab};

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
    ]
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
    ensure(detail.contains("certificate"), || {
        format!("bad HTTPS certificate reported: {}", json["discovery"])
    })?;
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
    use mailtls::analyze::chain::TrustAnchors;
    use mailtls::discover::dns::Dns;
    use mailtls::probe::https::{FetchError, Fetcher, Request};

    let mut anchors = TrustAnchors::default();
    anchors.add_pem_file(std::path::Path::new(ca))?;
    let dns = Dns::server(lab::DNS.parse()?, std::time::Duration::from_secs(3));
    let request = Request {
        url: format!("https://autoconfig.{}/mail/config-v1.1.xml", lab::DISC_GOOD),
        body: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let fetch = |allow_private: bool| {
        let fetcher = Fetcher::new(
            dns.clone(),
            anchors.root_store(),
            allow_private,
            std::time::Duration::from_secs(3),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(runtime.block_on(fetcher.fetch(&request)))
    };
    let refused = fetch(false)?;
    ensure(
        matches!(refused, Err(FetchError::PrivateAddress(_))),
        || format!("refused without permission: {refused:?}"),
    )?;
    let fetched = fetch(true)?;
    ensure(
        fetched.as_ref().is_ok_and(|t| t.contains("<clientConfig")),
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
