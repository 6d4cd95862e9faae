-- title: Objects written with a key this account does not hold
-- severity: high
-- id: trailsql.attack.s3-encrypted-with-outside-key
-- tags: attack.impact, attack.t1486
-- references: MITRE ATT&CK T1486 (Data Encrypted for Impact); Stratus aws.impact.s3-ransomware-client-side-encryption; the 2025 S3 ransomware campaigns using customer-provided keys
-- description: PutObject, CopyObject and CreateMultipartUpload on s3.amazonaws.com
--   (data events) that encrypt with a customer-provided key (SSE-C: the
--   key is sent with the request and AWS keeps no copy) or with another
--   account's KMS key: once the original is gone only the key's holder can
--   read the object, the ransomware pattern of rewriting objects in place.
--   key says which. Commonly caused by accident: applications built on
--   SSE-C on purpose (rare), and cross-account keys of the organization's
--   own (check the account in key).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.bucketName') || '/' || json_extract_scalar(requestparameters, '$.key') AS target,
    error_code,
    CASE WHEN json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption-customer-algorithm"]') IS NOT NULL THEN 'customer-provided (SSE-C)' WHEN regexp_like(coalesce(json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption-aws-kms-key-id"]'), ''), '^arn:aws[a-z-]*:kms:[^:]*:[0-9]{12}:') AND split_part(json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption-aws-kms-key-id"]'), ':', 5) <> account THEN json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption-aws-kms-key-id"]') END AS key,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutObject', 'CopyObject', 'CreateMultipartUpload')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE key IS NOT NULL
ORDER BY eventtime, account, region, actor, event_id
