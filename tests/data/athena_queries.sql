-- Athena-dialect queries, written here in the style of AWS's published
-- examples, run by tests/athena_oracle.py on trailsql and on DuckDB (the
-- oracle) over tests/data/archive. Each must give the same rows on both.

-- every call in a window, as the runbooks start
SELECT eventtime, eventname, awsregion, sourceipaddress, useragent, errorcode
FROM cloudtrail_logs
WHERE eventtime BETWEEN '2023-10-15T00:00:00Z' AND '2023-10-16T00:00:00Z'
ORDER BY eventtime ASC;

-- mixed-case names, as pasted
SELECT eventTime, eventName, userIdentity.arn, userIdentity.accessKeyId
FROM cloudtrail_logs
WHERE userIdentity.type = 'IAMUser'
ORDER BY eventTime;

-- a time bound as ISO text
SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= '2023-10-15T14:00:00Z';

-- LIKE on the ISO text of a day
SELECT eventname FROM cloudtrail_logs WHERE eventtime LIKE '2023-10-15%' ORDER BY eventtime;

-- substr of eventtime: the day
SELECT substr(eventtime, 1, 10) AS day, count(*) AS calls
FROM cloudtrail_logs GROUP BY substr(eventtime, 1, 10) ORDER BY day;

-- split_part of eventtime
SELECT split_part(eventtime, 'T', 1) AS day, count(*) AS n
FROM cloudtrail_logs GROUP BY 1 ORDER BY 1;

-- concatenation with eventtime
SELECT eventname || ' at ' || eventtime AS what FROM cloudtrail_logs WHERE errorcode IS NOT NULL;

-- denied calls, with the error
SELECT eventtime, eventname, errorcode, useridentity.arn
FROM cloudtrail_logs
WHERE errorcode IS NOT NULL AND errorcode != ''
ORDER BY eventtime;

-- calls by principal and source IP, first and last seen
SELECT useridentity.arn, sourceipaddress, COUNT(*) AS call_count,
       MIN(eventtime) AS first_seen, MAX(eventtime) AS last_seen
FROM cloudtrail_logs
GROUP BY useridentity.arn, sourceipaddress
ORDER BY first_seen ASC;

-- a JSON field of the request
SELECT eventname, json_extract_scalar(requestparameters, '$.tableName') AS table_name
FROM cloudtrail_logs
WHERE eventsource = 'dynamodb.amazonaws.com'
ORDER BY eventtime;

-- a nested JSON field of the response
SELECT json_extract_scalar(responseelements, '$.tableDescription.tableStatus') AS status
FROM cloudtrail_logs WHERE eventname = 'DeleteTable' AND errorcode IS NULL;

-- an object is no scalar: NULL
SELECT json_extract_scalar(responseelements, '$.tableDescription') AS d
FROM cloudtrail_logs WHERE eventname = 'DeleteTable' AND errorcode IS NULL;

-- console sign-in without MFA
SELECT eventtime, useridentity.type, sourceipaddress
FROM cloudtrail_logs
WHERE eventname = 'ConsoleLogin'
  AND json_extract_scalar(additionaleventdata, '$.MFAUsed') <> 'Yes';

-- root activity
SELECT eventname, useridentity.arn FROM cloudtrail_logs
WHERE useridentity.type = 'Root' AND useridentity.invokedby IS NULL;

-- logging stopped, by whom through which role
SELECT eventtime, useridentity.arn, useridentity.sessioncontext.sessionissuer.arn AS role_arn
FROM cloudtrail_logs
WHERE eventsource = 'cloudtrail.amazonaws.com'
  AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail');

-- LIKE on the raw JSON text of the request
SELECT eventname FROM cloudtrail_logs WHERE requestparameters LIKE '%prod-orders%' ORDER BY eventtime;

-- IN list and NOT LIKE
SELECT eventname, sourceipaddress FROM cloudtrail_logs
WHERE eventname IN ('DeleteTable', 'TerminateInstances')
  AND sourceipaddress NOT LIKE '%.amazonaws.com'
ORDER BY eventtime;

-- GROUP BY with HAVING on the count
SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY eventname HAVING count(*) > 1;

-- distinct identities
SELECT DISTINCT useridentity.type FROM cloudtrail_logs;

-- calls per hour, with from_iso8601_timestamp and date_trunc
SELECT date_trunc('hour', from_iso8601_timestamp(eventtime)) AS hour, count(*) AS n
FROM cloudtrail_logs
GROUP BY date_trunc('hour', from_iso8601_timestamp(eventtime))
ORDER BY hour;

-- a timestamp compared with a timestamp
SELECT eventname FROM cloudtrail_logs
WHERE from_iso8601_timestamp(eventtime) > from_iso8601_timestamp('2023-10-15T20:00:00Z')
ORDER BY eventtime;

-- regexp_extract of the role's name
SELECT regexp_extract(useridentity.arn, 'assumed-role/([^/]+)/', 1) AS role
FROM cloudtrail_logs WHERE useridentity.type = 'AssumedRole';

-- regexp_extract of the whole match
SELECT regexp_extract(useragent, '^[a-z-]+/[0-9.]+') AS tool
FROM cloudtrail_logs WHERE useragent LIKE 'aws-cli%';

-- regexp_like
SELECT eventname FROM cloudtrail_logs WHERE regexp_like(eventname, '^(Delete|Terminate)') ORDER BY eventtime;

-- count_if
SELECT count_if(errorcode IS NOT NULL) AS denied, count_if(readonly = 'false') AS writes
FROM cloudtrail_logs;

-- max_by and min_by
SELECT max_by(eventname, eventtime) AS last_call, min_by(eventname, eventtime) AS first_call
FROM cloudtrail_logs;

-- approx_distinct over a handful of values (exact at this size)
SELECT approx_distinct(sourceipaddress) AS ips FROM cloudtrail_logs;

-- arbitrary from a group of one value
SELECT eventsource, arbitrary(eventname) AS any_call FROM cloudtrail_logs
WHERE eventsource <> 'dynamodb.amazonaws.com' GROUP BY eventsource;

-- cardinality, split, array_join
SELECT cardinality(split(useridentity.arn, ':')) AS parts,
       array_join(split(eventtime, '-'), '/') AS slashed
FROM cloudtrail_logs WHERE eventname = 'StopLogging';

-- the resources, unnested
SELECT eventname, r.arn, r.type
FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS t(r);

-- resources by type, unnested and grouped
SELECT r.type, count(*) AS n
FROM cloudtrail_logs CROSS JOIN UNNEST(resources) AS t(r)
GROUP BY r.type;

-- IS DISTINCT FROM, then AND
SELECT eventname FROM cloudtrail_logs
WHERE errorcode IS DISTINCT FROM 'AccessDeniedException' AND eventsource = 'dynamodb.amazonaws.com';

-- casts with Trino's type names
SELECT CAST(eventversion AS double) AS v, CAST(length(eventname) AS varchar) AS len
FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin';

-- a subquery in WHERE
SELECT eventname FROM cloudtrail_logs
WHERE sourceipaddress IN (SELECT sourceipaddress FROM cloudtrail_logs WHERE errorcode IS NOT NULL);

-- coalesce of the principal
SELECT coalesce(useridentity.arn, useridentity.invokedby, useridentity.type) AS who
FROM cloudtrail_logs ORDER BY eventtime;

-- json_array_length over a request's items
SELECT json_array_length(json_extract(requestparameters, '$.instancesSet.items')) AS n
FROM cloudtrail_logs WHERE eventname = 'TerminateInstances';

-- a CASE over the identity type
SELECT CASE WHEN useridentity.type IN ('Root', 'IAMUser') THEN 'long-term' ELSE 'other' END AS kind,
       count(*) AS n
FROM cloudtrail_logs GROUP BY 1 ORDER BY 1;

-- LIMIT after ORDER BY ... DESC
SELECT eventtime, eventname FROM cloudtrail_logs ORDER BY eventtime DESC LIMIT 2;

-- the projected table's timestamp partition
SELECT timestamp, count(*) AS n FROM cloudtrail_logs
WHERE timestamp >= '2023/10/16' GROUP BY timestamp ORDER BY timestamp;

-- the manual partitions
SELECT region, year, month, day, count(*) AS n FROM cloudtrail_logs
WHERE year = '2023' AND month = '10' AND region = 'us-east-1'
GROUP BY region, year, month, day ORDER BY day;

-- the organization trail's account partition
SELECT accountid, eventname FROM cloudtrail_logs WHERE account <> '111122223333';
