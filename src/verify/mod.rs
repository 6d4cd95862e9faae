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

pub mod crypto;

use std::collections::{BTreeMap, HashMap};

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde::Deserialize;
use sha2::Sha256;

pub use crypto::{data_to_sign, hex, load_keys, sha256_hex, PublicKeys, PUBLIC_KEYS_FILE};

use crate::archive::{self, tail_key, Listing, LogFile, Source};
use crate::error::Result;
use crate::read::maybe_gunzip;
use crate::window::Window;
use crypto::unhex;

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

fn verify_signature(
    keys: &PublicKeys,
    digest: &Digest,
    signature_hex: &str,
) -> std::result::Result<(), (State, String)> {
    let fp = digest
        .body
        .digest_public_key_fingerprint
        .to_ascii_lowercase();
    let Some(key) = keys.get(&fp) else {
        return Err((
            State::NoKey,
            format!("no key with fingerprint {fp} in the public keys given"),
        ));
    };
    let bad = |why: &str| (State::BadSignature, why.to_string());
    let sig_bytes = unhex(signature_hex).ok_or_else(|| bad("the signature is not hex"))?;
    let signature =
        Signature::try_from(sig_bytes.as_slice()).map_err(|_| bad("the signature is malformed"))?;
    let data = data_to_sign(
        &digest.body.digest_end_time,
        &digest.body.digest_s3_bucket,
        &digest.body.digest_s3_object,
        &digest.sha256,
        digest.body.previous_digest_signature.as_deref(),
    );
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(data.as_bytes(), &signature)
        .map_err(|_| {
            bad(&format!(
                "SHA256withRSA signature does not verify with key {fp}"
            ))
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

/// A digest's uncompressed bytes and, from S3, the object's user metadata.
async fn read_digest(
    source: &Source,
    location: String,
) -> std::result::Result<(Vec<u8>, Option<BTreeMap<String, String>>), String> {
    let (bytes, metadata) = source
        .fetch_with_metadata(location)
        .await
        .map_err(|e| e.0)?;
    Ok((maybe_gunzip(bytes).map_err(|e| e.0)?, metadata))
}

/// The SHA-256 (hex) of a log file's uncompressed bytes.
async fn hash_log(source: &Source, file: LogFile) -> std::result::Result<String, String> {
    let bytes = source.fetch(&file).await.map_err(|e| e.0)?;
    tokio::task::spawn_blocking(move || maybe_gunzip(bytes).map(|b| sha256_hex(&b)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.0)
}

/// Validate the archive `source` (a local copy, or a bucket and prefix).
pub async fn verify(source: &Source, keys: &PublicKeys, window: &Window) -> Result<Report> {
    let listing: Listing = source.list().await?;
    let reads = source.concurrency();
    let bucket = source.bucket();
    let mut report = Report::default();
    // The digests whose end is within the window, read and grouped into
    // chains (account, region, trail, home region, backfill or not).
    let wanted: Vec<(String, DigestName)> = listing
        .skipped
        .iter()
        .filter(|(_, reason)| *reason == archive::layout::DIGEST_FILE)
        .filter_map(|(location, _)| Some((location.clone(), parse_digest_name(location)?)))
        .filter(|(_, name)| compact_time(&name.end).is_none_or(|t| in_window(window, &t)))
        .collect();
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
                report.findings.push(unreadable(e));
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
        .map(|f| (f.location.as_str(), *f))
        .collect::<BTreeMap<_, _>>()
        .into_values()
        .cloned()
        .collect();
    let locations: Vec<String> = to_hash.iter().map(|f| f.location.clone()).collect();
    let hashed = read_all(to_hash, reads, |file| hash_log(source, file)).await;
    let hashes: HashMap<String, std::result::Result<String, String>> =
        locations.into_iter().zip(hashed).collect();
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

/// Check one digest's signature. From S3 the signature is the one in the
/// object's metadata, as CloudTrail wrote it; from a copy it is the one the
/// next digest recorded, and the newest digest has none.
fn judge_digest(
    d: &Digest,
    next: Option<&Digest>,
    newest: bool,
    keys: &PublicKeys,
) -> (State, String) {
    if let Some(next) = next {
        if next.body.previous_digest_hash_value.as_deref() != Some(d.sha256.as_str()) {
            return (
                State::Modified,
                format!(
                    "SHA-256 is {}, the next digest recorded {}",
                    d.sha256,
                    next.body
                        .previous_digest_hash_value
                        .as_deref()
                        .unwrap_or("none")
                ),
            );
        }
    }
    let recorded = next.and_then(|n| n.body.previous_digest_signature.as_deref());
    match &d.metadata {
        Some(metadata) => {
            let Some(signature) = metadata.get("signature") else {
                return (
                    State::BadSignature,
                    "no signature in the object's metadata (x-amz-meta-signature): \
                     CloudTrail writes one on every digest"
                        .into(),
                );
            };
            if let Some(algorithm) = metadata.get("signature-algorithm") {
                if !algorithm.eq_ignore_ascii_case("SHA256withRSA") {
                    return (
                        State::BadSignature,
                        format!("signature algorithm {algorithm:?}, not SHA256withRSA"),
                    );
                }
            }
            if let Err(why) = verify_signature(keys, d, signature) {
                return why;
            }
            match recorded {
                Some(r) if !r.eq_ignore_ascii_case(signature) => (
                    State::BadSignature,
                    "the signature in its metadata verifies, but the next digest recorded \
                     another one"
                        .into(),
                ),
                _ => (
                    State::Valid,
                    "signature (from the object's metadata) verified".into(),
                ),
            }
        }
        None => match recorded {
            Some(signature) => match verify_signature(keys, d, signature) {
                Ok(()) => (State::Valid, "hash and signature verified".into()),
                Err(why) => why,
            },
            None if next.is_some() => (
                State::BadSignature,
                "the next digest recorded no signature for it".into(),
            ),
            None if newest => (
                State::Unverifiable,
                "newest digest of its chain: its signature is kept in the S3 object's \
                 metadata, which a local copy does not have, and no later digest holds \
                 its hash; the log files it lists are checked against it as it is"
                    .into(),
            ),
            None => (
                State::Unverifiable,
                "no later digest names it as its previous, so nothing holds its hash \
                 or signature (see the chain findings)"
                    .into(),
            ),
        },
    }
}

/// The findings for the digests read (`chains`, each oldest first) and the
/// log files (`hashes`: the SHA-256 of every listed log file present).
fn judge(
    listing: &Listing,
    chains: &BTreeMap<(String, String, String, String, bool), Vec<Digest>>,
    hashes: &HashMap<String, std::result::Result<String, String>>,
    bucket: Option<&str>,
    keys: &PublicKeys,
    window: &Window,
    report: &mut Report,
) {
    let logs: HashMap<&str, &str> = listing
        .logs
        .iter()
        .filter(|l| l.key.is_some())
        .map(|l| (tail_key(&l.location), l.location.as_str()))
        .collect();
    // Each listed log file's key, with the digest that lists it.
    let mut listed: HashMap<String, String> = HashMap::new();
    // Newest digest end per (account, region), for "not yet covered".
    let mut newest_end: HashMap<(String, String), String> = HashMap::new();
    for digests in chains.values() {
        let chain = Chain::new(digests);
        for (i, d) in digests.iter().enumerate() {
            let entry = newest_end
                .entry((d.name.account.clone(), d.name.region.clone()))
                .or_default();
            if d.body.digest_end_time > *entry {
                *entry = d.body.digest_end_time.clone();
            }
            report.findings.push(chain.judge(i, bucket, keys));
            report.findings.extend(chain.link(i));
            for log in &d.body.log_files {
                let key = tail_key(&log.s3_object).to_string();
                listed.insert(key.clone(), d.location.clone());
                report
                    .findings
                    .push(judge_listed(d, log, &key, &logs, hashes));
            }
        }
    }
    judge_unlisted(listing, &listed, &newest_end, window, report);
}

/// One chain of digests, oldest first, with where each sits in it.
struct Chain<'d> {
    digests: &'d [Digest],
    /// Position by key.
    by_key: HashMap<&'d str, usize>,
    /// Which digest names each one as its previous (and so holds its hash
    /// and signature).
    named_by: HashMap<&'d str, usize>,
}

impl<'d> Chain<'d> {
    fn new(digests: &'d [Digest]) -> Chain<'d> {
        let by_key = digests
            .iter()
            .enumerate()
            .map(|(i, d)| (tail_key(&d.location), i))
            .collect();
        let named_by = digests
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((tail_key(d.body.previous_digest_s3_object.as_deref()?), i)))
            .collect();
        Chain {
            digests,
            by_key,
            named_by,
        }
    }

    /// The finding for digest `i` itself: where it says it is, its hash
    /// and its signature.
    fn judge(&self, i: usize, bucket: Option<&str>, keys: &PublicKeys) -> Finding {
        let d = &self.digests[i];
        let (state, detail) = if tail_key(&d.body.digest_s3_object) != tail_key(&d.location) {
            (
                State::Modified,
                format!(
                    "says it is {} but is stored as {}: moved or renamed",
                    d.body.digest_s3_object,
                    tail_key(&d.location)
                ),
            )
        } else if let Some(b) = bucket.filter(|b| *b != d.body.digest_s3_bucket) {
            (
                State::Modified,
                format!(
                    "says it is in bucket {} but is stored in {b}: moved or copied",
                    d.body.digest_s3_bucket
                ),
            )
        } else {
            let next = self
                .named_by
                .get(tail_key(&d.location))
                .map(|&n| &self.digests[n]);
            let newest = i + 1 == self.digests.len();
            judge_digest(d, next, newest, keys)
        };
        Finding {
            kind: Kind::Digest,
            file: d.location.clone(),
            state,
            digest: None,
            detail,
        }
    }

    /// The finding for the link from digest `i` back to the one before it,
    /// when it is not as it should be.
    fn link(&self, i: usize) -> Option<Finding> {
        let d = &self.digests[i];
        let gap = |detail: String| Finding {
            kind: Kind::Chain,
            file: d.location.clone(),
            state: State::Gap,
            digest: Some(d.location.clone()),
            detail,
        };
        let Some(prev) = d.body.previous_digest_s3_object.as_deref() else {
            if i == 0 {
                return None;
            }
            let before = &self.digests[i - 1];
            return Some(gap(format!(
                "the chain starts again: no digest between {} and {} \
                 (logging or validation was off, or digests were removed)",
                before.body.digest_end_time, d.body.digest_start_time
            )));
        };
        match self.by_key.get(tail_key(prev)) {
            Some(&j) if i > 0 && j == i - 1 => {
                let before = &self.digests[j];
                (before.body.digest_end_time != d.body.digest_start_time).then(|| {
                    gap(format!(
                        "no digest covers {} to {}",
                        before.body.digest_end_time, d.body.digest_start_time
                    ))
                })
            }
            Some(&j) => {
                let skipped: Vec<&str> = self.digests[j + 1..i]
                    .iter()
                    .map(|s| tail_key(&s.location))
                    .collect();
                Some(gap(format!(
                    "points back to {} and skips {} digest(s) between ({}): \
                     a chain that skips a digest",
                    tail_key(prev),
                    skipped.len(),
                    skipped.join(", ")
                )))
            }
            // The copy (or the window) starts here; the previous digest is
            // before it.
            None if i == 0 => None,
            None => Some(Finding {
                kind: Kind::Digest,
                file: tail_key(prev).to_string(),
                state: State::Missing,
                digest: Some(d.location.clone()),
                detail: format!(
                    "named as previous by {}, not in the archive: no digest \
                     covers {} to {}",
                    tail_key(&d.location),
                    self.digests[i - 1].body.digest_end_time,
                    d.body.digest_start_time
                ),
            }),
        }
    }
}

/// The finding for a log file digest `d` lists (as `key`): missing, or its
/// hash against the one recorded.
fn judge_listed(
    d: &Digest,
    log: &ListedLog,
    key: &str,
    logs: &HashMap<&str, &str>,
    hashes: &HashMap<String, std::result::Result<String, String>>,
) -> Finding {
    let Some(location) = logs.get(key) else {
        return Finding {
            kind: Kind::Log,
            file: key.to_string(),
            state: State::Missing,
            digest: Some(d.location.clone()),
            detail: "listed in the digest, not in the archive".into(),
        };
    };
    let (state, detail) = match hashes.get(*location) {
        Some(Ok(actual)) if actual.eq_ignore_ascii_case(&log.hash_value) => {
            (State::Valid, "SHA-256 matches the digest".to_string())
        }
        Some(Ok(actual)) => (
            State::Modified,
            format!(
                "SHA-256 is {actual}, the digest recorded {}",
                log.hash_value
            ),
        ),
        Some(Err(e)) => (State::Unreadable, e.clone()),
        None => (State::Unreadable, "not read".to_string()),
    };
    Finding {
        kind: Kind::Log,
        file: location.to_string(),
        state,
        digest: Some(d.location.clone()),
        detail,
    }
}

/// The findings for log files of the window that no digest lists.
fn judge_unlisted(
    listing: &Listing,
    listed: &HashMap<String, String>,
    newest_end: &HashMap<(String, String), String>,
    window: &Window,
    report: &mut Report,
) {
    for log in &listing.logs {
        let Some(info) = &log.key else { continue };
        let key = tail_key(&log.location);
        if listed.contains_key(key) {
            continue;
        }
        let delivered = log_delivery_time(&log.location);
        if let Some(t) = &delivered {
            if !in_window(window, t) {
                continue;
            }
        }
        let newest = newest_end.get(&(info.account.clone(), info.region.clone()));
        let (state, detail) = match (newest, &delivered) {
            (Some(end), Some(t)) if t >= end => (
                State::NotYetCovered,
                format!("delivered at {t}, after the newest digest ({end})"),
            ),
            (None, _) => (
                State::NotCovered,
                "no digest for its account and region in the archive".to_string(),
            ),
            _ => (
                State::NotCovered,
                "in no digest: added to the archive, or its digest is missing".to_string(),
            ),
        };
        report.findings.push(Finding {
            kind: Kind::Log,
            file: log.location.clone(),
            state,
            digest: None,
            detail,
        });
    }
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
