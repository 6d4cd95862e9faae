-- title: An instance's role exploring the account
-- severity: medium
-- id: trailsql.attack.instance-credentials-discovery
-- tags: attack.discovery, attack.t1580, attack.t1526
-- references: MITRE ATT&CK T1580 (Cloud Infrastructure Discovery), T1526 (Cloud Service Discovery); Stratus aws.discovery.ec2-enumerate-from-instance
-- description: A role session of an EC2 instance (named after it, i-...) calling
--   `threshold` or more different List, Describe and Get APIs, or
--   GetCallerIdentity, within one clock hour: applications call the few
--   APIs they need, over and over; an intruder on the instance (or with
--   its credentials) asks what the role can see. apis_in_hour counts them;
--   every such call of the hour is listed. Commonly caused by accident:
--   configuration-management and monitoring agents that inventory the
--   account from an instance (list their roles in allow_principals).
-- param: threshold = 10 | different read APIs an instance session calls in one clock hour that make a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
WITH calls AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    regexp_replace(actor, '^.*/', '') AS target,
    event_source || ':' || event_name AS item,
    error_code, user_agent, event_id,
    date_bin(INTERVAL '1 hour', eventtime) AS hour
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    -- Two substring tests of the session's ARN (cheap, and applied by the
    -- pass before the statement sees a row; a role session always has an
    -- ARN) before the exact pattern.
    AND useridentity.arn LIKE '%:assumed-role/%' AND useridentity.arn LIKE '%/i-%'
    AND regexp_like(coalesce(actor, ''), '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+/i-[0-9a-fA-F]{8,17}$')
    AND (eventname LIKE 'List%' OR eventname LIKE 'Describe%' OR eventname LIKE 'Get%')
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
