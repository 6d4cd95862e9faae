//! Trino's `CROSS JOIN UNNEST(array) AS t(x)` (and the comma form,
//! `FROM a, UNNEST(...)`), which DataFusion cannot plan (the array is an
//! outer reference), as the `unnest` DataFusion has in a projection:
//!
//! ```sql
//! FROM cloudtrail_logs CROSS JOIN UNNEST(resources) WITH ORDINALITY AS t(r, n)
//! -- becomes
//! FROM (SELECT cloudtrail_logs.*, unnest(resources) AS r,
//!              unnest(generate_series(1, coalesce(CAST(cardinality(resources) AS BIGINT), 0))) AS n
//!       FROM cloudtrail_logs) AS cloudtrail_logs
//! ```
//!
//! and `t.r` anywhere in the query is `cloudtrail_logs.r`. Semantics as in
//! Trino: several arrays in one UNNEST are read side by side, the shorter
//! padded with NULL; a row whose arrays are all NULL or empty gives no row;
//! `WITH ORDINALITY` numbers the elements from 1; `LEFT JOIN UNNEST(...)
//! ... ON true` keeps such a row once, with NULLs. An array of rows is one
//! column of rows (`t(r)`, then `r.arn`), as AWS's Athena examples use it.
//!
//! What it cannot rewrite is refused with a message naming the construct
//! and what to write instead.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, Expr, Ident, JoinConstraint, JoinOperator, Query, SetExpr, TableFactor,
    TableWithJoins, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Rewrite every `UNNEST` in a FROM clause of `q` (and the queries in it).
pub fn rewrite_unnest<V: VisitMut>(q: &mut V) -> Result<(), String> {
    match q.visit(&mut Unnests) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(why) => Err(why),
    }
}

struct Unnests;

impl VisitorMut for Unnests {
    type Break = String;

    // After the queries inside (a derived table's own UNNEST) are rewritten.
    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<String> {
        match in_query(query) {
            Ok(()) => ControlFlow::Continue(()),
            Err(why) => ControlFlow::Break(why),
        }
    }
}

fn in_query(query: &mut Query) -> Result<(), String> {
    let mut renamed = Vec::new();
    in_set_expr(&mut query.body, &mut renamed)?;
    if !renamed.is_empty() {
        let _ = visit_expressions_mut(query, |e| {
            requalify(e, &renamed);
            ControlFlow::<()>::Continue(())
        });
    }
    Ok(())
}

fn in_set_expr(body: &mut SetExpr, renamed: &mut Vec<(Ident, Ident)>) -> Result<(), String> {
    match body {
        SetExpr::Select(select) => {
            for from in merge_commas(std::mem::take(&mut select.from))? {
                select.from.push(in_from(from, renamed)?);
            }
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            in_set_expr(left, renamed)?;
            in_set_expr(right, renamed)
        }
        _ => Ok(()),
    }
}

/// `FROM a, UNNEST(...) AS t(x)` as `FROM a CROSS JOIN UNNEST(...) AS t(x)`.
fn merge_commas(from: Vec<TableWithJoins>) -> Result<Vec<TableWithJoins>, String> {
    let mut merged: Vec<TableWithJoins> = Vec::new();
    for mut item in from {
        if matches!(item.relation, TableFactor::UNNEST { .. }) {
            let Some(before) = merged.last_mut() else {
                return Err(refused(
                    "UNNEST with no table before it",
                    "unnest an array of a table: FROM t CROSS JOIN UNNEST(t.col) AS u(x)",
                ));
            };
            before.joins.push(datafusion::sql::sqlparser::ast::Join {
                relation: item.relation,
                global: false,
                join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
            });
            before.joins.append(&mut item.joins);
        } else {
            merged.push(item);
        }
    }
    Ok(merged)
}

/// `from` with each UNNEST join folded into the relation before it.
fn in_from(
    from: TableWithJoins,
    renamed: &mut Vec<(Ident, Ident)>,
) -> Result<TableWithJoins, String> {
    let TableWithJoins {
        mut relation,
        joins,
    } = from;
    let mut kept = Vec::new();
    for join in joins {
        let TableFactor::UNNEST { .. } = &join.relation else {
            kept.push(join);
            continue;
        };
        if !kept.is_empty() {
            return Err(refused(
                "UNNEST after a join of two tables",
                "join in a subquery first: FROM (SELECT ... FROM a JOIN b ON ...) AS j CROSS JOIN UNNEST(j.col) AS u(x)",
            ));
        }
        let Some(keep_empty) = keeps_empty(&join.join_operator) else {
            return Err(refused(
                &format!("{} UNNEST", join_name(&join.join_operator)),
                "CROSS JOIN UNNEST(...) AS u(x), or LEFT JOIN UNNEST(...) AS u(x) ON true",
            ));
        };
        let (base, name) = named(relation)?;
        let (factor, unnest_alias) = unnested(base, &name, join.relation, keep_empty)?;
        renamed.push((unnest_alias, name));
        relation = factor;
    }
    Ok(TableWithJoins {
        relation,
        joins: kept,
    })
}

/// For the joins Trino allows with UNNEST, whether a row whose arrays are
/// all empty or NULL is kept (with NULLs, LEFT JOIN ... ON true) or not.
fn keeps_empty(op: &JoinOperator) -> Option<bool> {
    let on_true = |on: &Expr| matches!(on, Expr::Value(v) if v.value == Value::Boolean(true));
    match op {
        JoinOperator::CrossJoin(JoinConstraint::None) => Some(false),
        JoinOperator::Join(JoinConstraint::On(on))
        | JoinOperator::Inner(JoinConstraint::On(on))
            if on_true(on) =>
        {
            Some(false)
        }
        JoinOperator::Left(JoinConstraint::On(on))
        | JoinOperator::LeftOuter(JoinConstraint::On(on))
            if on_true(on) =>
        {
            Some(true)
        }
        _ => None,
    }
}

fn join_name(op: &JoinOperator) -> &'static str {
    match op {
        JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => "LEFT JOIN (other than ON true)",
        JoinOperator::Right(_) | JoinOperator::RightOuter(_) => "RIGHT JOIN",
        JoinOperator::FullOuter(_) => "FULL JOIN",
        JoinOperator::Join(_) | JoinOperator::Inner(_) => "JOIN (other than ON true)",
        _ => "this join with",
    }
}

/// `relation` with an alias (its table name if it had none), and the alias.
fn named(mut relation: TableFactor) -> Result<(TableFactor, Ident), String> {
    match &mut relation {
        TableFactor::Table { name, alias, .. } => {
            if let Some(a) = alias {
                let name = a.name.clone();
                return Ok((relation, name));
            }
            let Some(last) = name.0.last().and_then(|p| p.as_ident()).cloned() else {
                return Err(refused(
                    "UNNEST after this table",
                    "give the table an alias",
                ));
            };
            *alias = Some(datafusion::sql::sqlparser::ast::TableAlias {
                explicit: true,
                name: last.clone(),
                columns: vec![],
                at: None,
            });
            Ok((relation, last))
        }
        TableFactor::Derived { alias: Some(a), .. } => {
            let name = a.name.clone();
            Ok((relation, name))
        }
        _ => Err(refused(
            "UNNEST after a relation with no name",
            "name it: FROM (SELECT ...) AS s CROSS JOIN UNNEST(s.col) AS u(x)",
        )),
    }
}

/// The derived table that is `base` with the columns of `unnest`, named
/// `name`; and the alias the UNNEST had. With `keep_empty`, a row whose
/// arrays are all empty or NULL stays, once, with NULLs.
fn unnested(
    base: TableFactor,
    name: &Ident,
    unnest: TableFactor,
    keep_empty: bool,
) -> Result<(TableFactor, Ident), String> {
    let TableFactor::UNNEST {
        alias,
        array_exprs,
        with_offset,
        with_ordinality,
        ..
    } = unnest
    else {
        unreachable!("called on UNNEST only")
    };
    if with_offset {
        return Err(refused(
            "UNNEST ... WITH OFFSET",
            "WITH ORDINALITY (numbered from 1)",
        ));
    }
    let Some(alias) = alias.filter(|a| !a.columns.is_empty()) else {
        return Err(refused(
            "UNNEST without column names",
            "name the table and its columns: CROSS JOIN UNNEST(col) AS u(x)",
        ));
    };
    let wanted = array_exprs.len() + usize::from(with_ordinality);
    if alias.columns.len() != wanted {
        return Err(refused(
            &format!(
                "UNNEST of {} array(s){} into {} column(s)",
                array_exprs.len(),
                if with_ordinality {
                    " WITH ORDINALITY"
                } else {
                    ""
                },
                alias.columns.len()
            ),
            "one column per array (and one for the ordinality); an array of rows is one \
             column of rows: UNNEST(resources) AS u(r), then r.arn, r.type",
        ));
    }
    let lengths: Vec<String> = array_exprs
        .iter()
        .map(|e| format!("coalesce(CAST(cardinality({e}) AS BIGINT), 0)"))
        .collect();
    let longest = match lengths.as_slice() {
        [one] => one.clone(),
        many => format!("greatest({})", many.join(", ")),
    };
    let mut columns: Vec<String> = array_exprs
        .iter()
        .zip(&alias.columns)
        .map(|(e, c)| match keep_empty {
            false => format!("unnest({e}) AS {}", c.name),
            true => format!(
                "unnest(CASE WHEN {longest} > 0 THEN {e} ELSE make_array(NULL) END) AS {}",
                c.name
            ),
        })
        .collect();
    if with_ordinality {
        let ordinal = &alias.columns[array_exprs.len()].name;
        columns.push(format!(
            "unnest(generate_series(1, {longest})) AS {ordinal}"
        ));
    }
    let sql = format!(
        "(SELECT {name}.*, {} FROM {base}) AS {name}",
        columns.join(", ")
    );
    let factor = Parser::new(&GenericDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_table_factor())
        .map_err(|e| format!("rewriting UNNEST for DataFusion: {e}"))?;
    Ok((factor, alias.name))
}

/// `u.x` as `t.x` where the UNNEST `u` became part of `t`.
fn requalify(e: &mut Expr, renamed: &[(Ident, Ident)]) {
    let Expr::CompoundIdentifier(names) = e else {
        return;
    };
    if names.len() < 2 {
        return;
    }
    if let Some((_, to)) = renamed.iter().find(|(from, _)| same(from, &names[0])) {
        names[0] = to.clone();
    }
}

/// Whether two names are one: unquoted names are compared as lower case.
fn same(a: &Ident, b: &Ident) -> bool {
    let fold = |i: &Ident| match i.quote_style {
        None => i.value.to_lowercase(),
        Some(_) => i.value.clone(),
    };
    fold(a) == fold(b)
}

fn refused(construct: &str, instead: &str) -> String {
    format!("Athena's {construct} is not supported here; write instead: {instead}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::{DFParser, Statement};

    fn rewritten(sql: &str) -> Result<String, String> {
        let Statement::Statement(mut s) = DFParser::parse_sql(sql).unwrap().pop_front().unwrap()
        else {
            panic!("{sql}")
        };
        rewrite_unnest(s.as_mut())?;
        Ok(s.to_string())
    }

    #[test]
    fn an_unnest_join_becomes_a_projection_of_the_table_before_it() {
        assert_eq!(
            rewritten("SELECT t.r.arn, eventname FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS t(r)").unwrap(),
            "SELECT cloudtrail_logs.r.arn, eventname FROM (SELECT cloudtrail_logs.*, unnest(resources) AS r FROM cloudtrail_logs AS cloudtrail_logs) AS cloudtrail_logs"
        );
        // The comma form, an alias, two arrays and the ordinality.
        assert_eq!(
            rewritten("SELECT x, n FROM logs c, UNNEST(c.a, c.b) WITH ORDINALITY AS u(x, y, n) ORDER BY u.n").unwrap(),
            "SELECT x, n FROM (SELECT c.*, unnest(c.a) AS x, unnest(c.b) AS y, unnest(generate_series(1, greatest(coalesce(CAST(cardinality(c.a) AS BIGINT), 0), coalesce(CAST(cardinality(c.b) AS BIGINT), 0)))) AS n FROM logs c) AS c ORDER BY c.n"
        );
    }

    #[test]
    fn what_cannot_be_rewritten_is_named() {
        let e = rewritten("SELECT 1 FROM t LEFT JOIN UNNEST(a) AS u(x) ON u.x > 1").unwrap_err();
        assert!(e.contains("LEFT JOIN (other than ON true) UNNEST"), "{e}");
        let e = rewritten("SELECT 1 FROM t CROSS JOIN UNNEST(a) AS u(x, y)").unwrap_err();
        assert!(e.contains("1 array(s) into 2 column(s)"), "{e}");
        let e = rewritten("SELECT 1 FROM t CROSS JOIN UNNEST(a)").unwrap_err();
        assert!(e.contains("without column names"), "{e}");
        let e = rewritten("SELECT 1 FROM a JOIN b ON a.k = b.k CROSS JOIN UNNEST(b.x) AS u(x)")
            .unwrap_err();
        assert!(e.contains("after a join"), "{e}");
    }
}
