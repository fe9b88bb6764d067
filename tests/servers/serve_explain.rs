//! `mailtls serve` on pasted words: `POST /api/v1/explanations` answers `explain --json`'s
//! output (checked against docs/schema/explain.json) for a body in UTF-8, UTF-16 or Latin-1,
//! as JSON or as plain text; bad bodies get their status and a one-line JSON error; the page's
//! box tells words from an address; explanations have their own rate per visitor.

use std::time::Instant;

use libtest_mimic::Failed;
use mailtls::diagnose::explain::MAX_TEXT;
use serde_json::Value;

use super::super::{ensure, lab, schema};
use super::{GENEROUS, Server, get, request, scratch};

/// What Thunderbird's "Add Security Exception" dialog says for the lab's hosting mismatch, as
/// a user copies it: the dialog's lines, its location field and the certificate's name from
/// its details.
fn thunderbird_dialog() -> String {
    format!(
        "Add Security Exception\n\
         You are about to override how Thunderbird identifies this site.\n\
         Legitimate banks, stores, and other public sites will not ask you to do this.\n\
         Server\n\
         Location: {}:993\n\
         Certificate Status\n\
         This site attempts to identify itself with invalid information.\n\
         Wrong Site\n\
         The certificate belongs to a different site, which could mean that someone is trying \
         to impersonate this site.\n\
         Subject Name: Common Name {}\n",
        lab::MISMATCH.name,
        lab::HOSTING_NAME
    )
}

/// iOS Mail's alert, with the typographic quotes it shows (they differ in each encoding).
fn ios_alert() -> String {
    format!(
        "Cannot Verify Server Identity\nThe identity of \u{201c}{}\u{201d} cannot be verified by \
         Mail. Review the certificate details to continue.",
        lab::MISMATCH.name
    )
}

fn utf16(text: &str, big_endian: bool, mark: bool) -> Vec<u8> {
    let mark = mark.then_some('\u{feff}');
    mark.into_iter()
        .chain(text.chars())
        .collect::<String>()
        .encode_utf16()
        .flat_map(|unit| {
            if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            }
        })
        .collect()
}

/// Windows-1252 for the characters these texts use.
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            c => u8::try_from(u32::from(c)).unwrap_or(b'?'),
        })
        .collect()
}

/// POSTs `body` as `content_type` to the API: (status, the answer as JSON, its text).
fn explain(
    server: &Server,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value, String), Failed> {
    let (status, headers, text) = request(
        "POST",
        &server.url("/api/v1/explanations"),
        Some((content_type, body)),
    )?;
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    ensure(json_type, || {
        format!("{content_type}: not JSON: {status} {text}")
    })?;
    let value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    Ok((status, value, text))
}

/// The form the page sends: `target=…`, URL-encoded.
fn form(words: &str) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("target", words)
        .finish()
        .into_bytes()
}

/// The API on a Thunderbird dialog and an iOS alert in every encoding, words it does not know,
/// a 64 KiB log, bad bodies; the page's box on words, markup and targets; the rate.
pub fn api_and_box(ca: &str) -> Result<(), Failed> {
    let dir = scratch("serve-explain")?;
    let server = Server::start(ca, "127.0.0.47", &dir, GENEROUS, &[])?;

    // The same words as JSON and as plain text: the output of explain --json, schema-checked.
    let dialog = thunderbird_dialog();
    let (status, as_json, _) = explain(
        &server,
        "application/json",
        serde_json::json!({ "text": dialog })
            .to_string()
            .into_bytes(),
    )?;
    ensure(status == 200, || format!("JSON: {status} {as_json}"))?;
    schema::validate(&as_json)?;
    ensure(as_json["kind"] == "explain", || format!("{as_json}"))?;
    ensure(
        as_json["matches"][0]["dialog"]["client"] == "thunderbird",
        || {
            format!(
                "the best match should be Thunderbird's: {}",
                as_json["matches"]
            )
        },
    )?;
    let hosts: Vec<&str> = as_json["hosts"]
        .as_array()
        .map(|h| h.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ensure(
        hosts.contains(&lab::MISMATCH.name) && hosts.contains(&lab::HOSTING_NAME),
        || format!("hosts {hosts:?}"),
    )?;
    let (status, as_text, _) = explain(&server, "text/plain", dialog.clone().into_bytes())?;
    ensure(status == 200 && as_text == as_json, || {
        format!("text/plain: {status} {as_text}")
    })?;

    // The same alert in every encoding a paste comes in: the same answer.
    let ios = ios_alert();
    let (status, expected, _) = explain(
        &server,
        "text/plain; charset=utf-8",
        ios.clone().into_bytes(),
    )?;
    ensure(
        status == 200
            && expected["matches"][0]["dialog"]["client"] == "apple-mail"
            && expected["hosts"] == serde_json::json!([lab::MISMATCH.name]),
        || format!("UTF-8: {status} {expected}"),
    )?;
    schema::validate(&expected)?;
    for (content_type, body) in [
        (
            "text/plain",
            [&b"\xEF\xBB\xBF"[..], ios.as_bytes()].concat(),
        ),
        ("text/plain", utf16(&ios, false, true)),
        ("text/plain", utf16(&ios, true, true)),
        // Naming no charset and with no mark: read as `mailtls explain` reads standard input.
        ("text/plain", utf16(&ios, false, false)),
        ("text/plain", windows_1252(&ios)),
        ("text/plain; charset=utf-16", utf16(&ios, false, false)),
        ("text/plain; charset=\"UTF-16BE\"", utf16(&ios, true, false)),
        ("text/plain; charset=ISO-8859-1", windows_1252(&ios)),
        ("text/plain; charset=windows-1252", windows_1252(&ios)),
        (
            "application/json; charset=utf-16",
            utf16(&serde_json::json!({ "text": ios }).to_string(), false, true),
        ),
    ] {
        let (status, answer, _) = explain(&server, content_type, body)?;
        ensure(status == 200 && answer == expected, || {
            format!("{content_type}: {status} {answer}")
        })?;
    }

    // Words that are not a warning: an answer, with no match, and the names still found.
    let (status, unknown, _) = explain(
        &server,
        "text/plain",
        b"The printer at mail.customer.test is out of paper".to_vec(),
    )?;
    schema::validate(&unknown)?;
    ensure(
        status == 200
            && unknown["matches"] == serde_json::json!([])
            && unknown["messages"] == serde_json::json!([])
            && unknown["hosts"] == serde_json::json!([lab::MISMATCH.name]),
        || format!("not recognised: {status} {unknown}"),
    )?;

    // Thunderbird's error-page wording: the certificate's own name is the one to use.
    let nss = format!(
        "{} uses an invalid security certificate. The certificate is only valid for {}. Error \
         code: SSL_ERROR_BAD_CERT_DOMAIN",
        lab::MISMATCH.name,
        lab::HOSTING_NAME
    );
    let (status, answer, _) = explain(&server, "text/plain", nss.clone().into_bytes())?;
    schema::validate(&answer)?;
    ensure(
        status == 200
            && answer["asked"] == lab::MISMATCH.name
            && answer["candidate"] == lab::HOSTING_NAME,
        || format!("the NSS wording: {status} {answer}"),
    )?;

    // A log of almost MAX_TEXT with the dialog in the middle: still found, in time.
    let line = "Dec  5 02:27:06 mx postfix/smtpd[4711]: connect from unknown[192.0.2.7]\n";
    let filler = line.repeat((MAX_TEXT - 8192) / 2 / line.len());
    let log = format!("{filler}{dialog}{filler}");
    let started = Instant::now();
    let (status, answer, _) = explain(&server, "text/plain", log.clone().into_bytes())?;
    let took = started.elapsed();
    ensure(
        status == 200
            && answer["matches"].as_array().is_some_and(|m| {
                m.iter()
                    .any(|m| m["dialog"]["id"] == "thunderbird/add-security-exception")
            }),
        || format!("a {} byte log: {status} {}", log.len(), answer["matches"]),
    )?;
    println!(
        "serve explain: a {} KiB paste answered in {} ms (debug build, HTTP included)",
        log.len() / 1024,
        took.as_millis()
    );

    // Bad bodies: their status and a one-line JSON error with its code, never a 500.
    let too_long = "a ".repeat(MAX_TEXT / 2 + 1);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "application/json",
            br#"{"text": ""}"#.to_vec(),
            400,
            "empty",
        ),
        ("text/plain", b" \r\n\t ".to_vec(), 400, "empty"),
        ("text/plain", Vec::new(), 400, "empty"),
        ("text/plain", too_long.clone().into_bytes(), 413, "too-long"),
        (
            "application/json",
            serde_json::json!({ "text": too_long })
                .to_string()
                .into_bytes(),
            413,
            "too-long",
        ),
        ("text/plain", vec![b'a'; 10 * 1024 * 1024], 413, "too-long"),
        (
            "text/plain",
            b"\x00\x01\x02\x03binary\x7f".to_vec(),
            400,
            "not-text",
        ),
        (
            "application/json",
            br#"{"text": "a\u0000b"}"#.to_vec(),
            400,
            "not-text",
        ),
        (
            "text/plain; charset=utf-8",
            b"caf\xe9 \xff\xfe".to_vec(),
            400,
            "not-text",
        ),
        ("text/plain", b"\xff\xfe\x3d\xd8".to_vec(), 400, "not-text"),
        (
            "text/plain; charset=utf-16",
            b"\x41\x00\x42".to_vec(),
            400,
            "not-text",
        ),
        (
            "text/plain; charset=koi8-r",
            b"words".to_vec(),
            415,
            "unsupported-charset",
        ),
        (
            "application/xml",
            b"<text>words</text>".to_vec(),
            415,
            "unsupported-media-type",
        ),
        ("", b"words".to_vec(), 415, "unsupported-media-type"),
        ("application/json", b"words".to_vec(), 400, "invalid-json"),
        (
            "application/json",
            br#"{"text": "a", "more": 1}"#.to_vec(),
            400,
            "invalid-json",
        ),
        (
            "application/json",
            br#"{"text": 42}"#.to_vec(),
            400,
            "invalid-json",
        ),
    ];
    for (content_type, body, want, code) in cases {
        let what = format!(
            "{content_type:?} body of {} bytes ({})",
            body.len(),
            String::from_utf8_lossy(&body[..body.len().min(20)])
        );
        let (status, answer, text) = if body.len() > 1024 * 1024 {
            // 10 MB: 413, or the connection closed before the body is read (both refuse it).
            match explain(&server, content_type, body) {
                Ok(answer) => answer,
                Err(_) => continue,
            }
        } else {
            explain(&server, content_type, body)?
        };
        ensure(status == want && answer["error"]["code"] == code, || {
            format!("{what}: expected {want} {code}, got {status} {text}")
        })?;
        ensure(
            !text.trim_end().contains('\n') && answer["error"]["message"].is_string(),
            || format!("{what}: not a one-line error: {text}"),
        )?;
    }
    let (status, _, _) = get(&server.url("/api/v1/explanations"))?;
    ensure(status == 405, || {
        format!("GET /api/v1/explanations: {status}")
    })?;

    // The page's box: words are explained, with a button that checks each name they carry.
    let page = |words: &str| {
        request(
            "POST",
            &server.url("/check"),
            Some(("application/x-www-form-urlencoded", form(words))),
        )
    };
    let (status, headers, html) = page(&dialog)?;
    ensure(status == 200, || {
        format!("the box with the dialog: {status} {html}")
    })?;
    ensure(
        headers.get("cache-control").and_then(|v| v.to_str().ok()) == Some("no-store"),
        || "an explanation must not be cached (the words may hold an address)".to_string(),
    )?;
    for needle in [
        "class=\"explanation recognised\"".to_string(),
        "The certificate does not name the server the client asked for.".to_string(),
        "\u{201c}Add Security Exception\u{201d}".to_string(),
        format!("name=\"target\" value=\"{}\"", lab::MISMATCH.name),
        format!("name=\"target\" value=\"{}\"", lab::HOSTING_NAME),
        // The words stay in the box, escaped.
        format!("Location: {}:993", lab::MISMATCH.name),
    ] {
        ensure(html.contains(&needle), || {
            format!("the explanation lacks {needle}")
        })?;
    }
    // The certificate's own name, when the words give it: the name to use, checked first.
    let (status, _, html) = page(&nss)?;
    for needle in [
        "id=\"candidate\"".to_string(),
        format!(
            "value=\"{0}\">Check <code>{0}</code> (the certificate\u{2019}s own name)",
            lab::HOSTING_NAME
        ),
    ] {
        ensure(status == 200 && html.contains(&needle), || {
            format!("the NSS wording in the box: {status}, no {needle}")
        })?;
    }
    let (status, _, html) = page("The printer is out of paper again")?;
    ensure(
        status == 200 && html.contains("Not recognised") && !html.contains("id=\"names\""),
        || format!("unrecognised words: {status} {html}"),
    )?;
    // Markup in the words is text on the page, in the box and on the buttons.
    let (status, _, html) = page(&format!(
        "<script>alert(1)</script> The certificate belongs to a different site, which could \
         mean that someone is trying to impersonate this site. \"><img src=x> <b>{}</b>",
        lab::MISMATCH.name
    ))?;
    ensure(
        status == 200
            && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            && html.contains(&format!("value=\"{}\"", lab::MISMATCH.name))
            && !html.contains("<script")
            && !html.contains("<img")
            && !html.contains("<b>"),
        || format!("markup in the words: {html}"),
    )?;
    // One word that is an address, a name or an IP is checked, not explained: here refused,
    // because the lab's names resolve inside.
    let address = format!("jane@{}", lab::SSRF_NAMES[1].0);
    for target in [lab::MISMATCH.name, "10.0.0.1", &address] {
        let (status, _, html) = page(&format!("  {target}\r\n"))?;
        ensure(
            status == 400 && html.contains("checks only servers on the internet"),
            || format!("{target} in the box: {status}, not refused as a target inside"),
        )?;
    }
    for (words, want, says) in [
        ("", 400, "Paste the words"),
        (" \r\n ", 400, "Paste the words"),
        ("abc\u{0}def", 400, "not text"),
        (&"x".repeat(MAX_TEXT + 1), 413, "more than 1 MiB"),
    ] {
        let (status, _, html) = page(words)?;
        ensure(status == want && html.contains(says), || {
            format!("{} bytes in the box: {status}, no {says:?}", words.len())
        })?;
    }
    // A form body too large for any text: refused, and the server is still there.
    let huge = form(&"\u{2603}".repeat(MAX_TEXT / 3 + 1));
    if let Ok((status, _, _)) = request(
        "POST",
        &server.url("/check"),
        Some(("application/x-www-form-urlencoded", huge)),
    ) {
        ensure(status == 413, || format!("a 3 MB form: {status}"))?;
    }
    let recognised = server.metric("mailtls_explanations_total{result=\"recognised\"}")?;
    ensure(recognised >= Some(17.0), || {
        format!("mailtls_explanations_total{{result=\"recognised\"}} is {recognised:?}")
    })?;
    let (status, _, _) = get(&server.url("/healthz"))?;
    ensure(status == 200, || "the server died".to_string())?;
    ensure(!server.log_text().contains("panicked"), || {
        server.log_text()
    })?;
    drop(server);

    // Per visitor, as many texts as checks, counted apart: 30 a minute is a burst of 3.
    let dir = scratch("serve-explain-rate")?;
    let server = Server::start(
        ca,
        "127.0.0.47",
        &dir,
        "[serve]\nchecks_per_minute = 30\n",
        &[],
    )?;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let (status, headers, _) = request(
            "POST",
            &server.url("/api/v1/explanations"),
            Some(("text/plain", ios.clone().into_bytes())),
        )?;
        if status == 429 {
            retry_after = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        statuses.push(status);
    }
    ensure(statuses == [200, 200, 200, 429, 429], || {
        format!("statuses {statuses:?}")
    })?;
    ensure(
        retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)),
        || "no Retry-After on 429".to_string(),
    )?;
    let (status, _, html) = request(
        "POST",
        &server.url("/check"),
        Some(("application/x-www-form-urlencoded", form(&ios))),
    )?;
    ensure(status == 429 && html.contains("Too many texts"), || {
        format!("the box past the rate: {status}")
    })?;
    // Bad bodies do not count against the visitor; checks have their own quota.
    let (status, _, _) = explain(&server, "text/plain", Vec::new())?;
    ensure(status == 400, || format!("empty past the rate: {status}"))?;
    let (status, body) = server.submit("nxdomain.test")?;
    ensure(status == 202, || {
        format!("a check after the texts' quota: {status} {body}")
    })?;
    Ok(())
}
