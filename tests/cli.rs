//! Bad input on the command line: each a one-line error and exit 64 (usage), before any network
//! work, never a panic. (Runs without the lab: nothing here reaches a server.)

#[path = "common/run.rs"]
mod run;
#[path = "common/schema.rs"]
mod schema;
#[path = "common/words.rs"]
mod words;

use std::io::Write as _;
use std::process::{Command, Stdio};

use run::mailtls;
use words::assert_no_debug_text;

/// Runs `mailtls ARGS` with `input` on standard input.
fn mailtls_with_input(args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mailtls binary runs");
    if let Some(mut stdin) = child.stdin.take() {
        // A refusal to read it all (too long) is the point of one of the tests.
        let _ = stdin.write_all(input);
    }
    let output = child.wait_with_output().expect("it ends");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Exit 64, nothing on stdout, and an error whose first line says `expected`. Clap's own
/// errors add a usage hint after a blank line; ours are one line.
fn usage_error(args: &[&str], expected: &str) {
    let (status, stdout, stderr) = mailtls(args);
    assert_eq!(status, 64, "{args:?}: {stderr}");
    assert_eq!(stdout, "", "{args:?}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.contains(expected), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_no_debug_text(&stderr);
}

/// JSON output, validated against the committed schema of its kind.
fn validated(stdout: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    schema::validate(&json).unwrap_or_else(|e| panic!("{e}"));
    json
}

#[test]
fn addresses_that_are_not_addresses() {
    usage_error(&["check", "a@b@c"], "exactly one @");
    usage_error(&["check", "@example.com"], "nothing before the @");
    usage_error(&["check", "user@"], "no domain after the @");
    usage_error(&["check", "user@192.0.2.1"], "a name, not an IP address");
    usage_error(
        &["provision", "a@b@c", "--format", "thunderbird"],
        "exactly one @",
    );
    let (_, _, stderr) = mailtls(&["check", "a@b@c"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn options_that_do_not_parse() {
    usage_error(
        &["check", "mail.example.com", "--ports", "8080"],
        "not a mail port",
    );
    usage_error(
        &["check", "mail.example.com", "--client", "eudora"],
        "invalid value",
    );
    usage_error(
        &["check", "mail.example.com", "--dns", "dns.example"],
        "not a resolver address",
    );
    usage_error(
        &["check", "mail.example.com", "--ca-file", "/nonexistent.pem"],
        "no such file",
    );
    usage_error(
        &["check", "mail.example.com", "--timeout", "0"],
        "invalid value",
    );
    usage_error(
        &["provision", "example.com", "--format", "outlook"],
        "invalid value",
    );
    usage_error(
        &["provision", "192.0.2.1", "--format", "thunderbird"],
        "not an IP address",
    );
    usage_error(&["schema", "everything"], "no output called 'everything'");
    usage_error(&["judge", "/nonexistent.json"], "/nonexistent.json");
    usage_error(
        &[
            "check",
            "mail.example.com",
            "--save",
            "/nonexistent/dir/file.json",
        ],
        "--save /nonexistent/dir/file.json",
    );
}

/// Every command that builds an engine takes `--dnssec-anchor`, and refuses a file that is not
/// there or holds no trust anchor before any network work (or a scan's store is touched).
#[test]
fn dnssec_anchor_files_that_cannot_be_used() {
    let dir = scratch("dnssec-anchor");
    let garbage = dir.join("garbage.key");
    std::fs::write(&garbage, "; a lab root\n. IN A 127.0.0.1\n").expect("written");
    let garbage = garbage.to_string_lossy().into_owned();
    let db = dir.join("scan.sqlite");
    let db = db.to_string_lossy().into_owned();
    let commands: [&[&str]; 5] = [
        &["check", "mail.example.com"],
        &["reputation", "mail.example.com"],
        &["provision", "example.com", "--format", "thunderbird"],
        &["scan", "/nonexistent-list.txt", "--db", &db],
        &["serve", "--listen", "127.0.0.1:0", "--db", &db],
    ];
    for command in commands {
        let mut missing = command.to_vec();
        missing.extend(["--dnssec-anchor", "/nonexistent.key"]);
        usage_error(&missing, "--dnssec-anchor /nonexistent.key: no such file");
        let mut bad = command.to_vec();
        bad.extend(["--dnssec-anchor", &garbage]);
        usage_error(&bad, "line 2: only DNSKEY and DS records are trust anchors");
    }
    assert!(!std::path::Path::new(&db).exists(), "no store was made");
    std::fs::remove_dir_all(&dir).expect("removed");
}

#[test]
fn clients_and_formats_are_value_enums_with_aliases() {
    // --client takes the documented names and the old aliases, in any case.
    let (status, stdout, _) = mailtls(&["check", "--help"]);
    assert_eq!(status, 0);
    assert!(
        stdout.contains("thunderbird") && stdout.contains("apple-mail"),
        "{stdout}"
    );
    let (status, _, stderr) = mailtls(&[
        "cert",
        "verify",
        "--chain",
        "/nonexistent",
        "--name",
        "x.test",
        "--client",
        "IOS",
    ]);
    // Parsed (the alias, any case); what fails is the missing chain file.
    assert_eq!(status, 64);
    assert!(stderr.contains("/nonexistent"), "{stderr}");
}

#[test]
fn schema_prints_every_output() {
    for output in ["check", "reputation", "cert-verify", "provision", "explain"] {
        let (status, stdout, stderr) = mailtls(&["schema", output]);
        assert_eq!(status, 0, "{stderr}");
        let schema: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn explain_recognises_dialogs_from_arguments_and_standard_input() {
    let (status, stdout, stderr) = mailtls(&[
        "explain",
        "\u{201c}The name on the security certificate is invalid or does not match the name of the site\u{201d}",
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.starts_with("Recognised: Outlook"), "{stdout}");
    assert!(stdout.contains("mailtls check you@YOUR-DOMAIN"), "{stdout}");

    // Pasted from iOS, through a pipe, with line breaks: the server's name goes into the command.
    let (status, stdout, stderr) = mailtls_with_input(
        &["explain", "--json"],
        "Cannot Verify Server Identity\nThe identity of \u{201c}mail.customer.example\u{201d} cannot\nbe verified by Mail.".as_bytes(),
    );
    assert_eq!(status, 0, "{stderr}");
    let json = validated(&stdout);
    assert_eq!(
        json["matches"][0]["dialog"]["id"],
        "apple-mail/cannot-verify-server-identity"
    );
    assert_eq!(
        json["matches"][0]["mechanisms"][0]["command"],
        "mailtls check mail.customer.example"
    );
}

#[test]
fn explain_reads_error_codes_and_offers_the_certificates_own_name() {
    // Thunderbird's error page, pasted from a Windows clipboard (UTF-16 with its mark).
    let text = "mail.customer.example:993 uses an invalid security certificate.\r\nThe \
                certificate is only valid for luna.hostingco.example.\r\nError code: \
                SSL_ERROR_BAD_CERT_DOMAIN";
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let (status, stdout, stderr) = mailtls_with_input(&["explain"], &utf16);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.starts_with("Recognised: NSS"), "{stdout}");
    assert!(
        stdout.contains("The client asked for mail.customer.example; the certificate is for luna.hostingco.example."),
        "{stdout}"
    );
    assert!(
        stdout.contains("The name to use: luna.hostingco.example"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mailtls check luna.hostingco.example"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Find out: mailtls check mail.customer.example"),
        "{stdout}"
    );

    // A Java exception: the JSON carries both names and the candidate.
    let (status, stdout, stderr) = mailtls(&[
        "explain",
        "--json",
        "javax.net.ssl.SSLPeerUnverifiedException: Certificate for <imap.firma.example> doesn't \
         match any of the subject alternative names: [server123.webhost.example]",
    ]);
    assert_eq!(status, 0, "{stderr}");
    let json = validated(&stdout);
    assert_eq!(json["findings"][0], "wrong-name");
    assert_eq!(json["messages"][0]["id"], "java/peer-unverified");
    assert_eq!(json["asked"], "imap.firma.example");
    assert_eq!(json["certificate_names"][0], "server123.webhost.example");
    assert_eq!(json["candidate"], "server123.webhost.example");

    // A server's log line, not a dialog: recognised too.
    let (status, stdout, _) = mailtls(&[
        "explain",
        "postfix/smtp[123]: server certificate verification failed for \
         mx.customer.example[192.0.2.7]:25: num=20:unable to get local issuer certificate",
    ]);
    assert_eq!(status, 0);
    assert!(
        stdout.contains("The server's address: 192.0.2.7."),
        "{stdout}"
    );
}

#[test]
fn explain_refuses_what_it_cannot_read() {
    usage_error(
        &["explain", "The printer is out of paper"],
        "not recognised",
    );
    usage_error(&["explain", "   "], "nothing to explain");
    for (input, expected) in [
        (b"".to_vec(), "nothing to explain"),
        (b"\x00\x01\x02binary".to_vec(), "not text"),
        // UTF-16 with a lone surrogate.
        (vec![0xff, 0xfe, 0x00, 0xd8], "not text"),
        (vec![b'a'; 1024 * 1024 + 1], "longer than"),
    ] {
        let (status, stdout, stderr) = mailtls_with_input(&["explain"], &input);
        assert_eq!(status, 64, "{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// A directory of its own under the system's temporary directory, for one test's files.
fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mailtls-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Writes the chain (leaf then intermediates) and roots of an x509-limbo case; returns their
/// paths and the case's validation time.
fn limbo_case(id: &str, dir: &std::path::Path) -> (String, String, String) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/x509-limbo/limbo.json"
    );
    let corpus: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("corpus")).expect("JSON");
    let case = corpus["testcases"]
        .as_array()
        .expect("testcases")
        .iter()
        .find(|c| c["id"] == id)
        .expect("the case");
    let pems = |key: &str| -> String {
        case[key]
            .as_array()
            .expect(key)
            .iter()
            .filter_map(|p| p.as_str())
            .collect()
    };
    let chain = format!(
        "{}{}",
        case["peer_certificate"].as_str().expect("leaf"),
        pems("untrusted_intermediates")
    );
    let chain_path = dir.join("chain.pem");
    let roots_path = dir.join("roots.pem");
    std::fs::write(&chain_path, chain).expect("write");
    std::fs::write(&roots_path, pems("trusted_certs")).expect("write");
    (
        chain_path.display().to_string(),
        roots_path.display().to_string(),
        // The corpus's certificates are valid from 1970 to 2969; a case without a time is
        // judged now upstream.
        case["validation_time"]
            .as_str()
            .unwrap_or("2026-01-01T00:00:00+00:00")
            .replace("+00:00", "Z"),
    )
}

#[test]
fn cert_verify_revocation_lists_and_depth_that_do_not_parse() {
    let dir = scratch("crl");
    let (chain, roots, at) = limbo_case("webpki::san::exact-dns-san", &dir);
    let verify = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["cert", "verify", "--chain", &chain, "--roots", &roots]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--at".to_string(), at.clone()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let garbage = dir.join("garbage.crl");
    std::fs::write(
        &garbage,
        "-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n",
    )
    .expect("write");
    let garbage = garbage.display().to_string();
    let args = verify(&["--name", "example.com", "--crl", &garbage]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    usage_error(
        &args,
        &format!("{garbage}: block 1: not a valid X.509 revocation list"),
    );
    let (_, _, stderr) = mailtls(&args);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A certificate file that is not one: the reason in words.
    let not_a_cert = dir.join("not-a-cert.pem");
    std::fs::write(
        &not_a_cert,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let not_a_cert = not_a_cert.display().to_string();
    usage_error(
        &["cert", "verify", "--chain", &not_a_cert],
        &format!(
            "{not_a_cert}: block 1: not a valid X.509 certificate: its DER encoding is malformed"
        ),
    );

    let empty = dir.join("empty.crl");
    std::fs::write(&empty, "no list here\n").expect("write");
    let empty = empty.display().to_string();
    let args = verify(&["--crl", &empty]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    usage_error(&args, &format!("{empty}: block 1"));

    for depth in ["0", "-1"] {
        let args = verify(&["--name", "example.com", "--max-depth", depth]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        usage_error(&args, &format!("--max-depth {depth}: must be 1 or more"));
        let (_, _, stderr) = mailtls(&args);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let args = verify(&["--max-depth", "two"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    usage_error(&args, "--max-depth two: not a whole number");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cert_verify_without_a_name_judges_the_path_alone() {
    let dir = scratch("noname");
    let (chain, roots, at) = limbo_case("webpki::san::exact-dns-san", &dir);
    let base = [
        "cert", "verify", "--chain", &chain, "--roots", &roots, "--at", &at,
    ];
    let (status, stdout, stderr) = mailtls(&[&base[..], &["--json"]].concat());
    assert_eq!(status, 0, "{stdout}{stderr}");
    let json = validated(&stdout);
    assert_eq!(json["name_checked"], false);
    assert_eq!(json["name"], serde_json::Value::Null);
    assert_eq!(json["valid"], true);
    let (status, stdout, _) = mailtls(&base);
    assert_eq!(status, 0);
    assert!(stdout.contains("No name was checked"), "{stdout}");
    // With the name it was issued for, and with one it does not cover.
    let (status, stdout, _) = mailtls(&[&base[..], &["--name", "example.com", "--json"]].concat());
    assert_eq!(status, 0, "{stdout}");
    let json = validated(&stdout);
    assert_eq!(json["name_checked"], true);
    let (status, _, _) = mailtls(&[&base[..], &["--name", "other_name.example.com"]].concat());
    assert_eq!(status, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scan continues only with the options it was started with, every one that changes what is
/// observed or judged among them (`--timeout`, `--retries` and `--ehlo` too), and the refusal
/// names the option. An empty list: no network work.
#[test]
fn a_scan_continues_only_with_its_own_options() {
    let dir = std::env::temp_dir().join(format!("mailtls-cli-options-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let list = dir.join("empty.txt");
    std::fs::write(&list, "").expect("an empty list");
    let db = dir.join("scan.sqlite");
    let _ = std::fs::remove_file(&db);
    let (list, db) = (list.display().to_string(), db.display().to_string());
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", list.as_str(), "--db", db.as_str(), "--scan", "s1"];
        args.extend_from_slice(extra);
        mailtls(&args)
    };
    let (status, _, stderr) = scan(&["--timeout", "5"]);
    assert_eq!(status, 0, "{stderr}");
    for (extra, named) in [
        (&["--timeout", "6"][..], "(--timeout differs)"),
        (
            &["--timeout", "5", "--retries", "3"][..],
            "(--retries differs)",
        ),
        (
            &["--timeout", "5", "--ehlo", "probe.example"][..],
            "(--ehlo differs)",
        ),
        (&["--timeout", "5", "--no-sni"][..], "(--no-sni differs)"),
        (
            &["--timeout", "5", "--no-inbound"][..],
            "(--no-inbound differs)",
        ),
        (&["--timeout", "5", "--csv"][..], "(--csv differs)"),
        (
            &["--ports", "25", "--no-aia"][..],
            "(--ports, --no-aia, --timeout differ)",
        ),
    ] {
        let (status, stdout, stderr) = scan(extra);
        assert_eq!(status, 64, "{extra:?}: {stderr}");
        assert_eq!(stdout, "", "{extra:?}");
        assert!(
            stderr.contains("scan s1 was started with other options") && stderr.contains(named),
            "{extra:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // The same options continue it.
    let (status, _, stderr) = scan(&["--timeout", "5"]);
    assert_eq!(status, 0, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader that has gone (`mailtls ... --json | head`, the pipe closed before a byte is
/// written) is no error: the command exits with its own status and says nothing.
#[test]
fn a_closed_pipe_keeps_the_commands_status() {
    let args = ["tlsrpt", "tests/data/tlsrpt/example.com", "--json"];
    let (expected, _, _) = mailtls(&args);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("mailtls runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(expected), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
