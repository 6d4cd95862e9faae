//! Evidence packs: `run --evidence DIR` and `hunt --evidence DIR` write
//! what a run did so that it can be shown later and checked: the exact
//! queries and rules run, the values of their parameters and the window,
//! trailsql's version and command line, each one's results as CSV
//! (formula-guarded, as `--out-dir` writes them) and Parquet (exact), the
//! log files the run read (location, size, version or modification time,
//! the SHA-256 of their bytes as the run read them, and, where digest files
//! were checked, whether each is as CloudTrail wrote it), and
//! `manifest.json` tying them together with the SHA-256 of every file.
//! `trailsql evidence check DIR` hashes the files again and names each one
//! that changed, went missing or was added, and with `--logs` the log
//! files too.
//!
//! Of trailsql it imports `archive`, `console`, `error`, `output`, `read`,
//! `session`, `table` (read options), `verify`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::output::{Cells, Format, TableStyle};
use crate::session::StatementResult;

/// The manifest's name in a pack.
pub const MANIFEST: &str = "manifest.json";

/// One query or rule of the run, as the pack records it.
pub struct Piece<'a> {
    /// Where its results go: `results/<name>.csv` (`area/name` for a
    /// saved query, `sigma/<id>` for a rule).
    pub name: String,
    /// Where its text goes in the pack (`queries/<area>/<name>.sql`,
    /// `rules/<id>.yml`).
    pub text_file: String,
    pub id: String,
    pub severity: String,
    pub title: String,
    /// The SQL or the rule, exactly as run.
    pub text: String,
    /// Where it came from: `built-in` or its file.
    pub origin: String,
    pub params: Vec<(String, String)>,
    /// Its rows, or why it was not run.
    pub result: std::result::Result<&'a StatementResult, String>,
}

/// What was run, on what.
pub struct Pack<'a> {
    pub command: String,
    pub sources: Vec<String>,
    pub window: String,
    pub pieces: Vec<Piece<'a>>,
    /// The log files the run read (none listed without it).
    pub ledger: Option<&'a crate::read::Ledger>,
    /// Their integrity, where their digests were checked.
    pub checked: Option<&'a Checked>,
}

/// One log file of a source, as the pack records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceObject {
    pub source: String,
    /// Path (local) or key (S3).
    pub location: String,
    pub size: u64,
    /// S3's ETag (or size and last-modified time), or a local file's
    /// modification time.
    pub version: Option<String>,
    /// Of its bytes, as the run read them.
    pub sha256: String,
    /// How many times the run read it (statements that could not share
    /// one pass read it again).
    #[serde(default = "one")]
    pub reads: u64,
    /// A later read gave other bytes than the first: it changed while the
    /// run read it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub changed_during_run: bool,
    /// Whether it is as CloudTrail wrote it, where its digests were checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<Integrity>,
    /// It was read but is not a log file whole: not gzip or JSON as it
    /// should be, or records of it that could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A log file the run listed but could not read (too big for
/// `--max-file-mib`, say).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NotRead {
    pub source: String,
    pub location: String,
    /// As listed.
    pub size: u64,
    pub why: String,
}

fn one() -> u64 {
    1
}

/// A log file's state by its digest files (as `trailsql verify` says it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Integrity {
    /// `valid`, `modified`, `not covered`, ... or `not checked`.
    pub state: String,
    /// The digest file that lists it, and that digest's own state.
    pub digest: Option<String>,
    pub digest_state: Option<String>,
    /// It is not as CloudTrail wrote it, or cannot be shown to be.
    pub problem: bool,
    pub detail: String,
}

/// The log files the run read, from its ledger, each with the SHA-256 of
/// its bytes as read (and its integrity, where checked). A converted
/// dataset's Parquet files are not listed: they are trailsql's own, and
/// the raw archive they came from is the evidence.
pub fn objects_read(ledger: &crate::read::Ledger, checked: &Checked) -> Vec<SourceObject> {
    let problems = ledger.problems();
    ledger
        .entries()
        .into_iter()
        .map(|(key, seen)| SourceObject {
            integrity: checked.files.get(&key).cloned(),
            problem: problems.get(&key).map(|p| p.why.clone()),
            source: key.0,
            location: key.1,
            size: seen.size,
            version: seen.version,
            sha256: seen.sha256,
            reads: seen.reads,
            changed_during_run: seen.differed,
        })
        .collect()
}

/// The files a run read, checked against their sources' digest files.
#[derive(Debug, Default)]
pub struct Checked {
    /// By (source, location), of every file read from a source whose
    /// digests could be checked.
    pub files: BTreeMap<(String, String), Integrity>,
    /// Where each checked source's public keys came from.
    pub keys: Vec<(String, String)>,
}

impl Checked {
    /// How many files are in each state, for a line of text.
    pub fn tally(&self) -> String {
        tally(self.files.values())
    }

    /// Whether any file read is not as CloudTrail wrote it (or could not
    /// be shown to be).
    pub fn problems(&self) -> usize {
        self.files.values().filter(|i| i.problem).count()
    }
}

/// How many of `files` are in each state (`3 valid, 1 modified`).
fn tally<'a>(files: impl Iterator<Item = &'a Integrity>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in files {
        *counts.entry(i.state.as_str()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check the log files in `ledger` against the digest files of their
/// sources, by the SHA-256 of their content as the run read it: a source
/// is checked when public keys are at hand for it (`--public-keys`, or
/// `public-keys.json` in a local copy), from the digests that cover the
/// deliveries of the files read (no log file is read again).
pub async fn check_read(
    ledger: &crate::read::Ledger,
    read: &crate::table::ReadOptions,
) -> Result<Checked> {
    use crate::verify::Kind;
    let mut by_source: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    for ((source, location), seen) in ledger.entries() {
        by_source
            .entry(source)
            .or_default()
            .push((location, seen.content_sha256));
    }
    let mut checked = Checked::default();
    for (name, files) in by_source {
        let source = crate::archive::Source::open(&name, &read.s3).await?;
        let (keys, from) = crate::verify::load_keys(&source, read.public_keys.as_deref())?;
        let Some(from) = from else { continue };
        checked
            .keys
            .push((name.clone(), from.display().to_string()));
        // The digests of the files read, whatever the run's window: a
        // detection that learns what is usual reads before it.
        let Some(span) = crate::verify::delivery_window(files.iter().map(|(l, _)| l.as_str()))
        else {
            continue;
        };
        let known: std::collections::HashMap<String, String> = files
            .iter()
            .filter_map(|(l, sha)| Some((l.clone(), sha.clone()?)))
            .collect();
        let report =
            crate::verify::verify_knowing(&source, &keys, &span, read.max_file_bytes, Some(&known))
                .await?;
        let digest_state = report.digest_states();
        let logs: BTreeMap<&str, &crate::verify::Finding> = report
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Log)
            .map(|f| (f.file.as_str(), f))
            .collect();
        for (location, _) in files {
            let integrity = match logs.get(location.as_str()) {
                Some(f) => {
                    let of_digest = f.digest.as_deref().and_then(|d| digest_state.get(d));
                    let mut detail = f.detail.clone();
                    if let Some(d) = of_digest.filter(|d| d.is_problem()) {
                        detail = format!("{detail}; its digest: {}", d.as_str());
                    }
                    Integrity {
                        state: f.state.as_str().to_string(),
                        digest: f.digest.clone(),
                        digest_state: of_digest.map(|d| d.as_str().to_string()),
                        problem: f.state.is_problem() || of_digest.is_some_and(|d| d.is_problem()),
                        detail,
                    }
                }
                None => Integrity {
                    state: "not checked".into(),
                    digest: None,
                    digest_state: None,
                    problem: false,
                    detail: "no digest file lists it: not a log file of a trail's \
                             layout"
                        .into(),
                },
            };
            checked.files.insert((name.clone(), location), integrity);
        }
    }
    Ok(checked)
}

/// The log files the run listed but could not read at all.
pub fn not_read(ledger: &crate::read::Ledger) -> Vec<NotRead> {
    let read: std::collections::HashSet<(String, String)> =
        ledger.entries().into_iter().map(|(k, _)| k).collect();
    ledger
        .problems()
        .into_iter()
        .filter(|(key, _)| !read.contains(key))
        .map(|((source, location), p)| NotRead {
            source,
            location,
            size: p.size,
            why: p.why,
        })
        .collect()
}

/// A name from a query or a rule (a Sigma rule's id is the rule writer's
/// text) as a path inside the pack: its parts kept to letters, digits,
/// `.`, `_` and `-`, none of them `.` or `..`.
pub fn safe_path(name: &str) -> String {
    name.split('/')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let part: String = part
                .chars()
                .map(|c| match c {
                    c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => c,
                    _ => '_',
                })
                .collect();
            if part.chars().all(|c| c == '.') {
                part.replace('.', "_")
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn sha256_of(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(crate::verify::sha256_hex(&bytes))
}

/// Write `pack` into `dir` (made if missing; a pack already there is
/// refused, so that evidence is never overwritten).
pub fn write(dir: &Path, pack: &Pack<'_>) -> Result<()> {
    if dir.join(MANIFEST).exists() {
        return Err(Error::Usage(format!(
            "{}: an evidence pack is there already; give a new folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut queries = Vec::new();
    for p in &pack.pieces {
        let text_file = safe_path(&p.text_file);
        let path = dir.join(&text_file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, &p.text).map_err(|e| Error::io(&path, e))?;
        files.insert(text_file.clone(), sha256_of(&path)?);
        let params: BTreeMap<&str, &str> = p
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut entry = json!({
            "name": p.name,
            "id": p.id,
            "severity": p.severity,
            "title": p.title,
            "origin": p.origin,
            "text": text_file,
            "params": params,
        });
        match &p.result {
            Err(why) => {
                entry["not_run"] = json!(why);
            }
            Ok(result) => {
                let csv = safe_path(&format!("results/{}.csv", p.name));
                let guarded = Cells {
                    escape: false,
                    csv_safe: true,
                };
                crate::console::write_csv(&dir.join(&csv), result, guarded)?;
                files.insert(csv.clone(), sha256_of(&dir.join(&csv))?);
                let parquet = safe_path(&format!("results/{}.parquet", p.name));
                let path = dir.join(&parquet);
                let mut out = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
                crate::output::write_batches(
                    Format::Parquet,
                    &result.schema,
                    &result.batches,
                    &TableStyle::default(),
                    Cells {
                        escape: false,
                        csv_safe: false,
                    },
                    &mut out,
                )?;
                files.insert(parquet.clone(), sha256_of(&path)?);
                entry["rows"] = json!(result.rows());
                entry["csv"] = json!(csv);
                entry["parquet"] = json!(parquet);
            }
        }
        queries.push(entry);
    }
    let empty = Checked::default();
    let checked = pack.checked.unwrap_or(&empty);
    let objects = pack
        .ledger
        .map(|l| objects_read(l, checked))
        .unwrap_or_default();
    let not_read = pack.ledger.map(not_read).unwrap_or_default();
    let keys: BTreeMap<&str, &str> = checked
        .keys
        .iter()
        .map(|(s, k)| (s.as_str(), k.as_str()))
        .collect();
    let manifest = json!({
        "format": "trailsql evidence 1",
        "trailsql": env!("CARGO_PKG_VERSION"),
        "command": pack.command,
        "written": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "sources": pack.sources,
        "window": pack.window,
        "csv": "text cells that begin like a spreadsheet formula have a leading '; the Parquet files hold every value exactly",
        "queries": queries,
        "files": files,
        "source_objects": objects,
        "not_read": not_read,
        "digests_checked_with": keys,
    });
    let path = dir.join(MANIFEST);
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))
}

/// Write `pack` into `dir` and say where, with the manifest's SHA-256 to
/// keep apart from it.
pub fn record(dir: &Path, pack: Pack<'_>) -> Result<()> {
    write(dir, &pack)?;
    let manifest = dir.join(MANIFEST);
    let sha256 = sha256_of(&manifest)?;
    let read = pack.ledger.map(|l| l.entries().len()).unwrap_or(0);
    let problems = pack.ledger.map(|l| l.problems().len()).unwrap_or(0);
    eprintln!(
        "trailsql: wrote the evidence pack to {} ({} with their SHA-256 as read{}); its \
         manifest's SHA-256 is {sha256} (keep it apart: `trailsql evidence check {} \
         --sha256 {sha256}`)",
        dir.display(),
        crate::output::count(read, "log file", "log files"),
        match problems {
            0 => String::new(),
            n => format!(
                "; {} not read, or not whole, each with why",
                crate::output::count(n, "file", "files")
            ),
        },
        dir.display(),
    );
    Ok(())
}

/// After a run that kept a ledger (`--evidence`, `--report`): warn of
/// files that changed while it read them, and check the files read
/// against their digests where public keys are at hand, saying how that
/// went. None without a ledger.
pub async fn check_and_say(read: &crate::table::ReadOptions) -> Result<Option<Checked>> {
    let Some(ledger) = &read.ledger else {
        return Ok(None);
    };
    let changed = ledger.entries().iter().filter(|(_, s)| s.differed).count();
    if changed > 0 {
        eprintln!(
            "trailsql: warning: {} changed while the run read them (each one's first \
             read's SHA-256 is kept)",
            crate::output::count(changed, "log file", "log files")
        );
    }
    let checked = check_read(ledger, read).await?;
    for (source, keys) in &checked.keys {
        let of: Vec<&Integrity> = checked
            .files
            .iter()
            .filter(|((s, _), _)| s == source)
            .map(|(_, i)| i)
            .collect();
        let problems = of.iter().filter(|i| i.problem).count();
        eprintln!(
            "trailsql: {} read from {} checked against their digest files (public keys \
             from {keys}): {}{}",
            crate::output::count(of.len(), "log file", "log files"),
            crate::output::escape_control(source),
            tally(of.iter().copied()),
            match problems {
                0 => String::new(),
                n => format!(
                    "; warning: {} not shown to be as CloudTrail wrote {}",
                    crate::output::count(n, "file", "files"),
                    if n == 1 { "it" } else { "them" }
                ),
            }
        );
    }
    Ok(Some(checked))
}

/// What `evidence check` found of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Unchanged(String),
    Changed(String),
    Missing(String),
    /// In the folder, not in the manifest.
    Added(String),
    /// The manifest names a path outside the pack (absolute, or with `..`):
    /// not read, and not as `write` makes a pack.
    Outside(String),
}

/// Every file under `dir`, relative, with `/`.
fn files_under(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(rel.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The manifest of the pack in `dir`.
fn manifest(dir: &Path) -> Result<Value> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not an evidence manifest: {e}", path.display())))
}

/// Read the pack's log files again: each whose bytes changed or that is
/// gone is named (`source: location`).
pub async fn check_sources(dir: &Path, s3: &crate::archive::s3::S3Options) -> Result<Vec<Finding>> {
    let recorded: Vec<SourceObject> = serde_json::from_value(
        manifest(dir)?
            .get("source_objects")
            .cloned()
            .unwrap_or(Value::Array(Vec::new())),
    )
    .map_err(|e| Error::Usage(format!("{}: its source objects: {e}", dir.display())))?;
    let mut found = Vec::new();
    let mut opened: BTreeMap<String, crate::archive::Source> = BTreeMap::new();
    for o in recorded {
        let name = format!("{}: {}", o.source, o.location);
        if !opened.contains_key(&o.source) {
            let source = crate::archive::Source::open(&o.source, s3).await?;
            opened.insert(o.source.clone(), source);
        }
        let source = &opened[&o.source];
        let file = crate::archive::LogFile {
            location: o.location.clone(),
            size: o.size,
            key: None,
            version: None,
        };
        found.push(match source.fetch(&file).await {
            Err(_) => Finding::Missing(name),
            Ok(bytes) if crate::verify::sha256_hex(&bytes) == o.sha256 => Finding::Unchanged(name),
            Ok(_) => Finding::Changed(name),
        });
    }
    Ok(found)
}

/// Hash the pack in `dir` again against its manifest.
pub fn check(dir: &Path) -> Result<Vec<Finding>> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not an evidence manifest: {e}", path.display())))?;
    let Some(files) = manifest.get("files").and_then(Value::as_object) else {
        return Err(Error::Usage(format!(
            "{}: not an evidence manifest (no \"files\")",
            path.display()
        )));
    };
    let mut found = Vec::new();
    for (name, want) in files {
        let inside = Path::new(name)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            found.push(Finding::Outside(name.clone()));
            continue;
        }
        let file = dir.join(name);
        if !file.is_file() {
            found.push(Finding::Missing(name.clone()));
        } else if Some(sha256_of(&file)?.as_str()) == want.as_str() {
            found.push(Finding::Unchanged(name.clone()));
        } else {
            found.push(Finding::Changed(name.clone()));
        }
    }
    for name in files_under(dir)? {
        if name != MANIFEST && !files.contains_key(&name) {
            found.push(Finding::Added(name));
        }
    }
    Ok(found)
}
