-- title: EBS encryption by default turned off
-- severity: medium
-- id: trailsql.attack.ebs-default-encryption-disabled
-- tags: attack.defense-evasion, attack.t1562.001, attack.impact, attack.t1486
-- references: MITRE ATT&CK T1562.001 (Impair Defenses), T1486 (Data Encrypted for Impact)
-- description: DisableEbsEncryptionByDefault on ec2.amazonaws.com, and
--   ModifyEbsDefaultKmsKeyId to a key of another account: new volumes of
--   the region are no longer encrypted, or are encrypted with a key
--   someone else controls (a ransomware set-up). Denied attempts are
--   listed too. Commonly caused by accident: an old AMI workflow that
--   could not use encrypted volumes.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.ModifyEbsDefaultKmsKeyIdRequest.KmsKeyId'), json_extract_scalar(requestparameters, '$.kmsKeyId'), 'encryption by default') AS target,
    error_code,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ec2.amazonaws.com'
    AND eventname IN ('DisableEbsEncryptionByDefault', 'ModifyEbsDefaultKmsKeyId')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name = 'DisableEbsEncryptionByDefault' OR (regexp_like(target, '^arn:aws[a-z-]*:kms:[^:]*:[0-9]{12}:') AND split_part(target, ':', 5) <> account)
ORDER BY eventtime, account, region, actor, event_id
