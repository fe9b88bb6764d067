//! `mailtls schema [OUTPUT]`: the JSON Schema of an output, as committed under docs/schema/.

use clap::Args;
use mailtls::report::wire;

use super::Failure;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Which output: check, reputation, cert-verify, provision, explain, scan-target,
    /// scan-report, scan-diff or tlsrpt; or openapi, the OpenAPI document of `mailtls serve`'s API.
    output: String,
}

pub fn run(args: &SchemaArgs) -> Result<u8, Failure> {
    if args.output == "openapi" {
        super::write_json(&mailtls::serve::api::openapi_document())?;
        return Ok(mailtls::exit::OK);
    }
    let mut schemas = wire::schemas();
    schemas.extend(mailtls::scan::wire::schemas());
    let Some((_, schema)) = schemas.iter().find(|(name, _)| *name == args.output) else {
        let known: Vec<&str> = schemas.iter().map(|(name, _)| *name).collect();
        return Err(Failure::usage(anyhow::anyhow!(
            "no output called '{}' (known: {})",
            args.output,
            known.join(", ")
        )));
    };
    super::write_json(schema)?;
    Ok(mailtls::exit::OK)
}
