//! `trailsql demo`: the sample archive made once in a cache folder, and
//! the question every incident starts with asked of it, then how to go on.
//!
//! Of trailsql it imports `console`, `error`, `session`, `table`.

use std::path::PathBuf;

use super::{write_archive, SampleOptions};
use crate::console::{run_sql, say, Sink};
use crate::error::{Error, Result};

/// The question the demo answers.
pub const DEMO_QUESTION: &str =
    "SELECT eventtime, useridentity.username AS who, sourceipaddress AS ip, \
json_extract_scalar(requestparameters, '$.tableName') AS table_name, errorcode \
FROM cloudtrail WHERE eventname = 'DeleteTable' ORDER BY eventtime";

fn cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("trailsql");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("trailsql"),
        None => std::env::temp_dir().join("trailsql"),
    }
}

/// What the demo's cached archive holds; a cache marked otherwise is
/// written again.
const SAMPLE_FORMAT: &str = "trailsql sample archive 3 (log files, signed digests, places)";

/// `trailsql demo`.
pub async fn demo(dir: Option<PathBuf>, sink: &Sink) -> Result<i32> {
    let dir = dir.unwrap_or_else(|| cache_dir().join("sample-archive"));
    let done = dir.join(".complete");
    // A sample written by an older trailsql (without digest files, say) is
    // written again.
    let current = std::fs::read_to_string(&done).is_ok_and(|t| t.starts_with(SAMPLE_FORMAT));
    if !current {
        eprintln!(
            "trailsql: writing the sample archive to {} ...",
            dir.display()
        );
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let stats = write_archive(&dir, &SampleOptions::default())?;
        std::fs::write(
            &done,
            format!(
                "{SAMPLE_FORMAT}: {} events in {} files\n",
                stats.events, stats.files
            ),
        )
        .map_err(|e| Error::io(&done, e))?;
        eprintln!(
            "trailsql: {} events in {} log files",
            stats.events, stats.files
        );
    }
    let engine = crate::session::Engine::new(crate::table::ReadOptions::default());
    engine
        .register_source(crate::session::DEFAULT_TABLE, &dir.display().to_string())
        .await?;
    say(&format!(
        "Who deleted the DynamoDB table, when, and from which IP?\n\n{DEMO_QUESTION};\n\n"
    ))?;
    run_sql(&engine, sink, DEMO_QUESTION).await?;
    say(&format!(
        "\nOpen the shell on this archive:\n  {2} --source {0}\n\
         Run the saved compliance and forensic queries:\n  {2} --source {0} run --all\n\
         Hunt with every detection, placing addresses with the sample's own database:\n  \
         {2} --source {0} --geoip {3} hunt\n\
         Everything one person did through any role:\n  {2} --source {0} lookup --origin jane\n\
         Check that no log file was changed or removed:\n  {2} verify {0}\n\
         A report to read, and an evidence pack to keep (every log file read, checked \
         against its digests):\n  {2} --source {0} run --all --report {4} --evidence {5}\n\
         Convert it to Parquet, then query that:\n  {2} convert {0} {1}\n  \
         {2} --source {1}\n",
        dir.display(),
        dir.with_file_name("sample-parquet").display(),
        program(),
        dir.join(super::PLACES_FILE).display(),
        dir.with_file_name("sample-report.html").display(),
        dir.with_file_name("sample-evidence").display(),
    ))?;
    Ok(0)
}

/// How the hints call this program: `trailsql` when that name on the PATH
/// is this very program, else its path (after `cargo run`, for one), so
/// that every hint works as printed.
fn program() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "trailsql".into();
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let first = std::env::split_paths(&path)
        .find_map(|dir| std::fs::canonicalize(dir.join("trailsql")).ok());
    match first {
        Some(found) if found == me => "trailsql".into(),
        _ => me.display().to_string(),
    }
}
