-- title: Many S3 objects deleted by one principal in an hour
-- severity: high
-- id: trailsql.attack.s3-mass-deletion
-- tags: attack.impact, attack.t1485, attack.t1486
-- references: MITRE ATT&CK T1485 (Data Destruction), T1486 (Data Encrypted for Impact); Stratus aws.impact.s3-ransomware-batch-deletion and aws.impact.s3-ransomware-individual-deletion
-- description: One principal deleting `threshold` or more objects (100 by default)
--   from one bucket within one clock hour, one by one (DeleteObject) or in
--   batches (DeleteObjects): ransomware emptying a bucket after copying it
--   out, or destruction. Needs CloudTrail data events for S3. One row per
--   principal, bucket and hour: the first deletion of the hour,
--   objects_deleted (each object a call names among its resources, at
--   least one per call) and calls. Calls through AWS services (lifecycle
--   expiry is not logged as a call) are left out. Commonly caused by
--   accident: clean-up jobs and applications that rotate temporary files
--   (list their roles in allow_principals).
-- param: threshold = 100 | objects one principal deletes from one bucket in one clock hour that make a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
WITH deletions AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.bucketName') AS target,
    error_code, user_agent, event_id,
    date_bin(INTERVAL '1 hour', eventtime) AS hour,
    greatest(1, CAST(
      (length(coalesce(sigma_text(resources, 'type'), ''))
        - length(replace(coalesce(sigma_text(resources, 'type'), ''), 'AWS::S3::Object', '')))
      / length('AWS::S3::Object') AS BIGINT)) AS objects
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('DeleteObject', 'DeleteObjects')
    AND errorcode IS NULL
    AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
    AND NOT allowlisted(actor, $allow_principals)
),
per_hour AS (
  SELECT
    account, actor, target, hour,
    min_by(
      named_struct(
        'eventtime', eventtime, 'region', region, 'source_ip', source_ip,
        'event_source', event_source, 'event_name', event_name, 'error_code', error_code,
        'user_agent', user_agent, 'event_id', event_id),
      named_struct('t', eventtime, 'id', event_id)) AS earliest,
    CAST(sum(objects) AS BIGINT) AS objects_deleted,
    CAST(count(*) AS BIGINT) AS calls
  FROM deletions
  GROUP BY account, actor, target, hour
)
SELECT earliest['eventtime'] AS eventtime, account, earliest['region'] AS region, actor,
  earliest['source_ip'] AS source_ip, earliest['event_source'] AS event_source,
  earliest['event_name'] AS event_name, target, earliest['error_code'] AS error_code,
  objects_deleted, calls, earliest['user_agent'] AS user_agent,
  earliest['event_id'] AS event_id
FROM per_hour
WHERE objects_deleted >= $threshold
ORDER BY eventtime, account, region, actor, event_id
