//! Scanning many small objects in S3: a sample archive's log files served by
//! the tests' S3 server (s3s-fs on 127.0.0.1, signed requests) with a fixed
//! delay added to every request, scanned by the release `trailsql` at several
//! `--max-concurrency` levels. Prints, per level, the best wall time of three
//! runs against the bound objects x latency / concurrency, the same less the
//! time trailsql says (`--stats`) it spent listing (paged LISTs, one after
//! another, which GET concurrency does not shorten), and the requests the
//! server answered. Run through `benches/s3.sh`.
//!
//!   s3 [OBJECTS] [LATENCY_MS] [LEVELS]      (10000 20 8,16,32,64,128)

#[path = "../tests/it/s3server.rs"]
#[allow(dead_code)]
mod s3server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SQL: &str = "SELECT count(*) AS events FROM cloudtrail";

fn log_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            log_files(&path, out);
        } else if path.to_string_lossy().contains("/CloudTrail/") {
            out.push(path);
        }
    }
}

/// The first `objects` log files (by key) of a sample archive, under
/// `served/bench/`, made once and kept.
fn objects_folder(work: &Path, objects: usize, bin: &str) -> PathBuf {
    let served = work.join("served");
    let done = work.join(".complete");
    if done.exists() {
        return served;
    }
    let _ = std::fs::remove_dir_all(work);
    let sample = work.join("sample");
    // ~126 log files a day in the default sample.
    let days = (objects / 120 + 2).to_string();
    let st = Command::new(bin)
        .args(["sample", sample.to_str().unwrap(), "--days", &days])
        .status()
        .expect("trailsql runs");
    assert!(st.success(), "trailsql sample failed");
    let mut files = Vec::new();
    log_files(&sample.join("AWSLogs"), &mut files);
    files.sort();
    assert!(
        files.len() >= objects,
        "the sample has {} log files, fewer than {objects}",
        files.len()
    );
    for file in &files[..objects] {
        let key = file.strip_prefix(&sample).unwrap();
        let target = served.join("bench").join(key);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(file, &target).unwrap();
    }
    std::fs::remove_dir_all(&sample).unwrap();
    std::fs::write(&done, "").unwrap();
    served
}

/// One scan: its wall time, the time trailsql says it spent listing, and
/// the answer.
fn scan(bin: &str, endpoint: &str, concurrency: usize) -> (Duration, Duration, String) {
    let started = Instant::now();
    let out = Command::new(bin)
        .env("AWS_ACCESS_KEY_ID", s3server::KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3server::SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .args(["--endpoint-url", endpoint, "--region", "us-east-1"])
        .args([
            "--source",
            "s3://bench",
            "--format",
            "csv",
            "--stats",
            "-e",
            SQL,
        ])
        .args(["--max-concurrency", &concurrency.to_string()])
        .output()
        .expect("trailsql runs");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = String::from_utf8_lossy(&out.stderr);
    let listing = stats
        .split("listing took ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no listing time in: {stats}"));
    (
        elapsed,
        Duration::from_secs_f64(listing),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let objects: usize = args.first().map_or(10_000, |a| a.parse().expect("OBJECTS"));
    let latency_ms: u64 = args.get(1).map_or(20, |a| a.parse().expect("LATENCY_MS"));
    let levels: Vec<usize> = args
        .get(2)
        .map_or("8,16,32,64,128", String::as_str)
        .split(',')
        .map(|l| l.parse().expect("LEVELS: numbers separated by commas"))
        .collect();
    let bin = env!("CARGO_BIN_EXE_trailsql");
    let work = std::env::var_os("BENCH_DIR")
        .map_or_else(|| PathBuf::from("/var/tmp/trailsql-bench"), PathBuf::from)
        .join(format!("s3-{objects}"));
    let served = objects_folder(&work, objects, bin);
    let bytes: u64 = {
        let mut files = Vec::new();
        log_files(&served, &mut files);
        files.iter().map(|f| f.metadata().unwrap().len()).sum()
    };
    let (addr, seen) = s3server::start_faulty_server(
        &served,
        s3server::Faults {
            delay_ms: latency_ms,
            // The folder does not change: LISTs asked again are answered
            // from memory (see Faults::cache_lists), as fast as S3 would.
            cache_lists: true,
            ..Default::default()
        },
    );
    let endpoint = format!("http://{addr}");
    println!(
        "{objects} objects ({:.1} MB gzip) in s3://bench, {latency_ms} ms added to every request",
        bytes as f64 / 1e6
    );
    println!("question: {SQL}");
    println!(
        "{:>11} {:>9} {:>9} {:>6} {:>13} {:>6} {:>7} {:>6}",
        "concurrency", "time s", "bound s", "ratio", "after listing", "ratio", "GETs", "LISTs"
    );
    let mut answer = None;
    for &c in &levels {
        let mut best = Duration::MAX;
        let mut listing = Duration::ZERO;
        let mut requests = (0, 0);
        for _ in 0..3 {
            let (t, listed_in, out) = scan(bin, &endpoint, c);
            match &answer {
                None => answer = Some(out),
                Some(a) => assert_eq!(*a, out, "answers differ between runs"),
            }
            // The counts only: the server's kept LIST answers stay.
            let mut r = seen.lock().unwrap();
            requests = (
                std::mem::take(&mut r.gets),
                std::mem::take(&mut r.lists).len(),
            );
            if t < best {
                best = t;
                listing = listed_in;
            }
        }
        let bound = objects as f64 * latency_ms as f64 / 1000.0 / c as f64;
        let rest = best.saturating_sub(listing).as_secs_f64();
        println!(
            "{c:>11} {:>9.2} {bound:>9.2} {:>6.2} {rest:>13.2} {:>6.2} {:>7} {:>6}",
            best.as_secs_f64(),
            best.as_secs_f64() / bound,
            rest / bound,
            requests.0,
            requests.1
        );
    }
    print!("answer: {}", answer.unwrap_or_default().replace('\n', " "));
    println!();
}
