//! `mailtls check HOST|DOMAIN|ADDRESS`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use mailtls::report;
use mailtls::target::Subject;

use super::{EngineArgs, Failure, ProbeArgs};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Server name or IP address a mail client is configured with (e.g. mail.example.com), or
    /// an e-mail address or mail domain (then every server it sends clients to is checked).
    host: String,
    /// Print the report as JSON (schema: docs/schema/check.json).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    probes: ProbeArgs,
    /// Also save what was observed to FILE, to be judged again later with `mailtls judge`.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

pub fn run(args: CheckArgs) -> Result<u8, Failure> {
    let subject = Subject::parse(&args.host).map_err(|e| Failure::usage(e.into()))?;
    let mut options = args.probes.options()?;
    options.typed = Some(args.host.trim().to_string());
    // A file that cannot be written is a usage error before any network work.
    let save = args
        .save
        .as_ref()
        .map(|path| {
            std::fs::File::create(path)
                .with_context(|| format!("--save {}", path.display()))
                .map_err(Failure::usage)
        })
        .transpose()?;
    let engine = args.engine.engine()?;
    let checked = super::runtime()?
        .block_on(engine.check(&subject, &options))
        .map_err(|e| Failure {
            status: e.exit_code(),
            error: e.into(),
        })?;
    if let (Some(file), Some(path)) = (save, &args.save) {
        serde_json::to_writer_pretty(
            std::io::BufWriter::new(file),
            &checked.saved(engine.anchors()),
        )
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(Failure::could_not_check)?;
    }
    if args.json {
        super::write_json(&report::wire::check::output(&checked))?;
    } else {
        super::write_text(&report::check(&checked));
    }
    Ok(checked.exit_code())
}
