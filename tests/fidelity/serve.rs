//! The matrix's servers, all on 127.77.0.0/16: dnsmasq for the names, Python's http.server for
//! the AIA URLs, one OpenSSL process (tls_server.py) for every ordinary case, and rustls in this
//! process for the hostile certificate lists OpenSSL would refuse to load. Everything stops when
//! the [`Servers`] value is dropped, and at the latest with the run's namespaces
//! (tests/lab/netns.rs), so a killed run leaves nothing running behind.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::cases::{AIA_ADDRESS, AIA_HOST, Case, DNS_ADDRESS, Matrix, Server, Tls};
use super::certgen::pem_of;

/// The running servers.
pub struct Servers {
    children: Vec<Child>,
    stop: Arc<AtomicBool>,
    /// The file the OpenSSL server logs each connection to.
    pub log: PathBuf,
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn write(path: &Path, text: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the trusted roots to `dir/roots.pem`; returns its path.
pub fn write_roots(matrix: &Matrix, dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("roots.pem");
    let pem: String = matrix.trusted.iter().map(|c| pem_of(&c.der)).collect();
    write(&path, pem)?;
    Ok(path)
}

/// Starts every server for `cases` (a subset of `matrix`'s) under `dir`.
pub fn start(matrix: &Matrix, cases: &[&Case], dir: &Path) -> Result<Servers, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut servers = Servers {
        children: Vec::new(),
        stop: stop.clone(),
        log: dir.join("tls_server.log"),
    };
    servers.children.push(dnsmasq(cases, dir)?);
    servers.children.push(aia(matrix, dir)?);
    let openssl: Vec<&Case> = cases
        .iter()
        .copied()
        .filter(|c| matches!(c.server, Server::OpenSsl { .. }))
        .collect();
    servers
        .children
        .push(openssl_server(&openssl, dir, &servers.log)?);
    for case in cases.iter().filter(|c| c.server == Server::Raw) {
        raw_server(case, stop.clone())?;
    }
    wait_listening(
        cases
            .iter()
            .map(|c| SocketAddr::from((c.address, 993)))
            .chain([SocketAddr::from((AIA_ADDRESS, 80))]),
    )?;
    Ok(servers)
}

/// dnsmasq answering every case's name (A, and the first name's PTR), its CNAME, and the AIA
/// server's name; nothing else.
fn dnsmasq(cases: &[&Case], dir: &Path) -> Result<Child, String> {
    let mut conf = format!(
        "port=53\nlisten-address={DNS_ADDRESS}\nbind-interfaces\nno-resolv\nno-hosts\n\
         local=/test/\nlocal=/co.uk/\nkeep-in-foreground\nlog-facility={}\n\
         host-record={AIA_HOST},{AIA_ADDRESS}\n",
        dir.join("dnsmasq.log").display()
    );
    for case in cases {
        if case.host.parse::<std::net::IpAddr>().is_ok() {
            continue;
        }
        match &case.cname {
            Some((alias, target)) => {
                let _ = writeln!(
                    conf,
                    "host-record={target},{}\ncname={alias},{target}",
                    case.address
                );
            }
            None => {
                let _ = writeln!(conf, "host-record={},{}", case.host, case.address);
            }
        }
    }
    let path = dir.join("dnsmasq.conf");
    write(&path, conf)?;
    Command::new("dnsmasq")
        .arg("-C")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("dnsmasq (scripts/deps.sh installs it): {e}"))
}

/// Python's http.server for the AIA URLs.
fn aia(matrix: &Matrix, dir: &Path) -> Result<Child, String> {
    let root = dir.join("aia");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    for (path, der) in &matrix.aia {
        write(&root.join(path.trim_start_matches('/')), der)?;
    }
    Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            &AIA_ADDRESS.to_string(),
            "80",
            "--directory",
        ])
        .arg(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("python3 http.server: {e}"))
}

/// tls_server.py with every OpenSSL case; waits for its "ready".
fn openssl_server(cases: &[&Case], dir: &Path, log: &Path) -> Result<Child, String> {
    let files = dir.join("cases");
    std::fs::create_dir_all(&files).map_err(|e| e.to_string())?;
    let mut config = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let chain = files.join(format!("{index}.pem"));
        write(
            &chain,
            case.chain.iter().map(|der| pem_of(der)).collect::<String>(),
        )?;
        let Server::OpenSsl { ciphers } = case.server else {
            continue;
        };
        config.push(serde_json::json!({
            "address": case.address.to_string(),
            "port": 993,
            "chain": chain,
            "key": case.key.path,
            "tls": match case.tls { Tls::Both => "both", Tls::Only12 => "1.2", Tls::Only13 => "1.3" },
            "ciphers": ciphers,
        }));
    }
    let config_path = dir.join("tls_server.json");
    write(
        &config_path,
        serde_json::to_vec(&config).map_err(|e| e.to_string())?,
    )?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity/tls_server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&config_path)
        .arg(log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 {}: {e}", script.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut first = String::new();
    let _ = BufReader::new(stdout).read_line(&mut first);
    if first.trim() != "ready" {
        let mut error = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut error);
        }
        let _ = child.kill();
        return Err(format!("the OpenSSL server did not start: {error}"));
    }
    Ok(child)
}

/// rustls presenting `case.chain` as it is (any bytes), signing with the case's key; one
/// thread, a connection at a time, each bounded by socket timeouts.
fn raw_server(case: &Case, stop: Arc<AtomicBool>) -> Result<(), String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            case.key.pkcs8().to_vec(),
        )))
        .map_err(|e| format!("{}: {e}", case.id))?;
    let chain: Vec<CertificateDer<'static>> = case
        .chain
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let certified = Arc::new(rustls::sign::CertifiedKey::new(chain, key));
    let versions: &[&rustls::SupportedProtocolVersion] = match case.tls {
        Tls::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Tls::Only12 => &[&rustls::version::TLS12],
        Tls::Only13 => &[&rustls::version::TLS13],
    };
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Fixed(certified))),
    );
    let listener =
        TcpListener::bind((case.address, 993)).map_err(|e| format!("{}: {e}", case.id))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let Ok((mut tcp, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            let _ = tcp.set_nonblocking(false);
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = tcp.set_write_timeout(Some(Duration::from_secs(5)));
            let Ok(mut connection) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::Stream::new(&mut connection, &mut tcp);
            if tls.write_all(b"* OK fidelity ready\r\n").is_err() {
                continue;
            }
            let mut line = [0u8; 1024];
            if let Ok(n) = tls.read(&mut line) {
                let tag = line[..n]
                    .split(|b| *b == b' ')
                    .next()
                    .unwrap_or(b"*")
                    .to_vec();
                let _ =
                    tls.write_all(&[b"* BYE bye\r\n".as_slice(), &tag, b" OK done\r\n"].concat());
            }
        }
    });
    Ok(())
}

/// The one certificate list a raw server presents, whatever the client asks.
#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Waits until every address accepts connections (at most 20 s).
fn wait_listening(addresses: impl Iterator<Item = SocketAddr>) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    for address in addresses {
        loop {
            if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("nothing listens on {address}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}
