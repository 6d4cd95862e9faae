-- title: SSH key pairs imported into EC2
-- severity: low
-- id: trailsql.attack.ec2-key-pair-imported
-- tags: attack.persistence, attack.t1098.004
-- references: MITRE ATT&CK T1098.004 (Account Manipulation: SSH Authorized Keys)
-- description: ImportKeyPair on ec2.amazonaws.com: a public key brought from outside,
--   so instances launched with it let in whoever holds the private half
--   (CreateKeyPair, where AWS makes the key, is not listed). Denied
--   attempts are listed too. Commonly caused by accident: an engineer
--   importing their own key; it should be rare where access is through
--   Session Manager.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.keyName'), json_extract_scalar(requestparameters, '$.ImportKeyPairRequest.KeyName')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('ImportKeyPair')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
