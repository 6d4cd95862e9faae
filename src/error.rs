//! The one error type, with a typed variant for each layer whose callers
//! act on the kind of failure: the object store ([`S3Problem`]: a missing
//! object is an answer, not a failure), the converted dataset
//! ([`DatasetProblem`]: a dataset another run is writing exits 75, so cron
//! can try again later). Every I/O error carries the path it concerns,
//! every S3 and dataset error the key or folder and what to do; `main`
//! turns errors into exit codes ([`Error::exit_code`]). Verify's findings
//! are not errors: they are `verify::Kind`.
//!
//! The kinds live here, not in their layers' rooms, so that this file stays
//! at the bottom of the house: it imports nothing of trailsql.

use std::path::Path;

use datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// What the user gave cannot be done: a bad option, path, query or
    /// file; the message says what to change.
    #[error("{0}")]
    Usage(String),
    /// Something of ours failed that the user cannot change by asking
    /// differently (a background task that panicked, a value that could
    /// not be encoded); the message says where.
    #[error("{0}")]
    Internal(String),
    /// S3 (or an S3-compatible server) refused or failed a request.
    #[error("{at}: {} ({detail})", problem.hint())]
    S3 {
        /// `s3://bucket/key` (or the prefix listed).
        at: String,
        problem: S3Problem,
        /// What the store said, one line.
        detail: String,
    },
    /// A converted dataset cannot be read or written as asked.
    #[error("{at}: {problem}")]
    Dataset {
        /// The dataset's folder, or the file in it.
        at: String,
        problem: DatasetProblem,
    },
    #[error("{}", query_message(.0))]
    Query(#[from] DataFusionError),
}

/// Why an S3 request failed, sorted by what the user does about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Problem {
    /// The request was signed for another region than the bucket's (named
    /// when S3 said it).
    WrongRegion(Option<String>),
    NoCredentials,
    ExpiredCredentials,
    AccessDenied,
    NoSuchBucket,
    /// No such key: for a reader of optional objects, an answer.
    NotFound,
    /// Anything else: the endpoint, the network, a server error after
    /// retries.
    Unreachable,
}

impl S3Problem {
    /// What to check, in the words the message uses.
    pub fn hint(&self) -> String {
        match self {
            S3Problem::WrongRegion(Some(r)) => format!("the bucket is in {r}: give --region {r}"),
            S3Problem::WrongRegion(None) => {
                "the bucket is in another region: give it with --region".into()
            }
            S3Problem::NoCredentials => "no AWS credentials were found".into(),
            S3Problem::ExpiredCredentials => {
                "the credentials have expired: refresh them (aws sso login, a new session)".into()
            }
            S3Problem::AccessDenied => "access denied: check the credentials (AWS_PROFILE, \
                 AWS_ACCESS_KEY_ID), the bucket policy and the region"
                .into(),
            S3Problem::NoSuchBucket => {
                "no such bucket: check the bucket name (and the endpoint)".into()
            }
            S3Problem::NotFound => {
                "not found: check the prefix, or whether the object was deleted".into()
            }
            S3Problem::Unreachable => "check the endpoint, the region and the network".into(),
        }
    }
}

/// What is wrong with a converted dataset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetProblem {
    #[error("not a dataset written by trailsql convert")]
    NotADataset,
    /// Another format, or a version this build does not read.
    #[error(
        "a {format} version {version} dataset; this trailsql reads {readable} \
         (convert the archive again into a new folder, or use the trailsql that wrote it)"
    )]
    OtherVersion {
        format: String,
        version: u32,
        readable: String,
    },
    /// A file of the dataset is missing, unreadable or contradicts the
    /// manifest; says which and how.
    #[error("{0}")]
    Damaged(String),
    /// Another `convert` or `compact` holds the lock: try again later.
    #[error("another trailsql convert or compact is writing this dataset")]
    Locked,
    /// A compaction kept replacing the commits while they were read.
    #[error("its commits kept changing while they were read")]
    Changing,
    /// The dataset cannot take what was asked of it; says what to do.
    #[error("{0}")]
    Refused(String),
}

/// What a query error says, without the wrappers DataFusion puts around an
/// error raised outside it ("External error: ", an Arrow "External error: ",
/// a shared copy): our own errors, carried through a query, read as they
/// do elsewhere. DataFusion's own errors keep their kind ("Error during
/// planning: ...").
fn query_message(e: &DataFusionError) -> String {
    fn outside(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
        if let Some(ours) = inner.downcast_ref::<Error>() {
            ours.to_string()
        } else if let Some(query) = inner.downcast_ref::<DataFusionError>() {
            query_message(query)
        } else {
            inner.to_string()
        }
    }
    match e {
        DataFusionError::External(inner) => outside(inner.as_ref()),
        DataFusionError::Shared(inner) => query_message(inner),
        DataFusionError::ArrowError(arrow, None) => match arrow.as_ref() {
            datafusion::arrow::error::ArrowError::ExternalError(inner) => outside(inner.as_ref()),
            _ => e.to_string(),
        },
        DataFusionError::Context(context, inner) => {
            format!("{context}: {}", query_message(inner))
        }
        _ => e.to_string(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process's exit code for this error: 75 (sysexits' EX_TEMPFAIL)
    /// when another run holds a dataset's lock, so that a scheduled
    /// `convert` can tell "try again later" from a failure; 2 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Dataset {
                problem: DatasetProblem::Locked,
                ..
            } => 75,
            _ => 2,
        }
    }

    /// A dataset error at `at`.
    pub fn dataset(at: impl std::fmt::Display, problem: DatasetProblem) -> Error {
        Error::Dataset {
            at: at.to_string(),
            problem,
        }
    }

    /// Whether this is S3's answer that there is no such object.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::S3 {
                problem: S3Problem::NotFound,
                ..
            }
        )
    }

    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// Whether this error is a closed output pipe (`trailsql ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Query(DataFusionError::IoError(e)) => e.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Query(DataFusionError::ArrowError(e, _)) => {
                e.to_string().contains("Broken pipe")
            }
            _ => false,
        }
    }
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::Query(q) => q,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::error::ArrowError;
    use std::sync::Arc;

    fn ours() -> Error {
        Error::Usage("s3://b/: no AWS credentials were found".into())
    }

    #[test]
    fn our_errors_carried_through_a_query_read_as_they_do_elsewhere() {
        let want = "s3://b/: no AWS credentials were found";
        let external = DataFusionError::from(ours());
        assert!(external.to_string().starts_with("External error: "));
        assert_eq!(Error::Query(external).to_string(), want);
        let through_arrow = DataFusionError::ArrowError(
            Box::new(ArrowError::ExternalError(Box::new(ours()))),
            None,
        );
        assert_eq!(Error::Query(through_arrow).to_string(), want);
        let shared = DataFusionError::Shared(Arc::new(DataFusionError::from(ours())));
        assert_eq!(Error::Query(shared).to_string(), want);
        let wrapped_twice = DataFusionError::External(Box::new(DataFusionError::from(ours())));
        assert_eq!(Error::Query(wrapped_twice).to_string(), want);
        let context = DataFusionError::Context(
            "reading the manifest".into(),
            Box::new(DataFusionError::from(ours())),
        );
        assert_eq!(
            Error::Query(context).to_string(),
            format!("reading the manifest: {want}")
        );
    }

    #[test]
    fn datafusion_errors_keep_their_kind() {
        let plan = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(
            Error::Query(plan).to_string(),
            "Error during planning: table 'x' not found"
        );
        let io = std::io::Error::other("disk on fire");
        let external = DataFusionError::External(Box::new(io));
        assert_eq!(Error::Query(external).to_string(), "disk on fire");
    }
}
