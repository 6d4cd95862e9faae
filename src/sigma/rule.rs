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
    title: Option<String>,
    level: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    logsource: Logsource,
    detection: Option<yaml_serde::Mapping>,
    correlation: Option<yaml_serde::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Logsource {
    product: Option<String>,
    service: Option<String>,
}

/// One rule, read.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
    /// The file it came from.
    pub origin: String,
    /// The named searches, and `condition`.
    pub detection: yaml_serde::Mapping,
}

/// What reading one file gave.
#[derive(Debug)]
pub enum Read {
    Rule(Box<Rule>),
    /// A rule for another log source (not `product: aws`, `service:
    /// cloudtrail`): skipped and counted, not an error.
    OtherSource,
    /// A rule trailsql cannot run, and why.
    Refused(String),
}

/// Read the rule in `text` (from `origin`).
pub fn read(text: &str, origin: &Path) -> Read {
    let raw: RawRule = match yaml_serde::from_str(text) {
        Ok(r) => r,
        Err(e) => return Read::Refused(format!("not a Sigma rule (YAML): {e}")),
    };
    if raw.correlation.is_some() {
        return Read::Refused("a correlation rule: trailsql does not run them yet".into());
    }
    let is =
        |v: &Option<String>, want: &str| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(want));
    if !is(&raw.logsource.product, "aws") || !is(&raw.logsource.service, "cloudtrail") {
        return Read::OtherSource;
    }
    let Some(detection) = raw.detection else {
        return Read::Refused("no detection".into());
    };
    let level = match raw.level.as_deref() {
        None => Level::Medium,
        Some(l) => match Level::parse(l) {
            Some(l) => l,
            None => return Read::Refused(format!("level {l:?} is not one of Sigma's")),
        },
    };
    let origin = origin.display().to_string();
    Read::Rule(Box::new(Rule {
        id: raw.id.unwrap_or_else(|| origin.clone()),
        title: raw.title.unwrap_or_default(),
        level,
        tags: raw.tags,
        origin,
        detection,
    }))
}
