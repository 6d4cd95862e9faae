//! `min_by(x, y)` and `max_by(x, y)`, as in Athena (Trino): the value of
//! `x` on the row where `y` is least (greatest), rows whose `y` is NULL
//! left out (NULL when every `y` is). `y` may be a row of several values
//! (`named_struct('t', eventtime, 'id', event_id)`), compared field by
//! field, and `x` may be a row too: one `min_by` gives every column of a
//! group's first event, where `first_value(... ORDER BY ...)` once per
//! column compares the order once per column. Also known as `arg_min` and
//! `arg_max` (DuckDB). Of rows with equal `y`, the first read wins.
//!
//! The order of `y` is arrow's row format (bytes compared as they are, the
//! order SQL's ORDER BY gives), so a group keeps its best key as bytes and
//! its best `x` as a row of a small array of the winners.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef, BooleanArray, UInt32Array};
use datafusion::arrow::compute::{interleave, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{OwnedRow, RowConverter, Rows, SortField};
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

/// `min_by` and `max_by`.
pub fn udafs() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::from(By::new(true)),
        AggregateUDF::from(By::new(false)),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct By {
    least: bool,
    signature: Signature,
    aliases: Vec<String>,
}

impl By {
    fn new(least: bool) -> Self {
        let alias = if least { "arg_min" } else { "arg_max" };
        Self {
            least,
            signature: Signature::any(2, Volatility::Immutable),
            aliases: vec![alias.to_string()],
        }
    }

    /// Whether a key ordered `o` against the kept one replaces it.
    fn wins(&self, o: Ordering) -> bool {
        match self.least {
            true => o == Ordering::Less,
            false => o == Ordering::Greater,
        }
    }
}

impl AggregateUDFImpl for By {
    fn name(&self) -> &str {
        if self.least {
            "min_by"
        } else {
            "max_by"
        }
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [x, _] => Ok(x.clone()),
            _ => exec_err!("{}(x, y) takes two arguments", self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let [x, y] = args.input_fields else {
            return exec_err!("{}(x, y) takes two arguments", self.name());
        };
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[value]", args.name),
                x.data_type().clone(),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[key]", args.name),
                y.data_type().clone(),
                true,
            )),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let (x, y) = types(&args)?;
        Ok(Box::new(One {
            least: self.least,
            keys: Keys::new(&y)?,
            x,
            best: None,
        }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let (x, y) = types(&args)?;
        Ok(Box::new(Groups {
            by: By::new(self.least),
            keys: Keys::new(&y)?,
            null_x: new_null_array(&x, 1),
            best: Vec::new(),
            at: Vec::new(),
            chunks: Vec::new(),
            chunk_rows: 0,
            pick: Vec::new(),
        }))
    }
}

/// The types of `x` and `y`.
fn types(args: &AccumulatorArgs) -> Result<(DataType, DataType)> {
    match args.expr_fields {
        [x, y] => Ok((x.data_type().clone(), y.data_type().clone())),
        _ => exec_err!("{}(x, y) takes two arguments", args.name),
    }
}

/// Keys (`y`) as comparable bytes, and back.
#[derive(Debug)]
struct Keys {
    converter: RowConverter,
    y: DataType,
}

impl Keys {
    fn new(y: &DataType) -> Result<Self> {
        Ok(Self {
            converter: RowConverter::new(vec![SortField::new(y.clone())])?,
            y: y.clone(),
        })
    }

    fn rows(&self, y: &ArrayRef) -> Result<Rows> {
        Ok(self.converter.convert_columns(std::slice::from_ref(y))?)
    }

    /// The keys as a `y` array, NULL where there is none.
    fn array(&self, keys: &[Option<OwnedRow>]) -> Result<ArrayRef> {
        if keys.iter().all(Option::is_some) {
            let rows = keys.iter().flatten().map(|k| k.row());
            return Ok(self.converter.convert_rows(rows)?.remove(0));
        }
        // Those there are, then NULL spread between them.
        let present = self
            .converter
            .convert_rows(keys.iter().flatten().map(|k| k.row()))?
            .remove(0);
        let null = new_null_array(&self.y, 1);
        let mut next = 0;
        let picks: Vec<(usize, usize)> = keys
            .iter()
            .map(|k| match k {
                Some(_) => {
                    next += 1;
                    (0, next - 1)
                }
                None => (1, 0),
            })
            .collect();
        Ok(interleave(&[present.as_ref(), null.as_ref()], &picks)?)
    }
}

/// Whether row `i` counts: `y` not NULL and the filter (FILTER (WHERE
/// ...)) true.
fn counts(y: &ArrayRef, filter: Option<&BooleanArray>, i: usize) -> bool {
    y.is_valid(i) && filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}

/// Where a group's best `x` is: (chunk, row), or none yet.
const NONE: (u32, u32) = (u32::MAX, 0);

/// Per group: the best key, and where its `x` is kept: in `chunks`, small
/// arrays of the rows that became some group's best (one per batch that
/// changed any). Rows no longer any group's best are dropped when they
/// outnumber the groups.
struct Groups {
    by: By,
    keys: Keys,
    null_x: ArrayRef,
    best: Vec<Option<OwnedRow>>,
    at: Vec<(u32, u32)>,
    chunks: Vec<ArrayRef>,
    chunk_rows: usize,
    /// Per group, the row of the batch being read that is its best so far
    /// (u32::MAX: none); every entry is u32::MAX between batches.
    pick: Vec<u32>,
}

impl Groups {
    /// The kept `x` of the first `n` groups (NULL for a group without
    /// one).
    fn values(&self, n: usize) -> Result<ArrayRef> {
        let mut arrays: Vec<&dyn Array> = self.chunks.iter().map(|c| c.as_ref()).collect();
        let null = arrays.len();
        arrays.push(self.null_x.as_ref());
        let picks: Vec<(usize, usize)> = self.at[..n]
            .iter()
            .map(|&(c, r)| match (c, r) == NONE {
                true => (null, 0),
                false => (c as usize, r as usize),
            })
            .collect();
        Ok(interleave(&arrays, &picks)?)
    }

    /// Keep only the rows that are some group's best, in one chunk.
    fn compact(&mut self) -> Result<()> {
        let all = self.values(self.at.len())?;
        let kept: Vec<u32> = (0..self.at.len() as u32)
            .filter(|&g| self.at[g as usize] != NONE)
            .collect();
        let chunk = take(&all, &UInt32Array::from(kept.clone()), None)?;
        for (row, &g) in kept.iter().enumerate() {
            self.at[g as usize] = (0, row as u32);
        }
        self.chunk_rows = chunk.len();
        self.chunks = vec![chunk];
        Ok(())
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let [x, y] = values else {
            return exec_err!("{}(x, y) takes two arguments", self.by.name());
        };
        self.best.resize(total_num_groups, None);
        self.at.resize(total_num_groups, NONE);
        self.pick.resize(total_num_groups, u32::MAX);
        let rows = self.keys.rows(y)?;
        let mut touched = Vec::new();
        for (i, &g) in group_indices.iter().enumerate() {
            if !counts(y, opt_filter, i) {
                continue;
            }
            let key = rows.row(i);
            let wins = match self.pick[g] {
                u32::MAX => match &self.best[g] {
                    None => true,
                    Some(best) => self.by.wins(key.cmp(&best.row())),
                },
                p => self.by.wins(key.cmp(&rows.row(p as usize))),
            };
            if wins {
                if self.pick[g] == u32::MAX {
                    touched.push(g);
                }
                self.pick[g] = i as u32;
            }
        }
        if touched.is_empty() {
            return Ok(());
        }
        let picked = UInt32Array::from_iter_values(touched.iter().map(|&g| self.pick[g]));
        let chunk = take(x, &picked, None)?;
        let at = self.chunks.len() as u32;
        for (row, &g) in touched.iter().enumerate() {
            self.best[g] = Some(rows.row(self.pick[g] as usize).owned());
            self.at[g] = (at, row as u32);
            self.pick[g] = u32::MAX;
        }
        self.chunk_rows += chunk.len();
        self.chunks.push(chunk);
        if self.chunk_rows > 2 * self.at.len() + 4096 {
            self.compact()?;
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let n = match emit_to {
            EmitTo::All => self.at.len(),
            EmitTo::First(n) => n,
        };
        let values = self.values(n)?;
        emit_to.take_needed(&mut self.at);
        emit_to.take_needed(&mut self.best);
        emit_to.take_needed(&mut self.pick);
        if self.at.is_empty() {
            self.chunks.clear();
            self.chunk_rows = 0;
        }
        Ok(values)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let n = match emit_to {
            EmitTo::All => self.best.len(),
            EmitTo::First(n) => n,
        };
        let keys = self.keys.array(&self.best[..n])?;
        Ok(vec![self.evaluate(emit_to)?, keys])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        // A state is a value and its key: read as input is.
        self.update_batch(values, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let [x, y] = values else {
            return exec_err!("{}(x, y) takes two arguments", self.by.name());
        };
        let y = match opt_filter {
            None => y.clone(),
            // A row the filter leaves out has no key.
            Some(f) => {
                let kept = datafusion::arrow::compute::prep_null_mask_filter(f);
                let out = datafusion::arrow::compute::not(&kept)?;
                datafusion::arrow::compute::nullif(y, &out)?
            }
        };
        Ok(vec![x.clone(), y])
    }

    fn size(&self) -> usize {
        let keys: usize = self
            .best
            .iter()
            .flatten()
            .map(|k| k.as_ref().len() + 32)
            .sum();
        let chunks: usize = self.chunks.iter().map(|c| c.get_array_memory_size()).sum();
        keys + chunks + self.at.capacity() * 8 + self.pick.capacity() * 4 + self.best.capacity() * 8
    }
}

/// Without groups (a whole result, a window): the best key and its value.
#[derive(Debug)]
struct One {
    least: bool,
    keys: Keys,
    x: DataType,
    best: Option<(OwnedRow, ScalarValue)>,
}

impl Accumulator for One {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [x, y] = values else {
            return exec_err!("min_by/max_by(x, y) takes two arguments");
        };
        let rows = self.keys.rows(y)?;
        let by = By::new(self.least);
        let mut pick: Option<usize> = None;
        for i in (0..y.len()).filter(|&i| counts(y, None, i)) {
            let wins = match (pick, &self.best) {
                (Some(p), _) => by.wins(rows.row(i).cmp(&rows.row(p))),
                (None, Some((best, _))) => by.wins(rows.row(i).cmp(&best.row())),
                (None, None) => true,
            };
            if wins {
                pick = Some(i);
            }
        }
        if let Some(p) = pick {
            self.best = Some((rows.row(p).owned(), ScalarValue::try_from_array(x, p)?));
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match &self.best {
            Some((_, x)) => Ok(x.clone()),
            None => ScalarValue::try_from(&self.x),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .best
                .as_ref()
                .map_or(0, |(k, x)| k.as_ref().len() + x.size())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let key = match &self.best {
            Some((k, _)) => ScalarValue::try_from_array(&self.keys.array(&[Some(k.clone())])?, 0)?,
            None => ScalarValue::try_from(&self.keys.y)?,
        };
        Ok(vec![self.evaluate()?, key])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};

    fn groups(least: bool) -> Groups {
        Groups {
            by: By::new(least),
            keys: Keys::new(&DataType::Int64).unwrap(),
            null_x: new_null_array(&DataType::Utf8, 1),
            best: Vec::new(),
            at: Vec::new(),
            chunks: Vec::new(),
            chunk_rows: 0,
            pick: Vec::new(),
        }
    }

    fn texts(a: &ArrayRef) -> Vec<Option<String>> {
        let a = a.as_any().downcast_ref::<StringArray>().unwrap();
        a.iter().map(|v| v.map(str::to_string)).collect()
    }

    fn x(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn y(v: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(v.to_vec()))
    }

    #[test]
    fn keeps_each_groups_least_across_batches_and_filters() {
        let mut g = groups(true);
        g.update_batch(
            &[
                x(&[Some("a"), Some("b"), Some("c")]),
                y(&[Some(5), Some(7), None]),
            ],
            &[0, 1, 0],
            None,
            2,
        )
        .unwrap();
        // Group 2 appears; group 0 gets a smaller key, but the filter
        // leaves that row out; group 1 a smaller one it keeps.
        let filter = BooleanArray::from(vec![Some(false), Some(true), Some(true), None]);
        g.update_batch(
            &[
                x(&[Some("d"), Some("e"), Some("f"), Some("g")]),
                y(&[Some(1), Some(6), Some(9), Some(0)]),
            ],
            &[0, 1, 2, 2],
            Some(&filter),
            3,
        )
        .unwrap();
        let out = g.evaluate(EmitTo::All).unwrap();
        assert_eq!(
            texts(&out),
            vec![Some("a".into()), Some("e".into()), Some("f".into())]
        );
    }

    #[test]
    fn states_merge_to_the_same_answer_and_emit_in_parts() {
        // Two partial accumulators, merged into a third.
        let mut one = groups(false);
        one.update_batch(
            &[x(&[Some("a"), Some("b")]), y(&[Some(1), Some(2)])],
            &[0, 1],
            None,
            3,
        )
        .unwrap();
        let mut two = groups(false);
        two.update_batch(
            &[x(&[Some("c"), Some("d")]), y(&[Some(3), Some(1)])],
            &[0, 1],
            None,
            2,
        )
        .unwrap();
        let mut all = groups(false);
        for part in [&mut one, &mut two] {
            let n = part.best.len();
            let state = part.state(EmitTo::All).unwrap();
            // A group with no key yet has a NULL key in its state.
            assert_eq!(state[1].null_count(), usize::from(n == 3), "{state:?}");
            let indices: Vec<usize> = (0..n).collect();
            all.merge_batch(&state, &indices, 3).unwrap();
        }
        // Group 0: 1 (a) against 3 (c); group 1: 2 (b) against 1 (d);
        // group 2: nothing.
        assert_eq!(
            texts(&all.evaluate(EmitTo::First(1)).unwrap()),
            vec![Some("c".into())]
        );
        assert_eq!(
            texts(&all.evaluate(EmitTo::All).unwrap()),
            vec![Some("b".into()), None]
        );
    }

    #[test]
    fn drops_rows_no_group_keeps_once_they_outnumber_the_groups() {
        let mut g = groups(true);
        // Every batch gives group 0 a new least: superseded rows pile up
        // until compaction.
        for i in 0..5000i64 {
            let name = format!("v{i}");
            g.update_batch(&[x(&[Some(name.as_str())]), y(&[Some(-i)])], &[0], None, 1)
                .unwrap();
        }
        assert!(g.chunk_rows < 4100, "{}", g.chunk_rows);
        assert_eq!(
            texts(&g.evaluate(EmitTo::All).unwrap()),
            vec![Some("v4999".into())]
        );
    }

    #[test]
    fn converted_input_is_a_state() {
        let g = groups(true);
        let filter = BooleanArray::from(vec![Some(true), Some(false), None]);
        let state = g
            .convert_to_state(
                &[
                    x(&[Some("a"), Some("b"), Some("c")]),
                    y(&[Some(1), Some(2), Some(3)]),
                ],
                Some(&filter),
            )
            .unwrap();
        // Rows the filter leaves out have no key.
        assert_eq!(state[1].null_count(), 2);
        assert!(state[1].is_valid(0));
    }
}
