//! The decoder's unit tests.

use super::*;
use crate::record::canonical_schema;
use crate::record::time::{parse_canonical_time, parse_lenient_time};
use datafusion::arrow::array::{Array, AsArray};

#[test]
fn decodes_records_document() {
    let doc = br#"{"Records":[{"eventVersion":"1.08","eventTime":"2023-10-15T14:32:00Z","eventName":"DeleteTable","userIdentity":{"type":"IAMUser","userName":"alice"},"readOnly":false,"requestParameters":{"tableName":"t"}}]}"#;
    let (batches, out) = decode_document(doc, "f.json").unwrap();
    assert_eq!(out.records, 1);
    let b = &batches[0];
    assert_eq!(b.num_rows(), 1);
    let name = b.column_by_name("eventname").unwrap().as_string::<i32>();
    assert_eq!(name.value(0), "DeleteTable");
    let rp = b
        .column_by_name("requestparameters")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(rp.value(0), r#"{"tableName":"t"}"#);
    assert!(b.column_by_name("extra_fields").unwrap().is_null(0));
}

#[test]
fn json_columns_are_compact_whatever_the_file_looks_like() {
    let doc = b"{\"Records\": [{\"eventTime\": \"2023-10-15T14:32:00Z\",\n \"requestParameters\": {\n  \"cidrIp\" : \"0.0.0.0/0\",\n  \"note\": \"a \\\" b  c\",\n  \"n\": [1.50, 2e3]\n }}]}";
    let (batches, _) = decode_document(doc, "f.json").unwrap();
    let rp = batches[0]
        .column_by_name("requestparameters")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(
        rp.value(0),
        r#"{"cidrIp":"0.0.0.0/0","note":"a \" b  c","n":[1.50,2e3]}"#
    );
    assert!(matches!(compact_json(r#"{"a":"b c"}"#), Cow::Borrowed(_)));
}

#[test]
fn keeps_what_does_not_fit() {
    let doc = br#"{"Records":[{"eventTime":"2019-01-01 00:00:00.000000000","readOnly":"true","newField":{"a":1},"responseElements":null,"userIdentity":{"type":"Root","onBehalfOf":{"userId":"u"},"brandNew":"x"}}]}"#;
    let (batches, out) = decode_document(doc, "f").unwrap();
    assert_eq!(out.type_mismatches, 1);
    let b = &batches[0];
    let extra: Value = serde_json::from_str(
        b.column_by_name("extra_fields")
            .unwrap()
            .as_string::<i32>()
            .value(0),
    )
    .unwrap();
    assert_eq!(extra["readOnly"], "true");
    assert_eq!(extra["newField"]["a"], 1);
    assert_eq!(extra["eventTime"], "2019-01-01 00:00:00.000000000");
    assert!(extra["responseElements"].is_null());
    assert!(extra.get("responseElements").is_some());
    assert_eq!(extra["userIdentity"]["brandNew"], "x");
    assert!(!b.column_by_name("eventtime").unwrap().is_null(0));
}

#[test]
fn bad_documents_are_problems_not_panics() {
    for bad in [
        &b""[..],
        b"   ",
        b"nope",
        b"{\"a\":1}",
        b"{\"Records\":5}",
        b"{\"Records\":[",
        b"\xff\xfe",
    ] {
        assert!(decode_document(bad, "f").is_err(), "{:?}", bad);
    }
    assert_eq!(
        decode_document(br#"{"Records":{"a":1}}"#, "f")
            .unwrap_err()
            .0,
        "\"Records\" is not an array of records"
    );
    assert!(decode_document(br#"{"Records":[1,"#, "f")
        .unwrap_err()
        .0
        .starts_with("not valid JSON"));
    let (_, out) = decode_document(br#"{"Records":[1,{"eventName":"X"},"s"]}"#, "f").unwrap();
    assert_eq!(out.records, 1);
    assert_eq!(out.skipped.len(), 2);
}

#[test]
fn event_history_pages_and_csv() {
    let ct = |name: &str| {
        serde_json::to_string(&format!(
            r#"{{"eventName":"{name}","eventTime":"2025-01-01T00:00:00Z"}}"#
        ))
        .unwrap()
    };
    // Two pages of lookup-events output, one after the other; an entry
    // without CloudTrailEvent is reported, not invented.
    let doc = format!(
        r#"{{"Events":[{{"EventId":"1","CloudTrailEvent":{}}},{{"EventId":"2"}}],"NextToken":"t"}}
           {{"Events":[{{"CloudTrailEvent":{}}}]}}"#,
        ct("A"),
        ct("B")
    );
    let (batches, out) = decode_document(doc.as_bytes(), "f").unwrap();
    assert_eq!(out.records, 2);
    assert_eq!(out.skipped.len(), 1);
    assert!(out.skipped[0].reason.contains("without CloudTrailEvent"));
    let names = batches[0]
        .column_by_name("eventname")
        .unwrap()
        .as_string::<i32>();
    assert_eq!((names.value(0), names.value(1)), ("A", "B"));
    // Trail documents may follow one another too.
    let (_, out) = decode_document(
        br#"{"Records":[{"eventName":"A"}]} {"Records":[{"eventName":"B"}]}"#,
        "f",
    )
    .unwrap();
    assert_eq!(out.records, 2);
    // Text after a document is a problem, and the file adds no rows.
    let err = decode_document(br#"{"Records":[{"eventName":"A"}]} junk"#, "f").unwrap_err();
    assert!(
        err.0.contains("after the JSON document at byte 32"),
        "{}",
        err.0
    );
    assert!(decode_document(br#"{"Events":{}}"#, "f")
        .unwrap_err()
        .0
        .contains("\"Events\" is not an array"));
    let bad = r#"{"Events":[{"CloudTrailEvent":"{not json"}]}"#.to_string();
    assert!(decode_document(bad.as_bytes(), "f").is_err());
    // CSV: known columns become fields, a quoted cell may hold commas and
    // line breaks, other columns go to extra_fields under their names.
    let csv = "Event name,Event time,User name,Read-only,Resource name\r\n\
               DeleteTable,2025-01-01T00:00:00Z,alice,false,\"t1, t2\nt3\"\r\n";
    let (batches, out) = decode_document(csv.as_bytes(), "f.csv").unwrap();
    assert_eq!(out.records, 1);
    let b = &batches[0];
    assert_eq!(
        b.column_by_name("eventname")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "DeleteTable"
    );
    assert!(!b.column_by_name("readonly").unwrap().as_boolean().value(0));
    let extra = b.column_by_name("extra_fields").unwrap().as_string::<i32>();
    assert_eq!(extra.value(0), r#"{"Resource name":"t1, t2\nt3"}"#);
    // A column that holds the whole event is used as the record.
    let csv = format!(
        "Event name,CloudTrail event\nX,\"{}\"\n",
        r#"{""eventName"":""Y"",""awsRegion"":""eu-west-1""}"#
    );
    let (batches, _) = decode_document(csv.as_bytes(), "f.csv").unwrap();
    let region = batches[0]
        .column_by_name("awsregion")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(region.value(0), "eu-west-1");
}

#[test]
fn lone_event_and_bare_array() {
    assert_eq!(
        decode_document(br#"{"eventName":"X"}"#, "f")
            .unwrap()
            .1
            .records,
        1
    );
    assert_eq!(
        decode_document(br#"[{"eventName":"X"},{"eventName":"Y"}]"#, "f")
            .unwrap()
            .1
            .records,
        2
    );
}

#[test]
fn projection_fills_only_what_is_read_and_the_same_values() {
    let doc = br#"{"Records":[{"eventName":"A","readOnly":"x","responseElements":null,"userIdentity":{"type":"Root","odd":1}},{"eventName":"B","awsRegion":"eu-west-1"}]}"#;
    let (full, _) = decode_document(doc, "f").unwrap();
    let idx = |name: &str| canonical_schema().index_of(name).unwrap();
    let (name, region, extra) = (idx("eventname"), idx("awsregion"), idx("extra_fields"));
    let (part_batches, part) = projected(doc, &[name, region]);
    let (f, p) = (&full[0], &part_batches[0]);
    assert_eq!(f.column(name), p.column(name));
    assert_eq!(f.column(region), p.column(region));
    assert_eq!(p.column(idx("useridentity")).null_count(), 2);
    assert_eq!(p.column(extra).null_count(), 2);
    assert_eq!(part.records, 2);
    assert_eq!(part.type_mismatches, 0, "readonly is not read");
    // Reading extra_fields decodes everything, so it is complete.
    let (batches, with_extra) = projected(doc, &[name, extra]);
    assert_eq!(f.column(extra), batches[0].column(extra));
    assert_eq!(with_extra.type_mismatches, 1);
}

fn projected(doc: &[u8], projection: &[usize]) -> (Vec<RecordBatch>, FileOutcome) {
    let mut d = Decoder::new(Some(projection));
    let out = d.decode(doc, "f").unwrap();
    (d.finish(), out)
}

#[test]
fn a_record_broken_off_half_way_leaves_no_trace() {
    let mut d = Decoder::new(None);
    d.decode(br#"{"Records":[{"eventName":"A"}]}"#, "a")
        .unwrap();
    // Some columns (and a struct's children) got a value for X before
    // the JSON broke.
    let bad = d.decode(
        br#"{"Records":[{"eventName":"X","awsRegion":"r","userIdentity":{"type":"T","userName":"#,
        "x",
    );
    assert!(bad.is_err());
    d.decode(
        br#"[{"eventName":"B","userIdentity":{"userName":"u"},"resources":[{"ARN":"a"},{}]},{"eventName":"C"}]"#,
        "b",
    )
    .unwrap();
    let batches = d.finish();
    let b = &datafusion::arrow::compute::concat_batches(&canonical_schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 3);
    let names = b.column_by_name("eventname").unwrap().as_string::<i32>();
    assert_eq!(
        (0..3).map(|i| names.value(i)).collect::<Vec<_>>(),
        ["A", "B", "C"]
    );
    assert_eq!(b.column_by_name("awsregion").unwrap().null_count(), 3);
    let who = b.column_by_name("useridentity").unwrap().as_struct();
    assert!(who.is_null(0) && who.is_valid(1) && who.is_null(2));
    let user = who.column_by_name("username").unwrap().as_string::<i32>();
    assert_eq!(user.len(), 3);
    assert!(user.is_null(0) && user.value(1) == "u" && user.is_null(2));
    assert_eq!(who.column_by_name("type").unwrap().null_count(), 3);
    let resources = b.column_by_name("resources").unwrap().as_list::<i32>();
    assert!(resources.is_null(0) && resources.is_null(2));
    assert_eq!(resources.value(1).len(), 2);
}

#[test]
fn small_files_share_batches_and_a_failed_file_adds_no_rows() {
    let names = |batches: &[RecordBatch]| -> Vec<(String, String)> {
        let mut v = Vec::new();
        for b in batches {
            let n = b.column_by_name("eventname").unwrap().as_string::<i32>();
            let o = b.column_by_name("log_object").unwrap().as_string::<i32>();
            for i in 0..b.num_rows() {
                v.push((n.value(i).to_owned(), o.value(i).to_owned()));
            }
        }
        v
    };
    let want = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let mut d = Decoder::new(None);
    d.decode(br#"{"Records":[{"eventName":"A"}]}"#, "a")
        .unwrap();
    d.decode(br#"[{"eventName":"B"}]"#, "b").unwrap();
    let batches = d.finish();
    assert_eq!(batches.len(), 1);
    assert_eq!(names(&batches), want(&[("A", "a"), ("B", "b")]));

    let mut d = Decoder::new(None);
    d.decode(br#"{"Records":[{"eventName":"A"}]}"#, "a")
        .unwrap();
    // Two records in, then the JSON breaks: neither may stay.
    let bad = d.decode(br#"{"Records":[{"eventName":"X"},{"eventName":"Y"},{"#, "x");
    assert!(bad.unwrap_err().0.starts_with("not valid JSON"));
    d.decode(br#"[{"eventName":"B"}]"#, "b").unwrap();
    let batches = d.finish();
    assert_eq!(names(&batches), want(&[("A", "a"), ("B", "b")]));

    // A file that fails after filling a whole batch: the batch is cut back
    // to the rows of the files before it.
    let mut big = String::from(r#"{"Records":["#);
    for _ in 0..BATCH_ROWS + 10 {
        big.push_str(r#"{"eventName":"X"},"#);
    }
    big.push_str("oops]}");
    let mut d = Decoder::new(None);
    d.decode(br#"{"Records":[{"eventName":"A"}]}"#, "a")
        .unwrap();
    assert!(d.decode(big.as_bytes(), "x").is_err());
    d.decode(br#"{"Records":[{"eventName":"B"}]}"#, "b")
        .unwrap();
    let batches = d.finish();
    assert_eq!(names(&batches), want(&[("A", "a"), ("B", "b")]));

    // A file that fills the batch started by the files before it, then
    // fails: the batch keeps only their rows.
    let mut before = String::from("[");
    for _ in 0..BATCH_ROWS - 5 {
        before.push_str(r#"{"eventName":"A"},"#);
    }
    before.pop();
    before.push(']');
    let mut failing = String::from("[");
    for _ in 0..10 {
        failing.push_str(r#"{"eventName":"X"},"#);
    }
    failing.push_str("oops]");
    let mut d = Decoder::new(None);
    d.decode(before.as_bytes(), "a").unwrap();
    assert!(d.decode(failing.as_bytes(), "x").is_err());
    let batches = d.finish();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, BATCH_ROWS - 5);
    assert!(names(&batches).iter().all(|(n, _)| n == "A"));

    // A failing first file leaves nothing behind.
    let mut d = Decoder::new(None);
    assert!(d.decode(big.as_bytes(), "x").is_err());
    assert!(d.finish().is_empty());
}

fn extra_of(b: &RecordBatch, row: usize) -> Value {
    let col = b.column_by_name("extra_fields").unwrap().as_string::<i32>();
    serde_json::from_str(col.value(row)).unwrap()
}

#[test]
fn repeated_members_and_records_lose_nothing() {
    let doc =
        br#"{"Records":[{"eventName":"A","eventName":"B"}],"x":1,"Records":[{"eventName":"C"}]}"#;
    let (batches, out) = decode_document(doc, "f").unwrap();
    assert_eq!(out.records, 2);
    let b = &batches[0];
    let names = b.column_by_name("eventname").unwrap().as_string::<i32>();
    assert_eq!((names.value(0), names.value(1)), ("A", "C"));
    // The later value wins when the record is rebuilt, as in JSON parsers.
    assert_eq!(extra_of(b, 0)["eventName"], "B");
}

#[test]
fn lists_and_structs_that_do_not_fit_are_kept_whole() {
    let doc = br#"{"Records":[
        {"resources":[{"ARN":"a","accountId":"1","type":"T"},"odd",{"ARN":"b","more":2}]},
        {"resources":[{"ARN":"c"}],"tlsDetails":"TLSv1.2","userIdentity":{"type":7}},
        {"resources":{"ARN":"d"}}]}"#;
    let (batches, out) = decode_document(doc, "f").unwrap();
    assert_eq!(out.records, 3);
    // The string tlsDetails, the number type and the object resources.
    assert_eq!(out.type_mismatches, 3);
    let b = &batches[0];
    let res = b.column_by_name("resources").unwrap().as_list::<i32>();
    assert_eq!(res.value_length(0), 3);
    assert_eq!(res.value_length(1), 1);
    assert!(res.is_null(2));
    let e0 = extra_of(b, 0);
    assert_eq!(e0["resources"][1], "odd");
    assert_eq!(e0["resources"][2]["more"], 2);
    assert!(b.column_by_name("extra_fields").unwrap().is_valid(1));
    let e1 = extra_of(b, 1);
    assert!(e1.get("resources").is_none(), "{e1}");
    assert_eq!(e1["tlsDetails"], "TLSv1.2");
    assert_eq!(e1["userIdentity"]["type"], 7);
    assert_eq!(extra_of(b, 2)["resources"]["ARN"], "d");
}

#[test]
fn skipped_records_say_what_they_are() {
    let (_, out) =
        decode_document(br#"[null,{"eventName":"X"},[1],{"eventName":"Y"}]"#, "f").unwrap();
    assert_eq!(out.records, 2);
    let reasons: Vec<_> = out
        .skipped
        .iter()
        .map(|p| (p.index, p.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (0, "record is not a JSON object (it is null)"),
            (2, "record is not a JSON object (it is an array)")
        ]
    );
    assert_eq!(
        decode_document(br#"{"Records":null,"a":1}"#, "f")
            .unwrap_err()
            .0,
        "no \"Records\" or \"Events\" array: not a CloudTrail log file or Event history"
    );
    assert!(decode_document(br#"{"Records":[]} x"#, "f").is_err());
}

#[test]
fn canonical_time() {
    assert_eq!(parse_canonical_time("1970-01-01T00:00:01Z"), Some(1000));
    assert_eq!(parse_canonical_time("1970-13-01T00:00:01Z"), None);
    assert_eq!(parse_lenient_time("1970-01-01 00:00:01.5"), Some(1500));
}

/// A query that reads neither `log_object` nor most columns: a file of
/// many records makes many batches, which share one array per unread
/// column (and blank log objects) instead of building one each.
#[test]
fn unread_columns_share_one_array_across_batches() {
    let records: Vec<String> = (0..BATCH_ROWS * 3)
        .map(|i| format!(r#"{{"eventID":"e{i}","eventTime":"2025-10-01T10:00:00Z"}}"#))
        .collect();
    let doc = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let schema = canonical_schema();
    let eventid = schema.index_of("eventid").unwrap();
    let useragent = schema.index_of("useragent").unwrap();
    let log_object = schema.index_of("log_object").unwrap();
    let mut decoder = Decoder::new(Some(&[eventid]));
    decoder.decode(doc.as_bytes(), "AWSLogs/x.json").unwrap();
    let batches = decoder.finish();
    assert_eq!(batches.len(), 3);
    for (k, b) in batches.iter().enumerate() {
        let ids = b.column(eventid).as_string::<i32>();
        assert_eq!(ids.value(5), format!("e{}", k * BATCH_ROWS + 5));
        assert_eq!(b.column(useragent).null_count(), BATCH_ROWS);
        assert_eq!(b.column(log_object).as_string::<i32>().value(0), "");
        assert_eq!(b.column(log_object).null_count(), 0);
    }
    let same = |col: usize| {
        batches.windows(2).all(|w| {
            w[0].column(col).to_data().buffers()[0].as_ptr()
                == w[1].column(col).to_data().buffers()[0].as_ptr()
        })
    };
    assert!(same(useragent) && same(log_object));
    // Read, log_object names the file.
    let mut decoder = Decoder::new(Some(&[eventid, log_object]));
    decoder.decode(doc.as_bytes(), "AWSLogs/x.json").unwrap();
    let batches = decoder.finish();
    assert_eq!(
        batches[2].column(log_object).as_string::<i32>().value(9),
        "AWSLogs/x.json"
    );
}
