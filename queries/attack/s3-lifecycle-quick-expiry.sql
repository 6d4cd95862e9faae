-- title: Lifecycle rules that delete a bucket's objects within days
-- severity: medium
-- id: trailsql.attack.s3-lifecycle-quick-expiry
-- tags: attack.defense-evasion, attack.t1562.008, attack.impact, attack.t1485
-- references: MITRE ATT&CK T1562.008 (Impair Defenses: Disable or Modify Cloud Logs), T1485 (Data Destruction); Stratus aws.defense-evasion.cloudtrail-lifecycle-rule
-- description: PutBucketLifecycle and PutBucketLifecycleConfiguration on
--   s3.amazonaws.com with a rule whose Expiration (or
--   NoncurrentVersionExpiration) deletes objects after `days` days or
--   fewer (7 by default): S3 then deletes the bucket's objects by itself,
--   the way an intruder empties a CloudTrail bucket without a single
--   DeleteObject. expires_after_days lists the rules' days. Denied
--   attempts are listed too. Commonly caused by accident: scratch and
--   temporary buckets (their names usually say so).
-- param: days = 7 | rules that delete objects after this many days or fewer make a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.bucketName') AS target,
    error_code,
    concat_ws(', ', sigma_text(requestparameters, 'LifecycleConfiguration.Rule.Expiration.Days'), sigma_text(requestparameters, 'LifecycleConfiguration.Rule.NoncurrentVersionExpiration.NoncurrentDays')) AS expires_after_days,
    sigma_any(requestparameters, 'LifecycleConfiguration.Rule.Expiration.Days', 'lte', CAST($days AS VARCHAR)) OR sigma_any(requestparameters, 'LifecycleConfiguration.Rule.NoncurrentVersionExpiration.NoncurrentDays', 'lte', CAST($days AS VARCHAR)) AS quick,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE quick
ORDER BY eventtime, account, region, actor, event_id
