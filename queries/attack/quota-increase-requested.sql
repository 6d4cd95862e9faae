-- title: Service quota increases requested
-- severity: low
-- id: trailsql.attack.quota-increase-requested
-- tags: attack.impact, attack.t1496
-- references: MITRE ATT&CK T1496 (Resource Hijacking)
-- description: RequestServiceQuotaIncrease on servicequotas.amazonaws.com: more of a
--   service than the account may use now, most often EC2 vCPUs (GPU and
--   spot instances) or SES sending, what a miner or a spammer needs first.
--   service and quota name it; desired_value is the amount asked for.
--   Denied attempts are listed too. Commonly caused by accident: growing
--   workloads (the requester and the quota usually tell).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.quotaCode') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.serviceCode') AS service,
  json_extract_scalar(requestparameters, '$.desiredValue') AS desired_value,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'servicequotas.amazonaws.com'
  AND eventname IN ('RequestServiceQuotaIncrease')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
