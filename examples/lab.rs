//! Starts or stops the local mail lab (real Dovecot, Postfix, dnsmasq on 127.0.0.x) that the
//! integration tests use, so `scripts/demo.sh` can show a real report and the benchmarks have
//! servers to measure against. Run as root. The lab starts only in a network of its own
//! (tests/lab/netns.rs): run the script that uses it through `lab netns`.
//!
//!     lab netns [--forward HOST=INSIDE]... -- COMMAND [ARG]...
//!                                 # COMMAND in new network, mount and pid namespaces (a
//!                                 # loopback of their own); each --forward relays a TCP
//!                                 # address of the host (127.0.0.1:8080) to one inside
//!     cargo run --example lab -- start|stop [DIR]
//!     lab delivery-dns [DIR]      # inside `lab netns`: the delivery lab's DNS alone (BIND
//!                                 # serving the signed case zones, Unbound validating them);
//!                                 # prints the resolver's address and the trust anchor files,
//!                                 # then returns (the servers run until the namespace ends)
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
use std::time::Duration;

fn main() -> ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let mut args = all.iter().cloned();
    let command = args.next().unwrap_or_default();
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(lab::Lab::default_dir);
    match command.as_str() {
        "netns" => netns(&all[1..]),
        "pipe" => match all.get(1).map(|a| pipe(a)) {
            Some(Ok(())) => ExitCode::SUCCESS,
            Some(Err(error)) => {
                eprintln!("lab pipe: {error}");
                ExitCode::FAILURE
            }
            None => usage(),
        },
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
        "delivery-dns" => match lab::delivery::start_dns(&dir) {
            Ok((dns, certs)) => {
                println!("resolver {}", dns.resolver);
                println!("authoritative {}", dns.authoritative);
                println!("anchor-ds {}", dns.anchor_ds.display());
                println!("anchor-dnskey {}", dns.anchor_dnskey.display());
                println!("ca-file {}", certs.ca_file.display());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("lab delivery-dns: {error}");
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
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: lab netns [--forward HOST=INSIDE]... -- COMMAND [ARG]... | start|stop [DIR] \
         | delivery-dns [DIR] | fleet-list | front"
    );
    ExitCode::from(64)
}

/// `lab netns`: the command in namespaces of its own, with its relays.
fn netns(args: &[String]) -> ExitCode {
    let mut forwards: Vec<(SocketAddr, SocketAddr)> = Vec::new();
    let mut rest = args.iter();
    let mut command: Vec<String> = Vec::new();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--forward" => {
                let pair = rest.next().and_then(|p| {
                    let (host, inside) = p.split_once('=')?;
                    Some((host.parse().ok()?, inside.parse().ok()?))
                });
                match pair {
                    Some(pair) => forwards.push(pair),
                    None => return usage(),
                }
            }
            "--" => {
                command = rest.cloned().collect();
                break;
            }
            _ => return usage(),
        }
    }
    let Some((program, program_args)) = command.split_first() else {
        return usage();
    };
    let relay = move |first: u32| {
        for &(host, inside) in &forwards {
            relay(host, first, inside)?;
        }
        Ok(())
    };
    let on_host: Option<&lab::netns::OnHost> = if args.iter().any(|a| a == "--forward") {
        Some(&relay)
    } else {
        None
    };
    match lab::netns::enter_with("lab", on_host) {
        Ok(_) => {
            use std::os::unix::process::CommandExt as _;
            let error = std::process::Command::new(program)
                .args(program_args)
                .exec();
            eprintln!("lab netns: {program}: {error}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("lab netns: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `lab pipe ADDRESS` (run by [`relay`]'s connections inside the namespaces' network): one TCP connection to
/// ADDRESS, standard input to it and what it sends to standard output.
fn pipe(address: &str) -> Result<(), String> {
    let address: SocketAddr = address.parse().map_err(|e| format!("{address}: {e}"))?;
    let stream = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(10))
        .map_err(|e| format!("{address}: {e}"))?;
    let mut outgoing = stream.try_clone().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let _ = pump(&mut std::io::stdin().lock(), &mut outgoing);
        let _ = outgoing.shutdown(std::net::Shutdown::Write);
    });
    let mut incoming = stream;
    pump(&mut incoming, &mut std::io::stdout().lock()).map_err(|e| e.to_string())
}

/// Copies until the end of `from`, passing on each piece as it comes. Not `std::io::copy`: from
/// a pipe to a socket it splices, and gVisor's splice waits for more than a request holds.
fn pump(from: &mut impl std::io::Read, to: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer)? {
            0 => return Ok(()),
            n => {
                to.write_all(&buffer[..n])?;
                to.flush()?;
            }
        }
    }
}

/// Runs the counting proxy at SCAN_FRONT until stdin ends, answering `stats`, `reset` and
/// `delay MS` (from now each piece held MS milliseconds each way; `delay 0` ends it).
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
            command => match command
                .strip_prefix("delay ")
                .and_then(|ms| ms.parse::<u64>().ok())
            {
                // Every piece held so long each way from now: a server that far away.
                Some(ms) if ms <= 1000 => {
                    counter.set_delay(Duration::from_millis(ms));
                    println!("delay {ms}");
                }
                _ => println!("?"),
            },
        }
    }
    Ok(())
}

/// Relays connections to `host` (an address of the host's network) to `inside` in the network of
/// the namespaces whose first process is `first` (a pid on the host): each connection through
/// a `lab pipe` that `nsenter` runs in that network. At most 64 connections at once; one that
/// stays silent 10 minutes is closed.
fn relay(host: SocketAddr, first: u32, inside: SocketAddr) -> Result<(), String> {
    use std::process::{Command, Stdio};
    use std::sync::atomic::AtomicUsize;
    static OPEN: AtomicUsize = AtomicUsize::new(0);
    let listener = std::net::TcpListener::bind(host).map_err(|e| format!("{host}: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if OPEN.fetch_add(1, Ordering::SeqCst) >= 64 {
                OPEN.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let exe = exe.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(600)));
                let child = Command::new("nsenter")
                    .arg(format!("--net=/proc/{first}/ns/net"))
                    .arg("--")
                    .arg(&exe)
                    .args(["pipe", &inside.to_string()])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn();
                if let Ok(mut child) = child {
                    if let (Some(mut to_child), Some(mut from_child), Ok(mut incoming)) =
                        (child.stdin.take(), child.stdout.take(), stream.try_clone())
                    {
                        std::thread::spawn(move || {
                            let _ = pump(&mut incoming, &mut to_child);
                        });
                        let mut outgoing = stream;
                        let _ = pump(&mut from_child, &mut outgoing);
                        let _ = outgoing.shutdown(std::net::Shutdown::Both);
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                }
                OPEN.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(())
}
