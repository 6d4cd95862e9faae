//! `cidr_match(ip, cidr)`: whether an address (IPv4 or IPv6, as
//! `sourceIPAddress` holds it) is inside a CIDR block. NULL when either is
//! NULL; false for text that is not an address (`sourceIPAddress` also holds
//! service names such as `s3.amazonaws.com`); an error for a block that is
//! not one, naming it. Sigma's `|cidr` modifier compiles to it.
//!
//! `ip_network(ip, v4_bits, v6_bits)`: the network an address is in, as a
//! CIDR block (`ip_network('198.51.100.7', 16, 48)` is `198.51.0.0/16`);
//! NULL for text that is not an address.

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
    super::json::columnar(Arc::new(out.finish()), all_scalar)
}

/// The block of `bits` bits that holds `ip`.
pub fn network(ip: &str, v4_bits: u8, v6_bits: u8) -> Option<String> {
    match ip.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => {
            let bits = v4_bits.min(32);
            let mask = u32::MAX.checked_shl(32 - bits as u32).unwrap_or(0);
            Some(format!(
                "{}/{bits}",
                std::net::Ipv4Addr::from(u32::from(a) & mask)
            ))
        }
        IpAddr::V6(a) => {
            let bits = v6_bits.min(128);
            let mask = u128::MAX.checked_shl(128 - bits as u32).unwrap_or(0);
            Some(format!(
                "{}/{bits}",
                std::net::Ipv6Addr::from(u128::from(a) & mask)
            ))
        }
    }
}

fn ip_network(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let ips = cast(&arrays[0], &DataType::Utf8)?;
    let (v4, v6) = (
        cast(&arrays[1], &DataType::Int64)?,
        cast(&arrays[2], &DataType::Int64)?,
    );
    let ips = ips.as_string::<i32>();
    let (v4, v6) = (
        v4.as_primitive::<datafusion::arrow::datatypes::Int64Type>(),
        v6.as_primitive::<datafusion::arrow::datatypes::Int64Type>(),
    );
    let mut out = datafusion::arrow::array::StringBuilder::new();
    for i in 0..ips.len() {
        if ips.is_null(i) || v4.is_null(i) || v6.is_null(i) {
            out.append_null();
            continue;
        }
        let bits = |b: i64| b.clamp(0, 128) as u8;
        out.append_option(network(ips.value(i), bits(v4.value(i)), bits(v6.value(i))));
    }
    super::json::columnar(Arc::new(out.finish()), all_scalar)
}

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        create_udf(
            "ip_network",
            vec![DataType::Utf8, DataType::Int64, DataType::Int64],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(ip_network),
        ),
        create_udf(
            "cidr_match",
            vec![DataType::Utf8, DataType::Utf8],
            DataType::Boolean,
            Volatility::Immutable,
            Arc::new(cidr_match),
        ),
    ]
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

    #[test]
    fn networks_of_addresses() {
        assert_eq!(
            network("198.51.100.7", 16, 48).as_deref(),
            Some("198.51.0.0/16")
        );
        assert_eq!(
            network("198.51.100.7", 32, 48).as_deref(),
            Some("198.51.100.7/32")
        );
        assert_eq!(
            network("2001:db8:abcd:12::1", 16, 48).as_deref(),
            Some("2001:db8:abcd::/48")
        );
        assert_eq!(network("s3.amazonaws.com", 16, 48), None);
        assert_eq!(network("10.1.2.3", 0, 0).as_deref(), Some("0.0.0.0/0"));
    }
}
