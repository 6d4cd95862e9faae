//! How a hunt's Sigma rules and correlations fit together: which rule a
//! correlation names ([`resolve`]), which rules fire on their own and
//! which only feed correlations ([`Plan`]), the one query that fetches the
//! events correlations need ([`Loaded::inputs_sql`]) and the correlations
//! run over its rows ([`Loaded::correlate`]).
//!
//! A rule a correlation names does not fire on its own unless that
//! correlation says `generate: true` (the specification's default); a
//! correlation another one names likewise. `--min-level` picks what fires;
//! what feeds it is run whatever its own level.
//!
//! Of trailsql it imports `window`.

use std::collections::{BTreeSet, HashMap};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, TimestampMillisecondType};

use super::correlate::{Correlation, Hit};
use super::{compile, lit, Level, Loaded, EVENT_COLUMNS};
use crate::window::Window;

/// A rule a correlation names: a rule (by index in `Loaded::rules`) or
/// another correlation (by index in `Loaded::correlations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Rule(usize),
    Correlation(usize),
}

/// Find the rules each correlation names (by id, else by name); a
/// correlation naming one that is not there (not read, refused, for
/// another log source, or itself refused), naming itself through others,
/// or grouping by a field trailsql cannot map, is refused with the reason.
pub(super) fn resolve(loaded: &mut Loaded, mut candidates: Vec<Correlation>) {
    loop {
        let mut index: HashMap<&str, Node> = HashMap::new();
        for (i, (r, _)) in loaded.rules.iter().enumerate() {
            if let Some(n) = &r.head.name {
                index.entry(n).or_insert(Node::Rule(i));
            }
        }
        for (i, c) in candidates.iter().enumerate() {
            if let Some(n) = &c.head.name {
                index.entry(n).or_insert(Node::Correlation(i));
            }
        }
        // Ids win over names.
        for (i, (r, _)) in loaded.rules.iter().enumerate() {
            index.insert(&r.head.id, Node::Rule(i));
        }
        for (i, c) in candidates.iter().enumerate() {
            index.insert(&c.head.id, Node::Correlation(i));
        }
        let mut refused = None;
        let mut resolved = Vec::new();
        for (i, c) in candidates.iter().enumerate() {
            let nodes: Result<Vec<Node>, String> = c
                .rules
                .iter()
                .map(|r| {
                    index.get(r.as_str()).copied().ok_or_else(|| {
                        format!("names the rule {r:?}, which is not among the CloudTrail rules that can run")
                    })
                })
                .collect();
            match nodes.and_then(|n| fields_map(c).map(|_| n)) {
                Ok(n) => resolved.push(n),
                Err(why) => {
                    refused = Some((i, why));
                    break;
                }
            }
        }
        if refused.is_none() {
            refused =
                cycle(&resolved).map(|i| (i, "names itself through the rules it names".into()));
        }
        match refused {
            Some((i, why)) => {
                let c = candidates.remove(i);
                loaded
                    .refused
                    .push((c.head.origin, format!("correlation {}: {why}", c.head.id)));
            }
            None => {
                loaded.correlations = candidates.into_iter().zip(resolved).collect();
                return;
            }
        }
    }
}

/// Every field a correlation reads can be mapped.
fn fields_map(c: &Correlation) -> Result<(), String> {
    let mut names: Vec<&str> = c.group_by.iter().map(String::as_str).collect();
    names.extend(
        c.aliases
            .values()
            .flat_map(|m| m.values().map(String::as_str)),
    );
    names.extend(c.field.as_deref());
    for n in names {
        if c.aliases.contains_key(n) {
            continue;
        }
        compile::field_text(n)?;
    }
    Ok(())
}

/// A correlation that reaches itself through the ones it names.
fn cycle(resolved: &[Vec<Node>]) -> Option<usize> {
    fn reaches(
        from: usize,
        target: usize,
        resolved: &[Vec<Node>],
        seen: &mut BTreeSet<usize>,
    ) -> bool {
        resolved[from].iter().any(|n| match n {
            Node::Correlation(j) if *j == target => true,
            Node::Correlation(j) => seen.insert(*j) && reaches(*j, target, resolved, seen),
            Node::Rule(_) => false,
        })
    }
    (0..resolved.len()).find(|&i| reaches(i, i, resolved, &mut BTreeSet::new()))
}

/// What a hunt runs of the rules read.
#[derive(Debug, Default)]
pub struct Plan {
    /// Rules that fire on their own, at `--min-level` or above.
    pub alone: Vec<usize>,
    /// Correlations that fire, at `--min-level` or above.
    pub fire: Vec<usize>,
    /// Correlations to run, each after the ones it names.
    pub order: Vec<usize>,
    /// The rules whose events correlations need, in column order.
    pub inputs: Vec<usize>,
    /// The fields correlations group or count by, in column order.
    pub fields: Vec<String>,
    /// Rules and correlations left out by `--min-level`.
    pub below: usize,
}

impl Loaded {
    /// What runs at `min`.
    pub fn plan(&self, min: Level) -> Plan {
        let mut named = HashMap::new();
        for (c, nodes) in &self.correlations {
            for n in nodes {
                let generate = named.entry(*n).or_insert(false);
                *generate |= c.generate;
            }
        }
        let fires = |n: Node| named.get(&n).copied().unwrap_or(true);
        let mut plan = Plan::default();
        for (i, (r, _)) in self.rules.iter().enumerate() {
            if fires(Node::Rule(i)) {
                match r.head.level >= min {
                    true => plan.alone.push(i),
                    false => plan.below += 1,
                }
            }
        }
        for (i, (c, _)) in self.correlations.iter().enumerate() {
            if fires(Node::Correlation(i)) {
                match c.head.level >= min {
                    true => plan.fire.push(i),
                    false => plan.below += 1,
                }
            }
        }
        // What the firing correlations need, deepest first.
        let mut inputs = BTreeSet::new();
        for &i in &plan.fire {
            self.visit(i, &mut plan.order, &mut inputs);
        }
        plan.inputs = inputs.into_iter().collect();
        let mut fields = BTreeSet::new();
        for &i in &plan.order {
            let (c, nodes) = &self.correlations[i];
            for g in &c.group_by {
                for (k, _) in nodes.iter().enumerate() {
                    fields.insert(c.group_field(g, Some(&self.ref_name(c, k))).to_string());
                }
            }
            fields.extend(c.field.clone());
        }
        plan.fields = fields.into_iter().collect();
        plan
    }

    fn visit(&self, i: usize, order: &mut Vec<usize>, inputs: &mut BTreeSet<usize>) {
        if order.contains(&i) {
            return;
        }
        for n in &self.correlations[i].1 {
            match n {
                Node::Rule(r) => {
                    inputs.insert(*r);
                }
                Node::Correlation(j) => self.visit(*j, order, inputs),
            }
        }
        order.push(i);
    }

    /// The name the `k`th rule of `c` goes by in its aliases: the rule's
    /// `name`, else how `c` names it.
    fn ref_name(&self, c: &Correlation, k: usize) -> String {
        let by_node = self
            .correlations
            .iter()
            .find(|(x, _)| x.head.id == c.head.id)
            .and_then(|(_, nodes)| nodes.get(k))
            .and_then(|n| match n {
                Node::Rule(r) => self.rules[*r].0.head.name.clone(),
                Node::Correlation(j) => self.correlations[*j].0.head.name.clone(),
            });
        by_node.unwrap_or_else(|| c.rules[k].clone())
    }

    /// The query that fetches, in `window`, every event a rule of
    /// `plan.inputs` matches: the timeline's columns, `event_id`, each of
    /// `plan.fields` as text (`f0`, `f1`, ...) and whether each input rule
    /// matched (`m0`, `m1`, ...). None when no correlation runs.
    pub fn inputs_sql(&self, plan: &Plan, window: &Window) -> Option<String> {
        if plan.inputs.is_empty() {
            return None;
        }
        let mut columns = vec![EVENT_COLUMNS.to_string(), "eventid AS event_id".into()];
        for (i, f) in plan.fields.iter().enumerate() {
            let expr = compile::field_text(f).expect("checked by resolve");
            columns.push(format!("CAST({expr} AS VARCHAR) AS f{i}"));
        }
        let conditions: Vec<String> = plan
            .inputs
            .iter()
            .map(|&r| format!("coalesce({}, false)", self.rules[r].1))
            .collect();
        for (i, c) in conditions.iter().enumerate() {
            columns.push(format!("{c} AS m{i}"));
        }
        Some(format!(
            "SELECT {} FROM cloudtrail_events WHERE {}({})",
            columns.join(", "),
            window.sql_limits(),
            conditions.join(" OR ")
        ))
    }

    /// Run the correlations over `rows` (what [`Loaded::inputs_sql`]
    /// fetched, as one batch): for each correlation that fired, the rows
    /// of its windows.
    pub fn correlate(&self, plan: &Plan, rows: &RecordBatch) -> Vec<(usize, BTreeSet<usize>)> {
        let schema = rows.schema();
        let text = |name: &str| -> Vec<Option<String>> {
            let Ok(at) = schema.index_of(name) else {
                return vec![None; rows.num_rows()];
            };
            let column = datafusion::arrow::compute::cast(rows.column(at), &DataType::Utf8)
                .expect("text casts to Utf8");
            column
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let fields: HashMap<&str, Vec<Option<String>>> = plan
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), text(&format!("f{i}"))))
            .collect();
        let time = datafusion::arrow::compute::cast(
            rows.column(0),
            &DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Millisecond, None),
        )
        .expect("eventtime is a time");
        let time = time.as_primitive::<TimestampMillisecondType>();
        let mut hits: HashMap<Node, Vec<Hit>> = HashMap::new();
        for (k, &r) in plan.inputs.iter().enumerate() {
            let Ok(at) = schema.index_of(&format!("m{k}")) else {
                continue;
            };
            let matched = rows.column(at).as_boolean();
            let list = (0..rows.num_rows())
                .filter(|&row| matched.is_valid(row) && matched.value(row) && time.is_valid(row))
                .map(|row| Hit {
                    time_ms: time.value(row),
                    row,
                })
                .collect();
            hits.insert(Node::Rule(r), list);
        }
        let mut out = Vec::new();
        for &i in &plan.order {
            let (c, nodes) = &self.correlations[i];
            let inputs: Vec<Vec<Hit>> = nodes
                .iter()
                .map(|n| hits.get(n).cloned().unwrap_or_default())
                .collect();
            let names: Vec<String> = (0..nodes.len()).map(|k| self.ref_name(c, k)).collect();
            let key = |k: usize, row: usize| -> Vec<Option<String>> {
                c.group_by
                    .iter()
                    .map(|g| {
                        let f = c.group_field(g, Some(&names[k]));
                        fields.get(f).and_then(|v| v[row].clone())
                    })
                    .collect()
            };
            let value = |row: usize| {
                c.field
                    .as_deref()
                    .and_then(|f| fields.get(f))
                    .and_then(|v| v[row].clone())
            };
            let fired = c.evaluate(&inputs, &key, &value);
            hits.insert(Node::Correlation(i), fired.hits);
            if plan.fire.contains(&i) && !fired.rows.is_empty() {
                out.push((i, fired.rows));
            }
        }
        out
    }
}

/// The correlation's `rule_id`, `rule_title`, `level` and `tags`, as SQL
/// literals.
pub fn head_sql(c: &Correlation) -> [String; 4] {
    [
        lit(&c.head.id),
        lit(&c.head.title),
        lit(c.head.level.as_str()),
        lit(&c.head.tags.join(", ")),
    ]
}
