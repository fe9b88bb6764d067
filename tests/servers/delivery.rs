//! Inbound delivery end to end: `mailtls check DOMAIN` against the lab's MTA-STS domains
//! (tests/lab/mta_sts.rs: dnsmasq records, a Python HTTPS policy host, the lab's Postfix on
//! port 25), the JSON validated against its schema, the text read for the section and its lead.

use std::path::Path;

use libtest_mimic::Failed;
use serde_json::Value;

use super::{ensure, expect_eq, in_lab, json_of, lab};
use lab::mta_sts;

pub fn tests() -> Vec<(&'static str, super::Test)> {
    vec![
        ("delivery_enforce_ok", enforce_ok),
        (
            "delivery_enforce_with_mismatched_mx_certificate",
            enforce_mismatch,
        ),
        ("delivery_testing_refuses_nothing", testing),
        ("delivery_wildcard_covers_one_label", deep),
        ("delivery_policy_host_down", policy_host_down),
        ("delivery_redirect_not_followed", redirect),
        (
            "delivery_answers_senders_do_not_take",
            answers_senders_do_not_take,
        ),
        ("delivery_two_records", two_records),
        ("delivery_saved_and_judged_again", saved_and_judged_again),
    ]
}

/// `check DOMAIN --json`: exit status and the report, validated.
fn check(ca: &str, domain: &str) -> Result<(i32, Value), Failed> {
    let (status, stdout, stderr) = in_lab("check", ca, &[domain, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    expect_eq(
        "a mail-domain report",
        "check-domain",
        json["kind"].as_str().unwrap_or(""),
    )?;
    Ok((status, json))
}

fn codes(inbound: &Value) -> Vec<(String, String)> {
    inbound["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or_default().to_string(),
                p["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// What `sender` does with `host`, and what with the domain's mail.
fn actions(inbound: &Value, host: &str, sender: &str) -> (String, String) {
    let at_host = inbound["mx"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["host"] == host)
        .and_then(|m| {
            m["senders"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["sender"] == sender)
        })
        .map(|s| s["action"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let overall = inbound["senders"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["sender"] == sender)
        .map(|s| s["action"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    (at_host, overall)
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

fn enforce_ok(ca: &str) -> Result<(), Failed> {
    let (_, json) = check(ca, mta_sts::ENFORCE)?;
    let inbound = &json["inbound"];
    expect_eq(
        "inbound verdict",
        "ok",
        inbound["verdict"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "state",
        "enforce",
        inbound["mta_sts"]["state"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "id",
        "20260601",
        inbound["mta_sts"]["id"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "tlsrpt",
        "valid",
        inbound["tlsrpt"]["state"].as_str().unwrap_or(""),
    )?;
    let mx = &inbound["mx"][0];
    expect_eq("the MX", lab::GOOD.name, mx["host"].as_str().unwrap_or(""))?;
    expect_eq("port 25", "tls", mx["port25"].as_str().unwrap_or(""))?;
    expect_eq(
        "certificate",
        "valid",
        mx["certificate"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "MTA-STS senders",
        pair("delivers", "delivers"),
        actions(inbound, lab::GOOD.name, "mta-sts"),
    )?;
    expect_eq(
        "no problems",
        Vec::<(String, String)>::new(),
        codes(inbound),
    )?;
    ensure(json["summary_kind"] != "inbound-refused", || {
        format!("{}", json["summary"])
    })
}

fn enforce_mismatch(ca: &str) -> Result<(), Failed> {
    let (status, json) = check(ca, mta_sts::MISMATCH)?;
    let inbound = &json["inbound"];
    let host = lab::MISMATCH.name;
    expect_eq("exit status", 2, status)?;
    expect_eq("verdict", "fail", json["verdict"].as_str().unwrap_or(""))?;
    expect_eq(
        "summary kind",
        "inbound-refused",
        json["summary_kind"].as_str().unwrap_or(""),
    )?;
    let lead = format!(
        "{} enforces MTA-STS and its MX {host} presents a certificate for {}: Gmail and \
         Microsoft 365 will not deliver to it; mail from them waits and then bounces",
        mta_sts::MISMATCH,
        lab::HOSTING_NAME
    );
    ensure(
        json["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with(&lead)),
        || format!("summary: {}", json["summary"]),
    )?;
    expect_eq(
        "problems",
        vec![
            pair("mta-sts-mx-certificate", "error"),
            pair("tlsrpt-missing", "info"),
        ],
        codes(inbound),
    )?;
    expect_eq(
        "MTA-STS senders",
        pair("defers", "defers"),
        actions(inbound, host, "mta-sts"),
    )?;
    expect_eq(
        "other senders",
        pair("delivers", "delivers"),
        actions(inbound, host, "opportunistic"),
    )?;
    expect_eq(
        "certificate",
        "wrong-name",
        inbound["mx"][0]["certificate"].as_str().unwrap_or(""),
    )?;
    ensure(
        json["fix"][0].as_str().is_some_and(|f| {
            f.starts_with(&format!("Give {host} a certificate that names {host}"))
        }),
        || format!("fix: {}", json["fix"]),
    )?;
    // The text: the lead first, then the section with each kind of sender.
    let (_, text, stderr) = in_lab("check", ca, &[mta_sts::MISMATCH]);
    ensure(text.starts_with(&lead), || format!("text:\n{text}{stderr}"))?;
    let section = text
        .split_once("Inbound mail (port 25)")
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("no inbound section:\n{text}"))?;
    ensure(
        section.contains("Gmail, Microsoft 365 (MTA-STS)")
            && section.contains("do not deliver")
            && section.contains("rfc8461#section-4.2"),
        || format!("section:\n{section}"),
    )
}

fn testing(ca: &str) -> Result<(), Failed> {
    let (_, json) = check(ca, mta_sts::TESTING)?;
    let inbound = &json["inbound"];
    let host = lab::MISMATCH.name;
    expect_eq(
        "inbound verdict",
        "warn",
        inbound["verdict"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "state",
        "testing",
        inbound["mta_sts"]["state"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "problems",
        vec![
            pair("mta-sts-mx-certificate", "warning"),
            pair("tlsrpt-invalid", "warning"),
        ],
        codes(inbound),
    )?;
    let verdict = inbound["mx"][0]["senders"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["sender"] == "mta-sts")
        .cloned()
        .unwrap_or_default();
    expect_eq(
        "delivers, would not under enforce",
        (Some("delivers"), Some("defers")),
        (verdict["action"].as_str(), verdict["if_enforced"].as_str()),
    )?;
    ensure(
        inbound["summary"]
            .as_str()
            .is_some_and(|s| s.contains("in testing mode they deliver and only send reports")),
        || format!("summary: {}", inbound["summary"]),
    )?;
    ensure(json["summary_kind"] != "inbound-refused", || {
        format!("{host}: {}", json["summary"])
    })
}

fn deep(ca: &str) -> Result<(), Failed> {
    let (_, json) = check(ca, mta_sts::DEEP)?;
    let inbound = &json["inbound"];
    expect_eq(
        "problems",
        vec![
            pair("mta-sts-mx-unlisted", "error"),
            pair("tlsrpt-missing", "info"),
        ],
        codes(inbound),
    )?;
    expect_eq(
        "patterns matched",
        Some(0),
        inbound["mx"][0]["policy_patterns"].as_array().map(Vec::len),
    )?;
    expect_eq(
        "summary kind",
        "inbound-refused",
        json["summary_kind"].as_str().unwrap_or(""),
    )
}

fn policy_host_down(ca: &str) -> Result<(), Failed> {
    let (_, json) = check(ca, mta_sts::DOWN)?;
    let inbound = &json["inbound"];
    expect_eq(
        "state",
        "policy-unavailable",
        inbound["mta_sts"]["state"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "problems",
        vec![
            pair("mta-sts-policy-unreachable", "warning"),
            pair("tlsrpt-missing", "info"),
        ],
        codes(inbound),
    )?;
    ensure(
        inbound["summary"]
            .as_str()
            .is_some_and(|s| s.contains("keep applying it until its max_age runs out")),
        || format!("summary: {}", inbound["summary"]),
    )?;
    expect_eq(
        "MTA-STS senders without a cached policy",
        pair("delivers", "delivers"),
        actions(inbound, lab::GOOD.name, "mta-sts"),
    )
}

fn redirect(ca: &str) -> Result<(), Failed> {
    let log = Path::new(ca).with_file_name("..").join("mta-sts-web.log");
    let (_, json) = check(ca, mta_sts::REDIRECT)?;
    let inbound = &json["inbound"];
    expect_eq(
        "problems",
        vec![
            pair("mta-sts-policy-answer", "warning"),
            pair("tlsrpt-missing", "info"),
        ],
        codes(inbound),
    )?;
    ensure(
        inbound["problems"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("redirect (301 to https://www.sts-redirect.test/")),
        || format!("{}", inbound["problems"][0]),
    )?;
    // Asked once, and the redirect not followed.
    let seen = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    ensure(
        seen.contains(&format!("mta-sts.{} GET", mta_sts::REDIRECT))
            && !seen.contains(&format!("www.{} GET", mta_sts::REDIRECT)),
        || format!("the policy host's log:\n{seen}"),
    )
}

fn answers_senders_do_not_take(ca: &str) -> Result<(), Failed> {
    for (domain, code, words) in [
        (mta_sts::MISSING, "mta-sts-policy-answer", "HTTP 404"),
        (
            mta_sts::HTML,
            "mta-sts-policy-answer",
            "served as text/html",
        ),
        (
            mta_sts::LARGE,
            "mta-sts-policy-answer",
            "larger than 64 KiB",
        ),
        (mta_sts::MAX_AGE, "mta-sts-policy-invalid", "31557601"),
        (
            mta_sts::BADCERT,
            "mta-sts-policy-certificate",
            "mta-sts.sts-badcert.test presents a certificate senders refuse",
        ),
    ] {
        let (_, json) = check(ca, domain)?;
        let inbound = &json["inbound"];
        let first = &inbound["problems"][0];
        expect_eq(
            domain,
            (Some(code), Some("warning")),
            (first["code"].as_str(), first["severity"].as_str()),
        )?;
        ensure(
            first["message"].as_str().is_some_and(|m| m.contains(words)),
            || format!("{domain}: {first}"),
        )?;
        expect_eq(
            "MTA-STS senders, with no policy in force",
            pair("delivers", "delivers"),
            actions(inbound, lab::GOOD.name, "mta-sts"),
        )?;
    }
    Ok(())
}

fn two_records(ca: &str) -> Result<(), Failed> {
    let (_, json) = check(ca, mta_sts::TWO_RECORDS)?;
    let inbound = &json["inbound"];
    expect_eq(
        "state",
        "record-invalid",
        inbound["mta_sts"]["state"].as_str().unwrap_or(""),
    )?;
    expect_eq(
        "first problem",
        Some("mta-sts-record-invalid"),
        inbound["problems"][0]["code"].as_str(),
    )
}

/// A saved check judges again to the same inbound section, with no network.
fn saved_and_judged_again(ca: &str) -> Result<(), Failed> {
    let dir = super::scan::scratch("delivery")?;
    let saved = dir.join("mismatch.json").display().to_string();
    let (_, first, stderr) = in_lab(
        "check",
        ca,
        &[mta_sts::MISMATCH, "--json", "--save", &saved],
    );
    let first = json_of(&first, &stderr)?;
    let (_, again, stderr) = super::run_mailtls(&["judge", &saved, "--json"]);
    let again = json_of(&again, &stderr)?;
    expect_eq(
        "the same inbound section",
        &first["inbound"],
        &again["inbound"],
    )
}
