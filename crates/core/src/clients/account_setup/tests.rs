use super::documents::{AUTODISCOVER, ISP_URLS, STEP_ISPDB, STEP_MX, STEP_SHIPPED};
use super::*;
use crate::observation::{DocumentAnswer, Source, SourceErrorKind};

const DOMAIN: &str = "example.test";

fn server(protocol: Protocol, hostname: &str, port: u16, security: Security) -> ServerEntry {
    ServerEntry {
        protocol,
        hostname: hostname.to_string(),
        port,
        security,
    }
}

/// A clientConfig fetched from `source`, served as `content_type`, handing out `host`.
fn document(source: Source, content_type: &str, host: &str) -> Record {
    let mut record = Record::new(source, format!("{}-url", source.as_str()));
    record.answer = Some(DocumentAnswer {
        content_type: Some(content_type.to_string()),
        well_formed: true,
    });
    record.servers = vec![
        server(Protocol::Imap, host, 993, Security::Tls),
        server(Protocol::Smtp, host, 465, Security::Tls),
    ];
    record
}

fn failed(source: Source, kind: SourceErrorKind) -> Record {
    let mut record = Record::new(source, format!("{}-url", source.as_str()));
    record.fail(kind, "no");
    record
}

/// Every provisioning URL answered "nothing here", as discovery records it.
fn unpublished() -> Vec<Record> {
    [
        Source::Autoconfig,
        Source::AutoconfigWellKnown,
        Source::AutoconfigHttp,
        Source::AutoconfigWellKnownHttp,
        Source::Ispdb,
        Source::IspdbMx,
        Source::Autodiscover,
        Source::AutodiscoverDomain,
    ]
    .into_iter()
    .map(|source| failed(source, SourceErrorKind::NotPublished))
    .collect()
}

/// `records`, with "nothing here" for every other provisioning URL.
fn with(records: Vec<Record>) -> Vec<Record> {
    let mut all = records;
    for record in unpublished() {
        if !all.iter().any(|r| r.source == record.source) {
            all.push(record);
        }
    }
    all
}

fn nothing(_: &str, _: u16) -> Seen {
    Seen::NoSuchName
}

fn tls_verdict(outcome: Outcome) -> Option<ThunderbirdVerdict> {
    Some(ThunderbirdVerdict {
        outcome,
        fault: (outcome == Outcome::Warns).then_some(dialogs::Fault::WrongName),
        reason: "the certificate names luna.hosting.test".to_string(),
    })
}

/// mail.DOMAIN answers everywhere with a certificate Thunderbird warns about, offering STARTTLS.
fn wrong_certificate_on_mail(host: &str, port: u16) -> Seen {
    if host != format!("mail.{DOMAIN}") {
        return Seen::NoSuchName;
    }
    Seen::Answered(Answered {
        greeted: true,
        starttls: port != 465 && port != 993 && port != 995,
        thunderbird: if port == 25 {
            None
        } else {
            tls_verdict(Outcome::Warns)
        },
    })
}

#[test]
fn the_steps_are_where_the_model_looks_for_them() {
    assert_eq!(THUNDERBIRD[STEP_SHIPPED].source, None);
    assert_eq!(THUNDERBIRD[STEP_ISPDB].source, Some(Source::Ispdb));
    assert_eq!(THUNDERBIRD[STEP_MX].source, Some(Source::AutoconfigMx));
    assert_eq!(THUNDERBIRD[STEP_MX].also, [Source::IspdbMx]);
    assert_eq!(THUNDERBIRD[STEP_GUESS].source, Some(Source::Guess));
    for (source, _, index) in ISP_URLS {
        let step = &THUNDERBIRD[index];
        assert!(step.source == Some(source) || step.also.contains(&source));
    }
    for (source, index) in AUTODISCOVER {
        assert_eq!(THUNDERBIRD[index].source, Some(source));
    }
    assert_eq!(THUNDERBIRD.len(), STEP_GUESS + 1);
}

#[test]
fn the_guess_ranks_encrypted_imap_and_ssl_first() {
    let order: Vec<String> = guess::incoming_tries(DOMAIN)
        .iter()
        .map(|t| format!("{}:{} {}", t.hostname, t.port, t.security.as_str()))
        .collect();
    assert_eq!(
        &order[..7],
        [
            "imap.example.test:993 tls",
            "mail.example.test:993 tls",
            "example.test:993 tls",
            "imap.example.test:143 starttls",
            "mail.example.test:143 starttls",
            "example.test:143 starttls",
            "pop3.example.test:995 tls",
        ]
    );
    assert_eq!(order.len(), 21);
    assert_eq!(order[20], "example.test:110 plain");
    let order: Vec<String> = guess::outgoing_tries(DOMAIN)
        .iter()
        .map(|t| format!("{}:{} {}", t.hostname, t.port, t.security.as_str()))
        .collect();
    assert_eq!(
        &order[..5],
        [
            "smtp.example.test:465 tls",
            "mail.example.test:465 tls",
            "example.test:465 tls",
            "smtp.example.test:587 starttls",
            "smtp.example.test:25 starttls",
        ]
    );
    assert_eq!(order.len(), 15);
}

#[test]
fn a_refused_certificate_on_993_makes_the_guess_take_143_and_warn_at_login() {
    let prediction = predict(&unpublished(), DOMAIN, &wrong_certificate_on_mail);
    assert_eq!(prediction.found_by, FoundBy::Guess);
    assert_eq!(
        prediction.incoming,
        Some(server(
            Protocol::Imap,
            "mail.example.test",
            143,
            Security::Starttls
        ))
    );
    assert_eq!(
        prediction.outgoing,
        Some(server(
            Protocol::Smtp,
            "mail.example.test",
            587,
            Security::Starttls
        ))
    );
    assert!(prediction.unless.is_empty(), "{:?}", prediction.unless);
    assert_eq!(prediction.first_login.len(), 2);
    assert_eq!(prediction.first_login[0].outcome, Outcome::Warns);
    assert_eq!(
        prediction.first_login[0].dialog.map(|d| d.id),
        Some("thunderbird/add-security-exception")
    );
    let refused = prediction
        .guess
        .iter()
        .find(|t| t.server.port == 993 && t.server.hostname == "mail.example.test")
        .map(|t| t.result);
    assert_eq!(refused, Some(TryResult::Fails));
    let walked = prediction.walk.last().map(|w| w.reaction);
    assert_eq!(walked, Some(Reaction::Uses));
}

#[test]
fn a_guess_without_an_incoming_server_finds_nothing() {
    let smtp_only = |host: &str, port: u16| {
        if host == "mail.example.test" && port == 465 {
            Seen::Answered(Answered {
                greeted: true,
                starttls: false,
                thunderbird: tls_verdict(Outcome::Works),
            })
        } else {
            Seen::Silent("refused".to_string())
        }
    };
    let prediction = predict(&unpublished(), DOMAIN, &smtp_only);
    assert_eq!(prediction.found_by, FoundBy::Nothing);
    assert_eq!((prediction.incoming, prediction.outgoing), (None, None));
}

#[test]
fn an_unchecked_better_try_makes_the_choice_conditional() {
    let prediction = predict(&unpublished(), DOMAIN, &|host: &str, port: u16| {
        if host == "imap.example.test" {
            Seen::Unanswered("DNS timed out".to_string())
        } else {
            wrong_certificate_on_mail(host, port)
        }
    });
    assert_eq!(prediction.found_by, FoundBy::Guess);
    assert!(
        prediction
            .unless
            .iter()
            .any(|u| u.contains("imap.example.test:993")),
        "{:?}",
        prediction.unless
    );
}

#[test]
fn autoconfig_over_https_wins() {
    let records = vec![
        document(Source::Autoconfig, "text/xml", "mail.good.test"),
        document(Source::AutoconfigHttp, "text/xml", "mail.other.test"),
    ];
    let records = with(records);
    let prediction = predict(&records, DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::Autoconfig);
    assert_eq!(
        prediction.incoming.map(|s| s.hostname),
        Some("mail.good.test".to_string())
    );
    assert!(!guess_matters(&records, DOMAIN));
}

#[test]
fn plain_http_answers_when_https_fails() {
    let records = vec![
        failed(Source::Autoconfig, SourceErrorKind::BadCertificate),
        failed(Source::AutoconfigWellKnown, SourceErrorKind::NotPublished),
        document(
            Source::AutoconfigHttp,
            "text/xml; charset=utf-8",
            "mail.x.test",
        ),
    ];
    let prediction = predict(&with(records), DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::AutoconfigHttp);
    assert_eq!(
        prediction
            .walk
            .iter()
            .map(|w| w.reaction)
            .collect::<Vec<_>>(),
        [
            Reaction::NotAsked,
            Reaction::Skips,
            Reaction::Skips,
            Reaction::Uses
        ]
    );
}

#[test]
fn a_document_not_served_as_xml_ends_the_isp_step() {
    let records = vec![
        document(Source::Autoconfig, "text/plain", "mail.x.test"),
        document(Source::AutoconfigHttp, "text/xml", "mail.y.test"),
    ];
    let prediction = predict(&with(records), DOMAIN, &wrong_certificate_on_mail);
    assert_eq!(prediction.found_by, FoundBy::Guess);
    let http = &prediction.walk[3];
    assert_eq!(http.step.source, Some(Source::AutoconfigHttp));
    assert!(http.answer.starts_with("not read"), "{}", http.answer);
}

/// Measured (disc-malformed.test): the parser's error document comes back as the answer, so the
/// fetch succeeds and the step ends there.
#[test]
fn malformed_xml_ends_the_isp_step() {
    let mut broken = document(Source::Autoconfig, "text/xml", "mail.x.test");
    broken.servers.clear();
    broken.answer = Some(DocumentAnswer {
        content_type: Some("text/xml".to_string()),
        well_formed: false,
    });
    broken.fail(SourceErrorKind::BadDocument, "not well-formed XML");
    let records = vec![
        broken,
        document(Source::AutoconfigWellKnown, "text/xml", "mail.y.test"),
    ];
    let prediction = predict(&with(records), DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::Nothing);
    assert!(prediction.walk[2].answer.starts_with("not read"));
}

#[test]
fn a_host_name_thunderbird_refuses_makes_the_document_unusable() {
    let records = vec![document(
        Source::Autoconfig,
        "text/xml",
        "<script>alert(1)</script>",
    )];
    let prediction = predict(&with(records), DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::Nothing);
    assert!(hostname_ok("mail.example.test") && !hostname_ok("-x.test") && !hostname_ok(""));
}

#[test]
fn an_unchecked_autoconfig_is_said() {
    let records = vec![failed(Source::Autoconfig, SourceErrorKind::NotChecked)];
    assert!(guess_matters(&with(records.clone()), DOMAIN));
    let prediction = predict(&with(records), DOMAIN, &wrong_certificate_on_mail);
    assert_eq!(prediction.found_by, FoundBy::Guess);
    assert!(prediction.unless[0].starts_with("autoconfig-url answers Thunderbird"));
}

#[test]
fn autodiscover_is_read_with_thunderbirds_ports() {
    let mut record = document(Source::Autodiscover, "text/xml", "mail.ad.test");
    record.servers = vec![
        server(Protocol::Imap, "mail.ad.test", 993, Security::Starttls),
        server(Protocol::Smtp, "mail.ad.test", 587, Security::Tls),
    ];
    let prediction = predict(&with(vec![record]), DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::Autodiscover);
    assert_eq!(
        (prediction.incoming, prediction.outgoing),
        (
            Some(server(Protocol::Imap, "mail.ad.test", 993, Security::Tls)),
            Some(server(
                Protocol::Smtp,
                "mail.ad.test",
                587,
                Security::Starttls
            ))
        )
    );
}

#[test]
fn a_domain_thunderbird_ships_settings_for_is_said() {
    let prediction = predict(&unpublished(), "riseup.net", &nothing);
    assert_eq!(prediction.found_by, FoundBy::ShippedFile);
    assert_eq!(prediction.incoming, None);
}

/// A record of the ISP database (a local copy: nothing about a transfer is recorded).
fn listed(source: Source, url: &str, host: &str) -> Record {
    let mut record = document(source, "text/xml", host);
    record.url_or_record = url.to_string();
    record.answer = None;
    record
}

#[test]
fn the_isp_database_answers_after_the_domains_own_urls() {
    let records = vec![listed(
        Source::Ispdb,
        "db/example.test",
        "imap.provider.test",
    )];
    let prediction = predict(&with(records), DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::Ispdb);
    assert_eq!(prediction.from.as_deref(), Some("db/example.test"));
    assert_eq!(prediction.walk.len(), STEP_ISPDB + 1);
}

/// Unlike the domain's own URLs, each question of the MX step is read on its own: an unusable
/// answer does not end the step.
#[test]
fn the_mx_step_takes_the_first_answer_thunderbird_can_read() {
    let mut unreadable = document(Source::AutoconfigMx, "text/plain", "mail.a.test");
    unreadable.url_or_record = "autoconfig.eu.provider.test".to_string();
    let records = vec![
        unreadable,
        listed(Source::IspdbMx, "db/eu.provider.test", "imap.provider.test"),
        listed(Source::IspdbMx, "db/provider.test", "imap.other.test"),
    ];
    let prediction = predict(&with(records), DOMAIN, &nothing);
    assert_eq!(prediction.found_by, FoundBy::MxDomain);
    assert_eq!(prediction.from.as_deref(), Some("db/eu.provider.test"));
    let step = prediction.walk.last().expect("a step");
    assert_eq!(step.step.source, Some(Source::AutoconfigMx));
    assert!(
        step.answer
            .starts_with("hands out imap.provider.test:993, imap.provider.test:465"),
        "{}",
        step.answer
    );
}
