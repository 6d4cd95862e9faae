-- title: Two console sign-ins of one principal farther apart than anyone travels in the time between
-- severity: medium
-- id: trailsql.attack.impossible-travel
-- tags: attack.initial-access, attack.t1078.004
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts); AWS incident response playbooks (sign-in from an unusual location)
-- description: Each successful console sign-in (ConsoleLogin) of a
--   principal (userIdentity.arn, else the principal id) measured against
--   its sign-in before: the great-circle distance between the two places
--   the `--geoip` City database gives (`geoip_latitude`,
--   `geoip_longitude`), less the radius each place is accurate to
--   (`geoip_accuracy_km`), is more than `kmh` kilometres an hour could
--   cover in the time between. Two sign-ins at once from places farther
--   apart than their accuracy are listed too. The row is the later
--   sign-in, with the earlier one's time, address and place, the
--   distance, the hours and the speed it would take; `database` names the
--   file that gave the coordinates. Sign-ins before --since are read as the
--   earlier sign-in of the first inside the window. Addresses with no
--   coordinates (AWS services, private ranges, unknown networks, a
--   Country or ASN database only) are skipped. Commonly by accident: a
--   VPN or a cloud desktop in another continent used beside a laptop, a
--   database that places a mobile provider's addresses at its seat; allow
--   principals with `allow_principals`. Needs `--geoip FILE` (a City
--   database); without it, it is left out, saying so.
-- param: kmh = 1000 | kilometres an hour, about an airliner's speed, above which a journey between two sign-ins is impossible
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose sign-ins are expected
WITH signins AS (
  SELECT
    eventtime, account, region,
    coalesce(useridentity.arn, useridentity.principalid) AS actor,
    source_ip, event_source, event_name,
    resources[1]['arn'] AS target,
    error_code, user_agent, event_id,
    geoip_latitude(source_ip) AS latitude, geoip_longitude(source_ip) AS longitude,
    coalesce(geoip_accuracy_km(source_ip), 0) AS accuracy_km
  FROM cloudtrail_events
  WHERE eventtime < $until
    AND event_name = 'ConsoleLogin'
    AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
    AND (useridentity.arn IS NOT NULL OR useridentity.principalid IS NOT NULL)
),
pairs AS (
  SELECT *,
    lag(eventtime) OVER w AS previous_time,
    lag(source_ip) OVER w AS previous_ip,
    lag(latitude) OVER w AS previous_latitude,
    lag(longitude) OVER w AS previous_longitude,
    lag(accuracy_km) OVER w AS previous_accuracy_km
  FROM signins
  WHERE latitude IS NOT NULL AND longitude IS NOT NULL
  WINDOW w AS (PARTITION BY actor ORDER BY eventtime, event_id)
),
measured AS (
  SELECT *,
    great_circle_distance(previous_latitude, previous_longitude, latitude, longitude) AS distance_km,
    (date_part('epoch', eventtime) - date_part('epoch', previous_time)) / 3600.0 AS hours
  FROM pairs
  WHERE previous_time IS NOT NULL
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  geoip_country(source_ip) AS country, geoip_city(source_ip) AS city,
  previous_time, previous_ip,
  geoip_country(previous_ip) AS previous_country, geoip_city(previous_ip) AS previous_city,
  round(distance_km) AS distance_km, round(hours, 2) AS hours,
  CASE WHEN hours > 0 THEN round(distance_km / hours) END AS kmh,
  geoip_database(source_ip, 'location') AS database,
  user_agent, event_id
FROM measured
WHERE eventtime >= $since
  AND distance_km - accuracy_km - previous_accuracy_km > $kmh * hours
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
