//! `trailsql convert`: the dataset gives the raw archive's answers (saved
//! queries, the .slt suite, lookups that prune), reruns convert only what is
//! new, and a conversion killed at any moment and run again gives what an
//! uninterrupted one gives.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util::{
    assert_fails_saying, bin, csv_answer, files_in, files_under, fixture_archive, run, run_area,
    text,
};

/// A sample archive of `days` days.
pub(crate) fn sample(days: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let days = days.to_string();
    let st = bin()
        .args(["sample", dir.path().to_str().unwrap(), "--days", &days])
        .status()
        .unwrap();
    assert!(st.success());
    dir
}

/// A sample archive of `days` days, and its conversion in one run.
fn converted_sample(days: u32) -> (tempfile::TempDir, tempfile::TempDir) {
    let raw = sample(days);
    let dest = tempfile::tempdir().unwrap();
    convert(raw.path(), dest.path());
    (raw, dest)
}

/// An archive of one log file, a day of one account and region, holding
/// the JSON text `doc`.
fn one_log_file(doc: &str) -> tempfile::TempDir {
    let raw = tempfile::tempdir().unwrap();
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251001T1005Z_orderorderorder0.json"),
        doc,
    )
    .unwrap();
    raw
}

/// A log file delivered a second time: a copy beside it, its name's random
/// part ending in `mark`.
fn deliver_again(file: &Path, mark: &str) {
    let name = file.file_name().unwrap().to_str().unwrap();
    let copy = name.replace(".json.gz", &format!("{mark}.json.gz"));
    std::fs::copy(file, file.with_file_name(copy)).unwrap();
}

/// `trailsql convert SOURCE DEST`: what it printed on stderr. A new
/// dataset is a Delta table (`tests/it/delta.rs` has the tests of its
/// log).
fn convert(source: &Path, dest: &Path) -> String {
    convert_as(source, dest, &[])
}

/// The format of earlier trailsql versions, which `convert --table-format
/// trailsql` still writes: the tests of its own manifest (`_trailsql/`).
const OWN: &[&str] = &["--table-format", "trailsql"];

/// `trailsql convert SOURCE DEST ARGS`: what it printed on stderr.
fn convert_as(source: &Path, dest: &Path, args: &[&str]) -> String {
    let out = run(
        &[
            &["convert", source.to_str().unwrap(), dest.to_str().unwrap()],
            args,
        ]
        .concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stderr)
}

/// A sample archive of `days` days, converted in one run into a dataset of
/// the earlier format.
fn converted_sample_own(days: u32) -> (tempfile::TempDir, tempfile::TempDir) {
    let raw = sample(days);
    let dest = tempfile::tempdir().unwrap();
    convert_as(raw.path(), dest.path(), OWN);
    (raw, dest)
}

/// The physical plan DataFusion makes of `sql` on the dataset `d`.
fn explain(d: &str, sql: &str) -> String {
    let out = run(
        &[
            "--source",
            d,
            "--format",
            "csv",
            "-e",
            &format!("EXPLAIN {sql}"),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Every event of a source, every column, in one order.
const EVERYTHING: &str = "SELECT * FROM cloudtrail ORDER BY eventid, log_object";

#[test]
fn a_converted_sample_gives_the_same_answers() {
    let raw = sample(3);
    // As a Delta table (the default) and in the earlier format.
    for format in [&[][..], OWN] {
        let dest = tempfile::tempdir().unwrap();
        let said = convert_as(raw.path(), dest.path(), format);
        assert!(
            said.starts_with("converted ") && !said.starts_with("converted 0 "),
            "{said}"
        );
        let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
        // Every row and column.
        let all = csv_answer(r, EVERYTHING);
        assert!(all.lines().count() > 1000, "{}", all.lines().count());
        assert_eq!(csv_answer(d, EVERYTHING), all);
        // Every saved query, output for output.
        for area in ["cis", "forensics", "attack"] {
            let (raw_out, a) = run_area(r, area);
            let (conv_out, b) = run_area(d, area);
            assert!(
                a.status.success() && b.status.success(),
                "{}",
                text(&b.stderr)
            );
            assert_eq!(text(&a.stdout), text(&b.stdout), "{area}");
            let names: Vec<_> = files_under(raw_out.path())
                .iter()
                .map(|p| p.strip_prefix(raw_out.path()).unwrap().to_owned())
                .collect();
            // A file per query of the area that runs without a parameter or
            // --geoip given, and the summary.
            let queries = trailsql::queries::Catalogue::load(None)
                .unwrap()
                .all(Some(area))
                .iter()
                .filter(|q| q.params.iter().all(|p| p.default.is_some()) && !q.needs_geoip())
                .count();
            assert_eq!(names.len(), queries + 1, "{names:?}");
            for name in names {
                assert_eq!(
                    std::fs::read_to_string(raw_out.path().join(&name)).unwrap(),
                    std::fs::read_to_string(conv_out.path().join(&name)).unwrap(),
                    "{area}/{name:?}"
                );
            }
        }
        // Lookups by the nested identity fields and by time, region and account
        // prune files, with the same answers.
        for sql in [
            "SELECT eventtime, eventname, sourceipaddress FROM cloudtrail \
             WHERE useridentity.username = 'alice' AND eventname = 'DeleteTable' ORDER BY eventtime",
            "SELECT count(*) AS n FROM cloudtrail WHERE useridentity.arn = 'arn:aws:iam::111122223333:user/bob'",
            "SELECT count(*) AS n FROM cloudtrail WHERE awsregion = 'eu-west-1' \
             AND recipientaccountid = '444455556666' AND eventtime >= '2025-10-02' AND eventtime < '2025-10-03'",
        ] {
            assert_eq!(csv_answer(d, sql), csv_answer(r, sql), "{sql}");
        }
        let out = run(
            &[
                "--source",
                d,
                "--stats",
                "-e",
                "SELECT count(*) FROM cloudtrail WHERE awsregion = 'eu-west-1' \
                 AND recipientaccountid = '444455556666' AND eventtime >= '2025-10-02' AND eventtime < '2025-10-03'",
            ],
            "",
        );
        let stats = text(&out.stderr);
        let parquet = files_under(dest.path())
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .count();
        // One account, region and day: its partition's files (the day's own and
        // the late-evening events delivered the next day), not the others.
        let scanned: usize = stats
            .split("scanned ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{stats}"));
        assert!(
            (1..=2).contains(&scanned) && stats.contains(&format!("of {parquet} Parquet files")),
            "{stats}"
        );
        // The layout: Hive-style folders by the event's account, region and day.
        assert!(dest
            .path()
            .join("account=444455556666/region=eu-west-1/date=2025-10-02")
            .is_dir());
    }
}

#[test]
fn a_dataset_given_by_a_relative_path_reads() {
    let dest = tempfile::tempdir().unwrap();
    convert(&fixture_archive(), &dest.path().join("pq"));
    let out = bin()
        .current_dir(dest.path())
        .args(["--source", "pq", "--format", "csv", "-e"])
        .arg("SELECT count(*) AS n FROM cloudtrail WHERE eventname = 'DeleteTable'")
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        csv_answer(
            fixture_archive().to_str().unwrap(),
            "SELECT count(*) AS n FROM cloudtrail WHERE eventname = 'DeleteTable'"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_sql_suite_gives_the_same_answers_on_a_converted_fixture() {
    // As a Delta table (the default) and in the earlier format.
    for format in [&[][..], OWN] {
        let dest = tempfile::tempdir().unwrap();
        convert_as(&fixture_archive(), dest.path(), format);
        let raw = fixture_archive();
        let (r, d) = (raw.to_str().unwrap(), dest.path().to_str().unwrap());
        assert_eq!(csv_answer(d, EVERYTHING), csv_answer(r, EVERYTHING));
        crate::slt::run_suite(d);
    }
}

#[test]
fn a_rerun_converts_only_what_is_new() {
    let raw = sample(2);
    let dest = tempfile::tempdir().unwrap();
    let first = convert(raw.path(), dest.path());
    let objects: usize = first
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{first}"));
    let again = convert(raw.path(), dest.path());
    assert!(
        again.starts_with(&format!(
            "converted 0 of {objects} objects ({objects} converted before)"
        )),
        "{again}"
    );
    // A late file for a day already written: added, nothing lost.
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    let late =
        day.join("111122223333_CloudTrail_us-east-1_20251001T2359Z_latelatelatelate.json.gz");
    let events = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2025-10-01T09:00:00Z",
        "eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1",
        "eventID":"late-0000-0000-0000-000000000001","recipientAccountId":"111122223333",
        "userIdentity":{"type":"IAMUser","userName":"late"}}]}"#;
    std::fs::write(&late, events).unwrap();
    let third = convert(raw.path(), dest.path());
    assert!(
        third.starts_with(&format!(
            "converted 1 of {} objects ({objects} converted before)",
            objects + 1
        )),
        "{third}"
    );
    let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
    assert_eq!(csv_answer(d, EVERYTHING), csv_answer(r, EVERYTHING));
    // A converted file changed since: reported, not converted twice.
    std::fs::write(&late, events.replace("GetObject", "PutObject")).unwrap();
    let fourth = convert(raw.path(), dest.path());
    assert!(
        fourth.contains("changed since it was converted, not converted again")
            && fourth.contains("latelatelatelate"),
        "{fourth}"
    );
}

/// Every row of the dataset at `dest`, in one order.
fn content(dest: &Path) -> String {
    csv_answer(dest.to_str().unwrap(), EVERYTHING)
}

#[test]
fn a_conversion_killed_at_any_moment_and_run_again_loses_and_duplicates_nothing() {
    let raw = sample(4);
    // Groups of a few log files: many commits to be killed between.
    killed_runs_give_the_whole_dataset(raw.path(), &["--group-kib", "16"]);
}

#[test]
fn one_run_writes_a_file_per_partition_whatever_the_groups() {
    let raw = sample(4);
    let source = raw.path().to_str().unwrap();
    let by_partition = |dest: &Path| {
        let mut n: std::collections::BTreeMap<PathBuf, usize> = Default::default();
        for f in files_under(dest) {
            if f.extension().is_some_and(|x| x == "parquet") {
                *n.entry(f.parent().unwrap().to_owned()).or_default() += 1;
            }
        }
        n
    };
    let commits = |dest: &Path| files_in(&dest.join("_trailsql/commits")).len();
    // The default groups hold the sample's days whole: each account and
    // region is one group, and the last events of a day, delivered in the
    // next day's first log files, join their day's file.
    let whole = tempfile::tempdir().unwrap();
    convert_as(raw.path(), whole.path(), OWN);
    let files = by_partition(whole.path());
    assert!(files.len() >= 4 * 6, "{files:?}");
    assert!(files.values().all(|&n| n == 1), "{files:?}");
    assert_eq!(commits(whole.path()), 6);
    // Groups of 1 KiB (a log file or two each): many commits, more files
    // (spread over the groups a day's log files fell in), the same rows.
    let small = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "convert",
            source,
            small.path().to_str().unwrap(),
            "--group-kib",
            "1",
            "--table-format",
            "trailsql",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(commits(small.path()) > 100, "{}", commits(small.path()));
    let split = by_partition(small.path());
    assert_eq!(split.len(), files.len());
    assert!(split.values().sum::<usize>() > 2 * files.len(), "{split:?}");
    assert_eq!(content(small.path()), content(whole.path()));
    // A group of nothing is refused, before anything is written.
    let none = tempfile::tempdir().unwrap();
    let at = none.path().join("ds");
    assert_fails_saying(
        &["convert", source, at.to_str().unwrap(), "--group-kib", "0"],
        "0 is not in 1..=1048576",
    );
    assert!(!at.exists());
}

#[test]
fn a_deduplicating_conversion_killed_and_run_again_keeps_each_event_once() {
    let raw = sample(3);
    // Every file of one account and region delivered twice.
    let region = raw
        .path()
        .join("AWSLogs/444455556666/CloudTrail/eu-west-1/2025/10");
    for day in files_in(&region) {
        for f in files_in(&day) {
            deliver_again(&f, "x");
        }
    }
    killed_runs_give_the_whole_dataset(raw.path(), &["--dedupe", "--group-kib", "16"]);
}

/// The next of a fixed pseudo-random sequence of fractions in [0, 1), so
/// that a failure of a test that kills runs can be repeated.
pub(crate) fn next_fraction(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as f64 / (1u64 << 31) as f64
}

/// Run trailsql with `args` and SIGKILL it as soon as `progress()` (what
/// it has done so far, e.g. commits on disk) reaches `at`, unless it ended
/// first: whether it was killed. Kill points are counted in work done, not
/// in time, so a loaded machine moves them no more than a quiet one.
pub(crate) fn killed_at(args: &[&str], at: usize, progress: impl Fn() -> usize) -> bool {
    let mut child = bin()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if progress() >= at {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// How many files the folder holds (0 when there is none yet).
fn count_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// `trailsql convert SOURCE DEST --group-kib 1`: groups of a log file or
/// two, so that each partition gets many small files, as from many runs
/// (in the earlier format: these tests read its manifest).
fn convert_in_small_groups(source: &Path, dest: &Path) {
    let out = run(
        &[
            "convert",
            source.to_str().unwrap(),
            dest.to_str().unwrap(),
            "--group-kib",
            "1",
            "--table-format",
            "trailsql",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `trailsql compact DEST`: what it printed on stderr.
fn compact(dest: &Path) -> String {
    let out = run(&["compact", dest.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stderr)
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect()
}

/// The partition folders (`date=...`) of a dataset.
fn partitions(dir: &Path) -> std::collections::BTreeSet<PathBuf> {
    parquet_files(dir)
        .iter()
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect()
}

#[test]
fn compaction_leaves_a_file_per_partition_and_the_same_rows() {
    let raw = sample(2);
    let dest = tempfile::tempdir().unwrap();
    convert_in_small_groups(raw.path(), dest.path());
    let d = dest.path();
    let before = content(d);
    let (files, parts) = (parquet_files(d).len(), partitions(d).len());
    assert!(files > 3 * parts, "{files} files in {parts} partitions");
    // A dataset of format version 2 (before compaction existed) is read,
    // and becomes version 4 when compacted; a version this trailsql does
    // not know is refused.
    let info = d.join("_trailsql/dataset.json");
    let v4 = std::fs::read_to_string(&info).unwrap();
    assert!(v4.contains(r#""version":4"#), "{v4}");
    std::fs::write(&info, v4.replace(r#""version":4"#, r#""version":2"#)).unwrap();
    assert_eq!(content(d), before);
    let commits = files_in(&d.join("_trailsql/commits")).len();

    let said = compact(d);
    assert!(
        said.starts_with(&format!(
            "compacted {files} files into {parts} in {parts} partitions of "
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("folded the {} commits of ", commits + parts)),
        "{said}"
    );
    assert_eq!(parquet_files(d).len(), parts);
    assert_eq!(content(d), before);
    assert_eq!(content(d), content(raw.path()));
    assert!(std::fs::read_to_string(&info)
        .unwrap()
        .contains(r#""version":4"#));
    // The manifest is one checkpoint, with every object converted in it:
    // a rerun of convert has nothing new.
    let names = |sub: &str| -> Vec<String> {
        files_in(&d.join("_trailsql").join(sub))
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect()
    };
    let seq = commits + parts + 1;
    assert_eq!(names("commits"), vec![format!("{seq:010}.checkpoint")]);
    assert_eq!(names("objects"), vec![format!("{seq:010}.json")]);
    let again = convert(raw.path(), d);
    assert!(again.starts_with("converted 0 of "), "{again}");
    // Nothing left to merge.
    assert!(
        compact(d).starts_with("nothing to compact in "),
        "{}",
        compact(d)
    );
    // The dataset is still brought up to date by convert: a late log file
    // for a compacted day is added (a file beside the merged one), and
    // compacted in turn.
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    let late =
        day.join("111122223333_CloudTrail_us-east-1_20251001T2359Z_latelatelatelate.json.gz");
    std::fs::write(
        &late,
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"2025-10-01T09:00:00Z",
        "eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1",
        "eventID":"late-0000-0000-0000-000000000001","recipientAccountId":"111122223333",
        "userIdentity":{"type":"IAMUser","userName":"late"}}]}"#,
    )
    .unwrap();
    let again = convert(raw.path(), d);
    assert!(again.starts_with("converted 1 of "), "{again}");
    assert_eq!(parquet_files(d).len(), parts + 1);
    let said = compact(d);
    assert!(
        said.starts_with("compacted 2 files into 1 in 1 partition"),
        "{said}"
    );
    assert_eq!(content(d), content(raw.path()));
    // `convert --compact` does both in one command (one cron line).
    let later = late.with_file_name(
        "111122223333_CloudTrail_us-east-1_20251001T2359Z_laterlaterlater0.json.gz",
    );
    std::fs::write(
        &later,
        r#"{"Records":[{"eventTime":"2025-10-01T10:00:00Z","eventName":"PutObject",
        "awsRegion":"us-east-1","eventID":"late-0000-0000-0000-000000000002",
        "recipientAccountId":"111122223333"}]}"#,
    )
    .unwrap();
    let out = run(
        &[
            "convert",
            raw.path().to_str().unwrap(),
            d.to_str().unwrap(),
            "--compact",
        ],
        "",
    );
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.starts_with("converted 1 of ")
            && said.contains("compacted 2 files into 1 in 1 partition")
            && said.contains("folded the 3 commits of "),
        "{said}"
    );
    assert_eq!(parquet_files(d).len(), parts);
    assert_eq!(files_in(&d.join("_trailsql/commits")).len(), 1);
    assert_eq!(content(d), content(raw.path()));

    // Not a dataset: said, and nothing made there.
    let nothing = d.join("no-dataset-here");
    assert_fails_saying(
        &["compact", nothing.to_str().unwrap()],
        "not a dataset written by trailsql convert",
    );
    assert!(!nothing.exists());

    std::fs::write(&info, v4.replace(r#""version":4"#, r#""version":99"#)).unwrap();
    assert_fails_saying(
        &[
            "--source",
            d.to_str().unwrap(),
            "-e",
            "SELECT 1 FROM cloudtrail",
        ],
        "version 99 dataset",
    );
}

#[test]
fn a_compaction_killed_at_any_moment_loses_and_duplicates_nothing() {
    let raw = sample(3);
    let small = tempfile::tempdir().unwrap();
    convert_in_small_groups(raw.path(), small.path());
    let expected = content(small.path());
    // What an uninterrupted compaction gives.
    let whole = tempfile::tempdir().unwrap();
    crate::s3::copy_tree(small.path(), whole.path());
    compact(whole.path());
    let files = parquet_files(whole.path()).len();
    let commits = |dir: &Path| files_in(&dir.join("_trailsql/commits"));
    let first_commits = commits(small.path()).len();
    let checkpoint = commits(whole.path());
    assert_eq!(checkpoint.len(), 1);

    // Each time from the dataset before compaction: killed once it has
    // written a number of commits spread over the partitions it merges (at
    // most one commit each; a fixed pseudo-random sequence, so a failure
    // can be repeated), then run again to the end.
    let mut seed: u64 = 0xc0a1_e5ce;
    let (mut kills, mut midway) = (0, 0);
    for _ in 0..8 {
        let fraction = next_fraction(&mut seed);
        let dest = tempfile::tempdir().unwrap();
        crate::s3::copy_tree(small.path(), dest.path());
        let args = ["compact", dest.path().to_str().unwrap()];
        let at = first_commits + (fraction * (files + 1) as f64) as usize;
        let commits_dir = dest.path().join("_trailsql/commits");
        if killed_at(&args, at, || count_in(&commits_dir)) {
            kills += 1;
        }
        // Wherever it stopped, the dataset holds every row once.
        assert_eq!(content(dest.path()), expected, "killed at {fraction:.2}");
        // Stopped after some of its commits, before its checkpoint?
        let done = commits(dest.path());
        let folded = done.iter().any(|p| p.extension().unwrap() == "checkpoint");
        if done.len() > first_commits && !folded {
            midway += 1;
        }
        compact(dest.path());
        assert_eq!(content(dest.path()), expected, "killed at {fraction:.2}");
        assert_eq!(parquet_files(dest.path()).len(), files);
        // The manifest ends as one checkpoint, as without the kill.
        assert_eq!(commits(dest.path()).len(), 1, "killed at {fraction:.2}");
        assert_eq!(
            files_in(&dest.path().join("_trailsql/objects")).len(),
            1,
            "killed at {fraction:.2}"
        );
        assert!(!files_under(dest.path())
            .iter()
            .any(|p| p.to_str().unwrap().ends_with(".partial")));
    }
    assert!(kills > 0, "every run ended before it could be killed");
    assert!(
        midway > 0,
        "no kill came between two commits ({kills} kills)"
    );
}

/// Convert `raw` whole; then again into another folder, killing runs once
/// they have committed a number of groups spread over what is left (a
/// fixed pseudo-random sequence, so a failure can be repeated), each
/// carrying on from what the killed one left, and letting the last one
/// finish: the two datasets must hold the same rows and as many files, and
/// nothing else.
fn killed_runs_give_the_whole_dataset(raw: &Path, args: &[&str]) {
    let args: &[&str] = &[args, OWN].concat();
    let source = raw.to_str().unwrap();
    let whole = tempfile::tempdir().unwrap();
    let out = run(
        &[&["convert", source, whole.path().to_str().unwrap()], args].concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all_commits = count_in(&whole.path().join("_trailsql/commits"));
    assert!(
        all_commits > 12,
        "{all_commits} commits: too few to kill between"
    );
    let expected = content(whole.path());
    if args.contains(&"--dedupe") {
        let counts = csv_answer(
            whole.path().to_str().unwrap(),
            "SELECT count(*) = count(DISTINCT eventid) AS once FROM cloudtrail",
        );
        assert_eq!(counts, "once\ntrue\n");
    }

    let dest = tempfile::tempdir().unwrap();
    let mut seed: u64 = 0x5eed_2026;
    let mut kills = 0;
    for _ in 0..12 {
        let fraction = next_fraction(&mut seed);
        let convert = [&["convert", source, dest.path().to_str().unwrap()], args].concat();
        let commits_dir = dest.path().join("_trailsql/commits");
        let done = count_in(&commits_dir);
        let at = done + (fraction * (all_commits.saturating_sub(done) + 1) as f64) as usize;
        if killed_at(&convert, at, || count_in(&commits_dir)) {
            kills += 1;
        }
    }
    assert!(kills > 0, "every run ended before it could be killed");
    let out = run(
        &[&["convert", source, dest.path().to_str().unwrap()], args].concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        content(dest.path()),
        expected,
        "after {kills} kills; {}",
        text(&out.stderr)
    );
    // And nothing is left that no commit names.
    let parquet = |dir: &Path| {
        files_under(dir)
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .count()
    };
    assert_eq!(parquet(dest.path()), parquet(whole.path()));
    // One objects file per commit, as in the uninterrupted run.
    let names = |dir: &Path, sub: &str| -> Vec<String> {
        let mut names: Vec<String> = files_in(&dir.join("_trailsql").join(sub))
            .iter()
            .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(dest.path(), "objects"), names(dest.path(), "commits"));
    assert_eq!(
        names(dest.path(), "objects").len(),
        names(whole.path(), "objects").len()
    );
    assert!(!files_under(dest.path())
        .iter()
        .any(|p| p.to_str().unwrap().ends_with(".partial")));
}

#[test]
fn queries_read_the_commits_alone_and_convert_needs_the_objects_files() {
    let (raw, dest) = converted_sample_own(1);
    let d = dest.path().to_str().unwrap();
    let before = content(dest.path());
    // An objects file no commit names (left by a killed run): removed by
    // the next run, which has nothing new to convert.
    let objects = dest.path().join("_trailsql/objects");
    let stray = objects.join("9999999999.json");
    std::fs::write(&stray, r#"{"seq":9999999999,"objects":[]}"#).unwrap();
    let again = convert(raw.path(), dest.path());
    assert!(again.starts_with("converted 0 of "), "{again}");
    assert!(!stray.exists());
    // Queries never read the objects files: without them the answers stay.
    std::fs::remove_dir_all(&objects).unwrap();
    assert_eq!(content(dest.path()), before);
    // A conversion does, and says what is missing rather than convert
    // everything again.
    assert_fails_saying(
        &["convert", raw.path().to_str().unwrap(), d],
        "missing, yet its commit is there",
    );
}

#[test]
fn convert_refuses_a_dataset_inside_its_archive() {
    let raw = sample(1);
    let inside = raw.path().join("parquet");
    assert_fails_saying(
        &[
            "convert",
            raw.path().to_str().unwrap(),
            inside.to_str().unwrap(),
        ],
        "overlap",
    );
}

/// While another run holds a dataset's lock, convert and compact say so and
/// exit 75 (try again later: what a cron job's wrapper can tell from a
/// failure); a damaged manifest is an error (2) that names the file.
#[test]
fn a_locked_dataset_exits_75_and_a_damaged_one_names_its_file() {
    let (raw, dest) = converted_sample_own(1);
    let lock = std::fs::File::create(dest.path().join("_trailsql/lock")).unwrap();
    lock.try_lock().unwrap();
    let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
    for args in [vec!["convert", r, d], vec!["compact", d]] {
        let out = run(&args, "");
        assert_eq!(
            out.status.code(),
            Some(75),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr)
                .contains("another trailsql convert or compact is writing this dataset"),
            "{}",
            text(&out.stderr)
        );
    }
    // Queries do not take the lock.
    let out = run(
        &[
            "--source",
            d,
            "--format",
            "csv",
            "-e",
            "SELECT count(*) > 0 FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    drop(lock);
    let commit = files_under(&dest.path().join("_trailsql/commits"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "commit"))
        .unwrap();
    std::fs::write(&commit, "{").unwrap();
    let out = run(
        &["--source", d, "-e", "SELECT count(*) FROM cloudtrail"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(
        said.contains(&format!("{}: not a trailsql commit", commit.display())),
        "{said}"
    );
}

#[test]
fn dedupe_keeps_each_eventid_once_across_runs() {
    let raw = sample(2);
    // A second trail delivering the same events: copies of a day's files
    // under other names (in the same day folder, as a second trail's files
    // are in its own prefix).
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    let originals = files_in(&day);
    for f in &originals[..originals.len() / 2] {
        deliver_again(f, "x");
    }
    let r = raw.path().to_str().unwrap();
    let counts = "SELECT count(*) AS events, count(DISTINCT eventid) AS ids FROM cloudtrail";
    let raw_counts = csv_answer(r, counts);
    let ids: usize = raw_counts
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let events: usize = raw_counts
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(events > ids, "{raw_counts}");

    // Without --dedupe every delivery is kept, as in the archive.
    let plain = tempfile::tempdir().unwrap();
    convert(raw.path(), plain.path());
    assert_eq!(
        csv_answer(plain.path().to_str().unwrap(), counts),
        raw_counts
    );

    let dest = tempfile::tempdir().unwrap();
    let d = dest.path().to_str().unwrap();
    let out = run(&["convert", r, d, "--dedupe"], "");
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("{} events left out as duplicates", events - ids)),
        "{said}"
    );
    assert_eq!(csv_answer(d, counts), format!("events,ids\n{ids},{ids}\n"));
    // A re-delivery in a later run, of events already converted: left out
    // too (the dataset keeps --dedupe without being told again).
    deliver_again(originals.last().unwrap(), "y");
    let later = convert(raw.path(), dest.path());
    assert!(later.starts_with("converted 1 of"), "{later}");
    assert_eq!(csv_answer(d, counts), format!("events,ids\n{ids},{ids}\n"));
    // The events kept are the archive's, one of each.
    assert_eq!(
        csv_answer(
            d,
            "SELECT DISTINCT eventid, eventname, eventtime FROM cloudtrail ORDER BY eventid"
        ),
        csv_answer(
            r,
            "SELECT DISTINCT eventid, eventname, eventtime FROM cloudtrail ORDER BY eventid"
        )
    );
    // A dataset made without it cannot start deduplicating.
    assert_fails_saying(
        &["convert", r, plain.path().to_str().unwrap(), "--dedupe"],
        "made without --dedupe",
    );
}

#[test]
fn convert_shows_progress_when_asked_and_nothing_extra_in_a_pipe() {
    let raw = sample(1);
    let dest = tempfile::tempdir().unwrap();
    let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
    let out = run(&["convert", r, d, "--progress", "always"], "");
    let said = text(&out.stderr);
    let objects: usize = said
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(
        said.contains(&format!("{objects}/{objects} objects")),
        "{said}"
    );
    // Piped, by default: the summary line alone.
    let dest = tempfile::tempdir().unwrap();
    let out = run(&["convert", r, dest.path().to_str().unwrap()], "");
    let said = text(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.starts_with("converted "), "{said}");
}

/// The Hive type of a Parquet schema node, read from the file's own schema
/// (physical and logical types), not from trailsql's Arrow schema.
fn parquet_hive_type(t: &datafusion::parquet::schema::types::Type) -> String {
    use datafusion::parquet::basic::{ConvertedType, LogicalType, Type as Physical};
    if t.is_primitive() {
        let logical = t.get_basic_info().logical_type_ref().cloned();
        return match (t.get_physical_type(), logical) {
            (Physical::BYTE_ARRAY, Some(LogicalType::String)) => "string".into(),
            (Physical::BOOLEAN, None) => "boolean".into(),
            (Physical::INT64, Some(LogicalType::Timestamp { .. })) => "timestamp".into(),
            (p, l) => panic!("{}: unexpected Parquet type {p:?} {l:?}", t.name()),
        };
    }
    let fields = t.get_fields();
    let is_list = t.get_basic_info().converted_type() == ConvertedType::LIST
        || matches!(
            t.get_basic_info().logical_type_ref(),
            Some(LogicalType::List)
        );
    if is_list {
        // <list> repeated group list { <element> }
        let element = &fields[0].get_fields()[0];
        return format!("array<{}>", parquet_hive_type(element));
    }
    let inner: Vec<String> = fields
        .iter()
        .map(|f| format!("{}:{}", f.name(), parquet_hive_type(f)))
        .collect();
    format!("struct<{}>", inner.join(","))
}

#[test]
fn athena_ddl_matches_the_files_written() {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let (raw, dest) = converted_sample_own(2);
    let out = run(
        &[
            "athena-ddl",
            dest.path().to_str().unwrap(),
            "--location",
            "s3://audit-bucket/ct-parquet/",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ddl = text(&out.stdout);
    // The columns as the DDL declares them.
    let declared: Vec<(String, String)> = ddl
        .lines()
        .filter_map(|l| l.strip_prefix("  `"))
        .map(|l| {
            let (name, ty) = l.split_once("` ").unwrap();
            (name.to_string(), ty.trim_end_matches(',').to_string())
        })
        .collect();
    let parquet: Vec<_> = files_under(dest.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    assert!(!parquet.is_empty());
    for file in &parquet {
        // Every column of every file, with its type, in order.
        let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
        let schema = reader.metadata().file_metadata().schema().clone();
        let in_file: Vec<(String, String)> = schema
            .get_fields()
            .iter()
            .map(|f| (f.name().to_string(), parquet_hive_type(f)))
            .collect();
        assert_eq!(declared, in_file, "{}", file.display());
        // The folders are the projection's template, with values it projects.
        let rel = file.strip_prefix(dest.path()).unwrap().to_str().unwrap();
        let parts: Vec<&str> = rel.split('/').collect();
        let value = |prefix: &str, at: usize| parts[at].strip_prefix(prefix).unwrap().to_string();
        let (account, region, date) =
            (value("account=", 0), value("region=", 1), value("date=", 2));
        assert!(
            ddl.lines()
                .any(|l| l.contains("projection.account.values") && l.contains(&account)),
            "{account}"
        );
        assert!(
            ddl.lines()
                .any(|l| l.contains("projection.region.values") && l.contains(&region)),
            "{region}"
        );
        assert!(date.as_str() >= "2025-10-01", "{date}");
    }
    assert!(ddl.contains(
        "'storage.location.template' = 's3://audit-bucket/ct-parquet/account=${account}/region=${region}/date=${date}/'"
    ));
    assert!(
        ddl.contains("'projection.date.range' = '2025-10-01,NOW'"),
        "{ddl}"
    );
    assert!(ddl.contains("PARTITIONED BY (`account` string, `region` string, `date` string)"));
    // Not a dataset, or not an S3 location: said so.
    assert_fails_saying(
        &[
            "athena-ddl",
            raw.path().to_str().unwrap(),
            "--location",
            "s3://b/p",
        ],
        "not a dataset written by trailsql convert",
    );
    assert_fails_saying(
        &[
            "athena-ddl",
            dest.path().to_str().unwrap(),
            "--location",
            "/tmp/x",
        ],
        "Athena reads datasets in S3",
    );
    // --table names the table; the default is cloudtrail_parquet; a name
    // that is not letters, digits and _ is refused.
    assert!(
        ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS cloudtrail_parquet ("),
        "{ddl}"
    );
    let named = |table: &str| {
        run(
            &[
                "athena-ddl",
                dest.path().to_str().unwrap(),
                "--location",
                "s3://audit-bucket/ct-parquet/",
                "--table",
                table,
            ],
            "",
        )
    };
    let out = named("audit_trail_2025");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        ddl.replacen("cloudtrail_parquet", "audit_trail_2025", 1)
    );
    let out = named("audit; DROP TABLE x");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a table name is letters, digits and _"),
        "{}",
        text(&out.stderr)
    );
}

/// `(total, matched)` of one of the Parquet scan's pruning counters in an
/// EXPLAIN ANALYZE text (`name=T total → M matched`).
fn pruning(plan: &str, name: &str) -> (u64, u64) {
    let at = plan
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name} in:\n{plan}"));
    let numbers: Vec<u64> = plan[at + name.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(2)
        .filter_map(|s| s.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn lookups_by_nested_identity_fields_prune_row_groups() {
    let (_raw, dest) = converted_sample(3);
    let d = dest.path().to_str().unwrap();
    // Values inside every file's min..max range, held by none: statistics
    // cannot rule the row groups out, the bloom filters do (for identity
    // fields those on the top-level copies, though the SQL names the struct
    // fields).
    for filter in [
        "useridentity.username = 'bob2'",
        "useridentity.arn = 'arn:aws:iam::111122223333:user/bob2'",
        "useridentity.accesskeyid = 'AKIAZZZZZZZZZZZZZZZ0'",
        // A top-level column: DataFusion hands the scan this filter itself.
        "eventid = '80000000-0000-4000-8000-000000000000'",
    ] {
        let out = run(
            &[
                "--source",
                d,
                "--format",
                "csv",
                "-e",
                &format!("EXPLAIN ANALYZE SELECT count(*) FROM cloudtrail WHERE {filter}"),
            ],
            "",
        );
        let plan = text(&out.stdout);
        let (groups, after_statistics) = pruning(&plan, "row_groups_pruned_statistics");
        let (checked, after_bloom) = pruning(&plan, "row_groups_pruned_bloom_filter");
        assert!(groups > 10, "{filter}: {plan}");
        assert_eq!(checked, after_statistics, "{filter}");
        assert_eq!(after_bloom, 0, "{filter}: every row group pruned\n{plan}");
        assert!(
            checked > 0,
            "{filter}: the bloom filters did the pruning\n{plan}"
        );
        assert_eq!(
            csv_answer(
                d,
                &format!("SELECT count(*) AS n FROM cloudtrail WHERE {filter}")
            ),
            "n\n0\n"
        );
    }
}

#[test]
fn a_lookup_by_event_name_opens_only_the_files_that_hold_it() {
    let (raw, dest) = converted_sample(3);
    let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
    let stats = |sql: &str| {
        let out = run(
            &["--source", d, "--stats", "--format", "csv", "-e", sql],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        let scanned: usize = err
            .split("scanned ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{err}"));
        (text(&out.stdout), scanned)
    };
    let files = files_under(dest.path())
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .count();
    // The manifest keeps each file's event names: a rare name opens few
    // files, a common one most, and the answers are the archive's.
    for (sql, few) in [
        ("SELECT eventtime, sourceipaddress FROM cloudtrail WHERE eventname = 'DeleteTable' ORDER BY eventtime", true),
        ("SELECT count(*) AS n FROM cloudtrail WHERE eventname IN ('StopLogging', 'DeleteTrail')", true),
        ("SELECT count(*) AS n FROM cloudtrail WHERE eventname = 'NoSuchCall'", true),
        ("SELECT count(*) AS n FROM cloudtrail WHERE eventname = 'DescribeInstances'", false),
    ] {
        let (answer, scanned) = stats(sql);
        assert_eq!(answer, csv_answer(r, sql), "{sql}");
        if few {
            assert!(scanned * 4 < files, "{sql}: scanned {scanned} of {files}");
        } else {
            assert!(scanned * 2 > files, "{sql}: scanned {scanned} of {files}");
        }
    }
    let (_, none) = stats("SELECT count(*) AS n FROM cloudtrail WHERE eventname = 'NoSuchCall'");
    assert_eq!(none, 0);
}

#[test]
fn rows_are_stored_by_eventtime_then_eventid_with_nulls_last() {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::TimestampMillisecondType;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    // One log file; many events share a second, and eventids that agree on
    // their first 8 bytes must still be ordered by the whole id.
    let event = |time: Option<&str>, id: Option<&str>| {
        let mut e = serde_json::json!({"eventVersion": "1.08", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333"});
        if let Some(t) = time {
            e["eventTime"] = t.into();
        }
        if let Some(i) = id {
            e["eventID"] = i.into();
        }
        e
    };
    let (t1, t2) = (Some("2025-10-01T10:00:00Z"), Some("2025-10-01T09:00:00Z"));
    let records = vec![
        event(t1, Some("abcdefgh-2")),
        event(t1, None),
        event(None, Some("a")),
        event(t1, Some("abcdefgh")),
        event(t1, Some("abcdefgh-10")),
        event(t2, Some("zzz")),
        event(t1, Some("abc")),
        event(t1, Some("abcdefgh\u{0}")),
        event(None, None),
    ];
    let raw = one_log_file(&serde_json::json!({ "Records": records }).to_string());
    let dest = tempfile::tempdir().unwrap();
    convert(raw.path(), dest.path());
    let mut stored = Vec::new();
    let mut files: Vec<_> = files_under(dest.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}"); // 2025-10-01 and the NULL date
    for file in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let times = batch
                .column_by_name("eventtime")
                .unwrap()
                .as_primitive::<TimestampMillisecondType>();
            let ids = batch.column_by_name("eventid").unwrap().as_string::<i32>();
            for i in 0..batch.num_rows() {
                stored.push((
                    times.is_valid(i).then(|| times.value(i)),
                    ids.is_valid(i).then(|| ids.value(i).to_string()),
                ));
            }
        }
    }
    let (ms1, ms2) = (Some(1759312800000), Some(1759309200000));
    let id = |s: &str| Some(s.to_string());
    assert_eq!(
        stored,
        vec![
            (ms2, id("zzz")),
            (ms1, id("abc")),
            (ms1, id("abcdefgh")),
            (ms1, id("abcdefgh\u{0}")),
            (ms1, id("abcdefgh-10")),
            (ms1, id("abcdefgh-2")),
            (ms1, None),
            (None, id("a")),
            (None, None),
        ]
    );
}

#[test]
fn a_shell_session_sees_a_dataset_converted_again_in_its_place() {
    // The session keeps the Parquet footers it has read, known by path,
    // size and the time written. Two one-event archives that differ in
    // one letter give files of the same names and sizes: a session open on
    // the first must read the second once it is put in its place.
    let dest = tempfile::tempdir().unwrap();
    // One archive folder, its one log file rewritten between the two
    // conversions (so the files' `log_object` values are the same too).
    let raw = dest.path().join("raw");
    let day = raw.join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    let dataset = |name: &str, who: &str| {
        std::fs::write(
            day.join("111122223333_CloudTrail_us-east-1_20251001T2355Z_sessionsession00.json"),
            format!(
                r#"{{"Records":[{{"eventVersion":"1.08","eventTime":"2025-10-01T23:50:00Z",
                "eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1",
                "eventID":"session-0000-0000-000000000001","recipientAccountId":"111122223333",
                "userIdentity":{{"type":"IAMUser","userName":"{who}"}}}}]}}"#
            ),
        )
        .unwrap();
        let out = dest.path().join(name);
        // The earlier format names files by commit number alone, so the
        // two datasets' files have the same names (a Delta table's carry a
        // random tag of the run as well).
        convert_as(&raw, &out, OWN);
        out
    };
    let (first, second) = (dataset("ds", "alice"), dataset("d2", "alicf"));
    let sizes = |dir: &Path| -> Vec<(PathBuf, u64)> {
        let mut files: Vec<_> = files_under(dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .map(|p| {
                (
                    p.strip_prefix(dir).unwrap().to_owned(),
                    p.metadata().unwrap().len(),
                )
            })
            .collect();
        files.sort();
        files
    };
    assert_eq!(sizes(&first), sizes(&second));
    // Filters the footer's statistics and bloom filters decide on: stale
    // ones (min = max = 'alice') would leave the new file's row out.
    let who = |name: &str| {
        format!("sql:SELECT useridentity.username AS who FROM cloudtrail WHERE useridentity.username = '{name}';")
    };
    let swap = format!(
        "run:rm -rf '{d}' && mv '{a}' '{d}'",
        d = first.display(),
        a = second.display()
    );
    let out = std::process::Command::new("python3")
        .arg(crate::util::repo().join("tests/it/pty_session.py"))
        .arg(env!("CARGO_BIN_EXE_trailsql"))
        .arg(&first)
        .args([&who("alice"), &who("alice"), &swap, &who("alicf")])
        .env("TERM", "xterm")
        .env("TRAILSQL_HISTORY", dest.path().join("history"))
        .output()
        .expect("python3 runs");
    let t = text(&out.stdout);
    assert!(out.status.success(), "{t}\n{}", text(&out.stderr));
    let answers: Vec<&str> = t
        .lines()
        .filter_map(|l| l.trim().strip_prefix("| "))
        .map(|l| l.trim_end_matches('|').trim())
        .filter(|w| *w != "who")
        .collect();
    assert_eq!(answers, vec!["alice", "alice", "alicf"], "{t}");
    assert!(t.trim_end().ends_with("EXIT 0"), "{t}");
}

#[test]
fn files_are_zstd_where_it_pays_with_statistics_bloom_filters_and_time_deltas() {
    use datafusion::parquet::basic::{Compression, Encoding};
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let (_raw, dest) = converted_sample(2);
    let files: Vec<_> = files_under(dest.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    let mut seen = 0;
    for file in files {
        let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
        let meta = reader.metadata();
        assert!(meta.file_metadata().num_rows() > 0, "{file:?}");
        for group in meta.row_groups() {
            let chunk = |path: &str| {
                group
                    .columns()
                    .iter()
                    .find(|c| c.column_path().string() == path)
                    .unwrap_or_else(|| panic!("no column {path} in {file:?}"))
            };
            // Sorted times as bit-packed differences, not compressed, with
            // statistics for pruning.
            let time = chunk("eventtime");
            assert_eq!(time.compression(), Compression::UNCOMPRESSED);
            assert!(
                time.encodings().any(|e| e == Encoding::DELTA_BINARY_PACKED),
                "{file:?}"
            );
            assert!(time
                .statistics()
                .is_some_and(|s| s.min_bytes_opt().is_some()));
            assert!(time.column_index_offset().is_some(), "page index: {file:?}");
            // Texts and random ids compressed and without statistics (their
            // least and greatest rule nothing out), names of a dictionary
            // not compressed.
            for compressed in ["eventid", "requestid", "requestparameters", "log_object"] {
                let c = chunk(compressed);
                assert!(
                    matches!(c.compression(), Compression::ZSTD(_)),
                    "{compressed}: {file:?}"
                );
                assert!(c.statistics().is_none(), "{compressed}: {file:?}");
            }
            assert!(chunk("eventname").statistics().is_some());
            for plain in ["eventname", "eventsource", "awsregion", "useridentity_arn"] {
                assert_eq!(
                    chunk(plain).compression(),
                    Compression::UNCOMPRESSED,
                    "{plain}: {file:?}"
                );
            }
            for bloom in [
                "eventname",
                "useridentity_arn",
                "eventid",
                "sourceipaddress",
            ] {
                assert!(
                    chunk(bloom).bloom_filter_offset().is_some(),
                    "{bloom}: {file:?}"
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 4);
}

#[test]
fn time_limits_give_the_raw_answers_and_spare_the_files_they_cover() {
    let (raw, dest) = converted_sample(3);
    let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
    // The last time before 2025-10-02 (a file's latest, on a bound).
    let last = csv_answer(
        r,
        "SELECT max(eventtime) AS t FROM cloudtrail WHERE eventtime < '2025-10-02'",
    );
    let last = last.lines().nth(1).unwrap().to_string();
    let count = "SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail WHERE";
    for sql in [
        "SELECT eventid, eventtime FROM cloudtrail WHERE eventtime >= '2025-10-02' AND eventtime < '2025-10-03' ORDER BY eventid".to_string(),
        format!("{count} eventtime > '2025-10-02T13:17:05Z' AND eventtime <= '2025-10-03T02:00:00Z'"),
        format!("{count} eventtime BETWEEN '2025-10-01T23:00:00Z' AND '2025-10-02T01:00:00Z'"),
        format!("{count} '2025-10-02' <= eventtime AND eventname <> 'GetObject'"),
        format!("{count} eventtime >= '{last}'"),
        format!("{count} eventtime > '{last}'"),
        format!("{count} eventtime <= '{last}'"),
        format!("{count} eventtime < '{last}'"),
        format!("{count} eventtime > now() - INTERVAL '36500 days'"),
        format!("{count} eventtime < '2025-10-02' OR eventname = 'DeleteTable'"),
        format!("{count} eventtime >= TIMESTAMP '2025-10-02 06:00:00'"),
        "SELECT count(*) AS n FROM (SELECT eventname FROM cloudtrail WHERE eventtime >= '2025-10-02T12:00:00Z' LIMIT 7)".to_string(),
        "SELECT eventtime, eventname FROM cloudtrail WHERE eventtime > '2025-10-02T22:30:00Z' AND eventtime < '2025-10-03T01:30:00Z' ORDER BY eventtime, eventid".to_string(),
    ] {
        let want = csv_answer(r, &sql);
        assert!(want.lines().count() > 1, "{sql}: {want}");
        assert_eq!(csv_answer(d, &sql), want, "{sql}");
    }
    let plan = |sql: &str| explain(d, sql);
    // A whole day: its files are read without a filter, and without their
    // eventtime column, which the query does not show.
    let day = plan(
        "SELECT eventname, count(*) FROM cloudtrail WHERE eventtime >= '2025-10-02' \
         AND eventtime < '2025-10-03' GROUP BY eventname",
    );
    assert!(!day.contains("FilterExec"), "{day}");
    let scan = day
        .lines()
        .find(|l| l.contains("DataSourceExec"))
        .unwrap_or_else(|| panic!("{day}"));
    assert!(!scan.contains("eventtime"), "{scan}");
    // Cut through a day: those files are filtered.
    let part = plan(
        "SELECT eventname, count(*) FROM cloudtrail WHERE eventtime >= '2025-10-02T06:00:00Z' \
         AND eventtime < '2025-10-03' GROUP BY eventname",
    );
    assert!(part.contains("FilterExec: eventtime"), "{part}");
}

#[test]
fn counts_and_the_time_span_come_from_the_manifest_when_nothing_filters_the_files() {
    let (raw, dest) = converted_sample(3);
    let (r, d) = (raw.path().to_str().unwrap(), dest.path().to_str().unwrap());
    let plan = |sql: &str| explain(d, sql);
    // (query, answered without reading a file)
    for (sql, from_manifest) in [
        (
            "SELECT count(*) AS n, min(eventtime) AS a, max(eventtime) AS b FROM cloudtrail",
            true,
        ),
        (
            "SELECT count(*) AS n, min(eventtime) AS a FROM cloudtrail \
             WHERE eventtime >= '2025-10-02' AND eventtime < '2025-10-03'",
            true,
        ),
        (
            "SELECT count(*) AS n FROM cloudtrail WHERE eventtime >= '2025-10-02T06:00:00Z'",
            false,
        ),
        (
            "SELECT count(*) AS n FROM cloudtrail WHERE eventname = 'DeleteTable'",
            false,
        ),
        ("SELECT count(eventname) AS n FROM cloudtrail", false),
    ] {
        let want = csv_answer(r, sql);
        assert_eq!(csv_answer(d, sql), want, "{sql}");
        let p = plan(sql);
        assert_eq!(!p.contains("DataSourceExec"), from_manifest, "{sql}\n{p}");
    }
}

#[test]
fn the_page_index_is_read_only_for_files_with_pages_to_tell_apart() {
    // One day of 30,000 events in one log file: its column chunks are two
    // pages (a page holds up to 20,000 rows). The first 20,480 events come
    // from one address, the rest from another.
    let records: Vec<String> = (0..30_000)
        .map(|i| {
            let ip = if i < 20_480 { "10.0.0.1" } else { "10.0.0.9" };
            format!(
                r#"{{"eventVersion":"1.08","eventTime":"2025-10-01T{:02}:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"{ip}","eventID":"00000000-0000-4000-8000-{i:012}","recipientAccountId":"111122223333"}}"#,
                i / 3600 % 24,
                i / 60 % 60,
                i % 60
            )
        })
        .collect();
    let raw = one_log_file(&format!(r#"{{"Records":[{}]}}"#, records.join(",")));
    let small = sample(1);
    let (big, few) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    convert(raw.path(), big.path());
    convert(small.path(), few.path());
    // What the log says of the files (a tag on each file's add action).
    let one_page = |dest: &Path| -> Vec<bool> {
        files_in(&dest.join("_delta_log"))
            .iter()
            .filter(|c| c.extension().is_some_and(|x| x == "json"))
            .flat_map(|c| {
                let text = std::fs::read_to_string(c).unwrap();
                text.lines()
                    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                    .filter(|a| a["add"].is_object())
                    .map(|a| {
                        let tag = &a["add"]["tags"]["trailsql.onePage"];
                        tag.as_str().expect("onePage kept") == "true"
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(one_page(big.path()), [false]);
    let small_files = one_page(few.path());
    assert!(small_files.len() > 5 && small_files.iter().all(|&one| one));

    let plan = |d: &Path, sql: &str| explain(d.to_str().unwrap(), &format!("ANALYZE {sql}"));
    // Many pages: the page index leaves out the first page (20,000 rows).
    let sql = "SELECT count(*) FROM cloudtrail WHERE sourceipaddress = '10.0.0.9'";
    let shown = plan(big.path(), sql);
    assert!(
        shown.contains("page_index_rows_pruned=30.00 K total → 10.00 K matched"),
        "{shown}"
    );
    assert_eq!(
        csv_answer(big.path().to_str().unwrap(), sql),
        "count(*)\n9520\n"
    );
    // One page each: not read at all.
    let sql = "SELECT count(*) FROM cloudtrail WHERE sourceipaddress = '192.0.2.1'";
    let shown = plan(few.path(), sql);
    let (groups, _) = pruning(&shown, "row_groups_pruned_statistics");
    assert!(groups > 5, "{shown}");
    assert_eq!(pruning(&shown, "page_index_rows_pruned"), (0, 0), "{shown}");
}
