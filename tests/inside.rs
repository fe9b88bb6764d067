//! Issue 22, part 1: one definition of inside (`mailtls::address::special`) for every connection.
//!
//! Each range the issue lists is tried as a URL literal, as a redirect target (a real HTTP server
//! on 127.0.0.161 answering 302 and 307) and as a DNS answer (a real dnsmasq on 127.0.0.162), in
//! both ways the program refuses inside addresses: as `mailtls serve` does (the engine refuses
//! them all, whatever a fetch's policy says) and as the command line does for a checked server
//! that is not inside itself (the fetch's policy does not allow them). Every fetch must fail with
//! `PrivateAddress` naming the address and its range before any connection: counting listeners
//! on the addresses those forms reach on this machine (127.0.0.160, 127.0.0.1 for 0.0.0.0, [::1]
//! for :: and ::1) accept nothing. Addresses outside 127.0.0.0/8 are never connected to: their
//! refusal shows in the error alone. A positive control then connects to each counted form with
//! inside addresses allowed, and the listeners count exactly those connections.
//!
//! Binds only 127.0.0.160-162 (no lab uses them), on ports the kernel chooses (port 993 on
//! 127.0.0.160 for the probes). dnsmasq must be installed. Runs as root in a network of its own
//! (tests/lab/netns.rs; a custom harness, so that the whole binary runs there): two runs side
//! by side, or a server of the host on 127.0.0.160:993 or [::1], do not meet, and no connection
//! of another program can reach the counting listeners.

#[path = "lab/netns.rs"]
mod netns;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailtls::address::{Range, special};
use mailtls::engine::{Engine, EngineOptions};
use mailtls::observation::FailureKind;
use mailtls::probe::ProbeRequest;
use mailtls::probe::http::{FetchError, FetchFailure, Fetcher, Policy, Scheme};
use mailtls::service::Service;

/// The counting listener's address: the 127/8 case, and what `::ffff:127.0.0.160` reaches.
const HOST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 160);
/// The redirecting server's address (allowed as a first hop by [`Fetcher::allowing`]).
const REDIRECTOR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 161);
/// dnsmasq's address.
const DNS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 162);

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    if let Err(error) = netns::enter("inside") {
        eprintln!("inside: {error}");
        std::process::exit(1);
    }
    let trials = vec![
        libtest_mimic::Trial::test(
            "every_inside_range_is_refused_before_any_connection",
            || {
                every_inside_range_is_refused_before_any_connection();
                Ok(())
            },
        ),
        libtest_mimic::Trial::test("probes_refuse_inside_before_connecting", || {
            probes_refuse_inside_before_connecting();
            Ok(())
        }),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// Where a connection to an address would land on this machine, if it were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lands {
    /// 127.0.0.160 (the address itself, or mapped into IPv6).
    Host,
    /// 127.0.0.1: Linux connects 0.0.0.0 to loopback.
    V4Loopback,
    /// [::1]: Linux connects :: to loopback.
    V6Loopback,
    /// Not on this machine: never connected to, by this test or, if it passes, by the fetcher.
    Elsewhere,
}

/// One address of each range issue 22 lists (some ranges twice: a form that lands here and one
/// that would leave), with the range `address::special` must give it.
const CASES: [(&str, Range, Lands); 25] = [
    ("0.0.0.0", Range::Unspecified, Lands::V4Loopback),
    ("0.1.2.3", Range::Unspecified, Lands::Elsewhere),
    ("127.0.0.160", Range::Loopback, Lands::Host),
    ("10.0.0.1", Range::Private, Lands::Elsewhere),
    ("172.16.0.1", Range::Private, Lands::Elsewhere),
    ("172.31.255.254", Range::Private, Lands::Elsewhere),
    ("192.168.1.1", Range::Private, Lands::Elsewhere),
    ("100.64.0.1", Range::Cgnat, Lands::Elsewhere),
    ("169.254.169.254", Range::LinkLocal, Lands::Elsewhere),
    ("224.0.0.1", Range::Multicast, Lands::Elsewhere),
    ("240.0.0.1", Range::Reserved, Lands::Elsewhere),
    ("::", Range::Unspecified, Lands::V6Loopback),
    ("::1", Range::Loopback, Lands::V6Loopback),
    ("fd00::1", Range::UniqueLocal, Lands::Elsewhere),
    ("fe80::1", Range::LinkLocal, Lands::Elsewhere),
    ("ff02::1", Range::Multicast, Lands::Elsewhere),
    ("::ffff:127.0.0.160", Range::Loopback, Lands::Host),
    ("::ffff:169.254.169.254", Range::LinkLocal, Lands::Elsewhere),
    // The cloud metadata address through NAT64 (RFC 6052), the example.
    ("64:ff9b::a9fe:a9fe", Range::LinkLocal, Lands::Elsewhere),
    ("64:ff9b::7f00:a0", Range::Loopback, Lands::Elsewhere),
    // 6to4 (2002:AABB:CCDD::): 169.254.169.254 and 10.0.0.1 inside.
    ("2002:a9fe:a9fe::1", Range::LinkLocal, Lands::Elsewhere),
    ("2002:a00:1::1", Range::Private, Lands::Elsewhere),
    // IPv4-compatible (::a.b.c.d).
    ("::127.0.0.160", Range::Loopback, Lands::Elsewhere),
    ("::169.254.169.254", Range::LinkLocal, Lands::Elsewhere),
    ("::8.8.8.8", Range::Reserved, Lands::Elsewhere),
];

/// A listener that counts the connections it accepts and answers each with `200 ok` (or, for a
/// mail port, closes it).
struct Counting {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Counting {
    fn bind(address: SocketAddr) -> Counting {
        Counting::bind_answering(address, true)
    }

    fn bind_answering(address: SocketAddr, http: bool) -> Counting {
        let listener = TcpListener::bind(address)
            .unwrap_or_else(|e| panic!("cannot listen on {address}: {e}"));
        let port = listener.local_addr().expect("a bound port").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                if http {
                    std::thread::spawn(move || answer(stream, |_| ("200 OK", None)));
                }
            }
        });
        Counting { port, accepted }
    }

    fn count(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Reads a request head (capped, with a deadline) and answers with the status and the Location
/// `respond` gives for its path.
fn answer(mut stream: TcpStream, respond: impl Fn(&str) -> (&'static str, Option<String>)) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let (status, location) = respond(head.split(' ').nth(1).unwrap_or("/"));
    let location = location.map_or(String::new(), |to| format!("Location: {to}\r\n"));
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\n{location}Content-Length: 2\r\nConnection: close\r\n\r\nok"
    );
}

/// The redirecting server: `/N/http`, `/N/https` and `/N/name` answer 302 to case N as an
/// `http://` literal, an `https://` literal and a name in the DNS; `/N/post` answers 307 to the
/// `https://` literal (a POST repeated, as autodiscover's).
struct Redirector {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Redirector {
    fn start(targets: Vec<String>, names: Vec<String>) -> Redirector {
        let listener = TcpListener::bind((REDIRECTOR, 0)).expect("listen on 127.0.0.161");
        let port = listener.local_addr().expect("a bound port").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                answer(stream, |path| {
                    let mut parts = path.trim_start_matches('/').split('/');
                    let index: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
                    let https = || targets[index].replace("http://", "https://");
                    match parts.next() {
                        Some("name") => ("302 Found", Some(names[index].clone())),
                        Some("https") => ("302 Found", Some(https())),
                        // A 307 repeats a POST with its body.
                        Some("post") => ("307 Temporary Redirect", Some(https())),
                        _ => ("302 Found", Some(targets[index].clone())),
                    }
                });
            }
        });
        Redirector { port, accepted }
    }
}

/// dnsmasq on 127.0.0.162, answering `cN.inside.test` with case N's address; stopped (by its
/// own process id) when dropped.
struct Dnsmasq {
    child: Child,
    address: SocketAddr,
}

impl Dnsmasq {
    fn start() -> Dnsmasq {
        // A port free now; dnsmasq binds it a moment later.
        let port = UdpSocket::bind((DNS, 0))
            .and_then(|s| s.local_addr())
            .expect("a free UDP port on 127.0.0.162")
            .port();
        let mut command = Command::new("dnsmasq");
        command.args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--pid-file=",
            "--user=root",
            &format!("--listen-address={DNS}"),
            &format!("--port={port}"),
        ]);
        for (index, (literal, ..)) in CASES.iter().enumerate() {
            command.arg(format!("--host-record={},{literal}", name(index)));
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq must be installed: this test needs a real DNS server");
        Dnsmasq {
            child,
            address: SocketAddr::new(IpAddr::V4(DNS), port),
        }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn name(index: usize) -> String {
    format!("c{index}.inside.test")
}

/// The two ways the program refuses inside addresses.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `mailtls serve`: the engine refuses them; the policy would allow them (it cannot).
    Serve,
    /// The command line checking a server that is not inside: the policy does not allow them.
    Command,
}

fn engine(dns: SocketAddr, refuse_special: bool) -> Engine {
    Engine::new(EngineOptions {
        dns_server: Some(dns),
        system_roots: false,
        step_timeout: Duration::from_secs(3),
        refuse_special,
        ..EngineOptions::default()
    })
    .expect("an engine")
}

fn policy(scheme: Scheme, mode: Mode) -> Policy {
    Policy {
        scheme,
        max_body: 1024,
        allow_inside: matches!(mode, Mode::Serve),
    }
}

/// Asserts `outcome` is a refusal of `expected` (its range `range`) at the hop to `host`.
fn refused(
    what: &str,
    outcome: Result<(), FetchFailure>,
    host: &str,
    expected: IpAddr,
    range: Range,
) {
    match outcome {
        Err(FetchFailure {
            error:
                FetchError::PrivateAddress {
                    host: refused_host,
                    address,
                    range: refused_range,
                },
            url,
            chain,
        }) => {
            assert_eq!(
                (address, refused_range),
                (expected, range),
                "{what}: refused for the wrong reason"
            );
            let at = url::Url::parse(&url).expect("the failing hop's URL");
            assert_eq!(
                at.host_str(),
                Some(host),
                "{what}: refused at the wrong hop ({url})"
            );
            assert_eq!(
                refused_host.trim_matches(['[', ']']),
                host.trim_matches(['[', ']'])
            );
            assert!(chain.is_empty(), "{what}: no TLS can have happened");
        }
        other => panic!("{what}: not refused as inside: {other:?}"),
    }
}

fn every_inside_range_is_refused_before_any_connection() {
    let host = Counting::bind(SocketAddr::new(IpAddr::V4(HOST), 0));
    let v4_loopback = Counting::bind(SocketAddr::from(([127, 0, 0, 1], 0)));
    let v6_loopback = Counting::bind("[::1]:0".parse().expect("an address"));
    let listeners = [&host, &v4_loopback, &v6_loopback];
    let port = |lands: Lands| match lands {
        Lands::Host | Lands::Elsewhere => host.port,
        Lands::V4Loopback => v4_loopback.port,
        Lands::V6Loopback => v6_loopback.port,
    };
    let url_host = |literal: &str| match literal.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => literal.to_string(),
    };
    let literal_urls: Vec<String> = CASES
        .iter()
        .map(|(literal, _, lands)| format!("http://{}:{}/x", url_host(literal), port(*lands)))
        .collect();
    let name_urls: Vec<String> = CASES
        .iter()
        .enumerate()
        .map(|(index, (_, _, lands))| format!("http://{}:{}/x", name(index), port(*lands)))
        .collect();
    let redirector = Redirector::start(literal_urls.clone(), name_urls.clone());
    let dnsmasq = Dnsmasq::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    // dnsmasq answers every name with its case's address (asked without refusing anything).
    let plain = engine(dnsmasq.address, false);
    let deadline = Instant::now() + Duration::from_secs(10);
    for (index, (literal, ..)) in CASES.iter().enumerate() {
        let expected: IpAddr = literal.parse().expect("an address");
        loop {
            let answer = runtime.block_on(plain.dns().addresses(&name(index)));
            if answer.as_ref().is_ok_and(|a| a == &[expected]) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dnsmasq does not answer {} with {literal}: {answer:?}",
                name(index)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    let mut fetches = 0;
    let mut redirects = 0;
    for mode in [Mode::Serve, Mode::Command] {
        let engine = engine(dnsmasq.address, matches!(mode, Mode::Serve));
        // The engine's own fetcher, allowed to reach the redirecting server as a first hop.
        let fetcher: Fetcher = engine.fetcher().clone().allowing([IpAddr::V4(REDIRECTOR)]);
        for (index, (literal, range, _)) in CASES.iter().enumerate() {
            let expected: IpAddr = literal.parse().expect("an address");
            assert_eq!(special(expected), Some(*range), "{literal}");
            let literal_url = &literal_urls[index];
            // As the URL parser writes it (::ffff:127.0.0.160 is [::ffff:7f00:a0]).
            let parsed = url::Url::parse(literal_url).expect("a URL");
            let shown = parsed.host_str().expect("a host").to_string();
            let https_url = literal_url.replace("http://", "https://");
            let name_url = &name_urls[index];
            let first =
                |path: &str| format!("http://{REDIRECTOR}:{}/{index}/{path}", redirector.port);
            let what = |way: &str| format!("{literal} ({range:?}) {way}, {mode:?}");
            let check = |way: &str, outcome: Result<(), FetchFailure>, at: &str| {
                refused(&what(way), outcome, at, expected, *range);
            };
            let http = policy(Scheme::Http, mode);
            let https = policy(Scheme::Https, mode);
            let any = policy(Scheme::HttpThenAny, mode);
            let name = name(index);
            runtime.block_on(async {
                // (a) A literal in the URL: AIA (http), documents (https, with a POST body as
                // autodiscover sends), Outlook's redirect method, the plain-HTTP autoconfig.
                check(
                    "as an http:// literal",
                    fetcher.fetch(literal_url, None, http).await.map(drop),
                    &shown,
                );
                check(
                    "as an https:// literal",
                    fetcher
                        .fetch(&https_url, Some("<x/>"), https)
                        .await
                        .map(drop),
                    &shown,
                );
                check(
                    "as the autodiscover redirect method's literal",
                    fetcher.redirect_of(literal_url, http).await.map(drop),
                    &shown,
                );
                // (b) A redirect target: the first hop is answered, the second refused.
                check(
                    "as an http:// redirect",
                    fetcher.fetch(&first("http"), None, http).await.map(drop),
                    &shown,
                );
                check(
                    "as an https:// redirect",
                    fetcher.fetch(&first("https"), None, any).await.map(drop),
                    &shown,
                );
                check(
                    "as a 307 redirect of a POST",
                    fetcher
                        .fetch(&first("post"), Some("<x/>"), any)
                        .await
                        .map(drop),
                    &shown,
                );
                check(
                    "as a redirect to a name answered there",
                    fetcher.fetch(&first("name"), None, http).await.map(drop),
                    &name,
                );
                // (c) A DNS answer.
                check(
                    "as a DNS answer",
                    fetcher.fetch(name_url, None, http).await.map(drop),
                    &name,
                );
                check(
                    "as a DNS answer over https",
                    fetcher
                        .fetch(
                            &name_url.replace("http://", "https://"),
                            Some("<x/>"),
                            https,
                        )
                        .await
                        .map(drop),
                    &name,
                );
            });
            fetches += 9;
            redirects += 4;
            for listener in listeners {
                assert_eq!(
                    listener.count(),
                    0,
                    "{literal}, {mode:?}: a connection was made"
                );
            }
        }
    }
    assert_eq!(
        redirector.accepted.load(Ordering::SeqCst),
        redirects,
        "every redirect's first hop was answered"
    );
    println!(
        "{} addresses x 2 modes x 9 ways: {fetches} fetches refused ({redirects} after a first \
         hop), 0 connections counted",
        CASES.len()
    );

    // The control: with inside addresses allowed, each form that lands here is connected to and
    // counted, directly and through a redirect; so the zeros above are no accident.
    let allowed = engine(dnsmasq.address, false);
    let open = policy(Scheme::Http, Mode::Serve);
    let mut expected_counts = [0usize; 3];
    for (index, (literal, _, lands)) in CASES.iter().enumerate() {
        let slot = match lands {
            Lands::Host => 0,
            Lands::V4Loopback => 1,
            Lands::V6Loopback => 2,
            Lands::Elsewhere => continue,
        };
        let first = format!("http://{REDIRECTOR}:{}/{index}/http", redirector.port);
        for url in [&literal_urls[index], &name_urls[index], &first] {
            let fetched = runtime.block_on(allowed.fetcher().fetch(url, None, open));
            assert!(
                fetched.as_ref().is_ok_and(|f| f.body == b"ok"),
                "{literal}: the control fetch of {url} connects: {fetched:?}"
            );
            expected_counts[slot] += 1;
        }
    }
    let counted = listeners.map(Counting::count);
    assert_eq!(counted, expected_counts, "the control connections, counted");
    assert!(counted.iter().all(|n| *n > 0));
}

/// The probes refuse the same addresses, by the same definition: the forms of 127.0.0.160 on
/// IMAPS's port are not connected to by a refusing engine's probes, and are by the command
/// line's (the control).
fn probes_refuse_inside_before_connecting() {
    let imaps = Counting::bind_answering(SocketAddr::new(IpAddr::V4(HOST), 993), false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // Literals only: the resolver (nothing listens there) is never asked.
    let nowhere = SocketAddr::new(IpAddr::V4(DNS), 9);
    let literals = ["127.0.0.160", "::ffff:127.0.0.160"];
    let serve = engine(nowhere, true);
    for literal in literals {
        let observation = runtime.block_on(mailtls::probe::probe(
            probe_request(literal),
            serve.probe_settings(),
        ));
        assert!(!observation.reachable, "{literal}: probed");
        assert_eq!(
            observation.failure.map(|f| f.kind),
            Some(FailureKind::Unreachable),
            "{literal}"
        );
    }
    assert_eq!(imaps.count(), 0, "a refusing engine's probe connected");
    let command = engine(nowhere, false);
    for literal in literals {
        let observation = runtime.block_on(mailtls::probe::probe(
            probe_request(literal),
            command.probe_settings(),
        ));
        assert!(
            observation.reachable,
            "{literal}: the control probe connects"
        );
    }
    // Each control probe connects once, or again when the closed connection reads as a server
    // that turned us away (a retry).
    assert!(
        imaps.count() >= literals.len(),
        "the control probes, counted"
    );
}

fn probe_request(literal: &str) -> ProbeRequest {
    ProbeRequest {
        service: Service::for_port(993).expect("IMAPS"),
        address: literal.parse().expect("an address"),
        sni: None,
    }
}
