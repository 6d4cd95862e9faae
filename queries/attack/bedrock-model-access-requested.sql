-- title: Access to Bedrock foundation models requested
-- severity: medium
-- id: trailsql.attack.bedrock-model-access-requested
-- tags: attack.impact, attack.t1496.004
-- references: MITRE ATT&CK T1496.004 (Resource Hijacking: Cloud Service Hijacking); reports of LLMjacking
-- description: PutUseCaseForModelAccess, CreateFoundationModelAgreement and
--   PutFoundationModelEntitlement on bedrock.amazonaws.com: an account
--   enabling models it did not use, the step before running them on
--   someone else's bill. target is the model where the call names one.
--   Denied attempts are listed too. Commonly caused by accident: a team
--   starting to use Bedrock (once per model).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.modelId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'bedrock.amazonaws.com'
  AND eventname IN ('PutUseCaseForModelAccess', 'CreateFoundationModelAgreement', 'PutFoundationModelEntitlement')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
