//! Row -> record JSON: the inverse of `decode`. The typed columns give the
//! fields they carry (NULL means absent), `extra_fields` is merged over them, and
//! the result is the record as it was delivered. Used to prove that nothing is
//! lost, and to export rows as CloudTrail JSON again.
//!
//! It imports nothing of trailsql outside `record/`.

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StructArray};
use datafusion::arrow::datatypes::{DataType, TimestampMillisecondType};
use serde_json::{Map, Value};

use super::schema::{Kind, Spec, EXTRA_FIELDS, RECORD};

/// Rebuild every row of a batch of the canonical schema.
pub fn rebuild_batch(batch: &RecordBatch) -> Vec<Value> {
    let extra = batch
        .column_by_name(EXTRA_FIELDS)
        .map(|c| c.as_string::<i32>().clone());
    (0..batch.num_rows())
        .map(|row| {
            let mut obj = Map::new();
            for spec in RECORD {
                let name = spec.json.to_ascii_lowercase();
                if let Some(col) = batch.column_by_name(&name) {
                    if let Some(v) = value_at(&spec.kind, col.as_ref(), row) {
                        obj.insert(spec.json.to_owned(), v);
                    }
                }
            }
            let mut record = Value::Object(obj);
            if let Some(extra) = &extra {
                if extra.is_valid(row) {
                    if let Ok(e) = serde_json::from_str::<Value>(extra.value(row)) {
                        merge(&mut record, e);
                    }
                }
            }
            record
        })
        .collect()
}

/// Deep-merge `over` into `base`: objects merge member by member, anything else
/// replaces.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Format milliseconds since the epoch as CloudTrail does.
pub fn format_time(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) if ms % 1000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

fn object_of(specs: &[Spec], s: &StructArray, row: usize) -> Value {
    let mut obj = Map::new();
    for (spec, col) in specs.iter().zip(s.columns()) {
        if let Some(v) = value_at(&spec.kind, col.as_ref(), row) {
            obj.insert(spec.json.to_owned(), v);
        }
    }
    Value::Object(obj)
}

fn value_at(kind: &Kind, col: &dyn Array, row: usize) -> Option<Value> {
    if col.is_null(row) {
        return None;
    }
    Some(match kind {
        Kind::Str => Value::String(col.as_string::<i32>().value(row).to_owned()),
        Kind::Json => serde_json::from_str(col.as_string::<i32>().value(row)).ok()?,
        Kind::Bool => Value::Bool(col.as_boolean().value(row)),
        Kind::Time => {
            debug_assert!(matches!(col.data_type(), DataType::Timestamp(..)));
            Value::String(format_time(
                col.as_primitive::<TimestampMillisecondType>().value(row),
            ))
        }
        Kind::Struct(specs) => object_of(specs, col.as_struct(), row),
        Kind::ListOfStruct(specs) => {
            let list = col.as_list::<i32>().value(row);
            let items = list.as_struct();
            Value::Array(
                (0..items.len())
                    .map(|i| object_of(specs, items, i))
                    .collect(),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::decode_document;

    #[test]
    fn round_trip_keeps_everything() {
        let doc = r#"{"Records":[
          {"eventVersion":"1.08","eventTime":"2023-10-15T14:32:00Z","readOnly":"true",
           "resources":[{"ARN":"a","type":"t"},{"ARN":"b","odd":1}],
           "userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role"},"attributes":{"mfaAuthenticated":"false"}},"x":null},
           "responseElements":null,"requestParameters":{"a":[1,2,{"b":null}]},"new":true},
          {"eventTime":"2019-01-01 00:00:00.000000000","resources":[{"ARN":"c"}],"tlsDetails":{"tlsVersion":"TLSv1.2"}}
        ]}"#;
        let original: Value = serde_json::from_str(doc).unwrap();
        let (batches, _) = decode_document(doc.as_bytes(), "f").unwrap();
        let rebuilt = rebuild_batch(&batches[0]);
        assert_eq!(Value::Array(rebuilt), original["Records"]);
    }
}
