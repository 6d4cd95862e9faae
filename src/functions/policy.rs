//! `policy_outsiders(policy, account, allow)`: who outside `account` an IAM-style
//! resource policy lets in (a bucket, key, secret, repository or topic
//! policy, or a role's trust policy), as text: the principals of its
//! `Allow` statements that are everyone (`*`, or a `NotPrincipal`, which
//! admits all but those named) or another account (its 12-digit id), each
//! once, in the order written, joined with `, `; a statement with a
//! `Condition` marks its principals ` (conditional)`, since a condition
//! such as `aws:PrincipalOrgID` may keep the outside out. NULL when the
//! policy lets no one outside in, or is not JSON. `Deny` statements, AWS
//! service principals, the account's own principals and the accounts on
//! the allowlist `allow` (as `allowlisted` reads it: ids or patterns,
//! comma-separated) are left out.
//! The policy may be a JSON object or JSON text holding one (CloudTrail
//! logs both).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};
use serde_json::Value;

/// The account a principal of the `AWS` kind belongs to, or `*`.
fn principal_account(p: &str) -> Option<String> {
    let p = p.trim();
    if p == "*" {
        return Some("*".into());
    }
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(p.into());
    }
    // arn:PARTITION:iam::ACCOUNT:... or arn:PARTITION:sts::ACCOUNT:...
    let mut parts = p.splitn(6, ':');
    let (arn, _, _, _, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn == "arn" && !account.is_empty()).then(|| account.to_string())
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The outsiders a policy admits (see the module's text).
pub fn outsiders(policy: &str, account: &str, allow: &str) -> Vec<String> {
    let allow = super::allow::entries(allow);
    let Ok(mut doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    if let Value::String(inner) = &doc {
        match serde_json::from_str::<Value>(inner) {
            Ok(v) => doc = v,
            Err(_) => return Vec::new(),
        }
    }
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for s in statements {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let mut who: Vec<String> = Vec::new();
        if s.get("NotPrincipal").is_some() {
            who.push("*".into());
        }
        match s.get("Principal") {
            Some(Value::String(p)) if p.trim() == "*" => who.push("*".into()),
            Some(Value::Object(kinds)) => {
                for (kind, v) in kinds {
                    match kind.as_str() {
                        "AWS" | "Federated" => {
                            who.extend(strings(v).into_iter().filter_map(principal_account))
                        }
                        "CanonicalUser" => who.extend(
                            strings(v)
                                .into_iter()
                                .map(|c| format!("canonical user {c}")),
                        ),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        let conditional = s.get("Condition").is_some_and(|c| match c {
            Value::Object(m) => !m.is_empty(),
            _ => false,
        });
        for w in who {
            if w == account || super::allow::listed(&allow, &w) {
                continue;
            }
            let entry = if conditional {
                format!("{w} (conditional)")
            } else {
                w
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

fn policy_outsiders(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let (policies, accounts, allows) = (
        cast(&arrays[0], &DataType::Utf8)?,
        cast(&arrays[1], &DataType::Utf8)?,
        cast(&arrays[2], &DataType::Utf8)?,
    );
    let (policies, accounts, allows) = (
        policies.as_string::<i32>(),
        accounts.as_string::<i32>(),
        allows.as_string::<i32>(),
    );
    let mut out = StringBuilder::with_capacity(policies.len(), 0);
    for i in 0..policies.len() {
        if policies.is_null(i) {
            out.append_null();
            continue;
        }
        let account = if accounts.is_null(i) {
            ""
        } else {
            accounts.value(i)
        };
        let allow = if allows.is_null(i) {
            ""
        } else {
            allows.value(i)
        };
        let found = outsiders(policies.value(i), account, allow);
        match found.is_empty() {
            true => out.append_null(),
            false => out.append_value(found.join(", ")),
        }
    }
    super::json::columnar(Arc::new(out.finish()), all_scalar)
}

pub fn udfs() -> Vec<ScalarUDF> {
    vec![create_udf(
        "policy_outsiders",
        vec![DataType::Utf8, DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(policy_outsiders),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_statements_name_who_is_let_in() {
        let own = "123456789012";
        let p = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/app","arn:aws:iam::210987654321:root"]},"Action":"s3:GetObject"},
            {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"},
            {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}},
            {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:GetObject"}]}"#;
        assert_eq!(
            outsiders(p, own, ""),
            ["210987654321", "* (conditional)", "444455556666"]
        );
        // Accounts on the allowlist are not outsiders.
        assert_eq!(
            outsiders(p, own, "4444*, 111111111111"),
            ["210987654321", "* (conditional)"]
        );
        // The policy as JSON text inside JSON (a role's trust policy).
        let text = serde_json::to_string(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        )
        .unwrap();
        assert_eq!(outsiders(&text, own, ""), ["*"]);
        // Only the account's own principals and services: nobody outside.
        let inside = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root","Service":"lambda.amazonaws.com"}}]}"#;
        assert!(outsiders(inside, own, "").is_empty());
        assert!(outsiders("not json", own, "").is_empty());
        let not_principal = r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/x"}}]}"#;
        assert_eq!(outsiders(not_principal, own, ""), ["*"]);
    }
}
