//! `mailtls tlsrpt`: the real binary on reports in the shapes real senders send
//! (tests/data/tlsrpt/: Google's, Microsoft's and Comcast's shapes written for example.com, and
//! real samples from parsedmarc: a Google mail, a Mail.ru report), holding the sums, the fixes
//! and the commands to what the reports say; and bad input (a 100 MB file, a gzip bomb of 1 GiB
//! of zeros made by the real gzip, not JSON, not a report, a FIFO...), each a one-line error
//! and exit 64, or a file skipped among good ones.

#[path = "common/run.rs"]
mod run;
#[path = "common/schema.rs"]
mod schema;
#[path = "common/words.rs"]
mod words;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use run::mailtls;
use serde_json::Value;
use words::assert_no_debug_text;

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tlsrpt")
        .join(name)
        .display()
        .to_string()
}

/// A directory of its own for a test, empty.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailtls-tlsrpt-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// `mailtls tlsrpt ARGS --json`, validated against the committed schema.
fn json(args: &[&str]) -> (i32, Value) {
    let mut full = vec!["tlsrpt"];
    full.extend_from_slice(args);
    full.push("--json");
    let (status, stdout, stderr) = mailtls(&full);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let value: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    schema::validate(&value).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value["exit_code"], status, "exit_code says the exit status");
    (status, value)
}

/// `mailtls tlsrpt ARGS` as text.
fn text(args: &[&str]) -> (i32, String) {
    let mut full = vec!["tlsrpt"];
    full.extend_from_slice(args);
    let (status, stdout, stderr) = mailtls(&full);
    assert_eq!(stderr, "", "{args:?}");
    assert_no_debug_text(&stdout);
    (status, stdout)
}

/// Exit 64, nothing on stdout, one line on stderr that says `expected`.
fn refused(args: &[&str], expected: &str) -> String {
    let mut full = vec!["tlsrpt"];
    full.extend_from_slice(args);
    let (status, stdout, stderr) = mailtls(&full);
    assert_eq!(status, 64, "{args:?}: {stderr}");
    assert_eq!(stdout, "", "{args:?}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("mailtls: error: "), "{stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_no_debug_text(&stderr);
    stderr
}

fn finding<'a>(output: &'a Value, host: Option<&str>, result_type: &str) -> &'a Value {
    output["findings"]
        .as_array()
        .and_then(|findings| {
            findings.iter().find(|f| {
                f["host"].as_str() == host && f["result_type"].as_str() == Some(result_type)
            })
        })
        .unwrap_or_else(|| panic!("no {result_type} finding for {host:?}: {output:#}"))
}

fn sender<'a>(output: &'a Value, organization: &str) -> &'a Value {
    output["senders"]
        .as_array()
        .and_then(|senders| {
            senders
                .iter()
                .find(|s| s["organization"].as_str() == Some(organization))
        })
        .unwrap_or_else(|| panic!("no sender {organization}: {output:#}"))
}

#[test]
fn two_days_of_reports_from_google_microsoft_and_comcast() {
    let dir = data("example.com");
    let (status, out) = json(&[&dir]);
    assert_eq!(status, 2, "senders that enforce MTA-STS did not deliver");
    assert_eq!(out["verdict"], "fail");
    assert_eq!(out["reports"], 4);
    assert_eq!(out["files"], 4);
    assert_eq!(out["start"], "2026-05-01T00:00:00Z");
    assert_eq!(out["end"], "2026-05-02T23:59:59Z");
    assert_eq!(out["domains"], serde_json::json!(["example.com"]));
    // Google 412+398, Microsoft 120+40, Comcast 55; failed: Google 37+41, Microsoft 9+3.
    assert_eq!(out["successful_sessions"], 1025);
    assert_eq!(out["failed_sessions"], 90);
    assert_eq!(out["senders_with_failures"], 2);
    assert_eq!(out["senders"].as_array().map(Vec::len), Some(3));

    let google = sender(&out, "Google Inc.");
    assert_eq!(google["reports"], 2);
    assert_eq!(google["successful_sessions"], 810);
    assert_eq!(google["failed_sessions"], 78);
    assert_eq!(google["contact"], "smtp-tls-reporting@google.com");
    let microsoft = sender(&out, "Microsoft Corporation");
    assert_eq!(
        (
            &microsoft["successful_sessions"],
            &microsoft["failed_sessions"]
        ),
        (&Value::from(160), &Value::from(12))
    );
    // Microsoft sends no mx-host: the patterns come from the policy's mx lines.
    let microsoft_sts = &microsoft["policies"][0];
    assert_eq!(microsoft_sts["policy_type"], "sts");
    assert_eq!(microsoft_sts["policy_mode"], "enforce");
    assert_eq!(
        microsoft_sts["mx_patterns"],
        serde_json::json!(["mx1.example.com", "mx2.example.com"])
    );
    let comcast = sender(&out, "Comcast");
    assert_eq!(comcast["failed_sessions"], 0);
    assert_eq!(
        comcast["policies"][0]["mx_patterns"],
        serde_json::json!(["mx2.example.com"])
    );

    let mismatch = finding(&out, Some("mx1.example.com"), "certificate-host-mismatch");
    assert_eq!(out["findings"][0], *mismatch, "the costliest first");
    assert_eq!(mismatch["sessions"], 87);
    assert_eq!(mismatch["consequence"], "not-delivered");
    assert_eq!(mismatch["policy_domain"], "example.com");
    assert_eq!(
        mismatch["senders"],
        serde_json::json!([
            {"organization": "Google Inc.", "sessions": 78},
            {"organization": "Microsoft Corporation", "sessions": 9}
        ])
    );
    assert_eq!(mismatch["receiving_ips"], serde_json::json!(["192.0.2.10"]));
    let fix = mismatch["fix"].as_str().unwrap_or_default();
    assert!(
        fix.starts_with(
            "mx1.example.com presents a certificate that does not name it; senders that \
             enforce example.com's MTA-STS policy (Gmail, Microsoft 365) do not deliver"
        ),
        "{fix}"
    );
    assert!(
        fix.contains("install a certificate naming mx1.example.com"),
        "{fix}"
    );
    assert_eq!(
        mismatch["command"],
        "mailtls check mx1.example.com --ports 25"
    );

    let tlsa = finding(&out, Some("mx2.example.com"), "tlsa-invalid");
    assert_eq!(tlsa["sessions"], 3);
    assert_eq!(tlsa["policy_type"], "tlsa");
    assert_eq!(tlsa["consequence"], "not-delivered");
    assert!(
        tlsa["fix"]
            .as_str()
            .is_some_and(|f| f.contains("_25._tcp.mx2.example.com") && f.contains("3 1 1")),
        "{tlsa}"
    );
    assert_eq!(tlsa["command"], "mailtls check example.com");
    assert_eq!(out["findings"].as_array().map(Vec::len), Some(2));
}

#[test]
fn the_text_leads_with_the_verdict_then_each_mx() {
    let (status, out) = text(&[&data("example.com")]);
    assert_eq!(status, 2);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "Problem: 2 of 3 senders report failures for example.com from 2026-05-01 to \
             2026-05-02: 87 sessions to mx1.example.com failed with certificate-host-mismatch, \
             and senders that enforce example.com's MTA-STS policy did not deliver the mail; 1 \
             more failure below."
        )
    );
    let mx1 = out.find("\nmx1.example.com\n").expect("a heading per MX");
    let mx2 = out.find("\nmx2.example.com\n").expect("a heading per MX");
    let senders = out.find("\nSenders\n").expect("the senders");
    assert!(mx1 < mx2 && mx2 < senders, "{out}");
    assert!(
        out.contains(
            "  ✗ certificate-host-mismatch: 87 sessions (Google Inc. 78, Microsoft Corporation 9)"
        ),
        "{out}"
    );
    assert!(
        out.contains("→ to confirm: mailtls check mx1.example.com --ports 25"),
        "{out}"
    );
    assert!(
        out.contains("→ to confirm: mailtls check example.com"),
        "{out}"
    );
    assert!(out.contains("Read 4 reports from 4 files."), "{out}");
    assert!(!out.contains('\u{1b}'), "no colour with NO_COLOR");
}

#[test]
fn colour_only_on_a_terminal() {
    let dir = data("example.com");
    // Not a terminal and NO_COLOR unset: no escapes.
    let output = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["tlsrpt", &dir])
        .env_remove("NO_COLOR")
        .output()
        .expect("it runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("Problem: "), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    // On a terminal (util-linux's script gives it one): the verdict in bold red, unless
    // NO_COLOR is set.
    let on_a_terminal = |no_colour: bool| {
        let mut command = Command::new("script");
        command
            .args(["-qec"])
            .arg(format!(
                "'{}' tlsrpt '{dir}'",
                env!("CARGO_BIN_EXE_mailtls")
            ))
            .arg("/dev/null")
            .env_remove("NO_COLOR");
        if no_colour {
            command.env("NO_COLOR", "1");
        }
        let output = command.output().expect("script (util-linux) runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_a_terminal(false);
    assert!(
        coloured.starts_with("\u{1b}[1m\u{1b}[31mProblem: "),
        "{coloured:?}"
    );
    let plain = on_a_terminal(true);
    assert!(plain.starts_with("Problem: "), "{plain:?}");
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
}

#[test]
fn real_reports_google_mail_mail_ru_and_a_testing_policy() {
    // Google's mail (RFC 8460 §5.3), as parsedmarc keeps it: no failure.
    let (status, out) = json(&[&data("parsedmarc/google.com_smtp_tls_report.eml")]);
    assert_eq!(status, 0);
    assert_eq!(out["verdict"], "ok");
    assert_eq!(out["successful_sessions"], 48);
    assert_eq!(out["domains"], serde_json::json!(["cardinalhealth.ca"]));
    assert_eq!(
        sender(&out, "Google Inc.")["policies"][0]["policy_type"],
        "no-policy-found"
    );
    let (_, words) = text(&[&data("parsedmarc/google.com_smtp_tls_report.eml")]);
    assert!(
        words.starts_with(
            "All good: 1 sender reports 48 sessions to cardinalhealth.ca on 2024-09-03, none failed."
        ),
        "{words}"
    );

    // Mail.ru: the policy could not be fetched; its details count 2 where its summary says 1.
    let (status, out) = json(&[&data("parsedmarc/mail.ru.json")]);
    assert_eq!(status, 1, "mail was not lost");
    assert_eq!(out["verdict"], "warn");
    assert_eq!(out["failed_sessions"], 2);
    let fetch = finding(&out, None, "sts-policy-fetch-error");
    assert_eq!(fetch["consequence"], "policy-not-applied");
    assert_eq!(
        fetch["reason_codes"],
        serde_json::json!([
            "bad https response code: 404",
            "bad https response code: 500"
        ])
    );
    assert!(
        fetch["fix"]
            .as_str()
            .is_some_and(|f| f.contains("https://mta-sts.example.com/.well-known/mta-sts.txt")),
        "{fetch}"
    );
    assert_eq!(fetch["command"], "mailtls check example.com");

    // A policy in testing mode: reported, delivered anyway.
    let (status, out) = json(&[&data("parsedmarc/smtp_tls.json")]);
    assert_eq!(status, 1);
    let failure = finding(&out, Some("example.com"), "validation-failure");
    assert_eq!(failure["sessions"], 3);
    assert_eq!(failure["policy_mode"], "testing");
    assert_eq!(failure["consequence"], "delivered-anyway");
    assert_eq!(failure["command"], "mailtls check example.com --ports 25");
}

#[test]
fn the_same_report_twice_counts_once_and_standard_input_is_read() {
    let dir = data("example.com");
    let (status, out) = json(&[&dir, &dir]);
    assert_eq!(status, 2);
    assert_eq!(
        (&out["reports"], &out["duplicates"]),
        (&Value::from(4), &Value::from(4))
    );
    assert_eq!(out["successful_sessions"], 1025);

    let gz = std::fs::read(data(
        "example.com/google.com!example.com!1777593600!1777679999!001.json.gz",
    ))
    .expect("the fixture");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["tlsrpt", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("it runs");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&gz).expect("written");
    }
    let output = child.wait_with_output().expect("it ends");
    let out: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(out["successful_sessions"], 412);
    assert_eq!(out["failed_sessions"], 37);
}

#[test]
fn a_bad_file_among_good_ones_is_skipped_and_named() {
    let dir = temp_dir("mixed");
    for name in [
        "google.com!example.com!1777593600!1777679999!001.json.gz",
        "comcast.net!example.com!1777593600!1777679999.json",
    ] {
        std::fs::copy(data(&format!("example.com/{name}")), dir.join(name)).expect("copied");
    }
    std::fs::write(dir.join("broken.json.gz"), b"not gzip at all").expect("written");
    std::fs::write(dir.join("notes.txt"), b"read me").expect("written");
    let path = dir.display().to_string();
    let (status, out) = json(&[&path]);
    assert_eq!(status, 2, "the verdict of the good ones");
    assert_eq!(
        (&out["reports"], &out["ignored"]),
        (&Value::from(2), &Value::from(1))
    );
    assert_eq!(out["skipped"][0]["reason"], "not-json");
    assert!(
        out["skipped"][0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("broken.json.gz"))
    );
    let (_, words) = text(&[&path]);
    assert!(
        words.contains("Skipped (1 file: the summary above leaves them out)"),
        "{words}"
    );
    assert!(
        words.contains("broken.json.gz: not a TLS report"),
        "{words}"
    );

    // Nothing failed, but the summary is incomplete: 3.
    std::fs::remove_file(dir.join("google.com!example.com!1777593600!1777679999!001.json.gz"))
        .expect("removed");
    let (status, out) = json(&[&path]);
    assert_eq!(status, 3);
    assert_eq!(out["verdict"], "ok");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_report_of_100_mb_is_refused_unread() {
    let dir = temp_dir("large");
    let path = dir.join("huge.json");
    {
        // A valid report, padded to 100 MB with blanks: only its size refuses it.
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("created"));
        file.write_all(br#"{"policies":[]"#).expect("written");
        let blanks = vec![b' '; 1024 * 1024];
        for _ in 0..100 {
            file.write_all(&blanks).expect("written");
        }
        file.write_all(b"}").expect("written");
    }
    assert!(std::fs::metadata(&path).expect("there").len() > 100 * 1024 * 1024);
    let started = Instant::now();
    refused(&[&path.display().to_string()], "larger than 16 MiB");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_gzip_bomb_of_1_gib_stops_at_16_mib() {
    let dir = temp_dir("bomb");
    let bomb = dir.join("google.com!example.com!1!2!001.json.gz");
    // The real gzip, as a bomb is made: 1 GiB of zeros, about 4.6 MB compressed.
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "head -c 1073741824 /dev/zero | gzip -1 > '{}'",
            bomb.display()
        ))
        .status()
        .expect("sh runs");
    assert!(made.success(), "gzip must be installed");
    let size = std::fs::metadata(&bomb).expect("made").len();
    assert!(size < 16 * 1024 * 1024, "small enough to be read: {size}");
    let started = Instant::now();
    refused(
        &[&bomb.display().to_string()],
        "decompresses to more than 16 MiB",
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_one_line_and_exit_64() {
    let dir = temp_dir("bad");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("written");
        path.display().to_string()
    };
    refused(
        &[&write("a.json", b"hello, this is not JSON")],
        "not a TLS report: neither JSON, gzip nor a mail message",
    );
    refused(
        &[&write("b.json", br#"{"feedback": {"record": []}}"#)],
        "JSON, but not an RFC 8460 TLS report: it has no \"policies\" list",
    );
    refused(
        &[&write(
            "c.json",
            br#"{"policies": [{"policy": {"policy-type": "sts"}"#,
        )],
        "not valid JSON",
    );
    let gz = std::fs::read(data(
        "example.com/google.com!example.com!1777593600!1777679999!001.json.gz",
    ))
    .expect("the fixture");
    refused(
        &[&write("d.json.gz", &gz[..gz.len() / 2])],
        "a broken gzip stream",
    );
    refused(
        &[&write(
            "e.eml",
            b"From: someone@example.com\nSubject: hello\n\nno attachment\n",
        )],
        "a mail message with no TLS report attached",
    );
    let detail = r#"{"result-type":"certificate-expired","failed-session-count":1}"#;
    let many = format!(
        r#"{{"policies":[{{"policy":{{"policy-type":"sts"}},"failure-details":[{}]}}]}}"#,
        vec![detail; 100_001].join(",")
    );
    refused(
        &[&write("f.json", many.as_bytes())],
        "more than 100000 failure details; mailtls reads at most that many per report",
    );
    refused(
        &[&dir.join("missing.json").display().to_string()],
        "no such file or directory",
    );
    refused(&["/dev/zero"], "/dev/zero: not a regular file");
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).expect("made");
    std::fs::write(empty.join("README.txt"), b"reports go here").expect("written");
    refused(&[&empty.display().to_string()], "no TLS reports in it");
    refused(
        &[
            &dir.join("a.json").display().to_string(),
            &dir.join("b.json").display().to_string(),
            &empty.display().to_string(),
        ],
        "no TLS report could be read from 3 files or directories: ",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fifo_does_not_hang() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("reports.json");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let started = Instant::now();
    refused(&[&fifo.display().to_string()], "not a regular file");
    // In a directory it is passed over, not opened.
    refused(&[&dir.display().to_string()], "no TLS reports in it");
    assert!(started.elapsed() < Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn control_characters_in_a_report_never_reach_the_output() {
    let dir = temp_dir("escapes");
    let path = dir.join("evil.json");
    std::fs::write(
        &path,
        r#"{"organization-name":"Evil\u001b]0;owned\u0007Corp","policies":[{"policy":{"policy-type":"sts","policy-string":["mode: enforce"],"policy-domain":"example.com"},"summary":{"total-failure-session-count":1},"failure-details":[{"result-type":"certificate-expired","receiving-mx-hostname":"mx\u001b[2J.example.com","failed-session-count":1}]}]}"#,
    )
    .expect("written");
    let (status, stdout, _) = mailtls(&["tlsrpt", &path.display().to_string()]);
    assert_eq!(status, 2);
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout}"
    );
    assert!(
        stdout.contains("Evil\u{fffd}]0;owned\u{fffd}Corp"),
        "{stdout}"
    );
    // A host name that is not a DNS name never stands in a command.
    let (_, out) = json(&[&path.display().to_string()]);
    assert_eq!(out["findings"][0]["command"], "mailtls check example.com");
    let _ = std::fs::remove_dir_all(&dir);
}
