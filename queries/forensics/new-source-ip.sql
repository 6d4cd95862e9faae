-- title: A principal's first call from a new source IP
-- severity: low
-- id: trailsql.forensics.new-source-ip
-- tags: attack.initial-access, attack.t1078.004
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts); AWS incident response playbooks (source IP per principal); Tailpipe "unrecognized source IP"
-- description: For each principal (userIdentity.arn, else the principal
--   id), the first call from each source IP it had not used before. The
--   principal's first IP of all is its baseline and is not listed. Events
--   before --since are the baseline too: they are read (from the start of
--   the archive up to --until) but only first calls inside the window are
--   listed, so `--since 7d` answers "which principals came from a new
--   address this week". Addresses that are AWS services (ending in
--   .amazonaws.com, or AWS Internal) are skipped. calls_from_ip counts the
--   principal's calls from that IP up to --until; known_ips the addresses
--   it had used before. A principal's first `learning_hours` hours in the
--   events read teach its usual addresses (people work from two or three):
--   addresses first used then are not listed (0 lists them).
-- param: learning_hours = 24 | hours from a principal's first call whose new addresses are its baseline
WITH calls AS (
  SELECT
    eventtime,
    account,
    region,
    coalesce(useridentity.arn, useridentity.principalid) AS actor,
    source_ip,
    event_source,
    event_name,
    resources[1]['arn'] AS target,
    error_code,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime < $until
    AND (useridentity.arn IS NOT NULL OR useridentity.principalid IS NOT NULL)
    AND sourceipaddress IS NOT NULL
    AND sourceipaddress NOT LIKE '%.amazonaws.com'
    AND sourceipaddress <> 'AWS Internal'
),
-- Each principal's first call from each address, and how many calls it
-- made from there (an aggregation: no sort of every call; min_by keeps the
-- whole first call, ordered by time and then event id).
first_calls AS (
  SELECT actor, source_ip, calls_from_ip,
    earliest['eventtime'] AS eventtime, earliest['account'] AS account,
    earliest['region'] AS region, earliest['event_source'] AS event_source,
    earliest['event_name'] AS event_name, earliest['target'] AS target,
    earliest['error_code'] AS error_code, earliest['user_agent'] AS user_agent,
    earliest['event_id'] AS event_id
  FROM (
    SELECT actor, source_ip,
      min_by(
        named_struct('eventtime', eventtime, 'account', account, 'region', region,
          'event_source', event_source, 'event_name', event_name, 'target', target,
          'error_code', error_code, 'user_agent', user_agent, 'event_id', event_id),
        named_struct('t', eventtime, 'id', event_id)) AS earliest,
      CAST(count(*) AS BIGINT) AS calls_from_ip
    FROM calls
    GROUP BY actor, source_ip)
),
firsts AS (
  SELECT *,
    CAST(row_number() OVER (PARTITION BY actor ORDER BY eventtime, event_id) AS BIGINT) - 1 AS known_ips,
    min(eventtime) OVER (PARTITION BY actor) AS principal_first
  FROM first_calls
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  known_ips, calls_from_ip, user_agent, event_id
FROM firsts
WHERE known_ips > 0
  AND eventtime >= $since
  AND date_part('epoch', eventtime) - date_part('epoch', principal_first) >= $learning_hours * 3600
ORDER BY eventtime, account, region, actor, event_id
