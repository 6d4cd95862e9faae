-- title: A managed policy rewritten by a new default version
-- severity: medium
-- id: trailsql.attack.policy-version-made-default
-- tags: attack.privilege-escalation, attack.persistence, attack.t1098.003
-- references: MITRE ATT&CK T1098.003 (Account Manipulation: Additional Cloud Roles); Rhino Security Labs IAM privilege escalation (CreatePolicyVersion, SetDefaultPolicyVersion)
-- description: CreatePolicyVersion with setAsDefault true, and
--   SetDefaultPolicyVersion, on iam.amazonaws.com: what a customer managed
--   policy grants replaced at once for every user, group and role it is
--   attached to. A principal allowed to do this on its own policy can
--   grant itself anything (a known privilege escalation);
--   SetDefaultPolicyVersion can also bring back an old, broader version.
--   grants_everything says the new document allows "*" on "*". Commonly
--   caused by accident: infrastructure code updating its policies (add its
--   role to allow_principals).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    regexp_replace(json_extract_scalar(requestparameters, '$.policyArn'), '^.*:policy/', '') AS target,
    error_code,
    json_extract_scalar(requestparameters, '$.versionId') AS version,
    regexp_like(coalesce(json_extract_scalar(requestparameters, '$.policyDocument'), ''), '"Action"\s*:\s*(\[\s*)?"\*"') AND regexp_like(coalesce(json_extract_scalar(requestparameters, '$.policyDocument'), ''), '"Resource"\s*:\s*(\[\s*)?"\*"') AS grants_everything,
    json_extract_scalar(requestparameters, '$.setAsDefault') AS set_as_default,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'iam.amazonaws.com'
    AND eventname IN ('CreatePolicyVersion', 'SetDefaultPolicyVersion')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name = 'SetDefaultPolicyVersion' OR set_as_default = 'true'
ORDER BY eventtime, account, region, actor, event_id
