//! What an evidence pack says was read: each log file a run read, with the
//! SHA-256 of its bytes exactly as the run read them (hashed in the read
//! pipeline, before inflating, so no second read can differ from what the
//! answers came from). A run that reads a file more than once (statements
//! that could not share one pass) hashes every read; a file whose bytes
//! differed between two reads is marked, as a file changed under the run.
//! The SHA-256 of what the bytes inflate to is kept too: it is what a
//! digest file lists, so the files the run read are checked against their
//! digests without being read again. A file that could not be read, or
//! not whole, is kept with why, so that the pack says so too.
//!
//! Of trailsql it imports `archive`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use sha2::Digest;

use crate::archive::LogFile;

/// The log files read while it is kept (`ReadOptions::ledger`).
#[derive(Debug, Default)]
pub struct Ledger {
    seen: Mutex<BTreeMap<(String, String), Seen>>,
    /// What went wrong with a file: never read (too big, gone), not a
    /// gzip or JSON it should be, records that could not be read.
    problems: Mutex<BTreeMap<(String, String), Problem>>,
    /// Hash what the bytes inflate to as well: only worth its time (about
    /// as long as a scan's gunzip) where digests will be checked.
    content: bool,
}

/// A file the run could not read, or not whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Its size as listed.
    pub size: u64,
    pub why: String,
}

/// One log file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Bytes read (compressed, as stored).
    pub size: u64,
    /// S3's ETag (or size and last-modified time), or a local file's
    /// modification time when it was read.
    pub version: Option<String>,
    /// Of the bytes of its first read.
    pub sha256: String,
    /// Of those bytes inflated (gzip's content), which is what a digest
    /// file lists; None when they did not inflate.
    pub content_sha256: Option<String>,
    pub reads: u64,
    /// A later read gave other bytes than the first.
    pub differed: bool,
}

impl Ledger {
    /// A ledger that hashes each file's bytes and, with `content`, what
    /// they inflate to.
    pub fn new(content: bool) -> Ledger {
        Ledger {
            content,
            ..Ledger::default()
        }
    }

    /// Whether it wants what the bytes inflate to ([`Ledger::inflated`]).
    pub fn wants_content(&self) -> bool {
        self.content
    }

    /// `bytes` were read for `file` of `source` (as the user named it).
    pub fn saw(&self, source: &str, file: &LogFile, bytes: &[u8]) {
        let sha256 = format!("{:x}", sha2::Sha256::digest(bytes));
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let key = (source.to_string(), file.location.clone());
        match seen.get_mut(&key) {
            Some(s) => {
                s.reads += 1;
                s.differed |= s.sha256 != sha256 || s.size != bytes.len() as u64;
            }
            None => {
                let version = file.version.clone().or_else(|| modified(&file.location));
                seen.insert(
                    key,
                    Seen {
                        size: bytes.len() as u64,
                        version,
                        sha256,
                        content_sha256: None,
                        reads: 1,
                        differed: false,
                    },
                );
            }
        }
    }

    /// `content` is what the bytes of a read of `file` inflated to (the
    /// first kept).
    pub fn inflated(&self, source: &str, file: &LogFile, content: &[u8]) {
        if !self.content {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = seen.get_mut(&(source.to_string(), file.location.clone())) {
            if s.content_sha256.is_none() {
                s.content_sha256 = Some(format!("{:x}", sha2::Sha256::digest(content)));
            }
        }
    }

    /// `file` of `source` could not be read, or not whole: `why` (the
    /// first problem of a file is kept).
    pub fn problem(&self, source: &str, file: &LogFile, why: String) {
        let mut problems = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        problems
            .entry((source.to_string(), file.location.clone()))
            .or_insert(Problem {
                size: file.size,
                why,
            });
    }

    /// Every file that had a problem, by (source, location).
    pub fn problems(&self) -> BTreeMap<(String, String), Problem> {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every file read, by (source, location).
    pub fn entries(&self) -> Vec<((String, String), Seen)> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// A local file's modification time, as `modified <RFC 3339>`.
fn modified(location: &str) -> Option<String> {
    let modified = std::fs::metadata(location).ok()?.modified().ok()?;
    let t: chrono::DateTime<chrono::Utc> = modified.into();
    Some(format!("modified {}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(location: &str) -> LogFile {
        LogFile {
            location: location.into(),
            size: 3,
            key: None,
            version: Some("\"etag\"".into()),
        }
    }

    #[test]
    fn a_file_read_twice_is_one_entry_and_other_bytes_are_marked() {
        let ledger = Ledger::new(true);
        ledger.saw("s3://b/p", &file("k1"), b"abc");
        ledger.saw("s3://b/p", &file("k1"), b"abc");
        ledger.saw("s3://b/p", &file("k2"), b"abc");
        let e = ledger.entries();
        assert_eq!(e.len(), 2);
        let first = &e[0].1;
        assert_eq!(
            first.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((first.reads, first.differed), (2, false));
        assert_eq!(first.version.as_deref(), Some("\"etag\""));
        ledger.inflated("s3://b/p", &file("k2"), b"");
        assert_eq!(
            ledger.entries()[1].1.content_sha256.as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        ledger.saw("s3://b/p", &file("k2"), b"abd");
        ledger.problem("s3://b/p", &file("k3"), "too big".into());
        ledger.problem("s3://b/p", &file("k3"), "a later one".into());
        let problems = ledger.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems.values().next().unwrap().why, "too big");
        let e = ledger.entries();
        assert_eq!((e[1].1.reads, e[1].1.differed), (2, true));
        assert_eq!(e[1].1.sha256, first.sha256, "the first read's hash is kept");
        // Without content hashing, none is kept.
        let bytes_only = Ledger::new(false);
        bytes_only.saw("s", &file("k"), b"abc");
        bytes_only.inflated("s", &file("k"), b"");
        assert_eq!(bytes_only.entries()[0].1.content_sha256, None);
    }
}
