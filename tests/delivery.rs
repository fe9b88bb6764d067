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
//! A custom harness: the lab starts once, in a network of the run's own (tests/lab/netns.rs),
//! then one trial per case and sender. If any part of the lab cannot run, every trial fails
//! with the reason.

mod lab;

use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

use lab::delivery::cases::{CASES, Case, Expect};
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
        println!(
            "delivery lab: up in {:.1} s, {} messages' first attempts in {:.1} s more",
            up.as_secs_f64(),
            2 * CASES.len(),
            (started.elapsed() - up).as_secs_f64()
        );
        let warning = "DNSSEC validation may be unavailable";
        if lab.senders.dane.log_text().contains(warning) {
            return Err(format!(
                "the dane sender logged \"{warning}\": its resolver does not pass the AD bit"
            ));
        }
        Ok((measured, policy_host::answered(&lab.policy_host)))
    });
    let trials = match measured {
        Ok((measured, answered)) => {
            print!("{}", table(&measured));
            let mut trials = trials(measured);
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

fn trials(rows: Vec<Row>) -> Vec<Trial> {
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
