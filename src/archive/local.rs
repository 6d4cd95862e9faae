//! Listing a local folder (any level of a trail archive) or a single file.
//!
//! Of trailsql it imports `error`.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use super::{classify, Classified, Listing, LogFile};
use crate::error::{Error, Result};

/// List `root`: a folder (walked recursively, in name order) or one file.
pub fn list(root: &Path) -> Result<Listing> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    let mut listing = Listing::default();
    if meta.is_file() {
        let location = root.display().to_string();
        // A file named explicitly is read even outside the layout.
        let key = match classify(&slashed(&location)) {
            Classified::Log(k) => Some(k),
            Classified::Skip(reason) if reason == super::layout::DIGEST_FILE => {
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

/// A location with `/` between its names (a key's form), whatever the OS
/// writes.
fn slashed(location: &str) -> std::borrow::Cow<'_, str> {
    if location.contains('\\') {
        location.replace('\\', "/").into()
    } else {
        location.into()
    }
}

fn walk(dir: &Path, listing: &mut Listing) -> Result<()> {
    let files = files_below(dir)?;
    for (path, meta) in files {
        let location = path.to_string_lossy().into_owned();
        let size = meta.as_ref().map_or(0, |m| m.len());
        let version = meta.as_ref().and_then(modified);
        match classify(&slashed(&location)) {
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

/// One entry of a folder: a file with its metadata (None if it could not
/// be read), or a sub-folder.
enum Entry {
    File(PathBuf, Option<Metadata>),
    Folder(PathBuf),
}

/// The files below `dir` with their metadata, in name order, folders walked
/// depth first.
///
/// Sizes and times cost one stat per file, the listing's main cost (a trail
/// of a month is tens of thousands of files). Each is taken relative to the
/// open folder (`DirEntry::metadata`, fstatat on the folder's descriptor),
/// not by the file's whole path, which the kernel would walk again name by
/// name; a symbolic link is followed by its path, as reading it will follow
/// it. The folders of each level of the tree are read on all cores.
fn files_below(dir: &Path) -> Result<Vec<(PathBuf, Option<Metadata>)>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut read: HashMap<PathBuf, Vec<Entry>> = HashMap::new();
    let mut level = vec![dir.to_path_buf()];
    while !level.is_empty() {
        let threads = cores.min(level.len());
        let results: Vec<Result<(PathBuf, Vec<Entry>)>> = if threads <= 1 {
            level.into_iter().map(read_folder).collect()
        } else {
            let per = level.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let tasks: Vec<_> = level
                    .chunks(per)
                    .map(|chunk| {
                        scope.spawn(move || {
                            chunk
                                .iter()
                                .map(|d| read_folder(d.clone()))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                tasks
                    .into_iter()
                    .flat_map(|t| t.join().expect("a folder-reading thread panicked"))
                    .collect()
            })
        };
        level = Vec::new();
        for result in results {
            let (folder, entries) = result?;
            level.extend(entries.iter().filter_map(|e| match e {
                Entry::Folder(p) => Some(p.clone()),
                Entry::File(..) => None,
            }));
            read.insert(folder, entries);
        }
    }
    let mut files = Vec::new();
    flatten(dir, &mut read, &mut files);
    Ok(files)
}

/// `dir`'s entries, sorted by name, files with their metadata.
fn read_folder(dir: PathBuf) -> Result<(PathBuf, Vec<Entry>)> {
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| Error::io(&dir, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(&dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io(&path, e))?;
        out.push(if ft.is_dir() {
            Entry::Folder(path)
        } else if ft.is_symlink() {
            let meta = std::fs::metadata(&path).ok();
            Entry::File(path, meta)
        } else {
            Entry::File(path, entry.metadata().ok())
        });
    }
    Ok((dir, out))
}

/// The files of `dir` and its sub-folders (from `read`), in order.
fn flatten(
    dir: &Path,
    read: &mut HashMap<PathBuf, Vec<Entry>>,
    files: &mut Vec<(PathBuf, Option<Metadata>)>,
) {
    for entry in read.remove(dir).unwrap_or_default() {
        match entry {
            Entry::File(path, meta) => files.push((path, meta)),
            Entry::Folder(path) => flatten(&path, read, files),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &Path) -> Vec<(String, Option<u64>)> {
        files_below(root)
            .unwrap()
            .into_iter()
            .map(|(p, m)| {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                (rel, m.map(|m| m.len()))
            })
            .collect()
    }

    #[test]
    fn files_come_in_name_order_depth_first_with_their_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Folders on several levels, more than one per level, so that the
        // levels are read on several threads; files beside folders.
        for (rel, len) in [
            ("b/2/x.gz", 3),
            ("b/1/y.gz", 5),
            ("a.gz", 1),
            ("b/10.gz", 7),
            ("c/1/2/3/z.gz", 11),
            ("b/1/a.gz", 2),
            ("c/0.gz", 4),
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, vec![0u8; len]).unwrap();
        }
        std::fs::create_dir_all(root.join("b/empty")).unwrap();
        let want: Vec<(String, Option<u64>)> = [
            ("a.gz", 1),
            ("b/1/a.gz", 2),
            ("b/1/y.gz", 5),
            ("b/10.gz", 7),
            ("b/2/x.gz", 3),
            ("c/0.gz", 4),
            ("c/1/2/3/z.gz", 11),
        ]
        .iter()
        .map(|(p, n)| (p.to_string(), Some(*n)))
        .collect();
        assert_eq!(names(root), want);
    }

    #[test]
    fn a_link_is_listed_with_what_it_points_to() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::fs::write(root.join("d/real.gz"), [1u8; 9]).unwrap();
        std::os::unix::fs::symlink(root.join("d/real.gz"), root.join("d/link.gz")).unwrap();
        std::os::unix::fs::symlink(root.join("d/nowhere"), root.join("d/broken.gz")).unwrap();
        assert_eq!(
            names(root),
            vec![
                ("d/broken.gz".to_string(), None),
                ("d/link.gz".to_string(), Some(9)),
                ("d/real.gz".to_string(), Some(9)),
            ]
        );
    }

    #[test]
    fn an_unreadable_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = files_below(&dir.path().join("missing")).err().unwrap();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
