//! Athena's (Trino's) syntax where DataFusion's parser reads it otherwise,
//! rewritten in the parsed statement before it is planned:
//!
//! - a field after a subscript, `resources[1].arn`, which DataFusion
//!   refuses ("Dot access not supported"), becomes `resources[1]['arn']`
//!   (an unquoted name in lower case, as identifiers are);
//! - `a IS [NOT] DISTINCT FROM 'x' AND b`, which the parser reads as
//!   `a IS DISTINCT FROM ('x' AND b)`, binds as in Trino (and the SQL
//!   standard): `(a IS DISTINCT FROM 'x') AND b`. A parenthesised right
//!   side is left as written.
//!
//! It imports nothing of trailsql.

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, AccessExpr, BinaryOperator, Expr, Subscript, Value,
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
