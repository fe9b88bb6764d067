//! Provisioning that hands out only verified names: for each domain of `serve.toml`, the server
//! names of its pool are checked against the live certificates on the ports they would be
//! handed out with; the settings built from the first that verify are served, renewed in the
//! background. When a name stops verifying, the last verified settings stay in service and the
//! failure shows in the metrics and the log: a client is never handed a broken name.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::body::Bytes;
use mailtls_core::concurrent::in_order;
use mailtls_core::diagnose;
use mailtls_core::engine::Engine;
use mailtls_core::provisioning::settings::{self, AccountSettings, ServerSetting};
use mailtls_core::provisioning::write;
use mailtls_core::run::check::{CheckOptions, now};
use mailtls_core::target::Target;

/// What is known about one provisioned domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainState {
    /// The settings last verified (served), if any ever were.
    pub settings: Option<AccountSettings>,
    /// When they were verified (Unix seconds).
    pub verified_at: Option<i64>,
    /// When verification last ran.
    pub attempted_at: Option<i64>,
    /// Why the last verification did not verify anything, if it did not.
    pub failure: Option<String>,
    /// Each server of the pool as last seen: for the metrics an alert fires on.
    pub servers: Vec<ServerHealth>,
}

/// One monitored server endpoint, as last verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHealth {
    /// The server name from the pool.
    pub server: String,
    /// The port.
    pub port: u16,
    /// When the leaf certificate it presented expires (Unix seconds).
    pub not_after: Option<i64>,
    /// The codes of the problems found there.
    pub problems: Vec<&'static str>,
}

impl DomainState {
    /// Whether the last verification succeeded.
    pub fn current(&self) -> bool {
        self.failure.is_none() && self.settings.is_some()
    }
}

/// The documents of one domain, written once when its settings change (the endpoints serve
/// them as they are: as fast as a static file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documents {
    /// Thunderbird's clientConfig.
    pub autoconfig: Bytes,
    /// Outlook's POX response.
    pub autodiscover: Bytes,
    /// Apple's configuration profile.
    pub mobileconfig: Bytes,
}

impl Documents {
    fn new(domain: &str, settings: &AccountSettings) -> Documents {
        Documents {
            autoconfig: Bytes::from(write::thunderbird(domain, settings)),
            autodiscover: Bytes::from(write::autodiscover(domain, settings)),
            mobileconfig: Bytes::from(write::mobileconfig(domain, settings)),
        }
    }
}

/// The verified settings of every provisioned domain. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Provisioner {
    engine: Engine,
    pools: Arc<BTreeMap<String, Vec<String>>>,
    states: Arc<RwLock<HashMap<String, DomainState>>>,
    documents: Arc<RwLock<HashMap<String, Arc<Documents>>>>,
}

impl Provisioner {
    /// A provisioner for `pools` (domain -> server names, preferred first); nothing verified yet.
    pub fn new(engine: Engine, pools: BTreeMap<String, Vec<String>>) -> Provisioner {
        Provisioner {
            engine,
            pools: Arc::new(pools),
            states: Arc::default(),
            documents: Arc::default(),
        }
    }

    /// Whether `domain` is provisioned here.
    pub fn serves(&self, domain: &str) -> bool {
        self.pools.contains_key(domain)
    }

    /// What is known about `domain`.
    pub fn state(&self, domain: &str) -> DomainState {
        read(&self.states).get(domain).cloned().unwrap_or_default()
    }

    /// The documents to hand out for `domain`, written from its settings.
    pub fn documents(&self, domain: &str) -> Option<Arc<Documents>> {
        read(&self.documents).get(domain).cloned()
    }

    /// Every domain's state, by name.
    pub fn states(&self) -> BTreeMap<String, DomainState> {
        self.pools
            .keys()
            .map(|domain| (domain.clone(), self.state(domain)))
            .collect()
    }

    /// Verifies every domain now: each server name once, however many pools list it (all at
    /// once; the engine's budget keeps each server's limit).
    pub async fn verify_all(&self) {
        let mut names: Vec<String> = self.pools.values().flatten().cloned().collect();
        names.sort();
        names.dedup();
        let checks = names.into_iter().map(|name| {
            let engine = self.engine.clone();
            async move { (name.clone(), check_name(&engine, name).await) }
        });
        let checked: HashMap<String, NameCheck> = in_order(checks).await.into_iter().collect();
        self.publish(&checked, now());
    }

    /// Applies the names' checks to every domain's state at `at`, and writes the documents of
    /// those whose settings changed.
    fn publish(&self, checked: &HashMap<String, NameCheck>, at: i64) {
        let mut states = write(&self.states);
        for (domain, pool) in self.pools.iter() {
            let state = states.entry(domain.clone()).or_default();
            let before = state.settings.clone();
            update(state, combine(pool, checked), at);
            if state.settings != before {
                let mut documents = write(&self.documents);
                match &state.settings {
                    Some(settings) => {
                        documents
                            .insert(domain.clone(), Arc::new(Documents::new(domain, settings)));
                    }
                    None => {
                        documents.remove(domain);
                    }
                }
                drop(documents);
                let handing_out = state
                    .settings
                    .as_ref()
                    .map_or("nothing".to_string(), describe);
                tracing::info!(%domain, "{domain}: handing out {handing_out}");
            }
            if let Some(failure) = &state.failure {
                tracing::warn!(%domain, "{domain}: {failure}");
            }
        }
    }

    /// Verifies every domain every `every`, forever (run it as a task).
    pub async fn renew_forever(self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            self.verify_all().await;
        }
    }
}

/// `lock` read. A poisoned lock only means a panic elsewhere while it was held: what it holds
/// is still whole values (a state the next verification writes afresh), so provisioning
/// carries on, as `probe/http.rs` does with its lock, instead of stopping its updates.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// `lock` written; a poisoned lock is recovered, as in [`read`].
fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// One server name, checked.
#[derive(Debug, Default)]
struct NameCheck {
    /// The settings it verified for (empty when none).
    settings: AccountSettings,
    /// It presents a certificate that does not work for it.
    broken: bool,
    /// Why it did not verify.
    reason: Option<String>,
    /// Its endpoints.
    health: Vec<ServerHealth>,
}

/// Checks `name` on every port: which ports it verifies on, and whether it now presents a
/// certificate that does not work for it.
async fn check_name(engine: &Engine, name: String) -> NameCheck {
    let options = CheckOptions {
        no_versions: true,
        ..CheckOptions::default()
    };
    let target = Target::Dns(name.clone());
    let observations = match engine.observe_host(&target, &options).await {
        Ok(observations) => observations,
        Err(error) => {
            return NameCheck {
                reason: Some(error.to_string()),
                ..NameCheck::default()
            };
        }
    };
    let diagnosis = diagnose::diagnose(&observations, engine.anchors(), now());
    let health = diagnosis
        .endpoints
        .iter()
        .filter(|e| e.observation.reachable)
        .map(|e| ServerHealth {
            server: name.clone(),
            port: e.observation.service.port,
            not_after: e
                .analysis
                .as_ref()
                .and_then(|a| a.chain.first())
                .map(|leaf| leaf.not_after),
            problems: e.problems.iter().map(|p| p.code.as_str()).collect(),
        })
        .collect();
    // Only the name itself, verified: a recommendation of another name is for a person to
    // weigh, not for a provisioning server to hand out.
    match &diagnosis.recommendation {
        Some(r) if r.verified && r.server_name == name => NameCheck {
            settings: settings::choose(&name, &r.verified_ports),
            health,
            ..NameCheck::default()
        },
        _ => NameCheck {
            // A certificate was presented and it does not work for the name: handing the name
            // out would make clients warn. Anything else (down, timing out) may pass.
            broken: diagnosis.endpoints.iter().any(|e| e.analysis.is_some()),
            reason: Some(format!(
                "{name} does not verify ({})",
                mailtls_core::report::summary(&diagnosis)
            )),
            health,
            ..NameCheck::default()
        },
    }
}

/// A pool's verification from its names' checks: each direction from the first name, in the
/// pool's order, verified for it.
fn combine(pool: &[String], checked: &HashMap<String, NameCheck>) -> Verification {
    let mut verification = Verification::default();
    for check in pool
        .iter()
        .filter_map(|name| checked.get(name).map(|c| (name, c)))
    {
        let (name, check) = check;
        let chosen = &mut verification.settings;
        chosen.incoming = chosen.incoming.take().or(check.settings.incoming.clone());
        chosen.outgoing = chosen.outgoing.take().or(check.settings.outgoing.clone());
        if check.broken {
            verification.broken.push(name.clone());
        }
        verification.reasons.extend(check.reason.clone());
        verification.health.extend(check.health.iter().cloned());
    }
    verification
}

/// One verification of a pool.
#[derive(Debug, Default)]
struct Verification {
    /// Each direction from the first name verified for it.
    settings: AccountSettings,
    /// Names that present a certificate that does not work for them now.
    broken: Vec<String>,
    /// Why names did not verify.
    reasons: Vec<String>,
    /// Every endpoint seen.
    health: Vec<ServerHealth>,
}

/// Applies a verification to a domain's state: each direction takes the newly verified server;
/// a direction that no longer verifies keeps its last verified server while that server is
/// merely unreachable (an outage must not empty the settings), and loses it once the server
/// presents a certificate that does not cover it (never a broken name to a client).
fn update(state: &mut DomainState, verification: Verification, at: i64) {
    state.attempted_at = Some(at);
    state.servers = verification.health;
    let old = state.settings.take().unwrap_or_default();
    let keep = |new: Option<ServerSetting>, old: Option<ServerSetting>| {
        new.or_else(|| old.filter(|s| !verification.broken.contains(&s.host)))
    };
    let new = &verification.settings;
    // Verified afresh: something verified, and every direction served before still is.
    let fresh = (new.incoming.is_some() || new.outgoing.is_some())
        && (new.incoming.is_some() || old.incoming.is_none())
        && (new.outgoing.is_some() || old.outgoing.is_none());
    let settings = AccountSettings {
        incoming: keep(verification.settings.incoming.clone(), old.incoming),
        outgoing: keep(verification.settings.outgoing.clone(), old.outgoing),
    };
    state.settings =
        (settings.incoming.is_some() || settings.outgoing.is_some()).then_some(settings);
    if fresh {
        state.verified_at = Some(at);
        state.failure = None;
    } else {
        state.failure = Some(if verification.reasons.is_empty() {
            "no server name verified".to_string()
        } else {
            verification.reasons.join("; ")
        });
    }
}

/// `imap luna.example:993, smtp luna.example:465`.
fn describe(settings: &AccountSettings) -> String {
    [&settings.incoming, &settings.outgoing]
        .into_iter()
        .flatten()
        .map(|s| format!("{} {}:{}", s.service.protocol, s.host, s.service.port))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtls_core::service::Service;

    fn imap(host: &str) -> AccountSettings {
        settings::choose(host, &[Service::for_port(993).expect("a mail port")])
    }

    fn verified(host: &str) -> Verification {
        Verification {
            settings: imap(host),
            ..Verification::default()
        }
    }

    fn failed(broken: &[&str]) -> Verification {
        Verification {
            broken: broken.iter().map(|s| s.to_string()).collect(),
            reasons: vec!["does not verify".to_string()],
            ..Verification::default()
        }
    }

    #[test]
    fn an_outage_keeps_the_last_verified_name_a_broken_certificate_drops_it() {
        let mut state = DomainState::default();
        update(&mut state, verified("mail.a.test"), 1);
        assert!(state.current());
        assert_eq!(state.settings, Some(imap("mail.a.test")));

        // Down: still handed out, but the failure shows.
        update(&mut state, failed(&[]), 2);
        assert_eq!(state.settings, Some(imap("mail.a.test")));
        assert!(!state.current());
        assert_eq!(state.verified_at, Some(1));

        // Presenting a certificate that does not cover it: no longer handed out.
        update(&mut state, failed(&["mail.a.test"]), 3);
        assert_eq!(state.settings, None);
        assert!(!state.current());

        // Another name of the pool verifies: it is handed out.
        update(&mut state, verified("luna.h.test"), 4);
        assert_eq!(state.settings, Some(imap("luna.h.test")));
        assert!(state.current());
    }

    #[test]
    fn a_panic_while_a_lock_was_held_does_not_stop_provisioning() {
        let engine = Engine::new(mailtls_core::engine::EngineOptions {
            dns_server: Some("127.0.0.1:53".parse().expect("an address")),
            system_roots: false,
            ..Default::default()
        })
        .expect("an engine");
        let pools = BTreeMap::from([("a.test".to_string(), vec!["mail.a.test".to_string()])]);
        let provisioner = Provisioner::new(engine, pools);
        let (states, documents) = (
            Arc::clone(&provisioner.states),
            Arc::clone(&provisioner.documents),
        );
        let panicked = std::thread::spawn(move || {
            let _states = states.write();
            let _documents = documents.write();
            panic!("a panic while both locks are held");
        })
        .join();
        assert!(panicked.is_err());
        assert!(provisioner.states.is_poisoned() && provisioner.documents.is_poisoned());

        let checked = HashMap::from([(
            "mail.a.test".to_string(),
            NameCheck {
                settings: imap("mail.a.test"),
                ..NameCheck::default()
            },
        )]);
        provisioner.publish(&checked, 7);
        let state = provisioner.state("a.test");
        assert_eq!(state.settings, Some(imap("mail.a.test")));
        assert_eq!(state.verified_at, Some(7));
        assert!(state.current());
        let documents = provisioner.documents("a.test").expect("documents written");
        assert!(
            String::from_utf8_lossy(&documents.autoconfig).contains("mail.a.test"),
            "{documents:?}"
        );
        assert_eq!(provisioner.states()["a.test"], state);

        // And the next verification is recorded too.
        provisioner.publish(&HashMap::new(), 8);
        assert_eq!(provisioner.state("a.test").attempted_at, Some(8));
    }
}
