//! The words of a finding: what is wrong, what it cost, what to change (RFC 8461 for MTA-STS,
//! RFC 7672 for DANE), and the `mailtls check` that confirms it: the MX host's port 25 for what
//! its certificate and STARTTLS do, the mail domain for its policy and DNS.

use super::{Consequence, Finding};
use crate::analyze::tlsrpt::{Named, PolicyType, ResultType, StsMode};

/// Whether a result type is about the MTA-STS policy itself (fetched from the policy host),
/// not about an MX host.
pub fn about_the_policy(result_type: &Named<ResultType>) -> bool {
    matches!(
        result_type.known(),
        Some(
            ResultType::StsPolicyFetchError
                | ResultType::StsPolicyInvalid
                | ResultType::StsWebpkiInvalid
        )
    )
}

/// The fix in plain words and the command that confirms it.
pub fn fix(finding: &Finding) -> (Option<String>, Option<String>) {
    let names = Names::of(finding);
    let command = command(finding);
    let Some(result_type) = finding.result_type.as_ref() else {
        let fix = format!(
            "{} sessions failed that the reports do not explain (their summary counts more \
             failures than their details){}{}",
            finding.sessions,
            names.domain_part(),
            consequence(finding, &names)
                .map(|c| format!("; {c}"))
                .unwrap_or_default()
        );
        return (Some(fix + "."), command);
    };
    let Some(known) = result_type.known() else {
        return (None, command);
    };
    let what = what(known, finding, &names);
    let consequence = consequence(finding, &names);
    let remedy = remedy(known, finding, &names);
    let fix = match consequence {
        Some(consequence) => format!("{what}; {consequence}: {remedy}."),
        None => format!("{what}: {remedy}."),
    };
    (Some(capitalised(fix)), command)
}

/// `text` with its first letter in upper case, unless it starts with a host name (names
/// are written as DNS has them).
fn capitalised(text: String) -> String {
    if !text.starts_with("an MX host") {
        return text;
    }
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The host and domain as the words name them.
struct Names {
    host: String,
    domain: String,
    domain_known: bool,
}

impl Names {
    fn of(finding: &Finding) -> Names {
        Names {
            host: finding
                .host
                .clone()
                .unwrap_or_else(|| "an MX host the reports do not name".to_string()),
            domain: finding
                .domain
                .clone()
                .unwrap_or_else(|| "the domain".to_string()),
            domain_known: finding.domain.is_some(),
        }
    }

    fn domain_part(&self) -> String {
        if self.domain_known {
            format!(" for {}", self.domain)
        } else {
            String::new()
        }
    }

    /// The policy's URL (RFC 8461 §3.3).
    fn policy_url(&self) -> String {
        if self.domain_known {
            format!("https://mta-sts.{}/.well-known/mta-sts.txt", self.domain)
        } else {
            "https://mta-sts.DOMAIN/.well-known/mta-sts.txt".to_string()
        }
    }
}

/// What the senders met.
fn what(result_type: ResultType, finding: &Finding, names: &Names) -> String {
    let host = &names.host;
    let domain = &names.domain;
    let codes = reason_codes(finding);
    match result_type {
        ResultType::StarttlsNotSupported => {
            format!("{host} did not offer STARTTLS, or its TLS handshake failed{codes}")
        }
        ResultType::CertificateHostMismatch => {
            format!("{host} presents a certificate that does not name it{codes}")
        }
        ResultType::CertificateExpired => {
            format!("{host} presents an expired certificate{codes}")
        }
        ResultType::CertificateNotTrusted if is_dane(finding) => format!(
            "{host}'s certificate chain does not lead to a trust anchor its TLSA records \
             name{codes}"
        ),
        ResultType::CertificateNotTrusted => format!(
            "{host} presents a certificate the senders do not trust: self-signed, from a CA \
             they do not know, or sent without its intermediate certificates{codes}"
        ),
        ResultType::ValidationFailure => format!(
            "The senders could not validate {host}'s TLS, for a reason the report types do \
             not name{codes}"
        ),
        ResultType::TlsaInvalid => format!(
            "The TLSA records at _25._tcp.{host} do not match the certificate it presents, or \
             are malformed{codes}"
        ),
        ResultType::DnssecInvalid => format!(
            "DNSSEC validation failed for {host}'s TLSA records or {domain}'s MX records{codes}"
        ),
        ResultType::DaneRequired => format!(
            "The senders require DANE for {domain} and found no DNSSEC-validated TLSA records \
             at _25._tcp.{host}{codes}"
        ),
        ResultType::StsPolicyFetchError => format!(
            "The senders could not fetch {domain}'s MTA-STS policy from {}{codes}",
            names.policy_url()
        ),
        ResultType::StsPolicyInvalid => format!(
            "{domain}'s MTA-STS policy at {} is not valid{codes}",
            names.policy_url()
        ),
        ResultType::StsWebpkiInvalid => format!(
            "The certificate of mta-sts.{domain}, the host serving {domain}'s MTA-STS policy, \
             is not valid for that name (untrusted, expired, or naming another host){codes}"
        ),
    }
}

/// " (the senders say: A, B)" when they gave reason codes.
fn reason_codes(finding: &Finding) -> String {
    if finding.reason_codes.is_empty() {
        String::new()
    } else {
        format!(" (the senders say: {})", finding.reason_codes.join("; "))
    }
}

fn is_dane(finding: &Finding) -> bool {
    finding.policy_type == Named::Known(PolicyType::Tlsa)
}

/// What it cost, in words; None when the reports do not say.
fn consequence(finding: &Finding, names: &Names) -> Option<String> {
    let host = &names.host;
    let domain = &names.domain;
    Some(match finding.consequence {
        Consequence::NotDelivered => match (finding.policy_type.known(), finding.result_type.as_ref().and_then(Named::known)) {
            (_, Some(ResultType::DaneRequired)) => {
                "those senders do not deliver to it (mail waits, then bounces unless another MX works)".to_string()
            }
            (Some(PolicyType::Tlsa), _) => format!(
                "DANE-validating senders (Postfix and Exim with DANE, Microsoft 365) defer mail to \
                 {host} (it waits, then bounces unless another MX works)"
            ),
            _ => format!(
                "senders that enforce {domain}'s MTA-STS policy (Gmail, Microsoft 365) do not \
                 deliver to {host} (mail waits, then bounces unless another MX works)"
            ),
        },
        Consequence::DeliveredAnyway => match finding.mode {
            Some(StsMode::Testing) => format!(
                "{domain}'s MTA-STS policy is in testing mode, so the senders delivered anyway \
                 (under mode: enforce they would not)"
            ),
            Some(StsMode::None) => format!(
                "{domain}'s MTA-STS policy has mode: none, so the senders delivered anyway"
            ),
            _ => "no MTA-STS or DANE policy was in force, so the senders delivered anyway, \
                  unauthenticated or in plain text"
                .to_string(),
        },
        Consequence::PolicyNotApplied => format!(
            "senders without a cached copy of the policy deliver as if {domain} had none \
             (unprotected against a downgrade); those with one keep using it until its max_age \
             runs out"
        ),
        Consequence::ModeUnknown => format!(
            "the reports do not give the policy's mode: if it is enforce, these senders did \
             not deliver to {host}"
        ),
        Consequence::Unknown => return None,
    })
}

/// What to change.
fn remedy(result_type: ResultType, finding: &Finding, names: &Names) -> String {
    let host = &names.host;
    let domain = &names.domain;
    match result_type {
        ResultType::StarttlsNotSupported => format!(
            "offer STARTTLS on port 25 with a certificate naming {host} (Postfix: \
             smtpd_tls_security_level = may and smtpd_tls_chain_files)"
        ),
        ResultType::CertificateHostMismatch if is_dane(finding) => format!(
            "publish a DANE-EE record (3 1 1, which ignores names) for the key {host} presents, \
             or install a certificate naming {host}"
        ),
        ResultType::CertificateHostMismatch
            if finding.policy_type == Named::Known(PolicyType::Sts) =>
        {
            format!(
                "install a certificate naming {host}, or point the MX record at a name the \
                 certificate has and list that name in the policy's mx lines"
            )
        }
        ResultType::CertificateHostMismatch => format!("install a certificate naming {host}"),
        ResultType::CertificateExpired => {
            "renew it, and make sure the mail server loads the renewed certificate (reload it)"
                .to_string()
        }
        ResultType::CertificateNotTrusted if is_dane(finding) => format!(
            "publish a TLSA record that matches what {host} presents (3 1 1 for its key), or \
             send the chain up to the CA the DANE-TA record names"
        ),
        ResultType::CertificateNotTrusted => format!(
            "install a certificate for {host} from a public CA and send its intermediate \
             certificates with it (the full chain)"
        ),
        ResultType::ValidationFailure => {
            format!("check {host}'s certificate and chain on port 25 against the senders' reason")
        }
        ResultType::TlsaInvalid => format!(
            "publish a TLSA record for the key {host} presents now (3 1 1), and one for the \
             next key before each change of key"
        ),
        ResultType::DnssecInvalid => format!(
            "re-sign the zone, renew its RRSIGs before they expire, and make the DS record at \
             {domain}'s parent match its key"
        ),
        ResultType::DaneRequired => format!(
            "publish TLSA records at _25._tcp.{host} in a DNSSEC-signed zone (the requirement \
             is the sender's own setting)"
        ),
        ResultType::StsPolicyFetchError => format!(
            "serve the policy there with status 200 as text/plain, from a host named \
             mta-sts.{domain} whose certificate names it; senders do not follow redirects"
        ),
        ResultType::StsPolicyInvalid => {
            "make it follow RFC 8461: version: STSv1, mode: enforce, testing or none, one mx \
             line per MX pattern, max_age up to 31557600, lines ending in CRLF or LF"
                .to_string()
        }
        ResultType::StsWebpkiInvalid => format!(
            "install a certificate naming mta-sts.{domain} from a public CA, with its \
             intermediate certificates"
        ),
    }
}

/// The command that confirms a finding: `mailtls check HOST --ports 25` for what an MX host
/// presents, `mailtls check DOMAIN` for the domain's policy and DNS (MTA-STS, DANE).
fn command(finding: &Finding) -> Option<String> {
    let host = finding.host.as_deref().filter(|h| checkable(h));
    let domain = finding.domain.as_deref().filter(|d| checkable(d));
    let about_dns = matches!(
        finding.result_type.as_ref().and_then(Named::known),
        Some(
            ResultType::TlsaInvalid
                | ResultType::DnssecInvalid
                | ResultType::DaneRequired
                | ResultType::StsPolicyFetchError
                | ResultType::StsPolicyInvalid
                | ResultType::StsWebpkiInvalid
        )
    );
    match (host, domain) {
        (_, Some(domain)) if about_dns || host.is_none() => Some(format!("mailtls check {domain}")),
        (Some(host), _) => Some(format!("mailtls check {host} --ports 25")),
        (None, _) => None,
    }
}

/// Whether a name from a report may stand in a command: a DNS name (letters, digits, hyphens
/// and underscores in dot-separated labels, at least two; no label starts with a hyphen, so
/// it cannot read as an option), no wildcard.
fn checkable(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_names_stand_in_commands() {
        assert!(checkable("mx1.example.com"));
        assert!(checkable("_x.example.com"));
        for bad in [
            "--help",
            "-x.example.com",
            "*.example.com",
            "localhost",
            "a..b",
            "mx1.example.com; rm -rf /",
            "mx1.example.com --ports 1",
            "exämple.com",
        ] {
            assert!(!checkable(bad), "{bad}");
        }
    }
}
