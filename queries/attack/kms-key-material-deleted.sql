-- title: Imported KMS key material deleted
-- severity: high
-- id: trailsql.attack.kms-key-material-deleted
-- tags: attack.impact, attack.t1485, attack.t1486
-- references: MITRE ATT&CK T1485 (Data Destruction), T1486 (Data Encrypted for Impact)
-- description: DeleteImportedKeyMaterial on kms.amazonaws.com: a key whose material
--   came from outside AWS stops working at once (no waiting period, unlike
--   ScheduleKeyDeletion), and everything encrypted under it is unreadable
--   until the same material is imported again. Denied attempts are listed
--   too. Commonly caused by accident: key rotation done by hand (an
--   ImportKeyMaterial follows).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.keyId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'kms.amazonaws.com'
  AND eventname IN ('DeleteImportedKeyMaterial')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
