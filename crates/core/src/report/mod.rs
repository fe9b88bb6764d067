//! Reports: the human text of every command and its JSON ([`wire`]), built from the values the
//! commands return. Text leads with the verdict and the fix; styles are ANSI escapes that the
//! caller's stream strips off a terminal and under `NO_COLOR`.

pub mod delivery;
pub mod discovery;
pub mod explain;
pub mod instructions;
pub mod reputation;
pub mod style;
pub mod text;
pub mod tlsrpt;
pub mod verify;
pub mod wire;

use crate::diagnose::summary::SummaryKind;
use crate::diagnose::{Code, Diagnosis, Verdict, port_list};
use crate::run::check::{CheckReport, Checked};
use crate::target::Target;

/// The text of `check`: the host or mail-domain report, and with reputation its part.
pub fn check(report: &CheckReport) -> String {
    let mut text = match &report.checked {
        Checked::Host(host) => text::render(&host.diagnosis),
        Checked::Domain(domain) => discovery::render(&domain.report),
    };
    if let Some(reputation) = &report.reputation {
        text.push_str("\nReputation\n");
        text.push_str(&reputation::render(&reputation.judged));
    }
    text
}

/// The one-line verdict that opens both reports: the claim [`Diagnosis::summary_kind`] decides,
/// in words.
pub fn summary(diagnosis: &Diagnosis) -> String {
    let target = &diagnosis.target;
    let recommended = diagnosis.recommendation.as_ref();
    let verdict_word = if diagnosis.verdict == Verdict::Fail {
        "Problem"
    } else {
        "Warning"
    };
    match diagnosis.summary_kind() {
        SummaryKind::RateLimited => format!(
            "Could not check {target}: every mail port that answered on {} turned us away as \
             busy or did not greet in time (rate-limited); not a TLS problem.",
            address_list(diagnosis)
        ),
        SummaryKind::NoAnswer => format!(
            "Could not check {target}: no mail port answered on {}.",
            address_list(diagnosis)
        ),
        SummaryKind::AllGood => match recommended {
            Some(r) => format!("All good: {}", r.reason),
            None => format!("No problems found on {target}."),
        },
        SummaryKind::ProblemsToFix => {
            let faults = diagnosis.to_fix();
            let listed: Vec<String> = faults
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}) {}", i + 1, first_sentence(&p.message).trim_end()))
                .collect();
            format!(
                "Problem: {} things to fix, in this order. {}",
                count_word(faults.len()),
                listed.join(" ")
            )
        }
        SummaryKind::UseOtherName => match recommended {
            Some(r) => format!(
                "{verdict_word}: the certificate does not cover {target}; use {} instead (verified on {}).",
                r.server_name,
                port_list(&r.verified_ports)
            ),
            None => headline_sentence(diagnosis, verdict_word),
        },
        _ => headline_sentence(diagnosis, verdict_word),
    }
}

/// "Problem (code): the headline's first sentence."
fn headline_sentence(diagnosis: &Diagnosis, verdict_word: &str) -> String {
    match &diagnosis.headline {
        Some(h) => format!(
            "{verdict_word} ({}): {}",
            h.code.as_str(),
            first_sentence(&h.message)
        ),
        None => format!("{verdict_word} on {}.", diagnosis.target),
    }
}

/// What to do, in order, as short imperative lines.
pub fn fix(diagnosis: &Diagnosis) -> Vec<String> {
    let mut steps = Vec::new();
    let target = &diagnosis.target;
    if let Some(r) = &diagnosis.recommendation {
        if Some(r.server_name.as_str()) != target.dns_name() {
            steps.push(format!(
                "Set the incoming and outgoing server name to {} instead of {target} (see \"What to change\").",
                r.server_name
            ));
            if let Target::Dns(name) = target {
                steps.push(format!(
                    "Or, if users must keep {name}, add {name} to the server's certificate (subjectAltName) on every service."
                ));
            }
        }
    }
    // Every fault, in the order to fix them; a name problem the recommendation settles is said
    // by it above.
    let renamed = diagnosis
        .recommendation
        .as_ref()
        .is_some_and(|r| Some(r.server_name.as_str()) != target.dns_name());
    let faults = diagnosis.errors_in_fix_order();
    let mut listed: Vec<&str> = Vec::new();
    for problem in &faults {
        if renamed && matches!(problem.code, Code::NameMismatch | Code::IpAddressUsed) {
            continue;
        }
        if !listed.contains(&problem.message.as_str()) {
            listed.push(&problem.message);
        }
    }
    if faults.is_empty() {
        // Only warnings: the headline's advice.
        if let Some(headline) = &diagnosis.headline {
            let handled =
                renamed && matches!(headline.code, Code::NameMismatch | Code::IpAddressUsed);
            if !handled {
                listed.push(&headline.message);
            }
        }
    }
    steps.extend(listed.into_iter().map(str::to_string));
    let certificate_error = diagnosis
        .endpoints
        .iter()
        .flat_map(|e| &e.problems)
        .chain(&diagnosis.problems)
        .any(|p| p.severity == crate::diagnose::Severity::Error && p.code.is_certificate());
    if matches!(diagnosis.verdict, Verdict::Fail) && certificate_error {
        steps.push(
            "Do not accept the certificate warning in the mail client: a permanent exception hides \
             exactly what a man-in-the-middle attack looks like."
                .to_string(),
        );
    }
    steps
}

fn address_list(diagnosis: &Diagnosis) -> String {
    diagnosis
        .addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "two", "three"... for small counts, digits beyond ten.
fn count_word(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_string())
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}
