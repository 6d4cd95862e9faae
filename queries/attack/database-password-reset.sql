-- title: RDS master passwords reset
-- severity: medium
-- id: trailsql.attack.database-password-reset
-- tags: attack.persistence, attack.credential-access, attack.t1098
-- references: MITRE ATT&CK T1098 (Account Manipulation)
-- description: ModifyDBInstance and ModifyDBCluster on rds.amazonaws.com that set
--   masterUserPassword (CloudTrail hides the value): whoever set it can
--   sign in to the database as its owner, and read every table. Denied
--   attempts are listed too. Commonly caused by accident: a forgotten
--   password reset by an administrator, and rotation scripts (which should
--   use Secrets Manager's managed rotation).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.dBInstanceIdentifier'), json_extract_scalar(requestparameters, '$.dBClusterIdentifier')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'rds.amazonaws.com'
  AND eventname IN ('ModifyDBInstance', 'ModifyDBCluster')
  AND json_extract(requestparameters, '$.masterUserPassword') IS NOT NULL
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
