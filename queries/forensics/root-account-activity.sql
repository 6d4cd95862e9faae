-- title: Root user activity
-- severity: high
-- id: trailsql.forensics.root-account-activity
-- tags: attack.privilege-escalation, attack.t1078.004
-- references: CIS AWS Foundations 1.1/3.3 (v1.2.0), 1.7/4.3 (v1.4.0-v3.0), 4.3 (v4.0, v5.0), 5.3 (v6.0, v7.0); Security Hub CloudWatch.1; Sigma "AWS Root Credentials"
-- description: Every call made with an account's root user, as the CIS root
--   usage filter selects them: userIdentity.type Root, no invokedBy (not a
--   call an AWS service made for root), not an AwsServiceEvent. Failed and
--   denied calls are included (a failed root sign-in matters too); the
--   console sign-in's result and MFA use are shown for ConsoleLogin.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.userName'),
    json_extract_scalar(responseelements, '$.accessKey.accessKeyId'),
    resources[1]['arn']) AS target,
  error_code,
  json_extract_scalar(responseelements, '$.ConsoleLogin') AS console_login,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  user_agent,
  access_key_id,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND (eventtype IS NULL OR eventtype <> 'AwsServiceEvent')
ORDER BY eventtime, account, region, event_name, event_id
