-- title: Many EC2 instances terminated by one principal in an hour
-- severity: high
-- id: trailsql.attack.mass-instance-termination
-- tags: attack.impact, attack.t1529, attack.t1485
-- references: MITRE ATT&CK T1529 (System Shutdown/Reboot), T1485 (Data Destruction)
-- description: One principal terminating `threshold` or more instances (10 by
--   default) within one clock hour, not through Auto Scaling or another
--   AWS service: an intruder (or a mistake) wiping out a fleet. One row
--   per principal and hour: its first termination of the hour, instances
--   (those named in its calls) and calls. Denied and dry-run attempts do
--   not count. Commonly caused by accident: tearing down a test
--   environment by hand.
-- param: threshold = 10 | instances one principal terminates in one clock hour that make a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
WITH terminations AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    sigma_text(requestparameters, 'instancesSet.items.instanceId') AS target,
    error_code, user_agent, event_id,
    date_bin(INTERVAL '1 hour', eventtime) AS hour,
    cardinality(string_to_array(coalesce(sigma_text(requestparameters, 'instancesSet.items.instanceId'), ''), ', ')) AS instances
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ec2.amazonaws.com'
    AND eventname = 'TerminateInstances'
    AND errorcode IS NULL
    AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
    AND NOT allowlisted(actor, $allow_principals)
),
per_hour AS (
  SELECT
    account, actor, hour,
    min_by(
      named_struct(
        'eventtime', eventtime, 'region', region, 'source_ip', source_ip,
        'event_source', event_source, 'event_name', event_name, 'target', target,
        'error_code', error_code, 'user_agent', user_agent, 'event_id', event_id),
      named_struct('t', eventtime, 'id', event_id)) AS earliest,
    CAST(sum(instances) AS BIGINT) AS instances,
    CAST(count(*) AS BIGINT) AS calls
  FROM terminations
  GROUP BY account, actor, hour
)
SELECT earliest['eventtime'] AS eventtime, account, earliest['region'] AS region, actor,
  earliest['source_ip'] AS source_ip, earliest['event_source'] AS event_source,
  earliest['event_name'] AS event_name, earliest['target'] AS target,
  earliest['error_code'] AS error_code, instances, calls,
  earliest['user_agent'] AS user_agent, earliest['event_id'] AS event_id
FROM per_hour
WHERE instances >= $threshold
ORDER BY eventtime, account, region, actor, event_id
