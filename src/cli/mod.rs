//! Command-line definitions (clap) and the driver that runs SQL from `-e`,
//! `-f`, standard input or the interactive shell, and each subcommand.
//! Errors come back here and become exit codes. The top of the house: it
//! may import every room, and none imports it.

mod commands;

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::archive::s3::S3Options;
use crate::console::{say, Sink};
use crate::error::{Error, Result};
use crate::lookup::LookupArgs;
use crate::output::Format;
use crate::queries::Catalogue;
use crate::sample::SampleOptions;
use crate::session::DEFAULT_TABLE;
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
    /// and `cloudtrail_integrity`. Repeatable. `run`, `hunt` and `lookup`
    /// read the bare one, or the only one given.
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
    /// Write CSV text cells exactly as they are. By default a cell that a
    /// spreadsheet would run as a formula (it begins with =, +, -, @, a tab
    /// or a carriage return, and is not a number) gets a leading '.
    #[arg(long, global = true)]
    pub csv_raw: bool,
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
    /// A log file that holds more than this many MiB (gzip inflated) is
    /// skipped unread, with a warning (an error under --strict): a planted
    /// gzip bomb cannot take the machine's memory.
    #[arg(long, value_name = "MIB", default_value_t = crate::read::DEFAULT_MAX_FILE_MIB, global = true)]
    pub max_file_mib: u64,
    /// Days after an event's day within which its log file may have been
    /// delivered (for pruning by eventtime).
    #[arg(long, value_name = "DAYS", default_value_t = crate::archive::DEFAULT_LATE_DAYS, global = true)]
    pub late_days: u64,
    /// Read Delta datasets as they were: at a version (`trailsql history`
    /// lists them) or a time (2026-12-01T10:00:00Z, or a day, its start in
    /// UTC), so that findings can be re-run on the data they came from.
    #[arg(long, value_name = "VERSION|TIME", global = true,
          value_parser = crate::dataset::delta::AsOf::parse)]
    pub as_of: Option<crate::dataset::delta::AsOf>,
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
    /// A MaxMind-format database (.mmdb: GeoLite2/GeoIP2 Country, City or
    /// ASN, DB-IP's, ...) for geoip_country(ip), geoip_city, geoip_asn,
    /// geoip_org and the others. Repeatable: each is asked in turn. None is
    /// shipped or downloaded.
    #[arg(long, value_name = "FILE", global = true)]
    pub geoip: Vec<PathBuf>,
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
    /// Run Sigma rules for CloudTrail over the archive in one pass: one
    /// finding per (rule, event), on a timeline.
    Hunt(HuntArgs),
    /// Look events up by the console's Event history attributes, newest first.
    Lookup(LookupArgs),
    /// Convert an archive to a partitioned Parquet dataset, or bring one up
    /// to date: only objects not converted before are read.
    Convert(ConvertArgs),
    /// Merge each partition's small Parquet files (one per conversion run
    /// that added to it) into one, so queries open fewer files.
    Compact(CompactArgs),
    /// The versions of a Delta dataset: when, what operation, what each
    /// added and removed (read one with --as-of VERSION).
    History(HistoryArgs),
    /// Delete the files of a Delta dataset that no version younger than
    /// --retain needs (replaced by a compaction, or left by a killed run).
    Vacuum(VacuumArgs),
    /// Print the CREATE EXTERNAL TABLE (with partition projection) that lets
    /// Athena, Trino or Spark query a converted dataset once it is in S3.
    AthenaDdl(AthenaDdlArgs),
    /// Check the archive's digest files: every log file present and unchanged,
    /// every digest signed and chained, no gaps.
    Verify(VerifyArgs),
    /// Evidence packs (`run --evidence DIR`).
    #[command(subcommand)]
    Evidence(EvidenceCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum EvidenceCommand {
    /// Hash an evidence pack's files again and name each one that changed,
    /// went missing or was added since it was written; exit 1 if any did.
    Check {
        /// The pack's folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The manifest's SHA-256 as `run --evidence` printed it (kept
        /// apart from the pack): the manifest is checked against it too.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// Read the log files the pack lists again and name each one that
        /// changed or is gone.
        #[arg(long)]
        logs: bool,
    },
}

fn parse_format(text: &str) -> Result<crate::dataset::Kind, String> {
    use crate::dataset::Kind;
    match text {
        "delta" => Ok(Kind::Delta),
        "trailsql" => Ok(Kind::Trailsql),
        _ => Err(format!("{text}: the table formats are delta and trailsql")),
    }
}

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The archive: anything --source takes (a folder, s3://bucket/prefix).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The dataset: a folder or s3://bucket/prefix (made if missing; a
    /// dataset there is added to). With --upgrade, where the Delta table
    /// goes (default: in SOURCE's place).
    #[arg(value_name = "DEST", required_unless_present = "upgrade")]
    pub dest: Option<String>,
    /// SOURCE is a dataset in the format of earlier trailsql versions: turn
    /// it into a Delta table, in place or as DEST, from its Parquet files
    /// and manifest (the raw archive is not read again).
    #[arg(long, conflicts_with_all = ["dedupe", "table_format", "compact"])]
    pub upgrade: bool,
    /// Keep each eventid once (two trails, or a re-delivery, can log one
    /// event twice). Chosen when the dataset is made; later runs keep it.
    #[arg(long)]
    pub dedupe: bool,
    /// The format of a new dataset: `delta` (the default), a Delta Lake
    /// table that Athena, Trino, Spark and DuckDB read as it is, with
    /// history; or `trailsql`, the format of earlier versions, for a
    /// trailsql that does not read Delta. An existing dataset keeps its own.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub table_format: Option<crate::dataset::Kind>,
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
pub struct HistoryArgs {
    /// The Delta dataset: a folder or s3://bucket/prefix.
    #[arg(value_name = "DEST")]
    pub dest: String,
}

#[derive(Debug, clap::Args)]
pub struct VacuumArgs {
    /// The Delta dataset: a folder or s3://bucket/prefix.
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// Keep what the versions of this long ago need, so that they can still
    /// be read (--as-of) and a run still writing is not robbed of its
    /// files: a number of days, hours or minutes (7d, 12h, 30m).
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = parse_age)]
    pub retain: chrono::Duration,
    /// List what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `7d`, `12h`, `30m`: an age.
fn parse_age(text: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("{text}: an age is a number of days, hours or minutes (7d, 12h, 30m)");
    let t = text.trim();
    let (n, unit) = t.split_at(t.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    if n < 0 {
        return Err(bad());
    }
    match unit {
        "d" => Ok(chrono::Duration::days(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        _ => Err(bad()),
    }
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
    /// Also write the result as one self-contained HTML page (files by
    /// state, the problems, every file checked) that opens offline.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
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
    #[command(flatten)]
    pub window: WindowArgs,
    /// Write one CSV per query, and summary.csv, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Write the run as one self-contained HTML page (charts, every
    /// query's findings with their events) that opens offline.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Write an evidence pack into DIR (a new folder): the queries as run,
    /// parameters, window, version, every log file read with its SHA-256,
    /// results as CSV and Parquet, and a manifest of their SHA-256
    /// (`trailsql evidence check DIR`).
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Exit with code 1 when any query finds anything (for cron and CI).
    #[arg(long)]
    pub fail_on_findings: bool,
    /// List the saved queries (name, severity, title, parameters) and exit.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub pick: ListPick,
}

/// What `run --list` and `hunt --list` show: those with an ATT&CK tactic,
/// a technique, a level.
#[derive(Debug, clap::Args)]
pub struct ListPick {
    /// With --list: only detections tagged with this ATT&CK tactic
    /// (`defense-evasion`, `credential-access`, ...).
    #[arg(long, value_name = "TACTIC", requires = "list")]
    pub tactic: Option<String>,
    /// With --list: only detections tagged with this ATT&CK technique
    /// (`T1562`, which takes in its sub-techniques, or `T1562.008`).
    #[arg(long, value_name = "ID", requires = "list")]
    pub technique: Option<String>,
    /// With --list: only detections of this level or above (informational,
    /// low, medium, high, critical; a saved query's info is informational).
    #[arg(long, value_name = "LEVEL", requires = "list")]
    pub level: Option<String>,
}

impl ListPick {
    /// Whether a detection with these tags and level is listed.
    pub fn picks(&self, tags: &[&str], level: crate::sigma::Level) -> Result<bool> {
        let tag = |t: &str| t.trim().to_ascii_lowercase();
        if let Some(tactic) = &self.tactic {
            let want = format!("attack.{}", tag(tactic).replace([' ', '_'], "-"));
            if !tags.iter().any(|t| tag(t) == want) {
                return Ok(false);
            }
        }
        if let Some(technique) = &self.technique {
            let want = format!("attack.{}", tag(technique));
            let under = |t: &str| t == want || t.starts_with(&format!("{want}."));
            if !tags.iter().any(|t| under(&tag(t))) {
                return Ok(false);
            }
        }
        if let Some(l) = &self.level {
            let min = crate::sigma::Level::parse(l).ok_or_else(|| {
                Error::Usage(format!(
                    "--level {l:?}: one of informational, low, medium, high, critical"
                ))
            })?;
            return Ok(level >= min);
        }
        Ok(true)
    }
}

/// `--since` / `--until`, as `run` and `hunt` take them.
#[derive(Debug, clap::Args)]
pub struct WindowArgs {
    /// Look at events from this time on: 2025-10-20, 2025-10-20T14:00:00Z, or an age (7d, 24h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Look at events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl WindowArgs {
    /// The window they give, ages counted back from now.
    pub fn window(&self) -> Result<Window> {
        Window::parse(
            self.since.as_deref(),
            self.until.as_deref(),
            chrono::Utc::now(),
        )
    }
}

#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    /// A Sigma rule file, or a folder searched recursively for .yml and
    /// .yaml files (a checkout of SigmaHQ's rules, say). Repeatable.
    #[arg(long = "sigma", value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Leave out the built-in detections (the saved queries that name
    /// events): Sigma rules only.
    #[arg(long)]
    pub no_builtins: bool,
    /// Only rules of this level or above: informational, low, medium, high, critical.
    #[arg(long, value_name = "LEVEL")]
    pub min_level: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Write timeline.csv, one CSV per detection that fired (detections/)
    /// and summary.csv into DIR.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Write the hunt as one self-contained HTML page (charts, every
    /// detection that fired with its findings and their events) that
    /// opens offline.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Write an evidence pack into DIR (a new folder): the rules and
    /// queries as run, parameters, window, version, every log file read
    /// with its SHA-256, the findings as CSV and Parquet, and a manifest of
    /// their SHA-256 (`trailsql evidence check DIR`).
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Exit with code 1 when any rule finds anything (for cron and CI).
    #[arg(long)]
    pub fail_on_findings: bool,
    /// A parameter of the built-in detections, KEY=VALUE (an allowlist, a
    /// threshold): every detection that takes it gets it. Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// List the detections (built-in, your --queries folder, the Sigma
    /// rules under --sigma) with id, title, level, tags, source and whether
    /// each runs, and exit.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub pick: ListPick,
}

/// The flags, resolved once: what the commands take their options from.
pub struct Settings {
    /// `--source` as (table, path), each table once.
    pub sources: Vec<(String, String)>,
    pub execute: Vec<String>,
    pub files: Vec<PathBuf>,
    /// How tables read (`--strict`, `--late-days`, `--public-keys`, S3).
    pub read: ReadOptions,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub csv_raw: bool,
    pub stats: bool,
    pub max_rows: Option<usize>,
    pub queries: Option<PathBuf>,
    pub progress: crate::progress::ProgressMode,
    /// `--geoip` databases.
    pub geoip: Vec<PathBuf>,
    /// `--as-of`: which version of Delta datasets to read.
    pub as_of: Option<crate::dataset::delta::AsOf>,
}

impl Settings {
    fn new(cli: &Cli) -> Result<Settings> {
        let mut sources: Vec<(String, String)> = Vec::new();
        for s in &cli.sources {
            let (name, path) = parse_source(s);
            if sources.iter().any(|(n, _)| *n == name) {
                return Err(Error::Usage(format!(
                    "table {name:?} is given twice in --source"
                )));
            }
            sources.push((name, path));
        }
        // An evidence pack lists each log file read with the
        // SHA-256 of its bytes as read; by those hashes both it and
        // a report check the files read against their digests.
        let ledger = match &cli.command {
            Some(Command::Run(RunArgs {
                evidence, report, ..
            }))
            | Some(Command::Hunt(HuntArgs {
                evidence, report, ..
            })) if evidence.is_some() || report.is_some() => {
                // What the files inflate to is hashed only where
                // digests will be checked: public keys given, or
                // beside a local copy.
                let keys = cli.public_keys.is_some()
                    || sources.iter().any(|(_, path)| {
                        std::path::Path::new(path)
                            .join(crate::verify::PUBLIC_KEYS_FILE)
                            .is_file()
                    });
                Some(std::sync::Arc::new(crate::read::Ledger::new(keys)))
            }
            _ => None,
        };
        Ok(Settings {
            sources,
            execute: cli.execute.clone(),
            files: cli.files.clone(),
            read: ReadOptions {
                strict: cli.strict,
                late_days: cli.late_days,
                max_file_bytes: cli.max_file_mib.saturating_mul(1 << 20),
                public_keys: cli.public_keys.clone(),
                s3: S3Options {
                    profile: cli.profile.clone(),
                    region: cli.region.clone(),
                    endpoint: cli.endpoint_url.clone(),
                    no_sign_request: cli.no_sign_request,
                    max_concurrency: cli.max_concurrency,
                    cache: cli.cache.clone(),
                },
                ledger,
            },
            format: cli.format,
            output: cli.output.clone(),
            csv_raw: cli.csv_raw,
            stats: cli.stats,
            max_rows: cli.max_rows,
            queries: cli.queries.clone(),
            progress: cli.progress,
            geoip: cli.geoip.clone(),
            as_of: cli.as_of.clone(),
        })
    }

    /// Where results go, as the flags say.
    pub fn sink(&self) -> Sink {
        Sink {
            format: self.format,
            output: self.output.clone(),
            timing: None,
            stats: self.stats,
            max_rows: self.max_rows,
            csv_raw: self.csv_raw,
            begun: Default::default(),
            more: None,
        }
    }
}

/// The options of S3 sources, which every command that reads or writes an
/// archive or a dataset takes.
const S3_FLAGS: &[&str] = &[
    "profile",
    "region",
    "endpoint_url",
    "no_sign_request",
    "max_concurrency",
];

/// The flags of the top level (by clap id) a subcommand uses; any other
/// given with it is refused, so that nothing typed is silently ignored.
fn flags_used(command: &Command) -> Vec<&'static str> {
    let output = ["format", "output", "csv_raw", "stats", "max_rows"];
    let query = [
        "sources",
        "strict",
        "max_file_mib",
        "late_days",
        "public_keys",
        "cache",
        "progress",
        "geoip",
        "as_of",
    ];
    let mut used: Vec<&'static str> = match command {
        Command::Sample { .. } => return Vec::new(),
        Command::Demo { .. } => return output.to_vec(),
        Command::Run(_) => [&output[..], &query[..], &["queries"]].concat(),
        Command::Hunt(_) => [&output[..], &query[..], &["queries"]].concat(),
        Command::Lookup(_) => [&output[..], &query[..]].concat(),
        Command::Convert(_) => vec!["cache", "progress", "max_file_mib"],
        Command::Compact(_) | Command::AthenaDdl(_) | Command::Vacuum(_) => Vec::new(),
        Command::History(_) => output.to_vec(),
        Command::Evidence(_) => vec!["late_days"],
        Command::Verify(_) => vec![
            "format",
            "output",
            "csv_raw",
            "public_keys",
            "cache",
            "max_file_mib",
        ],
    };
    used.extend(S3_FLAGS);
    used
}

/// Refuse the flags given that `name` does not use.
fn refuse_unused(matches: &clap::ArgMatches, name: &str, command: &Command) -> Result<()> {
    let used = flags_used(command);
    let top = Cli::command();
    let unused: Vec<String> = top
        .get_arguments()
        .filter(|a| !used.contains(&a.get_id().as_str()))
        .filter(|a| {
            matches.value_source(a.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|a| match (a.get_long(), a.get_short()) {
            (Some(long), _) => format!("--{long}"),
            (None, Some(short)) => format!("-{short}"),
            (None, None) => a.get_id().to_string(),
        })
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "trailsql {name} does not use {}: leave {} out",
        unused.join(", "),
        if unused.len() == 1 { "it" } else { "them" }
    )))
}

/// Parse arguments, run, and return the exit code.
pub fn main() -> i32 {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
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
    match runtime.block_on(run(&matches, cli)) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            eprintln!("trailsql: error: {}", message(&e));
            e.exit_code()
        }
    }
}

/// An error as printed: each line with its control characters escaped
/// (text from a log cannot act on the terminal), lines after the first
/// indented (DataFusion's "Did you mean ...?" stays on a line of its own,
/// and no line passes for a message of its own).
fn message(e: &Error) -> String {
    e.to_string()
        .lines()
        .map(crate::output::escape_control)
        .collect::<Vec<_>>()
        .join("\n  ")
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

async fn run(matches: &clap::ArgMatches, cli: Cli) -> Result<i32> {
    if let (Some(command), Some(name)) = (&cli.command, matches.subcommand_name()) {
        refuse_unused(matches, name, command)?;
    }
    let settings = Settings::new(&cli)?;
    match &cli.command {
        Some(Command::Sample { dir, options }) => commands::sample(dir, options),
        Some(Command::Demo { dir }) => crate::sample::demo(dir.clone(), &settings.sink()).await,
        Some(Command::Verify(args)) => commands::verify(&settings, args).await,
        Some(Command::Evidence(EvidenceCommand::Check { dir, sha256, logs })) => {
            commands::evidence_check(&settings, dir, sha256.as_deref(), *logs).await
        }
        Some(Command::Convert(args)) => commands::convert(&settings, args).await,
        Some(Command::Compact(args)) => commands::compact(&settings, args).await,
        Some(Command::History(args)) => commands::history(&settings, args).await,
        Some(Command::Vacuum(args)) => commands::vacuum(&settings, args).await,
        Some(Command::AthenaDdl(args)) => commands::athena_ddl(&settings, args).await,
        Some(Command::Run(args)) if args.list => {
            let catalogue = Catalogue::load(settings.queries.as_deref())?;
            let mut picked = Vec::new();
            for q in catalogue.all(None) {
                let tags: Vec<&str> = q.tags.iter().map(String::as_str).collect();
                if args.pick.picks(&tags, crate::hunt::level_of(q))? {
                    picked.push(q);
                }
            }
            say(&crate::queries::listing(&picked))?;
            Ok(0)
        }
        Some(Command::Run(args)) => {
            let engine = commands::engine_with_default(&settings, "run").await?;
            commands::run_saved(&engine, &settings, args).await
        }
        Some(Command::Lookup(args)) => {
            let engine = commands::engine_with_default(&settings, "lookup").await?;
            commands::lookup(&engine, &settings, args).await
        }
        Some(Command::Hunt(args)) if args.list => commands::hunt_list(&settings, args).await,
        Some(Command::Hunt(args)) => {
            let engine = commands::engine_with_default(&settings, "hunt").await?;
            commands::hunt(&engine, &settings, args).await
        }
        None => {
            let engine = commands::engine(&settings).await?;
            commands::sql(&engine, &settings).await
        }
    }
}
