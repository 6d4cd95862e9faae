//! Converted datasets as Delta Lake tables (what `convert` writes):
//! the same answers as the raw archive, reruns that add only what is new,
//! killed runs that lose and duplicate nothing, compaction as one OPTIMIZE
//! commit, two writers at once, and a Delta reader that is not trailsql
//! (delta-rs's Python package) reading every row and column as trailsql
//! does.

use std::path::{Path, PathBuf};

use crate::convert::{killed_at, next_fraction, sample};
use crate::util::{
    assert_fails_saying, bin, csv_answer, files_in, files_under, python_with, run, text,
};

/// Every event of a source, every column, in one order.
const EVERYTHING: &str = "SELECT * FROM cloudtrail ORDER BY eventid, log_object";

/// `trailsql convert SOURCE DEST --table-format delta ARGS` (the flag
/// names the default): its stderr.
fn convert(source: &Path, dest: &Path, args: &[&str]) -> String {
    let out = run_args(&convert_args(source, dest, args));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stderr)
}

/// `trailsql convert SOURCE DEST --table-format trailsql ARGS`: a dataset
/// in the format of earlier versions.
fn convert_own(source: &Path, dest: &Path, args: &[&str]) {
    let out = run(
        &[
            &[
                "convert",
                source.to_str().unwrap(),
                dest.to_str().unwrap(),
                "--table-format",
                "trailsql",
            ],
            args,
        ]
        .concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn convert_args(source: &Path, dest: &Path, args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = [
        "convert",
        source.to_str().unwrap(),
        dest.to_str().unwrap(),
        "--table-format",
        "delta",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.extend(args.iter().map(|s| s.to_string()));
    all
}

fn run_args(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args, "")
}

fn content(dest: &Path) -> String {
    csv_answer(dest.to_str().unwrap(), EVERYTHING)
}

/// The commit files of the table's log, by version.
fn commits(dest: &Path) -> Vec<PathBuf> {
    if !dest.join("_delta_log").is_dir() {
        return Vec::new();
    }
    let mut out: Vec<PathBuf> = files_in(&dest.join("_delta_log"))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.len() == 25 && name.ends_with(".json")
        })
        .collect();
    out.sort();
    out
}

/// The actions of one commit file.
fn actions(commit: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(commit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The data files the table holds now, by replaying its log's adds and
/// removes (no checkpoint is read: the tests that call this write none).
fn live_files(dest: &Path) -> std::collections::BTreeSet<String> {
    let mut live = std::collections::BTreeSet::new();
    for c in commits(dest) {
        for a in actions(&c) {
            if let Some(path) = a["add"]["path"].as_str() {
                live.insert(path.to_string());
            }
            if let Some(path) = a["remove"]["path"].as_str() {
                live.remove(path);
            }
        }
    }
    live
}

#[test]
fn a_delta_table_gives_the_raw_answers_and_reruns_add_only_what_is_new() {
    let raw = sample(3);
    let dest = tempfile::tempdir().unwrap();
    let said = convert(raw.path(), dest.path(), &[]);
    assert!(
        said.starts_with("converted ") && !said.starts_with("converted 0 "),
        "{said}"
    );
    // Every row and column, as the raw archive gives them.
    let all = csv_answer(raw.path().to_str().unwrap(), EVERYTHING);
    assert!(all.lines().count() > 1000, "{}", all.lines().count());
    assert_eq!(content(dest.path()), all);
    // A Delta log: the table made (version 0), then a commit per group,
    // each adding files with statistics and trailsql's tags, and naming
    // its objects file as the application transaction's version.
    let log = commits(dest.path());
    assert!(log.len() >= 2, "{log:?}");
    let first = actions(&log[0]);
    assert!(first.iter().any(|a| a["protocol"].is_object()), "{first:?}");
    let meta = first.iter().find(|a| a["metaData"].is_object()).unwrap();
    assert_eq!(
        meta["metaData"]["partitionColumns"],
        serde_json::json!(["account", "region", "date"])
    );
    let second = actions(&log[1]);
    let add = second.iter().find(|a| a["add"].is_object()).unwrap();
    let stats: serde_json::Value =
        serde_json::from_str(add["add"]["stats"].as_str().unwrap()).unwrap();
    assert!(stats["numRecords"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["minValues"]["eventtime"].is_string(), "{stats}");
    assert!(
        add["add"]["tags"]["trailsql.eventNames"].is_string(),
        "{add}"
    );
    let txn = second.iter().find(|a| a["txn"].is_object()).unwrap();
    assert_eq!(txn["txn"]["appId"], "trailsql.converted");
    let id = txn["txn"]["version"].as_u64().unwrap();
    assert!(dest
        .path()
        .join(format!("_trailsql_objects/{id:016x}.json"))
        .is_file());
    // No file of trailsql's own format.
    assert!(!dest.path().join("_trailsql").exists());

    // Run again: nothing is new, no commit is made.
    let again = convert(raw.path(), dest.path(), &[]);
    assert!(again.starts_with("converted 0 of "), "{again}");
    assert_eq!(commits(dest.path()).len(), log.len());
    // A new log file: only it is converted, in one more commit.
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251001T2355Z_latelatelatelate.json"),
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"2025-10-01T23:54:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"late-event-1","recipientAccountId":"111122223333"}]}"#,
    )
    .unwrap();
    let third = convert(raw.path(), dest.path(), &[]);
    assert!(third.starts_with("converted 1 of "), "{third}");
    assert_eq!(commits(dest.path()).len(), log.len() + 1);
    assert_eq!(
        csv_answer(
            dest.path().to_str().unwrap(),
            "SELECT eventname FROM cloudtrail WHERE eventid = 'late-event-1'"
        ),
        "eventname\nGetObject\n"
    );
    assert_eq!(
        content(dest.path()),
        csv_answer(raw.path().to_str().unwrap(), EVERYTHING)
    );
}

#[test]
fn a_dataset_keeps_its_format_and_refuses_another() {
    let raw = sample(1);
    let own = tempfile::tempdir().unwrap();
    convert_own(raw.path(), own.path(), &[]);
    let refused = run_args(&convert_args(raw.path(), own.path(), &[]));
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("in trailsql format already"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!own.path().join("_delta_log").exists());
    // An existing Delta table is added to without the flag.
    let dest = tempfile::tempdir().unwrap();
    convert(raw.path(), dest.path(), &[]);
    let out = run(
        &[
            "convert",
            raw.path().to_str().unwrap(),
            dest.path().to_str().unwrap(),
        ],
        "",
    );
    assert!(
        text(&out.stderr).starts_with("converted 0 of "),
        "{}",
        text(&out.stderr)
    );
    assert!(!dest.path().join("_trailsql").exists());
    let bad = run(
        &[
            "convert",
            raw.path().to_str().unwrap(),
            dest.path().to_str().unwrap(),
            "--table-format",
            "iceberg",
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("the table formats are delta and trailsql"));
}

/// Convert `raw` whole; then again into another table, killing runs once
/// they have made a number of commits (a fixed pseudo-random sequence),
/// each carrying on from what the killed one left: the two tables hold the
/// same rows, in as many files, and their chains of objects files name
/// every object once.
fn killed_runs_give_the_whole_table(raw: &Path, args: &[&str]) {
    let whole = tempfile::tempdir().unwrap();
    convert(raw, whole.path(), args);
    let all_commits = commits(whole.path()).len();
    assert!(
        all_commits > 12,
        "{all_commits} commits: too few to kill between"
    );
    let expected = content(whole.path());
    let dest = tempfile::tempdir().unwrap();
    let mut seed: u64 = 0x5eed_2026;
    let mut kills = 0;
    for _ in 0..12 {
        let fraction = next_fraction(&mut seed);
        let done = commits(dest.path()).len();
        let at = done + (fraction * (all_commits.saturating_sub(done) + 1) as f64) as usize;
        let convert: Vec<String> = convert_args(raw, dest.path(), args);
        let convert: Vec<&str> = convert.iter().map(String::as_str).collect();
        if killed_at(&convert, at, || commits(dest.path()).len()) {
            kills += 1;
        }
    }
    assert!(kills > 0, "every run ended before it could be killed");
    let last = convert(raw, dest.path(), args);
    assert_eq!(
        content(dest.path()),
        expected,
        "after {kills} kills; {last}"
    );
    assert_eq!(
        live_files(dest.path()).len(),
        live_files(whole.path()).len()
    );
    // The chain of objects files the table names holds every object: a
    // run after it finds nothing new.
    let again = convert(raw, dest.path(), args);
    assert!(again.starts_with("converted 0 of "), "{again}");
}

#[test]
fn a_delta_conversion_killed_at_any_moment_and_run_again_loses_and_duplicates_nothing() {
    let raw = sample(4);
    killed_runs_give_the_whole_table(raw.path(), &["--group-kib", "16"]);
}

#[test]
fn a_deduplicating_delta_conversion_killed_and_run_again_keeps_each_event_once() {
    let raw = sample(3);
    let region = raw
        .path()
        .join("AWSLogs/444455556666/CloudTrail/eu-west-1/2025/10");
    for day in files_in(&region) {
        for f in files_in(&day) {
            let name = f.file_name().unwrap().to_str().unwrap();
            let copy = name.replace(".json.gz", "x.json.gz");
            std::fs::copy(&f, f.with_file_name(copy)).unwrap();
        }
    }
    killed_runs_give_the_whole_table(raw.path(), &["--dedupe", "--group-kib", "16"]);
    let dest = tempfile::tempdir().unwrap();
    convert(raw.path(), dest.path(), &["--dedupe"]);
    assert_eq!(
        csv_answer(
            dest.path().to_str().unwrap(),
            "SELECT count(*) = count(DISTINCT eventid) AS once FROM cloudtrail"
        ),
        "once\ntrue\n"
    );
}

#[test]
fn compacting_a_delta_table_is_one_optimize_commit_with_the_same_rows() {
    let raw = sample(2);
    let dest = tempfile::tempdir().unwrap();
    convert(raw.path(), dest.path(), &["--group-kib", "1"]);
    let d = dest.path();
    let before = content(d);
    let files_before = live_files(d);
    let log_before = commits(d).len();
    let out = run(&["compact", d.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("compacted "), "{said}");
    // One commit: OPTIMIZE, no data change, every replaced file removed
    // and the merged ones added; the objects files folded into one.
    let log = commits(d);
    assert_eq!(log.len(), log_before + 1);
    let last = actions(log.last().unwrap());
    let info = last.iter().find(|a| a["commitInfo"].is_object()).unwrap();
    assert_eq!(info["commitInfo"]["operation"], "OPTIMIZE", "{info}");
    let removed: Vec<&str> = last
        .iter()
        .filter_map(|a| a["remove"]["path"].as_str())
        .collect();
    assert!(!removed.is_empty());
    assert!(last
        .iter()
        .filter(|a| a["add"].is_object() || a["remove"].is_object())
        .all(|a| a["add"]["dataChange"] == false || a["remove"]["dataChange"] == false));
    let txn = last.iter().find(|a| a["txn"].is_object()).unwrap();
    let id = txn["txn"]["version"].as_u64().unwrap();
    let folded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join(format!("_trailsql_objects/{id:016x}.json"))).unwrap(),
    )
    .unwrap();
    assert!(folded["previous"].is_null(), "{folded}");
    let files_after = live_files(d);
    assert!(
        files_after.len() < files_before.len() / 2,
        "{} -> {}",
        files_before.len(),
        files_after.len()
    );
    assert_eq!(content(d), before);
    // A checkpoint of that version, which readers start from.
    let version = log.len() - 1;
    assert!(d
        .join(format!("_delta_log/{version:020}.checkpoint.parquet"))
        .is_file());
    // The replaced files stay for the versions before (time travel) until
    // a vacuum; a rerun converts nothing again.
    for path in &removed {
        assert!(d.join(path).is_file(), "{path}");
    }
    let again = convert(raw.path(), d, &[]);
    assert!(again.starts_with("converted 0 of "), "{again}");
    assert_eq!(content(d), before);
}

/// The table at `dest` as a query reads it (trailsql's own log reader)
/// and as delta-rs's kernel reads it: the same version, files and
/// statistics, and the own reader did not leave it to delta-rs.
fn assert_log_read_as_delta_rs_reads_it(dest: &Path, what: &str) {
    use trailsql::dataset::{delta, delta_log};
    let place = trailsql::archive::Source::Local(dest.to_path_buf());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ours, theirs) = rt.block_on(async {
        let ours = delta_log::read(&place).await.unwrap();
        let table = delta::load(&place, None).await.unwrap();
        let files = delta::files(&place, &table).unwrap();
        let dedupe = delta::dedupe(&table).unwrap();
        (ours, (delta::version(&table), files, dedupe))
    });
    let delta_log::Log::Read(ours) = ours else {
        panic!("{what}: not read by trailsql's reader: {ours:?}")
    };
    assert!(!theirs.1.is_empty(), "{what}");
    assert_eq!(ours.version, theirs.0, "{what}: version");
    assert_eq!(ours.files, theirs.1, "{what}: files");
    assert_eq!(ours.dedupe, theirs.2, "{what}: dedupe");
}

#[test]
fn a_query_reads_the_log_as_delta_rs_does_from_commits_and_checkpoints() {
    let raw = sample(2);
    // Half the objects first, the rest after a compaction's checkpoint.
    let half = tempfile::tempdir().unwrap();
    for (i, file) in files_under(raw.path()).iter().enumerate() {
        if i % 2 == 0 {
            let to = half.path().join(file.strip_prefix(raw.path()).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(file, to).unwrap();
        }
    }
    let dest = tempfile::tempdir().unwrap();
    let d = dest.path();
    convert(half.path(), d, &["--group-kib", "1", "--dedupe"]);
    assert_log_read_as_delta_rs_reads_it(d, "commits only");
    let out = run(&["compact", d.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let checkpoint = commits(d).len() - 1;
    assert!(d
        .join(format!("_delta_log/{checkpoint:020}.checkpoint.parquet"))
        .is_file());
    assert_log_read_as_delta_rs_reads_it(d, "a checkpoint");
    convert(raw.path(), d, &["--group-kib", "1"]);
    assert!(commits(d).len() > checkpoint + 2);
    assert_log_read_as_delta_rs_reads_it(d, "a checkpoint and commits after it");
    let everything = content(d);
    // The commits before the checkpoint cleaned up, as Delta's log
    // retention does: the checkpoint stands for them.
    for c in commits(d) {
        let name = c.file_name().unwrap().to_str().unwrap();
        if name[..20].parse::<usize>().unwrap() < checkpoint {
            std::fs::remove_file(&c).unwrap();
        }
    }
    assert_log_read_as_delta_rs_reads_it(d, "commits before the checkpoint removed");
    assert_eq!(content(d), everything);
}

#[test]
fn two_conversions_into_one_delta_table_at_once_give_each_event_once() {
    let raw = sample(3);
    let whole = tempfile::tempdir().unwrap();
    convert(raw.path(), whole.path(), &["--group-kib", "16"]);
    let expected = content(whole.path());
    let dest = tempfile::tempdir().unwrap();
    // Made first, so that both runs add to it.
    let empty = tempfile::tempdir().unwrap();
    convert(empty.path(), dest.path(), &[]);
    let spawn = || {
        bin()
            .args(convert_args(
                raw.path(),
                dest.path(),
                &["--group-kib", "16"],
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(b.status.success(), "{}", text(&b.stderr));
    assert_eq!(content(dest.path()), expected);
    let again = convert(raw.path(), dest.path(), &[]);
    assert!(again.starts_with("converted 0 of "), "{again}");
}

#[test]
fn an_independent_delta_reader_reads_every_row_and_column_as_trailsql_does() {
    let raw = sample(2);
    let dest = tempfile::tempdir().unwrap();
    convert(raw.path(), dest.path(), &[]);
    // trailsql's answer as Parquet; delta-rs's Python package reads the
    // table by its log alone.
    let answer = dest.path().join("answer.parquet");
    let out = run(
        &[
            "--source",
            dest.path().to_str().unwrap(),
            "--format",
            "parquet",
            "-o",
            answer.to_str().unwrap(),
            "-e",
            "SELECT * FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let python = python_with(&[
        ("deltalake", "deltalake==1.1.4"),
        ("pyarrow", "pyarrow==21.0.0"),
    ]);
    let script = r#"
import os, sys, deltalake, pyarrow.parquet as pq
table = deltalake.DeltaTable(sys.argv[1])
theirs = table.to_pyarrow_table()
ours = pq.read_table(sys.argv[2])
keys = [("eventid", "ascending"), ("log_object", "ascending")]
theirs, ours = theirs.sort_by(keys), ours.sort_by(keys)
assert theirs.num_rows == ours.num_rows, (theirs.num_rows, ours.num_rows)
for name in ours.column_names:
    a, b = ours.column(name).to_pylist(), theirs.column(name).to_pylist()
    assert a == b, name
    print(name)
print("rows", ours.num_rows)
print("partitions", sorted(set(theirs.column("date").to_pylist()))[0])
# Past the teardown, which deltalake 1.1.4 with pyarrow 21 now and then
# aborts ("terminate called without an active exception").
sys.stdout.flush()
os._exit(0)
"#;
    let checked = std::process::Command::new(python)
        .args([
            "-c",
            script,
            dest.path().to_str().unwrap(),
            answer.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let said = text(&checked.stdout);
    assert!(checked.status.success(), "{said}{}", text(&checked.stderr));
    // Every column of trailsql's table was compared, nested ones too.
    for column in [
        "eventtime",
        "useridentity",
        "resources",
        "requestparameters",
        "log_object",
    ] {
        assert!(said.lines().any(|l| l == column), "{column} in {said}");
    }
    let rows: usize = said
        .lines()
        .find_map(|l| l.strip_prefix("rows "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(rows > 500, "{rows}");
    assert!(said.contains("partitions 2025-"), "{said}");
    assert!(files_under(dest.path())
        .iter()
        .any(|p| p.ends_with("answer.parquet")));
}

#[test]
fn two_conversions_into_one_delta_table_in_s3_at_once_give_each_event_once() {
    use crate::s3::{copy_tree, s3_env, start_server, SECRET};
    let raw = sample(2);
    let whole = tempfile::tempdir().unwrap();
    convert(raw.path(), whole.path(), &["--group-kib", "16"]);
    // The same rows, each with its key below AWSLogs/ for where it was read.
    const KEYED: &str = "SELECT * EXCLUDE (log_object), \
        regexp_replace(log_object, '^.*AWSLogs/', 'AWSLogs/') AS key \
        FROM cloudtrail ORDER BY eventid, key";
    let expected = csv_answer(whole.path().to_str().unwrap(), KEYED);
    // The archive in one bucket, the table made in another (S3's
    // conditional writes keep the two writers' commits apart).
    let root = tempfile::tempdir().unwrap();
    copy_tree(raw.path(), &root.path().join("trail"));
    std::fs::create_dir_all(root.path().join("audit")).unwrap();
    let addr = start_server(root.path());
    let s3 = |args: &[&str]| {
        let mut c = s3_env(bin(), SECRET);
        c.args([
            "--endpoint-url",
            &format!("http://{addr}"),
            "--region",
            "us-east-1",
        ])
        .args(args);
        c
    };
    let args = [
        "convert",
        "s3://trail/",
        "s3://audit/ct-delta",
        "--table-format",
        "delta",
        "--group-kib",
        "16",
    ];
    let made = s3(&[
        "convert",
        "s3://audit/none",
        "s3://audit/ct-delta",
        "--table-format",
        "delta",
    ])
    .output()
    .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let spawn = || {
        s3(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(b.status.success(), "{}", text(&b.stderr));
    let answer = s3(&[
        "--source",
        "s3://audit/ct-delta",
        "--format",
        "csv",
        "-e",
        KEYED,
    ])
    .output()
    .unwrap();
    assert!(answer.status.success(), "{}", text(&answer.stderr));
    assert_eq!(text(&answer.stdout), expected);
    // Each version's commit file was written once: as many as the groups,
    // the table's creation, and none twice.
    let log = commits(&root.path().join("audit/ct-delta"));
    let whole_log = commits(whole.path());
    assert_eq!(log.len(), whole_log.len(), "{log:?}");
}

#[test]
fn history_lists_versions_and_as_of_reads_one_of_them() {
    let raw = sample(2);
    let dest = tempfile::tempdir().unwrap();
    let d = dest.path().to_str().unwrap();
    convert(raw.path(), dest.path(), &[]);
    let first_count = csv_answer(d, "SELECT count(*) AS n FROM cloudtrail");
    let first_version = commits(dest.path()).len() - 1;
    // A later delivery: one more version.
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251001T2355Z_latelatelatelate.json"),
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"2025-10-01T23:54:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"late-event-1","recipientAccountId":"111122223333"}]}"#,
    )
    .unwrap();
    convert(raw.path(), dest.path(), &[]);
    let out = run(&["history", d, "--format", "csv"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let history = text(&out.stdout);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0],
        "version,time,operation,files_added,files_removed,rows_added,objects_converted,written_by"
    );
    assert!(
        lines[1].starts_with("0,") && lines[1].contains(",CREATE TABLE,"),
        "{history}"
    );
    let last = lines.last().unwrap();
    let cells: Vec<&str> = last.split(',').collect();
    assert_eq!(cells[0], (first_version + 1).to_string(), "{history}");
    assert_eq!(cells[2], "WRITE");
    assert_eq!(
        (cells[3], cells[4], cells[5], cells[6]),
        ("1", "0", "1", "1"),
        "{last}"
    );
    assert!(cells[7].starts_with("trailsql "), "{last}");
    // The rows each version added sum to the table's rows.
    let added: u64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(5).unwrap().parse::<u64>().unwrap())
        .sum();
    let now = csv_answer(d, "SELECT count(*) AS n FROM cloudtrail");
    assert_eq!(format!("n\n{added}\n"), now);
    // As of the version before the late delivery: its rows, not the new one.
    let version = first_version.to_string();
    let as_of = |at: &str, sql: &str| {
        let out = run(
            &["--source", d, "--as-of", at, "--format", "csv", "-e", sql],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        as_of(&version, "SELECT count(*) AS n FROM cloudtrail"),
        first_count
    );
    assert_eq!(
        as_of(
            &version,
            "SELECT count(*) AS n FROM cloudtrail WHERE eventid = 'late-event-1'"
        ),
        "n\n0\n"
    );
    // By time: a day after the last commit reads the newest version.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        as_of(&tomorrow, "SELECT count(*) AS n FROM cloudtrail"),
        now
    );
    // A version that is not there, a raw archive, and an old-format dataset
    // are refused with why.
    assert_fails_saying(
        &[
            "--source",
            d,
            "--as-of",
            "999",
            "-e",
            "SELECT 1 FROM cloudtrail",
        ],
        "no version 999",
    );
    let r = raw.path().to_str().unwrap();
    assert_fails_saying(
        &["--source", r, "--as-of", "1", "-e", "SELECT 1"],
        "keeps no versions",
    );
    assert_fails_saying(&["history", r], "not a Delta dataset");
}

#[test]
fn vacuum_deletes_only_what_no_version_needs() {
    let raw = sample(2);
    let dest = tempfile::tempdir().unwrap();
    let d = dest.path();
    convert(raw.path(), d, &["--group-kib", "1"]);
    // A file a killed run left: in no version.
    let stray = d
        .join("account=111122223333/region=us-east-1/date=2025-10-01/part-dead-000001-000.parquet");
    std::fs::write(&stray, b"not committed").unwrap();
    let out = run(&["compact", d.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let replaced: Vec<String> = actions(commits(d).last().unwrap())
        .iter()
        .filter_map(|a| a["remove"]["path"].as_str().map(str::to_string))
        .collect();
    assert!(!replaced.is_empty());
    let content_now = content(d);
    // Kept by default: younger than 7 days.
    let out = run(&["vacuum", d.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("deleted 0 data files and 0 objects files"),
        "{}",
        text(&out.stdout)
    );
    assert!(stray.is_file());
    // A dry run with no retention lists them, deletes nothing.
    let out = run(
        &["vacuum", d.to_str().unwrap(), "--retain", "0h", "--dry-run"],
        "",
    );
    let said = text(&out.stdout);
    assert!(said.contains("would delete"), "{said}");
    assert!(said.contains("part-dead-000001-000.parquet"), "{said}");
    assert!(text(&out.stderr).contains("warning: keeping less than 7 days"));
    assert!(stray.is_file());
    for path in &replaced {
        assert!(d.join(path).is_file());
    }
    let out = run(&["vacuum", d.to_str().unwrap(), "--retain", "0h"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stray.exists());
    for path in &replaced {
        assert!(!d.join(path).exists(), "{path}");
    }
    // Every file of the newest version is there: the same rows.
    for path in live_files(d) {
        assert!(d.join(&path).is_file(), "{path}");
    }
    assert_eq!(content(d), content_now);
    // The objects files the fold made unneeded are gone; the one it made is
    // all that is left.
    let left = files_in(&d.join("_trailsql_objects"));
    assert_eq!(left.len(), 1, "{left:?}");
    let again = convert(raw.path(), d, &[]);
    assert!(again.starts_with("converted 0 of "), "{again}");
    let bad = run(&["vacuum", d.to_str().unwrap(), "--retain", "soon"], "");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("an age is a number of days, hours or minutes"));
}

#[test]
fn an_earlier_format_dataset_is_upgraded_in_place_or_into_a_new_place() {
    let raw = sample(2);
    let old = tempfile::tempdir().unwrap();
    convert_own(raw.path(), old.path(), &["--group-kib", "64"]);
    let expected = content(old.path());
    // Into a new place: the files copied, the old dataset left as it was.
    let new = tempfile::tempdir().unwrap();
    let target = new.path().join("delta");
    let out = run(
        &[
            "convert",
            "--upgrade",
            old.path().to_str().unwrap(),
            target.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("upgraded "),
        "{}",
        text(&out.stderr)
    );
    assert!(target.join("_delta_log").is_dir());
    assert!(!target.join("_trailsql").exists());
    assert!(old.path().join("_trailsql/dataset.json").is_file());
    assert_eq!(content(&target), expected);
    // The objects converted carried over: a rerun from the raw archive
    // converts nothing.
    let again = convert(raw.path(), &target, &[]);
    assert!(again.starts_with("converted 0 of "), "{again}");
    // In place: one commit of every file, and the old manifest gone.
    let out = run(&["convert", "--upgrade", old.path().to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("removed the manifest of the earlier format"));
    assert!(!old.path().join("_trailsql").exists());
    assert_eq!(commits(old.path()).len(), 2);
    assert_eq!(content(old.path()), expected);
    let again = convert(raw.path(), old.path(), &[]);
    assert!(again.starts_with("converted 0 of "), "{again}");
    // Again: nothing to do.
    let out = run(&["convert", "--upgrade", old.path().to_str().unwrap()], "");
    assert!(
        text(&out.stderr).contains("is a Delta table already"),
        "{}",
        text(&out.stderr)
    );
    // An independent reader agrees on what the upgrade holds: every row.
    let python = python_with(&[
        ("deltalake", "deltalake==1.1.4"),
        ("pyarrow", "pyarrow==21.0.0"),
    ]);
    // The interpreter leaves by os._exit: deltalake 1.1.4 with pyarrow 21
    // aborts now and then as the interpreter tears down ("terminate called
    // without an active exception"), after the answer is out.
    let counted = std::process::Command::new(python)
        .args([
            "-c",
            "import os, sys, deltalake\n\
             print(deltalake.DeltaTable(sys.argv[1]).to_pyarrow_table().num_rows)\n\
             sys.stdout.flush()\n\
             os._exit(0)",
            old.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(counted.status.success(), "{}", text(&counted.stderr));
    assert_eq!(
        format!("n\n{}", text(&counted.stdout)),
        csv_answer(
            old.path().to_str().unwrap(),
            "SELECT count(*) AS n FROM cloudtrail"
        )
    );
}

#[test]
fn a_delta_table_in_s3_is_compacted_vacuumed_and_read_as_of_a_version() {
    use crate::s3::{copy_tree, run_s3, start_server, SECRET};
    let raw = tempfile::tempdir().unwrap();
    let st = bin()
        .args([
            "sample",
            raw.path().to_str().unwrap(),
            "--days",
            "2",
            "--events-per-day",
            "30",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let root = tempfile::tempdir().unwrap();
    copy_tree(raw.path(), &root.path().join("trail"));
    std::fs::create_dir_all(root.path().join("audit")).unwrap();
    let addr = start_server(root.path());
    let ok = |args: &[&str]| {
        let out = run_s3(addr, SECRET, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    let table = root.path().join("audit/ct");
    ok(&[
        "convert",
        "s3://trail/",
        "s3://audit/ct",
        "--group-kib",
        "1",
    ]);
    let count = "SELECT count(*) AS n FROM cloudtrail";
    let (before, _) = ok(&["--source", "s3://audit/ct", "--format", "csv", "-e", count]);
    let converted_version = (commits(&table).len() - 1).to_string();
    let files_before = live_files(&table);
    let (_, said) = ok(&["compact", "s3://audit/ct"]);
    assert!(said.contains("compacted "), "{said}");
    let after = live_files(&table);
    assert!(
        after.len() < files_before.len(),
        "{} -> {}",
        files_before.len(),
        after.len()
    );
    assert_eq!(
        ok(&["--source", "s3://audit/ct", "--format", "csv", "-e", count]).0,
        before
    );
    // The version before the compaction reads its own files, still there.
    let (as_of, _) = ok(&[
        "--source",
        "s3://audit/ct",
        "--as-of",
        &converted_version,
        "--format",
        "csv",
        "-e",
        count,
    ]);
    assert_eq!(as_of, before);
    // A vacuum keeping nothing deletes the replaced files in the bucket.
    let (said, _) = ok(&["vacuum", "s3://audit/ct", "--retain", "0h"]);
    let replaced: Vec<&String> = files_before.difference(&after).collect();
    assert!(
        said.contains(&format!("deleted {} data files", replaced.len())),
        "{said}"
    );
    for path in replaced {
        assert!(!table.join(path).exists(), "{path}");
    }
    assert_eq!(
        ok(&["--source", "s3://audit/ct", "--format", "csv", "-e", count]).0,
        before
    );
    let (history, _) = ok(&["history", "s3://audit/ct", "--format", "csv"]);
    assert!(history.contains(",OPTIMIZE,"), "{history}");
    let (_, said) = ok(&["convert", "s3://trail/", "s3://audit/ct"]);
    assert!(said.starts_with("converted 0 of "), "{said}");
}
