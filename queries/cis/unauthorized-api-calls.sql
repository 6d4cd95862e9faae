-- title: Unauthorized API calls
-- severity: medium
-- references: CIS AWS Foundations 3.1 (v1.2.0), 4.1 (v1.4.0-v5.0), 5.1 (v6.0, v7.0); Security Hub CloudWatch.2
-- description: Calls refused for lack of permission: an error code that ends
--   in UnauthorizedOperation (EC2's Client.UnauthorizedOperation) or begins
--   with AccessDenied (AccessDenied, AccessDeniedException), as the CIS
--   metric filter selects them. CIS v1.4.0-v3.0 print the two exclusions
--   (source delivery.logs.amazonaws.com, event HeadBucket) joined with ||,
--   which would match nearly every event; this query applies them with AND,
--   as v4.0 and later write it. Security Hub's v1.2.0 text has no exclusions:
--   the rows they remove are log delivery's own calls and HeadBucket probes.
SELECT
  eventtime,
  recipientaccountid AS account,
  awsregion AS region,
  coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, useridentity.principalid, useridentity.type) AS actor,
  sourceipaddress AS source_ip,
  eventsource AS event_source,
  eventname AS event_name,
  resources[1]['arn'] AS target,
  errorcode AS error_code,
  errormessage AS error_message,
  useragent AS user_agent,
  useridentity.accesskeyid AS access_key_id,
  eventid AS event_id
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%')
  AND (sourceipaddress IS DISTINCT FROM 'delivery.logs.amazonaws.com')
  AND (eventname IS DISTINCT FROM 'HeadBucket')
ORDER BY eventtime, account, region, event_name, event_id
