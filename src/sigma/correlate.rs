//! Sigma correlation rules: `event_count`, `value_count`, `temporal` and
//! `temporal_ordered` over the events other rules (or correlations) match,
//! grouped by `group-by`, within `timespan`, against `condition`.
//!
//! Windows slide: for each event of a group, the window is the events of
//! that group at most `timespan` before it (both ends inclusive), so a
//! burst is found wherever it starts, not only inside fixed clock
//! buckets. A window that meets the condition *fires*: its events go on
//! the timeline under the correlation, and the event that closed it is
//! what a correlation built on this one sees as its event.
//!
//! Of trailsql it imports nothing; `sigma` feeds it the events.

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use super::rule::Head;
#[cfg(test)]
use super::rule::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// One correlation rule, read.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub head: Head,
    pub kind: Kind,
    /// The rules it correlates, by id or name, in order.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub span_ms: i64,
    /// `gt`, `gte`, `lt`, `lte`, `eq` and their numbers, all to hold.
    pub condition: Vec<(String, f64)>,
    /// `value_count`'s field.
    pub field: Option<String>,
    /// Whether the rules it names also fire on their own.
    pub generate: bool,
    /// `aliases`: a group-by name -> (rule name -> that rule's field).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
}

/// An event a rule matched, or the event that closed a correlation's
/// window: its time and its row among the events fetched for correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hit {
    pub time_ms: i64,
    pub row: usize,
}

/// What a correlation found: the events that closed a window that fired
/// (its hits, for correlations built on it) and every event of those
/// windows (for the timeline).
#[derive(Debug, Default)]
pub struct Fired {
    pub hits: Vec<Hit>,
    pub rows: BTreeSet<usize>,
}

/// `timespan` (`30s`, `5m`, `1h`, `2d`) in milliseconds.
pub fn timespan_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("timespan {s:?} is not a number and s, m, h or d"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("timespan {s:?}: the unit is s, m, h or d")),
    };
    n.checked_mul(unit_ms)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("timespan {s:?} is out of range"))
}

impl Correlation {
    /// A correlation from its YAML parts, checked as the specification
    /// says: a known type, rules, a timespan, and a condition (with
    /// `field` for `value_count`) where the type needs one.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        head: Head,
        kind: &str,
        rules: Vec<String>,
        group_by: Vec<String>,
        timespan: Option<&str>,
        condition: Option<&yaml_serde::Mapping>,
        generate: bool,
        aliases: BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Correlation, String> {
        let kind = match kind {
            "event_count" => Kind::EventCount,
            "value_count" => Kind::ValueCount,
            "temporal" => Kind::Temporal,
            "temporal_ordered" => Kind::TemporalOrdered,
            other => return Err(format!("correlation type {other:?} is not one of Sigma's")),
        };
        if rules.is_empty() {
            return Err("a correlation without rules".into());
        }
        let span_ms = timespan_ms(timespan.ok_or("a correlation without timespan")?)?;
        let mut ops = Vec::new();
        let mut field = None;
        for (k, v) in condition.into_iter().flatten() {
            let key = k.as_str().ok_or("a condition key that is not text")?;
            match key {
                "field" if kind == Kind::ValueCount => {
                    field = Some(v.as_str().ok_or("condition field is not text")?.to_string())
                }
                "gt" | "gte" | "lt" | "lte" | "eq" => {
                    let n = v
                        .as_f64()
                        .ok_or_else(|| format!("condition {key}: not a number"))?;
                    ops.push((key.to_string(), n));
                }
                other => return Err(format!("condition {other:?} is not one of Sigma's")),
            }
        }
        match kind {
            Kind::EventCount | Kind::ValueCount if ops.is_empty() => {
                return Err("a count correlation without a condition (gt, gte, ...)".into())
            }
            Kind::ValueCount if field.is_none() => {
                return Err("value_count without condition: field".into())
            }
            _ => {}
        }
        Ok(Correlation {
            head,
            kind,
            rules,
            group_by,
            span_ms,
            condition: ops,
            field,
            generate,
            aliases,
        })
    }

    /// Whether `n` meets the condition.
    fn holds(&self, n: usize) -> bool {
        let n = n as f64;
        self.condition.iter().all(|(op, v)| match op.as_str() {
            "gt" => n > *v,
            "gte" => n >= *v,
            "lt" => n < *v,
            "lte" => n <= *v,
            _ => n == *v,
        })
    }

    /// The field a hit of the `i`th rule (whose name is `name`) is grouped
    /// by for the group-by entry `g`: its alias for that rule, else `g`.
    pub fn group_field<'a>(&'a self, g: &'a str, name: Option<&str>) -> &'a str {
        self.aliases
            .get(g)
            .and_then(|per_rule| name.and_then(|n| per_rule.get(n)))
            .map(String::as_str)
            .unwrap_or(g)
    }

    /// Run over `inputs` (the hits of each of `rules`, in order). `key`
    /// gives the group of a hit of rule `i`; `value` the `value_count`
    /// field of a row.
    pub fn evaluate(
        &self,
        inputs: &[Vec<Hit>],
        key: &dyn Fn(usize, usize) -> Vec<Option<String>>,
        value: &dyn Fn(usize) -> Option<String>,
    ) -> Fired {
        let mut groups: BTreeMap<Vec<Option<String>>, Vec<(Hit, usize)>> = BTreeMap::new();
        for (i, hits) in inputs.iter().enumerate() {
            for h in hits {
                groups.entry(key(i, h.row)).or_default().push((*h, i));
            }
        }
        let mut fired = Fired::default();
        for (_, mut events) in groups {
            events.sort();
            if matches!(self.kind, Kind::EventCount | Kind::ValueCount) {
                // An event two of the rules match counts once.
                events.dedup_by_key(|(h, _)| *h);
            }
            self.slide(&events, value, &mut fired);
        }
        fired.hits.sort();
        fired.hits.dedup();
        fired
    }

    /// The sliding windows over one group's events, in time order.
    fn slide(
        &self,
        events: &[(Hit, usize)],
        value: &dyn Fn(usize) -> Option<String>,
        fired: &mut Fired,
    ) {
        let mut left = 0;
        let mut values: HashMap<String, usize> = HashMap::new();
        let mut per_rule = vec![0usize; self.rules.len()];
        for (i, (hit, rule)) in events.iter().enumerate() {
            let add =
                |values: &mut HashMap<String, usize>, per_rule: &mut Vec<usize>, at: usize| {
                    let (h, r) = events[at];
                    per_rule[r] += 1;
                    if let Some(v) = value(h.row) {
                        *values.entry(v).or_default() += 1;
                    }
                };
            add(&mut values, &mut per_rule, i);
            while hit.time_ms - events[left].0.time_ms > self.span_ms {
                let (h, r) = events[left];
                per_rule[r] -= 1;
                if let Some(v) = value(h.row) {
                    if let Some(n) = values.get_mut(&v) {
                        *n -= 1;
                        if *n == 0 {
                            values.remove(&v);
                        }
                    }
                }
                left += 1;
            }
            let window = &events[left..=i];
            let rows: Option<Vec<usize>> = match self.kind {
                Kind::EventCount => self
                    .holds(window.len())
                    .then(|| window.iter().map(|(h, _)| h.row).collect()),
                Kind::ValueCount => self
                    .holds(values.len())
                    .then(|| window.iter().map(|(h, _)| h.row).collect()),
                Kind::Temporal => {
                    let seen = per_rule.iter().filter(|n| **n > 0).count();
                    let met = match self.condition.is_empty() {
                        true => seen == self.rules.len(),
                        false => self.holds(seen),
                    };
                    met.then(|| window.iter().map(|(h, _)| h.row).collect())
                }
                Kind::TemporalOrdered => {
                    // Only a window its last rule's event closes can hold
                    // the whole sequence ending there.
                    (*rule == self.rules.len() - 1)
                        .then(|| in_order(window, self.rules.len()))
                        .flatten()
                }
            };
            if let Some(rows) = rows {
                fired.hits.push(*hit);
                fired.rows.extend(rows);
            }
        }
    }
}

/// The rows of rules 0, 1, ... `n - 1` in that order in `window` (its last
/// event being rule `n - 1`'s), taking each rule's earliest event after
/// the one before; None when the order is not there.
fn in_order(window: &[(Hit, usize)], n: usize) -> Option<Vec<usize>> {
    let (last, body) = window.split_last()?;
    let mut rows = Vec::new();
    let mut want = 0;
    for (h, r) in body {
        if want < n - 1 && *r == want {
            rows.push(h.row);
            want += 1;
        }
    }
    (want == n - 1).then(|| {
        rows.push(last.0.row);
        rows
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr(kind: &str, condition: &str, rules: usize) -> Correlation {
        let condition: Option<yaml_serde::Mapping> = match condition {
            "" => None,
            c => Some(yaml_serde::from_str(c).unwrap()),
        };
        Correlation::new(
            Head {
                id: "c".into(),
                name: None,
                title: "t".into(),
                level: Level::High,
                tags: vec![],
                origin: "test".into(),
            },
            kind,
            (0..rules).map(|i| format!("r{i}")).collect(),
            vec!["user".into()],
            Some("10m"),
            condition.as_ref(),
            false,
            BTreeMap::new(),
        )
        .unwrap()
    }

    const MIN: i64 = 60_000;

    fn hits(times: &[(i64, usize)]) -> Vec<Hit> {
        times
            .iter()
            .map(|(m, row)| Hit {
                time_ms: m * MIN,
                row: *row,
            })
            .collect()
    }

    #[test]
    fn event_count_slides_and_the_timespan_is_inclusive() {
        let c = corr("event_count", "gte: 3", 1);
        let one_group = |_: usize, _: usize| vec![Some("bob".to_string())];
        let none = |_: usize| None;
        // 0, 5, 10 fit in 10 minutes (inclusive); 0, 5, 11 would not.
        let fired = c.evaluate(&[hits(&[(0, 0), (5, 1), (10, 2)])], &one_group, &none);
        assert_eq!(fired.rows, [0, 1, 2].into());
        let fired = c.evaluate(&[hits(&[(0, 0), (5, 1), (11, 2)])], &one_group, &none);
        assert!(fired.rows.is_empty());
        // Groups are counted apart.
        let by_row = |_: usize, row: usize| vec![Some((row % 2).to_string())];
        let fired = c.evaluate(&[hits(&[(0, 0), (1, 1), (2, 2), (3, 3)])], &by_row, &none);
        assert!(fired.rows.is_empty());
    }

    #[test]
    fn value_count_counts_distinct_values() {
        let c = corr("value_count", "{field: ip, gte: 2}", 1);
        let group = |_: usize, _: usize| vec![None];
        let ip = |row: usize| Some(["a", "a", "b"][row].to_string());
        let fired = c.evaluate(&[hits(&[(0, 0), (1, 1)])], &group, &ip);
        assert!(fired.rows.is_empty());
        let fired = c.evaluate(&[hits(&[(0, 0), (1, 1), (2, 2)])], &group, &ip);
        assert_eq!(fired.hits.len(), 1);
        assert_eq!(fired.hits[0].row, 2);
    }

    #[test]
    fn temporal_needs_every_rule_and_ordered_their_order() {
        let group = |_: usize, _: usize| vec![None];
        let none = |_: usize| None;
        let any_order = corr("temporal", "", 2);
        let ordered = corr("temporal_ordered", "", 2);
        // Rule 1 at minute 0, rule 0 at minute 3.
        let inputs = [hits(&[(3, 1)]), hits(&[(0, 0)])];
        assert_eq!(
            any_order.evaluate(&inputs, &group, &none).rows,
            [0, 1].into()
        );
        assert!(ordered.evaluate(&inputs, &group, &none).rows.is_empty());
        // Rule 0 then rule 1.
        let inputs = [hits(&[(0, 0)]), hits(&[(3, 1)])];
        assert_eq!(ordered.evaluate(&inputs, &group, &none).rows, [0, 1].into());
        // Too far apart.
        let inputs = [hits(&[(0, 0)]), hits(&[(30, 1)])];
        assert!(any_order.evaluate(&inputs, &group, &none).rows.is_empty());
    }

    #[test]
    fn what_cannot_run_is_refused() {
        assert_eq!(timespan_ms("90m"), Ok(90 * MIN));
        assert!(timespan_ms("1w").is_err());
        let head = || Head {
            id: "c".into(),
            name: None,
            title: "t".into(),
            level: Level::High,
            tags: vec![],
            origin: "test".into(),
        };
        let new = |kind: &str, condition: Option<&str>| {
            let c: Option<yaml_serde::Mapping> =
                condition.map(|c| yaml_serde::from_str(c).unwrap());
            Correlation::new(
                head(),
                kind,
                vec!["r".into()],
                vec![],
                Some("1h"),
                c.as_ref(),
                false,
                BTreeMap::new(),
            )
        };
        assert!(new("event_count", None).is_err());
        assert!(new("value_count", Some("gte: 2")).is_err());
        assert!(new("sequence", Some("gte: 2")).is_err());
        assert!(new("event_count", Some("above: 2")).is_err());
        assert!(new("event_count", Some("gte: 2")).is_ok());
    }
}
