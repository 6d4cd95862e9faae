//! Log-file bytes -> Arrow batches of the canonical schema.
//!
//! A log file is `{"Records":[...]}`; a bare array of records and a lone event
//! object (as AWS documentation prints them) are accepted too, and so is Event
//! history: the output of `aws cloudtrail lookup-events` (`{"Events":[{...,
//! "CloudTrailEvent": "<the record as a JSON string>"}]}`, several pages one
//! after another in one file) and the console's downloads (JSON as above, or CSV
//! with its column names, see [`csv_records`]). The document is
//! read in one pass: serde walks it and visitors shaped by the schema tree write
//! each value straight into its column builder. A value of the expected type goes
//! into its column; anything else (an unknown field, an explicit `null`, a value
//! of another type, a timestamp in a non-canonical spelling, a repeated member)
//! is kept in `extra_fields`, so the record can always be rebuilt from its row.
//! Members of columns a query does not read are skipped without being parsed
//! into values.
//!
//! A record that is not a JSON object is skipped and reported; a file that is not a
//! CloudTrail document is reported as a [`FileProblem`]. Nothing here panics on bad
//! input.

use datafusion::arrow::array::ArrayBuilder;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::builder::NullBufferBuilder;
use datafusion::arrow::array::{
    new_null_array, ArrayRef, BooleanBuilder, ListArray, RecordBatch, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::schema::{canonical_schema, data_type, struct_fields, Kind, Spec, RECORD, UTC};

/// Records per output batch.
pub const BATCH_ROWS: usize = 8192;

/// Why a whole file could not be read as CloudTrail records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem(pub String);

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record that was skipped: its position in the file and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    pub index: usize,
    pub reason: String,
}

/// What decoding one file gave, besides its rows.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// Records decoded into rows.
    pub records: usize,
    /// Records skipped, with reasons.
    pub skipped: Vec<RecordProblem>,
    /// Values kept in `extra_fields` because their JSON type was not the column's.
    pub type_mismatches: usize,
}

/// Decode one (already decompressed) log document on its own, every column.
pub fn decode_document(
    bytes: &[u8],
    log_object: &str,
) -> Result<(Vec<RecordBatch>, FileOutcome), FileProblem> {
    let mut decoder = Decoder::new(None);
    let outcome = decoder.decode(bytes, log_object)?;
    Ok((decoder.finish(), outcome))
}

/// Decodes many log documents into batches of up to [`BATCH_ROWS`] rows, the
/// rows of small files sharing a batch (a trail writes files of a few dozen
/// records; a batch and a set of column builders per file would cost more than
/// the records). With a projection (indexes into the canonical schema) only
/// those columns are filled and the others are NULL, which saves the work of
/// parsing values no one reads. Records are still checked and skipped the same
/// way; values of an unexpected type are only counted in the columns that are
/// read.
pub struct Decoder {
    builder: BatchBuilder,
    batches: Vec<RecordBatch>,
}

impl Decoder {
    pub fn new(projection: Option<&[usize]>) -> Self {
        Decoder {
            builder: BatchBuilder::new(projection),
            batches: Vec::new(),
        }
    }

    /// Decode one document, adding its rows. A file that fails adds no rows:
    /// the rows it had added before the problem showed are dropped.
    pub fn decode(&mut self, bytes: &[u8], log_object: &str) -> Result<FileOutcome, FileProblem> {
        let rows_before = self.builder.rows;
        let batches_before = self.batches.len();
        let mut outcome = FileOutcome::default();
        let result = decode_into(
            &mut Target {
                builder: &mut self.builder,
                batches: &mut self.batches,
                outcome: &mut outcome,
                log_object,
            },
            bytes,
        );
        // Rows were added if a batch was completed since, or the one being
        // built grew.
        let added = self.batches.len() > batches_before || self.builder.rows > rows_before;
        if result.is_err() {
            // A record that broke off half-way may have put values in some
            // columns: finishing the batch cuts them off (even if it has no
            // whole row).
            let batch = self.builder.finish();
            if batch.num_rows() > 0 {
                self.batches.push(batch);
            }
        }
        if result.is_err() && added {
            // The rows of this file start at `rows_before` in the first batch
            // made since it began (or in the one just finished).
            let first = self.batches[batches_before].slice(0, rows_before);
            self.batches.truncate(batches_before);
            if rows_before > 0 {
                self.batches.push(first);
            }
        }
        result.map(|()| outcome)
    }

    /// Batches completed so far.
    pub fn take_batches(&mut self) -> Vec<RecordBatch> {
        std::mem::take(&mut self.batches)
    }

    /// Every batch, the last one possibly short.
    pub fn finish(mut self) -> Vec<RecordBatch> {
        self.flush();
        self.batches
    }

    fn flush(&mut self) {
        if self.builder.rows > 0 {
            self.batches.push(self.builder.finish());
        }
    }
}

fn decode_into(target: &mut Target, bytes: &[u8]) -> Result<(), FileProblem> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| FileProblem(format!("not UTF-8 text ({e})")))?;
    let mut rest = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if rest.is_empty() {
        return Err(FileProblem("empty file".into()));
    }
    let name = target.log_object.trim_end_matches(".gz");
    if name.ends_with(".csv") || name.ends_with(".CSV") {
        return csv_records(target, rest);
    }
    // One JSON document, or several one after another (pages of
    // `lookup-events` output saved to one file).
    let mut first = true;
    while !rest.is_empty() {
        if !rest.starts_with(['{', '[']) {
            if first {
                return Err(FileProblem("not a JSON object or array".into()));
            }
            let at = text.len() - rest.len();
            return Err(FileProblem(format!(
                "not valid JSON: unexpected text after the JSON document at byte {at}"
            )));
        }
        let used = decode_json_document(target, rest)?;
        rest = rest[used..].trim_start();
        first = false;
    }
    Ok(())
}

/// Decode the JSON document at the start of `text` (which begins with `{` or
/// `[`); how many bytes it took.
fn decode_json_document(target: &mut Target, text: &str) -> Result<usize, FileProblem> {
    let bad_json = |e: serde_json::Error| FileProblem(format!("not valid JSON: {e}"));
    let mut de = serde_json::Deserializer::from_str(text);
    let found = if text.starts_with('{') {
        DocSeed(target).deserialize(&mut de)
    } else {
        RecordsSeed::records(target).deserialize(&mut de)
    }
    .map_err(bad_json)?;
    // Where the document ended: all of the text, or another document follows.
    let used = match de.end() {
        Ok(()) => text.len(),
        Err(e) if e.to_string().starts_with("trailing characters") => {
            let mut stream = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
            match stream.next() {
                Some(Ok(_)) => stream.byte_offset(),
                _ => return Err(bad_json(e)),
            }
        }
        Err(e) => return Err(bad_json(e)),
    };
    let doc = &text[..used];
    match found {
        Found::Records => Ok(used),
        Found::NotArray(member) => Err(FileProblem(format!(
            "\"{member}\" is not an array of records"
        ))),
        Found::Absent => {
            let Entries(entries) = serde_json::from_str(doc).map_err(bad_json)?;
            let looks_like_event = entries
                .iter()
                .any(|k| matches!(k.as_ref(), "eventName" | "eventSource" | "eventVersion"));
            if !looks_like_event {
                return Err(FileProblem(
                    "no \"Records\" or \"Events\" array: not a CloudTrail log file or Event history"
                        .into(),
                ));
            }
            let mut de = serde_json::Deserializer::from_str(doc);
            RecordSeed(target).deserialize(&mut de).map_err(bad_json)?;
            Ok(used)
        }
    }
}

/// The column names of the console's Event history CSV download, lower case
/// with everything but letters and digits removed, and the record field each
/// one is (`userIdentity.userName` is nested). AWS documents the columns by
/// their labels (Event name, Event time, User name, Event source, Resource
/// type, Resource name, and the optional AWS access key, AWS region, Error
/// code, Event ID, Read-only, Source IP address), not the file's exact header,
/// so names are matched loosely; `eventtime` and `EventTime` work too.
const CSV_COLUMNS: &[(&str, &str)] = &[
    ("eventid", "eventID"),
    ("eventtime", "eventTime"),
    ("eventname", "eventName"),
    ("eventsource", "eventSource"),
    ("username", "userIdentity.userName"),
    ("awsaccesskey", "userIdentity.accessKeyId"),
    ("accesskeyid", "userIdentity.accessKeyId"),
    ("awsregion", "awsRegion"),
    ("errorcode", "errorCode"),
    ("sourceipaddress", "sourceIPAddress"),
    ("readonly", "readOnly"),
];

fn normalise_header(h: &str) -> String {
    h.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An Event history CSV download. A cell holding a whole event (a JSON object
/// with `eventVersion`, `eventName` or `eventSource`, as a "CloudTrail event"
/// column would) is decoded as the record; otherwise the record is made of the
/// known columns ([`CSV_COLUMNS`]), and every other non-empty column is kept
/// under its own header in `extra_fields` (Resource type and Resource name
/// among them), so nothing in the file is lost.
fn csv_records(target: &mut Target, text: &str) -> Result<(), FileProblem> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| FileProblem(format!("not JSON, and not CSV: {e}")))?
        .clone();
    let fields: Vec<Option<&str>> = headers
        .iter()
        .map(|h| {
            let n = normalise_header(h);
            CSV_COLUMNS.iter().find(|(k, _)| *k == n).map(|(_, f)| *f)
        })
        .collect();
    let event_column = headers
        .iter()
        .position(|h| matches!(normalise_header(h).as_str(), "cloudtrailevent" | "event"));
    if fields.iter().all(Option::is_none) && event_column.is_none() {
        return Err(FileProblem(
            "not JSON, and not a CSV with Event history columns (Event name, Event time, ...)"
                .into(),
        ));
    }
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| FileProblem(format!("CSV row {}: {e}", i + 2)))?;
        if let Some(cell) = event_column.and_then(|c| row.get(c)) {
            if cell.trim_start().starts_with('{') {
                let mut de = serde_json::Deserializer::from_str(cell);
                RecordSeed(target)
                    .deserialize(&mut de)
                    .and_then(|()| de.end())
                    .map_err(|e| {
                        FileProblem(format!(
                            "CSV row {}: the event is not valid JSON: {e}",
                            i + 2
                        ))
                    })?;
                continue;
            }
        }
        let mut record = Map::new();
        let mut identity = Map::new();
        for (j, cell) in row.iter().enumerate() {
            if cell.is_empty() || Some(j) == event_column {
                continue;
            }
            match fields.get(j).copied().flatten() {
                Some(f) => {
                    let value = match f {
                        "readOnly" => match cell.to_ascii_lowercase().as_str() {
                            "true" => Value::Bool(true),
                            "false" => Value::Bool(false),
                            _ => Value::String(cell.to_string()),
                        },
                        _ => Value::String(cell.to_string()),
                    };
                    match f.strip_prefix("userIdentity.") {
                        Some(inner) => identity.insert(inner.to_string(), value),
                        None => record.insert(f.to_string(), value),
                    };
                }
                None => {
                    let name = headers.get(j).unwrap_or("").to_string();
                    record.insert(name, Value::String(cell.to_string()));
                }
            }
        }
        if !identity.is_empty() {
            record.insert("userIdentity".into(), Value::Object(identity));
        }
        let text = Value::Object(record).to_string();
        let mut de = serde_json::Deserializer::from_str(&text);
        RecordSeed(target)
            .deserialize(&mut de)
            .map_err(|e| FileProblem(format!("CSV row {}: {e}", i + 2)))?;
    }
    Ok(())
}

/// Where decoded records go.
struct Target<'b> {
    builder: &'b mut BatchBuilder,
    batches: &'b mut Vec<RecordBatch>,
    outcome: &'b mut FileOutcome,
    log_object: &'b str,
}

impl Target<'_> {
    fn record_done(&mut self) {
        self.outcome.records += 1;
        if self.builder.rows == BATCH_ROWS {
            self.batches.push(self.builder.finish());
        }
    }

    fn record_skipped(&mut self, not_an_object: &Value) {
        let what = match not_an_object {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        self.skip(format!("record is not a JSON object (it is {what})"));
    }

    /// Report the next record as skipped, for `reason`.
    fn skip(&mut self, reason: String) {
        self.outcome.skipped.push(RecordProblem {
            index: self.outcome.records + self.outcome.skipped.len(),
            reason,
        });
    }
}

/// What the top level of a document held.
enum Found {
    /// A `Records` array (or a bare array), decoded.
    Records,
    /// A `Records` (or `Events`) member that is not an array.
    NotArray(&'static str),
    /// No `Records` member (or a null one).
    Absent,
}

/// Visitor methods for JSON numbers, each handing the value to
/// `self.other(value)`: the rare path of visitors that want other types.
macro_rules! numbers_to_other {
    () => {
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(self.other(Value::from(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(self.other(Value::from(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(self.other(Value::from(v)))
        }
    };
}

/// The same for numbers, booleans and strings.
macro_rules! scalars_to_other {
    () => {
        numbers_to_other!();
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(self.other(Value::Bool(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(self.other(Value::String(v.to_owned())))
        }
    };
}

/// The same for every JSON value except an object.
macro_rules! all_but_objects_to_other {
    () => {
        scalars_to_other!();
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.other(Value::Null))
        }
        fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
            let v = Value::deserialize(SeqAccessDeserializer::new(seq))?;
            Ok(self.other(v))
        }
    };
}

/// The top-level object of a log file: finds `Records`, skips other members.
struct DocSeed<'t, 'b>(&'t mut Target<'b>);

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = Found;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found::Absent;
        while let Some(Text(key)) = map.next_key()? {
            if key == "Records" {
                // A repeated Records member is decoded too: nothing is dropped.
                match map.next_value_seed(RecordsSeed::records(&mut *self.0))? {
                    Found::Absent => {}
                    f => found = f,
                }
            } else if key == "Events" {
                let seed = RecordsSeed {
                    target: &mut *self.0,
                    member: "Events",
                };
                match map.next_value_seed(seed)? {
                    Found::Absent => {}
                    f => found = f,
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The array of records: `Records` (or a bare array), or the `Events` of
/// `lookup-events` output, whose entries hold their record as a string.
struct RecordsSeed<'t, 'b> {
    target: &'t mut Target<'b>,
    member: &'static str,
}

impl<'t, 'b> RecordsSeed<'t, 'b> {
    fn records(target: &'t mut Target<'b>) -> Self {
        RecordsSeed {
            target,
            member: "Records",
        }
    }

    fn other(self, _: Value) -> Found {
        Found::NotArray(self.member)
    }
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_> {
    type Value = Found;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Found, S::Error> {
        if self.member == "Events" {
            while seq
                .next_element_seed(LookupEventSeed(&mut *self.target))?
                .is_some()
            {}
        } else {
            while seq
                .next_element_seed(RecordSeed(&mut *self.target))?
                .is_some()
            {}
        }
        Ok(Found::Records)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Found, E> {
        Ok(Found::Absent)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Found::NotArray(self.member))
    }
    scalars_to_other!();
}

/// One `lookup-events` entry: its `CloudTrailEvent` string is the record (the
/// other members repeat parts of it). An entry without one is skipped and
/// reported.
struct LookupEventSeed<'t, 'b>(&'t mut Target<'b>);

impl<'de> DeserializeSeed<'de> for LookupEventSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LookupEventSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Event history entry")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let t = self.0;
        let mut found = false;
        while let Some(Text(key)) = map.next_key()? {
            if key == "CloudTrailEvent" && !found {
                let Text(event) = map.next_value()?;
                let mut de = serde_json::Deserializer::from_str(&event);
                RecordSeed(&mut *t)
                    .deserialize(&mut de)
                    .and_then(|()| de.end())
                    .map_err(|e| {
                        de::Error::custom(format!("CloudTrailEvent is not a JSON record: {e}"))
                    })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !found {
            t.skip("Event history entry without CloudTrailEvent".into());
        }
        Ok(())
    }
    all_but_objects_to_other!();
}

impl LookupEventSeed<'_, '_> {
    fn other(self, v: Value) {
        self.0.record_skipped(&v);
    }
}

/// One record: an object becomes a row; anything else is skipped and reported.
struct RecordSeed<'t, 'b>(&'t mut Target<'b>);

impl RecordSeed<'_, '_> {
    fn other(self, v: Value) {
        self.0.record_skipped(&v);
    }
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let t = self.0;
        let log_object = t.log_object;
        t.builder
            .append_record(map, log_object, &mut t.outcome.type_mismatches)?;
        t.record_done();
        Ok(())
    }
    all_but_objects_to_other!();
}

/// A JSON string borrowed from the input when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The member names of a JSON object, in order, values skipped.
struct Entries<'a>(Vec<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(k)) = map.next_key()? {
                    map.next_value::<IgnoredAny>()?;
                    out.push(k);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// JSON text without the whitespace between tokens, as CloudTrail writes it:
/// a pretty-printed file (an Event history download, a hand-made fixture)
/// then gives the same `requestparameters` text as a trail's compact file,
/// and `LIKE '%"cidrIp":"0.0.0.0/0"%'` works on both. Tokens, strings and
/// numbers are kept byte for byte; text with no whitespace is not copied.
pub fn compact_json(text: &str) -> Cow<'_, str> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
    if !text.as_bytes().iter().any(is_space) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            out.push(c);
        }
    }
    if out.len() == text.len() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

fn to_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// Parse `YYYY-MM-DDTHH:MM:SSZ` exactly (what CloudTrail writes).
fn parse_canonical_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        Some(v)
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let t = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(t.and_utc().timestamp_millis())
}

/// Parse the other spellings seen in exported or re-processed logs.
pub fn parse_lenient_time(s: &str) -> Option<i64> {
    if let Some(ms) = parse_canonical_time(s) {
        return Some(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    None
}

/// A column under construction.
enum Col {
    /// A column the query does not read: all NULL, nothing built.
    Unread {
        data_type: DataType,
        len: usize,
    },
    Str(StringBuilder),
    Json(StringBuilder),
    Bool(BooleanBuilder),
    Time(TimestampMillisecondBuilder),
    Struct(StructCol),
    List {
        item: FieldRef,
        offsets: Vec<i32>,
        valid: NullBufferBuilder,
        child: StructCol,
    },
}

struct StructCol {
    specs: &'static [Spec],
    fields: Fields,
    children: Vec<Col>,
    valid: NullBufferBuilder,
    len: usize,
}

impl StructCol {
    fn new(specs: &'static [Spec]) -> Self {
        StructCol {
            specs,
            fields: struct_fields(specs),
            children: specs.iter().map(|s| Col::new(&s.kind)).collect(),
            valid: NullBufferBuilder::new(0),
            len: 0,
        }
    }

    /// A NULL struct: its children are padded when next written to or
    /// finished (see [`Col::pad_to`]).
    fn null(&mut self) {
        self.valid.append_null();
        self.len += 1;
    }

    fn pad_to(&mut self, len: usize) {
        if len > self.len {
            self.valid.append_n_nulls(len - self.len);
            self.len = len;
        }
    }

    /// Append the JSON object `map` as one struct value; what does not fit
    /// goes to `extra`.
    fn append_map<'de, A: MapAccess<'de>>(
        &mut self,
        map: A,
        extra: &mut Map<String, Value>,
        mismatches: &mut usize,
    ) -> Result<(), A::Error> {
        let row = self.len;
        fill_map(
            self.specs,
            &mut self.children,
            extra,
            mismatches,
            None,
            row,
            map,
        )?;
        self.valid.append_non_null();
        self.len += 1;
        Ok(())
    }

    fn finish(&mut self) -> StructArray {
        let len = std::mem::take(&mut self.len);
        let arrays: Vec<ArrayRef> = self.children.iter_mut().map(|c| c.finish_at(len)).collect();
        let nulls = self.valid.finish();
        if arrays.is_empty() {
            return StructArray::new_empty_fields(len, nulls);
        }
        StructArray::new(self.fields.clone(), arrays, nulls)
    }
}

/// The spec named `key`, trying `next` first: records mostly list their
/// members in the schema's order.
fn position(specs: &[Spec], key: &str, next: usize) -> Option<usize> {
    // Members mostly come in the specs' order, some absent: look from the
    // one after the last found, then before it.
    let next = next.min(specs.len());
    let found = |s: &[Spec]| s.iter().position(|s| s.json == key);
    found(&specs[next..])
        .map(|i| next + i)
        .or_else(|| found(&specs[..next]))
}

/// Fill `children` (one per spec) from the members of one JSON object; every
/// child gets exactly one value (NULL when the member is absent). Unknown
/// members, and a repeated member after its first, go into `extra`.
/// `wanted` (top level only): which children to fill, and at index
/// `specs.len()` whether `extra` is kept; None fills everything.
///
/// The object is row `row` of `children`: a column is padded with NULLs up
/// to it when it gets a value, so members the object lacks (most of a
/// record's columns) cost nothing here.
#[allow(clippy::too_many_arguments)]
fn fill_map<'de, A: MapAccess<'de>>(
    specs: &'static [Spec],
    children: &mut [Col],
    extra: &mut Map<String, Value>,
    mismatches: &mut usize,
    wanted: Option<&[bool]>,
    row: usize,
    mut map: A,
) -> Result<(), A::Error> {
    debug_assert!(specs.len() < 64);
    let keep_extra = wanted.is_none_or(|w| w[specs.len()]);
    let mut filled = 0u64;
    let mut next = 0;
    while let Some(Text(key)) = map.next_key()? {
        match position(specs, &key, next) {
            Some(i) if wanted.is_some_and(|w| !w[i]) => {
                map.next_value::<IgnoredAny>()?;
            }
            Some(i) if filled & (1 << i) == 0 => {
                filled |= 1 << i;
                next = i + 1;
                children[i].pad_to(row);
                map.next_value_seed(ColSeed {
                    key: &key,
                    col: &mut children[i],
                    extra: &mut *extra,
                    mismatches: &mut *mismatches,
                })?;
            }
            _ if keep_extra => {
                let v = map.next_value::<Value>()?;
                extra.insert(key.into_owned(), v);
            }
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

/// The value of member `key`, for column `col`.
struct ColSeed<'c> {
    key: &'c str,
    col: &'c mut Col,
    extra: &'c mut Map<String, Value>,
    mismatches: &'c mut usize,
}

impl ColSeed<'_> {
    /// Present but null: the column is NULL, the explicit null is kept.
    fn null(self) {
        self.col.null();
        self.extra.insert(self.key.to_owned(), Value::Null);
    }

    /// A value of another JSON type than the column's: kept in `extra`.
    fn other(self, v: Value) {
        *self.mismatches += 1;
        self.col.null();
        self.extra.insert(self.key.to_owned(), v);
    }
}

impl<'de> DeserializeSeed<'de> for ColSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.col {
            Col::Json(_) | Col::List { .. } => {
                let raw = <&'de RawValue>::deserialize(d)?;
                self.append_raw(raw);
                Ok(())
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl ColSeed<'_> {
    /// JSON-text and list columns take the member's raw text.
    fn append_raw(self, raw: &RawValue) {
        let text = raw.get();
        if text == "null" {
            return self.null();
        }
        match self.col {
            Col::Json(b) => b.append_value(compact_json(text)),
            Col::List {
                offsets,
                valid,
                child,
                ..
            } => {
                if !text.starts_with('[') {
                    return self.other(to_value(raw));
                }
                let before = child.len;
                let mut de = serde_json::Deserializer::from_str(text);
                let seed = ItemsSeed {
                    child,
                    mismatches: &mut *self.mismatches,
                };
                // The text was already parsed once as JSON, so this cannot fail.
                let exact = de.deserialize_seq(seed).unwrap_or(false);
                offsets.push(offsets.last().unwrap_or(&0) + (child.len - before) as i32);
                valid.append_non_null();
                if !exact {
                    // An element that does not fit: the whole list is kept
                    // verbatim (paths into arrays would be ambiguous).
                    self.extra.insert(self.key.to_owned(), to_value(raw));
                }
            }
            _ => unreachable!("only JSON-text and list columns take raw text"),
        }
    }
}

impl<'de> Visitor<'de> for ColSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.null();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        match self.col {
            Col::Str(b) => b.append_value(s),
            Col::Time(b) => {
                if let Some(ms) = parse_canonical_time(s) {
                    b.append_value(ms);
                } else if let Some(ms) = parse_lenient_time(s) {
                    // Queryable as a time, and the original spelling is kept.
                    b.append_value(ms);
                    self.extra
                        .insert(self.key.to_owned(), Value::String(s.to_owned()));
                } else {
                    self.other(Value::String(s.to_owned()));
                }
            }
            _ => self.other(Value::String(s.to_owned())),
        }
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        match self.col {
            Col::Bool(b) => b.append_value(v),
            _ => self.other(Value::Bool(v)),
        }
        Ok(())
    }
    numbers_to_other!();
    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<(), S::Error> {
        let v = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        self.other(v);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        match self.col {
            Col::Struct(s) => {
                let mut sub = Map::new();
                s.append_map(map, &mut sub, self.mismatches)?;
                if !sub.is_empty() {
                    self.extra.insert(self.key.to_owned(), Value::Object(sub));
                }
            }
            _ => {
                let v = Value::deserialize(MapAccessDeserializer::new(map))?;
                self.other(v);
            }
        }
        Ok(())
    }
}

/// The elements of a list-of-struct value; gives whether every element fitted.
struct ItemsSeed<'c> {
    child: &'c mut StructCol,
    mismatches: &'c mut usize,
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<bool, S::Error> {
        let mut exact = true;
        while let Some(fitted) = seq.next_element_seed(ItemSeed {
            child: &mut *self.child,
            mismatches: &mut *self.mismatches,
        })? {
            exact &= fitted;
        }
        Ok(exact)
    }
}

/// One element of a list-of-struct value: gives whether it fitted.
struct ItemSeed<'c> {
    child: &'c mut StructCol,
    mismatches: &'c mut usize,
}

impl ItemSeed<'_> {
    fn other(self, _: Value) -> bool {
        self.child.null();
        false
    }
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list element")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        let mut item_extra = Map::new();
        self.child
            .append_map(map, &mut item_extra, self.mismatches)?;
        Ok(item_extra.is_empty())
    }
    all_but_objects_to_other!();
}

impl Col {
    fn new(kind: &'static Kind) -> Col {
        match kind {
            Kind::Str => Col::Str(StringBuilder::new()),
            Kind::Json => Col::Json(StringBuilder::new()),
            Kind::Bool => Col::Bool(BooleanBuilder::new()),
            Kind::Time => Col::Time(TimestampMillisecondBuilder::new().with_timezone(UTC)),
            Kind::Struct(specs) => Col::Struct(StructCol::new(specs)),
            Kind::ListOfStruct(specs) => {
                let child = StructCol::new(specs);
                Col::List {
                    item: Arc::new(Field::new(
                        "item",
                        DataType::Struct(child.fields.clone()),
                        true,
                    )),
                    offsets: vec![0],
                    valid: NullBufferBuilder::new(0),
                    child,
                }
            }
        }
    }

    /// Rows so far.
    fn len(&self) -> usize {
        match self {
            Col::Unread { len, .. } => *len,
            Col::Str(b) | Col::Json(b) => b.len(),
            Col::Bool(b) => b.len(),
            Col::Time(b) => b.len(),
            Col::Struct(s) => s.len,
            Col::List { offsets, .. } => offsets.len() - 1,
        }
    }

    /// NULLs up to `len` rows: the rows of the objects that lacked this
    /// member since it last had a value.
    fn pad_to(&mut self, len: usize) {
        let missing = len.saturating_sub(self.len());
        if missing == 0 {
            return;
        }
        match self {
            Col::Unread { len: l, .. } => *l = len,
            Col::Str(b) | Col::Json(b) => b.append_nulls(missing),
            Col::Bool(b) => b.append_nulls(missing),
            Col::Time(b) => b.append_nulls(missing),
            Col::Struct(s) => s.pad_to(len),
            Col::List { offsets, valid, .. } => {
                let last = *offsets.last().unwrap_or(&0);
                offsets.extend(std::iter::repeat_n(last, missing));
                valid.append_n_nulls(missing);
            }
        }
    }

    /// The column of `len` rows: padded with NULLs, or cut back to them (a
    /// record that broke off half-way may have given some columns a row).
    fn finish_at(&mut self, len: usize) -> ArrayRef {
        self.pad_to(len);
        let array = self.finish();
        match array.len() > len {
            true => array.slice(0, len),
            false => array,
        }
    }

    fn null(&mut self) {
        match self {
            Col::Unread { len, .. } => *len += 1,
            Col::Str(b) | Col::Json(b) => b.append_null(),
            Col::Bool(b) => b.append_null(),
            Col::Time(b) => b.append_null(),
            Col::Struct(s) => s.null(),
            Col::List { offsets, valid, .. } => {
                offsets.push(*offsets.last().unwrap_or(&0));
                valid.append_null();
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::Unread { data_type, len } => new_null_array(data_type, std::mem::take(len)),
            Col::Str(b) | Col::Json(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Time(b) => Arc::new(b.finish()),
            Col::Struct(s) => Arc::new(s.finish()),
            Col::List {
                item,
                offsets,
                valid,
                child,
            } => {
                let values = Arc::new(child.finish());
                let offs = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::new(item.clone(), offs, values, valid.finish()))
            }
        }
    }
}

/// Builds one batch of records at a time.
struct BatchBuilder {
    /// Columns to fill (the record's, then extra_fields); None: all.
    wanted: Option<Vec<bool>>,
    cols: Vec<Col>,
    extra: StringBuilder,
    log_object: StringBuilder,
    rows: usize,
}

impl BatchBuilder {
    fn new(projection: Option<&[usize]>) -> Self {
        // extra_fields gathers from every column (explicit nulls, values of
        // another type), so reading it means decoding everything.
        let wanted = projection.filter(|p| !p.contains(&RECORD.len())).map(|p| {
            let mut wanted = vec![false; RECORD.len() + 1];
            for &i in p {
                if let Some(w) = wanted.get_mut(i) {
                    *w = true;
                }
            }
            wanted
        });
        let cols = RECORD
            .iter()
            .enumerate()
            .map(|(i, s)| match &wanted {
                Some(w) if !w[i] => Col::Unread {
                    data_type: data_type(&s.kind),
                    len: 0,
                },
                _ => Col::new(&s.kind),
            })
            .collect();
        BatchBuilder {
            wanted,
            cols,
            extra: StringBuilder::new(),
            log_object: StringBuilder::new(),
            rows: 0,
        }
    }

    fn append_record<'de, A: MapAccess<'de>>(
        &mut self,
        map: A,
        log_object: &str,
        mismatches: &mut usize,
    ) -> Result<(), A::Error> {
        let mut extra = Map::new();
        let wanted = self.wanted.as_deref();
        let row = self.rows;
        fill_map(
            RECORD,
            &mut self.cols,
            &mut extra,
            mismatches,
            wanted,
            row,
            map,
        )?;
        // With a projection, extra_fields is not read (see `new`).
        if extra.is_empty() || wanted.is_some() {
            self.extra.append_null();
        } else {
            // Straight into a byte buffer: Value's Display goes through
            // fmt::Formatter a piece at a time (2% of a conversion).
            let text = serde_json::to_string(&extra).expect("a map of JSON values serializes");
            self.extra.append_value(text);
        }
        self.log_object.append_value(log_object);
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self) -> RecordBatch {
        let rows = std::mem::take(&mut self.rows);
        let mut arrays: Vec<ArrayRef> = self.cols.iter_mut().map(|c| c.finish_at(rows)).collect();
        arrays.push(Arc::new(self.extra.finish()));
        arrays.push(Arc::new(self.log_object.finish()));
        debug_assert!(arrays.iter().all(|a| a.len() == rows));
        RecordBatch::try_new(canonical_schema(), arrays)
            .expect("decoder builds arrays of the canonical schema")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let doc = br#"{"Records":[{"eventName":"A","eventName":"B"}],"x":1,"Records":[{"eventName":"C"}]}"#;
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
}
