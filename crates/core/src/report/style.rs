//! The few text styles the reports use, and the colour of a verdict. ANSI escapes: the caller's
//! stream (anstream) drops them off a terminal and under `NO_COLOR`.

use anstyle::{AnsiColor, Style};

use crate::diagnose::Verdict;

/// Headings and arrows.
pub const BOLD: Style = Style::new().bold();
/// Errors, failures, listings.
pub const RED: Style = AnsiColor::Red.on_default().bold();
/// Warnings.
pub const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
/// All good.
pub const GREEN: Style = AnsiColor::Green.on_default().bold();
/// Details.
pub const DIM: Style = Style::new().dimmed();

/// The colour of a verdict line.
pub fn verdict(verdict: Verdict) -> Style {
    match verdict {
        Verdict::Ok => GREEN,
        Verdict::Warn => YELLOW,
        Verdict::Fail | Verdict::Unknown => RED,
    }
}
