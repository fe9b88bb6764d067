//! The options of a check, and the one value that says everything that changes what a check
//! observes or how it judges: [`ObserveOptions`].
//!
//! A check is asked with [`CheckOptions`] (ports, probes, clients, blocklists) on an engine built
//! from [`EngineOptions`] (resolver, trust, timeouts, retries, EHLO name, ISP database). Whatever
//! of those two can change an answer goes into [`ObserveOptions`], built in one place
//! ([`ObserveOptions::new`], which names every field of both, so a new option does not compile
//! until it is placed); what only changes how politely the answer is got (connection limits,
//! rates, the memo's size) stays out. Derived from it, never written again by hand:
//!
//! - the engine's memo key (a fleet scan's jobs share a host's observations only when asked the
//!   same);
//! - a scan's resume fingerprint (`mailtls scan` continues a scan only with the same options);
//! - the options `mailtls serve` records with every check it accepts and every check it runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::clients::Client;
use crate::engine::{EngineOptions, IspdbOption};
use crate::observation::Zone;
use crate::service::{self, Service};

/// How to check: which ports, which probes, which verdicts to keep.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Ports to probe; empty means all seven.
    pub services: Vec<Service>,
    /// Send no SNI, as a very old client would.
    pub no_sni: bool,
    /// Do not fetch missing intermediates from AIA URLs.
    pub no_aia: bool,
    /// Do not ask which TLS versions and weak suites each port accepts.
    pub no_versions: bool,
    /// Do not observe inbound delivery (a mail domain's validated MX, MTA-STS, TLS-RPT and
    /// TLSA records, the MTA-STS policy): the MX records are still asked for discovery, and
    /// the MX hosts' port 25 still probed.
    pub no_inbound: bool,
    /// Keep only these clients' verdicts; empty keeps all.
    pub clients: Vec<Client>,
    /// Also examine blocklists, reverse DNS and SMTP names, asking these zones.
    pub reputation: Option<Vec<Zone>>,
    /// The server name exactly as the user typed it, when that differs from the normalised
    /// target (Unicode, upper case, a trailing dot): a client that compares what was typed may
    /// judge it differently.
    pub typed: Option<String>,
}

impl CheckOptions {
    /// The ports to probe.
    pub fn services(&self) -> Vec<Service> {
        if self.services.is_empty() {
            service::ALL.to_vec()
        } else {
            self.services.clone()
        }
    }
}

/// Everything that changes what a check observes or how it judges it: the same value, the same
/// questions asked of the same servers and judged by the same rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ObserveOptions {
    /// The ports probed (all seven when none were named).
    pub services: Vec<Service>,
    /// `--no-sni`.
    pub no_sni: bool,
    /// `--no-aia`.
    pub no_aia: bool,
    /// `--no-versions`.
    pub no_versions: bool,
    /// `--no-inbound`.
    pub no_inbound: bool,
    /// The clients whose verdicts are kept (empty: all).
    pub clients: Vec<Client>,
    /// The blocklist zones asked (`--reputation`), or none.
    pub reputation: Option<Vec<Zone>>,
    /// The resolver asked (`--dns`), or the system's.
    pub dns_server: Option<SocketAddr>,
    /// Whether the operating system's roots are trusted.
    pub system_roots: bool,
    /// The extra CA files trusted (`--ca-file`), as given to the engine.
    pub ca_files: Vec<PathBuf>,
    /// The limit for each step (`--timeout`): a slow server answers within one and not another.
    pub step_timeout: Duration,
    /// How often a busy server is tried again (`--retries`).
    pub retries: u32,
    /// The EHLO name (`--ehlo`): servers may answer a name differently from a literal.
    pub ehlo_name: Option<String>,
    /// Whether inside addresses are refused (`serve`): an inside answer is then not probed.
    pub refuse_special: bool,
    /// The copy of Mozilla's ISP database Thunderbird's search is answered from (`--ispdb`).
    pub ispdb: IspdbOption,
    /// The DNSSEC trust anchors (`--dnssec-anchor`), or the root's built-in keys: another
    /// anchor, another status for the same answers.
    pub dnssec_anchor: Option<PathBuf>,
}

impl ObserveOptions {
    /// The options a check with `check` on an engine built from `engine` runs under. Every
    /// field of both is named here: one that changes answers goes in, one that does not is
    /// named with the reason it stays out.
    pub fn new(check: &CheckOptions, engine: &EngineOptions) -> ObserveOptions {
        let CheckOptions {
            services: _,
            no_sni,
            no_aia,
            no_versions,
            no_inbound,
            clients,
            reputation,
            // What one target was typed as: part of that target's question, not an option of
            // the check (the memo keys it with the target).
            typed: _,
        } = check;
        let EngineOptions {
            dns_server,
            system_roots,
            ca_files,
            step_timeout,
            // How many connections and how fast: politeness, not what a server answers.
            limits: _,
            ehlo_name,
            retries,
            // How fast DNS questions go out: politeness too.
            dns_rate: _,
            // Whether answers are shared between jobs: this value is what decides they may be.
            memo: _,
            refuse_special,
            ispdb,
            dnssec_anchor,
            // Where the limits are kept with other workers: politeness again.
            shared: _,
        } = engine;
        ObserveOptions {
            services: check.services(),
            no_sni: *no_sni,
            no_aia: *no_aia,
            no_versions: *no_versions,
            no_inbound: *no_inbound,
            clients: clients.clone(),
            reputation: reputation.clone(),
            dns_server: *dns_server,
            system_roots: *system_roots,
            ca_files: ca_files.clone(),
            step_timeout: *step_timeout,
            retries: *retries,
            ehlo_name: ehlo_name.clone(),
            refuse_special: *refuse_special,
            ispdb: ispdb.clone(),
            dnssec_anchor: dnssec_anchor.clone(),
        }
    }

    /// Where two fingerprints differ: the options named as a user sets them (`--timeout`,
    /// `--ports`...), in field order. Fields of a fingerprint from another version that this one
    /// does not know are named as they are stored. `None` when either is not a fingerprint.
    pub fn differences(ours: &str, theirs: &str) -> Option<Vec<&'static str>> {
        let ours: serde_json::Map<String, serde_json::Value> = serde_json::from_str(ours).ok()?;
        let theirs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(theirs).ok()?;
        let mut names: Vec<&'static str> = Vec::new();
        for (field, option) in OPTION_NAMES {
            if ours.get(*field) != theirs.get(*field) {
                names.push(option);
            }
        }
        let unknown = ours
            .keys()
            .chain(theirs.keys())
            .any(|key| !OPTION_NAMES.iter().any(|(field, _)| field == key));
        if unknown && ours != theirs && names.is_empty() {
            names.push("options of another mailtls version");
        }
        Some(names)
    }

    /// The options as canonical JSON (fields in declaration order, no spaces): equal options,
    /// equal text. A scan stores it and continues only with the same.
    pub fn fingerprint(&self) -> String {
        // Every field is plain data (numbers, strings, lists): serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Each field of [`ObserveOptions`] and the option a user sets it with.
const OPTION_NAMES: &[(&str, &str)] = &[
    ("services", "--ports"),
    ("no_sni", "--no-sni"),
    ("no_aia", "--no-aia"),
    ("no_versions", "--no-versions"),
    ("no_inbound", "--no-inbound"),
    ("clients", "--client"),
    ("reputation", "--reputation/--dnsbl"),
    ("dns_server", "--dns"),
    ("system_roots", "the system's roots"),
    ("ca_files", "--ca-file"),
    ("step_timeout", "--timeout"),
    ("retries", "--retries"),
    ("ehlo_name", "--ehlo"),
    ("refuse_special", "inside addresses refused"),
    ("ispdb", "--ispdb"),
    ("dnssec_anchor", "--dnssec-anchor"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::reputation::{CodeTable, ZoneKind};

    fn base() -> ObserveOptions {
        ObserveOptions::new(&CheckOptions::default(), &EngineOptions::default())
    }

    /// One change to each field, in turn; each must change the value and its fingerprint.
    #[test]
    fn changing_any_single_field_changes_the_fingerprint() {
        type Change = (&'static str, fn(&mut ObserveOptions));
        let changes: &[Change] = &[
            ("services", |o| o.services.truncate(1)),
            ("no_sni", |o| o.no_sni = !o.no_sni),
            ("no_aia", |o| o.no_aia = !o.no_aia),
            ("no_versions", |o| o.no_versions = !o.no_versions),
            ("no_inbound", |o| o.no_inbound = !o.no_inbound),
            ("clients", |o| o.clients = vec![Client::Outlook]),
            ("reputation", |o| {
                o.reputation = Some(vec![Zone {
                    name: "zen.example".to_string(),
                    kind: ZoneKind::Ip,
                    codes: CodeTable::Generic,
                    delist_url: None,
                }])
            }),
            ("dns_server", |o| {
                o.dns_server = Some(SocketAddr::from(([127, 0, 0, 53], 53)))
            }),
            ("system_roots", |o| o.system_roots = !o.system_roots),
            ("ca_files", |o| {
                o.ca_files.push(PathBuf::from("/etc/ca.pem"))
            }),
            ("step_timeout", |o| o.step_timeout += Duration::from_secs(1)),
            ("retries", |o| o.retries += 1),
            ("ehlo_name", |o| {
                o.ehlo_name = Some("probe.example".to_string())
            }),
            ("refuse_special", |o| o.refuse_special = !o.refuse_special),
            ("ispdb", |o| {
                o.ispdb = IspdbOption::Dir(PathBuf::from("/srv/ispdb"))
            }),
            ("dnssec_anchor", |o| {
                o.dnssec_anchor = Some(PathBuf::from("/etc/unbound/lab.key"))
            }),
        ];
        let base = base();
        let fields = serde_json::to_value(&base).expect("serialises");
        let fields: Vec<&String> = fields.as_object().expect("an object").keys().collect();
        // Every field has its change: a field added without one fails here.
        let changed: Vec<&str> = changes.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            fields.len(),
            changed.len(),
            "fields {fields:?}, changes {changed:?}"
        );
        assert_eq!(OPTION_NAMES.len(), changed.len());
        for ((name, change), (field, option)) in changes.iter().zip(OPTION_NAMES) {
            assert!(fields.iter().any(|f| f == name), "no field {name}");
            assert_eq!(name, field);
            let mut other = base.clone();
            change(&mut other);
            assert_ne!(other, base, "{name}");
            assert_ne!(other.fingerprint(), base.fingerprint(), "{name}");
            // And the difference is named as the user sets it.
            assert_eq!(
                ObserveOptions::differences(&base.fingerprint(), &other.fingerprint()),
                Some(vec![*option]),
                "{name}"
            );
        }
    }

    /// What only changes politeness leaves the options as they are.
    #[test]
    fn limits_rates_and_the_memo_are_not_options_of_the_answer() {
        let engine = EngineOptions {
            dns_rate: std::num::NonZeroU32::new(5),
            memo: Some(crate::probe::memo::MemoOptions::default()),
            limits: crate::probe::budget::Limits {
                total: 3,
                per_address: 1,
                per_address_rate: std::num::NonZeroU32::new(1),
            },
            ..EngineOptions::default()
        };
        let check = CheckOptions {
            typed: Some("MAIL.example".to_string()),
            ..CheckOptions::default()
        };
        assert_eq!(ObserveOptions::new(&check, &engine), base());
    }

    /// No ports named and all seven named are the same question.
    #[test]
    fn all_ports_is_the_same_as_none_named() {
        let check = CheckOptions {
            services: service::ALL.to_vec(),
            ..CheckOptions::default()
        };
        assert_eq!(
            ObserveOptions::new(&check, &EngineOptions::default()).fingerprint(),
            base().fingerprint()
        );
    }
}
