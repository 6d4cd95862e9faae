//! DataFusion table providers. [`CloudTrailTable`] serves a raw trail archive:
//! at scan time it lists the location, keeps the log files the query's filters
//! allow (see [`crate::archive::Prune`]), and streams decoded batches, several
//! files in flight per partition. Problems with single files are reported to the
//! shared [`Report`] and do not stop the query unless `strict` is set.

pub mod filters;
pub mod report;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::ExecutionPlan;
use futures::StreamExt;

use crate::archive::{local, LogFile, DEFAULT_LATE_DAYS};
use crate::record::decode::decode_projected;
use crate::record::{canonical_schema, DecodeOutcome, FileProblem};
pub use report::Report;

/// How a table reads.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Bad files and records are errors instead of warnings.
    pub strict: bool,
    /// See [`DEFAULT_LATE_DAYS`].
    pub late_days: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            strict: false,
            late_days: DEFAULT_LATE_DAYS,
        }
    }
}

/// A raw CloudTrail archive on the local file system.
#[derive(Debug)]
pub struct CloudTrailTable {
    root: PathBuf,
    options: ReadOptions,
    report: Arc<Report>,
}

impl CloudTrailTable {
    pub fn new(root: impl Into<PathBuf>, options: ReadOptions, report: Arc<Report>) -> Self {
        CloudTrailTable {
            root: root.into(),
            options,
            report,
        }
    }
}

#[async_trait]
impl TableProvider for CloudTrailTable {
    fn schema(&self) -> SchemaRef {
        canonical_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Filters only choose files; DataFusion still applies them to rows.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let prune = filters::prune_from(filters);
        let root = self.root.clone();
        let listing = tokio::task::spawn_blocking(move || local::list(&root))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))??;
        self.report.listed(&listing);
        let total = listing.logs.len();
        let mut files: Vec<LogFile> = listing
            .logs
            .into_iter()
            .filter(|f| {
                f.key
                    .as_ref()
                    .is_none_or(|k| prune.admits(k, self.options.late_days))
            })
            .collect();
        self.report.pruned(total - files.len());
        // Biggest first, so partitions finish at about the same time.
        files.sort_by(|a, b| b.size.cmp(&a.size).then(a.location.cmp(&b.location)));
        let n = state
            .config()
            .target_partitions()
            .max(1)
            .min(files.len().max(1));
        let mut parts: Vec<Vec<LogFile>> = vec![Vec::new(); n];
        for (i, f) in files.into_iter().enumerate() {
            parts[i % n].push(f);
        }
        let partitions: Vec<Arc<dyn PartitionStream>> = parts
            .into_iter()
            .map(|files| {
                Arc::new(FilesPartition {
                    files: Arc::new(files),
                    // --strict checks every value, so it decodes every column.
                    projection: projection
                        .filter(|_| !self.options.strict)
                        .cloned()
                        .map(Arc::new),
                    options: self.options.clone(),
                    report: self.report.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        let exec = StreamingTableExec::try_new(
            canonical_schema(),
            partitions,
            projection,
            vec![],
            false,
            limit,
        )?;
        Ok(Arc::new(exec))
    }
}

#[derive(Debug)]
struct FilesPartition {
    files: Arc<Vec<LogFile>>,
    /// Columns the query reads; the others are left NULL.
    projection: Option<Arc<Vec<usize>>>,
    options: ReadOptions,
    report: Arc<Report>,
}

/// Files decoded at the same time in one partition.
const FILES_IN_FLIGHT: usize = 2;

impl PartitionStream for FilesPartition {
    fn schema(&self) -> &SchemaRef {
        static_schema()
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let files = self.files.clone();
        let strict = self.options.strict;
        let report = self.report.clone();
        let projection = self.projection.clone();
        let stream = futures::stream::iter(0..files.len())
            .map(move |i| {
                let f = files[i].clone();
                let projection = projection.clone();
                tokio::task::spawn_blocking(move || {
                    let out = read_log_file(&f.location, projection.as_ref().map(|p| p.as_slice()));
                    (f, out)
                })
            })
            .buffered(FILES_IN_FLIGHT)
            .map(move |joined| -> Result<Vec<_>> {
                let (file, outcome) = joined.map_err(|e| DataFusionError::External(Box::new(e)))?;
                match outcome {
                    Ok(out) => {
                        report.file_read(&file.location, &out);
                        if strict {
                            if let Some(p) = out.skipped.first() {
                                return Err(DataFusionError::Execution(format!(
                                    "{}: record {}: {} (--strict)",
                                    file.location, p.index, p.reason
                                )));
                            }
                            if out.type_mismatches > 0 {
                                return Err(DataFusionError::Execution(format!(
                                    "{}: {} value(s) of an unexpected JSON type (--strict)",
                                    file.location, out.type_mismatches
                                )));
                            }
                        }
                        Ok(out.batches)
                    }
                    Err(problem) => {
                        if strict {
                            return Err(DataFusionError::Execution(format!(
                                "{}: {} (--strict)",
                                file.location, problem
                            )));
                        }
                        report.file_failed(&file.location, &problem);
                        Ok(vec![])
                    }
                }
            })
            .flat_map(|r| match r {
                Ok(batches) => {
                    futures::stream::iter(batches.into_iter().map(Ok).collect::<Vec<_>>())
                }
                Err(e) => futures::stream::iter(vec![Err(e)]),
            });
        Box::pin(RecordBatchStreamAdapter::new(canonical_schema(), stream))
    }
}

fn static_schema() -> &'static SchemaRef {
    static S: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
    S.get_or_init(canonical_schema)
}

/// Read, gunzip (detected by magic bytes, not the name) and decode one log
/// file, filling only the `projection` columns when given.
pub fn read_log_file(
    location: &str,
    projection: Option<&[usize]>,
) -> Result<DecodeOutcome, FileProblem> {
    let bytes = std::fs::read(location).map_err(|e| FileProblem(format!("cannot read: {e}")))?;
    let text = maybe_gunzip(bytes)?;
    decode_projected(&text, location, projection)
}

/// Inflate gzip data (magic `1f 8b`); other bytes are returned as they are.
pub fn maybe_gunzip(bytes: Vec<u8>) -> Result<Vec<u8>, FileProblem> {
    use std::io::Read;
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Ok(bytes);
    }
    // ISIZE trailer: uncompressed size mod 2^32, a good capacity hint.
    let hint = bytes
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes(bytes[at..].try_into().unwrap_or([0; 4])) as usize)
        .unwrap_or(0)
        .min(256 << 20);
    let mut out = Vec::with_capacity(hint);
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .map_err(|e| FileProblem(format!("corrupt or truncated gzip: {e}")))?;
    Ok(out)
}
