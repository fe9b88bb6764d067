//! The local mail lab: real Dovecot (IMAP/POP3), Postfix (SMTP 25/587/465) and dnsmasq on
//! loopback addresses, with certificates made here by rcgen. Used by the integration tests and by
//! `scripts/demo.sh` (through `examples/lab.rs`). Needs root (ports below 1024, namespaces).
//!
//! Each scenario has its own 127.0.0.N address so all can use the standard ports side by side.
//! The lab starts only in a network of the run's own ([`netns`]), where the loopback answers
//! every 127.0.0.0/8 address (Postfix alone wants its addresses on an interface: they go on the
//! run's `lo`): nothing is added to the host's `lo`, and a mail server on the host or another
//! run of the lab cannot collide with it.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub mod delivery;
pub mod fleet;
pub mod mta_sts;
pub mod netns;
pub mod postgres;
pub mod sql;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use time::OffsetDateTime;

/// The test DNS server.
pub const DNS: &str = "127.0.0.53:53";
const DNS_IP: &str = "127.0.0.53";

/// One scenario: an address, the name clients use, and how it is broken.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Loopback address of the scenario's servers.
    pub address: &'static str,
    /// The name a user would type.
    pub name: &'static str,
}

pub const GOOD: Scenario = Scenario {
    address: "127.0.0.10",
    name: "mail.good.test",
};
/// The user types mail.customer.test; the certificate is for luna.hostingco.test; both resolve here.
pub const MISMATCH: Scenario = Scenario {
    address: "127.0.0.11",
    name: "mail.customer.test",
};
pub const HOSTING_NAME: &str = "luna.hostingco.test";
pub const EXPIRED: Scenario = Scenario {
    address: "127.0.0.12",
    name: "mail.expired.test",
};
pub const SELF_SIGNED: Scenario = Scenario {
    address: "127.0.0.13",
    name: "mail.selfsigned.test",
};
pub const UNKNOWN_CA: Scenario = Scenario {
    address: "127.0.0.14",
    name: "mail.unknownca.test",
};
pub const NO_CHAIN: Scenario = Scenario {
    address: "127.0.0.15",
    name: "mail.nochain.test",
};
/// Dovecot has the right certificate, Postfix an old one for a name that resolves nowhere.
pub const SPLIT: Scenario = Scenario {
    address: "127.0.0.16",
    name: "mail.split.test",
};
pub const SPLIT_SMTP_NAME: &str = "smtp.oldhost.test";
/// Dovecot presents the right certificate only when asked for it by SNI.
pub const SNI: Scenario = Scenario {
    address: "127.0.0.17",
    name: "mail.sni.test",
};
pub const SNI_DEFAULT_NAME: &str = "default.hostingco.test";
/// TLS switched off: no STARTTLS on 25/587/143/110.
pub const NO_TLS: Scenario = Scenario {
    address: "127.0.0.18",
    name: "mail.notls.test",
};

/// Blocklist zones the lab's DNS serves, as `--dnsbl` files next to the CA file (see
/// [`zone_file`]). `ZONES`: zen.bl.test (Spamhaus codes) lists MISMATCH's address as XBL,
/// plain.bl.test (generic) lists it too, dbl.bl.test (Spamhaus DBL) lists HOSTING_NAME.
pub const ZONES: &str = "dnsbl.zones";
/// refused.bl.test answers 127.255.255.254 to everything; slow.bl.test never answers.
pub const BROKEN_ZONES: &str = "dnsbl-broken.zones";
/// An address (no servers) whose PTR name resolves to another address.
pub const PTR_MISMATCH: &str = "127.0.0.19";
pub const PTR_MISMATCH_NAME: &str = "mx.elsewhere.test";
/// A mail domain with no address of its own and one MX: GOOD's name.
pub const MAIL_DOMAIN: &str = "maildomain.test";

/// The lab's HTTPS server for autoconfig and autodiscover (tests/lab/provisioning_server.py).
pub const WEB: &str = "127.0.0.23";
/// Mail domains for discovery. DISC_GOOD: SRV, autoconfig (both URLs) and autodiscover (direct
/// and through its SRV record) all name mail.good.test, and _pop3._tcp says "not offered". DISC_BAD: SRV, MX and autoconfig name
/// mail.disc-bad.test, an address of MISMATCH's server (its certificate is for HOSTING_NAME).
/// DISC_BROKEN: a malformed autoconfig. DISC_LOOP: an autoconfig that redirects to itself.
/// DISC_BADCERT: an autoconfig served with a certificate that does not cover its name. All but
/// DISC_BAD also have an _imaps._tcp SRV record naming mail.good.test.
pub const DISC_GOOD: &str = "disc-good.test";
pub const DISC_BAD: &str = "disc-bad.test";
pub const DISC_BROKEN: &str = "disc-broken.test";
pub const DISC_LOOP: &str = "disc-loop.test";
pub const DISC_BADCERT: &str = "disc-badcert.test";
/// A customer domain on a shared web host: its website (DISC_WEB itself) is served by WEBHOST
/// with a certificate that names only WEBHOST_NAME, so Outlook's first Autodiscover step gets a
/// certificate for another name; its mail (SRV and MX) is on mail.good.test and works. No
/// autoconfig or autodiscover host of its own.
pub const DISC_WEB: &str = "disc-web.test";
/// A domain whose SRV and MX records name a host where nothing listens (127.0.0.99): no server
/// handed out can be checked.
pub const DISC_DEAD: &str = "disc-dead.test";
/// A domain whose mail (SRV and MX: mail.good.test) works, but whose autoconfig name is in a
/// zone the resolver forwards to a server that never answers: the resolver's silence must be
/// reported as "not checked", not as the domain's fault.
pub const DISC_SILENT: &str = "disc-silent.test";
/// A domain whose IMAP SRV record names a host (mail.DISC_SILENT_HOST) in a zone forwarded to
/// the silent server, while its submission SRV and MX name mail.good.test: the host handed out
/// must be "not checked", never "does not resolve".
pub const DISC_SILENT_HOST: &str = "disc-silent-host.test";
/// A domain whose only server handed out is DISC_SILENT_HOST's silent host and whose autoconfig
/// is on the lab's web server (an inside address): whether fetching inside is allowed (the
/// domain's own servers live inside) cannot be known, so the autoconfig is "not checked",
/// not "refused".
pub const DISC_SILENT_ONLY: &str = "disc-silent-only.test";
/// A domain whose IMAP SRV record names a host with no address in DNS (mail.DISC_NXHOST, no
/// such name), while its MX is mail.good.test: the host handed out does not resolve, and the
/// only server that works is the MX (port 25), which mail apps do not use.
pub const DISC_NXHOST: &str = "disc-nxhost.test";
/// A domain that publishes nothing, whose mail.DOMAIN is MISMATCH's server (its certificate
/// names HOSTING_NAME only): Thunderbird's guess refuses mail.DOMAIN:993 for the certificate but
/// takes 143 with STARTTLS (offered before TLS), and the user meets the warning at the first
/// login.
pub const DISC_GUESS: &str = "disc-guess.test";
/// Its HTTPS autoconfig host is not on the web server's certificate; over plain HTTP (WEB, port
/// 80) it hands out mail.good.test with STARTTLS (143, 587): Thunderbird takes that. This one and
/// the three after it receive mail at mail.good.test (MX), which makes their documents on the
/// lab's inside address fetchable.
pub const DISC_HTTP: &str = "disc-http.test";
/// No autoconfig; Autodiscover at autodiscover.DOMAIN hands out mail.good.test (IMAP 993 with
/// `<Encryption>TLS</Encryption>`, SMTP 587 with `<SSL>on</SSL>`).
pub const DISC_AD: &str = "disc-ad.test";
/// Its HTTPS autoconfig is a valid clientConfig served as text/plain, its plain-HTTP one a
/// clientConfig as text/xml: Thunderbird reads neither (the first fetch that succeeds ends the
/// step).
pub const DISC_TEXT: &str = "disc-text.test";
/// Its HTTPS autoconfig is malformed XML served as text/xml; its HTTPS .well-known hands out
/// mail.good.test with STARTTLS: Thunderbird gets the XML parser's error document, which its
/// reader refuses, and that ends the step: the .well-known is not read (measured).
pub const DISC_MALFORMED: &str = "disc-malformed.test";
/// Where DISC_DEAD's records point: an address with no server at all.
pub const DEAD: &str = "127.0.0.99";
/// The shared web host's HTTPS server (tests/lab/provisioning_server.py again, 404 for all).
pub const WEBHOST: &str = "127.0.0.24";
/// The only name on the shared web host's certificate.
pub const WEBHOST_NAME: &str = "www.webhost.test";

/// For `mailtls serve`'s refusals: a name resolving into each special-purpose range (nothing is
/// ever sent there: the names exist only to be refused), and a mail domain whose only MX host
/// resolves into a private range.
pub const SSRF_NAMES: [(&str, &str); 10] = [
    ("ssrf-loopback.test", "127.0.0.1"),
    ("ssrf-private.test", "10.0.0.1"),
    ("ssrf-linklocal.test", "169.254.169.254"),
    ("ssrf-cgnat.test", "100.64.0.1"),
    ("ssrf-multicast.test", "224.0.0.1"),
    ("ssrf-reserved.test", "240.0.0.1"),
    ("ssrf-v6-loopback.test", "::1"),
    ("ssrf-v6-ula.test", "fd00::1"),
    ("ssrf-v6-linklocal.test", "fe80::1"),
    ("ssrf-v6-mapped.test", "::ffff:10.0.0.1"),
];
/// For `serve`'s provisioning test: a name on an address where nothing listens until the test
/// starts a TLS server (tests/lab/tls_greeter.py) with `swap.crt` (for this name), then with `swap-other.crt`
/// (for [`SWAP_OTHER_NAME`] only).
pub const SWAP: Scenario = Scenario {
    address: "127.0.0.39",
    name: "mail.swap.test",
};
/// The only name on `swap-other.crt`.
pub const SWAP_OTHER_NAME: &str = "other.swap.test";
/// Where `serve`'s XSS test runs a TLS server (tls_greeter.py) with `xss.crt`, whose names are markup.
pub const XSS: &str = "127.0.0.38";
/// The names on `xss.crt`.
pub const XSS_NAMES: [&str; 2] = [
    "<script>alert(1)</script>.xss.test",
    "<img src=x onerror=alert(2)>",
];
/// A mail domain (MX only) whose exchanger is `ssrf-private.test`.
pub const SSRF_MX: &str = "ssrf-mx.test";
/// A mail domain whose autoconfig document (on WEB) names `<script>alert(1)</script>`.
pub const DISC_XSS: &str = "disc-xss.test";

/// Thunderbird's steps 5 and 6 (Mozilla's ISP database) against the test database
/// `tests/data/ispdb` (`--ispdb`): DISC_ISPDB's most preferred MX host is ISPDB_MX (GOOD's
/// address; a less preferred one is GOOD.name), so Thunderbird asks for eu.mailprovider.test,
/// then mailprovider.test, both listed there. ISPDB_ALIAS has no records at all but is listed
/// itself, in a file named for another domain.
pub const DISC_ISPDB: &str = "disc-ispdb.test";
pub const ISPDB_MX: &str = "mx.eu.mailprovider.test";
pub const ISPDB_ALIAS: &str = "mailprovider-alias.test";
/// The same database served as live.thunderbird.net serves its own (provisioning_server.py on
/// WEB, `https://ISPDB_HOST/v1.1/DOMAIN`, Content-Type text/xml).
pub const ISPDB_HOST: &str = "ispdb.test";
/// A domain whose MX is at a real provider in the bundled database (Google). The lab's resolver
/// answers every google.com and gmail.com name as one that does not exist, so nothing outside
/// the lab is ever asked or contacted.
pub const DISC_GMAIL: &str = "disc-gmail.test";
pub const GMAIL_MX: &str = "aspmx.l.google.com";

/// The path of one of the lab's `--dnsbl` files, given the lab's CA file.
pub fn zone_file(ca_file: &str, name: &str) -> PathBuf {
    Path::new(ca_file).with_file_name(name)
}

/// Dovecot and Postfix accept TLS 1.3 only.
pub const TLS13: Scenario = Scenario {
    address: "127.0.0.21",
    name: "mail.tls13.test",
};
/// Old protocols: an `openssl s_server` on 993 that speaks only TLS 1.0 (security level 0,
/// anonymous suites allowed), and Postfix (25, 587, 465) with TLS 1.0 and 1.1 allowed. Nothing on 143/110/995.
pub const LEGACY: Scenario = Scenario {
    address: "127.0.0.22",
    name: "mail.legacy.test",
};

/// A certificate with no subjectAltName at all, only the name in its Common Name: GnuTLS (and
/// NSS's classic verifier) fall back to the CN, mozilla::pkix and Apple do not.
pub const CN_ONLY: Scenario = Scenario {
    address: "127.0.0.25",
    name: "mail.cnonly.test",
};

/// A hosting server behind many customer names: every name under FLEET_DOMAIN resolves to
/// FLEET_FRONT, where the engine test puts a counting proxy in front of this server; its
/// certificate names only FLEET.name, which resolves to FLEET_FRONT too.
pub const FLEET: Scenario = Scenario {
    address: "127.0.0.31",
    name: "luna.fleethosting.test",
};
/// A Postfix (25, 587, 465) that answers every connection with `421 4.7.0 ... too many
/// connections` and closes it, as a server limiting connections per client does.
pub const BUSY: Scenario = Scenario {
    address: "127.0.0.32",
    name: "mx.busy.test",
};
/// A Postfix behind postscreen on 25: it sends the first line of its greeting, then waits
/// [`TARPIT_WAIT`] seconds before the rest (the pregreet test). A client with a shorter
/// timeout meets a tarpit.
pub const TARPIT: Scenario = Scenario {
    address: "127.0.0.34",
    name: "mx.tarpit.test",
};
/// How long TARPIT's postscreen waits before completing its greeting.
pub const TARPIT_WAIT: u64 = 8;

/// Where FLEET's names point: the proxy the engine test runs (nothing listens otherwise).
pub const FLEET_FRONT: &str = "127.0.0.30";
/// Every name under it resolves to FLEET_FRONT.
pub const FLEET_DOMAIN: &str = "fleet.test";

/// The scan tests' hosting server (see [`fleet`]): its certificate names only SCANHOST.name,
/// which resolves to SCAN_FRONT, as do the fleet's hosted names; the scan tests run a counting
/// proxy there.
pub const SCANHOST: Scenario = Scenario {
    address: "127.0.0.36",
    name: "luna.scanhosting.test",
};
/// Where the fleet's hosted names point: the scan tests' proxy (nothing listens otherwise).
pub const SCAN_FRONT: &str = "127.0.0.35";

pub const ALL: [Scenario; 14] = [
    GOOD,
    MISMATCH,
    EXPIRED,
    SELF_SIGNED,
    UNKNOWN_CA,
    NO_CHAIN,
    SPLIT,
    SNI,
    NO_TLS,
    TLS13,
    LEGACY,
    FLEET,
    CN_ONLY,
    SCANHOST,
];

/// Every mail domain the lab serves for discovery, for the tests that go over all of them
/// (DISC_ISPDB and ISPDB_ALIAS are meant to be checked with `--ispdb tests/data/ispdb`). Not
/// SSRF_MX: its MX resolves outside 127.0.0.0/8, where no test may connect (only `serve`'s
/// refusal of it is tested).
pub const DISCOVERY_DOMAINS: [&str; 21] = [
    DISC_GOOD,
    DISC_BAD,
    DISC_BROKEN,
    DISC_LOOP,
    DISC_BADCERT,
    DISC_WEB,
    DISC_DEAD,
    DISC_SILENT,
    DISC_SILENT_HOST,
    DISC_SILENT_ONLY,
    DISC_NXHOST,
    DISC_XSS,
    MAIL_DOMAIN,
    DISC_ISPDB,
    ISPDB_ALIAS,
    DISC_GMAIL,
    DISC_GUESS,
    DISC_HTTP,
    DISC_AD,
    DISC_TEXT,
    DISC_MALFORMED,
];

/// Every host the lab runs (or names) besides [`ALL`]: the busy and tarpit servers, the hosting
/// name behind MISMATCH, MISMATCH by its address, and the address with no servers.
pub const MORE_HOSTS: [&str; 5] = [
    BUSY.name,
    TARPIT.name,
    HOSTING_NAME,
    MISMATCH.address,
    PTR_MISMATCH,
];

/// A running lab.
#[derive(Debug)]
pub struct Lab {
    /// Where configs, certificates, logs and pid files live.
    pub dir: PathBuf,
    /// The test CA to pass with `--ca-file`.
    pub ca_file: PathBuf,
}

/// A certificate with its key, as PEM.
struct Issued {
    cert_pem: String,
    key_pem: String,
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert_pem: String,
    cert_der: Vec<u8>,
}

fn ca(common_name: &str, parent: Option<&Ca>) -> Result<Ca, String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "mailtls lab");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(30);
    params.not_after = now + time::Duration::days(3650);
    let cert = match parent {
        None => params.self_signed(&key),
        Some(parent) => params.signed_by(&key, &Issuer::from_params(&parent.params, &parent.key)),
    }
    .map_err(|e| e.to_string())?;
    Ok(Ca {
        params,
        key,
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
    })
}

/// Where the NO_CHAIN leaf says its issuer can be fetched (AIA caIssuers), served by the lab.
pub const AIA_PORT: u16 = 8080;

/// The DER of an AuthorityInfoAccess extension value with one caIssuers URI (rcgen has no
/// builder for it): SEQUENCE { SEQUENCE { OID 1.3.6.1.5.5.7.48.2, [6] IA5String uri } }.
fn aia_extension(uri: &str) -> rcgen::CustomExtension {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        // Short and one-byte long forms cover every URL the lab uses.
        match u8::try_from(len) {
            Ok(short) if short < 128 => out.push(short),
            Ok(long) => out.extend([0x81, long]),
            Err(_) => panic!("AIA extension part of {len} bytes: longer than the lab needs"),
        }
        out.extend_from_slice(body);
        out
    }
    let mut access = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02]);
    access.extend(tlv(0x86, uri.as_bytes()));
    let value = tlv(0x30, &tlv(0x30, &access));
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], value)
}

fn leaf(names: &[&str], issuer: Option<&Ca>, valid: (i64, i64)) -> Result<Issued, String> {
    leaf_with(names, issuer, valid, Vec::new())
}

/// A leaf naming `name` only in its subject Common Name, with no subjectAltName.
fn leaf_cn_only(name: &str, issuer: &Ca) -> Result<Issued, String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(90);
    let cert = params
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .map_err(|e| e.to_string())?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn leaf_with(
    names: &[&str],
    issuer: Option<&Ca>,
    valid: (i64, i64),
    extensions: Vec<rcgen::CustomExtension>,
) -> Result<Issued, String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].clone());
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.custom_extensions = extensions;
    let now = OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(valid.0);
    params.not_after = now + time::Duration::days(valid.1);
    let cert = match issuer {
        None => params.self_signed(&key),
        Some(ca) => params.signed_by(&key, &Issuer::from_params(&ca.params, &ca.key)),
    }
    .map_err(|e| e.to_string())?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Makes `conf` a private Postfix configuration directory: the distribution's main.cf and
/// master.cf copied in, and `conf` listed in the default configuration's
/// `alternate_config_directories` (Postfix refuses a private directory it does not list). That
/// edit goes to the run's own copy of /etc/postfix, never to the host's.
pub fn private_postfix_conf(conf: &Path) -> Result<(), String> {
    for file in ["main.cf", "master.cf"] {
        std::fs::copy(Path::new("/etc/postfix").join(file), conf.join(file))
            .map_err(|e| format!("/etc/postfix/{file}: {e}"))?;
    }
    netns::private_copy(Path::new("/etc/postfix"))?;
    let listed = run(Command::new("postconf").args(["-h", "alternate_config_directories"]))?;
    let conf_text = conf.display().to_string();
    if !listed.split([',', ' ', '\n']).any(|d| d == conf_text) {
        let value = if listed.trim().is_empty() {
            conf_text.clone()
        } else {
            format!("{}, {conf_text}", listed.trim())
        };
        run(Command::new("postconf")
            .arg("-e")
            .arg(format!("alternate_config_directories = {value}")))?;
    }
    Ok(())
}

fn run(command: &mut Command) -> Result<String, String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Starts a program that puts itself in the background. Its output goes to `log`, not to pipes:
/// a daemon inherits them and would keep them open, so waiting for their end would never return.
fn run_daemon(command: &mut Command, log: &Path) -> Result<(), String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = command
        .stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({status}): {}",
            std::fs::read_to_string(log).unwrap_or_default()
        ))
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

impl Lab {
    /// The run's directory, which [`netns::enter`] sets (`MAILTLS_LAB_DIR`): the lab's
    /// directories go in it, so two runs never share one.
    pub fn default_dir() -> PathBuf {
        std::env::var_os(netns::RUN_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("mailtls-lab"))
    }

    /// Starts everything in `dir` (wiped first), inside the run's network ([`netns::check`]).
    /// Whatever an earlier run started died with that run's namespace: a pid file left in `dir`
    /// names nothing of this run, so none is read.
    pub fn start(dir: &Path) -> Result<Lab, String> {
        netns::check()?;
        let _ = std::fs::remove_dir_all(dir);
        for sub in [
            "certs",
            "dovecot/run",
            "dovecot/state",
            "postfix/conf",
            "postfix/queue",
            "postfix/data",
        ] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("{}: {e}", dir.join(sub).display()))?;
        }
        for binary in ["dovecot", "postfix", "postconf", "dnsmasq", "ip", "openssl"] {
            if run(Command::new("sh").args(["-c", &format!("command -v {binary}")])).is_err() {
                return Err(format!(
                    "{binary} is not installed: run scripts/test.sh (as root), which installs it"
                ));
            }
        }
        let certs = dir.join("certs");
        let lab = Lab {
            dir: dir.to_path_buf(),
            ca_file: certs.join("ca.pem"),
        };
        lab.make_certificates()?;
        lab.start_dnsmasq()?;
        lab.start_dovecot()?;
        lab.start_postfix()?;
        lab.start_aia_server()?;
        lab.start_legacy_server()?;
        lab.start_provisioning_server()?;
        lab.start_mta_sts_server()?;
        lab.wait_until_listening()?;
        Ok(lab)
    }

    fn cert_files(&self, name: &str) -> (String, String) {
        let certs = self.dir.join("certs");
        (
            certs.join(format!("{name}.crt")).display().to_string(),
            certs.join(format!("{name}.key")).display().to_string(),
        )
    }

    fn make_certificates(&self) -> Result<(), String> {
        let root = ca("mailtls Lab Root CA", None)?;
        let intermediate = ca("mailtls Lab Intermediate CA", Some(&root))?;
        let other_root = ca("Unknown Private Root CA", None)?;
        let other_intermediate = ca("Unknown Private Intermediate", Some(&other_root))?;
        write(&self.ca_file, &root.cert_pem)?;
        let current = (-1, 90);
        let save = |file: &str, issued: Issued, chain: &[&Ca]| -> Result<(), String> {
            let (crt, key) = self.cert_files(file);
            let mut pem = issued.cert_pem;
            for ca in chain {
                pem.push_str(&ca.cert_pem);
            }
            write(Path::new(&crt), &pem)?;
            write(Path::new(&key), &issued.key_pem)
        };
        let with_chain = [&intermediate];
        save(
            "good",
            leaf(&[GOOD.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "hosting",
            leaf(&[HOSTING_NAME], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "expired",
            leaf(&[EXPIRED.name], Some(&intermediate), (-400, -10))?,
            &with_chain,
        )?;
        save("selfsigned", leaf(&[SELF_SIGNED.name], None, current)?, &[])?;
        save(
            "unknownca",
            leaf(&[UNKNOWN_CA.name], Some(&other_intermediate), current)?,
            &[&other_intermediate],
        )?;
        // The server forgets the intermediate, but the leaf says where to fetch it, and the lab
        // serves it there: the case where Outlook and Apple Mail work and Thunderbird fails.
        let aia = format!("http://{}:{AIA_PORT}/intermediate.der", NO_CHAIN.address);
        save(
            "nochain",
            leaf_with(
                &[NO_CHAIN.name],
                Some(&intermediate),
                current,
                vec![aia_extension(&aia)],
            )?,
            &[],
        )?;
        std::fs::create_dir_all(self.dir.join("aia")).map_err(|e| e.to_string())?;
        std::fs::write(
            self.dir.join("aia/intermediate.der"),
            &intermediate.cert_der,
        )
        .map_err(|e| e.to_string())?;
        save(
            "split",
            leaf(&[SPLIT.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "split-smtp",
            leaf(&[SPLIT_SMTP_NAME], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "sni",
            leaf(&[SNI.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "tls13",
            leaf(&[TLS13.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "legacy",
            leaf(&[LEGACY.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "cnonly",
            leaf_cn_only(CN_ONLY.name, &intermediate)?,
            &with_chain,
        )?;
        save(
            "webhost",
            leaf(&[WEBHOST_NAME], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "fleet",
            leaf(&[FLEET.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "scanhost",
            leaf(&[SCANHOST.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        // For `serve`: a server whose certificate the test swaps (SWAP), and names made to break
        // an unescaped page (XSS, served by a TLS server the test starts).
        save(
            "swap",
            leaf(&[SWAP.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "swap-other",
            leaf(&[SWAP_OTHER_NAME], Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "xss",
            leaf(&XSS_NAMES, Some(&intermediate), current)?,
            &with_chain,
        )?;
        // The provisioning server: every name it serves except autoconfig.DISC_BADCERT.
        let web_names: Vec<String> = [
            DISC_GOOD,
            DISC_BAD,
            DISC_BROKEN,
            DISC_LOOP,
            DISC_XSS,
            DISC_TEXT,
            DISC_MALFORMED,
        ]
        .iter()
        .map(|d| format!("autoconfig.{d}"))
        .chain([
            format!("autodiscover.{DISC_GOOD}"),
            DISC_GOOD.to_string(),
            format!("autodiscover.{DISC_AD}"),
            DISC_MALFORMED.to_string(),
            ISPDB_HOST.to_string(),
        ])
        .collect();
        let web_refs: Vec<&str> = web_names.iter().map(String::as_str).collect();
        save(
            "web",
            leaf(&web_refs, Some(&intermediate), current)?,
            &with_chain,
        )?;
        let policy_hosts = mta_sts::web_names();
        let policy_refs: Vec<&str> = policy_hosts.iter().map(String::as_str).collect();
        save(
            "mta-sts-web",
            leaf(&policy_refs, Some(&intermediate), current)?,
            &with_chain,
        )?;
        let fleet_names = fleet::web_names();
        let fleet_refs: Vec<&str> = fleet_names.iter().map(String::as_str).collect();
        save(
            "fleet-web",
            leaf(&fleet_refs, Some(&intermediate), current)?,
            &with_chain,
        )?;
        save(
            "busy",
            leaf(&[BUSY.name, TARPIT.name], Some(&intermediate), current)?,
            &with_chain,
        )?;
        // openssl s_server sends only the first certificate of -cert; -cert_chain adds the rest.
        write(
            &self.dir.join("certs/intermediate.pem"),
            &intermediate.cert_pem,
        )?;
        save(
            "sni-default",
            leaf(&[SNI_DEFAULT_NAME], Some(&intermediate), current)?,
            &with_chain,
        )?;
        Ok(())
    }

    fn start_dnsmasq(&self) -> Result<(), String> {
        let mut conf = format!(
            "port=53\nlisten-address={DNS_IP}\nbind-interfaces\nno-resolv\nno-hosts\nlocal=/test/\n\
             pid-file={}\nlog-facility={}\n",
            self.dir.join("dnsmasq.pid").display(),
            self.dir.join("dnsmasq.log").display()
        );
        // The first host-record for an address also makes its PTR record.
        let records = [
            (GOOD.name, GOOD.address),
            (HOSTING_NAME, MISMATCH.address),
            (MISMATCH.name, MISMATCH.address),
            (EXPIRED.name, EXPIRED.address),
            (SELF_SIGNED.name, SELF_SIGNED.address),
            (UNKNOWN_CA.name, UNKNOWN_CA.address),
            (NO_CHAIN.name, NO_CHAIN.address),
            (SPLIT.name, SPLIT.address),
            (SNI.name, SNI.address),
            (NO_TLS.name, NO_TLS.address),
            (TLS13.name, TLS13.address),
            (LEGACY.name, LEGACY.address),
            (FLEET.name, FLEET_FRONT),
            (CN_ONLY.name, CN_ONLY.address),
            (SCANHOST.name, SCAN_FRONT),
        ];
        for (name, address) in records {
            let _ = writeln!(conf, "host-record={name},{address}");
        }
        let _ = writeln!(conf, "address=/{FLEET_DOMAIN}/{FLEET_FRONT}");
        let _ = writeln!(
            conf,
            "host-record={},{}\nhost-record={},{}",
            BUSY.name, BUSY.address, TARPIT.name, TARPIT.address
        );
        conf.push_str(&fleet::dns_records(GOOD.name, SCAN_FRONT, BUSY.name));
        conf.push_str(&mta_sts::dns_records(GOOD.name, MISMATCH.name, DEAD));
        // Blocklists: a listing is an A record (and a TXT reason) on the reversed address.
        let listed = MISMATCH
            .address
            .split('.')
            .rev()
            .collect::<Vec<_>>()
            .join(".");
        let _ = writeln!(
            conf,
            "address=/{listed}.zen.bl.test/127.0.0.4\n\
             txt-record={listed}.zen.bl.test,\"Listed in the lab XBL\"\n\
             address=/{listed}.plain.bl.test/127.0.0.2\n\
             address=/{HOSTING_NAME}.dbl.bl.test/127.0.1.2\n\
             address=/refused.bl.test/127.255.255.254\n\
             server=/slow.bl.test/127.0.0.98#5398\n\
             ptr-record={}.in-addr.arpa,{PTR_MISMATCH_NAME}\n\
             host-record={PTR_MISMATCH_NAME},127.0.0.20\n\
             mx-host={MAIL_DOMAIN},{},10",
            PTR_MISMATCH.split('.').rev().collect::<Vec<_>>().join("."),
            GOOD.name
        );
        // Discovery: SRV, MX and the provisioning web server's names.
        let _ = writeln!(
            conf,
            "host-record=mail.{DISC_BAD},{mismatch}\n\
             srv-host=_imaps._tcp.{DISC_BAD},mail.{DISC_BAD},993,0,1\n\
             srv-host=_submissions._tcp.{DISC_BAD},mail.{DISC_BAD},465,0,1\n\
             mx-host={DISC_BAD},mail.{DISC_BAD},10\n\
             srv-host=_submissions._tcp.{DISC_GOOD},{good},465,0,1\n\
             srv-host=_pop3._tcp.{DISC_GOOD}\n\
             mx-host={DISC_GOOD},{good},10\n\
             host-record=autodiscover.{DISC_GOOD},{WEB}\n\
             host-record={DISC_GOOD},{WEB}\n\
             srv-host=_autodiscover._tcp.{DISC_GOOD},autodiscover.{DISC_GOOD},443,0,1",
            mismatch = MISMATCH.address,
            good = GOOD.name
        );
        let _ = writeln!(
            conf,
            "srv-host=_imaps._tcp.{DISC_SILENT},{good},993,0,1\n\
             mx-host={DISC_SILENT},{good},10\n\
             server=/autoconfig.{DISC_SILENT}/127.0.0.98#5398
             srv-host=_imaps._tcp.{DISC_SILENT_HOST},mail.{DISC_SILENT_HOST},993,0,1
             srv-host=_submissions._tcp.{DISC_SILENT_HOST},{good},465,0,1
             mx-host={DISC_SILENT_HOST},{good},10
             server=/mail.{DISC_SILENT_HOST}/127.0.0.98#5398\n\
             srv-host=_imaps._tcp.{DISC_SILENT_ONLY},mail.{DISC_SILENT_HOST},993,0,1\n\
             host-record=autoconfig.{DISC_SILENT_ONLY},{WEB}",
            good = GOOD.name
        );
        let _ = writeln!(
            conf,
            "host-record=mail.{DISC_DEAD},{DEAD}\n\
             srv-host=_imaps._tcp.{DISC_DEAD},mail.{DISC_DEAD},993,0,1\n\
             mx-host={DISC_DEAD},mail.{DISC_DEAD},10"
        );
        let _ = writeln!(
            conf,
            "srv-host=_imaps._tcp.{DISC_NXHOST},mail.{DISC_NXHOST},993,0,1\n\
             mx-host={DISC_NXHOST},{},10",
            GOOD.name
        );
        for domain in [DISC_GOOD, DISC_BROKEN, DISC_LOOP, DISC_BADCERT, DISC_WEB] {
            let _ = writeln!(conf, "srv-host=_imaps._tcp.{domain},{},993,0,1", GOOD.name);
        }
        let _ = writeln!(
            conf,
            "host-record={DISC_WEB},{WEBHOST}\nhost-record={WEBHOST_NAME},{WEBHOST}\n\
             srv-host=_submissions._tcp.{DISC_WEB},{good},465,0,1\n\
             mx-host={DISC_WEB},{good},10",
            good = GOOD.name
        );
        for domain in [DISC_GOOD, DISC_BAD, DISC_BROKEN, DISC_LOOP, DISC_BADCERT] {
            let _ = writeln!(conf, "host-record=autoconfig.{domain},{WEB}");
        }
        // Thunderbird's own steps: the guess, plain HTTP, Autodiscover, what it cannot read.
        let _ = writeln!(
            conf,
            "host-record=mail.{DISC_GUESS},{mismatch}\n\
             host-record=autoconfig.{DISC_HTTP},{WEB}\n\
             host-record=autodiscover.{DISC_AD},{WEB}\n\
             host-record=autoconfig.{DISC_TEXT},{WEB}\n\
             host-record=autoconfig.{DISC_MALFORMED},{WEB}\n\
             host-record={DISC_MALFORMED},{WEB}\n\
             mx-host={DISC_HTTP},{good},10\n\
             mx-host={DISC_AD},{good},10\n\
             mx-host={DISC_TEXT},{good},10\n\
             mx-host={DISC_MALFORMED},{good},10",
            mismatch = MISMATCH.address,
            good = GOOD.name
        );
        write(
            &self.ca_file.with_file_name(ZONES),
            "ip zen.bl.test codes=spamhaus delist=https://zen.bl.test/remove\n\
             ip plain.bl.test delist=https://plain.bl.test/remove\n\
             domain dbl.bl.test codes=spamhaus-dbl\n",
        )?;
        write(
            &self.ca_file.with_file_name(BROKEN_ZONES),
            "ip refused.bl.test codes=spamhaus\nip slow.bl.test\n",
        )?;
        for (name, address) in SSRF_NAMES {
            let _ = writeln!(conf, "host-record={name},{address}");
        }
        let _ = writeln!(conf, "host-record={},{}", SWAP.name, SWAP.address);
        let _ = writeln!(
            conf,
            "mx-host={SSRF_MX},ssrf-private.test,10\nhost-record=autoconfig.{DISC_XSS},{WEB}\n\
             mx-host={DISC_XSS},{},10",
            GOOD.name
        );
        // The ISP database steps; names of the real provider stay inside the lab (local=).
        let _ = writeln!(
            conf,
            "host-record={ISPDB_MX},{good_address}\nmx-host={DISC_ISPDB},{ISPDB_MX},10\n\
             mx-host={DISC_ISPDB},{good},20\nhost-record={ISPDB_HOST},{WEB}\n\
             local=/google.com/\nlocal=/gmail.com/\n\
             mx-host={DISC_GMAIL},{GMAIL_MX},1\nmx-host={DISC_GMAIL},alt1.{GMAIL_MX},5",
            good_address = GOOD.address,
            good = GOOD.name
        );
        let path = self.dir.join("dnsmasq.conf");
        write(&path, &conf)?;
        run_daemon(
            Command::new("dnsmasq").arg("-C").arg(&path),
            &self.dir.join("dnsmasq.out"),
        )
    }

    fn start_dovecot(&self) -> Result<(), String> {
        let dir = self.dir.join("dovecot");
        // Login processes serve many connections (Dovecot's documented "high-performance
        // mode"): the default forks one per connection, and each fork reads every certificate.
        // LEGACY's 993 belongs to openssl s_server.
        let listen: Vec<&str> = ALL
            .iter()
            .map(|s| s.address)
            .filter(|a| *a != LEGACY.address)
            .collect();
        let (good_crt, good_key) = self.cert_files("good");
        let mut conf = format!(
            "base_dir = {run}\nstate_dir = {state}\nlog_path = {log}\nlisten = {listen}\n\
             protocols = imap pop3\nssl = yes\nssl_min_protocol = TLSv1.2\n\
             ssl_cert = <{good_crt}\nssl_key = <{good_key}\n\
             default_login_user = dovenull\ndefault_internal_user = dovecot\n\
             passdb {{\n  driver = static\n  args = password=never-used-by-tests\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home=/nonexistent\n}}\n\
             service imap-login {{\n  service_count = 0\n  process_min_avail = 2\n}}\n\
             service pop3-login {{\n  service_count = 0\n  process_min_avail = 2\n}}\n",
            run = dir.join("run").display(),
            state = dir.join("state").display(),
            log = dir.join("dovecot.log").display(),
            listen = listen.join(", "),
        );
        let per_address = [
            (GOOD, "good"),
            (MISMATCH, "hosting"),
            (EXPIRED, "expired"),
            (SELF_SIGNED, "selfsigned"),
            (UNKNOWN_CA, "unknownca"),
            (NO_CHAIN, "nochain"),
            (SPLIT, "split"),
            (FLEET, "fleet"),
            (CN_ONLY, "cnonly"),
            (SCANHOST, "scanhost"),
        ];
        for (scenario, file) in per_address {
            let (crt, key) = self.cert_files(file);
            let _ = writeln!(
                conf,
                "local {} {{\n  ssl_cert = <{crt}\n  ssl_key = <{key}\n}}",
                scenario.address
            );
        }
        // SNI: the default certificate for the address, the right one only for its name. The
        // local_name block must sit inside the local block (a top-level one crashes the login).
        let (default_crt, default_key) = self.cert_files("sni-default");
        let (sni_crt, sni_key) = self.cert_files("sni");
        let _ = writeln!(
            conf,
            "local {} {{\n  ssl_cert = <{default_crt}\n  ssl_key = <{default_key}\n  local_name {} {{\n    \
             ssl_cert = <{sni_crt}\n    ssl_key = <{sni_key}\n  }}\n}}",
            SNI.address, SNI.name
        );
        let _ = writeln!(conf, "local {} {{\n  ssl = no\n}}", NO_TLS.address);
        let (tls13_crt, tls13_key) = self.cert_files("tls13");
        let _ = writeln!(
            conf,
            "local {} {{\n  ssl_cert = <{tls13_crt}\n  ssl_key = <{tls13_key}\n  \
             ssl_min_protocol = TLSv1.3\n}}",
            TLS13.address
        );
        let path = dir.join("dovecot.conf");
        write(&path, &conf)?;
        run_daemon(
            Command::new("dovecot").arg("-c").arg(&path),
            &dir.join("start.out"),
        )
    }

    fn start_postfix(&self) -> Result<(), String> {
        let dir = self.dir.join("postfix");
        let conf = dir.join("conf");
        private_postfix_conf(&conf)?;
        run(Command::new("chown").arg("postfix").arg(dir.join("data")))?;
        let addresses: Vec<&str> = ALL
            .iter()
            .map(|s| s.address)
            .chain([BUSY.address, TARPIT.address])
            .collect();
        // Postfix refuses an inet_interfaces address that no interface carries ("no local
        // interface found"), although the loopback answers it: on the run's lo, then.
        for address in &addresses {
            add_address(address)?;
        }
        let (good_crt, good_key) = self.cert_files("good");
        run(Command::new("postconf")
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .args([
                format!("inet_interfaces = {}", addresses.join(", ")),
                "inet_protocols = ipv4".to_string(),
                format!("queue_directory = {}", dir.join("queue").display()),
                format!("data_directory = {}", dir.join("data").display()),
                format!("smtpd_tls_cert_file = {good_crt}"),
                format!("smtpd_tls_key_file = {good_key}"),
                "smtpd_tls_security_level = may".to_string(),
                // Current practice; LEGACY turns the old protocols back on for itself.
                "smtpd_tls_protocols = >=TLSv1.2".to_string(),
                "smtpd_tls_mandatory_protocols = >=TLSv1.2".to_string(),
                "smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5".to_string(),
                "myhostname = mx.lab.test".to_string(),
                "mydestination =".to_string(),
                "smtpd_relay_restrictions = reject".to_string(),
                format!("maillog_file_prefixes = {}", dir.display()),
                format!("maillog_file = {}", dir.join("postfix.log").display()),
            ]))?;
        run(Command::new("postconf")
            .arg("-c")
            .arg(&conf)
            .args(["-F", "*/*/chroot = n"]))?;
        run(Command::new("postconf").arg("-c").arg(&conf).args([
            "-MX",
            "smtp/inet",
            "submission/inet",
            "smtps/inet",
        ]))?;
        let per_address = [
            (GOOD, "good"),
            (MISMATCH, "hosting"),
            (EXPIRED, "expired"),
            (SELF_SIGNED, "selfsigned"),
            (UNKNOWN_CA, "unknownca"),
            (NO_CHAIN, "nochain"),
            (SPLIT, "split-smtp"),
            (SNI, "sni"),
            (TLS13, "tls13"),
            (LEGACY, "legacy"),
            (FLEET, "fleet"),
            (CN_ONLY, "cnonly"),
            (SCANHOST, "scanhost"),
        ];
        for (scenario, file) in per_address {
            let (crt, key) = self.cert_files(file);
            let a = scenario.address;
            let mut tls = format!("-o smtpd_tls_cert_file={crt} -o smtpd_tls_key_file={key}");
            // GOOD's name matches its PTR record; every other address says mx.lab.test.
            if scenario.address == GOOD.address {
                tls.push_str(&format!(" -o myhostname={}", GOOD.name));
            }
            if scenario.address == TLS13.address {
                tls.push_str(
                    " -o smtpd_tls_protocols=>=TLSv1.3 -o smtpd_tls_mandatory_protocols=>=TLSv1.3",
                );
            }
            if scenario.address == LEGACY.address {
                tls.push_str(
                    " -o smtpd_tls_protocols=>=TLSv1 -o smtpd_tls_mandatory_protocols=>=TLSv1",
                );
            }
            for entry in [
                format!("{a}:smtp/inet={a}:smtp inet n - n - - smtpd {tls}"),
                format!(
                    "{a}:submission/inet={a}:submission inet n - n - - smtpd {tls} -o smtpd_tls_security_level=encrypt"
                ),
                format!(
                    "{a}:smtps/inet={a}:smtps inet n - n - - smtpd {tls} -o smtpd_tls_wrappermode=yes"
                ),
            ] {
                run(Command::new("postconf")
                    .arg("-c")
                    .arg(&conf)
                    .arg("-M")
                    .arg(entry))?;
            }
        }
        self.postfix_busy_and_tarpit(&conf)?;
        let a = NO_TLS.address;
        for entry in [
            format!("{a}:smtp/inet={a}:smtp inet n - n - - smtpd -o smtpd_tls_security_level=none"),
            format!(
                "{a}:submission/inet={a}:submission inet n - n - - smtpd -o smtpd_tls_security_level=none"
            ),
        ] {
            run(Command::new("postconf")
                .arg("-c")
                .arg(&conf)
                .arg("-M")
                .arg(entry))?;
        }
        // `postfix start` reports start-up errors only to a terminal: give it one with script(1).
        run_daemon(
            Command::new("script").args([
                "-qec",
                &format!("postfix -c {} start", conf.display()),
                "/dev/null",
            ]),
            &dir.join("start.out"),
        )
        .map_err(|e| {
            format!(
                "{e}\npostfix log: {}",
                std::fs::read_to_string(dir.join("postfix.log")).unwrap_or_default()
            )
        })
    }

    /// BUSY: every client is turned away at connect time with 421 (an access map evaluated
    /// before the greeting); TARPIT: postscreen's greeting delay on 25.
    fn postfix_busy_and_tarpit(&self, conf: &Path) -> Result<(), String> {
        let (crt, key) = self.cert_files("busy");
        let tls = format!("-o smtpd_tls_cert_file={crt} -o smtpd_tls_key_file={key}");
        run(Command::new("postconf").arg("-c").arg(conf).arg("-e").args([
            "busy_restrictions = check_client_access static:{421 4.7.0 Error: too many connections from your address}",
            "postscreen_greet_action = ignore",
            &format!("postscreen_greet_wait = {TARPIT_WAIT}s"),
            "postscreen_dnsbl_sites =",
            "postscreen_access_list =",
            // A client that waited for the whole greeting is not remembered as good for long.
            "postscreen_greet_ttl = 1s",
        ]))?;
        let b = BUSY.address;
        let t = TARPIT.address;
        for entry in [
            format!(
                "{b}:smtp/inet={b}:smtp inet n - n - - smtpd {tls} -o smtpd_delay_reject=no -o smtpd_client_restrictions=$busy_restrictions"
            ),
            format!(
                "{b}:submission/inet={b}:submission inet n - n - - smtpd {tls} -o smtpd_delay_reject=no -o smtpd_client_restrictions=$busy_restrictions"
            ),
            format!(
                "{b}:smtps/inet={b}:smtps inet n - n - - smtpd {tls} -o smtpd_tls_wrappermode=yes -o smtpd_delay_reject=no -o smtpd_client_restrictions=$busy_restrictions"
            ),
            format!("{t}:smtp/inet={t}:smtp inet n - n - 1 postscreen"),
            format!("smtpd/pass=smtpd pass - - n - - smtpd {tls}"),
        ] {
            run(Command::new("postconf")
                .arg("-c")
                .arg(conf)
                .arg("-M")
                .arg(entry))?;
        }
        Ok(())
    }

    /// A real HTTP server (Python's http.server) for the AIA caIssuers URL of NO_CHAIN.
    /// LEGACY's 993: TLS 1.0 only, at OpenSSL security level 0 (OpenSSL 3 refuses TLS 1.0
    /// otherwise), with anonymous suites allowed (Debian's OpenSSL 3 has no RC4 or 3DES). `-www` answers after the handshake without reading stdin.
    fn start_legacy_server(&self) -> Result<(), String> {
        let (crt, key) = self.cert_files("legacy");
        let script = format!(
            "openssl s_server -quiet -www -accept {}:993 -cert {crt} -key {key} -cert_chain {} \
             -tls1 -cipher 'ALL:@SECLEVEL=0' >{} 2>&1 & echo $! >{}",
            LEGACY.address,
            self.dir.join("certs/intermediate.pem").display(),
            self.dir.join("s_server.log").display(),
            self.dir.join("s_server.pid").display()
        );
        run_daemon(
            Command::new("sh").arg("-c").arg(script),
            &self.dir.join("s_server.out"),
        )
    }

    /// The provisioning HTTPS server (WEB, and its plain-HTTP side on port 80) and the shared web
    /// host (WEBHOST): the same script, each with its own certificate.
    fn start_provisioning_server(&self) -> Result<(), String> {
        for (address, cert, name, plain) in [
            (WEB, "web", "web", ""),
            (WEB, "web", "web-plain", "plain"),
            (WEBHOST, "webhost", "webhost", ""),
            (fleet::WEB, "fleet-web", "fleet-web", ""),
        ] {
            let (crt, key) = self.cert_files(cert);
            let script = format!(
                "python3 {} {address} {crt} {key} {} {plain} >{} 2>&1 & echo $! >{}",
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/lab/provisioning_server.py")
                    .display(),
                self.dir.join(format!("{name}.log")).display(),
                self.dir.join(format!("{name}.out")).display(),
                self.dir.join(format!("{name}.pid")).display()
            );
            run_daemon(
                Command::new("sh").arg("-c").arg(script),
                &self.dir.join(format!("{name}.start")),
            )?;
        }
        Ok(())
    }

    /// The MTA-STS policy host (tests/lab/mta_sts_server.py).
    fn start_mta_sts_server(&self) -> Result<(), String> {
        let (crt, key) = self.cert_files("mta-sts-web");
        let script = format!(
            "python3 {} {} {crt} {key} {} >{} 2>&1 & echo $! >{}",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/lab/mta_sts_server.py")
                .display(),
            mta_sts::WEB,
            self.dir.join("mta-sts-web.log").display(),
            self.dir.join("mta-sts-web.out").display(),
            self.dir.join("mta-sts-web.pid").display()
        );
        run_daemon(
            Command::new("sh").arg("-c").arg(script),
            &self.dir.join("mta-sts-web.start"),
        )
    }

    fn start_aia_server(&self) -> Result<(), String> {
        let script = format!(
            "python3 -m http.server --bind {} --directory {} {AIA_PORT} >{} 2>&1 & echo $! >{}",
            NO_CHAIN.address,
            self.dir.join("aia").display(),
            self.dir.join("aia.log").display(),
            self.dir.join("aia.pid").display()
        );
        run_daemon(
            Command::new("sh").arg("-c").arg(script),
            &self.dir.join("aia.out"),
        )
    }

    fn wait_until_listening(&self) -> Result<(), String> {
        let mut expected: Vec<SocketAddr> = Vec::new();
        expected.push(format!("{WEB}:443").parse().map_err(|e| format!("{e}"))?);
        expected.push(format!("{WEB}:80").parse().map_err(|e| format!("{e}"))?);
        expected.push(
            format!("{WEBHOST}:443")
                .parse()
                .map_err(|e| format!("{e}"))?,
        );
        for address in [
            format!("{}:443", fleet::WEB),
            format!("{}:443", mta_sts::WEB),
            format!("{}:25", BUSY.address),
            format!("{}:587", BUSY.address),
            format!("{}:465", BUSY.address),
            format!("{}:25", TARPIT.address),
        ] {
            expected.push(address.parse().map_err(|e| format!("{e}"))?);
        }
        expected.push(
            format!("{}:{AIA_PORT}", NO_CHAIN.address)
                .parse()
                .map_err(|e| format!("{e}"))?,
        );
        for scenario in ALL {
            let ports: &[u16] = if scenario.address == NO_TLS.address {
                &[25, 587, 143, 110]
            } else if scenario.address == LEGACY.address {
                &[25, 587, 465, 993]
            } else {
                &[25, 587, 465, 143, 993, 110, 995]
            };
            for port in ports {
                expected.push(
                    format!("{}:{port}", scenario.address)
                        .parse()
                        .map_err(|e| format!("{e}"))?,
                );
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for address in expected {
            loop {
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "{address} is not listening after 30 s; logs are in {}",
                        self.dir.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// Stops whatever runs from `dir`; quiet when nothing does.
    pub fn stop(dir: &Path) {
        let conf = dir.join("postfix/conf");
        if conf.join("main.cf").exists() {
            let _ = Command::new("postfix")
                .arg("-c")
                .arg(&conf)
                .arg("stop")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
        for pid_file in [
            dir.join("dovecot/run/master.pid"),
            dir.join("dnsmasq.pid"),
            dir.join("aia.pid"),
            dir.join("s_server.pid"),
            dir.join("web.pid"),
            dir.join("web-plain.pid"),
            dir.join("webhost.pid"),
            dir.join("fleet-web.pid"),
        ] {
            if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                let pid = pid.trim().to_string();
                let _ = Command::new("kill").arg(&pid).output();
                // Wait (bounded) for it to go, so a restart can bind the same ports.
                for _ in 0..50 {
                    let alive = Command::new("kill")
                        .args(["-0", &pid])
                        .output()
                        .is_ok_and(|o| o.status.success());
                    if !alive {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = std::fs::remove_file(&pid_file);
            }
        }
    }
}

/// Puts `address` on the run's own `lo` ([`netns::check`] first: never on the host's).
fn add_address(address: &str) -> Result<(), String> {
    netns::check()?;
    let output = Command::new("ip")
        .args(["addr", "add", &format!("{address}/8"), "dev", "lo"])
        .output()
        .map_err(|e| format!("ip addr add: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success()
        || stderr.contains("File exists")
        || stderr.contains("already assigned")
    {
        Ok(())
    } else {
        Err(format!("ip addr add {address}/8 dev lo: {stderr}"))
    }
}
