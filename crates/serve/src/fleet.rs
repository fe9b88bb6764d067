//! The fleet pages, from the scan store `serve` shares with `mailtls scan`: the causes per
//! server as a chart (SVG made here), the domains affected, and each domain's result.

use maud::{Markup, html};

use super::page::{bar_chart, layout};
use mailtls_core::diagnose::{Code, Verdict};
use mailtls_scan::store::{ProblemRecord, ScanInfo, Store, StoreError, TargetSummary};

/// Most domains listed on the fleet page.
pub const MAX_LISTED: i64 = 500;
/// Most bars in the chart.
pub const MAX_BARS: i64 = 20;

/// The fleet page of `scan` (the newest when `None`); `None` when there is no such scan.
pub async fn overview(store: &Store, scan: Option<&str>) -> Result<Option<Markup>, StoreError> {
    let Some(info) = store.scan(scan).await? else {
        return Ok(None);
    };
    let causes = store.causes(&info.id, MAX_BARS).await?;
    let affected = store.affected(&info.id, MAX_LISTED).await?;
    Ok(Some(render_overview(&info, &causes, &affected)))
}

fn render_overview(
    info: &ScanInfo,
    causes: &[(String, Code, u64)],
    affected: &[TargetSummary],
) -> Markup {
    let bars: Vec<(String, u64)> = causes
        .iter()
        .map(|(server, code, n)| (format!("{server}: {code}"), *n))
        .collect();
    layout(
        "Fleet",
        None,
        html! {
            h1 { "Fleet scan " code { (info.id) } }
            p {
                (info.targets) " targets checked from " code { (info.input) } ", started "
                (mailtls_core::analyze::cert::rfc3339(info.created_at)) "; "
                (info.finished_runs) " of " (info.runs) " workers finished."
            }
            h2 { "Causes per server" }
            @if bars.is_empty() {
                p { "No problems found." }
            } @else {
                p.note { "Domains affected by each problem, per server (errors only)." }
                (bar_chart("causes-chart", "Domains affected per server and cause", &bars))
            }
            h2 { "Domains affected" }
            @if affected.is_empty() {
                p { "None: every target is fine." }
            } @else {
                @if affected.len() as i64 >= MAX_LISTED {
                    p.note { "The first " (MAX_LISTED) ", worst first; " code { "mailtls scan report" } " lists all." }
                }
                table #fleet-domains {
                    thead { tr { th { "Target" } th { "Verdict" } th { "What is wrong" } } }
                    tbody {
                        @for target in affected {
                            tr class={ "outcome-" (verdict_class(target.verdict)) } {
                                td { a href=(target_link(&info.id, &target.target)) { (target.target) } }
                                td { (target.verdict) }
                                td { (target.summary) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The page of one target of a scan; `None` when there is no such target.
pub async fn target(store: &Store, scan: &str, target: &str) -> Result<Option<Markup>, StoreError> {
    let Some(summary) = store.target(scan, target).await? else {
        return Ok(None);
    };
    let problems = store.target_problems(scan, target).await?;
    Ok(Some(render_target(scan, &summary, &problems)))
}

fn render_target(scan: &str, t: &TargetSummary, problems: &[ProblemRecord]) -> Markup {
    layout(
        &t.target,
        None,
        html! {
            section #verdict class={ "verdict verdict-" (t.verdict) } {
                p.word { (t.verdict) }
                h1 { (t.summary) }
                p.target { "Target " code { (t.target) } " in scan " a href=(scan_page(scan)) { code { (scan) } } }
            }
            section #fix {
                h2 { "What to change" }
                @match &t.fix { Some(fix) => p { (fix) }, None => p { "Nothing." } }
                @if let Some(name) = &t.recommendation {
                    p.verified { "Server name verified to work: " code.verified-name { (name) } }
                }
            }
            @if !problems.is_empty() {
                section #problems {
                    h2 { "Problems" }
                    table {
                        thead { tr { th { "Server" } th { "Port" } th { "Problem" } th { "Certificate names" } } }
                        tbody {
                            @for p in problems {
                                tr {
                                    td { (p.server) }
                                    td { (p.port.map(|p| p.to_string()).unwrap_or_default()) }
                                    td { (p.code) " (" (p.severity) ")" }
                                    td { (p.presented_names.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
            p.links { a href={ "/check?target=" (urlencode(&t.target)) } { "Check it again now" } }
        },
    )
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "works",
        Verdict::Warn => "warns",
        Verdict::Fail | Verdict::Unknown => "fails",
    }
}

/// The fleet page of scan `id`.
pub fn scan_page(id: &str) -> String {
    format!("/fleet?scan={}", urlencode(id))
}

fn target_link(scan: &str, target: &str) -> String {
    format!("/fleet/{}/{}", urlencode(scan), urlencode(target))
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
