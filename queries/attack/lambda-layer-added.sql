-- title: Layers added to Lambda functions
-- severity: medium
-- id: trailsql.attack.lambda-layer-added
-- tags: attack.persistence, attack.t1546
-- references: MITRE ATT&CK T1546 (Event Triggered Execution); Stratus aws.persistence.lambda-layer-extension
-- description: UpdateFunctionConfiguration on lambda.amazonaws.com (any
--   API version) that sets a function's layers: a layer (an extension
--   above all) runs code beside every invocation and sees its events and
--   credentials. layers lists them; from_other_account says one belongs to
--   another account. Other configuration changes are left out. Commonly
--   caused by accident: deployments adding monitoring layers (vendors'
--   layers live in their own accounts).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.functionName') AS target,
  error_code,
  sigma_text(requestparameters, 'layers') AS layers,
  regexp_like(
    regexp_replace(coalesce(sigma_text(requestparameters, 'layers'), ''),
      concat(':', account, ':'), '', 'g'),
    ':[0-9]{12}:layer:') AS from_other_account,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND eventname LIKE 'UpdateFunctionConfiguration%'
  AND sigma_text(requestparameters, 'layers') IS NOT NULL
ORDER BY eventtime, account, region, actor, event_id
