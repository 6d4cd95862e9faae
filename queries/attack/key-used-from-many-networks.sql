-- title: One access key used from many networks in a day
-- severity: medium
-- id: trailsql.attack.key-used-from-many-networks
-- tags: attack.initial-access, attack.credential-access, attack.t1078.004, attack.t1528
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts), T1528 (Steal Application Access Token)
-- description: One access key (a user's long-term AKIA... key or a session's ASIA...
--   key) calling from `threshold` or more different networks (4 by
--   default; an IPv4 /16 or an IPv6 /48 each, so a laptop moving between
--   addresses of one provider counts once) within one UTC day: a key
--   copied and used by others, from their own machines and cloud hosts.
--   One row per key, network and day: the first call from that network,
--   networks the day's count, calls_from_network its calls from there.
--   Addresses of AWS services and `allow_ips` are left out. Commonly
--   caused by accident: a key shared between a laptop, a CI runner and a
--   server (which is itself worth ending), and travel.
-- param: threshold = 4 | different networks one key calls from in one UTC day that make a finding
-- param: allow_ips =  | addresses and CIDR blocks (comma-separated) left out, such as a VPN's exits
WITH calls AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    access_key_id, error_code, user_agent, event_id,
    date_bin(INTERVAL '1 day', eventtime) AS day
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND access_key_id IS NOT NULL AND access_key_id <> ''
    AND sourceipaddress IS NOT NULL
    AND sourceipaddress NOT LIKE '%.amazonaws.com'
    AND NOT allowlisted(source_ip, $allow_ips)
),
-- Each key's first call of the day from each address (an aggregation:
-- the network of an address is worked out once, not per call), then from
-- each network. min_by keeps the whole first call, by time and event id.
per_ip AS (
  SELECT access_key_id, day, source_ip,
    min_by(
      named_struct('eventtime', eventtime, 'account', account, 'region', region, 'actor', actor,
        'source_ip', source_ip, 'event_source', event_source, 'event_name', event_name,
        'error_code', error_code, 'user_agent', user_agent, 'event_id', event_id),
      named_struct('t', eventtime, 'id', event_id)) AS earliest,
    count(*) AS calls
  FROM calls
  GROUP BY access_key_id, day, source_ip
),
-- Addresses that are no IP (a NULL network) are one group, counted in no
-- key's networks and listed never. (Not left out by a WHERE here: the
-- planner would move it below the aggregations, working out the network of
-- every call.)
per_network AS (
  SELECT access_key_id, day, network,
    min_by(earliest, named_struct('t', earliest['eventtime'], 'id', earliest['event_id'])) AS earliest,
    CAST(sum(calls) AS BIGINT) AS calls_from_network
  FROM (SELECT *, ip_network(source_ip, 16, 48) AS network FROM per_ip)
  GROUP BY access_key_id, day, network
),
counted AS (
  SELECT *, CAST(count(network) OVER (PARTITION BY access_key_id, day) AS BIGINT) AS networks
  FROM per_network
)
SELECT earliest['eventtime'] AS eventtime, earliest['account'] AS account,
  earliest['region'] AS region, earliest['actor'] AS actor, earliest['source_ip'] AS source_ip,
  earliest['event_source'] AS event_source, earliest['event_name'] AS event_name,
  access_key_id AS target, earliest['error_code'] AS error_code, network, networks,
  calls_from_network, earliest['user_agent'] AS user_agent, earliest['event_id'] AS event_id
FROM counted
WHERE networks >= $threshold AND network IS NOT NULL
ORDER BY eventtime, account, region, actor, event_id
