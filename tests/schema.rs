//! The JSON Schemas under docs/schema/ are the ones the wire types generate. After changing a
//! wire type, run `MAILTLS_UPDATE_SCHEMA=1 cargo test --test schema` and commit the files.

use std::path::Path;

#[test]
fn committed_schemas_are_current() {
    let update = std::env::var_os("MAILTLS_UPDATE_SCHEMA").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema");
    let mut stale = Vec::new();
    let schemas = mailtls::report::wire::schemas()
        .into_iter()
        .chain(mailtls::scan::wire::schemas());
    for (name, schema) in schemas {
        let path = dir.join(format!("{name}.json"));
        let generated = serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n";
        if update {
            std::fs::write(&path, &generated).expect("the schema file is writable");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run MAILTLS_UPDATE_SCHEMA=1 cargo test --test schema): {stale:?}"
    );
}

#[test]
fn committed_openapi_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let generated = serde_json::to_string_pretty(&mailtls::serve::api::openapi_document())
        .expect("the document serializes")
        + "\n";
    if std::env::var_os("MAILTLS_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("docs/openapi.json is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date (run MAILTLS_UPDATE_SCHEMA=1 cargo test --test schema)"
    );
}

#[test]
fn every_vocabulary_value_is_documented() {
    // docs/json.md names every value of every vocabulary the JSON outputs carry.
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md"))
        .expect("docs/json.md");
    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| name(*v)).collect()
    }
    use mailtls::clients::account_setup::{FoundBy, TryResult};
    use mailtls::clients::{
        Client,
        dialogs::{During, Fault, When},
        discovery::Reaction,
    };
    use mailtls::diagnose::delivery;
    use mailtls::diagnose::explain::{Closeness, Finding, Mechanism, Producer};
    use mailtls::observation::discovery::Source;
    let vocabularies = [
        names(mailtls::diagnose::Code::ALL, |c| c.as_str()),
        names(mailtls::diagnose::verify::RejectionCode::ALL, |c| {
            c.as_str()
        }),
        names(Client::ALL, |c| c.as_str()),
        names(Reaction::ALL, |c| c.as_str()),
        names(When::ALL, |c| c.as_str()),
        names(Fault::ALL, |c| c.as_str()),
        names(During::ALL, |c| c.as_str()),
        names(Closeness::ALL, |c| c.as_str()),
        names(Mechanism::ALL, |c| c.as_str()),
        names(Finding::ALL, |c| c.as_str()),
        names(Producer::ALL, |c| c.as_str()),
        names(Source::ALL, |c| c.as_str()),
        names(mailtls::diagnose::discovery::EntryStatus::ALL, |c| {
            c.as_str()
        }),
        names(mailtls::diagnose::summary::SummaryKind::ALL, |c| c.as_str()),
        names(FoundBy::ALL, |c| c.as_str()),
        names(TryResult::ALL, |c| c.as_str()),
        names(mailtls::analyze::tlsrpt::ResultType::ALL, |c| c.as_str()),
        names(mailtls::analyze::tlsrpt::PolicyType::ALL, |c| c.as_str()),
        names(mailtls::analyze::tlsrpt::StsMode::ALL, |c| c.as_str()),
        names(mailtls::diagnose::tlsrpt::Consequence::ALL, |c| c.as_str()),
        names(mailtls::run::tlsrpt::SkipReason::ALL, |c| c.as_str()),
        names(delivery::SenderKind::ALL, |c| c.as_str()),
        names(delivery::SenderAction::ALL, |c| c.as_str()),
        names(delivery::Port25::ALL, |c| c.as_str()),
        names(delivery::CertificateVerdict::ALL, |c| c.as_str()),
        names(delivery::MtaStsState::ALL, |c| c.as_str()),
        names(delivery::TlsRptState::ALL, |c| c.as_str()),
        names(mailtls::analyze::mta_sts::Mode::ALL, |c| c.as_str()),
        names(mailtls::analyze::dane::DaneState::ALL, |c| c.as_str()),
        names(mailtls::diagnose::costs_mail::CostAnswer::ALL, |c| {
            c.as_str()
        }),
        names(mailtls::diagnose::costs_mail::CostReason::ALL, |c| {
            c.as_str()
        }),
    ];
    let missing: Vec<&str> = vocabularies
        .iter()
        .flatten()
        .copied()
        .filter(|value| {
            !docs.contains(&format!("`{value}`")) && !docs.contains(&format!("`\"{value}\"`"))
        })
        .collect();
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}
