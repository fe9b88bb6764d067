//! `mailtls reputation HOST|IP|DOMAIN`.

use clap::Args;
use mailtls::report;
use mailtls::run::check::now;
use mailtls::target::Target;

use super::{EngineArgs, Failure, ListArgs};

#[derive(Args, Debug)]
pub struct ReputationArgs {
    /// Host name, IP address, or mail domain (its MX hosts are examined too).
    host: String,
    /// Print the result as JSON (schema: docs/schema/reputation.json).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: ReputationArgs) -> Result<u8, Failure> {
    let target = Target::parse(&args.host).map_err(|e| Failure::usage(e.into()))?;
    let zones = args.lists.zones()?;
    let engine = args.engine.engine()?;
    let observed_at = now();
    let examined = super::runtime()?
        .block_on(engine.reputation(&target, zones, Default::default()))
        .map_err(|e| Failure {
            status: e.exit_code(),
            error: e.into(),
        })?;
    if args.json {
        super::write_json(&report::wire::reputation::output(
            &examined.judged,
            observed_at,
        ))?;
    } else {
        super::write_text(&report::reputation::render(&examined.judged));
    }
    Ok(examined.judged.verdict.exit_code())
}
