//! How much work one chain may cost, decided before path building starts.
//!
//! A server controls its chain, and a chain can be made expensive: a hundred intermediates with
//! the same subject make a path builder try paths by the thousand, and a leaf with thousands of
//! names under a CA with thousands of name constraints makes the constraint check quadratic.
//! rustls-webpki stops such searches with its own budgets, but only after spending them (about
//! 0.1 s of CPU per chain here). These checks refuse the same chains up front, from counts that
//! parsing already produced, so `check`, `cert verify` and a future `serve` stay cheap against a
//! hostile server.

use super::cert::CertInfo;

/// Most intermediates handed to the path builder. Real servers send one to three; the longest
/// valid path in x509-limbo has nine sent certificates, of which fewer are relevant.
pub const MAX_CANDIDATES: usize = 10;

/// Most candidates sharing one subject name. Cross-signing and key rollover give two or three
/// certificates for one CA; more is noise or an attack.
pub const MAX_PER_SUBJECT: usize = 4;

/// Most (name × constraint) comparisons allowed, OpenSSL's `NAME_CHECK_MAX` (crypto/x509/
/// v3_ncons.c): names are the leaf's subjectAltName entries plus its subject attributes,
/// constraints the permitted plus excluded subtrees of one CA.
pub const NAME_CHECK_MAX: usize = 1 << 20;

/// The intermediates worth handing to the path builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// Indexes into the sent intermediates (`chain[1..]`), in the order sent.
    pub kept: Vec<usize>,
    /// Relevant certificates left out because a cap was reached.
    pub capped: usize,
}

/// Picks from `intermediates` (the chain after the leaf) those that can be on a path from
/// `leaf`: an exact duplicate is dropped, and so is a certificate whose subject issued nothing
/// reachable from the leaf. Names are compared as rendered strings, which can only keep more
/// than a byte comparison would, never fewer.
pub fn candidates(leaf: &CertInfo, intermediates: &[CertInfo]) -> Candidates {
    let mut wanted: Vec<&str> = vec![leaf.issuer.as_str()];
    let mut kept: Vec<usize> = Vec::new();
    let mut capped = 0;
    // Each pass adds the issuers of newly kept certificates; a pass that keeps nothing ends it,
    // so there are at most `intermediates.len() + 1` passes.
    let mut considered = vec![false; intermediates.len()];
    loop {
        let mut grew = false;
        for (index, cert) in intermediates.iter().enumerate() {
            if considered[index] || !wanted.contains(&cert.subject.as_str()) {
                continue;
            }
            considered[index] = true;
            let duplicate = kept.iter().any(|&k| intermediates[k].der == cert.der);
            let same_subject = kept
                .iter()
                .filter(|&&k| intermediates[k].subject == cert.subject)
                .count();
            if duplicate {
                continue;
            }
            if kept.len() >= MAX_CANDIDATES || same_subject >= MAX_PER_SUBJECT {
                capped += 1;
                continue;
            }
            kept.push(index);
            if !wanted.contains(&cert.issuer.as_str()) {
                wanted.push(cert.issuer.as_str());
            }
            grew = true;
        }
        if !grew {
            break;
        }
    }
    kept.sort_unstable();
    Candidates { kept, capped }
}

/// When checking `leaf`'s names against the constraints of the CAs that may sign for it would
/// exceed [`NAME_CHECK_MAX`], the number of comparisons it would take.
pub fn name_checks<'a>(
    leaf: &CertInfo,
    cas: impl IntoIterator<Item = &'a CertInfo>,
    anchor_constraints: usize,
) -> Option<usize> {
    let most = cas
        .into_iter()
        .map(|ca| ca.name_constraints)
        .chain([anchor_constraints])
        .max()
        .unwrap_or(0);
    let comparisons = leaf.name_count.saturating_mul(most);
    (comparisons > NAME_CHECK_MAX).then_some(comparisons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::cert::test_cert;

    fn ca(subject: &str, issuer: &str, serial: u8) -> CertInfo {
        let mut cert = test_cert(subject, issuer);
        cert.der = vec![serial];
        cert
    }

    #[test]
    fn keeps_only_issuers_reachable_from_the_leaf_in_sent_order() {
        let leaf = test_cert("CN=leaf", "CN=inter");
        let sent = [
            ca("CN=unrelated", "CN=root", 1),
            ca("CN=root", "CN=root", 2),
            ca("CN=inter", "CN=root", 3),
            ca("CN=inter", "CN=root", 3),
        ];
        let picked = candidates(&leaf, &sent);
        assert_eq!(picked.kept, vec![1, 2]);
        assert_eq!(picked.capped, 0);
    }

    #[test]
    fn caps_same_subject_floods() {
        let leaf = test_cert("CN=leaf", "CN=ca");
        let sent: Vec<CertInfo> = (0..100).map(|i| ca("CN=ca", "CN=ca", i)).collect();
        let picked = candidates(&leaf, &sent);
        assert_eq!(picked.kept, vec![0, 1, 2, 3]);
        assert_eq!(picked.capped, 96);
    }

    #[test]
    fn caps_long_distinct_chains() {
        let leaf = test_cert("CN=leaf", "CN=ca0");
        let sent: Vec<CertInfo> = (0..20)
            .map(|i| ca(&format!("CN=ca{i}"), &format!("CN=ca{}", i + 1), i))
            .collect();
        let picked = candidates(&leaf, &sent);
        assert_eq!(picked.kept, (0..MAX_CANDIDATES).collect::<Vec<_>>());
        // The first one over the cap is counted; what only it could have led to is never seen.
        assert_eq!(picked.capped, 1);
    }

    #[test]
    fn name_checks_refuse_only_quadratic_blowups() {
        let mut leaf = test_cert("CN=leaf", "CN=ca");
        let mut constrained = test_cert("CN=ca", "CN=root");
        leaf.name_count = 2049;
        constrained.name_constraints = 4098;
        assert_eq!(name_checks(&leaf, [&constrained], 0), Some(2049 * 4098));
        assert_eq!(name_checks(&leaf, [], 4098), Some(2049 * 4098));
        leaf.name_count = 100;
        assert_eq!(name_checks(&leaf, [&constrained], 0), None);
        leaf.name_count = 2049;
        constrained.name_constraints = 0;
        assert_eq!(name_checks(&leaf, [&constrained], 0), None);
    }
}
