-- title: Unauthorized API calls
-- severity: medium
-- id: trailsql.cis.unauthorized-api-calls
-- tags: attack.discovery, attack.t1580
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
  eventtime, account, region, actor, source_ip, event_source, event_name,
  resources[1]['arn'] AS target,
  error_code,
  errormessage AS error_message,
  user_agent,
  access_key_id,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%')
  AND (sourceipaddress IS DISTINCT FROM 'delivery.logs.amazonaws.com')
  AND (eventname IS DISTINCT FROM 'HeadBucket')
ORDER BY eventtime, account, region, event_name, event_id
