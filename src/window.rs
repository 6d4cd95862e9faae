//! The time window `run`, `lookup`, `verify` and the shell's `\run` look at,
//! from `--since` / `--until`: absolute times or ages before now. It depends on
//! nothing of trailsql but the lenient time parser and the error type.
//!
//! Of trailsql it imports `error`, `record`.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// A time window: `since` <= time < `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since_ms: i64,
    pub until_ms: i64,
}

impl Default for Window {
    /// All time (years 1970 to 9999).
    fn default() -> Self {
        Window {
            since_ms: 0,
            until_ms: 253_402_300_800_000,
        }
    }
}

impl Window {
    /// From `--since` / `--until`: each absolute (`2025-10-20`,
    /// `2025-10-20T14:00:00Z`) or an age before `now` (`7d`, `24h`, `30m`, `2w`).
    pub fn parse(since: Option<&str>, until: Option<&str>, now: DateTime<Utc>) -> Result<Window> {
        let mut w = Window::default();
        if let Some(s) = since {
            w.since_ms = parse_time(s, now)?;
        }
        if let Some(u) = until {
            w.until_ms = parse_time(u, now)?;
        }
        if w.since_ms >= w.until_ms {
            return Err(Error::Usage(format!(
                "--since ({}) is not before --until ({})",
                since.unwrap_or("all time"),
                until.unwrap_or("all time")
            )));
        }
        Ok(w)
    }

    /// The window for a reader: `all time`, `from ... to ...`, `from ...`
    /// or `until ...` (the end excluded).
    pub fn describe(&self) -> String {
        let all_time = Window::default();
        let at = |ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_else(|| ms.to_string())
        };
        match (
            self.since_ms != all_time.since_ms,
            self.until_ms != all_time.until_ms,
        ) {
            (false, false) => "all time".into(),
            (true, false) => format!("from {}", at(self.since_ms)),
            (false, true) => format!("until {} (excluded)", at(self.until_ms)),
            (true, true) => format!(
                "from {} until {} (excluded)",
                at(self.since_ms),
                at(self.until_ms)
            ),
        }
    }

    /// `eventtime >= '...' AND eventtime < '...' AND ` for the window's
    /// ends, when it has them (its defaults are all time): the start of a
    /// WHERE over `cloudtrail`.
    pub fn sql_limits(&self) -> String {
        let all_time = Window::default();
        let mut limits = String::new();
        if self.since_ms != all_time.since_ms {
            if let Some(t) = sql_time(self.since_ms) {
                limits += &format!("eventtime >= {t} AND ");
            }
        }
        if self.until_ms != all_time.until_ms {
            if let Some(t) = sql_time(self.until_ms) {
                limits += &format!("eventtime < {t} AND ");
            }
        }
        limits
    }
}

/// A time (ms since the epoch) as a SQL literal, when SQL can spell it
/// (years 0 to 9999: the default window's end, the first instant of year
/// 10000, limits nothing).
pub fn sql_time(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .filter(|t| (0..=9999).contains(&chrono::Datelike::year(t)))
        .map(|t| {
            crate::record::schema::sql_literal(&t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        })
}

/// An absolute time, or an age (`7d`) before `now`, as ms since the epoch.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<i64> {
    let s = s.trim();
    let unit_ms = match s.chars().last() {
        Some('s') => Some(1_000),
        Some('m') => Some(60_000),
        Some('h') => Some(3_600_000),
        Some('d') => Some(86_400_000),
        Some('w') => Some(7 * 86_400_000),
        _ => None,
    };
    if let (Some(unit), Ok(n)) = (unit_ms, s[..s.len() - 1].parse::<i64>()) {
        if n >= 0 {
            return Ok(now.timestamp_millis() - n.saturating_mul(unit));
        }
    }
    crate::record::time::parse_lenient_time(s).ok_or_else(|| {
        Error::Usage(format!(
            "{s:?} is not a time: give 2025-10-20, 2025-10-20T14:00:00Z, or an age such as 7d, 24h, 30m"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_absolute_and_relative() {
        let now = DateTime::parse_from_rfc3339("2025-10-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s| parse_time(s, now).unwrap();
        assert_eq!(at("24h"), at("2025-10-19T12:00:00Z"));
        assert_eq!(at("7d"), at("2025-10-13T12:00:00Z"));
        assert_eq!(at("2w"), at("2025-10-06T12:00:00Z"));
        assert_eq!(at("30m"), at("2025-10-20T11:30:00Z"));
        assert_eq!(at("2025-10-20"), 1_760_918_400_000);
        assert!(parse_time("yesterday", now).is_err());
        assert!(Window::parse(Some("1d"), Some("2d"), now).is_err());
        let w = Window::parse(Some("2025-10-01"), None, now).unwrap();
        assert_eq!(w.until_ms, Window::default().until_ms);
    }
}
