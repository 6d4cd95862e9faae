-- title: EventBridge rules disabled or deleted
-- severity: medium
-- id: trailsql.attack.eventbridge-rules-disabled
-- tags: attack.defense-evasion, attack.t1562.001
-- references: MITRE ATT&CK T1562.001 (Impair Defenses: Disable or Modify Tools)
-- description: DisableRule, DeleteRule and RemoveTargets on events.amazonaws.com: the
--   rules that send events (GuardDuty findings, CloudTrail calls) to
--   responders and automatic remediation stopped. Calls through AWS
--   services (CloudFormation, or a service removing its own managed rules)
--   are left out. Denied attempts are listed too. Commonly caused by
--   accident: scheduled jobs paused by hand.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.name') || coalesce(' on ' || json_extract_scalar(requestparameters, '$.eventBusName'), '') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.rule') AS rule,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'events.amazonaws.com'
  AND eventname IN ('DisableRule', 'DeleteRule', 'RemoveTargets')
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
