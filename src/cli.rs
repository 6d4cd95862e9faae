//! Command-line definitions (clap) and the driver that runs SQL from `-e`,
//! `-f`, standard input or the interactive shell, and each subcommand.
//! Errors come back here and become exit codes. The top of the house: it
//! may import every room, and none imports it.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::archive::Source;
use crate::console::{run_sql, say, Sink};
use crate::error::{Error, Result};
use crate::output::Format;
use crate::queries::Catalogue;
use crate::sample::SampleOptions;
use crate::session::{Engine, StatementResult, DEFAULT_TABLE};
use crate::table::ReadOptions;
use crate::window::Window;

/// Ask questions of AWS CloudTrail archives in SQL.
#[derive(Debug, Parser)]
#[command(name = "trailsql", version, about, long_about = None)]
pub struct Cli {
    /// Archive to query: a folder at any level of a trail copy, s3://bucket/prefix,
    /// one log file, or an Event history file (lookup-events JSON, console JSON
    /// or CSV). `NAME=PATH` registers it as table NAME; a bare PATH is table
    /// `cloudtrail` (also `cloudtrail_logs`), with the view `cloudtrail_events`
    /// and `cloudtrail_integrity`. Repeatable.
    #[arg(short, long = "source", value_name = "[NAME=]PATH", global = true)]
    pub sources: Vec<String>,
    /// SQL to run (several statements separated by `;`). Repeatable.
    #[arg(short = 'e', long = "execute", value_name = "SQL")]
    pub execute: Vec<String>,
    /// File of SQL statements to run. Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,
    /// Write results to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,
    /// Treat an unreadable file, a skipped record or a value of an unexpected
    /// type as an error instead of a warning.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Rows a table shows at most; 0 shows all. Default: as many as fit on
    /// a terminal, all when the output is a file or a pipe.
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
    /// After each statement, print on stderr how many log files were listed,
    /// pruned and read.
    #[arg(long, global = true)]
    pub stats: bool,
    /// Days after an event's day within which its log file may have been
    /// delivered (for pruning by eventtime).
    #[arg(long, value_name = "DAYS", default_value_t = crate::archive::DEFAULT_LATE_DAYS, global = true)]
    pub late_days: u64,
    /// A folder of your own saved queries (`.sql` files with a header); they
    /// override built-in queries of the same name.
    #[arg(long, value_name = "DIR", global = true)]
    pub queries: Option<PathBuf>,
    /// Public keys for digest validation (the JSON `aws cloudtrail
    /// list-public-keys` prints), for `verify` and the `_integrity` tables.
    /// Default for a local copy: public-keys.json in its folder, when there is
    /// one. Never read from a bucket: give it for s3:// sources.
    #[arg(long, value_name = "FILE", global = true)]
    pub public_keys: Option<PathBuf>,
    /// AWS profile for s3:// sources (default: AWS_PROFILE, else the default chain).
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,
    /// AWS region of s3:// sources (default: the profile's, AWS_REGION, us-east-1).
    #[arg(long, value_name = "REGION", global = true)]
    pub region: Option<String>,
    /// S3-compatible endpoint for s3:// sources (also AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL", global = true)]
    pub endpoint_url: Option<String>,
    /// Read public buckets without credentials.
    #[arg(long, global = true)]
    pub no_sign_request: bool,
    /// Keep log objects fetched from S3 in DIR: a later query over the same
    /// days reads them from there (an object whose ETag, or size and time, changed
    /// is fetched again).
    #[arg(long, value_name = "DIR", global = true)]
    pub cache: Option<PathBuf>,
    /// When to show a progress line on stderr while a statement runs
    /// (objects, bytes, events, rate): `auto` on a terminal for statements
    /// that take more than half a second, cleared before the result.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = crate::progress::ProgressMode::Auto, global = true)]
    pub progress: crate::progress::ProgressMode,
    /// Most S3 requests at once.
    #[arg(long, value_name = "N", default_value_t = crate::archive::s3::DEFAULT_CONCURRENCY, global = true)]
    pub max_concurrency: usize,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a realistic sample archive (real key layout, planted incidents).
    Sample {
        /// Folder to write into.
        dir: PathBuf,
        #[command(flatten)]
        options: SampleOptions,
    },
    /// Make the sample archive (once, in a cache folder) and answer a first question on it.
    Demo {
        /// Where to keep the sample archive.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run saved compliance and forensic queries over the sources.
    Run(RunArgs),
    /// Look events up by the console's Event history attributes, newest first.
    Lookup(crate::lookup::LookupArgs),
    /// Convert an archive to a partitioned Parquet dataset, or bring one up
    /// to date: only objects not converted before are read.
    Convert(ConvertArgs),
    /// Merge each partition's small Parquet files (one per conversion run
    /// that added to it) into one, so queries open fewer files.
    Compact(CompactArgs),
    /// Print the CREATE EXTERNAL TABLE (with partition projection) that lets
    /// Athena, Trino or Spark query a converted dataset once it is in S3.
    AthenaDdl(AthenaDdlArgs),
    /// Check the archive's digest files: every log file present and unchanged,
    /// every digest signed and chained, no gaps.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The archive: anything --source takes (a folder, s3://bucket/prefix).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The dataset: a folder or s3://bucket/prefix (made if missing; a
    /// dataset there is added to).
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// Keep each eventid once (two trails, or a re-delivery, can log one
    /// event twice). Chosen when the dataset is made; later runs keep it.
    #[arg(long)]
    pub dedupe: bool,
    /// Gzip read per group, in KiB. Log files are converted in groups of
    /// one account and region, two or more at once (one per core); each
    /// group is a commit and writes a Parquet file per day it holds.
    /// Lower it on a machine short of memory: a group takes about forty
    /// times its gzip. From 1 to 1048576 (1 GiB).
    #[arg(long, value_name = "KIB", default_value_t = crate::convert::GROUP_KIB,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub group_kib: u64,
    /// Then compact the dataset, as `trailsql compact DEST` does (files
    /// merged per partition, the manifest folded into a checkpoint).
    #[arg(long)]
    pub compact: bool,
}

#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// The dataset (written by `trailsql convert`): a folder or
    /// s3://bucket/prefix.
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// The Parquet a merged file is made of at most, in MiB; files this
    /// big already are left alone. Compacting takes about ten times this
    /// in memory. From 1 to 4096.
    #[arg(long, value_name = "MIB", default_value_t = crate::convert::compact::FILE_MIB,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub file_mib: u64,
}

#[derive(Debug, clap::Args)]
pub struct AthenaDdlArgs {
    /// The converted dataset (written by `trailsql convert`): a folder or
    /// s3://bucket/prefix.
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// Where the dataset is (or will be copied to) in S3: s3://BUCKET/PREFIX.
    /// Default: DEST, when it is in S3.
    #[arg(long, value_name = "S3_URL")]
    pub location: Option<String>,
    /// The table's name.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail_parquet")]
    pub table: String,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The archive: a local copy of a trail or s3://bucket/prefix (any level
    /// above AWSLogs/ works).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Only digests (and log files delivered) from this time on.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only digests (and log files delivered) before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Queries to run: full names (`forensics/root-account-activity`) or a
    /// last part that names one query (`root-account-activity`).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Run every saved query (of one area with --area).
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// With --all: only the queries of this area (`cis`, `forensics`).
    #[arg(long, value_name = "AREA", requires = "all")]
    pub area: Option<String>,
    /// A parameter value, KEY=VALUE. Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Look at events from this time on: 2025-10-20, 2025-10-20T14:00:00Z, or an age (7d, 24h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Look at events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Write one CSV per query, and summary.csv, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Exit with code 1 when any query finds anything (for cron and CI).
    #[arg(long)]
    pub fail_on_findings: bool,
    /// List the saved queries (name, severity, title, parameters) and exit.
    #[arg(long)]
    pub list: bool,
}

/// Parse arguments, run, and return the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trailsql: cannot start: {e}");
            return 2;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            eprintln!(
                "trailsql: error: {}",
                crate::output::escape_control(&e.to_string())
            );
            2
        }
    }
}

/// Split `NAME=PATH` (NAME a plain identifier) from a bare path.
pub fn parse_source(s: &str) -> (String, String) {
    if let Some((name, path)) = s.split_once('=') {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return (name.to_ascii_lowercase(), path.to_string());
        }
    }
    (DEFAULT_TABLE.to_string(), s.to_string())
}

async fn run(cli: Cli) -> Result<i32> {
    match &cli.command {
        Some(Command::Sample { dir, options }) => {
            let stats = crate::sample::write_archive(dir, options)?;
            eprintln!(
                "trailsql: wrote {} events in {} log files, {} digest files and {} to {}",
                stats.events,
                stats.files,
                stats.digests,
                crate::sample::PUBLIC_KEYS_FILE,
                dir.display()
            );
            return Ok(0);
        }
        Some(Command::Demo { dir }) => return crate::sample::demo(dir.clone(), &sink(&cli)).await,
        Some(Command::Verify(args)) => return verify(&cli, args).await,
        Some(Command::Convert(args)) => return convert(&cli, args).await,
        Some(Command::Compact(args)) => return compact(&cli, args).await,
        Some(Command::AthenaDdl(args)) => {
            let place = Source::at(&args.dest, &s3_options(&cli)).await?;
            let dataset = crate::dataset::Dataset::open(&place).await?;
            let location = match (&args.location, place.s3_url()) {
                (Some(l), _) => l.clone(),
                (None, Some(url)) => url,
                (None, None) => {
                    return Err(Error::Usage(
                        "athena-ddl needs --location s3://BUCKET/PREFIX: where the dataset \
                         is (or will be copied to) in S3"
                            .into(),
                    ))
                }
            };
            say(&crate::dataset::athena_ddl(
                &dataset,
                &location,
                &args.table,
            )?)?;
            return Ok(0);
        }
        Some(Command::Run(args)) if args.list => {
            let catalogue = Catalogue::load(cli.queries.as_deref())?;
            say(&crate::queries::listing(&catalogue.all(None)))?;
            return Ok(0);
        }
        _ => {}
    }
    let engine = Engine::new(ReadOptions {
        strict: cli.strict,
        late_days: cli.late_days,
        public_keys: cli.public_keys.clone(),
        s3: s3_options(&cli),
    })
    .with_progress(cli.progress);
    // The footers a query read stay cached until the process ends, and are
    // not freed one by one at its end: for a query over a few hundred files
    // that took a tenth of its time, all after the answer was out.
    std::mem::forget(
        engine
            .ctx
            .runtime_env()
            .cache_manager
            .get_file_metadata_cache(),
    );
    let mut named = std::collections::BTreeSet::new();
    for s in &cli.sources {
        let (name, path) = parse_source(s);
        if !named.insert(name.clone()) {
            return Err(Error::Usage(format!(
                "table {name:?} is given twice in --source"
            )));
        }
        engine.register_source(&name, &path).await?;
    }
    let sink = sink(&cli);
    if let Some(Command::Run(args)) = &cli.command {
        return run_saved(&engine, &sink, &cli, args).await;
    }
    if let Some(Command::Lookup(args)) = &cli.command {
        if cli.sources.is_empty() {
            return Err(Error::Usage(
                "lookup needs events to look in: add --source PATH".into(),
            ));
        }
        let window = Window::parse(
            args.since.as_deref(),
            args.until.as_deref(),
            chrono::Utc::now(),
        )?;
        let sql = crate::lookup::sql(args, &window, "cloudtrail")?;
        if args.show_sql {
            say(&format!("{sql};\n"))?;
        }
        run_sql(&engine, &sink, &sql).await?;
        return Ok(0);
    }
    if !cli.execute.is_empty() || !cli.files.is_empty() {
        for sql in &cli.execute {
            run_sql(&engine, &sink, sql).await?;
        }
        for f in &cli.files {
            let sql = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
            run_sql(&engine, &sink, &sql).await?;
        }
        return Ok(0);
    }
    if !std::io::stdin().is_terminal() {
        let mut sql = String::new();
        std::io::stdin()
            .read_to_string(&mut sql)
            .map_err(|e| Error::Io {
                path: "stdin".into(),
                source: e,
            })?;
        run_sql(&engine, &sink, &sql).await?;
        return Ok(0);
    }
    let catalogue = Catalogue::load(cli.queries.as_deref())?;
    crate::repl::run(&engine, sink, &catalogue).await?;
    Ok(0)
}

/// `trailsql convert`: convert what is new, then say what was done.
async fn convert(cli: &Cli, args: &ConvertArgs) -> Result<i32> {
    let started = Instant::now();
    let source = Source::open(&args.source, &s3_options(cli)).await?;
    let dest = Source::at(&args.dest, &s3_options(cli)).await?;
    let report = std::sync::Arc::new(crate::read::Report::new());
    let s = {
        let _progress = crate::progress::Progress::start(report.clone(), cli.progress);
        crate::convert::convert(&source, &dest, args.dedupe, args.group_kib << 10, &report).await?
    };
    let mut out = format!(
        "converted {} of {} objects ({} converted before) into {}: {} events, \
         {} MB in, {} MB of Parquet in {} files, {:.1} s\n",
        s.objects_converted,
        s.objects_listed,
        s.objects_already,
        dest.display(),
        s.events,
        s.bytes_in / 1_000_000,
        s.bytes_out / 1_000_000,
        s.files_written,
        started.elapsed().as_secs_f64()
    );
    if s.leftovers_removed > 0 {
        out += &format!(
            "removed {} files an interrupted run had left\n",
            s.leftovers_removed
        );
    }
    if s.dedupe {
        out += &format!(
            "{} events left out as duplicates (an eventid the dataset already holds)\n",
            s.duplicates
        );
    }
    if s.records_skipped > 0 {
        out += &format!("{} records skipped (see the warnings)\n", s.records_skipped);
    }
    for (object, why) in &s.unreadable {
        out += &format!(
            "skipped {}: {}\n",
            crate::output::escape_control(object),
            crate::output::escape_control(why)
        );
    }
    for object in &s.changed {
        out += &format!(
            "changed since it was converted, not converted again: {}\n",
            crate::output::escape_control(object)
        );
    }
    eprint!("{out}");
    if args.compact {
        compact_and_say(&dest, crate::convert::compact::FILE_MIB).await?;
    }
    Ok(0)
}

/// `trailsql compact`: merge, then say what was done.
async fn compact(cli: &Cli, args: &CompactArgs) -> Result<i32> {
    let dest = Source::at(&args.dest, &s3_options(cli)).await?;
    compact_and_say(&dest, args.file_mib).await?;
    Ok(0)
}

/// Compact `dest` (files of up to `file_mib`), then say what was done.
async fn compact_and_say(dest: &Source, file_mib: u64) -> Result<()> {
    let started = Instant::now();
    let s = crate::convert::compact::compact(dest, file_mib << 20).await?;
    let mut out = String::new();
    if s.leftovers_removed > 0 {
        out += &format!(
            "removed {} files an interrupted run had left\n",
            s.leftovers_removed
        );
    }
    if s.partitions > 0 {
        out += &format!(
            "compacted {} files into {} in {} partitions of {}: {} events, \
             {:.1} MB of Parquet into {:.1} MB, {:.1} s\n",
            s.files_before,
            s.files_after,
            s.partitions,
            dest.display(),
            s.rows,
            s.bytes_in as f64 / 1e6,
            s.bytes_out as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    if s.commits_folded > 0 {
        out += &format!(
            "folded the {} commits of {} into a checkpoint\n",
            s.commits_folded,
            dest.display()
        );
    }
    if s.partitions == 0 && s.commits_folded == 0 {
        out += &format!(
            "nothing to compact in {}: no partition has two files under {} MiB, \
             and its manifest is one checkpoint\n",
            dest.display(),
            file_mib
        );
    }
    eprint!("{out}");
    Ok(())
}

/// Where results go, as the flags say.
fn sink(cli: &Cli) -> Sink {
    Sink {
        format: cli.format,
        output: cli.output.clone(),
        timing: false,
        stats: cli.stats,
        max_rows: cli.max_rows,
    }
}

/// The options for s3:// sources.
fn s3_options(cli: &Cli) -> crate::archive::s3::S3Options {
    crate::archive::s3::S3Options {
        profile: cli.profile.clone(),
        region: cli.region.clone(),
        endpoint: cli.endpoint_url.clone(),
        no_sign_request: cli.no_sign_request,
        max_concurrency: cli.max_concurrency,
        cache: cli.cache.clone(),
    }
}

/// `trailsql verify`: the report, and exit 1 when anything is not valid.
async fn verify(cli: &Cli, args: &VerifyArgs) -> Result<i32> {
    use crate::verify::{Kind, State};
    let window = Window::parse(
        args.since.as_deref(),
        args.until.as_deref(),
        chrono::Utc::now(),
    )?;
    let source = Source::open(&args.source, &s3_options(cli)).await?;
    let (keys, from) = crate::verify::load_keys(&source, cli.public_keys.as_deref())?;
    match from {
        Some(f) if cli.public_keys.is_none() => eprintln!(
            "trailsql: public keys from {} (--public-keys FILE to choose)",
            f.display()
        ),
        Some(_) => {}
        None => eprintln!(
            "trailsql: no public keys given (--public-keys FILE, the output of \
             `aws cloudtrail list-public-keys`): signatures cannot be checked"
        ),
    }
    let report = crate::verify::verify(&source, &keys, &window).await?;
    match cli.format {
        Format::Table => {
            let mut out = String::new();
            for ((kind, state), n) in report.counts() {
                out += &format!("{kind:<6} {:<22} {n}\n", state.as_str());
            }
            let problems: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.state.is_problem())
                .collect();
            if problems.is_empty() {
                out +=
                    "\nno problems: every digest and log file checked is as CloudTrail wrote it\n";
            } else {
                out += &format!("\n{} problems:\n", problems.len());
                for f in problems {
                    out += &format!(
                        "{} {}: {}: {}\n",
                        f.kind,
                        f.state.as_str(),
                        f.file,
                        crate::output::escape_control(&f.detail)
                    );
                }
            }
            if report
                .findings
                .iter()
                .any(|f| f.kind == Kind::Digest && f.state == State::Unverifiable)
            {
                out += "\nThe newest digest of each chain is checked only as far as a copy allows: \
                        its signature is in S3 object metadata, which a copy on disk does not keep.\n";
            }
            match &cli.output {
                Some(path) => std::fs::write(path, out).map_err(|e| Error::io(path, e))?,
                None => say(&out)?,
            }
        }
        format => {
            let batch = crate::verify::as_table(&report)?;
            let result = StatementResult {
                schema: batch.schema(),
                batches: vec![batch],
            };
            let sink = Sink {
                format,
                ..sink(cli)
            };
            sink.emit(&result, None, std::time::Duration::ZERO).await?;
        }
    }
    Ok(if report.ok() { 0 } else { 1 })
}

/// `trailsql run`: saved queries over the registered sources.
async fn run_saved(engine: &Engine, sink: &Sink, cli: &Cli, args: &RunArgs) -> Result<i32> {
    if cli.sources.is_empty() {
        return Err(Error::Usage(
            "run needs an archive: add --source PATH".into(),
        ));
    }
    if cli.output.is_some() {
        return Err(Error::Usage(
            "run writes one result per query: use --out-dir DIR instead of -o".into(),
        ));
    }
    let catalogue = Catalogue::load(cli.queries.as_deref())?;
    let picked = if args.all {
        let all = catalogue.all(args.area.as_deref());
        if all.is_empty() {
            return Err(Error::Usage(format!(
                "no saved queries in area {:?}",
                args.area.as_deref().unwrap_or("")
            )));
        }
        all
    } else if args.names.is_empty() {
        return Err(Error::Usage(
            "name the queries to run, or give --all; `trailsql run --list` lists them".into(),
        ));
    } else {
        catalogue.pick(&args.names)?
    };
    let given = crate::queries::parse_pairs(args.params.iter().map(String::as_str))?;
    let window = Window::parse(
        args.since.as_deref(),
        args.until.as_deref(),
        chrono::Utc::now(),
    )?;
    let outcomes = crate::queries::run_queries(
        engine,
        sink,
        &picked,
        &given,
        &window,
        args.out_dir.as_deref(),
    )
    .await?;
    let found = outcomes
        .iter()
        .any(|o| matches!(o.findings, Ok(n) if n > 0));
    Ok(if args.fail_on_findings && found { 1 } else { 0 })
}
