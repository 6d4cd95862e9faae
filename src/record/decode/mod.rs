//! Log-file bytes -> Arrow batches of the canonical schema.
//!
//! A log file is `{"Records":[...]}`; a bare array of records and a lone event
//! object (as AWS documentation prints them) are accepted too, and so is Event
//! history: the output of `aws cloudtrail lookup-events` (`{"Events":[{...,
//! "CloudTrailEvent": "<the record as a JSON string>"}]}`, several pages one
//! after another in one file) and the console's downloads (JSON as above, or CSV
//! with its column names, see [`history`]). The document is
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
//!
//! `columns` holds the builders values go into, `history` the Event history
//! CSV; `tests` the unit tests.
//!
//! It imports nothing of trailsql outside `record/`.

use std::borrow::Cow;
use std::fmt;

use datafusion::arrow::array::RecordBatch;
use serde::de::value::SeqAccessDeserializer;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;
use serde_json::Value;

use columns::BatchBuilder;
use history::csv_records;

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

// Declared after the macros above, which they use.
mod columns;
mod history;
#[cfg(test)]
mod tests;
