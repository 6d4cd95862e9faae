//! The console: where results and messages go. [`Sink`] prints a
//! statement's result in the chosen format to standard output or a file,
//! [`say`] writes text to standard output (a closed pipe comes back as an
//! error `main` turns into a quiet exit), and [`run_sql`] runs SQL text
//! through an [`Engine`] and prints each result. `cli`, `repl`, `queries`,
//! `sample` and `verify`'s printing all go through here; it imports
//! `session` and `output`, nothing above them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use futures::{Stream, StreamExt};

use crate::error::{Error, Result};
use crate::output::{BatchWriter, Format, TableStyle, Written};
use crate::read::Report;
use crate::session::{Engine, Running, StatementResult};

/// Lines of a terminal a table leaves for its header, borders, the lines
/// under it and the next prompt, when it shows as many rows as fit.
const TERMINAL_MARGIN: usize = 10;

/// Where results go and how they look.
pub struct Sink {
    pub format: Format,
    pub output: Option<PathBuf>,
    /// Whether a table says how long its statement took (`\\timing`);
    /// None: on a terminal it does.
    pub timing: Option<bool>,
    pub stats: bool,
    /// Rows a table shows at most (`--max-rows`, `\maxrows`): `Some(0)`
    /// shows all; None shows as many as fit on a terminal, and all
    /// elsewhere.
    pub max_rows: Option<usize>,
}

impl Sink {
    fn to_terminal(&self) -> bool {
        self.output.is_none() && std::io::stdout().is_terminal()
    }

    /// Whether a table says how long its statement took, as things are.
    pub fn timing_on(&self) -> bool {
        self.timing.unwrap_or_else(|| self.to_terminal())
    }

    /// How a table looks here: cut to the terminal's width and, unless
    /// told otherwise, to the rows that fit on it.
    fn style(&self) -> TableStyle {
        let size = if self.to_terminal() {
            terminal_size::terminal_size()
        } else {
            None
        };
        let max_rows = match self.max_rows {
            Some(0) => None,
            Some(n) => Some(n),
            None => size.map(|(_, h)| (h.0 as usize).saturating_sub(TERMINAL_MARGIN).max(10)),
        };
        TableStyle {
            width: size.map(|(w, _)| w.0),
            max_rows,
        }
    }

    /// Print a statement's rows as they come (a table gathers what it
    /// shows first), then, on stderr, what it read when asked or when it
    /// had to skip something.
    pub async fn stream(&self, running: Running, started: Instant) -> Result<()> {
        let Running {
            schema,
            mut stream,
            report,
            mut progress,
        } = running;
        let to_stdout = self.output.is_none();
        let streamed = self.format != Format::Table;
        let printed = self
            .print(&schema, &mut stream, || {
                if to_stdout && streamed {
                    // Rows are about to reach the terminal.
                    progress = None;
                }
            })
            .await;
        drop(progress);
        if let Some((out, written)) = printed? {
            self.footer(out, written, started.elapsed())?;
        }
        self.counts(Some(&report));
        Ok(())
    }

    /// Print a whole result (a saved query's, `\d`'s, verify's).
    pub async fn emit(
        &self,
        result: &StatementResult,
        report: Option<&Report>,
        elapsed: Duration,
    ) -> Result<()> {
        let mut batches = futures::stream::iter(result.batches.iter().cloned().map(Ok));
        if let Some((out, written)) = self.print(&result.schema, &mut batches, || {}).await? {
            self.footer(out, written, elapsed)?;
        }
        self.counts(report);
        Ok(())
    }

    /// What the statement read, on stderr: always with `--stats`, else
    /// when something was skipped.
    fn counts(&self, report: Option<&Report>) {
        if let Some(report) = report {
            let summary = report.summary();
            if self.stats || summary.has_problems() {
                eprintln!("trailsql: {}", summary.line());
            }
        }
    }

    /// Write the rows of `batches` in the format; `first` is called before
    /// the first batch is written. None for a statement without columns
    /// (DDL), whose stream is run to its end all the same.
    async fn print(
        &self,
        schema: &SchemaRef,
        batches: &mut (impl Stream<Item = datafusion::error::Result<RecordBatch>> + Unpin),
        mut first: impl FnMut(),
    ) -> Result<Option<(Output, Written)>> {
        if schema.fields().is_empty() {
            while let Some(b) = batches.next().await {
                b?;
            }
            return Ok(None);
        }
        if self.format == Format::Parquet && self.to_terminal() {
            return Err(Error::Usage("parquet output is binary: add -o FILE".into()));
        }
        let out: Output = match &self.output {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        let mut writer = BatchWriter::new(self.format, schema, &self.style(), out)?;
        let mut started = false;
        while let Some(b) = batches.next().await {
            let b = b?;
            if !started {
                first();
                started = true;
            }
            writer.write(&b)?;
        }
        Ok(Some(writer.finish()?))
    }

    /// The lines under a table: rows not shown, then how many rows and
    /// (when timing is on) how long it took; then the
    /// output is flushed.
    fn footer(&self, mut out: Output, written: Written, elapsed: Duration) -> Result<()> {
        let io = |e: std::io::Error| Error::Io {
            path: "output".into(),
            source: e,
        };
        if self.format == Format::Table {
            if written.hidden > 0 {
                writeln!(
                    out,
                    "... {} more {} not shown (--max-rows N, or \\maxrows N in the shell; 0 shows all)",
                    written.hidden,
                    plural(written.hidden, "row", "rows")
                )
                .map_err(io)?;
            }
            let rows = written.rows;
            let noun = plural(rows, "row", "rows");
            if self.timing_on() {
                writeln!(out, "({rows} {noun}, {:.3}s)", elapsed.as_secs_f64()).map_err(io)?;
            } else {
                writeln!(out, "({rows} {noun})").map_err(io)?;
            }
        }
        out.flush().map_err(io)
    }
}

/// Where a result is written: a file or standard output.
type Output = Box<dyn Write + Send>;

/// `one` or `many` as `n` asks.
pub fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `printed`, with a closed output pipe taken as done: for the commands
/// whose exit code says what they found, which a reader that stopped
/// reading (`| head`) must not turn into 0.
pub fn unless_closed(printed: Result<()>) -> Result<()> {
    match printed {
        Err(e) if e.is_broken_pipe() => Ok(()),
        other => other,
    }
}

/// Write text to standard output; a closed pipe comes back as an error that
/// `main` turns into a quiet exit instead of a panic.
pub fn say(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::Io {
            path: "stdout".into(),
            source: e,
        })
}

/// Run SQL text: each statement in turn, its result printed as it comes,
/// before the next one starts.
pub async fn run_sql(engine: &Engine, sink: &Sink, sql: &str) -> Result<()> {
    for stmt in Engine::parse(sql)? {
        let started = Instant::now();
        let running = engine.start(stmt, None).await?;
        sink.stream(running, started).await?;
    }
    Ok(())
}
