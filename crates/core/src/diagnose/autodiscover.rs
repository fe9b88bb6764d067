//! Outlook's Autodiscover warning: the dialog people see in Outlook at every start is, more often
//! than not, not about the mail server at all. Outlook's first Autodiscover request goes to
//! https://DOMAIN/autodiscover/autodiscover.xml, which on a shared web host is answered with the
//! web host's certificate, and Outlook shows its "Security Alert" before it goes on (Microsoft KB
//! 2772058). This judges that case from the walk of Outlook's steps, says that the mail servers
//! are fine when they are, and gives the fixes in order of effort.

use super::discovery::{Entry, EntryStatus};
use crate::analyze::chain::{Extra, PathOptions, TrustAnchors};
use crate::analyze::names::NameCheck;
use crate::analyze::{self};
use crate::clients::dialogs::{Dialog, Fault};
use crate::clients::discovery::{Reaction, Walked};
use crate::observation::Record;
use crate::target::Target;

/// Outlook shows a certificate dialog while it looks for the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutodiscoverWarning {
    /// The step of Outlook's search that shows it: its number in [`crate::clients::discovery::steps`]
    /// (1-based, as docs/clients.md numbers them).
    pub step: usize,
    /// The URL asked at that step (after redirects).
    pub url: String,
    /// The source's own URL or record, as in the discovery entries.
    pub source_url: String,
    /// The host asked.
    pub host: String,
    /// What is wrong with that host's certificate.
    pub fault: Fault,
    /// The names on the certificate it presented.
    pub presented: Vec<String>,
    /// The dialog.
    pub dialog: &'static Dialog,
    /// The mail servers handed out all work, by name (empty when some do not, or none was
    /// found).
    pub mail_servers_fine: Vec<String>,
    /// The answer in one sentence.
    pub summary: String,
    /// The fixes, in order of effort.
    pub fixes: Vec<String>,
}

/// The warning, when Outlook's walk shows a dialog at an Autodiscover step.
pub fn judge(
    walk: &[Walked],
    records: &[Record],
    entries: &[Entry],
    domain: &str,
    verified: Option<&str>,
    anchors: &TrustAnchors,
    now: i64,
) -> Option<AutodiscoverWarning> {
    // The walk holds every step up to the one that ends it, those mailtls cannot ask included,
    // so its position is the step's number in docs/clients.md.
    let (index, walked) = walk
        .iter()
        .enumerate()
        .find(|(_, w)| w.reaction == Reaction::ShowsDialog)?;
    let dialog = walked.dialog?;
    let source = walked.step.source?;
    let record = records.iter().find(|r| r.source == source)?;
    let url = record
        .answered_by
        .clone()
        .unwrap_or_else(|| record.url_or_record.clone());
    let host = host_of(&url);
    let (fault, presented) = https_fault(record, &host, anchors, now);
    let mail: Vec<&Entry> = entries.iter().filter(|e| !e.hostname.is_empty()).collect();
    let all_work = !mail.is_empty() && mail.iter().all(|e| e.status == EntryStatus::Works);
    let mut mail_servers_fine: Vec<String> = Vec::new();
    if all_work {
        for entry in mail {
            if !mail_servers_fine.contains(&entry.hostname) {
                mail_servers_fine.push(entry.hostname.clone());
            }
        }
    }
    let what = match fault {
        Fault::WrongName if presented.is_empty() => {
            "a certificate that names no server".to_string()
        }
        Fault::WrongName => format!("a certificate for {}", presented.join(", ")),
        Fault::Dates => "a certificate outside its validity dates".to_string(),
        Fault::Untrusted => "a certificate Outlook does not trust".to_string(),
    };
    // The dialog's own line for this fault, as Outlook shows it, so that the user recognises it.
    let mut summary = format!(
        "Problem: Outlook shows \"{}\" at every start: \"{}\". Its Autodiscover asks {url} \
         first, and {host} answers with {what}.",
        dialog.title,
        dialog.key_line(fault)
    );
    if mail_servers_fine.is_empty() {
        summary.push_str(" The mail servers handed out are judged below.");
    } else {
        summary.push_str(&format!(
            " The mail servers themselves are fine ({} works without a warning).",
            mail_servers_fine.join(", ")
        ));
    }
    let srv_target = verified.map_or_else(
        || "a name whose HTTPS certificate is valid".to_string(),
        |name| format!("a name whose HTTPS certificate is valid (such as {name}, if it answers Autodiscover over HTTPS)"),
    );
    let fixes = vec![
        format!(
            "Publish an SRV record _autodiscover._tcp.{domain} pointing to {srv_target}. Be \
             aware: Outlook asks the SRV record only after the earlier steps fail cleanly (no \
             answer, or a 404 behind a valid certificate); while {host} answers {url} with this \
             certificate, the dialog stays. Combine it with one of the fixes below."
        ),
        format!(
            "Add {host} to the website's certificate (for example a Let's Encrypt certificate for \
             {host} on the web host): then {url} fails cleanly and Outlook goes on to its next \
             step without a dialog."
        ),
        format!(
            "Or have the website not answer {url} over HTTPS at all (no HTTPS for {host}, or the \
             /autodiscover/ path refused at the web host), so that the first step fails cleanly."
        ),
    ];
    Some(AutodiscoverWarning {
        step: index + 1,
        source_url: record.url_or_record.clone(),
        url,
        host,
        fault,
        presented,
        dialog,
        mail_servers_fine,
        summary,
        fixes,
    })
}

/// The host of a URL, lower case.
fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// What is wrong with the certificate a document's server presented, and the names on it.
fn https_fault(
    record: &Record,
    host: &str,
    anchors: &TrustAnchors,
    now: i64,
) -> (Fault, Vec<String>) {
    let ders: Vec<&[u8]> = record.https_chain.iter().map(|d| d.0.as_slice()).collect();
    let target = Target::Dns(host.to_string());
    let Some(analysis) = analyze::chain_of(
        &ders,
        Some(&target),
        anchors,
        Extra::default(),
        now,
        &PathOptions::default(),
    ) else {
        return (Fault::Untrusted, Vec::new());
    };
    let presented = analysis
        .leaf()
        .map(|leaf| leaf.presented_names())
        .unwrap_or_default();
    let fault = match (&analysis.name, analysis.dates.is_empty()) {
        (NameCheck::Covered(_), true) => Fault::Untrusted,
        (NameCheck::Covered(_), false) => Fault::Dates,
        _ => Fault::WrongName,
    };
    (fault, presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            host_of("https://Example.test/autodiscover/x.xml"),
            "example.test"
        );
        assert_eq!(host_of("https://a.example.test:8443/x"), "a.example.test");
        assert_eq!(host_of("example.test"), "example.test");
    }
}
