-- title: Console sign-in without MFA
-- severity: medium
-- id: trailsql.cis.console-signin-without-mfa
-- tags: attack.initial-access, attack.t1078.004
-- references: CIS AWS Foundations 3.2 (v1.2.0), 4.2 (v1.4.0-v5.0), 5.2 (v6.0, v7.0); Security Hub CloudWatch.3
-- description: ConsoleLogin events whose additionalEventData.MFAUsed is not
--   Yes, the broader of the two filters the benchmark accepts: it also lists
--   failed sign-ins and federated or IAM Identity Center sign-ins (which
--   record MFAUsed No because MFA happens at the identity provider). An event
--   without MFAUsed counts as not Yes. The narrower variant, the one Security
--   Hub's CloudWatch.3 prints, keeps IAM users' successful sign-ins only:
--   --param identity_type=IAMUser --param result=Success.
-- param: identity_type = % | userIdentity.type to keep (a LIKE pattern; IAMUser for the narrow variant)
-- param: result = % | the sign-in's result, Success or Failure (a LIKE pattern)
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(additionaleventdata, '$.LoginTo') AS target,
  error_code,
  useridentity.type AS identity_type,
  json_extract_scalar(responseelements, '$.ConsoleLogin') AS result,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventname = 'ConsoleLogin'
  AND (json_extract_scalar(additionaleventdata, '$.MFAUsed') IS DISTINCT FROM 'Yes')
  AND coalesce(useridentity.type, '') LIKE $identity_type
  AND coalesce(json_extract_scalar(responseelements, '$.ConsoleLogin'), '') LIKE $result
ORDER BY eventtime, account, region, actor, event_id
