//! The delivery lab's DNS: a DNSSEC-signed hierarchy from BIND, resolved by Unbound.
//!
//! - the root zone "." (a KSK and a ZSK, NSEC), whose name server `ns.lab.` (an address record in
//!   the root zone itself) is BIND on [`AUTHORITATIVE`]; its KSK is the trust anchor, written as
//!   a DS record (`anchor.ds`) and as the DNSKEY itself (`anchor.dnskey`), either of which
//!   Unbound and `mailtls --dnssec-anchor FILE` take;
//! - `example.` (a KSK and a ZSK, NSEC3 without salt or extra iterations), delegated from the
//!   root with its DS;
//! - the children of `example.` the caller gives ([`ZoneSpec`]), each signed with one key (a
//!   combined signing key, NSEC) or not, as its [`Signing`] says.
//!
//! Zones are pre-signed with `dnssec-signzone` (bind9-utils) and served as they are by `named`
//! (bind9), which signs nothing itself: that is how a zone gets an expired RRSIG.
//!
//! Unbound (on [`RESOLVER`]) recurses from the root hints (`ns.lab.`) and validates from the
//! anchor: it sets AD on secure answers, answers SERVFAIL for bogus ones, and gives the data
//! unvalidated to a query with CD set (for a validator of its own, such as mailtls's).

use std::fmt::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{AUTHORITATIVE, PLAIN_RESOLVER, RESOLVER, STRIPPING_RESOLVER};
use crate::lab::{add_address, netns, run, run_daemon, write};

/// DNS type codes the lab asks for.
pub const SOA: u16 = 6;
pub const MX: u16 = 15;
pub const TXT: u16 = 16;
pub const A: u16 = 1;
pub const TLSA: u16 = 52;

/// One child zone of `example.`.
#[derive(Debug, Clone)]
pub struct ZoneSpec {
    /// Its name, without the final dot: `dane-ee-311.example`.
    pub origin: String,
    /// Its records in zone-file syntax with absolute names (`name. TYPE DATA`), besides the SOA
    /// and the NS record the lab adds.
    pub records: Vec<String>,
    pub signing: Signing,
}

/// How a child zone is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Signed, its DS in `example.`: secure.
    Signed,
    /// Not signed, no DS (NSEC3 in `example.` proves there is none): insecure.
    Unsigned,
    /// Signed, but the DS in `example.` is of a key the zone does not publish: bogus.
    Bogus,
    /// Signed, its DS in `example.`, but the RRSIGs over the RRsets of this type expired
    /// 30 days ago (made 60 days ago): those RRsets are bogus, the rest is secure.
    ExpiredSignatures(&'static str),
}

/// What a validating resolver makes of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// NOERROR (or NXDOMAIN) with AD.
    Secure,
    /// NOERROR (or NXDOMAIN) without AD.
    Insecure,
    /// SERVFAIL.
    Bogus,
}

/// The running DNS part.
#[derive(Debug)]
pub struct Dns {
    pub dir: PathBuf,
    /// Unbound, the validating resolver.
    pub resolver: SocketAddr,
    /// BIND, authoritative for every zone.
    pub authoritative: SocketAddr,
    /// The root's trust anchor as a DS record (`. IN DS TAG 13 2 HEX`).
    pub anchor_ds: PathBuf,
    /// The same anchor as the root KSK's DNSKEY record (`. IN DNSKEY 257 3 13 BASE64`).
    pub anchor_dnskey: PathBuf,
}

/// The root's only name server (an address record in the root zone).
const NS: &str = "ns.lab.";
/// Every zone's TTL, and its SOA.
const HEAD: &str = "$TTL 300\n";

impl Dns {
    /// Signs the zones, starts BIND and Unbound in `dir` (inside the run's network), and waits
    /// until Unbound gives a validated answer for the root.
    pub fn start(dir: &Path, children: &[ZoneSpec]) -> Result<Dns, String> {
        netns::check()?;
        for binary in [
            "named",
            "dnssec-keygen",
            "dnssec-signzone",
            "dnssec-dsfromkey",
            "unbound",
        ] {
            if run(Command::new("sh").args(["-c", &format!("command -v {binary}")])).is_err() {
                return Err(format!(
                    "{binary} is not installed: run scripts/test.sh (as root), which installs \
                     bind9, bind9-utils and unbound"
                ));
            }
        }
        let keys = super::sub(dir, "keys")?;
        let zones = super::sub(dir, "zones")?;
        let signer = Signer { keys, zones };
        let mut served: Vec<(String, PathBuf)> = Vec::new();
        let mut delegations = String::new();
        for child in children {
            let (file, ds) = signer.child(child)?;
            let _ = writeln!(delegations, "{}. NS {NS}", child.origin);
            for line in ds {
                let _ = writeln!(delegations, "{line}");
            }
            served.push((child.origin.clone(), file));
        }
        let (example, example_ds) = signer.split_keys("example", &delegations, true)?;
        served.push(("example".to_string(), example));
        let mut root_records = format!("{NS} A {AUTHORITATIVE}\nexample. NS {NS}\n");
        for line in example_ds {
            let _ = writeln!(root_records, "{line}");
        }
        let (root, root_ds) = signer.split_keys(".", &root_records, false)?;
        served.push((".".to_string(), root));
        let anchor_ds = dir.join("anchor.ds");
        let anchor_dnskey = dir.join("anchor.dnskey");
        write(&anchor_ds, &normalize(&root_ds.join("\n"), "DS")?)?;
        write(&anchor_dnskey, &signer.root_dnskey()?)?;
        for address in [AUTHORITATIVE, RESOLVER] {
            add_address(address)?;
        }
        start_named(dir, &served)?;
        start_unbound(dir, "unbound", RESOLVER, Some(&anchor_ds))?;
        let dns = Dns {
            dir: dir.to_path_buf(),
            resolver: socket(RESOLVER)?,
            authoritative: socket(AUTHORITATIVE)?,
            anchor_ds,
            anchor_dnskey,
        };
        dns.wait_until_validating()?;
        Ok(dns)
    }

    /// Unbound answers the root's SOA with AD set (bounded wait): BIND serves the signed root
    /// and Unbound validates it from the anchor.
    fn wait_until_validating(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        while Instant::now() < deadline {
            match query(self.authoritative, ".", SOA, false) {
                Ok(_) => match query(self.resolver, ".", SOA, false) {
                    Ok(answer) if answer.status() == Status::Secure => return Ok(()),
                    Ok(answer) => last = format!("Unbound answers the root SOA with {answer:?}"),
                    Err(error) => last = format!("Unbound: {error}"),
                },
                Err(error) => last = format!("BIND: {error}"),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "the lab DNS is not validating after 20 s ({last}); logs: {}/named.log, {}/unbound.log",
            self.dir.display(),
            self.dir.display()
        ))
    }

    /// Holds the lab to what the zones are made to be: each (name, type) gets the status given.
    pub fn check(&self, expected: &[(String, u16, Status)]) -> Result<(), String> {
        let mut wrong = Vec::new();
        for (name, qtype, status) in expected {
            match query(self.resolver, name, *qtype, false) {
                Ok(answer) if answer.status() == *status && answer.usable(*status) => {}
                Ok(answer) => {
                    wrong.push(format!("{name} type {qtype}: {answer:?}, not {status:?}"))
                }
                Err(error) => wrong.push(format!("{name} type {qtype}: {error}")),
            }
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the lab DNS does not answer as built:\n  {}\nlogs in {}",
                wrong.join("\n  "),
                self.dir.display()
            ))
        }
    }

    /// A second Unbound on [`PLAIN_RESOLVER`] that recurses the same hierarchy without
    /// validating: what a non-validating resolver hands a validator of its own (signatures
    /// included, no AD, no SERVFAIL for bogus data). Waits (bounded) until it answers.
    pub fn start_plain_resolver(&self) -> Result<SocketAddr, String> {
        add_address(PLAIN_RESOLVER)?;
        start_unbound(&self.dir, "unbound-plain", PLAIN_RESOLVER, None)?;
        let plain = socket(PLAIN_RESOLVER)?;
        wait_for_answers(plain, &self.dir.join("unbound-plain.log"))?;
        Ok(plain)
    }

    /// dnsmasq on [`STRIPPING_RESOLVER`], forwarding to the validating Unbound and removing
    /// every RRSIG from its answers (`--filter-rr=RRSIG`, dnsmasq 2.90): a resolver that strips
    /// DNSSEC signatures. Waits (bounded) until it answers.
    pub fn start_stripping_resolver(&self) -> Result<SocketAddr, String> {
        add_address(STRIPPING_RESOLVER)?;
        let d = self.dir.display();
        let conf = format!(
            "port=53\nlisten-address={STRIPPING_RESOLVER}\nbind-interfaces\nno-resolv\nno-hosts\n\
             server={RESOLVER}\nfilter-rr=RRSIG\ncache-size=0\npid-file={d}/dnsmasq-stripping.pid\n\
             log-facility={d}/dnsmasq-stripping.log\n"
        );
        let path = self.dir.join("dnsmasq-stripping.conf");
        write(&path, &conf)?;
        run_daemon(
            Command::new("dnsmasq").arg("-C").arg(&path),
            &self.dir.join("dnsmasq-stripping.out"),
        )?;
        let stripping = socket(STRIPPING_RESOLVER)?;
        wait_for_answers(stripping, &self.dir.join("dnsmasq-stripping.log"))?;
        Ok(stripping)
    }

    /// Makes Unbound this namespace's system resolver, for Postfix (libc's resolver, which
    /// passes the AD bit on only with `options trust-ad`) and postfix-mta-sts-resolver (c-ares).
    /// Writes the run's own /etc/resolv.conf (tests/lab/netns.rs bind-mounts it); refuses any
    /// other.
    pub fn use_as_system_resolver(&self) -> Result<(), String> {
        netns::check()?;
        let path = Path::new("/etc/resolv.conf");
        let current = std::fs::read_to_string(path).map_err(|e| format!("{path:?}: {e}"))?;
        if !current.starts_with("# mailtls test namespace") {
            return Err("/etc/resolv.conf is not the run's own: not touching it".to_string());
        }
        write(
            path,
            &format!(
                "# mailtls test namespace: the delivery lab's validating resolver\n\
                 nameserver {RESOLVER}\noptions trust-ad timeout:2 attempts:2\n"
            ),
        )
    }
}

/// Makes keys and signs zones with BIND's tools.
struct Signer {
    keys: PathBuf,
    zones: PathBuf,
}

impl Signer {
    /// A child zone: its file to serve and the DS lines for `example.`.
    fn child(&self, spec: &ZoneSpec) -> Result<(PathBuf, Vec<String>), String> {
        let text = zone_text(&spec.origin, &spec.records.join("\n"));
        let file = self.zones.join(format!("{}.zone", spec.origin));
        write(&file, &text)?;
        if spec.signing == Signing::Unsigned {
            return Ok((file, Vec::new()));
        }
        let key = self.keygen(&spec.origin, true)?;
        let signed = self.sign(&spec.origin, &file, &[&key], &["-z"], None)?;
        let mut ds = ds_lines(&self.dsset(&spec.origin)?);
        match spec.signing {
            Signing::Bogus => {
                // A key the zone never publishes: the chain breaks at the delegation.
                let stray = self.keygen(&spec.origin, true)?;
                let output = run(Command::new("dnssec-dsfromkey")
                    .args(["-2"])
                    .arg(self.keys.join(format!("{stray}.key"))))?;
                ds = ds_lines(&output);
            }
            Signing::ExpiredSignatures(rrtype) => {
                let now = time::OffsetDateTime::now_utc();
                let start = stamp(now - time::Duration::days(60));
                let end = stamp(now - time::Duration::days(30));
                let expired = self.sign(
                    &spec.origin,
                    &file,
                    &[&key],
                    &["-z", "-P", "-s", &start, "-e", &end],
                    Some("expired"),
                )?;
                replace_signatures(&signed, &expired, rrtype)?;
            }
            Signing::Signed | Signing::Unsigned => {}
        }
        Ok((signed, ds))
    }

    /// The root or `example.`: a KSK and a ZSK; NSEC3 (no salt, no extra iterations) or NSEC.
    fn split_keys(
        &self,
        origin: &str,
        records: &str,
        nsec3: bool,
    ) -> Result<(PathBuf, Vec<String>), String> {
        let name = if origin == "." { "root" } else { origin };
        let file = self.zones.join(format!("{name}.zone"));
        write(&file, &zone_text(origin, records))?;
        let ksk = self.keygen(origin, true)?;
        let zsk = self.keygen(origin, false)?;
        let options: &[&str] = if nsec3 { &["-3", "-", "-H", "0"] } else { &[] };
        let signed = self.sign(origin, &file, &[&ksk, &zsk], options, None)?;
        Ok((signed, ds_lines(&self.dsset(origin)?)))
    }

    /// `dnssec-keygen` (ECDSA P-256, algorithm 13): the key's base name (`Kname.+013+tag`).
    fn keygen(&self, origin: &str, ksk: bool) -> Result<String, String> {
        let mut command = Command::new("dnssec-keygen");
        command.args(["-q", "-a", "ECDSAP256SHA256", "-n", "ZONE", "-K"]);
        command.arg(&self.keys);
        if ksk {
            command.args(["-f", "KSK"]);
        }
        let name = run(command.arg(fqdn(origin)))?;
        Ok(name.trim().to_string())
    }

    /// `dnssec-signzone`, one line per record (`-O full`), DS set into the keys directory.
    fn sign(
        &self,
        origin: &str,
        file: &Path,
        keys: &[&str],
        options: &[&str],
        suffix: Option<&str>,
    ) -> Result<PathBuf, String> {
        let out = file.with_extension(suffix.unwrap_or("signed"));
        // The zone publishes its keys: their DNSKEY records go into the file signed.
        let mut text =
            std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        for key in keys {
            let path = self.keys.join(format!("{key}.key"));
            let record =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            text.extend(
                record
                    .lines()
                    .filter(|l| !l.starts_with(';'))
                    .map(|l| format!("{l}\n")),
            );
        }
        let input = out.with_extension(format!("{}.in", suffix.unwrap_or("signed")));
        write(&input, &text)?;
        let mut command = Command::new("dnssec-signzone");
        command
            .args(["-q", "-O", "full", "-o", &fqdn(origin), "-d"])
            .arg(&self.keys)
            .arg("-f")
            .arg(&out)
            .args(options)
            .arg(&input);
        for key in keys {
            command.arg(self.keys.join(key));
        }
        run(&mut command)?;
        Ok(out)
    }

    fn dsset(&self, origin: &str) -> Result<String, String> {
        let path = self.keys.join(format!("dsset-{}", fqdn(origin)));
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The root KSK's DNSKEY record, one line.
    fn root_dnskey(&self) -> Result<String, String> {
        let entries = std::fs::read_dir(&self.keys).map_err(|e| e.to_string())?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("K.+") && name.ends_with(".key") {
                let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
                let record = normalize(&text, "DNSKEY")?;
                if record.contains(" DNSKEY 257 ") {
                    return Ok(record);
                }
            }
        }
        Err("no root key-signing key was made".to_string())
    }
}

/// A zone file: TTL, SOA, NS, then `records`.
fn zone_text(origin: &str, records: &str) -> String {
    let name = fqdn(origin);
    format!(
        "{HEAD}{name} IN SOA {NS} hostmaster.lab. 1 3600 600 86400 300\n{name} IN NS {NS}\n\
         {records}\n"
    )
}

fn fqdn(origin: &str) -> String {
    if origin == "." {
        ".".to_string()
    } else {
        format!("{origin}.")
    }
}

/// The DS records of a `dsset-` file or of `dnssec-dsfromkey`'s output.
fn ds_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.split_whitespace().any(|f| f == "DS"))
        .map(str::to_string)
        .collect()
}

/// Records of `rrtype` in `text` as one line each, `OWNER IN TYPE FIELDS DATA` with the data's
/// spaces (BIND splits long hex and base64) taken out.
fn normalize(text: &str, rrtype: &str) -> Result<String, String> {
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with(';')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = fields.iter().position(|f| *f == rrtype) else {
            continue;
        };
        // DS: key tag, algorithm, digest type; DNSKEY: flags, protocol, algorithm.
        if fields.len() < at + 5 {
            return Err(format!("a {rrtype} record too short: {line}"));
        }
        let _ = writeln!(
            out,
            "{} IN {rrtype} {} {}",
            fields[0],
            fields[at + 1..at + 4].join(" "),
            fields[at + 4..].concat()
        );
    }
    if out.is_empty() {
        return Err(format!("no {rrtype} record in {text:?}"));
    }
    Ok(out)
}

/// `YYYYMMDDHHMMSS` (UTC), as dnssec-signzone takes it.
fn stamp(at: time::OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// In `signed`, the RRSIGs over `rrtype` become those of `expired` (the same zone and key,
/// signed with a validity period in the past).
fn replace_signatures(signed: &Path, expired: &Path, rrtype: &str) -> Result<(), String> {
    let covers = |line: &str| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(3) == Some(&"RRSIG") && fields.get(4) == Some(&rrtype)
    };
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let (good, old) = (read(signed)?, read(expired)?);
    let replacements: Vec<&str> = old.lines().filter(|l| covers(l)).collect();
    if replacements.is_empty() {
        return Err(format!("no RRSIG over {rrtype} in {}", expired.display()));
    }
    let mut text: String = good
        .lines()
        .filter(|l| !covers(l))
        .map(|l| format!("{l}\n"))
        .collect();
    for line in replacements {
        let _ = writeln!(text, "{line}");
    }
    write(signed, &text)
}

fn start_named(dir: &Path, zones: &[(String, PathBuf)]) -> Result<(), String> {
    let d = dir.display();
    let mut conf = format!(
        "options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n  \
         session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  \
         listen-on port 53 {{ {AUTHORITATIVE}; }};\n  listen-on-v6 {{ none; }};\n  \
         recursion no;\n  dnssec-validation no;\n  notify no;\n  allow-transfer {{ none; }};\n}};\n\
         controls {{ }};\n\
         logging {{\n  channel lab {{ file \"{d}/named.log\"; severity info; print-time yes; }};\n  \
         category default {{ lab; }};\n  category lame-servers {{ null; }};\n}};\n"
    );
    for (origin, file) in zones {
        let _ = writeln!(
            conf,
            "zone \"{}\" {{ type primary; file \"{}\"; }};",
            fqdn(origin),
            file.display()
        );
    }
    let path = dir.join("named.conf");
    write(&path, &conf)?;
    // named puts itself in the background once its sockets and zones are loaded.
    run_daemon(
        Command::new("named").arg("-4").arg("-c").arg(&path),
        &dir.join("named.out"),
    )
    .map_err(|e| {
        format!(
            "{e}\nnamed.log: {}",
            std::fs::read_to_string(dir.join("named.log")).unwrap_or_default()
        )
    })
}

/// Unbound `name` on `address`, recursing from the lab root; validating from `anchor`, or (none)
/// only recursing (`module-config: "iterator"`).
fn start_unbound(
    dir: &Path,
    name: &str,
    address: &str,
    anchor: Option<&Path>,
) -> Result<(), String> {
    let d = dir.display();
    let hints = dir.join("root.hints");
    write(
        &hints,
        &format!(". 3600000 NS {NS}\n{NS} 3600000 A {AUTHORITATIVE}\n"),
    )?;
    let validation = match anchor {
        Some(anchor) => format!(
            "  trust-anchor-file: \"{}\"\n  trust-anchor-signaling: no\n  \
             root-key-sentinel: no\n",
            anchor.display()
        ),
        None => "  module-config: \"iterator\"\n".to_string(),
    };
    let conf = format!(
        "server:\n  interface: {address}\n  port: 53\n  do-ip6: no\n  \
         access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n  \
         username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/{name}.pid\"\n  \
         logfile: \"{d}/{name}.log\"\n  use-syslog: no\n  verbosity: 1\n  val-log-level: 2\n  \
         num-threads: 1\n  so-reuseport: no\n  qname-minimisation: no\n  \
         root-hints: \"{}\"\n{validation}",
        hints.display(),
    );
    let path = dir.join(format!("{name}.conf"));
    write(&path, &conf)?;
    run_daemon(
        Command::new("unbound").arg("-c").arg(&path),
        &dir.join(format!("{name}.out")),
    )
    .map_err(|e| {
        format!(
            "{e}\n{name}.log: {}",
            std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
        )
    })
}

/// Waits (at most 20 s) until `server` answers the root's SOA.
fn wait_for_answers(server: SocketAddr, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        match query(server, ".", SOA, false) {
            Ok(answer) if answer.rcode == 0 => return Ok(()),
            Ok(answer) => last = format!("{answer:?}"),
            Err(error) => last = error,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{server} does not answer after 20 s ({last}); log: {}",
        log.display()
    ))
}

fn socket(address: &str) -> Result<SocketAddr, String> {
    format!("{address}:53")
        .parse()
        .map_err(|e| format!("{address}: {e}"))
}

/// The header of a DNS answer: what the lab checks.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub rcode: u8,
    /// AD: the resolver validated the answer.
    pub authenticated: bool,
    pub answers: u16,
}

impl Answer {
    pub fn status(&self) -> Status {
        match self.rcode {
            2 => Status::Bogus,
            _ if self.authenticated => Status::Secure,
            _ => Status::Insecure,
        }
    }

    /// A secure or insecure answer the lab expects to have records.
    fn usable(&self, status: Status) -> bool {
        status == Status::Bogus || (self.rcode == 0 && self.answers > 0)
    }
}

/// One query over UDP with EDNS0 and DO set (CD when `checking_disabled`), 2 s per try, three
/// tries.
pub fn query(
    server: SocketAddr,
    name: &str,
    qtype: u16,
    checking_disabled: bool,
) -> Result<Answer, String> {
    let id = (std::process::id() as u16) ^ (qtype.wrapping_mul(31));
    let flags: u16 = 0x0100 | if checking_disabled { 0x0010 } else { 0 };
    let mut packet = Vec::with_capacity(64);
    for word in [id, flags, 1, 0, 0, 1] {
        packet.extend(word.to_be_bytes());
    }
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let length = u8::try_from(label.len()).map_err(|_| format!("{name}: label too long"))?;
        packet.push(length);
        packet.extend(label.as_bytes());
    }
    packet.push(0);
    packet.extend(qtype.to_be_bytes());
    packet.extend(1u16.to_be_bytes());
    // OPT: root owner, type 41, payload 1232, extended rcode/version 0, DO, no options.
    packet.extend([0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]);
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let mut last = String::new();
    for _ in 0..3 {
        socket
            .send_to(&packet, server)
            .map_err(|e| format!("{server}: {e}"))?;
        let mut buffer = [0u8; 4096];
        match socket.recv_from(&mut buffer) {
            Ok((n, _)) if n >= 12 && buffer[..2] == id.to_be_bytes() => {
                return Ok(Answer {
                    rcode: buffer[3] & 0x0f,
                    authenticated: buffer[3] & 0x20 != 0,
                    answers: u16::from_be_bytes([buffer[6], buffer[7]]),
                });
            }
            Ok((n, _)) => last = format!("a stray answer of {n} bytes"),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "{server} does not answer {name} type {qtype}: {last}"
    ))
}
