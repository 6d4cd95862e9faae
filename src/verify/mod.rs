//! `trailsql verify`: log-file integrity validation over a local copy of a
//! trail, as `aws cloudtrail validate-logs` does online.
//!
//! Every hour CloudTrail writes, per region, a digest file that lists the
//! SHA-256 of each log file it delivered and carries the previous digest's
//! hash and signature. A digest's own signature is kept in S3 object metadata,
//! which a copy on disk has lost; but the next digest holds it, so every
//! digest except the newest of each chain can be checked offline. The
//! signature is SHA256withRSA (RSASSA-PKCS1-v1_5) over four lines: the
//! digest's end time, `bucket/key`, the hex SHA-256 of the digest's
//! uncompressed bytes, and the previous digest's signature (or `null`).
//!
//! It reads through `archive` (listing, fetching) and `read` (gunzip); the
//! keys, hashes and string to sign are [`crypto`]'s. `cli` prints its
//! report and `table::integrity` serves it as a table.
//!
//! Of trailsql it imports `archive`, `error`, `read`, `record`, `window`.

pub mod crypto;
mod judge;

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

pub use crypto::{data_to_sign, hex, load_keys, sha256_hex, PublicKeys, PUBLIC_KEYS_FILE};

use crate::archive::{self, tail_key, Listing, LogFile, Source};
use crate::error::Result;
use crate::read::maybe_gunzip;
use crate::record::FileProblem;
use crate::window::Window;
use judge::judge;

/// The fields of a digest file that validation reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestBody {
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    pub previous_digest_s3_object: Option<String>,
    pub previous_digest_hash_value: Option<String>,
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<ListedLog>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedLog {
    pub s3_object: String,
    pub hash_value: String,
}

/// A digest file's name: `<acct>_CloudTrail-Digest_<region>_<trail>_<home
/// region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz`. The trail name may hold
/// underscores, so it is what is left between the two ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DigestName {
    pub account: String,
    pub region: String,
    pub trail: String,
    pub home_region: String,
    pub end: String,
    pub backfill: bool,
}

pub fn parse_digest_name(path: &str) -> Option<DigestName> {
    let name = path.rsplit('/').next()?;
    let stem = name
        .strip_suffix(".json.gz")
        .or_else(|| name.strip_suffix(".json"))?;
    let (stem, backfill) = match stem.strip_suffix("_backfill") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let (rest, end) = stem.rsplit_once('_')?;
    let (rest, home_region) = rest.rsplit_once('_')?;
    let (account, rest) = rest.split_once("_CloudTrail-Digest_")?;
    let (region, trail) = rest.split_once('_')?;
    let ok = end.len() == 16 && compact_time(end).is_some() && !trail.is_empty();
    ok.then(|| DigestName {
        account: account.to_string(),
        region: region.to_string(),
        trail: trail.to_string(),
        home_region: home_region.to_string(),
        end: end.to_string(),
        backfill,
    })
}

/// What was found for one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Hash (and, for a digest, signature) as the chain says.
    Valid,
    /// The newest digest of a chain: its hash cannot be checked against a
    /// later digest and its signature is in S3 metadata, lost in a copy.
    Unverifiable,
    /// Delivered after the newest digest: no digest could list it yet.
    NotYetCovered,
    Modified,
    Missing,
    NotCovered,
    BadSignature,
    NoKey,
    Unreadable,
    /// Hours with no digest between two that have one.
    Gap,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Unverifiable => "unverifiable offline",
            State::NotYetCovered => "not yet covered",
            State::Modified => "modified",
            State::Missing => "missing",
            State::NotCovered => "not covered",
            State::BadSignature => "bad signature",
            State::NoKey => "no public key",
            State::Unreadable => "unreadable",
            State::Gap => "gap",
        }
    }

    /// Whether this state fails validation.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            State::Valid | State::Unverifiable | State::NotYetCovered
        )
    }
}

/// What a finding is about. In the order reports list them (by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The link from a digest back to the one before it.
    Chain,
    /// A digest file.
    Digest,
    /// A log file.
    Log,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Chain => "chain",
            Kind::Digest => "digest",
            Kind::Log => "log",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    /// The file (local path; for a missing file, its S3 key).
    pub file: String,
    pub state: State,
    /// The digest that lists this log file, or that the finding is about.
    pub digest: Option<String>,
    pub detail: String,
}

/// The whole result.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Digest files the listing found, and those of them in the window.
    pub digests_listed: usize,
    pub digests_in_window: usize,
}

impl Report {
    pub fn counts(&self) -> BTreeMap<(Kind, State), usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry((f.kind, f.state)).or_insert(0) += 1;
        }
        m
    }

    pub fn ok(&self) -> bool {
        !self.findings.iter().any(|f| f.state.is_problem())
    }

    /// Each digest file's own state, by its location (what a log file's
    /// `digest` names).
    pub fn digest_states(&self) -> HashMap<&str, State> {
        self.findings
            .iter()
            .filter(|f| f.kind == Kind::Digest && f.digest.is_none())
            .map(|f| (f.file.as_str(), f.state))
            .collect()
    }
}

struct Digest {
    location: String,
    name: DigestName,
    /// Uncompressed bytes' SHA-256, hex.
    sha256: String,
    body: DigestBody,
    /// The object's user metadata, when the source keeps it (S3): where
    /// CloudTrail puts the digest's `signature` and `signature-algorithm`.
    metadata: Option<BTreeMap<String, String>>,
}

fn in_window(window: &Window, time: &str) -> bool {
    match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(t) => {
            let ms = t.timestamp_millis();
            ms >= window.since_ms && ms < window.until_ms
        }
        Err(_) => true,
    }
}

/// A compact UTC time from a file name as RFC 3339: `20251020T150000Z` (a
/// digest's end) or `20251020T1505Z` (a log file's delivery, no seconds).
fn compact_time(stamp: &str) -> Option<String> {
    let digits = |r: std::ops::Range<usize>| {
        stamp
            .get(r)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    if stamp.get(8..9) != Some("T") || !stamp.ends_with('Z') {
        return None;
    }
    let seconds = match stamp.len() {
        16 => digits(13..15)?,
        14 => "00",
        _ => return None,
    };
    Some(format!(
        "{}-{}-{}T{}:{}:{seconds}Z",
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?
    ))
}

/// The delivery time in a log file's name, as RFC 3339.
fn log_delivery_time(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    compact_time(name.split('_').nth(3)?)
}

/// The window whose digests cover log files delivered at the times in
/// their names: from the first delivery to an hour after the last (a
/// digest ends within the hour after the files it lists). None when no
/// location has a trail log file's name.
pub fn delivery_window<'a>(locations: impl Iterator<Item = &'a str>) -> Option<Window> {
    let times: Vec<i64> = locations
        .filter_map(log_delivery_time)
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis())
        .collect();
    let (first, last) = (times.iter().min()?, times.iter().max()?);
    Some(Window {
        since_ms: *first,
        until_ms: last + 2 * 3_600_000,
    })
}

/// Read `items` with `read`, `n` at a time, keeping their order.
async fn read_all<T, R, F, Fut>(items: Vec<T>, n: usize, read: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    use futures::StreamExt;
    futures::stream::iter(items)
        .map(read)
        .buffered(n.max(1))
        .collect()
        .await
}

/// What one file gave: its content, or why it could not be read.
type Read<T> = std::result::Result<T, FileProblem>;

/// A digest's uncompressed bytes and, from S3, the object's user metadata.
async fn read_digest(
    source: &Source,
    location: String,
) -> Read<(Vec<u8>, Option<BTreeMap<String, String>>)> {
    let (bytes, metadata) = source.fetch_with_metadata(location).await?;
    // A digest file is a few KB: a MiB is far more than any holds.
    Ok((maybe_gunzip(bytes, 1 << 20)?, metadata))
}

/// The SHA-256 (hex) of a log file's uncompressed bytes; a file listed as,
/// or inflating to, more than `max_bytes` is not read whole.
async fn hash_log(source: &Source, file: LogFile, max_bytes: u64) -> Read<String> {
    if file.size > max_bytes {
        return Err(crate::read::too_big(max_bytes));
    }
    let bytes = source.fetch(&file).await?;
    tokio::task::spawn_blocking(move || maybe_gunzip(bytes, max_bytes).map(|b| sha256_hex(&b)))
        .await
        .map_err(|e| FileProblem(e.to_string()))?
}

/// Validate the archive `source` (a local copy, or a bucket and prefix).
pub async fn verify(
    source: &Source,
    keys: &PublicKeys,
    window: &Window,
    max_file_bytes: u64,
) -> Result<Report> {
    verify_knowing(source, keys, window, max_file_bytes, None).await
}

/// [`verify`] of the log files a run read, by the SHA-256 of their content
/// as it read them (`read::Ledger`), given in `known` by location: no log
/// file is read here, only the digests. A listed file not in `known` is
/// judged `unreadable` (not read). None: every listed file is read and
/// hashed, as [`verify`] does.
pub async fn verify_knowing(
    source: &Source,
    keys: &PublicKeys,
    window: &Window,
    max_file_bytes: u64,
    known: Option<&HashMap<String, String>>,
) -> Result<Report> {
    let listing: Listing = source.list().await?;
    let reads = source.concurrency();
    let bucket = source.bucket();
    let mut report = Report::default();
    // The digests whose end is within the window, read and grouped into
    // chains (account, region, trail, home region, backfill or not).
    let listed: Vec<(String, DigestName)> = listing
        .skipped
        .iter()
        .filter(|(_, reason)| *reason == archive::layout::DIGEST_FILE)
        .filter_map(|(location, _)| Some((location.clone(), parse_digest_name(location)?)))
        .collect();
    report.digests_listed = listed.len();
    let wanted: Vec<(String, DigestName)> = listed
        .into_iter()
        .filter(|(_, name)| compact_time(&name.end).is_none_or(|t| in_window(window, &t)))
        .collect();
    report.digests_in_window = wanted.len();
    let read = read_all(
        wanted.iter().map(|(l, _)| l.clone()).collect(),
        reads,
        |location| read_digest(source, location),
    )
    .await;
    let mut chains: BTreeMap<(String, String, String, String, bool), Vec<Digest>> = BTreeMap::new();
    for ((location, name), got) in wanted.into_iter().zip(read) {
        let unreadable = |why: String| Finding {
            kind: Kind::Digest,
            file: location.clone(),
            state: State::Unreadable,
            digest: None,
            detail: why,
        };
        let (bytes, metadata) = match got {
            Ok(got) => got,
            Err(e) => {
                report.findings.push(unreadable(e.0));
                continue;
            }
        };
        let body: DigestBody = match serde_json::from_slice(&bytes) {
            Ok(b) => b,
            Err(e) => {
                report
                    .findings
                    .push(unreadable(format!("not a digest file: {e}")));
                continue;
            }
        };
        let key = (
            name.account.clone(),
            name.region.clone(),
            name.trail.clone(),
            name.home_region.clone(),
            name.backfill,
        );
        chains.entry(key).or_default().push(Digest {
            location,
            sha256: sha256_hex(&bytes),
            name,
            body,
            metadata,
        });
    }
    for digests in chains.values_mut() {
        digests.sort_by(|a, b| a.name.end.cmp(&b.name.end));
    }
    // Log files by their key from AWSLogs/ on; the hash of each one a digest
    // lists.
    let logs: HashMap<&str, &LogFile> = listing
        .logs
        .iter()
        .filter(|l| l.key.is_some())
        .map(|l| (tail_key(&l.location), l))
        .collect();
    let to_hash: Vec<LogFile> = chains
        .values()
        .flatten()
        .flat_map(|d| &d.body.log_files)
        .filter_map(|l| logs.get(tail_key(&l.s3_object)))
        .filter(|_| known.is_none())
        .map(|f| (f.location.as_str(), *f))
        .collect::<BTreeMap<_, _>>()
        .into_values()
        .cloned()
        .collect();
    let locations: Vec<String> = to_hash.iter().map(|f| f.location.clone()).collect();
    let hashed = read_all(to_hash, reads, |file| {
        hash_log(source, file, max_file_bytes)
    })
    .await;
    let mut hashes: HashMap<String, Read<String>> = locations.into_iter().zip(hashed).collect();
    for (location, sha256) in known.into_iter().flatten() {
        hashes.insert(location.clone(), Ok(sha256.clone()));
    }
    judge(
        &listing,
        &chains,
        &hashes,
        bucket,
        keys,
        window,
        &mut report,
    );
    report
        .findings
        .sort_by(|a, b| (a.kind, &a.file).cmp(&(b.kind, &b.file)));
    Ok(report)
}

/// The report as rows: one per finding (kind, file, state, digest,
/// detail), for `--format csv|json`.
pub fn as_table(report: &Report) -> Result<datafusion::arrow::array::RecordBatch> {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("state", DataType::Utf8, false),
        Field::new("digest", DataType::Utf8, true),
        Field::new("detail", DataType::Utf8, false),
    ]));
    let f = &report.findings;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.kind.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.file.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.state.as_str()),
        )),
        Arc::new(StringArray::from_iter(
            f.iter().map(|x| x.digest.as_deref()),
        )),
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.detail.as_str()),
        )),
    ];
    Ok(RecordBatch::try_new(schema, columns).map_err(datafusion::error::DataFusionError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_names_with_underscores_in_the_trail() {
        let n = parse_digest_name(
            "x/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-1_20150817T150131Z.json.gz",
        )
        .unwrap();
        assert_eq!(n.region, "us-east-2");
        assert_eq!(n.trail, "my_trail");
        assert_eq!(n.home_region, "us-east-1");
        assert_eq!(n.end, "20150817T150131Z");
        assert!(!n.backfill);
        assert!(
            parse_digest_name("a_CloudTrail-Digest_r_t_h_20150817T150131Z_backfill.json.gz")
                .unwrap()
                .backfill
        );
        assert_eq!(parse_digest_name("notes.json"), None);
        assert_eq!(
            compact_time("20150817T150131Z").as_deref(),
            Some("2015-08-17T15:01:31Z")
        );
        assert_eq!(
            compact_time("20150817T1501Z").as_deref(),
            Some("2015-08-17T15:01:00Z")
        );
        assert_eq!(compact_time("2015081XT1501Z"), None);
    }

    #[test]
    fn keys_from_list_public_keys_and_their_fingerprints() {
        // The AWS CLI documentation's example key: PKCS#1, and its
        // fingerprint is the MD5 of the DER bytes.
        let doc = r#"{"PublicKeyList":[{"ValidityStartTime":1453076702.0,"ValidityEndTime":1455668702.0,
            "Value":"MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB",
            "Fingerprint":"7f3f401420072e50a65a141430817ab3"}]}"#;
        let keys = PublicKeys::from_json(doc, "keys.json").unwrap();
        assert_eq!(keys.len(), 1);
        let wrong = doc.replace("7f3f4014", "00000000");
        let err = PublicKeys::from_json(&wrong, "keys.json").unwrap_err();
        assert!(
            err.to_string().contains("is not the MD5 of its Value"),
            "{err}"
        );
    }

    #[test]
    fn the_signed_string() {
        assert_eq!(
            data_to_sign("2015-08-17T15:01:31Z", "b", "AWSLogs/k.json.gz", "ab", None),
            "2015-08-17T15:01:31Z\nb/AWSLogs/k.json.gz\nab\nnull"
        );
        assert_eq!(tail_key("prefix/AWSLogs/1/x"), "AWSLogs/1/x");
        assert_eq!(tail_key("/tmp/copy/AWSLogs/1/x"), "AWSLogs/1/x");
        assert_eq!(tail_key("notAWSLogs/1/x"), "notAWSLogs/1/x");
    }
}
