//! Reading a local converted dataset's byte ranges in the task that asks.
//!
//! `object_store`'s `LocalFileSystem` hands every read to tokio's blocking
//! pool (twice for a ranged get: open, then read), so each of the several
//! ranges a Parquet file is read in (footer, page index, bloom filters,
//! column chunks) costs two thread hand-overs. A query over a few hundred
//! small files spent about a third of its time in the kernel waking
//! threads. The files of a dataset just converted or queried sit in the page
//! cache and a read of them takes microseconds, so [`InlineLocalReads`]
//! reads ranges directly; everything else goes to `LocalFileSystem`.
//!
//! It imports nothing of trailsql outside `archive/`.

use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// `LocalFileSystem` with ranged reads done in place.
#[derive(Debug, Default)]
pub struct InlineLocalReads {
    inner: LocalFileSystem,
}

impl InlineLocalReads {
    pub fn new() -> Arc<Self> {
        Arc::new(InlineLocalReads {
            inner: LocalFileSystem::new(),
        })
    }

    fn open(&self, location: &Path) -> Result<(File, std::path::PathBuf)> {
        let path = self.inner.path_to_filesystem(location)?;
        let file = File::open(&path).map_err(|e| io_error(e, &path))?;
        Ok((file, path))
    }
}

fn io_error(e: std::io::Error, path: &std::path::Path) -> object_store::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        object_store::Error::NotFound {
            path: path.display().to_string(),
            source: Box::new(e),
        }
    } else {
        object_store::Error::Generic {
            store: "LocalFileSystem",
            source: format!("{}: {e}", path.display()).into(),
        }
    }
}

/// `range` of `file`, all of it: a file shorter than the range is an error.
fn read_range(file: &File, path: &std::path::Path, range: Range<u64>) -> Result<Bytes> {
    let mut buf = vec![0u8; (range.end - range.start) as usize];
    file.read_exact_at(&mut buf, range.start)
        .map_err(|e| io_error(e, path))?;
    Ok(Bytes::from(buf))
}

impl fmt::Display for InlineLocalReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InlineLocalReads({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for InlineLocalReads {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        // Only a plain ranged read is done here; conditions, versions and
        // whole-object reads are LocalFileSystem's.
        let plain = options.if_match.is_none()
            && options.if_none_match.is_none()
            && options.if_modified_since.is_none()
            && options.if_unmodified_since.is_none()
            && options.version.is_none()
            && !options.head;
        let Some(range) = options.range.as_ref().filter(|_| plain) else {
            return self.inner.get_opts(location, options).await;
        };
        let (file, path) = self.open(location)?;
        let stat = file.metadata().map_err(|e| io_error(e, &path))?;
        let range = range
            .as_range(stat.len())
            .map_err(|e| object_store::Error::Generic {
                store: "LocalFileSystem",
                source: format!("{}: {e}", path.display()).into(),
            })?;
        let bytes = read_range(&file, &path, range.clone())?;
        let meta = ObjectMeta {
            location: location.clone(),
            last_modified: stat
                .modified()
                .map(chrono::DateTime::<chrono::Utc>::from)
                .unwrap_or_default(),
            size: stat.len(),
            e_tag: None,
            version: None,
        };
        Ok(GetResult {
            payload: GetResultPayload::Stream(Box::pin(futures::stream::once(async { Ok(bytes) }))),
            meta,
            range,
            attributes: Default::default(),
        })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let (file, path) = self.open(location)?;
        ranges
            .iter()
            .map(|r| read_range(&file, &path, r.clone()))
            .collect()
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::{ObjectStoreExt, PutPayload};

    #[tokio::test]
    async fn ranged_reads_give_the_bytes_and_the_rest_is_the_file_systems() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a=1").join("part.bin");
        let store = InlineLocalReads::new();
        let location = Path::from_absolute_path(&file).unwrap();
        let content: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        // Writes go through LocalFileSystem (it makes the folder).
        store
            .put(&location, PutPayload::from(content.clone()))
            .await
            .unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), content);

        let got = store.get_range(&location, 100..1100).await.unwrap();
        assert_eq!(&got[..], &content[100..1100]);
        let suffix = store
            .get_opts(
                &location,
                GetOptions::new().with_range(Some(object_store::GetRange::Suffix(8))),
            )
            .await
            .unwrap();
        assert_eq!(suffix.range, 4992..5000);
        assert_eq!(suffix.meta.size, 5000);
        assert_eq!(&suffix.bytes().await.unwrap()[..], &content[4992..]);
        let many = store
            .get_ranges(&location, &[0..10, 4990..5000, 7..7])
            .await
            .unwrap();
        assert_eq!(&many[0][..], &content[..10]);
        assert_eq!(&many[1][..], &content[4990..]);
        assert!(many[2].is_empty());
        // A whole-object read and a listing are LocalFileSystem's.
        assert_eq!(
            &store.get(&location).await.unwrap().bytes().await.unwrap()[..],
            &content[..]
        );
        let listed: Vec<_> = futures::StreamExt::collect::<Vec<_>>(
            store.list(Some(&Path::from_absolute_path(dir.path()).unwrap())),
        )
        .await;
        assert_eq!(listed.len(), 1);

        // As LocalFileSystem does: a get past the end is cut at the end, a
        // get starting there fails, and so does get_ranges past the end; a
        // file that is not there is NotFound.
        let cut = store.get_range(&location, 4990..5010).await.unwrap();
        assert_eq!(&cut[..], &content[4990..]);
        assert!(store.get_range(&location, 5000..5010).await.is_err());
        assert!(store
            .get_ranges(&location, &[0..10, 4990..5010])
            .await
            .is_err());
        let gone = Path::from_absolute_path(dir.path().join("gone.bin")).unwrap();
        assert!(matches!(
            store.get_range(&gone, 0..1).await,
            Err(object_store::Error::NotFound { .. })
        ));
    }
}
