//! DataFusion table providers. [`CloudTrailTable`] serves a raw trail archive:
//! at scan time it lists the location, keeps the log files the query's filters
//! allow (see [`crate::archive::Prune`]), and streams decoded batches through
//! the read pipeline ([`crate::read`]), several files in flight per partition.
//! Problems with single files are reported to the statement's [`Report`]
//! (see [`statement_report`]) and do not stop the query unless `strict` is set. [`converted`] serves a converted
//! dataset ([`crate::dataset`]) and [`integrity`] the `_integrity` tables
//! ([`crate::verify`]).
//!
//! It imports `archive`, `read`, `dataset`, `verify` and `record`; `session`
//! registers its providers.

pub mod converted;
pub mod filters;
pub mod integrity;
pub mod partitions;
pub mod sessions;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
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

use crate::archive::s3::S3Options;
use crate::archive::{LogFile, Source, DEFAULT_LATE_DAYS};
pub use crate::read::Report;
use crate::read::{chunks, decode_chunk};
use crate::record::decode::FileOutcome;
use crate::record::{canonical_schema, FileProblem};

/// How a table reads.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Bad files and records are errors instead of warnings.
    pub strict: bool,
    /// See [`DEFAULT_LATE_DAYS`].
    pub late_days: u64,
    /// The public keys for the `_integrity` tables (list-public-keys JSON);
    /// by default `public-keys.json` in the source folder, when there is one.
    pub public_keys: Option<PathBuf>,
    /// For `s3://` sources.
    pub s3: S3Options,
    /// A log file that holds more than this, inflated, is skipped unread
    /// (`--max-file-mib`).
    pub max_file_bytes: u64,
    /// When kept (for `--evidence`), every log file read is hashed into it
    /// as it is read.
    pub ledger: Option<Arc<crate::read::Ledger>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            strict: false,
            late_days: DEFAULT_LATE_DAYS,
            public_keys: None,
            s3: S3Options::default(),
            max_file_bytes: crate::read::DEFAULT_MAX_FILE_MIB << 20,
            ledger: None,
        }
    }
}

/// Chunks decoded at the same time in one partition.
const CHUNKS_IN_FLIGHT: usize = 2;

/// The [`Report`] of the statement a scan is part of, which
/// `Engine::start` keeps in the session's config. A scan planned outside an
/// engine counts into a report of its own that nobody reads.
pub fn statement_report(state: &dyn Session) -> Arc<Report> {
    state
        .config()
        .get_extension::<Report>()
        .unwrap_or_else(|| Arc::new(Report::new()))
}

/// A raw CloudTrail archive, local or in S3.
#[derive(Debug)]
pub struct CloudTrailTable {
    source: Source,
    options: ReadOptions,
}

impl CloudTrailTable {
    pub fn new(source: Source, options: ReadOptions) -> Self {
        CloudTrailTable { source, options }
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
        let report = statement_report(state);
        let started = std::time::Instant::now();
        let listing = self.source.list_for(&prune, self.options.late_days).await?;
        report.listed(&listing);
        // A whole listing without one log file: the wrong folder, most
        // likely, which must not pass for an archive with no matches. (A
        // pruned S3 listing may hold none because the limits rule all out.)
        if listing.logs.is_empty() && (self.source.local_path().is_some() || prune.is_empty()) {
            let msg = format!(
                "{} holds no CloudTrail log files (AWSLogs/<account>/CloudTrail/<region>/\
                 YYYY/MM/DD/<account>_CloudTrail_<region>_..._<id>.json.gz, an Event \
                 history file, or one log file)",
                self.source.display()
            );
            if self.options.strict {
                return Err(DataFusionError::Execution(format!("{msg} (--strict)")));
            }
            eprintln!("warning: {}", crate::output::escape_control(&msg));
        }
        report.listing_us.fetch_add(
            started.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
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
        report.pruned(total - files.len());
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
                    source: self.source.clone(),
                    chunks: chunks(&files),
                    files: Arc::new(files),
                    // --strict checks every value, so it decodes every column.
                    projection: projection
                        .filter(|_| !self.options.strict)
                        .cloned()
                        .map(Arc::new),
                    options: self.options.clone(),
                    report: report.clone(),
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

#[derive(Debug, Clone)]
struct FilesPartition {
    source: Source,
    files: Arc<Vec<LogFile>>,
    /// Runs of `files` decoded by one blocking task each.
    chunks: Vec<Range<usize>>,
    /// Columns the query reads; the others are left NULL.
    projection: Option<Arc<Vec<usize>>>,
    options: ReadOptions,
    report: Arc<Report>,
}

impl FilesPartition {
    /// Report each file of a decoded chunk; with --strict, the first problem is
    /// the query's error.
    fn check(
        &self,
        files: &[LogFile],
        outcomes: Vec<Result<FileOutcome, FileProblem>>,
    ) -> Result<()> {
        let source = self.options.ledger.as_ref().map(|_| self.source.display());
        for (file, outcome) in files.iter().zip(outcomes) {
            self.report.bytes(file.size);
            if let (Some(ledger), Some(source)) = (&self.options.ledger, &source) {
                match &outcome {
                    Err(problem) => ledger.problem(source, file, problem.to_string()),
                    Ok(out) if !out.skipped.is_empty() => {
                        let first = &out.skipped[0];
                        let why = format!(
                            "{} of its records could not be read (the first, record {}: {})",
                            out.skipped.len(),
                            first.index,
                            first.reason
                        );
                        ledger.problem(source, file, why);
                    }
                    Ok(_) => {}
                }
            }
            match outcome {
                Ok(out) => {
                    self.report.file_read(&file.location, &out);
                    if self.options.strict {
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
                }
                Err(problem) => {
                    if self.options.strict {
                        return Err(DataFusionError::Execution(format!(
                            "{}: {} (--strict)",
                            file.location, problem
                        )));
                    }
                    self.report.file_failed(&file.location, &problem);
                }
            }
        }
        Ok(())
    }
}

impl PartitionStream for FilesPartition {
    fn schema(&self) -> &SchemaRef {
        static_schema()
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let this = Arc::new(self.clone());
        let decoding = this.clone();
        let stream = futures::stream::iter(this.chunks.clone())
            .map(move |range| {
                let part = decoding.clone();
                async move {
                    // From S3 the chunk's objects are fetched at once (bounded
                    // by the source's permits), then decoded off the runtime.
                    let max_file = part.options.max_file_bytes;
                    let fetched = match part
                        .source
                        .fetch_run(&part.files[range.clone()], max_file)
                        .await
                    {
                        Ok(fetched) => fetched,
                        Err(e) => return Ok((range, Err(DataFusionError::from(e)))),
                    };
                    tokio::task::spawn_blocking(move || {
                        let projection = part.projection.as_ref().map(|p| p.as_slice());
                        let source = part.source.display();
                        let keep = part.options.ledger.as_deref().map(|l| (l, source.as_str()));
                        let outcome = decode_chunk(
                            &part.files[range.clone()],
                            fetched,
                            projection,
                            max_file,
                            keep,
                        );
                        (range, Ok(outcome))
                    })
                    .await
                }
            })
            .buffered(CHUNKS_IN_FLIGHT)
            .map(move |joined| -> Result<Vec<RecordBatch>> {
                let (range, decoded) =
                    joined.map_err(|e| DataFusionError::External(Box::new(e)))?;
                let (outcomes, batches) = decoded?;
                this.check(&this.files[range], outcomes)?;
                Ok(batches)
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
