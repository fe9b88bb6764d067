//! Dates: on the server certificate, its CA and the root.

use super::*;

/// Dates: expired, not yet valid, long validity; on the server certificate, its CA and the root.
pub(super) fn validity_group(b: &mut Builder<'_>) -> Result<(), String> {
    let now = b.now;
    for key in USUAL_KEYS {
        for (what, about, from, to, faults) in [
            (
                "expired",
                "the server certificate expired yesterday",
                now - 91 * DAY,
                now - DAY,
                vec![Fault::Expired],
            ),
            (
                "expired-long-ago",
                "the server certificate expired two years ago",
                now - 3 * 365 * DAY,
                now - 2 * 365 * DAY,
                vec![Fault::Expired],
            ),
            (
                "not-yet-valid",
                "the server certificate is valid from the day after tomorrow",
                now + 2 * DAY,
                now + 92 * DAY,
                vec![Fault::NotYetValid],
            ),
            (
                "not-yet-valid-hours",
                "the server certificate is valid from six hours from now (a server clock ahead)",
                now + 6 * 3600,
                now + 90 * DAY,
                vec![Fault::NotYetValid],
            ),
            (
                "days-397",
                "valid for 397 days",
                now - DAY,
                now - DAY + 397 * DAY,
                vec![],
            ),
            (
                "days-399",
                "valid for 399 days",
                now - DAY,
                now - DAY + 399 * DAY,
                vec![],
            ),
            (
                "days-825",
                "valid for 825 days",
                now - DAY,
                now - DAY + 825 * DAY - 1,
                vec![],
            ),
            (
                "days-826",
                "valid for 826 days",
                now - DAY,
                now - DAY + 826 * DAY,
                vec![],
            ),
            (
                "days-900",
                "valid for 900 days",
                now - DAY,
                now - DAY + 900 * DAY,
                vec![],
            ),
            (
                "years-10",
                "valid for ten years",
                now - DAY,
                now + 10 * 365 * DAY,
                vec![],
            ),
        ] {
            let mut d = b.draft("validity", what, key, about);
            d.leaf.not_before = from;
            d.leaf.not_after = to;
            d.faults = faults;
            b.push(d)?;
        }
        for (what, about, ca, root, faults) in [
            (
                "intermediate-expired",
                "the intermediate expired; the root is trusted",
                b.cas.int_expired.clone(),
                None,
                vec![Fault::Expired],
            ),
            (
                "intermediate-not-yet-valid",
                "the intermediate is not valid yet",
                b.cas.int_not_yet_valid.clone(),
                None,
                vec![Fault::NotYetValid],
            ),
            (
                "root-expired",
                "the trusted root expired",
                b.cas.int_under_expired_root.clone(),
                None,
                vec![Fault::Expired],
            ),
            (
                "root-expired-sent",
                "the trusted root expired and is sent along",
                b.cas.int_under_expired_root.clone(),
                Some(b.cas.root_expired.clone()),
                vec![Fault::Expired],
            ),
        ] {
            let mut d = b.draft("validity", what, key, about);
            d.issuer = Some(ca.clone());
            d.rest = vec![ca];
            d.rest.extend(root);
            d.faults = faults;
            b.push(d)?;
        }
    }
    Ok(())
}
