-- title: Lambda functions opened to everyone or other accounts
-- severity: high
-- id: trailsql.attack.lambda-made-public
-- tags: attack.persistence, attack.t1098
-- references: MITRE ATT&CK T1098 (Account Manipulation); Stratus aws.persistence.lambda-backdoor-function
-- description: AddPermission on lambda.amazonaws.com (any API version)
--   granting a function to a principal that is "*" or an account (a
--   12-digit id or an account ARN) other than this one: anyone, or that
--   account, can invoke it, a backdoor that runs with the function's role.
--   Grants to AWS services (s3.amazonaws.com, events.amazonaws.com, ...)
--   are left out. Commonly caused by accident: cross-account event wiring
--   between the organization's own accounts.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.functionName') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.principal') AS principal,
  json_extract_scalar(requestparameters, '$.action') AS permission,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND eventname LIKE 'AddPermission%'
  AND (json_extract_scalar(requestparameters, '$.principal') = '*'
    OR (regexp_like(json_extract_scalar(requestparameters, '$.principal'), '^(arn:aws:iam::)?[0-9]{12}')
        AND json_extract_scalar(requestparameters, '$.principal') NOT LIKE concat('%', account, '%')))
ORDER BY eventtime, account, region, actor, event_id
