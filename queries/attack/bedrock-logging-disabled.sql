-- title: Bedrock model invocation logging removed
-- severity: high
-- id: trailsql.attack.bedrock-logging-disabled
-- tags: attack.defense-evasion, attack.t1562.008
-- references: MITRE ATT&CK T1562.008 (Impair Defenses: Disable or Modify Cloud Logs); reports of LLMjacking (stolen keys used to run models at the victim's expense)
-- description: DeleteModelInvocationLoggingConfiguration on bedrock.amazonaws.com:
--   the record of prompts and answers switched off, which intruders
--   running models on stolen keys do first. Denied attempts are listed too
--   (an intruder checks what is logged with
--   GetModelInvocationLoggingConfiguration, not listed here). Commonly
--   caused by accident: logging moved to another bucket (a Put...
--   follows).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  'model invocation logging' AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'bedrock.amazonaws.com'
  AND eventname IN ('DeleteModelInvocationLoggingConfiguration')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
