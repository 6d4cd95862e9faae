//! Event history as a source: `aws cloudtrail lookup-events` output (pages
//! saved one after another) and the console's JSON and CSV downloads, each
//! holding the same five events (tests/data/history/). They give the same
//! answers as far as each format carries the fields.

use crate::util::{corpus, csv_answer, repo, run, text};

fn history(name: &str) -> String {
    repo()
        .join("tests/data/history")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

const COMMON: &str =
    "SELECT eventid, eventtime, eventname, eventsource, useridentity.username AS username, \
     useridentity.accesskeyid AS key, awsregion, errorcode, sourceipaddress, readonly \
     FROM cloudtrail ORDER BY eventtime";

#[test]
fn the_three_event_history_shapes_give_the_same_events() {
    let lookup = csv_answer(&history("lookup-events-pages.json"), COMMON);
    let json = csv_answer(&history("console-download.json"), COMMON);
    let csv = csv_answer(&history("console-download.csv"), COMMON);
    // Both pages of the lookup output are read.
    assert_eq!(lookup.lines().count(), 6, "{lookup}");
    assert_eq!(
        lookup.lines().nth(3).unwrap(),
        "000002bf-0000-4000-8000-000000000703,2025-10-20T10:10:00Z,DeleteTable,dynamodb.amazonaws.com,alice,AKIAALICE0000000001,us-east-1,,198.51.100.7,false"
    );
    assert_eq!(json, lookup);
    // The CSV names an assumed role's session (bob) where the record has no
    // userName; everything else matches.
    let bob = |s: &str| s.replace(",bob,ASIA", ",,ASIA");
    assert_eq!(bob(&csv), lookup);
}

#[test]
fn lookup_events_keep_the_whole_record_and_csv_keeps_every_column() {
    // The JSON shapes carry the whole record: request parameters, identity.
    let sql = "SELECT useridentity.arn AS arn, json_extract_scalar(requestparameters, '$.tableName') AS t, \
               resources[1]['arn'] AS r FROM cloudtrail WHERE eventname = 'DeleteTable'";
    let want = "arn,t,r\narn:aws:iam::123456789012:user/alice,prod-orders,arn:aws:dynamodb:us-east-1:123456789012:table/prod-orders\n";
    assert_eq!(csv_answer(&history("lookup-events-pages.json"), sql), want);
    assert_eq!(csv_answer(&history("console-download.json"), sql), want);
    // The CSV's other columns are kept under their own names.
    let out = csv_answer(
        &history("console-download.csv"),
        "SELECT json_extract_scalar(extra_fields, '$[\"Resource name\"]') AS name, \
         json_extract_scalar(extra_fields, '$[\"Resource type\"]') AS type \
         FROM cloudtrail WHERE eventname = 'DeleteTable'",
    );
    assert_eq!(
        out,
        "name,type\narn:aws:dynamodb:us-east-1:123456789012:table/prod-orders,AWS::DynamoDB::Table\n"
    );
    // A folder of downloads reads the JSON ones; a CSV in a folder may be a
    // saved result rather than events, so it is read only when named, and the
    // listing says so.
    let out = run(
        &[
            "--source",
            &history(""),
            "--stats",
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n,ids\n10,5\n");
    let err = text(&out.stderr);
    assert!(err.contains("name it in --source"), "{err}");
}

#[test]
fn the_aws_cli_documentation_example_reads() {
    let Some(corpus) = corpus() else { return };
    let file = corpus.join("other-formats/lookup-events/awscli-example-lookup-events.json");
    let out = csv_answer(
        file.to_str().unwrap(),
        "SELECT eventtime, eventname, useridentity.sessioncontext.sessionissuer.username AS role, \
         json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa FROM cloudtrail",
    );
    assert_eq!(
        out,
        "eventtime,eventname,role,mfa\n2016-01-26T21:42:12Z,ConsoleLogin,my-role,No\n"
    );
}

#[test]
fn what_is_not_event_history_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.csv");
    std::fs::write(&bad, "name,colour\napple,red\n").unwrap();
    let out = run(
        &[
            "--source",
            bad.to_str().unwrap(),
            "-e",
            "SELECT count(*) FROM cloudtrail",
        ],
        "",
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("not a CSV with Event history columns"),
        "{err}"
    );
}

/// `trailsql --source FILE --format csv lookup ARGS`: the event ids, in order.
fn lookup_ids(file: &str, args: &[&str]) -> Vec<String> {
    let src = history(file);
    let mut all = vec!["--source", src.as_str(), "--format", "csv", "lookup"];
    all.extend_from_slice(args);
    let out = run(&all, "");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    let t = text(&out.stdout);
    let mut lines = t.lines();
    assert_eq!(
        lines.next(),
        Some("eventtime,event_name,user_name,event_source,resource_type,resource_name,access_key_id,region,error_code,source_ip,read_only,event_id")
    );
    // The last three digits of each event id name the fixture's events:
    // 701 ConsoleLogin, 702 RunInstances, 703 DeleteTable,
    // 704 TerminateInstances (denied), 705 ListUsers.
    lines
        .map(|l| {
            l.rsplit(',')
                .next()
                .unwrap_or("")
                .chars()
                .skip(33)
                .collect()
        })
        .collect()
}

#[test]
fn lookup_filters_like_the_console_on_every_shape() {
    for file in [
        "lookup-events-pages.json",
        "console-download.json",
        "console-download.csv",
    ] {
        let ids = |args: &[&str]| lookup_ids(file, args);
        // Newest first, everything when no attribute is given.
        assert_eq!(ids(&[]), ["705", "704", "703", "702", "701"], "{file}");
        assert_eq!(ids(&["--event-name", "RunInstances"]), ["702"], "{file}");
        assert_eq!(ids(&["--event-name", "runinstances"]), [""; 0], "{file}");
        assert_eq!(ids(&["--username", "bob"]), ["704", "702"], "{file}");
        assert_eq!(
            ids(&["--username", "alice", "--read-only", "false"]),
            ["703", "701"],
            "{file}"
        );
        assert_eq!(
            ids(&["--event-source", "ec2.amazonaws.com"]),
            ["704", "702"],
            "{file}"
        );
        assert_eq!(
            ids(&["--access-key-id", "AKIAALICE0000000001"]),
            ["705", "703"],
            "{file}"
        );
        assert_eq!(
            ids(&["--event-id", "000002bd-0000-4000-8000-000000000701"]),
            ["701"],
            "{file}"
        );
        assert_eq!(
            ids(&["--resource-type", "AWS::DynamoDB::Table"]),
            ["703"],
            "{file}"
        );
        assert_eq!(ids(&["--resource-name", "prod-orders"]), ["703"], "{file}");
        assert_eq!(
            ids(&[
                "--since",
                "2025-10-20T10:05:00Z",
                "--until",
                "2025-10-20T10:15:00Z"
            ]),
            ["703", "702"],
            "{file}"
        );
    }
    // Where the record has them, request parameters name resources too: the
    // second instance of the denied termination is in no resources list.
    assert_eq!(
        lookup_ids(
            "console-download.json",
            &["--resource-name", "i-0old0000000000002"]
        ),
        ["704"]
    );
    assert_eq!(
        lookup_ids(
            "console-download.json",
            &["--resource-name", "i-0run0000000000001"]
        ),
        ["704", "702"]
    );
}

#[test]
fn lookup_shows_the_sql_it_ran_and_that_sql_gives_the_same_answer() {
    let src = history("lookup-events-pages.json");
    let out = run(
        &[
            "--source",
            &src,
            "--format",
            "csv",
            "lookup",
            "--event-name",
            "DeleteTable",
            "--username",
            "o'brien",
            "--show-sql",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    let (sql, rest) = t.split_once(";\n").expect("the SQL comes first");
    assert!(sql.starts_with("SELECT"), "{sql}");
    assert!(sql.contains("WHERE eventname = 'DeleteTable'"), "{sql}");
    assert!(sql.contains("= 'o''brien'"), "{sql}");
    assert!(sql.contains("ORDER BY eventtime DESC"), "{sql}");
    assert_eq!(rest, csv_answer(&src, sql));
    let out = run(&["lookup", "--event-name", "X"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("add --source PATH"));
}
