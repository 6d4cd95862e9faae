-- title: CloudTrail configuration changes
-- severity: high
-- id: trailsql.cis.cloudtrail-config-changes
-- tags: attack.defense-evasion, attack.t1562.008
-- references: CIS AWS Foundations 3.5 (v1.2.0), 4.5 (v1.4.0-v5.0), 5.5 (v6.0, v7.0); Security Hub CloudWatch.5
-- description: Trails created, updated or deleted, and logging started or
--   stopped: CreateTrail, UpdateTrail, DeleteTrail, StartLogging and
--   StopLogging, the list every version of the CIS filter uses. Denied
--   attempts are included (error_code says so). PutEventSelectors, which can
--   also blind a trail, is not in the CIS list; forensics/trail-tampering
--   covers it.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.name') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'cloudtrail.amazonaws.com'
  AND eventname IN ('CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging')
ORDER BY eventtime, account, region, event_name, event_id
