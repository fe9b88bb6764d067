//! Store errors, counted: every error an operation of the store met (a retried one too) and
//! every row it left out because it could not read it. A scan's summary and report show them,
//! and `serve` exports them as a metric: none is dropped without a trace.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreError;
use mailtls_core::vocabulary::vocabulary;

/// The errors kept in words, besides the counts.
pub const KEPT: usize = 5;

vocabulary! {
    /// What kind of store error.
    pub enum ErrorKind {
        /// Another process held a lock too long.
        Locked => "locked",
        /// The database refused a write.
        ReadOnly => "read-only",
        /// Not a mailtls database.
        Foreign => "foreign",
        /// Written by a newer mailtls.
        Newer => "newer",
        /// Written by an older mailtls.
        Older => "older",
        /// Damaged.
        Corrupt => "corrupt",
        /// The disk is full.
        Full => "full",
        /// The database could not be reached.
        Unavailable => "unavailable",
        /// No such SQLite file.
        Missing => "missing",
        /// A row this mailtls cannot read, left out.
        Unreadable => "unreadable",
        /// Anything else.
        Other => "other",
    }
}

impl StoreError {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Locked(_) => ErrorKind::Locked,
            StoreError::ReadOnly(_) => ErrorKind::ReadOnly,
            StoreError::Foreign(..) => ErrorKind::Foreign,
            StoreError::Newer { .. } => ErrorKind::Newer,
            StoreError::Older(_) => ErrorKind::Older,
            StoreError::Corrupt(..) => ErrorKind::Corrupt,
            StoreError::Full(_) => ErrorKind::Full,
            StoreError::Unavailable(..) => ErrorKind::Unavailable,
            StoreError::Missing(_) => ErrorKind::Missing,
            StoreError::Unreadable(..) => ErrorKind::Unreadable,
            StoreError::Other(..) => ErrorKind::Other,
        }
    }
}

/// The store errors met so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreErrors {
    /// How many of each kind met (kinds never met are left out), in [`ErrorKind`] order.
    pub counts: Vec<(ErrorKind, u64)>,
    /// The first few ([`KEPT`]), in words.
    pub first: Vec<String>,
}

impl StoreErrors {
    /// How many in all.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// How many of `kind`.
    pub fn count(&self, kind: ErrorKind) -> u64 {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }

    /// These and `other`'s, together (two stores read for one answer).
    pub fn merged(mut self, other: &StoreErrors) -> StoreErrors {
        for &(kind, n) in &other.counts {
            match self.counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, count)) => *count += n,
                None => self.counts.push((kind, n)),
            }
        }
        self.counts.sort_by_key(|(kind, _)| *kind);
        for words in &other.first {
            if self.first.len() < KEPT {
                self.first.push(words.clone());
            }
        }
        self
    }
}

/// The running count, shared by every clone of a store.
#[derive(Debug, Default)]
pub(super) struct Tally {
    counts: [AtomicU64; ErrorKind::ALL.len()],
    first: Mutex<Vec<String>>,
}

impl Tally {
    /// Counts `error`.
    pub(super) fn count(&self, error: &StoreError) {
        self.counts[error.kind() as usize].fetch_add(1, Ordering::Relaxed);
        // A poisoned lock only means a panic elsewhere; the list is plain and still usable.
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.len() < KEPT {
            first.push(error.to_string());
        }
    }

    /// The counts as of now.
    pub(super) fn snapshot(&self) -> StoreErrors {
        StoreErrors {
            counts: ErrorKind::ALL
                .iter()
                .map(|&kind| (kind, self.counts[kind as usize].load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            first: self.first.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_by_kind_and_the_first_kept_in_words() {
        let tally = Tally::default();
        for n in 0..7 {
            tally.count(&StoreError::Locked(format!("db{n}")));
        }
        tally.count(&StoreError::Unreadable("db".into(), "a row".into()));
        let errors = tally.snapshot();
        assert_eq!(
            errors.counts,
            [(ErrorKind::Locked, 7), (ErrorKind::Unreadable, 1)]
        );
        assert_eq!(errors.total(), 8);
        assert_eq!(errors.first.len(), KEPT);
        assert!(errors.first[0].starts_with("db0 is locked"), "{errors:?}");
        let both = errors.clone().merged(&errors);
        assert_eq!(both.count(ErrorKind::Locked), 14);
        assert_eq!(both.first.len(), KEPT);
    }

    #[test]
    fn every_kind_has_its_own_counter() {
        for (index, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, index);
        }
    }
}
