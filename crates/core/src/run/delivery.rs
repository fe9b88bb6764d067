//! What a sending mail server learns about a mail domain before it delivers to it: the MX
//! records, the `_mta-sts` and `_smtp._tls` TXT records and the TLSA records of every MX host,
//! each through the DNSSEC validator, and the MTA-STS policy over HTTPS (one request: senders
//! follow no redirect, RFC 8461 §3.3). Discovery runs this beside its host checks (the MX hosts'
//! port 25 among them), so it adds no wall time of its own; `diagnose::delivery` judges the
//! record with those port 25 observations, without I/O.

use super::discovery::fetch_error_kind;
use crate::analyze::mta_sts;
use crate::concurrent::in_order;
use crate::engine::Engine;
use crate::observation::delivery::{DeliveryObservations, MAX_POLICY, PolicyFetch};
use crate::probe::http::{Policy, Scheme};

/// Most MX hosts observed (TLSA asked, port 25 probed), the most preferred first: apart from the
/// hosts handed out to clients, which have their own bound (`discovery::MAX_HOSTS`).
pub const MAX_MX_HOSTS: usize = 8;

impl Engine {
    /// Observes what senders learn about delivering to `domain`. `allow_inside`: the policy may
    /// be fetched from an inside address (the domain's own servers live inside too).
    pub async fn observe_delivery(&self, domain: &str, allow_inside: bool) -> DeliveryObservations {
        let validator = self.validator();
        let mx_and_tlsa = async {
            let mx = validator.mx(domain).await;
            let tlsa = in_order(mx_hosts(&mx.records).into_iter().map(|host| {
                let validator = validator.clone();
                async move { validator.tlsa(&host, 25).await }
            }))
            .await;
            (mx, tlsa)
        };
        let mta_sts = async {
            let name = format!("_mta-sts.{domain}");
            let record = validator.txt(&name).await;
            // Fetched whenever a record announces MTA-STS, valid or not: what the policy says
            // matters to the senders that keep one from before.
            let policy = if record.records.iter().any(|r| mta_sts::announces(r)) {
                Some(self.fetch_policy(domain, allow_inside).await)
            } else {
                None
            };
            (record, policy)
        };
        let tlsrpt_name = format!("_smtp._tls.{domain}");
        let tlsrpt = validator.txt(&tlsrpt_name);
        let ((mx, tlsa), (mta_sts_record, policy), tlsrpt_record) =
            tokio::join!(mx_and_tlsa, mta_sts, tlsrpt);
        DeliveryObservations {
            domain: domain.to_string(),
            mx,
            mta_sts_record,
            policy,
            tlsrpt_record,
            tlsa,
        }
    }

    /// `GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt`, as a sender asks it.
    async fn fetch_policy(&self, domain: &str, allow_inside: bool) -> PolicyFetch {
        let url = format!("https://mta-sts.{domain}/.well-known/mta-sts.txt");
        let policy = Policy {
            scheme: Scheme::Https,
            max_body: MAX_POLICY,
            allow_inside,
        };
        let mut fetch = PolicyFetch {
            url: url.clone(),
            status: None,
            location: None,
            content_type: None,
            body: None,
            too_large: false,
            chain: Vec::new(),
            failure: None,
            error: None,
        };
        match self.fetcher().answer(&url, policy).await {
            Ok(answer) => {
                fetch.status = Some(answer.status);
                fetch.location = answer.location;
                fetch.content_type = answer.content_type;
                fetch.body = (200..300)
                    .contains(&answer.status)
                    .then(|| String::from_utf8_lossy(&answer.body).into_owned());
                fetch.too_large = answer.too_large;
                fetch.chain = answer.chain;
            }
            Err(failure) => {
                fetch.chain = failure.chain;
                fetch.failure = Some(fetch_error_kind(&failure.error));
                fetch.error = Some(failure.error.to_string());
            }
        }
        fetch
    }
}

/// The MX hosts senders try, most preferred first, each once, at most [`MAX_MX_HOSTS`]; a null
/// MX (".", RFC 7505) is none.
pub fn mx_hosts(records: &[crate::observation::dnssec::MxRecord]) -> Vec<String> {
    let mut sorted: Vec<&crate::observation::dnssec::MxRecord> = records
        .iter()
        .filter(|r| r.exchange != "." && !r.exchange.is_empty())
        .collect();
    sorted.sort_by_key(|r| r.preference);
    let mut hosts: Vec<String> = Vec::new();
    for record in sorted {
        let host = record.exchange.trim_end_matches('.').to_ascii_lowercase();
        if !hosts.contains(&host) && hosts.len() < MAX_MX_HOSTS {
            hosts.push(host);
        }
    }
    hosts
}
