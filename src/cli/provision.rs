//! `mailtls provision DOMAIN --format FORMAT`: a provisioning file with verified names only.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;
use mailtls::provisioning::write::Format;
use mailtls::report;
use mailtls::service::Direction;
use mailtls::target::Subject;

use super::{EngineArgs, Failure};

#[derive(Args, Debug)]
pub struct ProvisionArgs {
    /// The mail domain (or an address at it).
    domain: String,
    /// The file to write.
    #[arg(long, value_name = "FORMAT", value_enum)]
    format: Format,
    /// Print the settings and the document as JSON (schema: docs/schema/provision.json).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: ProvisionArgs) -> Result<u8, Failure> {
    let address = Subject::parse(&args.domain)
        .and_then(|subject| subject.mail_domain())
        .map_err(|e| Failure::usage(e.into()))?;
    let engine = args.engine.engine()?;
    let provisioned = super::runtime()?
        .block_on(engine.provision(&address, args.format))
        .map_err(|e| Failure {
            status: e.exit_code(),
            error: e.into(),
        })?;
    if args.json {
        super::write_json(&report::wire::provision::output(&provisioned))?;
    } else {
        std::io::stdout()
            .lock()
            .write_all(provisioned.document.as_bytes())
            .context("cannot write the file")
            .map_err(Failure::could_not_check)?;
    }
    if let Some(missing) = provisioned.missing() {
        eprintln!(
            "mailtls: warning: no verified {} server; the file lists only the other",
            match missing {
                Direction::Outgoing => "outgoing",
                _ => "incoming",
            }
        );
    }
    Ok(provisioned.exit_code())
}
