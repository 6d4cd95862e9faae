//! Trino's `try(expression)`: the expression's value, or NULL where
//! evaluating it fails for that row (a cast of text that is no number,
//! an integer divided by zero, a date that does not parse, text that is not
//! JSON, ...), where without `try` the query would stop with the error.
//!
//! `try` itself is the identity; the analyzer rule [`TryRule`], run after
//! type coercion, rewrites what is inside it: every function call is
//! wrapped so that a batch that fails is evaluated again row by row, NULL
//! for each row that fails; every `CAST` is a `TRY_CAST`; an integer
//! divisor of zero is NULL. Names of columns stay as written.
//!
//! It imports nothing of trailsql outside `functions/`.

use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

/// The `try` function: the identity, until [`TryRule`] rewrites inside it.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![ScalarUDF::from(TryFn {
        signature: Signature::new(TypeSignature::Any(1), Volatility::Immutable),
    })]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TryFn {
    signature: Signature,
}

impl ScalarUDFImpl for TryFn {
    fn name(&self) -> &str {
        "try"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }
    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(args.args.remove(0))
    }
}

/// Rewrites the inside of every `try(...)` so that what fails is NULL.
#[derive(Debug, Default)]
pub struct TryRule;

impl AnalyzerRule for TryRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            // Most plans have no `try`: left as they are, schema and all.
            if !plan.expressions().iter().any(has_try) {
                return Ok(Transformed::no(plan));
            }
            let schema = merge_inputs(&plan);
            let names = NamePreserver::new(&plan);
            plan.map_expressions(|e| {
                let name = names.save(&e);
                e.transform_up(|e| match e {
                    Expr::ScalarFunction(f) if f.func.name() == "try" => {
                        let inside = f.args.into_iter().next().expect("try takes one argument");
                        let tried = inside.transform_up(|e| tolerant(e, &schema))?.data;
                        Ok(Transformed::yes(tried))
                    }
                    e => Ok(Transformed::no(e)),
                })
                .map(|t| t.update_data(|e| name.restore(e)))
            })?
            .map_data(|plan| plan.recompute_schema())
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "trino_try"
    }
}

/// Whether `e` calls `try`.
fn has_try(e: &Expr) -> bool {
    e.exists(|e| Ok(matches!(e, Expr::ScalarFunction(f) if f.func.name() == "try")))
        .unwrap_or(true)
}

/// The columns `plan`'s expressions can name (its inputs', together).
fn merge_inputs(plan: &LogicalPlan) -> DFSchema {
    let mut schema = DFSchema::empty();
    for input in plan.inputs() {
        schema.merge(input.schema());
    }
    schema
}

/// `e`, one node of the inside of a `try`, made to give NULL where it fails.
fn tolerant(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    Ok(match e {
        Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() != "try" => {
            let func = Arc::new(ScalarUDF::new_from_impl(RowByRow { inner: func }));
            Transformed::yes(Expr::ScalarFunction(ScalarFunction { func, args }))
        }
        Expr::Cast(Cast { expr, field }) => {
            Transformed::yes(Expr::TryCast(TryCast { expr, field }))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::Divide | Operator::Modulo) =>
        {
            match right.get_type(schema) {
                Ok(t) if t.is_integer() => {
                    let zero = Expr::Literal(ScalarValue::new_zero(&t)?, None);
                    let divisor = datafusion::functions::core::expr_fn::nullif(*right, zero);
                    Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                        left,
                        op,
                        Box::new(divisor),
                    )))
                }
                _ => Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right })),
            }
        }
        e => Transformed::no(e),
    })
}

/// A function that, where a batch fails, is evaluated row by row: NULL for
/// each row that fails. Its name, signature and type are the function's.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RowByRow {
    inner: Arc<ScalarUDF>,
}

impl ScalarUDFImpl for RowByRow {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(field.as_ref().clone().with_nullable(true)))
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let retry = ScalarFunctionArgs {
            args: args.args.clone(),
            arg_fields: args.arg_fields.clone(),
            number_rows: rows,
            return_field: args.return_field.clone(),
            config_options: args.config_options.clone(),
        };
        if let Ok(value) = self.inner.invoke_with_args(retry) {
            return Ok(value);
        }
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out_type = args.return_field.data_type().clone();
        // Scalars alone are one row, whatever the batch's size.
        let count = if all_scalar { 1 } else { rows };
        let mut parts: Vec<ArrayRef> = Vec::with_capacity(count);
        for row in 0..count {
            let one = ScalarFunctionArgs {
                args: arrays
                    .iter()
                    .map(|a| ColumnarValue::Array(a.slice(row, 1)))
                    .collect(),
                arg_fields: args.arg_fields.clone(),
                number_rows: 1,
                return_field: args.return_field.clone(),
                config_options: args.config_options.clone(),
            };
            parts.push(
                match self
                    .inner
                    .invoke_with_args(one)
                    .and_then(|v| v.into_array(1))
                {
                    Ok(a) if a.data_type() == &out_type => a,
                    _ => new_null_array(&out_type, 1),
                },
            );
        }
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        let out = match refs.is_empty() {
            true => new_null_array(&out_type, 0),
            false => concat(&refs)?,
        };
        match all_scalar {
            true => Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)),
            false => Ok(ColumnarValue::Array(out)),
        }
    }
}
