//! `trailsql athena-ddl`: the `CREATE EXTERNAL TABLE` that lets Athena,
//! Trino or Spark read a converted dataset once it is in S3.
//!
//! Of trailsql it imports `error`.

use datafusion::arrow::datatypes::DataType;

use super::{file_schema, Dataset, FileEntry, Kind, NULL_PARTITION};
use crate::error::{DatasetProblem, Error, Result};

/// The Hive/Athena type of an Arrow type in the dataset's files.
fn hive_type(t: &DataType) -> Result<String> {
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| Ok(format!("{}:{}", f.name(), hive_type(f.data_type())?)))
                .collect::<Result<_>>()?;
            format!("struct<{}>", inner.join(","))
        }
        DataType::List(item) => format!("array<{}>", hive_type(item.data_type())?),
        other => {
            return Err(Error::Internal(format!(
                "no Athena type for {other} (a column of the dataset)"
            )))
        }
    })
}

/// `CREATE EXTERNAL TABLE` for Athena (Trino, Spark and Hive take the same
/// shape) over the dataset once it is at `location` (`s3://bucket/prefix`):
/// every column of its files with its type, the three partition columns,
/// and partition projection over the accounts and regions the manifest
/// holds and the days from its first on, so no `MSCK REPAIR` is needed.
/// For a Delta table, Athena's Delta table (no columns or projection: the
/// log has them).
pub fn athena_ddl(dataset: &Dataset, location: &str, table: &str) -> Result<String> {
    let location = location.trim_end_matches('/');
    if !location.starts_with("s3://") {
        return Err(Error::Usage(format!(
            "{location}: Athena reads datasets in S3; give --location s3://BUCKET/PREFIX"
        )));
    }
    let ok_name =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok_name(table) {
        return Err(Error::Usage(format!(
            "{table:?}: a table name is letters, digits and _"
        )));
    }
    if dataset.kind == Kind::Delta {
        // Athena reads the columns, partitions and files from the log.
        return Ok(format!(
            "CREATE EXTERNAL TABLE `{table}`\n\
             LOCATION '{location}/'\n\
             TBLPROPERTIES ('table_type' = 'DELTA');\n"
        ));
    }
    let mut columns = Vec::new();
    for f in file_schema().fields() {
        columns.push(format!("  `{}` {}", f.name(), hive_type(f.data_type())?));
    }
    let values = |pick: fn(&FileEntry) -> &str| {
        let set: std::collections::BTreeSet<&str> = dataset
            .files()
            .map(pick)
            .filter(|v| *v != NULL_PARTITION)
            .collect();
        set.into_iter().collect::<Vec<_>>().join(",")
    };
    let (accounts, regions) = (values(|f| &f.account), values(|f| &f.region));
    let first_day = dataset
        .files()
        .map(|f| f.date.as_str())
        .filter(|d| *d != NULL_PARTITION)
        .min()
        .ok_or_else(|| {
            Error::dataset(
                dataset.place.display(),
                DatasetProblem::Refused("the dataset holds no events yet".into()),
            )
        })?;
    Ok(format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{}\n)\n\
         PARTITIONED BY (`account` string, `region` string, `date` string)\n\
         STORED AS PARQUET\n\
         LOCATION '{location}/'\n\
         TBLPROPERTIES (\n\
         \x20 'projection.enabled' = 'true',\n\
         \x20 'projection.account.type' = 'enum',\n\
         \x20 'projection.account.values' = '{accounts}',\n\
         \x20 'projection.region.type' = 'enum',\n\
         \x20 'projection.region.values' = '{regions}',\n\
         \x20 'projection.date.type' = 'date',\n\
         \x20 'projection.date.format' = 'yyyy-MM-dd',\n\
         \x20 'projection.date.range' = '{first_day},NOW',\n\
         \x20 'projection.date.interval' = '1',\n\
         \x20 'projection.date.interval.unit' = 'DAYS',\n\
         \x20 'storage.location.template' = '{location}/account=${{account}}/region=${{region}}/date=${{date}}/'\n\
         );\n",
        columns.join(",\n")
    ))
}
