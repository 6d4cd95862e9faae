//! Sigma rules over the archive (`trailsql hunt --sigma PATH`): rules are
//! read from files or folders ([`load`]), their detections compiled to SQL
//! conditions ([`compile`]), and all of them run as one query over
//! `cloudtrail` ([`hunt_sql`]): one scan, each event tested against every
//! rule, one finding per (rule, event), on a timeline. Correlation rules
//! ([`correlate`]) run over the events a second query of the same pass
//! fetches for them ([`plan`]).
//!
//! Of trailsql it imports `record` (the field names), `window` and `error`.

pub mod compile;
pub mod correlate;
pub mod plan;
pub mod rule;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::record::schema::sql_literal as lit;
use crate::window::Window;
pub use correlate::Correlation;
pub use plan::{Node, Plan};
pub use rule::{Level, Rule};

/// What reading the rule paths gave.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Rules for CloudTrail that compiled, with their SQL condition.
    pub rules: Vec<(Rule, String)>,
    /// Correlation rules whose rules were all found, with them.
    pub correlations: Vec<(Correlation, Vec<Node>)>,
    /// Files read (`.yml`, `.yaml`).
    pub files: usize,
    /// Rules for other log sources, skipped.
    pub other_source: usize,
    /// Rules that cannot run: the file and why.
    pub refused: Vec<(String, String)>,
}

/// Read every rule under `paths` (a file, or a folder searched
/// recursively for `.yml` and `.yaml` files, in name order).
pub fn load(paths: &[PathBuf]) -> Result<Loaded> {
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(Error::Usage(format!(
                "{}: no such file or folder of Sigma rules",
                p.display()
            )));
        }
        collect(p, &mut files)?;
    }
    let mut loaded = Loaded {
        files: files.len(),
        ..Loaded::default()
    };
    let mut correlations = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                loaded
                    .refused
                    .push((file.display().to_string(), format!("cannot read: {e}")));
                continue;
            }
        };
        for read in rule::read_all(&text, &file) {
            match read {
                rule::Read::OtherSource => loaded.other_source += 1,
                rule::Read::Refused(why) => loaded.refused.push((file.display().to_string(), why)),
                rule::Read::Rule(r) => match compile::compile(&r.detection) {
                    Ok(sql) => loaded.rules.push((*r, sql)),
                    Err(why) => loaded.refused.push((r.head.origin.clone(), why)),
                },
                rule::Read::Correlation(c) => correlations.push(*c),
            }
        }
    }
    plan::resolve(&mut loaded, correlations);
    Ok(loaded)
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if p.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| Error::io(p, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let is_rule = e.extension().is_some_and(|x| x == "yml" || x == "yaml");
        if e.is_dir() {
            collect(&e, out)?;
        } else if is_rule {
            out.push(e);
        }
    }
    Ok(())
}

/// The columns of a finding that come from its event (then `rule_id`,
/// `rule_title`, `level`, `tags`, `event_id`), over `cloudtrail_events`:
/// its standard columns (the session defines them once) and the first
/// resource as the target.
pub const EVENT_COLUMNS: &str = "eventtime, account, region, actor, source_ip, event_source, \
    event_name, get_field(array_element(resources, 1), 'arn') AS target, error_code";

/// The one query of a hunt: every event in `window` that some rule
/// matches, once per rule it matches, with the timeline's columns. Each
/// rule's condition is evaluated once per event: the numbers of the rules
/// an event matches are gathered into one text (`0,5`), which is unnested
/// (an event no rule matches gives no row) and joined to the rules.
pub fn hunt_sql(rules: &[(Rule, String)], window: &Window) -> String {
    let values: Vec<String> = rules
        .iter()
        .enumerate()
        .map(|(i, (r, _))| {
            format!(
                "({i}, {}, {}, {}, {})",
                lit(&r.head.id),
                lit(&r.head.title),
                lit(r.head.level.as_str()),
                lit(&r.head.tags.join(", "))
            )
        })
        .collect();
    let cases: Vec<String> = rules
        .iter()
        .enumerate()
        .map(|(i, (_, sql))| format!("CASE WHEN {sql} THEN '{i}' END"))
        .collect();
    format!(
        "WITH rules (n, rule_id, rule_title, level, tags) AS (VALUES {values}), \
         matched AS (SELECT *, concat_ws(',', {cases}) AS trailsql_hit \
           FROM cloudtrail_events WHERE {limits}true), \
         hits AS (SELECT {EVENT_COLUMNS}, eventid AS event_id, \
           unnest(CASE WHEN trailsql_hit <> '' THEN string_to_array(trailsql_hit, ',') END) AS n \
           FROM matched) \
         SELECT h.eventtime, h.account, h.region, h.actor, h.source_ip, h.event_source, \
           h.event_name, h.target, h.error_code, r.rule_id, r.rule_title, r.level, r.tags, h.event_id \
         FROM hits h JOIN rules r ON CAST(h.n AS BIGINT) = r.n",
        values = values.join(", "),
        cases = cases.join(", "),
        limits = window.sql_limits(),
    )
}
