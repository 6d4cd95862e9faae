-- title: Permissions boundaries removed from users or roles
-- severity: medium
-- id: trailsql.attack.permissions-boundary-removed
-- tags: attack.privilege-escalation, attack.defense-evasion, attack.t1098.003
-- references: MITRE ATT&CK T1098.003 (Account Manipulation: Additional Cloud Roles)
-- description: DeleteUserPermissionsBoundary and DeleteRolePermissionsBoundary on
--   iam.amazonaws.com: the ceiling on what a user or role may do removed,
--   so its policies take full effect (the guard delegated administration
--   relies on). Denied attempts are listed too. Commonly caused by
--   accident: an administrator replacing a boundary (a
--   Put...PermissionsBoundary follows).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.userName'), json_extract_scalar(requestparameters, '$.roleName')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
