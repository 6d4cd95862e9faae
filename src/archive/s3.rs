//! Trail archives in S3 (`s3://bucket/prefix`), read where they are through
//! object_store's S3 client: signed requests, retries with backoff on
//! throttling and transient errors, paged listing.
//!
//! Credentials, as the client finds them: the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), web
//! identity, the container and instance metadata endpoints; `--no-sign-request`
//! for public buckets. Region from `--region`, else `AWS_REGION` /
//! `AWS_DEFAULT_REGION`, else us-east-1; `--endpoint-url` (or
//! `AWS_ENDPOINT_URL`) for S3-compatible stores.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::Semaphore;

use super::{classify, Classified, Listing, LogFile};
use crate::error::{Error, Result};
use crate::record::FileProblem;

/// How many GETs run at once by default: enough to hide a ~20 ms request
/// latency behind decoding on 2 cores.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Options for S3 sources, from the command line.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub no_sign_request: bool,
    /// Most GETs at once (over all partitions); 0 means the default.
    pub max_concurrency: usize,
}

/// One bucket and prefix.
#[derive(Debug, Clone)]
pub struct S3Source {
    pub bucket: String,
    /// Key prefix without a leading `/` (may be empty).
    pub prefix: String,
    store: Arc<dyn ObjectStore>,
    permits: Arc<Semaphore>,
}

/// Split `s3://bucket/prefix` into bucket and prefix.
pub fn parse_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_string(), prefix.trim_matches('/').to_string()))
}

impl S3Source {
    pub fn new(url: &str, options: &S3Options) -> Result<S3Source> {
        let (bucket, prefix) = parse_url(url)
            .ok_or_else(|| Error::Usage(format!("{url}: an S3 source is s3://BUCKET[/PREFIX]")))?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        let region = options
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".to_string());
        builder = builder.with_region(region);
        if let Some(endpoint) = &options.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if options.no_sign_request {
            builder = builder.with_skip_signature(true);
        }
        let store = builder
            .build()
            .map_err(|e| Error::Usage(format!("s3://{bucket}: {}", clean(&e.to_string()))))?;
        let n = match options.max_concurrency {
            0 => DEFAULT_CONCURRENCY,
            n => n,
        };
        Ok(S3Source {
            bucket,
            prefix,
            store: Arc::new(store),
            permits: Arc::new(Semaphore::new(n)),
        })
    }

    /// The user-facing location of a key.
    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// List every object under the prefix and sort them as a local listing.
    pub async fn list(&self) -> Result<Listing> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let objects: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| self.error("", &e))?;
        let mut listing = Listing::default();
        for o in objects {
            let key = o.location.to_string();
            let location = self.location(&key);
            match classify(&key) {
                Classified::Log(k) => listing.logs.push(LogFile {
                    location,
                    size: o.size,
                    key: Some(k),
                }),
                Classified::Loose => listing.logs.push(LogFile {
                    location,
                    size: o.size,
                    key: None,
                }),
                Classified::Skip(reason) => listing.skipped.push((location, reason)),
            }
        }
        listing.logs.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(listing)
    }

    /// GET one object (at most `--max-concurrency` at once).
    pub async fn fetch(&self, location: &str) -> Result<Vec<u8>, FileProblem> {
        let key = location
            .strip_prefix(&format!("s3://{}/", self.bucket))
            .unwrap_or(location);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| FileProblem(e.to_string()))?;
        let got = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| FileProblem(self.error(key, &e).to_string()))?;
        let bytes = got
            .bytes()
            .await
            .map_err(|e| FileProblem(self.error(key, &e).to_string()))?;
        Ok(bytes.to_vec())
    }

    /// An error that names the bucket and key and says what to check.
    fn error(&self, key: &str, e: &object_store::Error) -> Error {
        let at = format!("s3://{}/{key}", self.bucket);
        let text = e.to_string();
        let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
        let hint = if has(&["NoSuchBucket"]) {
            "no such bucket: check the bucket name (and the endpoint)"
        } else if matches!(e, object_store::Error::NotFound { .. })
            || has(&["NoSuchKey", "404 Not Found"])
        {
            "not found: check the prefix, or whether the object was deleted"
        } else if has(&["ExpiredToken", "TokenRefreshRequired"]) {
            "the credentials have expired: refresh them (aws sso login, a new session)"
        } else if has(&[
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "301 Moved",
        ]) {
            "the bucket is in another region: give it with --region"
        } else if matches!(
            e,
            object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. }
        ) || has(&[
            "AccessDenied",
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
            "403 Forbidden",
        ]) {
            "access denied: check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID), \
             the bucket policy and the region"
        } else {
            "check the endpoint, the region and the network"
        };
        Error::Usage(format!("{at}: {hint} ({})", clean(&text)))
    }
}

/// An error text without anything that looks like a secret: object_store
/// does not print credentials, but a signed URL's query string could carry
/// a signature or token.
fn clean(text: &str) -> String {
    text.split_whitespace()
        .map(|w| match w.find("X-Amz-") {
            Some(at) if w.contains('?') => format!("{}…", &w[..at]),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("s3://b/AWSLogs/1/"),
            Some(("b".into(), "AWSLogs/1".into()))
        );
        assert_eq!(parse_url("s3://b"), Some(("b".into(), "".into())));
        assert_eq!(parse_url("s3:///x"), None);
        assert_eq!(parse_url("/local"), None);
        assert_eq!(
            clean("GET https://b.s3.amazonaws.com/k?X-Amz-Signature=abc failed"),
            "GET https://b.s3.amazonaws.com/k?… failed"
        );
    }
}
