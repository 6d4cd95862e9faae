//! A Sigma rule's detection as one SQL condition over the `cloudtrail`
//! table.
//!
//! Fields are named as CloudTrail spells them: a top-level field is its
//! column (`eventName` -> `eventname`), a field inside `userIdentity` a
//! struct field (`userIdentity.sessionContext.sessionIssuer.userName`), a
//! field inside a JSON-text column (`requestParameters.bucketName`) a JSON
//! path (`json_extract_scalar`). Values match as the Sigma specification
//! says: case-insensitively unless `|cased`, `*` and `?` as wildcards
//! (`\*`, `\?`, `\\` escape them), a list as any-of (`|all`: all-of),
//! `null` as a missing or null field. Modifiers: `contains`, `startswith`,
//! `endswith`, `all`, `cased`, `re` (with `i`, `m`, `s`), `exists`, `gt`,
//! `gte`, `lt`, `lte`, `cidr`. Conditions: `and`, `or`, `not`, parentheses,
//! `1 of X*`, `all of X*`, `1 of them`, `all of them`.
//!
//! A path inside a JSON-text column or a field of the `resources` list may
//! hold many values (it descends into every list on the way) and matches
//! when any of them does (`sigma_any`, `functions::sigma`). A keyword (a
//! value without a field) is searched in every text field, JSON text and
//! resource ARN, as `contains`, case-insensitively.
//!
//! What it cannot run (another modifier, a field it cannot map) is a
//! refusal with the reason, never a condition that matches something
//! else. Every value reaches SQL as a quoted
//! literal: a rule file cannot add SQL of its own.

use yaml_serde::Value;

use crate::record::schema::sql_literal as lit;
use crate::record::schema::{Kind, Spec, RECORD};

/// The SQL condition of `detection` (its named searches and `condition`).
pub fn compile(detection: &yaml_serde::Mapping) -> Result<String, String> {
    let mut searches = Vec::new();
    let mut condition = None;
    for (k, v) in detection {
        let name = k.as_str().ok_or("a detection key that is not text")?;
        match name {
            "condition" => condition = Some(v),
            "timeframe" => return Err("timeframe: trailsql does not run it yet".into()),
            _ => searches.push((
                name.to_string(),
                search(v).map_err(|e| format!("{name}: {e}"))?,
            )),
        }
    }
    let condition = match condition {
        Some(Value::String(c)) => c.clone(),
        Some(Value::Sequence(cs)) => {
            let all: Option<Vec<&str>> = cs.iter().map(|c| c.as_str()).collect();
            let all = all.ok_or("a condition that is not text")?;
            all.iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" or ")
        }
        _ => return Err("no condition".into()),
    };
    Condition::new(&condition, &searches)?.expr()
}

/// One named search: a map (every field matches), a list of maps (any map
/// matches), or a list of keywords (refused: CloudTrail has no message
/// field to search).
fn search(v: &Value) -> Result<String, String> {
    match v {
        Value::Mapping(m) => map(m),
        Value::Sequence(items) if items.iter().all(|i| i.is_mapping()) => {
            let parts: Result<Vec<String>, String> = items
                .iter()
                .map(|i| map(i.as_mapping().expect("checked")))
                .collect();
            Ok(any(parts?))
        }
        Value::Sequence(items) => {
            let words: Result<Vec<String>, String> = items.iter().map(keyword).collect();
            Ok(any(words?))
        }
        Value::String(_) | Value::Number(_) => keyword(v),
        _ => Err("a search that is neither a map nor a list".into()),
    }
}

/// A keyword (a value without a field): found anywhere in the event, as
/// `contains` on every text field, JSON text (as CloudTrail wrote it) and
/// resource ARN, case-insensitively.
fn keyword(v: &Value) -> Result<String, String> {
    let word = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("a keyword that is not text or a number".into()),
    };
    let pattern = format!("*{word}*");
    let mut parts: Vec<String> = text_fields(RECORD, "")
        .iter()
        .map(|f| matching(f, &pattern, false))
        .collect();
    parts.push(format!(
        "sigma_any(resources, 'arn', 'glob', {})",
        lit(&pattern)
    ));
    Ok(any(parts))
}

/// Every text field of `specs` (under `prefix`), as SQL.
fn text_fields(specs: &[Spec], prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in specs {
        let name = format!("{prefix}{}", s.json.to_ascii_lowercase());
        match &s.kind {
            Kind::Str | Kind::Json => out.push(name),
            Kind::Struct(fields) => out.extend(text_fields(fields, &format!("{name}."))),
            _ => {}
        }
    }
    out
}

fn map(m: &yaml_serde::Mapping) -> Result<String, String> {
    let mut parts = Vec::new();
    for (k, v) in m {
        let key = k.as_str().ok_or("a field name that is not text")?;
        parts.push(field(key, v)?);
    }
    if parts.is_empty() {
        return Err("an empty search".into());
    }
    Ok(all(parts))
}

fn any(parts: Vec<String>) -> String {
    format!("({})", parts.join(" OR "))
}

fn all(parts: Vec<String>) -> String {
    format!("({})", parts.join(" AND "))
}

/// The modifiers trailsql applies.
#[derive(Default)]
struct Mods {
    how: How,
    all: bool,
    cased: bool,
    re_flags: String,
    encode: Encode,
    fieldref: bool,
}

/// How the value is encoded before it is matched.
#[derive(Default, PartialEq)]
enum Encode {
    #[default]
    Plain,
    /// `base64`: the value's base64.
    Base64,
    /// `base64offset`: the three base64 forms the value takes at the three
    /// offsets it can start at inside longer encoded text.
    Base64Offset,
}

/// The texts a value is matched as, once encoded.
fn encoded(value: &str, encode: &Encode) -> Vec<String> {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match encode {
        Encode::Plain => vec![value.to_string()],
        Encode::Base64 => vec![b64(value.as_bytes())],
        Encode::Base64Offset => {
            // Shifted by 0, 1 or 2 bytes, the encoding's first 0, 2 or 3
            // and (by the length) last 0, 3 or 2 characters depend on the
            // bytes around it: they are left off.
            let (starts, ends) = ([0usize, 2, 3], [0usize, 3, 2]);
            (0..3)
                .map(|i| {
                    let mut shifted = vec![b' '; i];
                    shifted.extend_from_slice(value.as_bytes());
                    let e = b64(&shifted);
                    let end = e.len() - ends[(value.len() + i) % 3];
                    e[starts[i].min(end)..end].to_string()
                })
                .collect()
        }
    }
}

#[derive(Default, PartialEq)]
enum How {
    #[default]
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Re,
    Exists,
    Compare(&'static str),
    Cidr,
}

/// `field|mod|mod: value(s)`.
fn field(key: &str, v: &Value) -> Result<String, String> {
    let mut words = key.split('|');
    let name = words.next().unwrap_or("");
    let mut mods = Mods::default();
    for m in words {
        match m {
            "contains" => mods.how = How::Contains,
            "startswith" => mods.how = How::StartsWith,
            "endswith" => mods.how = How::EndsWith,
            "re" => mods.how = How::Re,
            "i" | "m" | "s" if mods.how == How::Re => mods.re_flags.push_str(m),
            "exists" => mods.how = How::Exists,
            "gt" => mods.how = How::Compare(">"),
            "gte" => mods.how = How::Compare(">="),
            "lt" => mods.how = How::Compare("<"),
            "lte" => mods.how = How::Compare("<="),
            "cidr" => mods.how = How::Cidr,
            "base64" => mods.encode = Encode::Base64,
            "base64offset" => mods.encode = Encode::Base64Offset,
            "fieldref" => mods.fieldref = true,
            "all" => mods.all = true,
            "cased" => mods.cased = true,
            other => {
                return Err(format!(
                    "{key}: the modifier {other:?} is not supported yet"
                ))
            }
        }
    }
    if mods.encode == Encode::Base64Offset && mods.how != How::Contains {
        return Err(format!("{key}: base64offset goes with contains"));
    }
    if mods.fieldref && (mods.how != How::Equals || mods.encode != Encode::Plain) {
        return Err(format!(
            "{key}: fieldref with other modifiers is not supported yet"
        ));
    }
    let shape = column(name)?;
    let values: Vec<&Value> = match v {
        Value::Sequence(items) => items.iter().collect(),
        one => vec![one],
    };
    if values.is_empty() {
        return Err(format!("{key}: an empty list of values"));
    }
    let parts: Result<Vec<String>, String> = values
        .iter()
        .map(|v| {
            match &shape {
                Shape::Text(c) => one_value(c, true, &mods, v),
                Shape::Typed(c) => one_value(c, false, &mods, v),
                Shape::Many { of, path } => many_value(of, path, &mods, v),
            }
            .map_err(|e| format!("{key}: {e}"))
        })
        .collect();
    Ok(if mods.all { all(parts?) } else { any(parts?) })
}

/// A field's value as text, in SQL: what correlations group and count by.
pub fn field_text(name: &str) -> Result<String, String> {
    Ok(match column(name)? {
        Shape::Text(expr) => expr,
        Shape::Typed(expr) => format!("CAST({expr} AS VARCHAR)"),
        Shape::Many { of, path } => format!("sigma_text({of}, {})", lit(&path)),
    })
}

/// What a field is in SQL.
enum Shape {
    /// A text column or struct field.
    Text(String),
    /// A boolean or time.
    Typed(String),
    /// A field that may hold many values: a path inside the JSON text
    /// `of`, or a field of the `resources` list (`functions::sigma`).
    Many { of: String, path: String },
}

/// The SQL shape of a CloudTrail field.
fn column(name: &str) -> Result<Shape, String> {
    let mut parts = name.split('.');
    let first = parts.next().unwrap_or("");
    let spec = RECORD
        .iter()
        .find(|s| s.json.eq_ignore_ascii_case(first))
        .ok_or_else(|| format!("{name}: not a CloudTrail field"))?;
    let mut expr = spec.json.to_ascii_lowercase();
    let mut kind = &spec.kind;
    let rest: Vec<&str> = parts.collect();
    for (i, part) in rest.iter().enumerate() {
        match kind {
            Kind::Struct(fields) => {
                let f: &Spec = fields
                    .iter()
                    .find(|f| f.json.eq_ignore_ascii_case(part))
                    .ok_or_else(|| format!("{name}: {part} is not a field of {expr}"))?;
                expr = format!("{expr}.{}", f.json.to_ascii_lowercase());
                kind = &f.kind;
            }
            Kind::Json | Kind::ListOfStruct(_) => {
                let path = &rest[i..];
                if let Some(bad) = path.iter().find(|p| p.is_empty()) {
                    return Err(format!("{name}: the key {bad:?} cannot be looked up"));
                }
                if let Kind::ListOfStruct(fields) = kind {
                    let known = path.len() == 1
                        && fields.iter().any(|f| f.json.eq_ignore_ascii_case(path[0]));
                    if !known {
                        return Err(format!("{name}: not a field of {expr}"));
                    }
                }
                return Ok(Shape::Many {
                    of: expr,
                    path: path.join("."),
                });
            }
            _ => return Err(format!("{name}: {expr} has no fields")),
        }
    }
    match kind {
        Kind::Str | Kind::Json => Ok(Shape::Text(expr)),
        Kind::Bool | Kind::Time => Ok(Shape::Typed(expr)),
        Kind::Struct(_) | Kind::ListOfStruct(_) => Err(format!(
            "{name}: a whole object or list cannot be compared yet"
        )),
    }
}

/// One value against the field.
fn one_value(column: &str, text: bool, mods: &Mods, v: &Value) -> Result<String, String> {
    if mods.how == How::Exists {
        return match v.as_bool() {
            Some(true) => Ok(format!("{column} IS NOT NULL")),
            Some(false) => Ok(format!("{column} IS NULL")),
            None => Err("exists takes true or false".into()),
        };
    }
    if mods.fieldref {
        let other = v.as_str().ok_or("fieldref takes a field name")?;
        return match self::column(other)? {
            Shape::Text(other) | Shape::Typed(other) => Ok(format!("{column} = {other}")),
            Shape::Many { .. } => {
                Err("fieldref to a field with many values is not supported yet".into())
            }
        };
    }
    let value = match v {
        Value::Null => return Ok(format!("{column} IS NULL")),
        Value::Bool(b) if !text => return Ok(format!("{column} = {b}")),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err("a value that is not text, a number, a boolean or null".into()),
    };
    let as_text = if text {
        column.to_string()
    } else {
        format!("CAST({column} AS VARCHAR)")
    };
    match &mods.how {
        How::Compare(op) => {
            let n: f64 = value
                .parse()
                .map_err(|_| format!("{value:?} is not a number"))?;
            Ok(format!("TRY_CAST({as_text} AS DOUBLE) {op} {n}"))
        }
        How::Re => {
            let flags = if mods.re_flags.is_empty() {
                String::new()
            } else {
                format!(", {}", lit(&mods.re_flags))
            };
            Ok(format!("regexp_like({as_text}, {}{flags})", lit(&value)))
        }
        How::Cidr => Ok(format!("cidr_match({as_text}, {})", lit(&value))),
        how => {
            let parts: Vec<String> = patterns(&value, mods, how)
                .into_iter()
                // Encoded text is case-sensitive.
                .map(|p| matching(&as_text, &p, mods.cased || mods.encode != Encode::Plain))
                .collect();
            Ok(if parts.len() == 1 {
                parts.into_iter().next().expect("one")
            } else {
                any(parts)
            })
        }
    }
}

/// The Sigma patterns `value` matches as under `how` (equals, contains,
/// startswith, endswith), once encoded. An encoded value is matched as it
/// is: base64 has none of Sigma's wildcards (`*`, `?`, `\`).
fn patterns(value: &str, mods: &Mods, how: &How) -> Vec<String> {
    encoded(value, &mods.encode)
        .into_iter()
        .map(|value| match how {
            How::Contains => format!("*{value}*"),
            How::StartsWith => format!("{value}*"),
            How::EndsWith => format!("*{value}"),
            _ => value,
        })
        .collect()
}

/// One value against a field with many values: any of them matching.
fn many_value(of: &str, path: &str, mods: &Mods, v: &Value) -> Result<String, String> {
    if mods.fieldref {
        return Err("fieldref on a field with many values is not supported yet".into());
    }
    let call = |how: &str, arg: &str| {
        format!("sigma_any({of}, {}, {}, {})", lit(path), lit(how), lit(arg))
    };
    if mods.how == How::Exists {
        return match v.as_bool() {
            Some(true) => Ok(call("exists", "")),
            Some(false) => Ok(format!("NOT {}", call("exists", ""))),
            None => Err("exists takes true or false".into()),
        };
    }
    let value = match v {
        Value::Null => return Ok(call("null", "")),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err("a value that is not text, a number, a boolean or null".into()),
    };
    match &mods.how {
        How::Compare(op) => {
            let n: f64 = value
                .parse()
                .map_err(|_| format!("{value:?} is not a number"))?;
            let how = match *op {
                ">" => "gt",
                ">=" => "gte",
                "<" => "lt",
                _ => "lte",
            };
            Ok(call(how, &n.to_string()))
        }
        How::Re => {
            let flags = match mods.re_flags.is_empty() {
                true => String::new(),
                false => format!("(?{})", mods.re_flags),
            };
            Ok(call("re", &format!("{flags}{value}")))
        }
        How::Cidr => Ok(call("cidr", &value)),
        how => {
            let cased = mods.cased || mods.encode != Encode::Plain;
            let test = if cased { "glob_cased" } else { "glob" };
            let parts: Vec<String> = patterns(&value, mods, how)
                .into_iter()
                .map(|p| call(test, &p))
                .collect();
            Ok(any(parts))
        }
    }
}

/// A Sigma value (with `*`, `?` and their escapes) against text: equality
/// when it has no wildcard, else LIKE; ILIKE and a lower-cased equality
/// unless `cased`.
fn matching(expr: &str, pattern: &str, cased: bool) -> String {
    let mut like = String::new();
    let mut plain = String::new();
    let mut wild = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                let e = chars.next().expect("peeked");
                plain.push(e);
                like.push_str(&like_escape(e));
            }
            '*' => {
                wild = true;
                like.push('%');
            }
            '?' => {
                wild = true;
                like.push('_');
            }
            c => {
                plain.push(c);
                like.push_str(&like_escape(c));
            }
        }
    }
    match (wild, cased) {
        (false, true) => format!("{expr} = {}", lit(&plain)),
        (false, false) => format!("lower({expr}) = {}", lit(&plain.to_lowercase())),
        (true, true) => format!("{expr} LIKE {}", lit(&like)),
        (true, false) => format!("{expr} ILIKE {}", lit(&like)),
    }
}

fn like_escape(c: char) -> String {
    match c {
        '%' | '_' | '\\' => format!("\\{c}"),
        c => c.to_string(),
    }
}

/// The condition, parsed over the named searches.
struct Condition<'a> {
    tokens: Vec<String>,
    at: usize,
    searches: &'a [(String, String)],
}

impl<'a> Condition<'a> {
    fn new(text: &str, searches: &'a [(String, String)]) -> Result<Condition<'a>, String> {
        if text.contains('|') {
            return Err("a condition with | (aggregation): not supported".into());
        }
        let spaced = text.replace('(', " ( ").replace(')', " ) ");
        Ok(Condition {
            tokens: spaced.split_whitespace().map(str::to_string).collect(),
            at: 0,
            searches,
        })
    }

    fn expr(mut self) -> Result<String, String> {
        let e = self.or()?;
        match self.tokens.get(self.at) {
            None => Ok(e),
            Some(t) => Err(format!("condition: {t:?} where the condition should end")),
        }
    }

    fn peek(&self) -> Option<String> {
        self.tokens.get(self.at).map(|t| t.to_ascii_lowercase())
    }

    fn or(&mut self) -> Result<String, String> {
        let mut parts = vec![self.and()?];
        while self.peek().as_deref() == Some("or") {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            any(parts)
        })
    }

    fn and(&mut self) -> Result<String, String> {
        let mut parts = vec![self.not()?];
        while self.peek().as_deref() == Some("and") {
            self.at += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            all(parts)
        })
    }

    fn not(&mut self) -> Result<String, String> {
        if self.peek().as_deref() == Some("not") {
            self.at += 1;
            // NOT of a NULL comparison is NULL: coalesce so that "not x"
            // holds where x does not.
            return Ok(format!("(NOT coalesce({}, false))", self.not()?));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<String, String> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or("condition: ends where a search is expected")?;
        self.at += 1;
        match token.to_ascii_lowercase().as_str() {
            "(" => {
                let e = self.or()?;
                if self.peek().as_deref() != Some(")") {
                    return Err("condition: a ( without its )".into());
                }
                self.at += 1;
                Ok(e)
            }
            "1" | "all" | "any" => {
                let quantifier = token.to_ascii_lowercase();
                if self.peek().as_deref() != Some("of") {
                    return Err(format!("condition: {token} not followed by of"));
                }
                self.at += 1;
                let pattern = self
                    .tokens
                    .get(self.at)
                    .cloned()
                    .ok_or("condition: of without a name")?;
                self.at += 1;
                let matched: Vec<String> = self
                    .searches
                    .iter()
                    .filter(|(name, _)| pattern == "them" || glob(&pattern, name))
                    .map(|(_, e)| e.clone())
                    .collect();
                if matched.is_empty() {
                    return Err(format!("condition: no search is named {pattern}"));
                }
                Ok(if quantifier == "all" {
                    all(matched)
                } else {
                    any(matched)
                })
            }
            _ => self
                .searches
                .iter()
                .find(|(name, _)| *name == token)
                .map(|(_, e)| e.clone())
                .ok_or_else(|| format!("condition: no search is named {token}")),
        }
    }
}

/// `pattern` (with `*`) matches `name`.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            name.starts_with(head)
                && (head.len()..=name.len())
                    .filter(|&j| name.is_char_boundary(j))
                    .any(|j| glob(rest, &name[j..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(yaml: &str) -> yaml_serde::Mapping {
        yaml_serde::from_str(yaml).unwrap()
    }

    #[test]
    fn fields_map_to_columns_struct_fields_and_json_paths() {
        assert_eq!(field_text("eventName").unwrap(), "eventname");
        assert_eq!(
            field_text("userIdentity.sessionContext.sessionIssuer.userName").unwrap(),
            "useridentity.sessioncontext.sessionissuer.username"
        );
        assert_eq!(field_text("readOnly").unwrap(), "CAST(readonly AS VARCHAR)");
        // Paths into JSON text and the resources list may hold many values.
        assert_eq!(
            field_text("requestParameters.policy.Statement").unwrap(),
            "sigma_text(requestparameters, 'policy.Statement')"
        );
        assert_eq!(
            field_text("requestParameters.a'b").unwrap(),
            "sigma_text(requestparameters, 'a''b')"
        );
        assert_eq!(
            field_text("resources.ARN").unwrap(),
            "sigma_text(resources, 'ARN')"
        );
        assert!(field_text("nosuchField").is_err());
        assert!(field_text("resources.nope").is_err());
        assert!(field_text("requestParameters..x").is_err());
    }

    #[test]
    fn values_wildcards_and_modifiers() {
        assert_eq!(matching("x", "Del*Bucket", false), "x ILIKE 'Del%Bucket'");
        assert_eq!(matching("x", "a\\*b_c", false), "lower(x) = 'a*b_c'");
        assert_eq!(matching("x", "50%?", true), "x LIKE '50\\%_'");
        assert_eq!(matching("x", "O'Brien", true), "x = 'O''Brien'");
        let sql = compile(&detection(
            "sel:\n  eventName|contains|all: [Put, Policy]\n  errorCode: null\n  readOnly: false\ncondition: sel",
        ))
        .unwrap();
        assert_eq!(
            sql,
            "((eventname ILIKE '%Put%' AND eventname ILIKE '%Policy%') AND (errorcode IS NULL) AND (readonly = false))"
        );
    }

    #[test]
    fn conditions_and_what_is_refused() {
        let d = "a1:\n  eventName: A\na2:\n  eventName: B\nb:\n  eventSource: s\ncondition: 1 of a* and not b";
        assert_eq!(
            compile(&detection(d)).unwrap(),
            "((((lower(eventname) = 'a')) OR ((lower(eventname) = 'b'))) AND (NOT coalesce(((lower(eventsource) = 's')), false)))"
        );
        for (bad, why) in [
            ("sel:\n  eventName|windash: x\ncondition: sel", "windash"),
            (
                "sel:\n  eventName|base64offset: x\ncondition: sel",
                "goes with contains",
            ),
            (
                "sel:\n  - [a, b]\ncondition: sel",
                "a keyword that is not text",
            ),
            (
                "sel:\n  eventName: x\ncondition: sel | count() > 5",
                "aggregation",
            ),
            (
                "sel:\n  eventName: x\ncondition: other",
                "no search is named other",
            ),
            ("sel:\n  eventName: x\ncondition: (sel", "without its )"),
        ] {
            let err = compile(&detection(bad)).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn keywords_search_every_text_field() {
        let sql = compile(&detection("words:\n  - evil\n  - 42\ncondition: words")).unwrap();
        for part in [
            "useragent ILIKE '%evil%'",
            "requestparameters ILIKE '%evil%'",
            "useridentity.sessioncontext.sessionissuer.arn ILIKE '%evil%'",
            "sigma_any(resources, 'arn', 'glob', '*evil*')",
            "eventname ILIKE '%42%'",
        ] {
            assert!(sql.contains(part), "{part}: {sql}");
        }
        assert!(!sql.contains("eventtime ILIKE"), "{sql}");
    }

    #[test]
    fn globs() {
        assert!(glob("sel*", "selection"));
        assert!(glob("*tion", "selection"));
        assert!(glob("s*c*n", "selection"));
        assert!(!glob("a*", "selection"));
        assert!(glob("selection", "selection"));
    }

    #[test]
    fn encoded_values_and_field_references() {
        assert_eq!(
            encoded("/bin/bash", &Encode::Base64Offset),
            ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
        assert_eq!(encoded("evil", &Encode::Base64), ["ZXZpbA=="]);
        let sql = compile(&detection(
            "sel:\n  userAgent|base64offset|contains: /bin/bash\ncondition: sel",
        ))
        .unwrap();
        assert_eq!(
            sql,
            "(((useragent LIKE '%L2Jpbi9iYXNo%' OR useragent LIKE '%9iaW4vYmFza%' OR useragent LIKE '%vYmluL2Jhc2%')))"
        );
        let sql = compile(&detection(
            "sel:\n  userIdentity.userName|fieldref: userIdentity.sessionContext.sessionIssuer.userName\ncondition: sel",
        ))
        .unwrap();
        assert_eq!(
            sql,
            "((useridentity.username = useridentity.sessioncontext.sessionissuer.username))"
        );
    }
}
