-- title: Everything done with one access key
-- severity: info
-- id: trailsql.forensics.access-key-activity
-- tags: attack.initial-access, attack.t1078.004
-- references: AWS incident response playbooks (compromised IAM credentials: activity of the key); MITRE ATT&CK T1078.004
-- description: Every call made with the access key given (userIdentity.
--   accessKeyId): a long-term key (AKIA...) or a session's temporary key
--   (ASIA...), in time order, failures included. Also the calls that created
--   the key or that a session made from it handed out: a CreateAccessKey whose
--   response holds the key, and an AssumeRole or GetSessionToken whose
--   response credentials are it. The key is required: `--param
--   access_key_id=AKIA...`.
-- param: access_key_id | the access key id to follow
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    resources[1]['arn'],
    json_extract_scalar(requestparameters, '$.bucketName'),
    json_extract_scalar(requestparameters, '$.userName'),
    json_extract_scalar(requestparameters, '$.roleArn')) AS target,
  error_code,
  CASE
    WHEN useridentity.accesskeyid = $access_key_id THEN 'used'
    WHEN json_extract_scalar(responseelements, '$.accessKey.accessKeyId') = $access_key_id THEN 'created'
    ELSE 'issued'
  END AS key_role,
  access_key_id,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND (useridentity.accesskeyid = $access_key_id
    OR json_extract_scalar(responseelements, '$.accessKey.accessKeyId') = $access_key_id
    OR json_extract_scalar(responseelements, '$.credentials.accessKeyId') = $access_key_id)
ORDER BY eventtime, account, region, event_id
