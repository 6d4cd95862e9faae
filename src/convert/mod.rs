//! `trailsql convert SOURCE DEST`: an archive as a Parquet dataset (the
//! format is [`crate::dataset`]'s), kept up to date run after run, that
//! `--source DEST` reads as the same table. Log files are read through the
//! read pipeline ([`crate::read`]) in groups of one account and region, each
//! group written ([`write`]) and committed in order; [`compact`] merges a
//! dataset's small files.
//!
//! It imports `archive`, `read`, `dataset` and `record`; only `cli` imports it.

pub mod compact;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};

use crate::archive::{LogFile, Source};
use crate::dataset::delta::{self, Appended, Objects, Operation};
use crate::dataset::schema::column;
use crate::dataset::{
    data_file_path, file_schema, kind_at, lock, read_file, remove_leftovers, with_hot_columns,
    write_commit, write_info, Commit, Dataset, FileEntry, Kind, ObjectEntry, PartKey,
};
use crate::error::{DatasetProblem, Error, Result};
use crate::read::Report;
use write::{parquet_file, partition, Row};

/// The `eventid`s in the committed files of one partition.
async fn committed_ids(
    dataset: &Dataset,
    key: &PartKey,
) -> Result<std::collections::HashSet<String>> {
    let at = file_schema()
        .index_of("eventid")
        .map_err(|e| Error::Internal(e.to_string()))?;
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
    report: &Report,
    max_file_bytes: u64,
) -> Result<(Vec<RecordBatch>, Vec<(String, String)>)> {
    let runs = crate::read::chunks(files);
    let mut tasks = Vec::new();
    for range in runs {
        let run: Vec<LogFile> = files[range].to_vec();
        // What S3 would not give after retries stops the conversion (as it
        // stops a query): the run can be repeated once it is fixed.
        let fetched = source.fetch_run(&run, max_file_bytes).await?;
        tasks.push(tokio::task::spawn_blocking(move || {
            let outcome = crate::read::decode_chunk(&run, fetched, None, max_file_bytes, None);
            (run, outcome)
        }));
    }
    let mut batches = Vec::new();
    let mut unreadable = Vec::new();
    for task in tasks {
        let (run, (outcomes, decoded)) = task
            .await
            .map_err(|e| Error::Internal(format!("a decoding task failed: {e}")))?;
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
    /// What its files are named after.
    stem: String,
    account_region: (String, String),
    files: Vec<LogFile>,
    /// The rows, while they are not encoded yet.
    parts: Option<Parts>,
    encoded: Option<Encoded>,
    unreadable: Vec<(String, String)>,
    stats: GroupStats,
}

/// Encode each partition of a group as a Parquet file, in parallel, named
/// after `stem`.
async fn encode(stem: &str, parts: Parts) -> Result<Encoded> {
    let tasks: Vec<_> = parts
        .rows
        .into_iter()
        .enumerate()
        .map(|(n, (key, rows))| {
            let path = data_file_path(&key, stem, n);
            let batches = parts.batches.clone();
            tokio::task::spawn_blocking(move || parquet_file(&key, &path, &batches, rows))
        })
        .collect();
    let mut out = Vec::new();
    for t in futures::future::join_all(tasks).await {
        out.push(t.map_err(|e| Error::Internal(format!("a writing task failed: {e}")))??);
    }
    Ok(out)
}

/// Read a group, split it by partition, and encode it unless it must be
/// deduplicated first (which is done in order).
#[allow(clippy::too_many_arguments)]
async fn prepare(
    source: &Source,
    seq: u64,
    stem: String,
    account_region: (String, String),
    files: Vec<LogFile>,
    encode_now: bool,
    report: &Report,
    max_file_bytes: u64,
) -> Result<Prepared> {
    let mut stats = GroupStats::default();
    let (batches, unreadable) = decode(source, &files, &mut stats, report, max_file_bytes).await?;
    let rows = partition(&batches)?;
    let mut parts = Some(Parts {
        batches: Arc::new(batches),
        rows,
    });
    let encoded = match encode_now {
        true => Some(encode(&stem, parts.take().expect("set above")).await?),
        false => None,
    };
    Ok(Prepared {
        seq,
        stem,
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
/// holds (a dataset keeps the setting it was made with). A new dataset is
/// made in `format` (a Delta table when not given); an existing one keeps
/// its own. Progress goes to `report`'s counters.
#[allow(clippy::too_many_arguments)]
pub async fn convert(
    source: &Source,
    dest: &Source,
    dedupe: bool,
    format: Option<Kind>,
    group_bytes: u64,
    max_file_bytes: u64,
    report: &Arc<Report>,
) -> Result<Summary> {
    let (_lock, mut dataset, mut summary) = open_dest(source, dest, dedupe, format).await?;
    let listing = source.list().await?;
    summary.objects_listed = listing.logs.len();
    report.listed(&listing);
    let mut days = new_objects(&dataset, listing.logs, &mut summary);
    report.pruned(summary.objects_already + summary.changed.len());
    // Another writer of a Delta table may convert some of a group's
    // objects first: the rest are converted again, as new groups.
    while !days.is_empty() {
        let groups = groups_of_days(days, group_bytes);
        let again = convert_groups(
            source,
            dest,
            &mut dataset,
            groups,
            max_file_bytes,
            report,
            &mut summary,
        )
        .await?;
        days = BTreeMap::new();
        for file in again {
            days.entry(day_of(&file)).or_default().push(file);
        }
    }
    Ok(summary)
}

/// Convert `groups` into `dataset`: the objects another writer converted
/// first, that are to be converted again.
async fn convert_groups(
    source: &Source,
    dest: &Source,
    dataset: &mut Dataset,
    groups: Vec<((String, String), Vec<LogFile>)>,
    max_file_bytes: u64,
    report: &Arc<Report>,
    summary: &mut Summary,
) -> Result<Vec<LogFile>> {
    // With dedupe: the eventids of the partitions this run touches.
    let mut seen = Seen::default();
    // Groups are read and encoded several at a time; their files are
    // stored and their commits written in order, each commit after its
    // files.
    use futures::StreamExt;
    let dedupe = dataset.dedupe;
    let first_seq = dataset.next_seq();
    let stems: Vec<String> = (0..groups.len())
        .map(|i| dataset.file_stem(first_seq + i as u64))
        .collect();
    let mut again = Vec::new();
    // Each group is prepared in a task of its own, so it goes on while
    // this loop waits for its writes and syncs (a future in `buffered`
    // moves only when the stream is polled).
    let mut prepared = futures::stream::iter(groups.into_iter().zip(stems).enumerate())
        .map(|(i, (((account, region), files), stem))| {
            let (source, report) = (source.clone(), report.clone());
            let task = tokio::spawn(async move {
                let seq = first_seq + i as u64;
                let files_of = (account, region);
                prepare(
                    &source,
                    seq,
                    stem,
                    files_of,
                    files,
                    !dedupe,
                    &report,
                    max_file_bytes,
                )
                .await
            });
            async move {
                task.await
                    .map_err(|e| Error::Internal(format!("a conversion task failed: {e}")))?
            }
        })
        .buffered(groups_in_flight());
    while let Some(group) = prepared.next().await {
        let mut group = group?;
        let stats = std::mem::take(&mut group.stats);
        let (encoded, duplicates) = match group.encoded.take() {
            Some(encoded) => (encoded, 0),
            None => {
                let parts = group.parts.take().expect("not encoded, so kept");
                seen.leave_out(dataset, &group.account_region, parts, &group.stem)
                    .await?
            }
        };
        let stored = match dataset.delta.is_some() {
            true => store_group_delta(dest, dataset, group, encoded, duplicates, summary).await?,
            false => {
                let commit = store_group(dest, group, encoded, duplicates, summary).await?;
                dataset.commits.push(commit);
                Stored::Committed
            }
        };
        match stored {
            Stored::Committed => {
                summary.events += stats.events;
                summary.records_skipped += stats.records_skipped;
                summary.bytes_in += stats.bytes_in;
                summary.duplicates += duplicates;
            }
            Stored::Again(files) => {
                // What this run knew of the dataset's eventids is behind.
                seen = Seen::default();
                again.extend(files);
            }
        }
    }
    Ok(again)
}

/// The (account, region, delivery day) a listed object is grouped by
/// (files outside the layout under no account).
fn day_of(file: &LogFile) -> (String, String, String) {
    match &file.key {
        Some(k) => (k.account.clone(), k.region.clone(), k.date.to_string()),
        None => Default::default(),
    }
}

/// The dataset at `dest`, locked, made if it is not there (with `dedupe`),
/// and what a killed run left of it removed; refused when it overlaps
/// `source` or was made without the `dedupe` asked for.
async fn open_dest(
    source: &Source,
    dest: &Source,
    dedupe: bool,
    format: Option<Kind>,
) -> Result<(Option<std::fs::File>, Dataset, Summary)> {
    let overlap = |a: &str, b: &str| {
        let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
        a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
    };
    let (from, to) = (source.canonical(), dest.canonical());
    if overlap(&from, &to) {
        return Err(Error::Usage(format!(
            "{from} and {to} overlap: write the dataset outside the archive"
        )));
    }
    let kind = kind_at(dest).await?;
    if let (Some(there), Some(asked)) = (kind, format) {
        if there != asked {
            return Err(Error::Usage(format!(
                "{} is a dataset in {} format already: it keeps it (leave out --table-format)",
                dest.display(),
                format_name(there)
            )));
        }
    }
    // Two writers of one Delta table are kept apart by its log; trailsql's
    // own format needs the lock (and has none in S3).
    let lock = match kind.or(format).unwrap_or(Kind::Delta) {
        Kind::Trailsql => lock(dest)?,
        Kind::Delta => None,
    };
    match (kind, format) {
        (Some(_), _) => {}
        (None, Some(Kind::Trailsql)) => write_info(dest, dedupe).await?,
        (None, _) => {
            delta::create(dest, dedupe).await?;
        }
    }
    let dataset = Dataset::open_with_objects(dest).await?;
    if dedupe && !dataset.dedupe {
        return Err(Error::dataset(
            dest.display(),
            DatasetProblem::Refused(
                "made without --dedupe, it may already hold duplicates: \
                 convert into a new folder with --dedupe"
                    .into(),
            ),
        ));
    }
    let summary = Summary {
        leftovers_removed: remove_leftovers(&dataset).await?,
        dedupe: dataset.dedupe,
        ..Summary::default()
    };
    Ok((lock, dataset, summary))
}

/// The listed objects the dataset does not hold yet, by account, region
/// and delivery day (files outside the layout under no account); those it
/// holds are counted in `summary`, as already converted or as changed.
fn new_objects(
    dataset: &Dataset,
    listed: Vec<LogFile>,
    summary: &mut Summary,
) -> BTreeMap<(String, String, String), Vec<LogFile>> {
    let mut days: BTreeMap<(String, String, String), Vec<LogFile>> = BTreeMap::new();
    let known = dataset.objects();
    for file in listed {
        let entry = object_entry(&file);
        match known.get(entry.key.as_str()) {
            Some(old) if old.size == entry.size && old.version == entry.version => {
                summary.objects_already += 1;
            }
            Some(_) => summary.changed.push(file.location.clone()),
            None => days.entry(day_of(&file)).or_default().push(file),
        }
    }
    days
}

/// The eventids of the partitions a deduplicating run touches (the
/// committed files' and those added since), for one account and region at
/// a time.
#[derive(Default)]
struct Seen {
    ids: HashMap<PartKey, std::collections::HashSet<String>>,
    of: (String, String),
}

impl Seen {
    /// Leave out of `parts` the events whose eventid the dataset or this
    /// run already holds, then encode what is left; and how many were left
    /// out.
    async fn leave_out(
        &mut self,
        dataset: &Dataset,
        account_region: &(String, String),
        mut parts: Parts,
        stem: &str,
    ) -> Result<(Encoded, u64)> {
        if self.of != *account_region {
            self.ids.clear();
            self.of = account_region.clone();
        }
        let mut duplicates = 0;
        for (key, rows) in parts.rows.iter_mut() {
            if !self.ids.contains_key(key) {
                let ids = committed_ids(dataset, key).await?;
                self.ids.insert(key.clone(), ids);
            }
            let ids = self.ids.get_mut(key).expect("just inserted");
            let (kept, dropped) = without_seen(&parts.batches, std::mem::take(rows), ids)?;
            *rows = kept;
            duplicates += dropped;
        }
        parts.rows.retain(|_, rows| !rows.is_empty());
        Ok((encode(stem, parts).await?, duplicates))
    }
}

/// Store a group's encoded files; their manifest entries.
async fn store_files(dest: &Source, encoded: Encoded) -> Result<Vec<FileEntry>> {
    let (written, contents): (Vec<FileEntry>, Vec<Vec<u8>>) = encoded.into_iter().unzip();
    let puts = written
        .iter()
        .zip(contents)
        .map(|(entry, bytes)| dest.put(&entry.path, bytes));
    for put in futures::future::join_all(puts).await {
        put?;
    }
    Ok(written)
}

impl Summary {
    /// A group committed with its files `written`.
    fn count(&mut self, group: &Prepared, written: &[FileEntry]) {
        self.bytes_out += written.iter().map(|f| f.bytes).sum::<u64>();
        self.files_written += written.len();
        self.objects_converted += group.files.len() - group.unreadable.len();
        self.unreadable.extend(group.unreadable.iter().cloned());
        self.commits += 1;
    }
}

/// Store a group's files, then its commit; count them in `summary`.
async fn store_group(
    dest: &Source,
    group: Prepared,
    encoded: Encoded,
    duplicates: u64,
    summary: &mut Summary,
) -> Result<Commit> {
    let written = store_files(dest, encoded).await?;
    summary.count(&group, &written);
    let commit = Commit {
        seq: group.seq,
        objects: group.files.iter().map(object_entry).collect(),
        files: written,
        unreadable: group.unreadable,
        duplicates,
        replaces: Vec::new(),
    };
    write_commit(dest, &commit).await?;
    Ok(commit)
}

/// What an upgrade did.
#[derive(Debug, Default)]
pub struct Upgraded {
    pub files: usize,
    pub objects: usize,
    /// Files copied (into a new place).
    pub copied: usize,
    /// The earlier format's manifest was removed (an upgrade in place).
    pub removed_old: bool,
}

/// Turn the dataset of trailsql's own format at `from` into a Delta table
/// at `to` (the same place, or a new one the files are copied to), from its
/// manifest: one commit holds every file and, in one objects file, every
/// source object converted, so later conversions carry on where the
/// dataset was. In place, the old manifest (`_trailsql/`) is removed once
/// the commit exists, so that no older trailsql goes on adding to it; an
/// upgrade killed in between is finished by running it again.
pub async fn upgrade(from: &Source, to: &Source) -> Result<Upgraded> {
    let in_place = from.canonical() == to.canonical();
    let mut done = Upgraded::default();
    match (kind_at(from).await?, in_place) {
        (Some(Kind::Delta), true) => {
            done.removed_old = remove_old_manifest(to).await?;
            return Ok(done);
        }
        (Some(Kind::Delta), false) => {
            return Err(Error::Usage(format!(
                "{} is a Delta table already",
                from.display()
            )))
        }
        (None, _) => {
            return Err(Error::dataset(from.display(), DatasetProblem::NotADataset));
        }
        (Some(Kind::Trailsql), _) => {}
    }
    if !in_place && kind_at(to).await?.is_some() {
        return Err(Error::Usage(format!(
            "{} holds a dataset already: upgrade into a new place",
            to.display()
        )));
    }
    let _lock = lock(from)?;
    let old = Dataset::open_with_objects(from).await?;
    remove_leftovers(&old).await?;
    let files: Vec<FileEntry> = old.files().cloned().collect();
    if !in_place {
        use futures::StreamExt;
        let mut copies = futures::stream::iter(files.iter().map(|f| async move {
            let bytes = from.read(&f.path).await?.ok_or_else(|| {
                Error::dataset(
                    format!("{}/{}", from.display(), f.path),
                    DatasetProblem::Damaged("named by a commit but not there".into()),
                )
            })?;
            to.put(&f.path, bytes).await
        }))
        .buffer_unordered(8);
        while let Some(copied) = copies.next().await {
            copied?;
            done.copied += 1;
        }
    }
    let table = delta::create(to, old.dedupe).await?;
    if delta::version(&table) > 0 {
        return Err(Error::Usage(format!(
            "{}: another writer added to the new Delta table during the upgrade",
            to.display()
        )));
    }
    let objects = Objects {
        id: 0,
        previous: None,
        objects: old
            .commits
            .iter()
            .flat_map(|c| c.objects.iter().cloned())
            .collect(),
        unreadable: old
            .commits
            .iter()
            .flat_map(|c| c.unreadable.iter().cloned())
            .collect(),
        duplicates: old.commits.iter().map(|c| c.duplicates).sum(),
        written_ms: None,
    };
    done.files = files.len();
    done.objects = objects.objects.len();
    let (appended, _) = delta::append(to, &table, &files, objects, None, Operation::Append).await?;
    if let Appended::Conflict = appended {
        return Err(Error::Usage(format!(
            "{}: another writer committed to the new Delta table during the upgrade; \
             nothing of the upgrade is in it",
            to.display()
        )));
    }
    if in_place {
        done.removed_old = remove_old_manifest(to).await?;
    }
    Ok(done)
}

/// Remove the `_trailsql/` manifest of the earlier format beside a Delta
/// log: whether there was one.
async fn remove_old_manifest(place: &Source) -> Result<bool> {
    let old = place
        .list_under(&format!("{}/", crate::dataset::DATASET_DIR))
        .await?;
    // dataset.json first: without it no trailsql takes the folder for a
    // dataset of the earlier format.
    let info = format!("{}/dataset.json", crate::dataset::DATASET_DIR);
    let (first, rest): (Vec<&String>, Vec<&String>) = old.iter().partition(|n| **n == info);
    for name in first.into_iter().chain(rest) {
        place.delete(name).await?;
    }
    if let Some(dir) = place.local_path() {
        let _ = std::fs::remove_dir_all(dir.join(crate::dataset::DATASET_DIR));
    }
    Ok(!old.is_empty())
}

/// The name of a dataset format, as `--format` takes it.
pub fn format_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Trailsql => "trailsql",
        Kind::Delta => "delta",
    }
}

/// What became of a group stored in a Delta table.
enum Stored {
    Committed,
    /// Another writer committed first and converted some of its objects
    /// (or, deduplicating, may hold its events): these are to be converted
    /// again; nothing of the group is in the table.
    Again(Vec<LogFile>),
}

/// Store a group's files, then commit them with its objects to the Delta
/// table; if another writer committed first, commit again after it, unless
/// it converted some of the same objects.
async fn store_group_delta(
    dest: &Source,
    dataset: &mut Dataset,
    group: Prepared,
    encoded: Encoded,
    duplicates: u64,
    summary: &mut Summary,
) -> Result<Stored> {
    let written = store_files(dest, encoded).await?;
    let objects: Vec<ObjectEntry> = group.files.iter().map(object_entry).collect();
    let mut converted = dataset
        .delta
        .as_ref()
        .expect("a Delta dataset")
        .by_others
        .clone();
    loop {
        // Another writer converted some of the group's objects (or, when
        // deduplicating, may hold its events): the rest again.
        let overlap = objects.iter().any(|o| converted.contains(&o.key));
        if overlap {
            for f in &written {
                dest.delete(&f.path).await?;
            }
            let rest = group
                .files
                .into_iter()
                .filter(|f| !converted.contains(&object_entry(f).key))
                .collect();
            return Ok(Stored::Again(rest));
        }
        let state = dataset.delta.as_mut().expect("a Delta dataset");
        let record = Objects {
            id: 0,
            previous: None,
            objects: objects.clone(),
            unreadable: group.unreadable.clone(),
            duplicates,
            written_ms: None,
        };
        let (appended, id) = delta::append(
            dest,
            &state.table,
            &written,
            record,
            state.head,
            Operation::Append,
        )
        .await?;
        match appended {
            Appended::Committed(_) => {
                state.head = Some(id);
                summary.count(&group, &written);
                dataset.commits.push(Commit {
                    seq: group.seq,
                    objects,
                    files: written,
                    unreadable: group.unreadable,
                    duplicates,
                    replaces: Vec::new(),
                });
                return Ok(Stored::Committed);
            }
            Appended::Conflict => {
                // Ours, and named by no commit.
                dest.delete(&delta::objects_path(id)).await?;
                let newly = dataset.catch_up().await?;
                if dataset.dedupe && !newly.is_empty() {
                    // Their events may be this group's: decided again.
                    for f in &written {
                        dest.delete(&f.path).await?;
                    }
                    return Ok(Stored::Again(group.files));
                }
                converted.extend(newly);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
