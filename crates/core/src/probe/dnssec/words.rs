//! What went wrong between the validator and the resolver, in plain words: which resolver, which
//! question, what it answered ("the resolver at 127.0.0.53 refused the question for . DNSKEY").
//! hickory's own words print its types with `{:?}` (`no records found for Query { name:
//! Name(".") ... }`), which no person should read; they are used only when they hold no such
//! text, and a plain sentence stands in for them otherwise.

use std::net::IpAddr;

use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::{ProtoError, ProtoErrorKind};

use super::signatures::shown;

/// The resolver asked, as people name it.
pub(super) fn resolver(server: Option<IpAddr>) -> String {
    match server {
        Some(address) => format!("the resolver at {address}"),
        None => "the resolver".to_string(),
    }
}

/// A question as people write it: `NAME TYPE` (`. DNSKEY`, `example.com. MX`).
pub(super) fn question(query: &Query) -> String {
    format!("{} {}", shown(query.name()), query.query_type())
}

/// `error`, met asking `server`, in plain words.
pub(super) fn words(error: &ProtoError, server: Option<IpAddr>) -> String {
    let who = resolver(server);
    match error.kind() {
        ProtoErrorKind::Timeout => format!("{who} did not answer within the timeout"),
        ProtoErrorKind::NoRecordsFound {
            query,
            response_code,
            ..
        } => {
            let asked = question(query);
            match response_code {
                ResponseCode::NXDomain => format!("{} does not exist", shown(query.name())),
                ResponseCode::NoError => format!("there are no records for {asked}"),
                ResponseCode::Refused => format!("{who} refused the question for {asked}"),
                ResponseCode::ServFail => {
                    format!("{who} answered SERVFAIL (server failure) to the question for {asked}")
                }
                code => format!("{who} answered {code} to the question for {asked}"),
            }
        }
        ProtoErrorKind::RequestRefused => format!("{who} refused the question"),
        ProtoErrorKind::Nsec { query, proof } => format!(
            "the proof that there are no records for {} is {proof}",
            question(query)
        ),
        ProtoErrorKind::Io(io) => format!("{who} could not be reached: {io}"),
        ProtoErrorKind::NoConnections | ProtoErrorKind::Busy => {
            format!("{who} could not be asked: no connection to it")
        }
        _ => {
            let text = error.to_string();
            if plain(&text) {
                format!("{who} gave an answer that could not be used: {text}")
            } else {
                format!("{who} gave an answer that could not be used")
            }
        }
    }
}

/// Whether `text` holds no Rust debug formatting: no `{ field: ...}` body, no `Variant(`.
fn plain(text: &str) -> bool {
    if text.contains('{') || text.contains('}') || text.len() > 200 {
        return false;
    }
    text.match_indices('(').all(|(at, _)| {
        let word = text[..at]
            .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or_default();
        !word.starts_with(|c: char| c.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::{Name, RecordType};

    fn no_records(name: &str, kind: RecordType, code: ResponseCode) -> ProtoError {
        let query = Query::query(Name::from_ascii(name).expect("a name"), kind);
        ProtoError::from(ProtoErrorKind::NoRecordsFound {
            query: Box::new(query),
            soa: None,
            ns: None,
            negative_ttl: None,
            response_code: code,
            trusted: true,
            authorities: None,
        })
    }

    const LAB: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 53)));

    /// What a dnsmasq that will not answer for the root (as the lab's) makes of priming.
    #[test]
    fn a_refused_question_is_said_with_the_resolver_and_the_question() {
        let error = no_records(".", RecordType::DNSKEY, ResponseCode::Refused);
        // hickory's words are debug text: that is why these exist.
        assert!(!plain(&error.to_string()), "{error}");
        assert_eq!(
            words(&error, LAB),
            "the resolver at 127.0.0.53 refused the question for . DNSKEY"
        );
        assert_eq!(
            words(
                &no_records("mx.example.", RecordType::TLSA, ResponseCode::ServFail),
                None
            ),
            "the resolver answered SERVFAIL (server failure) to the question for mx.example. TLSA"
        );
        assert_eq!(
            words(
                &no_records("gone.example.", RecordType::MX, ResponseCode::NXDomain),
                LAB
            ),
            "gone.example. does not exist"
        );
    }

    /// Whatever the library says, what comes out is plain: its debug text never passes.
    #[test]
    fn the_library_debug_text_never_passes() {
        let errors = [
            ProtoError::from(ProtoErrorKind::Timeout),
            ProtoError::from(ProtoErrorKind::Busy),
            ProtoError::from(ProtoErrorKind::RequestRefused),
            ProtoError::from(format!(
                "response does not contain NSEC or NSEC3 records. Query: {:?}",
                Query::query(Name::root(), RecordType::DNSKEY)
            )),
            ProtoError::from("rrset is not signed"),
            no_records("example.", RecordType::MX, ResponseCode::NoError),
            no_records("example.", RecordType::MX, ResponseCode::FormErr),
        ];
        for error in errors {
            let said = words(&error, LAB);
            assert!(plain(&said), "{said} (from {error})");
            assert!(!said.contains("Name(") && !said.contains("Query"), "{said}");
        }
        assert_eq!(
            words(&ProtoError::from("rrset is not signed"), LAB),
            "the resolver at 127.0.0.53 gave an answer that could not be used: rrset is not signed"
        );
    }
}
