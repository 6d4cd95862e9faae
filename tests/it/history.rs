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
    // A folder of downloads is a source too: the CSV file is not skipped.
    let out = csv_answer(
        &history(""),
        "SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail",
    );
    assert_eq!(out, "n,ids\n15,5\n");
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
