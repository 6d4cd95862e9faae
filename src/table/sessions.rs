//! `<source>_sessions` tables: one row per set of temporary credentials
//! issued in the archive (`AssumeRole`, `AssumeRoleWithSAML`,
//! `AssumeRoleWithWebIdentity`, `GetFederationToken`, `GetSessionToken`,
//! and Identity Center's `GetRoleCredentials`), with the **origin**: the
//! first principal of the chain that is not itself a temporary session (an
//! IAM user, root, an AWS service, a SAML or web-identity subject, an
//! Identity Center user), found by following each session's caller key to
//! the event that issued it, hop by hop.
//!
//! Computed when the table is read, by one scan of the source that keeps
//! only the issuing calls (their columns alone are decoded), then in
//! memory. A session whose chain leaves the archive has a NULL origin and a
//! `why_no_origin` saying why: issued in an account the sources do not
//! hold, issued before the archive begins, or not found (another region or
//! a gap). An Identity Center role session (`AWSReservedSSO_...`) whose
//! issuing call is outside the archive still has its origin: the user is
//! the session's name.
//!
//! Of trailsql it imports `archive`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::NaiveDateTime;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{exec_err, ScalarValue};
use datafusion::datasource::{provider_as_source, MemTable, TableType};
use datafusion::error::Result;
use datafusion::execution::session_state::SessionState;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{col, lit, Expr, LogicalPlanBuilder};
use datafusion::logical_expr::{
    ColumnarValue, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_plan::{collect, ExecutionPlan};
use serde_json::Value;

use crate::archive::{Prune, Source, DEFAULT_LATE_DAYS};

/// The calls that issue temporary credentials.
const ISSUING: [&str; 6] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetFederationToken",
    "GetSessionToken",
    "GetRoleCredentials",
];

/// How long a session can last at most (a role's maximum, 12 hours): a
/// key used within this of the archive's first event may have been issued
/// before it.
const LONGEST_SESSION_MS: i64 = 12 * 3_600_000;

/// `<source>_sessions` over the table `source`; `archive`, for a raw
/// archive, tells from its keys which accounts it holds and when it begins.
#[derive(Debug)]
pub struct SessionsTable {
    source: Arc<dyn TableProvider>,
    archive: Option<Source>,
}

impl SessionsTable {
    pub fn new(source: Arc<dyn TableProvider>, archive: Option<Source>) -> SessionsTable {
        SessionsTable { source, archive }
    }
}

/// The table's columns.
pub fn sessions_schema() -> SchemaRef {
    let ts = || DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        text("access_key_id"),
        Field::new("issued_by_call", DataType::Utf8, false),
        text("session_name"),
        text("role_arn"),
        text("session_arn"),
        text("federated_identity"),
        text("identity_provider"),
        text("source_identity"),
        Field::new("issued_at", ts(), false),
        Field::new("expires_at", ts(), true),
        text("account"),
        text("region"),
        text("issuer_arn"),
        text("issuer_type"),
        text("issuer_key"),
        text("event_id"),
        text("origin"),
        text("origin_type"),
        text("origin_path"),
        Field::new("hops", DataType::Int64, true),
        text("why_no_origin"),
    ]))
}

/// One issuing call, as read from its event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Issued {
    pub access_key_id: Option<String>,
    pub call: String,
    pub session_name: Option<String>,
    pub role_arn: Option<String>,
    pub session_arn: Option<String>,
    pub federated_identity: Option<String>,
    pub identity_provider: Option<String>,
    pub source_identity: Option<String>,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Who called: ARN, identity type, the access key it used, and a name
    /// where there is no ARN (a SAML or web-identity subject, a service).
    pub issuer_arn: Option<String>,
    pub issuer_type: Option<String>,
    pub issuer_key: Option<String>,
    pub issuer_name: Option<String>,
    pub event_id: Option<String>,
}

/// Where a chain ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub origin: Option<String>,
    pub origin_type: Option<String>,
    /// `alice -> RoleA -> RoleB`.
    pub path: Option<String>,
    pub hops: Option<i64>,
    pub why_not: Option<String>,
}

/// What the archive holds, for saying why a chain leaves it.
#[derive(Debug, Clone, Default)]
pub struct ArchiveFacts {
    pub accounts: BTreeSet<String>,
    pub first_event_ms: Option<i64>,
}

/// Identity types that are not temporary sessions: a chain ends there.
fn is_long_term(kind: &str) -> bool {
    !matches!(kind, "AssumedRole" | "FederatedUser")
}

/// The last part of an ARN's resource (`user/alice` is `alice`, a role's
/// path is dropped, an assumed role's session part is dropped).
fn short_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let mut parts = resource.split('/');
    match parts.next() {
        Some("assumed-role") => parts.next().unwrap_or(resource).to_string(),
        Some("root") => "root".to_string(),
        _ => resource.rsplit('/').next().unwrap_or(resource).to_string(),
    }
}

/// The account of an ARN (`arn:aws:sts::111122223333:...`).
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// What a session adds to a path: its role's name, or the call.
fn hop_name(s: &Issued) -> String {
    match (&s.role_arn, &s.federated_identity) {
        (Some(role), _) => short_name(role),
        (None, Some(name)) if s.call == "GetFederationToken" => format!("federated:{name}"),
        _ => s.call.clone(),
    }
}

/// The origin of every session: by its caller's key, hop by hop.
pub fn resolve(sessions: &[Issued], facts: &ArchiveFacts) -> Vec<Origin> {
    let by_key: HashMap<&str, usize> = sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.access_key_id.as_deref().map(|k| (k, i)))
        .collect();
    let mut memo: Vec<Option<Origin>> = vec![None; sessions.len()];
    (0..sessions.len())
        .map(|i| origin_of(i, sessions, &by_key, facts, &mut memo, &mut Vec::new()))
        .collect()
}

fn origin_of(
    i: usize,
    sessions: &[Issued],
    by_key: &HashMap<&str, usize>,
    facts: &ArchiveFacts,
    memo: &mut Vec<Option<Origin>>,
    walking: &mut Vec<usize>,
) -> Origin {
    if let Some(done) = &memo[i] {
        return done.clone();
    }
    let s = &sessions[i];
    let here = hop_name(s);
    let found = if s.issuer_type.as_deref().is_none_or(is_long_term) {
        // The caller is the origin.
        let name = s.issuer_arn.clone().or_else(|| s.issuer_name.clone());
        let short = s
            .issuer_arn
            .as_deref()
            .map(short_name)
            .or_else(|| s.issuer_name.clone())
            .unwrap_or_else(|| "?".into());
        Origin {
            origin: name,
            // As CloudTrail records it (Identity Center's portal calls:
            // "Unknown"), the same in the `_events` views.
            origin_type: s.issuer_type.clone(),
            path: Some(format!("{short} -> {here}")),
            hops: Some(1),
            why_not: None,
        }
    } else if let Some(&parent) = s
        .issuer_key
        .as_deref()
        .and_then(|k| by_key.get(k))
        .filter(|&&p| p != i && !walking.contains(&p))
    {
        walking.push(i);
        let up = origin_of(parent, sessions, by_key, facts, memo, walking);
        walking.pop();
        Origin {
            path: up.path.as_ref().map(|p| format!("{p} -> {here}")),
            hops: up.hops.map(|h| h + 1),
            ..up
        }
    } else if let Some(user) = identity_center_user(s.issuer_arn.as_deref()) {
        // An Identity Center role session: its name is the user.
        let role = s.issuer_arn.as_deref().map(short_name).unwrap_or_default();
        Origin {
            origin: Some(user.to_string()),
            origin_type: Some("IdentityCenterUser".into()),
            path: Some(format!("{user} -> {role} -> {here}")),
            hops: Some(2),
            why_not: None,
        }
    } else {
        Origin {
            origin: None,
            origin_type: None,
            path: None,
            hops: None,
            why_not: Some(why_not_found(s, facts)),
        }
    };
    memo[i] = Some(found.clone());
    found
}

/// The user of an Identity Center role session's ARN
/// (`...:assumed-role/AWSReservedSSO_Admin_0123/jane@example.com`).
fn identity_center_user(arn: Option<&str>) -> Option<&str> {
    let resource = arn?.splitn(6, ':').nth(5)?;
    let mut parts = resource.split('/');
    (parts.next()? == "assumed-role" && parts.next()?.starts_with("AWSReservedSSO_"))
        .then(|| parts.next())
        .flatten()
        .filter(|u| !u.is_empty())
}

/// Why the call that issued `s`'s caller key is not in the archive.
fn why_not_found(s: &Issued, facts: &ArchiveFacts) -> String {
    let key = s.issuer_key.as_deref().unwrap_or("its key");
    if let Some(account) = s.issuer_arn.as_deref().and_then(account_of) {
        if !facts.accounts.is_empty() && !facts.accounts.contains(account) {
            return format!("{key} was issued in account {account}, which the sources do not hold");
        }
    }
    if let Some(first) = facts.first_event_ms {
        if s.issued_at - first < LONGEST_SESSION_MS {
            return format!("{key} was issued before the archive begins");
        }
    }
    format!("the call that issued {key} is not in the archive (another region, or a gap)")
}

/// An expiration as CloudTrail writes it: `Aug 1, 2024, 11:45:22 AM`,
/// `Mar 23, 2016 2:39:51 AM`, or ISO-8601 (UTC).
pub fn parse_expiration(text: &str) -> Option<i64> {
    let t = text.trim();
    for format in ["%b %e, %Y, %l:%M:%S %p", "%b %e, %Y %l:%M:%S %p"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(t, format) {
            return Some(at.and_utc().timestamp_millis());
        }
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// A string member at `path` of a JSON object.
fn text_at(v: Option<&Value>, path: &[&str]) -> Option<String> {
    let mut at = v?;
    for p in path {
        at = at.get(p)?;
    }
    match at {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The fields of one issuing event. `request`/`response` are its JSON.
pub fn read_issued(
    call: &str,
    request: Option<&Value>,
    response: Option<&Value>,
    caller_name: Option<String>,
) -> Issued {
    let mut s = Issued {
        call: call.to_string(),
        access_key_id: text_at(response, &["credentials", "accessKeyId"]),
        expires_at: text_at(response, &["credentials", "expiration"])
            .as_deref()
            .and_then(parse_expiration),
        session_arn: text_at(response, &["assumedRoleUser", "arn"])
            .or_else(|| text_at(response, &["federatedUser", "arn"])),
        source_identity: text_at(response, &["sourceIdentity"])
            .or_else(|| text_at(request, &["sourceIdentity"])),
        ..Issued::default()
    };
    match call {
        "AssumeRole" => {
            s.role_arn = text_at(request, &["roleArn"]);
            s.session_name = text_at(request, &["roleSessionName"]);
        }
        "AssumeRoleWithSAML" => {
            s.role_arn = text_at(request, &["roleArn"]);
            s.federated_identity = text_at(response, &["subject"]).or(caller_name);
            s.identity_provider =
                text_at(request, &["principalArn"]).or_else(|| text_at(response, &["issuer"]));
            s.session_name = s
                .session_arn
                .as_deref()
                .and_then(|a| a.rsplit('/').next())
                .map(String::from);
        }
        "AssumeRoleWithWebIdentity" => {
            s.role_arn = text_at(request, &["roleArn"]);
            s.session_name = text_at(request, &["roleSessionName"]);
            s.federated_identity =
                text_at(response, &["subjectFromWebIdentityToken"]).or(caller_name);
            s.identity_provider = text_at(response, &["provider"]);
        }
        "GetFederationToken" => {
            s.session_name = text_at(request, &["name"]);
            s.federated_identity = s.session_name.clone();
        }
        "GetRoleCredentials" => {
            s.session_name = caller_name.clone();
            s.federated_identity = caller_name;
            s.role_arn = match (
                text_at(request, &["accountId"]),
                text_at(request, &["roleName"]),
            ) {
                (Some(account), Some(role)) => Some(format!("arn:aws:iam::{account}:role/{role}")),
                _ => None,
            };
        }
        _ => {}
    }
    s
}

/// One row per issued set of credentials (one per key: an AssumeRole
/// across accounts is logged in both, with the same key). Of two copies,
/// the caller's account's is kept: the role's account logs the caller as
/// an `AWSAccount`, without the key it called with, which the chain needs.
fn distinct(mut all: Vec<Issued>) -> Vec<Issued> {
    all.sort_by(|a, b| (a.issued_at, &a.event_id).cmp(&(b.issued_at, &b.event_id)));
    let mut kept: Vec<Issued> = Vec::with_capacity(all.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    for s in all {
        let Some(key) = s.access_key_id.clone() else {
            kept.push(s);
            continue;
        };
        match at.get(&key) {
            Some(&i) => {
                if kept[i].issuer_key.is_none() && s.issuer_key.is_some() {
                    kept[i] = s;
                }
            }
            None => {
                at.insert(key, kept.len());
                kept.push(s);
            }
        }
    }
    kept
}

/// The source's issuing events and what the archive holds.
async fn read_source(
    source: &Arc<dyn TableProvider>,
    archive: Option<&Source>,
    state: &dyn Session,
) -> Result<(Vec<Issued>, ArchiveFacts)> {
    let who = |f: &str| get_field(col("useridentity"), f);
    let names: Vec<Expr> = ISSUING.iter().map(|n| lit(*n)).collect();
    let plan = LogicalPlanBuilder::scan("source", provider_as_source(source.clone()), None)?
        .filter(
            col("eventname")
                .in_list(names, false)
                .and(col("errorcode").is_null()),
        )?
        .project(vec![
            col("eventtime"),
            col("eventname"),
            col("recipientaccountid"),
            col("awsregion"),
            who("type"),
            who("arn"),
            who("accesskeyid"),
            who("username"),
            who("principalid"),
            who("invokedby"),
            col("requestparameters"),
            col("responseelements"),
            col("eventid"),
        ])?
        .build()?;
    let physical: Arc<dyn ExecutionPlan> = state.create_physical_plan(&plan).await?;
    let batches = collect(physical, state.task_ctx()).await?;
    let mut all = Vec::new();
    let mut facts = ArchiveFacts::default();
    for b in &batches {
        let text = |i: usize| -> Result<StringArray> {
            Ok(cast(b.column(i), &DataType::Utf8)?
                .as_string::<i32>()
                .clone())
        };
        let time: ArrayRef = cast(
            b.column(0),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        )?;
        let time = time.as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>();
        let cols: Vec<StringArray> = (1..13).map(text).collect::<Result<_>>()?;
        let get = |c: usize, row: usize| -> Option<String> {
            let a = &cols[c - 1];
            (a.is_valid(row) && !a.value(row).is_empty()).then(|| a.value(row).to_string())
        };
        for row in 0..b.num_rows() {
            let json = |c: usize| get(c, row).and_then(|t| serde_json::from_str::<Value>(&t).ok());
            let (request, response) = (json(10), json(11));
            let kind = get(4, row);
            let name = get(7, row).or_else(|| get(8, row)).or_else(|| get(9, row));
            let mut s = read_issued(
                &get(1, row).unwrap_or_default(),
                request.as_ref(),
                response.as_ref(),
                name.clone(),
            );
            s.issued_at = time.value(row);
            s.account = get(2, row);
            s.region = get(3, row);
            s.issuer_type = kind;
            s.issuer_arn = get(5, row);
            s.issuer_key = get(6, row);
            s.issuer_name = name;
            s.event_id = get(12, row);
            if let Some(a) = &s.account {
                facts.accounts.insert(a.clone());
            }
            all.push(s);
        }
    }
    match archive_facts(archive).await {
        Some(keys) => facts = keys,
        None => facts.first_event_ms = first_event(source, state).await?,
    }
    Ok((distinct(all), facts))
}

/// The accounts and the first day of a raw archive, from its keys (a
/// listing, no log file read): the first delivery day's midnight.
async fn archive_facts(archive: Option<&Source>) -> Option<ArchiveFacts> {
    let listing = archive?
        .list_for(&Prune::default(), DEFAULT_LATE_DAYS)
        .await
        .ok()?;
    let keys: Vec<_> = listing.logs.iter().filter_map(|l| l.key.as_ref()).collect();
    let first = keys.iter().map(|k| k.date).min()?;
    Some(ArchiveFacts {
        accounts: keys.iter().map(|k| k.account.clone()).collect(),
        first_event_ms: Some(first.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()),
    })
}

/// The time of the source's first event (from its statistics where it has
/// them, as a converted dataset does).
async fn first_event(source: &Arc<dyn TableProvider>, state: &dyn Session) -> Result<Option<i64>> {
    let plan = LogicalPlanBuilder::scan("source", provider_as_source(source.clone()), None)?
        .aggregate(
            Vec::<Expr>::new(),
            vec![datafusion::functions_aggregate::expr_fn::min(col(
                "eventtime",
            ))],
        )?
        .build()?;
    let physical = state.create_physical_plan(&plan).await?;
    let batches = collect(physical, state.task_ctx()).await?;
    let Some(b) = batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let t = cast(
        b.column(0),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
    )?;
    let t = t.as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>();
    Ok(t.is_valid(0).then(|| t.value(0)))
}

/// The sessions and their origins, as the table's rows.
pub fn sessions_batch(sessions: &[Issued], origins: &[Origin]) -> Result<RecordBatch> {
    let texts = |f: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter((0..sessions.len()).map(f)))
    };
    let s = sessions;
    let o = origins;
    let columns: Vec<ArrayRef> = vec![
        texts(&|i| s[i].access_key_id.clone()),
        texts(&|i| Some(s[i].call.clone())),
        texts(&|i| s[i].session_name.clone()),
        texts(&|i| s[i].role_arn.clone()),
        texts(&|i| s[i].session_arn.clone()),
        texts(&|i| s[i].federated_identity.clone()),
        texts(&|i| s[i].identity_provider.clone()),
        texts(&|i| s[i].source_identity.clone()),
        Arc::new(
            TimestampMillisecondArray::from_iter_values(s.iter().map(|x| x.issued_at))
                .with_timezone("UTC"),
        ),
        Arc::new(
            TimestampMillisecondArray::from_iter(s.iter().map(|x| x.expires_at))
                .with_timezone("UTC"),
        ),
        texts(&|i| s[i].account.clone()),
        texts(&|i| s[i].region.clone()),
        texts(&|i| s[i].issuer_arn.clone()),
        texts(&|i| s[i].issuer_type.clone()),
        texts(&|i| s[i].issuer_key.clone()),
        texts(&|i| s[i].event_id.clone()),
        texts(&|i| o[i].origin.clone()),
        texts(&|i| o[i].origin_type.clone()),
        texts(&|i| o[i].path.clone()),
        Arc::new(Int64Array::from_iter(o.iter().map(|x| x.hops))),
        texts(&|i| o[i].why_not.clone()),
    ];
    Ok(RecordBatch::try_new(sessions_schema(), columns)?)
}

#[async_trait]
impl TableProvider for SessionsTable {
    fn schema(&self) -> SchemaRef {
        sessions_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (sessions, facts) = read_source(&self.source, self.archive.as_ref(), state).await?;
        let origins = resolve(&sessions, &facts);
        let batch = sessions_batch(&sessions, &origins)?;
        let table = MemTable::try_new(sessions_schema(), vec![vec![batch]])?;
        table.scan(state, projection, filters, limit).await
    }
}

/// The origins of each source's temporary keys, computed (from
/// `<source>_sessions`) before a statement that needs them runs.
#[derive(Debug, Default)]
pub struct Origins {
    by_source: RwLock<HashMap<String, Arc<HashMap<String, Behind>>>>,
}

/// Who is behind one key: origin, its type, the path to the key.
type Behind = (String, String, String);

/// The function behind the `origin`, `origin_type` and `origin_path`
/// columns of the `_events` views: `key_origin('source', useridentity,
/// 'origin' | 'origin_type' | 'origin_path')`. A long-term principal is its own origin; a temporary
/// session's is its key's, from `<source>_sessions`; an Identity Center
/// role session's is its user.
pub const KEY_ORIGIN: &str = "key_origin";

/// The `key_origin` function, reading `store`.
pub fn origin_udf(store: Arc<Origins>) -> ScalarUDF {
    ScalarUDF::from(KeyOrigin {
        store,
        signature: Signature::any(3, Volatility::Immutable),
    })
}

#[derive(Debug)]
struct KeyOrigin {
    store: Arc<Origins>,
    signature: Signature,
}

impl PartialEq for KeyOrigin {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store, &other.store)
    }
}
impl Eq for KeyOrigin {}
impl std::hash::Hash for KeyOrigin {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        KEY_ORIGIN.hash(state)
    }
}

impl ScalarUDFImpl for KeyOrigin {
    fn name(&self) -> &str {
        KEY_ORIGIN
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let literal = |i: usize| match &args.args[i] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(s))) => Ok(s.clone()),
            _ => exec_err!("{KEY_ORIGIN} takes the source and the part as literals"),
        };
        let (source, part) = (literal(0)?, literal(2)?);
        let Some(keys) = self
            .store
            .by_source
            .read()
            .ok()
            .and_then(|m| m.get(&source).cloned())
        else {
            return exec_err!(
                "the origins of {source}'s keys were not computed before the query ran"
            );
        };
        let who = args.args[1].clone().into_array(args.number_rows)?;
        let who = who.as_struct();
        let field = |name: &str| -> Result<Option<StringArray>> {
            who.column_by_name(name)
                .map(|c| Ok(cast(c, &DataType::Utf8)?.as_string::<i32>().clone()))
                .transpose()
        };
        let (kind, arn, key) = (field("type")?, field("arn")?, field("accesskeyid")?);
        let (user, service) = (field("username")?, field("invokedby")?);
        let at = |a: &Option<StringArray>, row: usize| {
            a.as_ref()
                .filter(|a| a.is_valid(row) && !a.value(row).is_empty())
                .map(|a| a.value(row).to_string())
        };
        let mut out = Vec::with_capacity(who.len());
        for row in 0..who.len() {
            let found: Option<Behind> = if who.is_null(row) {
                None
            } else {
                match at(&kind, row) {
                    Some(k) if is_long_term(&k) => at(&arn, row)
                        .or_else(|| at(&user, row))
                        .or_else(|| at(&service, row))
                        .map(|o| {
                            let short = short_name(&o);
                            (o, k, short)
                        }),
                    Some(_) => at(&key, row)
                        .and_then(|k| keys.get(&k).cloned())
                        .or_else(|| {
                            let arn = at(&arn, row);
                            identity_center_user(arn.as_deref()).map(|u| {
                                let role = arn.as_deref().map(short_name).unwrap_or_default();
                                (
                                    u.to_string(),
                                    "IdentityCenterUser".to_string(),
                                    format!("{u} -> {role}"),
                                )
                            })
                        }),
                    None => None,
                }
            };
            out.push(found.map(|(origin, kind, path)| match part.as_str() {
                "origin_type" => kind,
                "origin_path" => path,
                _ => origin,
            }));
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
    }
}

/// The sources whose `key_origin` `plan` calls.
fn sources_needing(plan: &LogicalPlan) -> BTreeSet<String> {
    let mut sources = BTreeSet::new();
    let _ = plan.apply_with_subqueries(|p| {
        p.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e {
                    if f.func.name() == KEY_ORIGIN {
                        if let Some(Expr::Literal(ScalarValue::Utf8(Some(s)), _)) = f.args.first() {
                            sources.insert(s.clone());
                        }
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    sources
}

/// Before `plan` runs: the origins of the keys of each source whose
/// `origin` it reads, from `<source>_sessions` (one scan each, once).
pub async fn ensure_origins(plan: &LogicalPlan, state: &SessionState) -> Result<()> {
    // A view's definition or a plan that is only shown reads nothing now.
    if matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Explain(_))
        || sources_needing(plan).is_empty()
    {
        return Ok(());
    }
    // Every `_events` view defines `origin`; only a plan that still reads
    // it once unused columns are dropped needs the sessions.
    let analyzed =
        state
            .analyzer()
            .execute_and_check(plan.clone(), state.config_options(), |_, _| {})?;
    let pruned = datafusion::optimizer::Optimizer::with_rules(vec![Arc::new(
        datafusion::optimizer::optimize_projections::OptimizeProjections::new(),
    )])
    .optimize(analyzed, state, |_, _| {})?;
    let needed = sources_needing(&pruned);
    if needed.is_empty() {
        return Ok(());
    }
    let Some(udf) = state.scalar_functions().get(KEY_ORIGIN) else {
        return Ok(());
    };
    let Some(store) = udf
        .inner()
        .downcast_ref::<KeyOrigin>()
        .map(|k| k.store.clone())
    else {
        return Ok(());
    };
    for source in needed {
        if store
            .by_source
            .read()
            .is_ok_and(|m| m.contains_key(&source))
        {
            continue;
        }
        let sql = format!(
            "SELECT access_key_id, origin, origin_type, origin_path FROM \"{source}_sessions\" \
             WHERE access_key_id IS NOT NULL AND origin IS NOT NULL"
        );
        let logical = state.create_logical_plan(&sql).await?;
        let physical = state.create_physical_plan(&logical).await?;
        let mut keys = HashMap::new();
        for b in collect(physical, state.task_ctx()).await? {
            let c = |i: usize| b.column(i).as_string::<i32>();
            let (k, o, t, p) = (c(0), c(1), c(2), c(3));
            for row in 0..b.num_rows() {
                let text = |a: &StringArray| a.is_valid(row).then(|| a.value(row).to_string());
                keys.insert(
                    k.value(row).to_string(),
                    (
                        o.value(row).to_string(),
                        text(t).unwrap_or_default(),
                        text(p).unwrap_or_default(),
                    ),
                );
            }
        }
        if let Ok(mut m) = store.by_source.write() {
            m.insert(source, Arc::new(keys));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(arn: &str, kind: &str, key: &str) -> Issued {
        Issued {
            issuer_arn: Some(arn.into()),
            issuer_type: Some(kind.into()),
            issuer_key: Some(key.into()),
            ..Issued::default()
        }
    }

    fn assume(role: &str, new_key: &str, caller: Issued, at: i64) -> Issued {
        Issued {
            call: "AssumeRole".into(),
            role_arn: Some(format!("arn:aws:iam::111122223333:role/{role}")),
            access_key_id: Some(new_key.into()),
            issued_at: at,
            ..caller
        }
    }

    #[test]
    fn of_a_cross_account_call_logged_twice_the_callers_copy_is_kept() {
        let caller = Issued {
            access_key_id: Some("ASIAHOP".into()),
            issued_at: 10,
            issuer_type: Some("AssumedRole".into()),
            issuer_key: Some("ASIACALLER".into()),
            event_id: Some("b".into()),
            ..Issued::default()
        };
        // The role's account's copy: the caller as an account, no key;
        // its event id sorts first.
        let roles = Issued {
            issuer_type: Some("AWSAccount".into()),
            issuer_key: None,
            event_id: Some("a".into()),
            ..caller.clone()
        };
        for both in [
            vec![roles.clone(), caller.clone()],
            vec![caller.clone(), roles.clone()],
        ] {
            assert_eq!(distinct(both), vec![caller.clone()]);
        }
    }

    #[test]
    fn chains_end_at_the_first_principal_that_is_no_session() {
        let alice = by(
            "arn:aws:iam::111122223333:user/alice",
            "IAMUser",
            "AKIAALICE",
        );
        let a = assume("RoleA", "ASIAA", alice, 10 * LONGEST_SESSION_MS);
        let b = assume(
            "RoleB",
            "ASIAB",
            by(
                "arn:aws:sts::111122223333:assumed-role/RoleA/s1",
                "AssumedRole",
                "ASIAA",
            ),
            11 * LONGEST_SESSION_MS,
        );
        let c = assume(
            "RoleC",
            "ASIAC",
            by(
                "arn:aws:sts::111122223333:assumed-role/RoleB/s2",
                "AssumedRole",
                "ASIAB",
            ),
            12 * LONGEST_SESSION_MS,
        );
        let facts = ArchiveFacts {
            accounts: ["111122223333".to_string()].into(),
            first_event_ms: Some(0),
        };
        // Listed in any order: the chain is followed by keys.
        let o = resolve(&[c, a, b], &facts);
        assert_eq!(
            o[0].origin.as_deref(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
        assert_eq!(o[0].origin_type.as_deref(), Some("IAMUser"));
        assert_eq!(
            o[0].path.as_deref(),
            Some("alice -> RoleA -> RoleB -> RoleC")
        );
        assert_eq!(o[0].hops, Some(3));
        assert_eq!(o[1].path.as_deref(), Some("alice -> RoleA"));
        assert_eq!(o[2].hops, Some(2));
    }

    #[test]
    fn a_chain_that_leaves_the_archive_says_why() {
        let facts = ArchiveFacts {
            accounts: ["111122223333".to_string()].into(),
            first_event_ms: Some(0),
        };
        let early = assume(
            "RoleB",
            "ASIAB",
            by(
                "arn:aws:sts::111122223333:assumed-role/RoleA/s",
                "AssumedRole",
                "ASIAGONE",
            ),
            3_600_000,
        );
        let late = Issued {
            issued_at: 30 * LONGEST_SESSION_MS,
            ..early.clone()
        };
        let elsewhere = assume(
            "RoleB",
            "ASIAX",
            by(
                "arn:aws:sts::999988887777:assumed-role/Ext/s",
                "AssumedRole",
                "ASIAEXT",
            ),
            30 * LONGEST_SESSION_MS,
        );
        let o = resolve(&[early, late, elsewhere], &facts);
        assert!(o.iter().all(|x| x.origin.is_none()));
        assert_eq!(
            o[0].why_not.as_deref(),
            Some("ASIAGONE was issued before the archive begins")
        );
        assert!(o[1]
            .why_not
            .as_deref()
            .unwrap()
            .contains("is not in the archive"));
        assert!(o[2]
            .why_not
            .as_deref()
            .unwrap()
            .contains("account 999988887777"));
    }

    #[test]
    fn identity_center_and_federated_callers_are_origins() {
        let facts = ArchiveFacts::default();
        let sso = assume(
            "Deploy",
            "ASIAD",
            by(
                "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/jane@example.com",
                "AssumedRole",
                "ASIASSO",
            ),
            5,
        );
        let saml = Issued {
            call: "AssumeRoleWithSAML".into(),
            role_arn: Some("arn:aws:iam::111122223333:role/Federated".into()),
            issuer_type: Some("SAMLUser".into()),
            issuer_name: Some("bob@corp.example".into()),
            access_key_id: Some("ASIAS".into()),
            ..Issued::default()
        };
        let o = resolve(&[sso, saml], &facts);
        assert_eq!(o[0].origin.as_deref(), Some("jane@example.com"));
        assert_eq!(o[0].origin_type.as_deref(), Some("IdentityCenterUser"));
        assert_eq!(
            o[0].path.as_deref(),
            Some("jane@example.com -> AWSReservedSSO_Admin_0123 -> Deploy")
        );
        assert_eq!(o[1].origin.as_deref(), Some("bob@corp.example"));
        assert_eq!(o[1].path.as_deref(), Some("bob@corp.example -> Federated"));
    }

    #[test]
    fn expirations_in_cloudtrails_shapes() {
        let at = |s| {
            parse_expiration(s).map(|ms| {
                chrono::DateTime::from_timestamp_millis(ms)
                    .unwrap()
                    .to_rfc3339()
            })
        };
        assert_eq!(
            at("Aug 1, 2024, 11:45:22 AM").as_deref(),
            Some("2024-08-01T11:45:22+00:00")
        );
        assert_eq!(
            at("Mar 23, 2016 2:39:51 AM").as_deref(),
            Some("2016-03-23T02:39:51+00:00")
        );
        assert_eq!(
            at("2025-10-01T12:00:00Z").as_deref(),
            Some("2025-10-01T12:00:00+00:00")
        );
        assert_eq!(at("soon"), None);
    }
}
