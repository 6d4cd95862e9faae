//! `coalesce` of columns, fields and literals computed at once, instead of
//! the CASE DataFusion makes of every `coalesce`.
//!
//! DataFusion rewrites `coalesce(a, b, c)` into `CASE WHEN a IS NOT NULL
//! THEN a WHEN b IS NOT NULL THEN b ELSE c END`, so that an argument is
//! only evaluated on the rows that need it (as SQL asks: `coalesce(x,
//! CAST(y AS INT))` must not fail on a row where `x` is set). The CASE
//! filters its input batch for each branch: for the `actor` of
//! `cloudtrail_events` (`coalesce` of five fields of `useridentity`) that
//! copies the whole `useridentity` struct of most rows, 0.29 s of the 0.33
//! s a million events' standard columns took. When every argument is a
//! column, a field of one, a literal, or such a `coalesce` (nothing that
//! can fail, nothing costly), evaluating them all and taking, row by row,
//! the first that is set gives the same answer: that is what this does.
//! Any other `coalesce` becomes DataFusion's CASE as before.
//!
//! It imports nothing of trailsql.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// DataFusion's own `coalesce`, whose typing this one keeps.
fn builtin() -> Arc<ScalarUDF> {
    datafusion::functions::core::coalesce()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Coalesce {
    signature: Signature,
}

/// An expression that cannot fail and costs next to nothing per row.
fn plain(e: &Expr) -> bool {
    match e {
        Expr::Column(_) | Expr::Literal(..) => true,
        Expr::Alias(a) => plain(&a.expr),
        Expr::ScalarFunction(f) => {
            matches!(f.func.name(), "get_field" | "coalesce") && f.args.iter().all(plain)
        }
        _ => false,
    }
}

impl ScalarUDFImpl for Coalesce {
    fn name(&self) -> &str {
        "coalesce"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        exec_err!("coalesce: its type comes from its arguments' fields")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        builtin().inner().return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        builtin().inner().coerce_types(arg_types)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        match args.len() > 1 && args.iter().all(plain) {
            true => Ok(ExprSimplifyResult::Original(args)),
            false => builtin().inner().simplify(args, info),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        // The arguments up to the first one set on every row (a scalar not
        // NULL, an array without NULLs), as arrays: a scalar as one row.
        let mut arrays: Vec<ArrayRef> = Vec::new();
        let mut scalar = Vec::new();
        for arg in args.args {
            let (array, one_row) = match arg {
                ColumnarValue::Scalar(s) if s.is_null() => continue,
                ColumnarValue::Scalar(s) if arrays.is_empty() => {
                    return Ok(ColumnarValue::Scalar(s));
                }
                ColumnarValue::Scalar(s) => (s.to_array_of_size(1)?, true),
                ColumnarValue::Array(a) => (a, false),
            };
            let complete = array.null_count() == 0;
            arrays.push(array);
            scalar.push(one_row);
            if complete {
                break;
            }
        }
        match arrays.len() {
            0 => {
                let null = ScalarValue::try_from(args.return_field.data_type())?;
                return Ok(ColumnarValue::Scalar(null));
            }
            1 => return Ok(ColumnarValue::Array(arrays.remove(0))),
            _ => {}
        }
        // Row by row, the first argument set there; where none is, the
        // first one's NULL.
        let picks: Vec<(usize, usize)> = (0..rows)
            .map(|i| {
                let row = |j: usize| if scalar[j] { 0 } else { i };
                (0..arrays.len())
                    .find(|&j| arrays[j].is_valid(row(j)))
                    .map_or((0, i), |j| (j, row(j)))
            })
            .collect();
        let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        Ok(ColumnarValue::Array(interleave(&refs, &picks)?))
    }
}

/// `coalesce`, registered in place of DataFusion's.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Coalesce {
        signature: builtin().signature().clone(),
    })
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    async fn answer(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }

    fn session() -> SessionContext {
        let ctx = SessionContext::new();
        ctx.register_udf(super::udf());
        ctx
    }

    const ROWS: &str = "(VALUES (named_struct('a', 'x', 'b', 'y'), NULL, 'c', 'n1'), \
        (named_struct('a', NULL, 'b', 'y'), NULL, 'c', 'n2'), \
        (named_struct('a', NULL, 'b', NULL), 'p', NULL, 'n3'), \
        (named_struct('a', NULL, 'b', NULL), NULL, NULL, 'n4')) AS t(s, p, q, n)";

    #[tokio::test]
    async fn gives_the_first_value_set_row_by_row() {
        let ctx = session();
        let sql = format!(
            "SELECT n, coalesce(s.a, s.b, p, q) AS v, coalesce(s.a, p, 'z') AS w, \
             coalesce(NULL, s.a) AS u FROM {ROWS} ORDER BY n"
        );
        let got = answer(&ctx, &sql).await;
        let want = SessionContext::new().sql(&sql).await.unwrap();
        let want =
            datafusion::arrow::util::pretty::pretty_format_batches(&want.collect().await.unwrap())
                .unwrap()
                .to_string();
        assert_eq!(got, want);
        assert!(got.contains("| n1 | x | x | x |"), "{got}");
        assert!(got.contains("| n2 | y | z |   |"), "{got}");
        assert!(got.contains("| n3 | p | p |   |"), "{got}");
        assert!(got.contains("| n4 |   | z |   |"), "{got}");
        let plan = answer(
            &ctx,
            &format!("EXPLAIN SELECT coalesce(s.a, s.b, p) FROM {ROWS}"),
        )
        .await;
        assert!(!plan.contains("CASE"), "{plan}");
    }

    #[tokio::test]
    async fn any_other_argument_is_evaluated_only_where_needed() {
        let ctx = session();
        // x is set, so the cast of 'a' that would fail is never made.
        let sql = "SELECT coalesce(x, CAST(y AS INT)) AS v FROM (VALUES (1, 'a')) AS t(x, y)";
        assert!(answer(&ctx, sql).await.contains("| 1 |"));
        let plan = answer(
            &ctx,
            &format!("EXPLAIN SELECT coalesce(p, upper(q)) FROM {ROWS}"),
        )
        .await;
        assert!(plan.contains("CASE"), "{plan}");
    }
}
