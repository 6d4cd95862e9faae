//! Athena's partition columns, as the tables AWS documents for CloudTrail
//! define them: each is read from the row's log file key
//! (`AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/...`), so it means
//! what it means in Athena (where the file was delivered), not the event's
//! own time or region:
//!
//! - `timestamp`: the delivery day as `yyyy/MM/dd` (the partition-projected
//!   table of the Athena and CloudTrail user guides);
//! - `region`, `account` and `accountid` (the organization-trail variants);
//! - `year`, `month`, `day` as text, `'2024'`, `'01'`, `'15'` (the manually
//!   partitioned table).
//!
//! They are columns of the view `cloudtrail_logs` (Athena's table name)
//! over the default source, computed by `log_key_part(log_object, part)`;
//! a condition on one reaches the table as a condition on that call, which
//! [`super::filters`] reads as limits on the key, so it prunes files as the
//! key does. A row whose file is not in the trail layout (an Event history
//! export) has NULL for each.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::archive::layout::{classify, Classified, KeyInfo};

/// The function's name, as [`super::filters`] recognises it.
pub const KEY_PART: &str = "log_key_part";

/// Each partition column, in the order the view gives them.
pub const COLUMNS: [&str; 7] = [
    "timestamp",
    "region",
    "account",
    "accountid",
    "year",
    "month",
    "day",
];

/// The view's extra columns, as SQL after `SELECT *, `.
pub fn view_columns() -> String {
    COLUMNS
        .iter()
        .map(|c| format!("{KEY_PART}(log_object, '{c}') AS \"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `log_key_part` function.
pub fn udf() -> ScalarUDF {
    ScalarUDF::from(KeyPart {
        signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable),
    })
}

/// Which partition column `e` is: `log_key_part(log_object, 'name')`.
pub fn key_column(e: &Expr) -> Option<&str> {
    let Expr::ScalarFunction(f) = e else {
        return None;
    };
    if f.func.name() != KEY_PART {
        return None;
    }
    match f.args.as_slice() {
        [Expr::Column(c), Expr::Literal(ScalarValue::Utf8(Some(part)), _)]
            if c.name == crate::record::schema::LOG_OBJECT =>
        {
            COLUMNS.iter().copied().find(|name| name == part)
        }
        _ => None,
    }
}

/// `part` of a key.
fn part_of(key: &KeyInfo, part: &str) -> Option<String> {
    Some(match part {
        "timestamp" => key.date.format("%Y/%m/%d").to_string(),
        "region" => key.region.clone(),
        "account" | "accountid" => key.account.clone(),
        "year" => key.date.format("%Y").to_string(),
        "month" => key.date.format("%m").to_string(),
        "day" => key.date.format("%d").to_string(),
        _ => return None,
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KeyPart {
    signature: Signature,
}

impl ScalarUDFImpl for KeyPart {
    fn name(&self) -> &str {
        KEY_PART
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(ScalarValue::Utf8(Some(part))) = &args.args[1] else {
            return exec_err!("{KEY_PART} takes the part's name as a literal");
        };
        if !COLUMNS.contains(&part.as_str()) {
            return exec_err!("{KEY_PART}: no partition column {part:?}");
        }
        let keys: ArrayRef = match &args.args[0] {
            ColumnarValue::Array(a) => cast(a, &DataType::Utf8)?,
            ColumnarValue::Scalar(s) => s.to_array_of_size(1)?,
        };
        let keys = keys.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(keys.len(), keys.len() * 10);
        // Rows of one file come together: its key is read once.
        let mut last: Option<(&str, Option<String>)> = None;
        for key in keys.iter() {
            let Some(key) = key else {
                out.append_null();
                continue;
            };
            let value = match &last {
                Some((k, v)) if *k == key => v.clone(),
                _ => {
                    let v = match classify(key) {
                        Classified::Log(info) => part_of(&info, part),
                        _ => None,
                    };
                    last = Some((key, v.clone()));
                    v
                }
            };
            out.append_option(value);
        }
        let array: ArrayRef = Arc::new(out.finish());
        match &args.args[0] {
            ColumnarValue::Scalar(_) => Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?)),
            ColumnarValue::Array(_) => Ok(ColumnarValue::Array(array)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::datatypes::Field;

    fn parts(part: &str, keys: &[Option<&str>]) -> Vec<Option<String>> {
        let keys: ArrayRef = Arc::new(StringArray::from(keys.to_vec()));
        let args = ScalarFunctionArgs {
            args: vec![
                ColumnarValue::Array(keys.clone()),
                ColumnarValue::Scalar(ScalarValue::Utf8(Some(part.into()))),
            ],
            arg_fields: vec![
                Arc::new(Field::new("k", DataType::Utf8, true)),
                Arc::new(Field::new("p", DataType::Utf8, false)),
            ],
            number_rows: keys.len(),
            return_field: Arc::new(Field::new("r", DataType::Utf8, true)),
            config_options: Default::default(),
        };
        let ColumnarValue::Array(a) = udf().invoke_with_args(args).unwrap() else {
            panic!()
        };
        a.as_string::<i32>()
            .iter()
            .map(|v| v.map(String::from))
            .collect()
    }

    #[test]
    fn partition_values_come_from_the_key() {
        let org = "trail/AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2024/01/15/111122223333_CloudTrail_eu-west-1_20240115T0000Z_x.json.gz";
        let plain = "AWSLogs/444455556666/CloudTrail/us-east-1/2023/12/31/444455556666_CloudTrail_us-east-1_20231231T2355Z_y.json.gz";
        let keys = [
            Some(org),
            Some(org),
            Some(plain),
            None,
            Some("exports/history.json"),
        ];
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            parts("timestamp", &keys),
            [
                s("2024/01/15"),
                s("2024/01/15"),
                s("2023/12/31"),
                None,
                None
            ]
        );
        assert_eq!(parts("accountid", &keys)[0], s("111122223333"));
        assert_eq!(parts("region", &keys)[2], s("us-east-1"));
        assert_eq!(
            [
                &parts("year", &keys)[2],
                &parts("month", &keys)[2],
                &parts("day", &keys)[2]
            ],
            [&s("2023"), &s("12"), &s("31")]
        );
    }
}
