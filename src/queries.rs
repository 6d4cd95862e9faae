//! The saved-query catalogue: the `.sql` files of `queries/` (embedded in the
//! binary by build.rs) plus a user's own folder (`--queries DIR`), whose
//! queries override built-in ones of the same name. `trailsql run` and the
//! shell's `\queries` / `\run` use it.
//!
//! A saved query opens with a header of `-- key: value` comment lines:
//!
//! ```sql
//! -- title: DynamoDB tables deleted
//! -- severity: high
//! -- references: MITRE ATT&CK T1485
//! -- description: Who deleted a DynamoDB table, when and from where;
//! --   a longer text goes on in lines indented by more spaces.
//! -- param: table = % | the table name, a LIKE pattern
//! -- param: key | a parameter without a default must be given
//! SELECT ... WHERE eventtime >= $since AND eventtime < $until ... ORDER BY ...
//! ```
//!
//! Parameters are DataFusion placeholders (`$table`), so a value is never
//! spliced into the SQL text; a default that is a whole number makes the
//! parameter an integer; one without a default is text the user must give
//! (`run --all` skips such a query and says so). `$since` and `$until`
//! (timestamps, `--since` and `--until`, all time by default) are given to
//! every query, and every saved query limits `eventtime` with them, which
//! also prunes the files read.
//!
//! Of trailsql it imports `console`, `error`, `output`, `record`, `report`, `screen`, `session`, `window`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::error::DataFusionError;

use crate::console::{plural, say, unless_closed, Sink};
use crate::error::{Error, Result};
use crate::output::{Cells, Format};
use crate::record::schema::UTC;
use crate::session::{Engine, StatementResult};
use crate::window::Window;
use datafusion::sql::parser::Statement;

mod built_in {
    include!(concat!(env!("OUT_DIR"), "/queries.rs"));
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A value a parameter can take.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Text(String),
    Int(i64),
}

impl ParamValue {
    fn scalar(&self) -> ScalarValue {
        match self {
            ParamValue::Text(s) => ScalarValue::Utf8(Some(s.clone())),
            ParamValue::Int(i) => ScalarValue::Int64(Some(*i)),
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Text(s) => f.write_str(s),
            ParamValue::Int(i) => write!(f, "{i}"),
        }
    }
}

/// One parameter of a saved query.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// None: the user must give it.
    pub default: Option<ParamValue>,
    pub description: String,
}

/// One saved query.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    /// Path under the queries folder without `.sql`: `cis/root-account-usage`.
    pub name: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub references: String,
    pub params: Vec<Param>,
    pub sql: String,
    /// Where it came from: `built-in` or the file's path.
    pub origin: String,
    /// A stable id (`-- id:`), by default `trailsql.` and the name with
    /// dots for slashes: what `hunt` and a findings file call it.
    pub id: String,
    /// ATT&CK and other tags (`-- tags: attack.defense-evasion,
    /// attack.t1562.008`), as Sigma rules carry them.
    pub tags: Vec<String>,
}

/// Names every query is given: the time window.
pub const WINDOW_PARAMS: [&str; 2] = ["since", "until"];

impl SavedQuery {
    /// Parse a query file's text; `name` is its catalogue name.
    pub fn parse(name: &str, text: &str, origin: &str) -> Result<SavedQuery> {
        let bad = |why: String| Error::Usage(format!("saved query {name} ({origin}): {why}"));
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            let Some(comment) = line.trim_start().strip_prefix("--") else {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            };
            if comment.starts_with("  ") && !comment.trim().is_empty() {
                // A continuation of the previous field.
                let Some((_, value)) = fields.last_mut() else {
                    return Err(bad("the header starts with a continuation line".into()));
                };
                value.push(' ');
                value.push_str(comment.trim());
            } else if let Some((key, value)) = comment.trim().split_once(':') {
                fields.push((key.trim().to_string(), value.trim().to_string()));
            }
        }
        let mut title = None;
        let mut description = None;
        let mut severity = None;
        let mut references = String::new();
        let mut params: Vec<Param> = Vec::new();
        let mut id = None;
        let mut tags = Vec::new();
        for (key, value) in fields {
            match key.as_str() {
                "title" => title = Some(value),
                "description" => description = Some(value),
                "severity" => {
                    severity = Some(Severity::parse(&value).ok_or_else(|| {
                        bad(format!(
                            "severity {value:?} is not one of info, low, medium, high, critical"
                        ))
                    })?)
                }
                "references" => references = value,
                "id" => {
                    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c == ',') {
                        return Err(bad(format!("id {value:?}: one word, no commas")));
                    }
                    id = Some(value)
                }
                "tags" => {
                    tags = value
                        .split(',')
                        .map(|t| t.trim().to_ascii_lowercase())
                        .filter(|t| !t.is_empty())
                        .collect()
                }
                "param" => {
                    let (spec, description) = value.split_once('|').unwrap_or((&value, ""));
                    let (pname, default) = match spec.split_once('=') {
                        Some((n, d)) => (n, Some(d.trim())),
                        None => (spec, None),
                    };
                    let pname = pname.trim().to_string();
                    if pname.is_empty()
                        || !pname.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || WINDOW_PARAMS.contains(&pname.as_str())
                    {
                        return Err(bad(format!("{pname:?} cannot be a parameter name")));
                    }
                    let default = default.map(|d| match d.parse::<i64>() {
                        Ok(i) => ParamValue::Int(i),
                        Err(_) => ParamValue::Text(d.to_string()),
                    });
                    params.push(Param {
                        name: pname,
                        default,
                        description: description.trim().to_string(),
                    });
                }
                other => return Err(bad(format!("unknown header field {other:?}"))),
            }
        }
        Ok(SavedQuery {
            name: name.to_string(),
            title: title.ok_or_else(|| bad("no `-- title:` line".into()))?,
            description: description.ok_or_else(|| bad("no `-- description:` line".into()))?,
            severity: severity.ok_or_else(|| bad("no `-- severity:` line".into()))?,
            references,
            params,
            sql: text.to_string(),
            origin: origin.to_string(),
            id: id.unwrap_or_else(|| format!("trailsql.{}", name.replace('/', "."))),
            tags,
        })
    }

    /// The query's one statement (a file of several is refused, naming it).
    pub fn statement(&self) -> Result<Statement> {
        let mut statements = Engine::parse(&self.sql).map_err(|e| self.failed(e))?;
        match (statements.pop(), statements.is_empty()) {
            (Some(s), true) => Ok(s),
            _ => Err(Error::Usage(format!(
                "saved query {} must be exactly one statement",
                self.name
            ))),
        }
    }

    /// `e`, said of this query.
    pub fn failed(&self, e: Error) -> Error {
        Error::Usage(format!("saved query {}: {e}", self.name))
    }

    /// The parameters that have no default and are not in `given`.
    pub fn missing<'a>(&'a self, given: &BTreeMap<String, String>) -> Vec<&'a str> {
        self.params
            .iter()
            .filter(|p| p.default.is_none() && !given.contains_key(&p.name))
            .map(|p| p.name.as_str())
            .collect()
    }

    /// Whether it places addresses (`geoip_country` and the others), which
    /// needs `--geoip`.
    pub fn needs_geoip(&self) -> bool {
        self.sql.to_ascii_lowercase().contains("geoip_")
    }

    /// What a run lacks: `--param KEY=VALUE` for each parameter with no
    /// default not in `given`, and `--geoip FILE` where it places
    /// addresses and no database was given.
    pub fn lacks(&self, given: &BTreeMap<String, String>, geoip: bool) -> Vec<String> {
        let mut lacks: Vec<String> = self
            .missing(given)
            .iter()
            .map(|m| format!("--param {m}=VALUE"))
            .collect();
        if self.needs_geoip() && !geoip {
            lacks.push("--geoip FILE".to_string());
        }
        lacks
    }

    /// The area: the first part of the name (`cis`, `forensics`).
    pub fn area(&self) -> &str {
        self.name.split('/').next().unwrap_or("")
    }

    /// Each parameter and the value it runs with: given, else its default
    /// (empty where it has none), for a reader of what was run.
    pub fn shown_params(&self, given: &BTreeMap<String, String>) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|p| {
                let value = given
                    .get(&p.name)
                    .cloned()
                    .or_else(|| p.default.as_ref().map(|d| d.to_string()))
                    .unwrap_or_default();
                (p.name.clone(), value)
            })
            .collect()
    }

    /// The placeholder values for one run: defaults, then `given` (KEY=VALUE
    /// pairs for this query's parameters), then the time window.
    pub fn values(&self, given: &BTreeMap<String, String>, window: &Window) -> Result<ParamValues> {
        let mut map = std::collections::HashMap::new();
        for p in &self.params {
            let value = match given.get(&p.name) {
                None => p.default.clone().ok_or_else(|| {
                    Error::Usage(format!(
                        "{} needs --param {}=VALUE ({})",
                        self.name, p.name, p.description
                    ))
                })?,
                Some(v) => match p.default {
                    Some(ParamValue::Int(_)) => {
                        ParamValue::Int(v.trim().parse().map_err(|_| {
                            Error::Usage(format!(
                                "{}: parameter {} takes a whole number, not {v:?}",
                                self.name, p.name
                            ))
                        })?)
                    }
                    _ => ParamValue::Text(v.clone()),
                },
            };
            map.insert(p.name.clone(), value.scalar());
        }
        let ts = |ms: i64| ScalarValue::TimestampMillisecond(Some(ms), Some(UTC.into()));
        map.insert("since".to_string(), ts(window.since_ms));
        map.insert("until".to_string(), ts(window.until_ms));
        Ok(ParamValues::from(map))
    }
}

/// `KEY=VALUE` parameter pairs (`--param`, `\\run`) as a map; a later pair
/// for the same key wins.
pub fn parse_pairs<'a>(
    pairs: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>> {
    let mut given = BTreeMap::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("parameter {p:?} is not KEY=VALUE")))?;
        given.insert(k.trim().to_string(), v.to_string());
    }
    Ok(given)
}

/// The saved queries a run can use, by name.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub queries: BTreeMap<String, SavedQuery>,
}

impl Catalogue {
    /// The built-in queries, then those under `user_dir` (overriding by name).
    pub fn load(user_dir: Option<&Path>) -> Result<Catalogue> {
        let mut queries = BTreeMap::new();
        for (name, text) in built_in::BUILT_IN {
            queries.insert(name.to_string(), SavedQuery::parse(name, text, "built-in")?);
        }
        if let Some(dir) = user_dir {
            let mut files = Vec::new();
            sql_files(dir, &mut files)?;
            for f in files {
                let name = f
                    .strip_prefix(dir)
                    .unwrap_or(&f)
                    .with_extension("")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&f, e))?;
                let q = SavedQuery::parse(&name, &text, &f.display().to_string())?;
                queries.insert(name, q);
            }
        }
        Ok(Catalogue { queries })
    }

    /// The queries `names` asks for: a full name (`cis/root-account-usage`) or
    /// a last part that is unique (`root-account-usage`).
    pub fn pick(&self, names: &[String]) -> Result<Vec<&SavedQuery>> {
        names
            .iter()
            .map(|n| {
                if let Some(q) = self.queries.get(n) {
                    return Ok(q);
                }
                let matches: Vec<&SavedQuery> = self
                    .queries
                    .values()
                    .filter(|q| q.name.rsplit('/').next() == Some(n.as_str()))
                    .collect();
                match matches.as_slice() {
                    [q] => Ok(*q),
                    [] => Err(Error::Usage(format!(
                        "no saved query {n:?}; `trailsql run --list` lists them"
                    ))),
                    many => Err(Error::Usage(format!(
                        "{n:?} names several saved queries: {}",
                        many.iter()
                            .map(|q| q.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            })
            .collect()
    }

    /// Every query, or those of one area.
    pub fn all(&self, area: Option<&str>) -> Vec<&SavedQuery> {
        self.queries
            .values()
            .filter(|q| area.is_none_or(|a| q.area() == a))
            .collect()
    }
}

/// The text that lists `queries` (`run --list`, `\\queries`): one block each.
pub fn listing(queries: &[&SavedQuery]) -> String {
    let mut out = String::new();
    for q in queries {
        out += &format!("{}  [{}]  {}\n", q.name, q.severity.as_str(), q.title);
        out += &format!("    id {}", q.id);
        if !q.tags.is_empty() {
            out += &format!("  tags {}", q.tags.join(", "));
        }
        out += "\n";
        for p in &q.params {
            let default = match &p.default {
                Some(d) => d.to_string(),
                None => "VALUE (required)".to_string(),
            };
            out += &format!("    --param {}={default}  {}\n", p.name, p.description);
        }
        out += &format!("    from {}\n", q.origin);
    }
    out
}

fn sql_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let p = e.map_err(|e| Error::io(dir, e))?.path();
        if p.is_dir() {
            sql_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
    out.sort();
    Ok(())
}

/// What one saved query found.
pub struct Outcome<'q> {
    pub query: &'q SavedQuery,
    /// Its rows, or why it was not run (`not run: needs ...`: a parameter
    /// without a default, or `--geoip`, was not given).
    pub answer: std::result::Result<StatementResult, String>,
}

impl Outcome<'_> {
    /// How many rows it returned, when it ran.
    pub fn findings(&self) -> Option<usize> {
        self.answer.as_ref().ok().map(StatementResult::rows)
    }
}

/// The plans of `queries` (made on every core, nothing run), each refused
/// unless it only reads: a query pack is someone else's SQL. A refusal
/// names the query and its file.
pub async fn plan_read_only(
    engine: &Engine,
    queries: &[&SavedQuery],
) -> Result<Vec<datafusion::logical_expr::LogicalPlan>> {
    let statements = queries
        .iter()
        .map(|q| q.statement())
        .collect::<Result<Vec<_>>>()?;
    let mut plans = Vec::new();
    for (q, planned) in queries.iter().zip(engine.plans(statements).await) {
        let plan = planned
            .map_err(|e| Error::Usage(format!("saved query {} ({}): {e}", q.name, q.origin)))?;
        Engine::only_reads(&plan).map_err(|e| {
            Error::Usage(format!(
                "saved query {} ({}) may only read, and is not run: {e}",
                q.name, q.origin
            ))
        })?;
        plans.push(plan);
    }
    Ok(plans)
}

/// Run `picked` over the engine's tables, printing each query's title and
/// findings through `sink` and, with `out_dir`, writing one CSV per query
/// (`DIR/<area>/<name>.csv`, header only when nothing was found) plus
/// `DIR/summary.csv`. A closed output pipe stops the printing, not the
/// queries: what they found still decides the exit code and the files.
/// `given` holds KEY=VALUE parameters; a key no picked
/// query takes is an error (a typo would otherwise be silently ignored). A
/// query missing a required parameter is an error when it is the only one
/// picked; among several (`--all`) it is skipped, and the output and the
/// summary say so.
pub async fn run_queries<'q>(
    engine: &Engine,
    sink: &Sink,
    picked: &[&'q SavedQuery],
    given: &BTreeMap<String, String>,
    window: &Window,
    out_dir: Option<&Path>,
) -> Result<Vec<Outcome<'q>>> {
    for key in given.keys() {
        if !picked
            .iter()
            .any(|q| q.params.iter().any(|p| &p.name == key))
        {
            return Err(Error::Usage(format!(
                "no query run here takes the parameter {key:?}"
            )));
        }
    }
    // Query packs are others' SQL: each may only read, checked for all of
    // them before any runs.
    plan_read_only(engine, picked).await?;
    // Every query that can run, in one pass over the archive.
    let mut statements = Vec::new();
    let mut runs = Vec::new();
    let geoip = engine.has_geoip();
    for q in picked {
        let skip = picked.len() > 1 && !q.lacks(given, geoip).is_empty();
        runs.push(!skip);
        if !skip {
            statements.push((q.statement()?, Some(q.values(given, window)?)));
        }
    }
    let started = Instant::now();
    let together = crate::pass::run_together(engine, statements).await?;
    let elapsed = started.elapsed();
    let mut results = together.results.into_iter();
    // The CSV files are for spreadsheets and scripts, never a terminal.
    let files_cells = Cells {
        escape: false,
        csv_safe: !sink.csv_raw,
    };
    let mut neutralised = 0;
    // Each query's rows (or why it was not run), its CSV file written.
    // A query that failed ends the run there, the queries before it shown.
    let mut answers: Vec<std::result::Result<StatementResult, String>> = Vec::new();
    let mut failed = None;
    for (q, ran) in picked.iter().zip(runs) {
        if !ran {
            let needs = q.lacks(given, geoip);
            answers.push(Err(format!("needs {}", needs.join(" "))));
            continue;
        }
        let result = match results.next().expect("a result for each statement") {
            Ok(result) => result,
            Err(e) => {
                failed = Some(q.failed(e));
                break;
            }
        };
        if let Some(dir) = out_dir {
            let file = dir.join(format!("{}.csv", q.name));
            neutralised += crate::console::write_csv(&file, &result, files_cells)?;
        }
        answers.push(Ok(result));
    }
    // On a terminal, several queries show the summary first and each one's
    // first rows; elsewhere every row, query by query.
    let on_screen = picked.len() > 1
        && failed.is_none()
        && sink.format == Format::Table
        && sink.shows_on_terminal();
    if on_screen {
        let ran: Vec<crate::screen::Ran> = picked
            .iter()
            .zip(&answers)
            .map(|(q, a)| crate::screen::Ran {
                name: &q.name,
                severity: q.severity.as_str(),
                rank: q.severity as u8,
                title: &q.title,
                result: a.as_ref().map_err(Clone::clone),
            })
            .collect();
        unless_closed(crate::screen::show(sink, &ran).await)?;
    }
    let mut outcomes = Vec::new();
    for (q, answer) in picked.iter().zip(answers) {
        let answer = match answer {
            Err(needs) => {
                if !on_screen {
                    unless_closed(say(&format!(
                        "== {} [{}] {}: not run, {needs}\n",
                        q.name,
                        q.severity.as_str(),
                        q.title,
                    )))?;
                }
                Err(format!("not run: {needs}"))
            }
            Ok(result) => {
                let findings = result.rows();
                if !on_screen {
                    let noun = plural(findings, "finding", "findings");
                    unless_closed(say(&format!(
                        "== {} [{}] {}: {findings} {noun}\n",
                        q.name,
                        q.severity.as_str(),
                        q.title
                    )))?;
                    if findings > 0 {
                        unless_closed(sink.emit(&result, None, elapsed).await)?;
                    }
                }
                Ok(result)
            }
        };
        outcomes.push(Outcome { query: q, answer });
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // What the one pass read, once for all the queries (and what a query
    // that read the archive on its own read).
    for report in &together.reports {
        sink.counts(Some(report));
    }
    let summary = summary(&outcomes)?;
    if outcomes.len() > 1 && !on_screen {
        unless_closed(say("== summary\n"))?;
        unless_closed(sink.emit(&summary, None, std::time::Duration::ZERO).await)?;
    }
    if let Some(dir) = out_dir {
        neutralised += crate::console::write_csv(&dir.join("summary.csv"), &summary, files_cells)?;
        if neutralised > 0 {
            unless_closed(say(&format!(
                "{} in the CSV files of {} began like a spreadsheet formula and {} written \
                 with a leading ' (--csv-raw writes cells as they are)\n",
                crate::output::count(neutralised, "cell", "cells"),
                dir.display(),
                plural(neutralised, "was", "were")
            )))?;
        }
    }
    Ok(outcomes)
}

/// What a report shows of a run of saved queries: each query with what it
/// found, the values its parameters ran with, the command line, the
/// sources and the window.
pub fn report_run(
    outcomes: &[Outcome<'_>],
    given: &BTreeMap<String, String>,
    window: &Window,
    sources: Vec<String>,
) -> crate::report::Run {
    let detections = outcomes
        .iter()
        .map(|o| {
            let q = o.query;
            crate::report::Detection {
                id: q.name.clone(),
                title: q.title.clone(),
                level: q.severity.as_str().to_string(),
                tags: q.tags.clone(),
                description: q.description.clone(),
                kind: "saved query",
                text: q.sql.clone(),
                params: q.shown_params(given),
                result: o.answer.clone(),
            }
        })
        .collect();
    crate::report::Run {
        command: crate::output::command_line(),
        sources,
        window: window.describe(),
        detections,
        integrity: None,
    }
}

/// One row per query: name, severity, title, findings (empty when it was not
/// run) and a note saying why not.
fn summary(outcomes: &[Outcome]) -> Result<StatementResult> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("query", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("findings", DataType::UInt64, true),
        Field::new("note", DataType::Utf8, true),
    ]));
    let col = |f: for<'a> fn(&'a Outcome<'a>) -> &'a str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(outcomes.iter().map(f)))
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            col(|o| o.query.name.as_str()),
            col(|o| o.query.severity.as_str()),
            col(|o| o.query.title.as_str()),
            Arc::new(UInt64Array::from_iter(
                outcomes.iter().map(|o| o.findings().map(|n| n as u64)),
            )),
            Arc::new(StringArray::from_iter(
                outcomes.iter().map(|o| o.answer.as_ref().err()),
            )),
        ],
    )
    .map_err(DataFusionError::from)?;
    Ok(StatementResult {
        schema,
        batches: vec![batch],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_params_and_errors() {
        let text = "-- title: T\n-- severity: high\n-- description: one\n--   two\n\
                    -- param: n = 5 | how many\n-- param: who = % \n\
                    SELECT 1 -- title: not the header\n";
        let q = SavedQuery::parse("a/b", text, "test").unwrap();
        assert_eq!(q.description, "one two");
        assert_eq!(q.severity, Severity::High);
        assert_eq!(q.area(), "a");
        assert_eq!(q.params[0].default, Some(ParamValue::Int(5)));
        assert_eq!(q.params[0].description, "how many");
        assert_eq!(q.params[1].default, Some(ParamValue::Text("%".into())));
        let given = BTreeMap::from([("n".to_string(), "x".to_string())]);
        assert!(q.values(&given, &Window::default()).is_err());
        // A parameter without a default must be given.
        let q = SavedQuery::parse("a/k", "-- title: T\n-- severity: info\n-- description: d\n-- param: key | the key\nSELECT $key", "test").unwrap();
        assert_eq!(q.params[0].default, None);
        assert_eq!(q.missing(&BTreeMap::new()), vec!["key"]);
        let err = q.values(&BTreeMap::new(), &Window::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("needs --param key=VALUE (the key)"),
            "{err}"
        );
        let given = BTreeMap::from([("key".to_string(), "AKIA1".to_string())]);
        assert!(q.missing(&given).is_empty());
        assert!(q.values(&given, &Window::default()).is_ok());
        for bad in [
            "-- severity: high\n-- description: d\nSELECT 1",
            "-- title: t\n-- severity: urgent\n-- description: d\nSELECT 1",
            "-- title: t\n-- severity: low\n-- description: d\n-- titel: x\nSELECT 1",
            "-- title: t\n-- severity: low\n-- description: d\n-- param: since = 1\nSELECT 1",
        ] {
            assert!(SavedQuery::parse("x", bad, "test").is_err(), "{bad}");
        }
    }

    #[test]
    fn key_value_pairs() {
        let m = parse_pairs(["a=1", " b =x=y", "a=2"]).unwrap();
        assert_eq!(m["a"], "2");
        assert_eq!(m["b"], "x=y");
        assert!(parse_pairs(["novalue"]).is_err());
    }

    #[test]
    fn built_in_queries_parse_and_follow_the_rules() {
        let c = Catalogue::load(None).unwrap();
        assert!(!c.queries.is_empty());
        for q in c.queries.values() {
            let sql = q.sql.to_ascii_lowercase();
            for p in WINDOW_PARAMS {
                assert!(
                    sql.contains(&format!("${p}")),
                    "{} does not use ${p}",
                    q.name
                );
            }
            for p in &q.params {
                assert!(
                    q.sql.contains(&format!("${}", p.name)),
                    "{} declares {} but does not use it",
                    q.name,
                    p.name
                );
            }
            let body: Vec<&str> = q
                .sql
                .lines()
                .map(|l| l.split("--").next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .collect();
            let tail = body.join(" ").to_ascii_lowercase();
            let tail = tail.trim_end_matches(';').trim_end();
            let last = tail.rfind("order by").map(|i| &tail[i..]).unwrap_or("");
            // The last ORDER BY is the statement's own, not a subquery's.
            let closes = last.matches(')').count() > last.matches('(').count();
            assert!(
                !last.is_empty() && !closes,
                "{} must end with ORDER BY",
                q.name
            );
        }
    }
}
