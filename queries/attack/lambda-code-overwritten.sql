-- title: Lambda function code replaced outside the deployment tools
-- severity: medium
-- id: trailsql.attack.lambda-code-overwritten
-- tags: attack.persistence, attack.execution, attack.t1648, attack.t1525
-- references: MITRE ATT&CK T1648 (Serverless Execution), T1525 (Implant Internal Image); Stratus aws.persistence.lambda-overwrite-code
-- description: UpdateFunctionCode on lambda.amazonaws.com made directly
--   (not through CloudFormation or another AWS service), by a principal not
--   in `allow_principals` and with a user agent not in `allow_tools`: a
--   function's code replaced by hand, the way an intruder plants a
--   backdoor in code that already runs with a role. code_from says where
--   the new code came from (an S3 object or an image; a zip sent in the
--   call otherwise). `allow_tools` matches the user agent, which the
--   caller sets: an intruder can claim to be Terraform, so empty it
--   (`--param allow_tools=`) to see every update. Commonly caused by
--   accident: a developer deploying from a laptop, a pipeline whose tool
--   is not listed (add its role to `allow_principals`).
-- param: allow_principals = | principals (ARN patterns, comma-separated) that deploy functions
-- param: allow_tools = *Terraform*,*aws-cdk*,*aws-sam-cli*,*serverless*,*pulumi* | user agents of deployment tools (patterns, comma-separated)
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  regexp_replace(json_extract_scalar(requestparameters, '$.functionName'), '^.*:function:', '') AS target,
  error_code,
  coalesce(
    's3://' || json_extract_scalar(requestparameters, '$.s3Bucket') || '/'
      || json_extract_scalar(requestparameters, '$.s3Key'),
    json_extract_scalar(requestparameters, '$.imageUri'),
    'zip in the call') AS code_from,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND eventname LIKE 'UpdateFunctionCode%'
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND NOT allowlisted(actor, $allow_principals)
  AND NOT allowlisted(user_agent, $allow_tools)
ORDER BY eventtime, account, region, actor, event_id
