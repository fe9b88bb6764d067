//! Reading the mail domains' inbound delivery back (tables `inbound` and `inbound_mx`): per
//! domain its MTA-STS state, policy problems, DANE and whether a certificate can cost it mail,
//! for reports, diffs and serve's metrics. A row this mailtls cannot read is left out and
//! counted, as everywhere in the store.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::read::{Unreadable, named, named_optional};
use super::{Store, StoreError};
use mailtls_core::analyze::dane::DaneState;
use mailtls_core::diagnose::costs_mail::CostAnswer;
use mailtls_core::diagnose::delivery::{MtaStsState, TlsRptState};
use mailtls_core::diagnose::{Code, Verdict};

/// One mail domain's inbound delivery, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    /// The target (mail domain or address).
    pub target: String,
    /// Inbound delivery's verdict.
    pub verdict: Verdict,
    /// MTA-STS as a sender without a cached policy finds it.
    pub mta_sts: MtaStsState,
    /// The MTA-STS problems, by code.
    pub policy_problems: Vec<Code>,
    /// The domain's DANE (`None`: no MX host).
    pub dane: Option<DaneState>,
    /// The TLS-RPT record.
    pub tlsrpt: TlsRptState,
    /// Can a certificate warning cost the domain mail?
    pub costs_mail: CostAnswer,
}

impl Store {
    /// The inbound delivery of every mail domain of a scan, by target.
    pub async fn inbound(&self, scan_id: &str) -> Result<Vec<InboundRecord>, StoreError> {
        self.readable_rows(
            sqlx::query(
                "SELECT target, verdict, mta_sts, policy_problems, dane, tlsrpt, costs_mail \
                 FROM inbound WHERE scan_id = $1 ORDER BY target",
            )
            .bind(scan_id.to_string()),
            "inbound",
            inbound_record,
        )
        .await
    }

    /// How many mail domains of a scan have each MTA-STS state, and each DANE state (domains
    /// without MX hosts are not counted there).
    pub async fn inbound_counts(
        &self,
        scan_id: &str,
    ) -> Result<(Vec<(MtaStsState, u64)>, Vec<(DaneState, u64)>), StoreError> {
        let mta_sts = self
            .readable_rows(
                sqlx::query(
                    "SELECT mta_sts, COUNT(*) FROM inbound WHERE scan_id = $1 GROUP BY mta_sts \
                     ORDER BY mta_sts",
                )
                .bind(scan_id.to_string()),
                "inbound",
                |row| {
                    Ok((
                        named(row, 0, "mta_sts", MtaStsState::from_name)?,
                        count(row, 1)?,
                    ))
                },
            )
            .await?;
        let dane = self
            .readable_rows(
                sqlx::query(
                    "SELECT dane, COUNT(*) FROM inbound WHERE scan_id = $1 AND dane IS NOT NULL \
                     GROUP BY dane ORDER BY dane",
                )
                .bind(scan_id.to_string()),
                "inbound",
                |row| Ok((named(row, 0, "dane", DaneState::from_name)?, count(row, 1)?)),
            )
            .await?;
        Ok((mta_sts, dane))
    }
}

fn inbound_record(row: &AnyRow) -> Result<InboundRecord, Unreadable> {
    let codes = row.try_get::<Option<String>, _>(3)?.unwrap_or_default();
    Ok(InboundRecord {
        target: row.try_get(0)?,
        verdict: named(row, 1, "verdict", Verdict::from_name)?,
        mta_sts: named(row, 2, "mta_sts", MtaStsState::from_name)?,
        policy_problems: codes
            .split(',')
            .filter(|name| !name.is_empty())
            .map(|name| {
                Code::from_name(name).ok_or_else(|| Unreadable::Unknown {
                    column: "policy_problems",
                    value: name.to_string(),
                })
            })
            .collect::<Result<_, _>>()?,
        dane: named_optional(row, 4, "dane", DaneState::from_name)?,
        tlsrpt: named(row, 5, "tlsrpt", TlsRptState::from_name)?,
        costs_mail: named(row, 6, "costs_mail", CostAnswer::from_name)?,
    })
}

fn count(row: &AnyRow, index: usize) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or(0))
}
