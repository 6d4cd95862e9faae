-- title: Access keys created for the root user
-- severity: critical
-- id: trailsql.attack.root-access-key-created
-- tags: attack.persistence, attack.t1098.001
-- references: MITRE ATT&CK T1098.001 (Account Manipulation: Additional Cloud Credentials); CIS AWS Foundations 1.4 (no root access keys)
-- description: CreateAccessKey made by the root user for itself: long-term
--   keys that can do anything in the account, and that no policy can limit.
--   AWS and CIS advise that root have none. Denied attempts are listed too.
--   Commonly caused by accident: an old script's setup instructions (there
--   is no good reason; delete the key).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname = 'CreateAccessKey'
  AND useridentity.type = 'Root'
  AND json_extract_scalar(requestparameters, '$.userName') IS NULL
ORDER BY eventtime, account, region, event_id
