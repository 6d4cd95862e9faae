//! Athena's (Trino's) date and time functions, over trailsql's `eventtime`
//! (a UTC timestamp in milliseconds) and over ISO-8601 text, as Athena's
//! users write them over its string `eventtime`:
//!
//! - `from_iso8601_timestamp(text)`, `from_iso8601_date(text)`,
//!   `to_iso8601(ts)` (`2024-01-15T10:00:00.000Z`, as Trino prints a UTC
//!   timestamp);
//! - `date_parse(text, format)` and `date_format(ts, format)` with
//!   MySQL-style specifiers as Trino defines them (`%Y-%m-%dT%H:%i:%sZ`);
//!   the specifiers Trino does not support (`%D %U %u %V %w %X`) are
//!   refused, naming the one met;
//! - `format_datetime(ts, format)` and `parse_datetime(text, format)` with
//!   Joda-style patterns as Trino defines them (`yyyy-MM-dd HH:mm:ss`,
//!   `'quoted text'`); the letters with no equivalent here (`G C k K`, and
//!   fractions other than `S`, `SSS`, `SSSSSS`, `SSSSSSSSS`) are refused;
//! - `date_add(unit, n, ts)` and `date_diff(unit, a, b)` for `millisecond`,
//!   `second`, `minute`, `hour`, `day`, `week`, `month`, `quarter`, `year`
//!   (`date_diff` counts whole units, months by the calendar, as Trino);
//! - `year`, `quarter`, `month`, `week` (ISO), `day` (`day_of_month`),
//!   `day_of_week` (`dow`, 1 Monday to 7 Sunday), `day_of_year` (`doy`),
//!   `hour`, `minute`, `second`, `millisecond`, and `date(ts)`.
//!
//! A timestamp argument may be given as a timestamp, a date or ISO text
//! (as `eventtime` is in Athena): each is read as a UTC instant. Times are
//! UTC throughout, as CloudTrail's are; no session time zone applies.
//!
//! It imports nothing of trailsql outside `functions/`.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The type of every timestamp these functions give: `eventtime`'s.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// What a function does with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    FromIso,
    FromIsoDate,
    ToIso,
    Parse,
    Format,
    ParseJoda,
    FormatJoda,
    Add,
    Diff,
    Part(Part),
    Date,
}

/// A field of a date or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TimeFn {
    name: &'static str,
    aliases: Vec<String>,
    kind: Kind,
    signature: Signature,
}

/// Every function of this module.
pub fn udfs() -> Vec<ScalarUDF> {
    let f = |name: &'static str, aliases: &[&str], args: usize, kind: Kind| {
        ScalarUDF::from(TimeFn {
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            kind,
            signature: Signature::any(args, Volatility::Immutable),
        })
    };
    let mut all = vec![
        f("from_iso8601_timestamp", &[], 1, Kind::FromIso),
        f("from_iso8601_date", &[], 1, Kind::FromIsoDate),
        f("to_iso8601", &[], 1, Kind::ToIso),
        f("date_parse", &[], 2, Kind::Parse),
        f("date_format", &[], 2, Kind::Format),
        f("parse_datetime", &[], 2, Kind::ParseJoda),
        f("format_datetime", &[], 2, Kind::FormatJoda),
        f("date_add", &[], 3, Kind::Add),
        f("date_diff", &[], 3, Kind::Diff),
        f("date", &[], 1, Kind::Date),
    ];
    for (name, aliases, part) in [
        ("year", &[][..], Part::Year),
        ("quarter", &[], Part::Quarter),
        ("month", &[], Part::Month),
        ("week", &["week_of_year"], Part::Week),
        ("day", &["day_of_month"], Part::Day),
        ("day_of_week", &["dow"], Part::DayOfWeek),
        ("day_of_year", &["doy"], Part::DayOfYear),
        ("hour", &[], Part::Hour),
        ("minute", &[], Part::Minute),
        ("second", &[], Part::Second),
        ("millisecond", &[], Part::Millisecond),
    ] {
        all.push(f(name, aliases, 1, Kind::Part(part)));
    }
    all
}

impl ScalarUDFImpl for TimeFn {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::FromIso | Kind::Parse | Kind::ParseJoda | Kind::Add => timestamp_type(),
            Kind::FromIsoDate | Kind::Date => DataType::Date32,
            Kind::ToIso | Kind::Format | Kind::FormatJoda => DataType::Utf8,
            Kind::Diff | Kind::Part(_) => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (arrays, scalar) = super::json::arrays(&args.args)?;
        let out: ArrayRef = match self.kind {
            Kind::FromIso => Arc::new(instants(&arrays[0])?),
            Kind::FromIsoDate | Kind::Date => Arc::new(dates(&arrays[0])?),
            Kind::ToIso => to_iso(&arrays[0])?,
            Kind::Parse => Arc::new(parse(&arrays[0], &arrays[1], chrono_format)?),
            Kind::Format => Arc::new(format(&arrays[0], &arrays[1], chrono_format)?),
            Kind::ParseJoda => Arc::new(parse(&arrays[0], &arrays[1], joda_format)?),
            Kind::FormatJoda => Arc::new(format(&arrays[0], &arrays[1], joda_format)?),
            Kind::Add => Arc::new(add(&arrays[0], &arrays[1], &arrays[2])?),
            Kind::Diff => Arc::new(diff(&arrays[0], &arrays[1], &arrays[2])?),
            Kind::Part(part) => Arc::new(part_of(part, &arrays[0])?),
        };
        super::json::columnar(out, scalar)
    }
}

/// `a` as UTC instants in milliseconds: a timestamp of any unit or zone, a
/// date (its midnight), or ISO-8601 text (`2024-01-15T10:00:00Z`,
/// `2024-01-15T10:00:00.123+02:00`, `2024-01-15`; without a zone, UTC).
/// Text that is no such time is an error naming it, as in Trino.
fn instants(a: &ArrayRef) -> Result<TimestampMillisecondArray> {
    if let DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View = a.data_type() {
        let text = cast_with_options(a, &DataType::Utf8, &CastOptions::default())?;
        let text = text.as_string::<i32>();
        let ms: Result<Vec<Option<i64>>> = text
            .iter()
            .map(|v| v.map(iso_instant).transpose())
            .collect();
        return Ok(TimestampMillisecondArray::from(ms?).with_timezone("UTC"));
    }
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let ms = cast_with_options(a, &timestamp_type(), &options)?;
    Ok(ms.as_primitive::<TimestampMillisecondType>().clone())
}

/// One ISO-8601 time as milliseconds since the epoch.
fn iso_instant(text: &str) -> Result<i64> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.timestamp_millis());
    }
    // Without seconds or a zone, or a date alone (UTC).
    let naive = t.trim_end_matches('Z');
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(naive, format) {
            return Ok(at.and_utc().timestamp_millis());
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis());
    }
    exec_err!("not an ISO-8601 time: {text:?}")
}

/// `a` as dates (UTC): of a timestamp, a date, or ISO text.
fn dates(a: &ArrayRef) -> Result<Date32Array> {
    let ms = instants(a)?;
    Ok(ms
        .iter()
        .map(|v| v.and_then(utc).map(|t| days_since_epoch(t.date_naive())))
        .collect())
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::default()).num_days() as i32
}

fn utc(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// `to_iso8601`: a timestamp as `2024-01-15T10:00:00.000Z`, a date as
/// `2024-01-15`.
fn to_iso(a: &ArrayRef) -> Result<ArrayRef> {
    if let DataType::Date32 | DataType::Date64 = a.data_type() {
        let d = cast_with_options(a, &DataType::Date32, &CastOptions::default())?;
        let d = d.as_primitive::<datafusion::arrow::datatypes::Date32Type>();
        let text: StringArray = d
            .iter()
            .map(|v| {
                v.and_then(|v| {
                    NaiveDate::default()
                        .checked_add_signed(TimeDelta::days(v as i64))
                        .map(|d| d.format("%Y-%m-%d").to_string())
                })
            })
            .collect();
        return Ok(Arc::new(text));
    }
    let ms = instants(a)?;
    let text: StringArray = ms
        .iter()
        .map(|v| {
            v.and_then(utc)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        })
        .collect();
    Ok(Arc::new(text))
}

/// A MySQL-style format (Trino's `date_format`/`date_parse`) as chrono's.
fn chrono_format(mysql: &str) -> Result<String> {
    let mut out = String::new();
    let mut chars = mysql.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            return plan_err!("date format {mysql:?} ends in a lone %");
        };
        let chrono = match spec {
            'a' => "%a",
            'b' => "%b",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'f' => "%6f",
            'H' => "%H",
            'h' | 'I' => "%I",
            'i' => "%M",
            'j' => "%j",
            'k' => "%-H",
            'l' => "%-I",
            'M' => "%B",
            'm' => "%m",
            'p' => "%p",
            'r' => "%I:%M:%S %p",
            'S' | 's' => "%S",
            'T' => "%H:%M:%S",
            'v' => "%V",
            'W' => "%A",
            'x' => "%G",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => {
                return plan_err!(
                    "date format specifier %{spec} is not supported (nor is it in Trino or Athena)"
                )
            }
            // As MySQL: any other character after % is itself.
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(chrono);
    }
    Ok(out)
}

/// A Joda-style pattern (Trino's `format_datetime`/`parse_datetime`) as
/// chrono's format: letters repeated give the field and its width, text in
/// single quotes is itself (`''` is a quote), other characters are
/// themselves.
fn joda_format(joda: &str) -> Result<String> {
    let mut out = String::new();
    let chars: Vec<char> = joda.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted text up to the next lone quote; '' is a quote.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i = j + 1;
                continue;
            }
            loop {
                match chars.get(j) {
                    None => return plan_err!("date pattern {joda:?} has an unclosed quote"),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        out.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some('%') => {
                        out.push_str("%%");
                        j += 1;
                    }
                    Some(&other) => {
                        out.push(other);
                        j += 1;
                    }
                }
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            match c {
                '%' => out.push_str("%%"),
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|&&x| x == c).count();
        let chrono = match (c, n) {
            ('y' | 'Y', 2) => "%y",
            ('y' | 'Y', _) => "%Y",
            ('x', 2) => "%g",
            ('x', _) => "%G",
            ('w', 1) => "%-V",
            ('w', _) => "%V",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', 1) => "%-j",
            ('D', _) => "%j",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('e', _) => "%u",
            ('a', _) => "%p",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('Z', 1) => "%z",
            ('Z', 2) => "%:z",
            ('Z' | 'z', _) => "%Z",
            (other, n) => {
                return plan_err!(
                    "date pattern letter {} is not supported here",
                    other.to_string().repeat(n)
                )
            }
        };
        out.push_str(chrono);
        i += n;
    }
    Ok(out)
}

/// Each row's text of `a` read by `read` (NULL stays NULL): the formats
/// and units of the functions' arguments.
fn each_text<T>(a: &ArrayRef, read: fn(&str) -> Result<T>) -> Result<Vec<Option<T>>> {
    let a = cast_with_options(a, &DataType::Utf8, &CastOptions::default())?;
    a.as_string::<i32>()
        .iter()
        .map(|v| v.map(read).transpose())
        .collect()
}

/// `date_format(ts, format)` and (Joda) `format_datetime`: `convert`
/// makes each format chrono's.
fn format(ts: &ArrayRef, f: &ArrayRef, convert: fn(&str) -> Result<String>) -> Result<StringArray> {
    let ms = instants(ts)?;
    let formats = each_text(f, convert)?;
    Ok(ms
        .iter()
        .zip(formats)
        .map(|(v, f)| Some(utc(v?)?.format(&f?).to_string()))
        .collect())
}

/// `date_parse(text, format)`: fields the format lacks are those of
/// 1970-01-01 00:00:00, as in Trino; text that does not fit is an error.
fn parse(
    text: &ArrayRef,
    f: &ArrayRef,
    convert: fn(&str) -> Result<String>,
) -> Result<TimestampMillisecondArray> {
    let text = cast_with_options(text, &DataType::Utf8, &CastOptions::default())?;
    let text = text.as_string::<i32>();
    let formats = each_text(f, convert)?;
    let mut out = Vec::with_capacity(text.len());
    for (v, f) in text.iter().zip(formats) {
        out.push(match (v, f) {
            (Some(v), Some(f)) => Some(parse_one(v, &f)?),
            _ => None,
        });
    }
    Ok(TimestampMillisecondArray::from(out).with_timezone("UTC"))
}

fn parse_one(text: &str, format: &str) -> Result<i64> {
    use chrono::format::{parse, Parsed, StrftimeItems};
    let mut p = Parsed::new();
    let bad = |e: chrono::format::ParseError| {
        datafusion::common::DataFusionError::Execution(format!(
            "date_parse: {text:?} does not fit the format: {e}"
        ))
    };
    parse(&mut p, text, StrftimeItems::new(format)).map_err(bad)?;
    if p.year().is_none() && p.isoyear().is_none() {
        p.set_year(1970).map_err(bad)?;
    }
    if p.month().is_none() && p.ordinal().is_none() && p.isoweek().is_none() {
        p.set_month(1).map_err(bad)?;
    }
    if p.day().is_none() && p.ordinal().is_none() && p.weekday().is_none() {
        p.set_day(1).map_err(bad)?;
    }
    if p.hour_div_12().is_none() && p.hour_mod_12().is_none() {
        p.set_hour(0).map_err(bad)?;
    } else if p.hour_div_12().is_none() {
        // %h without %p: the morning's hour, as Trino reads it.
        p.set_ampm(false).map_err(bad)?;
    }
    if p.minute().is_none() {
        p.set_minute(0).map_err(bad)?;
    }
    // A zone in the text (Z, +02:00) places the instant; else it is UTC.
    let offset = p.offset().unwrap_or(0);
    let at = p.to_naive_datetime_with_offset(offset).map_err(bad)?;
    Ok(at.and_utc().timestamp_millis() - i64::from(offset) * 1000)
}

/// A unit of `date_add` and `date_diff`.
#[derive(Clone, Copy)]
enum Unit {
    Fixed(i64),
    Months(i64),
}

fn unit(name: &str) -> Result<Unit> {
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "millisecond" => Unit::Fixed(1),
        "second" => Unit::Fixed(1_000),
        "minute" => Unit::Fixed(60_000),
        "hour" => Unit::Fixed(3_600_000),
        "day" => Unit::Fixed(86_400_000),
        "week" => Unit::Fixed(7 * 86_400_000),
        "month" => Unit::Months(1),
        "quarter" => Unit::Months(3),
        "year" => Unit::Months(12),
        other => {
            return plan_err!(
                "unknown unit {other:?}: millisecond, second, minute, hour, day, week, month, quarter or year"
            )
        }
    })
}

fn units(u: &ArrayRef) -> Result<Vec<Option<Unit>>> {
    each_text(u, unit)
}

/// `date_add(unit, n, ts)`: months, quarters and years by the calendar
/// (the 31st plus a month is the last day of the next), as Trino.
fn add(u: &ArrayRef, n: &ArrayRef, ts: &ArrayRef) -> Result<TimestampMillisecondArray> {
    let ms = instants(ts)?;
    let units = units(u)?;
    let n = cast_with_options(n, &DataType::Int64, &CastOptions::default())?;
    let n = n.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let mut out = Vec::with_capacity(ms.len());
    for (i, unit) in units.iter().enumerate() {
        if ms.is_null(i) || n.is_null(i) {
            out.push(None);
            continue;
        }
        let Some(unit) = *unit else {
            out.push(None);
            continue;
        };
        let (at, by) = (ms.value(i), n.value(i));
        out.push(Some(match unit {
            Unit::Fixed(size) => match by.checked_mul(size).and_then(|d| at.checked_add(d)) {
                Some(v) => v,
                None => return exec_err!("date_add: out of range"),
            },
            Unit::Months(size) => {
                let t = utc(at).map(|t| t.naive_utc());
                let months = by * size;
                let moved = t.and_then(|t| match months >= 0 {
                    true => t.checked_add_months(Months::new(months as u32)),
                    false => t.checked_sub_months(Months::new(months.unsigned_abs() as u32)),
                });
                match moved {
                    Some(t) => t.and_utc().timestamp_millis(),
                    None => return exec_err!("date_add: out of range"),
                }
            }
        }));
    }
    Ok(TimestampMillisecondArray::from(out).with_timezone("UTC"))
}

/// `date_diff(unit, a, b)`: the whole units from `a` to `b` (negative when
/// `b` is earlier); months counted by the calendar, a month being complete
/// when the day and time of `a` are reached again.
fn diff(u: &ArrayRef, a: &ArrayRef, b: &ArrayRef) -> Result<Int64Array> {
    let (a, b) = (instants(a)?, instants(b)?);
    let units = units(u)?;
    Ok((0..a.len())
        .map(|i| {
            if a.is_null(i) || b.is_null(i) {
                return None;
            }
            let (x, y) = (a.value(i), b.value(i));
            Some(match units[i]? {
                Unit::Fixed(size) => (y - x) / size,
                Unit::Months(size) => months_between(utc(x)?, utc(y)?) / size,
            })
        })
        .collect())
}

fn months_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    if b < a {
        return -months_between(b, a);
    }
    let mut n = (b.year() as i64 - a.year() as i64) * 12 + b.month() as i64 - a.month() as i64;
    // Not yet complete if b is earlier in its month than a was in its.
    let reached = a
        .naive_utc()
        .checked_add_months(Months::new(n.max(0) as u32))
        .is_some_and(|t| t <= b.naive_utc());
    if !reached {
        n -= 1;
    }
    n
}

/// A field of each time.
fn part_of(part: Part, a: &ArrayRef) -> Result<Int64Array> {
    let ms = instants(a)?;
    Ok(ms
        .iter()
        .map(|v| {
            let t = utc(v?)?;
            Some(match part {
                Part::Year => t.year() as i64,
                Part::Quarter => (t.month0() / 3 + 1) as i64,
                Part::Month => t.month() as i64,
                Part::Week => t.iso_week().week() as i64,
                Part::Day => t.day() as i64,
                Part::DayOfWeek => t.weekday().number_from_monday() as i64,
                Part::DayOfYear => t.ordinal() as i64,
                Part::Hour => t.hour() as i64,
                Part::Minute => t.minute() as i64,
                Part::Second => t.second() as i64,
                Part::Millisecond => (t.timestamp_subsec_millis()) as i64,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        utc(iso_instant(text).unwrap()).unwrap()
    }

    #[test]
    fn iso_text_in_the_shapes_cloudtrail_and_people_write() {
        assert_eq!(
            iso_instant("2024-01-15T10:00:00Z").unwrap(),
            1_705_312_800_000
        );
        assert_eq!(
            iso_instant("2024-01-15T12:00:00+02:00").unwrap(),
            1_705_312_800_000
        );
        assert_eq!(
            iso_instant("2024-01-15T10:00:00.250Z").unwrap(),
            1_705_312_800_250
        );
        assert_eq!(iso_instant("2024-01-15T10:00").unwrap(), 1_705_312_800_000);
        assert_eq!(iso_instant("2024-01-15").unwrap(), 1_705_276_800_000);
        assert!(iso_instant("15/01/2024").is_err());
    }

    #[test]
    fn mysql_formats_become_chrono_formats() {
        assert_eq!(
            chrono_format("%Y-%m-%dT%H:%i:%sZ").unwrap(),
            "%Y-%m-%dT%H:%M:%SZ"
        );
        assert_eq!(
            chrono_format("%W %e %M, 100%%").unwrap(),
            "%A %-d %B, 100%%"
        );
        assert!(chrono_format("%U").is_err());
        assert!(chrono_format("%").is_err());
    }

    #[test]
    fn joda_patterns_become_chrono_formats() {
        assert_eq!(
            joda_format("yyyy-MM-dd'T'HH:mm:ss.SSSZZ").unwrap(),
            "%Y-%m-%dT%H:%M:%S.%3f%:z"
        );
        assert_eq!(
            joda_format("EEE, d MMM yy h:mm a 'o''clock' 100%").unwrap(),
            "%a, %-d %b %y %-I:%M %p o'clock 100%%"
        );
        assert!(joda_format("kk").is_err());
        assert!(joda_format("'open").is_err());
    }

    #[test]
    fn date_parse_fills_what_the_format_lacks_as_trino() {
        let f = chrono_format("%Y-%m-%d").unwrap();
        assert_eq!(parse_one("2024-01-15", &f).unwrap(), 1_705_276_800_000);
        let f = chrono_format("%H:%i").unwrap();
        assert_eq!(parse_one("01:30", &f).unwrap(), 5_400_000);
        let f = chrono_format("%Y-%m-%dT%H:%i:%sZ").unwrap();
        assert_eq!(
            parse_one("2024-01-15T10:00:00Z", &f).unwrap(),
            1_705_312_800_000
        );
        assert!(parse_one("2024-01-15", &chrono_format("%d/%m/%Y").unwrap()).is_err());
    }

    #[test]
    fn months_between_counts_complete_calendar_months() {
        // The 31st plus a month is the 29th of a leap February: complete.
        assert_eq!(months_between(at("2024-01-31"), at("2024-02-29")), 1);
        assert_eq!(months_between(at("2024-01-31"), at("2024-02-28")), 0);
        assert_eq!(months_between(at("2024-01-15"), at("2024-02-15")), 1);
        assert_eq!(
            months_between(at("2024-01-15T10:00:00Z"), at("2024-02-15T09:59:59Z")),
            0
        );
        assert_eq!(months_between(at("2024-03-15"), at("2024-01-15")), -2);
        assert_eq!(months_between(at("2023-01-01"), at("2024-06-30")), 17);
    }
}
