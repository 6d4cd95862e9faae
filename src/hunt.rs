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
use crate::queries::Catalogue;
use crate::session::{Engine, StatementResult};
use crate::sigma::Level;
use crate::window::Window;

/// What to hunt with.
pub struct Hunt<'a> {
    /// Sigma rule files and folders.
    pub rules: &'a [PathBuf],
    /// The saved queries to run as detections too (those that return
    /// `event_id`), or None.
    pub builtins: Option<&'a Catalogue>,
    pub min_level: Level,
    pub window: Window,
    pub strict: bool,
    pub out_dir: Option<&'a Path>,
}

/// Run the hunt; how many findings there were.
pub async fn hunt(engine: &Engine, sink: &Sink, h: &Hunt<'_>) -> Result<usize> {
    let started = Instant::now();
    let mut parts = Vec::new();
    let mut report = None;
    if !h.rules.is_empty() {
        if let Some((found, read)) = sigma_findings(engine, h).await? {
            parts.push(found);
            report = Some(read);
        }
    }
    if let Some(catalogue) = h.builtins {
        if let Some(found) = builtin_findings(engine, catalogue, h).await? {
            parts.push(found);
        }
    }
    let timeline = match parts.len() {
        0 => {
            eprintln!("trailsql: 0 findings");
            return Ok(0);
        }
        1 => parts.pop().expect("one"),
        _ => {
            for (i, part) in parts.iter().enumerate() {
                register(engine, &format!("trailsql_found_{i}"), part)?;
            }
            let union: Vec<String> = (0..parts.len())
                .map(|i| format!("SELECT * FROM trailsql_found_{i}"))
                .collect();
            engine
                .run(&format!(
                    "{} ORDER BY eventtime, rule_id, event_id",
                    union.join(" UNION ALL ")
                ))
                .await?
                .pop()
                .expect("one statement")
        }
    };
    let findings = timeline.rows();
    register(engine, "detections", &timeline)?;
    if findings > 0 && sink.format == Format::Table && sink.shows_on_terminal() {
        unless_closed(summary(engine, sink).await)?;
        unless_closed(say("== timeline\n"))?;
    }
    sink.emit(&timeline, report.as_deref(), started.elapsed())
        .await?;
    if let Some(dir) = h.out_dir {
        write_out_dir(engine, sink, dir, &timeline).await?;
    }
    eprintln!("trailsql: {}", count(findings, "finding", "findings"));
    Ok(findings)
}

/// The Sigma rules' findings (one query, one pass), and what it read.
async fn sigma_findings(
    engine: &Engine,
    h: &Hunt<'_>,
) -> Result<Option<(StatementResult, Arc<crate::read::Report>)>> {
    let mut loaded = crate::sigma::load(h.rules)?;
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
    let before = loaded.rules.len();
    loaded.rules.retain(|(r, _)| r.level >= h.min_level);
    let below = before - loaded.rules.len();
    eprintln!(
        "trailsql: {} read: {} to run, {} for other log sources, {} refused{}",
        count(loaded.files, "rule file", "rule files"),
        loaded.rules.len(),
        loaded.other_source,
        loaded.refused.len(),
        if below > 0 {
            format!(", {below} below --min-level")
        } else {
            String::new()
        }
    );
    if loaded.rules.is_empty() {
        return Ok(None);
    }
    let sql = crate::sigma::hunt_sql(&loaded.rules, &h.window);
    let stmt = Engine::parse(&sql)?
        .pop()
        .ok_or_else(|| Error::Internal("the hunt query parsed to nothing".into()))?;
    let running = engine.start(stmt, None).await?;
    let report = running.report.clone();
    Ok(Some((running.collect().await?, report)))
}

/// One event a built-in detection found.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    event_id: String,
    rule_id: String,
    title: String,
    level: Level,
    tags: String,
}

/// The saved queries' findings: each query that returns `event_id` is run
/// (a scan each, for now), and its events become timeline rows under the
/// query's id, title, severity (as a Sigma level) and tags.
async fn builtin_findings(
    engine: &Engine,
    catalogue: &Catalogue,
    h: &Hunt<'_>,
) -> Result<Option<StatementResult>> {
    let mut found = std::collections::BTreeSet::new();
    let (mut ran, mut counting, mut below) = (0, 0, 0);
    for q in catalogue.all(None) {
        let level = match q.severity.as_str() {
            "info" => Level::Informational,
            other => Level::parse(other).unwrap_or(Level::Medium),
        };
        if level < h.min_level {
            below += 1;
            continue;
        }
        match crate::queries::event_ids(engine, q, &h.window).await? {
            None => counting += 1,
            Some(ids) => {
                ran += 1;
                for event_id in ids {
                    found.insert(Found {
                        event_id,
                        rule_id: q.id.clone(),
                        title: q.title.clone(),
                        level,
                        tags: q.tags.join(", "),
                    });
                }
            }
        }
    }
    eprintln!(
        "trailsql: {} run; {counting} that count or group, or need a parameter, left to `run`{}",
        count(ran, "built-in detection", "built-in detections"),
        if below > 0 {
            format!(", {below} below --min-level")
        } else {
            String::new()
        }
    );
    if found.is_empty() {
        return Ok(None);
    }
    use datafusion::arrow::array::StringArray;
    let column = |f: &dyn Fn(&Found) -> String| {
        Arc::new(StringArray::from_iter_values(found.iter().map(f)))
            as datafusion::arrow::array::ArrayRef
    };
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
        ["event_id", "rule_id", "rule_title", "level", "tags"]
            .iter()
            .map(|n| {
                datafusion::arrow::datatypes::Field::new(
                    *n,
                    datafusion::arrow::datatypes::DataType::Utf8,
                    false,
                )
            })
            .collect::<Vec<_>>(),
    ));
    let batch = datafusion::arrow::array::RecordBatch::try_new(
        schema.clone(),
        vec![
            column(&|f| f.event_id.clone()),
            column(&|f| f.rule_id.clone()),
            column(&|f| f.title.clone()),
            column(&|f| f.level.as_str().to_string()),
            column(&|f| f.tags.clone()),
        ],
    )
    .map_err(datafusion::error::DataFusionError::from)?;
    let found = StatementResult {
        schema,
        batches: vec![batch],
    };
    register(engine, "trailsql_builtin_found", &found)?;
    let sql = format!(
        "SELECT {}, f.rule_id, f.rule_title, f.level, f.tags, eventid AS event_id \
         FROM cloudtrail JOIN trailsql_builtin_found f ON eventid = f.event_id \
         WHERE {}true ORDER BY eventtime, f.rule_id, eventid",
        crate::sigma::EVENT_COLUMNS,
        crate::sigma::window_sql(&h.window)
    );
    Ok(Some(engine.run(&sql).await?.pop().expect("one statement")))
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
                    "SELECT * FROM detections WHERE rule_id = '{}' ORDER BY eventtime, event_id",
                    id.replace('\'', "''")
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
