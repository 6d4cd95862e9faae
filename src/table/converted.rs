//! A converted dataset (`trailsql convert`) as the same table as its raw
//! archive: the canonical schema, the files its manifest names, pruned by the
//! query's limits on `eventtime`, `awsregion` and `recipientaccountid`
//! through the partition values and time span the manifest keeps for each
//! file, then by Parquet statistics, page index and bloom filters.
//!
//! Filters on the nested identity fields the files also keep as top-level
//! columns (`useridentity.arn` and so on) are given to the Parquet reader on
//! those columns, which it can prune by; DataFusion still applies every
//! filter as written to the rows.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result as DfResult};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::scalar::ScalarValue;

use crate::archive::Prune;
use crate::convert::{
    file_schema, Dataset, FileEntry, Place, BLOOM_COLUMNS, HOT_COLUMNS, NULL_PARTITION,
};
use crate::record::canonical_schema;
use crate::table::local_reads::InlineLocalReads;
use crate::table::{filters, Report};

#[derive(Debug)]
pub struct ConvertedTable {
    place: Place,
    report: Arc<Report>,
}

impl ConvertedTable {
    pub fn new(place: Place, report: Arc<Report>) -> Self {
        ConvertedTable { place, report }
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
    match e {
        Expr::Column(c) => names.contains(&c.name.as_str()),
        Expr::Cast(c) => is_column_in(&c.expr, names),
        _ => false,
    }
}

/// Whether `expr` (as [`for_files`] gives it) reads a hot column.
fn mentions_hot_column(expr: &Expr) -> bool {
    let hot: Vec<&str> = HOT_COLUMNS.iter().map(|(name, _, _)| *name).collect();
    expr.exists(|e| Ok(is_column_in(e, &hot))).unwrap_or(false)
}

/// Whether `expr` (as [`for_files`] gives it) compares a column that has bloom
/// filters with a value for equality, or to a list of values.
fn looks_up_bloom_column(expr: &Expr) -> bool {
    let bloom = |e: &Expr| is_column_in(e, BLOOM_COLUMNS);
    let value = |e: &Expr| {
        matches!(e, Expr::Literal(..))
            || matches!(e, Expr::Cast(c) if matches!(*c.expr, Expr::Literal(..)))
    };
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
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
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
        let dataset = Dataset::open(&self.place).await?;
        let prune = filters::prune_from(filters);
        let all: Vec<&FileEntry> = dataset.files().collect();
        let files: Vec<&FileEntry> = all.iter().copied().filter(|f| admits(f, &prune)).collect();
        use std::sync::atomic::Ordering::Relaxed;
        self.report
            .parquet_listed
            .fetch_add(all.len() as u64, Relaxed);
        self.report
            .parquet_pruned
            .fetch_add((all.len() - files.len()) as u64, Relaxed);

        let schema = file_schema();
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let usable: Vec<Expr> = filters
            .iter()
            .filter_map(|f| for_files(f).ok())
            .filter(|f| state.create_physical_expr(f.clone(), &df_schema).is_ok())
            .collect();
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
        let mut source = ParquetSource::new(schema.clone()).with_table_parquet_options(options);
        // Footers (and page indexes) read once per session: the next query
        // on the dataset does not parse them again. A file is known by its
        // path, size and the time it was written, which the manifest keeps.
        let url = self.place.scan_store(state.runtime_env())?;
        let store: Arc<dyn object_store::ObjectStore> = match self.place {
            Place::Local(_) => InlineLocalReads::new(),
            Place::S3(_) => state.runtime_env().object_store(&url)?,
        };
        let footers = state.runtime_env().cache_manager.get_file_metadata_cache();
        source = source.with_parquet_file_reader_factory(Arc::new(
            CachedParquetFileReaderFactory::new(store, footers),
        ));
        if let Some(predicate) = datafusion::logical_expr::utils::conjunction(hot) {
            source = source.with_predicate(state.create_physical_expr(predicate, &df_schema)?);
        }
        // Biggest first, dealt round the partitions.
        let mut sorted = files;
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
        let canonical = canonical_schema().fields().len();
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..canonical).collect(),
        };
        let config = FileScanConfigBuilder::new(url, Arc::new(source))
            .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
            .with_projection_indices(Some(columns))?
            .with_limit(limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
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
