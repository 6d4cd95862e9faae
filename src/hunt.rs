//! `trailsql hunt`: Sigma rules over the registered archive, and what is
//! shown of their findings. The rules are read and compiled by `sigma`;
//! here they run (one query, one pass), the findings become the table
//! `detections`, and they are printed: on a terminal a summary first (each
//! detection that fired, by level, with its count, first and last seen;
//! the top actors and source addresses; the ATT&CK tactics touched; the
//! findings per day), then the timeline; elsewhere the timeline alone.
//! `--out-dir` writes the timeline, one file per detection and the summary.
//!
//! Of trailsql it imports `sigma`, `session`, `console`, `output`, `window`
//! and `error`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::console::{say, unless_closed, write_csv, Sink};
use crate::error::{Error, Result};
use crate::output::{count, Cells, Format};
use crate::queries::{Catalogue, SavedQuery};
use crate::session::{Engine, StatementResult};
use crate::sigma::Level;
use crate::window::Window;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::sql::parser::Statement;

/// What to hunt with.
pub struct Hunt<'a> {
    /// Sigma rule files and folders.
    pub rules: &'a [PathBuf],
    /// The saved queries to run as detections too (those that return
    /// `event_id`), or None.
    pub builtins: Option<&'a Catalogue>,
    /// Their parameters (`--param`), for every one that takes them.
    pub params: &'a std::collections::BTreeMap<String, String>,
    pub min_level: Level,
    pub window: Window,
    pub strict: bool,
    pub out_dir: Option<&'a Path>,
    /// `--report FILE.html`.
    pub report: Option<&'a Path>,
    /// The sources' paths, for the report.
    pub sources: Vec<String>,
    /// Where to keep what a report of the hunt shows (the shell's
    /// `\report`).
    pub keep: Option<&'a std::sync::Mutex<Option<crate::report::Run>>>,
}

/// Run the hunt; how many findings there were.
pub async fn hunt(engine: &Engine, sink: &Sink, h: &Hunt<'_>) -> Result<usize> {
    let started = Instant::now();
    let Some((timeline, reports)) = findings(engine, h).await? else {
        eprintln!("trailsql: 0 findings");
        return Ok(0);
    };
    let findings = timeline.rows();
    register(engine, "detections", &timeline)?;
    if findings > 0 && sink.format == Format::Table && sink.shows_on_terminal() {
        unless_closed(summary(engine, sink).await)?;
        unless_closed(say("== timeline\n"))?;
        // The first findings that fit, and where all of them go.
        let rows = sink.max_rows.or(sink.screen_rows()).unwrap_or(0);
        let shown = sink.showing(rows, crate::console::MORE);
        shown.emit(&timeline, None, started.elapsed()).await?;
    } else {
        sink.emit(&timeline, None, started.elapsed()).await?;
    }
    for report in &reports {
        sink.counts(Some(report));
    }
    if let Some(dir) = h.out_dir {
        write_out_dir(engine, sink, dir, &timeline).await?;
    }
    if h.report.is_some() || h.keep.is_some() {
        let run = report_run(h, &timeline)?;
        if let Some(file) = h.report {
            crate::report::write(engine, &run, file).await?;
            eprintln!("trailsql: wrote the report to {}", file.display());
        }
        if let Some(keep) = h.keep {
            *keep.lock().unwrap_or_else(|e| e.into_inner()) = Some(run);
        }
    }
    eprintln!("trailsql: {}", count(findings, "finding", "findings"));
    Ok(findings)
}

/// What a report shows of the hunt: one section per detection that
/// fired, its findings the timeline's rows of it.
fn report_run(h: &Hunt<'_>, timeline: &StatementResult) -> Result<crate::report::Run> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::compute::{filter_record_batch, kernels::cmp::eq};
    let arrow = datafusion::error::DataFusionError::from;
    let at = timeline.schema.index_of("rule_id").map_err(arrow)?;
    let mut ids: Vec<String> = Vec::new();
    for batch in &timeline.batches {
        for id in batch.column(at).as_string::<i32>().iter().flatten() {
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
    }
    let mut parts = Vec::new();
    for id in &ids {
        let wanted = datafusion::arrow::array::StringArray::new_scalar(id.as_str());
        let mut batches = Vec::new();
        for batch in &timeline.batches {
            let keep = eq(batch.column(at), &wanted).map_err(arrow)?;
            batches.push(filter_record_batch(batch, &keep).map_err(arrow)?);
        }
        parts.push(StatementResult {
            schema: timeline.schema.clone(),
            batches,
        });
    }
    let loaded = match h.rules.is_empty() {
        true => None,
        false => Some(crate::sigma::load(h.rules)?),
    };
    let heads: Vec<&crate::sigma::rule::Head> = loaded
        .iter()
        .flat_map(|l| {
            l.rules
                .iter()
                .map(|(r, _)| &r.head)
                .chain(l.correlations.iter().map(|(c, _)| &c.head))
        })
        .collect();
    let builtins: Vec<&SavedQuery> = h.builtins.map(|c| c.all(None)).unwrap_or_default();
    let detections = ids
        .iter()
        .zip(parts)
        .map(|(id, part)| {
            let first = |column: &str| {
                part.batches
                    .iter()
                    .find(|b| b.num_rows() > 0)
                    .and_then(|b| {
                        crate::output::text_at(
                            b.column(part.schema.index_of(column).ok()?).as_ref(),
                            0,
                        )
                    })
                    .unwrap_or_default()
            };
            let mut d = crate::report::Detection {
                id: id.clone(),
                title: first("rule_title"),
                level: first("level"),
                tags: first("tags")
                    .split(", ")
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect(),
                description: String::new(),
                kind: "sigma rule",
                text: String::new(),
                params: Vec::new(),
                result: Err(String::new()),
            };
            if let Some(q) = builtins.iter().find(|q| &q.id == id) {
                d.kind = "saved query";
                d.description = q.description.clone();
                d.text = q.sql.clone();
                d.params = q.shown_params(h.params);
            } else if let Some(head) = heads.iter().find(|r| &r.id == id) {
                d.description = format!("from {}", head.origin);
                d.text = std::fs::read_to_string(&head.origin).unwrap_or_default();
            }
            d.result = Ok(part);
            d
        })
        .collect();
    Ok(crate::report::Run {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        sources: h.sources.clone(),
        window: h.window.describe(),
        detections,
    })
}

/// The Sigma rules read, what of them runs at `--min-level`, and its
/// queries: the rules that fire on their own (all in one statement) and
/// the events correlations need.
struct Sigma {
    loaded: crate::sigma::Loaded,
    plan: crate::sigma::Plan,
    alone: Option<Statement>,
    inputs: Option<Statement>,
}

/// Read the rules, say what was read, refused and skipped, and plan them.
fn sigma(h: &Hunt<'_>) -> Result<Sigma> {
    let loaded = crate::sigma::load(h.rules)?;
    for (file, why) in &loaded.refused {
        eprintln!(
            "trailsql: sigma rule {}: not run: {}",
            crate::output::escape_control(file),
            crate::output::escape_control(why)
        );
    }
    if h.strict && !loaded.refused.is_empty() {
        return Err(Error::Usage(format!(
            "{} cannot be run (--strict)",
            count(loaded.refused.len(), "Sigma rule", "Sigma rules")
        )));
    }
    let plan = loaded.plan(h.min_level);
    eprintln!(
        "trailsql: {} read: {} and {} to run, {} for other log sources, {} refused{}",
        count(loaded.files, "rule file", "rule files"),
        count(plan.alone.len(), "rule", "rules"),
        count(plan.fire.len(), "correlation", "correlations"),
        loaded.other_source,
        loaded.refused.len(),
        if plan.below > 0 {
            format!(", {} below --min-level", plan.below)
        } else {
            String::new()
        }
    );
    let statement = |sql: String| -> Result<Option<Statement>> { Ok(Engine::parse(&sql)?.pop()) };
    let alone = match plan.alone.is_empty() {
        true => None,
        false => {
            let rules: Vec<_> = plan
                .alone
                .iter()
                .map(|&i| loaded.rules[i].clone())
                .collect();
            statement(crate::sigma::hunt_sql(&rules, &h.window))?
        }
    };
    let inputs = match loaded.inputs_sql(&plan, &h.window) {
        None => None,
        Some(sql) => statement(sql)?,
    };
    Ok(Sigma {
        loaded,
        plan,
        alone,
        inputs,
    })
}

/// The timeline rows of the correlations that fired: each window's events
/// (rows of `fetched`, the correlation inputs) under the correlation.
fn correlation_rows(
    sigma: &Sigma,
    fetched: &StatementResult,
) -> datafusion::error::Result<Option<StatementResult>> {
    use datafusion::arrow::array::{ArrayRef, StringArray, UInt32Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let all = datafusion::arrow::compute::concat_batches(&fetched.schema, &fetched.batches)?;
    let fired = sigma.loaded.correlate(&sigma.plan, &all);
    if fired.is_empty() {
        return Ok(None);
    }
    let mut fields = Vec::new();
    for name in EVENT_COLUMNS {
        let f = fetched.schema.field_with_name(name)?;
        fields.push(Field::new(name, f.data_type().clone(), true));
    }
    for name in ["rule_id", "rule_title", "level", "tags", "event_id"] {
        fields.push(Field::new(name, DataType::Utf8, true));
    }
    let schema = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    for (i, rows) in fired {
        let c = &sigma.loaded.correlations[i].0;
        let take = UInt32Array::from_iter_values(rows.iter().map(|r| *r as u32));
        let mut columns: Vec<ArrayRef> = Vec::new();
        for name in EVENT_COLUMNS {
            let at = fetched.schema.index_of(name)?;
            columns.push(datafusion::arrow::compute::take(
                all.column(at),
                &take,
                None,
            )?);
        }
        let same = |v: &str| Arc::new(StringArray::from(vec![v; rows.len()])) as ArrayRef;
        columns.push(same(&c.head.id));
        columns.push(same(&c.head.title));
        columns.push(same(c.head.level.as_str()));
        columns.push(same(&c.head.tags.join(", ")));
        let ids = datafusion::arrow::compute::take(
            all.column(fetched.schema.index_of("event_id")?),
            &take,
            None,
        )?;
        columns.push(datafusion::arrow::compute::cast(&ids, &DataType::Utf8)?);
        batches.push(datafusion::arrow::array::RecordBatch::try_new(
            schema.clone(),
            columns,
        )?);
    }
    Ok(Some(StatementResult { schema, batches }))
}

/// `hunt --list`: one row per detection (the saved queries of
/// `catalogue`, the Sigma rules and correlations under `rules`, and the
/// rules refused): id, title, level, tags, kind, source, and what hunt does
/// with it; those `picks` keeps (by tags and level; a refused rule has
/// neither and is listed only when nothing is asked). Other log sources'
/// rules are counted on stderr.
pub async fn list(
    catalogue: Option<&Catalogue>,
    rules: &[PathBuf],
    picks: &dyn Fn(&[&str], Level) -> Result<bool>,
) -> Result<StatementResult> {
    let mut rows: Vec<[String; 7]> = Vec::new();
    if let Some(catalogue) = catalogue {
        // Planned over an empty archive: which queries name events.
        let engine = Engine::new(crate::table::ReadOptions::default());
        let empty = datafusion::datasource::MemTable::try_new(
            crate::record::canonical_schema(),
            vec![vec![]],
        )?;
        let ctx = engine.with_default_table(Arc::new(empty)).await?;
        let none = std::collections::BTreeMap::new();
        for q in catalogue.all(None) {
            let runs = if !q.missing(&none).is_empty() {
                "no: needs a parameter (run it with run --param)".to_string()
            } else if q.needs_geoip() {
                "with --geoip only: it places addresses".to_string()
            } else {
                let plan = ctx
                    .state()
                    .statement_to_plan(q.statement()?)
                    .await?
                    .replace_params_with_values(&q.values(&none, &Window::default())?)?;
                match plan.schema().has_column_with_unqualified_name("event_id") {
                    true => "yes".to_string(),
                    false => "no: it counts or groups (run it with run)".to_string(),
                }
            };
            let source = match q.origin.as_str() {
                "built-in" => "built-in".to_string(),
                file => file.to_string(),
            };
            rows.push([
                q.id.clone(),
                q.title.clone(),
                level_of(q).as_str().to_string(),
                q.tags.join(", "),
                "saved query".into(),
                source,
                runs,
            ]);
        }
    }
    if !rules.is_empty() {
        let loaded = crate::sigma::load(rules)?;
        let plan = loaded.plan(Level::Informational);
        let fed: std::collections::BTreeSet<usize> = plan.inputs.iter().copied().collect();
        for (i, (r, _)) in loaded.rules.iter().enumerate() {
            let runs = match (plan.alone.contains(&i), fed.contains(&i)) {
                (true, _) => "yes",
                (false, true) => "only feeds a correlation",
                (false, false) => "no: named by a correlation that fires nowhere",
            };
            rows.push([
                r.head.id.clone(),
                r.head.title.clone(),
                r.head.level.as_str().into(),
                r.head.tags.join(", "),
                "sigma rule".into(),
                r.head.origin.clone(),
                runs.into(),
            ]);
        }
        for (i, (c, _)) in loaded.correlations.iter().enumerate() {
            let runs = match (plan.fire.contains(&i), plan.order.contains(&i)) {
                (true, _) => "yes",
                (false, true) => "only feeds a correlation",
                (false, false) => "no: named by a correlation that fires nowhere",
            };
            rows.push([
                c.head.id.clone(),
                c.head.title.clone(),
                c.head.level.as_str().into(),
                c.head.tags.join(", "),
                "sigma correlation".into(),
                c.head.origin.clone(),
                runs.into(),
            ]);
        }
        for (file, why) in &loaded.refused {
            rows.push([
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                "sigma rule".into(),
                file.clone(),
                format!("no: {why}"),
            ]);
        }
        eprintln!(
            "trailsql: {} read; {} for other log sources",
            count(loaded.files, "rule file", "rule files"),
            count(loaded.other_source, "rule", "rules")
        );
    }
    let mut kept = Vec::new();
    for row in rows {
        let tags: Vec<&str> = row[3].split(", ").filter(|t| !t.is_empty()).collect();
        // A refused rule has no tags or level: it shows when nothing
        // narrower than everything is asked.
        let keep = match Level::parse(&row[2]) {
            Some(level) => picks(&tags, level)?,
            None => picks(&[], Level::Informational)?,
        };
        if keep {
            kept.push(row);
        }
    }
    let rows = kept;
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let names = ["id", "title", "level", "tags", "kind", "source", "runs"];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )) as ArrayRef
        })
        .collect();
    let batch = datafusion::arrow::array::RecordBatch::try_new(schema.clone(), columns)
        .map_err(datafusion::error::DataFusionError::from)?;
    Ok(StatementResult {
        schema,
        batches: vec![batch],
    })
}

/// The timeline's columns that come from the event, in order (then the
/// detection's `rule_id`, `rule_title`, `level`, `tags`, and `event_id`).
const EVENT_COLUMNS: [&str; 9] = [
    "eventtime",
    "account",
    "region",
    "actor",
    "source_ip",
    "event_source",
    "event_name",
    "target",
    "error_code",
];

/// A saved query's severity as a Sigma level.
pub fn level_of(q: &SavedQuery) -> Level {
    match q.severity.as_str() {
        "info" => Level::Informational,
        other => Level::parse(other).unwrap_or(Level::Medium),
    }
}

/// Every finding, Sigma's and the built-in detections', from one pass over
/// the archive, as the timeline; None when nothing was run.
async fn findings(
    engine: &Engine,
    h: &Hunt<'_>,
) -> Result<Option<(StatementResult, Vec<Arc<crate::read::Report>>)>> {
    let mut statements = Vec::new();
    let mut sigma = match h.rules.is_empty() {
        true => None,
        false => Some(sigma(h)?),
    };
    let (has_alone, has_inputs) = match &mut sigma {
        None => (false, false),
        Some(s) => {
            let (alone, inputs) = (s.alone.take(), s.inputs.take());
            let has = (alone.is_some(), inputs.is_some());
            statements.extend(alone.into_iter().chain(inputs).map(|s| (s, None)));
            has
        }
    };
    let (mut builtins, mut needs, mut below, mut counting) = (Vec::new(), 0, 0, 0);
    let mut runnable = Vec::new();
    for q in h.builtins.map(|c| c.all(None)).unwrap_or_default() {
        if level_of(q) < h.min_level {
            below += 1;
        } else if !q.lacks(h.params, engine.has_geoip()).is_empty() {
            needs += 1;
        } else {
            runnable.push(q);
        }
    }
    let plans = crate::queries::plan_read_only(engine, &runnable).await?;
    for (q, plan) in runnable.into_iter().zip(plans) {
        let values = q.values(h.params, &h.window)?;
        let plan = plan.replace_params_with_values(&values)?;
        if !plan.schema().has_column_with_unqualified_name("event_id") {
            // It counts or groups: no events to put on a timeline.
            counting += 1;
            continue;
        }
        statements.push((q.statement()?, Some(values)));
        builtins.push(q);
    }
    if statements.is_empty() {
        return Ok(None);
    }
    let together = crate::pass::run_together(engine, statements).await?;
    let mut results = together.results.into_iter();
    let mut parts = Vec::new();
    if has_alone {
        let found = results.next().expect("the Sigma result")?;
        parts.push(timeline_rows(&found, None)?);
    }
    if has_inputs {
        let fetched = results.next().expect("the correlations' events")?;
        let sigma = sigma.as_ref().expect("rules were read");
        if let Some(found) = correlation_rows(sigma, &fetched)? {
            parts.push(timeline_rows(&found, None)?);
        }
    }
    for q in &builtins {
        let found = results
            .next()
            .expect("a result for each query")
            .map_err(|e| q.failed(e))?;
        parts.push(timeline_rows(&found, Some(q)).map_err(|e| q.failed(e.into()))?);
    }
    if h.builtins.is_some() {
        eprintln!(
            "trailsql: {} run; {} that count or group, {} that need a parameter or --geoip, left to `run`{}",
            count(builtins.len(), "built-in detection", "built-in detections"),
            counting,
            needs,
            if below > 0 {
                format!(", {below} below --min-level")
            } else {
                String::new()
            }
        );
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let timeline = sorted_timeline(parts)?;
    Ok(Some((timeline, together.reports)))
}

/// The timeline's columns: the event's, then the detection's `rule_id`,
/// `rule_title`, `level`, `tags`, and `event_id`.
fn timeline_schema() -> SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let mut fields = vec![Field::new(
        "eventtime",
        crate::functions::time::timestamp_type(),
        true,
    )];
    for name in
        EVENT_COLUMNS[1..]
            .iter()
            .chain(&["rule_id", "rule_title", "level", "tags", "event_id"])
    {
        fields.push(Field::new(*name, DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
}

/// The timeline's rows of one detection's result: each event column it
/// has (NULL for one it lacks), the detection's id, title, level and tags
/// (a Sigma result has them as columns; a saved query's are `q`'s), and
/// the event id. Rows without an event id are left out; a saved query may
/// name an event twice (a join), and its rows that repeat are kept once.
fn timeline_rows(
    found: &StatementResult,
    q: Option<&SavedQuery>,
) -> datafusion::error::Result<Option<RecordBatch>> {
    use datafusion::arrow::array::{new_null_array, ArrayRef, StringArray};
    use datafusion::arrow::compute::{cast_with_options, CastOptions};
    let schema = timeline_schema();
    let all = datafusion::arrow::compute::concat_batches(&found.schema, &found.batches)?;
    let rows = all.num_rows();
    // As SQL's CAST: a value that does not convert is an error.
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    // A saved query's id, title, level and tags, for each of its rows.
    let detection = ["rule_id", "rule_title", "level", "tags"];
    let own = q.map(|q| {
        [
            q.id.clone(),
            q.title.clone(),
            level_of(q).as_str().to_string(),
            q.tags.join(", "),
        ]
    });
    let mut columns: Vec<ArrayRef> = Vec::new();
    for field in schema.fields() {
        let name = field.name().as_str();
        let given = own.as_ref().and_then(|own| {
            let at = detection.iter().position(|n| *n == name)?;
            Some(Arc::new(StringArray::from(vec![own[at].as_str(); rows])) as ArrayRef)
        });
        columns.push(match (given, found.schema.index_of(name)) {
            (Some(given), _) => given,
            (None, Ok(at)) => cast_with_options(all.column(at), field.data_type(), &options)?,
            (None, Err(_)) => new_null_array(field.data_type(), rows),
        });
    }
    let batch = RecordBatch::try_new(schema, columns)?;
    let ids = batch.column(batch.num_columns() - 1);
    let mut keep: Vec<u32> = (0..rows as u32)
        .filter(|&i| ids.is_valid(i as usize))
        .collect();
    if q.is_some() {
        let converter = datafusion::arrow::row::RowConverter::new(
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| datafusion::arrow::row::SortField::new(f.data_type().clone()))
                .collect(),
        )?;
        let converted = converter.convert_columns(batch.columns())?;
        let mut seen = std::collections::HashSet::new();
        keep.retain(|&i| seen.insert(converted.row(i as usize)));
    }
    if keep.is_empty() {
        return Ok(None);
    }
    Ok(Some(datafusion::arrow::compute::take_record_batch(
        &batch,
        &datafusion::arrow::array::UInt32Array::from(keep),
    )?))
}

/// The detections' rows as one timeline, by time, then detection, then
/// event id.
fn sorted_timeline(parts: Vec<Option<RecordBatch>>) -> Result<StatementResult> {
    use datafusion::arrow::compute::{lexsort_to_indices, take_record_batch, SortColumn};
    let schema = timeline_schema();
    let parts: Vec<RecordBatch> = parts.into_iter().flatten().collect();
    let all = datafusion::arrow::compute::concat_batches(&schema, &parts)
        .map_err(datafusion::error::DataFusionError::from)?;
    let by = |name: &str| SortColumn {
        values: all
            .column(schema.index_of(name).expect("a timeline column"))
            .clone(),
        options: Some(datafusion::arrow::compute::SortOptions {
            descending: false,
            nulls_first: false,
        }),
    };
    let order = lexsort_to_indices(&[by("eventtime"), by("rule_id"), by("event_id")], None)
        .map_err(datafusion::error::DataFusionError::from)?;
    let sorted =
        take_record_batch(&all, &order).map_err(datafusion::error::DataFusionError::from)?;
    Ok(StatementResult {
        schema,
        batches: vec![sorted],
    })
}

/// Leave `result` in the session as the table `name` (in place of one
/// left by an earlier hunt).
fn register(engine: &Engine, name: &str, result: &StatementResult) -> Result<()> {
    let table = datafusion::datasource::MemTable::try_new(
        result.schema.clone(),
        vec![result.batches.clone()],
    )?;
    engine.ctx.deregister_table(name)?;
    engine.ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// How a level sorts, highest first, in SQL.
const LEVEL_RANK: &str = "CASE level WHEN 'critical' THEN 5 WHEN 'high' THEN 4 \
    WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END";

/// The summary's questions over `detections`, with their headings.
fn summary_questions() -> [(&'static str, String); 5] {
    [
        (
            "detections that fired",
            format!(
                "SELECT level, rule_title, count(*) AS findings, min(eventtime) AS first_seen, \
                 max(eventtime) AS last_seen, count(DISTINCT actor) AS actors \
                 FROM detections GROUP BY level, rule_title \
                 ORDER BY {LEVEL_RANK} DESC, findings DESC, rule_title"
            ),
        ),
        (
            "top actors",
            "SELECT coalesce(actor, '-') AS actor, count(*) AS findings, \
             count(DISTINCT rule_id) AS detections FROM detections \
             GROUP BY 1 ORDER BY findings DESC, actor LIMIT 5"
                .into(),
        ),
        (
            "top source addresses",
            "SELECT coalesce(source_ip, '-') AS source_ip, count(*) AS findings \
             FROM detections GROUP BY 1 ORDER BY findings DESC, source_ip LIMIT 5"
                .into(),
        ),
        (
            "ATT&CK tactics",
            // Tags like attack.defense-evasion (a tactic), not attack.t1562
            // (a technique) or attack.g0016 (a group).
            "SELECT tactic, count(*) AS findings FROM (\
               SELECT unnest(string_to_array(tags, ', ')) AS tactic FROM detections) \
             WHERE tactic LIKE 'attack.%' AND NOT regexp_like(tactic, '^attack\\.[tgs][0-9]') \
             GROUP BY tactic ORDER BY findings DESC, tactic"
                .into(),
        ),
        (
            "findings per day",
            "SELECT CAST(date_trunc('day', eventtime) AS DATE) AS day, count(*) AS findings \
             FROM detections GROUP BY 1 ORDER BY 1"
                .into(),
        ),
    ]
}

/// The summary, as tables.
async fn summary(engine: &Engine, sink: &Sink) -> Result<()> {
    for (heading, sql) in summary_questions() {
        let result = engine.run(&sql).await?.pop().expect("one statement");
        if result.rows() == 0 {
            continue;
        }
        say(&format!("== {heading}\n"))?;
        sink.emit(&result, None, std::time::Duration::ZERO).await?;
    }
    Ok(())
}

/// `--out-dir DIR`: `timeline.csv`, one `detections/<rule id>.csv` per rule
/// that fired, and `summary.csv` (the detections that fired).
async fn write_out_dir(
    engine: &Engine,
    sink: &Sink,
    dir: &Path,
    timeline: &StatementResult,
) -> Result<()> {
    let cells = Cells {
        escape: false,
        csv_safe: !sink.csv_raw,
    };
    let per_rule = dir.join("detections");
    std::fs::create_dir_all(&per_rule).map_err(|e| Error::io(&per_rule, e))?;
    write_csv(&dir.join("timeline.csv"), timeline, cells)?;
    let ids = engine
        .run("SELECT DISTINCT rule_id FROM detections ORDER BY rule_id")
        .await?
        .pop()
        .expect("one statement");
    for batch in &ids.batches {
        let column = datafusion::arrow::compute::cast(
            batch.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .map_err(datafusion::error::DataFusionError::from)?;
        let column = datafusion::arrow::array::AsArray::as_string::<i32>(&column);
        for id in column.iter().flatten() {
            // A rule id is the rule's own text: only its safe characters
            // make the file name.
            let name: String = id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let rows = engine
                .run(&format!(
                    "SELECT * FROM detections WHERE rule_id = {} ORDER BY eventtime, event_id",
                    crate::record::schema::sql_literal(id)
                ))
                .await?
                .pop()
                .expect("one statement");
            write_csv(&per_rule.join(format!("{name}.csv")), &rows, cells)?;
        }
    }
    let (_, sql) = &summary_questions()[0];
    let summary = engine.run(sql).await?.pop().expect("one statement");
    write_csv(&dir.join("summary.csv"), &summary, cells)?;
    Ok(())
}
