-- title: S3 protections against deletion and exposure weakened
-- severity: high
-- id: trailsql.attack.s3-protections-weakened
-- tags: attack.impact, attack.t1485, attack.t1486
-- references: MITRE ATT&CK T1485 (Data Destruction), T1486 (Data Encrypted for Impact); AWS S3 API reference (PutBucketVersioning, PutObjectLockConfiguration, PutBucketPublicAccessBlock)
-- description: What stands between a bucket and ransomware or exposure,
--   loosened: versioning suspended (PutBucketVersioning with Status
--   Suspended) or MFA delete turned off, object lock's default retention
--   removed (PutObjectLockConfiguration without a rule), the bucket's
--   block of public access deleted (DeleteBucketPublicAccessBlock) or set
--   with one of its four settings off (PutBucketPublicAccessBlock). change
--   says which. Denied attempts are listed too. Commonly caused by
--   accident: a bucket made public on purpose for a website (its name
--   usually says so).
WITH changes AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.bucketName') AS target,
    error_code,
    CASE
      WHEN eventname = 'PutBucketVersioning'
        AND json_extract_scalar(requestparameters, '$.VersioningConfiguration.Status') = 'Suspended'
        THEN 'versioning suspended'
      WHEN eventname = 'PutBucketVersioning'
        AND json_extract_scalar(requestparameters, '$.VersioningConfiguration.MfaDelete') = 'Disabled'
        THEN 'MFA delete turned off'
      WHEN eventname = 'PutObjectLockConfiguration'
        AND json_extract(requestparameters, '$.ObjectLockConfiguration.Rule') IS NULL
        THEN 'object lock retention removed'
      WHEN eventname = 'DeleteBucketPublicAccessBlock' THEN 'public access block deleted'
      WHEN eventname = 'PutBucketPublicAccessBlock'
        AND regexp_like(coalesce(json_extract(requestparameters, '$.PublicAccessBlockConfiguration'), ''),
          '"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy|RestrictPublicBuckets)"\s*:\s*false')
        THEN 'public access block loosened'
    END AS change,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutBucketVersioning', 'PutObjectLockConfiguration',
      'DeleteBucketPublicAccessBlock', 'PutBucketPublicAccessBlock')
)
SELECT * FROM changes
WHERE change IS NOT NULL
ORDER BY eventtime, account, region, event_name, event_id
