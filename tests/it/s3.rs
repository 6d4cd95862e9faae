//! S3 sources against a real S3-protocol server started in the test process
//! (s3s-fs serving a temporary folder: bucket = top-level folder, object =
//! file), with signed requests. Every run sets credentials, a region and the
//! endpoint, so nothing leaves 127.0.0.1.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use crate::util::{bin, csv_answer, files_in, files_under, fixture_archive, text};

pub(crate) use crate::s3server::{start_counting_server, start_server, Counter, KEY, SECRET};
use crate::s3server::{start_faulty_server, Faults};

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Run trailsql against the server at `addr` with `secret`.
pub(crate) fn run_s3(addr: SocketAddr, secret: &str, args: &[&str]) -> Output {
    s3_env(bin(), secret)
        .args([
            "--endpoint-url",
            &format!("http://{addr}"),
            "--region",
            "us-east-1",
        ])
        .args(args)
        .output()
        .unwrap()
}

/// Test credentials for `command`, and nothing from the user's AWS setup.
pub(crate) fn s3_env(mut command: std::process::Command, secret: &str) -> std::process::Command {
    command
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    command
}

const QUESTION: &str = "SELECT eventtime, eventname, recipientaccountid, awsregion, \
    useridentity.arn AS arn, log_object LIKE '%AWSLogs/%' AS has_key FROM cloudtrail \
    ORDER BY eventtime, eventname";

#[test]
fn an_archive_in_s3_gives_the_same_answers_as_its_local_copy() {
    let root = tempfile::tempdir().unwrap();
    // Both layouts: the fixture archive holds a standard and an org trail.
    copy_tree(
        &fixture_archive(),
        &root.path().join("trail-bucket/prefix/more"),
    );
    let addr = start_server(root.path());
    let local = csv_answer(fixture_archive().to_str().unwrap(), QUESTION);
    assert!(local.lines().count() > 3, "{local}");
    for source in [
        "s3://trail-bucket/prefix/more",
        "s3://trail-bucket/prefix/more/AWSLogs/",
        "s3://trail-bucket",
    ] {
        let out = run_s3(
            addr,
            SECRET,
            &["--source", source, "--format", "csv", "-e", QUESTION],
        );
        assert!(out.status.success(), "{source}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), local, "{source}");
    }
    // One account's folder only.
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket/prefix/more/AWSLogs/111122223333/",
            "--format",
            "csv",
            "-e",
            "SELECT DISTINCT recipientaccountid FROM cloudtrail",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        "recipientaccountid\n111122223333\n",
        "{}",
        text(&out.stderr)
    );
    // Where the rows came from.
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket/prefix/more",
            "--format",
            "csv",
            "-e",
            "SELECT DISTINCT log_object FROM cloudtrail WHERE eventname = 'DeleteTable'",
        ],
    );
    let t = text(&out.stdout);
    assert!(t.contains("s3://trail-bucket/prefix/more/AWSLogs/"), "{t}");
    // A hunt (Sigma rules and the built-in detections) finds the same in
    // S3 as on disk.
    let rules = crate::util::repo().join("tests/data/sigma");
    let hunt = |source: &str| {
        let args = [
            "--source",
            source,
            "--format",
            "csv",
            "hunt",
            "--sigma",
            rules.to_str().unwrap(),
        ];
        let out = match source.starts_with("s3://") {
            true => run_s3(addr, SECRET, &args),
            false => crate::util::run(&args, ""),
        };
        assert!(out.status.success(), "{source}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let local = hunt(fixture_archive().to_str().unwrap());
    assert_eq!(local.lines().count(), 1 + 8 + 10, "{local}");
    assert_eq!(hunt("s3://trail-bucket/prefix/more"), local);
}

#[test]
fn errors_name_the_bucket_and_say_what_to_check() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let addr = start_server(root.path());
    let sql = "SELECT count(*) FROM cloudtrail";
    // A bucket that does not exist.
    let out = run_s3(
        addr,
        SECRET,
        &["--source", "s3://no-such-bucket/x", "-e", sql],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3://no-such-bucket/") && err.contains("no such bucket"),
        "{err}"
    );
    // Credentials the server refuses; the secret never shows.
    let out = run_s3(
        addr,
        "wrong-secret",
        &["--source", "s3://trail-bucket", "-e", sql],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3://trail-bucket/") && err.contains("access denied"),
        "{err}"
    );
    assert!(
        !err.contains("wrong-secret") && !err.contains(SECRET),
        "{err}"
    );
}

#[test]
fn a_query_lists_only_the_days_it_needs() {
    // The sample archive (two accounts, three regions, two months) in S3.
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("trail-bucket/logs");
    assert!(bin()
        .args(["sample", bucket.to_str().unwrap(), "--events-per-day", "10"])
        .status()
        .unwrap()
        .success());
    let (addr, seen) = start_counting_server(root.path());
    let day_sql = "SELECT count(*) AS n FROM cloudtrail WHERE recipientaccountid = '111122223333' \
                   AND awsregion = 'eu-west-1' AND eventtime >= '2025-10-20' AND eventtime < '2025-10-21'";
    let local = csv_answer(bucket.to_str().unwrap(), day_sql);
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket/logs",
            "--format",
            "csv",
            "-e",
            day_sql,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), local);
    let mut r = std::mem::take(&mut *seen.lock().unwrap());
    // The day folders are listed concurrently: in any order.
    r.lists.sort();
    // Where AWSLogs/ is, which accounts there are, then the day folders the
    // time limits can hold, as local pruning reads them: the day before (clock
    // skew), the days the limits touch (the end, exclusive at midnight, still
    // names the 21st) and two more for late delivery (--late-days). Never the
    // whole bucket. (First, whether the place is a Delta table: a listing
    // of its log folder, which finds nothing.)
    assert_eq!(
        r.lists,
        [
            "logs/",
            "logs/AWSLogs/",
            "logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/19/",
            "logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/20/",
            "logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/21/",
            "logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/22/",
            "logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/23/",
            "logs/_delta_log/",
        ]
    );
    // GETs: only the files of those five folders.
    let files = (19..=23)
        .map(|d| {
            std::fs::read_dir(bucket.join(format!(
                "AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/{d}"
            )))
            .map(|r| r.count())
            .unwrap_or(0)
        })
        .sum::<usize>();
    assert_eq!(r.gets, files);
    // A month, every account and region: the month's day folders, under the
    // regions each account has.
    let month_sql = "SELECT count(*) AS n FROM cloudtrail \
                     WHERE eventtime >= '2025-11-01' AND eventtime < '2025-12-01'";
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket/logs/AWSLogs/",
            "--format",
            "csv",
            "-e",
            month_sql,
        ],
    );
    assert_eq!(
        text(&out.stdout),
        csv_answer(bucket.to_str().unwrap(), month_sql),
        "{}",
        text(&out.stderr)
    );
    let r = std::mem::take(&mut *seen.lock().unwrap());
    let day_lists: Vec<&String> = r
        .lists
        .iter()
        .filter(|p| p.matches('/').count() == 8)
        .collect();
    // 2 accounts x 3 regions x (10-31, the 30 days of November, 12-01 to 12-03).
    assert_eq!(day_lists.len(), 2 * 3 * 34, "{:?}", r.lists);
    assert!(day_lists.iter().all(|p| p.contains("/2025/11/")
        || p.ends_with("/2025/10/31/")
        || p.contains("/2025/12/0")));
    // The folders above: AWSLogs/ (accounts) and each account's regions;
    // and the probe for a Delta log.
    assert_eq!(r.lists.len() - day_lists.len(), 1 + 2 + 1, "{:?}", r.lists);
}

#[test]
fn throttling_and_cut_connections_are_retried() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    // Every second GET throttled, every third cut: every object needs
    // retries, and every answer must still be complete.
    let (addr, seen) = start_faulty_server(
        root.path(),
        Faults {
            slow_down: 2,
            drop: 3,
            ..Faults::default()
        },
    );
    let local = csv_answer(fixture_archive().to_str().unwrap(), QUESTION);
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket",
            "--format",
            "csv",
            "-e",
            QUESTION,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), local);
    // More GETs than log files: the faults were met, and retried.
    let log_files = walk_count(&fixture_archive(), "_CloudTrail_");
    assert_eq!(log_files, 3);
    let gets = seen.lock().unwrap().gets;
    assert!(gets > log_files, "{gets} GETs for {log_files} log files");
}

/// Files under `dir` whose name contains `needle`.
fn walk_count(dir: &Path, needle: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_count(&e.path(), needle)
            } else {
                usize::from(e.file_name().to_string_lossy().contains(needle))
            }
        })
        .sum()
}

#[test]
fn credentials_come_from_the_sdk_chain_profiles_and_credential_process() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let addr = start_server(root.path());
    let aws = tempfile::tempdir().unwrap();
    let credentials = aws.path().join("credentials");
    std::fs::write(
        &credentials,
        format!("[trail]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let config = aws.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile proc]\nregion = us-east-1\ncredential_process = printf '{{\"Version\":1,\"AccessKeyId\":\"{KEY}\",\"SecretAccessKey\":\"{SECRET}\"}}'\n"
        ),
    )
    .unwrap();
    let endpoint = format!("http://{addr}");
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = bin();
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args([
                "--endpoint-url",
                &endpoint,
                "--region",
                "us-east-1",
                "--source",
                "s3://trail-bucket",
            ])
            .args([
                "--format",
                "csv",
                "-e",
                "SELECT count(*) AS n FROM cloudtrail",
            ])
            .args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let want = csv_answer(
        fixture_archive().to_str().unwrap(),
        "SELECT count(*) AS n FROM cloudtrail",
    );
    // A profile in the shared credentials file, by option and by AWS_PROFILE.
    for out in [
        run(&["--profile", "trail"], &[]),
        run(&[], &[("AWS_PROFILE", "trail")]),
    ] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), want);
    }
    // A profile whose credentials come from credential_process.
    let out = run(&["--profile", "proc"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), want);
    // No credentials anywhere: said so, with what to do.
    let out = run(&["--profile", "nobody"], &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no AWS credentials were found")
            && err.contains("--no-sign-request")
            && !err.contains("check the endpoint")
            && !err.contains("External error"),
        "{err}"
    );
}

/// `--no-sign-request` reads a public bucket without any credentials; a
/// private one refuses it (access denied, said as such); without the flag
/// and without credentials the error names the flag.
#[test]
fn no_sign_request_reads_a_public_bucket_without_credentials() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let public = Faults {
        public: true,
        ..Faults::default()
    };
    let (public_addr, _) = start_faulty_server(root.path(), public);
    let private_addr = start_server(root.path());
    let local = csv_answer(fixture_archive().to_str().unwrap(), QUESTION);
    let anonymous = |addr: SocketAddr, extra: &[&str]| {
        let nowhere = tempfile::tempdir().unwrap();
        bin()
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.path().join("none"))
            .env("AWS_CONFIG_FILE", nowhere.path().join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args([
                "--endpoint-url",
                &format!("http://{addr}"),
                "--region",
                "us-east-1",
            ])
            .args(extra)
            .args([
                "--source",
                "s3://trail-bucket",
                "--format",
                "csv",
                "-e",
                QUESTION,
            ])
            .output()
            .unwrap()
    };
    let out = anonymous(public_addr, &["--no-sign-request"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), local);
    let out = anonymous(public_addr, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--no-sign-request"), "{err}");
    let out = anonymous(private_addr, &["--no-sign-request"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3://trail-bucket") && err.contains("access denied"),
        "{err}"
    );
}

#[test]
fn with_a_cache_the_second_query_downloads_nothing() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let (addr, seen) = start_counting_server(root.path());
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let query = |args: &[&str]| {
        let mut all = vec![
            "--source",
            "s3://trail-bucket",
            "--cache",
            c,
            "--format",
            "csv",
            "-e",
            QUESTION,
        ];
        all.extend_from_slice(args);
        let out = run_s3(addr, SECRET, &all);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let gets = std::mem::take(&mut seen.lock().unwrap().gets);
        (text(&out.stdout), gets)
    };
    let local = csv_answer(fixture_archive().to_str().unwrap(), QUESTION);
    let log_files = walk_count(&fixture_archive(), "_CloudTrail_");
    assert_eq!(query(&[]), (local.clone(), log_files));
    // The same days again: everything from the cache.
    assert_eq!(query(&[]), (local.clone(), 0));
    // One object rewritten on the server (same events, other bytes, a new
    // ETag): that one is fetched again.
    let day = root
        .path()
        .join("trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15");
    let file = files_in(&day).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(b'\n');
    std::fs::write(&file, bytes).unwrap();
    assert_eq!(query(&[]), (local, 1));
}

/// Everything `args` writes, run in a pseudo-terminal (stdout and stderr both
/// the terminal), against the server at `addr`.
fn run_s3_in_terminal(addr: SocketAddr, args: &[&str]) -> String {
    let endpoint = format!("http://{addr}");
    let out = s3_env(crate::util::in_terminal(), SECRET)
        .args(["--endpoint-url", &endpoint, "--region", "us-east-1"])
        .args(args)
        .output()
        .expect("python3 runs (it is on the machine image)");
    text(&out.stdout)
}

#[test]
fn a_long_scan_shows_progress_on_a_terminal_and_nothing_in_a_pipe() {
    // A two-day sample (about 60 objects) behind 30 ms per request, fetched
    // one at a time: a scan of about two seconds.
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("trail-bucket");
    assert!(bin()
        .args([
            "sample",
            bucket.to_str().unwrap(),
            "--days",
            "2",
            "--events-per-day",
            "20"
        ])
        .status()
        .unwrap()
        .success());
    let (addr, _) = start_faulty_server(
        root.path(),
        Faults {
            delay_ms: 30,
            ..Faults::default()
        },
    );
    let sql = "SELECT count(*) AS events FROM cloudtrail";
    let args = [
        "--source",
        "s3://trail-bucket",
        "--max-concurrency",
        "1",
        "-e",
        sql,
    ];
    let objects = files_under(&bucket.join("AWSLogs"))
        .iter()
        .filter(|f| f.to_str().unwrap().contains("/CloudTrail/"))
        .count();

    // On a terminal: the progress line, cleared before the result prints.
    let screen = run_s3_in_terminal(addr, &args);
    let last = screen
        .rfind("events/s")
        .unwrap_or_else(|| panic!("no progress in:\n{screen}"));
    assert!(
        screen.contains(&format!("/{objects} objects ({objects} listed)")),
        "{screen}"
    );
    let result = screen
        .find("| events")
        .unwrap_or_else(|| panic!("no result in:\n{screen}"));
    assert!(last < result, "{screen}");
    assert!(
        screen[last..result].contains("\x1b[2K"),
        "not cleared:\n{screen}"
    );

    // Piped: the same answer and nothing else on stderr.
    let out = run_s3(addr, SECRET, &args);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    assert!(text(&out.stdout).contains("| events"));

    // Asked for with --progress always, even piped: the final state stays.
    let mut always = args.to_vec();
    always.extend(["--progress", "always"]);
    let out = run_s3(addr, SECRET, &always);
    assert!(
        text(&out.stderr).contains(&format!("{objects}/{objects} objects")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bucket_in_another_region_is_named() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let (addr, _) = start_faulty_server(
        root.path(),
        Faults {
            region: Some("eu-west-1"),
            ..Faults::default()
        },
    );
    let sql = "SELECT count(*) AS n FROM cloudtrail";
    // run_s3 signs for us-east-1.
    let out = run_s3(addr, SECRET, &["--source", "s3://trail-bucket", "-e", sql]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3://trail-bucket/")
            && err.contains("the bucket is in eu-west-1: give --region eu-west-1"),
        "{err}"
    );
    // With the region it names, the same source reads.
    let out = s3_env(bin(), SECRET)
        .args([
            "--endpoint-url",
            &format!("http://{addr}"),
            "--region",
            "eu-west-1",
        ])
        .args([
            "--source",
            "s3://trail-bucket",
            "--format",
            "csv",
            "-e",
            sql,
        ])
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        csv_answer(fixture_archive().to_str().unwrap(), sql),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_object_denied_or_gone_stops_the_query_and_is_named() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15/";
    let sql = "SELECT count(*) AS n FROM cloudtrail";
    for (faults, says) in [
        (
            Faults {
                deny: Some(day),
                ..Faults::default()
            },
            "access denied",
        ),
        (
            Faults {
                gone: Some(day),
                ..Faults::default()
            },
            "not found",
        ),
    ] {
        let (addr, _) = start_faulty_server(root.path(), faults);
        let out = run_s3(addr, SECRET, &["--source", "s3://trail-bucket", "-e", sql]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("s3://trail-bucket/{day}")) && err.contains(says),
            "{err}"
        );
        assert_eq!(text(&out.stdout), "", "no partial answer");
    }
}

#[test]
fn create_external_table_reads_an_s3_location() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let addr = start_server(root.path());
    let sql = "CREATE EXTERNAL TABLE org STORED AS CLOUDTRAIL \
               LOCATION 's3://trail-bucket/AWSLogs/o-abc123def4/'; \
               SELECT count(*) AS n FROM org;";
    let out = run_s3(addr, SECRET, &["--format", "csv", "-e", sql]);
    let local = csv_answer(
        fixture_archive()
            .join("AWSLogs/o-abc123def4")
            .to_str()
            .unwrap(),
        "SELECT count(*) AS n FROM cloudtrail",
    );
    assert_eq!(text(&out.stdout), local, "{}", text(&out.stderr));
    assert_ne!(local, "n\n0\n");
}

#[test]
fn convert_reads_from_and_writes_to_s3() {
    let root = tempfile::tempdir().unwrap();
    let raw = root.path().join("trail-bucket/raw");
    assert!(bin()
        .args([
            "sample",
            raw.to_str().unwrap(),
            "--days",
            "2",
            "--events-per-day",
            "30"
        ])
        .status()
        .unwrap()
        .success());
    let addr = start_server(root.path());
    let everything = "SELECT * FROM cloudtrail ORDER BY eventid, log_object";
    let query = |source: &str| {
        let out = run_s3(
            addr,
            SECRET,
            &["--source", source, "--format", "csv", "-e", everything],
        );
        assert!(out.status.success(), "{source}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let convert = || {
        let out = run_s3(
            addr,
            SECRET,
            // The earlier format: its leftovers removed by the next run, its
            // compaction deleting what it merged (a Delta table in S3:
            // tests/it/delta.rs).
            &[
                "convert",
                "s3://trail-bucket/raw",
                "s3://trail-bucket/ds",
                "--table-format",
                "trailsql",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let first = convert();
    assert!(first.contains("into s3://trail-bucket/ds"), "{first}");
    let expected = query("s3://trail-bucket/raw");
    assert!(expected.lines().count() > 100);
    assert_eq!(query("s3://trail-bucket/ds"), expected);
    // The objects are in the bucket, in the Hive layout.
    assert!(root
        .path()
        .join("trail-bucket/ds/account=111122223333/region=us-east-1/date=2025-10-01")
        .is_dir());
    // Nothing new: nothing converted. A file a killed run left: removed.
    let stray = root
        .path()
        .join("trail-bucket/ds/account=111122223333/region=us-east-1/date=2025-10-01/part-9999999999-000.parquet");
    std::fs::copy(
        files_under(&root.path().join("trail-bucket/ds/account=111122223333"))
            .into_iter()
            .find(|p| p.extension().is_some_and(|x| x == "parquet"))
            .unwrap(),
        &stray,
    )
    .unwrap();
    let again = convert();
    assert!(again.starts_with("converted 0 of"), "{again}");
    assert!(
        again.contains("removed 1 file an interrupted run had left"),
        "{again}"
    );
    assert!(!stray.exists());
    assert_eq!(query("s3://trail-bucket/ds"), expected);
    // Athena DDL for the dataset where it is.
    let out = run_s3(addr, SECRET, &["athena-ddl", "s3://trail-bucket/ds"]);
    let ddl = text(&out.stdout);
    assert!(
        ddl.contains("LOCATION 's3://trail-bucket/ds/'"),
        "{ddl}{}",
        text(&out.stderr)
    );
    // Compaction in S3: small groups give many objects per partition; they
    // are merged, the merged ones deleted, the rows the same.
    let out = run_s3(
        addr,
        SECRET,
        &[
            "convert",
            "s3://trail-bucket/raw",
            "s3://trail-bucket/small",
            "--group-kib",
            "1",
            "--table-format",
            "trailsql",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let parquet = || {
        files_under(&root.path().join("trail-bucket/small"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .count()
    };
    let before = parquet();
    let out = run_s3(addr, SECRET, &["compact", "s3://trail-bucket/small"]);
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.starts_with(&format!("compacted {before} files into ")),
        "{said}"
    );
    assert!(parquet() < before / 3, "{} of {before} left", parquet());
    assert_eq!(query("s3://trail-bucket/small"), expected);
}

/// `hunt --evidence` over a bucket: each object read is in the pack by its
/// key, with its ETag (or, as this test server lists none, its size and
/// last-modified time) and the SHA-256 of its bytes as fetched;
/// `evidence check --logs` fetches them again, passes as written, and
/// names the one object rewritten on the server after the run.
#[test]
fn an_evidence_pack_of_a_bucket_names_each_object_by_key_and_etag() {
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("trail-bucket");
    copy_tree(&fixture_archive(), &bucket);
    let addr = start_server(root.path());
    let out_dir = tempfile::tempdir().unwrap();
    let pack = out_dir.path().join("pack");
    let p = pack.to_str().unwrap();
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket",
            "--format",
            "csv",
            "hunt",
            "--evidence",
            p,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = crate::util::manifest_of(&pack);
    let objects = manifest["source_objects"].as_array().unwrap();
    let log_files = walk_count(&fixture_archive(), "_CloudTrail_");
    assert_eq!(objects.len(), log_files, "{objects:?}");
    for o in objects {
        assert_eq!(o["source"], "s3://trail-bucket/", "{o}");
        let location = o["location"].as_str().unwrap();
        let key = location.trim_start_matches("s3://trail-bucket/");
        let bytes = std::fs::read(bucket.join(key)).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(o["sha256"], trailsql::verify::sha256_hex(&bytes), "{o}");
        assert_eq!(o["size"], bytes.len(), "{o}");
        let version = o["version"].as_str().unwrap_or_else(|| panic!("{o}"));
        assert!(
            !version.is_empty() && !version.starts_with("modified"),
            "{o}"
        );
    }
    let check = || run_s3(addr, SECRET, &["evidence", "check", p, "--logs"]);
    let first = check();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stdout));
    let day = bucket.join("AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15");
    let file = files_in(&day).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(b'\n');
    std::fs::write(&file, bytes).unwrap();
    let again = check();
    let said = text(&again.stdout);
    assert_eq!(again.status.code(), Some(1), "{said}");
    let name = file.file_name().unwrap().to_str().unwrap();
    let changed: Vec<&str> = said.lines().filter(|l| l.starts_with("changed")).collect();
    assert_eq!(changed.len(), 1, "{said}");
    assert!(changed[0].contains(name), "{said}");
}
