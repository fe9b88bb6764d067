//! `mailtls explain "TEXT"`: from the words of a dialog to what causes it.

use std::io::Read as _;

use clap::Args;
use mailtls::clients::Client;
use mailtls::diagnose::explain::{self, ExplainError, MAX_TEXT};
use mailtls::report;

use super::Failure;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The dialog's text, as the user saw it (any part of it; quotes and line breaks are fine).
    /// Without it, or with `-`, the text is read from standard input.
    text: Option<String>,
    /// Print the result as JSON (schema: docs/schema/explain.json).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ExplainArgs) -> Result<u8, Failure> {
    let text = match args.text.as_deref() {
        Some(text) if text != "-" => text.to_string(),
        _ => read_stdin()?,
    };
    let explained = explain::explain(&text).map_err(|e| Failure::usage(e.into()))?;
    if explained.matches.is_empty() {
        let clients: Vec<&str> = Client::ALL.iter().map(Client::name).collect();
        return Err(Failure::usage(anyhow::anyhow!(
            "not recognised: the text matches none of the dialogs mailtls knows ({}); to check \
             a server anyway, run mailtls check YOUR-MAIL-SERVER or mailtls check you@YOUR-DOMAIN",
            clients.join(", ")
        )));
    }
    if args.json {
        super::write_json(&report::wire::explain::output(&explained))?;
    } else {
        super::write_text(&report::explain::render(&explained));
    }
    Ok(mailtls::exit::OK)
}

/// Standard input, at most [`MAX_TEXT`] bytes (one more is read to tell that it is longer).
fn read_stdin() -> Result<String, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_TEXT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(anyhow::anyhow!("cannot read standard input: {e}")))?;
    if bytes.len() > MAX_TEXT {
        return Err(Failure::usage(ExplainError::TooLong.into()));
    }
    String::from_utf8(bytes).map_err(|_| Failure::usage(ExplainError::Binary.into()))
}
