//! Mail client releases and the TLS versions they speak, to say which of them can still talk to
//! a server, and which send no SNI (and so get a server's default certificate).
//!
//! Each entry cites its source; `certain: false` marks a range no source settles for the mail
//! client itself (it then follows the platform's documented defaults).

use crate::analyze::versions::VersionReport;
use crate::tls_catalog::TlsVersion;

/// One client release (or family) and its TLS range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// Who, e.g. "Thunderbird 78 and later".
    pub name: &'static str,
    /// Oldest version it enables by default.
    pub min: TlsVersion,
    /// Newest version it speaks.
    pub max: TlsVersion,
    /// Sends SNI.
    pub sni: bool,
    /// Where this comes from.
    pub source: &'static str,
    /// Whether a source settles it for this client.
    pub certain: bool,
}

/// The releases judged, newest first within each client.
pub static RELEASES: &[Release] = &[
    Release {
        name: "Thunderbird 78 and later",
        min: TlsVersion::Tls12,
        max: TlsVersion::Tls13,
        sni: true,
        source: "https://www.thunderbird.net/en-US/thunderbird/78.0/releasenotes/",
        certain: true,
    },
    Release {
        name: "Thunderbird 68 and earlier",
        min: TlsVersion::Tls10,
        max: TlsVersion::Tls13,
        sni: true,
        source: "https://mail.mozilla.org/pipermail/tb-planning/2019-September/006941.html",
        certain: true,
    },
    Release {
        name: "Outlook on Windows 11 (current builds)",
        min: TlsVersion::Tls12,
        max: TlsVersion::Tls13,
        sni: true,
        source: "https://techcommunity.microsoft.com/t5/windows-it-pro-blog/tls-1-0-and-tls-1-1-soon-to-be-disabled-in-windows/ba-p/3887947",
        certain: true,
    },
    Release {
        name: "Outlook 2016 to 2021 on Windows 10",
        min: TlsVersion::Tls10,
        max: TlsVersion::Tls12,
        sni: true,
        source: "https://learn.microsoft.com/en-us/windows/win32/secauthn/protocols-in-tls-ssl--schannel-ssp-",
        certain: true,
    },
    Release {
        name: "Outlook 2007/2010 on Windows XP",
        min: TlsVersion::Tls10,
        max: TlsVersion::Tls10,
        sni: false,
        source: "https://learn.microsoft.com/en-us/windows/win32/secauthn/protocols-in-tls-ssl--schannel-ssp- \
                 (Windows XP: SSL 3.0 and TLS 1.0; its Schannel sends no SNI)",
        certain: true,
    },
    Release {
        name: "Apple Mail on iOS 15+ / macOS 12+",
        min: TlsVersion::Tls10,
        max: TlsVersion::Tls13,
        sni: true,
        source: "https://developer.apple.com/documentation/ios-ipados-release-notes/ios-ipados-15-release-notes \
                 (TLS 1.0/1.1 deprecated; Mail's use of them is not documented)",
        certain: false,
    },
    Release {
        name: "Android 10+ apps (Gmail, Thunderbird for Android)",
        min: TlsVersion::Tls10,
        max: TlsVersion::Tls13,
        sni: true,
        source: "https://developer.android.com/reference/javax/net/ssl/SSLSocket (platform defaults; \
                 an app may narrow them)",
        certain: false,
    },
    Release {
        name: "Android 5 to 9 apps",
        min: TlsVersion::Tls10,
        max: TlsVersion::Tls12,
        sni: true,
        source: "https://developer.android.com/reference/javax/net/ssl/SSLSocket",
        certain: false,
    },
];

/// Whether a release can talk to a server, and with which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compatibility {
    /// The release.
    pub release: &'static str,
    /// true: a version both enable; false: none; null: the server's versions are not all known.
    pub negotiates: Option<bool>,
    /// The version they would agree on.
    pub version: Option<TlsVersion>,
    /// Whether the release's range is settled by a source.
    pub certain: bool,
}

/// Every release against one endpoint's versions.
pub fn compatibility(report: &VersionReport) -> Vec<Compatibility> {
    RELEASES
        .iter()
        .map(|release| {
            let in_range = |v: &TlsVersion| (release.min..=release.max).contains(v);
            let agreed = report
                .accepted_versions()
                .into_iter()
                .filter(in_range)
                .max();
            let unknown = TlsVersion::TLS
                .iter()
                .filter(|v| in_range(v))
                .any(|v| report.accepted(*v).is_none());
            let negotiates = match (agreed, unknown) {
                (Some(_), _) => Some(true),
                (None, true) => None,
                (None, false) => Some(false),
            };
            Compatibility {
                release: release.name,
                negotiates,
                version: agreed,
                certain: release.certain,
            }
        })
        .collect()
}

/// The releases that send no SNI, for the `sni-dependent` finding.
pub fn without_sni() -> Vec<&'static str> {
    RELEASES.iter().filter(|r| !r.sni).map(|r| r.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::versions::{Support, VersionRow};

    fn report(accepted: &[TlsVersion]) -> VersionReport {
        VersionReport {
            rows: TlsVersion::TLS
                .iter()
                .map(|v| VersionRow {
                    version: *v,
                    support: if accepted.contains(v) {
                        Support::Accepted {
                            cipher: "x".to_string(),
                        }
                    } else {
                        Support::Refused {
                            how: "alert".to_string(),
                        }
                    },
                })
                .collect(),
            weak: None,
            offers: Vec::new(),
        }
    }

    fn negotiates(report: &VersionReport, release: &str) -> Option<bool> {
        compatibility(report)
            .into_iter()
            .find(|c| c.release == release)
            .unwrap()
            .negotiates
    }

    #[test]
    fn tls10_only_locks_out_current_clients_but_not_old_ones() {
        let old = report(&[TlsVersion::Tls10]);
        assert_eq!(negotiates(&old, "Thunderbird 78 and later"), Some(false));
        assert_eq!(
            negotiates(&old, "Outlook on Windows 11 (current builds)"),
            Some(false)
        );
        assert_eq!(
            negotiates(&old, "Outlook 2007/2010 on Windows XP"),
            Some(true)
        );
        assert_eq!(negotiates(&old, "Thunderbird 68 and earlier"), Some(true));
    }

    #[test]
    fn tls13_only_locks_out_windows_10_and_old_android() {
        let new = report(&[TlsVersion::Tls13]);
        assert_eq!(negotiates(&new, "Thunderbird 78 and later"), Some(true));
        assert_eq!(
            negotiates(&new, "Outlook 2016 to 2021 on Windows 10"),
            Some(false)
        );
        assert_eq!(negotiates(&new, "Android 5 to 9 apps"), Some(false));
        let found = compatibility(&new);
        assert_eq!(found[0].version, Some(TlsVersion::Tls13));
    }

    #[test]
    fn unknown_versions_give_unknown_answers() {
        let mut partial = report(&[]);
        partial.rows[0].support = Support::Unknown {
            why: "timeout".to_string(),
        };
        assert_eq!(
            negotiates(&partial, "Outlook 2007/2010 on Windows XP"),
            None
        );
        assert_eq!(
            negotiates(&partial, "Thunderbird 78 and later"),
            Some(false)
        );
        assert_eq!(without_sni(), vec!["Outlook 2007/2010 on Windows XP"]);
    }
}
