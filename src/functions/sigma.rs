//! Matching a Sigma value against a field that may hold many values: a
//! path inside a JSON-text column (`requestParameters.ipPermissions.items
//! .ipRanges.items.cidrIp`), which descends into every element of each
//! array on the way, or a field of the `resources` list. Sigma says such a
//! field matches when any of its values does.
//!
//! `sigma_any(x, path, how, arg)`: whether any value at `path` (dotted keys)
//! inside `x` matches; never NULL (a missing field has no values).
//! `how` is one of:
//! - `glob` / `glob_cased`: `arg` is a Sigma pattern (`*`, `?`, and `\`
//!   escaping them), matched case-insensitively unless `_cased`;
//! - `re`: `arg` is a regular expression (flags inline, `(?i)`);
//! - `cidr`: `arg` is a CIDR block;
//! - `gt`, `gte`, `lt`, `lte`: `arg` is a number the value is compared to;
//! - `null`: true when the field is missing or one of its values is null;
//! - `exists`: true when it has a value that is not null.
//!
//! `sigma_text(x, path)`: the values at `path`, joined with `, ` (what a
//! correlation groups by), NULL when there are none.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::Value;

/// The values at `path` in row `row` of `x` (JSON text, or a list of
/// structs); empty when there are none.
fn values(x: &ArrayRef, row: usize, path: &[&str]) -> Vec<Option<String>> {
    if x.is_null(row) {
        return Vec::new();
    }
    match x.data_type() {
        DataType::List(_) => {
            let items = x.as_list::<i32>().value(row);
            let Some(structs) = items.as_struct_opt() else {
                return Vec::new();
            };
            let Some(first) = path.first() else {
                return Vec::new();
            };
            let Some(at) = structs
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(first))
            else {
                return Vec::new();
            };
            let Ok(column) = cast(structs.column(at), &DataType::Utf8) else {
                return Vec::new();
            };
            let column = column.as_string::<i32>();
            (0..column.len())
                .map(|i| (!column.is_null(i)).then(|| column.value(i).to_string()))
                .collect()
        }
        _ => {
            let Ok(text) = cast(&x.slice(row, 1), &DataType::Utf8) else {
                return Vec::new();
            };
            let Ok(doc) = serde_json::from_str::<Value>(text.as_string::<i32>().value(0)) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            walk(&doc, path, &mut out);
            out
        }
    }
}

/// Collect the values at `path` under `v`, through every array.
fn walk(v: &Value, path: &[&str], out: &mut Vec<Option<String>>) {
    if let Value::Array(items) = v {
        for item in items {
            walk(item, path, out);
        }
        return;
    }
    let Some((key, rest)) = path.split_first() else {
        out.push(match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        });
        return;
    };
    if let Value::Object(map) = v {
        let found = map.get(*key).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        });
        // An absent key gives nothing (a missing field).
        if let Some(inner) = found {
            walk(inner, rest, out);
        }
    }
}

/// One piece of a Sigma pattern.
#[derive(Debug, PartialEq)]
pub(super) enum Piece {
    Char(char),
    Any,
    One,
}

/// A Sigma pattern (`*`, `?`, `\*`, `\?`, `\\`), lower-cased unless `cased`.
pub(super) fn pieces(pattern: &str, cased: bool) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                out.push(Piece::Char(chars.next().expect("peeked")))
            }
            '*' => out.push(Piece::Any),
            '?' => out.push(Piece::One),
            c if cased => out.push(Piece::Char(c)),
            c => out.extend(c.to_lowercase().map(Piece::Char)),
        }
    }
    out
}

/// Whether `text` matches the whole pattern.
pub(super) fn glob(pattern: &[Piece], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Piece::Any) => {
                back = Some((p, t));
                p += 1;
            }
            Some(Piece::One) => {
                p += 1;
                t += 1;
            }
            Some(Piece::Char(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match back {
                Some((bp, bt)) => {
                    p = bp + 1;
                    t = bt + 1;
                    back = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|x| *x == Piece::Any)
}

/// A test of one value, built once per call from `how` and `arg`.
enum Test {
    Glob(Vec<Piece>, bool),
    Re(regex::Regex),
    Cidr((std::net::IpAddr, u8)),
    Compare(&'static str, f64),
    Null,
    Exists,
}

impl Test {
    fn new(how: &str, arg: &str) -> Result<Test> {
        Ok(match how {
            "glob" => Test::Glob(pieces(arg, false), false),
            "glob_cased" => Test::Glob(pieces(arg, true), true),
            "re" => match regex::Regex::new(arg) {
                Ok(r) => Test::Re(r),
                Err(e) => return exec_err!("sigma_any: {arg:?} is not a regular expression: {e}"),
            },
            "cidr" => match super::net::parse_cidr(arg) {
                Some(net) => Test::Cidr(net),
                None => return exec_err!("sigma_any: {arg:?} is not a CIDR block"),
            },
            "gt" | "gte" | "lt" | "lte" => {
                let op = match how {
                    "gt" => "gt",
                    "gte" => "gte",
                    "lt" => "lt",
                    _ => "lte",
                };
                match arg.trim().parse() {
                    Ok(n) => Test::Compare(op, n),
                    Err(_) => return exec_err!("sigma_any: {arg:?} is not a number"),
                }
            }
            "null" => Test::Null,
            "exists" => Test::Exists,
            other => return exec_err!("sigma_any: no test {other:?}"),
        })
    }

    fn any(&self, values: &[Option<String>]) -> bool {
        match self {
            Test::Null => values.is_empty() || values.iter().any(Option::is_none),
            Test::Exists => values.iter().any(Option::is_some),
            _ => values.iter().flatten().any(|v| self.one(v)),
        }
    }

    fn one(&self, v: &str) -> bool {
        match self {
            Test::Glob(p, cased) => {
                let text: Vec<char> = match cased {
                    true => v.chars().collect(),
                    false => v.chars().flat_map(char::to_lowercase).collect(),
                };
                glob(p, &text)
            }
            Test::Re(r) => r.is_match(v),
            Test::Cidr(net) => super::net::in_block(v, *net),
            Test::Compare(op, n) => v.trim().parse::<f64>().is_ok_and(|x| match *op {
                "gt" => x > *n,
                "gte" => x >= *n,
                "lt" => x < *n,
                _ => x <= *n,
            }),
            Test::Null | Test::Exists => false,
        }
    }
}

/// A text argument that is the same for every row.
pub(super) fn constant(arg: &ColumnarValue, name: &str) -> Result<String> {
    match arg {
        ColumnarValue::Scalar(s) => match s {
            ScalarValue::Utf8(Some(v))
            | ScalarValue::Utf8View(Some(v))
            | ScalarValue::LargeUtf8(Some(v)) => Ok(v.clone()),
            _ => exec_err!("{name}: its text arguments must be given"),
        },
        ColumnarValue::Array(_) => exec_err!("{name}: path, test and value must be constants"),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SigmaAny {
    signature: Signature,
}

impl ScalarUDFImpl for SigmaAny {
    fn name(&self) -> &str {
        "sigma_any"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [x, path, how, arg] = args.args.as_slice() else {
            return exec_err!("sigma_any takes (field, path, test, value)");
        };
        let path = constant(path, "sigma_any")?;
        let path: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        let test = Test::new(&constant(how, "sigma_any")?, &constant(arg, "sigma_any")?)?;
        let x = x.to_array(args.number_rows)?;
        let mut out = BooleanBuilder::with_capacity(x.len());
        for row in 0..x.len() {
            out.append_value(test.any(&values(&x, row, &path)));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SigmaText {
    signature: Signature,
}

impl ScalarUDFImpl for SigmaText {
    fn name(&self) -> &str {
        "sigma_text"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [x, path] = args.args.as_slice() else {
            return exec_err!("sigma_text takes (field, path)");
        };
        let path = constant(path, "sigma_text")?;
        let path: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        let x = x.to_array(args.number_rows)?;
        let mut out = StringBuilder::new();
        for row in 0..x.len() {
            let found: Vec<String> = values(&x, row, &path).into_iter().flatten().collect();
            match found.is_empty() {
                true => out.append_null(),
                false => out.append_value(found.join(", ")),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(SigmaAny {
            signature: Signature::any(4, Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(SigmaText {
            signature: Signature::any(2, Volatility::Immutable),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
        glob(&pieces(pattern, false), &t)
    }

    #[test]
    fn patterns_with_wildcards_and_escapes() {
        assert!(matches("*admin*", "arn:aws:iam::1:role/Admin-x"));
        assert!(matches("a?c", "ABC") && !matches("a?c", "abbc"));
        assert!(matches("a*", "a") && matches("*", ""));
        assert!(matches("\\*", "*") && !matches("\\*", "x"));
        assert!(matches("100\\?", "100?") && !matches("100\\?", "1000"));
        assert!(matches("*a*b*c", "xxaxxbxxc") && !matches("*a*b*c", "xxaxxbxxcx"));
    }

    #[test]
    fn json_arrays_are_searched_at_every_step() {
        let doc: Value = serde_json::from_str(
            r#"{"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}},
                {"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"},{"cidrIp":null}]}}]}}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        walk(
            &doc,
            &["ipPermissions", "items", "ipRanges", "items", "cidrIp"],
            &mut out,
        );
        assert_eq!(
            out,
            [
                Some("10.0.0.0/8".to_string()),
                Some("0.0.0.0/0".to_string()),
                None
            ]
        );
        let mut none = Vec::new();
        walk(&doc, &["nothing"], &mut none);
        assert!(none.is_empty());
        assert!(Test::Null.any(&none) && !Test::Exists.any(&none));
        assert!(Test::new("glob", "0.0.0.0/0").unwrap().any(&out));
        assert!(!Test::new("glob_cased", "0.0.0.0/1").unwrap().any(&out));
        let ips = [
            Some("s3.amazonaws.com".to_string()),
            Some("192.0.2.9".to_string()),
        ];
        assert!(Test::new("cidr", "192.0.2.0/24").unwrap().any(&ips));
        assert!(!Test::new("cidr", "192.0.3.0/24").unwrap().any(&ips));
        assert!(Test::new("lt", "10").unwrap().any(&[Some("9.5".into())]));
        assert!(Test::new("re", "(?i)^S3\\.").unwrap().any(&ips));
    }
}
