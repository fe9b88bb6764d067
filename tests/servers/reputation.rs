//! `mailtls reputation` and `check --reputation` against the lab: dnsmasq serves the blocklist
//! zones (a Spamhaus-style listing, a generic one, a domain list, a zone that refuses and one
//! that never answers), the PTR records, and an MX; Postfix gives the banners (GOOD says its PTR
//! name, every other address says mx.lab.test).

use libtest_mimic::Failed;
use serde_json::Value;

use super::{Test, ensure, expect_eq, lab};

pub fn tests() -> Vec<(&'static str, Test)> {
    vec![
        ("reputation_listed_address", listed_address),
        ("reputation_clean_host", clean_host),
        (
            "reputation_refused_and_silent_lists",
            refused_and_silent_lists,
        ),
        (
            "reputation_ptr_not_forward_confirmed",
            ptr_not_forward_confirmed,
        ),
        ("reputation_mail_domain_follows_mx", mail_domain_follows_mx),
        ("check_with_reputation", check_with_reputation),
        ("reputation_bad_zone_file", bad_zone_file),
    ]
}

/// Runs `mailtls reputation` with the lab's DNS and the given zone file.
fn reputation(ca: &str, zones: &str, args: &[&str]) -> (i32, String, String) {
    let zone_file = lab::zone_file(ca, zones).display().to_string();
    let mut full = vec![
        "reputation",
        "--dns",
        lab::DNS,
        "--timeout",
        "2",
        "--dnsbl",
        &zone_file,
    ];
    full.extend_from_slice(args);
    super::run_mailtls(&full)
}

fn reputation_json(ca: &str, zones: &str, host: &str) -> Result<(i32, Value), Failed> {
    let (status, stdout, stderr) = reputation(ca, zones, &[host, "--json"]);
    Ok((status, super::json_of(&stdout, &stderr)?))
}

fn listing<'a>(listings: &'a Value, zone: &str) -> Result<&'a Value, Failed> {
    listings
        .as_array()
        .and_then(|l| l.iter().find(|l| l["zone"] == zone))
        .ok_or_else(|| format!("no answer from {zone} in {listings}").into())
}

fn name_listing<'a>(json: &'a Value, name: &str, zone: &str) -> Result<&'a Value, Failed> {
    let entry = json["names"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["name"] == name))
        .ok_or_else(|| format!("{name} not asked about: {}", json["names"]))?;
    listing(&entry["listings"], zone)
}

fn fixes(json: &Value) -> String {
    json["fixes"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn listed_address(ca: &str) -> Result<(), Failed> {
    let (status, json) = reputation_json(ca, lab::ZONES, lab::MISMATCH.address)?;
    expect_eq("exit status (listed)", 2, status)?;
    expect_eq("verdict", Some("fail"), json["verdict"].as_str())?;
    let address = &json["addresses"][0];
    expect_eq(
        "address",
        Some(lab::MISMATCH.address),
        address["address"].as_str(),
    )?;
    let zen = listing(&address["listings"], "zen.bl.test")?;
    expect_eq("zen listed", Some(true), zen["listed"].as_bool())?;
    expect_eq(
        "zen code",
        "127.0.0.4",
        zen["codes"][0].as_str().unwrap_or(""),
    )?;
    let meaning = zen["meaning"].as_str().unwrap_or("");
    ensure(meaning.starts_with("XBL"), || {
        format!("Spamhaus code read by meaning: {meaning}")
    })?;
    ensure(meaning.contains("Listed in the lab XBL"), || {
        format!("TXT reason quoted: {meaning}")
    })?;
    expect_eq(
        "delist URL",
        Some("https://zen.bl.test/remove"),
        zen["delist_url"].as_str(),
    )?;
    let plain = listing(&address["listings"], "plain.bl.test")?;
    expect_eq("generic list", Some(true), plain["listed"].as_bool())?;
    let domain = name_listing(&json, lab::HOSTING_NAME, "dbl.bl.test")?;
    expect_eq(
        "PTR name on the DBL",
        Some(true),
        domain["listed"].as_bool(),
    )?;
    ensure(
        domain["meaning"].as_str().unwrap_or("").contains("DBL"),
        || format!("DBL code read: {domain}"),
    )?;
    // Reverse DNS is fine; the SMTP name is not.
    expect_eq("PTR", Some(lab::HOSTING_NAME), address["ptr"][0].as_str())?;
    expect_eq("FCrDNS", Some(true), address["fcrdns"].as_bool())?;
    expect_eq(
        "helo name",
        Some("mx.lab.test"),
        json["helo"]["name"].as_str(),
    )?;
    expect_eq(
        "helo vs PTR",
        Some(false),
        json["helo"]["matches_ptr"].as_bool(),
    )?;
    expect_eq(
        "banner",
        Some("mx.lab.test"),
        json["banner"]["name"].as_str(),
    )?;
    let fixes = fixes(&json);
    ensure(
        fixes.contains("myhostname") && fixes.contains(lab::HOSTING_NAME),
        || format!("the fix names the setting and the PTR name: {fixes}"),
    )?;
    ensure(
        json["mismatch_statement"]
            .as_str()
            .unwrap_or("")
            .contains("cannot get an address onto a blocklist"),
        || "the mismatch question is answered".into(),
    )
}

fn clean_host(ca: &str) -> Result<(), Failed> {
    let (status, json) = reputation_json(ca, lab::ZONES, lab::GOOD.name)?;
    expect_eq("exit status (clean)", 0, status)?;
    for l in json["addresses"][0]["listings"]
        .as_array()
        .into_iter()
        .flatten()
    {
        expect_eq("not listed", Some(false), l["listed"].as_bool())?;
        expect_eq("status", Some("not-listed"), l["status"].as_str())?;
    }
    let address = &json["addresses"][0];
    expect_eq("FCrDNS", Some(true), address["fcrdns"].as_bool())?;
    expect_eq(
        "PTR on the certificate",
        Some(true),
        address["ptr_on_certificate"].as_bool(),
    )?;
    expect_eq(
        "helo matches PTR",
        Some(true),
        json["helo"]["matches_ptr"].as_bool(),
    )?;
    expect_eq(
        "helo on the certificate",
        Some(true),
        json["helo"]["on_certificate"].as_bool(),
    )?;
    expect_eq("nothing to fix", "", fixes(&json).as_str())?;
    // The text report answers first, then states the mismatch point.
    let (status, text, _) = reputation(ca, lab::ZONES, &[lab::GOOD.name]);
    expect_eq("text exit status", 0, status)?;
    let first = text.lines().next().unwrap_or("");
    ensure(first.starts_with("Not listed"), || {
        format!("the answer comes first: {text}")
    })?;
    ensure(
        text.contains("cannot get an address onto a blocklist"),
        || format!("the mismatch statement is shown: {text}"),
    )
}

fn refused_and_silent_lists(ca: &str) -> Result<(), Failed> {
    let (status, json) = reputation_json(ca, lab::BROKEN_ZONES, lab::GOOD.name)?;
    expect_eq("exit status (could not check)", 3, status)?;
    expect_eq("verdict", Some("unknown"), json["verdict"].as_str())?;
    let listings = &json["addresses"][0]["listings"];
    let refused = listing(listings, "refused.bl.test")?;
    expect_eq(
        "refused is never listed",
        Value::Null,
        refused["listed"].clone(),
    )?;
    expect_eq(
        "refused status",
        Some("refused"),
        refused["status"].as_str(),
    )?;
    expect_eq(
        "refusal code kept",
        Some("127.255.255.254"),
        refused["codes"][0].as_str(),
    )?;
    let slow = listing(listings, "slow.bl.test")?;
    expect_eq("timeout is unknown", Value::Null, slow["listed"].clone())?;
    expect_eq("timeout status", Some("unknown"), slow["status"].as_str())?;
    let notes = json["notes"].to_string();
    ensure(notes.contains("--dns"), || {
        format!("the refusal note says to use your own resolver: {notes}")
    })
}

fn ptr_not_forward_confirmed(ca: &str) -> Result<(), Failed> {
    let (status, json) = reputation_json(ca, lab::ZONES, lab::PTR_MISMATCH)?;
    expect_eq("exit status (something to fix)", 1, status)?;
    let address = &json["addresses"][0];
    expect_eq(
        "PTR",
        Some(lab::PTR_MISMATCH_NAME),
        address["ptr"][0].as_str(),
    )?;
    expect_eq("FCrDNS", Some(false), address["fcrdns"].as_bool())?;
    expect_eq("no SMTP there", Value::Null, json["helo"].clone())?;
    let fixes = fixes(&json);
    ensure(fixes.contains("does not resolve back"), || {
        format!("the FCrDNS fix: {fixes}")
    })
}

fn mail_domain_follows_mx(ca: &str) -> Result<(), Failed> {
    let (status, json) = reputation_json(ca, lab::ZONES, lab::MAIL_DOMAIN)?;
    expect_eq("exit status", 0, status)?;
    let address = &json["addresses"][0];
    expect_eq(
        "MX address",
        Some(lab::GOOD.address),
        address["address"].as_str(),
    )?;
    expect_eq(
        "reached through the MX",
        Some(format!("{} (MX 10)", lab::GOOD.name).as_str()),
        address["hosts"][0].as_str(),
    )?;
    // The domain itself is asked of the domain list too.
    name_listing(&json, lab::MAIL_DOMAIN, "dbl.bl.test").map(|_| ())
}

/// `mailtls check HOST --reputation --json` with the lab's zones: the exit status and the report,
/// whose reputation part must say "listed" (the lab lists MISMATCH's address).
pub(super) fn check_listed(ca: &str, host: &str) -> Result<(i32, Value), Failed> {
    let zones = lab::zone_file(ca, lab::ZONES).display().to_string();
    let (status, json) = super::check_json(ca, host, &["--reputation", "--dnsbl", &zones])?;
    expect_eq(
        "reputation verdict",
        Some("fail"),
        json["reputation"]["verdict"].as_str(),
    )?;
    Ok((status, json))
}

fn check_with_reputation(ca: &str) -> Result<(), Failed> {
    let (status, json) = check_listed(ca, lab::MISMATCH.name)?;
    expect_eq("exit status", 2, status)?;
    let reputation = &json["reputation"];
    expect_eq(
        "port 25 reused from the check",
        Some(lab::MISMATCH.address),
        reputation["helo"]["address"].as_str(),
    )?;
    let (_, plain) = super::check_json(ca, lab::MISMATCH.name, &[])?;
    ensure(plain.get("reputation").is_none(), || {
        "no reputation object without --reputation".into()
    })
}

fn bad_zone_file(ca: &str) -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!("mailtls-zones-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("bad.zones");
    std::fs::write(&file, "ip zen.bl.test codes=weird\n")?;
    let path = file.display().to_string();
    let (status, _, stderr) = super::run_mailtls(&[
        "reputation",
        lab::GOOD.name,
        "--dns",
        lab::DNS,
        "--dnsbl",
        &path,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = ca;
    expect_eq("exit status (usage)", 64, status)?;
    expect_eq("one line", 1, stderr.lines().count())?;
    ensure(stderr.contains("line 1"), || {
        format!("the error names the line: {stderr}")
    })
}
