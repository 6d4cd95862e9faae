//! One pass over the archive for many statements (`hunt`, `run`): every
//! statement is planned in a session where `cloudtrail` (its Athena name
//! and its `_events` view) is a *tap*, then the archive is scanned once and
//! each batch it gives goes to every tap. Each statement runs as it would
//! alone (filters, aggregations, windows and joins are its own plan); only
//! the scan under it is shared, so each log file is fetched, inflated and
//! decoded once however many statements there are.
//!
//! Memory: each statement gets a bounded queue (the scan waits for the
//! slowest), so the pass holds what its statements hold, as each would
//! alone. A statement that reads `cloudtrail` more than once (a self-join,
//! a CTE used twice) could need one read whole before the other starts:
//! it is not shared but runs after the pass on a scan of its own, as it
//! would by itself.
//!
//! Of trailsql it imports `session`, `table` (reading filters as limits),
//! `archive` (the limits), `read` (the report) and
//! `error`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, RecordBatchOptions, UInt32Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ParamValues};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion::sql::parser::Statement;
use futures::StreamExt;
use tokio::sync::{mpsc, Semaphore};

use crate::archive::Prune;
use crate::error::{Error, Result};
use crate::read::Report;
use crate::session::{Engine, StatementResult, DEFAULT_TABLE};

/// Batches a statement that reads the archive once may have waiting.
const QUEUE: usize = 4;

/// What a pass gave: each statement's result, in the order given, and
/// what the one scan read.
pub struct Together {
    pub results: Vec<Result<StatementResult>>,
    /// What the one scan read, then what each statement that read the
    /// archive on its own read.
    pub reports: Vec<Arc<Report>>,
}

/// Run `statements` (each with values for its placeholders) over the
/// archive in one scan of `cloudtrail`. The scan is limited to what the
/// statements' own filters ask for, together (the earliest start, the
/// latest end, every region, account and event name any asks for), so it
/// prunes files as the widest of them would alone.
pub async fn run_together(
    engine: &Engine,
    statements: Vec<(Statement, Option<ParamValues>)>,
) -> Result<Together> {
    // Without a default table (only named sources) nothing is shared:
    // each statement reads what it names.
    let real = engine.ctx.table_provider(DEFAULT_TABLE).await.ok();
    let tap = Arc::new(TapTable {
        schema: real
            .as_ref()
            .map(|r| r.schema())
            .unwrap_or_else(|| Arc::new(datafusion::arrow::datatypes::Schema::empty())),
        taps: Mutex::new(Vec::new()),
    });
    let ctx = match real {
        Some(_) => engine.with_default_table(tap.clone()).await?,
        None => engine.ctx.clone(),
    };
    let mut state = ctx.state();
    state.config_mut().set_extension(Arc::new(Report::new()));
    // Plan every statement, on every core; each scan of `cloudtrail` adds
    // a tap, marked with its statement. One that scans it twice (a
    // self-join) could need one read whole before the other starts: it
    // runs alone after the pass, as it would by itself.
    let planning: Vec<_> = statements
        .into_iter()
        .enumerate()
        .map(|(i, (stmt, params))| {
            let mut state = state.clone();
            state.config_mut().set_extension(Arc::new(Owner(i)));
            tokio::spawn(async move {
                let planned = async {
                    let mut plan = state.statement_to_plan(stmt.clone()).await?;
                    if let Some(params) = &params {
                        plan = plan.replace_params_with_values(params)?;
                    }
                    crate::table::sessions::ensure_origins(&plan, &state).await?;
                    Ok::<_, Error>(state.create_physical_plan(&plan).await?)
                }
                .await;
                (stmt, params, planned)
            })
        })
        .collect();
    let mut plans = Vec::new();
    for (i, handle) in planning.into_iter().enumerate() {
        let (stmt, params, planned) = handle
            .await
            .map_err(|e| Error::Internal(format!("planning a statement stopped: {e}")))?;
        plans.push(match planned {
            Ok(_) if tap.count(i) > 1 => {
                tap.forget(i);
                Planned::Alone(stmt, params)
            }
            Ok(plan) => Planned::Shared(plan),
            Err(e) => {
                // Its scans, if planning got that far, read nothing.
                tap.forget(i);
                Planned::Failed(e)
            }
        });
    }
    let task = state.task_ctx();
    let running: Vec<_> = plans
        .into_iter()
        .map(|planned| match planned {
            Planned::Shared(plan) => {
                let task = task.clone();
                let schema = crate::session::display_schema(&plan.schema());
                let handle = tokio::spawn(async move {
                    let stream = datafusion::physical_plan::execute_stream(plan, task)?;
                    futures::TryStreamExt::try_collect::<Vec<_>>(stream).await
                });
                Running::Shared(schema, handle)
            }
            Planned::Alone(stmt, params) => Running::Alone(stmt, params),
            Planned::Failed(e) => Running::Failed(e),
        })
        .collect();
    // A failed scan is every statement's failure: say it once, as itself.
    let mut reports = vec![feed(engine, &tap).await?];
    let mut results = Vec::new();
    for r in running {
        results.push(match r {
            Running::Failed(e) => Err(e),
            Running::Shared(schema, handle) => match handle.await {
                Err(joined) => Err(Error::Internal(format!("a statement stopped: {joined}"))),
                Ok(Err(e)) => Err(e.into()),
                Ok(Ok(batches)) => Ok(StatementResult {
                    batches: batches
                        .into_iter()
                        .map(|b| rename(&schema, b))
                        .collect::<Result<_>>()?,
                    schema,
                }),
            },
            Running::Alone(stmt, params) => match engine.start(stmt, params.as_ref()).await {
                Err(e) => Err(e),
                Ok(running) => {
                    reports.push(running.report.clone());
                    running.collect().await
                }
            },
        });
    }
    Ok(Together { results, reports })
}

/// A statement, planned.
enum Planned {
    /// Over the taps, to run in the pass.
    Shared(Arc<dyn ExecutionPlan>),
    /// Reading the archive more than once: to run on its own.
    Alone(Statement, Option<ParamValues>),
    Failed(Error),
}

/// A statement, started.
enum Running {
    Shared(
        SchemaRef,
        tokio::task::JoinHandle<DfResult<Vec<RecordBatch>>>,
    ),
    Alone(Statement, Option<ParamValues>),
    Failed(Error),
}

/// The batch under the display names of `schema`.
fn rename(schema: &SchemaRef, b: RecordBatch) -> Result<RecordBatch> {
    let rows = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
    Ok(
        RecordBatch::try_new_with_options(schema.clone(), b.columns().to_vec(), &rows)
            .map_err(DataFusionError::from)?,
    )
}

/// The one scan: every column some tap reads, each batch cut and queued
/// for every tap still reading. When the scan fails, each tap ends with an
/// error (no statement finishes on part of the archive) and the scan's
/// error is returned.
async fn feed(engine: &Engine, tap: &TapTable) -> Result<Arc<Report>> {
    let taps = std::mem::take(&mut *tap.taps.lock().expect("taps"));
    if taps.is_empty() {
        // No statement reads the archive.
        return Ok(Arc::new(Report::new()));
    }
    let mut report = None;
    let outcome = async {
        let mut columns: Vec<usize> = taps.iter().flat_map(|t| t.columns.clone()).collect();
        columns.sort_unstable();
        columns.dedup();
        if taps.iter().any(|t| t.route.is_some()) {
            // Read the calls whatever else is read: routing needs them.
            for name in ["eventsource", "eventname"] {
                if let Ok(i) = tap.schema.index_of(name) {
                    columns.push(i);
                }
            }
            columns.sort_unstable();
            columns.dedup();
        }
        if columns.is_empty() {
            // Statements that only count rows still need the rows.
            columns.push(0);
        }
        let names: Vec<String> = columns
            .iter()
            .map(|&i| format!("\"{}\"", tap.schema.field(i).name()))
            .collect();
        let sql = format!(
            "SELECT {} FROM {DEFAULT_TABLE} WHERE {}true",
            names.join(", "),
            limits(&taps)
        );
        let stmt = Engine::parse(&sql)?
            .pop()
            .ok_or_else(|| Error::Internal("the scan parsed to nothing".into()))?;
        let running = engine.start(stmt, None).await?;
        report = Some(running.report.clone());
        let _progress = running.progress;
        let mut stream = running.stream;
        // Most statements ask for a few calls (event sources and names):
        // each batch's rows are grouped by call once, each statement
        // decides once per call whether it wants it (its conditions on the
        // two columns, evaluated on the call, not on every row), and is
        // sent the rows of the calls it wants (or nothing).
        let call_at =
            call_columns(&tap.schema, &columns).filter(|_| taps.iter().any(|t| t.route.is_some()));
        let mut calls = Calls::default();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let groups = match call_at {
                Some((source, name)) => calls.group(&batch, source, name),
                None => None,
            };
            if groups.is_some() {
                let new = calls.undecided()?;
                for t in &taps {
                    if let Some(route) = &t.route {
                        route.decide(new.as_ref());
                    }
                }
            }
            for t in &taps {
                let rows = match (&groups, &t.route) {
                    (Some(groups), Some(route)) => {
                        let rows = route.rows(groups);
                        if rows.is_empty() {
                            continue;
                        }
                        Some(rows)
                    }
                    _ => None,
                };
                t.send(&columns, &batch, rows).await?;
            }
            if taps.iter().all(|t| t.tx.is_closed()) {
                // Every statement has what it wants (a LIMIT met).
                break;
            }
        }
        Ok::<_, Error>(())
    }
    .await;
    let report = report.unwrap_or_else(|| Arc::new(Report::new()));
    match outcome {
        Ok(()) => Ok(report),
        Err(e) => {
            for t in &taps {
                let _ = t.tx.send(Err(DataFusionError::Execution(
                    "the scan this statement shared failed".into(),
                )));
            }
            Err(e)
        }
    }
}

/// Where the scan's batches have `eventsource` and `eventname`.
fn call_columns(schema: &SchemaRef, columns: &[usize]) -> Option<(usize, usize)> {
    let at = |name| {
        let i = schema.index_of(name).ok()?;
        columns.binary_search(&i).ok()
    };
    Some((at("eventsource")?, at("eventname")?))
}

/// The calls (event source and name) the scan has met, each numbered
/// once for the whole scan, so a statement decides on each once.
#[derive(Default)]
struct Calls {
    /// A call (source, name) to its number.
    numbers: HashMap<(Option<String>, Option<String>), u32>,
    /// Calls numbered since the statements last decided.
    sources: Vec<Option<String>>,
    names: Vec<Option<String>>,
    decided: usize,
}

impl Calls {
    /// The rows of `batch` by call number, or None when the two columns
    /// are not text.
    fn group(
        &mut self,
        batch: &RecordBatch,
        source: usize,
        name: usize,
    ) -> Option<Vec<(u32, Vec<u32>)>> {
        let sources = batch.column(source).as_string_opt::<i32>()?;
        let names = batch.column(name).as_string_opt::<i32>()?;
        let mut here: HashMap<(Option<&str>, Option<&str>), Vec<u32>> = HashMap::new();
        for (row, call) in sources.iter().zip(names.iter()).enumerate() {
            here.entry(call).or_default().push(row as u32);
        }
        let mut groups = Vec::with_capacity(here.len());
        for ((source, name), rows) in here {
            let next = self.numbers.len() as u32;
            let call = (source.map(str::to_string), name.map(str::to_string));
            let number = *self.numbers.entry(call).or_insert_with(|| {
                self.sources.push(source.map(str::to_string));
                self.names.push(name.map(str::to_string));
                next
            });
            groups.push((number, rows));
        }
        Some(groups)
    }

    /// The calls no statement has decided on yet, as a batch of two text
    /// columns (`eventsource`, `eventname`); None when there are none.
    fn undecided(&mut self) -> DfResult<Option<RecordBatch>> {
        use datafusion::arrow::array::StringArray;
        if self.decided == self.sources.len() {
            return Ok(None);
        }
        let from = self.decided;
        self.decided = self.sources.len();
        let sources = StringArray::from_iter(self.sources[from..].iter().map(|s| s.as_deref()));
        let names = StringArray::from_iter(self.names[from..].iter().map(|s| s.as_deref()));
        Ok(Some(RecordBatch::try_new(
            call_schema(),
            vec![Arc::new(sources), Arc::new(names)],
        )?))
    }
}

/// The two columns a call is.
fn call_schema() -> SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    Arc::new(Schema::new(vec![
        Field::new("eventsource", DataType::Utf8, true),
        Field::new("eventname", DataType::Utf8, true),
    ]))
}

/// A statement's conditions on the call alone (`eventsource = ... AND
/// eventname IN (...)`, `eventname LIKE 'Get%'`, an OR of such), and what
/// they said of each call met so far (by number).
#[derive(Debug)]
struct Route {
    test: Arc<dyn PhysicalExpr>,
    wanted: Mutex<Vec<bool>>,
}

impl Route {
    /// Decide on the calls of `new` (the next numbers in order). A
    /// condition that fails on a call (a function refusing a name) wants
    /// it: the statement's own filter then meets the call and fails as it
    /// would alone, not the scan every statement shares.
    fn decide(&self, new: Option<&RecordBatch>) {
        let Some(new) = new else { return };
        let said = self
            .test
            .evaluate(new)
            .and_then(|v| v.into_array(new.num_rows()));
        let mut wanted = self.wanted.lock().expect("route");
        match said {
            // NULL (a condition on a NULL name) is not wanted.
            Ok(said) => {
                let said = said.as_boolean();
                wanted.extend((0..said.len()).map(|i| !said.is_null(i) && said.value(i)))
            }
            Err(_) => wanted.extend(std::iter::repeat_n(true, new.num_rows())),
        }
    }

    /// The rows of `groups` whose calls are wanted, in order.
    fn rows(&self, groups: &[(u32, Vec<u32>)]) -> Vec<u32> {
        let wanted = self.wanted.lock().expect("route");
        let mut rows: Vec<u32> = groups
            .iter()
            .filter(|(number, _)| wanted[*number as usize])
            .flat_map(|(_, rows)| rows.iter().copied())
            .collect();
        rows.sort_unstable();
        rows
    }
}

/// The scan's WHERE (ending in `AND `): what every tap's filters allow,
/// together. A limit one tap lacks is no limit.
fn limits(taps: &[Tap]) -> String {
    use crate::record::schema::sql_literal as lit;
    use crate::window::sql_time as time;
    let mut sql = String::new();
    let from = taps
        .iter()
        .map(|t| t.prune.from_ms)
        .collect::<Option<Vec<_>>>();
    if let Some(t) = from.and_then(|f| f.into_iter().min()).and_then(time) {
        sql += &format!("eventtime >= {t} AND ");
    }
    let to = taps
        .iter()
        .map(|t| t.prune.to_ms)
        .collect::<Option<Vec<_>>>();
    if let Some(t) = to.and_then(|f| f.into_iter().max()).and_then(time) {
        sql += &format!("eventtime <= {t} AND ");
    }
    for column in ["awsregion", "recipientaccountid", "eventname"] {
        let set = |p: &Prune| match column {
            "awsregion" => p.regions.clone(),
            "recipientaccountid" => p.accounts.clone(),
            _ => p.event_names.clone(),
        };
        let all: Option<Vec<_>> = taps.iter().map(|t| set(&t.prune)).collect();
        if let Some(all) = all {
            let values: std::collections::BTreeSet<String> = all.into_iter().flatten().collect();
            let values: Vec<String> = values.iter().map(|v| lit(v)).collect();
            sql += &match values.is_empty() {
                true => "false AND ".to_string(),
                false => format!("{column} IN ({}) AND ", values.join(", ")),
            };
        }
    }
    sql
}

/// `cloudtrail` while a pass is planned: each scan of it is a tap.
#[derive(Debug)]
struct TapTable {
    schema: SchemaRef,
    taps: Mutex<Vec<Tap>>,
}

/// Which statement of the pass is being planned (in its session's
/// config): the taps its scans add are its.
#[derive(Debug)]
struct Owner(usize);

/// One scan of `cloudtrail` in one statement: the columns it reads (by
/// index in the table), its queue, and for an unbounded queue the filter
/// applied before queueing.
#[derive(Debug)]
struct Tap {
    /// The statement it belongs to (its place in the pass).
    owner: usize,
    columns: Vec<usize>,
    schema: SchemaRef,
    tx: mpsc::UnboundedSender<DfResult<RecordBatch>>,
    room: Arc<Semaphore>,
    /// Its statement's filters pushed to the scan, applied before a batch
    /// is queued: a batch none of whose rows the statement wants is not
    /// sent at all.
    filter: Option<Arc<dyn PhysicalExpr>>,
    /// What its filters limit `eventtime`, region, account and event
    /// name to.
    prune: Prune,
    /// Its conditions on the call alone, when it has some: only the rows
    /// of calls they allow are sent.
    route: Option<Route>,
}

impl TapTable {
    /// How many taps statement `owner` made.
    fn count(&self, owner: usize) -> usize {
        let taps = self.taps.lock().expect("taps");
        taps.iter().filter(|t| t.owner == owner).count()
    }

    /// Drop the taps of statement `owner` (one that will not run in the
    /// pass).
    fn forget(&self, owner: usize) {
        self.taps.lock().expect("taps").retain(|t| t.owner != owner);
    }
}

impl Tap {
    /// Queue this tap's columns of `batch` (whose columns are the table's
    /// `columns`), only its `rows` where given, waiting for room in a
    /// bounded queue. A statement that stopped reading (a LIMIT met, an
    /// error) is passed over.
    async fn send(
        &self,
        columns: &[usize],
        batch: &RecordBatch,
        rows: Option<Vec<u32>>,
    ) -> Result<()> {
        if self.tx.is_closed() {
            return Ok(());
        }
        let picked: Vec<_> = self
            .columns
            .iter()
            .map(|c| {
                let at = columns
                    .binary_search(c)
                    .expect("the scan reads every tap's columns");
                batch.column(at).clone()
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        let mut part = RecordBatch::try_new_with_options(self.schema.clone(), picked, &options)
            .map_err(DataFusionError::from)?;
        if let Some(rows) = rows.filter(|r| r.len() < part.num_rows()) {
            part = datafusion::arrow::compute::take_record_batch(&part, &UInt32Array::from(rows))
                .map_err(DataFusionError::from)?;
        }
        // A condition that fails on these rows (a cast refusing a value)
        // sends them whole: the statement's own filter fails as it would
        // alone, not the scan every statement shares.
        let keep = self.filter.as_ref().and_then(|f| {
            f.evaluate(&part)
                .and_then(|v| v.into_array(part.num_rows()))
                .ok()
        });
        if let Some(keep) = keep {
            let keep = keep.as_boolean();
            let kept = keep.true_count();
            // A batch the statement wants most of goes whole: its plan
            // filters again, and cutting it here would copy every column
            // (the identity struct's among them) for nothing.
            if kept == 0 {
                part = part.slice(0, 0);
            } else if kept * 4 < part.num_rows() * 3 {
                part = datafusion::arrow::compute::filter_record_batch(&part, keep)
                    .map_err(DataFusionError::from)?;
            }
        }
        if part.num_rows() == 0 {
            return Ok(());
        }
        tokio::select! {
            permit = self.room.acquire() => {
                permit.map_err(|e| Error::Internal(e.to_string()))?.forget()
            }
            _ = self.tx.closed() => return Ok(()),
        }
        let _ = self.tx.send(Ok(part));
        Ok(())
    }
}

#[async_trait]
impl TableProvider for TapTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Inexact: the plan filters again above the scan. The scan reads
        // them for the limits of the one scan (`limits`), and each tap
        // applies its own before queueing (`prefilter`).
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&columns)?);
        // What the filters say of the call alone routes rows; what else
        // is cheap filters the rows routed.
        let conjuncts: Vec<Expr> = filters
            .iter()
            .flat_map(datafusion::logical_expr::utils::split_conjunction)
            .cloned()
            .collect();
        let on_call = conjuncts.iter().filter_map(|c| part(c, &only_the_call));
        let route = datafusion::logical_expr::utils::conjunction(on_call).and_then(|test| {
            Some(Route {
                test: physical(state, &call_schema(), test)?,
                wanted: Mutex::new(Vec::new()),
            })
        });
        let rest: Vec<Expr> = conjuncts
            .into_iter()
            .filter(|c| route.is_none() || !only_the_call(c))
            .collect();
        let filter = prefilter(state, &schema, &rest);
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(QUEUE));
        // The pass marks every statement's session; unmarked, a scan is
        // the first statement's.
        let owner = state.config().get_extension::<Owner>().map_or(0, |o| o.0);
        self.taps.lock().expect("taps").push(Tap {
            owner,
            columns,
            schema: schema.clone(),
            tx,
            room: room.clone(),
            filter,
            prune: crate::table::filters::prune_from(filters),
            route,
        });
        let queue = Arc::new(Queue {
            schema: schema.clone(),
            rx: Mutex::new(Some(rx)),
            room,
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            schema,
            vec![queue],
            None,
            vec![],
            false,
            None,
        )?))
    }
}

/// The cheap part of the filters pushed to a scan, as one expression over
/// its columns; None when there is none or it cannot be made into one (the
/// plan filters above the scan all the same). Cheap: comparisons, lists,
/// LIKE and NULL tests of columns (and their fields) and literals. A
/// condition that calls another function (a JSON path, a regular
/// expression, an allowlist) or chooses (CASE, what `coalesce` becomes) is
/// left to the plan's filter, which then sees only the rows the cheap ones
/// kept: evaluated here, it would run on every row of every batch, for
/// every statement of the pass.
fn prefilter(
    state: &dyn Session,
    schema: &SchemaRef,
    filters: &[Expr],
) -> Option<Arc<dyn PhysicalExpr>> {
    let cheap = filters.iter().filter_map(|f| part(f, &|e| !costly(e)));
    physical(
        state,
        schema,
        datafusion::logical_expr::utils::conjunction(cheap)?,
    )
}

/// `e` as an expression over `schema` (its columns unqualified).
fn physical(state: &dyn Session, schema: &SchemaRef, e: Expr) -> Option<Arc<dyn PhysicalExpr>> {
    let unqualified = e
        .transform(|e| {
            Ok(match e {
                Expr::Column(c) => Transformed::yes(Expr::Column(
                    datafusion::common::Column::new_unqualified(c.name),
                )),
                other => Transformed::no(other),
            })
        })
        .ok()?
        .data;
    let df_schema = DFSchema::try_from(schema.as_ref().clone()).ok()?;
    state.create_physical_expr(unqualified, &df_schema).ok()
}

/// The part of condition `e` made of the conditions `fits` takes, as a
/// condition every row `e` keeps also meets (of `a AND b` what of each
/// fits, of `a OR b` the parts of both, when both have one); None when
/// nothing fits. A weaker condition than `e`, never a stronger one.
fn part(e: &Expr, fits: &dyn Fn(&Expr) -> bool) -> Option<Expr> {
    use datafusion::logical_expr::{BinaryExpr, Operator};
    match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => match (part(left, fits), part(right, fits)) {
            (Some(l), Some(r)) => Some(l.and(r)),
            (l, r) => l.or(r),
        },
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => Some(part(left, fits)?.or(part(right, fits)?)),
        other => fits(other).then(|| other.clone()),
    }
}

/// Whether `e` reads the call (`eventsource`, `eventname`) and nothing
/// else: a condition a statement decides once per call.
fn only_the_call(e: &Expr) -> bool {
    let columns = e.column_refs();
    !columns.is_empty()
        && columns
            .iter()
            .all(|c| matches!(c.name.as_str(), "eventsource" | "eventname"))
        && !has_subquery(e)
}

/// Whether testing `e` on every row costs more than the cheap tests:
/// it calls a function other than reading a field of a column
/// (`useridentity.arn`), chooses (CASE), or holds a subquery.
fn costly(e: &Expr) -> bool {
    has_subquery(e)
        || e.exists(|x| {
            Ok(match x {
                Expr::ScalarFunction(f) => f.name() != "get_field",
                Expr::Case(_) => true,
                _ => false,
            })
        })
        .unwrap_or(true)
}

fn has_subquery(e: &Expr) -> bool {
    e.exists(|x| {
        Ok(matches!(
            x,
            Expr::ScalarSubquery(_) | Expr::InSubquery(_) | Expr::Exists(_)
        ))
    })
    .unwrap_or(true)
}

/// A tap's queue, as the partition its statement's plan reads.
#[derive(Debug)]
struct Queue {
    schema: SchemaRef,
    rx: Mutex<Option<mpsc::UnboundedReceiver<DfResult<RecordBatch>>>>,
    room: Arc<Semaphore>,
}

impl PartitionStream for Queue {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let Some(rx) = self.rx.lock().expect("queue").take() else {
            let e = DataFusionError::Internal("a shared scan was read twice".into());
            return Box::pin(RecordBatchStreamAdapter::new(
                self.schema.clone(),
                futures::stream::once(async { Err(e) }),
            ));
        };
        let room = self.room.clone();
        let stream = futures::stream::unfold(rx, move |mut rx| {
            let room = room.clone();
            async move {
                let next = rx.recv().await?;
                room.add_permits(1);
                Some((next, rx))
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn the_call_part_of_a_condition_is_weaker_never_stronger() {
        let guardduty = col("eventsource").eq(lit("guardduty.amazonaws.com"));
        let delete = col("eventname").eq(lit("DeleteDetector"));
        let json = col("requestparameters").like(lit("%enable%"));
        // (source AND name) OR (source AND a condition on another column):
        // the call part keeps both sides' calls.
        let e = guardduty
            .clone()
            .and(delete.clone())
            .or(guardduty.clone().and(json.clone()));
        assert_eq!(
            part(&e, &only_the_call),
            Some(guardduty.clone().and(delete.clone()).or(guardduty.clone()))
        );
        // A side with nothing on the call: no part (every call may match).
        assert_eq!(part(&delete.clone().or(json.clone()), &only_the_call), None);
        assert!(!only_the_call(&json));
        assert!(!only_the_call(&lit(true)));
        assert!(only_the_call(&col("eventname").like(lit("Get%"))));
    }

    #[test]
    fn costly_conditions_are_left_to_the_plan() {
        use datafusion::functions::core::expr_fn::{coalesce, get_field};
        let field = get_field(col("useridentity"), "arn");
        assert!(!costly(&field.clone().is_not_null()));
        assert!(costly(
            &coalesce(vec![field, col("eventname")]).is_not_null()
        ));
        let cheap = col("errorcode").is_not_null();
        let e = cheap
            .clone()
            .and(datafusion::functions::regex::expr_fn::regexp_like(
                col("useragent"),
                lit("x"),
                None,
            ));
        assert_eq!(part(&e, &|e| !costly(e)), Some(cheap));
    }
}
