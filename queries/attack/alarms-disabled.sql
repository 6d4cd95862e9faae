-- title: CloudWatch alarms deleted or their actions disabled
-- severity: medium
-- id: trailsql.attack.alarms-disabled
-- tags: attack.defense-evasion, attack.t1562.001
-- references: MITRE ATT&CK T1562.001 (Impair Defenses: Disable or Modify Tools); CIS AWS Foundations 4.x (the alarms the monitoring controls ask for)
-- description: DeleteAlarms and DisableAlarmActions on monitoring.amazonaws.com:
--   alarms that would page someone removed or silenced (the CIS monitoring
--   controls rest on such alarms). target lists the alarms. Denied
--   attempts are listed too. Commonly caused by accident: maintenance
--   windows (DisableAlarmActions, then EnableAlarmActions) and stacks
--   deleted with their alarms.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  sigma_text(requestparameters, 'alarmNames') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'monitoring.amazonaws.com'
  AND eventname IN ('DeleteAlarms', 'DisableAlarmActions')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
