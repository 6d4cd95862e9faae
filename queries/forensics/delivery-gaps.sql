-- title: Delivery gaps: hours with no log file
-- severity: medium
-- id: trailsql.forensics.delivery-gaps
-- tags: attack.defense-evasion, attack.t1562.008
-- references: MITRE ATT&CK T1562.008 (Disable or Modify Cloud Logs); CloudTrail User Guide (log file name format)
-- description: For each account and region, the clock hours with no log
--   file between two hours that have one: logging was stopped, the trail
--   broke or files were removed. The hour of a file is read from its name
--   (<account>_CloudTrail_<region>_<YYYYMMDDTHHMM>Z_<id>.json.gz), so files
--   named otherwise are not counted. CloudTrail writes no file when a region
--   saw no events, so a quiet region shows gaps too: raise `hours` to list
--   only longer gaps. eventtime is the first hour without a file, gap_end the
--   hour of the next file; the actor, source, event and error columns are
--   empty, as no event belongs to a gap. Only files with events inside
--   --since/--until are read.
-- param: hours = 1 | the shortest gap to list, in hours
-- The files first (one row each, not one per event), then their names read.
WITH objects AS (
  SELECT DISTINCT log_object
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
),
files AS (
  SELECT DISTINCT
    regexp_replace(log_object, '^.*/([0-9]{12})_CloudTrail_([a-z0-9-]+)_[0-9]{8}T[0-9]{4}Z_[^/]*$', '${1}') AS account,
    regexp_replace(log_object, '^.*/([0-9]{12})_CloudTrail_([a-z0-9-]+)_[0-9]{8}T[0-9]{4}Z_[^/]*$', '${2}') AS region,
    date_trunc('hour', to_timestamp(regexp_replace(log_object,
      '^.*_([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})Z_[^/]*$', '${1}-${2}-${3}T${4}:00:00Z'))) AS hour
  FROM objects
  WHERE regexp_like(log_object, '/[0-9]{12}_CloudTrail_[a-z0-9-]+_[0-9]{8}T[0-9]{4}Z_[^/]*$')
),
hours AS (
  SELECT account, region, hour,
    lead(hour) OVER (PARTITION BY account, region ORDER BY hour) AS next_hour
  FROM files
)
SELECT
  hour + INTERVAL '1 hour' AS eventtime,
  account,
  region,
  CAST(NULL AS VARCHAR) AS actor,
  CAST(NULL AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS event_source,
  CAST(NULL AS VARCHAR) AS event_name,
  CAST(NULL AS VARCHAR) AS target,
  CAST(NULL AS VARCHAR) AS error_code,
  next_hour AS gap_end,
  CAST((date_part('epoch', next_hour) - date_part('epoch', hour)) / 3600 - 1 AS BIGINT) AS hours_missing
FROM hours
WHERE next_hour IS NOT NULL
  AND (date_part('epoch', next_hour) - date_part('epoch', hour)) / 3600 - 1 >= $hours
ORDER BY account, region, eventtime
