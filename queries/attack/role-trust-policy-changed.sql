-- title: Role trust policies changed
-- severity: medium
-- id: trailsql.attack.role-trust-policy-changed
-- tags: attack.persistence, attack.t1098.003
-- references: MITRE ATT&CK T1098.003 (Account Manipulation: Additional Cloud Roles); Stratus aws.persistence.iam-backdoor-role
-- description: UpdateAssumeRolePolicy on iam.amazonaws.com: who may assume
--   the role changed. trusts_other_account says the new policy names an
--   account's root or an ARN outside this account; trusts_everyone that it
--   names "*". Commonly caused by accident: infrastructure code updating a
--   role's trust, which these columns help tell from an outside account
--   added by hand.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.roleName') AS target,
  error_code,
  regexp_like(
    regexp_replace(coalesce(json_extract_scalar(requestparameters, '$.policyDocument'), ''),
      concat('arn:aws:iam::', account, ':'), '', 'g'),
    'arn:aws:iam::[0-9]{12}:') AS trusts_other_account,
  regexp_like(coalesce(json_extract_scalar(requestparameters, '$.policyDocument'), ''),
    '"AWS"\s*:\s*"\*"|"Principal"\s*:\s*"\*"') AS trusts_everyone,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname = 'UpdateAssumeRolePolicy'
ORDER BY eventtime, account, region, actor, event_id
