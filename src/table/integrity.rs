//! `<source>_integrity` tables: the verifier's findings for every log file
//! of a raw archive, as rows a query can join to the events.
//!
//! Of trailsql it imports `archive`, `error`, `verify`, `window`.

use crate::archive::Source;
use crate::error::Result;
use crate::verify::{load_keys, verify, Finding, Kind};
use crate::window::Window;

/// `<source>_integrity` (`cloudtrail_integrity`): one row per log file of the
/// source, with its state, the digest that lists it and that digest's state,
/// computed by [`verify`] when the table is read. Its `log_object` is the
/// source table's, so a join shows which file every event came from and
/// whether that file is as CloudTrail wrote it.
#[derive(Debug)]
pub struct IntegrityTable {
    source: Source,
    keys: Option<std::path::PathBuf>,
    max_file_bytes: u64,
}

impl IntegrityTable {
    pub fn new(
        source: Source,
        keys: Option<std::path::PathBuf>,
        max_file_bytes: u64,
    ) -> IntegrityTable {
        IntegrityTable {
            source,
            keys,
            max_file_bytes,
        }
    }

    fn schema_ref() -> datafusion::arrow::datatypes::SchemaRef {
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        std::sync::Arc::new(Schema::new(vec![
            Field::new("log_object", DataType::Utf8, false),
            Field::new("state", DataType::Utf8, false),
            Field::new("digest", DataType::Utf8, true),
            Field::new("digest_state", DataType::Utf8, true),
            Field::new("detail", DataType::Utf8, false),
        ]))
    }

    async fn rows(&self) -> Result<datafusion::arrow::array::RecordBatch> {
        use datafusion::arrow::array::StringArray;
        use std::sync::Arc;
        let (keys, _) = load_keys(&self.source, self.keys.as_deref())?;
        let report = verify(&self.source, &keys, &Window::default(), self.max_file_bytes).await?;
        let digest_state = report.digest_states();
        let logs: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Log)
            .collect();
        let batch = datafusion::arrow::array::RecordBatch::try_new(
            Self::schema_ref(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    logs.iter().map(|f| f.file.as_str()),
                )),
                Arc::new(StringArray::from_iter_values(
                    logs.iter().map(|f| f.state.as_str()),
                )),
                Arc::new(StringArray::from_iter(
                    logs.iter().map(|f| f.digest.as_deref()),
                )),
                Arc::new(StringArray::from_iter(logs.iter().map(|f| {
                    f.digest
                        .as_deref()
                        .and_then(|d| digest_state.get(d))
                        .map(|s| s.as_str())
                }))),
                Arc::new(StringArray::from_iter_values(
                    logs.iter().map(|f| f.detail.as_str()),
                )),
            ],
        )
        .map_err(datafusion::error::DataFusionError::from)?;
        Ok(batch)
    }
}

#[async_trait::async_trait]
impl datafusion::catalog::TableProvider for IntegrityTable {
    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        Self::schema_ref()
    }

    fn table_type(&self) -> datafusion::datasource::TableType {
        datafusion::datasource::TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        filters: &[datafusion::logical_expr::Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>
    {
        let batch = self
            .rows()
            .await
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        let table =
            datafusion::datasource::MemTable::try_new(Self::schema_ref(), vec![vec![batch]])?;
        table.scan(state, projection, filters, limit).await
    }
}
