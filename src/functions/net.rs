//! `cidr_match(ip, cidr)`: whether an address (IPv4 or IPv6, as
//! `sourceIPAddress` holds it) is inside a CIDR block. NULL when either is
//! NULL; false for text that is not an address (`sourceIPAddress` also holds
//! service names such as `s3.amazonaws.com`); an error for a block that is
//! not one, naming it. Sigma's `|cidr` modifier compiles to it.

use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};

/// A parsed CIDR block.
pub fn parse_cidr(block: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match block.split_once('/') {
        Some((a, b)) => (a.parse::<IpAddr>().ok()?, b.parse::<u8>().ok()?),
        None => {
            let a = block.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

/// Whether `ip` is in the block.
pub fn in_block(ip: &str, (net, bits): (IpAddr, u8)) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - bits as u32).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - bits as u32).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn cidr_match(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let (ips, blocks) = (
        cast(&arrays[0], &DataType::Utf8)?,
        cast(&arrays[1], &DataType::Utf8)?,
    );
    let (ips, blocks) = (ips.as_string::<i32>(), blocks.as_string::<i32>());
    let mut out = BooleanBuilder::with_capacity(ips.len());
    let mut cached: Option<(String, (IpAddr, u8))> = None;
    for i in 0..ips.len() {
        if ips.is_null(i) || blocks.is_null(i) {
            out.append_null();
            continue;
        }
        let block = blocks.value(i);
        if cached.as_ref().is_none_or(|(b, _)| b != block) {
            match parse_cidr(block) {
                Some(net) => cached = Some((block.to_string(), net)),
                None => return exec_err!("cidr_match: {block:?} is not a CIDR block"),
            }
        }
        out.append_value(in_block(ips.value(i), cached.as_ref().expect("set").1));
    }
    let array: Arc<dyn Array> = Arc::new(out.finish());
    if all_scalar {
        Ok(ColumnarValue::Scalar(
            datafusion::scalar::ScalarValue::try_from_array(&array, 0)?,
        ))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

pub fn udfs() -> Vec<ScalarUDF> {
    vec![create_udf(
        "cidr_match",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(cidr_match),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_their_edges() {
        let net = parse_cidr("203.0.113.0/24").unwrap();
        assert!(in_block("203.0.113.0", net) && in_block("203.0.113.255", net));
        assert!(!in_block("203.0.114.0", net) && !in_block("203.0.112.255", net));
        assert!(!in_block("s3.amazonaws.com", net));
        assert!(in_block("10.1.2.3", parse_cidr("0.0.0.0/0").unwrap()));
        let v6 = parse_cidr("2001:db8::/32").unwrap();
        assert!(in_block("2001:db8:ffff::1", v6) && !in_block("2001:db9::1", v6));
        assert!(!in_block("203.0.113.5", v6));
        assert!(in_block("192.0.2.7", parse_cidr("192.0.2.7").unwrap()));
        assert!(parse_cidr("10.0.0.0/33").is_none() && parse_cidr("nope").is_none());
    }
}
