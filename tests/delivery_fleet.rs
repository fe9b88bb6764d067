//! Issue 23, parts 5 and 6, against the delivery lab's real servers (tests/lab/delivery/: BIND
//! serving the signed case zones, Unbound validating them, one Postfix smtpd per case MX on
//! port 25, the HTTPS MTA-STS policy host); mailtls runs with `--dns` at Unbound,
//! `--dnssec-anchor` the lab root's DS and `--ca-file` the lab CA:
//!
//! - `reputation`: a domain that enforces MTA-STS with a certificate for another name "can cost
//!   mail: yes", a plain one "not today", one in testing mode "not yet"; `check --reputation`
//!   answers as its inbound section says.
//! - `scan` of a dozen case domains into SQLite and PostgreSQL: each domain's row holds its
//!   MTA-STS state, policy problems, DANE and the answer, its MX rows what senders do; `scan
//!   report` shows them in text, JSON and CSV; after the policy host changes two policies, a
//!   second scan and `scan diff` name exactly those two domains with their MTA-STS change.
//! - `serve` on that store: `/metrics` counts the newest scan's domains per MTA-STS and DANE
//!   state; a check's page answers "can they cost us mail?" and shows the inbound section, in
//!   Debian's Chromium too (tests/browser/inbound.mjs).
//!
//! A custom harness in a network of its own (tests/lab/netns.rs): the lab (without the delivery
//! lab's senders) starts once, the trials run one after the other (the policy host changes in
//! the last), and if the lab cannot start every trial fails with the reason.

mod lab;
#[path = "common/run.rs"]
mod run;
#[path = "delivery_fleet/scan.rs"]
mod scan;
#[path = "common/schema.rs"]
mod schema;
#[path = "delivery_fleet/serve.rs"]
mod serve;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};

use lab::delivery::cases::{CASES, Case};
use lab::delivery::certs::Certs;
use lab::delivery::{domain, policy_host, receivers, start_dns};

/// The lab, started once.
struct World {
    dir: PathBuf,
    resolver: String,
    anchor: String,
    ca: String,
    certs: Certs,
}

static WORLD: OnceLock<Result<World, String>> = OnceLock::new();

fn world() -> Result<&'static World, Failed> {
    match WORLD.get() {
        Some(Ok(world)) => Ok(world),
        Some(Err(error)) => Err(format!("the delivery lab did not start: {error}").into()),
        None => Err("the delivery lab was not started".into()),
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // One after the other: the last trial changes the policy host under everybody.
    args.test_threads = Some(1);
    if let Err(error) = lab::netns::enter("delivery-fleet") {
        eprintln!("delivery_fleet: {error}");
        std::process::exit(1);
    }
    let _ = WORLD.set(start(&lab::Lab::default_dir().join("delivery-fleet-test")));
    let trials = vec![
        Trial::test("reputation_of_an_enforced_mismatch_says_yes", || {
            reputation_yes()
        }),
        Trial::test("reputation_of_a_plain_domain_says_not_today", || {
            reputation_not_today()
        }),
        Trial::test("check_reputation_answers_as_the_inbound_section", || {
            check_reputation()
        }),
        Trial::test("scan_rows_report_and_csv", scan::rows),
        Trial::test("scan_into_postgres_writes_the_same_rows", scan::postgres),
        Trial::test("serve_page_metrics_and_chromium", serve::serve),
        Trial::test("scan_diff_after_two_policies_change", scan::diff),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// The DNS part, the receiving MX hosts and the policy host (no senders: mailtls is the one
/// asking here).
fn start(dir: &Path) -> Result<World, String> {
    let started = Instant::now();
    let (dns, certs) = start_dns(dir)?;
    let receiving = dir.join("receivers");
    std::fs::create_dir_all(&receiving).map_err(|e| e.to_string())?;
    receivers::start(&receiving, CASES, &certs)?;
    let policies = dir.join("policy-host");
    std::fs::create_dir_all(&policies).map_err(|e| e.to_string())?;
    policy_host::start(&policies, CASES, &certs)?;
    println!(
        "delivery lab (DNS, MX hosts, policy host) up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(World {
        dir: dir.to_path_buf(),
        resolver: dns.resolver.to_string(),
        anchor: dns.anchor_ds.display().to_string(),
        ca: certs.ca_file.display().to_string(),
        certs,
    })
}

/// What mailtls must find for one case domain.
struct Expected {
    label: &'static str,
    mta_sts: &'static str,
    policy_problems: &'static [&'static str],
    dane: &'static str,
    costs_mail: &'static str,
    /// What MTA-STS senders do with its one MX, and what DANE-validating senders do.
    senders: (&'static str, &'static str),
}

const fn expected(
    label: &'static str,
    mta_sts: &'static str,
    policy_problems: &'static [&'static str],
    dane: &'static str,
    costs_mail: &'static str,
    senders: (&'static str, &'static str),
) -> Expected {
    Expected {
        label,
        mta_sts,
        policy_problems,
        dane,
        costs_mail,
        senders,
    }
}

/// The domains scanned, in list order, with what each one's rows must hold: the case table's
/// MTA-STS and DANE, as tests/delivery.rs holds real senders to them.
const SCANNED: [Expected; 12] = [
    expected(
        "sts-enforce",
        "enforce",
        &[],
        "not-published",
        "no",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-enforce-mismatch",
        "enforce",
        &["mta-sts-mx-certificate"],
        "not-published",
        "yes",
        ("defers", "delivers"),
    ),
    expected(
        "sts-testing",
        "testing",
        &["mta-sts-mx-certificate"],
        "not-published",
        "not-yet",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-none",
        "none",
        &[],
        "not-published",
        "no",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-mx-not-listed",
        "enforce",
        &["mta-sts-mx-unlisted"],
        "not-published",
        "yes",
        ("defers", "delivers"),
    ),
    expected(
        "sts-policy-down",
        "policy-unavailable",
        &["mta-sts-policy-unreachable"],
        "not-published",
        "unknown",
        ("delivers", "delivers"),
    ),
    expected(
        "sts-two-records",
        "record-invalid",
        &["mta-sts-record-invalid"],
        "not-published",
        "unknown",
        ("delivers", "delivers"),
    ),
    expected(
        "dane-ee-311",
        "not-published",
        &[],
        "matches",
        "not-yet",
        ("delivers", "delivers"),
    ),
    expected(
        "dane-ee-mismatch",
        "not-published",
        &[],
        "no-match",
        "yes",
        ("delivers", "defers"),
    ),
    expected(
        "dane-no-tlsa",
        "not-published",
        &[],
        "not-published",
        "no",
        ("delivers", "delivers"),
    ),
    expected(
        "dane-pkix-only",
        "not-published",
        &[],
        "unusable",
        "no",
        ("delivers", "encrypts-only"),
    ),
    expected(
        "dane-insecure",
        "not-published",
        &[],
        "insecure",
        "no",
        ("delivers", "delivers"),
    ),
];

fn case(label: &str) -> Result<&'static Case, Failed> {
    CASES
        .iter()
        .find(|c| c.label == label)
        .ok_or_else(|| format!("no case {label} in the table").into())
}

/// `mailtls COMMAND` against the lab, then `args`; (exit status, stdout, stderr).
fn mailtls(world: &World, command: &str, args: &[&str]) -> (i32, String, String) {
    let mut full = vec![
        command,
        "--dns",
        &world.resolver,
        "--dnssec-anchor",
        &world.anchor,
        "--ca-file",
        &world.ca,
        "--timeout",
        "5",
    ];
    full.extend_from_slice(args);
    run::mailtls(&full)
}

fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(why().into()) }
}

fn json_of(stdout: &str, stderr: &str) -> Result<Value, Failed> {
    let json: Value = serde_json::from_str(stdout)
        .map_err(|e| format!("not JSON ({e}): {stdout}\nstderr: {stderr}"))?;
    schema::validate(&json).map_err(|e| format!("{e}: {json}"))?;
    Ok(json)
}

/// Enforce, and the MX presents a certificate for the hosting provider's name: yes, in words
/// that name both, and the reputation verdict at least warns.
fn reputation_yes() -> Result<(), Failed> {
    let world = world()?;
    let name = domain(case("sts-enforce-mismatch")?);
    let (status, stdout, stderr) = mailtls(world, "reputation", &[&name, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let costs = &json["costs_mail"];
    ensure(costs["answer"] == "yes", || format!("{costs}"))?;
    ensure(
        costs["because"] == json!(["mta-sts-enforce-refuses", "dane-not-published"]),
        || format!("{costs}"),
    )?;
    let said = format!(
        "Yes: {name} enforces MTA-STS and mx.{name}'s certificate is for luna.hosting.example: \
         Gmail and Microsoft 365 do not deliver to it; mail from them waits in their queues and \
         then bounces."
    );
    ensure(costs["summary"] == said.as_str(), || {
        format!("{}\nnot\n{said}", costs["summary"])
    })?;
    ensure(
        costs["fixes"][0]
            .as_str()
            .is_some_and(|f| f.starts_with(&format!("Give mx.{name} a certificate that names"))),
        || format!("{costs}"),
    )?;
    // No list names the lab's addresses; the answer makes the verdict a warning (exit 1).
    ensure(json["verdict"] == "warn" && status == 1, || {
        format!("exit {status}: {json}")
    })?;
    // The text report asks both questions, in this order, the answers right after.
    let (_, text, _) = mailtls(world, "reputation", &[&name]);
    let blocklisted = text.find("Can certificate warnings get us blocklisted? No.");
    let costs = text.find("Can they cost us mail? Yes:");
    ensure(
        blocklisted.is_some() && costs.is_some() && blocklisted < costs,
        || text.clone(),
    )
}

/// No MTA-STS, a signed zone without TLSA records: not today, whatever the certificate.
fn reputation_not_today() -> Result<(), Failed> {
    let world = world()?;
    let name = domain(case("dane-no-tlsa")?);
    let (status, stdout, stderr) = mailtls(world, "reputation", &[&name, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let costs = &json["costs_mail"];
    ensure(
        costs
            == &json!({
                "answer": "no",
                "because": ["mta-sts-not-published", "dane-not-published"],
                "summary": format!(
                    "Not today: {name} has no MTA-STS policy in enforce mode and no DANE \
                     records; senders deliver whatever the certificate."
                ),
                "fixes": []
            }),
        || format!("exit {status}: {costs}"),
    )?;
    // Testing mode: not yet.
    let name = domain(case("sts-testing")?);
    let (_, stdout, stderr) = mailtls(world, "reputation", &[&name, "--json"]);
    let json = json_of(&stdout, &stderr)?;
    let summary = json["costs_mail"]["summary"].as_str().unwrap_or_default();
    ensure(
        json["costs_mail"]["answer"] == "not-yet"
            && summary.starts_with(&format!(
                "Not yet: {name} tests MTA-STS (mode testing) and mx.{name}'s certificate is for \
                 luna.hosting.example: Gmail and Microsoft 365 deliver and only report it; once \
                 the policy is in enforce mode, they would not deliver to it."
            )),
        || format!("{}", json["costs_mail"]),
    )
}

/// `check --reputation` of an address: the reputation's answer is the one the inbound section
/// leads to, from the same observations.
fn check_reputation() -> Result<(), Failed> {
    let world = world()?;
    for label in ["sts-enforce-mismatch", "sts-testing", "dane-ee-mismatch"] {
        let name = domain(case(label)?);
        let address = format!("user@{name}");
        let (_, stdout, stderr) = mailtls(world, "check", &[&address, "--reputation", "--json"]);
        let json = json_of(&stdout, &stderr)?;
        let expected = SCANNED
            .iter()
            .find(|e| e.label == label)
            .ok_or("not in SCANNED")?;
        let costs = &json["reputation"]["costs_mail"];
        ensure(costs["answer"] == expected.costs_mail, || {
            format!("{label}: {costs}")
        })?;
        ensure(
            json["inbound"]["mta_sts"]["state"] == expected.mta_sts,
            || format!("{label}: {}", json["inbound"]["mta_sts"]),
        )?;
        let fixes = json["inbound"]["fix"].clone();
        ensure(costs["fixes"] == fixes, || {
            format!("{label}: {costs} against {fixes}")
        })?;
    }
    Ok(())
}
