-- title: Customer managed KMS keys disabled or scheduled for deletion
-- severity: high
-- id: trailsql.cis.kms-key-disabled-or-deleted
-- tags: attack.impact, attack.t1485
-- references: CIS AWS Foundations 3.7 (v1.2.0), 4.7 (v1.4.0-v5.0), 5.7 (v6.0, v7.0); Security Hub CloudWatch.7
-- description: DisableKey and ScheduleKeyDeletion on kms.amazonaws.com, the
--   CIS filter of every version. Only customer managed keys can be disabled
--   or deleted, so the filter needs no test of who owns the key. Data
--   encrypted under such a key becomes unreadable.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(resources[1]['arn'], json_extract_scalar(requestparameters, '$.keyId')) AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.pendingWindowInDays') AS pending_window_days,
  json_extract_scalar(responseelements, '$.deletionDate') AS deletion_date,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'kms.amazonaws.com'
  AND eventname IN ('DisableKey', 'ScheduleKeyDeletion')
ORDER BY eventtime, account, region, event_name, event_id
