//! Builds the DataFusion session trailsql queries run in: the registered
//! archives (`cloudtrail` and its Athena name `cloudtrail_logs`, plus named
//! sources), `CREATE EXTERNAL TABLE ... STORED AS CLOUDTRAIL`, and our SQL
//! functions. The shell, `-e`, `-f` and stdin all run statements through
//! [`Engine::run`].

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::CreateExternalTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::DFParser;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::table::{CloudTrailTable, ReadOptions, Report};

/// Name of the default table, and the name AWS's Athena documentation uses.
pub const DEFAULT_TABLE: &str = "cloudtrail";
pub const ATHENA_TABLE: &str = "cloudtrail_logs";

/// The result of one statement.
pub struct StatementResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl StatementResult {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// A session with trailsql's tables and functions.
pub struct Engine {
    pub ctx: SessionContext,
    pub report: Arc<Report>,
    options: ReadOptions,
}

#[derive(Debug)]
struct CloudTrailFactory {
    options: ReadOptions,
    report: Arc<Report>,
}

#[async_trait]
impl TableProviderFactory for CloudTrailFactory {
    async fn create(
        &self,
        _state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> DfResult<Arc<dyn TableProvider>> {
        let [location] = cmd.locations.as_slice() else {
            return Err(DataFusionError::Plan(
                "STORED AS CLOUDTRAIL takes one LOCATION".into(),
            ));
        };
        let path = Path::new(location);
        check_source(path).map_err(DataFusionError::from)?;
        Ok(Arc::new(CloudTrailTable::new(
            path,
            self.options.clone(),
            self.report.clone(),
        )))
    }
}

fn check_source(path: &Path) -> Result<()> {
    if path.to_string_lossy().starts_with("s3://") {
        return Err(Error::Usage(format!(
            "{}: S3 locations are not supported yet; copy the archive locally (aws s3 sync) and point at the folder",
            path.display()
        )));
    }
    std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    Ok(())
}

impl Engine {
    pub fn new(options: ReadOptions) -> Engine {
        let report = Arc::new(Report::new());
        let config = SessionConfig::new().with_information_schema(true);
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        state.table_factories_mut().insert(
            "CLOUDTRAIL".to_string(),
            Arc::new(CloudTrailFactory {
                options: options.clone(),
                report: report.clone(),
            }),
        );
        let ctx = SessionContext::new_with_state(state);
        crate::functions::register_all(&ctx);
        Engine {
            ctx,
            report,
            options,
        }
    }

    /// Register the archive at `path` as table `name` (and, for the default
    /// table, its Athena name too).
    pub fn register_source(&self, name: &str, path: &str) -> Result<()> {
        let p = Path::new(path);
        check_source(p)?;
        let table: Arc<dyn TableProvider> = Arc::new(CloudTrailTable::new(
            p,
            self.options.clone(),
            self.report.clone(),
        ));
        self.ctx.register_table(name, table.clone())?;
        if name == DEFAULT_TABLE {
            self.ctx.register_table(ATHENA_TABLE, table)?;
        }
        Ok(())
    }

    /// Run every statement in `sql`, returning each result in order.
    pub async fn run(&self, sql: &str) -> Result<Vec<StatementResult>> {
        let statements = DFParser::parse_sql(sql).map_err(DataFusionError::from)?;
        let mut out = Vec::new();
        for stmt in statements {
            let state = self.ctx.state();
            let plan = state.statement_to_plan(stmt).await?;
            let df = self.ctx.execute_logical_plan(plan).await?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut stream = df.execute_stream().await?;
            let mut batches = Vec::new();
            while let Some(b) = stream.next().await {
                batches.push(b?);
            }
            out.push(StatementResult { schema, batches });
        }
        Ok(out)
    }
}
