-- title: Backups and recovery points deleted
-- severity: high
-- id: trailsql.attack.backups-deleted
-- tags: attack.impact, attack.t1490
-- references: MITRE ATT&CK T1490 (Inhibit System Recovery)
-- description: What a restore would need, deleted: AWS Backup vaults, plans and
--   recovery points (DeleteBackupVault, DeleteBackupPlan,
--   DeleteRecoveryPoint, DeleteBackupVaultLockConfiguration), manual RDS
--   snapshots (DeleteDBSnapshot, DeleteDBClusterSnapshot), DynamoDB
--   backups (DeleteBackup) and point-in-time recovery switched off
--   (UpdateContinuousBackups). Calls through AWS services (a backup plan's
--   own expiry, CloudFormation) are left out. Denied attempts are listed
--   too. Commonly caused by accident: cleaning up old manual snapshots.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.backupVaultName'), json_extract_scalar(requestparameters, '$.backupPlanId'), json_extract_scalar(requestparameters, '$.recoveryPointArn'), json_extract_scalar(requestparameters, '$.dBSnapshotIdentifier'), json_extract_scalar(requestparameters, '$.dBClusterSnapshotIdentifier'), json_extract_scalar(requestparameters, '$.backupArn'), json_extract_scalar(requestparameters, '$.tableName')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND ((eventsource = 'backup.amazonaws.com' AND eventname IN ('DeleteBackupVault', 'DeleteBackupPlan', 'DeleteRecoveryPoint', 'DeleteBackupVaultLockConfiguration')) OR (eventsource = 'rds.amazonaws.com' AND eventname IN ('DeleteDBSnapshot', 'DeleteDBClusterSnapshot')) OR (eventsource = 'dynamodb.amazonaws.com' AND (eventname = 'DeleteBackup' OR (eventname = 'UpdateContinuousBackups' AND json_extract_scalar(requestparameters, '$.pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled') = 'false'))))
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
