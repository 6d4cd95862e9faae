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
//! - aggregates Trino names otherwise: `count_if(c)` is
//!   `count(CASE WHEN c THEN 1 END)`, `arbitrary(x)` is `any_value(x)`,
//!   `approx_percentile(x, p)` is `approx_percentile_cont(x, p)`.
//!
//! It imports nothing of trailsql.

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, AccessExpr, BinaryOperator, CaseWhen, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectNamePart, Subscript, Value,
};

/// Rewrite `stmt` (and the statements and queries inside it) to read as
/// Athena reads it.
pub fn athena_syntax(stmt: &mut Statement) {
    match stmt {
        Statement::Statement(s) => {
            let _ = visit_expressions_mut(s.as_mut(), rewrite);
        }
        Statement::Explain(e) => athena_syntax(e.statement.as_mut()),
        Statement::CopyTo(c) => {
            if let CopyToSource::Query(q) = &mut c.source {
                let _ = visit_expressions_mut(q.as_mut(), rewrite);
            }
        }
        Statement::CreateExternalTable(_) | Statement::Reset(_) => {}
    }
}

fn rewrite(e: &mut Expr) -> ControlFlow<()> {
    match e {
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
        Expr::Function(f) => trino_aggregate(f),
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
        ("approx_percentile", 2) => "approx_percentile_cont",
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
        athena_syntax(&mut s);
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
        // Other forms are left to DataFusion, which names what it lacks.
        assert_eq!(
            rewritten("SELECT approx_percentile(z, 1, 0.5) FROM t"),
            "SELECT approx_percentile(z, 1, 0.5) FROM t"
        );
    }

    /// The WHERE of a `SELECT ... WHERE`, rewritten.
    fn condition(sql: &str) -> Expr {
        use datafusion::sql::sqlparser::ast::{SetExpr, Statement as Sql};
        let mut s = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
        athena_syntax(&mut s);
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
