//! `allowlisted(value, list)`: whether a value is on an allowlist that a
//! user gave as one parameter (`--param allow_principals=...`). The list is
//! entries separated by commas; an entry is a CIDR block or an address
//! (matching the addresses inside it), or else a pattern where `*` stands
//! for any text and `?` for one character, compared without regard to case
//! (`arn:aws:iam::*:role/ci-*`, `terraform*`). Never NULL: an empty list or
//! a NULL value is not allowlisted, so `NOT allowlisted(...)` keeps the row.
//! Detections name their allowlists `allow_principals`, `allow_ips`,
//! `allow_accounts` and `allow_tools`, so one `--param` on `run --all` or
//! `hunt` reaches every detection that takes it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::sigma::{constant, glob, pieces, Piece};

/// One entry of an allowlist.
pub(super) enum Entry {
    Block((std::net::IpAddr, u8)),
    Pattern(Vec<Piece>),
}

/// The entries of a list as the user wrote it.
pub(super) fn entries(list: &str) -> Vec<Entry> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match super::net::parse_cidr(e) {
            Some(net) => Entry::Block(net),
            None => Entry::Pattern(pieces(e, false)),
        })
        .collect()
}

/// Whether `value` is on the list.
pub(super) fn listed(entries: &[Entry], value: &str) -> bool {
    // Lower-cased once, and only when a pattern needs it.
    let mut lower: Option<Vec<char>> = None;
    entries.iter().any(|e| match e {
        Entry::Block(net) => super::net::in_block(value, *net),
        Entry::Pattern(p) => glob(
            p,
            lower.get_or_insert_with(|| value.chars().flat_map(char::to_lowercase).collect()),
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Allowlisted {
    signature: Signature,
}

impl ScalarUDFImpl for Allowlisted {
    fn name(&self) -> &str {
        "allowlisted"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [value, list] = args.args.as_slice() else {
            return exec_err!("allowlisted takes a value and a list");
        };
        let list = entries(&constant(list, "allowlisted")?);
        match value {
            ColumnarValue::Scalar(s) => {
                let v = match s.cast_to(&DataType::Utf8)? {
                    ScalarValue::Utf8(Some(v)) => listed(&list, &v),
                    _ => false,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(v))))
            }
            ColumnarValue::Array(a) => {
                let strings = cast(a, &DataType::Utf8)?;
                let strings = strings.as_string::<i32>();
                let mut out = BooleanBuilder::with_capacity(strings.len());
                for i in 0..strings.len() {
                    out.append_value(
                        !list.is_empty() && strings.is_valid(i) && listed(&list, strings.value(i)),
                    );
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
        }
    }
}

pub fn udfs() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(Allowlisted {
        signature: Signature::any(2, Volatility::Immutable),
    })]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_blocks_and_empty_lists() {
        let list = entries(" arn:aws:iam::*:role/CI-* , 10.0.0.0/8,terraform*,,192.0.2.7");
        assert!(listed(&list, "arn:aws:iam::123456789012:role/ci-deploy"));
        assert!(!listed(&list, "arn:aws:iam::123456789012:user/ci-deploy"));
        assert!(listed(&list, "10.200.3.4") && !listed(&list, "11.0.0.1"));
        assert!(listed(&list, "Terraform/1.9.5") && !listed(&list, "aws-cli/2 terraform"));
        assert!(listed(&list, "192.0.2.7") && !listed(&list, "192.0.2.70"));
        assert!(!listed(&entries(""), "anything") && !listed(&entries(" , "), ""));
    }
}
