//! `scan status`: how a scan is going, from any machine that reaches its database: its
//! workers (live, finished, stopped, or gone without a word), the leases they hold, targets
//! done and left, the rate over the last minute and the time left at that rate.

use schemars::JsonSchema;
use serde::Serialize;

use super::store::{RunRow, StatusRows};
use mailtls_core::analyze::cert::rfc3339;
use mailtls_core::report::wire::{Header, Kind};

/// `scan status --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusOutput {
    /// Schema version, kind (`scan-status`), mailtls version.
    #[serde(flatten)]
    pub header: Header,
    /// The scan's id.
    pub scan: String,
    /// Where the scan is.
    pub state: ScanState,
    /// Targets done and left.
    pub targets: TargetCounts,
    /// Targets recorded a second, over the last minute.
    pub rate_per_second: f64,
    /// Seconds left at that rate (none when nothing is known to be left, or nothing was
    /// recorded in the last minute).
    pub eta_seconds: Option<u64>,
    /// Every worker that started on the scan, oldest first.
    pub workers: Vec<WorkerLine>,
    /// Addresses with connection places held now, most first (at most 10).
    pub places: Vec<PlaceLine>,
    /// The limits the workers keep together (PostgreSQL).
    pub limits: Option<serde_json::Value>,
}

/// Where a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScanState {
    /// At least one worker is at work.
    Running,
    /// Every target is recorded.
    Finished,
    /// Targets are left and no worker is at work: start one (the same command) to continue.
    Waiting,
}

/// Targets done and left.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TargetCounts {
    /// Recorded.
    pub done: u64,
    /// In the work queue (claimed or not); none for a scan without one (shards, SQLite), whose
    /// list only its workers read. While the list is still loading, more will come.
    pub left: Option<u64>,
    /// Of those left, claimed by a worker now.
    pub held: u64,
    /// Whether the whole list is in the queue.
    pub list_loaded: bool,
    /// Lines of the list in the queue so far.
    pub lines_loaded: u64,
}

/// One worker.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkerLine {
    /// Its run's id.
    pub run: String,
    /// Its shard (`queue`: a worker on the work queue).
    pub shard: String,
    /// What it is doing.
    pub state: WorkerState,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended, if it recorded that.
    pub finished_at: Option<String>,
    /// Why it stopped early, if it did.
    pub stopped: Option<String>,
    /// Targets it recorded.
    pub targets_done: u64,
    /// Targets of the queue it holds now.
    pub holding: u64,
}

/// What a worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerState {
    /// It renews its leases.
    Live,
    /// It ended with its list done.
    Finished,
    /// It stopped early (saying why).
    Stopped,
    /// It stopped renewing its leases without recording an end (killed, or cut off): what it
    /// held passes to the others with its leases.
    Gone,
    /// It has not recorded an end, and keeps no leases to tell whether it still runs (a
    /// SQLite scan).
    Unknown,
}

/// Connection places held at one address.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlaceLine {
    /// The address.
    pub address: String,
    /// Places held now.
    pub held: u64,
}

/// The status of scan `scan` from what its database holds.
pub fn status(scan: &str, rows: &StatusRows) -> StatusOutput {
    let workers: Vec<WorkerLine> = rows
        .runs
        .iter()
        .map(|run| WorkerLine {
            run: run.run_id.clone(),
            shard: run.shard.clone(),
            state: worker_state(run, rows.now_ms),
            started_at: rfc3339(run.started_at),
            finished_at: run.finished_at.map(rfc3339),
            stopped: run.stopped.clone(),
            targets_done: rows.done_by_run.get(&run.run_id).copied().unwrap_or(0),
            holding: rows
                .queued_by_holder
                .get(&Some(run.run_id.clone()))
                .copied()
                .unwrap_or(0),
        })
        .collect();
    let queue = rows.runs.iter().any(|r| r.shard == "queue");
    let queued: u64 = rows.queued_by_holder.values().sum();
    let held: u64 = rows
        .queued_by_holder
        .iter()
        .filter(|(holder, _)| holder.is_some())
        .map(|(_, n)| n)
        .sum();
    let left = queue.then_some(queued);
    let at_work = workers
        .iter()
        .any(|w| matches!(w.state, WorkerState::Live | WorkerState::Unknown));
    let state = if at_work {
        ScanState::Running
    } else if queue {
        if rows.loaded && queued == 0 {
            ScanState::Finished
        } else {
            ScanState::Waiting
        }
    } else if workers.iter().any(|w| w.state == WorkerState::Finished) {
        ScanState::Finished
    } else {
        ScanState::Waiting
    };
    let rate_per_second = rows.done_last_minute as f64 / 60.0;
    let eta_seconds = match left {
        Some(left) if left > 0 && rows.done_last_minute > 0 => {
            Some((left as f64 / rate_per_second).ceil() as u64)
        }
        _ => None,
    };
    StatusOutput {
        header: Header::new(Kind::ScanStatus),
        scan: scan.to_string(),
        state,
        targets: TargetCounts {
            done: rows.done_by_run.values().sum(),
            left,
            held,
            list_loaded: rows.loaded,
            lines_loaded: rows.loaded_lines,
        },
        rate_per_second: (rate_per_second * 100.0).round() / 100.0,
        eta_seconds,
        workers,
        places: rows
            .places
            .iter()
            .map(|(address, held)| PlaceLine {
                address: address.clone(),
                held: *held,
            })
            .collect(),
        limits: rows
            .limits
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
    }
}

fn worker_state(run: &RunRow, now_ms: i64) -> WorkerState {
    match (run.finished_at, &run.stopped, run.alive_until_ms) {
        (Some(_), None, _) => WorkerState::Finished,
        (Some(_), Some(_), _) => WorkerState::Stopped,
        (None, _, Some(until)) if until > now_ms => WorkerState::Live,
        (None, _, Some(_)) => WorkerState::Gone,
        (None, _, None) => WorkerState::Unknown,
    }
}

/// The status in words, the verdict first.
pub fn text(status: &StatusOutput) -> String {
    let live = status
        .workers
        .iter()
        .filter(|w| w.state == WorkerState::Live)
        .count();
    let mut out = match status.state {
        ScanState::Running => format!(
            "scan {}: running, {live} worker{} at work\n",
            status.scan,
            plural(live as u64)
        ),
        ScanState::Finished => format!("scan {}: finished\n", status.scan),
        ScanState::Waiting => format!(
            "scan {}: waiting, targets left and no worker at work: run the scan's command to \
             continue it\n",
            status.scan
        ),
    };
    let t = &status.targets;
    out.push_str(&match t.left {
        Some(left) => format!(
            "targets: {} done, {left} left{}{}\n",
            t.done,
            if t.held > 0 {
                format!(" ({} held by workers now)", t.held)
            } else {
                String::new()
            },
            if t.list_loaded {
                String::new()
            } else {
                format!(
                    "; the list is still loading ({} lines in), so more will come",
                    t.lines_loaded
                )
            }
        ),
        None => format!(
            "targets: {} done (left: not known, only the workers read a sharded list)\n",
            t.done
        ),
    });
    if status.state == ScanState::Running {
        out.push_str(&format!(
            "rate: {:.1} targets a second over the last minute{}\n",
            status.rate_per_second,
            match status.eta_seconds {
                Some(eta) => format!("; about {} left", duration(eta)),
                None => String::new(),
            }
        ));
    }
    if let Some(limits) = &status.limits {
        let value = |key: &str| limits.get(key).map_or("?".to_string(), |v| v.to_string());
        out.push_str(&format!(
            "limits kept by all workers together: --per-ip {}, --per-ip-rate {}, --dns-rate {}\n",
            value("per_ip"),
            value("per_ip_rate"),
            value("dns_rate")
        ));
    }
    if !status.workers.is_empty() {
        out.push_str("\nworkers:\n");
    }
    for w in &status.workers {
        let state = match w.state {
            WorkerState::Live => "live",
            WorkerState::Finished => "finished",
            WorkerState::Stopped => "stopped",
            WorkerState::Gone => "gone (stopped renewing its leases without a word)",
            WorkerState::Unknown => "not finished (no leases to tell if it still runs)",
        };
        out.push_str(&format!(
            "  {} {:<6} {state}; started {}; {} done{}{}\n",
            w.run,
            w.shard,
            w.started_at,
            w.targets_done,
            if w.holding > 0 {
                format!(", holding {}", w.holding)
            } else {
                String::new()
            },
            w.stopped
                .as_deref()
                .map(|why| format!("; stopped: {why}"))
                .unwrap_or_default()
        ));
    }
    if !status.places.is_empty() {
        out.push_str("\nconnection places held now:\n");
        for p in &status.places {
            out.push_str(&format!("  {} {}\n", p.address, p.held));
        }
    }
    out
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Seconds in words: "45 s", "12 min", "3 h 20 min".
pub(crate) fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(id: &str, finished: Option<i64>, stopped: Option<&str>, alive: Option<i64>) -> RunRow {
        RunRow {
            run_id: id.to_string(),
            shard: "queue".to_string(),
            started_at: 1_767_225_600,
            finished_at: finished,
            stopped: stopped.map(str::to_string),
            alive_until_ms: alive,
        }
    }

    #[test]
    fn workers_live_gone_finished_stopped_and_the_time_left() {
        let now = 1_767_225_700_000;
        let rows = StatusRows {
            now_ms: now,
            runs: vec![
                run("live", None, None, Some(now + 5_000)),
                run("gone", None, None, Some(now - 1)),
                run("done", Some(1_767_225_650), None, Some(now - 9_000)),
                run("cut", Some(1_767_225_660), Some("stopped by SIGTERM"), None),
            ],
            done_by_run: HashMap::from([("live".to_string(), 90), ("gone".to_string(), 30)]),
            done_last_minute: 120,
            queued_by_holder: HashMap::from([(None, 40), (Some("live".to_string()), 8)]),
            loaded: true,
            loaded_lines: 200,
            places: vec![("192.0.2.1".to_string(), 2)],
            limits: Some("{\"per_ip\":2,\"per_ip_rate\":10,\"dns_rate\":500}".to_string()),
        };
        let status = status("fleet", &rows);
        let states: Vec<WorkerState> = status.workers.iter().map(|w| w.state).collect();
        assert_eq!(
            states,
            [
                WorkerState::Live,
                WorkerState::Gone,
                WorkerState::Finished,
                WorkerState::Stopped
            ]
        );
        assert_eq!(status.state, ScanState::Running);
        assert_eq!(
            (
                status.targets.done,
                status.targets.left,
                status.targets.held
            ),
            (120, Some(48), 8)
        );
        // 120 in the last minute: 2 a second; 48 left: 24 s.
        assert_eq!(
            (status.rate_per_second, status.eta_seconds),
            (2.0, Some(24))
        );
        let text = text(&status);
        assert!(
            text.starts_with("scan fleet: running, 1 worker at work\n"),
            "{text}"
        );
        assert!(
            text.contains("120 done, 48 left (8 held by workers now)"),
            "{text}"
        );
        assert!(text.contains("about 24 s left"), "{text}");
        assert!(
            text.contains("--per-ip 2, --per-ip-rate 10, --dns-rate 500"),
            "{text}"
        );
    }

    #[test]
    fn a_queue_with_nobody_at_work_waits_and_an_empty_one_is_finished() {
        let mut rows = StatusRows {
            now_ms: 10_000,
            runs: vec![run("gone", None, None, Some(9_000))],
            queued_by_holder: HashMap::from([(None, 3)]),
            loaded: true,
            ..StatusRows::default()
        };
        assert_eq!(status("s", &rows).state, ScanState::Waiting);
        assert!(text(&status("s", &rows)).contains("run the scan's command to continue"));
        rows.queued_by_holder.clear();
        assert_eq!(status("s", &rows).state, ScanState::Finished);
        // A list still loading is not finished, even with an empty queue.
        rows.loaded = false;
        assert_eq!(status("s", &rows).state, ScanState::Waiting);
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(61), "2 min");
        assert_eq!(duration(3 * 3600 + 20 * 60), "3 h 20 min");
    }
}
