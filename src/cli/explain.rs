//! `mailtls explain "TEXT"`: from the words of a dialog to what causes it.

use std::io::Read as _;

use clap::Args;
use mailtls::clients::Client;
use mailtls::diagnose::explain::{self, ExplainError, MAX_TEXT};
use mailtls::report;

use super::Failure;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// What the user saw or a log says: a dialog's words (any part of them; quotes and line
    /// breaks are fine), an error code, a library's exception, server log lines. Without it, or
    /// with `-`, it is read from standard input (UTF-8, UTF-16 or Latin-1; HTML and RTF markup
    /// is taken off).
    text: Option<String>,
    /// Print the result as JSON (schema: docs/schema/explain.json).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ExplainArgs) -> Result<u8, Failure> {
    let explained = match args.text.as_deref() {
        Some(text) if text != "-" => explain::explain(text),
        _ => explain::explain_bytes(&read_stdin()?),
    }
    .map_err(|e| Failure::usage(e.into()))?;
    if !explained.recognised() {
        let clients: Vec<&str> = Client::ALL.iter().map(Client::name).collect();
        return Err(Failure::usage(anyhow::anyhow!(
            "not recognised: the text holds none of the certificate errors and dialogs mailtls \
             knows ({}; library errors and server logs); to check a server anyway, run mailtls \
             check YOUR-MAIL-SERVER or mailtls check you@YOUR-DOMAIN",
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

/// Standard input, at most [`MAX_TEXT`] bytes (one more is read to tell that it is longer), in
/// any encoding.
fn read_stdin() -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_TEXT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(anyhow::anyhow!("cannot read standard input: {e}")))?;
    if bytes.len() > MAX_TEXT {
        return Err(Failure::usage(ExplainError::TooLong.into()));
    }
    Ok(bytes)
}
