//! The canonical schema: CloudTrail field names in lower case (as in the Athena
//! table AWS documents), `eventtime` as a UTC timestamp, identity/TLS/resources as
//! structs, free-form objects as JSON text, plus two columns of our own:
//! `extra_fields` (whatever the typed columns do not carry, so nothing is lost)
//! and `log_object` (the log file the row came from).
//!
//! The schema is described once, as a tree of [`Spec`]s; the decoder, the Arrow
//! schema and the rebuild all walk that tree.
//!
//! It imports nothing of trailsql outside `record/`.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Name of the column holding, as a JSON object, every part of a record the typed
/// columns do not carry (unknown fields, explicit nulls, values of another type,
/// non-canonical timestamps). Merged over the typed row it gives back the record.
pub const EXTRA_FIELDS: &str = "extra_fields";
/// Name of the column holding the path or key of the log object a row came from.
pub const LOG_OBJECT: &str = "log_object";

/// Time zone of `eventtime`.
pub const UTC: &str = "UTC";

/// `s` as a SQL string literal (quoted, its quotes doubled): how text from
/// rules, query headers and the command line reaches generated SQL.
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// How one JSON field is stored.
#[derive(Debug)]
pub enum Kind {
    /// JSON string -> Utf8
    Str,
    /// JSON boolean -> Boolean
    Bool,
    /// `YYYY-MM-DDTHH:MM:SSZ` string -> Timestamp(ms, UTC)
    Time,
    /// any JSON value -> its JSON text (Utf8)
    Json,
    /// JSON object -> Struct with these fields
    Struct(&'static [Spec]),
    /// JSON array of objects -> List<Struct>
    ListOfStruct(&'static [Spec]),
}

/// One field: its name in CloudTrail JSON and how it is stored. The column (or
/// struct field) name is the JSON name in lower case.
#[derive(Debug)]
pub struct Spec {
    pub json: &'static str,
    pub kind: Kind,
}

const fn s(json: &'static str, kind: Kind) -> Spec {
    Spec { json, kind }
}

use Kind::*;

const ISSUER: &[Spec] = &[
    s("type", Str),
    s("principalId", Str),
    s("arn", Str),
    s("accountId", Str),
    s("userName", Str),
];

const SESSION_ATTRIBUTES: &[Spec] = &[s("mfaAuthenticated", Str), s("creationDate", Str)];

const SESSION_CONTEXT: &[Spec] = &[
    s("sessionIssuer", Struct(ISSUER)),
    s("webIdFederationData", Json),
    s("attributes", Struct(SESSION_ATTRIBUTES)),
    s("sourceIdentity", Str),
    s("ec2RoleDelivery", Str),
    s("assumedRoot", Str),
];

const USER_IDENTITY: &[Spec] = &[
    s("type", Str),
    s("principalId", Str),
    s("arn", Str),
    s("accountId", Str),
    s("accessKeyId", Str),
    s("userName", Str),
    s("invokedBy", Str),
    s("identityProvider", Str),
    s("credentialId", Str),
    s("sessionContext", Struct(SESSION_CONTEXT)),
    s("onBehalfOf", Json),
    s("inScopeOf", Json),
];

const RESOURCE: &[Spec] = &[s("ARN", Str), s("accountId", Str), s("type", Str)];

const TLS_DETAILS: &[Spec] = &[
    s("tlsVersion", Str),
    s("cipherSuite", Str),
    s("clientProvidedHostHeader", Str),
    s("keyExchange", Str),
];

/// The top-level fields of a record, in column order.
pub const RECORD: &[Spec] = &[
    s("eventVersion", Str),
    s("userIdentity", Struct(USER_IDENTITY)),
    s("eventTime", Time),
    s("eventSource", Str),
    s("eventName", Str),
    s("awsRegion", Str),
    s("sourceIPAddress", Str),
    s("userAgent", Str),
    s("errorCode", Str),
    s("errorMessage", Str),
    s("requestParameters", Json),
    s("responseElements", Json),
    s("additionalEventData", Json),
    s("requestID", Str),
    s("eventID", Str),
    s("readOnly", Bool),
    s("resources", ListOfStruct(RESOURCE)),
    s("eventType", Str),
    s("apiVersion", Str),
    s("managementEvent", Bool),
    s("recipientAccountId", Str),
    s("sharedEventID", Str),
    s("vpcEndpointId", Str),
    s("vpcEndpointAccountId", Str),
    s("serviceEventDetails", Json),
    s("eventCategory", Str),
    s("addendum", Json),
    s("sessionCredentialFromConsole", Str),
    s("edgeDeviceDetails", Json),
    s("tlsDetails", Struct(TLS_DETAILS)),
    s("insightDetails", Json),
    s("eventContext", Json),
];

/// Arrow type of one spec.
pub fn data_type(kind: &Kind) -> DataType {
    match kind {
        Str | Json => DataType::Utf8,
        Bool => DataType::Boolean,
        Time => DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into())),
        Struct(children) => DataType::Struct(struct_fields(children)),
        ListOfStruct(children) => DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(struct_fields(children)),
            true,
        ))),
    }
}

/// Arrow fields of a struct spec.
pub fn struct_fields(children: &[Spec]) -> Fields {
    children.iter().map(field).collect()
}

fn field(spec: &Spec) -> Field {
    Field::new(spec.json.to_ascii_lowercase(), data_type(&spec.kind), true)
}

/// Every column and nested struct field below `fields`, as dotted lower-case
/// paths (`useridentity.sessioncontext.sessionissuer.arn`) with their types,
/// parents before children. Used by `\\d` and by tab completion.
pub fn field_paths(fields: &Fields) -> Vec<(String, DataType)> {
    fn walk(prefix: &str, fields: &Fields, out: &mut Vec<(String, DataType)>) {
        for f in fields {
            let path = if prefix.is_empty() {
                f.name().clone()
            } else {
                format!("{prefix}.{}", f.name())
            };
            out.push((path.clone(), f.data_type().clone()));
            if let DataType::Struct(children) = f.data_type() {
                walk(&path, children, out);
            }
        }
    }
    let mut out = Vec::new();
    walk("", fields, &mut out);
    out
}

/// The canonical schema shared by every source.
pub fn canonical_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields: Vec<Field> = RECORD.iter().map(field).collect();
            fields.push(Field::new(EXTRA_FIELDS, DataType::Utf8, true));
            fields.push(Field::new(LOG_OBJECT, DataType::Utf8, false));
            Arc::new(Schema::new(fields))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_lower_case_and_unique() {
        let schema = canonical_schema();
        let mut names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert!(names.iter().all(|n| *n == n.to_ascii_lowercase()));
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(before, names.len());
        assert!(schema.field_with_name("useridentity").is_ok());
        assert_eq!(
            schema.field_with_name("eventtime").unwrap().data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
    }
}
