-- title: Access keys created for another user
-- severity: medium
-- id: trailsql.attack.access-key-for-another-user
-- tags: attack.persistence, attack.t1098.001
-- references: MITRE ATT&CK T1098.001 (Account Manipulation: Additional Cloud Credentials)
-- description: CreateAccessKey on iam.amazonaws.com for a user other than the caller
--   (a role, root, or another user): long-term keys made for someone else,
--   which the caller now holds. new_key is the key created. Denied
--   attempts are listed too. Commonly caused by accident: an administrator
--   issuing keys to a service user (which should be rare: roles need no
--   keys).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.userName') AS target,
  error_code,
  json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS new_key,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('CreateAccessKey')
  AND json_extract_scalar(requestparameters, '$.userName') IS NOT NULL
  AND (json_extract_scalar(requestparameters, '$.userName') IS DISTINCT FROM useridentity.username)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
