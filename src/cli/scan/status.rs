//! `mailtls scan status DB`: read-only, from any machine that reaches the database.

use clap::Args;

use mailtls::scan::status;
use mailtls::scan::store::{Store, StoreError};

use super::store_failure;
use crate::cli::Failure;

#[derive(Args, Debug)]
pub(super) struct StatusArgs {
    /// The scan database: a SQLite file or a postgres:// URL.
    #[arg(value_name = "DB")]
    db: String,
    /// Which scan (default: the newest).
    #[arg(long = "scan", value_name = "NAME")]
    scan: Option<String>,
    /// Print the status as JSON (schema: docs/schema/scan-status.json).
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: &StatusArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let status = runtime
        .block_on(async {
            let store = Store::open_existing(&args.db).await?;
            let info = super::find_scan(&store, args.scan.as_deref()).await?;
            let rows = store.status_rows(&info.id).await?;
            Ok::<_, StoreError>(status::status(&info.id, &rows))
        })
        .map_err(store_failure)?;
    if args.json {
        crate::cli::write_json(&status)?;
    } else {
        crate::cli::write_text(&status::text(&status));
    }
    Ok(mailtls::exit::OK)
}
