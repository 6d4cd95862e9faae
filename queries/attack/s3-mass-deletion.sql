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
    date_trunc('hour', eventtime) AS hour,
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
    first_value(eventtime ORDER BY eventtime, event_id) AS eventtime,
    first_value(region ORDER BY eventtime, event_id) AS region,
    first_value(source_ip ORDER BY eventtime, event_id) AS source_ip,
    first_value(event_source ORDER BY eventtime, event_id) AS event_source,
    first_value(event_name ORDER BY eventtime, event_id) AS event_name,
    first_value(error_code ORDER BY eventtime, event_id) AS error_code,
    first_value(user_agent ORDER BY eventtime, event_id) AS user_agent,
    first_value(event_id ORDER BY eventtime, event_id) AS event_id,
    CAST(sum(objects) AS BIGINT) AS objects_deleted,
    CAST(count(*) AS BIGINT) AS calls
  FROM deletions
  GROUP BY account, actor, target, hour
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  objects_deleted, calls, user_agent, event_id
FROM per_hour
WHERE objects_deleted >= $threshold
ORDER BY eventtime, account, region, actor, event_id
