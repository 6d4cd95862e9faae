//! The interactive shell: psql/duckdb-style. Statements may span lines and end
//! with `;`; backslash commands are one enum ([`commands`]) whose table `\?` prints;
//! history is kept across sessions; Ctrl-C cancels the running query (or the
//! line being typed) and keeps the shell; Ctrl-D leaves.
//!
//! Of trailsql it imports `console`, `error`, `output`, `queries`, `session`, `window`.

use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::Editor;

pub mod commands;
pub mod complete;

use commands::Command;
use complete::{ShellHelper, Words};

use crate::console::{run_sql, Sink};
use crate::error::{Error, Result};
use crate::output::escape_control;
use crate::queries::{listing, parse_pairs, run_queries, Catalogue};
use crate::session::Engine;
use crate::window::Window;

fn history_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TRAILSQL_HISTORY") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".trailsql_history"))
}

/// Run a statement, cancelling it on Ctrl-C.
async fn run_cancellable(engine: &Engine, sink: &Sink, sql: &str) {
    tokio::select! {
        r = run_sql(engine, sink, sql) => {
            if let Err(e) = r {
                eprintln!("error: {}", escape_control(&e.to_string()));
            }
        }
        _ = tokio::signal::ctrl_c() => {
            eprintln!("query cancelled");
        }
    }
}

/// `\\run NAME [KEY=VALUE ...]`: one saved query; `since` and `until` set the
/// window, other keys are the query's parameters.
async fn run_saved(
    engine: &Engine,
    sink: &Sink,
    catalogue: &Catalogue,
    words: &[&str],
    last: &Last,
) {
    let result = async {
        let Some((name, pairs)) = words.split_first() else {
            return Err(Error::Usage(
                "\\run needs a NAME; \\queries lists them".into(),
            ));
        };
        let query = catalogue.pick(&[name.to_string()])?[0];
        let mut given = parse_pairs(pairs.iter().copied())?;
        let since = given.remove("since");
        let until = given.remove("until");
        let window = Window::parse(since.as_deref(), until.as_deref(), chrono::Utc::now())?;
        let outcomes = run_queries(engine, sink, &[query], &given, &window, None).await?;
        let mut run = crate::queries::report_run(&outcomes, &given, &window, Vec::new());
        run.command = format!("{} \\run {}", run.command, words.join(" "));
        *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(run);
        Ok::<(), Error>(())
    };
    tokio::select! {
        r = result => {
            if let Err(e) = r {
                eprintln!("error: {}", escape_control(&e.to_string()));
            }
        }
        _ = tokio::signal::ctrl_c() => eprintln!("query cancelled"),
    }
}

/// `\hunt [PATH ...] [min-level=L since=T until=T builtins=no]`: the
/// built-in detections and Sigma rules, as `hunt` runs them; the findings
/// stay as the table `detections`.
async fn hunt(engine: &Engine, sink: &Sink, catalogue: &Catalogue, words: &[&str], last: &Last) {
    let result = async {
        let (pairs, paths): (Vec<&str>, Vec<&str>) = words.iter().partition(|w| w.contains('='));
        let mut given = parse_pairs(pairs.iter().copied())?;
        let builtins = match given.remove("builtins").as_deref() {
            None | Some("yes") => Some(catalogue),
            Some("no") => None,
            Some(other) => return Err(Error::Usage(format!("builtins={other}: yes or no"))),
        };
        if paths.is_empty() && builtins.is_none() {
            return Err(Error::Usage(
                "\\hunt builtins=no needs a PATH: a Sigma rule file or a folder of them".into(),
            ));
        }
        let window = Window::parse(
            given.remove("since").as_deref(),
            given.remove("until").as_deref(),
            chrono::Utc::now(),
        )?;
        let min_level = match given.remove("min-level") {
            None => crate::sigma::Level::Informational,
            Some(l) => crate::sigma::Level::parse(&l)
                .ok_or_else(|| Error::Usage(format!("min-level={l}: not a Sigma level")))?,
        };
        if let Some(key) = given.keys().next() {
            return Err(Error::Usage(format!(
                "\\hunt takes min-level, since, until and builtins, not {key}"
            )));
        }
        let rules: Vec<std::path::PathBuf> = paths.iter().map(std::path::PathBuf::from).collect();
        let no_params = std::collections::BTreeMap::new();
        let h = crate::hunt::Hunt {
            rules: &rules,
            builtins,
            params: &no_params,
            min_level,
            window,
            strict: false,
            out_dir: None,
            report: None,
            sources: Vec::new(),
            keep: Some(last),
            evidence: None,
            read: engine.read_options(),
        };
        let found = crate::hunt::hunt(engine, sink, &h).await?;
        if let Some(run) = last.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            run.command = format!("{} \\hunt {}", run.command, words.join(" "));
        }
        Ok::<usize, Error>(found)
    };
    tokio::select! {
        r = result => {
            if let Err(e) = r {
                eprintln!("error: {}", escape_control(&e.to_string()));
            }
        }
        _ = tokio::signal::ctrl_c() => eprintln!("query cancelled"),
    }
}

/// What the last `\run` or `\hunt` found, for `\report`.
type Last = std::sync::Mutex<Option<crate::report::Run>>;

/// Handle one backslash command. Returns false to quit.
async fn command(
    engine: &Engine,
    sink: &mut Sink,
    catalogue: &Catalogue,
    line: &str,
    last: &Last,
) -> bool {
    let command = match Command::parse(line) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", escape_control(&e));
            return true;
        }
    };
    match command {
        Command::Quit => return false,
        Command::Help => print!("{}", commands::help()),
        Command::Timing(on) => {
            let now = on.unwrap_or(!sink.timing_on());
            sink.timing = Some(now);
            println!("timing is {}", if now { "on" } else { "off" });
        }
        Command::Format(Some(f)) => {
            sink.format = f;
            println!("format is {f}");
        }
        Command::Format(None) => println!("format is {}", sink.format),
        Command::CsvRaw(raw) => {
            if let Some(raw) = raw {
                sink.csv_raw = raw;
                engine.set_csv_raw(raw);
            }
            println!(
                "{}",
                if sink.csv_raw {
                    "CSV cells are written as they are"
                } else {
                    "CSV cells that begin like a formula get a leading '"
                }
            );
        }
        Command::MaxRows(Some(n)) => {
            sink.max_rows = Some(n);
            match n {
                0 => println!("tables show every row"),
                n => println!(
                    "tables show at most {n} {}",
                    crate::console::plural(n, "row", "rows")
                ),
            }
        }
        Command::MaxRows(None) => match sink.max_rows {
            Some(0) => println!("tables show every row"),
            Some(n) => println!(
                "tables show at most {n} {}",
                crate::console::plural(n, "row", "rows")
            ),
            None => println!("tables show as many rows as fit on the terminal"),
        },
        Command::Output(file) => {
            sink.set_output(file);
            match &sink.output {
                Some(p) => println!("results go to {}", p.display()),
                None => println!("results go to the screen"),
            }
        }
        Command::Include(f) => match std::fs::read_to_string(&f) {
            Ok(sql) => run_cancellable(engine, sink, &sql).await,
            Err(e) => eprintln!("error: {}: {e}", f.display()),
        },
        Command::Describe(None) => {
            let sql =
                "SELECT table_name AS name, table_type AS type FROM information_schema.tables \
                       WHERE table_schema = 'public' ORDER BY table_name";
            run_cancellable(engine, sink, sql).await;
        }
        Command::Describe(Some(t)) => match engine.describe(&t).await {
            Ok(r) => {
                if let Err(e) = sink.emit(&r, None, std::time::Duration::ZERO).await {
                    eprintln!("error: {}", escape_control(&e.to_string()));
                }
            }
            Err(e) => eprintln!("error: {}", escape_control(&e.to_string())),
        },
        Command::Queries(area) => print!("{}", listing(&catalogue.all(area.as_deref()))),
        Command::Run(words) => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            run_saved(engine, sink, catalogue, &words, last).await
        }
        Command::Hunt(words) => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            hunt(engine, sink, catalogue, &words, last).await
        }
        Command::Report(file) => {
            let taken = last.lock().unwrap_or_else(|e| e.into_inner()).take();
            match taken {
                None => eprintln!("error: nothing to report yet: \\run or \\hunt first"),
                Some(run) => {
                    match crate::report::write(engine, &run, &file).await {
                        Ok(()) => println!("wrote the report to {}", file.display()),
                        Err(e) => eprintln!("error: {}", escape_control(&e.to_string())),
                    }
                    *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(run);
                }
            }
        }
    }
    true
}

/// Table names for completion, from the session's catalog.
fn refresh_tables(engine: &Engine, words: &Words) {
    let mut names: Vec<String> = engine
        .ctx
        .catalog_names()
        .iter()
        .filter_map(|c| engine.ctx.catalog(c))
        .flat_map(|cat| {
            cat.schema_names()
                .into_iter()
                .filter(|s| s != "information_schema")
                .filter_map(|s| cat.schema(&s))
                .flat_map(|s| s.table_names())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    if let Ok(mut t) = words.tables.lock() {
        *t = names;
    }
}

/// The interactive loop.
pub async fn run(engine: &Engine, mut sink: Sink, catalogue: &Catalogue) -> Result<()> {
    let mut rl: Editor<ShellHelper, rustyline::history::DefaultHistory> =
        Editor::new().map_err(|e| Error::Internal(format!("cannot start the shell: {e}")))?;
    let words = Words::new();
    rl.set_helper(Some(ShellHelper {
        words: words.clone(),
    }));
    refresh_tables(engine, &words);
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    println!(
        "trailsql {} — \\? for help, \\q to quit",
        env!("CARGO_PKG_VERSION")
    );
    let mut buffer = String::new();
    let last: Last = std::sync::Mutex::new(None);
    loop {
        let prompt = if buffer.is_empty() {
            "trailsql> "
        } else {
            "      ..> "
        };
        let line = tokio::task::block_in_place(|| rl.readline(prompt));
        match line {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && trimmed.starts_with('\\') {
                    let _ = rl.add_history_entry(trimmed);
                    if !command(engine, &mut sink, catalogue, trimmed, &last).await {
                        break;
                    }
                    continue;
                }
                if trimmed.is_empty() && buffer.is_empty() {
                    continue;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if trimmed.ends_with(';') {
                    let sql = std::mem::take(&mut buffer);
                    let _ = rl.add_history_entry(sql.trim_end());
                    run_cancellable(engine, &sink, &sql).await;
                    refresh_tables(engine, &words);
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Internal(format!("shell input failed: {e}"))),
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
    Ok(())
}
