//! Trino's (Athena's) string, array, JSON and URL functions that
//! DataFusion lacks or names otherwise, with Trino's meaning:
//!
//! - `regexp_extract(s, pattern[, group])`: the first match (or its
//!   group); NULL when nothing matches. `regexp_extract_all(s, pattern[,
//!   group])`: every match, as an array.
//! - `split(s, delimiter[, limit])`: the parts, as an array (with a limit,
//!   the last part holds the rest).
//! - `element_at(array, i)`: 1-based, negative from the end, NULL beyond
//!   either end; 0 is an error, as in Trino.
//! - `json_array_length(json)`, `json_array_contains(json, value)`,
//!   `json_size(json, path)`: NULL where the text is not JSON of that shape.
//! - `url_extract_host(url)`: the host, NULL when the text is no URL.
//! - `contains(array, x)`: whether the array holds `x` (NULL when it does
//!   not but holds a NULL, as in Trino); over text, as DataFusion's
//!   `contains(text, part)`, whether the text holds the part.
//! - `json_parse(text)` and `json_format(json)`: the JSON text, compact
//!   (an error where the text is not JSON, as in Trino).
//! - `json_to_array(json, 'json' | 'value' | 'try json' | 'try value')`:
//!   what Trino's `CAST(json AS ARRAY(JSON))` (each element's JSON text)
//!   and `CAST(json AS ARRAY(VARCHAR))` (each element's value, before a
//!   cast to the element type) give; the dialect writes it for those casts.
//!   JSON `null` is NULL; a text that is not a JSON array, or (for values)
//!   an element that is an object or array, is an error as in Trino, or
//!   NULL under `try` (`TRY_CAST`).
//! - `great_circle_distance(lat1, lon1, lat2, lon2)`: kilometres between
//!   two points on the Earth's surface (a sphere of Trino's radius,
//!   6371.01 km); NULL where any is NULL, an error for a latitude outside
//!   -90..90 or a longitude outside -180..180, as in Trino.
//!
//! Regular expressions are Rust's `regex` syntax, which is Java's but for
//! look-around and back-references: a pattern using them is refused with
//! the regex crate's message.
//!
//! It imports nothing of trailsql outside `functions/`.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray,
    ListBuilder, StringArray, StringBuilder, UInt32Array,
};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use serde_json::Value;

use super::json::{parse_path, walk};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    RegexpExtract,
    RegexpExtractAll,
    Split,
    ElementAt,
    JsonArrayLength,
    JsonArrayContains,
    JsonSize,
    UrlExtractHost,
    Contains,
    JsonParse,
    JsonToArray,
    GreatCircleDistance,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TrinoFn {
    name: &'static str,
    kind: Kind,
    signature: Signature,
}

/// Every function of this module.
pub fn udfs() -> Vec<ScalarUDF> {
    let f = |name, kind, counts: &[usize]| {
        let signature = Signature::one_of(
            counts.iter().map(|&n| TypeSignature::Any(n)).collect(),
            Volatility::Immutable,
        );
        ScalarUDF::from(TrinoFn {
            name,
            kind,
            signature,
        })
    };
    vec![
        f("regexp_extract", Kind::RegexpExtract, &[2, 3]),
        f("regexp_extract_all", Kind::RegexpExtractAll, &[2, 3]),
        f("split", Kind::Split, &[2, 3]),
        f("element_at", Kind::ElementAt, &[2]),
        f("json_array_length", Kind::JsonArrayLength, &[1]),
        f("json_array_contains", Kind::JsonArrayContains, &[2]),
        f("json_size", Kind::JsonSize, &[2]),
        f("url_extract_host", Kind::UrlExtractHost, &[1]),
        f("contains", Kind::Contains, &[2]),
        f("json_parse", Kind::JsonParse, &[1]),
        f("json_format", Kind::JsonParse, &[1]),
        f("json_to_array", Kind::JsonToArray, &[2]),
        f("great_circle_distance", Kind::GreatCircleDistance, &[4]),
    ]
}

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

impl ScalarUDFImpl for TrinoFn {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::RegexpExtract | Kind::UrlExtractHost | Kind::JsonParse => DataType::Utf8,
            Kind::Contains => DataType::Boolean,
            Kind::RegexpExtractAll | Kind::Split | Kind::JsonToArray => text_list(),
            Kind::JsonArrayLength | Kind::JsonSize => DataType::Int64,
            Kind::JsonArrayContains => DataType::Boolean,
            Kind::GreatCircleDistance => DataType::Float64,
            Kind::ElementAt => match &args[0] {
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                    f.data_type().clone()
                }
                DataType::Null => DataType::Null,
                other => {
                    return plan_err!(
                        "element_at takes an array (1-based index), not {other}; for a JSON array write json_extract(json, '$[0]')"
                    )
                }
            },
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (a, scalar) = super::json::arrays(&args.args)?;
        let out: ArrayRef = match self.kind {
            Kind::RegexpExtract => regexp_extract(&a, false)?,
            Kind::RegexpExtractAll => regexp_extract(&a, true)?,
            Kind::Split => split(&a)?,
            Kind::ElementAt => element_at(&a[0], &a[1])?,
            Kind::JsonArrayLength => Arc::new(json_array_length(&a[0])?),
            Kind::JsonArrayContains => Arc::new(json_array_contains(&a[0], &a[1])?),
            Kind::JsonSize => Arc::new(json_size(&a[0], &a[1])?),
            Kind::UrlExtractHost => Arc::new(url_host(&a[0])?),
            Kind::Contains => Arc::new(contains(&a[0], &a[1])?),
            Kind::JsonParse => Arc::new(json_parse(&a[0])?),
            Kind::JsonToArray => Arc::new(json_to_array(&a[0], &a[1])?),
            Kind::GreatCircleDistance => Arc::new(great_circle_distance(&a)?),
        };
        super::json::columnar(out, scalar)
    }
}

/// Trino's Earth radius, in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.01;

fn great_circle_distance(a: &[ArrayRef]) -> Result<Float64Array> {
    let mut cols = Vec::with_capacity(4);
    for x in a {
        cols.push(
            cast(x, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .clone(),
        );
    }
    let mut out = Float64Array::builder(cols[0].len());
    for i in 0..cols[0].len() {
        if cols.iter().any(|c| c.is_null(i)) {
            out.append_null();
            continue;
        }
        let [lat1, lon1, lat2, lon2] = [0, 1, 2, 3].map(|k| cols[k].value(i));
        for lat in [lat1, lat2] {
            if !(-90.0..=90.0).contains(&lat) {
                return exec_err!(
                    "great_circle_distance: latitude must be between -90 and 90, not {lat}"
                );
            }
        }
        for lon in [lon1, lon2] {
            if !(-180.0..=180.0).contains(&lon) {
                return exec_err!(
                    "great_circle_distance: longitude must be between -180 and 180, not {lon}"
                );
            }
        }
        let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
        let dp = p2 - p1;
        let dl = (lon2 - lon1).to_radians();
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        out.append_value(2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin());
    }
    Ok(out.finish())
}

fn texts(a: &ArrayRef) -> Result<StringArray> {
    Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

fn integers(a: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(a, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

/// `regexp_extract` and (with `all`) `regexp_extract_all`.
fn regexp_extract(a: &[ArrayRef], all: bool) -> Result<ArrayRef> {
    let (s, p) = (texts(&a[0])?, texts(&a[1])?);
    let groups = a.get(2).map(integers).transpose()?;
    let mut compiled: HashMap<String, regex::Regex> = HashMap::new();
    let mut one = StringBuilder::new();
    let mut many = ListBuilder::new(StringBuilder::new());
    for i in 0..s.len() {
        let group = match &groups {
            Some(g) if g.is_null(i) => None,
            Some(g) => Some(g.value(i)),
            None => Some(0),
        };
        let (Some(group), false, false) = (group, s.is_null(i), p.is_null(i)) else {
            match all {
                true => many.append_null(),
                false => one.append_null(),
            }
            continue;
        };
        let pattern = p.value(i);
        if !compiled.contains_key(pattern) {
            let re = regex::Regex::new(pattern).map_err(|e| {
                datafusion::common::DataFusionError::Execution(format!(
                    "regexp_extract: pattern {pattern:?}: {e}"
                ))
            })?;
            compiled.insert(pattern.to_string(), re);
        }
        let re = &compiled[pattern];
        if group < 0 || group as usize >= re.captures_len() {
            return exec_err!(
                "regexp_extract: pattern {pattern:?} has no group {group} (it has {})",
                re.captures_len() - 1
            );
        }
        let group = group as usize;
        let text = s.value(i);
        if all {
            for c in re.captures_iter(text) {
                match c.get(group) {
                    Some(m) => many.values().append_value(m.as_str()),
                    None => many.values().append_null(),
                }
            }
            many.append(true);
        } else {
            match re.captures(text).and_then(|c| c.get(group)) {
                Some(m) => one.append_value(m.as_str()),
                None => one.append_null(),
            }
        }
    }
    Ok(match all {
        true => Arc::new(many.finish()),
        false => Arc::new(one.finish()),
    })
}

/// `split(s, delimiter[, limit])`.
fn split(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (s, d) = (texts(&a[0])?, texts(&a[1])?);
    let limits = a.get(2).map(integers).transpose()?;
    let mut out = ListBuilder::new(StringBuilder::new());
    for i in 0..s.len() {
        if s.is_null(i) || d.is_null(i) || limits.as_ref().is_some_and(|l| l.is_null(i)) {
            out.append_null();
            continue;
        }
        let delimiter = d.value(i);
        if delimiter.is_empty() {
            return exec_err!("split: the delimiter is empty");
        }
        match limits.as_ref().map(|l| l.value(i)) {
            Some(limit) if limit <= 0 => return exec_err!("split: limit must be positive"),
            Some(limit) => {
                for part in s.value(i).splitn(limit as usize, delimiter) {
                    out.values().append_value(part);
                }
            }
            None => {
                for part in s.value(i).split(delimiter) {
                    out.values().append_value(part);
                }
            }
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// `element_at(array, i)`.
fn element_at(list: &ArrayRef, index: &ArrayRef) -> Result<ArrayRef> {
    if list.data_type().is_null() {
        return Ok(new_null_array(&DataType::Null, list.len()));
    }
    let list = as_list(list, "element_at takes an array")?;
    let index = integers(index)?;
    let mut picks: Vec<Option<u32>> = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        if list.is_null(i) || index.is_null(i) {
            picks.push(None);
            continue;
        }
        let (start, end) = (list.value_offsets()[i], list.value_offsets()[i + 1]);
        let len = (end - start) as i64;
        let at = match index.value(i) {
            0 => return exec_err!("element_at: SQL array indices start at 1"),
            n if n > 0 && n <= len => Some(n - 1),
            n if n < 0 && -n <= len => Some(len + n),
            _ => None,
        };
        picks.push(at.map(|at| (start as i64 + at) as u32));
    }
    Ok(take(list.values(), &UInt32Array::from(picks), None)?)
}

/// `a` as a list array (a large or fixed-size list cast to one); any other
/// type is an error saying what `takes` ("element_at takes an array").
fn as_list(a: &ArrayRef, takes: &str) -> Result<ListArray> {
    let field = match a.data_type() {
        DataType::List(_) => return Ok(a.as_list::<i32>().clone()),
        DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.clone(),
        other => return exec_err!("{takes}, not {other}"),
    };
    Ok(cast(a, &DataType::List(field))?.as_list::<i32>().clone())
}

fn json_values(a: &ArrayRef) -> Result<Vec<Option<Value>>> {
    let a = texts(a)?;
    Ok(a.iter()
        .map(|v| v.and_then(|v| serde_json::from_str(v).ok()))
        .collect())
}

/// `json_array_length(json)`.
fn json_array_length(a: &ArrayRef) -> Result<Int64Array> {
    Ok(json_values(a)?
        .into_iter()
        .map(|v| match v {
            Some(Value::Array(items)) => Some(items.len() as i64),
            _ => None,
        })
        .collect())
}

/// `json_array_contains(json, value)`: whether the JSON array holds a
/// string, number or boolean equal to `value`.
fn json_array_contains(a: &ArrayRef, value: &ArrayRef) -> Result<BooleanArray> {
    let docs = json_values(a)?;
    let wanted: Vec<Option<Value>> = match value.data_type() {
        DataType::Boolean => value
            .as_boolean()
            .iter()
            .map(|b| b.map(Value::Bool))
            .collect(),
        t if t.is_numeric() => {
            let n = cast(value, &DataType::Float64)?;
            n.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .iter()
                .map(|f| f.and_then(serde_json::Number::from_f64).map(Value::Number))
                .collect()
        }
        _ => texts(value)?
            .iter()
            .map(|s| s.map(|s| Value::String(s.to_string())))
            .collect(),
    };
    Ok(docs
        .into_iter()
        .zip(wanted)
        .map(|(doc, wanted)| match (doc?, wanted?) {
            (Value::Array(items), w) => Some(items.iter().any(|item| same(item, &w))),
            _ => None,
        })
        .collect())
}

/// JSON equality, numbers by value (`1` and `1.0` are the same).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `json_size(json, path)`: the members of an object or elements of an
/// array at `path`, 0 for a scalar, NULL where nothing is.
fn json_size(a: &ArrayRef, path: &ArrayRef) -> Result<Int64Array> {
    let docs = json_values(a)?;
    let paths = texts(path)?;
    let mut out = Vec::with_capacity(docs.len());
    for (doc, path) in docs.iter().zip(paths.iter()) {
        let (Some(doc), Some(path)) = (doc, path) else {
            out.push(None);
            continue;
        };
        let steps = parse_path(path).map_err(datafusion::common::DataFusionError::Execution)?;
        out.push(walk(doc, &steps).map(|v| match v.as_ref() {
            Value::Array(items) => items.len() as i64,
            Value::Object(members) => members.len() as i64,
            _ => 0,
        }));
    }
    Ok(Int64Array::from(out))
}

/// `url_extract_host(url)`.
fn url_host(a: &ArrayRef) -> Result<StringArray> {
    Ok(texts(a)?
        .iter()
        .map(|v| {
            let parsed = url::Url::parse(v?).ok()?;
            parsed.host_str().map(str::to_string)
        })
        .collect())
}

/// `contains(array, x)`, or over text `contains(text, part)`.
fn contains(a: &ArrayRef, x: &ArrayRef) -> Result<BooleanArray> {
    if let DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View = a.data_type() {
        let (text, part) = (texts(a)?, texts(x)?);
        return Ok(text
            .iter()
            .zip(part.iter())
            .map(|(t, p)| Some(t?.contains(p?)))
            .collect());
    }
    let list = as_list(a, "contains takes an array or text")?;
    let wanted = cast(x, &list.value_type())?;
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        if list.is_null(i) || wanted.is_null(i) {
            out.push(None);
            continue;
        }
        let items = list.value(i);
        // Rows (structs) compare field by field, as Trino's equality does.
        let compare = datafusion::arrow::array::make_comparator(
            items.as_ref(),
            wanted.as_ref(),
            Default::default(),
        )?;
        let found = (0..items.len())
            .any(|j| items.is_valid(j) && compare(j, i) == std::cmp::Ordering::Equal);
        out.push(match (found, items.null_count() > 0) {
            (true, _) => Some(true),
            (false, true) => None,
            (false, false) => Some(false),
        });
    }
    Ok(BooleanArray::from(out))
}

/// `json_parse` / `json_format`: the JSON, compact.
fn json_parse(a: &ArrayRef) -> Result<StringArray> {
    let mut out = Vec::with_capacity(a.len());
    for v in texts(a)?.iter() {
        out.push(match v {
            None => None,
            Some(v) => match serde_json::from_str::<Value>(v) {
                Ok(json) => Some(json.to_string()),
                Err(e) => return exec_err!("json_parse: not JSON ({e}): {v:?}"),
            },
        });
    }
    Ok(StringArray::from(out))
}

/// `json_to_array(json, how)`.
fn json_to_array(a: &ArrayRef, how: &ArrayRef) -> Result<ListArray> {
    let how = texts(how)?;
    let mut out = ListBuilder::new(StringBuilder::new());
    for (i, v) in texts(a)?.iter().enumerate() {
        let (tried, elements_as_json) = match how.is_valid(i).then(|| how.value(i)) {
            Some("json") => (false, true),
            Some("value") => (false, false),
            Some("try json") => (true, true),
            Some("try value") => (true, false),
            other => return exec_err!("json_to_array: no such conversion {other:?}"),
        };
        let items = match v.map(serde_json::from_str::<Value>) {
            None | Some(Ok(Value::Null)) => None,
            Some(Ok(Value::Array(items))) => Some(items),
            Some(_) if tried => None,
            Some(_) => {
                return exec_err!(
                "cannot cast to an array: not a JSON array: {:?} (TRY_CAST or try(...) gives NULL)",
                v.unwrap_or_default()
            )
            }
        };
        let Some(items) = items else {
            out.append_null();
            continue;
        };
        let mut texts = Vec::with_capacity(items.len());
        for item in &items {
            texts.push(match (elements_as_json, item) {
                (_, Value::Null) => None,
                (true, item) => Some(item.to_string()),
                (false, Value::Object(_) | Value::Array(_)) if tried => {
                    texts.clear();
                    break;
                }
                (false, Value::Object(_) | Value::Array(_)) => {
                    return exec_err!(
                        "cannot cast a JSON object or array to an array element: {item} (CAST(... AS ARRAY(JSON)) keeps it as JSON)"
                    )
                }
                (false, item) => super::json::scalar_text(item),
            });
        }
        if texts.len() < items.len() {
            out.append_null();
            continue;
        }
        for t in texts {
            out.values().append_option(t);
        }
        out.append(true);
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    #[test]
    fn great_circle_distance_is_kilometres_on_the_sphere() {
        let f = |v: Vec<Option<f64>>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
        // Berlin to Paris (about 878 km), a point to itself, a NULL.
        let out = great_circle_distance(&[
            f(vec![Some(52.52), Some(10.0), None]),
            f(vec![Some(13.405), Some(20.0), Some(0.0)]),
            f(vec![Some(48.8566), Some(10.0), Some(0.0)]),
            f(vec![Some(2.3522), Some(20.0), Some(0.0)]),
        ])
        .unwrap();
        assert!((out.value(0) - 878.0).abs() < 3.0, "{}", out.value(0));
        assert_eq!(out.value(1), 0.0);
        assert!(out.is_null(2));
        // A quarter of the equator: a quarter of the circumference.
        let quarter = great_circle_distance(&[
            f(vec![Some(0.0)]),
            f(vec![Some(0.0)]),
            f(vec![Some(0.0)]),
            f(vec![Some(90.0)]),
        ])
        .unwrap();
        assert!((quarter.value(0) - EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
        let bad = great_circle_distance(&[
            f(vec![Some(91.0)]),
            f(vec![Some(0.0)]),
            f(vec![Some(0.0)]),
            f(vec![Some(0.0)]),
        ]);
        assert!(bad.unwrap_err().to_string().contains("latitude"));
    }

    #[test]
    fn regexp_extract_takes_the_first_match_or_its_group() {
        let s = strings(&[
            Some("arn:aws:iam::123456789012:role/admin"),
            Some("x"),
            None,
        ]);
        let p = strings(&[Some(r"::(\d{12}):"); 3]);
        let g: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 1]));
        let out = regexp_extract(&[s.clone(), p.clone(), g], false).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "123456789012");
        assert!(out.is_null(1) && out.is_null(2));
        let bad: ArrayRef = Arc::new(Int64Array::from(vec![2, 2, 2]));
        assert!(regexp_extract(&[s, p, bad], false).is_err());
    }

    #[test]
    fn element_at_counts_from_one_and_from_the_end() {
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(10), Some(20), Some(30)]),
            Some(vec![Some(10), Some(20), Some(30)]),
            Some(vec![Some(10)]),
        ]));
        let at: ArrayRef = Arc::new(Int64Array::from(vec![1, -1, 5]));
        let out = element_at(&lists, &at).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!((out.value(0), out.value(1)), (10, 30));
        assert!(out.is_null(2));
        let zero: ArrayRef = Arc::new(Int64Array::from(vec![0, 1, 1]));
        assert!(element_at(&lists, &zero).is_err());
    }
}
