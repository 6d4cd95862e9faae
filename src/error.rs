//! The one error type. Every I/O error carries the path it concerns; `main`
//! turns errors into exit code 2.
//!
//! It imports nothing of trailsql.

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
    #[error("{}", query_message(.0))]
    Query(#[from] DataFusionError),
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
