-- title: Server access logging turned off for a bucket
-- severity: medium
-- id: trailsql.attack.s3-access-logging-disabled
-- tags: attack.defense-evasion, attack.t1562.008
-- references: MITRE ATT&CK T1562.008 (Impair Defenses: Disable or Modify Cloud Logs)
-- description: PutBucketLogging on s3.amazonaws.com with no LoggingEnabled: the
--   bucket's own access log stopped, so reads of its objects leave no
--   record where CloudTrail data events are not kept. Denied attempts are
--   listed too. Commonly caused by accident: a log bucket's settings
--   rewritten by a template that omits logging.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.bucketName') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN ('PutBucketLogging')
  AND json_extract(requestparameters, '$.BucketLoggingStatus.LoggingEnabled') IS NULL
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
