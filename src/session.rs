//! Builds the DataFusion session trailsql queries run in: the registered
//! archives (`cloudtrail` and its Athena name `cloudtrail_logs`, plus named
//! sources), `CREATE EXTERNAL TABLE ... STORED AS CLOUDTRAIL`, and our SQL
//! functions. The shell, `-e`, `-f` and stdin all run statements through
//! [`Engine::start`], which gives each statement its own [`Report`] (what it
//! listed, pruned, read and skipped) and its rows as a stream.
//!
//! It imports `table`, `read`, `dataset`, `functions`, `record`, `output`
//! (the CSV cell guard) and `progress`; `console` and the commands above it
//! use it.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, RecordBatchOptions, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::common::ParamValues;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{CreateExternalTable, LogicalPlan};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use futures::{StreamExt, TryStreamExt};

use crate::archive::Source;
use crate::error::Result;
use crate::read::Report;
use crate::table::converted::ConvertedTable;
use crate::table::integrity::IntegrityTable;
use crate::table::sessions::SessionsTable;
use crate::table::{CloudTrailTable, ReadOptions};

/// Name of the default table, and the name AWS's Athena documentation uses.
pub const DEFAULT_TABLE: &str = "cloudtrail";
pub const ATHENA_TABLE: &str = "cloudtrail_logs";

/// Athena's table: the default source with Athena's partition columns,
/// read from each row's log file key (`table::partitions`).
fn athena_view() -> String {
    format!(
        "CREATE VIEW \"{ATHENA_TABLE}\" AS SELECT *, {} FROM \"{DEFAULT_TABLE}\"",
        crate::table::partitions::view_columns()
    )
}

/// The `_events` view's `origin`, `origin_type` and `origin_path`: who is
/// behind the call, through any temporary key (`table::sessions`).
/// Computed only when a query reads them.
fn origin_columns(name: &str) -> String {
    let f = crate::table::sessions::KEY_ORIGIN;
    let name = name.replace('\'', "''");
    format!(
        "{f}('{name}', useridentity, 'origin') AS origin, \
         {f}('{name}', useridentity, 'origin_type') AS origin_type, \
         {f}('{name}', useridentity, 'origin_path') AS origin_path"
    )
}

/// The columns a `NAME_events` view adds to every column of its source: the
/// standard columns saved queries return first, each defined once here.
/// `actor` is who made the call: the ARN, else the user name, the service
/// that acted, the principal id or the identity type.
pub const STANDARD_COLUMNS: &str = "recipientaccountid AS account, \
    awsregion AS region, \
    coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, \
             useridentity.principalid, useridentity.type) AS actor, \
    sourceipaddress AS source_ip, \
    eventsource AS event_source, \
    eventname AS event_name, \
    errorcode AS error_code, \
    useragent AS user_agent, \
    useridentity.accesskeyid AS access_key_id, \
    eventid AS event_id";

/// The whole result of one statement (a clone shares its batches).
#[derive(Clone)]
pub struct StatementResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// One statement running: its columns, its rows as they come, and what it
/// has read so far.
pub struct Running {
    pub schema: SchemaRef,
    pub stream: SendableRecordBatchStream,
    /// This statement's counters, complete once the stream has ended.
    pub report: Arc<Report>,
    /// The progress line while it runs; dropping it clears the line
    /// (before rows go to the terminal).
    pub progress: Option<crate::progress::Progress>,
}

impl Running {
    /// Every row, gathered.
    pub async fn collect(self) -> Result<StatementResult> {
        let batches = self.stream.try_collect().await?;
        Ok(StatementResult {
            schema: self.schema,
            batches,
        })
    }
}

impl StatementResult {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// The name a person expects for an unaliased field access: DataFusion names
/// `userIdentity.userName` `cloudtrail.useridentity[username]`; Athena shows
/// `username`. Other names are kept.
pub fn display_name(name: &str) -> Option<&str> {
    let open = name.find('[')?;
    let head = &name[..open];
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !head.split('.').all(ident) || !name.ends_with(']') {
        return None;
    }
    let last = &name[name.rfind('[')? + 1..name.len() - 1];
    // Every part after the head must be [..] groups.
    let rest = &name[open..];
    let well_formed = rest
        .split_inclusive(']')
        .all(|g| g.starts_with('[') && g.ends_with(']') && !g[1..g.len() - 1].contains('['));
    (well_formed && ident(last)).then_some(last)
}

pub(crate) fn display_schema(schema: &datafusion::arrow::datatypes::Schema) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match display_name(f.name()) {
            Some(n) => Arc::new(f.as_ref().clone().with_name(n)),
            None => f.clone(),
        })
        .collect();
    Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

/// A `COPY ... TO` a CSV file gets its text cells guarded as `-o` does
/// (`output::formula_safe`): a projection over its input puts a leading
/// `'` before a cell a spreadsheet would run as a formula. Other formats
/// and partition columns (folder names) are left as they are.
fn guard_csv_copy(plan: &mut datafusion::logical_expr::LogicalPlan) -> Result<()> {
    use datafusion::logical_expr::{cast, Expr, LogicalPlanBuilder};
    let datafusion::logical_expr::LogicalPlan::Copy(copy) = plan else {
        return Ok(());
    };
    if !copy.file_type.get_ext().eq_ignore_ascii_case("csv") {
        return Ok(());
    }
    let udf = Arc::new(csv_cell_udf());
    let input = copy.input.as_ref().clone();
    let exprs: Vec<Expr> = input
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(datafusion::common::Column::new(
                qualifier.cloned(),
                field.name(),
            ));
            let text = matches!(
                field.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            );
            if text && !copy.partition_by.contains(field.name()) {
                udf.call(vec![cast(column, DataType::Utf8)])
                    .alias(field.name())
            } else {
                column
            }
        })
        .collect();
    copy.input = Arc::new(LogicalPlanBuilder::from(input).project(exprs)?.build()?);
    Ok(())
}

/// The guard of one CSV text cell, as a function the plan can call.
fn csv_cell_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::AsArray;
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        "trailsql_csv_cell",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let cells = arrays[0].as_string::<i32>();
            let guarded: StringArray = cells
                .iter()
                .map(|v| v.map(|v| crate::output::formula_safe(v).unwrap_or_else(|| v.to_string())))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(guarded)))
        }),
    )
}

/// `COPY ... TO` a local path that is a device or a FIFO is refused: the
/// file writer stages a file beside it and renames that over it, which
/// would replace the device itself (`/dev/null` when run as root).
fn refuse_copy_over_device(plan: &datafusion::logical_expr::LogicalPlan) -> Result<()> {
    let datafusion::logical_expr::LogicalPlan::Copy(copy) = plan else {
        return Ok(());
    };
    let url = copy.output_url.as_str();
    if url.contains("://") || !crate::output::not_a_file(std::path::Path::new(url)) {
        return Ok(());
    }
    Err(crate::error::Error::Usage(format!(
        "COPY TO {url}: not a regular file (a device or a FIFO), which COPY would \
         replace; give a file, or run the query with -o {url}"
    )))
}

/// Where a `COPY ... TO 'FILE'` writes before its file is whole.
struct Aside {
    aside: std::path::PathBuf,
    dest: std::path::PathBuf,
}

/// A `COPY ... TO` one local file is written aside (`.NAME.partial` beside
/// it) and renamed over it once whole, so a COPY that fails leaves no empty
/// or partial file where its output should be (S3 completes an upload only
/// when it is whole; a folder of partitions is written file by file).
fn write_aside(plan: &mut datafusion::logical_expr::LogicalPlan) -> Option<Aside> {
    let datafusion::logical_expr::LogicalPlan::Copy(copy) = plan else {
        return None;
    };
    let url = copy.output_url.as_str();
    if !copy.partition_by.is_empty() || url.ends_with('/') || url.contains("://") {
        return None;
    }
    let dest = std::path::PathBuf::from(url);
    let name = dest.file_name()?.to_str()?;
    if crate::output::not_a_file(&dest) {
        // Refused by `refuse_copy_over_device` before it gets here.
        return None;
    }
    if dest.is_dir() || !name.contains('.') {
        // DataFusion writes a folder of files for a name without extension.
        return None;
    }
    let aside = dest.with_file_name(format!(".{name}.partial"));
    copy.output_url = aside.to_str()?.to_string();
    Some(Aside { aside, dest })
}

impl Aside {
    fn finish(self, done: DfResult<Vec<RecordBatch>>) -> Result<Vec<RecordBatch>> {
        let moved = done.map_err(crate::error::Error::from).and_then(|batches| {
            std::fs::rename(&self.aside, &self.dest)
                .map_err(|e| crate::error::Error::io(&self.dest, e))?;
            Ok(batches)
        });
        if moved.is_err() {
            let _ = std::fs::remove_file(&self.aside);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn field_access_names_like_athena() {
        assert_eq!(
            display_name("cloudtrail.useridentity[username]"),
            Some("username")
        );
        assert_eq!(
            display_name("useridentity[sessioncontext][sessionissuer][arn]"),
            Some("arn")
        );
        assert_eq!(
            display_name("cloudtrail.resources[Int64(1)][arn]"),
            Some("arn")
        );
        assert_eq!(display_name("cloudtrail.resources[Int64(1)]"), None);
        assert_eq!(display_name("count(*)"), None);
        assert_eq!(display_name("eventname"), None);
        assert_eq!(display_name("json_extract(a[b])"), None);
    }
}

/// A short type name for `\\d`: structs say `struct` (their fields follow
/// as rows of their own), lists of structs name their fields.
fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Timestamp(_, Some(tz)) => format!("timestamp ({tz})"),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::List(item) | DataType::LargeList(item) => match item.data_type() {
            DataType::Struct(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                format!("list<struct<{}>>", names.join(", "))
            }
            other => format!("list<{}>", type_name(other)),
        },
        DataType::Dictionary(_, v) => type_name(v),
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// A session with trailsql's tables and functions.
pub struct Engine {
    pub ctx: SessionContext,
    options: ReadOptions,
    progress: crate::progress::ProgressMode,
    /// `COPY ... TO` a CSV file writes text cells as they are (`--csv-raw`,
    /// the shell's `\csvraw`), not guarded against spreadsheet formulas.
    csv_raw: std::sync::atomic::AtomicBool,
    /// `--geoip` databases were given.
    geoip: std::sync::atomic::AtomicBool,
    /// `--as-of`: the version of Delta datasets registered as sources.
    as_of: Option<crate::dataset::delta::AsOf>,
}

#[derive(Debug)]
struct CloudTrailFactory {
    options: ReadOptions,
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
        let source = Source::open(location, &self.options.s3)
            .await
            .map_err(DataFusionError::from)?;
        if crate::dataset::dataset_at(&source)
            .await
            .map_err(DataFusionError::from)?
        {
            return Ok(Arc::new(ConvertedTable::new(source, None)));
        }
        Ok(Arc::new(CloudTrailTable::new(source, self.options.clone())))
    }
}

impl Engine {
    /// When to show a progress line while statements run (`--progress`).
    pub fn with_progress(mut self, mode: crate::progress::ProgressMode) -> Engine {
        self.progress = mode;
        self
    }

    pub fn new(options: ReadOptions) -> Engine {
        let config = SessionConfig::new().with_information_schema(true);
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        state.table_factories_mut().insert(
            "CLOUDTRAIL".to_string(),
            Arc::new(CloudTrailFactory {
                options: options.clone(),
            }),
        );
        let ctx = SessionContext::new_with_state(state);
        crate::functions::register_all(&ctx);
        ctx.register_udf(crate::table::partitions::udf());
        ctx.register_udf(crate::table::sessions::origin_udf(Default::default()));
        Engine {
            ctx,
            options,
            progress: Default::default(),
            csv_raw: Default::default(),
            geoip: Default::default(),
            as_of: None,
        }
    }

    /// Read Delta datasets given as sources as they were at `as_of`.
    pub fn with_as_of(mut self, as_of: Option<crate::dataset::delta::AsOf>) -> Engine {
        self.as_of = as_of;
        self
    }

    /// Answer `geoip_country` and the others from these MaxMind-format
    /// databases, asked in turn.
    pub fn use_geoip(&self, paths: &[std::path::PathBuf]) -> Result<()> {
        let databases =
            crate::functions::geoip::Databases::open(paths).map_err(crate::error::Error::Usage)?;
        for udf in crate::functions::geoip::udfs(Arc::new(databases)) {
            self.ctx.register_udf(udf);
        }
        self.geoip
            .store(!paths.is_empty(), std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Whether `--geoip` databases were given.
    pub fn has_geoip(&self) -> bool {
        self.geoip.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `COPY ... TO` a CSV file writes text cells exactly as they are.
    pub fn set_csv_raw(&self, raw: bool) {
        self.csv_raw
            .store(raw, std::sync::atomic::Ordering::Relaxed);
    }

    /// Register the archive at `path` as table `name` (and, for the default
    /// table, its Athena name too), with its `NAME_events` view and
    /// `NAME_integrity` table.
    pub async fn register_source(&self, name: &str, path: &str) -> Result<()> {
        let source = Source::open(path, &self.options.s3).await?;
        // A converted dataset: the same table from its Parquet files. Its
        // digests are the raw archive's, so it has no _integrity table.
        let raw = source.clone();
        let kind = crate::dataset::kind_at(&source).await?;
        if self.as_of.is_some() && kind != Some(crate::dataset::Kind::Delta) {
            return Err(crate::error::Error::Usage(format!(
                "{}: --as-of reads a Delta dataset (`trailsql convert` makes \
                 one); this source keeps no versions",
                source.display()
            )));
        }
        let (table, integrity): (Arc<dyn TableProvider>, _) = match kind.is_some() {
            true => (
                Arc::new(ConvertedTable::new(source, self.as_of.clone())),
                None,
            ),
            false => (
                Arc::new(CloudTrailTable::new(source.clone(), self.options.clone())),
                Some(IntegrityTable::new(
                    source,
                    self.options.public_keys.clone(),
                    self.options.max_file_bytes,
                )),
            ),
        };
        self.ctx.register_table(name, table.clone())?;
        let archive = integrity.is_some().then_some(raw);
        self.ctx.register_table(
            format!("{name}_sessions"),
            Arc::new(SessionsTable::new(table, archive)),
        )?;
        if name == DEFAULT_TABLE {
            self.ctx.sql(&athena_view()).await?;
        }
        if let Some(integrity) = integrity {
            self.ctx
                .register_table(format!("{name}_integrity"), Arc::new(integrity))?;
        }
        self.ctx
            .sql(&format!(
                "CREATE VIEW \"{name}_events\" AS SELECT *, {STANDARD_COLUMNS}, {} FROM \"{name}\"",
                origin_columns(name)
            ))
            .await?;
        Ok(())
    }

    /// A session like this one (the same functions and tables) in which
    /// `cloudtrail`, its Athena name and its `_events` view read `table`:
    /// where a one-pass run (`pass`) plans its statements.
    pub async fn with_default_table(
        &self,
        table: Arc<dyn TableProvider>,
    ) -> Result<SessionContext> {
        let config = self.ctx.state().config().clone();
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        let ctx = SessionContext::new_with_state(state);
        crate::functions::register_all(&ctx);
        ctx.register_udf(crate::table::partitions::udf());
        // The same store of origins and the same --geoip databases.
        let copied = std::iter::once(crate::table::sessions::KEY_ORIGIN)
            .chain(crate::functions::geoip::names());
        for name in copied {
            let udf = datafusion::execution::FunctionRegistry::udf(&self.ctx, name)?;
            ctx.register_udf(udf.as_ref().clone());
        }
        let events = format!("{DEFAULT_TABLE}_events");
        let ours = [DEFAULT_TABLE, ATHENA_TABLE, events.as_str()];
        if let Some(schema) = self
            .ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
        {
            for name in schema.table_names() {
                if ours.contains(&name.as_str()) {
                    continue;
                }
                if let Some(t) = schema.table(&name).await? {
                    ctx.register_table(name.as_str(), t)?;
                }
            }
        }
        ctx.register_table(DEFAULT_TABLE, table)?;
        ctx.sql(&athena_view()).await?;
        ctx.sql(&format!(
            "CREATE VIEW \"{events}\" AS SELECT *, {STANDARD_COLUMNS}, {} FROM \"{DEFAULT_TABLE}\"",
            origin_columns(DEFAULT_TABLE)
        ))
        .await?;
        Ok(ctx)
    }

    /// `\\d TABLE`: every column and nested field with its type.
    pub async fn describe(&self, table: &str) -> Result<StatementResult> {
        let provider = self.ctx.table_provider(table).await?;
        let paths = crate::record::schema::field_paths(provider.schema().fields());
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("column", DataType::Utf8, false),
            datafusion::arrow::datatypes::Field::new("type", DataType::Utf8, false),
        ]));
        let names = StringArray::from_iter_values(paths.iter().map(|(p, _)| p.as_str()));
        let types = StringArray::from_iter_values(paths.iter().map(|(_, t)| type_name(t)));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(names), Arc::new(types)])
            .map_err(DataFusionError::from)?;
        Ok(StatementResult {
            schema,
            batches: vec![batch],
        })
    }

    /// The statements of `sql`, parsed, with Athena's syntax read as
    /// Athena reads it (`dialect`).
    pub fn parse(sql: &str) -> Result<Vec<Statement>> {
        let sql = crate::dialect::angle_bracket_types(sql);
        let mut statements: Vec<Statement> = DFParser::parse_sql(&sql)?.into_iter().collect();
        for stmt in statements.iter_mut() {
            crate::dialect::athena_syntax(stmt).map_err(DataFusionError::Plan)?;
        }
        Ok(statements)
    }

    /// The plans of `statements`, made on every core; nothing is run.
    pub async fn plans(&self, statements: Vec<Statement>) -> Vec<Result<LogicalPlan>> {
        let planning: Vec<_> = statements
            .into_iter()
            .map(|stmt| {
                let state = self.ctx.state();
                tokio::spawn(async move { state.statement_to_plan(stmt).await })
            })
            .collect();
        let mut plans = Vec::new();
        for handle in planning {
            plans.push(match handle.await {
                Ok(planned) => planned.map_err(Into::into),
                Err(e) => Err(crate::error::Error::Internal(format!(
                    "planning a statement stopped: {e}"
                ))),
            });
        }
        plans
    }

    /// Refuse `plan` unless it only reads: no `COPY ... TO`, no `CREATE`,
    /// `INSERT`, `DROP`, no `SET` (DataFusion's [`SQLOptions`] checks the
    /// plan, subqueries included). For SQL written by others (saved query
    /// packs).
    ///
    /// [`SQLOptions`]: datafusion::execution::context::SQLOptions
    pub fn only_reads(plan: &LogicalPlan) -> Result<()> {
        let options = datafusion::execution::context::SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        Ok(options.verify_plan(plan)?)
    }

    /// How its sources read.
    pub fn read_options(&self) -> &ReadOptions {
        &self.options
    }

    /// Start one statement, with values for its `$name` placeholders. The
    /// values replace the placeholders before planning goes on, so a
    /// parameter limiting `eventtime` prunes files like a literal does.
    /// The statement gets a [`Report`] of its own, which the tables it
    /// scans count into (they find it in the session's config).
    pub async fn start(&self, stmt: Statement, params: Option<&ParamValues>) -> Result<Running> {
        let report = Arc::new(Report::new());
        let progress = crate::progress::Progress::start(report.clone(), self.progress);
        let mut state = self.ctx.state();
        state.config_mut().set_extension(report.clone());
        let mut plan = state.statement_to_plan(stmt).await?;
        if let Some(params) = params {
            plan = plan.replace_params_with_values(params)?;
        }
        crate::table::sessions::ensure_origins(&plan, &state).await?;
        if !self.csv_raw.load(std::sync::atomic::Ordering::Relaxed) {
            guard_csv_copy(&mut plan)?;
        }
        refuse_copy_over_device(&plan)?;
        let aside = write_aside(&mut plan);
        // DDL (a view, an external table) changes the context here; what
        // is left to run is planned with this statement's state.
        let (_, plan) = self.ctx.execute_logical_plan(plan).await?.into_parts();
        let df = DataFrame::new(state, plan);
        let schema = display_schema(df.schema().as_arrow());
        let renamed = schema.clone();
        let stream = match aside {
            None => df.execute_stream().await?,
            Some(aside) => {
                // COPY's result is its row count: run it here, and move
                // the file into place only when it is whole.
                let out_schema = df.schema().inner().clone();
                let done = aside.finish(df.collect().await)?;
                Box::pin(RecordBatchStreamAdapter::new(
                    out_schema,
                    futures::stream::iter(done.into_iter().map(Ok)),
                ))
            }
        };
        // Same columns under the display names.
        let stream = stream.map(move |b| -> DfResult<RecordBatch> {
            let b = b?;
            let rows = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
            Ok(RecordBatch::try_new_with_options(
                renamed.clone(),
                b.columns().to_vec(),
                &rows,
            )?)
        });
        Ok(Running {
            stream: Box::pin(RecordBatchStreamAdapter::new(schema.clone(), stream)),
            schema,
            report,
            progress: Some(progress),
        })
    }

    /// Run every statement in `sql`, returning each whole result in order.
    pub async fn run(&self, sql: &str) -> Result<Vec<StatementResult>> {
        self.run_with(sql, None).await
    }

    /// [`Engine::run`] with values for the statements' placeholders.
    pub async fn run_with(
        &self,
        sql: &str,
        params: Option<&ParamValues>,
    ) -> Result<Vec<StatementResult>> {
        let mut out = Vec::new();
        for stmt in Engine::parse(sql)? {
            out.push(self.start(stmt, params).await?.collect().await?);
        }
        Ok(out)
    }
}
