-- title: S3 bucket policy changes
-- severity: medium
-- references: CIS AWS Foundations 3.8 (v1.2.0), 4.8 (v1.4.0-v5.0), 5.8 (v6.0, v7.0); Security Hub CloudWatch.8
-- description: Bucket ACLs, policies, CORS, lifecycle and replication
--   configurations put or deleted on s3.amazonaws.com: the nine events of the
--   CIS filter, the same in every version. Public access blocks and object
--   ACLs are not in the CIS list and not here.
SELECT
  eventtime,
  recipientaccountid AS account,
  awsregion AS region,
  coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, useridentity.principalid, useridentity.type) AS actor,
  sourceipaddress AS source_ip,
  eventsource AS event_source,
  eventname AS event_name,
  json_extract_scalar(requestparameters, '$.bucketName') AS target,
  errorcode AS error_code,
  useragent AS user_agent,
  eventid AS event_id
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN ('PutBucketAcl', 'PutBucketPolicy', 'PutBucketCors', 'PutBucketLifecycle',
    'PutBucketReplication', 'DeleteBucketPolicy', 'DeleteBucketCors', 'DeleteBucketLifecycle',
    'DeleteBucketReplication')
ORDER BY eventtime, account, region, event_name, event_id
