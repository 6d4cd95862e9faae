//! The column builders the decoder writes into: one per column of the
//! canonical schema (structs and lists of structs with their own children),
//! each a serde seed shaped by the schema, so a value goes straight from
//! the document into its builder; and the batch they make.
//!
//! It imports nothing of trailsql outside `record/`.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::builder::NullBufferBuilder;
use datafusion::arrow::array::{
    new_null_array, ArrayBuilder, ArrayRef, BooleanBuilder, ListArray, RecordBatch, StringBuilder,
    StructArray, TimestampMillisecondBuilder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::super::schema::{canonical_schema, data_type, struct_fields, Kind, Spec, RECORD, UTC};
use super::super::time::{parse_canonical_time, parse_lenient_time};
use super::{compact_json, to_value, Text};

/// A column under construction.
pub(super) enum Col {
    /// A column the query does not read: all NULL, nothing built. The
    /// NULL array of the last batch is kept and given again to the next of
    /// the same length (a file of a million records makes a hundred
    /// batches; one NULL array per column serves them all).
    Unread {
        data_type: DataType,
        len: usize,
        last: Option<ArrayRef>,
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

pub(super) struct StructCol {
    pub(super) specs: &'static [Spec],
    pub(super) fields: Fields,
    pub(super) children: Vec<Col>,
    pub(super) valid: NullBufferBuilder,
    pub(super) len: usize,
}

impl StructCol {
    pub(super) fn new(specs: &'static [Spec]) -> Self {
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
    pub(super) fn null(&mut self) {
        self.valid.append_null();
        self.len += 1;
    }

    pub(super) fn pad_to(&mut self, len: usize) {
        if len > self.len {
            self.valid.append_n_nulls(len - self.len);
            self.len = len;
        }
    }

    /// Append the JSON object `map` as one struct value; what does not fit
    /// goes to `extra`.
    pub(super) fn append_map<'de, A: MapAccess<'de>>(
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

    pub(super) fn finish(&mut self) -> StructArray {
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
pub(super) fn position(specs: &[Spec], key: &str, next: usize) -> Option<usize> {
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
pub(super) fn fill_map<'de, A: MapAccess<'de>>(
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
pub(super) struct ColSeed<'c> {
    pub(super) key: &'c str,
    pub(super) col: &'c mut Col,
    pub(super) extra: &'c mut Map<String, Value>,
    pub(super) mismatches: &'c mut usize,
}

impl ColSeed<'_> {
    /// Present but null: the column is NULL, the explicit null is kept.
    pub(super) fn null(self) {
        self.col.null();
        self.extra.insert(self.key.to_owned(), Value::Null);
    }

    /// A value of another JSON type than the column's: kept in `extra`.
    pub(super) fn other(self, v: Value) {
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
    pub(super) fn append_raw(self, raw: &RawValue) {
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
pub(super) struct ItemsSeed<'c> {
    pub(super) child: &'c mut StructCol,
    pub(super) mismatches: &'c mut usize,
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
pub(super) struct ItemSeed<'c> {
    pub(super) child: &'c mut StructCol,
    pub(super) mismatches: &'c mut usize,
}

impl ItemSeed<'_> {
    pub(super) fn other(self, _: Value) -> bool {
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
    pub(super) fn new(kind: &'static Kind) -> Col {
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
    pub(super) fn len(&self) -> usize {
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
    pub(super) fn pad_to(&mut self, len: usize) {
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
    pub(super) fn finish_at(&mut self, len: usize) -> ArrayRef {
        self.pad_to(len);
        let array = self.finish();
        match array.len() > len {
            true => array.slice(0, len),
            false => array,
        }
    }

    pub(super) fn null(&mut self) {
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

    pub(super) fn finish(&mut self) -> ArrayRef {
        match self {
            Col::Unread {
                data_type,
                len,
                last,
            } => {
                let len = std::mem::take(len);
                match last {
                    Some(nulls) if nulls.len() == len => nulls.clone(),
                    _ => {
                        let nulls = new_null_array(data_type, len);
                        *last = Some(nulls.clone());
                        nulls
                    }
                }
            }
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
pub(super) struct BatchBuilder {
    /// Columns to fill (the record's, then extra_fields); None: all.
    pub(super) wanted: Option<Vec<bool>>,
    pub(super) cols: Vec<Col>,
    pub(super) extra: StringBuilder,
    /// The log file of each row; None when the query does not read it (a
    /// file's name repeated on each of a million rows is 100 MB): the
    /// column is then empty strings (it is not nullable), the last array
    /// kept for the next batch of the same length.
    pub(super) log_object: Option<StringBuilder>,
    blank_log_objects: Option<ArrayRef>,
    pub(super) rows: usize,
}

impl BatchBuilder {
    pub(super) fn new(projection: Option<&[usize]>) -> Self {
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
                    last: None,
                },
                _ => Col::new(&s.kind),
            })
            .collect();
        let log_object_read = projection.is_none_or(|p| p.contains(&(RECORD.len() + 1)));
        BatchBuilder {
            wanted,
            cols,
            extra: StringBuilder::new(),
            log_object: log_object_read.then(StringBuilder::new),
            blank_log_objects: None,
            rows: 0,
        }
    }

    pub(super) fn append_record<'de, A: MapAccess<'de>>(
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
        if let Some(b) = &mut self.log_object {
            b.append_value(log_object);
        }
        self.rows += 1;
        Ok(())
    }

    pub(super) fn finish(&mut self) -> RecordBatch {
        let rows = std::mem::take(&mut self.rows);
        let mut arrays: Vec<ArrayRef> = self.cols.iter_mut().map(|c| c.finish_at(rows)).collect();
        arrays.push(Arc::new(self.extra.finish()));
        arrays.push(match &mut self.log_object {
            Some(b) => Arc::new(b.finish()),
            None => match &self.blank_log_objects {
                Some(blank) if blank.len() == rows => blank.clone(),
                _ => {
                    let blank: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::new(
                        OffsetBuffer::new_zeroed(rows),
                        Default::default(),
                        None,
                    ));
                    self.blank_log_objects = Some(blank.clone());
                    blank
                }
            },
        });
        debug_assert!(arrays.iter().all(|a| a.len() == rows));
        RecordBatch::try_new(canonical_schema(), arrays)
            .expect("decoder builds arrays of the canonical schema")
    }
}
