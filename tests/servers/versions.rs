//! TLS versions and weak suites against the lab: Dovecot and Postfix at TLS 1.2+ (GOOD) and TLS
//! 1.3 only (TLS13), an `openssl s_server` that speaks only TLS 1.0 with anonymous suites
//! (LEGACY's 993), Postfix with TLS 1.0 and 1.1 allowed (LEGACY's 25/587/465), and the
//! SNI-dependent Dovecot.

use libtest_mimic::Failed;
use serde_json::Value;

use super::{Test, check_json, codes, endpoint, ensure, expect_eq, lab};

pub fn tests() -> Vec<(&'static str, Test)> {
    vec![
        ("versions_tls12_and_13", tls12_and_13),
        ("versions_tls13_only", tls13_only),
        (
            "versions_legacy_only_implicit_tls",
            legacy_only_implicit_tls,
        ),
        (
            "versions_legacy_allowed_on_starttls",
            legacy_allowed_on_starttls,
        ),
        ("versions_no_versions_flag", no_versions_flag),
        (
            "versions_sni_dependent_names_clients",
            sni_dependent_names_clients,
        ),
    ]
}

/// The status of each TLS version, oldest first, as `version:status`.
fn statuses(endpoint: &Value) -> Vec<String> {
    endpoint["tls_versions"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    format!(
                        "{}:{}",
                        r["version"].as_str().unwrap_or("?"),
                        r["status"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The statuses of `endpoint`'s versions are `expected`.
fn expect_versions(what: &str, endpoint: &Value, expected: &[&str]) -> Result<(), Failed> {
    expect_eq(
        what,
        expected.to_vec(),
        statuses(endpoint)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
}

fn release<'a>(endpoint: &'a Value, name: &str) -> Result<&'a Value, Failed> {
    endpoint["tls_clients"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["release"] == name))
        .ok_or_else(|| format!("{name} not judged: {}", endpoint["tls_clients"]).into())
}

fn tls12_and_13(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::GOOD.name, &[])?;
    expect_eq("exit status", 0, status)?;
    for port in [25, 587, 465, 143, 993, 110, 995] {
        let e = endpoint(&json, port)?;
        expect_versions(
            &format!("versions on {port}"),
            e,
            &[
                "TLSv1.0:refused",
                "TLSv1.1:refused",
                "TLSv1.2:accepted",
                "TLSv1.3:accepted",
            ],
        )?;
        expect_eq(
            &format!("no weak suites on {port}"),
            Some(0),
            e["weak_ciphers"].as_array().map(Vec::len),
        )?;
    }
    let imaps = endpoint(&json, 993)?;
    // TLS 1.2 was asked with a modern offer: the suite the server chose is recorded.
    let tls12 = &imaps["tls_versions"][2];
    ensure(
        tls12["cipher"]
            .as_str()
            .unwrap_or("")
            .starts_with("TLS_ECDHE_"),
        || format!("a forward-secret suite chosen for TLS 1.2: {tls12}"),
    )?;
    expect_eq(
        "Thunderbird 78+",
        Some(true),
        release(imaps, "Thunderbird 78 and later")?["negotiates"].as_bool(),
    )?;
    expect_eq(
        "Windows XP",
        Some(false),
        release(imaps, "Outlook 2007/2010 on Windows XP")?["negotiates"].as_bool(),
    )?;
    ensure(imaps["tls_clients"].as_array().is_some(), || {
        "client ports list releases".into()
    })?;
    expect_eq(
        "port 25 lists no releases",
        Some(0),
        endpoint(&json, 25)?["tls_clients"].as_array().map(Vec::len),
    )
}

fn tls13_only(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::TLS13.name, &[])?;
    expect_eq("exit status", 0, status)?;
    for port in [587, 993, 995] {
        let e = endpoint(&json, port)?;
        expect_versions(
            &format!("versions on {port}"),
            e,
            &[
                "TLSv1.0:refused",
                "TLSv1.1:refused",
                "TLSv1.2:refused",
                "TLSv1.3:accepted",
            ],
        )?;
        expect_eq(
            &format!("Windows 10 Outlook on {port}"),
            Some(false),
            release(e, "Outlook 2016 to 2021 on Windows 10")?["negotiates"].as_bool(),
        )?;
        ensure(!codes(e).contains(&"no-tls13".to_string()), || {
            format!("TLS 1.3 is there: {:?}", codes(e))
        })?;
    }
    // The text report names the locked-out releases.
    let (_, text, _) = super::mailtls(ca, &[lab::TLS13.name]);
    ensure(
        text.contains("cannot connect: Outlook 2016 to 2021 on Windows 10"),
        || format!("text report: {text}"),
    )
}

fn legacy_only_implicit_tls(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::LEGACY.name, &["--ports", "993"])?;
    expect_eq("exit status", 2, status)?;
    let e = endpoint(&json, 993)?;
    expect_eq("result", Some("legacy-tls-only"), e["result"].as_str())?;
    expect_versions(
        "versions",
        e,
        &[
            "SSLv3:refused",
            "TLSv1.0:accepted",
            "TLSv1.1:refused",
            "TLSv1.2:refused",
            "TLSv1.3:refused",
        ],
    )?;
    // rustls could not talk to it, but the TLS 1.0 probe read the certificate.
    expect_eq(
        "chain from the TLS 1.0 probe",
        Some(lab::LEGACY.name),
        e["chain"][0]["san_dns"][0].as_str(),
    )?;
    ensure(
        !codes(e).contains(&"tls-handshake-failed".to_string()),
        || format!("the failure is explained by its cause: {:?}", codes(e)),
    )?;
    let weak = e["weak_ciphers"].to_string();
    ensure(weak.contains("anonymous"), || {
        format!("anonymous suites found: {weak}")
    })?;
    ensure(codes(e).contains(&"weak-cipher".to_string()), || {
        format!("weak-cipher reported: {:?}", codes(e))
    })?;
    let thunderbird = super::client_verdict(&json, 993, "thunderbird")?;
    expect_eq(
        "Thunderbird",
        Some("fails"),
        thunderbird["verdict"].as_str(),
    )?;
    ensure(
        thunderbird["rules"]
            .to_string()
            .contains("thunderbird/tls-1.2-minimum"),
        || format!("the TLS rule decided: {thunderbird}"),
    )?;
    // Failing or warning on TLS versions shows no certificate dialog (the certificate is fine):
    // the client cannot connect, or connects, rather than asking about a certificate.
    for client in ["thunderbird", "gnome"] {
        let verdict = super::client_verdict(&json, 993, client)?;
        ensure(verdict["verdict"] != "works", || {
            format!("{client} is held back by TLS 1.0: {verdict}")
        })?;
        ensure(verdict["dialog"].is_null(), || {
            format!("{client} shows no certificate dialog for a TLS version: {verdict}")
        })?;
    }
    ensure(
        e["problems"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|p| p["dialogs"].as_array().is_some_and(|d| d.is_empty())),
        || {
            format!(
                "no problem here names a certificate dialog: {}",
                e["problems"]
            )
        },
    )?;
    expect_eq(
        "Thunderbird 68 still works",
        Some(true),
        release(e, "Thunderbird 68 and earlier")?["negotiates"].as_bool(),
    )
}

fn legacy_allowed_on_starttls(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_json(ca, lab::LEGACY.name, &["--ports", "25,587"])?;
    expect_eq("exit status", 0, status)?;
    for port in [25, 587] {
        let e = endpoint(&json, port)?;
        expect_versions(
            &format!("versions through STARTTLS on {port}"),
            e,
            &[
                "SSLv3:refused",
                "TLSv1.0:accepted",
                "TLSv1.1:accepted",
                "TLSv1.2:accepted",
                "TLSv1.3:accepted",
            ],
        )?;
        let tls10 = &e["tls_versions"][1];
        ensure(
            tls10["cipher"].as_str().unwrap_or("").contains("CBC_SHA"),
            || format!("a TLS 1.0 suite recorded: {tls10}"),
        )?;
    }
    Ok(())
}

fn no_versions_flag(ca: &str) -> Result<(), Failed> {
    let (_, json) = check_json(ca, lab::GOOD.name, &["--ports", "993", "--no-versions"])?;
    let e = endpoint(&json, 993)?;
    // Only what the main handshake showed.
    expect_versions(
        "versions without probes",
        e,
        &[
            "TLSv1.0:unknown",
            "TLSv1.1:unknown",
            "TLSv1.2:unknown",
            "TLSv1.3:accepted",
        ],
    )?;
    expect_eq("weak not learned", Value::Null, e["weak_ciphers"].clone())?;
    let (status, json) = check_json(ca, lab::LEGACY.name, &["--ports", "993", "--no-versions"])?;
    expect_eq("exit status", 2, status)?;
    let e = endpoint(&json, 993)?;
    expect_eq(
        "unexplained failure",
        Some("tls-handshake-failed"),
        e["result"].as_str(),
    )?;
    expect_eq("nothing known", Value::Null, e["tls_versions"].clone())
}

fn sni_dependent_names_clients(ca: &str) -> Result<(), Failed> {
    let (_, json) = check_json(ca, lab::SNI.name, &["--ports", "993"])?;
    let e = endpoint(&json, 993)?;
    let message = e["problems"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["code"] == "sni-dependent"))
        .map(|p| p["message"].as_str().unwrap_or("").to_string())
        .ok_or_else(|| format!("no sni-dependent problem: {:?}", codes(e)))?;
    ensure(message.contains("Outlook 2007/2010 on Windows XP"), || {
        format!("the no-SNI clients are named: {message}")
    })
}
