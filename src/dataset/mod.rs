//! The converted dataset as a format: what `trailsql convert` writes and
//! `--source DEST` reads as the same table.
//!
//! Layout: Hive-style folders by the event's account, region and day,
//! `account=<recipientaccountid>/region=<awsregion>/date=<YYYY-MM-DD>/`,
//! holding `part-<commit>-<n>.parquet` files of the [`schema`] (the
//! canonical columns and copies of the identity fields people look up by).
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
//! of `trailsql compact` writes one file in the place of several and names
//! those it replaces; they are no longer part of the dataset from that
//! commit on. A checkpoint holds the whole manifest as of its number.
//!
//! This room knows the format only: `convert` (which writes it) and
//! `table::converted` (which reads it) both import it, and neither imports
//! the other. It imports `archive` (where the objects are), `record` and
//! `error`.

pub mod athena;
pub mod delta;
pub mod delta_log;
pub mod schema;

use std::collections::HashMap;
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};

pub use athena::athena_ddl;
pub use schema::{file_schema, with_hot_columns, BLOOM_COLUMNS, HOT_COLUMNS};

use crate::archive::Source;
use crate::error::{DatasetProblem, Error, Result};

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
pub const FORMAT_VERSION: u32 = 4;
/// Versions this build reads: 3 added commits that replace files and 4
/// checkpoints (`trailsql compact` writes both); an older dataset has
/// neither, and becomes version 4 when it is first compacted, so that an
/// older trailsql, which would read the replaced files too, or miss a
/// checkpoint, refuses it.
const READABLE_VERSIONS: [u32; 3] = [2, 3, 4];
/// Hive's name for a partition whose value is NULL.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

impl Commit {
    /// A Delta table's files as one commit, numbered by its version.
    fn of_table(place: &Source, table: &deltalake_core::DeltaTable) -> Result<Commit> {
        Ok(Commit::of_files(
            delta::version(table),
            delta::files(place, table)?,
        ))
    }

    /// A Delta table's files at `version` as one commit.
    fn of_files(version: i64, files: Vec<FileEntry>) -> Commit {
        Commit {
            seq: version.max(0) as u64,
            objects: Vec::new(),
            files,
            unreadable: Vec::new(),
            duplicates: 0,
            replaces: Vec::new(),
        }
    }

    /// A Delta table's objects file as a commit without files.
    pub fn of_objects(objects: delta::Objects) -> Commit {
        Commit {
            seq: 0,
            objects: objects.objects,
            files: Vec::new(),
            unreadable: objects.unreadable,
            duplicates: objects.duplicates,
            replaces: Vec::new(),
        }
    }
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

/// Whether `place` holds a converted dataset (of either kind).
pub async fn dataset_at(place: &Source) -> Result<bool> {
    Ok(kind_at(place).await?.is_some())
}

fn info_path() -> String {
    format!("{DATASET_DIR}/{DATASET_FILE}")
}

fn commits_path() -> String {
    format!("{DATASET_DIR}/{COMMITS_DIR}/")
}

pub fn commit_path(seq: u64) -> String {
    format!("{}{seq:010}.{COMMIT_EXT}", commits_path())
}

pub fn checkpoint_path(seq: u64) -> String {
    format!("{}{seq:010}.{CHECKPOINT_EXT}", commits_path())
}

/// The number of a commit or checkpoint file `name` with extension `ext`.
fn seq_of(name: &str, ext: &str) -> Option<u64> {
    let file = name.rsplit('/').next()?;
    file.strip_suffix(ext)?.strip_suffix('.')?.parse().ok()
}

pub fn objects_path(seq: u64) -> String {
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
    pub place: Source,
    pub commits: Vec<Commit>,
    pub dedupe: bool,
    /// The format version in `dataset.json` (0 for a Delta table).
    pub version: u32,
    pub kind: Kind,
    /// The Delta table as delta-rs read it, when the dataset is one that a
    /// writer (or `--as-of`) opened ([`delta`]; a query's is read by
    /// [`delta_log`]): its files are then one commit's, its objects one
    /// commit per objects file.
    pub delta: Option<DeltaState>,
}

/// A Delta dataset as it was read.
#[derive(Debug)]
pub struct DeltaState {
    pub table: deltalake_core::DeltaTable,
    /// The newest objects file committed.
    pub head: Option<u64>,
    /// Names this run's data files apart from another writer's.
    pub run: String,
    /// Keys of the source objects other writers converted since this run
    /// read the table.
    pub by_others: std::collections::HashSet<String>,
}

/// Which kind of dataset a place holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// trailsql's own `_trailsql/` format (earlier versions).
    Trailsql,
    Delta,
}

/// The kind of dataset at `place`, if any (a Delta log wins over an older
/// `_trailsql/` beside it).
pub async fn kind_at(place: &Source) -> Result<Option<Kind>> {
    if delta::is_delta(place).await? {
        return Ok(Some(Kind::Delta));
    }
    let own = match place.local_path() {
        Some(p) => is_dataset(p),
        // A probe only: if S3 will not answer it (a HEAD's error has no body
        // to say why), the listing that follows fails with the reason.
        None => place.exists(&info_path()).await.unwrap_or(false),
    };
    Ok(own.then_some(Kind::Trailsql))
}

impl Dataset {
    /// Read the manifest of the dataset at `place`: its commits and the
    /// files they name (what a query needs).
    pub async fn open(place: &Source) -> Result<Dataset> {
        Dataset::open_as_of(place, None).await
    }

    /// Read the manifest as it was at `as_of` (Delta tables only), or as
    /// it is.
    pub async fn open_as_of(place: &Source, as_of: Option<&delta::AsOf>) -> Result<Dataset> {
        match as_of {
            Some(_) if delta::is_delta(place).await? => {
                return Dataset::open_delta(place, as_of).await;
            }
            Some(_) => {}
            // A query's: read without delta-rs when the log allows.
            None => match delta_log::read(place).await? {
                delta_log::Log::Read(snapshot) => {
                    return Ok(Dataset {
                        place: place.clone(),
                        commits: vec![Commit::of_files(snapshot.version, snapshot.files)],
                        dedupe: snapshot.dedupe,
                        version: 0,
                        kind: Kind::Delta,
                        delta: None,
                    });
                }
                delta_log::Log::Other(_) => return Dataset::open_delta(place, None).await,
                delta_log::Log::Absent => {}
            },
        }
        if as_of.is_some() {
            return Err(Error::Usage(format!(
                "{}: --as-of reads a Delta table; this dataset is in the format of \
                 earlier trailsql versions, which keeps no history",
                place.display()
            )));
        }
        let at = || format!("{}/{}", place.display(), info_path());
        let text = place
            .read(&info_path())
            .await?
            .ok_or_else(|| Error::dataset(place.display(), DatasetProblem::NotADataset))?;
        let info: DatasetInfo = serde_json::from_slice(&text)
            .map_err(|e| Error::dataset(at(), DatasetProblem::Damaged(e.to_string())))?;
        if info.format != FORMAT || !READABLE_VERSIONS.contains(&info.version) {
            return Err(Error::dataset(
                place.display(),
                DatasetProblem::OtherVersion {
                    format: info.format,
                    version: info.version,
                    readable: format!("{FORMAT} versions {READABLE_VERSIONS:?}"),
                },
            ));
        }
        let mut commits = Vec::new();
        for attempt in 1.. {
            let names = place.list_under(&commits_path()).await?;
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
                return Err(Error::dataset(place.display(), DatasetProblem::Changing));
            }
            for (name, bytes) in read {
                let bytes = bytes.expect("checked above");
                let commit: Commit = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::dataset(
                        format!("{}/{name}", place.display()),
                        DatasetProblem::Damaged(format!("not a trailsql commit ({e})")),
                    )
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
            kind: Kind::Trailsql,
            delta: None,
        })
    }

    /// A Delta table's files as one commit (numbered by its version).
    async fn open_delta(place: &Source, as_of: Option<&delta::AsOf>) -> Result<Dataset> {
        let table = delta::load(place, as_of).await?;
        let commit = Commit::of_table(place, &table)?;
        Ok(Dataset {
            place: place.clone(),
            commits: vec![commit],
            dedupe: delta::dedupe(&table)?,
            version: 0,
            kind: Kind::Delta,
            delta: Some(DeltaState {
                table,
                head: None,
                run: format!("{:08x}", rand::random::<u32>()),
                by_others: Default::default(),
            }),
        })
    }

    /// Read the manifest with every commit's source objects too (what a
    /// conversion needs to know what is new).
    pub async fn open_with_objects(place: &Source) -> Result<Dataset> {
        if delta::is_delta(place).await? {
            let mut dataset = Dataset::open_delta(place, None).await?;
            dataset.read_delta(false).await?;
            return Ok(dataset);
        }
        let mut dataset = Dataset::open(place).await?;
        let names = dataset
            .commits
            .iter()
            .map(|c| objects_path(c.seq))
            .collect();
        let read = place.read_many(names).await?;
        for (commit, (name, bytes)) in dataset.commits.iter_mut().zip(read) {
            let damaged = |why: String| {
                Error::dataset(
                    format!("{}/{name}", place.display()),
                    DatasetProblem::Damaged(why),
                )
            };
            let bytes = bytes.ok_or_else(|| {
                damaged(
                    "missing, yet its commit is there: the dataset was changed \
                     by something other than trailsql convert"
                        .into(),
                )
            })?;
            let objects: CommitObjects = serde_json::from_slice(&bytes)
                .map_err(|e| damaged(format!("not a trailsql objects file ({e})")))?;
            if objects.seq != commit.seq {
                return Err(damaged(format!(
                    "names commit {}, not {}",
                    objects.seq, commit.seq
                )));
            }
            commit.objects = objects.objects.into_owned();
        }
        Ok(dataset)
    }

    /// Read what other writers committed to a Delta dataset since this run
    /// read it: its files and objects as [`Dataset::open_with_objects`]
    /// gives them. Returns the keys of the objects they converted (also
    /// kept in `by_others`).
    pub async fn catch_up(&mut self) -> Result<std::collections::HashSet<String>> {
        self.read_delta(true).await
    }

    /// A Delta dataset's files as one commit, then each objects file of its
    /// chain as a commit without files, oldest first; `again`: the table
    /// brought up to date first. The keys of the objects converted since
    /// the chain's head this run knew (all, when it knew none).
    async fn read_delta(&mut self, again: bool) -> Result<std::collections::HashSet<String>> {
        let state = self.delta.as_mut().expect("a Delta dataset");
        if again {
            delta::refresh(&self.place, &mut state.table).await?;
        }
        let known = state.head;
        let (head, chain) = delta::committed_objects(&self.place, &state.table).await?;
        let current = Commit::of_table(&self.place, &state.table)?;
        // The chain runs newest first: what is before the head this run knew.
        let mut converted = std::collections::HashSet::new();
        for objects in chain.iter().take_while(|o| Some(o.id) != known) {
            converted.extend(objects.objects.iter().map(|o| o.key.clone()));
        }
        if again {
            state.by_others.extend(converted.iter().cloned());
        }
        state.head = head;
        self.commits = vec![current];
        self.commits
            .extend(chain.into_iter().rev().map(Commit::of_objects));
        Ok(converted)
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

    pub fn next_seq(&self) -> u64 {
        self.commits.iter().map(|c| c.seq).max().unwrap_or(0) + 1
    }

    /// What the files of commit `seq` are named after (see
    /// [`data_file_path`]): for a Delta table with this run's tag too,
    /// since another writer may be at the same number.
    pub fn file_stem(&self, seq: u64) -> String {
        match &self.delta {
            Some(d) => format!("{}-{seq:06}", d.run),
            None => format!("{seq:010}"),
        }
    }
}

/// A partition folder's value: safe characters as they are, others as `%XX`
/// (Hive's escaping), NULL as Hive's default partition.
pub fn partition_value(v: Option<&str>) -> String {
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
pub type PartKey = (String, String, String);

/// Store `commit`, its objects file first: the moment the commit exists,
/// its files and objects are part of the dataset.
pub async fn write_commit(place: &Source, commit: &Commit) -> Result<()> {
    store_commit(place, commit, &commit_path(commit.seq)).await
}

/// Store `commit` (its objects file first) as `path`.
pub async fn store_commit(place: &Source, commit: &Commit, path: &str) -> Result<()> {
    let objects = serde_json::to_vec(&CommitObjects {
        seq: commit.seq,
        objects: std::borrow::Cow::Borrowed(&commit.objects),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    place.put(&objects_path(commit.seq), objects).await?;
    let text = serde_json::to_vec(commit).map_err(|e| Error::Internal(e.to_string()))?;
    place.put(path, text).await
}

/// Where the `n`th file of a commit in partition `key` is stored, below
/// the dataset folder (Hive-style partition folders), `stem` naming the
/// commit ([`Dataset::file_stem`]).
pub fn data_file_path(key: &PartKey, stem: &str, n: usize) -> String {
    format!(
        "account={}/region={}/date={}/part-{stem}-{n:03}.parquet",
        key.0, key.1, key.2
    )
}

/// Delete what a killed run left: Parquet files and objects files no
/// commit names, and partial files. Returns how many were removed. Not in
/// a Delta table, where another writer's files may not be committed yet:
/// `trailsql vacuum` removes what no version names once it is old enough.
pub async fn remove_leftovers(dataset: &Dataset) -> Result<usize> {
    if dataset.delta.is_some() {
        return Ok(0);
    }
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
    for rel in dataset.place.list_under("").await? {
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

/// The rows of the dataset's file `f` at `place` (with the file schema's
/// top-level columns `columns`, or all of them).
pub async fn read_file(
    place: &Source,
    f: &FileEntry,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>> {
    use datafusion::parquet::arrow::arrow_reader::{
        ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    };
    use datafusion::parquet::arrow::ProjectionMask;
    let at = || format!("{}/{}", place.display(), f.path);
    let bad =
        |e: &dyn std::fmt::Display| Error::dataset(at(), DatasetProblem::Damaged(e.to_string()));
    let bytes = place.read(&f.path).await?.ok_or_else(|| {
        Error::dataset(
            at(),
            DatasetProblem::Damaged("named by a commit but not there".into()),
        )
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
pub async fn write_info(place: &Source, dedupe: bool) -> Result<()> {
    let text = serde_json::to_vec(&DatasetInfo {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        dedupe,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    place.put(&info_path(), text).await
}

/// Take the dataset's lock, in a local folder: one conversion or compaction
/// at a time; the lock goes with the process, however it ends. (S3 has no
/// such lock: do not run two of them on one S3 dataset at once.)
pub fn lock(dest: &Source) -> Result<Option<std::fs::File>> {
    match dest.local_path() {
        Some(dir) => {
            let meta = dir.join(DATASET_DIR);
            crate::archive::create_dirs_durably(&meta)?;
            let lock_path = meta.join("lock");
            let lock = std::fs::File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
            lock.try_lock()
                .map_err(|_| Error::dataset(dir.display(), DatasetProblem::Locked))?;
            Ok(Some(lock))
        }
        None => Ok(None),
    }
}
