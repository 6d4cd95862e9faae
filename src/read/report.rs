//! What a statement (or a conversion) read and what it had to skip. Each
//! statement has a [`Report`] of its own, made when it starts, which its
//! table scans count into; its summary is printed after it, so a skipped
//! file is never silent. Nothing resets one by hand.
//!
//! Of trailsql it imports `archive`, `output`, `record`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::archive::Listing;
use crate::output::{escape_control, plural};
use crate::record::decode::FileOutcome;
use crate::record::FileProblem;

#[derive(Debug, Default)]
pub struct Report {
    pub files_listed: AtomicU64,
    pub files_pruned: AtomicU64,
    pub files_read: AtomicU64,
    pub files_failed: AtomicU64,
    pub records: AtomicU64,
    pub records_skipped: AtomicU64,
    pub type_mismatches: AtomicU64,
    pub bytes_read: AtomicU64,
    /// Parquet files of converted datasets: named by their manifests, and
    /// left out by the query's limits.
    pub parquet_listed: AtomicU64,
    pub parquet_pruned: AtomicU64,
    /// Time spent listing sources, in microseconds.
    pub listing_us: AtomicU64,
    non_logs: Mutex<BTreeMap<&'static str, u64>>,
    /// Print each problem on stderr as it happens.
    pub warn: std::sync::atomic::AtomicBool,
}

/// A copy of the counters at one moment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub files_listed: u64,
    pub files_pruned: u64,
    pub files_read: u64,
    pub files_failed: u64,
    pub records: u64,
    pub records_skipped: u64,
    pub type_mismatches: u64,
    pub parquet_listed: u64,
    pub parquet_pruned: u64,
    pub listing_us: u64,
    pub non_logs: BTreeMap<&'static str, u64>,
}

impl Report {
    pub fn new() -> Self {
        let r = Report::default();
        r.warn.store(true, Relaxed);
        r
    }

    pub fn listed(&self, listing: &Listing) {
        self.files_listed
            .fetch_add(listing.logs.len() as u64, Relaxed);
        let mut non_logs = self.non_logs.lock().unwrap_or_else(|e| e.into_inner());
        for (_, reason) in &listing.skipped {
            *non_logs.entry(reason).or_default() += 1;
        }
    }

    pub fn pruned(&self, n: usize) {
        self.files_pruned.fetch_add(n as u64, Relaxed);
    }

    /// `size` compressed bytes were read (whether they decoded or not).
    pub fn bytes(&self, size: u64) {
        self.bytes_read.fetch_add(size, Relaxed);
    }

    pub fn file_read(&self, location: &str, out: &FileOutcome) {
        self.files_read.fetch_add(1, Relaxed);
        self.records.fetch_add(out.records as u64, Relaxed);
        self.records_skipped
            .fetch_add(out.skipped.len() as u64, Relaxed);
        self.type_mismatches
            .fetch_add(out.type_mismatches as u64, Relaxed);
        if self.warn.load(Relaxed) {
            for p in &out.skipped {
                eprintln!(
                    "warning: {}: record {} skipped: {}",
                    escape_control(location),
                    p.index,
                    escape_control(&p.reason)
                );
            }
        }
    }

    pub fn file_failed(&self, location: &str, problem: &FileProblem) {
        self.files_failed.fetch_add(1, Relaxed);
        if self.warn.load(Relaxed) {
            eprintln!(
                "warning: {}: file skipped: {}",
                escape_control(location),
                escape_control(&problem.0)
            );
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            files_listed: self.files_listed.load(Relaxed),
            files_pruned: self.files_pruned.load(Relaxed),
            files_read: self.files_read.load(Relaxed),
            files_failed: self.files_failed.load(Relaxed),
            records: self.records.load(Relaxed),
            records_skipped: self.records_skipped.load(Relaxed),
            type_mismatches: self.type_mismatches.load(Relaxed),
            parquet_listed: self.parquet_listed.load(Relaxed),
            parquet_pruned: self.parquet_pruned.load(Relaxed),
            listing_us: self.listing_us.load(Relaxed),
            non_logs: self
                .non_logs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

impl Summary {
    /// Whether anything was skipped that the user should hear about.
    pub fn has_problems(&self) -> bool {
        self.files_failed > 0 || self.records_skipped > 0
    }

    /// One line: what was read, what was skipped and why.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if self.files_listed > 0 || self.parquet_listed == 0 {
            parts.push(format!(
                "read {} of {} {} ({} pruned by the query's limits), {} {}",
                self.files_read,
                self.files_listed,
                plural(self.files_listed, "log file", "log files"),
                self.files_pruned,
                self.records,
                plural(self.records, "event", "events")
            ));
        }
        if self.parquet_listed > 0 {
            parts.push(format!(
                "scanned {} of {} {} ({} pruned by the query's limits)",
                self.parquet_listed - self.parquet_pruned,
                self.parquet_listed,
                plural(self.parquet_listed, "Parquet file", "Parquet files"),
                self.parquet_pruned
            ));
        }
        if self.listing_us > 0 {
            parts.push(format!(
                "listing took {:.2} s",
                self.listing_us as f64 / 1e6
            ));
        }
        let mut s = parts.join("; ");
        if self.files_failed > 0 {
            s += &format!(
                "; {} {} skipped as unreadable",
                self.files_failed,
                plural(self.files_failed, "file", "files")
            );
        }
        if self.records_skipped > 0 {
            s += &format!(
                "; {} {} skipped",
                self.records_skipped,
                plural(self.records_skipped, "record", "records")
            );
        }
        if self.type_mismatches > 0 {
            s += &format!(
                "; {} {} of an unexpected type kept in extra_fields",
                self.type_mismatches,
                plural(self.type_mismatches, "value", "values")
            );
        }
        let non: u64 = self.non_logs.values().sum();
        if non > 0 {
            let why: Vec<String> = self
                .non_logs
                .iter()
                .map(|(r, n)| crate::archive::layout::counted(*n, r))
                .collect();
            s += &format!(
                "; {non} {} ignored ({})",
                plural(
                    non,
                    "object that is not a log file",
                    "objects that are not log files"
                ),
                why.join(", ")
            );
        }
        s
    }
}
