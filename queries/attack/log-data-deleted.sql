-- title: CloudWatch log groups deleted, shortened or cut off
-- severity: medium
-- id: trailsql.attack.log-data-deleted
-- tags: attack.defense-evasion, attack.t1070, attack.t1562.008
-- references: MITRE ATT&CK T1070 (Indicator Removal), T1562.008 (Impair Defenses: Disable or Modify Cloud Logs)
-- description: On logs.amazonaws.com: log groups and streams deleted (DeleteLogGroup,
--   DeleteLogStream), a retention set to `days` days or fewer
--   (PutRetentionPolicy), and subscription filters removed
--   (DeleteSubscriptionFilter: the copy to a SIEM or archive stops). Calls
--   made through AWS services (CloudFormation deleting a stack) are left
--   out. Denied attempts are listed too. Commonly caused by accident:
--   deleting the logs of a deleted function or test environment.
-- param: days = 7 | a retention of this many days or fewer makes a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.logGroupName') || coalesce('/' || json_extract_scalar(requestparameters, '$.logStreamName'), ''), json_extract_scalar(requestparameters, '$.logGroupIdentifier')) AS target,
    error_code,
    CAST(json_extract_scalar(requestparameters, '$.retentionInDays') AS BIGINT) AS retention_days,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'logs.amazonaws.com'
    AND eventname IN ('DeleteLogGroup', 'DeleteLogStream', 'PutRetentionPolicy', 'DeleteSubscriptionFilter')
    AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name <> 'PutRetentionPolicy' OR retention_days <= $days
ORDER BY eventtime, account, region, actor, event_id
