//! `trailsql sample`: writes a realistic trail archive in the real key layout,
//! deterministic for a seed, and `trailsql demo`, which makes one in a cache
//! folder and asks it the question every incident starts with.
//!
//! Two accounts, three regions, a run of days; IAM users, SSO sessions, root,
//! AWS services and service-linked roles calling a few dozen APIs in bursts of
//! activity, some of them denied. Planted on top (see README, "The sample
//! archive"): a DynamoDB table deleted from an unusual IP (after a denied
//! attempt by someone else), a burst of failed console logins, root activity,
//! instances terminated by Auto Scaling and by a person, and logging stopped
//! for some hours.
//!
//! Of trailsql it imports `error`, `verify`.

mod demo;
mod digests;
mod incidents;
mod places;
mod traffic;

pub use demo::{demo, DEMO_QUESTION};
pub use digests::PUBLIC_KEYS_FILE;
pub use places::FILE as PLACES_FILE;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use incidents::incidents;
/// How many days a sample needs to hold every planted incident.
pub use incidents::SPAN as INCIDENT_DAYS;
use traffic::{routine, Event};

/// Size and shape of a sample archive.
#[derive(Debug, Clone, clap::Args)]
pub struct SampleOptions {
    /// Seed: one seed gives one archive, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of days.
    #[arg(long, default_value_t = 61)]
    pub days: u32,
    /// First day (UTC), YYYY-MM-DD.
    #[arg(long, default_value = "2025-10-01")]
    pub start: NaiveDate,
    /// Average events per account, region and day (planted incidents come on top).
    #[arg(long, default_value_t = 120)]
    pub events_per_day: u32,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            seed: 42,
            days: 61,
            start: NaiveDate::from_ymd_opt(2025, 10, 1).expect("valid date"),
            events_per_day: 120,
        }
    }
}

/// What was written.
#[derive(Debug, Default, Clone)]
pub struct SampleStats {
    pub events: u64,
    pub files: u64,
    pub digests: u64,
    /// The planted incidents this sample is too short to hold.
    pub left_out: Vec<&'static str>,
}

pub const ACCOUNTS: [&str; 2] = ["111122223333", "444455556666"];
pub const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
/// Account, region and day (index) of the planted incidents.
pub const INCIDENT_ACCOUNT: &str = "111122223333";
pub const INCIDENT_REGION: &str = "us-east-1";
pub const DELETED_TABLE: &str = "prod-orders";
pub const UNUSUAL_IP: &str = "203.0.113.77";

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| *self.pick(CHARS) as char).collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
}

/// Write a log file; the SHA-256 of its uncompressed bytes, for its digest.
fn write_gz(path: &Path, records: &[&Value]) -> Result<String> {
    let body = serde_json::to_vec(&json!({ "Records": records }))
        .map_err(|e| Error::Internal(e.to_string()))?;
    write_gz_bytes(path, &body)?;
    Ok(crate::verify::sha256_hex(&body))
}

fn write_gz_bytes(path: &Path, body: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::new(6));
    gz.write_all(body).map_err(|e| Error::io(path, e))?;
    gz.finish()
        .and_then(|mut w| w.flush())
        .map_err(|e| Error::io(path, e))
}

/// Write the archive under `dir/AWSLogs/...`.
pub fn write_archive(dir: &Path, opts: &SampleOptions) -> Result<SampleStats> {
    let mut rng = Rng(opts.seed);
    let mut planted = Vec::new();
    let gap = incidents(&mut rng, opts.start, opts.days.max(1), &mut planted);
    let mut stats = SampleStats::default();
    if gap.is_none() {
        stats.left_out.push(incidents::STOPPED_TRAIL);
    }
    let mut delivered: std::collections::BTreeMap<(&str, &str), Vec<digests::Delivered>> =
        std::collections::BTreeMap::new();
    for d in 0..opts.days {
        let day = opts.start + Duration::days(d as i64);
        for acct in ACCOUNTS {
            for region in REGIONS {
                let mut events = Vec::new();
                let target =
                    opts.events_per_day / 2 + rng.below(opts.events_per_day as u64 + 1) as u32;
                routine(&mut rng, acct, region, day, target, &mut events);
                events.extend(planted.extract_if(.., |e| {
                    e.time.date_naive() == day
                        && e.record["recipientAccountId"] == acct
                        && e.record["awsRegion"] == region
                }));
                if acct == INCIDENT_ACCOUNT && region == INCIDENT_REGION {
                    if let Some((stop, resume)) = gap {
                        // Nothing is logged while the trail is stopped.
                        events.retain(|e| e.time <= stop || e.time >= resume);
                    }
                }
                events.sort_by_key(|e| e.time);
                let files = delivered.entry((acct, region)).or_default();
                stats.events += write_day(dir, &mut rng, acct, region, &events, files)?;
            }
        }
    }
    // Hourly digests over the whole archive, and the key to check them.
    let key = digests::SampleKey::load()?;
    let from = opts.start.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    // Files of the last evening are delivered after midnight: one more hour.
    let to = from + Duration::days(opts.days as i64) + Duration::hours(1);
    for ((acct, region), files) in &delivered {
        stats.files += files.len() as u64;
        let stopped = gap.filter(|_| *acct == INCIDENT_ACCOUNT && *region == INCIDENT_REGION);
        stats.digests += digests::write_chain(dir, &key, acct, region, files, from, to, stopped)?;
    }
    let keys = dir.join(digests::PUBLIC_KEYS_FILE);
    std::fs::write(&keys, key.public_keys_json(from, to)).map_err(|e| Error::io(&keys, e))?;
    // Places for the sample's addresses, built "at" its first day.
    let places = dir.join(places::FILE);
    std::fs::write(&places, places::database(from.timestamp().max(0) as u64))
        .map_err(|e| Error::io(&places, e))?;
    Ok(stats)
}

/// Group a day's events into 5-minute log files, each delivered a few minutes
/// after its window closes (so late-evening events land in the next day's folder).
fn write_day(
    dir: &Path,
    rng: &mut Rng,
    acct: &str,
    region: &str,
    events: &[Event],
    files: &mut Vec<digests::Delivered>,
) -> Result<u64> {
    let mut written = 0;
    let mut i = 0;
    while i < events.len() {
        let window = events[i].time.timestamp() / 300;
        let mut j = i;
        while j < events.len() && events[j].time.timestamp() / 300 == window {
            j += 1;
        }
        let delivered =
            DateTime::from_timestamp((window + 1) * 300 + 60 + rng.below(540) as i64, 0)
                .expect("valid time");
        let name = format!(
            "{acct}_CloudTrail_{region}_{}_{}.json.gz",
            delivered.format("%Y%m%dT%H%MZ"),
            rng.alnum(16)
        );
        let key = format!(
            "AWSLogs/{acct}/CloudTrail/{region}/{}/{name}",
            delivered.format("%Y/%m/%d")
        );
        let records: Vec<&Value> = events[i..j].iter().map(|e| &e.record).collect();
        let sha256 = write_gz(&dir.join(&key), &records)?;
        files.push(digests::Delivered {
            key,
            delivered,
            sha256,
            oldest: events[i].time,
            newest: events[j - 1].time,
        });
        written += (j - i) as u64;
        i = j;
    }
    Ok(written)
}
