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
    date_bin(INTERVAL '1 hour', eventtime) AS hour,
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
)
-- One aggregation over the calls: each (hour, account, region, principal)
-- with its refused calls counted apart; the spikes are the groups with
-- enough of them.
SELECT
  hour AS eventtime,
  account,
  region,
  actor,
  array_to_string(array_agg(DISTINCT source_ip ORDER BY source_ip) FILTER (WHERE refused), ' ') AS source_ip,
  array_to_string(array_agg(DISTINCT event_source ORDER BY event_source) FILTER (WHERE refused), ' ') AS event_source,
  array_to_string(array_agg(DISTINCT event_name ORDER BY event_name) FILTER (WHERE refused), ' ') AS event_name,
  CAST(NULL AS VARCHAR) AS target,
  array_to_string(array_agg(DISTINCT error_code ORDER BY error_code) FILTER (WHERE refused), ' ') AS error_code,
  count(*) FILTER (WHERE refused) AS denied,
  count(*) AS calls
FROM calls
GROUP BY hour, account, region, actor
HAVING count(*) FILTER (WHERE refused) >= $threshold
ORDER BY eventtime, account, region, actor
