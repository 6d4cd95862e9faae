-- title: S3 bucket policy changes
-- severity: medium
-- id: trailsql.cis.s3-bucket-policy-changes
-- tags: attack.collection, attack.t1530
-- references: CIS AWS Foundations 3.8 (v1.2.0), 4.8 (v1.4.0-v5.0), 5.8 (v6.0, v7.0); Security Hub CloudWatch.8
-- description: Bucket ACLs, policies, CORS, lifecycle and replication
--   configurations put or deleted on s3.amazonaws.com: the nine events of the
--   CIS filter, the same in every version. Public access blocks and object
--   ACLs are not in the CIS list and not here.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.bucketName') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN ('PutBucketAcl', 'PutBucketPolicy', 'PutBucketCors', 'PutBucketLifecycle',
    'PutBucketReplication', 'DeleteBucketPolicy', 'DeleteBucketCors', 'DeleteBucketLifecycle',
    'DeleteBucketReplication')
ORDER BY eventtime, account, region, event_name, event_id
