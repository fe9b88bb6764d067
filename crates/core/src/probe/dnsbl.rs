//! Asks DNS blocklists, gently: each name once, a few at a time, through one resolver.
//!
//! Lists are run by volunteers or throttle by resolver, so a run must not hammer them: the
//! questions are deduplicated before any is sent (the resolver's cache then covers repeats of
//! the TXT lookups), each takes a place in the connection budget for the resolver's address
//! (so all jobs of an engine together keep to its per-address limit), and each has the
//! resolver's timeout and attempt limit.

use tokio::task::JoinSet;

use super::budget::ConnectionBudget;
use super::dns::{Dns, DnsError};
use super::memo::ProbeMemo;
use crate::observation::{DnsblAnswer, DnsblLookup};

/// One question: which zone, about what, and the name to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The zone.
    pub zone: String,
    /// The address or name asked about.
    pub subject: String,
    /// The name to look up.
    pub query: String,
}

/// Asks every question once (with a memo, once for all jobs); answers come back in the order of
/// first appearance.
pub async fn ask_all(
    dns: &Dns,
    budget: &ConnectionBudget,
    memo: Option<&ProbeMemo>,
    questions: Vec<Question>,
) -> Vec<DnsblLookup> {
    let mut unique: Vec<Question> = Vec::new();
    for question in questions {
        if !unique.iter().any(|q| q.query == question.query) {
            unique.push(question);
        }
    }
    let resolver = dns.server_address();
    let mut tasks = JoinSet::new();
    for (index, question) in unique.iter().cloned().enumerate() {
        let dns = dns.clone();
        let budget = budget.clone();
        let memo = memo.cloned();
        tasks.spawn(async move {
            let asked = async {
                let permit = match resolver {
                    Some(address) => Some(budget.acquire(address).await),
                    None => None,
                };
                let answer = ask(&dns, &question.query).await;
                // A question holds no connection: its place goes back at once.
                if let Some(permit) = permit {
                    permit.release();
                }
                answer
            };
            let answer = match memo {
                Some(memo) => memo.dnsbl(question.query.clone(), asked).await,
                None => asked.await,
            };
            (index, answer)
        });
    }
    let mut answers: Vec<Option<DnsblAnswer>> = vec![None; unique.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, answer)) = joined {
            answers[index] = Some(answer);
        }
    }
    unique
        .into_iter()
        .zip(answers)
        .map(|(question, answer)| DnsblLookup {
            zone: question.zone,
            subject: question.subject,
            query: question.query,
            answer: answer.unwrap_or(DnsblAnswer::Failed {
                reason: "the lookup task failed".to_string(),
            }),
        })
        .collect()
}

/// One lookup: the A records, and for a listing the TXT reason too.
async fn ask(dns: &Dns, query: &str) -> DnsblAnswer {
    match dns.ipv4(query).await {
        Ok(codes) if codes.is_empty() => DnsblAnswer::NotListed,
        Ok(codes) => {
            // The reason is a courtesy: a list without TXT records is still a listing.
            let text = dns.txt(query).await.unwrap_or_default();
            DnsblAnswer::Records { codes, text }
        }
        Err(DnsError::NotFound(_)) => DnsblAnswer::NotListed,
        Err(DnsError::Timeout(_)) => DnsblAnswer::Timeout,
        Err(other) => DnsblAnswer::Failed {
            reason: other.to_string(),
        },
    }
}
