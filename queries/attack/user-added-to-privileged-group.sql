-- title: A user added to an administrators group
-- severity: medium
-- id: trailsql.attack.user-added-to-privileged-group
-- tags: attack.privilege-escalation, attack.persistence, attack.t1098.003
-- references: MITRE ATT&CK T1098.003 (Account Manipulation: Additional Cloud Roles)
-- description: AddUserToGroup on iam.amazonaws.com into a group whose name matches
--   `groups` (patterns, comma-separated; by default any name with admin,
--   root, poweruser or fullaccess in it): a user gaining what the group
--   grants. Denied attempts are listed too. Commonly caused by accident:
--   onboarding an administrator; the ticket should say so.
-- param: groups = *admin*,*root*,*poweruser*,*fullaccess* | group names (patterns, comma-separated) that grant much
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.groupName') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.userName') AS user_added,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('AddUserToGroup')
  AND allowlisted(json_extract_scalar(requestparameters, '$.groupName'), $groups)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
