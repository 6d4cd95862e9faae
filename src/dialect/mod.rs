//! Athena's (Trino's) syntax where DataFusion's parser reads it otherwise,
//! rewritten in the parsed statement before it is planned:
//!
//! - a field after a subscript, `resources[1].arn`, which DataFusion
//!   refuses ("Dot access not supported"), becomes `resources[1]['arn']`
//!   (an unquoted name in lower case, as identifiers are);
//! - `a IS [NOT] DISTINCT FROM 'x' AND b`, which the parser reads as
//!   `a IS DISTINCT FROM ('x' AND b)`, binds as in Trino (and the SQL
//!   standard): `(a IS DISTINCT FROM 'x') AND b`. A parenthesised right
//!   side is left as written;
//! - Athena's `"$path"` (the row's log object) is `log_object`;
//! - `readonly = 'true'` (Athena's `readonly` is text) compares the
//!   boolean `readonly` with `true`;
//! - `eventtime` compared with text that is no date (`'START_TIME'`, a
//!   placeholder left in) is compared as text, as Athena compares it;
//! - `eventtime` in a string operation (LIKE, and the string functions:
//!   `substr`/`substring`, `split_part`, `strpos`, `length`, `concat`, ...), where
//!   Athena's `eventtime` is CloudTrail's ISO text, is that text
//!   (`CAST(eventtime AS VARCHAR)`, `2024-01-15T10:00:00Z`); a LIKE whose
//!   pattern starts with a year, month, day or hour (`'2024-01-15%'`) also
//!   bounds `eventtime` to that span, so it prunes files as a time range
//!   does;
//! - Trino's nested types in casts, `ARRAY(JSON)`, `MAP(K, V)`,
//!   `ROW(a T)`, in angle brackets (`types`); a cast of JSON to an array
//!   (`CAST(json_extract(...) AS ARRAY(JSON))`, `ARRAY(VARCHAR)`, ...) reads
//!   the JSON array (`json_to_array`);
//! - `CROSS JOIN UNNEST(array) [WITH ORDINALITY] AS t(x)` (`unnest`);
//! - aggregates Trino names otherwise: `count_if(c)` is
//!   `count(CASE WHEN c THEN 1 END)`, `arbitrary(x)` is `any_value(x)`,
//!   `approx_percentile(x, p)` is `approx_percentile_cont(x, p)`,
//!   `approx_percentile(x, w, p)` `approx_percentile_cont_with_weight`, and
//!   with an array of percentiles, an array of one such per percentile.
//!
//! It imports nothing of trailsql.

mod types;
mod unnest;

pub use types::angle_bracket_types;

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, AccessExpr, ArrayElemTypeDef, BinaryOperator, CaseWhen, CastKind,
    DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, Subscript, Value,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Rewrite `stmt` (and the statements and queries inside it) to read as
/// Athena reads it.
/// What cannot be rewritten is refused with a message naming it.
pub fn athena_syntax(stmt: &mut Statement) -> Result<(), String> {
    match stmt {
        Statement::Statement(s) => {
            unnest::rewrite_unnest(s.as_mut())?;
            refused(visit_expressions_mut(s.as_mut(), rewrite))?;
        }
        Statement::Explain(e) => athena_syntax(e.statement.as_mut())?,
        Statement::CopyTo(c) => {
            if let CopyToSource::Query(q) = &mut c.source {
                unnest::rewrite_unnest(q.as_mut())?;
                refused(visit_expressions_mut(q.as_mut(), rewrite))?;
            }
        }
        Statement::CreateExternalTable(_) | Statement::Reset(_) => {}
    }
    Ok(())
}

fn refused(flow: ControlFlow<String>) -> Result<(), String> {
    match flow {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(why) => Err(why),
    }
}

/// The columns that hold JSON text, in Athena's table as here.
const JSON_TEXT_COLUMNS: [&str; 4] = [
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "serviceeventdetails",
];

fn rewrite(e: &mut Expr) -> ControlFlow<String> {
    match e {
        // `requestParameters.bucketName`: a field of JSON text, which Athena
        // refuses too (the column is a string there).
        Expr::CompoundIdentifier(names)
            if names
                .iter()
                .take(2)
                .take(names.len().saturating_sub(1))
                .any(|n| JSON_TEXT_COLUMNS.contains(&n.value.to_lowercase().as_str())) =>
        {
            let at = names
                .iter()
                .position(|n| JSON_TEXT_COLUMNS.contains(&n.value.to_lowercase().as_str()))
                .unwrap_or(0);
            let column = names[at].value.to_lowercase();
            let path: Vec<&str> = names[at + 1..].iter().map(|n| n.value.as_str()).collect();
            return ControlFlow::Break(format!(
                "{} is JSON text (a string in Athena's table too), so {} names no field; \
                 write json_extract_scalar({column}, '$.{}')",
                names[at].value,
                names
                    .iter()
                    .map(|n| n.value.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
                path.join(".")
            ));
        }
        Expr::CompoundFieldAccess { access_chain, .. } => {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(Expr::Identifier(name)) = access {
                    let field = match name.quote_style {
                        None => name.value.to_lowercase(),
                        Some(_) => name.value.clone(),
                    };
                    *access = AccessExpr::Subscript(Subscript::Index {
                        index: Expr::value(Value::SingleQuotedString(field)),
                    });
                }
            }
        }
        Expr::Identifier(name) if is_path(name) => *name = Ident::new(LOG_OBJECT),
        Expr::CompoundIdentifier(names) => {
            if let Some(last) = names.last_mut().filter(|n| is_path(n)) {
                *last = Ident::new(LOG_OBJECT);
            }
        }
        Expr::Function(f) => {
            trino_aggregate(f);
            eventtime_as_text_in(f);
        }
        Expr::Cast {
            kind,
            expr,
            data_type: DataType::Array(ArrayElemTypeDef::AngleBracket(element)),
            ..
        } if **element == DataType::JSON || is_json(expr) => {
            let tried = match kind {
                CastKind::TryCast | CastKind::SafeCast => "try ",
                CastKind::Cast | CastKind::DoubleColon => "",
            };
            let how = match **element == DataType::JSON {
                true => "json",
                false => "value",
            };
            let sql = match how {
                "json" => format!("json_to_array({expr}, '{tried}{how}')"),
                _ => format!(
                    "{kind_word}(json_to_array({expr}, '{tried}{how}') AS ARRAY<{element}>)",
                    kind_word = if tried.is_empty() { "CAST" } else { "TRY_CAST" }
                ),
            };
            if let Ok(json_cast) = Parser::new(&GenericDialect {})
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_expr())
            {
                *e = json_cast;
            }
        }
        Expr::Substring { expr, .. } if is_eventtime(expr) => {
            **expr = as_text((**expr).clone());
        }
        Expr::Like { expr, .. } | Expr::ILike { expr, .. } if is_eventtime(expr) => {
            let time = std::mem::replace(expr.as_mut(), Expr::value(Value::Null));
            **expr = as_text(time.clone());
            if let Some((from, to)) = like_span(e) {
                let like = std::mem::replace(e, Expr::value(Value::Null));
                let bound = |op, at: String| Expr::BinaryOp {
                    left: Box::new(time.clone()),
                    op,
                    right: Box::new(Expr::value(Value::SingleQuotedString(at))),
                };
                *e = Expr::Nested(Box::new(Expr::BinaryOp {
                    left: Box::new(Expr::BinaryOp {
                        left: Box::new(like),
                        op: BinaryOperator::And,
                        right: Box::new(bound(BinaryOperator::GtEq, from)),
                    }),
                    op: BinaryOperator::And,
                    right: Box::new(bound(BinaryOperator::Lt, to)),
                }));
            }
        }
        // `eventtime` against text that is no time (a placeholder such as
        // 'START_TIME' left in): compared as Athena compares, as text.
        Expr::BinaryOp { left, op, right }
            if is_comparison(op)
                && ((is_eventtime(left) && is_text_not_time(right))
                    || (is_eventtime(right) && is_text_not_time(left))) =>
        {
            for side in [left, right] {
                if is_eventtime(side) {
                    **side = as_text((**side).clone());
                }
            }
        }
        Expr::Between {
            expr, low, high, ..
        } if is_eventtime(expr) && (is_text_not_time(low) || is_text_not_time(high)) => {
            **expr = as_text((**expr).clone());
        }
        // Athena's `readonly` is the text 'true'/'false'; here a boolean.
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq | BinaryOperator::NotEq,
            right,
        } if is_column(left, "readonly") || is_column(right, "readonly") => {
            for side in [left, right] {
                if let Some(b) = spelled_boolean(side) {
                    **side = Expr::value(Value::Boolean(b));
                }
            }
        }
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) if is_and_or(b) => {
            let not = matches!(e, Expr::IsNotDistinctFrom(..));
            let taken = std::mem::replace(e, Expr::value(Value::Null));
            let (Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b)) = taken else {
                unreachable!("matched above")
            };
            *e = bind_left(*a, *b, not);
        }
        _ => {}
    }
    ControlFlow::Continue(())
}

/// Whether `e` is a call of a function that gives JSON.
fn is_json(e: &Expr) -> bool {
    let Expr::Function(f) = e else {
        return false;
    };
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
        return false;
    };
    matches!(
        name.value.to_lowercase().as_str(),
        "json_extract" | "json_parse"
    )
}

/// Whether `e` names the `eventtime` column (alone or qualified).
fn is_eventtime(e: &Expr) -> bool {
    is_column(e, "eventtime")
}

/// Whether `e` names the column `name` (alone or qualified).
fn is_column(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(name),
        Expr::CompoundIdentifier(names) => names
            .last()
            .is_some_and(|n| n.value.eq_ignore_ascii_case(name)),
        _ => false,
    }
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// A string literal that does not start as a date does (`YYYY-MM-DD`).
fn is_text_not_time(e: &Expr) -> bool {
    let Expr::Value(v) = e else { return false };
    let Value::SingleQuotedString(s) = &v.value else {
        return false;
    };
    let b = s.as_bytes();
    let dated = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    !dated
}

/// `'true'` or `'false'` (any case) as the boolean it spells.
fn spelled_boolean(e: &Expr) -> Option<bool> {
    let Expr::Value(v) = e else { return None };
    match &v.value {
        Value::SingleQuotedString(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::SingleQuotedString(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `CAST(e AS VARCHAR)`: `eventtime` as CloudTrail's text.
fn as_text(e: Expr) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type: DataType::Varchar(None),
        array: false,
        format: None,
    }
}

/// The string functions that take `eventtime` as Athena's text.
const STRING_FUNCTIONS: [&str; 18] = [
    "substr",
    "substring",
    "split_part",
    "split",
    "strpos",
    "length",
    "concat",
    "lower",
    "upper",
    "replace",
    "starts_with",
    "regexp_like",
    "regexp_extract",
    "regexp_replace",
    "left",
    "right",
    "lpad",
    "rpad",
];

/// `eventtime` as text where `f` is a string function.
fn eventtime_as_text_in(f: &mut Function) {
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
        return;
    };
    if !STRING_FUNCTIONS.contains(&name.value.to_lowercase().as_str()) {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    for arg in &mut list.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
            if is_eventtime(e) {
                *e = as_text(e.clone());
            }
        }
    }
}

/// The span of times a LIKE over `eventtime`'s text can match, when its
/// pattern starts with a whole year, month, day or hour
/// (`'2024-01-15%'`): `[from, to)` as ISO text.
fn like_span(like: &Expr) -> Option<(String, String)> {
    let Expr::Like {
        negated: false,
        any: false,
        pattern,
        escape_char: None,
        ..
    } = like
    else {
        return None;
    };
    let Expr::Value(v) = pattern.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(pattern) = &v.value else {
        return None;
    };
    let prefix = &pattern[..pattern.find(['%', '_']).unwrap_or(pattern.len())];
    use chrono::{Months, NaiveDate, TimeDelta};
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let (from, to) = match prefix.len() {
        4 => {
            let from = day(&format!("{prefix}-01-01"))?;
            (
                from.and_hms_opt(0, 0, 0)?,
                from.checked_add_months(Months::new(12))?
                    .and_hms_opt(0, 0, 0)?,
            )
        }
        7 => {
            let from = day(&format!("{prefix}-01"))?;
            (
                from.and_hms_opt(0, 0, 0)?,
                from.checked_add_months(Months::new(1))?
                    .and_hms_opt(0, 0, 0)?,
            )
        }
        10 => {
            let from = day(prefix)?.and_hms_opt(0, 0, 0)?;
            (from, from + TimeDelta::days(1))
        }
        13 if prefix.as_bytes()[10] == b'T' => {
            let hour: u32 = prefix[11..].parse().ok()?;
            let from = day(&prefix[..10])?.and_hms_opt(hour, 0, 0)?;
            (from, from + TimeDelta::hours(1))
        }
        _ => return None,
    };
    let iso = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Some((iso(from), iso(to)))
}

/// The column Athena's `"$path"` is.
const LOG_OBJECT: &str = "log_object";

/// Athena's `"$path"` (quoted: unquoted, `$path` is no identifier).
fn is_path(name: &Ident) -> bool {
    name.quote_style == Some('"') && name.value == "$path"
}

/// `f` under DataFusion's name for Trino's aggregate, where they differ.
fn trino_aggregate(f: &mut Function) {
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
        return;
    };
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    let renamed = match (name.value.to_lowercase().as_str(), list.args.len()) {
        ("arbitrary", 1) => "any_value",
        ("approx_percentile", 2 | 3) if percentiles_array(list.args.last()).is_some() => {
            // One percentile each, as an array: make_array(p1, p2, ...).
            let Some(ps) = percentiles_array(list.args.last()) else {
                return;
            };
            let (mut args, ps) = (list.args.clone(), ps.clone());
            args.pop();
            let each: Vec<String> = ps
                .iter()
                .map(|p| {
                    let mut one = f.clone();
                    if let FunctionArguments::List(l) = &mut one.args {
                        l.args = args.clone();
                        l.args
                            .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(p.clone())));
                    }
                    trino_aggregate(&mut one);
                    one.to_string()
                })
                .collect();
            let sql = format!("make_array({})", each.join(", "));
            if let Ok(Expr::Function(all)) = Parser::new(&GenericDialect {})
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_expr())
            {
                *f = all;
            }
            return;
        }
        ("approx_percentile", 2) => "approx_percentile_cont",
        ("approx_percentile", 3) => "approx_percentile_cont_with_weight",
        ("count_if", 1) => {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(condition)) = &mut list.args[0] else {
                return;
            };
            let condition = std::mem::replace(condition, Expr::value(Value::Null));
            list.args[0] = FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen {
                    condition,
                    result: Expr::value(Value::Number("1".into(), false)),
                }],
                else_result: None,
            }));
            "count"
        }
        _ => return,
    };
    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(renamed))]);
}

/// The percentiles of `approx_percentile(x, ARRAY[p1, p2, ...])`.
fn percentiles_array(arg: Option<&FunctionArg>) -> Option<&Vec<Expr>> {
    match arg {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Array(a)))) => Some(&a.elem),
        _ => None,
    }
}

fn is_and_or(e: &Expr) -> bool {
    matches!(
        e,
        Expr::BinaryOp {
            op: BinaryOperator::And | BinaryOperator::Or,
            ..
        }
    )
}

/// `a IS [NOT] DISTINCT FROM` the leftmost operand of the AND/OR tree
/// `rest`, in its place.
fn bind_left(a: Expr, rest: Expr, not: bool) -> Expr {
    match rest {
        Expr::BinaryOp { left, op, right }
            if matches!(op, BinaryOperator::And | BinaryOperator::Or) =>
        {
            Expr::BinaryOp {
                left: Box::new(bind_left(a, *left, not)),
                op,
                right,
            }
        }
        leaf => match not {
            false => Expr::IsDistinctFrom(Box::new(a), Box::new(leaf)),
            true => Expr::IsNotDistinctFrom(Box::new(a), Box::new(leaf)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn rewritten(sql: &str) -> String {
        let mut s = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
        athena_syntax(&mut s).unwrap();
        s.to_string()
    }

    #[test]
    fn a_field_after_a_subscript_becomes_a_subscript() {
        assert_eq!(
            rewritten("SELECT resources[1].ARN, resources[1].\"Type\" FROM t"),
            "SELECT resources[1]['arn'], resources[1]['Type'] FROM t"
        );
        // A plain compound name is not touched.
        assert_eq!(
            rewritten("SELECT useridentity.arn FROM t"),
            "SELECT useridentity.arn FROM t"
        );
    }

    #[test]
    fn trino_names_and_path_become_datafusion_names() {
        assert_eq!(
            rewritten("SELECT count_if(x > 1), arbitrary(y), approx_percentile(z, 0.5), \"$path\", t.\"$path\" FROM t"),
            "SELECT count(CASE WHEN x > 1 THEN 1 END), any_value(y), approx_percentile_cont(z, 0.5), log_object, t.log_object FROM t"
        );
        // Weighted, and several percentiles at once (an array of them).
        assert_eq!(
            rewritten("SELECT approx_percentile(z, w, 0.5), approx_percentile(z, ARRAY[0.5, 0.9]) FROM t"),
            "SELECT approx_percentile_cont_with_weight(z, w, 0.5), make_array(approx_percentile_cont(z, 0.5), approx_percentile_cont(z, 0.9)) FROM t"
        );
    }

    #[test]
    fn a_like_from_a_year_to_an_hour_bounds_eventtime() {
        let span = |pattern: &str| {
            let e = condition(&format!(
                "SELECT 1 WHERE 1 = 1 AND eventtime LIKE '{pattern}'"
            ));
            e.to_string()
        };
        assert!(span("2024-01-15%").ends_with(
            "(CAST(eventtime AS VARCHAR) LIKE '2024-01-15%' AND eventtime >= '2024-01-15T00:00:00Z' AND eventtime < '2024-01-16T00:00:00Z')"
        ));
        assert!(span("2024-12%").contains("eventtime < '2025-01-01T00:00:00Z'"));
        assert!(span("2024%").contains("eventtime >= '2024-01-01T00:00:00Z'"));
        assert!(span("2024-01-15T23%").contains("eventtime < '2024-01-16T00:00:00Z'"));
        // No whole leading field, or NOT LIKE: the text alone.
        assert!(!span("%T14:%").contains(">="));
        assert!(!span("2024-1%").contains(">="));
        let not = condition("SELECT 1 WHERE eventtime NOT LIKE '2024-01-15%'").to_string();
        assert_eq!(not, "CAST(eventtime AS VARCHAR) NOT LIKE '2024-01-15%'");
    }

    /// The WHERE of a `SELECT ... WHERE`, rewritten.
    fn condition(sql: &str) -> Expr {
        use datafusion::sql::sqlparser::ast::{SetExpr, Statement as Sql};
        let mut s = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
        athena_syntax(&mut s).unwrap();
        let Statement::Statement(inner) = s else {
            panic!("{sql}")
        };
        let Sql::Query(q) = *inner else {
            panic!("{sql}")
        };
        let SetExpr::Select(select) = *q.body else {
            panic!("{sql}")
        };
        select.selection.unwrap()
    }

    #[test]
    fn is_distinct_from_binds_tighter_than_and_and_or() {
        // (a IS DISTINCT FROM 'x' AND b) OR c
        let Expr::BinaryOp { left, op, .. } =
            condition("SELECT 1 WHERE a IS DISTINCT FROM 'x' AND b OR c")
        else {
            panic!()
        };
        assert_eq!(op, BinaryOperator::Or);
        let Expr::BinaryOp { left, op, right } = *left else {
            panic!()
        };
        assert_eq!(op, BinaryOperator::And);
        assert_eq!(left.to_string(), "a IS DISTINCT FROM 'x'");
        assert!(matches!(*left, Expr::IsDistinctFrom(..)));
        assert_eq!(right.to_string(), "b");
        let Expr::BinaryOp { left, .. } =
            condition("SELECT 1 WHERE a IS NOT DISTINCT FROM 1 AND b = 1")
        else {
            panic!()
        };
        assert!(matches!(*left, Expr::IsNotDistinctFrom(..)));
        // Parenthesised, it is left as written.
        assert!(matches!(
            condition("SELECT 1 WHERE a IS DISTINCT FROM (x AND y)"),
            Expr::IsDistinctFrom(..)
        ));
    }
}
