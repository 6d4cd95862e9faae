//! A Delta table's current files, read from its log without delta-rs: what
//! a query needs, in a few milliseconds. delta-rs's kernel replays the log
//! through Arrow and JSON decoders built for any table (45-60 ms a process
//! on the bench's table, more than the query itself); this reads the newest
//! checkpoint's `add`, `metaData` and `protocol` columns and the commits
//! after it, and keeps every file added and not removed since.
//!
//! Only the logs it fully understands: the reader protocol version 1 (no
//! column mapping, deletion vectors or other reader features), a classic
//! single-file checkpoint (or none) and every commit after it. Anything
//! else is
//! [`Log::Other`], which the caller reads with delta-rs (time travel and
//! writers always do).

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::{Array, AsArray, MapArray, StructArray};
use datafusion::arrow::datatypes::{Int32Type, Int64Type};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ProjectionMask;
use serde::Deserialize;

use super::delta::{
    commit_version, file_entry, log_file_version, problem, DEDUPE_PROPERTY, LOG_DIR,
};
use super::FileEntry;
use crate::archive::Source;
use crate::error::{DatasetProblem, Error, Result};

/// What the log at a place holds.
#[derive(Debug)]
pub enum Log {
    /// No Delta log there.
    Absent,
    /// The table as its newest version has it.
    Read(Snapshot),
    /// A table whose log uses what this reader leaves to delta-rs (why).
    Other(String),
}

/// A table's newest version: its files (in path order) and whether it was
/// made with `--dedupe`.
#[derive(Debug)]
pub struct Snapshot {
    pub version: i64,
    pub files: Vec<FileEntry>,
    pub dedupe: bool,
}

/// The log files a version is read from.
#[derive(Debug, PartialEq)]
struct Plan {
    version: i64,
    checkpoint: Option<String>,
    commits: Vec<String>,
}

/// Which files to read for the newest version, given the names in
/// `_delta_log/`: the newest classic checkpoint and every commit after it
/// (all commits when there is none; other checkpoints are not read, so
/// their commits must be there). Err: why this reader cannot.
fn plan(names: &[String]) -> std::result::Result<Option<Plan>, String> {
    let mut commits = BTreeMap::new();
    let mut checkpoints = BTreeMap::new();
    for name in names {
        if let Some(v) = commit_version(name) {
            commits.insert(v, name.clone());
        } else if let Some(v) = log_file_version(name, ".checkpoint.parquet") {
            checkpoints.insert(v, name.clone());
        }
    }
    let newest_commit = commits.keys().next_back().copied();
    let checkpoint = checkpoints.pop_last();
    let version = match (newest_commit, &checkpoint) {
        (None, None) => return Ok(None),
        (c, k) => c.max(k.as_ref().map(|k| k.0)).expect("one of them"),
    };
    let from = checkpoint.as_ref().map_or(0, |k| k.0 + 1);
    let mut wanted = Vec::new();
    for v in from..=version {
        match commits.remove(&v) {
            Some(name) => wanted.push(name),
            None => return Err(format!("commit {v} is not in the log")),
        }
    }
    Ok(Some(Plan {
        version,
        checkpoint: checkpoint.map(|k| k.1),
        commits: wanted,
    }))
}

/// One line of a commit file, with the actions this reader uses (the
/// others, `commitInfo` and `txn` among them, are skipped).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    add: Option<AddLine>,
    remove: Option<RemoveLine>,
    meta_data: Option<MetaLine>,
    protocol: Option<ProtocolLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddLine {
    path: String,
    #[serde(default)]
    partition_values: HashMap<String, Option<String>>,
    size: i64,
    modification_time: i64,
    stats: Option<String>,
    tags: Option<HashMap<String, Option<String>>>,
    deletion_vector: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct RemoveLine {
    path: String,
}

#[derive(Deserialize)]
struct MetaLine {
    #[serde(default)]
    configuration: HashMap<String, Option<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProtocolLine {
    min_reader_version: i32,
}

/// The table being replayed: live files by the path the log names them
/// with.
struct Replay<'a> {
    place: &'a Source,
    files: HashMap<String, FileEntry>,
    dedupe: bool,
    reader_version: i32,
    /// Why the log is left to delta-rs, once known.
    other: Option<String>,
}

impl Replay<'_> {
    fn add(&mut self, add: AddLine) -> Result<()> {
        if add.deletion_vector.is_some() {
            self.other = Some(format!("{} has a deletion vector", add.path));
            return Ok(());
        }
        let tags = add.tags.unwrap_or_default();
        let entry = file_entry(
            self.place,
            super::delta::percent_decode(&add.path),
            |c| add.partition_values.get(c).cloned().flatten(),
            add.size,
            add.modification_time,
            add.stats.as_deref(),
            |name| tags.get(name).cloned().flatten(),
        )?;
        self.files.insert(add.path, entry);
        Ok(())
    }

    fn configuration(&mut self, configuration: &HashMap<String, Option<String>>) {
        self.dedupe = configuration
            .get(DEDUPE_PROPERTY)
            .is_some_and(|v| v.as_deref() == Some("true"));
    }

    fn commit(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        for line in bytes.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line: Line = serde_json::from_slice(line)
                .map_err(|e| problem(self.place, format!("{name}: {e}")))?;
            if let Some(p) = line.protocol {
                self.reader_version = p.min_reader_version;
            }
            if let Some(m) = line.meta_data {
                self.configuration(&m.configuration);
            }
            if let Some(r) = line.remove {
                self.files.remove(&r.path);
            }
            if let Some(a) = line.add {
                self.add(a)?;
            }
        }
        Ok(())
    }

    /// The live files, metadata and protocol of a checkpoint (its removes
    /// are tombstones of files no longer in it: nothing to replay).
    fn checkpoint(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let damaged = |e: &dyn std::fmt::Display| problem(self.place, format!("{name}: {e}"));
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .map_err(|e| damaged(&e))?;
        let wanted = ["add", "metaData", "protocol", "sidecar"];
        let roots: Vec<usize> = builder
            .parquet_schema()
            .root_schema()
            .get_fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| wanted.contains(&f.name()))
            .map(|(i, _)| i)
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(8192)
            .build()
            .map_err(|e| damaged(&e))?;
        for batch in reader {
            let batch = batch.map_err(|e| damaged(&e))?;
            let column = |n: &str| batch.column_by_name(n).and_then(|c| c.as_struct_opt());
            if column("sidecar").is_some_and(|s| s.null_count() < s.len()) {
                self.other = Some(format!("{name} names sidecar files"));
                return Ok(());
            }
            if let Some(p) = column("protocol") {
                let version = p
                    .column_by_name("minReaderVersion")
                    .and_then(|c| c.as_primitive_opt::<Int32Type>());
                for i in (0..p.len()).filter(|&i| p.is_valid(i)) {
                    self.reader_version = version.map_or(i32::MAX, |v| v.value(i));
                }
            }
            if let Some(m) = column("metaData") {
                let configuration = m
                    .column_by_name("configuration")
                    .and_then(|c| c.as_map_opt());
                for i in (0..m.len()).filter(|&i| m.is_valid(i)) {
                    if let Some(c) = configuration {
                        self.configuration(&map_at(c, i));
                    }
                }
            }
            if let Some(add) = column("add") {
                self.checkpoint_adds(name, add)?;
            }
        }
        Ok(())
    }

    fn checkpoint_adds(&mut self, name: &str, add: &StructArray) -> Result<()> {
        let damaged = |what: &str| {
            problem(
                self.place,
                format!("{name}: the add column has no {what} of the expected type"),
            )
        };
        let strings = |n: &str| add.column_by_name(n).and_then(|c| c.as_string_opt::<i32>());
        let longs = |n: &str| {
            add.column_by_name(n)
                .and_then(|c| c.as_primitive_opt::<Int64Type>())
        };
        let maps = |n: &str| add.column_by_name(n).and_then(|c| c.as_map_opt());
        let path = strings("path").ok_or_else(|| damaged("path"))?;
        let size = longs("size").ok_or_else(|| damaged("size"))?;
        let modified = longs("modificationTime").ok_or_else(|| damaged("modificationTime"))?;
        let partitions = maps("partitionValues").ok_or_else(|| damaged("partitionValues"))?;
        let stats = strings("stats");
        let tags = maps("tags");
        let vectors = add.column_by_name("deletionVector");
        for i in (0..add.len()).filter(|&i| add.is_valid(i)) {
            let map_or_empty = |m: Option<&MapArray>| match m {
                Some(m) if m.is_valid(i) => map_at(m, i),
                _ => HashMap::new(),
            };
            self.add(AddLine {
                path: path.value(i).to_string(),
                partition_values: map_or_empty(Some(partitions)),
                size: size.value(i),
                modification_time: modified.value(i),
                stats: stats
                    .filter(|s| s.is_valid(i))
                    .map(|s| s.value(i).to_string()),
                tags: Some(map_or_empty(tags)),
                deletion_vector: vectors
                    .filter(|v| v.is_valid(i))
                    .map(|_| serde::de::IgnoredAny),
            })?;
        }
        Ok(())
    }
}

/// Row `i` of a map of strings to strings.
fn map_at(map: &MapArray, i: usize) -> HashMap<String, Option<String>> {
    let entries = map.value(i);
    let (Some(keys), Some(values)) = (
        entries.column(0).as_string_opt::<i32>(),
        entries.column(1).as_string_opt::<i32>(),
    ) else {
        return HashMap::new();
    };
    (0..entries.len())
        .map(|j| {
            let value = values.is_valid(j).then(|| values.value(j).to_string());
            (keys.value(j).to_string(), value)
        })
        .collect()
}

/// The newest version of the Delta table at `place`, read from its log.
pub async fn read(place: &Source) -> Result<Log> {
    for attempt in 1.. {
        let names = place.list_under(&format!("{LOG_DIR}/")).await?;
        let plan = match plan(&names) {
            Ok(Some(plan)) => plan,
            Ok(None) => return Ok(Log::Absent),
            Err(why) => return Ok(Log::Other(why)),
        };
        let mut wanted = plan.commits.clone();
        wanted.extend(plan.checkpoint.iter().cloned());
        let mut read: HashMap<String, Option<Vec<u8>>> =
            place.read_many(wanted).await?.into_iter().collect();
        if read.values().any(Option::is_none) {
            // Gone between the listing and the read: the log was cleaned up
            // after a newer checkpoint. Again.
            if attempt < 5 {
                continue;
            }
            return Err(Error::dataset(place.display(), DatasetProblem::Changing));
        }
        let mut replay = Replay {
            place,
            files: HashMap::new(),
            dedupe: false,
            reader_version: 0,
            other: None,
        };
        if let Some(name) = &plan.checkpoint {
            let bytes = read.remove(name).flatten().expect("read above");
            replay.checkpoint(name, bytes)?;
        }
        for name in &plan.commits {
            if replay.other.is_some() {
                break;
            }
            let bytes = read.remove(name).flatten().expect("read above");
            replay.commit(name, &bytes)?;
        }
        if replay.other.is_none() && replay.reader_version != 1 {
            replay.other = Some(format!("reader protocol version {}", replay.reader_version));
        }
        if let Some(why) = replay.other {
            return Ok(Log::Other(why));
        }
        let mut files: Vec<FileEntry> = replay.files.into_values().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        return Ok(Log::Read(Snapshot {
            version: plan.version,
            files,
            dedupe: replay.dedupe,
        }));
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| format!("{LOG_DIR}/{n}")).collect()
    }

    const C0: &str = "00000000000000000000.json";
    const C1: &str = "00000000000000000001.json";
    const C2: &str = "00000000000000000002.json";
    const K1: &str = "00000000000000000001.checkpoint.parquet";

    #[test]
    fn plans_the_newest_checkpoint_and_the_commits_after_it() {
        let log = |l: &[&str]| plan(&names(l));
        assert_eq!(log(&[]), Ok(None));
        assert_eq!(log(&["_last_checkpoint"]), Ok(None));
        assert_eq!(
            log(&[C0, C1, C2]).unwrap().unwrap(),
            Plan {
                version: 2,
                checkpoint: None,
                commits: names(&[C0, C1, C2])
            }
        );
        // Commits before the checkpoint, cleaned up or not, are not read.
        for listed in [
            &[C0, C1, K1, C2][..],
            &[K1, C2],
            &[C1, K1, C2, "_last_checkpoint"],
        ] {
            assert_eq!(
                log(listed).unwrap().unwrap(),
                Plan {
                    version: 2,
                    checkpoint: Some(names(&[K1])[0].clone()),
                    commits: names(&[C2])
                },
                "{listed:?}"
            );
        }
        assert_eq!(log(&[K1]).unwrap().unwrap().version, 1);
    }

    #[test]
    fn leaves_logs_it_does_not_understand_to_delta_rs() {
        let log = |l: &[&str]| plan(&names(l));
        assert!(log(&[C0, C2]).unwrap_err().contains("commit 1"));
        assert!(log(&[C1, C2]).unwrap_err().contains("commit 0"));
        // Multi-part and V2 checkpoints are not read: only with the commits
        // they stand for.
        let multi = "00000000000000000001.checkpoint.0000000001.0000000002.parquet";
        let v2 = "00000000000000000001.checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json";
        for other in [multi, v2] {
            assert_eq!(log(&[C0, C1, C2, other]).unwrap().unwrap().commits.len(), 3);
            assert!(log(&[other, C2]).unwrap_err().contains("commit 0"));
        }
    }

    #[tokio::test]
    async fn reads_adds_and_removes_and_refuses_reader_features() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_DIR);
        std::fs::create_dir(&log).unwrap();
        let add = |path: &str, rows: u64| {
            format!(
                r#"{{"add":{{"path":"{path}","partitionValues":{{"account":"1","region":"r","date":"2026-12-01"}},"size":10,"modificationTime":5,"dataChange":true,"stats":"{{\"numRecords\":{rows}}}","tags":{{"trailsql.eventNames":"[\"A\"]"}}}}}}"#
            )
        };
        let protocol =
            |v: i32| format!(r#"{{"protocol":{{"minReaderVersion":{v},"minWriterVersion":2}}}}"#);
        let meta = r#"{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{}","partitionColumns":[],"configuration":{"trailsql.dedupe":"true"}}}"#;
        std::fs::write(
            log.join(C0),
            [
                protocol(1),
                meta.to_string(),
                add("a%20b.parquet", 3),
                add("c.parquet", 4),
            ]
            .join("\n"),
        )
        .unwrap();
        std::fs::write(
            log.join(C1),
            [
                r#"{"commitInfo":{"operation":"OPTIMIZE"}}"#.to_string(),
                r#"{"remove":{"path":"c.parquet","dataChange":false}}"#.to_string(),
                add("d.parquet", 4),
            ]
            .join("\n"),
        )
        .unwrap();
        let place = Source::Local(dir.path().to_path_buf());
        let Log::Read(snapshot) = read(&place).await.unwrap() else {
            panic!("read")
        };
        assert_eq!(snapshot.version, 1);
        assert!(snapshot.dedupe);
        let files: Vec<(&str, u64)> = snapshot
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.rows))
            .collect();
        assert_eq!(files, [("a b.parquet", 3), ("d.parquet", 4)]);
        assert_eq!(snapshot.files[0].event_names, Some(vec!["A".to_string()]));
        assert_eq!(snapshot.files[0].account, "1");

        std::fs::write(log.join(C2), protocol(3)).unwrap();
        let other = read(&place).await.unwrap();
        assert!(
            matches!(&other, Log::Other(why) if why.contains("reader protocol version 3")),
            "{other:?}"
        );
        let vector = r#"{"add":{"path":"e.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"x","sizeInBytes":1,"cardinality":1}}}"#;
        std::fs::write(log.join(C2), [protocol(3), vector.to_string()].join("\n")).unwrap();
        let other = read(&place).await.unwrap();
        assert!(
            matches!(&other, Log::Other(why) if why.contains("e.parquet has a deletion vector")),
            "{other:?}"
        );
    }
}
