//! Reading a query's pushed-down filters as [`Prune`] limits: bounds on
//! `eventtime`, and the sets of `awsregion` and `recipientaccountid` values;
//! and on Athena's partition columns (`timestamp`, `region`, `account`,
//! `accountid`, `year`, `month`, `day`: see [`super::partitions`]), limits
//! on the log file's key.
//! Anything not understood simply does not prune (files are read, rows are still
//! filtered by DataFusion), so this can only make a query cheaper, never wrong.
//!
//! Of trailsql it imports `archive`, `record`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use datafusion::scalar::ScalarValue;

use crate::archive::Prune;
use crate::record::time::parse_lenient_time;

/// Conjunction of all filters as limits.
pub fn prune_from(filters: &[Expr]) -> Prune {
    let mut p = Prune::default();
    for f in filters {
        add(&mut p, f);
    }
    key_date_parts(&mut p, filters);
    p
}

/// `year = 'Y' [AND month = 'M' [AND day = 'D']]` (each a condition of its
/// own, ANDed at the top) as a span of delivery days.
fn key_date_parts(p: &mut Prune, filters: &[Expr]) {
    let mut conjuncts = Vec::new();
    for f in filters {
        datafusion::logical_expr::utils::split_conjunction(f)
            .into_iter()
            .for_each(|c| conjuncts.push(c));
    }
    let equal_to = |part: &str| -> Option<u32> {
        conjuncts.iter().find_map(|c| match c {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => {
                let (col, _, v) = compared(left, Operator::Eq, right)?;
                // '2024' or 2024 alike.
                let v = v
                    .cast_to(&datafusion::arrow::datatypes::DataType::Utf8)
                    .ok()?;
                (col == part).then(|| text(&v)?.parse().ok())?
            }
            _ => None,
        })
    };
    let Some(year) = equal_to("key:year").and_then(|y| i32::try_from(y).ok()) else {
        return;
    };
    let (first, last) = match (equal_to("key:month"), equal_to("key:day")) {
        (Some(m), Some(d)) => {
            let Some(day) = NaiveDate::from_ymd_opt(year, m, d) else {
                return;
            };
            (day, day)
        }
        (Some(m), None) => {
            let Some(first) = NaiveDate::from_ymd_opt(year, m, 1) else {
                return;
            };
            let next = first.checked_add_months(chrono::Months::new(1));
            let Some(last) = next.and_then(|n| n.pred_opt()) else {
                return;
            };
            (first, last)
        }
        _ => {
            let (Some(first), Some(last)) = (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) else {
                return;
            };
            (first, last)
        }
    };
    key_after(p, first);
    key_before(p, last);
}

fn key_after(p: &mut Prune, day: NaiveDate) {
    p.key_from_day = Some(p.key_from_day.map_or(day, |old| old.max(day)));
}

fn key_before(p: &mut Prune, day: NaiveDate) {
    p.key_to_day = Some(p.key_to_day.map_or(day, |old| old.min(day)));
}

/// A delivery day written as Athena's `timestamp` partition is
/// (`2024/01/15`), or as an ISO date.
fn key_day(v: &ScalarValue) -> Option<NaiveDate> {
    let t = text(v)?;
    NaiveDate::parse_from_str(&t, "%Y/%m/%d")
        .or_else(|_| NaiveDate::parse_from_str(&t, "%Y-%m-%d"))
        .ok()
}

/// The column `e` names, through casts; an Athena partition column of the
/// key is `key:NAME`.
pub(crate) fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(c) => Some(c.name.as_str()),
        Expr::ScalarFunction(_) => match super::partitions::key_column(e)? {
            "timestamp" => Some("key:timestamp"),
            "region" => Some("key:region"),
            "account" | "accountid" => Some("key:account"),
            "year" => Some("key:year"),
            "month" => Some("key:month"),
            "day" => Some("key:day"),
            _ => None,
        },
        Expr::Cast(c) => column_name(&c.expr),
        Expr::TryCast(c) => column_name(&c.expr),
        _ => None,
    }
}

/// The value `e` is, through casts.
pub(crate) fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v),
        Expr::Cast(c) => literal(&c.expr),
        Expr::TryCast(c) => literal(&c.expr),
        _ => None,
    }
}

fn time_ms(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::TimestampSecond(Some(x), _) => x.checked_mul(1000),
        ScalarValue::TimestampMillisecond(Some(x), _) => Some(*x),
        ScalarValue::TimestampMicrosecond(Some(x), _) => Some(x.div_euclid(1000)),
        ScalarValue::TimestampNanosecond(Some(x), _) => Some(x.div_euclid(1_000_000)),
        ScalarValue::Date32(Some(d)) => Some(*d as i64 * 86_400_000),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => parse_lenient_time(s),
        _ => None,
    }
}

fn text(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

fn narrow(slot: &mut Option<BTreeSet<String>>, values: BTreeSet<String>) {
    *slot = Some(match slot.take() {
        Some(old) => old.intersection(&values).cloned().collect(),
        None => values,
    });
}

fn lower(p: &mut Prune, ms: i64) {
    p.from_ms = Some(p.from_ms.map_or(ms, |old| old.max(ms)));
}

fn upper(p: &mut Prune, ms: i64) {
    p.to_ms = Some(p.to_ms.map_or(ms, |old| old.min(ms)));
}

/// What either of two sets of limits allows: a limit only both have,
/// widened to hold both (the earlier start, the later end, every value
/// either allows).
fn either(a: Prune, b: Prune) -> Prune {
    fn union(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
        let (mut a, b) = (a?, b?);
        a.extend(b);
        Some(a)
    }
    Prune {
        from_ms: a.from_ms.zip(b.from_ms).map(|(x, y)| x.min(y)),
        to_ms: a.to_ms.zip(b.to_ms).map(|(x, y)| x.max(y)),
        regions: union(a.regions, b.regions),
        accounts: union(a.accounts, b.accounts),
        event_names: union(a.event_names, b.event_names),
        key_regions: union(a.key_regions, b.key_regions),
        key_accounts: union(a.key_accounts, b.key_accounts),
        key_from_day: a.key_from_day.zip(b.key_from_day).map(|(x, y)| x.min(y)),
        key_to_day: a.key_to_day.zip(b.key_to_day).map(|(x, y)| x.max(y)),
    }
}

/// `left op right` as `column op literal`, either way round.
fn compared<'a>(
    left: &'a Expr,
    op: Operator,
    right: &'a Expr,
) -> Option<(&'a str, Operator, &'a ScalarValue)> {
    match (column_name(left), literal(right)) {
        (Some(c), Some(l)) => Some((c, op, l)),
        _ => Some((column_name(right)?, op.swap()?, literal(left)?)),
    }
}

fn add(p: &mut Prune, e: &Expr) {
    match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            add(p, left);
            add(p, right);
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            // Each side's limits, widened to hold both: `c = 'a' OR c =
            // 'b'` (what the planner makes of a short IN), and `(source =
            // 'x' AND name IN (...)) OR (name = 'y' AND ...)` allow the
            // names of both sides.
            let both = either(
                prune_from(&[(**left).clone()]),
                prune_from(&[(**right).clone()]),
            );
            if let Some(ms) = both.from_ms {
                lower(p, ms);
            }
            if let Some(ms) = both.to_ms {
                upper(p, ms);
            }
            if let Some(day) = both.key_from_day {
                key_after(p, day);
            }
            if let Some(day) = both.key_to_day {
                key_before(p, day);
            }
            for (slot, values) in [
                (&mut p.regions, both.regions),
                (&mut p.accounts, both.accounts),
                (&mut p.event_names, both.event_names),
                (&mut p.key_regions, both.key_regions),
                (&mut p.key_accounts, both.key_accounts),
            ] {
                if let Some(values) = values {
                    narrow(slot, values);
                }
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let Some((col, op, lit)) = compared(left, *op, right) else {
                return;
            };
            match col {
                "eventtime" => {
                    let Some(ms) = time_ms(lit) else { return };
                    match op {
                        Operator::Eq => {
                            lower(p, ms);
                            upper(p, ms);
                        }
                        Operator::Gt | Operator::GtEq => lower(p, ms),
                        Operator::Lt | Operator::LtEq => upper(p, ms),
                        _ => {}
                    }
                }
                "awsregion" if op == Operator::Eq => {
                    if let Some(v) = text(lit) {
                        narrow(&mut p.regions, [v].into());
                    }
                }
                "recipientaccountid" if op == Operator::Eq => {
                    if let Some(v) = text(lit) {
                        narrow(&mut p.accounts, [v].into());
                    }
                }
                "eventname" if op == Operator::Eq => {
                    if let Some(v) = text(lit) {
                        narrow(&mut p.event_names, [v].into());
                    }
                }
                "key:region" if op == Operator::Eq => {
                    if let Some(v) = text(lit) {
                        narrow(&mut p.key_regions, [v].into());
                    }
                }
                "key:account" if op == Operator::Eq => {
                    if let Some(v) = text(lit) {
                        narrow(&mut p.key_accounts, [v].into());
                    }
                }
                "key:timestamp" => {
                    let Some(day) = key_day(lit) else { return };
                    match op {
                        Operator::Eq => {
                            key_after(p, day);
                            key_before(p, day);
                        }
                        // Keys' days are whole `yyyy/MM/dd` texts: after
                        // the 15th is from the 16th.
                        Operator::Gt => key_after(p, day.succ_opt().unwrap_or(day)),
                        Operator::GtEq => key_after(p, day),
                        Operator::Lt => key_before(p, day.pred_opt().unwrap_or(day)),
                        Operator::LtEq => key_before(p, day),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if column_name(expr) == Some("eventtime") => {
            if let Some(ms) = literal(low).and_then(time_ms) {
                lower(p, ms);
            }
            if let Some(ms) = literal(high).and_then(time_ms) {
                upper(p, ms);
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if column_name(expr) == Some("key:timestamp") => {
            if let Some(day) = literal(low).and_then(key_day) {
                key_after(p, day);
            }
            if let Some(day) = literal(high).and_then(key_day) {
                key_before(p, day);
            }
        }
        Expr::InList(list) if !list.negated => {
            let values: Option<BTreeSet<String>> = list
                .list
                .iter()
                .map(|v| literal(v).and_then(text))
                .collect();
            let Some(values) = values else { return };
            match column_name(&list.expr) {
                Some("awsregion") => narrow(&mut p.regions, values),
                Some("recipientaccountid") => narrow(&mut p.accounts, values),
                Some("eventname") => narrow(&mut p.event_names, values),
                Some("key:region") => narrow(&mut p.key_regions, values),
                Some("key:account") => narrow(&mut p.key_accounts, values),
                Some("key:timestamp") => {
                    let days: Option<Vec<NaiveDate>> = values
                        .iter()
                        .map(|v| key_day(&ScalarValue::Utf8(Some(v.clone()))))
                        .collect();
                    if let Some(days) = days {
                        if let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) {
                            key_after(p, *first);
                            key_before(p, *last);
                        }
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn reads_time_region_account_limits() {
        let f = vec![
            col("eventtime").gt_eq(lit("2023-10-15")),
            col("eventtime").lt(lit("2023-10-16T00:00:00Z")),
            col("awsregion").in_list(vec![lit("eu-west-1"), lit("us-east-1")], false),
            col("awsregion").eq(lit("eu-west-1")),
            lit("111122223333").eq(col("recipientaccountid")),
        ];
        let p = prune_from(&f);
        assert_eq!(p.from_ms, Some(1_697_328_000_000));
        assert_eq!(p.to_ms, Some(1_697_414_400_000));
        assert_eq!(p.regions, Some(["eu-west-1".to_string()].into()));
        assert_eq!(p.accounts, Some(["111122223333".to_string()].into()));
    }

    #[test]
    fn or_allows_what_either_side_allows() {
        let f = vec![col("eventsource")
            .eq(lit("guardduty.amazonaws.com"))
            .and(
                col("eventname").in_list(vec![lit("DeleteDetector"), lit("UpdateDetector")], false),
            )
            .and(col("eventtime").gt_eq(lit("2023-10-15")))
            .or(col("eventname")
                .eq(lit("DisableMacie"))
                .and(col("eventtime").gt_eq(lit("2023-10-14")))
                .and(col("awsregion").eq(lit("eu-west-1"))))];
        let p = prune_from(&f);
        assert_eq!(
            p.event_names,
            Some(
                ["DeleteDetector", "DisableMacie", "UpdateDetector"]
                    .map(String::from)
                    .into()
            )
        );
        assert_eq!(p.from_ms, Some(1_697_241_600_000));
        // One side says nothing of regions: neither does the whole.
        assert_eq!(p.regions, None);
        // Inside a conjunction the widened set still narrows.
        let g = vec![
            f[0].clone(),
            col("eventname").in_list(vec![lit("DisableMacie"), lit("StopLogging")], false),
        ];
        assert_eq!(
            prune_from(&g).event_names,
            Some(["DisableMacie".to_string()].into())
        );
    }

    #[test]
    fn or_and_unknown_do_not_prune() {
        let f = vec![col("eventtime")
            .gt(lit("2023-10-15"))
            .or(col("eventname").eq(lit("x")))];
        assert!(prune_from(&f).is_empty());
    }
}
