//! Evidence packs: `run --evidence DIR` writes what a run did so that it
//! can be shown later and checked: the exact query files run, the values
//! of their parameters and the window, trailsql's version and command
//! line, each query's results as CSV (formula-guarded, as `--out-dir`
//! writes them) and Parquet (exact), the log files of the sources the
//! window reaches (location, size, version or modification time, and the
//! SHA-256 of their bytes, read again for the pack right after the run),
//! and `manifest.json` tying them together with the SHA-256 of every file.
//! `trailsql evidence check DIR` hashes the files again and names each one
//! that changed, went missing or was added, and with `--logs` the log
//! files too.
//!
//! Of trailsql it imports `archive`, `console`, `dataset`, `error`,
//! `output`, `session`, `verify`, `window`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::output::{Cells, Format, TableStyle};
use crate::session::StatementResult;

/// The manifest's name in a pack.
pub const MANIFEST: &str = "manifest.json";

/// One query of the run, as the pack records it.
pub struct Piece<'a> {
    /// `area/name`.
    pub name: &'a str,
    /// Its id, severity and title.
    pub id: &'a str,
    pub severity: &'a str,
    pub title: &'a str,
    /// The SQL text, exactly as run.
    pub sql: &'a str,
    /// Where the query came from: `built-in` or its file.
    pub origin: &'a str,
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
    /// The log files the run's window reaches.
    pub objects: Vec<SourceObject>,
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
    /// Of its bytes, as read.
    pub sha256: String,
}

/// The log files of `sources` the window (with `late_days` of delivery
/// after it) reaches, each read and hashed. A converted dataset is not
/// listed: its files are trailsql's own, and the raw archive it came from
/// is the evidence.
pub async fn source_objects(
    sources: &[String],
    window: &crate::window::Window,
    s3: &crate::archive::s3::S3Options,
    late_days: u64,
) -> Result<Vec<SourceObject>> {
    let all_time = crate::window::Window::default();
    let prune = crate::archive::Prune {
        from_ms: (window.since_ms != all_time.since_ms).then_some(window.since_ms),
        to_ms: (window.until_ms != all_time.until_ms).then_some(window.until_ms - 1),
        ..Default::default()
    };
    let mut out = Vec::new();
    for location in sources {
        let source = crate::archive::Source::open(location, s3).await?;
        if crate::dataset::dataset_at(&source).await? {
            continue;
        }
        let listing = source.list_for(&prune, late_days).await?;
        for file in listing.logs {
            if let Some(key) = &file.key {
                if !prune.admits(key, late_days) {
                    continue;
                }
            }
            let bytes = source.fetch(&file).await.map_err(|p| {
                Error::Usage(format!(
                    "{}: cannot be read for the pack: {}",
                    file.location, p.0
                ))
            })?;
            let version = file.version.clone().or_else(|| {
                let modified = std::fs::metadata(&file.location).ok()?.modified().ok()?;
                let t: chrono::DateTime<chrono::Utc> = modified.into();
                Some(format!("modified {}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ")))
            });
            out.push(SourceObject {
                source: location.clone(),
                location: file.location.clone(),
                size: bytes.len() as u64,
                version,
                sha256: crate::verify::sha256_hex(&bytes),
            });
        }
    }
    out.sort_by(|a, b| (&a.source, &a.location).cmp(&(&b.source, &b.location)));
    Ok(out)
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
        let sql_file = format!("queries/{}.sql", p.name);
        let path = dir.join(&sql_file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, p.sql).map_err(|e| Error::io(&path, e))?;
        files.insert(sql_file.clone(), sha256_of(&path)?);
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
            "query": sql_file,
            "params": params,
        });
        match &p.result {
            Err(why) => {
                entry["not_run"] = json!(why);
            }
            Ok(result) => {
                let csv = format!("results/{}.csv", p.name);
                let guarded = Cells {
                    escape: false,
                    csv_safe: true,
                };
                crate::console::write_csv(&dir.join(&csv), result, guarded)?;
                files.insert(csv.clone(), sha256_of(&dir.join(&csv))?);
                let parquet = format!("results/{}.parquet", p.name);
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
        "source_objects": pack.objects,
    });
    let path = dir.join(MANIFEST);
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))
}

/// What `evidence check` found of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Unchanged(String),
    Changed(String),
    Missing(String),
    /// In the folder, not in the manifest.
    Added(String),
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
