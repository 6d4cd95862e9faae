//! Where log files live and which of them a query needs.
//!
//! `layout` reads account, region and delivery date from a CloudTrail key and
//! sorts out what is not a log file; `local` lists a folder (or one file);
//! [`Prune`] decides from a query's limits which log files can hold matching
//! events. The table provider and every command list through here.
//!
//! [`Source`] is the one place that knows whether bytes are on disk or in
//! S3: it lists, reads log files and digests, and (`store`) reads and
//! writes a converted dataset's objects. Code outside this folder asks it
//! and never matches on its variants. It imports only `record` (a file's
//! problem) and `error`.

pub mod layout;
pub mod local;
pub mod local_reads;
pub mod s3;
mod store;

pub(crate) use store::create_dirs_durably;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Days, NaiveDate};

use crate::error::{Error, Result};
use crate::record::FileProblem;

pub use layout::{classify, Classified, KeyInfo};

/// Where an archive is: a local folder (or file), or an S3 bucket and prefix.
#[derive(Debug, Clone)]
pub enum Source {
    Local(PathBuf),
    S3(s3::S3Source),
}

/// How many local files are read at once where the reads are not spread
/// over the blocking pool by chunks (digests, hashing log files).
const LOCAL_READS: usize = 8;

impl Source {
    /// `s3://bucket/prefix`, or a local path, which must exist.
    pub async fn open(location: &str, s3_options: &s3::S3Options) -> Result<Source> {
        let source = Source::at(location, s3_options).await?;
        if let Source::Local(path) = &source {
            std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        }
        Ok(source)
    }

    /// `s3://bucket/prefix`, or a local folder that need not exist yet
    /// (where a dataset is written).
    pub async fn at(location: &str, s3_options: &s3::S3Options) -> Result<Source> {
        if location.starts_with("s3://") {
            return Ok(Source::S3(s3::S3Source::new(location, s3_options).await?));
        }
        Ok(Source::Local(PathBuf::from(location)))
    }

    /// Every object of the archive, sorted into log files and the rest.
    pub async fn list(&self) -> Result<Listing> {
        match self {
            Source::Local(root) => {
                let root = root.clone();
                tokio::task::spawn_blocking(move || local::list(&root))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?
            }
            Source::S3(s3) => s3.list().await,
        }
    }

    /// The log files that can hold events within `prune`'s limits: in S3
    /// only the prefixes of the days and regions it admits are listed; a
    /// local listing is whole (the table prunes it file by file).
    pub async fn list_for(&self, prune: &Prune, late_days: u64) -> Result<Listing> {
        match self {
            Source::S3(s3) => s3.list_for(prune, late_days).await,
            Source::Local(_) => self.list().await,
        }
    }

    /// The local folder, for what only works on local copies.
    pub fn local_path(&self) -> Option<&std::path::Path> {
        match self {
            Source::Local(p) => Some(p),
            Source::S3(_) => None,
        }
    }

    /// The `s3://bucket/prefix/` of an S3 source.
    pub fn s3_url(&self) -> Option<String> {
        match self {
            Source::Local(_) => None,
            Source::S3(s3) => Some(s3.url("")),
        }
    }

    /// The bucket of an S3 source (what a digest's string to sign names).
    pub fn bucket(&self) -> Option<&str> {
        match self {
            Source::Local(_) => None,
            Source::S3(s3) => Some(s3.bucket.as_str()),
        }
    }

    /// The source as a person names it: the path, or `s3://bucket/prefix/`.
    pub fn display(&self) -> String {
        match self {
            Source::Local(p) => p.display().to_string(),
            Source::S3(s3) => s3.url(""),
        }
    }

    /// Where the source really is, for telling whether two overlap: a
    /// local path made absolute with its links resolved (as given, where it
    /// does not exist yet), or the S3 URL.
    pub fn canonical(&self) -> String {
        match self {
            Source::Local(p) => std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string(),
            Source::S3(s3) => s3.url(""),
        }
    }

    /// How many objects are read at once: `--max-concurrency` for S3.
    pub fn concurrency(&self) -> usize {
        match self {
            Source::Local(_) => LOCAL_READS,
            Source::S3(s3) => s3.concurrency(),
        }
    }

    /// The bytes of a run of log files from S3 (at most `--max-concurrency`
    /// GETs at once), or None for a local source, whose files the decoding
    /// task reads itself (see [`read_local`]).
    /// A failure is the source's, not one file's (S3 would not give an
    /// object after retries), and stops the reader.
    /// An object listed as larger than `max_bytes` is not fetched (its bytes
    /// are left empty: the decoder says why).
    pub async fn fetch_run(
        &self,
        files: &[LogFile],
        max_bytes: u64,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        match self {
            Source::Local(_) => Ok(None),
            Source::S3(s3) => futures::future::join_all(files.iter().map(|f| async move {
                if f.size > max_bytes {
                    Ok(Vec::new())
                } else {
                    s3.fetch(f).await
                }
            }))
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        }
    }

    /// One log file's bytes as stored (gzip, mostly), read off the runtime
    /// when local.
    pub async fn fetch(&self, file: &LogFile) -> Result<Vec<u8>, FileProblem> {
        match self {
            Source::Local(_) => read_blocking(file.location.clone()).await,
            Source::S3(s3) => s3.fetch(file).await.map_err(|e| FileProblem(e.to_string())),
        }
    }

    /// An object this source listed (a digest file), with its user metadata
    /// when it is in S3 (where CloudTrail keeps a digest's signature; a copy
    /// on disk has none).
    pub async fn fetch_with_metadata(
        &self,
        location: String,
    ) -> Result<(Vec<u8>, Option<BTreeMap<String, String>>), FileProblem> {
        match self {
            Source::Local(_) => Ok((read_blocking(location).await?, None)),
            Source::S3(s3) => {
                let (bytes, metadata) = s3
                    .get_with_metadata(s3.key_of(&location))
                    .await
                    .map_err(|e| FileProblem(e.to_string()))?;
                Ok((bytes, Some(metadata)))
            }
        }
    }
}

/// A local file's bytes, read in the blocking pool.
async fn read_blocking(location: String) -> Result<Vec<u8>, FileProblem> {
    tokio::task::spawn_blocking(move || read_local(&location))
        .await
        .map_err(|e| FileProblem(e.to_string()))?
}

/// A local file's bytes, read here.
pub fn read_local(location: &str) -> Result<Vec<u8>, FileProblem> {
    std::fs::read(location).map_err(|e| FileProblem(format!("cannot read: {e}")))
}

/// The part of an S3 key or local path from `AWSLogs/` on: the same for an
/// object in the bucket (under any prefix) and its copy on disk.
pub fn tail_key(key: &str) -> &str {
    let key = key.trim_start_matches('/');
    match key.rfind("AWSLogs/") {
        Some(at) if at == 0 || key[..at].ends_with('/') => &key[at..],
        _ => key,
    }
}

/// One log file to read.
#[derive(Debug, Clone)]
pub struct LogFile {
    /// Path (local) or key (object store), as shown to the user and in `log_object`.
    pub location: String,
    pub size: u64,
    /// Account, region and delivery date, when the key follows the trail layout.
    pub key: Option<KeyInfo>,
    /// The object's version as the listing gives it (S3 only): its ETag, or
    /// its size and last-modified time where the listing has no ETag. What
    /// `--cache` checks a kept copy by.
    pub version: Option<String>,
}

/// What a listing found.
#[derive(Debug, Default, Clone)]
pub struct Listing {
    pub logs: Vec<LogFile>,
    /// Objects that are not log files, with why (digest, Insights, Config ...).
    pub skipped: Vec<(String, &'static str)>,
}

/// Limits drawn from a query's WHERE clause. A log file is read unless its key
/// shows it cannot hold a matching event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prune {
    /// Inclusive lower bound on eventtime, ms since the epoch.
    pub from_ms: Option<i64>,
    /// Inclusive upper bound on eventtime, ms since the epoch.
    pub to_ms: Option<i64>,
    pub regions: Option<BTreeSet<String>>,
    pub accounts: Option<BTreeSet<String>>,
    /// The event names the query can match. Log file keys do not say which
    /// events a file holds; a converted dataset's manifest does.
    pub event_names: Option<BTreeSet<String>>,
    /// Limits on the key itself (Athena's partition columns): the regions
    /// and accounts in its folders, and the span of its delivery day,
    /// inclusive. Only a trail archive's keys answer them.
    pub key_regions: Option<BTreeSet<String>>,
    pub key_accounts: Option<BTreeSet<String>>,
    pub key_from_day: Option<NaiveDate>,
    pub key_to_day: Option<NaiveDate>,
}

/// How many days after an event's own day its log file may be delivered and still
/// be found by a time-limited query. CloudTrail delivers within minutes, so an
/// event of day D normally sits under D or D+1; delayed deliveries
/// (`addendum.reason = DELIVERY_DELAY`) can be later, hence the margin.
pub const DEFAULT_LATE_DAYS: u64 = 2;

impl Prune {
    /// Whether the limits say nothing a log file's key can answer.
    pub fn is_empty(&self) -> bool {
        Prune {
            event_names: None,
            ..self.clone()
        } == Prune::default()
    }

    /// Whether a log file with this key can hold an event within the limits.
    /// The delivery date in the key is never before the event's date (less one day
    /// for clock skew around midnight) and at most `late_days` after it.
    pub fn admits(&self, key: &KeyInfo, late_days: u64) -> bool {
        if let Some(regions) = self.key_region_set() {
            if !regions.contains(&key.region) {
                return false;
            }
        }
        if let Some(accounts) = self.key_account_set() {
            if !accounts.contains(&key.account) {
                return false;
            }
        }
        let (first, last) = self.key_days(late_days);
        first.is_none_or(|d| key.date >= d) && last.is_none_or(|d| key.date <= d)
    }

    /// The regions a key may name: what the event's region and the key's
    /// own allow, together.
    pub fn key_region_set(&self) -> Option<BTreeSet<String>> {
        both(&self.regions, &self.key_regions)
    }

    /// The accounts a key may name.
    pub fn key_account_set(&self) -> Option<BTreeSet<String>> {
        both(&self.accounts, &self.key_accounts)
    }

    /// The first and last delivery day a key may name: the event time's
    /// limits (a day earlier for clock skew, `late_days` later for late
    /// delivery) and the key's own, together.
    pub fn key_days(&self, late_days: u64) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let first = self
            .from_ms
            .and_then(day_of)
            .map(|from| from.checked_sub_days(Days::new(1)).unwrap_or(from));
        let last = self
            .to_ms
            .and_then(day_of)
            .map(|to| to.checked_add_days(Days::new(late_days)).unwrap_or(to));
        // None is less than any day: the later of two is their max.
        let earlier = |a: Option<NaiveDate>, b: Option<NaiveDate>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => a.or(b),
        };
        (first.max(self.key_from_day), earlier(last, self.key_to_day))
    }
}

/// The values both limits allow (either alone where one is absent).
fn both(a: &Option<BTreeSet<String>>, b: &Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.intersection(b).cloned().collect()),
        (a, b) => a.clone().or_else(|| b.clone()),
    }
}

fn day_of(ms: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| t.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(date: &str, region: &str) -> KeyInfo {
        KeyInfo {
            org: None,
            account: "111122223333".into(),
            region: region.into(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
        }
    }

    fn ms(date: &str) -> i64 {
        NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn window_is_widened_for_late_delivery() {
        let p = Prune {
            from_ms: Some(ms("2023-10-15")),
            to_ms: Some(ms("2023-10-15") + 86_399_000),
            ..Default::default()
        };
        assert!(!p.admits(&key("2023-10-13", "us-east-1"), 2));
        assert!(p.admits(&key("2023-10-14", "us-east-1"), 2));
        assert!(p.admits(&key("2023-10-16", "us-east-1"), 2));
        assert!(p.admits(&key("2023-10-17", "us-east-1"), 2));
        assert!(!p.admits(&key("2023-10-18", "us-east-1"), 2));
        let r = Prune {
            regions: Some(["eu-west-1".to_string()].into()),
            ..Default::default()
        };
        assert!(!r.admits(&key("2023-10-15", "us-east-1"), 2));
        assert!(r.admits(&key("2023-10-15", "eu-west-1"), 2));
    }
}
