-- title: Opt-in regions switched on
-- severity: medium
-- id: trailsql.attack.region-enabled
-- tags: attack.defense-evasion, attack.t1535
-- references: MITRE ATT&CK T1535 (Unused/Unsupported Cloud Regions)
-- description: EnableRegion on account.amazonaws.com: a region the account had off is
--   switched on; intruders run miners and keep resources where nobody
--   looks. Denied attempts are listed too. Commonly caused by accident: a
--   team expanding to a new region (once).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.RegionName') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'account.amazonaws.com'
  AND eventname IN ('EnableRegion')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
