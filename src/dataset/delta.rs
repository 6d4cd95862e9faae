//! A converted dataset as a Delta Lake table: the files `convert` writes
//! (the same Hive-style folders and Parquet files as [`super`]'s own
//! format) committed to a Delta transaction log in `_delta_log/`, which
//! Athena, Trino, Spark and DuckDB read as it is.
//!
//! delta-rs's core crate (`deltalake-core`) writes and reads the log: a
//! commit is a new numbered JSON file created only if no other writer took
//! that number (a conditional put on S3, a create-if-absent locally), so a
//! commit is whole or absent and two writers cannot both take one version.
//! What trailsql adds to the protocol, each where other engines keep it:
//!
//! - Each file's `add` action carries the Delta statistics (`numRecords`,
//!   min and max `eventtime`) and, as `tags`, every `eventname` in it and
//!   whether each of its columns is one page per row group: what trailsql
//!   prunes by.
//! - The source objects a commit converted are in an objects file,
//!   `_trailsql_objects/<id>.json`, written before the commit, naming the
//!   objects file of the commit before it. The commit records its id as the
//!   version of the application transaction `trailsql.converted` (a `txn`
//!   action, which checkpoints keep, as other writers do): the newest id is
//!   the head of the chain of every objects file committed. A file no
//!   commit names (a run killed before its commit) is not in the chain.
//!
//! Of trailsql it imports `archive` and `error` (and the dataset's own
//! types from `super`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use deltalake_core::kernel::engine::arrow_conversion::TryFromArrow;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties, TransactionError};
use deltalake_core::kernel::{Action, Add, DataType, Remove, StructField, StructType, Transaction};
use deltalake_core::logstore::{
    default_logstore, logstore_factories, LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig,
};
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::{DeltaResult, DeltaTable, DeltaTableBuilder, DeltaTableError};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{file_schema, partition_value, FileEntry, ObjectEntry, NULL_PARTITION};
use crate::archive::Source;
use crate::error::{DatasetProblem, Error, Result};

/// The folder of the Delta log.
pub const LOG_DIR: &str = "_delta_log";
/// The folder of the objects files.
pub const OBJECTS_DIR: &str = "_trailsql_objects";
/// The application transaction whose version is the newest objects file.
const APP_ID: &str = "trailsql.converted";
/// The table property set when the dataset is made with `--dedupe`.
pub(super) const DEDUPE_PROPERTY: &str = "trailsql.dedupe";
/// The partition columns: the Hive folders' names, as strings.
pub const PARTITION_COLUMNS: [&str; 3] = ["account", "region", "date"];
const TAG_EVENT_NAMES: &str = "trailsql.eventNames";
const TAG_ONE_PAGE: &str = "trailsql.onePage";

/// Which version of a table to read (`--as-of`).
#[derive(Debug, Clone, PartialEq)]
pub enum AsOf {
    Version(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

impl AsOf {
    /// A version number, or a time as RFC 3339 (`2026-12-01T10:00:00Z`) or a
    /// day (`2026-12-01`, its start in UTC).
    pub fn parse(text: &str) -> std::result::Result<AsOf, String> {
        let text = text.trim();
        if let Ok(v) = text.parse::<i64>() {
            return match v >= 0 {
                true => Ok(AsOf::Version(v)),
                false => Err(format!("{text}: a version is 0 or more")),
            };
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
            return Ok(AsOf::Time(t.with_timezone(&chrono::Utc)));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let start = d.and_hms_opt(0, 0, 0).expect("midnight exists");
            return Ok(AsOf::Time(start.and_utc()));
        }
        Err(format!(
            "{text}: give a version number, a time (2026-12-01T10:00:00Z) or a day (2026-12-01)"
        ))
    }
}

/// Delta's log stores for `s3://` tables: delta-rs's default one (commits
/// by conditional put), which its core crate registers for local tables
/// only.
#[derive(Debug, Default)]
struct ConditionalPutLogStores;

impl LogStoreFactory for ConditionalPutLogStores {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

fn register_s3() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let s3 = Url::parse("s3://").expect("a URL");
        logstore_factories().insert(s3, Arc::new(ConditionalPutLogStores));
    });
}

pub(super) fn problem(place: &Source, e: impl std::fmt::Display) -> Error {
    Error::dataset(place.display(), DatasetProblem::Damaged(e.to_string()))
}

/// The store delta-rs reads and writes through (rooted at the bucket, or
/// at `/`), and the table's URL in it.
fn location(place: &Source) -> Result<(ObjectStoreRef, Url)> {
    match place {
        Source::Local(dir) => {
            let full = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
            let url = Url::from_directory_path(&full)
                .map_err(|()| Error::Usage(format!("{}: not a usable path", full.display())))?;
            let store: ObjectStoreRef = Arc::new(object_store::local::LocalFileSystem::new());
            Ok((store, url))
        }
        Source::S3(s3) => {
            register_s3();
            let url = match s3.prefix.is_empty() {
                true => format!("s3://{}/", s3.bucket),
                false => format!("s3://{}/{}/", s3.bucket, s3.prefix),
            };
            let url = Url::parse(&url).map_err(|e| Error::Usage(format!("{url}: {e}")))?;
            Ok((s3.store(), url))
        }
    }
}

fn builder(place: &Source) -> Result<DeltaTableBuilder> {
    let (store, url) = location(place)?;
    Ok(DeltaTableBuilder::from_url(url.clone())
        .map_err(|e| problem(place, e))?
        .with_storage_backend(store, url))
}

/// Whether `place` holds a Delta table (a `_delta_log/` with a commit).
pub async fn is_delta(place: &Source) -> Result<bool> {
    match place.local_path() {
        Some(dir) => Ok(
            std::fs::read_dir(dir.join(LOG_DIR)).is_ok_and(|mut entries| {
                entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json")))
            }),
        ),
        None => Ok(place
            .list_under(&format!("{LOG_DIR}/"))
            .await?
            .iter()
            .any(|n| n.ends_with(".json"))),
    }
}

/// The table at `place`, as it is now or as it was (`as_of`).
pub async fn load(place: &Source, as_of: Option<&AsOf>) -> Result<DeltaTable> {
    let mut b = builder(place)?;
    match as_of {
        None => {}
        Some(AsOf::Version(v)) => b = b.with_version(*v as _),
        Some(AsOf::Time(t)) => b = b.with_timestamp(*t),
    }
    b.load().await.map_err(|e| match (as_of, &e) {
        (Some(at), _) => Error::Usage(format!(
            "{}: no version {} ({e})",
            place.display(),
            match at {
                AsOf::Version(v) => v.to_string(),
                AsOf::Time(t) => format!("as of {}", t.to_rfc3339()),
            }
        )),
        _ => problem(place, e),
    })
}

/// A new, empty table at `place` (with `dedupe` kept as a table property);
/// if another writer made it first, that one.
pub async fn create(place: &Source, dedupe: bool) -> Result<DeltaTable> {
    let arrow = file_schema();
    let schema = StructType::try_from_arrow(arrow.as_ref()).map_err(|e| problem(place, e))?;
    let mut columns: Vec<StructField> = schema.fields().cloned().collect();
    columns.extend(
        PARTITION_COLUMNS
            .iter()
            .map(|c| StructField::new(*c, DataType::STRING, true)),
    );
    let mut configuration: Vec<(&str, Option<&str>)> = Vec::new();
    if dedupe {
        configuration.push((DEDUPE_PROPERTY, Some("true")));
    }
    let table = builder(place)?.build().map_err(|e| problem(place, e))?;
    let made = table
        .create()
        .with_columns(columns)
        .with_partition_columns(PARTITION_COLUMNS)
        .with_configuration(configuration)
        .with_raise_if_key_not_exists(false)
        .with_comment("AWS CloudTrail events, converted by trailsql")
        .await;
    match made {
        Ok(table) => Ok(table),
        // Another writer made it between our look and our commit.
        Err(_) if is_delta(place).await? => load(place, None).await,
        Err(e) => Err(problem(place, e)),
    }
}

/// Whether the table was made with `--dedupe`.
pub fn dedupe(table: &DeltaTable) -> Result<bool> {
    let snapshot = table
        .snapshot()
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(snapshot
        .table_config()
        .unknown_properties
        .get(DEDUPE_PROPERTY)
        .is_some_and(|v| v == "true"))
}

/// The table's version.
pub fn version(table: &DeltaTable) -> i64 {
    table.version().map_or(-1, |v| v as i64)
}

/// A partition folder's value as the raw value Delta's log holds.
fn raw_value(folder: &str) -> Option<String> {
    (folder != NULL_PARTITION).then(|| percent_decode(folder))
}

/// `text` with each `%XX` replaced by the byte it stands for (a path in
/// Delta's log, a Hive partition folder).
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn iso_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// The `add` action of a file written by trailsql.
pub fn add_action(f: &FileEntry) -> Add {
    let partition_values = [&f.account, &f.region, &f.date]
        .iter()
        .zip(PARTITION_COLUMNS)
        .map(|(v, c)| (c.to_string(), raw_value(v)))
        .collect();
    let mut stats = serde_json::json!({ "numRecords": f.rows });
    if let (Some(min), Some(max)) = (f.min_ms.and_then(iso_ms), f.max_ms.and_then(iso_ms)) {
        stats["minValues"] = serde_json::json!({ "eventtime": min });
        stats["maxValues"] = serde_json::json!({ "eventtime": max });
    }
    let mut tags = HashMap::new();
    if let Some(names) = &f.event_names {
        let names = serde_json::to_string(names).expect("strings serialize");
        tags.insert(TAG_EVENT_NAMES.to_string(), Some(names));
    }
    if let Some(one) = f.one_page {
        tags.insert(TAG_ONE_PAGE.to_string(), Some(one.to_string()));
    }
    Add {
        path: f.path.clone(),
        partition_values,
        size: f.bytes as i64,
        modification_time: f
            .written_ms
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis()),
        data_change: true,
        stats: Some(stats.to_string()),
        tags: Some(tags),
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
        clustering_provider: None,
    }
}

/// The `remove` action of a file a compaction replaces.
pub fn remove_action(f: &FileEntry) -> Remove {
    let add = add_action(f);
    Remove {
        path: add.path,
        data_change: false,
        deletion_timestamp: Some(chrono::Utc::now().timestamp_millis()),
        extended_file_metadata: Some(true),
        partition_values: Some(add.partition_values),
        size: Some(add.size),
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Stats {
    num_records: Option<u64>,
    #[serde(default)]
    min_values: HashMap<String, serde_json::Value>,
    #[serde(default)]
    max_values: HashMap<String, serde_json::Value>,
}

fn stat_ms(values: &HashMap<String, serde_json::Value>) -> Option<i64> {
    let text = values.get("eventtime")?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// One file of the table as trailsql's manifest entry, from its `add`
/// action: its path (decoded), partition values, size, modification time,
/// statistics and tags.
pub(super) fn file_entry(
    place: &Source,
    path: String,
    partition: impl Fn(&str) -> Option<String>,
    size: i64,
    modified_ms: i64,
    stats: Option<&str>,
    tag: impl Fn(&str) -> Option<String>,
) -> Result<FileEntry> {
    let stats: Stats = match stats {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| problem(place, format!("{path}: statistics: {e}")))?,
        None => Stats::default(),
    };
    // What makes counts and row limits exact: a file added by another
    // writer without it is refused, not guessed at.
    let rows = stats.num_records.ok_or_else(|| {
        problem(
            place,
            format!("{path}: no numRecords in its statistics (written without them)"),
        )
    })?;
    let part = |c: &str| partition_value(partition(c).as_deref());
    Ok(FileEntry {
        account: part("account"),
        region: part("region"),
        date: part("date"),
        rows,
        bytes: size as u64,
        min_ms: stat_ms(&stats.min_values),
        max_ms: stat_ms(&stats.max_values),
        event_names: tag(TAG_EVENT_NAMES).and_then(|t| serde_json::from_str(&t).ok()),
        written_ms: Some(modified_ms),
        one_page: tag(TAG_ONE_PAGE).map(|v| v == "true"),
        path,
    })
}

/// The files of the table as trailsql's manifest entries, in path order
/// (as the manifest of trailsql's own format gives them).
pub fn files(place: &Source, table: &DeltaTable) -> Result<Vec<FileEntry>> {
    let snapshot = table.snapshot().map_err(|e| problem(place, e))?;
    let mut out = Vec::new();
    for view in snapshot.log_data().iter() {
        let partitions = view.partition_values_map();
        #[allow(deprecated)] // the one public way to a file's tags
        let tags = view.add_action().tags.unwrap_or_default();
        out.push(file_entry(
            place,
            view.path().to_string(),
            |c| partitions.get(c).cloned().flatten(),
            view.size(),
            view.modification_time(),
            view.stats().as_deref(),
            |name| tags.get(name).cloned().flatten(),
        )?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// One objects file: the source objects one commit converted, and the
/// objects file of the commit before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Objects {
    pub id: u64,
    pub previous: Option<u64>,
    pub objects: Vec<ObjectEntry>,
    #[serde(default)]
    pub unreadable: Vec<(String, String)>,
    #[serde(default)]
    pub duplicates: u64,
    /// When it was written (ms since the epoch): `vacuum` removes one that
    /// no commit names once it is older than the files it keeps.
    #[serde(default)]
    pub written_ms: Option<i64>,
}

pub fn objects_path(id: u64) -> String {
    format!("{OBJECTS_DIR}/{id:016x}.json")
}

/// The objects files in the table's folder, committed or not (not a file
/// being written: locally one is written under a hidden name first).
async fn objects_files(place: &Source) -> Result<Vec<String>> {
    let names = place.list_under(&format!("{OBJECTS_DIR}/")).await?;
    Ok(names
        .into_iter()
        .filter(|n| {
            let file = n.rsplit('/').next().unwrap_or(n);
            file.ends_with(".json") && !file.starts_with('.')
        })
        .collect())
}

/// The id of the newest objects file committed, if any.
async fn head(place: &Source, table: &DeltaTable) -> Result<Option<u64>> {
    let snapshot = table.snapshot().map_err(|e| problem(place, e))?;
    let v = snapshot
        .transaction_version(table.log_store().as_ref(), APP_ID)
        .await
        .map_err(|e| problem(place, e))?;
    Ok(v.map(|v| v as u64))
}

/// Every objects file committed to the table, newest first, and the id of
/// the newest.
pub async fn committed_objects(
    place: &Source,
    table: &DeltaTable,
) -> Result<(Option<u64>, Vec<Objects>)> {
    let Some(head) = head(place, table).await? else {
        return Ok((None, Vec::new()));
    };
    let names = objects_files(place).await?;
    let mut by_id = HashMap::new();
    for (name, bytes) in place.read_many(names).await? {
        let Some(bytes) = bytes else { continue };
        let objects: Objects = serde_json::from_slice(&bytes)
            .map_err(|e| problem(place, format!("{name}: not a trailsql objects file ({e})")))?;
        by_id.insert(objects.id, objects);
    }
    let mut chain = Vec::new();
    let mut next = Some(head);
    while let Some(id) = next {
        let objects = by_id.remove(&id).ok_or_else(|| {
            problem(
                place,
                format!(
                    "{} is missing, yet a commit names it: the table was changed by \
                     something other than trailsql",
                    objects_path(id)
                ),
            )
        })?;
        next = objects.previous;
        chain.push(objects);
    }
    Ok((Some(head), chain))
}

/// How an append ended.
pub enum Appended {
    /// Committed as this version.
    Committed(i64),
    /// Another writer committed first: nothing of this one is in the table.
    Conflict,
}

/// Commit `files` (already stored) with the source objects they came
/// from, as the next version after the table's: its objects file is
/// written first and names `previous`, the head the table had. Does not
/// retry: another writer's commit in between gives [`Appended::Conflict`].
pub async fn append(
    place: &Source,
    table: &DeltaTable,
    files: &[FileEntry],
    mut objects: Objects,
    previous: Option<u64>,
    operation: Operation,
) -> Result<(Appended, u64)> {
    let id = loop {
        let id = rand::random::<u64>() >> 1;
        if id != 0 && Some(id) != previous {
            break id;
        }
    };
    objects.id = id;
    objects.previous = previous;
    objects.written_ms = Some(chrono::Utc::now().timestamp_millis());
    let text = serde_json::to_vec(&objects).map_err(|e| Error::Internal(e.to_string()))?;
    place.put(&objects_path(id), text).await?;
    let mut actions: Vec<Action> = files.iter().map(|f| Action::Add(add_action(f))).collect();
    let (operation, removes) = match operation {
        Operation::Append => (
            DeltaOperation::Write {
                mode: SaveMode::Append,
                partition_by: Some(PARTITION_COLUMNS.iter().map(|c| c.to_string()).collect()),
                predicate: None,
            },
            Vec::new(),
        ),
        Operation::Compact { replaced, target } => (
            DeltaOperation::Optimize {
                predicate: None,
                target_size: target as i64,
            },
            replaced,
        ),
    };
    if !removes.is_empty() {
        for a in actions.iter_mut() {
            if let Action::Add(add) = a {
                add.data_change = false;
            }
        }
    }
    actions.extend(removes.iter().map(|f| Action::Remove(remove_action(f))));
    let mut about = HashMap::new();
    about.insert(
        "trailsql".to_string(),
        serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "objects": objects.objects.len(),
            "rows": files.iter().map(|f| f.rows).sum::<u64>(),
            "unreadable": objects.unreadable.len(),
            "duplicates": objects.duplicates,
            "objectsFile": objects_path(id),
        }),
    );
    let properties = CommitProperties::default()
        .with_application_transaction(Transaction::new(APP_ID, id as i64))
        .with_max_retries(0);
    let snapshot = table.snapshot().map_err(|e| problem(place, e))?;
    let committed = CommitBuilder::from(properties)
        .with_actions(actions)
        .with_app_metadata(about)
        .build(Some(snapshot), table.log_store(), operation)
        .await;
    match committed {
        Ok(done) => Ok((Appended::Committed(done.version() as i64), id)),
        Err(DeltaTableError::Transaction { source }) if lost_race(&source) => {
            Ok((Appended::Conflict, id))
        }
        Err(e) => Err(problem(place, e)),
    }
}

/// Whether a commit failed only because another writer took its version.
fn lost_race(e: &TransactionError) -> bool {
    matches!(
        e,
        TransactionError::VersionAlreadyExists(_)
            | TransactionError::CommitConflict(_)
            | TransactionError::MaxCommitAttempts(_)
    )
}

/// What a commit does.
pub enum Operation {
    /// Add the files of newly converted objects.
    Append,
    /// Add files that take the place of `replaced` (the same rows).
    Compact {
        replaced: Vec<FileEntry>,
        target: u64,
    },
}

/// Write a checkpoint of the table's version: readers start from it.
pub async fn checkpoint(place: &Source, table: &DeltaTable) -> Result<()> {
    deltalake_core::protocol::checkpoints::create_checkpoint(table, None)
        .await
        .map_err(|e| problem(place, e))
}

/// Bring `table` up to the newest version.
pub async fn refresh(place: &Source, table: &mut DeltaTable) -> Result<()> {
    table.update_state().await.map_err(|e| problem(place, e))
}

/// One version of a table, as its commit file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionInfo {
    pub version: i64,
    /// The commit's time (ms since the epoch).
    pub time_ms: Option<i64>,
    pub operation: String,
    pub files_added: u64,
    pub files_removed: u64,
    /// Rows of files added with new data (not a compaction's).
    pub rows_added: u64,
    /// Source objects converted (trailsql's commits).
    pub objects: Option<u64>,
    /// What wrote it.
    pub engine: String,
}

/// Every version whose commit file the log still holds, oldest first.
pub async fn history(place: &Source) -> Result<Vec<VersionInfo>> {
    let names: Vec<String> = place
        .list_under(&format!("{LOG_DIR}/"))
        .await?
        .into_iter()
        .filter(|n| commit_version(n).is_some())
        .collect();
    let mut out = Vec::new();
    for (name, bytes) in place.read_many(names).await? {
        let Some(bytes) = bytes else { continue };
        let version = commit_version(&name).expect("filtered above");
        let mut v = VersionInfo {
            version,
            ..VersionInfo::default()
        };
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let action: serde_json::Value =
                serde_json::from_slice(line).map_err(|e| problem(place, format!("{name}: {e}")))?;
            if let Some(info) = action.get("commitInfo") {
                v.time_ms = info["timestamp"].as_i64();
                v.operation = info["operation"].as_str().unwrap_or_default().to_string();
                v.engine = info["engineInfo"]
                    .as_str()
                    .or(info["clientVersion"].as_str())
                    .unwrap_or_default()
                    .to_string();
                if let Some(ours) = info.get("trailsql") {
                    v.objects = ours["objects"].as_u64();
                    v.engine = format!("trailsql {}", ours["version"].as_str().unwrap_or(""));
                }
            } else if let Some(add) = action.get("add") {
                v.files_added += 1;
                if add["dataChange"].as_bool() != Some(false) {
                    let stats: Stats = add["stats"]
                        .as_str()
                        .and_then(|s| serde_json::from_str(s).ok())
                        .unwrap_or_default();
                    v.rows_added += stats.num_records.unwrap_or(0);
                }
            } else if action.get("remove").is_some() {
                v.files_removed += 1;
            }
        }
        out.push(v);
    }
    out.sort_by_key(|v| v.version);
    Ok(out)
}

/// The version a log file `name` commits, if it is a commit file.
pub(super) fn commit_version(name: &str) -> Option<i64> {
    log_file_version(name, ".json")
}

/// The version of log file `name` if it is the 20-digit version followed
/// by `suffix` (`.json` for a commit, `.checkpoint.parquet` for a
/// single-file checkpoint).
pub(super) fn log_file_version(name: &str, suffix: &str) -> Option<i64> {
    let file = name.rsplit('/').next()?;
    let stem = file.strip_suffix(suffix)?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

/// What a vacuum did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Vacuumed {
    pub data_files: Vec<String>,
    pub objects_files: Vec<String>,
    pub dry_run: bool,
}

/// Delete the data files no version younger than `retain` needs, and files
/// no commit names (a killed run's) older than that; and the objects files
/// of no commit, as old. `dry_run` lists them only.
pub async fn vacuum(place: &Source, retain: chrono::Duration, dry_run: bool) -> Result<Vacuumed> {
    use deltalake_core::operations::vacuum::VacuumMode;
    let table = load(place, None).await?;
    let (_, chain) = committed_objects(place, &table).await?;
    let named: std::collections::HashSet<u64> = chain.iter().map(|o| o.id).collect();
    let (_, metrics) = table
        .vacuum()
        .with_retention_period(retain)
        .with_enforce_retention_duration(false)
        .with_mode(VacuumMode::Full)
        .with_dry_run(dry_run)
        .await
        .map_err(|e| problem(place, e))?;
    let before = chrono::Utc::now().timestamp_millis() - retain.num_milliseconds();
    let mut unneeded = Vec::new();
    let names = objects_files(place).await?;
    for (name, bytes) in place.read_many(names).await? {
        let Some(bytes) = bytes else { continue };
        let Ok(objects) = serde_json::from_slice::<Objects>(&bytes) else {
            continue;
        };
        let old = objects.written_ms.is_none_or(|t| t < before);
        if !named.contains(&objects.id) && old {
            if !dry_run {
                place.delete(&name).await?;
            }
            unneeded.push(name);
        }
    }
    Ok(Vacuumed {
        data_files: metrics.files_deleted,
        objects_files: unneeded,
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folders_give_back_the_raw_values() {
        for raw in ["123456789012", "eu-west-1", "a b/c%d", "é"] {
            let folder = partition_value(Some(raw));
            assert_eq!(raw_value(&folder).as_deref(), Some(raw), "{folder}");
        }
        assert_eq!(raw_value(NULL_PARTITION), None);
    }

    #[test]
    fn as_of_takes_versions_times_and_days() {
        assert_eq!(AsOf::parse("3"), Ok(AsOf::Version(3)));
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(AsOf::parse("2026-12-01T10:00:00Z"), Ok(AsOf::Time(t)));
        let day = AsOf::parse("2026-12-01").unwrap();
        assert_eq!(
            day,
            AsOf::Time(t - chrono::Duration::hours(10)),
            "a day is its start"
        );
        assert!(AsOf::parse("-1").is_err());
        assert!(AsOf::parse("yesterday")
            .unwrap_err()
            .contains("version number"));
    }
}
