//! Result printers. Every format writes to any `io::Write`, so the shell, `-e`,
//! `-o FILE` and the tests share one code path. Formats: an aligned table (for
//! people), CSV (RFC 4180, header row), JSON (an array of objects), NDJSON and
//! Parquet (for tools). Text meant for a terminal never carries raw control
//! characters: they are shown escaped.
//!
//! Of trailsql it imports `record`.

use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use comfy_table::{presets, Cell, ContentArrangement, Table};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::{DataFusionError, Result};
use serde_json::{Map, Value};

use crate::record::rebuild::format_time;

/// Output format names, shared by `--format` and the shell's `\format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
    Parquet,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        <Format as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| format!("unknown format {s:?}: use table, csv, json, ndjson or parquet"))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        };
        f.write_str(s)
    }
}

/// `n` and the noun, as the count asks: "1 file", "2 files".
pub fn count<N: TryInto<u64> + fmt::Display + Copy>(
    n: N,
    one: &'static str,
    many: &'static str,
) -> String {
    format!("{n} {}", plural(n, one, many))
}

/// The command line this process was started with, its words joined by
/// spaces, as reports and evidence packs show it.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// Whether `path` is there and is neither a regular file nor a folder
/// (a device such as `/dev/null`, a FIFO, a socket): written to, never
/// replaced.
pub fn not_a_file(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// `one` or `many` as `n` asks.
pub fn plural<N: TryInto<u64>>(n: N, one: &'static str, many: &'static str) -> &'static str {
    if n.try_into().is_ok_and(|n| n == 1) {
        one
    } else {
        many
    }
}

/// Show control characters (and bidirectional overrides) as escapes, so text
/// from a log cannot move the cursor, recolour or hide itself on a terminal.
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A column's value at one row as JSON (nested types as objects and arrays,
/// timestamps as CloudTrail writes them).
pub fn json_value(col: &dyn Array, row: usize) -> Value {
    if col.is_null(row) {
        return Value::Null;
    }
    match col.data_type() {
        DataType::Utf8 => Value::String(col.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::String(col.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::String(col.as_string_view().value(row).to_owned()),
        DataType::Boolean => Value::Bool(col.as_boolean().value(row)),
        DataType::Struct(fields) => {
            let s = col.as_struct();
            let mut m = Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                m.insert(f.name().clone(), json_value(c.as_ref(), row));
            }
            Value::Object(m)
        }
        DataType::List(_) => {
            let l = col.as_list::<i32>().value(row);
            Value::Array((0..l.len()).map(|i| json_value(l.as_ref(), i)).collect())
        }
        DataType::LargeList(_) => {
            let l = col.as_list::<i64>().value(row);
            Value::Array((0..l.len()).map(|i| json_value(l.as_ref(), i)).collect())
        }
        DataType::Timestamp(..) => Value::String(text_at(col, row).unwrap_or_default()),
        t if t.is_numeric() => {
            let t = text_at(col, row).unwrap_or_default();
            serde_json::from_str(&t).unwrap_or(Value::String(t))
        }
        _ => Value::String(text_at(col, row).unwrap_or_default()),
    }
}

/// A column's value at one row as text (NULL -> None).
pub fn text_at(col: &dyn Array, row: usize) -> Option<String> {
    if col.is_null(row) {
        return None;
    }
    match col.data_type() {
        DataType::Utf8 => Some(col.as_string::<i32>().value(row).to_owned()),
        DataType::Timestamp(..) => {
            let ms = cast(
                &col.slice(row, 1),
                &DataType::Timestamp(TimeUnit::Millisecond, None),
            )
            .ok()?;
            let v = ms
                .as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
                .value(0);
            Some(format_time(v))
        }
        DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) => {
            Some(json_value(col, row).to_string())
        }
        _ => {
            let opts = FormatOptions::default();
            let f = ArrayFormatter::try_new(col, &opts).ok()?;
            Some(f.value(row).to_string())
        }
    }
}

/// Turn nested and timestamp columns into text, for CSV.
fn textual(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        match f.data_type() {
            DataType::Struct(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::Timestamp(..)
            | DataType::Dictionary(..)
            | DataType::Map(..) => {
                let texts: StringArray = (0..c.len()).map(|i| text_at(c.as_ref(), i)).collect();
                fields.push(Field::new(f.name(), DataType::Utf8, true));
                cols.push(Arc::new(texts));
            }
            _ => {
                fields.push(f.as_ref().clone());
                cols.push(c.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// Options of the table printer.
#[derive(Debug, Clone, Default)]
pub struct TableStyle {
    /// Terminal width; long values are cut to fit. None: no limit.
    pub width: Option<u16>,
    /// Rows the table shows at most (the rest are counted, not kept).
    /// None: all of them.
    pub max_rows: Option<usize>,
}

/// Rows written in parquet row groups of at most this many: the writer
/// holds a row group's pages in memory until it is complete.
const PARQUET_GROUP_ROWS: usize = 64 * 1024;

/// A result written batch by batch as it arrives: CSV, JSON, NDJSON and
/// Parquet hold no more than the batch at hand (and Parquet one row
/// group); the table gathers what it shows, up to `max_rows`, and counts
/// the rest.
pub struct BatchWriter<W: Write + Send> {
    out: Out<W>,
    rows: usize,
    cells: Cells,
    neutralised: usize,
}

/// How text cells are written, beyond their format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cells {
    /// For a terminal: control characters, ESC sequences and bidirectional
    /// overrides in the data shown escaped in CSV (the table always
    /// escapes; JSON and NDJSON always write them as `\uXXXX`, which is the
    /// same data).
    pub escape: bool,
    /// For a spreadsheet: a CSV text cell that it would run as a formula
    /// is written with a leading `'` ([`formula_safe`]).
    pub csv_safe: bool,
}

enum Out<W: Write + Send> {
    Table {
        w: W,
        schema: SchemaRef,
        style: TableStyle,
        kept: Vec<RecordBatch>,
        shown: usize,
    },
    Csv(datafusion::arrow::csv::Writer<W>, SchemaRef, bool),
    Json(W, bool),
    Ndjson(W),
    Parquet(datafusion::parquet::arrow::ArrowWriter<W>),
}

/// What a finished writer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: usize,
    /// Rows the table did not show (its `max_rows`).
    pub hidden: usize,
    /// CSV cells written with a leading `'` (see [`Cells::csv_safe`]).
    pub neutralised: usize,
}

impl<W: Write + Send> BatchWriter<W> {
    /// A writer of `format` for rows of `schema` into `w`.
    pub fn new(format: Format, schema: &SchemaRef, style: &TableStyle, w: W) -> Result<Self> {
        Self::with_header(format, schema, style, w, true)
    }

    /// As [`BatchWriter::new`]; `header` false leaves out the CSV header
    /// (rows that continue a CSV file already begun).
    pub fn with_header(
        format: Format,
        schema: &SchemaRef,
        style: &TableStyle,
        mut w: W,
        header: bool,
    ) -> Result<Self> {
        let out = match format {
            Format::Table => Out::Table {
                w,
                schema: schema.clone(),
                style: style.clone(),
                kept: Vec::new(),
                shown: 0,
            },
            Format::Csv => Out::Csv(
                datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(header)
                    .build(w),
                schema.clone(),
                !header,
            ),
            Format::Json => {
                w.write_all(b"[")?;
                Out::Json(w, true)
            }
            Format::Ndjson => Out::Ndjson(w),
            Format::Parquet => {
                let props = datafusion::parquet::file::properties::WriterProperties::builder()
                    .set_max_row_group_row_count(Some(PARQUET_GROUP_ROWS))
                    .build();
                Out::Parquet(datafusion::parquet::arrow::ArrowWriter::try_new(
                    w,
                    schema.clone(),
                    Some(props),
                )?)
            }
        };
        Ok(BatchWriter {
            out,
            rows: 0,
            cells: Cells::default(),
            neutralised: 0,
        })
    }

    /// Write text cells as `cells` says (before the first batch).
    pub fn with_cells(mut self, cells: Cells) -> Self {
        self.cells = cells;
        self
    }

    /// Write one batch.
    pub fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.rows += b.num_rows();
        match &mut self.out {
            Out::Table {
                style, kept, shown, ..
            } => {
                let room = style.max_rows.map_or(usize::MAX, |m| m - *shown);
                let take = b.num_rows().min(room);
                if take > 0 {
                    kept.push(b.slice(0, take));
                    *shown += take;
                }
            }
            Out::Csv(writer, _, wrote) => {
                let (text, neutralised) = guarded(textual(b)?, self.cells)?;
                self.neutralised += neutralised;
                writer.write(&text)?;
                *wrote = true;
            }
            Out::Json(w, first) => {
                for row in 0..b.num_rows() {
                    w.write_all(if *first { b"\n" } else { b",\n" })?;
                    *first = false;
                    w.write_all(inert_json(&row_object(b, row))?.as_bytes())?;
                }
            }
            Out::Ndjson(w) => {
                for row in 0..b.num_rows() {
                    w.write_all(inert_json(&row_object(b, row))?.as_bytes())?;
                    w.write_all(b"\n")?;
                }
            }
            Out::Parquet(writer) => writer.write(b)?,
        }
        Ok(())
    }

    /// Close the output (the table is printed here, the Parquet footer
    /// written) and give the writer back.
    pub fn finish(self) -> Result<(W, Written)> {
        let mut hidden = 0;
        let w = match self.out {
            Out::Table {
                mut w,
                schema,
                style,
                kept,
                shown,
            } => {
                write_table(&schema, &kept, &style, &mut w)?;
                hidden = self.rows - shown;
                w
            }
            Out::Csv(mut writer, schema, wrote) => {
                if !wrote {
                    // The header alone.
                    let (header, _) =
                        guarded(textual(&RecordBatch::new_empty(schema))?, self.cells)?;
                    writer.write(&header)?;
                }
                writer.into_inner()
            }
            Out::Json(mut w, first) => {
                w.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                w
            }
            Out::Ndjson(w) => w,
            Out::Parquet(writer) => writer.into_inner()?,
        };
        Ok((
            w,
            Written {
                rows: self.rows,
                hidden,
                neutralised: self.neutralised,
            },
        ))
    }
}

/// Write `batches` in `format`, all at once, text cells as `cells` says.
pub fn write_batches(
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    style: &TableStyle,
    cells: Cells,
    w: &mut (dyn Write + Send),
) -> Result<Written> {
    let mut writer = BatchWriter::new(format, schema, style, w)?.with_cells(cells);
    for b in batches {
        writer.write(b)?;
    }
    Ok(writer.finish()?.1)
}

/// `text` (every column text, as [`textual`] makes it) with its names and
/// cells as `cells` says, and how many cells were neutralised.
fn guarded(text: RecordBatch, cells: Cells) -> Result<(RecordBatch, usize)> {
    if !cells.escape && !cells.csv_safe {
        return Ok((text, 0));
    }
    let mut neutralised = 0;
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in text.schema().fields().iter().zip(text.columns()) {
        let name = if cells.escape {
            escape_control(f.name())
        } else {
            f.name().clone()
        };
        let is_text = matches!(
            f.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        if !is_text {
            fields.push(Field::new(name, f.data_type().clone(), f.is_nullable()));
            cols.push(c.clone());
            continue;
        }
        let c = cast(c, &DataType::Utf8)?;
        let strings = c.as_string::<i32>();
        let out: StringArray = strings
            .iter()
            .map(|v| {
                v.map(|v| {
                    let v = if cells.escape {
                        std::borrow::Cow::Owned(escape_control(v))
                    } else {
                        std::borrow::Cow::Borrowed(v)
                    };
                    match cells.csv_safe.then(|| formula_safe(&v)).flatten() {
                        Some(safe) => {
                            neutralised += 1;
                            safe
                        }
                        None => v.into_owned(),
                    }
                })
            })
            .collect();
        fields.push(Field::new(name, DataType::Utf8, true));
        cols.push(Arc::new(out));
    }
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        cols,
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(text.num_rows())),
    )?;
    Ok((batch, neutralised))
}

/// A text cell a spreadsheet would run as a formula, with a leading `'`
/// (the convention OWASP describes for CSV injection; spreadsheets show
/// the cell without it): one that begins with `=`, `@`, a tab or a carriage
/// return, or with `+` or `-` and is not a plain number ("-", "-12.5" and
/// "+1e3" stay as they are). None for a cell that is safe as it is.
pub fn formula_safe(cell: &str) -> Option<String> {
    let risky = match cell.chars().next()? {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => cell.len() > 1 && !is_plain_number(&cell[1..]),
        _ => false,
    };
    risky.then(|| format!("'{cell}"))
}

/// Digits with at most one `.` and an optional exponent (`e`/`E`, a sign,
/// digits): what follows the sign of a plain number.
fn is_plain_number(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let mantissa_ok = digits > 0
        && mantissa.bytes().filter(|b| *b == b'.').count() <= 1
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// A row as JSON text that cannot act on a terminal: serde_json escapes
/// the C0 controls (ESC, BEL) itself; the C1 controls and bidirectional
/// overrides it leaves raw are written as `\uXXXX` escapes too. The JSON
/// means the same (a reader gets the exact string back), so files get it
/// this way as well.
fn inert_json(row: &Value) -> Result<String> {
    let text = serde_json::to_string(row).map_err(io_err)?;
    if !text.chars().any(needs_escape) {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 12);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn io_err(e: serde_json::Error) -> DataFusionError {
    DataFusionError::IoError(e.into())
}

fn row_object(b: &RecordBatch, row: usize) -> Value {
    let mut m = Map::new();
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        m.insert(f.name().clone(), json_value(c.as_ref(), row));
    }
    Value::Object(m)
}

fn cut(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn write_table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    style: &TableStyle,
    w: &mut dyn Write,
) -> Result<()> {
    let mut table = Table::new();
    table.load_preset(presets::ASCII_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Disabled);
    let ncols = schema.fields().len().max(1);
    // Each column gets at most an equal share of the terminal, but never under 12.
    let max_cell = style
        .width
        .map(|w| ((w as usize).saturating_sub(1 + 3 * ncols) / ncols).max(12))
        .unwrap_or(usize::MAX);
    table.set_header(
        schema
            .fields()
            .iter()
            .map(|f| Cell::new(cut(escape_control(f.name()), max_cell))),
    );
    for b in batches {
        for row in 0..b.num_rows() {
            table.add_row(b.columns().iter().map(|c| {
                let t = text_at(c.as_ref(), row)
                    .map(|t| escape_control(&t))
                    .unwrap_or_else(|| "NULL".into());
                Cell::new(cut(t, max_cell))
            }));
        }
    }
    writeln!(w, "{table}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape_control("a\u{1b}[31mb\n"), "a\\u{001b}[31mb\\n");
        assert_eq!(escape_control("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_control("plain"), "plain");
    }

    #[test]
    fn csv_quotes_and_header() {
        let batch = RecordBatch::try_from_iter(vec![(
            "v",
            Arc::new(StringArray::from(vec![
                Some("a,b"),
                Some("say \"hi\""),
                None,
            ])) as ArrayRef,
        )])
        .unwrap();
        let mut out = Vec::new();
        write_batches(
            Format::Csv,
            &batch.schema(),
            std::slice::from_ref(&batch),
            &TableStyle::default(),
            Cells::default(),
            &mut out,
        )
        .unwrap();
        // A NULL alone on a row is written `""`, so the row is not an empty line.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "v\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"\"\n"
        );
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_and_plain_text_are_not() {
        for risky in [
            "=HYPERLINK(\"http://203.0.113.9/x\",\"click\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A9)",
            "\t=1",
            "\r=1",
            "-inf",
            "+",
        ] {
            let safe = formula_safe(risky);
            if risky == "+" {
                assert_eq!(safe, None, "a lone sign is text");
            } else {
                assert_eq!(safe, Some(format!("'{risky}")), "{risky:?}");
            }
        }
        for plain in [
            "-",
            "-12.5",
            "+1e3",
            "-4E-2",
            "alice",
            "arn:aws:iam::1:user/x",
            "",
            "2025-10-01",
        ] {
            assert_eq!(formula_safe(plain), None, "{plain:?}");
        }
    }

    #[test]
    fn csv_cells_are_guarded_as_asked() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("who\u{1b}[2J", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("=1+1"),
                    Some("a\u{1b}]0;x\u{7}b"),
                    None,
                ])),
                Arc::new(datafusion::arrow::array::Int64Array::from(vec![-1, 2, 3])),
            ],
        )
        .unwrap();
        let write = |cells: Cells| {
            let mut out = Vec::new();
            let written = write_batches(
                Format::Csv,
                &schema,
                std::slice::from_ref(&batch),
                &TableStyle::default(),
                cells,
                &mut out,
            )
            .unwrap();
            (String::from_utf8(out).unwrap(), written.neutralised)
        };
        assert_eq!(
            write(Cells::default()),
            (
                "who\u{1b}[2J,n\n=1+1,-1\na\u{1b}]0;x\u{7}b,2\n,3\n".to_string(),
                0
            )
        );
        let safe = Cells {
            csv_safe: true,
            escape: false,
        };
        assert_eq!(
            write(safe),
            (
                "who\u{1b}[2J,n\n'=1+1,-1\na\u{1b}]0;x\u{7}b,2\n,3\n".to_string(),
                1
            )
        );
        let both = Cells {
            csv_safe: true,
            escape: true,
        };
        assert_eq!(
            write(both),
            (
                "who\\u{001b}[2J,n\n'=1+1,-1\na\\u{001b}]0;x\\u{0007}b,2\n,3\n".to_string(),
                1
            )
        );
    }

    #[test]
    fn json_text_is_inert_and_means_the_same() {
        let v = serde_json::json!({"a\u{202e}": "x\u{1b}[2J\u{85}\u{7}\u{2066}y"});
        let text = inert_json(&v).unwrap();
        assert!(!text.chars().any(needs_escape), "{text:?}");
        assert!(
            text.contains("\\u202e") && text.contains("\\u0085"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
