//! `trailsql convert SOURCE DEST`: an archive as a Parquet dataset, kept up
//! to date run after run, that `--source DEST` reads as the same table.
//!
//! Layout: Hive-style folders by the event's account, region and day,
//! `account=<recipientaccountid>/region=<awsregion>/date=<YYYY-MM-DD>/`,
//! holding `part-<commit>-<n>.parquet` files: the canonical columns and
//! copies of the identity fields people look up by as top-level columns
//! (DataFusion 55 prunes on top-level columns only), rows sorted by
//! `eventtime`, zstd, page statistics, bloom filters on the lookup columns.
//!
//! `_trailsql/commits/` is the manifest: one commit per converted group of
//! source objects, naming the files written for them; beside it
//! `_trailsql/objects/` names those objects (key, size, version), one file
//! per commit, which only `convert` reads (queries read the small commits
//! alone). A commit file is written whole and renamed into place only after
//! its Parquet files and its objects file are on disk, so a run killed at
//! any moment leaves either the whole commit or none of it; files no commit
//! names are leftovers of such a run and the next run deletes them. Readers
//! take the files from the commits, never from a folder listing. A commit
//! of `trailsql compact` (see [`compact`]) writes one file in the place of
//! several and names those it replaces; they are no longer part of the
//! dataset from that commit on.

pub mod compact;
pub mod place;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

pub use place::Place;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions;
use datafusion::parquet::arrow::ArrowSchemaConverter;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::file::metadata::{ParquetMetaData, SortingColumn};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use crate::archive::{LogFile, Source};
use crate::error::{Error, Result};
use crate::record::{canonical_schema, EXTRA_FIELDS, LOG_OBJECT};

/// The folder of a dataset's own files, beside the partition folders.
pub const DATASET_DIR: &str = "_trailsql";
const DATASET_FILE: &str = "dataset.json";
const COMMITS_DIR: &str = "commits";
const COMMIT_EXT: &str = "commit";
/// A checkpoint is a commit that holds the whole dataset as of its number
/// (its files, and in its objects file every object converted): readers
/// start from the newest and skip the commits before it.
const CHECKPOINT_EXT: &str = "checkpoint";
const OBJECTS_DIR: &str = "objects";
const OBJECTS_EXT: &str = "json";
/// The format this code writes and reads. Version 1 kept each commit's
/// objects inside the commit.
const FORMAT: &str = "trailsql-parquet";
const FORMAT_VERSION: u32 = 4;
/// Versions this build reads: 3 added commits that replace files and 4
/// checkpoints (`trailsql compact` writes both); an older dataset has
/// neither, and becomes version 4 when it is first compacted, so that an
/// older trailsql, which would read the replaced files too, or miss a
/// checkpoint, refuses it.
const READABLE_VERSIONS: [u32; 3] = [2, 3, 4];
/// Hive's name for a partition whose value is NULL.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

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

/// One source object in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectEntry {
    /// Its key from `AWSLogs/` on (the same for the bucket and any copy of
    /// it), or its location when it is outside the trail layout.
    pub key: String,
    pub size: u64,
    /// ETag (S3), else size and modification time.
    pub version: Option<String>,
}

/// One Parquet file in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Path below the dataset folder.
    pub path: String,
    pub account: String,
    pub region: String,
    pub date: String,
    pub rows: u64,
    pub bytes: u64,
    /// Earliest and latest `eventtime` in the file, ms (None: no times).
    pub min_ms: Option<i64>,
    pub max_ms: Option<i64>,
    /// Every `eventname` in the file, sorted (absent in files written before
    /// it was kept: then never used to skip the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_names: Option<Vec<String>>,
    /// When the file was written (ms since the epoch): with its size, what
    /// tells a file from another of the same name (a dataset removed and
    /// converted again) to the footer cache of a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_ms: Option<i64>,
    /// Whether every column with statistics is one page per row group:
    /// then the page index says no more than the row groups' statistics,
    /// and a query need not read it (absent in files written before it was
    /// kept: then it is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_page: Option<bool>,
}

/// One commit: the objects converted together and the files that hold their
/// events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    pub seq: u64,
    /// Kept in the commit's objects file, read only by `convert`.
    #[serde(skip)]
    pub objects: Vec<ObjectEntry>,
    pub files: Vec<FileEntry>,
    /// Source objects that could not be read, with why: in the commit so a
    /// rerun does not try them again as new (they are reported each run).
    #[serde(default)]
    pub unreadable: Vec<(String, String)>,
    /// Events left out as duplicates (`--dedupe`).
    #[serde(default)]
    pub duplicates: u64,
    /// Paths of files of earlier commits this commit's files take the
    /// place of (`trailsql compact`): from this commit on they are no part
    /// of the dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct DatasetInfo {
    format: String,
    version: u32,
    /// Set when the dataset is made (`--dedupe`), kept for every later run:
    /// an event whose `eventid` the dataset already holds is not added.
    #[serde(default)]
    dedupe: bool,
}

/// Whether `path` is a converted dataset (a local folder).
fn is_dataset(path: &Path) -> bool {
    path.join(DATASET_DIR).join(DATASET_FILE).is_file()
}

/// Whether `place` holds a converted dataset.
pub async fn dataset_at(place: &Place) -> Result<bool> {
    match place {
        Place::Local(p) => Ok(is_dataset(p)),
        // A probe only: if S3 will not answer it (a HEAD's error has no body
        // to say why), the listing that follows fails with the reason.
        Place::S3(_) => Ok(place.exists(&info_path()).await.unwrap_or(false)),
    }
}

fn info_path() -> String {
    format!("{DATASET_DIR}/{DATASET_FILE}")
}

fn commits_path() -> String {
    format!("{DATASET_DIR}/{COMMITS_DIR}/")
}

fn commit_path(seq: u64) -> String {
    format!("{}{seq:010}.{COMMIT_EXT}", commits_path())
}

fn checkpoint_path(seq: u64) -> String {
    format!("{}{seq:010}.{CHECKPOINT_EXT}", commits_path())
}

/// The number of a commit or checkpoint file `name` with extension `ext`.
fn seq_of(name: &str, ext: &str) -> Option<u64> {
    let file = name.rsplit('/').next()?;
    file.strip_suffix(ext)?.strip_suffix('.')?.parse().ok()
}

fn objects_path(seq: u64) -> String {
    format!("{DATASET_DIR}/{OBJECTS_DIR}/{seq:010}.{OBJECTS_EXT}")
}

/// The source objects of one commit, in their own file (borrowed when
/// written, owned when read).
#[derive(Serialize, Deserialize)]
struct CommitObjects<'a> {
    seq: u64,
    objects: std::borrow::Cow<'a, [ObjectEntry]>,
}

/// A dataset as its commits describe it.
#[derive(Debug)]
pub struct Dataset {
    pub place: Place,
    pub commits: Vec<Commit>,
    pub dedupe: bool,
    /// The format version in `dataset.json`.
    pub version: u32,
}

impl Dataset {
    /// Read the manifest of the dataset at `place`: its commits and the
    /// files they name (what a query needs).
    pub async fn open(place: &Place) -> Result<Dataset> {
        let at = || format!("{}/{}", place.display(), info_path());
        let text = place.read(&info_path()).await?.ok_or_else(|| {
            Error::Usage(format!(
                "{}: not a dataset written by trailsql convert",
                place.display()
            ))
        })?;
        let info: DatasetInfo =
            serde_json::from_slice(&text).map_err(|e| Error::Usage(format!("{}: {e}", at())))?;
        if info.format != FORMAT || !READABLE_VERSIONS.contains(&info.version) {
            return Err(Error::Usage(format!(
                "{}: a {} version {} dataset; this trailsql reads {FORMAT} versions \
                 {READABLE_VERSIONS:?} (convert the archive again into a new folder, \
                 or use the trailsql that wrote it)",
                place.display(),
                info.format,
                info.version
            )));
        }
        let mut commits = Vec::new();
        for attempt in 1.. {
            let names = place.list(&commits_path()).await?;
            // The newest checkpoint, and the commits after it.
            let checkpoint = names.iter().filter_map(|n| seq_of(n, CHECKPOINT_EXT)).max();
            let wanted: Vec<String> = names
                .into_iter()
                .filter(|n| match (seq_of(n, COMMIT_EXT), checkpoint) {
                    (Some(seq), Some(from)) => seq > from,
                    (Some(_), None) => true,
                    (None, _) => checkpoint.is_some_and(|c| seq_of(n, CHECKPOINT_EXT) == Some(c)),
                })
                .collect();
            let read = place.read_many(wanted).await?;
            if read.iter().any(|(_, bytes)| bytes.is_none()) {
                // Gone between the listing and the read: a compaction wrote
                // a checkpoint and removed the commits it holds. Again.
                if attempt < 5 {
                    continue;
                }
                return Err(Error::Usage(format!(
                    "{}: its commits kept changing while they were read",
                    place.display()
                )));
            }
            for (name, bytes) in read {
                let bytes = bytes.expect("checked above");
                let commit: Commit = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Usage(format!(
                        "{}/{name}: not a trailsql commit ({e})",
                        place.display()
                    ))
                })?;
                commits.push(commit);
            }
            break;
        }
        commits.sort_by_key(|c| c.seq);
        Ok(Dataset {
            place: place.clone(),
            commits,
            dedupe: info.dedupe,
            version: info.version,
        })
    }

    /// Read the manifest with every commit's source objects too (what a
    /// conversion needs to know what is new).
    pub async fn open_with_objects(place: &Place) -> Result<Dataset> {
        let mut dataset = Dataset::open(place).await?;
        let names = dataset
            .commits
            .iter()
            .map(|c| objects_path(c.seq))
            .collect();
        let read = place.read_many(names).await?;
        for (commit, (name, bytes)) in dataset.commits.iter_mut().zip(read) {
            let bytes = bytes.ok_or_else(|| {
                Error::Usage(format!(
                    "{}/{name}: missing, yet its commit is there: the dataset was changed \
                     by something other than trailsql convert",
                    place.display()
                ))
            })?;
            let objects: CommitObjects = serde_json::from_slice(&bytes).map_err(|e| {
                Error::Usage(format!(
                    "{}/{name}: not a trailsql objects file ({e})",
                    place.display()
                ))
            })?;
            if objects.seq != commit.seq {
                return Err(Error::Usage(format!(
                    "{}/{name}: names commit {}, not {}",
                    place.display(),
                    objects.seq,
                    commit.seq
                )));
            }
            commit.objects = objects.objects.into_owned();
        }
        Ok(dataset)
    }

    /// The dataset's files: those of every commit but the ones a later
    /// commit replaces.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        let replaced: std::collections::HashSet<&str> = self
            .commits
            .iter()
            .flat_map(|c| c.replaces.iter().map(String::as_str))
            .collect();
        self.commits
            .iter()
            .flat_map(|c| &c.files)
            .filter(move |f| !replaced.contains(f.path.as_str()))
    }

    /// Every source object converted (or found unreadable), by key.
    pub fn objects(&self) -> HashMap<&str, &ObjectEntry> {
        self.commits
            .iter()
            .flat_map(|c| &c.objects)
            .map(|o| (o.key.as_str(), o))
            .collect()
    }

    fn next_seq(&self) -> u64 {
        self.commits.iter().map(|c| c.seq).max().unwrap_or(0) + 1
    }
}

/// A partition folder's value: safe characters as they are, others as `%XX`
/// (Hive's escaping), NULL as Hive's default partition.
fn partition_value(v: Option<&str>) -> String {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return NULL_PARTITION.to_string();
    };
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// (account, region, date) of a partition.
type PartKey = (String, String, String);

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| Error::Usage(format!("no column {name} in a decoded batch")))
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
        .map_err(|e| Error::Usage(format!("adding the hot columns: {e}")))
}

/// A row of a group: (batch, row) in the group's decoded batches.
type Row = (usize, usize);

/// The rows of a group's batches by partition: the event's account, region
/// and UTC day.
fn partition(batches: &[RecordBatch]) -> Result<BTreeMap<PartKey, Vec<Row>>> {
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
            .ok_or_else(|| Error::Usage("eventtime is not a millisecond timestamp".into()))?;
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
        .map_err(|e| Error::Usage(format!("the Parquet schema: {e}")))?;
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
        .map_err(|e| Error::Usage(e.to_string()))?;
    // Level 1: a file 4% bigger than at level 3, for a third of the time
    // zstd took.
    let zstd = ZstdLevel::try_new(1).map_err(|e| Error::Usage(e.to_string()))?;
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
fn parquet_file(
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
                .ok_or_else(|| Error::Usage("eventtime is not a millisecond timestamp".into()))
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
        .map_err(|e| Error::Usage(format!("gathering rows: {e}")))?;
    let failed = |e: &dyn std::fmt::Display| Error::Usage(format!("{path}: {e}"));
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

/// Store `commit`, its objects file first: the moment the commit exists,
/// its files and objects are part of the dataset.
async fn write_commit(place: &Place, commit: &Commit) -> Result<()> {
    store_commit(place, commit, &commit_path(commit.seq)).await
}

/// Store `commit` (its objects file first) as `path`.
async fn store_commit(place: &Place, commit: &Commit, path: &str) -> Result<()> {
    let objects = serde_json::to_vec(&CommitObjects {
        seq: commit.seq,
        objects: std::borrow::Cow::Borrowed(&commit.objects),
    })
    .map_err(|e| Error::Usage(e.to_string()))?;
    place.put(&objects_path(commit.seq), objects).await?;
    let text = serde_json::to_vec(commit).map_err(|e| Error::Usage(e.to_string()))?;
    place.put(path, text).await
}

/// Delete what a killed run left: Parquet files and objects files no
/// commit names, and partial files. Returns how many were removed.
async fn remove_leftovers(dataset: &Dataset) -> Result<usize> {
    let named: std::collections::HashSet<&str> = dataset.files().map(|f| f.path.as_str()).collect();
    let objects: std::collections::HashSet<String> = dataset
        .commits
        .iter()
        .map(|c| objects_path(c.seq))
        .collect();
    let objects_dir = format!("{DATASET_DIR}/{OBJECTS_DIR}/");
    // Commits and checkpoints a newer checkpoint holds (left by a
    // compaction stopped before it removed them).
    let first = dataset.commits.first().map_or(0, |c| c.seq);
    let before_first = |rel: &str| {
        rel.starts_with(&commits_path())
            && [COMMIT_EXT, CHECKPOINT_EXT]
                .iter()
                .any(|ext| seq_of(rel, ext).is_some_and(|seq| seq < first))
    };
    let mut removed = 0;
    for rel in dataset.place.list("").await? {
        let leftover = rel.ends_with(".partial")
            || (rel.ends_with(".parquet") && !named.contains(rel.as_str()))
            || (rel.starts_with(&objects_dir) && !objects.contains(&rel))
            || before_first(&rel);
        if leftover {
            dataset.place.delete(&rel).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The `eventid`s in the committed files of one partition.
async fn committed_ids(
    dataset: &Dataset,
    key: &PartKey,
) -> Result<std::collections::HashSet<String>> {
    let at = file_schema()
        .index_of("eventid")
        .map_err(|e| Error::Usage(e.to_string()))?;
    let mut ids = std::collections::HashSet::new();
    for f in dataset
        .files()
        .filter(|f| f.account == key.0 && f.region == key.1 && f.date == key.2)
    {
        for batch in read_file(&dataset.place, f, Some(&[at])).await? {
            ids.extend(
                batch
                    .column(0)
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(str::to_string),
            );
        }
    }
    Ok(ids)
}

/// The rows of the dataset's file `f` at `place` (with the file schema's
/// top-level columns `columns`, or all of them).
async fn read_file(
    place: &Place,
    f: &FileEntry,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>> {
    use datafusion::parquet::arrow::arrow_reader::{
        ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    };
    use datafusion::parquet::arrow::ProjectionMask;
    let bad = |e: &dyn std::fmt::Display| Error::Usage(format!("{}: {e}", f.path));
    let bytes = place.read(&f.path).await?.ok_or_else(|| {
        Error::Usage(format!(
            "{}/{}: named by a commit but not there",
            place.display(),
            f.path
        ))
    })?;
    let options = ArrowReaderOptions::new().with_schema(file_schema());
    let mut builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(bytes::Bytes::from(bytes), options)
            .map_err(|e| bad(&e))?
            .with_batch_size(64 * 1024);
    if let Some(columns) = columns {
        let mask = ProjectionMask::roots(builder.parquet_schema(), columns.iter().copied());
        builder = builder.with_projection(mask);
    }
    let reader = builder.build().map_err(|e| bad(&e))?;
    reader.map(|b| b.map_err(|e| bad(&e))).collect()
}

/// `dataset.json` for this build's format version.
async fn write_info(place: &Place, dedupe: bool) -> Result<()> {
    let text = serde_json::to_vec(&DatasetInfo {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        dedupe,
    })
    .map_err(|e| Error::Usage(e.to_string()))?;
    place.put(&info_path(), text).await
}

/// `rows` without those whose `eventid` is in `seen`, adding the others to
/// it (rows without an eventid are all kept); and how many were left out.
fn without_seen(
    batches: &[RecordBatch],
    rows: Vec<Row>,
    seen: &mut std::collections::HashSet<String>,
) -> Result<(Vec<Row>, u64)> {
    let ids: Vec<&StringArray> = batches
        .iter()
        .map(|b| Ok(column(b, "eventid")?.as_string::<i32>()))
        .collect::<Result<_>>()?;
    let before = rows.len();
    let kept: Vec<Row> = rows
        .into_iter()
        .filter(|&(b, r)| !ids[b].is_valid(r) || seen.insert(ids[b].value(r).to_string()))
        .collect();
    let dropped = (before - kept.len()) as u64;
    Ok((kept, dropped))
}

/// What a conversion did.
#[derive(Debug, Default)]
pub struct Summary {
    pub objects_listed: usize,
    pub objects_converted: usize,
    pub objects_already: usize,
    /// Objects converted before whose size or version is now different:
    /// not converted again (their events are in the dataset as they were).
    pub changed: Vec<String>,
    pub unreadable: Vec<(String, String)>,
    pub events: u64,
    pub records_skipped: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub files_written: usize,
    pub commits: usize,
    /// Events left out because the dataset already held their `eventid`.
    pub duplicates: u64,
    pub dedupe: bool,
    pub leftovers_removed: usize,
}

/// The identity of a source object in the manifest.
fn object_entry(file: &LogFile) -> ObjectEntry {
    ObjectEntry {
        key: crate::archive::tail_key(&file.location).to_string(),
        size: file.size,
        version: file.version.clone(),
    }
}

/// What reading one group cost and gave, for the summary.
#[derive(Debug, Default)]
struct GroupStats {
    events: u64,
    records_skipped: u64,
    bytes_in: u64,
}

/// Decode `files` (all columns), in parallel runs, into batches with the hot
/// columns; the objects that could not be read, with why.
async fn decode(
    source: &Source,
    files: &[LogFile],
    stats: &mut GroupStats,
    report: &crate::table::Report,
) -> Result<(Vec<RecordBatch>, Vec<(String, String)>)> {
    let runs = crate::table::chunks(files);
    let mut tasks = Vec::new();
    for range in runs {
        let run: Vec<LogFile> = files[range].to_vec();
        // What S3 would not give after retries stops the conversion (as it
        // stops a query): the run can be repeated once it is fixed.
        let fetched = crate::table::fetch_run(source, &run)
            .await
            .map_err(|problem| Error::Usage(problem.0))?;
        tasks.push(tokio::task::spawn_blocking(move || {
            let outcome = crate::table::decode_chunk(&run, fetched, None);
            (run, outcome)
        }));
    }
    let mut batches = Vec::new();
    let mut unreadable = Vec::new();
    for task in tasks {
        let (run, (outcomes, decoded)) = task
            .await
            .map_err(|e| Error::Usage(format!("a decoding task failed: {e}")))?;
        for (file, outcome) in run.iter().zip(outcomes) {
            stats.bytes_in += file.size;
            report.bytes(file.size);
            match outcome {
                Ok(out) => {
                    report.file_read(&file.location, &out);
                    stats.events += out.records as u64;
                    stats.records_skipped += out.skipped.len() as u64;
                }
                Err(problem) => {
                    report.file_failed(&file.location, &problem);
                    unreadable.push((file.location.clone(), problem.0));
                }
            }
        }
        for b in decoded {
            batches.push(with_hot_columns(&b)?);
        }
    }
    Ok((batches, unreadable))
}

/// A group's decoded batches, and its rows by partition.
struct Parts {
    batches: Arc<Vec<RecordBatch>>,
    rows: BTreeMap<PartKey, Vec<Row>>,
}

/// Parquet files, each with its manifest entry.
type Encoded = Vec<(FileEntry, Vec<u8>)>;

/// A group read and split by partition, and (without dedupe) already
/// encoded: what can be done for several groups at once.
struct Prepared {
    seq: u64,
    account_region: (String, String),
    files: Vec<LogFile>,
    /// The rows, while they are not encoded yet.
    parts: Option<Parts>,
    encoded: Option<Encoded>,
    unreadable: Vec<(String, String)>,
    stats: GroupStats,
}

/// Where the `n`th file of commit `seq` in partition `key` is stored, below
/// the dataset folder (Hive-style partition folders).
fn data_file_path(key: &PartKey, seq: u64, n: usize) -> String {
    format!(
        "account={}/region={}/date={}/part-{seq:010}-{n:03}.parquet",
        key.0, key.1, key.2
    )
}

/// Encode each partition of a group as a Parquet file, in parallel.
async fn encode(seq: u64, parts: Parts) -> Result<Encoded> {
    let tasks: Vec<_> = parts
        .rows
        .into_iter()
        .enumerate()
        .map(|(n, (key, rows))| {
            let path = data_file_path(&key, seq, n);
            let batches = parts.batches.clone();
            tokio::task::spawn_blocking(move || parquet_file(&key, &path, &batches, rows))
        })
        .collect();
    let mut out = Vec::new();
    for t in futures::future::join_all(tasks).await {
        out.push(t.map_err(|e| Error::Usage(format!("a writing task failed: {e}")))??);
    }
    Ok(out)
}

/// Read a group, split it by partition, and encode it unless it must be
/// deduplicated first (which is done in order).
async fn prepare(
    source: &Source,
    seq: u64,
    account_region: (String, String),
    files: Vec<LogFile>,
    encode_now: bool,
    report: &crate::table::Report,
) -> Result<Prepared> {
    let mut stats = GroupStats::default();
    let (batches, unreadable) = decode(source, &files, &mut stats, report).await?;
    let rows = partition(&batches)?;
    let mut parts = Some(Parts {
        batches: Arc::new(batches),
        rows,
    });
    let encoded = match encode_now {
        true => Some(encode(seq, parts.take().expect("set above")).await?),
        false => None,
    };
    Ok(Prepared {
        seq,
        account_region,
        files,
        parts,
        encoded,
        unreadable,
        stats,
    })
}

/// The gzip a group holds at most by default, in KiB (but for one object
/// bigger than that; `convert --group-kib`).
pub const GROUP_KIB: u64 = 4 << 10;

/// The objects to convert (by account, region and delivery day, each day's
/// in key order) as groups: runs of one account and region, in order, of
/// at most `budget` bytes of gzip (an object bigger than that is a group
/// alone). A group is one commit, and writes one file per event date it
/// holds, so consecutive days in one group make one file each: the first
/// minutes of a day's log files hold the last events of the day before,
/// which would otherwise be a small file of their own. A day of more than
/// `budget` is split over groups (a file each), which keeps the memory a
/// group needs bounded, however busy the account.
fn groups_of_days(
    days: BTreeMap<(String, String, String), Vec<LogFile>>,
    budget: u64,
) -> Vec<((String, String), Vec<LogFile>)> {
    let mut groups: Vec<((String, String), Vec<LogFile>)> = Vec::new();
    let mut bytes = 0;
    for ((account, region, _), files) in days {
        for file in files {
            match groups.last_mut() {
                Some(((a, r), group))
                    if *a == account && *r == region && bytes + file.size <= budget =>
                {
                    bytes += file.size;
                    group.push(file);
                }
                _ => {
                    bytes = file.size;
                    groups.push(((account.clone(), region.clone()), vec![file]));
                }
            }
        }
    }
    groups
}

/// Groups read and encoded at once: one per core (at least two). A group
/// of up to [`GROUP_KIB`] of gzip is decoded as one task per MiB and
/// encoded as one per partition, so each keeps cores busy by itself, and
/// the second goes on while the first waits on its slowest task. The
/// memory in use is about forty times the gzip in flight.
fn groups_in_flight() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 16)
}

/// Convert the objects of `source` not yet in the dataset at `dest`, in
/// groups of at most `group_bytes` of gzip (see [`groups_of_days`]). With
/// `dedupe` a new dataset leaves out events whose `eventid` it already
/// holds (a dataset keeps the setting it was made with). Progress goes to
/// `report`'s counters.
pub async fn convert(
    source: &Source,
    dest: &Place,
    dedupe: bool,
    group_bytes: u64,
    report: &Arc<crate::table::Report>,
) -> Result<Summary> {
    let overlap = |a: &str, b: &str| {
        let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
        a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
    };
    let (from, to) = match (source, dest) {
        (Source::Local(root), Place::Local(dir)) => (
            std::fs::canonicalize(root)
                .map_err(|e| Error::io(root, e))?
                .display()
                .to_string(),
            std::fs::canonicalize(dir)
                .unwrap_or_else(|_| dir.to_path_buf())
                .display()
                .to_string(),
        ),
        (Source::S3(s3), Place::S3(d)) => (s3.url(""), d.url("")),
        _ => (String::new(), "-".into()),
    };
    if overlap(&from, &to) {
        return Err(Error::Usage(format!(
            "{from} and {to} overlap: write the dataset outside the archive"
        )));
    }
    let _lock = lock(dest)?;
    if !dataset_at(dest).await? {
        write_info(dest, dedupe).await?;
    }
    let mut dataset = Dataset::open_with_objects(dest).await?;
    if dedupe && !dataset.dedupe {
        return Err(Error::Usage(format!(
            "{} was made without --dedupe and may already hold duplicates: \
             convert into a new folder with --dedupe",
            dest.display()
        )));
    }
    let mut summary = Summary {
        leftovers_removed: remove_leftovers(&dataset).await?,
        dedupe: dataset.dedupe,
        ..Summary::default()
    };
    let listing = source.list().await?;
    summary.objects_listed = listing.logs.len();
    report.listed(&listing);
    // The objects to convert by account, region and delivery day (files
    // outside the layout under no account), then grouped.
    let mut days: BTreeMap<(String, String, String), Vec<LogFile>> = BTreeMap::new();
    {
        let known = dataset.objects();
        for file in listing.logs {
            let entry = object_entry(&file);
            match known.get(entry.key.as_str()) {
                Some(old) if old.size == entry.size && old.version == entry.version => {
                    summary.objects_already += 1;
                }
                Some(_) => summary.changed.push(file.location.clone()),
                None => {
                    let group = match &file.key {
                        Some(k) => (k.account.clone(), k.region.clone(), k.date.to_string()),
                        None => Default::default(),
                    };
                    days.entry(group).or_default().push(file);
                }
            }
        }
    }
    report.pruned(summary.objects_already + summary.changed.len());
    let groups = groups_of_days(days, group_bytes);
    // With dedupe: the eventids of the partitions this run touches (the
    // committed files' and those added since), for the current account
    // and region.
    let mut seen: HashMap<PartKey, std::collections::HashSet<String>> = HashMap::new();
    let mut seen_for = (String::new(), String::new());
    // Groups are read and encoded several at a time; their files are
    // stored and their commits written in order, each commit after its
    // files.
    use futures::StreamExt;
    let dedupe = dataset.dedupe;
    let first_seq = dataset.next_seq();
    // Each group is prepared in a task of its own, so it goes on while
    // this loop waits for its writes and syncs (a future in `buffered`
    // moves only when the stream is polled).
    let mut prepared = futures::stream::iter(groups.into_iter().enumerate())
        .map(|(i, ((account, region), files))| {
            let (source, report) = (source.clone(), report.clone());
            let task = tokio::spawn(async move {
                let seq = first_seq + i as u64;
                prepare(&source, seq, (account, region), files, !dedupe, &report).await
            });
            async move {
                task.await
                    .map_err(|e| Error::Usage(format!("a conversion task failed: {e}")))?
            }
        })
        .buffered(groups_in_flight());
    while let Some(group) = prepared.next().await {
        let mut group = group?;
        summary.events += group.stats.events;
        summary.records_skipped += group.stats.records_skipped;
        summary.bytes_in += group.stats.bytes_in;
        let mut duplicates = 0;
        let encoded = match group.encoded.take() {
            Some(encoded) => encoded,
            None => {
                if seen_for != group.account_region {
                    seen.clear();
                    seen_for = group.account_region.clone();
                }
                let mut parts = group.parts.take().expect("not encoded, so kept");
                for (key, rows) in parts.rows.iter_mut() {
                    if !seen.contains_key(key) {
                        let ids = committed_ids(&dataset, key).await?;
                        seen.insert(key.clone(), ids);
                    }
                    let ids = seen.get_mut(key).expect("just inserted");
                    let (kept, dropped) = without_seen(&parts.batches, std::mem::take(rows), ids)?;
                    *rows = kept;
                    duplicates += dropped;
                }
                parts.rows.retain(|_, rows| !rows.is_empty());
                encode(group.seq, parts).await?
            }
        };
        summary.duplicates += duplicates;
        let (written, contents): (Vec<FileEntry>, Vec<Vec<u8>>) = encoded.into_iter().unzip();
        let puts = written
            .iter()
            .zip(contents)
            .map(|(entry, bytes)| dest.put(&entry.path, bytes));
        for put in futures::future::join_all(puts).await {
            put?;
        }
        summary.bytes_out += written.iter().map(|f| f.bytes).sum::<u64>();
        summary.files_written += written.len();
        summary.objects_converted += group.files.len() - group.unreadable.len();
        summary.unreadable.extend(group.unreadable.iter().cloned());
        let commit = Commit {
            seq: group.seq,
            objects: group.files.iter().map(object_entry).collect(),
            files: written,
            unreadable: group.unreadable,
            duplicates,
            replaces: Vec::new(),
        };
        write_commit(dest, &commit).await?;
        summary.commits += 1;
        dataset.commits.push(commit);
    }
    Ok(summary)
}

/// Take the dataset's lock, in a local folder: one conversion or compaction
/// at a time; the lock goes with the process, however it ends. (S3 has no
/// such lock: do not run two of them on one S3 dataset at once.)
fn lock(dest: &Place) -> Result<Option<std::fs::File>> {
    match dest {
        Place::Local(dir) => {
            let meta = dir.join(DATASET_DIR);
            place::create_dirs_durably(&meta)?;
            let lock_path = meta.join("lock");
            let lock = std::fs::File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
            lock.try_lock().map_err(|_| {
                Error::Usage(format!(
                    "{}: another trailsql convert or compact is writing this dataset",
                    dir.display()
                ))
            })?;
            Ok(Some(lock))
        }
        Place::S3(_) => Ok(None),
    }
}

/// The Hive/Athena type of an Arrow type in the dataset's files.
fn hive_type(t: &DataType) -> Result<String> {
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| Ok(format!("{}:{}", f.name(), hive_type(f.data_type())?)))
                .collect::<Result<_>>()?;
            format!("struct<{}>", inner.join(","))
        }
        DataType::List(item) => format!("array<{}>", hive_type(item.data_type())?),
        other => {
            return Err(Error::Usage(format!(
                "no Athena type for {other} (a column of the dataset)"
            )))
        }
    })
}

/// `CREATE EXTERNAL TABLE` for Athena (Trino, Spark and Hive take the same
/// shape) over the dataset once it is at `location` (`s3://bucket/prefix`):
/// every column of its files with its type, the three partition columns,
/// and partition projection over the accounts and regions the manifest
/// holds and the days from its first on, so no `MSCK REPAIR` is needed.
pub fn athena_ddl(dataset: &Dataset, location: &str, table: &str) -> Result<String> {
    let location = location.trim_end_matches('/');
    if !location.starts_with("s3://") {
        return Err(Error::Usage(format!(
            "{location}: Athena reads datasets in S3; give --location s3://BUCKET/PREFIX"
        )));
    }
    let ok_name =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok_name(table) {
        return Err(Error::Usage(format!(
            "{table:?}: a table name is letters, digits and _"
        )));
    }
    let mut columns = Vec::new();
    for f in file_schema().fields() {
        columns.push(format!("  `{}` {}", f.name(), hive_type(f.data_type())?));
    }
    let values = |pick: fn(&FileEntry) -> &str| {
        let set: std::collections::BTreeSet<&str> = dataset
            .files()
            .map(pick)
            .filter(|v| *v != NULL_PARTITION)
            .collect();
        set.into_iter().collect::<Vec<_>>().join(",")
    };
    let (accounts, regions) = (values(|f| &f.account), values(|f| &f.region));
    let first_day = dataset
        .files()
        .map(|f| f.date.as_str())
        .filter(|d| *d != NULL_PARTITION)
        .min()
        .ok_or_else(|| {
            Error::Usage(format!(
                "{}: the dataset holds no events yet",
                dataset.place.display()
            ))
        })?;
    Ok(format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{}\n)\n\
         PARTITIONED BY (`account` string, `region` string, `date` string)\n\
         STORED AS PARQUET\n\
         LOCATION '{location}/'\n\
         TBLPROPERTIES (\n\
         \x20 'projection.enabled' = 'true',\n\
         \x20 'projection.account.type' = 'enum',\n\
         \x20 'projection.account.values' = '{accounts}',\n\
         \x20 'projection.region.type' = 'enum',\n\
         \x20 'projection.region.values' = '{regions}',\n\
         \x20 'projection.date.type' = 'date',\n\
         \x20 'projection.date.format' = 'yyyy-MM-dd',\n\
         \x20 'projection.date.range' = '{first_day},NOW',\n\
         \x20 'projection.date.interval' = '1',\n\
         \x20 'projection.date.interval.unit' = 'DAYS',\n\
         \x20 'storage.location.template' = '{location}/account=${{account}}/region=${{region}}/date=${{date}}/'\n\
         );\n",
        columns.join(",\n")
    ))
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

    #[test]
    fn groups_are_runs_of_one_account_and_region_up_to_the_budget() {
        let file = |name: &str, size| LogFile {
            location: name.to_string(),
            size,
            key: None,
            version: None,
        };
        let mut days = BTreeMap::new();
        let day = |a: &str, r: &str, d: &str| (a.to_string(), r.to_string(), d.to_string());
        days.insert(
            day("1", "eu", "2025-10-01"),
            vec![file("a", 40), file("b", 20)],
        );
        days.insert(
            day("1", "eu", "2025-10-02"),
            vec![file("c", 30), file("d", 20)],
        );
        days.insert(day("1", "eu", "2025-10-03"), vec![file("e", 150)]);
        days.insert(day("1", "eu", "2025-10-04"), vec![file("f", 10)]);
        days.insert(day("1", "us", "2025-10-04"), vec![file("g", 10)]);
        days.insert(day("2", "us", "2025-10-04"), vec![file("h", 10)]);
        let groups: Vec<(String, String, Vec<String>)> = groups_of_days(days, 100)
            .into_iter()
            .map(|((a, r), files)| (a, r, files.into_iter().map(|f| f.location).collect()))
            .collect();
        let g = |a: &str, r: &str, names: &[&str]| {
            (
                a.to_string(),
                r.to_string(),
                names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            groups,
            [
                // Days joined: 40 + 20 + 30 = 90; 20 more would pass 100,
                // so the second day is split.
                g("1", "eu", &["a", "b", "c"]),
                g("1", "eu", &["d"]),
                // Over the budget alone: a group of its own.
                g("1", "eu", &["e"]),
                g("1", "eu", &["f"]),
                // Never across accounts or regions.
                g("1", "us", &["g"]),
                g("2", "us", &["h"]),
            ]
        );
    }
}
