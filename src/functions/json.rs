//! `json_extract_scalar(json, path)` and `json_extract(json, path)` over JSON
//! text, as in Athena (Presto/Trino): the path is a JSONPath of `$`, `.name`,
//! `["name"]` / `['name']` and `[index]`. `json_extract_scalar` gives a string,
//! number or boolean as text and NULL for objects, arrays, null and missing
//! paths; `json_extract` gives the JSON text of whatever is there. In
//! `json_extract`, `[*]` takes every element of an array and gives the JSON
//! array of what the rest of the path finds in each
//! (`$.instancesSet.items[*].instanceId` gives `["i-1","i-2"]`).
//!
//! It imports nothing of trailsql outside `functions/`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::json::writer::{make_encoder, EncoderOptions};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    create_udf, ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::borrow::Cow;

use serde_json::Value;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// `[*]`: every element of an array.
    All,
}

/// Parse a JSONPath of the Athena subset.
pub fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let p = path.trim();
    let mut rest = p
        .strip_prefix('$')
        .ok_or_else(|| format!("JSON path must start with $: {path:?}"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(format!("empty key in JSON path {path:?}"));
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = |q: char, r: &str| -> Result<(String, usize), String> {
                let end = r[1..]
                    .find(q)
                    .ok_or_else(|| format!("unclosed quote in JSON path {path:?}"))?
                    + 1;
                if !r[end + 1..].starts_with(']') {
                    return Err(format!("expected ] in JSON path {path:?}"));
                }
                Ok((r[1..end].to_string(), end + 2))
            };
            if let Some(r) = r.strip_prefix("*]") {
                steps.push(Step::All);
                rest = r;
            } else if r.starts_with('"') || r.starts_with('\'') {
                let (key, used) = close(r.chars().next().unwrap_or('"'), r)?;
                steps.push(Step::Key(key));
                rest = &r[used..];
            } else {
                let end = r
                    .find(']')
                    .ok_or_else(|| format!("expected ] in JSON path {path:?}"))?;
                let idx = r[..end].trim().parse().map_err(|_| {
                    format!("bad array index {:?} in JSON path {path:?}", &r[..end])
                })?;
                steps.push(Step::Index(idx));
                rest = &r[end + 1..];
            }
        } else {
            return Err(format!(
                "unexpected {:?} in JSON path {path:?}",
                rest.chars().next().unwrap_or(' ')
            ));
        }
    }
    Ok(steps)
}

/// The value at `steps` inside `v`; with `[*]` in the path, the array of
/// what the rest of the path finds in each element (missing ones skipped).
pub fn walk<'a>(mut v: &'a Value, steps: &[Step]) -> Option<Cow<'a, Value>> {
    for (i, s) in steps.iter().enumerate() {
        v = match (s, v) {
            (Step::Key(k), Value::Object(m)) => m.get(k)?,
            (Step::Index(i), Value::Array(a)) => a.get(*i)?,
            (Step::All, Value::Array(a)) => {
                let found = a
                    .iter()
                    .filter_map(|e| walk(e, &steps[i + 1..]).map(Cow::into_owned))
                    .collect();
                return Some(Cow::Owned(Value::Array(found)));
            }
            _ => return None,
        };
    }
    Some(Cow::Borrowed(v))
}

pub(super) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The arguments as arrays, and whether every one was a single value.
pub(super) fn arrays(args: &[ColumnarValue]) -> Result<(Vec<ArrayRef>, bool)> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    Ok((ColumnarValue::values_to_arrays(args)?, all_scalar))
}

/// The result: one value when every argument was one, else the array.
pub(super) fn columnar(array: ArrayRef, all_scalar: bool) -> Result<ColumnarValue> {
    if all_scalar {
        Ok(ColumnarValue::Scalar(
            datafusion::scalar::ScalarValue::try_from_array(&array, 0)?,
        ))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

fn apply(
    args: &[ColumnarValue],
    pick: fn(&Value) -> Option<String>,
    name: &str,
) -> Result<ColumnarValue> {
    if args.len() != 2 {
        return exec_err!("{name} takes (json, path)");
    }
    let (arrays, all_scalar) = arrays(args)?;
    let docs = cast(&arrays[0], &DataType::Utf8)?;
    let paths = cast(&arrays[1], &DataType::Utf8)?;
    let (docs, paths) = (docs.as_string::<i32>(), paths.as_string::<i32>());
    let mut out = StringBuilder::with_capacity(docs.len(), docs.len() * 8);
    let mut cached: Option<(String, Vec<Step>)> = None;
    for i in 0..docs.len() {
        if docs.is_null(i) || paths.is_null(i) {
            out.append_null();
            continue;
        }
        let path = paths.value(i);
        if cached.as_ref().is_none_or(|(p, _)| p != path) {
            match parse_path(path) {
                Ok(steps) => cached = Some((path.to_string(), steps)),
                Err(e) => return exec_err!("{name}: {e}"),
            }
        }
        let steps = &cached.as_ref().expect("set above").1;
        if name == "json_extract_scalar" && steps.contains(&Step::All) {
            return exec_err!(
                "{name}: [*] in {path:?} finds several values; json_extract gives them as an array"
            );
        }
        let v = serde_json::from_str::<Value>(docs.value(i)).ok();
        match v
            .as_ref()
            .and_then(|v| walk(v, steps))
            .and_then(|v| pick(&v))
        {
            Some(s) => out.append_value(s),
            None => out.append_null(),
        }
    }
    columnar(Arc::new(out.finish()), all_scalar)
}

/// `to_json(value)`: any value as JSON text, structs as objects and lists as
/// arrays (`to_json(resources)` gives
/// `[{"arn":"...","accountid":"...","type":"..."}]`); NULL stays NULL, and
/// NULL members of a struct are left out.
fn to_json(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let [arg] = args else {
        return exec_err!("to_json takes one value");
    };
    let all_scalar = matches!(arg, ColumnarValue::Scalar(_));
    let array = arg.to_array(1)?;
    let field: FieldRef = Arc::new(Field::new("v", array.data_type().clone(), true));
    let options = EncoderOptions::default();
    let mut encoder = make_encoder(&field, array.as_ref(), &options)?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 16);
    let mut buf = Vec::new();
    for i in 0..array.len() {
        if encoder.is_null(i) {
            out.append_null();
            continue;
        }
        buf.clear();
        encoder.encode(i, &mut buf);
        out.append_value(String::from_utf8_lossy(&buf));
    }
    columnar(Arc::new(out.finish()), all_scalar)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        to_json(&args.args)
    }
}

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(ToJson {
            signature: Signature::any(1, Volatility::Immutable),
        }),
        create_udf(
            "json_extract_scalar",
            vec![DataType::Utf8, DataType::Utf8],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(|args| apply(args, scalar_text, "json_extract_scalar")),
        ),
        create_udf(
            "json_extract",
            vec![DataType::Utf8, DataType::Utf8],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(|args| apply(args, |v| Some(v.to_string()), "json_extract")),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("$").unwrap(), vec![]);
        assert_eq!(
            parse_path("$.a[2]['b.c'][\"d\"].e").unwrap(),
            vec![
                Step::Key("a".into()),
                Step::Index(2),
                Step::Key("b.c".into()),
                Step::Key("d".into()),
                Step::Key("e".into())
            ]
        );
        assert!(parse_path("a.b").is_err());
        assert!(parse_path("$.a[x]").is_err());
        assert!(parse_path("$.a['b").is_err());
        let v: Value = serde_json::from_str(r#"{"a":[{"b":1},{"b":"x"}]}"#).unwrap();
        assert_eq!(
            walk(&v, &parse_path("$.a[1].b").unwrap()).as_deref(),
            Some(&Value::String("x".into()))
        );
        assert_eq!(walk(&v, &parse_path("$.a[5]").unwrap()), None);
        assert_eq!(parse_path("$.a[*].b").unwrap()[1], Step::All);
        let all = |p: &str| walk(&v, &parse_path(p).unwrap()).map(|v| v.to_string());
        assert_eq!(all("$.a[*].b").as_deref(), Some(r#"[1,"x"]"#));
        assert_eq!(all("$.a[*].c").as_deref(), Some("[]"));
        assert_eq!(all("$.b[*]"), None);
    }
}
