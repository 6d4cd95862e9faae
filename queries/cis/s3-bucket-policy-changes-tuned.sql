-- title: Bucket policy and ACL changes made by hand
-- severity: medium
-- id: trailsql.cis.s3-bucket-policy-changes-tuned
-- tags: attack.collection, attack.t1530
-- references: CIS AWS Foundations 3.8 (v1.2.0), 4.8 (v1.4.0-v5.0), 5.8 (v6.0, v7.0); Security Hub CloudWatch.8 (the tuned variant of cis/s3-bucket-policy-changes)
-- description: The changes cis/s3-bucket-policy-changes lists (bucket ACLs, policies,
--   CORS, lifecycle and replication configurations put or deleted on
--   s3.amazonaws.com: the nine events of the CIS filter, the same in every
--   version. Public access blocks and object ACLs are not in the CIS list
--   and not here.) less those made by deployment: calls through AWS
--   services (CloudFormation stacks, service-linked roles), calls whose
--   user agent is a deployment tool's (`allow_tools`: the user agent is
--   the caller's to set, so an intruder can claim to be Terraform; empty
--   the list to see them), and principals in `allow_principals` (the
--   pipeline's roles). What is left is changes by hand, where mistakes and
--   intruders are. Use cis/s3-bucket-policy-changes where the control's
--   exact meaning is asked for (an audit); this one to look at.
-- param: allow_tools = *Terraform*,*aws-cdk*,*aws-sam-cli*,*serverless*,*pulumi* | user agents of deployment tools (patterns, comma-separated)
-- param: allow_principals = | principals (ARN patterns, comma-separated) that deploy
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
  -- Left out: AWS services, deployment tools, the pipeline's principals.
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND useridentity.invokedby IS NULL
  AND coalesce(actor, '') NOT LIKE '%:assumed-role/AWSServiceRoleFor%'
  AND NOT allowlisted(user_agent, $allow_tools)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, event_name, event_id
