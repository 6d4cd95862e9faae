//! `trailsql compact DEST`: each partition's small files merged into one.
//!
//! Every conversion run writes a file per partition it adds events to, so a
//! dataset brought up to date every few minutes collects many small files
//! per day, and a query pays for each file it opens. Compaction reads a
//! partition's files, sorts their rows as a conversion does, and writes them
//! as one file, recorded by a commit that names the files it replaces. Until
//! that commit exists the old files are the dataset; from then on the new
//! one is, and the old ones are deleted (by this run, or as leftovers by the
//! next run if this one is killed first). Rows are neither added nor lost:
//! the same rows in the same order, in fewer files.
//!
//! Then the commits are folded into a checkpoint: one commit holding the
//! dataset's files and every object converted, from which readers start, so
//! that a query does not read one file per run of the dataset's history.
//! The commits it holds are removed after it is stored (or, if the run is
//! killed first, as leftovers by the next one).
//!
//! Of trailsql it imports `archive`, `dataset`, `error`.

use datafusion::arrow::array::RecordBatch;

use super::groups_in_flight;
use super::write::{parquet_file, Row};
use crate::archive::Source;
use crate::dataset::delta::{self, Appended, Objects, Operation};
use crate::dataset::{
    checkpoint_path, commit_path, data_file_path, dataset_at, lock, objects_path, read_file,
    remove_leftovers, store_commit, write_commit, write_info, Commit, Dataset, FileEntry, Kind,
    PartKey, FORMAT_VERSION,
};
use crate::error::{DatasetProblem, Error, Result};

/// The Parquet a compacted file is made of at most, in MiB, by default
/// (`compact --file-mib`). A partition with more is compacted into several
/// files; a file this big already is left as it is. Compacting takes about
/// ten times this in memory.
pub const FILE_MIB: u64 = 32;

/// What a compaction did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Partitions with files merged.
    pub partitions: usize,
    pub files_before: usize,
    pub files_after: usize,
    pub rows: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Files an interrupted run had left, removed first.
    pub leftovers_removed: usize,
    /// Commits folded into the checkpoint written at the end.
    pub commits_folded: usize,
}

/// The files to merge: in each partition, runs of files (in path order,
/// which is commit order) each under `max_bytes`, of at most `max_bytes`
/// together and of two files or more.
pub fn plan(files: &[&FileEntry], max_bytes: u64) -> Vec<(PartKey, Vec<FileEntry>)> {
    let mut by_partition: std::collections::BTreeMap<PartKey, Vec<&FileEntry>> =
        std::collections::BTreeMap::new();
    for f in files {
        let key = (f.account.clone(), f.region.clone(), f.date.clone());
        by_partition.entry(key).or_default().push(f);
    }
    let mut out = Vec::new();
    for (key, mut files) in by_partition {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut run: Vec<FileEntry> = Vec::new();
        let mut bytes = 0;
        let mut close = |run: &mut Vec<FileEntry>| {
            if run.len() > 1 {
                out.push((key.clone(), std::mem::take(run)));
            }
            run.clear();
        };
        for f in files {
            if f.bytes >= max_bytes {
                close(&mut run);
                bytes = 0;
                continue;
            }
            if bytes + f.bytes > max_bytes {
                close(&mut run);
                bytes = 0;
            }
            bytes += f.bytes;
            run.push(f.clone());
        }
        close(&mut run);
    }
    out
}

/// Merge the small files of each partition of the dataset at `dest` into
/// files of at most `max_bytes` of Parquet, a commit each.
pub async fn compact(dest: &Source, max_bytes: u64) -> Result<Summary> {
    // Checked before the lock, which would make the dataset's folder.
    if !dataset_at(dest).await? {
        return Err(Error::dataset(dest.display(), DatasetProblem::NotADataset));
    }
    if crate::dataset::kind_at(dest).await? == Some(Kind::Delta) {
        return compact_delta(dest, max_bytes).await;
    }
    let _lock = lock(dest)?;
    let mut dataset = Dataset::open_with_objects(dest).await?;
    let mut summary = Summary {
        leftovers_removed: remove_leftovers(&dataset).await?,
        ..Summary::default()
    };
    let files: Vec<&FileEntry> = dataset.files().collect();
    let plan = plan(&files, max_bytes);
    if plan.is_empty() && dataset.commits.len() < 2 {
        return Ok(summary);
    }
    if dataset.version < FORMAT_VERSION {
        // Before the first commit that replaces files or checkpoint: an
        // older trailsql would read the replaced files as well as their
        // replacement, or not know the checkpoint.
        write_info(dest, dataset.dedupe).await?;
        dataset.version = FORMAT_VERSION;
    }
    // Runs are read and merged several at a time (one per core); their
    // files are stored and their commits written in order.
    use futures::StreamExt;
    let first_seq = dataset.next_seq();
    let mut merged = std::pin::pin!(merges(dest, &dataset, first_seq, plan));
    let mut partitions = std::collections::BTreeSet::new();
    while let Some(run) = merged.next().await {
        let (seq, old, entry) = run?.store(dest, &mut summary, &mut partitions).await?;
        let commit = Commit {
            seq,
            objects: Vec::new(),
            files: vec![entry],
            unreadable: Vec::new(),
            duplicates: 0,
            replaces: old.iter().map(|f| f.path.clone()).collect(),
        };
        write_commit(dest, &commit).await?;
        dataset.commits.push(commit);
        for f in &old {
            dest.delete(&f.path).await?;
        }
    }
    summary.partitions = partitions.len();
    summary.commits_folded = checkpoint(&dataset).await?;
    Ok(summary)
}

/// Compact a Delta table: the merged files take the place of the small
/// ones in one commit (Delta's OPTIMIZE: no rows change), which also folds
/// the chain of objects files into one; then a Delta checkpoint, from
/// which readers start. The replaced files stay for earlier versions until
/// `trailsql vacuum` removes them. Another writer's commit in between is
/// caught up with (its objects join the fold), unless it removed files
/// this compaction replaces.
async fn compact_delta(dest: &Source, max_bytes: u64) -> Result<Summary> {
    let mut dataset = Dataset::open_with_objects(dest).await?;
    let mut summary = Summary::default();
    let files: Vec<&FileEntry> = dataset.files().collect();
    let plan = plan(&files, max_bytes);
    let chain_length = dataset.commits.len() - 1;
    if plan.is_empty() && chain_length < 2 {
        return Ok(summary);
    }
    use futures::StreamExt;
    let first_seq = dataset.next_seq();
    let mut merged = std::pin::pin!(merges(dest, &dataset, first_seq, plan));
    let (mut added, mut replaced) = (Vec::new(), Vec::new());
    let mut partitions = std::collections::BTreeSet::new();
    while let Some(run) = merged.next().await {
        let (_, old, entry) = run?.store(dest, &mut summary, &mut partitions).await?;
        added.push(entry);
        replaced.extend(old);
    }
    let mut state = dataset.delta.take().expect("a Delta dataset");
    let mut folded = fold(&dataset.commits);
    for _ in 0..5 {
        let operation = Operation::Compact {
            replaced: replaced.clone(),
            target: max_bytes,
        };
        let (appended, id) =
            delta::append(dest, &state.table, &added, folded, None, operation).await?;
        match appended {
            Appended::Committed(_) => {
                delta::refresh(dest, &mut state.table).await?;
                delta::checkpoint(dest, &state.table).await?;
                summary.partitions = partitions.len();
                summary.commits_folded = chain_length;
                return Ok(summary);
            }
            Appended::Conflict => {
                dest.delete(&delta::objects_path(id)).await?;
                delta::refresh(dest, &mut state.table).await?;
                let now: std::collections::HashSet<String> = delta::files(dest, &state.table)?
                    .into_iter()
                    .map(|f| f.path)
                    .collect();
                if let Some(gone) = replaced.iter().find(|f| !now.contains(&f.path)) {
                    return Err(Error::dataset(
                        dest.display(),
                        DatasetProblem::Refused(format!(
                            "{} was removed by another writer while this compaction ran; \
                             nothing was changed: run it again",
                            gone.path
                        )),
                    ));
                }
                let (_, chain) = delta::committed_objects(dest, &state.table).await?;
                let commits: Vec<Commit> = chain.into_iter().map(Commit::of_objects).collect();
                folded = fold(&commits);
            }
        }
    }
    Err(Error::dataset(
        dest.display(),
        DatasetProblem::Refused(
            "other writers committed before this compaction five times; run it again".into(),
        ),
    ))
}

impl Summary {
    /// The files `old` merged into `entry`.
    fn count(&mut self, old: &[FileEntry], entry: &FileEntry) {
        self.files_before += old.len();
        self.files_after += 1;
        self.rows += entry.rows;
        self.bytes_in += old.iter().map(|f| f.bytes).sum::<u64>();
        self.bytes_out += entry.bytes;
    }
}

/// The runs of `plan` merged, several at a time (one per core), in order;
/// the `n`th numbered `first_seq + n`.
fn merges<'a>(
    dest: &'a Source,
    dataset: &Dataset,
    first_seq: u64,
    plan: Vec<(PartKey, Vec<FileEntry>)>,
) -> impl futures::Stream<Item = Result<Merged>> + 'a {
    use futures::StreamExt;
    let stems: Vec<String> = (first_seq..)
        .take(plan.len())
        .map(|seq| dataset.file_stem(seq))
        .collect();
    futures::stream::iter((first_seq..).zip(stems).zip(plan))
        .map(move |((seq, stem), (key, old))| {
            let dest = dest.clone();
            let task = tokio::spawn(async move { merge(&dest, seq, &stem, key, old).await });
            async move {
                task.await
                    .map_err(|e| Error::Internal(format!("a compaction task failed: {e}")))?
            }
        })
        .buffered(groups_in_flight())
}

/// Every object of `commits` in one objects file.
fn fold(commits: &[Commit]) -> Objects {
    Objects {
        id: 0,
        previous: None,
        objects: commits
            .iter()
            .flat_map(|c| c.objects.iter().cloned())
            .collect(),
        unreadable: commits
            .iter()
            .flat_map(|c| c.unreadable.iter().cloned())
            .collect(),
        duplicates: commits.iter().map(|c| c.duplicates).sum(),
        written_ms: None,
    }
}

/// A merged file holds as many rows as the files it replaces.
fn check_rows(dest: &Source, old: &[FileEntry], entry: &FileEntry) -> Result<()> {
    let rows_before: u64 = old.iter().map(|f| f.rows).sum();
    if entry.rows == rows_before {
        return Ok(());
    }
    Err(Error::dataset(
        dest.display(),
        DatasetProblem::Damaged(format!(
            "compacting {} files read {} rows where their commits say {rows_before}; \
             their partition was left as it was",
            old.len(),
            entry.rows
        )),
    ))
}

/// Fold the dataset's commits into a checkpoint (the next number), then
/// remove the commits and objects files it holds: readers start from it.
/// Returns how many commits it holds.
async fn checkpoint(dataset: &Dataset) -> Result<usize> {
    let seq = dataset.next_seq();
    let folded = Commit {
        seq,
        objects: dataset
            .commits
            .iter()
            .flat_map(|c| c.objects.iter().cloned())
            .collect(),
        files: dataset.files().cloned().collect(),
        unreadable: dataset
            .commits
            .iter()
            .flat_map(|c| c.unreadable.iter().cloned())
            .collect(),
        duplicates: dataset.commits.iter().map(|c| c.duplicates).sum(),
        replaces: Vec::new(),
    };
    store_commit(&dataset.place, &folded, &checkpoint_path(seq)).await?;
    for c in &dataset.commits {
        // The commit (or older checkpoint) first: while it is there, its
        // objects file is not a leftover.
        for path in [
            commit_path(c.seq),
            checkpoint_path(c.seq),
            objects_path(c.seq),
        ] {
            dataset.place.delete(&path).await?;
        }
    }
    Ok(dataset.commits.len())
}

/// A run of files merged, not stored yet.
struct Merged {
    seq: u64,
    key: PartKey,
    old: Vec<FileEntry>,
    entry: FileEntry,
    bytes: Vec<u8>,
}

impl Merged {
    /// Check that the merged file holds the rows of those it replaces,
    /// store it and count it: its number, the files it replaces, its entry.
    async fn store(
        self,
        dest: &Source,
        summary: &mut Summary,
        partitions: &mut std::collections::BTreeSet<PartKey>,
    ) -> Result<(u64, Vec<FileEntry>, FileEntry)> {
        check_rows(dest, &self.old, &self.entry)?;
        dest.put(&self.entry.path, self.bytes).await?;
        partitions.insert(self.key);
        summary.count(&self.old, &self.entry);
        Ok((self.seq, self.old, self.entry))
    }
}

/// Read the files `old` of partition `key` and write their rows as one
/// file (in memory) for commit `seq`.
async fn merge(
    dest: &Source,
    seq: u64,
    stem: &str,
    key: PartKey,
    old: Vec<FileEntry>,
) -> Result<Merged> {
    let batches = read_files(dest, &old).await?;
    let rows: Vec<Row> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r)))
        .collect();
    let path = data_file_path(&key, stem, 0);
    let (key, (entry, bytes)) = tokio::task::spawn_blocking(move || {
        let written = parquet_file(&key, &path, &batches, rows);
        written.map(|w| (key, w))
    })
    .await
    .map_err(|e| Error::Internal(format!("a compaction task failed: {e}")))??;
    Ok(Merged {
        seq,
        key,
        old,
        entry,
        bytes,
    })
}

/// The rows of `files`, as written (the dataset's file schema).
async fn read_files(dest: &Source, files: &[FileEntry]) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    for f in files {
        batches.extend(read_file(dest, f, None).await?);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, date: &str, bytes: u64) -> FileEntry {
        FileEntry {
            path: path.into(),
            account: "1".into(),
            region: "r".into(),
            date: date.into(),
            rows: 1,
            bytes,
            min_ms: None,
            max_ms: None,
            event_names: None,
            written_ms: None,
            one_page: None,
        }
    }

    fn paths(plan: &[(PartKey, Vec<FileEntry>)]) -> Vec<Vec<&str>> {
        plan.iter()
            .map(|(_, files)| files.iter().map(|f| f.path.as_str()).collect())
            .collect()
    }

    #[test]
    fn runs_of_small_files_in_one_partition_are_merged() {
        let files = [
            file("d1/c", "d1", 10),
            file("d1/a", "d1", 10),
            file("d1/b", "d1", 10),
            file("d2/a", "d2", 10),
            file("d3/a", "d3", 10),
            file("d3/b", "d3", 10),
        ];
        let refs: Vec<&FileEntry> = files.iter().collect();
        // A partition of one file is left alone; files of a partition are
        // taken in path (commit) order.
        assert_eq!(
            paths(&plan(&refs, 100)),
            vec![vec!["d1/a", "d1/b", "d1/c"], vec!["d3/a", "d3/b"]]
        );
    }

    #[test]
    fn merged_files_stay_under_the_size_and_big_files_are_left_alone() {
        let files = [
            file("d/1", "d", 40),
            file("d/2", "d", 40),
            file("d/3", "d", 40),
            file("d/4", "d", 100),
            file("d/5", "d", 30),
            file("d/6", "d", 30),
            file("d/7", "d", 99),
        ];
        let refs: Vec<&FileEntry> = files.iter().collect();
        // 40+40 fit in 100, the third would not; 100 is big enough; 30+30
        // fit, 99 more would not, and alone it is a run of one.
        assert_eq!(
            paths(&plan(&refs, 100)),
            vec![vec!["d/1", "d/2"], vec!["d/5", "d/6"]]
        );
    }

    #[test]
    fn nothing_to_merge_is_an_empty_plan() {
        let files = [file("d1/a", "d1", 10), file("d2/a", "d2", 10)];
        let refs: Vec<&FileEntry> = files.iter().collect();
        assert!(plan(&refs, 100).is_empty());
        assert!(plan(&[], 100).is_empty());
    }
}
