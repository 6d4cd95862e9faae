//! One partition's rows as a Parquet file: sorted by `eventtime`, zstd
//! where it pays, page statistics, bloom filters on the lookup columns; and
//! a group's rows split by partition. `convert` and `compact` write through
//! here.
//!
//! Of trailsql it imports `dataset`, `error`, `record`.

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::{
    Array, AsArray, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions;
use datafusion::parquet::arrow::ArrowSchemaConverter;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::file::metadata::{ParquetMetaData, SortingColumn};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

use crate::dataset::schema::column;
use crate::dataset::{
    file_schema, partition_value, FileEntry, PartKey, BLOOM_COLUMNS, NULL_PARTITION,
};
use crate::error::{Error, Result};
use crate::record::{EXTRA_FIELDS, LOG_OBJECT};

/// Columns whose values are (nearly) all different: no dictionary.
const UNIQUE_COLUMNS: &[&str] = &[
    "eventid",
    "requestid",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
];

/// Columns compressed with zstd, and without statistics (see
/// `writer_properties`).
const COMPRESSED_COLUMNS: &[&str] = &[
    "eventid",
    "requestid",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "serviceeventdetails",
    "errormessage",
    EXTRA_FIELDS,
    LOG_OBJECT,
];

/// Rows per row group: a day of one busy account and region is a few of them.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// A row of a group: (batch, row) in the group's decoded batches.
pub type Row = (usize, usize);

/// The rows of a group's batches by partition: the event's account, region
/// and UTC day.
pub fn partition(batches: &[RecordBatch]) -> Result<BTreeMap<PartKey, Vec<Row>>> {
    const DAY_MS: i64 = 86_400_000;
    // (account, region, day since the epoch) as the rows hold them.
    type Raw<'a> = (Option<&'a str>, Option<&'a str>, Option<i64>);
    let mut by_value: HashMap<Raw, Vec<Row>> = HashMap::new();
    for (b, batch) in batches.iter().enumerate() {
        let accounts = column(batch, "recipientaccountid")?.as_string::<i32>();
        let regions = column(batch, "awsregion")?.as_string::<i32>();
        let times = column(batch, "eventtime")?
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or_else(|| Error::Internal("eventtime is not a millisecond timestamp".into()))?;
        for i in 0..batch.num_rows() {
            let key = (
                accounts.is_valid(i).then(|| accounts.value(i)),
                regions.is_valid(i).then(|| regions.value(i)),
                times.is_valid(i).then(|| times.value(i).div_euclid(DAY_MS)),
            );
            by_value.entry(key).or_default().push((b, i));
        }
    }
    let mut out: BTreeMap<PartKey, Vec<Row>> = BTreeMap::new();
    for ((account, region, day), rows) in by_value {
        let date = day
            .and_then(|d| chrono::DateTime::from_timestamp_millis(d * DAY_MS))
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| NULL_PARTITION.to_string());
        let key = (partition_value(account), partition_value(region), date);
        // Two raw values can escape to one folder name: their rows join.
        out.entry(key).or_default().extend(rows);
    }
    Ok(out)
}

/// Each Parquet leaf column of the files: its path, and the index of the
/// top-level column it is part of.
fn leaf_columns() -> Result<&'static [(ColumnPath, usize)]> {
    static LEAVES: std::sync::OnceLock<Vec<(ColumnPath, usize)>> = std::sync::OnceLock::new();
    if let Some(leaves) = LEAVES.get() {
        return Ok(leaves);
    }
    let parquet = ArrowSchemaConverter::new()
        .convert(&file_schema())
        .map_err(|e| Error::Internal(format!("the Parquet schema: {e}")))?;
    let leaves = (0..parquet.num_columns())
        .map(|i| {
            (
                parquet.column(i).path().clone(),
                parquet.get_column_root_idx(i),
            )
        })
        .collect();
    Ok(LEAVES.get_or_init(|| leaves))
}

/// How `batch` is written as a file.
fn writer_properties(batch: &RecordBatch) -> Result<WriterProperties> {
    let rows = batch.num_rows();
    let schema = file_schema();
    let eventtime = schema
        .index_of("eventtime")
        .map_err(|e| Error::Internal(e.to_string()))?;
    // Level 1: a file 4% bigger than at level 3, for a third of the time
    // zstd took.
    let zstd = ZstdLevel::try_new(1).map_err(|e| Error::Internal(e.to_string()))?;
    let mut b = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("trailsql {}", env!("CARGO_PKG_VERSION")))
        .set_sorting_columns(Some(vec![SortingColumn {
            column_idx: eventtime as i32,
            descending: false,
            nulls_first: false,
        }]));
    // Each bloom filter sized for the values a row group of this file can
    // hold: the default (a million) made 1 MiB per column and file, zeroed
    // and then folded down again, most of it for files of a few thousand
    // rows. Folding still shrinks it to what the values need.
    let ndv = rows.clamp(1, ROW_GROUP_ROWS) as u64;
    for c in BLOOM_COLUMNS {
        b = b
            .set_column_bloom_filter_enabled(ColumnPath::from(*c), true)
            .set_column_bloom_filter_max_ndv(ColumnPath::from(*c), ndv);
    }
    // zstd only where it pays: the long texts and the random ids. Every
    // other column is dictionary-encoded, which leaves zstd 1.0 to 1.4x on
    // a few kilobytes per file, while each compressed column chunk costs a
    // zstd context to write and another to read (a query over a few
    // hundred files spent a sixth of its time making them). A column NULL
    // in every row of the file is a few bytes of levels: not compressed.
    //
    // The same columns get no statistics: the least and greatest of JSON
    // texts and random ids rule nothing out (ids are looked up through
    // their bloom filters), and comparing every value with them was 2% of
    // a conversion.
    let schema_fields = schema.fields();
    for (path, root) in leaf_columns()? {
        let name = schema_fields[*root].name().as_str();
        if COMPRESSED_COLUMNS.contains(&name) {
            b = b.set_column_statistics_enabled(path.clone(), EnabledStatistics::None);
            if batch.column(*root).null_count() < rows {
                b = b.set_column_compression(path.clone(), Compression::ZSTD(zstd));
            }
        }
    }
    // Times sorted: their differences, bit-packed, are a fifth of the
    // dictionary's size and need no compression.
    let time = ColumnPath::from("eventtime");
    b = b
        .set_column_dictionary_enabled(time.clone(), false)
        .set_column_encoding(time, Encoding::DELTA_BINARY_PACKED);
    // Values that are (nearly) all different: a dictionary is built, found
    // too big and dropped for each page, which only costs time.
    for c in UNIQUE_COLUMNS {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), false);
    }
    Ok(b.build())
}

/// One partition's rows (of `batches`), sorted by `eventtime` (then
/// `eventid`), as the bytes of a Parquet file to be stored as `path`, and
/// its manifest entry. The rows are copied once, in their order.
pub fn parquet_file(
    key: &PartKey,
    path: &str,
    batches: &[RecordBatch],
    rows: Vec<Row>,
) -> Result<(FileEntry, Vec<u8>)> {
    let times: Vec<&TimestampMillisecondArray> = batches
        .iter()
        .map(|b| {
            column(b, "eventtime")?
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .ok_or_else(|| Error::Internal("eventtime is not a millisecond timestamp".into()))
        })
        .collect::<Result<_>>()?;
    let ids: Vec<&StringArray> = batches
        .iter()
        .map(|b| Ok(column(b, "eventid")?.as_string::<i32>()))
        .collect::<Result<_>>()?;
    let time = |(b, r): Row| times[b].is_valid(r).then(|| times[b].value(r));
    let id = |(b, r): Row| ids[b].is_valid(r).then(|| ids[b].value(r));
    // Sorted by a key of numbers: NULLs last in both, as the file's
    // sorting_columns say; an eventid's first 8 bytes (zero-padded, which
    // keeps their order) stand for it unless they tie, as many times do
    // (CloudTrail's are to the second). A stable sort: equal rows keep the
    // order they were read in.
    let sort_key = |row: Row| {
        let t = time(row);
        let i = id(row);
        let mut prefix = [0u8; 8];
        if let Some(i) = i {
            let n = i.len().min(8);
            prefix[..n].copy_from_slice(&i.as_bytes()[..n]);
        }
        (
            t.is_none(),
            t.unwrap_or(0),
            i.is_none(),
            u64::from_be_bytes(prefix),
        )
    };
    let mut keyed: Vec<_> = rows.into_iter().map(|row| (sort_key(row), row)).collect();
    keyed.sort_by(|(kx, x), (ky, y)| kx.cmp(ky).then_with(|| id(*x).cmp(&id(*y))));
    let rows: Vec<Row> = keyed.into_iter().map(|(_, row)| row).collect();
    let valid: Vec<i64> = rows.iter().filter_map(|&r| time(r)).collect();
    let names: Vec<&StringArray> = batches
        .iter()
        .map(|b| Ok(column(b, "eventname")?.as_string::<i32>()))
        .collect::<Result<_>>()?;
    // NULL names are kept as "" (a file with one is never skipped by name).
    let event_names: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|&(b, r)| {
            if names[b].is_valid(r) {
                names[b].value(r)
            } else {
                ""
            }
        })
        .collect();
    let event_names = if event_names.contains("") {
        None
    } else {
        Some(event_names.into_iter().map(str::to_string).collect())
    };
    let (min_ms, max_ms) = (valid.iter().min().copied(), valid.iter().max().copied());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let sorted = datafusion::arrow::compute::interleave_record_batch(&refs, &rows)
        .map_err(|e| Error::Internal(format!("gathering rows: {e}")))?;
    let failed = |e: &dyn std::fmt::Display| Error::Internal(format!("writing {path}: {e}"));
    // Without the Arrow schema in the footer: every reader would decode it
    // (base64, then flatbuffers) for each file it opens, a tenth of the
    // time to open one; the Parquet types say the same.
    let options = ArrowWriterOptions::new()
        .with_properties(writer_properties(&sorted)?)
        .with_skip_arrow_metadata(true);
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new_with_options(&mut bytes, file_schema(), options)
        .map_err(|e| failed(&e))?;
    writer.write(&sorted).map_err(|e| failed(&e))?;
    let metadata = writer.close().map_err(|e| failed(&e))?;
    let entry = FileEntry {
        path: path.to_string(),
        account: key.0.clone(),
        region: key.1.clone(),
        date: key.2.clone(),
        rows: sorted.num_rows() as u64,
        bytes: bytes.len() as u64,
        min_ms,
        max_ms,
        event_names,
        written_ms: Some(chrono::Utc::now().timestamp_millis()),
        one_page: Some(one_page_each(&metadata)),
    };
    Ok((entry, bytes))
}

/// Whether every column chunk with a page index (statistics) in a file's
/// metadata, as written, is a single page.
fn one_page_each(metadata: &ParquetMetaData) -> bool {
    use datafusion::parquet::file::page_index::column_index::ColumnIndexMetaData;
    let (Some(columns), Some(offsets)) = (metadata.column_index(), metadata.offset_index()) else {
        // Without a page index there is none to read.
        return true;
    };
    columns.iter().zip(offsets).all(|(columns, offsets)| {
        columns.iter().zip(offsets).all(|(index, offsets)| {
            matches!(index, ColumnIndexMetaData::NONE) || offsets.page_locations().len() <= 1
        })
    })
}
