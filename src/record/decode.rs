//! Log-file bytes -> Arrow batches of the canonical schema.
//!
//! A log file is `{"Records":[...]}`; a bare array of records and a lone event
//! object (as AWS documentation prints them) are accepted too. Each record is split
//! out as raw JSON text and walked against the schema tree: a value of the expected
//! type goes into its column; anything else (an unknown field, an explicit `null`,
//! a value of another type, a timestamp in a non-canonical spelling) is kept in
//! `extra_fields`, so the record can always be rebuilt from its row.
//!
//! A record that is not a JSON object is skipped and reported; a file that is not a
//! CloudTrail document is reported as a [`FileProblem`]. Nothing here panics on bad
//! input.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::builder::NullBufferBuilder;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanBuilder, ListArray, RecordBatch, StringArray, StringBuilder,
    StructArray, TimestampMillisecondBuilder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{Field, FieldRef, Fields};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::schema::{canonical_schema, struct_fields, Kind, Spec, RECORD, UTC};

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

/// What decoding one file gave.
#[derive(Debug, Default)]
pub struct DecodeOutcome {
    pub batches: Vec<RecordBatch>,
    /// Records decoded into rows.
    pub records: usize,
    /// Records skipped, with reasons.
    pub skipped: Vec<RecordProblem>,
    /// Values kept in `extra_fields` because their JSON type was not the column's.
    pub type_mismatches: usize,
}

/// Decode one (already decompressed) log document, every column.
pub fn decode_document(bytes: &[u8], log_object: &str) -> Result<DecodeOutcome, FileProblem> {
    decode_projected(bytes, log_object, None)
}

/// Decode one log document; with `projection` (indexes into the canonical
/// schema) only those columns are filled and the others are NULL, which saves
/// the work of parsing values no one reads. Records are still checked and
/// skipped the same way; values of an unexpected type are only counted in the
/// columns that are read.
pub fn decode_projected(
    bytes: &[u8],
    log_object: &str,
    projection: Option<&[usize]>,
) -> Result<DecodeOutcome, FileProblem> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| FileProblem(format!("not UTF-8 text ({e})")))?;
    let records = split_records(text)?;
    let mut out = DecodeOutcome::default();
    let mut builder = BatchBuilder::new();
    // extra_fields gathers from every column (explicit nulls, values of
    // another type), so reading it means decoding everything.
    let projection = projection.filter(|p| !p.contains(&RECORD.len()));
    if let Some(p) = projection {
        let mut wanted = vec![false; RECORD.len() + 1];
        for &i in p {
            if let Some(w) = wanted.get_mut(i) {
                *w = true;
            }
        }
        builder.wanted = Some(wanted);
    }
    for (index, raw) in records.into_iter().enumerate() {
        match builder.append_record(raw, &mut out.type_mismatches) {
            Ok(()) => out.records += 1,
            Err(reason) => out.skipped.push(RecordProblem { index, reason }),
        }
        if builder.rows == BATCH_ROWS {
            out.batches.push(builder.finish(log_object));
        }
    }
    if builder.rows > 0 {
        out.batches.push(builder.finish(log_object));
    }
    Ok(out)
}

/// The raw record texts of a document.
fn split_records(text: &str) -> Result<Vec<&RawValue>, FileProblem> {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.is_empty() {
        return Err(FileProblem("empty file".into()));
    }
    let bad_json = |e: serde_json::Error| FileProblem(format!("not valid JSON: {e}"));
    match trimmed.as_bytes()[0] {
        b'{' => {
            // One pass: members other than Records are skipped unparsed.
            #[derive(serde::Deserialize)]
            struct Doc<'a> {
                #[serde(rename = "Records", borrow)]
                records: Option<Vec<&'a RawValue>>,
            }
            let doc: Doc = serde_json::from_str(trimmed).map_err(|e| {
                if e.classify() == serde_json::error::Category::Data {
                    FileProblem("\"Records\" is not an array of records".into())
                } else {
                    bad_json(e)
                }
            })?;
            if let Some(records) = doc.records {
                return Ok(records);
            }
            let entries: Entries = serde_json::from_str(trimmed).map_err(bad_json)?;
            let looks_like_event = entries
                .0
                .iter()
                .any(|(k, _)| matches!(k.as_ref(), "eventName" | "eventSource" | "eventVersion"));
            if looks_like_event {
                let whole: &RawValue = serde_json::from_str(trimmed).map_err(bad_json)?;
                Ok(vec![whole])
            } else {
                Err(FileProblem(
                    "no \"Records\" array: not a CloudTrail log file".into(),
                ))
            }
        }
        b'[' => serde_json::from_str::<Vec<&RawValue>>(trimmed).map_err(bad_json),
        _ => Err(FileProblem("not a JSON object or array".into())),
    }
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

/// The members of a JSON object, in order, values left as raw text.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(Text(k)) = map.next_key()? {
                    out.push((k, map.next_value::<&'de RawValue>()?));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
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

    fn null(&mut self) {
        self.children.iter_mut().for_each(Col::null);
        self.valid.append_null();
        self.len += 1;
    }

    fn finish(&mut self) -> StructArray {
        let arrays: Vec<ArrayRef> = self.children.iter_mut().map(Col::finish).collect();
        let nulls = self.valid.finish();
        let len = std::mem::take(&mut self.len);
        if arrays.is_empty() {
            return StructArray::new_empty_fields(len, nulls);
        }
        StructArray::new(self.fields.clone(), arrays, nulls)
    }
}

/// Fill `children` (one per spec) from the JSON object text `obj`. Unknown members
/// go into `extra`. Returns false when `obj` is not an object.
/// `wanted` (top level only): which children to fill, and at index
/// `specs.len()` whether unknown members are kept; None fills everything.
fn fill_object(
    specs: &'static [Spec],
    children: &mut [Col],
    obj: &str,
    extra: &mut Map<String, Value>,
    mismatches: &mut usize,
    wanted: Option<&[bool]>,
) -> bool {
    let Ok(Entries(entries)) = serde_json::from_str::<Entries>(obj) else {
        return false;
    };
    let mut found: [Option<&RawValue>; 64] = [None; 64];
    for (key, raw) in entries {
        match specs.iter().position(|s| s.json == key) {
            Some(i) => found[i] = Some(raw),
            None if wanted.is_none_or(|w| w[specs.len()]) => {
                extra.insert(key.into_owned(), to_value(raw));
            }
            None => {}
        }
    }
    for (i, ((spec, col), raw)) in specs.iter().zip(children.iter_mut()).zip(found).enumerate() {
        match raw {
            Some(raw) if wanted.is_none_or(|w| w[i]) => {
                col.append(spec.json, raw, extra, mismatches)
            }
            _ => col.null(),
        }
    }
    true
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
                        datafusion::arrow::datatypes::DataType::Struct(child.fields.clone()),
                        true,
                    )),
                    offsets: vec![0],
                    valid: NullBufferBuilder::new(0),
                    child,
                }
            }
        }
    }

    fn null(&mut self) {
        match self {
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

    /// Append the value `raw` of member `key`; what does not fit goes to `extra`.
    fn append(
        &mut self,
        key: &str,
        raw: &RawValue,
        extra: &mut Map<String, Value>,
        mismatches: &mut usize,
    ) {
        let text = raw.get();
        if text == "null" {
            // Present but null: the column is NULL, the explicit null is kept.
            self.null();
            extra.insert(key.to_owned(), Value::Null);
            return;
        }
        let fitted = match self {
            Col::Str(b) => match serde_json::from_str::<Text>(text) {
                Ok(Text(s)) => {
                    b.append_value(s);
                    true
                }
                Err(_) => false,
            },
            Col::Json(b) => {
                b.append_value(text);
                true
            }
            Col::Bool(b) => match text {
                "true" | "false" => {
                    b.append_value(text == "true");
                    true
                }
                _ => false,
            },
            Col::Time(b) => match serde_json::from_str::<Text>(text) {
                Ok(Text(s)) => {
                    if let Some(ms) = parse_canonical_time(&s) {
                        b.append_value(ms);
                        true
                    } else if let Some(ms) = parse_lenient_time(&s) {
                        // Queryable as a time, and the original spelling is kept.
                        b.append_value(ms);
                        extra.insert(key.to_owned(), Value::String(s.into_owned()));
                        return;
                    } else {
                        false
                    }
                }
                Err(_) => false,
            },
            Col::Struct(s) => {
                let mut sub = Map::new();
                if text.starts_with('{')
                    && fill_object(s.specs, &mut s.children, text, &mut sub, mismatches, None)
                {
                    s.valid.append_non_null();
                    s.len += 1;
                    if !sub.is_empty() {
                        extra.insert(key.to_owned(), Value::Object(sub));
                    }
                    true
                } else {
                    false
                }
            }
            Col::List {
                offsets,
                valid,
                child,
                ..
            } => match serde_json::from_str::<Vec<&RawValue>>(text) {
                Ok(items) => {
                    // If any element does not fit, the whole list is kept verbatim
                    // in extra_fields (paths into arrays would be ambiguous).
                    let mut sub = Map::new();
                    for item in &items {
                        let t = item.get();
                        let mut item_extra = Map::new();
                        if t.starts_with('{')
                            && fill_object(
                                child.specs,
                                &mut child.children,
                                t,
                                &mut item_extra,
                                mismatches,
                                None,
                            )
                        {
                            child.valid.append_non_null();
                            child.len += 1;
                            if !item_extra.is_empty() {
                                sub.insert(String::new(), Value::Null);
                            }
                        } else {
                            child.null();
                            sub.insert(String::new(), Value::Null);
                        }
                    }
                    offsets.push(offsets.last().unwrap_or(&0) + items.len() as i32);
                    valid.append_non_null();
                    if !sub.is_empty() {
                        extra.insert(key.to_owned(), to_value(raw));
                    }
                    true
                }
                Err(_) => false,
            },
        };
        if !fitted {
            *mismatches += 1;
            self.null();
            extra.insert(key.to_owned(), to_value(raw));
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
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
    rows: usize,
}

impl BatchBuilder {
    fn new() -> Self {
        BatchBuilder {
            wanted: None,
            cols: RECORD.iter().map(|s| Col::new(&s.kind)).collect(),
            extra: StringBuilder::new(),
            rows: 0,
        }
    }

    fn append_record(&mut self, raw: &RawValue, mismatches: &mut usize) -> Result<(), String> {
        let text = raw.get();
        if !text.starts_with('{') {
            return Err(format!(
                "record is not a JSON object (starts with {:?})",
                text.chars().next().unwrap_or(' ')
            ));
        }
        let mut extra = Map::new();
        let wanted = self.wanted.as_deref();
        if !fill_object(RECORD, &mut self.cols, text, &mut extra, mismatches, wanted) {
            return Err("record is not a valid JSON object".into());
        }
        // With a projection, extra_fields is not read (see decode_projected).
        if extra.is_empty() || wanted.is_some() {
            self.extra.append_null();
        } else {
            self.extra.append_value(Value::Object(extra).to_string());
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self, log_object: &str) -> RecordBatch {
        let rows = std::mem::take(&mut self.rows);
        let mut arrays: Vec<ArrayRef> = self.cols.iter_mut().map(Col::finish).collect();
        arrays.push(Arc::new(self.extra.finish()));
        arrays.push(Arc::new(StringArray::from_iter_values(
            std::iter::repeat_n(log_object, rows),
        )));
        debug_assert!(arrays.iter().all(|a| a.len() == rows));
        RecordBatch::try_new(canonical_schema(), arrays)
            .expect("decoder builds arrays of the canonical schema")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;

    #[test]
    fn decodes_records_document() {
        let doc = br#"{"Records":[{"eventVersion":"1.08","eventTime":"2023-10-15T14:32:00Z","eventName":"DeleteTable","userIdentity":{"type":"IAMUser","userName":"alice"},"readOnly":false,"requestParameters":{"tableName":"t"}}]}"#;
        let out = decode_document(doc, "f.json").unwrap();
        assert_eq!(out.records, 1);
        let b = &out.batches[0];
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
    fn keeps_what_does_not_fit() {
        let doc = br#"{"Records":[{"eventTime":"2019-01-01 00:00:00.000000000","readOnly":"true","newField":{"a":1},"responseElements":null,"userIdentity":{"type":"Root","onBehalfOf":{"userId":"u"},"brandNew":"x"}}]}"#;
        let out = decode_document(doc, "f").unwrap();
        assert_eq!(out.type_mismatches, 1);
        let b = &out.batches[0];
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
        let out = decode_document(br#"{"Records":[1,{"eventName":"X"},"s"]}"#, "f").unwrap();
        assert_eq!(out.records, 1);
        assert_eq!(out.skipped.len(), 2);
    }

    #[test]
    fn lone_event_and_bare_array() {
        assert_eq!(
            decode_document(br#"{"eventName":"X"}"#, "f")
                .unwrap()
                .records,
            1
        );
        assert_eq!(
            decode_document(br#"[{"eventName":"X"},{"eventName":"Y"}]"#, "f")
                .unwrap()
                .records,
            2
        );
    }

    #[test]
    fn projection_fills_only_what_is_read_and_the_same_values() {
        let doc = br#"{"Records":[{"eventName":"A","readOnly":"x","responseElements":null,"userIdentity":{"type":"Root","odd":1}},{"eventName":"B","awsRegion":"eu-west-1"}]}"#;
        let full = decode_document(doc, "f").unwrap();
        let idx = |name: &str| canonical_schema().index_of(name).unwrap();
        let (name, region, extra) = (idx("eventname"), idx("awsregion"), idx("extra_fields"));
        let part = decode_projected(doc, "f", Some(&[name, region])).unwrap();
        let (f, p) = (&full.batches[0], &part.batches[0]);
        assert_eq!(f.column(name), p.column(name));
        assert_eq!(f.column(region), p.column(region));
        assert_eq!(p.column(idx("useridentity")).null_count(), 2);
        assert_eq!(p.column(extra).null_count(), 2);
        assert_eq!(part.records, 2);
        assert_eq!(part.type_mismatches, 0, "readonly is not read");
        // Reading extra_fields decodes everything, so it is complete.
        let with_extra = decode_projected(doc, "f", Some(&[name, extra])).unwrap();
        assert_eq!(f.column(extra), with_extra.batches[0].column(extra));
        assert_eq!(with_extra.type_mismatches, 1);
    }

    #[test]
    fn canonical_time() {
        assert_eq!(parse_canonical_time("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_canonical_time("1970-13-01T00:00:01Z"), None);
        assert_eq!(parse_lenient_time("1970-01-01 00:00:01.5"), Some(1500));
    }
}
