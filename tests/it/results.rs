//! How results reach the user: each statement printed (and counted) on its
//! own as soon as it is done, every row streamed into the output file in
//! each format, and a table on a screen cut to `--max-rows`.

use crate::util::{bin, fixture_archive, run, text};

fn src() -> String {
    fixture_archive().display().to_string()
}

#[test]
fn each_statement_has_its_own_counts_and_its_result_before_the_next() {
    let sql = "SELECT count(*) AS n FROM cloudtrail WHERE awsregion IN ('eu-west-1'); \
               SELECT count(*) AS m FROM cloudtrail";
    let out = run(
        &["--source", &src(), "--stats", "--format", "csv", "-e", sql],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("n\n1\nm\n"), "{stdout}");
    let counts: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("trailsql: read "))
        .map(str::to_string)
        .collect();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(
        counts[0].contains("read 1 of 3 log files (2 pruned"),
        "{counts:?}"
    );
    assert!(
        counts[1].contains("read 3 of 3 log files (0 pruned"),
        "{counts:?}"
    );
}

#[test]
fn a_later_failure_does_not_take_back_an_earlier_result() {
    let out = run(
        &[
            "--source",
            &src(),
            "--format",
            "csv",
            "-e",
            "SELECT 1 AS first; SELECT no_such_column FROM cloudtrail",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "first\n1\n");
    assert!(
        text(&out.stderr).contains("no_such_column"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_table_shows_at_most_max_rows_and_says_how_many_it_left_out() {
    let all = "SELECT eventid FROM cloudtrail ORDER BY eventid";
    let total = crate::util::csv_answer(&src(), all).lines().count() - 1;
    assert!(total > 3, "the fixture has {total} events");
    let out = run(&["--source", &src(), "--max-rows", "2", "-e", all], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    let data_rows = t
        .lines()
        .filter(|l| l.starts_with('|') && !l.contains("eventid"))
        .count();
    assert_eq!(data_rows, 2, "{t}");
    assert!(
        t.contains(&format!("... {} more rows not shown", total - 2)),
        "{t}"
    );
    assert!(t.contains(&format!("({total} rows)")), "{t}");
    // 0 shows every row, and says nothing was left out.
    let out = run(&["--source", &src(), "--max-rows", "0", "-e", all], "");
    let t = text(&out.stdout);
    let data_rows = t
        .lines()
        .filter(|l| l.starts_with('|') && !l.contains("eventid"))
        .count();
    assert_eq!(data_rows, total, "{t}");
    assert!(!t.contains("not shown"), "{t}");
}

/// A sample archive of a few thousand events, read as several batches.
fn sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let st = bin()
        .args(["sample", path, "--days", "3", "--events-per-day", "150"])
        .status()
        .unwrap();
    assert!(st.success());
    dir
}

#[test]
fn every_row_reaches_the_output_file_in_each_format() {
    let archive = sample();
    let source = archive.path().to_str().unwrap().to_string();
    let count = crate::util::csv_answer(&source, "SELECT count(*) AS n FROM cloudtrail");
    let events: usize = count.lines().nth(1).unwrap().parse().unwrap();
    assert!(events > 2000, "{events}");
    let out_dir = tempfile::tempdir().unwrap();
    let sql = "SELECT * FROM cloudtrail";
    for format in ["csv", "ndjson", "json", "parquet"] {
        let file = out_dir.path().join(format!("all.{format}"));
        let out = run(
            &[
                "--source",
                &source,
                "--format",
                format,
                "-o",
                file.to_str().unwrap(),
                "-e",
                sql,
            ],
            "",
        );
        assert!(out.status.success(), "{format}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{format}");
        let rows = match format {
            "csv" => csv::Reader::from_path(&file)
                .unwrap()
                .records()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
                .len(),
            "ndjson" => std::fs::read_to_string(&file)
                .unwrap()
                .lines()
                .map(serde_json::from_str::<serde_json::Value>)
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
                .len(),
            "json" => {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                v.as_array().unwrap().len()
            }
            _ => {
                // Read back by trailsql itself, as a Parquet table.
                let sql = format!(
                    "CREATE EXTERNAL TABLE back STORED AS PARQUET LOCATION '{}'; \
                     SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM back",
                    file.display()
                );
                let answer = crate::util::csv_answer(&source, &sql);
                let row = answer.lines().nth(1).unwrap().to_string();
                let (n, ids) = row.split_once(',').unwrap();
                assert_eq!(n, ids, "{answer}");
                n.parse().unwrap()
            }
        };
        assert_eq!(rows, events, "{format}");
    }
}

/// `-o FILE` with several statements: the first result replaces the file,
/// the next are added to it (tables one after another, as psql's `\o`
/// does; CSV rows under one header while the columns stay the same).
#[test]
fn every_result_of_a_run_goes_into_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.txt");
    std::fs::write(&out_file, "from an earlier run\n").unwrap();
    let o = out_file.to_str().unwrap();
    let sql = "SELECT 1 AS a; SELECT 2 AS b";
    let out = run(&["--source", &src(), "-o", o, "-e", sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = std::fs::read_to_string(&out_file).unwrap();
    assert!(!t.contains("earlier run"), "{t}");
    let (a, b) = (t.find("| a |").unwrap(), t.find("| b |").unwrap());
    assert!(a < b, "{t}");
    assert_eq!(t.matches("(1 row)").count(), 2, "{t}");
    // CSV: the same columns continue the table; other columns are refused,
    // and what came before stays.
    let csv = |sql: &str| {
        run(
            &["--source", &src(), "--format", "csv", "-o", o, "-e", sql],
            "",
        )
    };
    let out = csv("SELECT 1 AS n, 'x' AS s; SELECT 2 AS n, 'y' AS s");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "n,s\n1,x\n2,y\n"
    );
    let out = csv("SELECT 1 AS n; SELECT 2 AS m; SELECT 3 AS n");
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains("a CSV file holds one table"), "{said}");
    assert!(said.contains("(m)") && said.contains("(n)"), "{said}");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "n\n1\n");
    // NDJSON: every row of every result, one object a line.
    let out = run(
        &[
            "--source",
            &src(),
            "--format",
            "ndjson",
            "-o",
            o,
            "-e",
            "SELECT 1 AS n; SELECT 'z' AS s",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "{\"n\":1}\n{\"s\":\"z\"}\n"
    );
    // JSON and Parquet hold one result: the second is refused, the first
    // kept whole.
    for format in ["json", "parquet"] {
        let out = run(
            &[
                "--source",
                &src(),
                "--format",
                format,
                "-o",
                o,
                "-e",
                "SELECT 1 AS n; SELECT 2 AS n",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            text(&out.stderr).contains("holds one result"),
            "{}",
            text(&out.stderr)
        );
        let kept = std::fs::read(&out_file).unwrap();
        if format == "json" {
            assert_eq!(text(&kept), "[\n{\"n\":1}\n]\n");
        } else {
            assert!(
                kept.starts_with(b"PAR1") && kept.ends_with(b"PAR1"),
                "the first result, whole"
            );
        }
    }
    let leftovers: Vec<_> = crate::util::files_in(dir.path())
        .into_iter()
        .filter(|p| p != &out_file)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A statement that fails while its result is being written leaves the
/// output file as it was: a new file is not made, an old one not cut.
#[test]
fn a_failed_statement_leaves_the_output_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let o = out_file.to_str().unwrap();
    // Fails at run time, after the plan (and the file) would be made.
    let failing = "SELECT CAST(eventname AS INT) AS n FROM cloudtrail";
    let fail = || {
        run(
            &[
                "--source",
                &src(),
                "--format",
                "csv",
                "-o",
                o,
                "-e",
                failing,
            ],
            "",
        )
    };
    let out = fail();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!out_file.exists(), "a failed first result made the file");
    std::fs::write(&out_file, "kept\n").unwrap();
    assert_eq!(fail().status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "kept\n");
    assert_eq!(crate::util::files_in(dir.path()), vec![out_file.clone()]);
}

/// `COPY ... TO 'FILE'` that fails (CSV cannot hold a struct) leaves no
/// empty file behind, and one that works writes the whole file.
#[test]
fn a_failed_copy_leaves_no_file_and_a_good_one_writes_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    let sql = format!(
        "COPY (SELECT useridentity FROM cloudtrail) TO '{}'",
        bad.display()
    );
    let out = run(&["--source", &src(), "-e", &sql], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not supported in CSV"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        crate::util::files_in(dir.path()).is_empty(),
        "{:?}",
        crate::util::files_in(dir.path())
    );
    let good = dir.path().join("good.csv");
    let sql = format!(
        "COPY (SELECT eventid FROM cloudtrail ORDER BY eventid) TO '{}'",
        good.display()
    );
    let out = run(&["--source", &src(), "--format", "csv", "-e", &sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = crate::util::csv_answer(&src(), "SELECT eventid FROM cloudtrail ORDER BY eventid");
    assert_eq!(
        text(&out.stdout),
        format!("count\n{}\n", events.lines().count() - 1)
    );
    assert_eq!(std::fs::read_to_string(&good).unwrap(), events);
    assert_eq!(crate::util::files_in(dir.path()), vec![good]);
}
