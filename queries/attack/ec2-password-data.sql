-- title: Windows instance passwords retrieved
-- severity: medium
-- id: trailsql.attack.ec2-password-data
-- tags: attack.credential-access, attack.t1552
-- references: MITRE ATT&CK T1552 (Unsecured Credentials); Stratus aws.credential-access.ec2-get-password-data
-- description: GetPasswordData on ec2.amazonaws.com: the encrypted
--   Administrator password of a Windows instance. Denied attempts are
--   listed too (an attacker tries many instances). Commonly caused by
--   accident: an administrator connecting to a new Windows instance, once.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.instanceId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'GetPasswordData'
ORDER BY eventtime, account, region, actor, event_id
