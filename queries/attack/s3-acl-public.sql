-- title: Buckets or objects made public by an ACL
-- severity: high
-- id: trailsql.attack.s3-acl-public
-- tags: attack.collection, attack.t1530, attack.exfiltration, attack.t1537
-- references: MITRE ATT&CK T1530 (Data from Cloud Storage), T1537 (Transfer Data to Cloud Account)
-- description: PutBucketAcl and PutObjectAcl on s3.amazonaws.com that grant the
--   AllUsers or AuthenticatedUsers groups (anyone, or anyone with any AWS
--   account), or set a canned ACL public-read, public-read-write or
--   authenticated-read. grant says which. Denied attempts are listed too.
--   Commonly caused by accident: a static website's objects; buckets that
--   own their objects (the default since 2023) refuse ACLs altogether.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.bucketName') || '/' || json_extract_scalar(requestparameters, '$.key'), json_extract_scalar(requestparameters, '$.bucketName')) AS target,
    error_code,
    CASE WHEN requestparameters LIKE '%acs.amazonaws.com/groups/global/AllUsers%' THEN 'AllUsers' WHEN requestparameters LIKE '%acs.amazonaws.com/groups/global/AuthenticatedUsers%' THEN 'AuthenticatedUsers' ELSE json_extract_scalar(requestparameters, '$["x-amz-acl"]') END AS grant,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutBucketAcl', 'PutObjectAcl')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE grant IN ('AllUsers', 'AuthenticatedUsers', 'public-read', 'public-read-write', 'authenticated-read')
ORDER BY eventtime, account, region, actor, event_id
