//! A worker joining a scan in PostgreSQL: the limits it keeps with the other workers, and the
//! leases that keep them (`mailtls::scan::shared`).

use std::sync::Arc;

use mailtls::run::check::now;
use mailtls::scan::shared::{Leases, SharedSettings};
use mailtls::scan::store::{Store, StoreError};

use super::store_failure;
use crate::cli::Failure;

/// Joins the scan's shared limits: refused (a usage error naming the difference) when live
/// workers keep other limits; else the leases, kept through a store of their own (a place's
/// wait never waits behind a commit), whose commits do not wait for the disk.
pub(super) async fn join(
    db: &str,
    scan_id: &str,
    run_id: &str,
    settings: SharedSettings,
) -> Result<Arc<Leases>, Failure> {
    let store = Store::open_for_leases(db).await.map_err(store_failure)?;
    let ours = settings.limits_json();
    if let Some(theirs) = store
        .agree_limits(scan_id, &ours)
        .await
        .map_err(store_failure)?
    {
        return Err(Failure::usage(anyhow::anyhow!(
            "scan {scan_id} is being run by other workers with other limits ({}); start this \
             one with theirs, or wait until they finish (a worker that died counts as running \
             until its lease passes, {} s)",
            SharedSettings::differences(&ours, &theirs).join(", "),
            settings.lease.as_secs()
        )));
    }
    Ok(Leases::start(store, scan_id, run_id, settings))
}

/// Records the run, and at once that it is alive (when it keeps leases).
pub(super) async fn start_run(
    store: &Store,
    scan_id: &str,
    run_id: &str,
    shard: &str,
    leases: Option<&Leases>,
) -> Result<(), StoreError> {
    store.start_run(scan_id, run_id, shard, now()).await?;
    if let Some(leases) = leases {
        let lease_ms = i64::try_from(leases.settings().lease.as_millis()).unwrap_or(i64::MAX);
        store.renew(scan_id, run_id, lease_ms).await?;
    }
    Ok(())
}
