//! Issue 23, "Real components, real senders": every MTA-STS and DANE case of the delivery lab
//! (tests/lab/delivery/cases.rs) held against real senders.
//!
//! The lab (tests/lab/delivery/): BIND serving a DNSSEC-signed hierarchy from a lab root, Unbound
//! validating it, one Postfix smtpd per case MX on 127.0.25.x:25, an HTTPS MTA-STS policy host,
//! and two sending Postfix instances: `dane` (smtp_tls_security_level = dane, DNSSEC lookups)
//! and `mta-sts` (may, with postfix-mta-sts-resolver as its TLS policy map). Every case's
//! message goes to both senders at once; then each sender's log gives the first delivery
//! attempt, which must be what the table expects (RFC 7672, RFC 8461, Postfix's documentation),
//! or what the table says the real sender does instead, and why. The table is printed.
//!
//! Then mailtls itself, the real binary (`mailtls check DOMAIN --json` with the lab's validating
//! resolver, its root's DS as `--dnssec-anchor` and its CA as `--ca-file`; every case at once,
//! tests/lab/delivery/mailtls.rs), is held against the same two senders: one trial per case and
//! kind of sender (`mailtls::dane::LABEL`, `mailtls::mta_sts::LABEL`). What mailtls says is the
//! action of `inbound.mx[].senders[]` for the case's MX (the domain's `inbound.senders[]` where
//! it lists no MX), and it agrees with what Postfix logged for the first attempt when:
//!
//! - **dane** (Postfix `smtp_tls_security_level = dane`; TLS_README "DANE TLS authentication",
//!   postconf(5), RFC 7672 §2.2):
//!   - "Verified TLS connection" and `status=sent`: a usable TLSA record matched (RFC 7672
//!     §3.1) <-> `delivers` with `dane.state` `matches`;
//!   - "Trusted" or "Untrusted TLS connection" and `status=sent`: encrypted, not
//!     authenticated <-> `encrypts-only` with `dane.state` `unusable` (validated TLSA records,
//!     none usable: the level is "encrypt", RFC 7672 §2.2), or `delivers` with `dane.state`
//!     `not-published` or `insecure` (DANE not in force, opportunistic TLS, RFC 7672 §2.2,
//!     §2.2.1), or `matches` (a match reached through an unsigned MX answer is logged "only as
//!     Trusted, not Verified", postconf(5) smtp_tls_dane_insecure_mx_policy);
//!   - no TLS and `status=sent` <-> `delivers` with `dane.state` `not-published` or
//!     `insecure` (opportunistic TLS sends in the clear);
//!   - `status=deferred` (whatever the reason: "Server certificate not verified", "TLS is
//!     required, but was not offered", "TLSA lookup error", "Name service error ... type=MX")
//!     <-> `defers`.
//! - **mta-sts** (Postfix with postfix-mta-sts-resolver): `status=sent` <-> `delivers`;
//!   `status=deferred` <-> `defers`.
//!
//! `unknown` agrees with nothing. Where mailtls disagrees, the case table says what it says
//! instead and why ([`lab::delivery::cases::Expect::mailtls`]); an unexplained disagreement
//! fails, and so does an explained one that no longer happens. A second table is printed: case,
//! Postfix dane, mailtls dane, Postfix sts, mailtls sts, agree.
//!
//! A custom harness: the lab starts once, in a network of the run's own (tests/lab/netns.rs),
//! then one trial per case and sender. If any part of the lab cannot run, every trial fails
//! with the reason.

mod lab;

use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

use lab::delivery::cases::{CASES, Case, Expect, Outcome, Tls};
use lab::delivery::mailtls::{self, Said, Verdicts};
use lab::delivery::senders::{Measured, Sender};
use lab::delivery::{DeliveryLab, domain, policy_host, zones};

/// How long the senders get for their first attempts, all messages together.
const DEADLINE: Duration = Duration::from_secs(120);

fn main() {
    let args = Arguments::from_args();
    if let Err(error) = lab::netns::enter("delivery") {
        eprintln!("delivery: {error}");
        std::process::exit(1);
    }
    let started = Instant::now();
    let run = lab::Lab::default_dir().join("delivery-test");
    let measured = DeliveryLab::start(&run).and_then(|lab| {
        let up = started.elapsed();
        let measured = deliver_all(&lab)?;
        // What the policy host answered the real sender, before mailtls asks it too.
        let answered = policy_host::answered(&lab.policy_host);
        let delivered = started.elapsed();
        let said = mailtls::check_all(
            &lab,
            std::path::Path::new(env!("CARGO_BIN_EXE_mailtls")),
            CASES,
        );
        println!(
            "delivery lab: up in {:.1} s, {} messages' first attempts in {:.1} s more, mailtls \
             on {} domains in {:.1} s more",
            up.as_secs_f64(),
            2 * CASES.len(),
            (delivered - up).as_secs_f64(),
            CASES.len(),
            (started.elapsed() - delivered).as_secs_f64()
        );
        let warning = "DNSSEC validation may be unavailable";
        if lab.senders.dane.log_text().contains(warning) {
            return Err(format!(
                "the dane sender logged \"{warning}\": its resolver does not pass the AD bit"
            ));
        }
        Ok((measured, said, answered))
    });
    let trials = match measured {
        Ok((measured, said, answered)) => {
            print!("{}", table(&measured));
            print!("{}", agreement_table(&measured, &said));
            let mut trials = agreement_trials(&measured, &said);
            trials.extend(trials_of(measured));
            trials.extend(policy_trials(&answered));
            trials
        }
        Err(error) => {
            let error = format!("the delivery lab did not run: {error}");
            vec![Trial::test("delivery_lab_runs", move || Err(error.into()))]
        }
    };
    libtest_mimic::run(&args, trials).exit();
}

/// What each sender did with each case: (dane, mta-sts), in table order.
type Row = (Option<Measured>, Option<Measured>);

/// Sends every case's message through both senders, then waits (bounded) for every first
/// attempt to be logged.
fn deliver_all(lab: &DeliveryLab) -> Result<Vec<Row>, String> {
    for case in CASES {
        for sender in [Sender::Dane, Sender::MtaSts] {
            lab.senders.send(sender, &recipient(case), case.label)?;
        }
    }
    let deadline = Instant::now() + DEADLINE;
    loop {
        let rows: Vec<Row> = CASES
            .iter()
            .map(|case| {
                let (to, mx) = (recipient(case), zones::mx_host(case));
                (
                    lab.senders.outcome(Sender::Dane, &to, &mx),
                    lab.senders.outcome(Sender::MtaSts, &to, &mx),
                )
            })
            .collect();
        let done = rows.iter().all(|(a, b)| a.is_some() && b.is_some());
        if done || Instant::now() > deadline {
            return Ok(rows);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn recipient(case: &Case) -> String {
    format!("test@{}", domain(case))
}

/// Whether a sender did what the table says; `Ok(Some(why))` when it did what the table
/// notes it does instead of the expected.
fn judge(expect: &Expect, measured: Option<&Measured>) -> Result<Option<&'static str>, String> {
    let Some(measured) = measured else {
        return Err(format!(
            "no delivery attempt logged within {} s",
            DEADLINE.as_secs()
        ));
    };
    let Some(outcome) = measured.outcome() else {
        return Err(format!(
            "Postfix logged \"{}\", which the table has no word for",
            measured.summary()
        ));
    };
    match expect.differs {
        None if outcome == expect.outcome => Ok(None),
        Some((_, why)) if outcome == expect.outcome => Err(format!(
            "the table says this sender does otherwise ({why}), but it did as expected \
             ({outcome:?}): the note is stale"
        )),
        Some((instead, why)) if outcome == instead => Ok(Some(why)),
        _ => Err(format!(
            "expected {:?} ({}), Postfix did: {}",
            expect.outcome,
            expect.source,
            measured.summary()
        )),
    }
}

fn trials_of(rows: Vec<Row>) -> Vec<Trial> {
    let mut trials = Vec::new();
    for (case, (dane, mta_sts)) in CASES.iter().zip(rows) {
        for (name, expect, measured) in [
            ("dane", case.dane, dane),
            ("mta_sts", case.mta_sts, mta_sts),
        ] {
            trials.push(Trial::test(format!("{name}::{}", case.label), move || {
                judge(&expect, measured.as_ref())
                    .map(drop)
                    .map_err(|e| Failed::from(format!("{}: {e}", domain(case))))
            }));
        }
    }
    trials
}

/// The lab holds itself to account for the MTA-STS cases where the sender delivers because it
/// found no policy: the policy host must have answered exactly what a fetch as RFC 8461 §3 says
/// makes it answer (no request after two TXT records, none to a redirect's target, none over a
/// refused certificate), so that each case fails for its own reason and not another.
fn policy_trials(answered: &[(String, String, u16)]) -> Vec<Trial> {
    CASES
        .iter()
        .filter(|case| case.sts.is_some())
        .map(|case| {
            let hosts = [
                format!("mta-sts.{}", domain(case)),
                format!("www.{}", domain(case)),
            ];
            let mut seen: Vec<(String, String, u16)> = answered
                .iter()
                .filter(|(host, _, _)| hosts.contains(host))
                .cloned()
                .collect();
            seen.dedup();
            let expected = policy_host::expected_answers(case);
            Trial::test(format!("policy_host::{}", case.label), move || {
                if seen == expected {
                    Ok(())
                } else {
                    Err(format!(
                        "the policy host answered {seen:?}, where a fetch as RFC 8461 §3 says \
                         makes it answer {expected:?}"
                    )
                    .into())
                }
            })
        })
        .collect()
}

/// The table: per case, each sender's expected outcome and what Postfix logged, with the
/// sources and the notes on where a sender does otherwise.
fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "\ncase                       | dane sender: expected / Postfix              | \
         mta-sts sender: expected / Postfix           | agree\n",
    );
    let mut notes = Vec::new();
    for (case, (dane, mta_sts)) in CASES.iter().zip(rows) {
        let mut cells = Vec::new();
        let mut agree = true;
        for (expect, measured) in [(&case.dane, dane), (&case.mta_sts, mta_sts)] {
            let said = measured
                .as_ref()
                .map_or("nothing logged".to_string(), Measured::summary);
            match judge(expect, measured.as_ref()) {
                Ok(None) => {}
                Ok(Some(why)) => notes.push(format!("{}: {why}", case.label)),
                Err(_) => agree = false,
            }
            cells.push(format!("{:<20} / {:<22}", word(expect.outcome), said));
        }
        out.push_str(&format!(
            "{:<26} | {} | {} | {}\n",
            case.label,
            cells[0],
            cells[1],
            if agree { "yes" } else { "NO" }
        ));
    }
    out.push_str("\nwhere a real sender does otherwise than expected, and why:\n");
    for note in notes {
        out.push_str(&format!("  {note}\n"));
    }
    out.push_str("\nsources:\n");
    for case in CASES {
        out.push_str(&format!(
            "  {} ({}): dane: {}; mta-sts: {}\n",
            case.label, case.what, case.dane.source, case.mta_sts.source
        ));
    }
    out
}

fn word(outcome: lab::delivery::cases::Outcome) -> String {
    use lab::delivery::cases::{Outcome, Tls};
    match outcome {
        Outcome::Sent(Tls::Verified) => "sent, verified".to_string(),
        Outcome::Sent(Tls::Unverified) => "sent, TLS unverified".to_string(),
        Outcome::Sent(Tls::Plain) => "sent, no TLS".to_string(),
        Outcome::Deferred(why) => format!("deferred: {why:?}"),
    }
}

/// mailtls's verdicts on each case, in table order (see [`mailtls::check_all`]).
type Checked = Result<Verdicts, String>;

/// Whether mailtls's `said` (with DANE's state of the MX, `dane_state`) agrees with what the
/// dane Postfix did, `outcome`: the mapping in the module's documentation.
fn dane_agrees(outcome: Outcome, said: &str, dane_state: Option<&str>) -> bool {
    let state = dane_state.unwrap_or_default();
    match outcome {
        Outcome::Sent(Tls::Verified) => said == "delivers" && state == "matches",
        Outcome::Sent(Tls::Unverified) => {
            (said == "encrypts-only" && state == "unusable")
                || (said == "delivers" && ["not-published", "insecure", "matches"].contains(&state))
        }
        Outcome::Sent(Tls::Plain) => {
            said == "delivers" && ["not-published", "insecure"].contains(&state)
        }
        Outcome::Deferred(_) => said == "defers",
    }
}

/// Whether mailtls's `said` agrees with what the mta-sts Postfix did.
fn mta_sts_agrees(outcome: Outcome, said: &str) -> bool {
    match outcome {
        Outcome::Sent(_) => said == "delivers",
        Outcome::Deferred(_) => said == "defers",
    }
}

/// Which kind of sender.
#[derive(Clone, Copy)]
enum Kind {
    Dane,
    MtaSts,
}

/// Whether mailtls agrees with the real sender of `kind` on `case`: `Ok(None)` it does,
/// `Ok(Some(why))` it does not as the table explains, `Err` otherwise.
fn agreement(
    case: &Case,
    kind: Kind,
    measured: Option<&Measured>,
    verdicts: &Checked,
) -> Result<Option<&'static str>, String> {
    let verdicts = verdicts
        .as_ref()
        .map_err(|e| format!("mailtls gave no verdict: {e}"))?;
    let outcome = measured.and_then(Measured::outcome).ok_or_else(|| {
        format!(
            "Postfix logged no outcome the table has a word for ({}): nothing to hold mailtls to",
            measured.map_or("nothing".to_string(), Measured::summary)
        )
    })?;
    let (expect, said, agrees) = match kind {
        Kind::Dane => (
            case.dane,
            &verdicts.dane,
            dane_agrees(
                outcome,
                &verdicts.dane.action,
                verdicts.dane_state.as_deref(),
            ),
        ),
        Kind::MtaSts => (
            case.mta_sts,
            &verdicts.mta_sts,
            mta_sts_agrees(outcome, &verdicts.mta_sts.action),
        ),
    };
    let Said { action, reason } = said;
    let postfix = measured.map_or(String::new(), Measured::summary);
    match expect.mailtls {
        None if agrees => Ok(None),
        Some((_, why)) if agrees => Err(format!(
            "the table says mailtls disagrees ({why}), but it agrees: Postfix {postfix}, mailtls \
             says {action} ({reason}): the note is stale"
        )),
        Some((says, why)) if says == action => Ok(Some(why)),
        _ => Err(format!(
            "Postfix {postfix}, but mailtls says {action} (DANE state {}, MTA-STS state {}): \
             {reason}",
            verdicts.dane_state.as_deref().unwrap_or("-"),
            verdicts.mta_sts_state
        )),
    }
}

fn agreement_trials(rows: &[Row], said: &[Checked]) -> Vec<Trial> {
    let mut trials = Vec::new();
    for ((case, (dane, mta_sts)), verdicts) in CASES.iter().zip(rows).zip(said) {
        for (name, kind, measured) in [
            ("dane", Kind::Dane, dane),
            ("mta_sts", Kind::MtaSts, mta_sts),
        ] {
            let result = agreement(case, kind, measured.as_ref(), verdicts)
                .map(drop)
                .map_err(|e| format!("{}: {e}", domain(case)));
            trials.push(Trial::test(
                format!("mailtls::{name}::{}", case.label),
                move || result.map_err(Failed::from),
            ));
        }
    }
    trials
}

/// Postfix's first attempt, short.
fn postfix_word(measured: Option<&Measured>) -> String {
    match measured {
        None => "nothing logged".to_string(),
        Some(m) if m.status == "sent" => m.summary(),
        Some(m) => m.status.clone(),
    }
}

/// The agreement table: per case, each real sender's outcome beside mailtls's verdict for that
/// kind of sender, and the numbers.
fn agreement_table(rows: &[Row], said: &[Checked]) -> String {
    let mut out = format!(
        "\n{:<26} | {:<18} | {:<14} | {:<18} | {:<14} | agree?\n",
        "case", "Postfix dane", "mailtls dane", "Postfix sts", "mailtls sts"
    );
    let (mut agreements, mut explained, mut failed) = (0, 0, 0);
    let mut notes = Vec::new();
    for ((case, (dane, mta_sts)), verdicts) in CASES.iter().zip(rows).zip(said) {
        let action = |pick: fn(&Verdicts) -> &Said| {
            verdicts
                .as_ref()
                .map_or("error".to_string(), |v| pick(v).action.clone())
        };
        let mut marks = Vec::new();
        for (kind, measured, word) in [(Kind::Dane, dane, "dane"), (Kind::MtaSts, mta_sts, "sts")] {
            match agreement(case, kind, measured.as_ref(), verdicts) {
                Ok(None) => {
                    agreements += 1;
                    marks.push(format!("{word} yes"));
                }
                Ok(Some(why)) => {
                    explained += 1;
                    marks.push(format!("{word} explained"));
                    notes.push(format!("{} ({word}): {why}", case.label));
                }
                Err(_) => {
                    failed += 1;
                    marks.push(format!("{word} NO"));
                }
            }
        }
        out.push_str(&format!(
            "{:<26} | {:<18} | {:<14} | {:<18} | {:<14} | {}\n",
            case.label,
            postfix_word(dane.as_ref()),
            action(|v| &v.dane),
            postfix_word(mta_sts.as_ref()),
            action(|v| &v.mta_sts),
            marks.join(", ")
        ));
    }
    out.push_str(&format!(
        "\nmailtls against the real senders: {} cases, {} verdicts: {agreements} agree, \
         {explained} disagree as the table explains, {failed} disagree unexplained\n",
        CASES.len(),
        2 * CASES.len()
    ));
    if !notes.is_empty() {
        out.push_str("where mailtls says otherwise than the real sender, and why:\n");
        for note in notes {
            out.push_str(&format!("  {note}\n"));
        }
    }
    out
}
