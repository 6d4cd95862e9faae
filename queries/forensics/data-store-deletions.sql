-- title: Data stores deleted: DynamoDB tables, RDS databases, S3 buckets
-- severity: high
-- id: trailsql.forensics.data-store-deletions
-- tags: attack.impact, attack.t1485
-- references: MITRE ATT&CK T1485 (Data Destruction); Sigma "AWS Bucket Deleted"; Panther AWS.RDS.InstanceDeletion
-- description: Who deleted a DynamoDB table (DeleteTable), an RDS DB instance
--   or cluster (DeleteDBInstance, DeleteDBCluster) or an S3 bucket
--   (DeleteBucket): when, from which IP and user agent, with which access key.
--   The outcome column keeps denied or failed attempts apart from deletions
--   that happened. DeleteBucketPolicy and the other DeleteBucket* calls change
--   a bucket without deleting it and are left out.
-- param: resource = % | the table, DB instance or cluster, or bucket name (a LIKE pattern)
WITH deletions AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.tableName'),
      json_extract_scalar(requestparameters, '$.dBInstanceIdentifier'),
      json_extract_scalar(requestparameters, '$.dBClusterIdentifier'),
      json_extract_scalar(requestparameters, '$.bucketName')) AS target,
    error_code,
    CASE WHEN errorcode IS NULL OR errorcode = 'Success' THEN 'deleted' ELSE 'denied or failed' END AS outcome,
    user_agent,
    access_key_id,
    json_extract_scalar(requestparameters, '$.skipFinalSnapshot') AS skip_final_snapshot,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND ((eventsource = 'dynamodb.amazonaws.com' AND eventname = 'DeleteTable')
      OR (eventsource = 'rds.amazonaws.com' AND eventname IN ('DeleteDBInstance', 'DeleteDBCluster'))
      OR (eventsource = 's3.amazonaws.com' AND eventname = 'DeleteBucket'))
)
SELECT * FROM deletions
WHERE target LIKE $resource
ORDER BY eventtime, account, region, event_name, target, event_id
