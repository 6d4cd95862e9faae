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
