//! The HTTPS MTA-STS policy host: `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` for every
//! case with MTA-STS, answered as the case's [`Served`] says (tests/lab/delivery/policy_host.py,
//! Python's http.server and ssl, certificate per SNI name).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value, json};

use super::cases::{Case, Served, Sts};
use super::certs::Certs;
use super::{POLICY_HOST, domain};
use crate::lab::{add_address, run_daemon, write};

/// The well-known path (RFC 8461 §3.2).
pub const PATH: &str = "/.well-known/mta-sts.txt";

/// A case's policy text, CRLF line ends (RFC 8461 §3.2).
pub fn policy(case: &Case, sts: &Sts) -> String {
    let mut text = format!("version: STSv1\r\nmode: {}\r\n", sts.mode);
    for pattern in sts.mx {
        text.push_str(&format!(
            "mx: {}\r\n",
            pattern.replace("{d}", &domain(case))
        ));
    }
    text.push_str(&format!("max_age: {}\r\n", sts.max_age));
    if sts.served == Served::Oversize {
        // Extension fields, which parsers ignore (§3.2), to 100 KiB.
        let mut n = 0;
        while text.len() < 100 * 1024 {
            text.push_str(&format!("x-pad-{n}: {}\r\n", "a".repeat(100)));
            n += 1;
        }
    }
    text
}

/// Starts the policy host in `dir` and waits until it listens (bounded).
pub fn start(dir: &Path, cases: &[Case], certs: &Certs) -> Result<(), String> {
    add_address(POLICY_HOST)?;
    let mut routes = Map::new();
    let mut sni = Map::new();
    let pair = |files: &(std::path::PathBuf, std::path::PathBuf)| {
        json!([files.0.display().to_string(), files.1.display().to_string()])
    };
    for case in cases {
        let Some(sts) = case.sts else { continue };
        let host = format!("mta-sts.{}", domain(case));
        let body = policy(case, &sts);
        let ok = json!({"status": 200, "type": "text/plain; charset=utf-8", "body": body});
        let answer = match sts.served {
            Served::Policy | Served::Oversize | Served::Down => ok,
            Served::WrongCertificate => {
                sni.insert(host.clone(), pair(&certs.policy_host_wrong));
                ok
            }
            Served::Html => json!({"status": 200, "type": "text/html", "body": body}),
            Served::NotFound => json!({"status": 404, "type": "text/plain", "body": "no\n"}),
            Served::Redirect => {
                let target = format!("www.{}", domain(case));
                routes.insert(target.clone(), json!({ "/mta-sts.txt": ok }));
                json!({"status": 301, "type": "text/plain", "body": "moved\n",
                       "location": format!("https://{target}/mta-sts.txt")})
            }
        };
        routes.insert(host, json!({ PATH: answer }));
    }
    let config = json!({
        "address": POLICY_HOST,
        "default": pair(&certs.policy_host),
        "sni": Value::Object(sni),
        "routes": Value::Object(routes),
    });
    let path = dir.join("policy-host.json");
    write(&path, &config.to_string())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/delivery/policy_host.py");
    let shell = format!(
        "python3 {} {} >{} 2>&1 & echo $! >{}",
        script.display(),
        path.display(),
        dir.join("policy-host.log").display(),
        dir.join("policy-host.pid").display()
    );
    run_daemon(
        Command::new("sh").arg("-c").arg(shell),
        &dir.join("policy-host.start"),
    )?;
    let socket: SocketAddr = format!("{POLICY_HOST}:443")
        .parse()
        .map_err(|e| format!("{e}"))?;
    super::wait_listening(socket, "the policy host", || {
        std::fs::read_to_string(dir.join("policy-host.log")).unwrap_or_default()
    })
}

/// What the policy host answered, in order: (host, path, status), from its log in `dir`.
pub fn answered(dir: &Path) -> Vec<(String, String, u16)> {
    let log = std::fs::read_to_string(dir.join("policy-host.log")).unwrap_or_default();
    log.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (host, path, status) = (fields.next()?, fields.next()?, fields.next()?);
            Some((host.to_string(), path.to_string(), status.parse().ok()?))
        })
        .collect()
}

/// What a sender that fetches policies as RFC 8461 §3 says makes the policy host answer for a
/// case: (host, path, status). Nothing when `_mta-sts` has more than one record (§3.1: no
/// fetch), when the host is down, or when its certificate is refused (no request is sent);
/// only the first answer of a redirect (§3.3: not followed).
pub fn expected_answers(case: &Case) -> Vec<(String, String, u16)> {
    let Some(sts) = case.sts else {
        return Vec::new();
    };
    let host = format!("mta-sts.{}", domain(case));
    let status = match sts.served {
        _ if sts.txt_records != 1 => return Vec::new(),
        Served::Down | Served::WrongCertificate => return Vec::new(),
        Served::Redirect => 301,
        Served::NotFound => 404,
        Served::Policy | Served::Html | Served::Oversize => 200,
    };
    vec![(host, PATH.to_string(), status)]
}
