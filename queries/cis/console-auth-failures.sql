-- title: Console authentication failures
-- severity: medium
-- references: CIS AWS Foundations 3.6 (v1.2.0), 4.6 (v1.4.0-v5.0), 5.6 (v6.0, v7.0); Security Hub CloudWatch.6
-- description: ConsoleLogin events with the error message "Failed
--   authentication" (a wrong password), as the CIS filter of every version
--   selects them (v4.0 and later only drop the quotes). Sign-in failures with
--   another message (an unknown user name, for one) do not match the filter
--   and are not listed; forensics/failed-login-bursts counts every failed
--   sign-in.
SELECT
  eventtime,
  recipientaccountid AS account,
  awsregion AS region,
  coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, useridentity.principalid, useridentity.type) AS actor,
  sourceipaddress AS source_ip,
  eventsource AS event_source,
  eventname AS event_name,
  json_extract_scalar(additionaleventdata, '$.LoginTo') AS target,
  errorcode AS error_code,
  errormessage AS error_message,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  useragent AS user_agent,
  eventid AS event_id
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname = 'ConsoleLogin'
  AND errormessage = 'Failed authentication'
ORDER BY eventtime, account, region, actor, event_id
