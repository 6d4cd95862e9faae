-- title: MFA devices deactivated or deleted
-- severity: medium
-- id: trailsql.attack.mfa-device-removed
-- tags: attack.persistence, attack.defense-evasion, attack.credential-access, attack.t1556.006
-- references: MITRE ATT&CK T1556.006 (Modify Authentication Process: Multi-Factor Authentication)
-- description: DeactivateMFADevice and DeleteVirtualMFADevice on iam.amazonaws.com: a
--   user's second factor taken away, so a stolen password alone signs in
--   (or a new device can be enrolled by whoever holds the account). target
--   is the user (or the device's serial number). Denied attempts are
--   listed too. Commonly caused by accident: a user who lost a phone, with
--   an administrator resetting the device; check that the user enrolled a
--   new one.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.userName'), json_extract_scalar(requestparameters, '$.serialNumber')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('DeactivateMFADevice', 'DeleteVirtualMFADevice')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
