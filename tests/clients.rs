//! Client rules on certificates made here, one per rule: validity 900 and 400 days, no
//! serverAuth EKU, Common Name only, RSA 1024, SHA-1, a missing intermediate completed from AIA,
//! self-signed, expired, wildcard edges; and hostile chains the engine refuses to spend time on
//! (a flood of intermediates with one subject). Pure: the verdicts come from the same engine as
//! `check` and `cert verify`, with no network. RSA 1024 and SHA-1 need `openssl` (rcgen signs
//! neither), which scripts/deps.sh installs.
// Test code: a panic on unwrap is a failed test, which is the point.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use mailtls::analyze::chain::{AnchorOrigin, Extra, Fetched, PathOptions, Trust, TrustAnchors};
use mailtls::analyze::{self, CertAnalysis};
use mailtls::clients::{self, Client, ClientVerdict, Facts, Outcome};
use mailtls::diagnose::verify;
use mailtls::target::Target;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;

/// 2026-06-01T00:00:00Z.
const NOW: i64 = 1_780_272_000;
const DAY: i64 = 86_400;
const NAME: &str = "mail.example.test";

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

fn ca(name: &str, parent: Option<&Ca>) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = at(NOW - 365 * DAY);
    params.not_after = at(NOW + 3650 * DAY);
    let cert = match parent {
        None => params.self_signed(&key).unwrap(),
        Some(p) => params
            .signed_by(&key, &Issuer::from_params(&p.params, &p.key))
            .unwrap(),
    };
    Ca {
        der: cert.der().to_vec(),
        params,
        key,
    }
}

/// A leaf for NAME, valid from NOW-30 days for `days`, with serverAuth EKU; `edit` changes it.
fn leaf(issuer: &Ca, days: i64, edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, NAME);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = at(NOW - 30 * DAY);
    params.not_after = at(NOW - 30 * DAY + days * DAY);
    edit(&mut params);
    params
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .unwrap()
        .der()
        .to_vec()
}

fn anchors(root: &Ca, origin: AnchorOrigin) -> TrustAnchors {
    let mut anchors = TrustAnchors::default();
    anchors.add(&[CertificateDer::from(root.der.clone())], origin);
    anchors
}

fn analysis(chain: &[Vec<u8>], anchors: &TrustAnchors, extra: Extra<'_>) -> CertAnalysis {
    let ders: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    analyze::chain_of(
        &ders,
        Some(&Target::Dns(NAME.into())),
        anchors,
        extra,
        NOW,
        &PathOptions::default(),
    )
    .unwrap()
}

fn judge(analysis: &CertAnalysis) -> Vec<ClientVerdict> {
    let facts = Facts::new(analysis, Some("TLSv1.3"));
    clients::judge_all(&facts)
}

fn verdict(verdicts: &[ClientVerdict], client: Client) -> (Outcome, Vec<&'static str>) {
    let v = verdicts.iter().find(|v| v.client == client).unwrap();
    (v.verdict, v.rules.iter().map(|f| f.rule).collect())
}

/// Root -> intermediate -> leaf, all sent.
fn judged(
    days: i64,
    origin: AnchorOrigin,
    edit: impl FnOnce(&mut CertificateParams),
) -> Vec<ClientVerdict> {
    let root = ca("Test Root", None);
    let inter = ca("Test Intermediate", Some(&root));
    let chain = vec![leaf(&inter, days, edit), inter.der.clone()];
    judge(&analysis(&chain, &anchors(&root, origin), Extra::default()))
}

#[test]
fn a_good_certificate_works_everywhere_except_private_ca_caveats() {
    let verdicts = judged(90, AnchorOrigin::System, |_| {});
    for v in &verdicts {
        assert_eq!(v.verdict, Outcome::Works, "{:?}", v);
    }
    // The same chain under a private CA: Apple needs the CA fully trusted (it depends on the
    // device), Android apps ignore it (a certificate warning).
    let verdicts = judged(90, AnchorOrigin::Added, |_| {});
    assert_eq!(verdict(&verdicts, Client::Thunderbird).0, Outcome::Works);
    assert_eq!(
        verdict(&verdicts, Client::AppleMail),
        (Outcome::Depends, vec!["apple/private-ca-needs-full-trust"])
    );
    assert_eq!(
        verdict(&verdicts, Client::Android),
        (Outcome::Warns, vec!["android/user-ca-not-trusted"])
    );
    // Where a client shows nothing, no dialog is named; where it warns, one is.
    for v in &verdicts {
        assert_eq!(v.dialog.is_some(), v.verdict == Outcome::Warns, "{v:?}");
    }
}

#[test]
fn a_flood_of_same_subject_intermediates_is_cut_short_with_a_reason() {
    let root = ca("Test Root", None);
    let real = ca("Test Intermediate", Some(&root));
    let leaf = leaf(&real, 90, |_| {});
    let decoy = || ca("Test Intermediate", Some(&root)).der;
    // Three look-alikes before the real intermediate: within the per-subject cap, so the path
    // is still found.
    let mut chain = vec![leaf.clone(), decoy(), decoy(), decoy(), real.der.clone()];
    let found = analysis(
        &chain,
        &anchors(&root, AnchorOrigin::System),
        Extra::default(),
    );
    assert_eq!(found.trust, Trust::Trusted);
    // Thirty: the real one is beyond the cap and never tried, and the report says so instead of
    // blaming an unknown CA.
    chain = vec![leaf];
    chain.extend((0..30).map(|_| decoy()));
    chain.push(real.der.clone());
    let refused = analysis(
        &chain,
        &anchors(&root, AnchorOrigin::System),
        Extra::default(),
    );
    let Trust::Invalid { reason, .. } = &refused.trust else {
        panic!("expected an invalid chain, got {:?}", refused.trust);
    };
    assert!(reason.contains("sent 32 certificates"), "{reason}");
    assert!(reason.contains("were not tried"), "{reason}");
}

#[test]
fn validity_900_days_warns_only_in_apple_mail() {
    let verdicts = judged(900, AnchorOrigin::Added, |_| {});
    assert_eq!(
        verdict(&verdicts, Client::AppleMail).1[0],
        "apple/validity-825-days"
    );
    assert_eq!(verdict(&verdicts, Client::AppleMail).0, Outcome::Warns);
    assert_eq!(verdict(&verdicts, Client::Thunderbird).0, Outcome::Works);
    assert_eq!(verdict(&verdicts, Client::Outlook).0, Outcome::Works);
}

#[test]
fn validity_400_days_warns_in_apple_mail_for_public_roots_only() {
    let public = judged(400, AnchorOrigin::System, |_| {});
    assert_eq!(
        verdict(&public, Client::AppleMail),
        (Outcome::Warns, vec!["apple/validity-398-days"])
    );
    let private = judged(400, AnchorOrigin::Added, |_| {});
    assert!(
        !verdict(&private, Client::AppleMail)
            .1
            .contains(&"apple/validity-398-days")
    );
    // 398 days exactly is allowed.
    let limit = judged(398, AnchorOrigin::System, |p| {
        p.not_after = at(NOW - 30 * DAY + 398 * DAY - 1);
    });
    assert_eq!(verdict(&limit, Client::AppleMail).0, Outcome::Works);
}

#[test]
fn no_eku_warns_in_apple_mail_and_the_strict_profile() {
    let verdicts = judged(90, AnchorOrigin::System, |p| p.extended_key_usages.clear());
    assert_eq!(
        verdict(&verdicts, Client::AppleMail),
        (Outcome::Warns, vec!["apple/eku-required"])
    );
    assert_eq!(verdict(&verdicts, Client::Thunderbird).0, Outcome::Works);
    // An EKU without serverAuth is refused by the path validation itself: a certificate
    // warning for most clients; Thunderbird offers no exception for it (it cannot connect).
    let verdicts = judged(90, AnchorOrigin::System, |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    });
    for v in &verdicts {
        if v.client == Client::Thunderbird {
            assert_eq!(
                (v.verdict, v.rules[0].rule),
                (Outcome::Fails, "thunderbird/server-auth-eku"),
                "{v:?}"
            );
            assert!(v.dialog.is_none());
        } else {
            assert_eq!(v.verdict, Outcome::Warns);
            assert!(v.rules.iter().any(|f| f.rule == "invalid-chain"), "{v:?}");
        }
    }
}

#[test]
fn common_name_only_splits_the_clients() {
    let no_san = |p: &mut CertificateParams| p.subject_alt_names.clear();
    let private = judged(90, AnchorOrigin::Added, no_san);
    // Current mozilla::pkix never falls back to the CN, not even under a private root.
    assert_eq!(
        verdict(&private, Client::Thunderbird),
        (Outcome::Warns, vec!["thunderbird/cn-ignored"])
    );
    assert_eq!(verdict(&private, Client::Outlook).0, Outcome::Depends);
    assert!(
        verdict(&private, Client::AppleMail)
            .1
            .contains(&"apple/san-required")
    );
    assert_eq!(verdict(&private, Client::AppleMail).0, Outcome::Warns);
    assert!(
        verdict(&private, Client::Android)
            .1
            .contains(&"android/san-required")
    );
    let public = judged(90, AnchorOrigin::System, no_san);
    assert_eq!(
        verdict(&public, Client::Thunderbird),
        (Outcome::Warns, vec!["thunderbird/cn-ignored"])
    );
}

#[test]
fn wildcard_edges() {
    let star = |p: &mut CertificateParams| {
        p.subject_alt_names = vec![rcgen::SanType::DnsName(
            "*.example.test".try_into().unwrap(),
        )];
    };
    let root = ca("Test Root", None);
    let chain = vec![leaf(&root, 90, star)];
    let anchors = anchors(&root, AnchorOrigin::System);
    for (name, covered) in [
        ("mail.example.test", true),
        ("MAIL.Example.Test", true),
        ("example.test", false),
        ("a.mail.example.test", false),
    ] {
        let target = Target::parse(name).unwrap();
        let v = verify::verify(
            &chain,
            Some(&target),
            &anchors,
            NOW,
            &PathOptions::default(),
        )
        .unwrap();
        assert_eq!(
            v.rejections
                .iter()
                .all(|r| r.code.as_str() != "name-mismatch"),
            covered,
            "{name}"
        );
    }
}

#[test]
fn self_signed_and_expired_fail_everywhere() {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    params.not_before = at(NOW - DAY);
    params.not_after = at(NOW + 90 * DAY);
    let selfsigned = params.self_signed(&key).unwrap().der().to_vec();
    let verdicts = judge(&analysis(
        &[selfsigned],
        &TrustAnchors::default(),
        Extra::default(),
    ));
    for v in &verdicts {
        assert_eq!(v.verdict, Outcome::Warns);
        assert_eq!(v.rules[0].rule, "self-signed");
    }
    let expired = judged(20, AnchorOrigin::System, |_| {});
    for v in &expired {
        assert!(
            v.rules
                .iter()
                .any(|f| f.rule == "expired" && f.outcome == Outcome::Warns),
            "{v:?}"
        );
    }
}

#[test]
fn missing_intermediate_split_verdict_with_aia() {
    let root = ca("Test Root", None);
    let inter = ca("Test Intermediate", Some(&root));
    let chain = vec![leaf(&inter, 90, |_| {})];
    let trust = anchors(&root, AnchorOrigin::System);
    let fetched = [Fetched {
        url: "http://127.0.0.1/inter.der".into(),
        der: inter.der.clone(),
    }];
    let with_aia = judge(&analysis(
        &chain,
        &trust,
        Extra {
            elsewhere: &[],
            fetched: &fetched,
        },
    ));
    assert_eq!(
        verdict(&with_aia, Client::Outlook),
        (Outcome::Works, vec!["outlook/aia-fetch"])
    );
    assert_eq!(
        verdict(&with_aia, Client::AppleMail),
        (Outcome::Works, vec!["apple/aia-fetch"])
    );
    // Thunderbird does not fetch, but it preloads public CAs' intermediates.
    assert_eq!(
        verdict(&with_aia, Client::Thunderbird),
        (Outcome::Works, vec!["thunderbird/no-aia-fetch"])
    );
    assert_eq!(
        verdict(&with_aia, Client::Android),
        (Outcome::Warns, vec!["android/no-aia-fetch"])
    );
    // A private CA's intermediate is preloaded nowhere.
    let private = anchors(&root, AnchorOrigin::Added);
    let with_aia = judge(&analysis(
        &chain,
        &private,
        Extra {
            elsewhere: &[],
            fetched: &fetched,
        },
    ));
    assert_eq!(
        verdict(&with_aia, Client::Thunderbird),
        (Outcome::Warns, vec!["thunderbird/no-aia-fetch"])
    );
    // Without the fetched certificate nobody completes the chain.
    let without = judge(&analysis(&chain, &trust, Extra::default()));
    assert_eq!(verdict(&without, Client::Outlook).0, Outcome::Warns);
}

/// Runs openssl; panics with its stderr on failure.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (scripts/deps.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mailtls-clients-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn rsa_1024_warns_in_apple_mail_and_thunderbird_says_nothing() {
    let dir = temp_dir("rsa");
    openssl(&dir, &["genrsa", "-out", "small.key", "1024"]);
    openssl(
        &dir,
        &[
            "rsa",
            "-in",
            "small.key",
            "-pubout",
            "-outform",
            "DER",
            "-out",
            "small.spki",
        ],
    );
    let spki =
        rcgen::SubjectPublicKeyInfo::from_der(&std::fs::read(dir.join("small.spki")).unwrap())
            .unwrap();
    let root = ca("Test Root", None);
    let mut params = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = at(NOW - DAY);
    params.not_after = at(NOW + 90 * DAY);
    let der = params
        .signed_by(&spki, &Issuer::from_params(&root.params, &root.key))
        .unwrap()
        .der()
        .to_vec();
    let verdicts = judge(&analysis(
        std::slice::from_ref(&der),
        &anchors(&root, AnchorOrigin::System),
        Extra::default(),
    ));
    assert_eq!(
        verdict(&verdicts, Client::AppleMail),
        (Outcome::Warns, vec!["apple/rsa-2048"])
    );
    // Measured with the real Thunderbird: a 1024-bit key logs in without a word; the finding
    // stays, as a risk the user is not shown.
    let thunderbird = verdicts
        .iter()
        .find(|v| v.client == Client::Thunderbird)
        .unwrap();
    assert_eq!(
        verdict(&verdicts, Client::Thunderbird),
        (Outcome::Works, vec!["thunderbird/rsa-key-size"])
    );
    assert!(thunderbird.dialog.is_none());
    assert_eq!(verdict(&verdicts, Client::Outlook).0, Outcome::Works);
    let strict = verify::verify(
        &[der],
        Some(&Target::Dns(NAME.into())),
        &anchors(&root, AnchorOrigin::System),
        NOW,
        &PathOptions::default(),
    )
    .unwrap();
    assert!(
        strict
            .rejections
            .iter()
            .any(|r| r.code.as_str() == "weak-key"),
        "{:?}",
        strict.rejections
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sha1_signature_warns_in_thunderbird_and_apple_mail() {
    let dir = temp_dir("sha1");
    let ext = format!("subjectAltName=DNS:{NAME}\nextendedKeyUsage=serverAuth\n");
    std::fs::write(dir.join("leaf.ext"), ext).unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=SHA1 Test Root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            &format!("/CN={NAME}"),
        ],
    );
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-sha1",
            "-days",
            "20",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    let chain = mailtls::run::verify::load_chain(&dir.join("leaf.pem")).unwrap();
    let root = mailtls::run::verify::load_chain(&dir.join("ca.pem")).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Thunderbird refuses SHA-1 under private roots too (measured with the real Thunderbird).
    for (origin, thunderbird) in [
        (AnchorOrigin::System, Outcome::Warns),
        (AnchorOrigin::Added, Outcome::Warns),
    ] {
        let mut trust = TrustAnchors::default();
        trust.add(&[CertificateDer::from(root[0].clone())], origin);
        let v = verify::verify(
            &chain,
            Some(&Target::Dns(NAME.into())),
            &trust,
            now,
            &PathOptions::default(),
        )
        .unwrap();
        assert!(
            v.rejections
                .iter()
                .any(|r| r.code.as_str() == "weak-signature"),
            "{:?}",
            v.rejections
        );
        // The path itself is sound: only the algorithm is weak.
        assert!(
            v.rejections
                .iter()
                .all(|r| r.code.as_str() != "invalid-chain"),
            "{:?}",
            v.rejections
        );
        let (apple, rules) = verdict(&v.clients, Client::AppleMail);
        assert_eq!((apple, rules[0]), (Outcome::Warns, "apple/sha2-required"));
        assert_eq!(verdict(&v.clients, Client::Thunderbird).0, thunderbird);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// docs/clients.md names `entry` (as written by `mention`) and the first word (the URL) of
/// `source`.
fn documented(docs: &str, mention: &str, entry: &str, source: &str) {
    assert!(docs.contains(mention), "docs/clients.md lacks {entry}");
    let url = source.split_whitespace().next().unwrap();
    assert!(
        docs.contains(url),
        "docs/clients.md lacks the source of {entry}: {url}"
    );
}

fn clients_doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/clients.md")).unwrap()
}

#[test]
fn every_release_is_documented_with_its_source() {
    let docs = clients_doc();
    for release in clients::releases::RELEASES {
        let mention = format!("| {} |", release.name);
        documented(&docs, &mention, release.name, release.source);
    }
}

/// The tables of docs/clients.md that come from the code: rules per client, the dialogs each
/// client shows, and each client's steps when it looks for settings. The test fails when the
/// file differs; `MAILTLS_UPDATE_DOCS=1 cargo test --test clients` rewrites the marked part.
fn generated_tables() -> String {
    use mailtls::clients::dialogs::DIALOGS;
    use mailtls::clients::discovery::{Reaction, steps};
    use std::fmt::Write as _;
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let yes = |certain: bool| if certain { "yes" } else { "uncertain" };
    let mut out = String::new();
    let rules = |out: &mut String, rules: &[clients::Rule]| {
        out.push_str(
            "| rule | behaviour | source | certain |\n|------|-----------|--------|---------|\n",
        );
        for rule in rules {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                rule.id,
                cell(rule.summary),
                cell(rule.source),
                yes(rule.certain)
            );
        }
        out.push('\n');
    };
    out.push_str("### Rules every client applies\n\n");
    rules(&mut out, clients::COMMON_RULES);
    for client in Client::ALL {
        let _ = writeln!(out, "### {} (`{}`)\n", client.name(), client.as_str());
        rules(&mut out, client.rules());
    }
    out.push_str("### The words on the screen\n\n");
    out.push_str(
        "The first dialog of a client fits its current versions; `check` names it on every \
         problem that makes the client warn, and `explain` recognises the words of all of them. \
         `{server}` is the name the client asked for.\n\n",
    );
    out.push_str(
        "| client | dialog | title | what it says, per fault | when | source | certain |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|\n");
    for dialog in DIALOGS {
        let mut said: Vec<String> = dialog.text.iter().map(|l| format!("\"{l}\"")).collect();
        for variant in dialog.variants {
            said.push(format!(
                "{}: \"{}\"{}",
                variant.fault.as_str(),
                variant.line,
                if variant.certain { "" } else { " (uncertain)" }
            ));
        }
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            dialog.client.name(),
            dialog.id,
            cell(dialog.title),
            cell(&said.join("<br>")),
            dialog.when.as_str(),
            cell(dialog.source),
            yes(dialog.certain)
        );
    }
    out.push('\n');
    for client in Client::ALL {
        let steps = steps(*client);
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "### How {} looks for a new account's settings\n",
            client.name()
        );
        out.push_str(
            "| step | asks | on a bad certificate | asked by mailtls | source | certain |\n",
        );
        out.push_str("|---|---|---|---|---|---|\n");
        for (index, step) in steps.iter().enumerate() {
            let reaction = match step.on_bad_certificate {
                Reaction::ShowsDialog => "shows a dialog",
                Reaction::Skips => "skips it silently",
                Reaction::Uses | Reaction::NotAsked => "-",
            };
            let asked = match step.source {
                Some(source) => format!(
                    "yes ({})",
                    std::iter::once(source)
                        .chain(step.also.iter().copied())
                        .map(|s| format!("`{}`", s.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => format!("no: {}", step.not_asked_because),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                index + 1,
                cell(step.asks),
                reaction,
                cell(&asked),
                cell(step.behaviour_source),
                yes(step.certain)
            );
        }
        out.push('\n');
    }
    out
}

const BEGIN: &str = "<!-- BEGIN GENERATED by tests/clients.rs: do not edit by hand -->\n";
const END: &str = "<!-- END GENERATED -->";

#[test]
fn docs_tables_come_from_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/clients.md");
    let docs = clients_doc();
    let (Some(start), Some(end)) = (docs.find(BEGIN), docs.find(END)) else {
        panic!("docs/clients.md lacks the generated markers");
    };
    let generated = generated_tables();
    let current = &docs[start + BEGIN.len()..end];
    if std::env::var_os("MAILTLS_UPDATE_DOCS").is_some() {
        let updated = format!("{}{BEGIN}{generated}{}", &docs[..start], &docs[end..]);
        std::fs::write(path, updated).unwrap();
        return;
    }
    assert!(
        current == generated,
        "docs/clients.md is out of date: run MAILTLS_UPDATE_DOCS=1 cargo test --test clients"
    );
}

#[test]
fn every_rule_is_documented_with_its_source() {
    let docs = clients_doc();
    let all = clients::COMMON_RULES
        .iter()
        .chain(Client::ALL.iter().flat_map(|c| c.rules().iter()));
    for rule in all {
        documented(&docs, &format!("`{}`", rule.id), rule.id, rule.source);
    }
}
