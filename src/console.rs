//! The console: where results and messages go. [`Sink`] prints a
//! statement's result in the chosen format to standard output or a file,
//! [`say`] writes text to standard output (a closed pipe comes back as an
//! error `main` turns into a quiet exit), and [`run_sql`] runs SQL text
//! through an [`Engine`] and prints each result. `cli`, `repl`, `queries`,
//! `sample` and `verify`'s printing all go through here; it imports
//! `session` and `output`, nothing above them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::output::{write_batches, Format, TableStyle};
use crate::session::{Engine, StatementResult};

/// Where results go and how they look.
pub struct Sink {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub timing: bool,
    pub stats: bool,
}

impl Sink {
    /// Print one statement's result.
    pub fn emit(
        &self,
        engine: &Engine,
        result: &StatementResult,
        elapsed: std::time::Duration,
    ) -> Result<()> {
        let summary = engine.report.summary();
        if self.stats || summary.has_problems() {
            eprintln!("trailsql: {}", summary.line());
        }
        if result.schema.fields().is_empty() {
            return Ok(()); // DDL: nothing to show
        }
        let to_terminal = self.output.is_none() && std::io::stdout().is_terminal();
        if self.format == Format::Parquet && self.output.is_none() && to_terminal {
            return Err(Error::Usage("parquet output is binary: add -o FILE".into()));
        }
        let style = TableStyle {
            width: if to_terminal {
                terminal_size::terminal_size().map(|(w, _)| w.0)
            } else {
                None
            },
        };
        let mut out: Box<dyn Write> = match &self.output {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        let io = |e: std::io::Error| Error::Io {
            path: "output".into(),
            source: e,
        };
        write_batches(
            self.format,
            &result.schema,
            &result.batches,
            &style,
            &mut out,
        )?;
        if self.format == Format::Table {
            let rows = result.rows();
            let noun = if rows == 1 { "row" } else { "rows" };
            if self.timing || to_terminal {
                writeln!(out, "({rows} {noun}, {:.3}s)", elapsed.as_secs_f64()).map_err(io)?;
            } else {
                writeln!(out, "({rows} {noun})").map_err(io)?;
            }
        }
        out.flush().map_err(io)?;
        Ok(())
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

/// Run SQL text: every statement, printing each result.
pub async fn run_sql(engine: &Engine, sink: &Sink, sql: &str) -> Result<()> {
    engine.report.reset();
    let started = Instant::now();
    let results = engine.run(sql).await?;
    let elapsed = started.elapsed();
    for r in &results {
        sink.emit(engine, r, elapsed)?;
    }
    Ok(())
}
