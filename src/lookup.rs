//! `trailsql lookup`: the console's Event history lookup attributes over any
//! source. Each option becomes one condition (several are ANDed, where the
//! console takes one at a time); the events print newest first, with the
//! console's columns. `--show-sql` prints the SQL that ran, which is plain
//! SQL to paste into the shell and change.
//!
//! Of trailsql it imports `error`, `window`.

use chrono::{DateTime, SecondsFormat};

use crate::error::{Error, Result};
use crate::record::schema::sql_literal as lit;
use crate::window::Window;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LookupArgs {
    /// Event name, exactly (RunInstances).
    #[arg(long, value_name = "NAME")]
    pub event_name: Option<String>,
    /// User name as Event history shows it: an IAM user's name, an assumed
    /// role's session name, root.
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
    /// Event source (ec2.amazonaws.com).
    #[arg(long, value_name = "SOURCE")]
    pub event_source: Option<String>,
    /// Resource type in the event's resources (AWS::S3::Bucket).
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Resource name: an ARN in the event's resources, its last part, or a
    /// string value in the request parameters or response elements.
    #[arg(long, value_name = "NAME")]
    pub resource_name: Option<String>,
    /// Access key id the call was signed with.
    #[arg(long, value_name = "KEY")]
    pub access_key_id: Option<String>,
    /// Event ID.
    #[arg(long, value_name = "ID")]
    pub event_id: Option<String>,
    /// Everything one person did through any identity: the origin behind
    /// the call's key (see `<source>_sessions`), as an ARN, or its last
    /// part (`alice`, `jane@example.com`, `ec2.amazonaws.com`). Adds the
    /// origin and the path to the key.
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
    /// Read-only events (true) or write events (false).
    #[arg(long, value_name = "true|false", value_parser = clap::value_parser!(bool))]
    pub read_only: Option<bool>,
    /// Events from this time on: 2025-10-20, 2025-10-20T14:00:00Z, or an age (7d, 24h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Print the SQL that runs, before the events.
    #[arg(long)]
    pub show_sql: bool,
}

/// `s` with the characters a regular expression gives a meaning escaped.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The user name Event history shows: the IAM user name, else `root` for the
/// root user, else the last part of the ARN (an assumed role's session name,
/// a federated user's name).
const USER_NAME: &str = "coalesce(useridentity.username, \
    CASE WHEN useridentity.type = 'Root' THEN 'root' END, \
    regexp_replace(useridentity.arn, '^.*/', ''))";

/// The values of one field of every element of `resources`, comma-separated:
/// what the console's Resource type and Resource name columns show. Rows read
/// from a console CSV keep those columns in `extra_fields`.
fn resource_field(field: &str, csv_column: &str) -> String {
    format!(
        "coalesce(nullif(btrim(regexp_replace(regexp_replace(to_json(resources), \
         '\\{{[^{{}}]*\"{field}\":\"([^\"]*)\"[^{{}}]*\\}}', '${{1}}', 'g'), \
         '\\{{[^{{}}]*\\}},?', '', 'g'), '[]'), ''), \
         json_extract_scalar(extra_fields, '$[\"{csv_column}\"]'))"
    )
}

/// The SQL for a lookup over `table`.
pub fn sql(args: &LookupArgs, window: &Window, table: &str) -> Result<String> {
    let mut conditions = Vec::new();
    if window.since_ms > Window::default().since_ms {
        conditions.push(format!("eventtime >= {}", lit(&time(window.since_ms))));
    }
    if window.until_ms < Window::default().until_ms {
        conditions.push(format!("eventtime < {}", lit(&time(window.until_ms))));
    }
    let exact = [
        ("eventname", &args.event_name),
        ("eventsource", &args.event_source),
        ("useridentity.accesskeyid", &args.access_key_id),
        ("eventid", &args.event_id),
        (USER_NAME, &args.username),
    ];
    for (column, value) in exact {
        if let Some(v) = value {
            conditions.push(format!("{column} = {}", lit(v)));
        }
    }
    if let Some(o) = &args.origin {
        conditions.push(format!(
            "(origin = {} OR regexp_like(origin, {}))",
            lit(o),
            lit(&format!("[/:]{}$", regex_escape(o)))
        ));
    }
    if let Some(ro) = args.read_only {
        conditions.push(format!("readonly = {ro}"));
    }
    if let Some(t) = &args.resource_type {
        let json = serde_json::to_string(t).map_err(|e| Error::Internal(e.to_string()))?;
        conditions.push(format!(
            "(strpos(to_json(resources), {}) > 0 \
             OR strpos(json_extract_scalar(extra_fields, '$[\"Resource type\"]'), {}) > 0)",
            lit(&format!("\"type\":{json}")),
            lit(t)
        ));
    }
    if let Some(n) = &args.resource_name {
        let json = serde_json::to_string(n).map_err(|e| Error::Internal(e.to_string()))?;
        let quoted = regex_escape(&json[1..json.len() - 1]);
        conditions.push(format!(
            "(regexp_like(to_json(resources), {}) \
             OR strpos(requestparameters, {json_lit}) > 0 \
             OR strpos(responseelements, {json_lit}) > 0 \
             OR strpos(json_extract_scalar(extra_fields, '$[\"Resource name\"]'), {}) > 0)",
            lit(&format!("\"arn\":\"([^\"]*[/:])?{quoted}\"")),
            lit(n),
            json_lit = lit(&json),
        ));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("\nWHERE {}", conditions.join("\n  AND "))
    };
    Ok(format!(
        "SELECT\n  eventtime,\n  eventname AS event_name,\n  {USER_NAME} AS user_name,\n  \
         eventsource AS event_source,\n  {} AS resource_type,\n  {} AS resource_name,\n  \
         useridentity.accesskeyid AS access_key_id,\n  awsregion AS region,\n  \
         errorcode AS error_code,\n  sourceipaddress AS source_ip,\n  readonly AS read_only,\n  \
         eventid AS event_id{origin}\nFROM {table}{events}{filter}\nORDER BY eventtime DESC, event_id",
        resource_field("type", "Resource type"),
        resource_field("arn", "Resource name"),
        origin = match args.origin {
            Some(_) => ",\n  origin,\n  origin_path",
            None => "",
        },
        events = match args.origin {
            Some(_) => "_events",
            None => "",
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_not_spliced() {
        let args = LookupArgs {
            username: Some("o'brien".into()),
            resource_name: Some("a.b".into()),
            read_only: Some(false),
            ..LookupArgs::default()
        };
        let sql = sql(&args, &Window::default(), "cloudtrail").unwrap();
        assert!(sql.contains("= 'o''brien'"), "{sql}");
        assert!(sql.contains("readonly = false"), "{sql}");
        assert!(sql.contains(r#"'"arn":"([^"]*[/:])?a\.b"'"#), "{sql}");
        assert!(!sql.contains("eventtime >="), "{sql}");
        assert!(sql.ends_with("ORDER BY eventtime DESC, event_id"));
    }
}
