//! A converted dataset (`trailsql convert`) as the same table as its raw
//! archive: the canonical schema, the files its manifest names, pruned by the
//! query's limits on `eventtime`, `awsregion` and `recipientaccountid`
//! through the partition values and time span the manifest keeps for each
//! file, then by Parquet statistics, page index and bloom filters.
//!
//! Filters on the nested identity fields the files also keep as top-level
//! columns (`useridentity.arn` and so on) are given to the Parquet reader on
//! those columns, which it can prune by; DataFusion still applies every
//! filter as written to the rows, except the limits on `eventtime`: the scan
//! applies those itself, to the files they cut through only. A file whose
//! whole time span they admit (the manifest keeps each file's earliest and
//! latest time) is read without them, and without its `eventtime` column
//! if the query does not show it.
//!
//! Of trailsql it imports `archive`, `dataset`, `record`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result as DfResult, Statistics};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::scalar::ScalarValue;

use crate::archive::{Prune, Source};
use crate::dataset::delta::AsOf;
use crate::dataset::{file_schema, Dataset, FileEntry, BLOOM_COLUMNS, HOT_COLUMNS, NULL_PARTITION};
use crate::record::canonical_schema;
use crate::table::{filters, statement_report};

#[derive(Debug)]
pub struct ConvertedTable {
    place: Source,
    /// The version of a Delta dataset to read (`--as-of`); else the newest.
    as_of: Option<AsOf>,
}

impl ConvertedTable {
    pub fn new(place: Source, as_of: Option<AsOf>) -> Self {
        ConvertedTable { place, as_of }
    }
}

/// Whether a file can hold events within `prune`'s limits.
fn admits(f: &FileEntry, prune: &Prune) -> bool {
    let in_set = |set: &Option<std::collections::BTreeSet<String>>, v: &str| {
        set.as_ref()
            .is_none_or(|s| v != NULL_PARTITION && s.contains(v))
    };
    if !in_set(&prune.accounts, &f.account) || !in_set(&prune.regions, &f.region) {
        return false;
    }
    if let (Some(wanted), Some(held)) = (&prune.event_names, &f.event_names) {
        if !held.iter().any(|n| wanted.contains(n)) {
            return false;
        }
    }
    if let (Some(from), Some(max)) = (prune.from_ms, f.max_ms) {
        if max < from {
            return false;
        }
    }
    if let (Some(to), Some(min)) = (prune.to_ms, f.min_ms) {
        if min > to {
            return false;
        }
    }
    // A file without times holds only rows whose eventtime is NULL, which
    // no time limit admits.
    f.min_ms.is_some() || (prune.from_ms.is_none() && prune.to_ms.is_none())
}

/// `expr` with nested identity fields read from their top-level copies and
/// columns unqualified (the Parquet files know no table names).
fn for_files(expr: &Expr) -> DfResult<Expr> {
    expr.clone()
        .transform(|e| {
            if let Expr::ScalarFunction(f) = &e {
                if f.func.name() == "get_field" {
                    if let [Expr::Column(parent), Expr::Literal(ScalarValue::Utf8(Some(field)), _)] =
                        f.args.as_slice()
                    {
                        if let Some((hot, _, _)) = HOT_COLUMNS
                            .iter()
                            .find(|(_, p, c)| *p == parent.name && c == field)
                        {
                            return Ok(Transformed::yes(Expr::Column(
                                datafusion::common::Column::new_unqualified(*hot),
                            )));
                        }
                    }
                }
            }
            if let Expr::Column(c) = &e {
                if c.relation.is_some() {
                    return Ok(Transformed::yes(Expr::Column(
                        datafusion::common::Column::new_unqualified(c.name.clone()),
                    )));
                }
            }
            Ok(Transformed::no(e))
        })
        .map(|t| t.data)
}

fn is_column_in(e: &Expr, names: &[&str]) -> bool {
    filters::column_name(e).is_some_and(|n| names.contains(&n))
}

/// Whether `expr` (as [`for_files`] gives it) reads a hot column.
fn mentions_hot_column(expr: &Expr) -> bool {
    let hot: Vec<&str> = HOT_COLUMNS.iter().map(|(name, _, _)| *name).collect();
    expr.exists(|e| Ok(matches!(e, Expr::Column(c) if hot.contains(&c.name.as_str()))))
        .unwrap_or(false)
}

/// Whether `expr` (as [`for_files`] gives it) compares a column that has bloom
/// filters with a value for equality, or to a list of values.
fn looks_up_bloom_column(expr: &Expr) -> bool {
    let bloom = |e: &Expr| is_column_in(e, BLOOM_COLUMNS);
    let value = |e: &Expr| filters::literal(e).is_some();
    expr.exists(|e| {
        Ok(match e {
            Expr::BinaryExpr(b) if b.op == datafusion::logical_expr::Operator::Eq => {
                (bloom(&b.left) && value(&b.right)) || (bloom(&b.right) && value(&b.left))
            }
            Expr::InList(l) => !l.negated && bloom(&l.expr),
            _ => false,
        })
    })
    .unwrap_or(false)
}

#[async_trait]
impl TableProvider for ConvertedTable {
    fn schema(&self) -> SchemaRef {
        canonical_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Limits on eventtime are applied here (only to the files they cut
        // through), the rest by DataFusion above the scan.
        Ok(filters
            .iter()
            .map(|f| match is_time_bound(f) {
                true => TableProviderFilterPushDown::Exact,
                false => TableProviderFilterPushDown::Inexact,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // The manifest as it is now: a conversion since the table was
        // registered shows.
        let dataset = Dataset::open_as_of(&self.place, self.as_of.as_ref()).await?;
        let prune = filters::prune_from(filters);
        let all: Vec<&FileEntry> = dataset.files().collect();
        let files: Vec<&FileEntry> = all.iter().copied().filter(|f| admits(f, &prune)).collect();
        use std::sync::atomic::Ordering::Relaxed;
        let report = statement_report(state);
        report.parquet_listed.fetch_add(all.len() as u64, Relaxed);
        report
            .parquet_pruned
            .fetch_add((all.len() - files.len()) as u64, Relaxed);

        let schema = file_schema();
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let usable: Vec<Expr> = filters
            .iter()
            .filter_map(|f| for_files(f).ok())
            .filter(|f| state.create_physical_expr(f.clone(), &df_schema).is_ok())
            .collect();
        // The limits on eventtime (Exact, see supports_filters_pushdown):
        // files whose whole time span they admit are read without them
        // (nor their eventtime column, unless the query wants it); the
        // others are filtered here.
        let time_bounds: Vec<Expr> = filters
            .iter()
            .filter(|f| is_time_bound(f))
            .map(for_files)
            .collect::<DfResult<_>>()?;
        let (covered, cut): (Vec<&FileEntry>, Vec<&FileEntry>) = match time_bounds.is_empty() {
            true => (files, Vec::new()),
            false => {
                let within = TimeBounds::new(state, &time_bounds)?;
                let mut covered = Vec::new();
                let mut cut = Vec::new();
                for f in files {
                    match within.admit_all_of(f)? {
                        true => covered.push(f),
                        false => cut.push(f),
                    }
                }
                (covered, cut)
            }
        };

        let canonical = canonical_schema();
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..canonical.fields().len()).collect(),
        };
        // The page index only where some file has pages to tell apart.
        let paged = covered.iter().chain(&cut).any(|f| f.one_page != Some(true));
        let scan = FileScan::new(&self.place, state, &usable, paged)?;
        let mut parts: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        if !covered.is_empty() || cut.is_empty() {
            parts.push(scan.plan(&covered, columns.clone(), limit)?);
        }
        if !cut.is_empty() {
            let eventtime = canonical.index_of("eventtime")?;
            let mut read = columns.clone();
            if !read.contains(&eventtime) {
                read.push(eventtime);
            }
            let input = scan.plan(&cut, read, None)?;
            let out_schema = DFSchema::try_from(input.schema().as_ref().clone())?;
            let predicate = datafusion::logical_expr::utils::conjunction(time_bounds)
                .expect("time bounds are not empty here");
            // Filtered, and back to the columns asked for, in their order.
            let filter =
                FilterExecBuilder::new(state.create_physical_expr(predicate, &out_schema)?, input)
                    .with_fetch(limit)
                    .apply_projection(Some((0..columns.len()).collect()))?
                    .build()?;
            parts.push(Arc::new(filter));
        }
        UnionExec::try_new(parts)
    }
}

/// The Parquet scan of some of a dataset's files: the source (reader,
/// options, predicate) and the store made once per query, for each part.
struct FileScan<'a> {
    place: &'a Source,
    state: &'a dyn Session,
    url: datafusion::execution::object_store::ObjectStoreUrl,
    source: ParquetSource,
}

impl<'a> FileScan<'a> {
    /// `usable`: the query's filters, for the files (see [`for_files`]);
    /// `paged`: whether a file may have more than one page in a column
    /// chunk with statistics.
    fn new(
        place: &'a Source,
        state: &'a dyn Session,
        usable: &[Expr],
        paged: bool,
    ) -> DfResult<Self> {
        let schema = file_schema();
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        // DataFusion gives the scan the filters it applies above it too (for
        // statistics), so only those it cannot give, on the top-level copies
        // of identity fields, are added here: each conjunct once, not
        // evaluated twice per row group and page.
        let hot: Vec<Expr> = usable
            .iter()
            .filter(|e| mentions_hot_column(e))
            .cloned()
            .collect();
        // Bloom filters answer only "= value" and "IN (...)": without such a
        // filter on a column that has them, a file's are not read.
        let mut options = state.table_options().parquet.clone();
        options.global.bloom_filter_on_read &= usable.iter().any(looks_up_bloom_column);
        // A file whose columns are one page each (most: a page holds up to
        // 20,000 rows) has a page index that repeats its row groups'
        // statistics: reading and decoding it was 6 of an aggregate's 75 ms.
        options.global.enable_page_index &= paged;
        let mut source = ParquetSource::new(schema).with_table_parquet_options(options);
        // Footers (and page indexes) read once per session: the next query
        // on the dataset does not parse them again. A file is known by its
        // path, size and the time it was written, which the manifest keeps.
        let (url, store) = place.scan_store(state.runtime_env())?;
        let footers = state.runtime_env().cache_manager.get_file_metadata_cache();
        source = source.with_parquet_file_reader_factory(Arc::new(
            CachedParquetFileReaderFactory::new(store, footers),
        ));
        if let Some(predicate) = datafusion::logical_expr::utils::conjunction(hot) {
            source = source.with_predicate(state.create_physical_expr(predicate, &df_schema)?);
        }
        Ok(FileScan {
            place,
            state,
            url,
            source,
        })
    }

    fn plan(
        &self,
        files: &[&FileEntry],
        columns: Vec<usize>,
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let state = self.state;
        // Biggest first, dealt round the partitions.
        let mut sorted = files.to_vec();
        sorted.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        let n = state
            .config()
            .target_partitions()
            .max(1)
            .min(sorted.len().max(1));
        let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); n];
        for (i, f) in sorted.iter().enumerate() {
            let mut file = PartitionedFile::new(self.place.scan_path(&f.path)?, f.bytes);
            if let Some(written) = f
                .written_ms
                .and_then(chrono::DateTime::from_timestamp_millis)
            {
                file.object_meta.last_modified = written;
            }
            groups[i % n].push(file);
        }
        let config = FileScanConfigBuilder::new(self.url.clone(), Arc::new(self.source.clone()))
            .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
            .with_projection_indices(Some(columns))?
            .with_statistics(manifest_statistics(&file_schema(), files)?)
            .with_limit(limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

/// What the manifest knows of `files` for sure: their rows, and the
/// earliest and latest `eventtime`. With no filter left to apply to them,
/// DataFusion answers `count(*)`, `min(eventtime)` and `max(eventtime)`
/// from these without opening a file.
fn manifest_statistics(schema: &SchemaRef, files: &[&FileEntry]) -> DfResult<Statistics> {
    let mut stats = Statistics::new_unknown(schema);
    stats.num_rows = Precision::Exact(files.iter().map(|f| f.rows as usize).sum());
    let tz = Some(Arc::from(crate::record::schema::UTC));
    let time =
        |ms: Option<i64>| Precision::Exact(ScalarValue::TimestampMillisecond(ms, tz.clone()));
    // Files without times hold only NULL eventtimes, which min and max skip.
    let min = files.iter().filter_map(|f| f.min_ms).min();
    let max = files.iter().filter_map(|f| f.max_ms).max();
    if min.is_some() && max.is_some() {
        let at = schema.index_of("eventtime")?;
        stats.column_statistics[at].min_value = time(min);
        stats.column_statistics[at].max_value = time(max);
    }
    Ok(stats)
}

/// Whether `filter` limits `eventtime` by a value: `eventtime` (the column
/// itself, not a cast of it) compared by `<`, `<=`, `>` or `>=` with an
/// expression of no column, or `BETWEEN` two such. Such a limit holds for
/// every time of a file if it holds for the file's earliest and latest.
fn is_time_bound(filter: &Expr) -> bool {
    use datafusion::logical_expr::{Between, BinaryExpr, Operator};
    let time = |e: &Expr| matches!(e, Expr::Column(c) if c.name == "eventtime");
    let value = |e: &Expr| e.column_refs().is_empty() && !e.is_volatile();
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            matches!(
                op,
                Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
            ) && ((time(left) && value(right)) || (value(left) && time(right)))
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => time(expr) && value(low) && value(high),
        _ => false,
    }
}

/// The time limits of a query, as DataFusion evaluates them.
struct TimeBounds {
    limits: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
}

impl TimeBounds {
    fn new(state: &dyn Session, bounds: &[Expr]) -> DfResult<Self> {
        let file = file_schema();
        let schema: SchemaRef = Arc::new(datafusion::arrow::datatypes::Schema::new(vec![file
            .field_with_name("eventtime")?
            .clone()]));
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let limits = bounds
            .iter()
            .map(|b| state.create_physical_expr(b.clone(), &df_schema))
            .collect::<DfResult<_>>()?;
        Ok(TimeBounds { limits, schema })
    }

    /// Whether every row of `f` is within the limits: true at the file's
    /// earliest and latest time, and no row without a time (those are all
    /// in the NULL date partition).
    fn admit_all_of(&self, f: &FileEntry) -> DfResult<bool> {
        use datafusion::arrow::array::{Array, AsArray, TimestampMillisecondArray};
        let (Some(min), Some(max)) = (f.min_ms, f.max_ms) else {
            return Ok(false);
        };
        if f.date == NULL_PARTITION {
            return Ok(false);
        }
        let times = TimestampMillisecondArray::from(vec![min, max]).with_timezone("UTC");
        let batch = datafusion::arrow::array::RecordBatch::try_new(
            self.schema.clone(),
            vec![Arc::new(times)],
        )?;
        for limit in &self.limits {
            let got = limit.evaluate(&batch)?.into_array(2)?;
            let got = got.as_boolean();
            if got.null_count() > 0 || got.true_count() != 2 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn bloom_filters_are_read_for_equality_and_lists_on_their_columns_only() {
        let yes = [
            col("eventname").eq(lit("DeleteTable")),
            lit("1.2.3.4").eq(col("sourceipaddress")),
            col("eventid").in_list(vec![lit("a"), lit("b")], false),
            col("eventtime")
                .gt(lit(1))
                .and(col("useridentity_arn").eq(lit("arn:x"))),
        ];
        for e in &yes {
            assert!(looks_up_bloom_column(e), "{e}");
        }
        let no = [
            col("errorcode").is_not_null(),
            col("eventtime").gt_eq(lit(1)),
            col("awsregion").eq(lit("us-east-1")),
            col("eventname").not_eq(lit("GetObject")),
            col("eventname").in_list(vec![lit("a")], true),
            col("eventname").eq(col("eventsource")),
        ];
        for e in &no {
            assert!(!looks_up_bloom_column(e), "{e}");
        }
    }

    #[test]
    fn time_bounds_are_comparisons_of_eventtime_itself_with_a_value() {
        use datafusion::arrow::datatypes::DataType;
        let t = || col("eventtime");
        for e in [
            t().gt_eq(lit("2025-10-01")),
            t().lt(lit(5)),
            lit("2025-10-01").lt_eq(t()),
            t().between(lit(1), lit(2)),
            t().gt(datafusion::functions::datetime::expr_fn::now()),
        ] {
            assert!(is_time_bound(&e), "{e}");
        }
        for e in [
            t().eq(lit("2025-10-01")),
            t().not_between(lit(1), lit(2)),
            datafusion::logical_expr::cast(t(), DataType::Utf8).gt(lit("2025")),
            t().gt(col("other")),
            t().gt(datafusion::functions::math::expr_fn::random()),
            col("eventname").gt(lit("a")),
            t().gt(lit(1)).or(t().lt(lit(0))),
        ] {
            assert!(!is_time_bound(&e), "{e}");
        }
    }

    #[test]
    fn only_filters_on_the_hot_columns_are_added_to_the_scan() {
        let nested = datafusion::functions::core::expr_fn::get_field(col("useridentity"), "arn")
            .eq(lit("arn:x"));
        assert!(mentions_hot_column(&for_files(&nested).unwrap()));
        assert!(!mentions_hot_column(
            &for_files(&col("eventname").eq(lit("x"))).unwrap()
        ));
        assert!(!mentions_hot_column(&nested));
    }
}
