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
    date_trunc('hour', eventtime) AS hour,
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
    first_value(eventtime ORDER BY eventtime, event_id) AS eventtime,
    first_value(region ORDER BY eventtime, event_id) AS region,
    first_value(source_ip ORDER BY eventtime, event_id) AS source_ip,
    first_value(event_source ORDER BY eventtime, event_id) AS event_source,
    first_value(event_name ORDER BY eventtime, event_id) AS event_name,
    first_value(target ORDER BY eventtime, event_id) AS target,
    first_value(error_code ORDER BY eventtime, event_id) AS error_code,
    first_value(user_agent ORDER BY eventtime, event_id) AS user_agent,
    first_value(event_id ORDER BY eventtime, event_id) AS event_id,
    CAST(sum(instances) AS BIGINT) AS instances,
    CAST(count(*) AS BIGINT) AS calls
  FROM terminations
  GROUP BY account, actor, hour
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  instances, calls, user_agent, event_id
FROM per_hour
WHERE instances >= $threshold
ORDER BY eventtime, account, region, actor, event_id
