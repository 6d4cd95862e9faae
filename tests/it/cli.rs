//! The binary as a user drives it: -e, -f, stdin, formats, bad input, pruning.

use crate::util::{assert_fails_saying, csv_answer, fixture_archive, run, text};

fn src() -> String {
    fixture_archive().display().to_string()
}

const WHO: &str = "SELECT eventTime, userIdentity.userName, sourceIPAddress FROM cloudtrail WHERE eventName = 'DeleteTable' AND errorCode IS NULL";

#[test]
fn execute_answers_the_question_as_typed() {
    let csv = csv_answer(&src(), WHO);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(lines[1], "2023-10-15T14:32:00Z,alice,203.0.113.77");
}

#[test]
fn stdin_and_file_and_athena_table_name() {
    let sql = "SELECT count(*) AS n FROM cloudtrail_logs;\nSELECT eventname FROM cloudtrail WHERE eventtime = '2023-10-15T23:58:30Z';";
    let out = run(&["--source", &src(), "--format", "csv"], sql);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n\n5\neventname\nStopLogging\n");

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.sql");
    std::fs::write(
        &f,
        "-- a comment\nSELECT eventname FROM t ORDER BY eventtime LIMIT 1;",
    )
    .unwrap();
    let named = format!("t={}", src());
    let out = run(
        &[
            "--source",
            &named,
            "--format",
            "ndjson",
            "-f",
            f.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\"eventname\":\"ConsoleLogin\"}\n");
}

#[test]
fn non_log_objects_are_counted_not_errors() {
    let out = run(
        &[
            "--source",
            &src(),
            "--stats",
            "-e",
            "SELECT count(*) FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("read 3 of 3 log files"), "{err}");
    assert!(err.contains("1 digest file"), "{err}");
    assert!(
        err.contains("2 objects that are not log files ignored"),
        "{err}"
    );
}

#[test]
fn pruning_opens_only_files_that_can_match_and_keeps_late_deliveries() {
    // The StopLogging event of 10-15 23:58 was delivered in the 10-16 folder.
    let sql = "SELECT eventname FROM cloudtrail WHERE eventtime >= '2023-10-15T20:00:00Z' AND eventtime < '2023-10-16' \
               AND awsregion = 'us-east-1' AND recipientaccountid = '111122223333' ORDER BY eventtime";
    let out = run(
        &["--source", &src(), "--stats", "--format", "csv", "-e", sql],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "eventname\nStopLogging\n");
    let err = text(&out.stderr);
    assert!(err.contains("read 2 of 3 log files (1 pruned"), "{err}");

    let sql = "SELECT count(*) AS n FROM cloudtrail WHERE awsregion IN ('eu-west-1')";
    let out = run(
        &["--source", &src(), "--stats", "--format", "csv", "-e", sql],
        "",
    );
    assert_eq!(text(&out.stdout), "n\n1\n");
    assert!(
        text(&out.stderr).contains("read 1 of 3 log files (2 pruned"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn json_functions_with_athena_names() {
    let sql = "SELECT json_extract_scalar(requestparameters, '$.tableName') AS t, \
               json_extract(responseelements, '$.instancesSet.items[0].currentState') AS s \
               FROM cloudtrail WHERE json_extract_scalar(requestparameters, '$.tableName') = 'prod-orders' \
               OR eventname = 'TerminateInstances' ORDER BY eventtime";
    let answer = csv_answer(&src(), sql);
    assert_eq!(
        answer,
        "t,s\nprod-orders,\nprod-orders,\n,\"{\"\"code\"\":32,\"\"name\"\":\"\"shutting-down\"\"}\"\n"
    );
}

#[test]
fn nested_fields_and_time_comparisons() {
    let sql = "SELECT useridentity.sessioncontext.sessionissuer.username AS issuer, resources[1]['arn'] AS arn \
               FROM cloudtrail WHERE eventtime BETWEEN '2023-10-15' AND '2023-10-16T00:00:00Z' \
               AND (useridentity.type = 'AssumedRole' OR resources IS NOT NULL) ORDER BY eventtime";
    let answer = csv_answer(&src(), sql);
    assert_eq!(
        answer,
        "issuer,arn\n,arn:aws:dynamodb:us-east-1:111122223333:table/prod-orders\nAWSReservedSSO_Admin_0123,\n"
    );
}

#[test]
fn table_output_escapes_control_characters() {
    let out = run(
        &[
            "--source",
            &src(),
            "-e",
            "SELECT useragent FROM cloudtrail WHERE eventname = 'ConsoleLogin'",
        ],
        "",
    );
    let s = text(&out.stdout);
    assert!(!s.contains('\u{1b}'), "{s}");
    assert!(s.contains("Mozilla/5.0\\u{001b}[31m evil"), "{s}");
    assert!(s.contains("(1 row)"), "{s}");
}

#[test]
fn json_output_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("out.json");
    let sql =
        "SELECT eventname, useridentity.type AS t FROM cloudtrail WHERE awsregion = 'eu-west-1'";
    let out = run(
        &[
            "--source",
            &src(),
            "--format",
            "json",
            "-o",
            o.to_str().unwrap(),
            "-e",
            sql,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&o).unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"eventname":"TerminateInstances","t":"AWSService"}])
    );
}

#[test]
fn copy_to_csv_from_sql() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("deleted.csv");
    let sql = format!(
        "COPY (SELECT eventname, sourceipaddress FROM cloudtrail WHERE eventname = 'DeleteTable' ORDER BY eventtime) TO '{}' STORED AS CSV",
        o.display()
    );
    let out = run(&["--source", &src(), "-e", &sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&o).unwrap(),
        "eventname,sourceipaddress\nDeleteTable,192.0.2.15\nDeleteTable,203.0.113.77\n"
    );
}

#[test]
fn create_external_table_stored_as_cloudtrail() {
    let sql = format!(
        "CREATE EXTERNAL TABLE org STORED AS CLOUDTRAIL LOCATION '{}/AWSLogs/o-abc123def4/';\nSELECT count(*) AS n FROM org;",
        src()
    );
    let out = run(&["--format", "csv", "-e", &sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n\n1\n");
}

fn bad_archive() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15");
    std::fs::create_dir_all(&day).unwrap();
    let name = |s: &str| {
        day.join(format!(
            "111122223333_CloudTrail_us-east-1_20231015T1200Z_{s}.json.gz"
        ))
    };
    let good = br#"{"Records":[{"eventName":"A","eventTime":"2023-10-15T11:59:00Z"},{"eventName":"B","eventTime":"2023-10-15T11:58:00Z","readOnly":"yes"}]}"#;
    let gz = |b: &[u8]| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    std::fs::write(name("good000000000000"), gz(good)).unwrap();
    let whole = gz(br#"{"Records":[{"eventName":"C"},{"eventName":"D"}]}"#);
    std::fs::write(name("truncated0000000"), &whole[..whole.len() / 2]).unwrap();
    std::fs::write(name("notjson000000000"), gz(b"hello")).unwrap();
    std::fs::write(name("norecords0000000"), gz(br#"{"foo":[]}"#)).unwrap();
    std::fs::write(name("empty00000000000"), b"").unwrap();
    // Two gzip members in one file (as `cat a.gz b.gz` makes): both are read.
    let mut two = gz(br#"{"Records":[{"eventName":"F"}]}"#);
    two.extend(gz(br#"{"Records":[{"eventName":"G"}]}"#));
    std::fs::write(name("twomembers000000"), two).unwrap();
    // Bytes after the gzip data: the file is skipped, not read in part.
    let mut tail = gz(br#"{"Records":[{"eventName":"H"}]}"#);
    tail.extend(b"junk");
    std::fs::write(name("trailing00000000"), tail).unwrap();
    std::fs::write(
        name("badrecord0000000"),
        gz(br#"{"Records":[42,{"eventName":"E"}]}"#),
    )
    .unwrap();
    dir
}

#[test]
fn bad_files_are_reported_counted_and_skipped() {
    let dir = bad_archive();
    let src = dir.path().display().to_string();
    // Reads readonly, where record B has "yes": counted as a value of an unexpected type.
    let sql = "SELECT eventname, readonly FROM cloudtrail ORDER BY eventname";
    let out = run(&["--source", &src, "--format", "csv", "-e", sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "eventname,readonly\nA,\nB,\nE,\nF,\nG,\n"
    );
    let err = text(&out.stderr);
    for (file, reason) in [
        ("truncated0000000", "corrupt or truncated gzip"),
        ("notjson000000000", "not a JSON object or array"),
        ("norecords0000000", "no \"Records\" or \"Events\" array"),
        ("empty00000000000", "empty file"),
        ("trailing00000000", "4 bytes after the end of the gzip data"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(file) && l.contains(reason)),
            "{file}: {err}"
        );
    }
    assert!(
        err.lines()
            .any(|l| l.contains("badrecord0000000") && l.contains("record 0 skipped")),
        "{err}"
    );
    assert!(err.contains("5 files skipped as unreadable; 1 record skipped; 1 value of an unexpected type kept in extra_fields"), "{err}");
}

#[test]
fn strict_turns_problems_into_errors() {
    let dir = bad_archive();
    let src = dir.path().display().to_string();
    assert_fails_saying(
        &[
            "--source",
            &src,
            "--strict",
            "-e",
            "SELECT count(*) FROM cloudtrail",
        ],
        "(--strict)",
    );
}

#[test]
fn errors_are_clear_and_exit_2() {
    assert_fails_saying(
        &["--source", "/no/such/place", "-e", "SELECT 1"],
        "/no/such/place",
    );
    assert_fails_saying(
        &["--source", &src(), "-e", "SELECT nope FROM cloudtrail"],
        "nope",
    );
    assert_fails_saying(
        &[
            "--source",
            &src(),
            "-e",
            "SELECT json_extract_scalar(requestparameters, 'bad') FROM cloudtrail",
        ],
        "JSON path must start with $",
    );
}

#[test]
fn one_log_file_as_source() {
    let f = fixture_archive().join(
        "AWSLogs/o-abc123def4/444455556666/CloudTrail/eu-west-1/2023/10/17/444455556666_CloudTrail_eu-west-1_20231017T1205Z_Mm1Nn2Oo3Pp4Qq5R.json",
    );
    let out = run(
        &[
            "--source",
            f.to_str().unwrap(),
            "--format",
            "csv",
            "-e",
            "SELECT eventname, log_object LIKE '%Mm1Nn2%' AS traced FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "eventname,traced\nTerminateInstances,true\n"
    );
}

/// Read one line of stdout, close the pipe, and return the exit code.
fn exit_after_one_line(cmd: &mut std::process::Command) -> Option<i32> {
    use std::io::BufRead;
    let mut child = crate::util::spawn_piped(cmd);
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty());
    // The reader is dropped here: the pipe is closed, as `| head -1` does.
    crate::util::exit_code(child)
}

#[test]
fn closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(crate::util::bin()
        .args(["sample", d, "--days", "2", "--events-per-day", "400"])
        .status()
        .unwrap()
        .success());
    for format in ["table", "csv", "ndjson"] {
        let code = exit_after_one_line(crate::util::bin().args([
            "--source",
            d,
            "--format",
            format,
            "-e",
            "SELECT * FROM cloudtrail",
        ]));
        assert_eq!(code, Some(0), "{format}");
    }
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        exit_after_one_line(
            crate::util::bin()
                .arg("demo")
                .env("XDG_CACHE_HOME", cache.path())
        ),
        Some(0)
    );
}

#[test]
fn unaliased_field_access_is_named_after_the_field() {
    let sql = "SELECT userIdentity.userName, resources[1]['arn'], useridentity.sessioncontext.sessionissuer.arn, count(*) \
               FROM cloudtrail WHERE eventname = 'StopLogging' GROUP BY 1, 2, 3";
    let answer = csv_answer(&src(), sql);
    assert_eq!(answer.lines().next(), Some("username,arn,arn,count(*)"));
}

#[test]
fn the_events_view_adds_the_standard_columns_and_prunes_like_the_table() {
    let src = fixture_archive().display().to_string();
    let named = format!("prod={src}");
    let view = "SELECT event_id, account, region, actor, source_ip, event_source, event_name, \
                error_code, user_agent, access_key_id FROM prod_events \
                WHERE region = 'us-east-1' AND eventtime >= '2023-10-15' ORDER BY event_id";
    let table = "SELECT eventid, recipientaccountid, awsregion, \
                 coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, \
                 useridentity.principalid, useridentity.type), sourceipaddress, eventsource, \
                 eventname, errorcode, useragent, useridentity.accesskeyid FROM prod \
                 WHERE awsregion = 'us-east-1' AND eventtime >= '2023-10-15' ORDER BY eventid";
    let answer = |sql: &str| {
        let out = run(
            &["--source", &named, "--format", "csv", "--stats", "-e", sql],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let rows: Vec<String> = text(&out.stdout)
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect();
        // The files read and pruned, without the time the listing took.
        let stats = text(&out.stderr)
            .lines()
            .find(|l| l.contains("log files"))
            .unwrap_or("")
            .split("; ")
            .filter(|part| !part.starts_with("listing took"))
            .collect::<Vec<_>>()
            .join("; ");
        (rows, stats)
    };
    let (v, vs) = answer(view);
    let (t, ts) = answer(table);
    assert!(!v.is_empty());
    assert_eq!(v, t);
    assert!(vs.contains("read 2 of 3 log files (1 pruned"), "{vs}");
    assert_eq!(vs, ts);
}

#[test]
fn athena_partition_columns_prune_files_as_the_key_does() {
    let src = fixture_archive().display().to_string();
    // (condition, files read of 3, events counted): the fixture's files are
    // delivered on 2023/10/15 and 16 (us-east-1, 111122223333) and 17
    // (eu-west-1, 444455556666).
    for (condition, read, count) in [
        ("timestamp >= '2023/10/16'", 2, 2),
        ("timestamp BETWEEN '2023/10/15' AND '2023/10/15'", 1, 3),
        ("timestamp IN ('2023/10/16', '2023/10/17')", 2, 2),
        ("year = '2023' AND month = '10' AND day = '16'", 1, 1),
        ("year = 2023 AND month = 10 AND day = 17", 1, 1),
        ("region = 'eu-west-1'", 1, 1),
        (
            "account IN ('111122223333') AND timestamp < '2023/10/16'",
            1,
            3,
        ),
        ("timestamp = '2023/10/16' OR timestamp = '2023/10/17'", 2, 2),
        // An OR of two columns limits neither; only the year, every file
        // of 2023: read whole, and still counted right.
        ("accountid = '444455556666' OR region = 'eu-west-1'", 3, 1),
        ("year = '2023'", 3, 5),
    ] {
        let sql = format!("SELECT count(*) FROM cloudtrail_logs WHERE {condition}");
        let out = run(
            &["--source", &src, "--format", "csv", "--stats", "-e", &sql],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!("count(*)\n{count}\n"),
            "{condition}"
        );
        let stats = text(&out.stderr);
        assert!(
            stats.contains(&format!("read {read} of 3 log files")),
            "{condition}: {stats}"
        );
    }
}

#[test]
fn a_flag_a_subcommand_does_not_use_is_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample");
    let out = out.to_str().unwrap();
    assert_fails_saying(
        &["sample", out, "--cache", "/tmp/c"],
        "trailsql sample does not use --cache: leave it out",
    );
    assert_fails_saying(
        &["--format", "csv", "-o", "x.csv", "compact", out],
        "trailsql compact does not use --format, --output: leave them out",
    );
    assert_fails_saying(
        &["convert", out, "elsewhere", "--strict"],
        "trailsql convert does not use --strict",
    );
    // Nothing was written by the refused commands.
    assert!(!dir.path().join("sample").exists());
    assert!(!std::path::Path::new("elsewhere").exists());
}

#[test]
fn an_error_of_several_lines_prints_them_as_lines() {
    let out = run(
        &["--source", &src(), "-e", "SELECT to_timestam('2025-10-20')"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(!err.contains("\\n"), "{err}");
    assert!(err.contains("\n  Did you mean 'to_timestamp'?"), "{err}");
}

#[test]
fn a_source_without_log_files_is_said_on_every_query() {
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let out = run(
        &[
            "--source",
            path,
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n FROM cloudtrail; SELECT count(*) AS m FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n\n0\nm\n0\n");
    let err = text(&out.stderr);
    assert_eq!(
        err.matches(&format!("warning: {path} holds no CloudTrail log files"))
            .count(),
        2,
        "{err}"
    );
    assert_fails_saying(
        &[
            "--source",
            path,
            "--strict",
            "-e",
            "SELECT count(*) FROM cloudtrail",
        ],
        "holds no CloudTrail log files",
    );
}

/// An event delivered two days after it happened (its file is in a later
/// day folder) is found with the default `--late-days 2` and `--late-days 1`
/// (reach the folder of the 3rd from limits that end on the 2nd), and not
/// with `--late-days 0`, which prunes that folder: what the flag trades.
#[test]
fn late_days_sets_how_far_past_its_limits_a_query_looks() {
    let raw = tempfile::tempdir().unwrap();
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/03");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251003T0005Z_lateLATElateLATE.json"),
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"2025-10-01T23:50:00Z",
            "eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","awsRegion":"us-east-1",
            "eventID":"late-1","recipientAccountId":"111122223333"}]}"#,
    )
    .unwrap();
    let source = raw.path().to_str().unwrap();
    let sql = "SELECT count(*) AS n FROM cloudtrail \
               WHERE eventtime >= '2025-10-01T00:00:00Z' AND eventtime < '2025-10-02T00:00:00Z'";
    let count = |extra: &[&str]| {
        let mut args = vec!["--source", source, "--format", "csv", "--stats"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-e", sql]);
        let out = run(&args, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    assert_eq!(count(&[]).0, "n\n1\n");
    assert_eq!(count(&["--late-days", "1"]).0, "n\n1\n");
    let (answer, stats) = count(&["--late-days", "0"]);
    assert_eq!(answer, "n\n0\n");
    assert!(stats.contains("read 0 of 1 log file (1 pruned"), "{stats}");
}

/// `-o` to a FIFO (or a device such as /dev/null) writes into it: a file
/// written aside and renamed over the target would replace the FIFO or the
/// device itself (as root, /dev/null). `COPY ... TO` such a path is
/// refused, since its file writer renames over the target too.
#[test]
fn output_to_a_fifo_is_written_into_it_never_replacing_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("answer.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reading = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = run(
        &[
            "--source",
            &src(),
            "--format",
            "csv",
            "-o",
            fifo.to_str().unwrap(),
            "-e",
            "SELECT count(*) AS n FROM cloudtrail",
        ],
        "",
    );
    if !out.status.success() {
        // The reader is waiting for a writer: give it one, then fail.
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
        panic!("{}", text(&out.stderr));
    }
    assert_eq!(reading.join().unwrap(), "n\n5\n");
    let is_fifo = |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().file_type().is_fifo();
    assert!(is_fifo(&fifo), "the FIFO is still a FIFO");
    let names: Vec<String> = crate::util::files_in(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["answer.csv"], "nothing written beside it");
    let copy = format!("COPY (SELECT 1 AS n) TO '{}' STORED AS CSV", fifo.display());
    assert_fails_saying(
        &["--source", &src(), "-e", &copy],
        "not a regular file (a device or a FIFO)",
    );
    assert!(is_fifo(&fifo));
}
