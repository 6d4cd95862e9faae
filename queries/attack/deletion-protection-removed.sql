-- title: Deletion and termination protection turned off
-- severity: medium
-- id: trailsql.attack.deletion-protection-removed
-- tags: attack.impact, attack.t1485, attack.t1490
-- references: MITRE ATT&CK T1485 (Data Destruction), T1490 (Inhibit System Recovery)
-- description: The guard against deleting by mistake removed, the step before
--   deleting on purpose: RDS instances and clusters with
--   deletionProtection false (ModifyDBInstance, ModifyDBCluster), DynamoDB
--   tables with deletionProtectionEnabled false (UpdateTable), EC2
--   instances with disableApiTermination false (ModifyInstanceAttribute).
--   Denied attempts are listed too. Commonly caused by accident:
--   decommissioning (a deletion follows, by the same person, days later).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.dBInstanceIdentifier'), json_extract_scalar(requestparameters, '$.dBClusterIdentifier'), json_extract_scalar(requestparameters, '$.tableName'), json_extract_scalar(requestparameters, '$.instanceId')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND ((eventsource = 'rds.amazonaws.com' AND eventname IN ('ModifyDBInstance', 'ModifyDBCluster') AND json_extract_scalar(requestparameters, '$.deletionProtection') = 'false') OR (eventsource = 'dynamodb.amazonaws.com' AND eventname = 'UpdateTable' AND json_extract_scalar(requestparameters, '$.deletionProtectionEnabled') = 'false') OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'ModifyInstanceAttribute' AND json_extract_scalar(requestparameters, '$.disableApiTermination.value') = 'false'))
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
