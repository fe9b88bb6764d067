//! Starts or stops the local mail lab (real Dovecot, Postfix, dnsmasq on 127.0.0.x) that the
//! integration tests use, so `scripts/demo.sh` can show a real report and the benchmarks have
//! servers to measure against. Run as root.
//!
//!     cargo run --example lab -- start|stop [DIR]
//!     cargo run --example lab -- fleet-list       # the fleet's 2,000 domains, as a scan list
//!     cargo run --example lab -- front            # the counting proxy in front of the fleet's
//!                                                 # hosting server; on stdin, `stats` prints
//!                                                 # what it counted as JSON (connections,
//!                                                 # most at once, most in a second, EHLO
//!                                                 # names seen, open now), `reset` forgets it

#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "../tests/servers/proxy.rs"]
mod proxy;

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

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
        "fleet-list" => {
            print!("{}", lab::fleet::list());
            ExitCode::SUCCESS
        }
        "front" => match front() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("lab front: {error}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: lab start|stop [DIR] | fleet-list | front");
            ExitCode::from(64)
        }
    }
}

/// Runs the counting proxy at SCAN_FRONT until stdin ends, answering `stats` and `reset`.
fn front() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let counter = Arc::new(proxy::Counter::default());
    runtime.block_on(async {
        for port in [25, 587, 465, 143, 993, 110, 995] {
            let listener = tokio::net::TcpListener::bind((lab::SCAN_FRONT, port))
                .await
                .map_err(|e| format!("{}:{port}: {e}", lab::SCAN_FRONT))?;
            let backend: SocketAddr = format!("{}:{port}", lab::SCANHOST.address)
                .parse()
                .map_err(|e| format!("{e}"))?;
            runtime.spawn(proxy::proxy(listener, backend, Arc::clone(&counter)));
        }
        Ok::<_, String>(())
    })?;
    println!("ready");
    for line in std::io::stdin().lock().lines() {
        match line.map_err(|e| e.to_string())?.trim() {
            "stats" => println!(
                "{{\"total\": {}, \"peak\": {}, \"per_second\": {}, \"ehlo\": {}, \"open\": {}}}",
                counter.total.load(Ordering::SeqCst),
                counter.peak.load(Ordering::SeqCst),
                counter.peak_per_second(),
                counter.greetings().len(),
                counter.open()
            ),
            "reset" => {
                counter.reset();
                println!("reset");
            }
            _ => println!("?"),
        }
    }
    Ok(())
}
