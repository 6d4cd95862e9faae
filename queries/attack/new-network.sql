-- title: A principal calls from a network it was never seen in
-- severity: low
-- id: trailsql.attack.new-network
-- tags: attack.initial-access, attack.t1078.004
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts); AWS incident response playbooks (credentials used from an unexpected network)
-- description: For each principal (userIdentity.arn, else the principal
--   id), its first call (a console sign-in or any API call) from each
--   network, an autonomous system placed by the `--geoip` database
--   (`geoip_asn`, `geoip_org`; `database` names the file that answered),
--   it had not called from before. Where new-country asks about places,
--   this asks about providers: a key stolen from a laptop and used from a
--   hosting provider in the same country shows here. Events before
--   --since are the baseline: they are read but only first calls inside
--   the window are listed. A principal's first network of all, and the
--   networks of its first `learning_hours` hours, are its baseline too.
--   Addresses no database places (AWS services, private ranges, unknown
--   networks) are skipped. Commonly by accident: a new home or mobile
--   provider, a new VPN, CI moved to other runners; allow networks by
--   number or organisation with `allow_networks` (64500, Example*),
--   principals with `allow_principals`. Needs `--geoip FILE` (an ASN
--   database); without it, it is left out, saying so.
-- param: learning_hours = 24 | hours from a principal's first call whose new networks are its baseline
-- param: allow_networks = | networks never listed: AS numbers or organisation patterns, comma-separated (64500,Example*)
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
WITH calls AS (
  SELECT
    eventtime, account, region,
    coalesce(useridentity.arn, useridentity.principalid) AS actor,
    source_ip, event_source, event_name,
    resources[1]['arn'] AS target,
    error_code, user_agent, event_id,
    geoip_asn(source_ip) AS asn
  FROM cloudtrail_events
  WHERE eventtime < $until
    AND (useridentity.arn IS NOT NULL OR useridentity.principalid IS NOT NULL)
),
first_calls AS (
  SELECT actor, asn, calls_from_network,
    earliest['eventtime'] AS eventtime, earliest['account'] AS account,
    earliest['region'] AS region, earliest['source_ip'] AS source_ip,
    earliest['event_source'] AS event_source, earliest['event_name'] AS event_name,
    earliest['target'] AS target, earliest['error_code'] AS error_code,
    earliest['user_agent'] AS user_agent, earliest['event_id'] AS event_id
  FROM (
    SELECT actor, asn,
      min_by(
        named_struct('eventtime', eventtime, 'account', account, 'region', region,
          'source_ip', source_ip, 'event_source', event_source, 'event_name', event_name,
          'target', target, 'error_code', error_code, 'user_agent', user_agent,
          'event_id', event_id),
        named_struct('t', eventtime, 'id', event_id)) AS earliest,
      CAST(count(*) AS BIGINT) AS calls_from_network
    FROM calls
    WHERE asn IS NOT NULL
    GROUP BY actor, asn)
),
firsts AS (
  SELECT *, geoip_org(source_ip) AS org,
    CAST(row_number() OVER (PARTITION BY actor ORDER BY eventtime, event_id) AS BIGINT) - 1 AS known_networks,
    min(eventtime) OVER (PARTITION BY actor) AS principal_first
  FROM first_calls
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  asn, org, geoip_database(source_ip, 'asn') AS database, known_networks, calls_from_network,
  user_agent, event_id
FROM firsts
WHERE known_networks > 0
  AND eventtime >= $since
  AND date_part('epoch', eventtime) - date_part('epoch', principal_first) >= $learning_hours * 3600
  AND NOT allowlisted(CAST(asn AS VARCHAR), $allow_networks)
  AND NOT allowlisted(org, $allow_networks)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
