-- title: Bedrock models enabled or invoked
-- severity: medium
-- id: trailsql.attack.bedrock-model-use
-- tags: attack.impact, attack.t1496
-- references: MITRE ATT&CK T1496 (Resource Hijacking); Stratus aws.impact.bedrock-invoke-model
-- description: Foundation models switched on for the account
--   (PutFoundationModelEntitlement, PutUseCaseForModelAccess,
--   CreateFoundationModelAgreement) and invoked (InvokeModel,
--   InvokeModelWithResponseStream, Converse, ConverseStream) on
--   bedrock.amazonaws.com: stolen keys are sold for model access
--   ("LLMjacking"), billed to the account. target is the model. Commonly
--   caused by accident: teams that use Bedrock (their roles call it all
--   day; in an account that does not, any call matters).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.modelId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'bedrock.amazonaws.com'
  AND eventname IN ('PutFoundationModelEntitlement', 'PutUseCaseForModelAccess',
    'CreateFoundationModelAgreement', 'InvokeModel', 'InvokeModelWithResponseStream',
    'Converse', 'ConverseStream')
ORDER BY eventtime, account, region, actor, event_id
