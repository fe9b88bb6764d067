//! The scan's input, streamed: one target per line (a mail domain, an e-mail address or a host
//! name), `#` comments and blank lines skipped; with `--csv`, a CSV row per line whose target
//! column comes first (or is named `target`, `domain`, `email`, `address` or `host` in a header
//! row) and whose `account` column (second, or named `account`, `customer` or `id`) is kept
//! with the result. A line is read at most [`MAX_LINE`] bytes at a time, so a million lines, or
//! one endless one, take constant memory. A line that is not a target is returned as
//! [`Item::Rejected`] with its number and reason, never as an error that stops the scan.

use std::io::BufRead;

use mailtls_core::target::Subject;

/// Longest line read; a longer one is rejected (and skipped to its end).
pub const MAX_LINE: usize = 4096;
/// Longest account value kept.
const MAX_ACCOUNT: usize = 256;

/// One line of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A target to check.
    Target(Line),
    /// A line that is not one, and why.
    Rejected {
        /// Its number, from 1.
        line: u64,
        /// Its text (cut at 200 characters).
        text: String,
        /// Why it was not taken.
        reason: String,
    },
}

/// A target line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its number, from 1.
    pub line: u64,
    /// What to check.
    pub subject: Subject,
    /// The target, normalised: the key duplicates are merged by and shards are chosen by.
    pub key: String,
    /// The account column (CSV), when present and not empty.
    pub account: Option<String>,
    /// The target as the list writes it (what a work queue keeps, to parse again).
    pub text: String,
}

impl Line {
    /// A line taken back from a work queue: its number, its target as written and its account;
    /// `None` when the text is not a target (a row not written by mailtls).
    pub fn queued(line: u64, text: String, account: Option<String>) -> Option<Line> {
        let subject = Subject::parse(&text).ok()?;
        Some(Line {
            line,
            key: subject.to_string(),
            subject,
            account,
            text,
        })
    }
}

/// Why the input itself cannot be read (as opposed to a bad line).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the input at line {line}: {source}")]
pub struct InputError {
    /// The line being read.
    pub line: u64,
    /// The reading error.
    pub source: std::io::Error,
}

/// Which CSV columns hold what.
#[derive(Debug, Clone, Copy)]
struct Columns {
    target: usize,
    account: Option<usize>,
}

/// The lines of `reader`, parsed one at a time.
pub struct Input<R> {
    reader: R,
    csv: bool,
    /// Decided at the first row: where the columns are.
    columns: Option<Columns>,
    line: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> Input<R> {
    /// Targets one per line.
    pub fn lines(reader: R) -> Input<R> {
        Input {
            reader,
            csv: false,
            columns: None,
            line: 0,
            buffer: Vec::new(),
        }
    }

    /// CSV rows, one per line, the target column first (or named in a header row).
    pub fn csv(reader: R) -> Input<R> {
        Input {
            csv: true,
            ..Input::lines(reader)
        }
    }

    /// The next target or rejected line; `None` at the end.
    pub fn next_item(&mut self) -> Result<Option<Item>, InputError> {
        loop {
            let Some(complete) = self.read_line()? else {
                return Ok(None);
            };
            let line = self.line;
            if !complete {
                return Ok(Some(Item::Rejected {
                    line,
                    text: cut(&String::from_utf8_lossy(&self.buffer)),
                    reason: format!("longer than {MAX_LINE} bytes"),
                }));
            }
            let Ok(text) = std::str::from_utf8(&self.buffer) else {
                return Ok(Some(Item::Rejected {
                    line,
                    text: cut(&String::from_utf8_lossy(&self.buffer)),
                    reason: "not UTF-8 text".to_string(),
                }));
            };
            let text = text.trim().to_string();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let (target, account) = if self.csv {
                match self.csv_fields(&text) {
                    Ok(None) => continue,
                    Ok(Some(fields)) => fields,
                    Err(reason) => {
                        return Ok(Some(Item::Rejected {
                            line,
                            text: cut(&text),
                            reason,
                        }));
                    }
                }
            } else {
                (text.clone(), None)
            };
            return Ok(Some(match Subject::parse(&target) {
                Ok(subject) => Item::Target(Line {
                    line,
                    key: subject.to_string(),
                    subject,
                    account,
                    text: target,
                }),
                Err(error) => Item::Rejected {
                    line,
                    text: cut(&text),
                    reason: error.to_string(),
                },
            }));
        }
    }

    /// Reads the next line into `buffer` (without its line ending), at most [`MAX_LINE`]
    /// bytes; `Ok(Some(false))` for a longer line (the rest is skipped), `Ok(None)` at the end.
    fn read_line(&mut self) -> Result<Option<bool>, InputError> {
        self.buffer.clear();
        self.line += 1;
        let line = self.line;
        let error = |source| InputError { line, source };
        let mut complete = true;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(error(e)),
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let (chunk, used, ended) = match available.iter().position(|&b| b == b'\n') {
                Some(end) => (&available[..end], end + 1, true),
                None => (available, available.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buffer.len());
            if chunk.len() > room {
                complete = false;
                self.buffer.extend_from_slice(&chunk[..room]);
            } else {
                self.buffer.extend_from_slice(chunk);
            }
            self.reader.consume(used);
            if ended {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        Ok(Some(complete))
    }

    /// The target and account of a CSV row; `Ok(None)` for a header row.
    fn csv_fields(&mut self, text: &str) -> Result<Option<(String, Option<String>)>, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let record = match reader.records().next() {
            Some(Ok(record)) => record,
            Some(Err(error)) => return Err(format!("not a CSV row: {error}")),
            None => return Err("an empty CSV row".to_string()),
        };
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        let columns = match self.columns {
            Some(columns) => columns,
            None => {
                let named = |names: &[&str]| {
                    fields
                        .iter()
                        .position(|f| names.iter().any(|n| f.eq_ignore_ascii_case(n)))
                };
                let target = named(&["target", "domain", "email", "address", "host"]);
                let columns = match target {
                    // A header row: remember where the columns are, and take no target from it.
                    Some(target) => Columns {
                        target,
                        account: named(&["account", "customer", "id"]),
                    },
                    None => Columns {
                        target: 0,
                        account: (fields.len() > 1).then_some(1),
                    },
                };
                self.columns = Some(columns);
                if target.is_some() {
                    return Ok(None);
                }
                columns
            }
        };
        let target = fields
            .get(columns.target)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| format!("no target in column {}", columns.target + 1))?;
        let account = columns
            .account
            .and_then(|i| fields.get(i))
            .filter(|a| !a.is_empty())
            .map(|a| a.chars().take(MAX_ACCOUNT).collect());
        Ok(Some((target.to_string(), account)))
    }
}

/// At most 200 characters of a line, for messages.
fn cut(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &[u8], csv: bool) -> Vec<Item> {
        let mut input = if csv {
            Input::csv(text)
        } else {
            Input::lines(text)
        };
        let mut out = Vec::new();
        while let Some(item) = input.next_item().expect("reading a slice cannot fail") {
            out.push(item);
        }
        out
    }

    fn keys(items: &[Item]) -> Vec<(u64, String)> {
        items
            .iter()
            .map(|item| match item {
                Item::Target(line) => (line.line, line.key.clone()),
                Item::Rejected { line, reason, .. } => (*line, format!("rejected: {reason}")),
            })
            .collect()
    }

    #[test]
    fn comments_blank_lines_and_bad_lines() {
        let got = items(
            b"# customers\n\nExample.COM\r\n  jane@Example.org  \nnot a name!\na@b@c\n192.0.2.7\n",
            false,
        );
        let got = keys(&got);
        assert_eq!(got[0], (3, "example.com".to_string()));
        assert_eq!(got[1], (4, "jane@example.org".to_string()));
        assert_eq!(got[2].0, 5);
        assert!(got[2].1.starts_with("rejected: "), "{got:?}");
        assert!(got[3].1.contains("exactly one @"), "{got:?}");
        assert_eq!(got[4], (7, "192.0.2.7".to_string()));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn an_endless_line_is_rejected_and_the_next_one_read() {
        let mut text = vec![b'a'; MAX_LINE * 3];
        text.extend_from_slice(b"\nexample.net\n");
        let got = keys(&items(&text, false));
        assert_eq!(got[0].1, format!("rejected: longer than {MAX_LINE} bytes"));
        assert_eq!(got[1], (2, "example.net".to_string()));
    }

    #[test]
    fn binary_is_rejected_not_fatal() {
        let got = keys(&items(b"\xff\xfe\x00\nexample.net", false));
        assert_eq!(got[0].1, "rejected: not UTF-8 text");
        assert_eq!(got[1], (2, "example.net".to_string()));
    }

    #[test]
    fn csv_with_and_without_a_header() {
        let got = items(
            b"account,email\n42,jane@example.org\n\"43\",\"bob@example.net\"\n",
            true,
        );
        let Item::Target(first) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!((first.line, first.key.as_str()), (2, "jane@example.org"));
        assert_eq!(first.account.as_deref(), Some("42"));
        assert_eq!(got.len(), 2);
        let got = items(b"example.com,cust-1\nexample.org\n", true);
        let Item::Target(first) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(first.account.as_deref(), Some("cust-1"));
        let Item::Target(second) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(second.account, None);
    }
}
