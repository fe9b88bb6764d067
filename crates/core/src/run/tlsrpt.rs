//! `mailtls tlsrpt FILE|DIR...`: TLS reports (RFC 8460) read from files, directories and
//! standard input (`-`), each decoded (`analyze::tlsrpt`) and added to the tally
//! (`diagnose::tlsrpt`) as it is read, then judged.
//!
//! Caps: a file is read only when it is a regular file of at most [`MAX_FILE`] bytes (a larger
//! one is refused from its size, unread); a gzip stream is inflated to at most
//! [`MAX_REPORT`](crate::analyze::tlsrpt::MAX_REPORT) bytes; directories are followed
//! [`MAX_DEPTH`] deep (symbolic links to directories are not followed, so a loop cannot
//! hang the walk), at most [`MAX_FILES`] files in all. Nothing but regular files is opened, so
//! a FIFO or a device cannot hang the read.
//!
//! In a directory, the files taken are those named `*.json`, `*.gz` (so `*.json.gz`) and
//! `*.eml`, and any other whose first bytes are gzip's magic; hidden files are passed over and
//! the rest counted as ignored. A file named on the command line is always read, whatever its
//! name. A file that holds no report is skipped with a stable reason ([`SkipReason`]); when no
//! report at all could be read the run fails ([`TlsrptError`], exit 64).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::analyze::tlsrpt::{self, DecodeError};
use crate::diagnose::Verdict;
use crate::diagnose::tlsrpt::{Tally, TlsrptSummary, judge};

/// Largest file read, as it is on disk: a report is some KiB, gzipped less; a mail carrying
/// one a little more.
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// How deep directories are followed below the one named.
pub const MAX_DEPTH: usize = 8;

/// Most files read in one run: a year of daily reports from a few hundred senders.
pub const MAX_FILES: usize = 100_000;

crate::vocabulary::vocabulary! {
    /// Why a file (or a directory) gave no report.
    pub enum SkipReason {
        /// It could not be opened or read (no such file, permission denied...).
        Unreadable => "unreadable",
        /// Not a regular file (a FIFO, a device, a socket).
        NotAFile => "not-a-file",
        /// Larger than [`MAX_FILE`], or a report with more policies or failure details than
        /// mailtls reads from one.
        TooLarge => "too-large",
        /// A directory with no report files in it.
        NoReports => "no-reports",
        /// Neither JSON, gzip nor a mail.
        NotJson => "not-json",
        /// Starts like JSON, does not parse.
        InvalidJson => "invalid-json",
        /// JSON, but not an RFC 8460 report.
        NotAReport => "not-a-report",
        /// A broken gzip stream.
        BadGzip => "bad-gzip",
        /// A gzip stream that inflates beyond the cap (a gzip bomb).
        DecompressedTooLarge => "decompressed-too-large",
        /// A mail with no report attached.
        NoReportInMail => "no-report-in-mail",
        /// Packed in too many layers of gzip or mail.
        TooDeep => "too-deep",
    }
}

impl SkipReason {
    fn of(error: &DecodeError) -> SkipReason {
        match error {
            DecodeError::NotJson => SkipReason::NotJson,
            DecodeError::InvalidJson(_) => SkipReason::InvalidJson,
            DecodeError::NotAReport(_) => SkipReason::NotAReport,
            DecodeError::BadGzip(_) => SkipReason::BadGzip,
            DecodeError::TooLarge => SkipReason::DecompressedTooLarge,
            DecodeError::TooManyEntries(_) => SkipReason::TooLarge,
            DecodeError::NoReportInMail => SkipReason::NoReportInMail,
            DecodeError::TooDeep => SkipReason::TooDeep,
        }
    }
}

/// A file or directory that gave no report, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The path, as given or found.
    pub file: String,
    /// Why, as a stable code.
    pub reason: SkipReason,
    /// Why, in words.
    pub message: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// A run that read no report at all (exit 64).
#[derive(Debug, thiserror::Error)]
pub enum TlsrptError {
    /// The one file or directory given held none.
    #[error("{0}")]
    Nothing(Skipped),
    /// None of several did.
    #[error("no TLS report could be read from {count} files or directories: {first} (and {} more)", count - 1)]
    NoneOf {
        /// How many were skipped.
        count: usize,
        /// The first.
        first: Skipped,
    },
    /// More files than [`MAX_FILES`].
    #[error("more than {MAX_FILES} files to read; give fewer at a time")]
    TooManyFiles,
}

impl TlsrptError {
    /// The exit status: a usage error.
    pub fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

/// What a run read and what it makes of it.
#[derive(Debug, Clone)]
pub struct TlsrptRun {
    /// The judged summary.
    pub summary: TlsrptSummary,
    /// Files that held at least one report.
    pub files: usize,
    /// Files in the directories that were not taken for reports (by name and first bytes).
    pub ignored: usize,
    /// Files and directories that gave no report.
    pub skipped: Vec<Skipped>,
}

impl TlsrptRun {
    /// 2 when a failure cost mail, else 1 when senders report failures, else 3 when a file
    /// was skipped (the summary is incomplete), else 0.
    pub fn exit_code(&self) -> u8 {
        match self.summary.verdict {
            Verdict::Ok if !self.skipped.is_empty() => crate::exit::UNKNOWN,
            verdict => verdict.exit_code(),
        }
    }
}

/// Reads the reports in `paths` (`-` is standard input) and judges them.
pub fn read_reports(paths: &[PathBuf]) -> Result<TlsrptRun, TlsrptError> {
    let mut sources: Vec<PathBuf> = Vec::new();
    let mut skipped = Vec::new();
    let mut ignored = 0;
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            sources.push(path.clone());
        } else {
            let before = sources.len();
            walk(path, 0, &mut sources, &mut ignored, &mut skipped)?;
            if sources.len() == before {
                skipped.push(Skipped {
                    file: shown(path),
                    reason: SkipReason::NoReports,
                    message: "no TLS reports in it (files named *.json, *.json.gz, *.gz or \
                              *.eml, or gzip data)"
                        .to_string(),
                });
            }
        }
        if sources.len() > MAX_FILES {
            return Err(TlsrptError::TooManyFiles);
        }
    }
    let mut tally = Tally::default();
    let mut files = 0;
    for source in &sources {
        match read_source(source) {
            Ok(reports) => {
                files += 1;
                for report in &reports {
                    tally.add(report);
                }
            }
            Err(skip) => skipped.push(skip),
        }
    }
    if files == 0 {
        let count = skipped.len();
        let mut skipped = skipped.into_iter();
        return Err(match (skipped.next(), count) {
            (Some(only), 1) => TlsrptError::Nothing(only),
            (Some(first), _) => TlsrptError::NoneOf { count, first },
            // No path at all: the command line requires one; say it as a directory would.
            (None, _) => TlsrptError::Nothing(Skipped {
                file: "(nothing given)".to_string(),
                reason: SkipReason::NoReports,
                message: "no TLS reports".to_string(),
            }),
        });
    }
    Ok(TlsrptRun {
        summary: judge(tally),
        files,
        ignored,
        skipped,
    })
}

/// Collects the report files under `dir`, in name order.
fn walk(
    dir: &Path,
    depth: usize,
    sources: &mut Vec<PathBuf>,
    ignored: &mut usize,
    skipped: &mut Vec<Skipped>,
) -> Result<(), TlsrptError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            skipped.push(unreadable(dir, &error));
            return Ok(());
        }
    };
    let mut entries: Vec<std::fs::DirEntry> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        if sources.len() > MAX_FILES {
            return Err(TlsrptError::TooManyFiles);
        }
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with('.') {
            continue;
        }
        // The entry itself: a symbolic link is not followed to a directory.
        let Ok(kind) = entry.file_type() else {
            *ignored += 1;
            continue;
        };
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, depth + 1, sources, ignored, skipped)?;
            } else {
                *ignored += 1;
            }
            continue;
        }
        let is_file = kind.is_file() || (kind.is_symlink() && path.is_file());
        let named = [".json", ".gz", ".eml"].iter().any(|e| name.ends_with(e));
        if is_file && (named || starts_with_gzip(&path)) {
            sources.push(path);
        } else {
            *ignored += 1;
        }
    }
    Ok(())
}

fn starts_with_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut magic))
        .is_ok_and(|()| magic == [0x1f, 0x8b])
}

/// The reports in one file, or why there are none.
fn read_source(path: &Path) -> Result<Vec<tlsrpt::TlsReport>, Skipped> {
    let bytes = if path.as_os_str() == "-" {
        read_capped(std::io::stdin().lock()).map_err(|error| Skipped {
            file: "standard input".to_string(),
            ..too_large_or_unreadable(path, error)
        })?
    } else {
        read_file(path)?
    };
    tlsrpt::decode(&bytes).map_err(|error| Skipped {
        file: if path.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            shown(path)
        },
        reason: SkipReason::of(&error),
        message: error.to_string(),
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, Skipped> {
    let metadata = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?;
    if !metadata.is_file() {
        return Err(Skipped {
            file: shown(path),
            reason: SkipReason::NotAFile,
            message: "not a regular file".to_string(),
        });
    }
    if metadata.len() > MAX_FILE {
        return Err(too_large(path));
    }
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, &e))?;
    // The file may have grown since its size was asked.
    read_capped(file).map_err(|error| too_large_or_unreadable(path, error))
}

/// Reads at most [`MAX_FILE`] bytes: `Err(None)` when there are more, `Err(Some(_))` when the
/// read failed.
fn read_capped(reader: impl std::io::Read) -> Result<Vec<u8>, Option<std::io::Error>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(Some)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(None);
    }
    Ok(bytes)
}

fn too_large_or_unreadable(path: &Path, error: Option<std::io::Error>) -> Skipped {
    match error {
        Some(error) => unreadable(path, &error),
        None => too_large(path),
    }
}

fn too_large(path: &Path) -> Skipped {
    Skipped {
        file: shown(path),
        reason: SkipReason::TooLarge,
        message: format!(
            "larger than {} MiB, more than any TLS report; not read",
            MAX_FILE / (1024 * 1024)
        ),
    }
}

fn unreadable(path: &Path, error: &std::io::Error) -> Skipped {
    Skipped {
        file: shown(path),
        reason: SkipReason::Unreadable,
        message: io_words(error),
    }
}

/// An I/O error in words, without Rust's `(os error N)` suffix.
fn io_words(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_lowercase(),
        None => text,
    }
}

/// A path as shown to people: control characters replaced.
fn shown(path: &Path) -> String {
    path.display()
        .to_string()
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}
