//! DNS lookups validated the way a DNSSEC-validating sender validates them: MX, TLSA and TXT,
//! each with its [`DnssecStatus`].
//!
//! Interim: the questions are asked through the shared resolver without validation, so every
//! answer is `indeterminate`; the validator (hickory's DNSSEC support from the root trust anchor,
//! or `--dnssec-anchor FILE`) replaces this in the same issue.

use crate::observation::dnssec::{
    DnssecStatus, LookupFailure, MxLookup, MxRecord, TlsaLookup, TxtLookup, Validated,
};

use super::dns::{Dns, DnsError};

/// Asks DNS questions and validates the answers.
#[derive(Debug, Clone)]
pub struct Validator {
    dns: Dns,
}

impl Validator {
    /// A validator asking through `dns`.
    pub fn new(dns: Dns) -> Validator {
        Validator { dns }
    }

    /// The MX records of `domain`.
    pub async fn mx(&self, domain: &str) -> MxLookup {
        let answer = self.dns.mx(domain).await.map(|records| {
            records
                .into_iter()
                .map(|(preference, exchange)| MxRecord {
                    preference,
                    exchange: if exchange.is_empty() {
                        ".".to_string()
                    } else {
                        exchange
                    },
                })
                .collect()
        });
        unvalidated(domain, answer)
    }

    /// The TXT records of `name`.
    pub async fn txt(&self, name: &str) -> TxtLookup {
        unvalidated(name, self.dns.txt(name).await)
    }

    /// The TLSA records of `_PORT._tcp.HOST`.
    pub async fn tlsa(&self, host: &str, port: u16) -> TlsaLookup {
        Validated {
            name: format!("_{port}._tcp.{host}"),
            dnssec: DnssecStatus::Indeterminate,
            records: Vec::new(),
            failure: Some(LookupFailure::Failed),
            detail: Some("TLSA lookups are not built yet".to_string()),
        }
    }
}

fn unvalidated<T>(name: &str, answer: Result<Vec<T>, DnsError>) -> Validated<T> {
    let (records, failure, detail) = match answer {
        Ok(records) => (records, None, None),
        Err(DnsError::NotFound(_)) => (Vec::new(), Some(LookupFailure::NoRecords), None),
        Err(error @ DnsError::Timeout(_)) => (
            Vec::new(),
            Some(LookupFailure::Timeout),
            Some(error.to_string()),
        ),
        Err(error) => (
            Vec::new(),
            Some(LookupFailure::Failed),
            Some(error.to_string()),
        ),
    };
    Validated {
        name: name.to_string(),
        dnssec: DnssecStatus::Indeterminate,
        records,
        failure,
        detail,
    }
}
