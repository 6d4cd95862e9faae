-- title: Console authentication failures
-- severity: medium
-- id: trailsql.cis.console-auth-failures
-- tags: attack.credential-access, attack.t1110
-- references: CIS AWS Foundations 3.6 (v1.2.0), 4.6 (v1.4.0-v5.0), 5.6 (v6.0, v7.0); Security Hub CloudWatch.6
-- description: ConsoleLogin events with the error message "Failed
--   authentication" (a wrong password), as the CIS filter of every version
--   selects them (v4.0 and later only drop the quotes). Sign-in failures with
--   another message (an unknown user name, for one) do not match the filter
--   and are not listed; forensics/failed-login-bursts counts every failed
--   sign-in.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(additionaleventdata, '$.LoginTo') AS target,
  error_code,
  errormessage AS error_message,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventname = 'ConsoleLogin'
  AND errormessage = 'Failed authentication'
ORDER BY eventtime, account, region, actor, event_id
