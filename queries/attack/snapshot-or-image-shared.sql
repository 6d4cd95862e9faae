-- title: Snapshots and images shared with other accounts
-- severity: high
-- id: trailsql.attack.snapshot-or-image-shared
-- tags: attack.exfiltration, attack.t1537
-- references: MITRE ATT&CK T1537 (Transfer Data to Cloud Account); Stratus aws.exfiltration.ec2-share-ami, ec2-share-ebs-snapshot, rds-share-snapshot
-- description: An AMI's launch permission (ModifyImageAttribute), an EBS
--   snapshot's volume permission (ModifySnapshotAttribute) or an RDS
--   snapshot's restore permission (ModifyDBSnapshotAttribute,
--   ModifyDBClusterSnapshotAttribute) granted to other accounts: their data
--   can be copied out. shared_with lists the accounts added; "all" makes it
--   public (public = true). Removing a permission is not listed. Commonly
--   caused by accident: sharing images with the organization's own
--   accounts (check shared_with against them).
WITH changes AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.imageId'),
      json_extract_scalar(requestparameters, '$.snapshotId'),
      json_extract_scalar(requestparameters, '$.dBSnapshotIdentifier'),
      json_extract_scalar(requestparameters, '$.dBClusterSnapshotIdentifier')) AS target,
    error_code,
    coalesce(
      json_extract(requestparameters, '$.launchPermission.add.items'),
      json_extract(requestparameters, '$.createVolumePermission.add.items'),
      json_extract(requestparameters, '$.valuesToAdd')) AS shared_with,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND ((eventsource = 'ec2.amazonaws.com'
          AND eventname IN ('ModifyImageAttribute', 'ModifySnapshotAttribute'))
      OR (eventsource = 'rds.amazonaws.com'
          AND eventname IN ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')))
)
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  shared_with,
  (shared_with LIKE '%"all"%') AS public,
  user_agent, event_id
FROM changes
WHERE shared_with IS NOT NULL AND shared_with <> '[]'
ORDER BY eventtime, account, region, event_name, event_id
