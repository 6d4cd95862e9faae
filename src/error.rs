//! The one error type. Every I/O error carries the path it concerns; `main`
//! turns errors into exit code 2.

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
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Query(#[from] DataFusionError),
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
