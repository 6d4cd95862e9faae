//! Listing a local folder (any level of a trail archive) or a single file.

use std::path::Path;

use super::{classify, Classified, Listing, LogFile};
use crate::error::{Error, Result};

/// List `root`: a folder (walked recursively, in name order) or one file.
pub fn list(root: &Path) -> Result<Listing> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    let mut listing = Listing::default();
    if meta.is_file() {
        let location = root.display().to_string();
        // A file named explicitly is read even outside the layout.
        let key = match classify(&slashed(root)) {
            Classified::Log(k) => Some(k),
            Classified::Skip(reason) if reason.contains("digest") => {
                listing.skipped.push((location, reason));
                return Ok(listing);
            }
            _ => None,
        };
        listing.logs.push(LogFile {
            location,
            size: meta.len(),
            key,
            version: modified(&meta),
        });
        return Ok(listing);
    }
    walk(root, &mut listing)?;
    Ok(listing)
}

/// A local file's version: its modification time (what `convert`'s manifest
/// compares, as it compares an S3 object's ETag).
fn modified(meta: &std::fs::Metadata) -> Option<String> {
    let t = meta.modified().ok()?;
    let since = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!(
        "mtime {}.{:09}",
        since.as_secs(),
        since.subsec_nanos()
    ))
}

fn slashed(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn walk(dir: &Path, listing: &mut Listing) -> Result<()> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    // Sizes and times: one stat per file (of what a link points to, as
    // reading it will), the listing's main cost (a trail of a month is tens
    // of thousands of files), shared among the cores.
    let threads = match files.len() {
        0..512 => 1,
        _ => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8),
    };
    let per = files.len().div_ceil(threads).max(1);
    let metas: Vec<Option<std::fs::Metadata>> = std::thread::scope(|scope| {
        let tasks: Vec<_> = files
            .chunks(per)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|p| std::fs::metadata(p).ok())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        tasks
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_default())
            .collect()
    });
    for (path, meta) in files.into_iter().zip(metas) {
        let location = path.display().to_string();
        let size = meta.as_ref().map_or(0, |m| m.len());
        let version = meta.as_ref().and_then(modified);
        match classify(&slashed(&path)) {
            Classified::Log(key) => listing.logs.push(LogFile {
                location,
                size,
                key: Some(key),
                version,
            }),
            Classified::Loose => listing.logs.push(LogFile {
                location,
                size,
                key: None,
                version,
            }),
            Classified::Skip(reason) => listing.skipped.push((location, reason)),
        }
    }
    Ok(())
}

/// The files below `dir`, in name order, folders walked depth first.
fn collect_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ft.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
