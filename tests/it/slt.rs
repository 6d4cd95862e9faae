//! Runs the sqllogictest files in tests/slt/ against a session with the
//! fixture archive (tests/data/archive) registered as `cloudtrail`: what our
//! SQL means, pinned as answers.

use datafusion::arrow::datatypes::DataType;
use sqllogictest::{DBOutput, DefaultColumnType};
use trailsql::output::text_at;
use trailsql::session::{Engine, DEFAULT_TABLE};
use trailsql::table::ReadOptions;

use crate::util::{fixture_archive, repo};

struct Db(Engine);

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for SltError {}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() || matches!(t, DataType::Decimal128(..)) => {
            DefaultColumnType::FloatingPoint
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for Db {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let results = self.0.run(sql).await.map_err(|e| SltError(e.to_string()))?;
        let Some(r) = results.into_iter().last() else {
            return Ok(DBOutput::StatementComplete(0));
        };
        if r.schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = r
            .schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for b in &r.batches {
            for row in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .map(|c| match text_at(c.as_ref(), row) {
                            None => "NULL".to_string(),
                            Some(s) if s.is_empty() => "(empty)".to_string(),
                            Some(s) => s,
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}
}

#[test]
fn sql_answers_on_the_fixture_archive() {
    run_suite(fixture_archive().to_str().unwrap());
}

/// Every .slt file against `source` registered as `cloudtrail`.
pub fn run_suite(source: &str) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(suite(source.to_string()));
}

async fn suite(source: String) {
    let dir = repo().join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    for file in files {
        let mut runner = sqllogictest::Runner::new(|| async {
            let engine = Engine::new(ReadOptions::default());
            engine
                .register_source(DEFAULT_TABLE, &source)
                .await
                .map_err(|e| SltError(e.to_string()))?;
            Ok::<_, SltError>(Db(engine))
        });
        if let Err(e) = runner.run_file_async(&file).await {
            panic!("{}: {e}", file.display());
        }
    }
}
