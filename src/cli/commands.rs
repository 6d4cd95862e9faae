//! What each command does with the settings the flags resolved to: the
//! subcommands' drivers, and SQL from `-e`, `-f`, standard input or the
//! shell.
//!
//! Of trailsql it imports `archive`, `console`, `convert`, `dataset`, `error`, `lookup`, `output`, `progress`, `queries`, `read`, `repl`, `sample`, `session`, `verify`, `window`.

use std::io::{IsTerminal, Read};
use std::time::Instant;

use super::{
    AthenaDdlArgs, CompactArgs, ConvertArgs, HistoryArgs, HuntArgs, LookupArgs, RunArgs, Settings,
    VacuumArgs, VerifyArgs,
};
use crate::archive::Source;
use crate::console::{run_sql, say, unless_closed, Sink};
use crate::error::{Error, Result};
use crate::output::{count, Format};
use crate::queries::Catalogue;
use crate::session::{Engine, StatementResult, DEFAULT_TABLE};
use crate::window::Window;

/// `trailsql sample DIR`.
pub fn sample(dir: &std::path::Path, options: &crate::sample::SampleOptions) -> Result<i32> {
    let stats = crate::sample::write_archive(dir, options)?;
    eprintln!(
        "trailsql: wrote {} events in {} log files, {} digest files, {} and {} to {}",
        stats.events,
        stats.files,
        stats.digests,
        crate::sample::PUBLIC_KEYS_FILE,
        crate::sample::PLACES_FILE,
        dir.display()
    );
    eprintln!(
        "trailsql: {} places the sample's addresses (made-up places) for --geoip",
        crate::sample::PLACES_FILE
    );
    for incident in &stats.left_out {
        eprintln!(
            "trailsql: left out, as a sample under {} days is too short for it: {incident}",
            crate::sample::INCIDENT_DAYS
        );
    }
    Ok(0)
}

/// `trailsql athena-ddl DEST`.
pub async fn athena_ddl(settings: &Settings, args: &AthenaDdlArgs) -> Result<i32> {
    let place = Source::at(&args.dest, &settings.read.s3).await?;
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
    Ok(0)
}

/// An engine with the `--source` tables registered.
pub async fn engine(settings: &Settings) -> Result<Engine> {
    let engine = Engine::new(settings.read.clone())
        .with_progress(settings.progress)
        .with_as_of(settings.as_of.clone());
    engine.set_csv_raw(settings.csv_raw);
    if !settings.geoip.is_empty() {
        engine.use_geoip(&settings.geoip)?;
    }
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
    for (name, path) in &settings.sources {
        engine.register_source(name, path).await?;
    }
    Ok(engine)
}

/// The engine for a command that reads the default source (`run`,
/// `hunt`, `lookup`: saved queries read `cloudtrail_events`). With no
/// unnamed source and one named one, that one is the default too; with
/// several named ones, which to read is the user's to say.
pub async fn engine_with_default(settings: &Settings, command: &str) -> Result<Engine> {
    let engine = engine(settings).await?;
    if settings.sources.iter().any(|(n, _)| n == DEFAULT_TABLE) {
        return Ok(engine);
    }
    match settings.sources.as_slice() {
        [] => {}
        [(_, path)] => engine.register_source(DEFAULT_TABLE, path).await?,
        named => {
            let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
            return Err(Error::Usage(format!(
                "{command} reads one archive, and --source gave {} named ones ({}): give \
                 the one to read without a name (--source PATH)",
                named.len(),
                names.join(", ")
            )));
        }
    }
    Ok(engine)
}

/// `trailsql lookup`: the Event history attributes as SQL, run.
pub async fn lookup(engine: &Engine, settings: &Settings, args: &LookupArgs) -> Result<i32> {
    if settings.sources.is_empty() {
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
    run_sql(engine, &settings.sink(), &sql).await?;
    Ok(0)
}

/// SQL from `-e` and `-f`, else standard input when it is not a
/// terminal, else the shell.
pub async fn sql(engine: &Engine, settings: &Settings) -> Result<i32> {
    let sink = settings.sink();
    if !settings.execute.is_empty() || !settings.files.is_empty() {
        for sql in &settings.execute {
            run_sql(engine, &sink, sql).await?;
        }
        for f in &settings.files {
            let sql = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
            run_sql(engine, &sink, &sql).await?;
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
        run_sql(engine, &sink, &sql).await?;
        return Ok(0);
    }
    let catalogue = Catalogue::load(settings.queries.as_deref())?;
    crate::repl::run(engine, sink, &catalogue).await?;
    Ok(0)
}

/// `trailsql convert`: convert what is new, then say what was done.
pub async fn convert(settings: &Settings, args: &ConvertArgs) -> Result<i32> {
    let started = Instant::now();
    if args.upgrade {
        return upgrade(settings, args).await;
    }
    let source = Source::open(&args.source, &settings.read.s3).await?;
    let dest = args
        .dest
        .as_deref()
        .expect("clap requires DEST without --upgrade");
    let dest = Source::at(dest, &settings.read.s3).await?;
    let report = std::sync::Arc::new(crate::read::Report::new());
    let s = {
        let _progress = crate::progress::Progress::start(report.clone(), settings.progress);
        crate::convert::convert(
            &source,
            &dest,
            args.dedupe,
            args.table_format,
            args.group_kib << 10,
            settings.read.max_file_bytes,
            &report,
        )
        .await?
    };
    let mut out = format!(
        "converted {} of {} ({} converted before) into {}: {}, \
         {} MB in, {} MB of Parquet in {}, {:.1} s\n",
        s.objects_converted,
        count(s.objects_listed, "object", "objects"),
        s.objects_already,
        dest.display(),
        count(s.events, "event", "events"),
        s.bytes_in / 1_000_000,
        s.bytes_out / 1_000_000,
        count(s.files_written, "file", "files"),
        started.elapsed().as_secs_f64()
    );
    if s.leftovers_removed > 0 {
        out += &format!(
            "removed {} an interrupted run had left\n",
            count(s.leftovers_removed, "file", "files")
        );
    }
    if s.dedupe {
        out += &format!(
            "{} left out as duplicates (an eventid the dataset already holds)\n",
            count(s.duplicates, "event", "events")
        );
    }
    if s.records_skipped > 0 {
        out += &format!(
            "{} skipped (see the warnings)\n",
            count(s.records_skipped, "record", "records")
        );
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

/// `trailsql convert --upgrade OLD [NEW]`: a dataset of trailsql's own
/// format as a Delta table.
async fn upgrade(settings: &Settings, args: &ConvertArgs) -> Result<i32> {
    let started = Instant::now();
    let from = Source::at(&args.source, &settings.read.s3).await?;
    let to = match &args.dest {
        Some(dest) => Source::at(dest, &settings.read.s3).await?,
        None => from.clone(),
    };
    let s = crate::convert::upgrade(&from, &to).await?;
    let mut out = String::new();
    if s.files > 0 || s.objects > 0 {
        out += &format!(
            "upgraded {} into the Delta table {}: {}, {}, {} copied, {:.1} s\n",
            from.display(),
            to.display(),
            count(s.files, "file", "files"),
            count(s.objects, "source object", "source objects"),
            count(s.copied, "file", "files"),
            started.elapsed().as_secs_f64()
        );
    } else {
        out += &format!("{} is a Delta table already\n", to.display());
    }
    if s.removed_old {
        out += &format!(
            "removed the manifest of the earlier format ({}/_trailsql)\n",
            to.display()
        );
    }
    eprint!("{out}");
    Ok(0)
}

/// `trailsql compact`: merge, then say what was done.
pub async fn compact(settings: &Settings, args: &CompactArgs) -> Result<i32> {
    let dest = Source::at(&args.dest, &settings.read.s3).await?;
    compact_and_say(&dest, args.file_mib).await?;
    Ok(0)
}

/// `trailsql history DEST`: a Delta dataset's versions.
pub async fn history(settings: &Settings, args: &HistoryArgs) -> Result<i32> {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, UInt64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let place = Source::at(&args.dest, &settings.read.s3).await?;
    if crate::dataset::kind_at(&place).await? != Some(crate::dataset::Kind::Delta) {
        return Err(Error::Usage(format!(
            "{}: not a Delta dataset (`trailsql convert` makes one); \
             only Delta datasets keep versions",
            place.display()
        )));
    }
    let versions = crate::dataset::delta::history(&place).await?;
    let time = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
    };
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        Field::new("time", DataType::Utf8, true),
        Field::new("operation", DataType::Utf8, false),
        Field::new("files_added", DataType::UInt64, false),
        Field::new("files_removed", DataType::UInt64, false),
        Field::new("rows_added", DataType::UInt64, false),
        Field::new("objects_converted", DataType::UInt64, true),
        Field::new("written_by", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        std::sync::Arc::new(Int64Array::from_iter_values(
            versions.iter().map(|v| v.version),
        )),
        std::sync::Arc::new(StringArray::from_iter(
            versions.iter().map(|v| time(v.time_ms)),
        )),
        std::sync::Arc::new(StringArray::from_iter_values(
            versions.iter().map(|v| &v.operation),
        )),
        std::sync::Arc::new(UInt64Array::from_iter_values(
            versions.iter().map(|v| v.files_added),
        )),
        std::sync::Arc::new(UInt64Array::from_iter_values(
            versions.iter().map(|v| v.files_removed),
        )),
        std::sync::Arc::new(UInt64Array::from_iter_values(
            versions.iter().map(|v| v.rows_added),
        )),
        std::sync::Arc::new(UInt64Array::from_iter(versions.iter().map(|v| v.objects))),
        std::sync::Arc::new(StringArray::from_iter_values(
            versions.iter().map(|v| &v.engine),
        )),
    ];
    let batch = datafusion::arrow::array::RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let result = crate::session::StatementResult {
        schema,
        batches: vec![batch],
    };
    settings
        .sink()
        .emit(&result, None, std::time::Duration::ZERO)
        .await?;
    Ok(0)
}

/// `trailsql vacuum DEST`: delete what no version younger than `--retain`
/// needs.
pub async fn vacuum(settings: &Settings, args: &VacuumArgs) -> Result<i32> {
    let place = Source::at(&args.dest, &settings.read.s3).await?;
    if crate::dataset::kind_at(&place).await? != Some(crate::dataset::Kind::Delta) {
        return Err(Error::Usage(format!(
            "{}: not a Delta dataset; a dataset in trailsql's own format removes \
             what it no longer needs as it goes",
            place.display()
        )));
    }
    if args.retain < chrono::Duration::days(7) {
        eprintln!(
            "warning: keeping less than 7 days: versions older than that can no longer be \
             read with --as-of, and a conversion or compaction running now may lose files \
             it has not committed yet"
        );
    }
    let v = crate::dataset::delta::vacuum(&place, args.retain, args.dry_run).await?;
    let verb = match v.dry_run {
        true => "would delete",
        false => "deleted",
    };
    let mut out = String::new();
    for f in v.data_files.iter().chain(&v.objects_files) {
        out += &format!("{verb} {}\n", crate::output::escape_control(f));
    }
    out += &format!(
        "{verb} {} and {} from {}\n",
        count(v.data_files.len(), "data file", "data files"),
        count(v.objects_files.len(), "objects file", "objects files"),
        place.display()
    );
    say(&out)?;
    Ok(0)
}

/// Compact `dest` (files of up to `file_mib`), then say what was done.
async fn compact_and_say(dest: &Source, file_mib: u64) -> Result<()> {
    let started = Instant::now();
    let s = crate::convert::compact::compact(dest, file_mib << 20).await?;
    let mut out = String::new();
    if s.leftovers_removed > 0 {
        out += &format!(
            "removed {} an interrupted run had left\n",
            count(s.leftovers_removed, "file", "files")
        );
    }
    if s.partitions > 0 {
        out += &format!(
            "compacted {} into {} in {} of {}: {}, \
             {:.1} MB of Parquet into {:.1} MB, {:.1} s\n",
            count(s.files_before, "file", "files"),
            s.files_after,
            count(s.partitions, "partition", "partitions"),
            dest.display(),
            count(s.rows, "event", "events"),
            s.bytes_in as f64 / 1e6,
            s.bytes_out as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    if s.commits_folded > 0 {
        out += &format!(
            "folded the {} of {} into a checkpoint\n",
            count(s.commits_folded, "commit", "commits"),
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

/// `trailsql verify`: the report, and exit 1 when anything is not valid.
pub async fn verify(settings: &Settings, args: &VerifyArgs) -> Result<i32> {
    let window = Window::parse(
        args.since.as_deref(),
        args.until.as_deref(),
        chrono::Utc::now(),
    )?;
    let source = Source::open(&args.source, &settings.read.s3).await?;
    let (keys, from) = crate::verify::load_keys(&source, settings.read.public_keys.as_deref())?;
    let keys_from = match &from {
        Some(f) => f.display().to_string(),
        None => "none given: signatures not checked".to_string(),
    };
    match from {
        Some(f) if settings.read.public_keys.is_none() => eprintln!(
            "trailsql: public keys from {} (--public-keys FILE to choose)",
            f.display()
        ),
        Some(_) => {}
        None => eprintln!(
            "trailsql: no public keys given (--public-keys FILE, the output of \
             `aws cloudtrail list-public-keys`): signatures cannot be checked"
        ),
    }
    let report =
        crate::verify::verify(&source, &keys, &window, settings.read.max_file_bytes).await?;
    // Nothing checked is no all-clear.
    if report.digests_listed == 0 {
        return Err(Error::Usage(format!(
            "no CloudTrail-Digest files under {}: is log file validation on for this \
             trail, and is this the folder (or prefix) above AWSLogs/?",
            source.display()
        )));
    }
    if report.digests_in_window == 0 {
        return Err(Error::Usage(format!(
            "none of the {} under {} ends between {} and {}",
            count(report.digests_listed, "digest file", "digest files"),
            source.display(),
            args.since.as_deref().unwrap_or("the beginning"),
            args.until.as_deref().unwrap_or("now")
        )));
    }
    // The exit code says what was found, whatever became of the output
    // (`trailsql verify ... | head` in a cron job with pipefail).
    let code = if report.ok() { 0 } else { 1 };
    if let Some(file) = &args.report {
        let facts = [
            ("command", crate::output::command_line()),
            ("source", source.display()),
            ("window", window.describe()),
            ("public keys", keys_from),
        ];
        crate::report::write_verify(&report, &facts, file)?;
        eprintln!("trailsql: wrote the report to {}", file.display());
    }
    unless_closed(print_report(settings, &report).await)?;
    Ok(code)
}

/// The report in the format asked for.
async fn print_report(settings: &Settings, report: &crate::verify::Report) -> Result<()> {
    use crate::verify::{Kind, State};
    match settings.format {
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
                let noun = crate::console::plural(problems.len(), "problem", "problems");
                out += &format!("\n{} {noun}:\n", problems.len());
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
            match &settings.output {
                Some(path) => std::fs::write(path, out).map_err(|e| Error::io(path, e))?,
                None => say(&out)?,
            }
        }
        format => {
            let batch = crate::verify::as_table(report)?;
            let result = StatementResult {
                schema: batch.schema(),
                batches: vec![batch],
            };
            let sink = Sink {
                format,
                ..settings.sink()
            };
            sink.emit(&result, None, std::time::Duration::ZERO).await?;
        }
    }
    Ok(())
}

/// `trailsql run`: saved queries over the registered sources.
pub async fn run_saved(engine: &Engine, settings: &Settings, args: &RunArgs) -> Result<i32> {
    if settings.sources.is_empty() {
        return Err(Error::Usage(
            "run needs an archive: add --source PATH".into(),
        ));
    }
    if settings.output.is_some() {
        return Err(Error::Usage(
            "run writes one result per query: use --out-dir DIR instead of -o".into(),
        ));
    }
    let catalogue = Catalogue::load(settings.queries.as_deref())?;
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
    let window = args.window.window()?;
    let outcomes = crate::queries::run_queries(
        engine,
        &settings.sink(),
        &picked,
        &given,
        &window,
        args.out_dir.as_deref(),
    )
    .await?;
    let checked = match args.report.is_some() || args.evidence.is_some() {
        true => crate::evidence::check_and_say(&settings.read).await?,
        false => None,
    };
    let sources: Vec<String> = settings.sources.iter().map(|(_, p)| p.clone()).collect();
    if let Some(dir) = &args.evidence {
        let pieces = outcomes
            .iter()
            .map(|o| {
                let q = o.query;
                crate::evidence::Piece {
                    name: q.name.clone(),
                    text_file: format!("queries/{}.sql", q.name),
                    id: q.id.clone(),
                    severity: q.severity.as_str().to_string(),
                    title: q.title.clone(),
                    text: q.sql.clone(),
                    origin: q.origin.clone(),
                    params: q.shown_params(&given),
                    result: o.answer.as_ref().map_err(Clone::clone),
                }
            })
            .collect();
        crate::evidence::record(
            dir,
            crate::evidence::Pack {
                command: crate::output::command_line(),
                sources: sources.clone(),
                window: window.describe(),
                pieces,
                ledger: settings.read.ledger.as_deref(),
                checked: checked.as_ref(),
            },
        )?;
    }
    if let Some(file) = &args.report {
        let mut run = crate::queries::report_run(&outcomes, &given, &window, sources);
        run.integrity = checked;
        crate::report::write(engine, &run, file).await?;
        eprintln!("trailsql: wrote the report to {}", file.display());
    }
    let found = outcomes.iter().any(|o| o.findings().is_some_and(|n| n > 0));
    Ok(if args.fail_on_findings && found { 1 } else { 0 })
}

/// `trailsql evidence check DIR [--sha256 HEX] [--logs]`: 0 when every
/// file (and with `--logs` every log file it lists) is as written, 1 when
/// one changed, went missing or was added.
pub async fn evidence_check(
    settings: &Settings,
    dir: &std::path::Path,
    sha256: Option<&str>,
    logs: bool,
) -> Result<i32> {
    use crate::evidence::Finding;
    let mut changed = 0;
    if let Some(want) = sha256 {
        let manifest = dir.join(crate::evidence::MANIFEST);
        let bytes = std::fs::read(&manifest).map_err(|e| Error::io(&manifest, e))?;
        if crate::verify::sha256_hex(&bytes) == want.trim().to_ascii_lowercase() {
            say(&format!("unchanged  {}\n", crate::evidence::MANIFEST))?;
        } else {
            changed += 1;
            say(&format!(
                "changed    {} (its SHA-256 is not the one given)\n",
                crate::evidence::MANIFEST
            ))?;
        }
    }
    let mut found = crate::evidence::check(dir)?;
    if logs {
        found.extend(crate::evidence::check_sources(dir, &settings.read.s3).await?);
    }
    let mut unchanged = 0;
    for f in &found {
        let line = match f {
            Finding::Unchanged(_) => {
                unchanged += 1;
                continue;
            }
            Finding::Changed(n) => format!("changed    {n}"),
            Finding::Missing(n) => format!("missing    {n}"),
            Finding::Added(n) => format!("added      {n}"),
            Finding::Outside(n) => {
                format!("outside    {n} (the manifest names a file outside the pack)")
            }
        };
        changed += 1;
        say(&format!("{}\n", crate::output::escape_control(&line)))?;
    }
    say(&format!(
        "{}: {unchanged} {} as written, {changed} not\n",
        crate::output::escape_control(&dir.display().to_string()),
        crate::console::plural(unchanged, "file", "files")
    ))?;
    Ok(if changed > 0 { 1 } else { 0 })
}

/// `trailsql hunt --list`: every detection hunt would run, and why one
/// would not.
pub async fn hunt_list(settings: &Settings, args: &HuntArgs) -> Result<i32> {
    let catalogue = match args.no_builtins {
        true => None,
        false => Some(Catalogue::load(settings.queries.as_deref())?),
    };
    let list = crate::hunt::list(catalogue.as_ref(), &args.sigma, &|tags, level| {
        args.pick.picks(tags, level)
    })
    .await?;
    settings
        .sink()
        .emit(&list, None, std::time::Duration::ZERO)
        .await?;
    Ok(0)
}

/// `trailsql hunt --sigma PATH`: the Sigma rules for CloudTrail under the
/// paths, in one query over the registered archive.
pub async fn hunt(engine: &Engine, settings: &Settings, args: &HuntArgs) -> Result<i32> {
    if settings.sources.is_empty() {
        return Err(Error::Usage(
            "hunt needs an archive: add --source PATH".into(),
        ));
    }
    let min_level = match &args.min_level {
        None => crate::sigma::Level::Informational,
        Some(l) => crate::sigma::Level::parse(l).ok_or_else(|| {
            Error::Usage(format!(
                "--min-level {l:?}: one of informational, low, medium, high, critical"
            ))
        })?,
    };
    let window = args.window.window()?;
    if args.no_builtins && args.sigma.is_empty() {
        return Err(Error::Usage(
            "hunt --no-builtins needs Sigma rules: add --sigma PATH".into(),
        ));
    }
    let catalogue = match args.no_builtins {
        true => None,
        false => Some(Catalogue::load(settings.queries.as_deref())?),
    };
    let params = crate::queries::parse_pairs(args.params.iter().map(String::as_str))?;
    if let Some(key) = params.keys().find(|k| {
        !catalogue.as_ref().is_some_and(|c| {
            c.all(None)
                .iter()
                .any(|q| q.params.iter().any(|p| &p.name == *k))
        })
    }) {
        return Err(Error::Usage(format!(
            "no built-in detection takes the parameter {key:?} (run --list shows each one's)"
        )));
    }
    let findings = crate::hunt::hunt(
        engine,
        &settings.sink(),
        &crate::hunt::Hunt {
            rules: &args.sigma,
            builtins: catalogue.as_ref(),
            params: &params,
            min_level,
            window,
            strict: settings.read.strict,
            out_dir: args.out_dir.as_deref(),
            report: args.report.as_deref(),
            sources: settings.sources.iter().map(|(_, p)| p.clone()).collect(),
            keep: None,
            evidence: args.evidence.as_deref(),
            read: &settings.read,
        },
    )
    .await?;
    Ok(if args.fail_on_findings && findings > 0 {
        1
    } else {
        0
    })
}
