//! One pass: `run --all` and `hunt` read each log file once, however many
//! queries and rules they run (counted by `--stats`, never timed), and each
//! query answers in the pass as it does alone.

use crate::util::{fixture_archive, repo, run, text};

/// The `--stats` lines of stderr that say what was read.
fn read_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("trailsql: read "))
        .collect()
}

/// `run NAMES` over `source`, with the saved queries under `queries` too,
/// in CSV with `--stats`: stdout and stderr of a run that succeeded.
fn run_saved(source: &str, queries: &str, names: &[&str]) -> (String, String) {
    let mut args = vec![
        "--source",
        source,
        "--queries",
        queries,
        "--format",
        "csv",
        "--stats",
        "run",
    ];
    args.extend(names);
    let out = run(&args, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

/// Log files (`.json`, `.json.gz`) under `dir`.
fn log_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += log_files(&p);
        } else if p.to_string_lossy().contains("_CloudTrail_") {
            let name = p.to_string_lossy().to_string();
            n += usize::from(name.ends_with(".json") || name.ends_with(".json.gz"));
        }
    }
    n
}

#[test]
fn run_all_reads_each_file_once_and_answers_as_each_query_alone() {
    let saved = repo().join("tests/data/saved");
    let source = saved.display().to_string();
    let files = log_files(&saved);
    assert!(files > 30, "{files}");
    let count = run(
        &[
            "--source",
            &source,
            "--format",
            "csv",
            "-e",
            "SELECT count(*) FROM cloudtrail",
        ],
        "",
    );
    let events = text(&count.stdout).lines().last().unwrap_or("").to_string();
    let out = run(
        &[
            "--source", &source, "--format", "csv", "--stats", "run", "--all",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    // 106 queries (aggregations and windows among them), one read of the
    // archive.
    let reads = read_lines(&err);
    assert_eq!(reads.len(), 1, "{err}");
    assert!(
        reads[0].starts_with(&format!(
            "trailsql: read {files} of {files} log files (0 pruned by the query's limits), {events} events"
        )),
        "{err}"
    );
    let all = text(&out.stdout);
    // Each query's section of --all is what it answers alone.
    let sections: Vec<&str> = all.split("== ").skip(1).collect();
    assert_eq!(sections.len(), 106 + 1, "{all}"); // and the summary
    for section in &sections[..106] {
        let name = section.split(' ').next().unwrap();
        if section.contains(": not run, needs --") {
            continue;
        }
        let alone = run(&["--source", &source, "--format", "csv", "run", name], "");
        assert!(alone.status.success(), "{name}: {}", text(&alone.stderr));
        let alone = text(&alone.stdout);
        assert_eq!(alone.trim_start_matches("== "), *section, "{name}");
    }
}

#[test]
fn hunt_reads_each_file_once_for_sigma_and_built_in_detections() {
    let rules = repo().join("tests/data/sigma");
    let archive = fixture_archive();
    let files = log_files(&archive);
    let out = run(
        &[
            "--source",
            &archive.display().to_string(),
            "--format",
            "csv",
            "--stats",
            "hunt",
            "--sigma",
            &rules.display().to_string(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let reads = read_lines(&err);
    assert_eq!(reads.len(), 1, "{err}");
    assert!(
        reads[0].starts_with(&format!("trailsql: read {files} of {files} log files")),
        "{err}"
    );
    // With --since the one scan is pruned as each detection would be.
    let out = run(
        &[
            "--source",
            &archive.display().to_string(),
            "--format",
            "csv",
            "--stats",
            "hunt",
            "--no-builtins",
            "--sigma",
            &rules.display().to_string(),
            "--since",
            "2023-10-17",
        ],
        "",
    );
    let err = text(&out.stderr);
    let reads = read_lines(&err);
    assert_eq!(reads.len(), 1, "{err}");
    assert!(
        reads[0].starts_with(&format!(
            "trailsql: read {} of {files} log files (1 pruned",
            files - 1
        )),
        "{err}"
    );
}

/// A query of one's own that reads the archive twice (a self-join) is not
/// fed from the pass, where one side could wait for the other whole: it
/// runs after it on a scan of its own, and answers as it does alone.
#[test]
fn a_query_reading_the_archive_twice_runs_on_its_own_scan() {
    let saved = repo().join("tests/data/saved");
    let source = saved.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mine");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("denied-then-allowed.sql"),
        "-- title: A call denied, then made by the same principal\n\
         -- severity: low\n\
         -- description: A principal denied a call that it then made.\n\
         SELECT a.eventtime, a.account, a.region, a.actor, a.source_ip, a.event_source, \
           a.event_name, a.error_code, a.event_id\n\
         FROM cloudtrail_events a JOIN cloudtrail_events d\n\
           ON a.actor = d.actor AND a.event_name = d.event_name AND d.eventtime < a.eventtime\n\
         WHERE a.eventtime >= $since AND a.eventtime < $until AND a.errorcode IS NULL\n\
           AND d.errorcode LIKE 'AccessDenied%'\n\
         ORDER BY a.eventtime, a.event_id\n",
    )
    .unwrap();
    let queries = dir.path().display().to_string();
    let all = |names: &[&str]| run_saved(&source, &queries, names);
    let (alone, _) = all(&["mine/denied-then-allowed"]);
    assert!(
        alone.contains(": 1 finding") || alone.contains("findings"),
        "{alone}"
    );
    let (together, err) = all(&["--all"]);
    // The pass and the self-join's own scan.
    assert_eq!(read_lines(&err).len(), 2, "{err}");
    let section = together
        .split("== ")
        .find(|s| s.starts_with("mine/denied-then-allowed"))
        .unwrap();
    assert_eq!(alone.trim_start_matches("== "), section);
}

/// In the pass each statement gets only the rows of the calls (event
/// source and name) its conditions on them allow, decided once per call:
/// whatever shape those conditions take (prefixes, OR across sources,
/// negations, functions of the name, mixed with other columns), each
/// answers in the pass as it does alone.
#[test]
fn statements_routed_by_call_answer_as_they_do_alone() {
    let saved = repo().join("tests/data/saved");
    let source = saved.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("shapes");
    std::fs::create_dir_all(&folder).unwrap();
    let shapes = [
        ("prefixes", "eventname LIKE 'Get%' OR eventname LIKE 'List%'"),
        (
            "sources-or-mixed",
            "(eventsource = 'iam.amazonaws.com' AND errorcode IS NOT NULL) \
             OR (eventname = 'RunInstances' AND useragent LIKE '%boto%') \
             OR eventsource = 'kms.amazonaws.com'",
        ),
        (
            "negated",
            "eventname NOT IN ('ConsoleLogin', 'AssumeRole') AND eventsource <> 's3.amazonaws.com'",
        ),
        ("function-of-name", "lower(eventname) LIKE '%policy%'"),
        (
            "both-columns-at-once",
            "eventsource || ':' || eventname IN ('iam.amazonaws.com:CreateUser', 'ec2.amazonaws.com:RunInstances')",
        ),
        (
            "call-and-json",
            "eventname IN ('PutBucketPolicy', 'PutBucketAcl') \
             AND json_extract_scalar(requestparameters, '$.bucketName') IS NOT NULL",
        ),
        ("no-name", "eventname IS NULL OR eventsource IS NULL"),
    ];
    let mut names = Vec::new();
    for (name, condition) in shapes {
        std::fs::write(
            folder.join(format!("{name}.sql")),
            format!(
                "-- title: {name}\n-- severity: low\n-- description: A shape of condition.\n\
                 SELECT eventtime, event_source, event_name, error_code, event_id\n\
                 FROM cloudtrail_events WHERE {condition}\nORDER BY eventtime, event_id\n"
            ),
        )
        .unwrap();
        names.push(format!("shapes/{name}"));
    }
    let queries = dir.path().display().to_string();
    let run_these = |these: &[String]| {
        run_saved(
            &source,
            &queries,
            &these.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let (together, err) = run_these(&names);
    assert_eq!(read_lines(&err).len(), 1, "one read: {err}");
    let mut found = 0;
    for name in &names {
        let (alone, _) = run_these(std::slice::from_ref(name));
        let section = together
            .split("== ")
            .find(|s| s.starts_with(name.as_str()))
            .unwrap_or_else(|| panic!("{name} in {together}"));
        assert_eq!(alone.trim_start_matches("== "), section, "{name}");
        found += section.lines().count();
    }
    // The shapes find events (the comparison is not of empty answers).
    assert!(found > 50, "{together}");
}

/// A statement whose condition fails (a cast that refuses the values it
/// meets) fails alone in the pass, with its own error: the statements
/// beside it answer.
#[test]
fn a_failing_condition_fails_its_own_statement_not_the_pass() {
    let saved = repo().join("tests/data/saved");
    let source = saved.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mine");
    std::fs::create_dir_all(&folder).unwrap();
    let query = |name: &str, condition: &str| {
        std::fs::write(
            folder.join(format!("{name}.sql")),
            format!(
                "-- title: {name}\n-- severity: low\n-- description: A condition.\n\
                 SELECT eventtime, event_name, event_id FROM cloudtrail_events\n\
                 WHERE {condition}\nORDER BY eventtime, event_id\n"
            ),
        )
        .unwrap();
    };
    query("fine", "eventname = 'ConsoleLogin'");
    // On the call alone, and on another column.
    query("bad-call", "CAST(eventname AS INT) = 5");
    query("bad-column", "CAST(useragent AS INT) = 5");
    let queries = dir.path().display().to_string();
    for bad in ["mine/bad-call", "mine/bad-column"] {
        let args = [
            "--source",
            &source,
            "--queries",
            &queries,
            "--format",
            "csv",
            "run",
            "mine/fine",
            bad,
        ];
        let out = run(&args, "");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{stdout}{stderr}");
        assert!(
            stdout.contains("== mine/fine [low] fine:") && stdout.contains("ConsoleLogin"),
            "{bad}: {stdout}{stderr}"
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(bad) && l.contains("Cannot cast")),
            "{bad}: {stderr}"
        );
    }
}
