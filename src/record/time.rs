//! Times as CloudTrail writes them (`YYYY-MM-DDTHH:MM:SSZ`, parsed
//! exactly by the decoder) and as people type them (`2025-10-20`,
//! `2025-10-20 14:00:00.5`, with or without a zone), parsed leniently for
//! `--since`, `--until` and a query's limits.
//!
//! It imports nothing of trailsql outside `record/`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Parse `YYYY-MM-DDTHH:MM:SSZ` exactly (what CloudTrail writes).
pub fn parse_canonical_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        Some(v)
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let t = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(t.and_utc().timestamp_millis())
}

/// Parse the other spellings seen in exported or re-processed logs.
pub fn parse_lenient_time(s: &str) -> Option<i64> {
    if let Some(ms) = parse_canonical_time(s) {
        return Some(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    None
}
