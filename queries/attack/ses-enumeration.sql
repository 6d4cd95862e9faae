-- title: SES sending limits and identities explored
-- severity: low
-- id: trailsql.attack.ses-enumeration
-- tags: attack.discovery, attack.t1526
-- references: MITRE ATT&CK T1526 (Cloud Service Discovery); Stratus aws.discovery.ses-enumerate
-- description: One principal calling `threshold` or more different SES read APIs
--   (GetSendQuota, GetAccountSendingEnabled, ListIdentities,
--   GetIdentityVerificationAttributes, GetAccount, ListEmailIdentities...)
--   within one clock hour: someone with a stolen key finding out whether
--   the account can send mail, and from which addresses, before using it
--   for phishing. apis_in_hour counts them; every such call of the hour is
--   listed. Calls through AWS services are left out. Commonly caused by
--   accident: opening the SES console (it makes these calls too; the user
--   agent says so).
-- param: threshold = 3 | different SES read APIs one principal calls in one clock hour that make a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
WITH calls AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.identities[0]') AS target,
    eventname AS item,
    error_code, user_agent, event_id,
    date_bin(INTERVAL '1 hour', eventtime) AS hour
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ses.amazonaws.com'
    AND (eventname LIKE 'Get%' OR eventname LIKE 'List%' OR eventname LIKE 'Describe%')
    AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
    AND NOT allowlisted(actor, $allow_principals)
),
firsts AS (
  SELECT *,
    row_number() OVER (PARTITION BY account, actor, hour, item ORDER BY eventtime, event_id) AS nth
  FROM calls
),
counted AS (
  SELECT *,
    sum(CASE WHEN nth = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY account, actor, hour) AS n
  FROM firsts
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  CAST(n AS BIGINT) AS apis_in_hour, user_agent, event_id
FROM counted
WHERE n >= $threshold
ORDER BY eventtime, account, region, actor, event_id
