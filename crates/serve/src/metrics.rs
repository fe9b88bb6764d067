//! `/metrics`, in the Prometheus (OpenMetrics) text format through `prometheus-client`: checks
//! served by verdict and their durations, refusals, pasted texts explained, the store's errors
//! by kind, and for every provisioned domain and monitored server the verification status, the
//! days until each certificate expires and the problem codes present, so an alert fires before
//! users see a dialog; and over the fleet (the newest scan in the store), how many mail domains
//! have each MTA-STS state and each DANE state.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::provision::Provisioner;
use mailtls_core::analyze::dane::DaneState;
use mailtls_core::diagnose::Verdict;
use mailtls_core::diagnose::delivery::MtaStsState;
use mailtls_scan::store::{ErrorKind, StoreErrors};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabel {
    verdict: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DomainLabel {
    domain: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    server: String,
    port: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabel {
    mode: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// How many mail domains of the newest scan have each MTA-STS state and each DANE state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetInbound {
    /// Per MTA-STS state.
    pub mta_sts: Vec<(MtaStsState, u64)>,
    /// Per DANE state.
    pub dane: Vec<(DaneState, u64)>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProblemLabel {
    server: String,
    port: u16,
    code: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The server's metrics. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Metrics {
    checks: Family<VerdictLabel, Counter>,
    refused: Family<ReasonLabel, Counter>,
    explanations: Family<ResultLabel, Counter>,
    store_errors: Family<KindLabel, Counter>,
    duration: Histogram,
    in_flight: Gauge,
    verified: Family<DomainLabel, Gauge>,
    serving: Family<DomainLabel, Gauge>,
    verified_at: Family<DomainLabel, Gauge>,
    expiry_days: Family<EndpointLabel, FloatGauge>,
    not_after: Family<EndpointLabel, Gauge>,
    problems: Family<ProblemLabel, Gauge>,
    mta_sts: Family<ModeLabel, Gauge>,
    dane: Family<StateLabel, Gauge>,
    registry: std::sync::Arc<Mutex<Registry>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let metrics = Metrics {
            checks: Family::default(),
            refused: Family::default(),
            explanations: Family::default(),
            store_errors: Family::default(),
            duration: Histogram::new(exponential_buckets(0.05, 2.0, 12)),
            in_flight: Gauge::default(),
            verified: Family::default(),
            serving: Family::default(),
            verified_at: Family::default(),
            expiry_days: Family::default(),
            not_after: Family::default(),
            problems: Family::default(),
            mta_sts: Family::default(),
            dane: Family::default(),
            registry: Default::default(),
        };
        {
            // A poisoned lock only means a panic elsewhere; the registry is still usable.
            let mut r = metrics.registry.lock().unwrap_or_else(|p| p.into_inner());
            r.register(
                "mailtls_store_errors",
                "Errors of the result store, by kind (unavailable, locked, read-only, full, \
                 unreadable: a row or stored document this mailtls cannot read...), retried ones \
                 included",
                metrics.store_errors.clone(),
            );
            r.register(
                "mailtls_checks",
                "Checks finished, by verdict (ok, warn, fail, unknown; error: could not run)",
                metrics.checks.clone(),
            );
            r.register(
                "mailtls_checks_refused",
                "Checks refused, by reason (rate-limited, busy, private-address, invalid...)",
                metrics.refused.clone(),
            );
            r.register(
                "mailtls_explanations",
                "Pasted texts, by result (recognised, not-recognised; or why refused: empty, too-long, not-text, rate-limited...)",
                metrics.explanations.clone(),
            );
            r.register(
                "mailtls_check_duration_seconds",
                "How long checks took",
                metrics.duration.clone(),
            );
            r.register(
                "mailtls_checks_in_flight",
                "Checks running now",
                metrics.in_flight.clone(),
            );
            r.register(
                "mailtls_provisioning_verified",
                "1 when the last verification of the domain's server names succeeded",
                metrics.verified.clone(),
            );
            r.register(
                "mailtls_provisioning_serving",
                "1 when verified settings are handed out for the domain (perhaps older ones)",
                metrics.serving.clone(),
            );
            r.register(
                "mailtls_provisioning_verified_timestamp_seconds",
                "When the settings handed out for the domain were verified",
                metrics.verified_at.clone(),
            );
            r.register(
                "mailtls_certificate_expiry_days",
                "Days until the certificate a monitored server presents expires (negative: expired)",
                metrics.expiry_days.clone(),
            );
            r.register(
                "mailtls_certificate_not_after_timestamp_seconds",
                "When the certificate a monitored server presents expires",
                metrics.not_after.clone(),
            );
            r.register(
                "mailtls_server_problem",
                "1 for each problem code found on a monitored server",
                metrics.problems.clone(),
            );
            r.register(
                "mailtls_mta_sts_mode",
                "Mail domains of the newest scan per MTA-STS state (enforce, testing, none, \
                 not-published, record-invalid, policy-unavailable, policy-invalid, not-checked)",
                metrics.mta_sts.clone(),
            );
            r.register(
                "mailtls_dane_state",
                "Mail domains of the newest scan per DANE state, the worst of their MX hosts' \
                 (matches, no-match, bogus, unusable, unknown, insecure, not-published)",
                metrics.dane.clone(),
            );
        }
        metrics
    }

    /// A check finished with `verdict` (`None`: it could not run) after `seconds`.
    pub fn finished(&self, verdict: Option<Verdict>, seconds: f64) {
        self.checks
            .get_or_create(&VerdictLabel {
                verdict: verdict.map_or("error", |v| v.as_str()).to_string(),
            })
            .inc();
        self.duration.observe(seconds);
    }

    /// A check was refused for `reason`.
    pub fn refused(&self, reason: &str) {
        self.refused
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// A pasted text was explained (`recognised`, `not-recognised`) or refused (the code).
    pub fn explained(&self, result: &str) {
        self.explanations
            .get_or_create(&ResultLabel {
                result: result.to_string(),
            })
            .inc();
    }

    /// The gauge of checks running.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The text exposition, with the provisioning metrics, the store's errors (every kind,
    /// 0 for those never met) and the fleet's inbound counts (every state, 0 for those no
    /// domain has; none without a scan) as of now.
    pub fn render(
        &self,
        provisioner: &Provisioner,
        store_errors: &StoreErrors,
        fleet: Option<&FleetInbound>,
        now: i64,
    ) -> String {
        // A poisoned lock only means a panic elsewhere; the registry is still usable.
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        self.mta_sts.clear();
        self.dane.clear();
        if let Some(fleet) = fleet {
            for &mode in MtaStsState::ALL {
                let n = fleet
                    .mta_sts
                    .iter()
                    .find(|(m, _)| *m == mode)
                    .map_or(0, |(_, n)| *n);
                self.mta_sts
                    .get_or_create(&ModeLabel {
                        mode: mode.as_str().to_string(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            for &state in DaneState::ALL {
                let n = fleet
                    .dane
                    .iter()
                    .find(|(s, _)| *s == state)
                    .map_or(0, |(_, n)| *n);
                self.dane
                    .get_or_create(&StateLabel {
                        state: state.as_str().to_string(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        for &kind in ErrorKind::ALL {
            let counter = self.store_errors.get_or_create(&KindLabel {
                kind: kind.as_str().to_string(),
            });
            // The store counts; the counter catches up (under the lock: one render at a time).
            let (met, shown) = (store_errors.count(kind), counter.get());
            if met > shown {
                counter.inc_by(met - shown);
            }
        }
        for family in [&self.verified, &self.serving, &self.verified_at] {
            family.clear();
        }
        self.expiry_days.clear();
        self.not_after.clear();
        self.problems.clear();
        for (domain, state) in provisioner.states() {
            let label = DomainLabel { domain };
            self.verified
                .get_or_create(&label)
                .set(i64::from(state.current()));
            self.serving
                .get_or_create(&label)
                .set(i64::from(state.settings.is_some()));
            if let Some(at) = state.verified_at {
                self.verified_at.get_or_create(&label).set(at);
            }
            for server in state.servers {
                let endpoint = EndpointLabel {
                    server: server.server.clone(),
                    port: server.port,
                };
                if let Some(not_after) = server.not_after {
                    self.not_after.get_or_create(&endpoint).set(not_after);
                    self.expiry_days
                        .get_or_create(&endpoint)
                        .set((not_after - now) as f64 / 86_400.0);
                }
                for code in server.problems {
                    self.problems
                        .get_or_create(&ProblemLabel {
                            server: server.server.clone(),
                            port: server.port,
                            code: code.to_string(),
                        })
                        .set(1);
                }
            }
        }
        let mut text = String::new();
        if encode(&mut text, &registry).is_err() {
            text.clear();
        }
        text
    }
}
