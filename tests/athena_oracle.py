#!/usr/bin/env python3
"""Athena-dialect queries answered by trailsql and by DuckDB, compared.

DuckDB is the independent engine: it loads the same log files into a table
`cloudtrail_logs` shaped as AWS's Athena DDL shapes it (eventtime a string,
useridentity and resources structs, the JSON columns as JSON text), and it
gets Trino's names for the functions it has under other names (the macros
below); nothing of trailsql is used on its side. Each query then runs as
written on both; the answers must be the same rows (in order where the
query has an ORDER BY at its end).

    athena_oracle.py TRAILSQL SOURCE QUERIES [--report]

QUERIES is a file of statements ending in `;`, each after a `-- name` line.
With --report, every query's outcome is printed (ran on both and agreed,
differed, failed in one) and the exit status is 0; without it, the first
disagreement or failure is an error (exit 1).
"""

import glob
import json
import math
import os
import re
import subprocess
import sys
import datetime as dt

import duckdb

# The row as Athena's DDL has it (lower-case names; nested objects as
# structs, the free-form ones as JSON text), from each record `r`.
USER_IDENTITY = {
    "type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR",
    "accountId": "VARCHAR", "invokedBy": "VARCHAR", "accessKeyId": "VARCHAR",
    "userName": "VARCHAR",
    "sessionContext": {
        "attributes": {"mfaAuthenticated": "VARCHAR", "creationDate": "VARCHAR"},
        "sessionIssuer": {
            "type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR",
            "accountId": "VARCHAR", "userName": "VARCHAR",
        },
        "sourceIdentity": "VARCHAR",
        "ec2RoleDelivery": "VARCHAR",
    },
}
RESOURCES = [{"ARN": "VARCHAR", "accountId": "VARCHAR", "type": "VARCHAR"}]


def text(field):
    return f"r->>'{field}'"


def json_text(field):
    return f"nullif(CAST(r->'{field}' AS VARCHAR), 'null')"


COLUMNS = [
    ("eventversion", text("eventVersion")),
    ("useridentity", f"from_json(r->'userIdentity', '{json.dumps(USER_IDENTITY)}')"),
    ("eventtime", text("eventTime")),
    ("eventsource", text("eventSource")),
    ("eventname", text("eventName")),
    ("awsregion", text("awsRegion")),
    ("sourceipaddress", text("sourceIPAddress")),
    ("useragent", text("userAgent")),
    ("errorcode", text("errorCode")),
    ("errormessage", text("errorMessage")),
    ("requestparameters", json_text("requestParameters")),
    ("responseelements", json_text("responseElements")),
    ("additionaleventdata", json_text("additionalEventData")),
    ("requestid", text("requestID")),
    ("eventid", text("eventID")),
    ("resources", f"from_json(r->'resources', '{json.dumps(RESOURCES)}')"),
    ("eventtype", text("eventType")),
    ("apiversion", text("apiVersion")),
    ("readonly", text("readOnly")),
    ("recipientaccountid", text("recipientAccountId")),
    ("serviceeventdetails", json_text("serviceEventDetails")),
    ("sharedeventid", text("sharedEventID")),
    ("vpcendpointid", text("vpcEndpointId")),
]

# Athena's partition columns, from the file's key as the documented tables
# (projected: `timestamp`; manual: region, year, month, day; organization
# trails: account / accountid) define them.
KEY = r"AWSLogs/(?:o-[a-z0-9]+/)?([0-9]{12})/CloudTrail/([^/]+)/([0-9]{4})/([0-9]{2})/([0-9]{2})/"


def key_part(group):
    return f"regexp_extract(replace(filename, '\\', '/'), '{KEY}', {group})"


PARTITIONS = [
    ("\"timestamp\"", f"{key_part(3)} || '/' || {key_part(4)} || '/' || {key_part(5)}"),
    ("region", key_part(2)),
    ("account", key_part(1)),
    ("accountid", key_part(1)),
    ("year", key_part(3)),
    ("month", key_part(4)),
    ("day", key_part(5)),
]

# Trino's names for what DuckDB has under its own (same meaning on the
# values the queries use).
MACROS = [
    "json_extract_scalar(j, p) AS CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') "
    "THEN NULL ELSE json_extract_string(j, p) END",
    "from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)",
    "regexp_like(s, p) AS regexp_matches(s, p)",
    "cardinality(a) AS len(a)",
    "split(s, d) AS string_split(s, d)",
    "array_join(a, d) AS array_to_string(a, d)",
    "approx_distinct(x) AS approx_count_distinct(x)",
]


def log_files(source):
    files = [
        f for f in glob.glob(os.path.join(source, "**", "*.json*"), recursive=True)
        if "/CloudTrail/" in f.replace(os.sep, "/") and "Digest" not in f
    ]
    if not files:
        sys.exit(f"no CloudTrail log files under {source}")
    return sorted(files)


def duckdb_session(source):
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    files = log_files(source)
    db.execute(
        "CREATE TABLE records AS SELECT unnest(Records) AS r, filename FROM read_json(?, "
        "columns = {'Records': 'JSON[]'}, format = 'auto', filename = true)",
        [files],
    )
    select = ", ".join(f"{expr} AS {name}" for name, expr in COLUMNS + PARTITIONS)
    db.execute(f"CREATE TABLE cloudtrail_logs AS SELECT {select} FROM records")
    db.execute("CREATE VIEW cloudtrail AS SELECT * FROM cloudtrail_logs")
    for m in MACROS:
        db.execute(f"CREATE OR REPLACE MACRO {m}")
    return db


def queries(path):
    """(name, sql) for each statement of the file."""
    out, name, lines = [], None, []
    for line in open(path, encoding="utf-8"):
        stripped = line.strip()
        if stripped.startswith("-- ") and not lines:
            name = stripped[3:] if name is None else name
            continue
        if not stripped and not lines:
            name = None  # a comment block apart from any statement
            continue
        lines.append(line.rstrip("\n"))
        if stripped.endswith(";"):
            out.append((name or f"query {len(out) + 1}", "\n".join(lines).rstrip(";")))
            name, lines = None, []
    return out


def same_value(v):
    """A value as comparable text: NULL stays None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.6g}"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="milliseconds")
    if isinstance(v, dict):
        return {k.lower(): same_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [same_value(x) for x in v]
    s = str(v)
    # A timestamp as trailsql writes it: 2023-10-15T09:00:00Z.
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", s)
    if m:
        frac = (m.group(2) or ".000")[:4].ljust(4, "0")
        return m.group(1) + frac
    return s


class Pairs(list):
    """A JSON object's members, in order (a row may repeat a name)."""


def by_trailsql(binary, source, sql):
    """(names, rows) or an error."""
    run = subprocess.run(
        [binary, "--source", source, "--format", "ndjson", "-e", sql],
        capture_output=True, text=True, check=False,
    )
    if run.returncode != 0:
        return None, None, run.stderr.strip()
    names, rows = None, []
    for line in run.stdout.splitlines():
        if line.strip():
            row = json.loads(line, object_pairs_hook=Pairs)
            names = [k.lower() for k, _ in row]
            rows.append([same_value(as_dicts(v)) for _, v in row])
    return names, rows, None


def as_dicts(v):
    """Nested objects as dicts (their members are named once)."""
    if isinstance(v, Pairs):
        return {k: as_dicts(x) for k, x in v}
    if isinstance(v, list):
        return [as_dicts(x) for x in v]
    return v


def by_duckdb(db, sql):
    try:
        cursor = db.execute(sql)
        names = [d[0].lower() for d in cursor.description]
        return names, [[same_value(v) for v in row] for row in cursor.fetchall()], None
    except duckdb.Error as e:
        return None, None, str(e).splitlines()[0]


def shared(value, other):
    """`value` with only the struct fields `other` has too."""
    if isinstance(value, dict) and isinstance(other, dict):
        return {k: shared(v, other[k]) for k, v in value.items() if k in other}
    return value


def common_columns(ours, our_names, theirs, their_names):
    """For SELECT *: the rows as the columns both tables have (trailsql's
    table has more than Athena's DDL), each struct as the fields both have."""
    both = [n for n in their_names if n in our_names]
    at_ours = [our_names.index(n) for n in both]
    at_theirs = [their_names.index(n) for n in both]
    a = [[row[i] for i in at_ours] for row in ours]
    b = [[row[i] for i in at_theirs] for row in theirs]
    if a and b:
        a = [[shared(v, b[0][j]) for j, v in enumerate(row)] for row in a]
        b = [[shared(v, a[0][j]) for j, v in enumerate(row)] for row in b]
    return a, b


def ordered(sql):
    tail = sql.rsplit(")", 1)[-1]
    return re.search(r"\border\s+by\b", tail, re.IGNORECASE) is not None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    report = "--report" in sys.argv
    if len(args) != 3:
        sys.exit(__doc__)
    binary, source, path = args
    db = duckdb_session(source)
    counts = {
        "agree": 0,
        "agree but for the order of ties": 0,
        "differ": 0,
        "trailsql failed": 0,
        "duckdb failed": 0,
    }
    problems = []
    for name, sql in queries(path):
        our_names, ours, our_error = by_trailsql(binary, source, sql)
        their_names, theirs, their_error = by_duckdb(db, sql)
        if our_error is not None:
            outcome, detail = "trailsql failed", our_error
        elif their_error is not None:
            outcome, detail = "duckdb failed", their_error
        else:
            if re.match(r"\s*select\s+\*\s+from", sql, re.IGNORECASE) and ours and theirs:
                ours, theirs = common_columns(ours, our_names, theirs, their_names)
            key = json.dumps
            a, b = (ours, theirs) if ordered(sql) else (
                sorted(ours, key=key), sorted(theirs, key=key))
            if a == b:
                outcome, detail = "agree", ""
            elif sorted(a, key=key) == sorted(b, key=key):
                # ORDER BY leaves rows with equal keys in any order.
                outcome, detail = "agree but for the order of ties", ""
            else:
                outcome, detail = "differ", f"trailsql {a[:5]} / duckdb {b[:5]}"
        counts[outcome] += 1
        if report:
            print(f"{outcome:16} {name}" + (f": {detail}" if detail else ""))
        elif outcome != "agree":
            problems.append(f"{name}: {outcome}: {detail}\n{sql}")
    total = sum(counts.values())
    print(f"{total} queries: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if problems and not report:
        print("\n\n".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
