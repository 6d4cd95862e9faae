//! Log text is attacker-controlled: a user agent, a bucket name or a user
//! name can carry terminal escape sequences or spreadsheet formulas, and a
//! file name in the archive can too. What reaches a terminal shows them
//! escaped in every format; a CSV file guards formulas with a leading `'`
//! unless `--csv-raw`; files and pipes otherwise get the data exactly.

use std::path::Path;

use crate::util::{run, run_in_terminal, text};

/// Clears the screen, retitles the window, writes the clipboard (OSC 52),
/// then reverses the text that follows.
const AGENT: &str =
    "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{202e}txt.exe";
const BUCKET: &str = "=HYPERLINK(\"http://203.0.113.9/x\",\"click\")";
const USER: &str = "+cmd|' /C calc'!A0";
const IP: &str = "@SUM(1+1)";

/// An archive of one log file holding one hostile record, and beside it a
/// file whose name carries an escape sequence and whose content is not
/// JSON (so a warning quotes its name).
fn hostile_archive() -> tempfile::TempDir {
    let raw = tempfile::tempdir().unwrap();
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    let record = serde_json::json!({
        "eventVersion": "1.08",
        "eventTime": "2025-10-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "CreateBucket",
        "awsRegion": "us-east-1",
        "sourceIPAddress": IP,
        "userAgent": AGENT,
        "userIdentity": {"type": "IAMUser", "userName": USER, "accountId": "111122223333"},
        "requestParameters": {"bucketName": BUCKET},
        "eventID": "hostile-1",
        "recipientAccountId": "111122223333"
    });
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251001T1005Z_hostileHOSTILE00.json"),
        serde_json::json!({ "Records": [record] }).to_string(),
    )
    .unwrap();
    std::fs::write(raw.path().join("notes\u{1b}[31mred.json"), "not json").unwrap();
    raw
}

const QUESTION: &str =
    "SELECT useragent, json_extract_scalar(requestparameters, '$.bucketName') AS bucket, \
     useridentity.username AS who, sourceipaddress AS ip FROM cloudtrail";

/// No byte of `out` can act on a terminal: no ESC, no BEL, no bidi override.
fn inert(out: &[u8]) -> bool {
    !out.contains(&0x1b)
        && !out.contains(&0x07)
        && !out.windows(3).any(|w| w == "\u{202e}".as_bytes())
}

#[test]
fn nothing_from_the_data_acts_on_a_terminal_in_any_format() {
    let raw = hostile_archive();
    let source = raw.path().to_str().unwrap();
    for format in ["table", "csv", "json", "ndjson"] {
        let out = run_in_terminal(&[
            "--source",
            source,
            "--progress",
            "never",
            "--format",
            format,
            "-e",
            QUESTION,
        ]);
        let shown = String::from_utf8_lossy(&out);
        assert!(inert(&out), "{format}: {shown:?}");
        // Shown escaped, not dropped: the reader sees what was there (JSON
        // in its own escapes, so it stays the same JSON).
        let (esc, rlo) = match format {
            "json" | "ndjson" => ("evil\\u001b[2J", "\\u202etxt.exe"),
            _ => ("evil\\u{001b}[2J", "\\u{202e}txt.exe"),
        };
        assert!(shown.contains(esc), "{format}: {shown}");
        assert!(shown.contains(rlo), "{format}: {shown}");
        // The warning about the file with an escape in its name.
        assert!(
            shown.contains("notes\\u{001b}[31mred.json"),
            "{format}: {shown}"
        );
        assert!(shown.contains("file skipped"), "{format}: {shown}");
    }
    // Into a pipe the data is exact (JSON escapes ESC and BEL itself).
    let out = run(
        &["--source", source, "--format", "ndjson", "-e", QUESTION],
        "",
    );
    let row: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(row["useragent"], AGENT);
}

/// The cells of the first data row of the CSV file `file`.
fn first_row(file: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    reader
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn csv_files_guard_formulas_unless_raw_and_keep_everything_else_exact() {
    let raw = hostile_archive();
    let source = raw.path().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let guarded = vec![
        AGENT.to_string(),
        format!("'{BUCKET}"),
        format!("'{USER}"),
        format!("'{IP}"),
    ];
    let exact = vec![
        AGENT.to_string(),
        BUCKET.to_string(),
        USER.to_string(),
        IP.to_string(),
    ];
    // -o FILE, then --csv-raw.
    let file = dir.path().join("out.csv");
    let o = file.to_str().unwrap();
    let out = run(
        &[
            "--source", source, "--format", "csv", "-o", o, "-e", QUESTION,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(first_row(&file), guarded);
    let out = run(
        &[
            "--source",
            source,
            "--format",
            "csv",
            "--csv-raw",
            "-o",
            o,
            "-e",
            QUESTION,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(first_row(&file), exact);
    // COPY ... TO, then --csv-raw; numbers stay numbers.
    let copied = dir.path().join("copy.csv");
    let copy = format!(
        "COPY (SELECT useragent, json_extract_scalar(requestparameters, '$.bucketName') AS bucket, \
         useridentity.username AS who, sourceipaddress AS ip, -5 AS n FROM cloudtrail) TO '{}'",
        copied.display()
    );
    let out = run(&["--source", source, "-e", &copy], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        first_row(&copied),
        [&guarded[..], &["-5".to_string()]].concat()
    );
    let out = run(&["--source", source, "--csv-raw", "-e", &copy], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        first_row(&copied),
        [&exact[..], &["-5".to_string()]].concat()
    );
    // run --out-dir: the file guarded, and the run says so.
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(pack.join("forensics")).unwrap();
    std::fs::write(
        pack.join("forensics/hostile.sql"),
        format!("-- title: Hostile\n-- severity: low\n-- description: d\n{QUESTION}\n"),
    )
    .unwrap();
    let out_dir = dir.path().join("findings");
    let out = run(
        &[
            "--source",
            source,
            "--queries",
            pack.to_str().unwrap(),
            "run",
            "hostile",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(first_row(&out_dir.join("forensics/hostile.csv")), guarded);
    assert!(
        text(&out.stdout).contains("3 cells in the CSV files of"),
        "{}",
        text(&out.stdout)
    );
    // NDJSON and Parquet files are for programs: exact.
    let nd = dir.path().join("out.ndjson");
    let out = run(
        &[
            "--source",
            source,
            "--format",
            "ndjson",
            "-o",
            nd.to_str().unwrap(),
            "-e",
            QUESTION,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let row: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&nd).unwrap().trim()).unwrap();
    assert_eq!(row["bucket"], BUCKET);
    assert_eq!(row["useragent"], AGENT);
}

/// gzip of `data`.
fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A gzip bomb (a log file of a few KB that inflates to 40 MiB: spaces
/// inside `Records`) beside an ordinary log file, and a file holding one
/// record with a 20 MB user agent.
#[test]
fn a_file_over_the_size_limit_is_skipped_and_named_and_its_neighbours_are_read() {
    let raw = tempfile::tempdir().unwrap();
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    let record = |id: &str, agent: &str| {
        serde_json::json!({
            "eventVersion": "1.08", "eventTime": "2025-10-01T10:00:00Z",
            "eventName": "ListBuckets", "awsRegion": "us-east-1", "eventID": id,
            "recipientAccountId": "111122223333", "userAgent": agent
        })
        .to_string()
    };
    let mut bomb = b"{\"Records\":[".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 40 << 20));
    bomb.extend(format!("{}]}}", record("in-the-bomb", "x")).bytes());
    let bomb_name = "111122223333_CloudTrail_us-east-1_20251001T1005Z_bombBOMBbombBOMB.json.gz";
    std::fs::write(day.join(bomb_name), gz(&bomb)).unwrap();
    assert!(std::fs::metadata(day.join(bomb_name)).unwrap().len() < 1 << 20);
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251001T1010Z_goodGOODgoodGOOD.json.gz"),
        gz(format!("{{\"Records\":[{}]}}", record("good", "aws-cli")).as_bytes()),
    )
    .unwrap();
    let long = "a".repeat(20 << 20);
    std::fs::write(
        day.join("111122223333_CloudTrail_us-east-1_20251001T1015Z_longLONGlongLONG.json.gz"),
        gz(format!("{{\"Records\":[{}]}}", record("long", &long)).as_bytes()),
    )
    .unwrap();
    let source = raw.path().to_str().unwrap();
    let sql = "SELECT eventid, length(useragent) AS n FROM cloudtrail ORDER BY eventid";
    // Under a 32 MiB limit: the bomb (40 MiB inflated) is skipped, named and
    // counted; the file with the 20 MB record, under it, is answered.
    let out = run(
        &[
            "--source",
            source,
            "--max-file-mib",
            "32",
            "--format",
            "csv",
            "-e",
            sql,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("eventid,n\ngood,7\nlong,{}\n", 20 << 20)
    );
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.contains(bomb_name) && l.contains("more than 32 MiB")),
        "{err}"
    );
    assert!(err.contains("1 file skipped as unreadable"), "{err}");
    // --strict: an error naming it.
    let out = run(
        &[
            "--source",
            source,
            "--max-file-mib",
            "32",
            "--strict",
            "-e",
            sql,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(bomb_name),
        "{}",
        text(&out.stderr)
    );
    // The default limit (512 MiB) reads all three.
    let out = run(&["--source", source, "--format", "csv", "-e", sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("eventid,n\ngood,7\nin-the-bomb,1\nlong,{}\n", 20 << 20)
    );
    // convert and verify keep the limit too: convert names the file it left.
    let dest = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "convert",
            source,
            dest.path().to_str().unwrap(),
            "--max-file-mib",
            "32",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("skipped {}", day.join(bomb_name).display())),
        "{}",
        text(&out.stderr)
    );
}

/// Valid JSON of awkward shapes is answered, not skipped: arrays nested
/// 200,000 deep, an object of 200,000 members, 100,000 tiny records.
#[test]
fn awkward_but_valid_json_is_answered() {
    let raw = tempfile::tempdir().unwrap();
    let day = raw
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    std::fs::create_dir_all(&day).unwrap();
    let head = r#"{"eventVersion":"1.08","eventTime":"2025-10-01T10:00:00Z","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333""#;
    let deep = format!(
        r#"{{"Records":[{head},"eventID":"deep","requestParameters":{{"a":{}{}}}}}]}}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let members: Vec<String> = (0..200_000).map(|i| format!(r#""m{i}":{i}"#)).collect();
    let wide = format!(
        r#"{{"Records":[{head},"eventID":"wide","requestParameters":{{{}}}}}]}}"#,
        members.join(",")
    );
    let tiny: Vec<String> = (0..100_000)
        .map(|i| format!(r#"{{"eventID":"t{i}","eventTime":"2025-10-01T10:00:00Z"}}"#))
        .collect();
    let many = format!(r#"{{"Records":[{}]}}"#, tiny.join(","));
    for (name, doc) in [("deep", deep), ("wide", wide), ("many", many)] {
        std::fs::write(
            day.join(format!(
                "111122223333_CloudTrail_us-east-1_20251001T1005Z_{name}{}.json.gz",
                "X".repeat(16 - name.len())
            )),
            gz(doc.as_bytes()),
        )
        .unwrap();
    }
    let out = run(
        &[
            "--source",
            raw.path().to_str().unwrap(),
            "--strict",
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS events, \
             max(length(requestparameters)) FILTER (WHERE eventid = 'deep') AS deep, \
             max(length(requestparameters)) FILTER (WHERE eventid = 'wide') AS wide \
             FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wide_len = 2 + members.iter().map(|m| m.len()).sum::<usize>() + members.len() - 1;
    assert_eq!(
        text(&out.stdout),
        format!("events,deep,wide\n100002,{},{wide_len}\n", 400_006)
    );
}
