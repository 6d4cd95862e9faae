//! What `run` shows on a terminal when it runs several saved queries: the
//! summary first (findings by severity with the first and last event
//! seen, then the queries that found something, highest severity first),
//! then each of those queries (its title in its heading) with as many of
//! its first rows as share the screen, and where the rest is; `hunt` shows
//! its detections that fired the same way after its own summary. Files and
//! pipes get every row, in the order the queries were picked, as before.
//!
//! Of trailsql it imports `console`, `error`, `session`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringArray, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit, TimestampMillisecondType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;

use crate::console::{plural, say, Sink, MORE_OF_RUN as MORE};
use crate::error::Result;
use crate::session::StatementResult;

/// Rows a query shows at least, however many share the screen.
const AT_LEAST: usize = 3;

/// One saved query's part in a run.
pub struct Ran<'a> {
    pub name: &'a str,
    pub severity: &'a str,
    /// Higher is more severe.
    pub rank: u8,
    pub title: &'a str,
    /// Its rows, or why it was not run.
    pub result: std::result::Result<&'a StatementResult, String>,
}

impl Ran<'_> {
    fn findings(&self) -> usize {
        self.result.as_ref().map(|r| r.rows()).unwrap_or(0)
    }
}

/// The first and last `eventtime` of a result (milliseconds), where it has
/// that column.
fn span(result: &StatementResult) -> Span {
    let at = result.schema.index_of("eventtime").ok()?;
    let millis = DataType::Timestamp(TimeUnit::Millisecond, None);
    let mut span: Option<(i64, i64)> = None;
    for batch in &result.batches {
        let column = cast(batch.column(at), &millis).ok()?;
        let times = column.as_primitive::<TimestampMillisecondType>();
        for t in times.iter().flatten() {
            span = Some(match span {
                None => (t, t),
                Some((a, b)) => (a.min(t), b.max(t)),
            });
        }
    }
    span
}

fn when(millis: Option<i64>) -> Option<String> {
    let t = chrono::DateTime::from_timestamp_millis(millis?)?;
    Some(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A table of text columns and one count column, `counted`.
fn table(
    columns: &[&str],
    counted: &str,
    rows: Vec<(Vec<Option<String>>, u64)>,
) -> Result<StatementResult> {
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(*c, DataType::Utf8, true))
        .collect();
    fields.insert(
        columns.len().min(2),
        Field::new(counted, DataType::UInt64, false),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = (0..columns.len())
        .map(|i| {
            Arc::new(StringArray::from_iter(
                rows.iter().map(|(cells, _)| cells[i].clone()),
            )) as ArrayRef
        })
        .collect();
    arrays.insert(
        columns.len().min(2),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|(_, n)| *n))),
    );
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(DataFusionError::from)?;
    Ok(StatementResult {
        schema,
        batches: vec![batch],
    })
}

/// The first and last `eventtime` seen, in milliseconds.
type Span = Option<(i64, i64)>;

/// Print the run on the terminal `sink` is.
pub async fn show(sink: &Sink, ran: &[Ran<'_>]) -> Result<()> {
    let mut found: Vec<(&Ran, Span)> = ran
        .iter()
        .filter(|r| r.findings() > 0)
        .map(|r| (r, r.result.as_ref().ok().and_then(|x| span(x))))
        .collect();
    found.sort_by_key(|(r, _)| std::cmp::Reverse((r.rank, r.findings())));
    let whole = sink.showing(0, MORE);
    say("== summary\n")?;
    // One row per severity: queries, findings, first and last seen.
    let mut by_severity: Vec<(&Ran, usize, u64, Span)> = Vec::new();
    for (r, s) in &found {
        match by_severity.iter_mut().find(|b| b.0.rank == r.rank) {
            Some(b) => {
                b.1 += 1;
                b.2 += r.findings() as u64;
                b.3 = match (b.3, *s) {
                    (Some((a, z)), Some((f, l))) => Some((a.min(f), z.max(l))),
                    (one, other) => one.or(other),
                };
            }
            None => by_severity.push((r, 1, r.findings() as u64, *s)),
        }
    }
    if !by_severity.is_empty() {
        let rows = by_severity
            .iter()
            .map(|(r, queries, findings, s)| {
                (
                    vec![
                        Some(r.severity.to_string()),
                        Some(queries.to_string()),
                        when(s.map(|s| s.0)),
                        when(s.map(|s| s.1)),
                    ],
                    *findings,
                )
            })
            .collect();
        let severities = table(
            &["severity", "queries", "first_seen", "last_seen"],
            "findings",
            rows,
        )?;
        whole
            .emit(&severities, None, std::time::Duration::ZERO)
            .await?;
        let rows = found
            .iter()
            .map(|(r, s)| {
                (
                    vec![
                        Some(r.name.to_string()),
                        Some(r.severity.to_string()),
                        when(s.map(|s| s.0)),
                        when(s.map(|s| s.1)),
                    ],
                    r.findings() as u64,
                )
            })
            .collect();
        let queries = table(
            &["query", "severity", "first_seen", "last_seen"],
            "findings",
            rows,
        )?;
        say("== queries that found something\n")?;
        whole
            .emit(&queries, None, std::time::Duration::ZERO)
            .await?;
    }
    let nothing = ran
        .iter()
        .filter(|r| matches!(r.result, Ok(x) if x.rows() == 0))
        .count();
    let not_run: Vec<String> = ran
        .iter()
        .filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|why| format!("{} ({why})", r.name))
        })
        .collect();
    let mut line = format!("{} found something, {} found nothing", found.len(), nothing);
    if !not_run.is_empty() {
        line.push_str(&format!(
            "; {} not run: {}",
            not_run.len(),
            not_run.join(", ")
        ));
    }
    say(&format!("{line}\n"))?;
    let found: Vec<&Ran> = found.iter().map(|(r, _)| *r).collect();
    first_rows(sink, &found, MORE).await
}

/// Each of `found` (a query or a detection that found something) under a
/// heading of its own, with as many of its first rows as share the screen
/// (at least [`AT_LEAST`]; `--max-rows` decides instead when given), and
/// `more`: where the rest is.
pub async fn first_rows(sink: &Sink, found: &[&Ran<'_>], more: &'static str) -> Result<()> {
    let rows = match sink.max_rows {
        Some(n) => n,
        None => sink
            .screen_rows()
            .map(|s| (s / found.len().max(1)).max(AT_LEAST))
            .unwrap_or(0),
    };
    let each = sink.showing(rows, more);
    for r in found {
        let n = r.findings();
        say(&format!(
            "== {} [{}] {}: {n} {}\n",
            r.name,
            r.severity,
            r.title,
            plural(n, "finding", "findings")
        ))?;
        if let Ok(result) = r.result {
            each.emit(result, None, std::time::Duration::ZERO).await?;
        }
    }
    Ok(())
}
