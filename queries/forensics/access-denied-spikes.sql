-- title: Spikes of access-denied errors by principal
-- severity: medium
-- id: trailsql.forensics.access-denied-spikes
-- tags: attack.discovery, attack.t1580
-- references: MITRE ATT&CK T1580 (Cloud Infrastructure Discovery); Panther AWS.CloudTrail.UnauthorizedAPICall; cis/unauthorized-api-calls lists every such call
-- description: Principals refused at least `threshold` times in one clock
--   hour (error codes ending in UnauthorizedOperation or starting with
--   AccessDenied, as cis/unauthorized-api-calls counts them), in one account
--   and region. One row per principal and hour: eventtime is the start of the
--   hour; source_ip, event_source, event_name and error_code list the
--   distinct values seen, in order; denied counts the refused calls and
--   calls all the principal's calls in that hour. A stolen key probing what
--   it may do looks like this.
-- param: threshold = 10 | refused calls in one clock hour that make a spike
WITH calls AS (
  SELECT
    date_trunc('hour', eventtime) AS hour,
    account,
    region,
    actor,
    source_ip,
    event_source,
    event_name,
    error_code,
    (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%') AS refused
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
),
spikes AS (
  SELECT hour, account, region, actor
  FROM calls
  WHERE refused
  GROUP BY hour, account, region, actor
  HAVING count(*) >= $threshold
)
SELECT
  c.hour AS eventtime,
  c.account,
  c.region,
  c.actor,
  array_to_string(array_agg(DISTINCT c.source_ip ORDER BY c.source_ip) FILTER (WHERE c.refused), ' ') AS source_ip,
  array_to_string(array_agg(DISTINCT c.event_source ORDER BY c.event_source) FILTER (WHERE c.refused), ' ') AS event_source,
  array_to_string(array_agg(DISTINCT c.event_name ORDER BY c.event_name) FILTER (WHERE c.refused), ' ') AS event_name,
  CAST(NULL AS VARCHAR) AS target,
  array_to_string(array_agg(DISTINCT c.error_code ORDER BY c.error_code) FILTER (WHERE c.refused), ' ') AS error_code,
  count(*) FILTER (WHERE c.refused) AS denied,
  count(*) AS calls
FROM calls c
JOIN spikes s ON c.hour = s.hour AND (c.account IS NOT DISTINCT FROM s.account)
  AND (c.region IS NOT DISTINCT FROM s.region) AND (c.actor IS NOT DISTINCT FROM s.actor)
GROUP BY c.hour, c.account, c.region, c.actor
ORDER BY eventtime, account, region, actor
