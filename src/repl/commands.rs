//! The shell's backslash commands as one enum. [`SPECS`] is the one table
//! of them (names, aliases, argument, help): `\?` prints it, completion
//! offers its names, and [`Command::parse`] reads a line against it, so a
//! command cannot be listed and not understood, or the other way round.
//!
//! Of trailsql it imports `output`.

use std::path::PathBuf;

use crate::output::Format;

/// One backslash command as typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help,
    Quit,
    /// `\d`: the tables, or one table's columns.
    Describe(Option<String>),
    /// `\timing`: on, off, or (None) the other way.
    Timing(Option<bool>),
    /// `\format`: set it, or (None) say it.
    Format(Option<Format>),
    /// `\maxrows`: rows a table shows at most (0: all), or (None) say it.
    MaxRows(Option<usize>),
    /// `\csvraw`: CSV cells exactly as they are (on) or guarded against
    /// spreadsheet formulas (off), or (None) say which.
    CsvRaw(Option<bool>),
    /// `\o`: results to a file, or (None) back to the screen.
    Output(Option<PathBuf>),
    /// `\i FILE`: run the SQL in a file.
    Include(PathBuf),
    /// `\queries [AREA]`.
    Queries(Option<String>),
    /// `\run NAME [KEY=VALUE ...]`: the words after `\run`.
    Run(Vec<String>),
    /// `\hunt PATH ... [KEY=VALUE ...]`: the words after `\hunt`.
    Hunt(Vec<String>),
    /// `\report FILE`: the page of the last `\run` or `\hunt`.
    Report(PathBuf),
}

/// What the table says of a command.
pub struct Spec {
    /// The name, then the aliases.
    pub names: &'static [&'static str],
    pub arg: &'static str,
    pub help: &'static str,
    parse: fn(&[&str]) -> Result<Command, String>,
}

/// Every command, in the order `\?` lists them.
pub const SPECS: &[Spec] = &[
    Spec {
        names: &["\\?", "\\h", "\\help"],
        arg: "",
        help: "show this help",
        parse: |_| Ok(Command::Help),
    },
    Spec {
        names: &["\\q", "\\quit"],
        arg: "",
        help: "quit (Ctrl-D works too)",
        parse: |_| Ok(Command::Quit),
    },
    Spec {
        names: &["\\d"],
        arg: "[TABLE]",
        help: "list tables, or describe TABLE with its nested fields",
        parse: |w| Ok(Command::Describe(w.first().map(|t| t.to_string()))),
    },
    Spec {
        names: &["\\timing"],
        arg: "[on|off]",
        help: "show how long each query took",
        parse: |w| match w.first().copied() {
            None => Ok(Command::Timing(None)),
            Some("on") => Ok(Command::Timing(Some(true))),
            Some("off") => Ok(Command::Timing(Some(false))),
            Some(other) => Err(format!("\\timing takes on or off, not {other:?}")),
        },
    },
    Spec {
        names: &["\\format"],
        arg: "table|csv|json|ndjson|parquet",
        help: "choose the output format",
        parse: |w| match w.first() {
            None => Ok(Command::Format(None)),
            Some(f) => f.parse::<Format>().map(|f| Command::Format(Some(f))),
        },
    },
    Spec {
        names: &["\\maxrows"],
        arg: "[N]",
        help: "show at most N rows of a table (0: all; default: what fits)",
        parse: |w| match w.first() {
            None => Ok(Command::MaxRows(None)),
            Some(n) => n
                .parse()
                .map(|n| Command::MaxRows(Some(n)))
                .map_err(|_| format!("\\maxrows takes a number of rows, not {n:?}")),
        },
    },
    Spec {
        names: &["\\csvraw"],
        arg: "[on|off]",
        help: "CSV cells as they are (on), or formulas guarded with a leading ' (off, default)",
        parse: |w| match w.first().copied() {
            None => Ok(Command::CsvRaw(None)),
            Some("on") => Ok(Command::CsvRaw(Some(true))),
            Some("off") => Ok(Command::CsvRaw(Some(false))),
            Some(other) => Err(format!("\\csvraw takes on or off, not {other:?}")),
        },
    },
    Spec {
        names: &["\\o"],
        arg: "[FILE]",
        help: "send results to FILE; without FILE, back to the screen",
        parse: |w| Ok(Command::Output(w.first().map(PathBuf::from))),
    },
    Spec {
        names: &["\\i"],
        arg: "FILE",
        help: "run the SQL in FILE",
        parse: |w| match w.first() {
            Some(f) => Ok(Command::Include(PathBuf::from(f))),
            None => Err("\\i needs a FILE".into()),
        },
    },
    Spec {
        names: &["\\queries"],
        arg: "[AREA]",
        help: "list the saved queries",
        parse: |w| Ok(Command::Queries(w.first().map(|a| a.to_string()))),
    },
    Spec {
        names: &["\\run"],
        arg: "NAME [KEY=VALUE ...]",
        help: "run a saved query (since=7d, until=... set the window)",
        parse: |w| Ok(Command::Run(w.iter().map(|s| s.to_string()).collect())),
    },
    Spec {
        names: &["\\hunt"],
        arg: "[PATH ...] [min-level=L since=T until=T builtins=no]",
        help: "run the built-in detections and the Sigma rules under PATH (table detections)",
        parse: |w| Ok(Command::Hunt(w.iter().map(|s| s.to_string()).collect())),
    },
    Spec {
        names: &["\\report"],
        arg: "FILE.html",
        help: "write the report of the last \\run or \\hunt (one HTML page)",
        parse: |w| match w.first() {
            Some(f) => Ok(Command::Report(PathBuf::from(f))),
            None => Err("\\report needs a FILE (.html)".into()),
        },
    },
];

impl Command {
    /// Read a line that starts with a backslash.
    pub fn parse(line: &str) -> Result<Command, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((name, args)) = words.split_first() else {
            return Err("an empty command; \\? lists the commands".into());
        };
        let spec = SPECS
            .iter()
            .find(|s| s.names.contains(name))
            .ok_or_else(|| format!("unknown command {name}; \\? lists the commands"))?;
        (spec.parse)(args)
    }
}

/// Every name and alias, for completion.
pub fn names() -> impl Iterator<Item = &'static str> {
    SPECS.iter().flat_map(|s| s.names.iter().copied())
}

/// The text `\?` prints: each command with its aliases, argument and help.
pub fn help() -> String {
    let mut s = String::from("Statements end with ';' and may span lines.\n");
    for spec in SPECS {
        let (name, aliases) = spec.names.split_first().expect("every spec has a name");
        let mut text = spec.help.to_string();
        if !aliases.is_empty() {
            text += &format!(" (also {})", aliases.join(", "));
        }
        s += &format!("  {:<10} {:<32} {}\n", name, spec.arg, text);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_parses_to_its_command() {
        assert_eq!(Command::parse("\\q"), Ok(Command::Quit));
        assert_eq!(Command::parse("\\quit"), Ok(Command::Quit));
        for h in ["\\?", "\\h", "\\help"] {
            assert_eq!(Command::parse(h), Ok(Command::Help));
        }
        assert_eq!(Command::parse("\\d"), Ok(Command::Describe(None)));
        assert_eq!(
            Command::parse("\\d  cloudtrail "),
            Ok(Command::Describe(Some("cloudtrail".into())))
        );
        assert_eq!(Command::parse("\\timing"), Ok(Command::Timing(None)));
        assert_eq!(
            Command::parse("\\timing off"),
            Ok(Command::Timing(Some(false)))
        );
        assert!(Command::parse("\\timing maybe").is_err());
        assert_eq!(
            Command::parse("\\format csv"),
            Ok(Command::Format(Some(Format::Csv)))
        );
        assert!(Command::parse("\\format xml").is_err());
        assert_eq!(Command::parse("\\maxrows 0"), Ok(Command::MaxRows(Some(0))));
        assert_eq!(Command::parse("\\maxrows"), Ok(Command::MaxRows(None)));
        assert!(Command::parse("\\maxrows lots").is_err());
        assert_eq!(Command::parse("\\o"), Ok(Command::Output(None)));
        assert_eq!(
            Command::parse("\\o out.txt"),
            Ok(Command::Output(Some("out.txt".into())))
        );
        assert!(Command::parse("\\i").is_err());
        assert_eq!(
            Command::parse("\\run q since=7d"),
            Ok(Command::Run(vec!["q".into(), "since=7d".into()]))
        );
        let unknown = Command::parse("\\x").unwrap_err();
        assert!(unknown.contains("unknown command \\x"), "{unknown}");
    }

    #[test]
    fn help_lists_every_name_and_alias() {
        let h = help();
        for name in names() {
            assert!(h.contains(name), "{name} missing from:\n{h}");
        }
    }
}
