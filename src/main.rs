//! The `mailtls` command: clap -> options -> engine -> render -> exit status. All the work lives
//! in the library; this file and `cli/` are glue, one file per command.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(error) => {
            // Help and version go to stdout with status 0; anything else is a usage error.
            let status = if error.use_stderr() {
                mailtls::exit::USAGE
            } else {
                mailtls::exit::OK
            };
            let _ = error.print();
            return ExitCode::from(status);
        }
    };
    match cli::run(args) {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            // One line: the error and its causes, joined.
            eprintln!("mailtls: error: {:#}", failure.error);
            ExitCode::from(failure.status)
        }
    }
}
