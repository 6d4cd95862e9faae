//! Trail archives in S3 (`s3://bucket/prefix`), read where they are through
//! object_store's S3 client: signed requests, retries with backoff on
//! throttling and transient errors, paged listing.
//!
//! Credentials come from the AWS SDK's own chain (aws-config), as the AWS CLI
//! finds them: the environment, the shared config and credentials files with
//! `--profile` / `AWS_PROFILE` (SSO, `credential_process`, assumed roles),
//! web identity, container and instance metadata. `--no-sign-request` reads
//! public buckets unsigned. Region from `--region`, else the SDK's (profile,
//! `AWS_REGION`), else us-east-1; `--endpoint-url` (or `AWS_ENDPOINT_URL`) for
//! S3-compatible stores.
//!
//! Of trailsql it imports `error`, `record`.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::path::Path as ObjectPath;
use object_store::CredentialProvider;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::Semaphore;

use super::{classify, Classified, Listing, LogFile, Prune};
use crate::error::{Error, Result, S3Problem};

/// How many GETs run at once by default: enough to hide a ~20 ms request
/// latency behind decoding on 2 cores.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Options for S3 sources, from the command line.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub no_sign_request: bool,
    /// Most GETs at once (over all partitions); 0 means the default.
    pub max_concurrency: usize,
    /// Keep fetched log objects here (`--cache DIR`).
    pub cache: Option<std::path::PathBuf>,
}

/// One bucket and prefix.
#[derive(Debug, Clone)]
pub struct S3Source {
    pub bucket: String,
    /// Key prefix without a leading `/` (may be empty).
    pub prefix: String,
    store: Arc<dyn ObjectStore>,
    permits: Arc<Semaphore>,
    concurrency: usize,
    cache: Option<std::path::PathBuf>,
}

/// Split `s3://bucket/prefix` into bucket and prefix.
pub fn parse_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_string(), prefix.trim_matches('/').to_string()))
}

impl S3Source {
    pub async fn new(url: &str, options: &S3Options) -> Result<S3Source> {
        let (bucket, prefix) = parse_url(url)
            .ok_or_else(|| Error::Usage(format!("{url}: an S3 source is s3://BUCKET[/PREFIX]")))?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        let sdk = loader.load().await;
        let region = options
            .region
            .clone()
            .or_else(|| sdk.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string());
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_region(region);
        let endpoint = options
            .endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        if let Some(endpoint) = &endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if options.no_sign_request {
            builder = builder.with_skip_signature(true);
        } else {
            let Some(provider) = sdk.credentials_provider() else {
                return Err(Error::Usage(format!(
                    "s3://{bucket}: no AWS credential chain; give credentials or --no-sign-request"
                )));
            };
            builder = builder.with_credentials(Arc::new(SdkCredentials {
                provider,
                cached: tokio::sync::Mutex::new(None),
            }));
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
            concurrency: n,
            cache: options.cache.clone(),
        })
    }

    /// The user-facing location of a key.
    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The key of `rel`, a path below the prefix.
    pub fn key(&self, rel: &str) -> String {
        join(&self.prefix, rel.trim_start_matches('/'))
    }

    /// `s3://bucket/prefix/rel`.
    pub fn url(&self, rel: &str) -> String {
        self.location(&self.key(rel))
    }

    /// The object store this source reads through.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// List every object under the prefix and sort them as a local listing.
    pub async fn list(&self) -> Result<Listing> {
        self.list_prefixes(std::slice::from_ref(&self.prefix)).await
    }

    /// List only the key prefixes that can hold events within `prune`'s
    /// limits: the trail layout names account, region and day folders, so a
    /// query limited to one account, region and day lists that day's folder
    /// and the folders above it that say which accounts exist, not the
    /// bucket. Where the limits say nothing, or the prefix is not in the
    /// layout, everything under the prefix is listed.
    pub async fn list_for(&self, prune: &Prune, late_days: u64) -> Result<Listing> {
        match self.layout_prefixes(prune, late_days).await? {
            Some(prefixes) => self.list_prefixes(&prefixes).await,
            None => self.list().await,
        }
    }

    /// List every object under each of `prefixes`, up to `--max-concurrency`
    /// listings at once (a month of day folders is hundreds of them).
    async fn list_prefixes(&self, prefixes: &[String]) -> Result<Listing> {
        use futures::StreamExt;
        type Listed = std::result::Result<Vec<object_store::ObjectMeta>, object_store::Error>;
        let listed: Vec<Listed> = futures::stream::iter(prefixes.to_vec())
            .map(|prefix| {
                let store = self.store.clone();
                async move {
                    let p = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.as_str()));
                    store.list(p.as_ref()).try_collect::<Vec<_>>().await
                }
            })
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut objects = Vec::new();
        for (found, prefix) in listed.into_iter().zip(prefixes) {
            objects.append(&mut found.map_err(|e| self.error(prefix, &e))?);
        }
        let mut listing = Listing::default();
        for o in objects {
            let key = o.location.to_string();
            let location = self.location(&key);
            let version = Some(
                o.e_tag
                    .clone()
                    .unwrap_or_else(|| format!("{}@{}", o.size, o.last_modified.to_rfc3339())),
            );
            match classify(&key) {
                Classified::Log(k) => listing.logs.push(LogFile {
                    location,
                    size: o.size,
                    key: Some(k),
                    version,
                }),
                Classified::Loose => listing.logs.push(LogFile {
                    location,
                    size: o.size,
                    key: None,
                    version,
                }),
                Classified::Skip(reason) => listing.skipped.push((location, reason)),
            }
        }
        listing.logs.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(listing)
    }

    /// The folders one level below `prefix` (names without the slash).
    async fn children(&self, prefix: &str) -> Result<Vec<String>> {
        let p = ObjectPath::from(prefix);
        let listed = self
            .store
            .list_with_delimiter(Some(&p))
            .await
            .map_err(|e| self.error(prefix, &e))?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|c| c.filename().map(str::to_string))
            .collect())
    }

    /// The prefixes to list for `prune` (see [`S3Source::list_for`]), or
    /// None when the layout does not let the listing be narrowed.
    async fn layout_prefixes(&self, prune: &Prune, late_days: u64) -> Result<Option<Vec<String>>> {
        if prune.is_empty() {
            return Ok(None);
        }
        let segments: Vec<&str> = self.prefix.split('/').filter(|s| !s.is_empty()).collect();
        // The AWSLogs/ folder: in the prefix, or one level below it.
        let (root, rest): (String, Vec<&str>) = match segments.iter().rposition(|s| *s == "AWSLogs")
        {
            Some(at) => (segments[..=at].join("/"), segments[at + 1..].to_vec()),
            None => {
                let here = segments.join("/");
                if !self.children(&here).await?.iter().any(|c| c == "AWSLogs") {
                    return Ok(None);
                }
                (join(&here, "AWSLogs"), Vec::new())
            }
        };
        // Accounts, each with its organization folder if any.
        let mut rest = rest.as_slice();
        let mut accounts: Vec<String> = Vec::new();
        let org = rest.first().filter(|s| super::layout::is_org(s));
        let base = match org {
            Some(o) => {
                rest = &rest[1..];
                join(&root, o)
            }
            None => root.clone(),
        };
        match rest.first() {
            Some(account) => {
                accounts.push(join(&base, account));
                rest = &rest[1..];
            }
            None => {
                for child in self.children(&base).await? {
                    if org.is_none() && super::layout::is_org(&child) {
                        for account in self.children(&join(&base, &child)).await? {
                            accounts.push(join(&join(&base, &child), &account));
                        }
                    } else {
                        accounts.push(join(&base, &child));
                    }
                }
            }
        }
        let accounts_wanted = prune.key_account_set();
        accounts.retain(|a| {
            let id = a.rsplit('/').next().unwrap_or("");
            super::layout::is_account(id)
                && accounts_wanted.as_ref().is_none_or(|set| set.contains(id))
        });
        // Only CloudTrail/ holds log files.
        match rest.first() {
            Some(&"CloudTrail") => rest = &rest[1..],
            Some(_) => return Ok(None),
            None => {}
        }
        let mut regions: Vec<String> = Vec::new();
        let regions_wanted = prune.key_region_set();
        for account in &accounts {
            let trail = join(account, "CloudTrail");
            match (rest.first(), &regions_wanted) {
                (Some(region), _) => regions.push(join(&trail, region)),
                (None, Some(wanted)) => {
                    regions.extend(wanted.iter().map(|r| join(&trail, r)));
                }
                (None, None) => {
                    for region in self.children(&trail).await? {
                        regions.push(join(&trail, &region));
                    }
                }
            }
        }
        let below_region = rest.get(1..).unwrap_or(&[]);
        // Day folders, when the time limits bound a span of at most a year
        // (and the prefix names no day of its own).
        let days = match prune.key_days(late_days) {
            (Some(first), Some(last)) if below_region.is_empty() => {
                (last.signed_duration_since(first).num_days() <= 400).then(|| {
                    first
                        .iter_days()
                        .take_while(|d| *d <= last)
                        .map(|d| d.format("%Y/%m/%d").to_string())
                        .collect::<Vec<_>>()
                })
            }
            _ => None,
        };
        let mut prefixes = Vec::new();
        for region in regions {
            match &days {
                Some(days) => prefixes.extend(days.iter().map(|d| format!("{region}/{d}/"))),
                None if below_region.is_empty() => prefixes.push(format!("{region}/")),
                None => prefixes.push(format!("{region}/{}", below_region.join("/"))),
            }
        }
        Ok(Some(prefixes))
    }

    /// GET one object (at most `--max-concurrency` at once). With a cache,
    /// a kept copy of the version the listing shows (ETag, else size and
    /// time) is read instead, and what is fetched is kept (written aside,
    /// then renamed; the version file is written last, so a copy is whole).
    pub async fn fetch(&self, file: &LogFile) -> Result<Vec<u8>> {
        let key = self.key_of(&file.location);
        // A key that could climb out of the cache folder is never kept.
        let safe = !key.split('/').any(|part| part == ".." || part == ".");
        let kept = self.cache.as_ref().filter(|_| safe).map(|dir| {
            let path = dir.join(&self.bucket).join(key);
            let tag = path.with_file_name(format!(
                "{}.version",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("object")
            ));
            (path, tag)
        });
        if let (Some((path, tag)), Some(version)) = (&kept, &file.version) {
            if std::fs::read_to_string(tag).is_ok_and(|t| t == *version) {
                if let Ok(bytes) = std::fs::read(path) {
                    return Ok(bytes);
                }
            }
        }
        let bytes = self.get(key).await?;
        if let (Some((path, tag)), Some(version)) = (&kept, &file.version) {
            keep(path, tag, &bytes, version).map_err(|e| {
                Error::io(
                    path,
                    std::io::Error::new(e.kind(), format!("cannot keep it in the cache: {e}")),
                )
            })?;
        }
        Ok(bytes)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        Ok(self.get_with_metadata(key).await?.0)
    }

    /// The key of a location this source gave (`s3://bucket/key`).
    pub fn key_of<'a>(&self, location: &'a str) -> &'a str {
        location
            .strip_prefix("s3://")
            .and_then(|rest| rest.strip_prefix(self.bucket.as_str()))
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(location)
    }

    /// How many GETs may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// GET one object with its user metadata (`x-amz-meta-NAME` headers, by
    /// NAME): where CloudTrail keeps a digest's signature.
    pub async fn get_with_metadata(
        &self,
        key: &str,
    ) -> Result<(Vec<u8>, std::collections::BTreeMap<String, String>)> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("S3 request permits: {e}")))?;
        let got = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| self.error(key, &e))?;
        let metadata = got
            .attributes
            .iter()
            .filter_map(|(k, v)| match k {
                object_store::Attribute::Metadata(name) => {
                    Some((name.to_ascii_lowercase(), v.as_ref().to_string()))
                }
                _ => None,
            })
            .collect();
        let bytes = got.bytes().await.map_err(|e| self.error(key, &e))?;
        Ok((bytes.to_vec(), metadata))
    }

    /// An error that names the bucket and key, sorted by what to check.
    pub fn error(&self, key: &str, e: &object_store::Error) -> Error {
        let text = e.to_string();
        Error::S3 {
            at: format!("s3://{}/{key}", self.bucket),
            problem: problem_of(e, &text),
            detail: clean(&text),
        }
    }
}

/// What kind of failure an object_store error is: by its variant where it
/// has one, else by the S3 error code in its text.
fn problem_of(e: &object_store::Error, text: &str) -> S3Problem {
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    // S3 names the bucket's region when a request was signed for another.
    let region = ["expecting '", "<Region>"].iter().find_map(|start| {
        let rest = &text[text.find(start)? + start.len()..];
        let end = rest.find(['\'', '<'])?;
        let region = &rest[..end];
        (!region.is_empty() && region.len() < 32).then(|| region.to_string())
    });
    if region.is_some() {
        S3Problem::WrongRegion(region)
    } else if has(&["no AWS credentials"]) {
        S3Problem::NoCredentials
    } else if has(&["NoSuchBucket"]) {
        S3Problem::NoSuchBucket
    } else if matches!(e, object_store::Error::NotFound { .. })
        || has(&["NoSuchKey", "404 Not Found"])
    {
        S3Problem::NotFound
    } else if has(&["ExpiredToken", "TokenRefreshRequired"]) {
        S3Problem::ExpiredCredentials
    } else if has(&[
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "301 Moved",
    ]) {
        S3Problem::WrongRegion(None)
    } else if matches!(
        e,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || has(&[
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "403 Forbidden",
    ]) {
        S3Problem::AccessDenied
    } else {
        S3Problem::Unreachable
    }
}

/// The SDK's credential chain as object_store's credential provider, keeping
/// the credentials until five minutes before they expire.
#[derive(Debug)]
struct SdkCredentials {
    provider: aws_credential_types::provider::SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<std::time::SystemTime>)>>,
}

#[async_trait::async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        use aws_credential_types::provider::ProvideCredentials;
        let mut cached = self.cached.lock().await;
        if let Some((credential, expiry)) = cached.as_ref() {
            let fresh = expiry.is_none_or(|t| {
                t.duration_since(std::time::SystemTime::now())
                    .is_ok_and(|left| left > std::time::Duration::from_secs(300))
            });
            if fresh {
                return Ok(credential.clone());
            }
        }
        let c = self.provider.provide_credentials().await.map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: format!(
                    "no AWS credentials: {e} (set AWS_PROFILE or --profile, run `aws sso login`, \
                     or give --no-sign-request for a public bucket)"
                )
                .into(),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        });
        *cached = Some((credential.clone(), c.expiry()));
        Ok(credential)
    }
}

/// Write a cache entry: the bytes, then the version that says they are whole.
fn keep(
    path: &std::path::Path,
    tag: &std::path::Path,
    bytes: &[u8],
    version: &str,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(tag);
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)?;
    std::fs::write(tag, version)
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
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

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: text.to_string().into(),
        }
    }

    #[test]
    fn failures_are_sorted_by_what_to_do_about_them() {
        let missing = object_store::Error::NotFound {
            path: "k".into(),
            source: "404".to_string().into(),
        };
        let cases = [
            (missing, S3Problem::NotFound),
            (generic("Error code NoSuchKey"), S3Problem::NotFound),
            (
                generic("<Code>NoSuchBucket</Code>"),
                S3Problem::NoSuchBucket,
            ),
            (
                generic("the region 'us-east-1' is wrong; expecting 'eu-west-1'"),
                S3Problem::WrongRegion(Some("eu-west-1".into())),
            ),
            (
                generic("301 Moved Permanently"),
                S3Problem::WrongRegion(None),
            ),
            (
                generic("<Code>ExpiredToken</Code>"),
                S3Problem::ExpiredCredentials,
            ),
            (
                generic("<Code>AccessDenied</Code>"),
                S3Problem::AccessDenied,
            ),
            (generic("connection refused"), S3Problem::Unreachable),
        ];
        for (e, want) in cases {
            let text = e.to_string();
            assert_eq!(problem_of(&e, &text), want, "{text}");
        }
        let e = Error::S3 {
            at: "s3://b/k".into(),
            problem: S3Problem::NotFound,
            detail: "404".into(),
        };
        assert!(e.is_not_found());
        assert_eq!(
            e.to_string(),
            "s3://b/k: not found: check the prefix, or whether the object was deleted (404)"
        );
    }
}
