//! `trailsql hunt`: Sigma rules over the registered archive, and what is
//! shown of their findings. The rules are read and compiled by `sigma`;
//! here they run (one query, one pass), the findings become the table
//! `detections`, and they are printed: on a terminal a summary first (each
//! detection that fired, by level, with its count, first and last seen;
//! the top actors and source addresses; the ATT&CK tactics touched; the
//! findings per day), then each detection that fired with its first
//! findings (`screen`); elsewhere the timeline alone. `--out-dir` writes
//! the timeline, one file per detection and the summary; `--report` the
//! page (`report`); `--evidence` the pack (`evidence`), with every
//! detection that ran and the log files read.
//!
//! Of trailsql it imports `sigma`, `session`, `console`, `screen`,
//! `report`, `evidence`, `queries`, `pass`, `read`, `table` (read options),
//! `functions`, `output`, `record`, `window` and `error`.

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
    /// `--evidence DIR`.
    pub evidence: Option<&'a Path>,
    /// How the sources read: its ledger, when kept, holds every log file
    /// read, for the evidence pack and the report's integrity column.
    pub read: &'a crate::table::ReadOptions,
}

/// A detection the hunt ran, as its report and evidence pack show it.
pub struct Ran {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
    pub description: String,
    /// "saved query" or "sigma rule".
    pub kind: &'static str,
    /// Where its results go in an evidence pack: `area/name` of a saved
    /// query, `sigma/<id>` of a rule.
    pub name: String,
    /// `built-in` or the file it came from.
    pub origin: String,
    /// The SQL, or the rule file (as it was when the hunt began).
    pub text: String,
    pub params: Vec<(String, String)>,
}

/// Run the hunt; how many findings there were.
pub async fn hunt(engine: &Engine, sink: &Sink, h: &Hunt<'_>) -> Result<usize> {
    let started = Instant::now();
    let Some((timeline, reports, ran)) = findings(engine, h).await? else {
        eprintln!("trailsql: nothing was run: 0 findings");
        return Ok(0);
    };
    let findings = timeline.rows();
    register(engine, "detections", &timeline)?;
    let on_screen = findings > 0 && sink.format == Format::Table && sink.shows_on_terminal();
    // Each detection's rows, where something shows them one by one.
    let wanted = on_screen || h.evidence.is_some() || h.report.is_some() || h.keep.is_some();
    let parts = match wanted {
        true => split(&timeline)?,
        false => Default::default(),
    };
    if on_screen {
        unless_closed(summary(engine, sink).await)?;
        unless_closed(each_detection(sink, &ran, &parts).await)?;
    } else {
        sink.emit(&timeline, None, started.elapsed()).await?;
    }
    for report in &reports {
        sink.counts(Some(report));
    }
    if let Some(dir) = h.out_dir {
        write_out_dir(engine, sink, dir, &timeline).await?;
    }
    let checked = match h.report.is_some() || h.evidence.is_some() {
        true => crate::evidence::check_and_say(h.read).await?,
        false => None,
    };
    if let Some(dir) = h.evidence {
        let empty = StatementResult {
            schema: timeline.schema.clone(),
            batches: Vec::new(),
        };
        let pieces = ran
            .iter()
            .map(|d| {
                let text_file = match d.kind {
                    "saved query" => format!("queries/{}.sql", d.name),
                    _ => format!("rules/{}.yml", d.id),
                };
                crate::evidence::Piece {
                    name: d.name.clone(),
                    text_file,
                    id: d.id.clone(),
                    severity: d.level.as_str().to_string(),
                    title: d.title.clone(),
                    text: d.text.clone(),
                    origin: d.origin.clone(),
                    params: d.params.clone(),
                    result: Ok(parts.get(&d.id).unwrap_or(&empty)),
                }
            })
            .collect();
        crate::evidence::record(
            dir,
            crate::evidence::Pack {
                command: crate::output::command_line(),
                sources: h.sources.clone(),
                window: h.window.describe(),
                pieces,
                ledger: h.read.ledger.as_deref(),
                checked: checked.as_ref(),
            },
        )?;
    }
    if h.report.is_some() || h.keep.is_some() {
        let run = report_run(h, &ran, parts, checked);
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

/// On a terminal, after the summary: each detection that fired, highest
/// level first, under a heading with its id, level and title, with its
/// first findings (the detection's own columns left out), as many as share
/// the screen, and where all of them go.
async fn each_detection(
    sink: &Sink,
    ran: &[Ran],
    parts: &std::collections::HashMap<String, StatementResult>,
) -> Result<()> {
    let own = ["rule_id", "rule_title", "level", "tags"];
    let mut fired: Vec<(&Ran, StatementResult)> = Vec::new();
    for d in ran {
        let Some(part) = parts.get(&d.id).filter(|p| p.rows() > 0) else {
            continue;
        };
        if fired.iter().any(|(f, _)| f.id == d.id) {
            continue;
        }
        let keep: Vec<usize> = (0..part.schema.fields().len())
            .filter(|&i| !own.contains(&part.schema.field(i).name().as_str()))
            .collect();
        let schema = Arc::new(part.schema.project(&keep).map_err(arrow_error)?);
        let batches = part
            .batches
            .iter()
            .map(|b| b.project(&keep))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(arrow_error)?;
        fired.push((d, StatementResult { schema, batches }));
    }
    fired.sort_by_key(|(d, r)| std::cmp::Reverse((d.level, r.rows())));
    let shown: Vec<crate::screen::Ran> = fired
        .iter()
        .map(|(d, r)| crate::screen::Ran {
            name: &d.id,
            severity: d.level.as_str(),
            rank: d.level as u8,
            title: &d.title,
            result: Ok(r),
        })
        .collect();
    let shown: Vec<&crate::screen::Ran> = shown.iter().collect();
    crate::screen::first_rows(sink, &shown, crate::console::MORE).await
}

fn arrow_error(e: datafusion::arrow::error::ArrowError) -> Error {
    datafusion::error::DataFusionError::from(e).into()
}

/// The timeline's rows of each detection, by its id.
fn split(timeline: &StatementResult) -> Result<std::collections::HashMap<String, StatementResult>> {
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
    let mut parts = std::collections::HashMap::new();
    for id in ids {
        let wanted = datafusion::arrow::array::StringArray::new_scalar(id.as_str());
        let mut batches = Vec::new();
        for batch in &timeline.batches {
            let keep = eq(batch.column(at), &wanted).map_err(arrow)?;
            batches.push(filter_record_batch(batch, &keep).map_err(arrow)?);
        }
        let part = StatementResult {
            schema: timeline.schema.clone(),
            batches,
        };
        parts.insert(id, part);
    }
    Ok(parts)
}

/// What a report shows of the hunt: one section per detection that
/// fired, its findings the timeline's rows of it.
fn report_run(
    h: &Hunt<'_>,
    ran: &[Ran],
    mut parts: std::collections::HashMap<String, StatementResult>,
    checked: Option<crate::evidence::Checked>,
) -> crate::report::Run {
    let detections = ran
        .iter()
        .filter_map(|d| {
            let part = parts.remove(&d.id)?;
            Some(crate::report::Detection {
                id: d.id.clone(),
                title: d.title.clone(),
                level: d.level.as_str().to_string(),
                tags: d.tags.clone(),
                description: d.description.clone(),
                kind: d.kind,
                text: d.text.clone(),
                params: d.params.clone(),
                result: Ok(part),
            })
        })
        .collect();
    crate::report::Run {
        command: crate::output::command_line(),
        sources: h.sources.clone(),
        window: h.window.describe(),
        detections,
        integrity: checked,
    }
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
) -> Result<Option<(StatementResult, Vec<Arc<crate::read::Report>>, Vec<Ran>)>> {
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
    let ran = ran(h, sigma.as_ref(), &builtins);
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
    let timeline = match parts.is_empty() {
        true => StatementResult {
            schema: timeline_schema(),
            batches: Vec::new(),
        },
        false => sorted_timeline(parts)?,
    };
    Ok(Some((timeline, together.reports, ran)))
}

/// The detections about to run: the Sigma rules and correlations that
/// fire (and the rules correlations read), then the built-in ones.
fn ran(h: &Hunt<'_>, sigma: Option<&Sigma>, builtins: &[&SavedQuery]) -> Vec<Ran> {
    let mut out = Vec::new();
    if let Some(s) = sigma {
        let mut rules: Vec<usize> = s.plan.alone.clone();
        rules.extend(s.plan.inputs.iter().filter(|i| !s.plan.alone.contains(i)));
        let heads = rules.iter().map(|&i| &s.loaded.rules[i].0.head).chain(
            s.plan
                .fire
                .iter()
                .map(|&i| &s.loaded.correlations[i].0.head),
        );
        for head in heads {
            out.push(Ran {
                id: head.id.clone(),
                title: head.title.clone(),
                level: head.level,
                tags: head.tags.clone(),
                description: format!("from {}", head.origin),
                kind: "sigma rule",
                name: format!("sigma/{}", head.id),
                origin: head.origin.clone(),
                text: std::fs::read_to_string(&head.origin).unwrap_or_default(),
                params: Vec::new(),
            });
        }
    }
    for q in builtins {
        out.push(Ran {
            id: q.id.clone(),
            title: q.title.clone(),
            level: level_of(q),
            tags: q.tags.clone(),
            description: q.description.clone(),
            kind: "saved query",
            name: q.name.clone(),
            origin: q.origin.clone(),
            text: q.sql.clone(),
            params: q.shown_params(h.params),
        });
    }
    out
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
