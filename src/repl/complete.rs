//! Tab completion for the shell: SQL keywords, table names, backslash
//! commands, columns and nested fields (`useridentity.` offers its fields,
//! `useridentity.sessioncontext.` the next level). Matching ignores case;
//! candidates come back in the case the user is typing.
//!
//! Of trailsql it imports `record`.

use std::sync::{Arc, Mutex};

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::record::canonical_schema;
use crate::record::schema::field_paths;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "AS",
    "DISTINCT",
    "COUNT",
    "JOIN",
    "LEFT",
    "INNER",
    "ON",
    "UNION",
    "ALL",
    "WITH",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "ASC",
    "DESC",
    "CAST",
    "INTERVAL",
    "DESCRIBE",
    "EXPLAIN",
    "SHOW",
    "TABLES",
    "COLUMNS",
    "COPY",
    "TO",
    "STORED",
    "CREATE",
    "EXTERNAL",
    "TABLE",
    "LOCATION",
    "CLOUDTRAIL",
    "CSV",
    "PARQUET",
    "JSON",
    "date_trunc",
    "json_extract_scalar",
    "json_extract",
    "to_json",
    "unnest",
    "now",
    "min",
    "max",
    "sum",
    "avg",
];

/// What the shell completes from; table names are refreshed after statements.
#[derive(Clone)]
pub struct Words {
    pub tables: Arc<Mutex<Vec<String>>>,
    fields: Arc<Vec<String>>,
}

impl Words {
    pub fn new() -> Words {
        Words {
            tables: Arc::new(Mutex::new(Vec::new())),
            fields: Arc::new(
                field_paths(canonical_schema().fields())
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect(),
            ),
        }
    }
}

impl Default for Words {
    fn default() -> Self {
        Words::new()
    }
}

fn match_case(candidate: &str, typed: &str) -> String {
    let typed_lower = typed.chars().any(|c| c.is_ascii_lowercase());
    if typed_lower || typed.is_empty() {
        candidate.to_ascii_lowercase()
    } else {
        candidate.to_string()
    }
}

/// Candidates for the word that ends at `pos` in `line`: (start of the word, candidates).
pub fn complete(words: &Words, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '\\'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let word = &before[start..];
    let lower = word.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    if word.starts_with('\\') {
        out.extend(
            super::commands::names()
                .filter(|c| c.starts_with(word))
                .map(str::to_string),
        );
        return (start, out);
    }
    if word.is_empty() {
        return (start, out);
    }
    // Columns and fields: only the next level below what is typed.
    let depth = lower.matches('.').count();
    // Fields may be typed after a table qualifier (`cloudtrail.useridentity.`).
    let tables = words.tables.lock().map(|t| t.clone()).unwrap_or_default();
    let (qualifier, path) = match lower.split_once('.') {
        Some((q, rest)) if tables.iter().any(|t| t == q) => {
            (format!("{}.", &word[..q.len()]), rest.to_string())
        }
        _ => (String::new(), lower.clone()),
    };
    let path_depth = if qualifier.is_empty() {
        depth
    } else {
        depth - 1
    };
    for f in words.fields.iter() {
        if f.starts_with(&path) && f.matches('.').count() == path_depth {
            out.push(format!("{qualifier}{f}"));
        }
    }
    if depth == 0 {
        out.extend(tables.iter().filter(|t| t.starts_with(&lower)).cloned());
        for k in KEYWORDS {
            if k.to_ascii_lowercase().starts_with(&lower) {
                out.push(match_case(k, word));
            }
        }
    }
    out.sort();
    out.dedup();
    (start, out)
}

/// The rustyline helper: completion only; hints, highlighting and validation
/// keep rustyline's defaults.
pub struct ShellHelper {
    pub words: Words,
}

impl Completer for ShellHelper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(&self.words, line, pos))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(line: &str) -> Vec<String> {
        let w = Words::new();
        *w.tables.lock().unwrap() = vec!["cloudtrail".into(), "cloudtrail_logs".into()];
        complete(&w, line, line.len()).1
    }

    #[test]
    fn nested_fields_one_level_at_a_time() {
        let got = c("SELECT useridentity.");
        assert!(
            got.contains(&"useridentity.username".to_string()),
            "{got:?}"
        );
        assert!(got.contains(&"useridentity.sessioncontext".to_string()));
        assert!(
            !got.iter()
                .any(|g| g.starts_with("useridentity.sessioncontext.")),
            "{got:?}"
        );
        assert_eq!(
            c("select userIdentity.sessioncontext.sessionissuer.us"),
            vec!["useridentity.sessioncontext.sessionissuer.username"]
        );
        assert_eq!(
            c("SELECT cloudtrail.useridentity.ty"),
            vec!["cloudtrail.useridentity.type"]
        );
    }

    #[test]
    fn tables_keywords_columns_commands() {
        assert_eq!(c("SELECT * FROM cloudtrail_l"), vec!["cloudtrail_logs"]);
        assert!(c("SEL").contains(&"SELECT".to_string()));
        assert!(c("sel").contains(&"select".to_string()));
        assert_eq!(c("select eventna"), vec!["eventname"]);
        assert!(c("\\ti").contains(&"\\timing".to_string()));
        assert!(c("").is_empty());
    }
}
