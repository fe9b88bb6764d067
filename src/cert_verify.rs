//! `mailtls cert verify`: glue between the command line and `mailtls::verify`.

use std::io::Write as _;

use anyhow::Context as _;
use mailtls::analyze::cert::rfc3339;
use mailtls::analyze::chain::{PathOptions, TrustAnchors};
use mailtls::clients::{Client, ClientVerdict, Outcome};
use mailtls::report::wire::Certificate;
use mailtls::target::Target;
use mailtls::verify::{self, Rejection};
use serde::Serialize;

use super::{EXIT_UNKNOWN, Failure, VerifyArgs};

/// Exit status for a chain that does not validate.
const EXIT_INVALID: u8 = 2;

/// The JSON output (docs/json.md, "cert verify").
#[derive(Serialize)]
struct Output<'a> {
    schema_version: u32,
    name: String,
    at: String,
    /// `strict` or the client id.
    profile: &'static str,
    valid: bool,
    exit_code: u8,
    rejections: &'a [Rejection],
    clients: &'a [ClientVerdict],
    chain: Vec<Certificate>,
    anchors: &'a [String],
}

pub(crate) fn run(args: &VerifyArgs) -> Result<u8, Failure> {
    let target = Target::parse(&args.name)
        .map_err(|e| Failure::usage(anyhow::Error::from(e).context("--name")))?;
    let client = args
        .client
        .as_deref()
        .map(str::parse::<Client>)
        .transpose()
        .map_err(|e| Failure::usage(anyhow::Error::from(e).context("--client")))?;
    let at = match &args.at {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    Failure::usage(anyhow::anyhow!("--at {text:?}: not an RFC 3339 time ({e})"))
                })?
                .unix_timestamp()
        }
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let chain = verify::load_chain(&args.chain).map_err(|e| Failure::usage(e.into()))?;
    let anchors = match &args.roots {
        Some(path) => {
            let mut anchors = TrustAnchors::default();
            anchors
                .add_pem_file(path)
                .map_err(|e| Failure::usage(e.into()))?;
            anchors
        }
        None => TrustAnchors::system(),
    };
    let verification = verify::verify(&chain, &target, &anchors, at, &PathOptions::default())
        .ok_or_else(|| {
            Failure::usage(anyhow::anyhow!(
                "{}: the first certificate cannot be read",
                args.chain.display()
            ))
        })?;
    let valid = verification.valid(client);
    let status = if valid { 0 } else { EXIT_INVALID };
    let profile = client.map_or("strict", |c| c.id());
    if args.json {
        let output = Output {
            schema_version: 1,
            name: target.to_string(),
            at: rfc3339(at),
            profile,
            valid,
            exit_code: status,
            rejections: &verification.rejections,
            clients: &verification.clients,
            chain: verification
                .analysis
                .chain
                .iter()
                .map(Certificate::from)
                .collect(),
            anchors: &anchors.sources,
        };
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &output)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
            .context("cannot write the result")
            .map_err(|error| Failure {
                status: EXIT_UNKNOWN,
                error,
            })?;
        return Ok(status);
    }
    let mut out = String::new();
    let verdict = if valid { "VALID" } else { "INVALID" };
    let judged_by = client.map_or_else(|| "strict profile".to_string(), |c| c.name().to_string());
    out.push_str(&format!(
        "{verdict}: {} for {target} at {} ({judged_by})\n",
        args.chain.display(),
        rfc3339(at)
    ));
    if client.is_none() {
        for rejection in &verification.rejections {
            out.push_str(&format!("  ✗ {}: {}\n", rejection.code, rejection.message));
        }
    }
    out.push_str("Mail clients\n");
    for verdict in &verification.clients {
        if client.is_some_and(|c| c != verdict.client) {
            continue;
        }
        let reason = verdict
            .deciding()
            .filter(|f| f.outcome != Outcome::Works)
            .map(|f| format!(": {} [{}]", f.detail, f.rule))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<19}{}{reason}\n",
            verdict.client.name(),
            verdict.verdict.as_str()
        ));
    }
    out.push_str("Chain\n");
    for (index, cert) in verification.analysis.chain.iter().enumerate() {
        out.push_str(&format!(
            "  {index} {} · issuer {} · {} to {} · {} · {}\n",
            cert.presented_names().join(", "),
            cert.issuer,
            rfc3339(cert.not_before),
            rfc3339(cert.not_after),
            cert.key,
            cert.signature_hash
        ));
    }
    out.push_str(&format!("Trust anchors: {}\n", anchors.sources.join(", ")));
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(status)
}
