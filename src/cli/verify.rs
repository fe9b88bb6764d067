//! `mailtls cert verify`: a saved chain, judged offline.

use std::path::PathBuf;

use clap::Args;
use mailtls::clients::Client;
use mailtls::engine::{Engine, EngineOptions};
use mailtls::report;
use mailtls::run::check::now;
use mailtls::run::verify::{self, VerifyRequest};
use mailtls::target::Target;

use super::Failure;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The chain: PEM (server certificate first, then intermediates) or one DER certificate.
    #[arg(long, value_name = "CHAIN.pem")]
    chain: PathBuf,
    /// Trust these CA certificates (PEM) instead of the system store.
    #[arg(long, value_name = "ROOTS.pem")]
    roots: Option<PathBuf>,
    /// The server name (or IP address) the client uses. Without it only the path is judged.
    #[arg(long, value_name = "NAME|IP")]
    name: Option<String>,
    /// Consult this certificate revocation list (PEM or DER); repeatable.
    #[arg(long, value_name = "CRL.pem")]
    crl: Vec<PathBuf>,
    /// Allow at most N certificates on the path below the trust anchor: the server certificate
    /// and N-1 intermediates (self-issued ones, key rollovers, not counted).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    max_depth: Option<String>,
    /// Validate at this time (RFC 3339, e.g. 2026-01-31T12:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = super::parse_time)]
    at: Option<i64>,
    /// Judge by this client's rules instead of the strict profile.
    #[arg(long, value_name = "NAME", value_enum, ignore_case = true)]
    client: Option<Client>,
    /// Print the result as JSON (schema: docs/schema/cert-verify.json).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &VerifyArgs) -> Result<u8, Failure> {
    let name = args
        .name
        .as_deref()
        .map(Target::parse)
        .transpose()
        .map_err(|e| Failure::usage(anyhow::Error::from(e).context("--name")))?;
    let max_intermediates = args.max_depth.as_deref().map(max_depth).transpose()?;
    let chain = verify::load_chain(&args.chain).map_err(|e| Failure::usage(e.into()))?;
    let mut crls = Vec::new();
    for path in &args.crl {
        crls.extend(verify::load_crls(path).map_err(|e| Failure::usage(e.into()))?);
    }
    // --roots replaces the system store; a bad roots file is a usage error.
    let options = match &args.roots {
        Some(roots) => EngineOptions::offline(false, vec![roots.clone()]),
        None => EngineOptions::offline(true, Vec::new()),
    };
    let engine = Engine::new(options).map_err(|e| Failure::usage(e.into()))?;
    let report = engine
        .verify_chain(VerifyRequest {
            chain,
            name,
            at: args.at.unwrap_or_else(now),
            client: args.client,
            crls,
            max_intermediates,
        })
        .map_err(|e| Failure::usage(anyhow::anyhow!("{}: {e}", args.chain.display())))?;
    if args.json {
        super::write_json(&report::wire::verify::output(&report))?;
    } else {
        super::write_text(&report::verify::render(
            &report,
            &args.chain.display().to_string(),
        ));
    }
    Ok(report.exit_code())
}

/// `--max-depth N`: the most certificates below the anchor, the server's own included, so at
/// least 1; returns the most intermediates (N-1).
fn max_depth(text: &str) -> Result<usize, Failure> {
    match text.trim().parse::<i64>() {
        Ok(depth) if depth >= 1 => usize::try_from(depth - 1)
            .map_err(|_| Failure::usage(anyhow::anyhow!("--max-depth {text}: too large"))),
        Ok(_) => Err(Failure::usage(anyhow::anyhow!(
            "--max-depth {text}: must be 1 or more (the certificates a path may have below its \
             trust anchor, the server's own included)"
        ))),
        Err(_) => Err(Failure::usage(anyhow::anyhow!(
            "--max-depth {text}: not a whole number"
        ))),
    }
}
