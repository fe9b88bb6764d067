//! Starts or stops the local mail lab (real Dovecot, Postfix, dnsmasq on 127.0.0.x) that the
//! integration tests use, so `scripts/demo.sh` can show a real report. Run as root.
//!
//!     cargo run --example lab -- start|stop [DIR]

#[path = "../tests/lab/mod.rs"]
mod lab;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(lab::Lab::default_dir);
    match command.as_str() {
        "start" => match lab::Lab::start(&dir) {
            Ok(lab) => {
                println!("lab running in {}", lab.dir.display());
                println!("dns {} ; ca-file {}", lab::DNS, lab.ca_file.display());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("lab: {error}");
                ExitCode::FAILURE
            }
        },
        "stop" => {
            lab::Lab::stop(&dir);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: lab start|stop [DIR]");
            ExitCode::from(64)
        }
    }
}
