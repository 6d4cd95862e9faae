-- title: RDS databases made reachable from the internet
-- severity: high
-- id: trailsql.attack.database-made-public
-- tags: attack.defense-evasion, attack.t1578.005, attack.exfiltration, attack.t1537
-- references: MITRE ATT&CK T1578.005 (Modify Cloud Compute Infrastructure: Modify Cloud Compute Configurations)
-- description: CreateDBInstance, ModifyDBInstance and RestoreDBInstanceFromDBSnapshot
--   on rds.amazonaws.com with publiclyAccessible true: the database gets a
--   public address, and only its security groups and password stand
--   between it and the internet. Denied attempts are listed too. Commonly
--   caused by accident: a test database opened to reach it from a laptop.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.dBInstanceIdentifier') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'rds.amazonaws.com'
  AND eventname IN ('CreateDBInstance', 'ModifyDBInstance', 'RestoreDBInstanceFromDBSnapshot')
  AND json_extract_scalar(requestparameters, '$.publiclyAccessible') = 'true'
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
