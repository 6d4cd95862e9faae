-- title: Root console sign-ins without MFA
-- severity: critical
-- id: trailsql.attack.root-console-without-mfa
-- tags: attack.initial-access, attack.t1078.004
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts); CIS AWS Foundations 1.5 (MFA for root)
-- description: ConsoleLogin by the root user that succeeded without MFA
--   (additionalEventData MFAUsed is not Yes): whoever knows the root
--   password, or reset it through the root mailbox, is in with every
--   right. Failed sign-ins are left to cis/console-auth-failures. Commonly
--   caused by accident: an account whose root was never given an MFA
--   device (fix that).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(additionaleventdata, '$.LoginTo') AS target,
  error_code,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'signin.amazonaws.com'
  AND eventname = 'ConsoleLogin'
  AND useridentity.type = 'Root'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
  AND coalesce(json_extract_scalar(additionaleventdata, '$.MFAUsed'), 'No') <> 'Yes'
ORDER BY eventtime, account, region, event_id
