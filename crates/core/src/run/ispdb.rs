//! Discovery's answers to steps 5 and 6 of Thunderbird's settings search: Mozilla's ISP database
//! asked for the mail domain (`ispdb`), then, for the domains of the MX host, the provider's
//! autoconfig and the ISP database (`autoconfig-mx`, `ispdb-mx`), as FetchConfig.sys.mjs does
//! (see [`crate::provisioning::ispdb`]). The records come in Thunderbird's order; the servers
//! they hand out are checked like every other server handed out.

use super::discovery::{document_error_kind, fetch_document};
use crate::concurrent::in_order;
use crate::engine::{Engine, Ispdb};
use crate::observation::{Record, Source, SourceErrorKind};
use crate::probe::dns::DnsError;
use crate::probe::http::{Policy, Scheme};
use crate::provisioning::ispdb::{self, MxLookup};
use crate::target::Address;

impl Engine {
    /// Step 5, then the records of step 6 for a domain whose MX question got `exchangers`
    /// (preference, host), all asked at once, in Thunderbird's order.
    pub(super) async fn ispdb_steps(
        &self,
        address: &Address,
        exchangers: &Result<Vec<(u16, String)>, DnsError>,
        allow_inside: bool,
    ) -> Vec<Record> {
        let domain = &address.domain;
        let mut asks: Vec<(Source, String)> = vec![(Source::Ispdb, domain.clone())];
        let mut skipped: Option<Record> = None;
        match exchangers {
            Ok(exchangers) => match ispdb::mx_domains(domain, exchangers) {
                MxLookup::Ask { domains, .. } => {
                    for mx_domain in domains {
                        asks.push((Source::AutoconfigMx, mx_domain.clone()));
                        asks.push((Source::IspdbMx, mx_domain));
                    }
                }
                lookup => skipped = Some(skipped_mx_step(domain, &lookup)),
            },
            Err(DnsError::NotFound(_)) => skipped = Some(skipped_mx_step(domain, &MxLookup::NoMx)),
            Err(error) => {
                let mut record = Record::new(Source::IspdbMx, domain.clone());
                let kind = match error {
                    DnsError::Timeout(_) | DnsError::Failed { .. } => SourceErrorKind::NotChecked,
                    _ => SourceErrorKind::Other,
                };
                record.fail(kind, format!("the MX question got no answer: {error}"));
                skipped = Some(record);
            }
        }
        let asked = asks.into_iter().map(|(source, asked_domain)| {
            let engine = self.clone();
            let address = address.clone();
            async move {
                match source {
                    Source::AutoconfigMx => {
                        let url = format!(
                            "https://autoconfig.{asked_domain}/mail/config-v1.1.xml?emailaddress={}",
                            address.email().replace('@', "%40")
                        );
                        fetch_document(
                            engine.fetcher(),
                            source,
                            url,
                            None,
                            document_policy(allow_inside),
                            &address,
                        )
                        .await
                    }
                    _ => {
                        engine
                            .ispdb_record(source, &asked_domain, &address, allow_inside)
                            .await
                    }
                }
            }
        });
        let mut records = in_order(asked).await;
        records.extend(skipped);
        records
    }

    /// What the ISP database this engine asks lists for `domain`, as a record of `source`: its
    /// URL is the one Thunderbird asks (`mailnews.auto_config_url` + the domain); a local copy
    /// names itself and the file that answered in `answered_by`.
    async fn ispdb_record(
        &self,
        source: Source,
        domain: &str,
        address: &Address,
        allow_inside: bool,
    ) -> Record {
        let db = match self.ispdb() {
            Ispdb::Url(base) => {
                let url = ispdb::url_for(base, domain);
                return fetch_document(
                    self.fetcher(),
                    source,
                    url,
                    None,
                    document_policy(allow_inside),
                    address,
                )
                .await;
            }
            local => local.local(),
        };
        let mut record = Record::new(source, ispdb::url_for(ispdb::THUNDERBIRD_URL, domain));
        let Some(db) = db else {
            return record;
        };
        match db.lookup(domain, address) {
            Some(listed) => {
                record.answered_by = Some(format!("{}: {}", db.label(), listed.file));
                match listed.servers {
                    Ok(servers) => record.servers = servers,
                    Err(error) => record.fail(
                        document_error_kind(&error),
                        format!("{}: {error}", listed.file),
                    ),
                }
            }
            None => record.fail(
                SourceErrorKind::NotPublished,
                format!("{domain} is not listed in {}", db.label()),
            ),
        }
        record
    }
}

/// The documents' rules: HTTPS, a document's size, inside addresses only when the domain's own
/// servers live inside.
fn document_policy(allow_inside: bool) -> Policy {
    Policy {
        scheme: Scheme::Https,
        max_body: crate::observation::discovery::MAX_DOCUMENT,
        allow_inside,
    }
}

/// Step 6 when Thunderbird skips it, as a record that says why.
fn skipped_mx_step(domain: &str, lookup: &MxLookup) -> Record {
    let (asked, why) = match lookup {
        MxLookup::NoMx => (
            domain.to_string(),
            format!("{domain} has no MX host: Thunderbird skips this step"),
        ),
        MxLookup::NoBaseDomain(host) => (
            host.clone(),
            format!("the MX host {host} has no registrable domain: Thunderbird skips this step"),
        ),
        MxLookup::SameDomain { host } => (
            host.clone(),
            format!("the MX host {host} is in {domain} itself: Thunderbird skips this step"),
        ),
        MxLookup::Ask { host, .. } => (host.clone(), String::new()),
    };
    let mut record = Record::new(Source::IspdbMx, asked);
    record.fail(SourceErrorKind::NotPublished, why);
    record
}
