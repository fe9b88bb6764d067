//! Pasted text against every client's dialogs (crates/core/src/clients/dialogs.rs): tolerant of case, quotes,
//! line breaks and partial text; each match names the mechanisms that produce it.

use std::collections::HashSet;

use super::{Finding, Mechanism};
use crate::clients::dialogs::{self, DIALOGS, Dialog, Fault};

/// Shortest piece of a dialog's line that counts as a partial match.
const MIN_PARTIAL: usize = 12;
/// Longest text matched by "most of a line's words, in any order": a dialog retyped from memory
/// is short, and in a long log most words of any line stand somewhere.
const MAX_RETYPED: usize = 2_000;
/// Longest text matched as a piece of a line with its placeholder filled in: a fragment.
const MAX_FILLED: usize = 300;

crate::vocabulary::vocabulary! {
    /// How well a piece of text matched a dialog (worst first: the order ranks matches).
    pub enum Closeness {
        /// Most of a line's words, in any order.
        Words => "words",
        /// A piece of a line.
        Partial => "partial",
        /// A whole line.
        Whole => "whole",
    }
}

/// One dialog the text matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The dialog.
    pub dialog: &'static Dialog,
    /// The dialog's line (or title) that matched best.
    pub line: &'static str,
    /// How well.
    pub closeness: Closeness,
    /// The fault the matched line names, when it names one.
    pub fault: Option<Fault>,
    /// The mechanisms that produce it, most likely first.
    pub mechanisms: Vec<Mechanism>,
}

/// The dialogs `text` matches, best first (of equal ones, the longer line).
pub fn matches(text: &str) -> Vec<Match> {
    let words = normalize(text);
    // The pasted words as a set, made once: every dialog line is looked up in it.
    let given: HashSet<&str> = words.split(' ').collect();
    let mut matches: Vec<Match> = Vec::new();
    for dialog in DIALOGS {
        // The closest line; of equally close ones, a line that names a fault (the text may
        // hold the dialog's introduction too), then the longer.
        let names_fault = |line: &str| dialog.variants.iter().any(|v| v.line == line);
        // A one-word title ("Thunderbird", "Warning") says nothing on its own.
        let title = Some(dialog.title).filter(|title| title.trim().contains(' '));
        let best = title
            .into_iter()
            .chain(dialog.lines())
            .filter_map(|line| closeness(&words, &given, line).map(|c| (c, line)))
            .max_by_key(|(c, line)| (*c, names_fault(line), line.len()));
        if let Some((closeness, line)) = best {
            let fault = dialog
                .variants
                .iter()
                .find(|variant| variant.line == line)
                .map(|variant| variant.fault);
            matches.push(Match {
                dialog,
                line,
                closeness,
                fault,
                mechanisms: mechanisms(dialog, fault),
            });
        }
    }
    // The best matches first; of equal ones, the longer line (the more specific).
    matches.sort_by_key(|m| std::cmp::Reverse((m.closeness, m.line.len())));
    if let Some(best) = matches.first().map(|m| m.closeness) {
        matches.retain(|m| m.closeness == best);
    }
    matches
}

/// The mechanisms behind a dialog, most likely first, narrowed by the fault its words name.
fn mechanisms(dialog: &Dialog, fault: Option<Fault>) -> Vec<Mechanism> {
    // The same mechanisms a message saying the fault has; a dialog's "untrusted" is about the
    // path to a root (self-signed, unknown CA, missing intermediate), an unknown issuer's.
    let by_fault = |fault: Fault| -> Vec<Mechanism> {
        match (dialog.connection, fault) {
            (dialogs::Connection::Settings, _) => vec![Mechanism::AutodiscoverWebsite],
            (_, Fault::WrongName) => Finding::WrongName.mechanisms(None),
            (_, Fault::Dates) => Finding::Expired.mechanisms(None),
            (_, Fault::Untrusted) => Finding::UnknownIssuer.mechanisms(None),
        }
    };
    // A prompt that is not about a certificate: Outlook's question before it takes settings
    // from the server it was sent to.
    if dialog.faults.is_empty() {
        return vec![Mechanism::AutodiscoverRedirect];
    }
    let mut all: Vec<Mechanism> = Vec::new();
    let faults: &[Fault] = match &fault {
        Some(fault) => std::slice::from_ref(fault),
        None => dialog.faults,
    };
    for fault in faults {
        for mechanism in by_fault(*fault) {
            if !all.contains(&mechanism) {
                all.push(mechanism);
            }
        }
    }
    all
}

/// Lower case, quotes and punctuation gone, white space (line breaks too) folded to one space.
/// Dots, `@` and hyphens stay: they are parts of names.
pub(super) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '@' | '-') {
            out.extend(c.to_lowercase());
            space = false;
        } else if c.is_whitespace() || c.is_ascii_punctuation() || !c.is_alphanumeric() {
            // Quotes of every kind (' " “ ” ‘ ’ « »), commas, colons: all become a break.
            if !space {
                out.push(' ');
                space = true;
            }
        }
    }
    // A sentence's full stop is punctuation, not part of a name.
    out.split(' ')
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How `line` (a dialog's) matches the normalized pasted `words` (`given`: the same words as a
/// set), if at all. A placeholder (`{server}`, `{account}`...) matches anything.
fn closeness(words: &str, given: &HashSet<&str>, line: &str) -> Option<Closeness> {
    let pieces: Vec<String> = line
        .split(['{', '}'])
        .enumerate()
        // Every second piece is a placeholder's name.
        .filter(|(index, _)| index % 2 == 0)
        .map(|(_, piece)| normalize(piece))
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.is_empty() {
        return None;
    }
    if pieces.iter().all(|p| words.contains(p.as_str())) {
        return Some(Closeness::Whole);
    }
    if words.len() >= MIN_PARTIAL && pieces.iter().any(|p| p.contains(words)) {
        return Some(Closeness::Partial);
    }
    if words.len() <= MAX_FILLED && filled_in(words, &pieces) {
        return Some(Closeness::Partial);
    }
    // Most of the line's words (three in five, at least four), for text retyped from memory.
    let wanted: Vec<&str> = pieces
        .iter()
        .flat_map(|p| p.split(' '))
        .filter(|w| w.len() >= 4)
        .collect();
    let found = wanted.iter().filter(|w| given.contains(*w)).count();
    (words.len() <= MAX_RETYPED && found >= 4 && found * 5 >= wanted.len() * 3)
        .then_some(Closeness::Words)
}

/// Whether `words` is a piece of a line around one of its placeholders, filled in: the end of
/// the piece before it, up to four words standing for the placeholder (a server name, a date),
/// the start of the piece after it ("The certificate for mail.x is not valid for that server").
fn filled_in(words: &str, pieces: &[String]) -> bool {
    let tokens: Vec<&str> = words.split(' ').collect();
    pieces.windows(2).any(|pair| {
        let (before, after) = (&pair[0], &pair[1]);
        (0..tokens.len()).any(|start| {
            (start + 1..=(start + 4).min(tokens.len())).any(|end| {
                let left = tokens[..start].join(" ");
                let right = tokens[end..].join(" ");
                left.len() + right.len() >= MIN_PARTIAL
                    && before.ends_with(&left)
                    && after.starts_with(&right)
            })
        })
    })
}
