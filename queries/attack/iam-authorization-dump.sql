-- title: All of IAM read at once
-- severity: medium
-- id: trailsql.attack.iam-authorization-dump
-- tags: attack.discovery, attack.t1087.004, attack.t1069.003
-- references: MITRE ATT&CK T1087.004 (Account Discovery: Cloud Account), T1069.003 (Permission Groups Discovery: Cloud Groups)
-- description: GetAccountAuthorizationDetails on iam.amazonaws.com: every user,
--   group, role and policy of the account with what each may do, in one
--   call: the map an intruder reads first to plan an escalation. Denied
--   attempts are listed too (a stolen key probing what it may do).
--   Commonly caused by accident: security scanners and audits (Prowler,
--   ScoutSuite, Access Analyzer policy checks; list their roles in
--   allow_principals).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  'account authorization details' AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('GetAccountAuthorizationDetails')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
