//! Which TLS versions an endpoint accepts and which weak suites, read from the main handshake
//! and the hand-built ClientHellos of `probe::versions`. Pure.

use crate::observation::{Completion, EndpointObservation, HelloAnswer, VersionProbe};
use crate::tls_catalog::{self, Offer, TlsVersion};

/// Whether one version is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Accepted; the suite the server chose from a modern offer.
    Accepted {
        /// IANA name of the suite.
        cipher: String,
    },
    /// Refused: how (an alert, a closed connection, a lower version chosen).
    Refused {
        /// In words.
        how: String,
    },
    /// Not known: not asked, or no usable answer.
    Unknown {
        /// Why.
        why: String,
    },
}

/// One version's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    /// The version.
    pub version: TlsVersion,
    /// Accepted, refused or unknown.
    pub support: Support,
}

/// A weak suite the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakSuite {
    /// IANA name.
    pub name: String,
    /// Why it is weak: RC4, 3DES, export, NULL, anonymous.
    pub weakness: String,
    /// The version it was accepted with.
    pub version: Option<TlsVersion>,
}

/// Everything known about an endpoint's versions and suites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReport {
    /// SSL 3.0 (when asked) and TLS 1.0 to 1.3, oldest first.
    pub rows: Vec<VersionRow>,
    /// Weak suites accepted; `None` when that was not learned.
    pub weak: Option<Vec<WeakSuite>>,
    /// What the server did with a client's own TLS 1.2 offer, where that was asked (only of
    /// a server that chose a suite the client does not offer).
    pub offers: Vec<(Offer, Support)>,
}

impl VersionReport {
    /// Whether the server accepts a client's own TLS 1.2 offer: `Some(false)` when it refused
    /// it (or refused a wider one, see [`summarize`]), `None` when that is not known (the
    /// suite it chose is one the client offers).
    pub fn accepts_offer(&self, offer: Offer) -> Option<bool> {
        self.offers
            .iter()
            .find(|(o, _)| *o == offer)
            .and_then(|(_, support)| match support {
                Support::Accepted { .. } => Some(true),
                Support::Refused { .. } => Some(false),
                Support::Unknown { .. } => None,
            })
    }
}

impl VersionReport {
    /// Whether `version` is accepted (`None`: not known).
    pub fn accepted(&self, version: TlsVersion) -> Option<bool> {
        self.rows
            .iter()
            .find(|r| r.version == version)
            .and_then(|r| match r.support {
                Support::Accepted { .. } => Some(true),
                Support::Refused { .. } => Some(false),
                Support::Unknown { .. } => None,
            })
    }

    /// The newest version accepted.
    pub fn best(&self) -> Option<TlsVersion> {
        self.rows
            .iter()
            .rev()
            .find(|r| matches!(r.support, Support::Accepted { .. }))
            .map(|r| r.version)
    }

    /// Versions accepted, oldest first.
    pub fn accepted_versions(&self) -> Vec<TlsVersion> {
        self.rows
            .iter()
            .filter(|r| matches!(r.support, Support::Accepted { .. }))
            .map(|r| r.version)
            .collect()
    }

    /// Accepts something, but nothing newer than TLS 1.1, and TLS 1.2 is known to be refused.
    pub fn legacy_only(&self) -> bool {
        self.best().is_some_and(|b| b < TlsVersion::Tls12)
            && self.accepted(TlsVersion::Tls12) == Some(false)
    }
}

/// The report for one endpoint; `None` when neither the main handshake nor a probe says
/// anything about versions (TLS never started, or `--no-versions` and a failed handshake).
pub fn summarize(observation: &EndpointObservation) -> Option<VersionReport> {
    let negotiated = observation.tls.as_ref().and_then(|t| {
        let version = TlsVersion::parse(t.version.as_deref()?)?;
        Some(Negotiated {
            version,
            cipher: t.cipher.clone().unwrap_or_default(),
            // A handshake completed from a ClientHello took the newest version that sent its
            // certificates in clear: TLS 1.2 even where TLS 1.3 was accepted too.
            offered_both: t.completion != Some(Completion::ClientHello),
        })
    });
    if negotiated.is_none() && observation.versions.is_empty() {
        return None;
    }
    let mut versions: Vec<TlsVersion> = TlsVersion::TLS.to_vec();
    if observation
        .versions
        .iter()
        .any(|p| p.asked == TlsVersion::Ssl3)
    {
        versions.insert(0, TlsVersion::Ssl3);
    }
    let rows = versions
        .into_iter()
        .map(|version| VersionRow {
            version,
            support: support(version, negotiated.as_ref(), &observation.versions),
        })
        .collect();
    let weak = observation
        .versions
        .iter()
        .find(|p| p.offer == Offer::Weak)
        .and_then(weak_suites);
    let mut offers: Vec<(Offer, Support)> = observation
        .versions
        .iter()
        .filter(|p| Offer::CLIENTS.contains(&p.offer))
        .map(|p| {
            let support = match &p.answer {
                HelloAnswer::Accepted { cipher_name, .. } => Support::Accepted {
                    cipher: cipher_name.clone(),
                },
                HelloAnswer::Alert { name, .. } => Support::Refused {
                    how: format!("alert {name}"),
                },
                HelloAnswer::Closed => Support::Refused {
                    how: "closed the connection".to_string(),
                },
                _ => Support::Unknown {
                    why: "no usable answer to the client's hello".to_string(),
                },
            };
            (p.offer, support)
        })
        .collect();
    if offers.is_empty() && refuses_every_suite(&observation.versions) {
        // Each client's own TLS 1.2 suites are within the modern offer (tls_catalog::suites),
        // so refusing that refused them too.
        offers = Offer::CLIENTS
            .into_iter()
            .map(|offer| {
                let how = "refused a TLS 1.2 offer holding all of its suites, and TLS 1.3";
                (
                    offer,
                    Support::Refused {
                        how: how.to_string(),
                    },
                )
            })
            .collect();
    }
    Some(VersionReport { rows, weak, offers })
}

/// Whether the server speaks TLS but refused both the modern TLS 1.2 offer and TLS 1.3 by
/// saying it found nothing acceptable (a handshake_failure or insufficient_security alert): no
/// suite in common, not a version it does not speak, and not a server that is not TLS at all.
fn refuses_every_suite(probes: &[VersionProbe]) -> bool {
    const NOTHING_ACCEPTABLE: [u8; 2] = [40, 71];
    let refused = |version: TlsVersion, also: &[u8]| {
        probes.iter().any(|p| {
            p.asked == version
                && p.offer == Offer::Modern
                && matches!(&p.answer, HelloAnswer::Alert { description, .. }
                    if NOTHING_ACCEPTABLE.contains(description) || also.contains(description))
        })
    };
    // A TLS 1.2-only server answers TLS 1.3 with protocol_version (70).
    refused(TlsVersion::Tls12, &[])
        && refused(TlsVersion::Tls13, &[70])
        && !probes
            .iter()
            .any(|p| matches!(p.answer, HelloAnswer::Accepted { .. }))
}

/// What the main handshake agreed on.
struct Negotiated {
    version: TlsVersion,
    cipher: String,
    /// TLS 1.3 and 1.2 were both offered, so choosing 1.2 refused 1.3.
    offered_both: bool,
}

fn support(
    version: TlsVersion,
    negotiated: Option<&Negotiated>,
    probes: &[VersionProbe],
) -> Support {
    // The main handshake (rustls offered 1.3 and 1.2) settles those two.
    if let Some(negotiated) = negotiated {
        if negotiated.version == version {
            return Support::Accepted {
                cipher: negotiated.cipher.clone(),
            };
        }
        if version == TlsVersion::Tls13
            && negotiated.version == TlsVersion::Tls12
            && negotiated.offered_both
        {
            return Support::Refused {
                how: "offered TLS 1.3 and 1.2, the server chose TLS 1.2".to_string(),
            };
        }
    }
    let own = probes
        .iter()
        .find(|p| p.asked == version && p.offer == Offer::Modern);
    // TLS 1.0 without a hello of its own: the hello offering 1.0 and 1.1 settles it unless
    // the server picked 1.1.
    let shared = || {
        probes
            .iter()
            .find(|p| p.asked == TlsVersion::Tls11 && p.offer == Offer::Modern)
            .filter(|_| version == TlsVersion::Tls10)
    };
    let Some(probe) = own.or_else(shared) else {
        return Support::Unknown {
            why: "not asked".to_string(),
        };
    };
    if probe.asked != version {
        return match &probe.answer {
            HelloAnswer::Accepted {
                version: Some(answered),
                cipher_name,
                ..
            } if *answered == version => Support::Accepted {
                cipher: cipher_name.clone(),
            },
            HelloAnswer::Alert { name, .. } => Support::Refused {
                how: format!("alert {name} to a hello offering TLS 1.0 and 1.1"),
            },
            HelloAnswer::Closed => Support::Refused {
                how: "closed the connection on a hello offering TLS 1.0 and 1.1".to_string(),
            },
            _ => Support::Unknown {
                why: "not settled by the hello offering TLS 1.0 and 1.1".to_string(),
            },
        };
    }
    match &probe.answer {
        HelloAnswer::Accepted {
            version: Some(answered),
            cipher_name,
            ..
        } if *answered == version => Support::Accepted {
            cipher: cipher_name.clone(),
        },
        // A server may choose an older version than offered: it does not speak this one.
        HelloAnswer::Accepted {
            version: Some(answered),
            ..
        } if *answered < version => Support::Refused {
            how: format!("answered a {version} hello with {answered}"),
        },
        HelloAnswer::Accepted { version_wire, .. } => Support::Unknown {
            why: format!(
                "answered a {version} hello with version 0x{version_wire:04x}, which was not offered"
            ),
        },
        HelloAnswer::Alert { name, .. } => Support::Refused {
            how: format!("alert {name}"),
        },
        HelloAnswer::Closed => Support::Refused {
            how: "closed the connection".to_string(),
        },
        HelloAnswer::Timeout => Support::Unknown {
            why: "no answer in time".to_string(),
        },
        HelloAnswer::Invalid { detail } | HelloAnswer::NotSent { detail } => Support::Unknown {
            why: detail.clone(),
        },
    }
}

fn weak_suites(probe: &VersionProbe) -> Option<Vec<WeakSuite>> {
    match &probe.answer {
        HelloAnswer::Accepted {
            version, cipher, ..
        } => Some(
            tls_catalog::weakness(*cipher)
                .map(|weakness| WeakSuite {
                    name: tls_catalog::cipher_name(*cipher),
                    weakness: weakness.to_string(),
                    version: *version,
                })
                .into_iter()
                .collect(),
        ),
        HelloAnswer::Alert { .. } | HelloAnswer::Closed => Some(Vec::new()),
        HelloAnswer::Timeout | HelloAnswer::Invalid { .. } | HelloAnswer::NotSent { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::TlsObservation;
    use crate::service::Service;

    fn endpoint(negotiated: Option<&str>, probes: Vec<VersionProbe>) -> EndpointObservation {
        let mut o = EndpointObservation::new(
            Service::for_port(993).unwrap(),
            "192.0.2.1".parse().unwrap(),
            None,
        );
        o.reachable = true;
        o.tls = Some(TlsObservation {
            version: negotiated.map(str::to_string),
            cipher: negotiated.map(|_| "TLS13_AES_256_GCM_SHA384".to_string()),
            chain: Vec::new(),
            ..TlsObservation::default()
        });
        o.versions = probes;
        o
    }

    fn probe(asked: TlsVersion, offer: Offer, answer: HelloAnswer) -> VersionProbe {
        VersionProbe {
            asked,
            offer,
            answer,
            elapsed_ms: 1,
        }
    }

    fn accepted(version: u16, cipher: u16) -> HelloAnswer {
        HelloAnswer::Accepted {
            version: TlsVersion::from_wire(version),
            version_wire: version,
            cipher,
            cipher_name: tls_catalog::cipher_name(cipher),
            certificates: Vec::new(),
            certificate_length: None,
        }
    }

    fn alert(description: u8) -> HelloAnswer {
        HelloAnswer::Alert {
            description,
            name: tls_catalog::alert_name(description).to_string(),
        }
    }

    #[test]
    fn modern_server_from_the_main_handshake_and_refusals() {
        let report = summarize(&endpoint(
            Some("TLSv1_3"),
            vec![
                probe(TlsVersion::Tls10, Offer::Modern, alert(70)),
                probe(TlsVersion::Tls11, Offer::Modern, HelloAnswer::Closed),
                probe(TlsVersion::Tls12, Offer::Modern, accepted(0x0303, 0xc02f)),
                probe(TlsVersion::Tls12, Offer::Weak, alert(40)),
            ],
        ))
        .unwrap();
        assert_eq!(
            report.accepted_versions(),
            vec![TlsVersion::Tls12, TlsVersion::Tls13]
        );
        assert_eq!(report.best(), Some(TlsVersion::Tls13));
        assert!(!report.legacy_only());
        assert_eq!(report.weak, Some(Vec::new()));
        assert_eq!(
            report.rows[0].support,
            Support::Refused {
                how: "alert protocol_version".to_string()
            }
        );
    }

    #[test]
    fn legacy_only_server_and_weak_suites() {
        // The main handshake failed: rustls offers only 1.2 and 1.3.
        let report = summarize(&endpoint(
            None,
            vec![
                probe(TlsVersion::Tls10, Offer::Modern, accepted(0x0301, 0xc014)),
                probe(TlsVersion::Tls11, Offer::Modern, alert(70)),
                probe(TlsVersion::Tls12, Offer::Modern, accepted(0x0301, 0xc014)),
                probe(TlsVersion::Tls13, Offer::Modern, alert(70)),
                probe(TlsVersion::Tls12, Offer::Weak, accepted(0x0301, 0x000a)),
                probe(TlsVersion::Ssl3, Offer::Modern, HelloAnswer::Closed),
            ],
        ))
        .unwrap();
        assert_eq!(report.rows.len(), 5);
        assert_eq!(report.accepted_versions(), vec![TlsVersion::Tls10]);
        assert!(report.legacy_only());
        // Asked 1.2, answered 1.0: a refusal of 1.2, said how.
        assert_eq!(
            report.rows[3].support,
            Support::Refused {
                how: "answered a TLSv1.2 hello with TLSv1.0".to_string()
            }
        );
        let weak = report.weak.unwrap();
        assert_eq!(weak[0].weakness, "3DES (Sweet32)");
        assert_eq!(weak[0].version, Some(TlsVersion::Tls10));
    }

    #[test]
    fn one_hello_settles_tls10_and_tls11() {
        let refused = summarize(&endpoint(
            Some("TLSv1_3"),
            vec![probe(TlsVersion::Tls11, Offer::Modern, alert(70))],
        ))
        .unwrap();
        assert_eq!(refused.accepted(TlsVersion::Tls10), Some(false));
        assert_eq!(refused.accepted(TlsVersion::Tls11), Some(false));
        let chose_tls10 = summarize(&endpoint(
            None,
            vec![probe(
                TlsVersion::Tls11,
                Offer::Modern,
                accepted(0x0301, 0xc013),
            )],
        ))
        .unwrap();
        assert_eq!(chose_tls10.accepted(TlsVersion::Tls10), Some(true));
        assert_eq!(chose_tls10.accepted(TlsVersion::Tls11), Some(false));
        // Picking 1.1 says nothing about 1.0: that needs its own hello.
        let chose_tls11 = summarize(&endpoint(
            None,
            vec![probe(
                TlsVersion::Tls11,
                Offer::Modern,
                accepted(0x0302, 0xc013),
            )],
        ))
        .unwrap();
        assert_eq!(chose_tls11.accepted(TlsVersion::Tls10), None);
        assert_eq!(chose_tls11.accepted(TlsVersion::Tls11), Some(true));
    }

    #[test]
    fn odd_answers_are_unknown_not_guessed() {
        let report = summarize(&endpoint(
            Some("TLSv1_2"),
            vec![
                // A server that answers a TLS 1.0 hello with TLS 1.2 breaks the rules.
                probe(TlsVersion::Tls10, Offer::Modern, accepted(0x0303, 0xc02f)),
                probe(TlsVersion::Tls11, Offer::Modern, HelloAnswer::Timeout),
                probe(TlsVersion::Tls12, Offer::Weak, HelloAnswer::Timeout),
            ],
        ))
        .unwrap();
        assert_eq!(report.accepted(TlsVersion::Tls10), None);
        assert_eq!(report.accepted(TlsVersion::Tls11), None);
        assert_eq!(report.accepted(TlsVersion::Tls12), Some(true));
        assert_eq!(report.accepted(TlsVersion::Tls13), Some(false));
        assert_eq!(report.weak, None);
        // Nothing at all is known without a handshake or probes.
        let mut silent = endpoint(None, Vec::new());
        silent.tls = None;
        assert_eq!(summarize(&silent), None);
    }
}
