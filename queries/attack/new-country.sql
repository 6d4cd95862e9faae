-- title: A principal calls from a country it was never seen in
-- severity: medium
-- id: trailsql.attack.new-country
-- tags: attack.initial-access, attack.t1078.004
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts); AWS incident response playbooks (sign-in from an unusual location)
-- description: For each principal (userIdentity.arn, else the principal
--   id), its first call (a console sign-in or any API call) from each
--   country it had not called from before, the country placed by the
--   `--geoip` database (`geoip_country`; `database` names the file that
--   answered). Events before --since are the baseline: they are read but
--   only first calls inside the window are listed, so `--since 7d` answers
--   "who came from a new country this week". A principal's first country
--   of all, and the countries of its first `learning_hours` hours, are its
--   baseline too. Addresses no database places (AWS services, private
--   ranges, unknown networks) are skipped. Commonly by accident: travel, a
--   new VPN exit or a cloud desktop in another region; allow countries
--   with `allow_countries` (ISO codes), principals with `allow_principals`. Needs
--   `--geoip FILE` (a Country or City database); without it, it is left
--   out, saying so.
-- param: learning_hours = 24 | hours from a principal's first call whose new countries are its baseline
-- param: allow_countries = | ISO country codes never listed, comma-separated (DE,FR)
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
WITH calls AS (
  SELECT
    eventtime, account, region,
    coalesce(useridentity.arn, useridentity.principalid) AS actor,
    source_ip, event_source, event_name,
    resources[1]['arn'] AS target,
    error_code, user_agent, event_id,
    geoip_country(source_ip) AS country
  FROM cloudtrail_events
  WHERE eventtime < $until
    AND (useridentity.arn IS NOT NULL OR useridentity.principalid IS NOT NULL)
),
first_calls AS (
  SELECT actor, country, calls_from_country,
    earliest['eventtime'] AS eventtime, earliest['account'] AS account,
    earliest['region'] AS region, earliest['source_ip'] AS source_ip,
    earliest['event_source'] AS event_source, earliest['event_name'] AS event_name,
    earliest['target'] AS target, earliest['error_code'] AS error_code,
    earliest['user_agent'] AS user_agent, earliest['event_id'] AS event_id
  FROM (
    SELECT actor, country,
      min_by(
        named_struct('eventtime', eventtime, 'account', account, 'region', region,
          'source_ip', source_ip, 'event_source', event_source, 'event_name', event_name,
          'target', target, 'error_code', error_code, 'user_agent', user_agent,
          'event_id', event_id),
        named_struct('t', eventtime, 'id', event_id)) AS earliest,
      CAST(count(*) AS BIGINT) AS calls_from_country
    FROM calls
    WHERE country IS NOT NULL
    GROUP BY actor, country)
),
firsts AS (
  SELECT *,
    CAST(row_number() OVER (PARTITION BY actor ORDER BY eventtime, event_id) AS BIGINT) - 1 AS known_countries,
    min(eventtime) OVER (PARTITION BY actor) AS principal_first
  FROM first_calls
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  country, geoip_database(source_ip, 'country') AS database, known_countries, calls_from_country,
  user_agent, event_id
FROM firsts
WHERE known_countries > 0
  AND eventtime >= $since
  AND date_part('epoch', eventtime) - date_part('epoch', principal_first) >= $learning_hours * 3600
  AND NOT allowlisted(country, $allow_countries)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
