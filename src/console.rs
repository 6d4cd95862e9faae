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
use crate::output::{BatchWriter, Cells, Format, TableStyle, Written};
use crate::read::Report;
use crate::session::{Engine, Running, StatementResult};

/// Lines of a terminal a table leaves for its header, borders, the lines
/// under it and the next prompt, when it shows as many rows as fit.
const TERMINAL_MARGIN: usize = 10;

/// Where hunt's timeline, cut short on the screen, has the rest of its rows.
pub const MORE: &str = "every row goes to -o FILE or --out-dir DIR (--max-rows 0 shows them all \
     here; --report FILE.html writes a page)";

/// Where a saved query's rows, cut short on the screen in a run of
/// several, are all (`run` writes one file per query).
pub const MORE_OF_RUN: &str = "every row goes to --out-dir DIR (--max-rows 0 shows them all here; \
     --report FILE.html writes a page)";

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
    /// CSV text cells exactly as they are (`--csv-raw`, `\\csvraw`), not
    /// guarded against spreadsheet formulas.
    pub csv_raw: bool,
    /// What `output` holds so far in this run (or since `\o FILE`).
    pub begun: Begun,
    /// Where a table cut short tells the reader to find the rest (None:
    /// `--max-rows`).
    pub more: Option<&'static str>,
}

/// The results already in the output file: the first result of a run
/// replaces the file, the next ones are added to it.
#[derive(Default)]
pub struct Begun(std::sync::Mutex<Option<FileBegun>>);

struct FileBegun {
    path: PathBuf,
    format: Format,
    columns: Vec<String>,
}

impl Sink {
    /// Send results to `file` from now on (None: the screen); the next
    /// result starts it afresh.
    pub fn set_output(&mut self, file: Option<PathBuf>) {
        self.output = file;
        self.begun = Begun::default();
    }

    /// Whether results go to a terminal (standard output, no `-o`).
    pub fn shows_on_terminal(&self) -> bool {
        self.to_terminal()
    }

    fn to_terminal(&self) -> bool {
        self.output.is_none() && std::io::stdout().is_terminal()
    }

    /// The rows a table has on this terminal (None elsewhere).
    pub fn screen_rows(&self) -> Option<usize> {
        if !self.to_terminal() {
            return None;
        }
        terminal_size::terminal_size()
            .map(|(_, h)| (h.0 as usize).saturating_sub(TERMINAL_MARGIN).max(10))
    }

    /// The same place, showing at most `rows` rows of a table (0: all), a
    /// table cut short pointing to `more` for the rest.
    pub fn showing(&self, rows: usize, more: &'static str) -> Sink {
        Sink {
            format: self.format,
            output: self.output.clone(),
            timing: Some(false),
            stats: self.stats,
            max_rows: Some(rows),
            csv_raw: self.csv_raw,
            begun: Begun::default(),
            more: Some(more),
        }
    }

    /// Whether a table says how long its statement took, as things are.
    pub fn timing_on(&self) -> bool {
        self.timing.unwrap_or_else(|| self.to_terminal())
    }

    /// How text cells are written here: escaped on a terminal, guarded
    /// against spreadsheet formulas in CSV unless `csv_raw`.
    pub fn cells(&self) -> Cells {
        Cells {
            escape: self.to_terminal(),
            csv_safe: !self.csv_raw,
        }
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
            None => self.screen_rows(),
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
    pub fn counts(&self, report: Option<&Report>) {
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
        let (out, header) = match &self.output {
            Some(p) => {
                let continues = self.continues(p, schema)?;
                let header = !continues;
                (Output::aside(p, continues, column_names(schema))?, header)
            }
            None => (Output::stdout(), true),
        };
        let mut writer = BatchWriter::with_header(self.format, schema, &self.style(), out, header)?
            .with_cells(self.cells());
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
                let rows = plural(written.hidden, "row", "rows");
                match self.more {
                    Some(more) => writeln!(out, "... {} more {rows}: {more}", written.hidden),
                    None => writeln!(
                        out,
                        "... {} more {rows} not shown (--max-rows N, or \\maxrows N in the shell; 0 shows all)",
                        written.hidden
                    ),
                }
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
        out.flush().map_err(io)?;
        if let Some(file) = out.done()? {
            if let Some(p) = &self.output {
                let mut begun = self.begun.0.lock().unwrap_or_else(|e| e.into_inner());
                *begun = Some(FileBegun {
                    path: p.clone(),
                    format: self.format,
                    columns: file,
                });
            }
        }
        Ok(())
    }

    /// Whether a result of `schema` continues the output file `p` (an
    /// earlier result of this run is in it), or refused when the format
    /// cannot hold two results: a JSON array or a Parquet file holds one;
    /// a CSV file one table, so a second result must have the same
    /// columns, and its rows follow the first's without a second header.
    fn continues(&self, p: &std::path::Path, schema: &SchemaRef) -> Result<bool> {
        let begun = self.begun.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(before) = begun
            .as_ref()
            .filter(|b| b.path == p && b.format == self.format)
        else {
            return Ok(false);
        };
        let refuse = |why: String| {
            Error::Usage(format!(
                "{}: {why}; the results before this one are in it (give each \
                 statement its own -o, or use --format ndjson or table)",
                p.display()
            ))
        };
        match self.format {
            Format::Json => Err(refuse("a JSON file holds one result".into())),
            Format::Parquet => Err(refuse("a Parquet file holds one result".into())),
            Format::Csv if before.columns != column_names(schema) => Err(refuse(format!(
                "a CSV file holds one table, and this result's columns ({}) are not \
                 those of the one before ({})",
                column_names(schema).join(", "),
                before.columns.join(", ")
            ))),
            _ => Ok(true),
        }
    }
}

fn column_names(schema: &SchemaRef) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// Where a result is written: standard output, or a file, written aside
/// (`.NAME.partial` beside it) and moved into place only once the result
/// is whole, so a statement that fails leaves the file as it was: the
/// first result of a run is renamed over it, a later one appended to it.
/// Dropped before [`Output::done`], the aside file is removed. A target
/// that is not a regular file (a device, a FIFO) is written in place.
struct Output {
    w: std::io::BufWriter<Box<dyn Write + Send>>,
    file: Option<Aside>,
}

struct Aside {
    aside: PathBuf,
    dest: PathBuf,
    append: bool,
    columns: Vec<String>,
    /// Written straight to `dest`, which is not a regular file: nothing
    /// to move or remove.
    in_place: bool,
}

impl Output {
    fn stdout() -> Output {
        Output {
            w: std::io::BufWriter::new(Box::new(std::io::stdout())),
            file: None,
        }
    }

    fn aside(dest: &std::path::Path, append: bool, columns: Vec<String>) -> Result<Output> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::Usage(format!("{}: not a file name", dest.display())))?;
        if crate::output::not_a_file(dest) {
            // A device, a FIFO or a socket (`-o /dev/null`, `-o >(gzip)`):
            // nothing can be moved over it, which would replace the
            // device itself; its reader takes the bytes as they come.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(dest)
                .map_err(|e| Error::io(dest, e))?;
            return Ok(Output {
                w: std::io::BufWriter::new(Box::new(file)),
                file: Some(Aside {
                    aside: dest.to_path_buf(),
                    dest: dest.to_path_buf(),
                    append,
                    columns,
                    in_place: true,
                }),
            });
        }
        let aside = dest.with_file_name(format!(".{name}.partial"));
        let file = std::fs::File::create(&aside).map_err(|e| Error::io(&aside, e))?;
        Ok(Output {
            w: std::io::BufWriter::new(Box::new(file)),
            file: Some(Aside {
                aside,
                dest: dest.to_path_buf(),
                append,
                columns,
                in_place: false,
            }),
        })
    }

    /// The result is whole: move it into place. Gives the file's columns
    /// when it went to a file.
    fn done(mut self) -> Result<Option<Vec<String>>> {
        let Some(file) = self.file.take() else {
            return Ok(None);
        };
        let Aside {
            aside,
            dest,
            append,
            columns,
            in_place,
        } = &file;
        if *in_place {
            self.w.flush().map_err(|e| Error::io(dest, e))?;
            return Ok(Some(columns.clone()));
        }
        let moved = if *append {
            std::fs::OpenOptions::new()
                .append(true)
                .open(dest)
                .and_then(|mut to| {
                    let mut from = std::fs::File::open(aside)?;
                    std::io::copy(&mut from, &mut to)?;
                    to.sync_all()
                })
                .and_then(|_| std::fs::remove_file(aside))
        } else {
            std::fs::rename(aside, dest)
        };
        if let Err(e) = moved {
            let _ = std::fs::remove_file(aside);
            return Err(Error::io(dest, e));
        }
        Ok(Some(columns.clone()))
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(file) = self.file.as_ref().filter(|f| !f.in_place) {
            let _ = std::fs::remove_file(&file.aside);
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.w.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

pub use crate::output::plural;

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

/// Write `result` as a CSV file (its folder made if need be), text cells as
/// `cells` says: `run --out-dir`'s and `hunt --out-dir`'s files. How many
/// cells were guarded against spreadsheet formulas.
pub fn write_csv(file: &std::path::Path, result: &StatementResult, cells: Cells) -> Result<usize> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(file).map_err(|e| Error::io(file, e))?);
    let written = crate::output::write_batches(
        Format::Csv,
        &result.schema,
        &result.batches,
        &TableStyle::default(),
        cells,
        &mut out,
    )?;
    out.flush().map_err(|e| Error::io(file, e))?;
    Ok(written.neutralised)
}
