//! The columns of a dataset's Parquet files: the canonical schema, then
//! copies of the nested identity fields people look events up by as
//! top-level columns (DataFusion 55 prunes on top-level columns only), and
//! which columns carry bloom filters.
//!
//! Of trailsql it imports `error`, `record`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::record::canonical_schema;

/// Nested fields also stored as top-level columns: (column, struct, field).
pub const HOT_COLUMNS: &[(&str, &str, &str)] = &[
    ("useridentity_arn", "useridentity", "arn"),
    ("useridentity_username", "useridentity", "username"),
    ("useridentity_accesskeyid", "useridentity", "accesskeyid"),
    ("useridentity_type", "useridentity", "type"),
];

/// Columns with bloom filters: what people look events up by.
pub const BLOOM_COLUMNS: &[&str] = &[
    "eventname",
    "useridentity_arn",
    "useridentity_username",
    "useridentity_accesskeyid",
    "sourceipaddress",
    "eventid",
    "requestid",
];

/// The schema of the Parquet files: the canonical columns, in order, then
/// the hot columns.
pub fn file_schema() -> SchemaRef {
    static S: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let canonical = canonical_schema();
        let mut fields: Vec<Field> = canonical
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(
            HOT_COLUMNS
                .iter()
                .map(|(name, _, _)| Field::new(*name, DataType::Utf8, true)),
        );
        Arc::new(Schema::new(fields))
    })
    .clone()
}

pub fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| Error::Internal(format!("no column {name} in a decoded batch")))
}

/// The batch with the hot columns added (copies of nested identity fields).
pub fn with_hot_columns(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (_, parent, field) in HOT_COLUMNS {
        let parent = column(batch, parent)?.as_struct();
        let child: ArrayRef = match parent.column_by_name(field) {
            Some(child) => {
                // The same strings (no copy), NULL where the struct itself
                // is NULL too.
                let values = child.as_string::<i32>();
                let nulls = NullBuffer::union(parent.nulls(), values.nulls());
                Arc::new(StringArray::new(
                    values.offsets().clone(),
                    values.values().clone(),
                    nulls,
                ))
            }
            None => Arc::new(StringArray::new_null(batch.num_rows())),
        };
        columns.push(child);
    }
    RecordBatch::try_new(file_schema(), columns)
        .map_err(|e| Error::Internal(format!("adding the hot columns: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StructArray;

    #[test]
    fn hot_columns_copy_the_identity_fields_null_where_the_struct_is() {
        let doc = br#"{"Records":[
            {"eventName":"A","userIdentity":{"type":"IAMUser","arn":"arn:a","userName":"u"}},
            {"eventName":"B"},
            {"eventName":"C","userIdentity":{"type":"Root","accessKeyId":"AKIA1"}}]}"#;
        let (batches, _) = crate::record::decode_document(doc, "f.json").unwrap();
        let batch = &batches[0];
        let hot = with_hot_columns(batch).unwrap();
        let col = |b: &RecordBatch, name: &str| -> Vec<Option<String>> {
            let a = b.column_by_name(name).unwrap().as_string::<i32>();
            a.iter().map(|v| v.map(str::to_string)).collect()
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(col(&hot, "useridentity_arn"), [s("arn:a"), None, None]);
        assert_eq!(col(&hot, "useridentity_username"), [s("u"), None, None]);
        assert_eq!(
            col(&hot, "useridentity_accesskeyid"),
            [None, None, s("AKIA1")]
        );
        assert_eq!(
            col(&hot, "useridentity_type"),
            [s("IAMUser"), None, s("Root")]
        );
        // A NULL struct whose children hold values: NULL.
        let at = batch.schema().index_of("useridentity").unwrap();
        let who = batch.column(at).as_struct();
        let all_null = StructArray::new(
            who.fields().clone(),
            who.columns().to_vec(),
            Some(NullBuffer::new_null(who.len())),
        );
        let mut columns = batch.columns().to_vec();
        columns[at] = Arc::new(all_null);
        let masked = RecordBatch::try_new(batch.schema(), columns).unwrap();
        let hot = with_hot_columns(&masked).unwrap();
        assert_eq!(col(&hot, "useridentity_type"), [None, None, None]);
        // Sliced batches (a failed file's rows cut off) keep their rows.
        let hot = with_hot_columns(&batch.slice(1, 2)).unwrap();
        assert_eq!(col(&hot, "useridentity_type"), [None, s("Root")]);
    }
}
