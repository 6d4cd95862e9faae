-- title: Lambda function URLs anyone can call
-- severity: high
-- id: trailsql.attack.lambda-url-public
-- tags: attack.persistence, attack.initial-access, attack.t1190, attack.t1648
-- references: MITRE ATT&CK T1648 (Serverless Execution), T1190 (Exploit Public-Facing Application)
-- description: CreateFunctionUrlConfig and UpdateFunctionUrlConfig on
--   lambda.amazonaws.com with authType NONE: the function answers anyone
--   on the internet at its own https address, with no AWS signature asked,
--   a way to keep a door open (a backdoor function that hands out
--   credentials). Denied attempts are listed too. Commonly caused by
--   accident: webhooks and small public APIs (they should check a secret
--   themselves).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  regexp_replace(json_extract_scalar(requestparameters, '$.functionName'), '^.*:function:', '') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND (eventname LIKE 'CreateFunctionUrlConfig%' OR eventname LIKE 'UpdateFunctionUrlConfig%')
  AND json_extract_scalar(requestparameters, '$.authType') = 'NONE'
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
