//! The support-desk pages, rendered on the server (maud: every value is HTML-escaped unless
//! marked otherwise, and nothing here marks a value from a server, a certificate or a visitor).
//! No JavaScript, no external CDN or font: a pending result refreshes itself with a meta tag.
//! Pasted words are escaped like everything else, in the box and wherever a name from them
//! appears.

use maud::{DOCTYPE, Markup, html};

use super::inbound::{CostsLine, InboundMx, InboundSection};
use super::model::PageModel;
use mailtls_core::analyze::dane::DaneState;
use mailtls_core::clients::Client;
use mailtls_core::diagnose::Verdict;
use mailtls_core::diagnose::delivery::{
    CertificateVerdict, MtaStsState, Port25, SenderAction, SenderKind, TlsRptState,
};
use mailtls_core::diagnose::explain::Explanation;
use mailtls_core::report::text::describe_when;
use mailtls_core::report::wire::explain::output;

/// The style sheet, also served at `/static/mailtls.css`.
pub const CSS: &str = include_str!("mailtls.css");

/// The head of every page; `refresh`: reload every so many seconds.
fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(seconds) = refresh {
                meta http-equiv="refresh" content=(seconds);
            }
            title { (title) " · mailtls" }
            link rel="stylesheet" href="/static/mailtls.css";
        }
    }
}

/// A whole page around `body`.
pub fn layout(title: &str, refresh: Option<u32>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, refresh))
            body {
                header.top { a href="/" { "mailtls" } span { " · why does my mail app warn about the certificate?" } }
                main { (body) }
                footer { "mailtls " (env!("CARGO_PKG_VERSION")) " · " a href="/api/v1/openapi.json" { "API" } " · " a href="/fleet" { "fleet" } }
            }
        }
    }
}

/// The box: the words of a warning, an e-mail address or a server name, sent with POST to
/// `/check`, which tells them apart. A text area, not a one-line field: a one-line field drops
/// the line breaks of a pasted warning and glues a name to the next line's first word.
pub fn form(value: &str) -> Markup {
    form_with(value, false)
}

fn form_with(value: &str, autofocus: bool) -> Markup {
    html! {
        form.check action="/check" method="post" accept-charset="utf-8" {
            label for="target" { "Paste the warning your mail app shows, or type your e-mail address or mail server's name" }
            textarea #target name="target" rows="4" required autofocus[autofocus]
                placeholder="jane@example.com, mail.example.com, or the words of the warning"
                autocapitalize="none" spellcheck="false" { (value) }
            div.row { button type="submit" { "Check" } }
        }
    }
}

/// The front page.
pub fn index() -> Markup {
    layout(
        "Check a mail server's certificate",
        None,
        html! {
            h1 { "Does your mail app say the certificate does not match the server?" }
            p { "Thunderbird, Outlook and the iPhone's Mail warn when the server's certificate is made out to another name. Paste the warning's words, or type the address or server below: you get what is wrong and exactly what to change, per mail app." }
            (form(""))
        },
    )
}

/// Pasted words, explained: what they say is wrong (the verdict, in words), what was recognised
/// in them (error messages, dialogs), the names they carry, the certificate's own name to use
/// when they give it, a button that checks each name, the causes most likely first, and the box
/// with the words. Words that are not recognised are said to be, with the box offered empty to
/// type an address or a server name instead. Built from `explain --json`'s output, so what the
/// page says is what the API and the command say.
pub fn explanation(text: &str, explained: &Explanation) -> Markup {
    let out = output(explained);
    // The names to check: the certificate's own name first (the one to use), then the name
    // asked for, then every other name and address, each once.
    let mut names: Vec<&str> = Vec::new();
    for name in out
        .candidate
        .iter()
        .chain(out.asked.iter())
        .chain(out.hosts.iter())
        .chain(out.addresses.iter())
    {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let checks = html! {
        @if !names.is_empty() {
            form #names.names action="/check" method="get" {
                h2 { "Check the server now" }
                @if names.len() == 1 {
                    p { "Your text names it; one click checks it and says what to change:" }
                } @else {
                    p { "Your text names these; one click checks one and says what to change:" }
                }
                @for name in &names {
                    @if out.candidate.as_deref() == Some(*name) {
                        button.candidate type="submit" name="target" value=(name) {
                            "Check " code { (name) } " (the certificate\u{2019}s own name)"
                        }
                    } @else {
                        button type="submit" name="target" value=(name) { "Check " code { (name) } }
                    }
                }
            }
        }
    };
    let headline = out
        .findings
        .first()
        .map(|finding| capitalised(finding.describe()));
    let body = html! {
        @if explained.recognised() {
            section #explanation.explanation.recognised {
                p.word { "Recognised" }
                h1 {
                    @if let Some(headline) = &headline { (headline) "." }
                    @else if let Some(found) = out.matches.first() {
                        (found.dialog.client.name()) ": \u{201c}" (found.dialog.title) "\u{201d}"
                    }
                }
                ul.recognised-items {
                    @for message in &out.messages {
                        li { strong { (message.producer.name()) } ": " code { (message.matched) } }
                    }
                    @for found in &out.matches {
                        li {
                            strong { (found.dialog.client.name()) } ": \u{201c}" (found.dialog.title) "\u{201d}"
                            blockquote { (found.dialog.line) }
                            span.note { (found.dialog.client.name()) " shows it " (describe_when(found.dialog.when)) "." }
                        }
                    }
                }
                @match (&out.asked, out.certificate_names.as_slice()) {
                    (Some(asked), []) => { p.facts { "The mail app asked for " code { (asked) } "." } }
                    (Some(asked), certificate) => {
                        p.facts { "The mail app asked for " code { (asked) } "; the certificate is for " (names_list(certificate)) "." }
                    }
                    (None, []) => {}
                    (None, certificate) => { p.facts { "The certificate is for " (names_list(certificate)) "." } }
                }
                @if let Some(address) = out.server_address.as_ref().filter(|a| out.asked.as_ref() != Some(*a)) {
                    p.facts { "The server\u{2019}s address: " code { (address) } "." }
                }
                @if let Some(cause) = out.mechanisms.first() {
                    p.likely { strong { "Most likely: " } (cause.description) }
                }
            }
            @if let Some(candidate) = &out.candidate {
                section #candidate.candidate {
                    h2 { "The name to use: " code.verified-name { (candidate) } }
                    p { "It is the certificate\u{2019}s own name. Check that it works on every port (the button below), then set it as the incoming and outgoing server in the account, and in the provisioning if the account was set up automatically." }
                }
            }
            (checks)
            section #causes {
                h2 { "What causes it, most likely first" }
                ol { @for cause in &out.mechanisms { li { (cause.description) } } }
            }
        } @else {
            section #explanation.explanation.not-recognised {
                p.word { "Not recognised" }
                h1 { "These words are not a warning mailtls knows" }
                p { "They hold none of the certificate errors mailtls knows: the warnings of " (known_clients()) ", the errors of TLS libraries and the lines of mail server logs. Check the server instead: type your e-mail address or your mail server\u{2019}s name in the box below." }
            }
            (checks)
        }
    };
    layout(
        "What the warning means",
        None,
        html! {
            (body)
            @if explained.recognised() { (form(text)) } @else { (form_with("", true)) }
        },
    )
}

/// Names as code, joined with commas.
fn names_list(names: &[String]) -> Markup {
    html! {
        @for (index, name) in names.iter().enumerate() {
            @if index > 0 { ", " }
            code { (name) }
        }
    }
}

/// `words` with a capital first letter.
fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The clients whose warnings `explain` knows, in words.
fn known_clients() -> String {
    let names: Vec<&str> = Client::ALL.iter().map(|c| c.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// A check still running: refreshes itself every two seconds.
pub fn pending(target: &str) -> Markup {
    layout(
        "Checking",
        Some(2),
        html! {
            p #state.state { "Checking " strong { (target) } "… this takes up to a minute. This page refreshes by itself." }
        },
    )
}

/// A check that could not run.
pub fn failed(id: &str, target: &str, message: &str) -> Markup {
    layout(
        "Could not check",
        None,
        html! {
            section #verdict.verdict.verdict-unknown {
                p.word { "Could not check" }
                h1 { (target) }
                p { (message) }
            }
            (links(id, "just now"))
            (form(target))
        },
    )
}

/// A refusal or an error, with the form to try again.
pub fn message(title: &str, text: &str, value: &str) -> Markup {
    layout(
        title,
        None,
        html! {
            section #message.message { h1 { (title) } p { (text) } }
            (form(value))
        },
    )
}

/// A finished check; `print` drops the form and the folding for a ticket.
pub fn result(id: &str, page: &PageModel, print: bool) -> Markup {
    let word = match page.verdict {
        Verdict::Ok => "All good",
        Verdict::Warn => "Warning",
        Verdict::Fail => "Problem",
        Verdict::Unknown => "Could not check",
    };
    let body = html! {
        section #verdict class={ "verdict verdict-" (page.verdict) } {
            p.word { (word) }
            h1 { (page.summary) }
            p.target { "Checked: " code { (page.target) } }
        }
        section #fix {
            h2 { "What to change" }
            @if page.fix.is_empty() {
                p { "Nothing: keep the settings as they are." }
            } @else {
                ol { @for line in &page.fix { li { (line) } } }
            }
            @if let Some(name) = &page.verified_name {
                p.verified { "Server name verified to work: " code.verified-name { (name) } }
            }
            @for client in &page.instructions {
                h3 { (client.client) }
                ul.fields { @for line in &client.lines { li { (line) } } }
            }
            @if let Some(reason) = &page.verified_reason { p.note { (reason) } }
        }
        section #clients {
            h2 { "What each mail app does now" }
            @if page.clients.is_empty() {
                p { "No mail app could connect to a port that offers TLS." }
            } @else {
                table {
                    thead { tr { th { "Mail app" } th { "Today" } th { "What it shows" } } }
                    tbody {
                        @for client in &page.clients {
                            tr class={ "outcome-" (client.verdict) } {
                                td { (client.client) }
                                td { (client.verdict) }
                                td { (client.dialog.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        section #blocklist {
            h2 { "Can these warnings get our address blocklisted?" }
            p { strong { "No. " } (page.blocklist) }
            h2 { "Can they cost us mail?" }
            @match &page.costs_mail {
                Some(costs) => p #costs-mail class={ "costs costs-" (costs.answer) } data-because=(because(costs)) { (costs.summary) },
                None => p #costs-mail.costs { "Only where the mail domain enforces MTA-STS or publishes DANE records for its MX hosts: check the e-mail address (or the domain) to see whether it does." },
            }
        }
        @if let Some(inbound) = &page.inbound { (inbound_section(inbound, &page.fix)) }
        @if print {
            section #details { h2 { "Details" } pre { (page.details) } }
        } @else {
            details #details {
                summary { "Details: every port, certificate and source that was checked" }
                pre { (page.details) }
            }
        }
        (links(id, &page.checked_at))
    };
    if print {
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(&page.target, None))
                body.print { main { (body) } }
            }
        }
    } else {
        layout(&page.target, None, html! { (body) (form(&page.target)) })
    }
}

/// The reasons of an answer, by code, for programs (and tests) reading the page.
fn because(costs: &CostsLine) -> String {
    costs
        .because
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What sending servers do with the domain's mail: the answer, MTA-STS, DANE and TLS-RPT, then
/// per MX what each kind of sender does, then the fixes that `listed` (what to change at the top
/// of the page) does not hold already.
fn inbound_section(inbound: &InboundSection, listed: &[String]) -> Markup {
    let fixes: Vec<&String> = inbound
        .fixes
        .iter()
        .filter(|fix| !listed.contains(fix))
        .collect();
    html! {
        section #inbound class={ "inbound verdict-" (inbound.verdict) } {
            h2 { "Mail to this domain: what sending servers do (port 25)" }
            p.summary { (inbound.summary) }
            ul.inbound-facts {
                li #inbound-mta-sts data-state=(inbound.mta_sts) {
                    "MTA-STS: " strong { (sts_words(inbound.mta_sts)) }
                    @if let Some(url) = &inbound.policy_url { " (" code { (url) } ")" }
                }
                li #inbound-dane data-state=(inbound.dane.map_or("none", |d| d.as_str())) {
                    "DANE: " strong { (inbound.dane.map_or("no MX host", dane_words)) }
                }
                li #inbound-tlsrpt data-state=(inbound.tlsrpt) {
                    "TLS reports (TLS-RPT): " strong { (tlsrpt_words(inbound.tlsrpt)) }
                }
            }
            @for mx in &inbound.mx {
                div.inbound-mx data-host=(mx.host) {
                    h3 { "MX " code { (mx.host) } }
                    ul {
                        li { "Port 25: " (port25_words(mx)) }
                        li data-dane=(mx.dane) { "DANE: " (dane_words(mx.dane)) }
                        @for (kind, action) in &mx.senders {
                            li class={ "action-" (action) } data-sender=(kind) data-action=(action) {
                                (sender_words(*kind)) ": " strong { (action_words(*action)) }
                            }
                        }
                    }
                }
            }
            @if !fixes.is_empty() {
                h3 { "What to change" }
                ol { @for fix in &fixes { li { (fix) } } }
            }
        }
    }
}

fn sts_words(state: MtaStsState) -> &'static str {
    match state {
        MtaStsState::Enforce => "enforce (senders that honour it refuse an MX that fails it)",
        MtaStsState::Testing => "testing (senders deliver and report what enforce would refuse)",
        MtaStsState::None => "mode none (senders check nothing)",
        MtaStsState::NotPublished => "not published",
        MtaStsState::RecordInvalid => "the _mta-sts record is invalid: senders see no policy",
        MtaStsState::PolicyUnavailable => "the policy cannot be fetched",
        MtaStsState::PolicyInvalid => "the policy is invalid",
        MtaStsState::NotChecked => "not checked (DNS did not answer)",
    }
}

fn dane_words(state: DaneState) -> &'static str {
    match state {
        DaneState::NotPublished => "no TLSA records",
        DaneState::Insecure => "not in force (unsigned zone)",
        DaneState::Matches => "the TLSA records match",
        DaneState::NoMatch => "no TLSA record matches the certificate",
        DaneState::Unusable => "TLSA records none of which is usable for SMTP",
        DaneState::Bogus => "DNSSEC validation fails",
        DaneState::Unknown => "not known",
    }
}

fn tlsrpt_words(state: TlsRptState) -> &'static str {
    match state {
        TlsRptState::NotPublished => "not published: failures are reported to nobody",
        TlsRptState::Valid => "published",
        TlsRptState::Invalid => "the _smtp._tls record is invalid",
        TlsRptState::NotChecked => "not checked",
    }
}

fn port25_words(mx: &InboundMx) -> String {
    let state = match mx.port25 {
        Port25::Tls => "STARTTLS",
        Port25::NoStarttls => "no STARTTLS",
        Port25::TlsFailed => "the TLS handshake fails",
        Port25::Unreachable => "did not answer from here",
        Port25::RateLimited => "turned the check away as busy",
        Port25::NotChecked => "not checked",
    };
    match (mx.certificate, &mx.certificate_fault) {
        (Some(CertificateVerdict::Valid), _) => {
            format!("{state}, a certificate valid for its name")
        }
        (Some(_), Some(fault)) => format!("{state}; it {fault}"),
        _ => state.to_string(),
    }
}

fn sender_words(kind: SenderKind) -> &'static str {
    match kind {
        SenderKind::MtaSts => "Gmail and Microsoft 365 (MTA-STS)",
        SenderKind::Dane => "Senders that validate DANE",
        SenderKind::Opportunistic => "Other senders",
    }
}

fn action_words(action: SenderAction) -> &'static str {
    match action {
        SenderAction::Delivers => "deliver",
        SenderAction::EncryptsOnly => "deliver over TLS without checking the certificate",
        SenderAction::Defers => "do not deliver there",
        SenderAction::Unknown => "not known",
    }
}

fn links(id: &str, at: &str) -> Markup {
    html! {
        p.links {
            a #permalink href={ "/r/" (id) } { "Permanent link to this result" }
            " · "
            a #print href={ "/r/" (id) "/print" } { "Print view" }
            " · checked " (at)
        }
    }
}

/// An SVG bar chart drawn on the server: one bar per (label, count), longest first.
pub fn bar_chart(id: &str, title: &str, bars: &[(String, u64)]) -> Markup {
    const ROW: usize = 26;
    const WIDTH: f64 = 640.0;
    const LABEL: f64 = 330.0;
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
    let height = bars.len().max(1) * ROW + 8;
    html! {
        svg id=(id) role="img" aria-label=(title) viewBox={ "0 0 " (WIDTH) " " (height) }
            xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet" {
            title { (title) }
            @for (i, (label, count)) in bars.iter().enumerate() {
                @let y = i * ROW + 4;
                @let width = ((WIDTH - LABEL - 60.0) * (*count as f64) / max).max(2.0);
                text x=(LABEL - 8.0) y=(y + 17) text-anchor="end" font-size="13" { (label) }
                rect x=(LABEL) y=(y + 3) width=(format!("{width:.1}")) height="18" rx="3" class="bar" {}
                text x=(LABEL + width + 6.0) y=(y + 17) font-size="13" { (count) }
            }
        }
    }
}
