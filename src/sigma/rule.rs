//! A Sigma rule as read from its YAML file: what `hunt` shows of it (id,
//! title, level, tags), whether it is for CloudTrail (`logsource`), and its
//! `detection` (named searches and the condition over them), kept as YAML
//! values for the compiler.
//!
//! YAML is read with `yaml_serde`, the serde_yaml fork the YAML organization
//! maintains (serde_yaml itself is archived; serde_yml drew security
//! advisories; yaml_serde keeps serde_yaml's API and is small).

use std::path::Path;

use serde::Deserialize;

/// A rule's level, in Sigma's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawRule {
    id: Option<String>,
    name: Option<String>,
    title: Option<String>,
    level: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    logsource: Logsource,
    detection: Option<yaml_serde::Mapping>,
    correlation: Option<RawCorrelation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorrelation {
    #[serde(rename = "type")]
    kind: String,
    rules: Vec<String>,
    #[serde(rename = "group-by", default)]
    group_by: Vec<String>,
    timespan: Option<String>,
    condition: Option<yaml_serde::Mapping>,
    #[serde(default)]
    generate: bool,
    #[serde(default)]
    aliases: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
struct Logsource {
    product: Option<String>,
    service: Option<String>,
}

/// What a rule or a correlation says of itself: what `hunt` shows of it
/// and how others name it.
#[derive(Debug, Clone)]
pub struct Head {
    pub id: String,
    /// The `name` correlation rules may refer to it by.
    pub name: Option<String>,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
    /// The file it came from.
    pub origin: String,
}

/// One rule, read.
#[derive(Debug, Clone)]
pub struct Rule {
    pub head: Head,
    /// The named searches, and `condition`.
    pub detection: yaml_serde::Mapping,
}

/// What reading one YAML document gave.
#[derive(Debug)]
pub enum Read {
    Rule(Box<Rule>),
    Correlation(Box<super::correlate::Correlation>),
    /// A rule for another log source (not `product: aws`, `service:
    /// cloudtrail`): skipped and counted, not an error.
    OtherSource,
    /// A rule trailsql cannot run, and why.
    Refused(String),
}

/// Read every rule in `text` (from `origin`): one per YAML document, as
/// a correlation rule and the rules it names may share a file (`---`).
pub fn read_all(text: &str, origin: &Path) -> Vec<Read> {
    let mut out = Vec::new();
    for doc in yaml_serde::Deserializer::from_str(text) {
        match yaml_serde::Value::deserialize(doc) {
            // A file's trailing `---`, or an empty document.
            Ok(yaml_serde::Value::Null) => {}
            Ok(value) => out.push(read(value, origin)),
            Err(e) => {
                out.push(Read::Refused(format!("not a Sigma rule (YAML): {e}")));
                // The reader cannot go on past broken YAML.
                break;
            }
        }
    }
    if out.is_empty() {
        out.push(Read::Refused("an empty file".into()));
    }
    out
}

/// Read one rule document.
fn read(value: yaml_serde::Value, origin: &Path) -> Read {
    let raw: RawRule = match yaml_serde::from_value(value) {
        Ok(r) => r,
        Err(e) => return Read::Refused(format!("not a Sigma rule (YAML): {e}")),
    };
    let is =
        |v: &Option<String>, want: &str| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(want));
    let for_cloudtrail =
        is(&raw.logsource.product, "aws") && is(&raw.logsource.service, "cloudtrail");
    if raw.correlation.is_none() && !for_cloudtrail {
        return Read::OtherSource;
    }
    let level = match raw.level.as_deref() {
        None => Level::Medium,
        Some(l) => match Level::parse(l) {
            Some(l) => l,
            None => return Read::Refused(format!("level {l:?} is not one of Sigma's")),
        },
    };
    let origin = origin.display().to_string();
    let head = Head {
        id: raw.id.unwrap_or_else(|| origin.clone()),
        name: raw.name,
        title: raw.title.unwrap_or_default(),
        level,
        tags: raw.tags,
        origin,
    };
    if let Some(c) = raw.correlation {
        return match super::correlate::Correlation::new(
            head,
            &c.kind,
            c.rules,
            c.group_by,
            c.timespan.as_deref(),
            c.condition.as_ref(),
            c.generate,
            c.aliases,
        ) {
            Ok(c) => Read::Correlation(Box::new(c)),
            Err(why) => Read::Refused(why),
        };
    }
    let Some(detection) = raw.detection else {
        return Read::Refused("no detection".into());
    };
    Read::Rule(Box::new(Rule { head, detection }))
}
