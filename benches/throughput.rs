//! Decode throughput, per core: reads every `.json.gz` log file under a folder
//! into memory, then times, on one thread, (1) gunzip alone and (2) gunzip +
//! decode into Arrow batches of the canonical schema (every column). Prints MB/s of
//! uncompressed JSON and events/s. Run through benches/run.sh, or:
//!
//!   cargo bench --bench throughput -- DIR
//!
//! (`cargo bench` with no folder makes a small sample archive to measure.)

use std::path::{Path, PathBuf};
use std::time::Instant;

use trailsql::read::maybe_gunzip;
use trailsql::record::Decoder;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.to_string_lossy().ends_with(".json.gz")
            && !p.to_string_lossy().contains("/CloudTrail-Digest/")
        {
            // Log files only: the sample's digest files are .json.gz too.
            out.push(p);
        }
    }
}

fn main() {
    let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let tmp;
    let dir = match arg {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().expect("temp dir");
            let opts = trailsql::sample::SampleOptions {
                days: 5,
                events_per_day: 2000,
                ..Default::default()
            };
            trailsql::sample::write_archive(tmp.path(), &opts).expect("sample written");
            tmp.path().to_path_buf()
        }
    };
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    files.sort();
    let blobs: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("readable"))
        .collect();
    let gz_bytes: usize = blobs.iter().map(Vec::len).sum();

    let t = Instant::now();
    let mut json_bytes = 0usize;
    for b in &blobs {
        json_bytes += maybe_gunzip(b.clone(), u64::MAX).expect("gzip").len();
    }
    let gunzip = t.elapsed().as_secs_f64();

    // As a query does it: one decoder fills shared batches from file after
    // file; batches are dropped as they complete, as a consumer would.
    let t = Instant::now();
    let mut events = 0usize;
    let mut decoder = Decoder::new(None);
    for (b, f) in blobs.iter().zip(&files) {
        let text = maybe_gunzip(b.clone(), u64::MAX).expect("gzip");
        events += decoder
            .decode(&text, &f.display().to_string())
            .expect("decodes")
            .records;
        decoder.take_batches();
    }
    drop(decoder.finish());
    let full = t.elapsed().as_secs_f64();

    let mb = json_bytes as f64 / 1e6;
    println!(
        "files {}  events {}  gz {:.1} MB  json {:.1} MB",
        files.len(),
        events,
        gz_bytes as f64 / 1e6,
        mb
    );
    println!(
        "gunzip only (1 thread):     {:>7.3} s  {:>7.0} MB/s of JSON",
        gunzip,
        mb / gunzip
    );
    println!(
        "gunzip + decode (1 thread): {:>7.3} s  {:>7.0} MB/s of JSON  {:>9.0} events/s",
        full,
        mb / full,
        events as f64 / full
    );
}
