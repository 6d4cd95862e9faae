//! `--report FILE.html`: one self-contained HTML file for a run of
//! detections, opening offline in any browser. Nothing is fetched: the
//! styles and the one small script (sorting a table by a column) are in
//! the file, the charts are SVG drawn here, and the page's
//! Content-Security-Policy allows no source at all but that script (by its
//! hash) and the inline styles, so even text that slipped through could
//! neither load nor run anything. All log text is escaped.
//!
//! The page: what was run on which sources and window, findings per day
//! stacked by level, the top actors, source addresses and regions, the
//! ATT&CK tactics touched, then one section per detection with its
//! description, query, parameters and its findings as a sortable table
//! whose rows open to the full event, as CloudTrail wrote it (the first
//! [`ROWS`] findings of each; every one is in `--out-dir`). Where the log
//! files read were checked against their digests, the facts say how they
//! fared and every finding shows its file's state. `verify --report`
//! writes a page of its own, under the same policy.
//!
//! Of trailsql it imports `error`, `evidence` (the integrity of the log
//! files read), `output`, `record`, `session`.

mod chart;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use sha2::Digest;

use crate::error::{Error, Result};
use crate::output::text_at;
use crate::session::{Engine, StatementResult, DEFAULT_TABLE};

/// Findings of one detection the report shows (with their events).
pub const ROWS: usize = 1000;

/// One detection of the run.
pub struct Detection {
    pub id: String,
    pub title: String,
    /// critical, high, medium, low or info.
    pub level: String,
    pub tags: Vec<String>,
    pub description: String,
    /// "saved query" or "sigma rule".
    pub kind: &'static str,
    /// The SQL or the rule, as run.
    pub text: String,
    pub params: Vec<(String, String)>,
    /// Its findings, or why it was not run (`not run: ...`, shown as is).
    pub result: std::result::Result<StatementResult, String>,
}

impl Detection {
    /// How many findings it has (0 when it was not run).
    fn found(&self) -> usize {
        self.result.as_ref().map(|r| r.rows()).unwrap_or(0)
    }
}

/// What was run, on what.
pub struct Run {
    /// The command line, as typed.
    pub command: String,
    pub sources: Vec<String>,
    pub window: String,
    pub detections: Vec<Detection>,
    /// The log files read, checked against their digest files (with
    /// public keys at hand): each finding shows its file's state.
    pub integrity: Option<crate::evidence::Checked>,
}

/// Text for HTML (element content and attribute values alike).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters show as their code, never act.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Sorting a findings table by the column clicked (numbers as numbers).
const SCRIPT: &str = r#"
document.querySelectorAll("table.findings th").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var down = th.getAttribute("data-order") !== "asc";
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-order"); });
    th.setAttribute("data-order", down ? "asc" : "desc");
    var rows = Array.prototype.slice.call(body.rows);
    var key = function (r) { var c = r.cells[col]; return c ? c.getAttribute("data-v") || c.textContent : ""; };
    var numeric = rows.every(function (r) { var k = key(r); return k === "" || !isNaN(Number(k)); });
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
      return down ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"#;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#111;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}\
th{background:#f3f4f6}table.findings th{cursor:pointer}table.findings td{max-width:28em;overflow-wrap:anywhere}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f9fafb;padding:.5em;margin:0}\
.level{font-weight:bold}.critical{color:#7f1d1d}.high{color:#dc2626}.medium{color:#b45309}.low{color:#2563eb}.info,.informational{color:#6b7280}\
.legend span{margin-right:1em}.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em}\
svg text{font:12px system-ui,sans-serif}.axis{fill:#555}.count{fill:#111}\
.integrity.problem,.problem{color:#b91c1c;font-weight:bold}tr.problem td{background:#fef2f2}\
table.findings td.n{white-space:nowrap}";

/// Write the report of `run` to `path`; the events behind its findings
/// are read from the engine's default table.
pub async fn write(engine: &Engine, run: &Run, path: &Path) -> Result<()> {
    let shown: Vec<Option<Shown>> = run
        .detections
        .iter()
        .map(|d| d.result.as_ref().ok().map(rows_of))
        .collect();
    let events = events(engine, &shown).await?;
    let countries = if engine.has_geoip() {
        Some(countries(engine, run).await?)
    } else {
        None
    };
    let html = page(run, &shown, &events, countries.as_deref());
    std::fs::write(path, html).map_err(|e| Error::io(path, e))
}

/// A detection's columns and the rows of it the page shows, as text.
type Shown = (Vec<String>, Vec<Vec<Option<String>>>);

/// The findings' rows a detection shows (the first [`ROWS`]), as text.
fn rows_of(result: &StatementResult) -> Shown {
    let columns: Vec<String> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    'batches: for batch in &result.batches {
        for row in 0..batch.num_rows() {
            if rows.len() >= ROWS {
                break 'batches;
            }
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| text_at(c.as_ref(), row))
                    .collect(),
            );
        }
    }
    (columns, rows)
}

/// Ask `sql` of `columns` as a table called `name` for the while (`{TABLE}`
/// in `sql`; `{DEFAULT}` is the default source's table).
async fn ask(
    engine: &Engine,
    name: &str,
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    sql: &str,
) -> Result<Vec<StatementResult>> {
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(datafusion::error::DataFusionError::from)?;
    let table = MemTable::try_new(schema, vec![vec![batch]])?;
    engine.ctx.register_table(name, Arc::new(table))?;
    let sql = sql
        .replace("{TABLE}", name)
        .replace("{DEFAULT}", DEFAULT_TABLE);
    let answer = engine.run(&sql).await;
    engine.ctx.deregister_table(name)?;
    answer
}

/// An event as the page shows it: its full record, and the log file it
/// came from.
struct Event {
    json: String,
    log_object: Option<String>,
}

/// The full records of the events the shown findings name, by event id.
async fn events(engine: &Engine, shown: &[Option<Shown>]) -> Result<HashMap<String, Event>> {
    let mut ids = HashSet::new();
    for (columns, rows) in shown.iter().flatten() {
        if let Some(at) = columns.iter().position(|c| c == "event_id") {
            ids.extend(rows.iter().filter_map(|r| r[at].clone()));
        }
    }
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values(ids));
    let found = ask(
        engine,
        "trailsql_report_events",
        schema,
        vec![ids],
        "SELECT c.* FROM {DEFAULT} c JOIN {TABLE} r ON c.eventid = r.id",
    )
    .await?;
    let mut by_id = HashMap::new();
    for result in found {
        for batch in &result.batches {
            let log_object = batch
                .schema()
                .index_of(crate::record::LOG_OBJECT)
                .ok()
                .map(|at| batch.column(at).clone());
            let records = crate::record::rebuild::rebuild_batch(batch);
            for (row, record) in records.into_iter().enumerate() {
                if let Some(id) = record.get("eventID").and_then(|v| v.as_str()) {
                    let event = Event {
                        json: serde_json::to_string_pretty(&record).unwrap_or_default(),
                        log_object: log_object.as_ref().and_then(|c| text_at(c.as_ref(), row)),
                    };
                    by_id.entry(id.to_string()).or_insert(event);
                }
            }
        }
    }
    Ok(by_id)
}

/// The findings' source addresses by the country the `--geoip` database
/// places them in (`-` where it places none).
async fn countries(engine: &Engine, run: &Run) -> Result<Vec<(String, u64)>> {
    let addresses = top(run, "source_ip", usize::MAX);
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("ip", DataType::Utf8, false),
        Field::new("n", DataType::UInt64, false),
    ]));
    let placed = ask(
        engine,
        "trailsql_report_addresses",
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                addresses.iter().map(|a| a.0.as_str()),
            )),
            Arc::new(UInt64Array::from_iter_values(addresses.iter().map(|a| a.1))),
        ],
        "SELECT coalesce(geoip_country(ip), '-') AS country, CAST(sum(n) AS BIGINT) AS n \
         FROM {TABLE} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    )
    .await?;
    let mut out = Vec::new();
    for result in placed {
        for batch in &result.batches {
            for row in 0..batch.num_rows() {
                let country = text_at(batch.column(0).as_ref(), row).unwrap_or_default();
                let n = text_at(batch.column(1).as_ref(), row)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                out.push((country, n));
            }
        }
    }
    Ok(out)
}

/// Count the values of one column over every detection's findings.
fn top(run: &Run, column: &str, limit: usize) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for d in &run.detections {
        if let Ok(result) = &d.result {
            let Ok(at) = result.schema.index_of(column) else {
                continue;
            };
            for batch in &result.batches {
                let col = batch.column(at);
                for row in 0..batch.num_rows() {
                    let v = text_at(col.as_ref(), row).unwrap_or_else(|| "-".into());
                    *counts.entry(v).or_default() += 1;
                }
            }
        }
    }
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.truncate(limit);
    counts
}

/// Findings per (day, level).
fn per_day(run: &Run) -> Vec<(String, String, u64)> {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for d in &run.detections {
        if let Ok(result) = &d.result {
            let Ok(at) = result.schema.index_of("eventtime") else {
                continue;
            };
            for batch in &result.batches {
                let col = batch.column(at);
                for row in 0..batch.num_rows() {
                    if let Some(t) = text_at(col.as_ref(), row) {
                        let day: String = t.chars().take(10).collect();
                        *counts
                            .entry((day, level_key(&d.level).to_string()))
                            .or_default() += 1;
                    }
                }
            }
        }
    }
    counts.into_iter().map(|((d, l), n)| (d, l, n)).collect()
}

/// The ATT&CK tactics the detections that found something are tagged with.
fn tactics(run: &Run) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for d in &run.detections {
        let found = d.found() as u64;
        if found == 0 {
            continue;
        }
        for tag in &d.tags {
            let Some(t) = tag.strip_prefix("attack.") else {
                continue;
            };
            let mut chars = t.chars();
            let technique = matches!(chars.next(), Some('t' | 'g' | 's'))
                && chars.next().is_some_and(|c| c.is_ascii_digit());
            if !technique {
                *counts.entry(t.to_string()).or_default() += found;
            }
        }
    }
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// A level as the charts and styles name it (Sigma's `informational` is
/// a saved query's `info`).
fn level_key(level: &str) -> &str {
    match level {
        "informational" => "info",
        other => other,
    }
}

fn rank(level: &str) -> usize {
    chart::LEVELS
        .iter()
        .position(|(l, _)| *l == level_key(level))
        .unwrap_or(chart::LEVELS.len())
}

/// A page's start, up to its heading: the policy that lets nothing be
/// fetched and only [`SCRIPT`] run, and the styles.
fn head(title: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT));
    let title = escape(title);
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{hash}'\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>"
    )
}

/// One row of a page's facts table.
fn fact(h: &mut String, k: &str, v: &str) {
    let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
}

/// The page.
fn page(
    run: &Run,
    shown: &[Option<Shown>],
    events: &HashMap<String, Event>,
    countries: Option<&[(String, u64)]>,
) -> String {
    let total: usize = run.detections.iter().map(|d| d.found()).sum();
    let mut h = head("trailsql report");
    h.push_str("<section id=\"run\"><table class=\"facts\">");
    fact(&mut h, "command", &run.command);
    fact(&mut h, "sources", &run.sources.join(", "));
    fact(&mut h, "window", &run.window);
    fact(
        &mut h,
        "written",
        &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    fact(&mut h, "trailsql", env!("CARGO_PKG_VERSION"));
    let ran = run.detections.iter().filter(|d| d.result.is_ok()).count();
    fact(
        &mut h,
        "detections",
        &format!(
            "{} run, {} not run, {} found something",
            ran,
            run.detections.len() - ran,
            run.detections.iter().filter(|d| d.found() > 0).count()
        ),
    );
    fact(&mut h, "findings", &total.to_string());
    // Each log file's state, by its location, where digests were checked.
    let mut states: HashMap<&str, &crate::evidence::Integrity> = HashMap::new();
    if let Some(checked) = run.integrity.as_ref().filter(|c| !c.keys.is_empty()) {
        let keys: Vec<String> = checked
            .keys
            .iter()
            .map(|(s, k)| format!("{s} (public keys from {k})"))
            .collect();
        fact(&mut h, "digests checked", &keys.join(", "));
        fact(&mut h, "log files read", &checked.tally());
        for ((_, location), i) in &checked.files {
            states.insert(location.as_str(), i);
        }
    }
    h.push_str("</table></section>");
    h.push_str("<section id=\"charts\"><h2>Findings per day</h2>");
    h.push_str(&chart::per_day(&per_day(run)));
    for (id, heading, column) in [
        ("actors", "Top actors", "actor"),
        ("addresses", "Top source addresses", "source_ip"),
        ("regions", "Regions", "region"),
    ] {
        let _ = write!(h, "<h2>{heading}</h2>");
        h.push_str(&chart::bars(id, &top(run, column, 10)));
        if id == "addresses" {
            if let Some(countries) = countries {
                h.push_str("<h2>Countries of the source addresses</h2>");
                h.push_str(&chart::bars("countries", countries));
            }
        }
    }
    h.push_str("</section><section id=\"tactics\"><h2>ATT&amp;CK tactics</h2>");
    let tactics = tactics(run);
    if tactics.is_empty() {
        h.push_str("<p>None touched.</p>");
    } else {
        h.push_str("<table><tr><th>tactic</th><th>findings</th></tr>");
        for (t, n) in &tactics {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(t));
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
    // The detections, those that found something first, highest level first.
    let mut order: Vec<usize> = (0..run.detections.len()).collect();
    order.sort_by_key(|&k| {
        let d = &run.detections[k];
        let n = d.found();
        (n == 0, rank(&d.level), std::cmp::Reverse(n))
    });
    h.push_str("<section id=\"detections\"><h2>Detections</h2><table><tr><th>detection</th><th>level</th><th>findings</th></tr>");
    for (i, d) in order.iter().map(|&k| &run.detections[k]).enumerate() {
        let found = match &d.result {
            Ok(r) => r.rows().to_string(),
            Err(why) => why.clone(),
        };
        let _ = write!(
            h,
            "<tr><td><a href=\"#d{i}\">{}</a> {}</td><td class=\"level {}\">{}</td><td>{}</td></tr>",
            escape(&d.id),
            escape(&d.title),
            escape(&d.level),
            escape(&d.level),
            escape(&found)
        );
    }
    h.push_str("</table></section>");
    let states = (!states.is_empty()).then_some(&states);
    for (i, &k) in order.iter().enumerate() {
        section(
            &mut h,
            i,
            &run.detections[k],
            shown[k].as_ref(),
            events,
            states,
        );
    }
    let _ = writeln!(h, "<script>{SCRIPT}</script></body></html>");
    h
}

/// One detection's section.
fn section(
    h: &mut String,
    i: usize,
    d: &Detection,
    shown: Option<&Shown>,
    events: &HashMap<String, Event>,
    states: Option<&HashMap<&str, &crate::evidence::Integrity>>,
) {
    let _ = write!(
        h,
        "<section class=\"detection\" id=\"d{i}\"><h2>{}</h2>\
         <p><span class=\"level {}\">{}</span> · {} · <code>{}</code>{}</p><p>{}</p>\
         <details><summary>{}</summary><pre>{}</pre></details>",
        escape(&d.title),
        escape(&d.level),
        escape(&d.level),
        escape(d.kind),
        escape(&d.id),
        if d.tags.is_empty() {
            String::new()
        } else {
            format!(" · {}", escape(&d.tags.join(", ")))
        },
        escape(&d.description),
        if d.kind == "saved query" {
            "query"
        } else {
            "rule"
        },
        escape(&d.text)
    );
    if !d.params.is_empty() {
        h.push_str("<table class=\"params\"><tr><th>parameter</th><th>value</th></tr>");
        for (k, v) in &d.params {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", escape(k), escape(v));
        }
        h.push_str("</table>");
    }
    let result = match &d.result {
        Err(why) => {
            let _ = write!(h, "<p>{}.</p></section>", escape(why));
            return;
        }
        Ok(r) => r,
    };
    let all = result.rows();
    if all == 0 {
        h.push_str("<p>No findings.</p></section>");
        return;
    }
    let Some((columns, rows)) = shown else {
        return;
    };
    let _ = write!(
        h,
        "<p class=\"count\">{all} {}{}</p><table class=\"findings\"><thead><tr>",
        if all == 1 { "finding" } else { "findings" },
        if rows.len() < all {
            format!(" (the first {} here; every one in --out-dir)", rows.len())
        } else {
            String::new()
        }
    );
    for c in columns {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    if states.is_some() {
        h.push_str("<th>log file</th>");
    }
    h.push_str("<th>event</th></tr></thead><tbody>");
    let id_at = columns.iter().position(|c| c == "event_id");
    for row in rows {
        h.push_str("<tr>");
        for cell in row {
            match cell {
                Some(v) => {
                    let _ = write!(h, "<td>{}</td>", escape(v));
                }
                None => h.push_str("<td class=\"null\"></td>"),
            }
        }
        let event = id_at
            .and_then(|at| row[at].as_ref())
            .and_then(|id| events.get(id));
        if let Some(states) = states {
            // Whether the file the event came from is as CloudTrail wrote it.
            let file = event.and_then(|e| e.log_object.as_deref());
            match file.and_then(|f| Some((f, states.get(f)?))) {
                Some((f, i)) => {
                    let _ = write!(
                        h,
                        "<td class=\"integrity{}\" title=\"{}\">{}</td>",
                        if i.problem { " problem" } else { "" },
                        escape(&format!("{f}: {}", i.detail)),
                        escape(&i.state)
                    );
                }
                None => h.push_str("<td class=\"integrity\">not checked</td>"),
            }
        }
        match event {
            Some(e) => {
                let _ = write!(
                    h,
                    "<td><details><summary>JSON</summary><pre>{}</pre></details></td>",
                    escape(&e.json)
                );
            }
            None => h.push_str("<td></td>"),
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></section>");
}

/// `verify --report FILE.html`: the integrity of an archive as one page:
/// the facts of the check, files by kind and state as bars, the problems,
/// then every file checked as a sortable table.
pub fn write_verify(
    report: &crate::verify::Report,
    facts: &[(&str, String)],
    path: &Path,
) -> Result<()> {
    let html = verify_page(report, facts);
    std::fs::write(path, html).map_err(|e| Error::io(path, e))
}

fn verify_page(report: &crate::verify::Report, facts: &[(&str, String)]) -> String {
    let mut h = head("trailsql integrity report");
    h.push_str("<section id=\"run\"><table class=\"facts\">");
    for (k, v) in facts {
        fact(&mut h, k, v);
    }
    fact(
        &mut h,
        "written",
        &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    fact(&mut h, "trailsql", env!("CARGO_PKG_VERSION"));
    fact(
        &mut h,
        "digest files",
        &format!(
            "{} listed, {} in the window",
            report.digests_listed, report.digests_in_window
        ),
    );
    let problems: Vec<&crate::verify::Finding> = report
        .findings
        .iter()
        .filter(|f| f.state.is_problem())
        .collect();
    fact(
        &mut h,
        "verdict",
        &match problems.len() {
            0 => "no problems: every digest and log file checked is as CloudTrail wrote it"
                .to_string(),
            n => format!("{n} {}", if n == 1 { "problem" } else { "problems" }),
        },
    );
    h.push_str("</table></section><section id=\"charts\"><h2>Files by state</h2>");
    let counts: Vec<(String, u64)> = report
        .counts()
        .into_iter()
        .map(|((kind, state), n)| (format!("{kind} {}", state.as_str()), n as u64))
        .collect();
    h.push_str(&chart::bars("states", &counts));
    h.push_str("</section><section id=\"problems\"><h2>Problems</h2>");
    if problems.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<ul>");
        for f in &problems {
            let _ = write!(
                h,
                "<li class=\"problem\"><b>{} {}</b>: <code>{}</code>: {}</li>",
                escape(f.kind.as_str()),
                escape(f.state.as_str()),
                escape(&f.file),
                escape(&f.detail)
            );
        }
        h.push_str("</ul>");
    }
    if report.findings.iter().any(|f| {
        f.kind == crate::verify::Kind::Digest && f.state == crate::verify::State::Unverifiable
    }) {
        h.push_str(
            "<p>The newest digest of each chain is checked only as far as a copy allows: \
             its signature is in S3 object metadata, which a copy on disk does not keep.</p>",
        );
    }
    let _ = write!(
        h,
        "</section><section id=\"files\"><h2>Every file checked</h2>\
         <p class=\"count\">{} files</p><table class=\"findings\"><thead><tr><th>kind</th>\
         <th>file</th><th>state</th><th>digest</th><th>detail</th></tr></thead><tbody>",
        report.findings.len()
    );
    for f in &report.findings {
        let _ = write!(
            h,
            "<tr{}><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            if f.state.is_problem() {
                " class=\"problem\""
            } else {
                ""
            },
            escape(f.kind.as_str()),
            escape(&f.file),
            escape(f.state.as_str()),
            escape(f.digest.as_deref().unwrap_or("")),
            escape(&f.detail)
        );
    }
    let _ = writeln!(
        h,
        "</tbody></table></section><script>{SCRIPT}</script></body></html>"
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_and_shows_controls() {
        let hostile = "<img src=x onerror=alert(1)>\"'&\u{1b}[31m";
        let e = escape(hostile);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
        assert!(e.contains("&lt;img") && e.contains("\\u{001b}"), "{e}");
    }

    #[test]
    fn the_script_is_allowed_by_its_hash_alone() {
        let run = Run {
            command: "run --all".into(),
            sources: vec!["./archive".into()],
            window: "all time".into(),
            detections: vec![],
            integrity: None,
        };
        let page = page(&run, &[], &HashMap::new(), None);
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT));
        assert!(page.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(page.contains(&format!("<script>{SCRIPT}</script>")));
        assert!(page.contains("default-src 'none'"));
    }
}
