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
    AND coalesce(useridentity.arn, useridentity.principalid) IS NOT NULL
    AND sourceipaddress IS NOT NULL
    AND sourceipaddress NOT LIKE '%.amazonaws.com'
    AND sourceipaddress <> 'AWS Internal'
),
-- Each principal's first call from each address, and how many calls it
-- made from there (an aggregation: no sort of every call).
first_calls AS (
  SELECT
    actor,
    source_ip,
    first_value(eventtime ORDER BY eventtime, event_id) AS eventtime,
    first_value(account ORDER BY eventtime, event_id) AS account,
    first_value(region ORDER BY eventtime, event_id) AS region,
    first_value(event_source ORDER BY eventtime, event_id) AS event_source,
    first_value(event_name ORDER BY eventtime, event_id) AS event_name,
    first_value(target ORDER BY eventtime, event_id) AS target,
    first_value(error_code ORDER BY eventtime, event_id) AS error_code,
    first_value(user_agent ORDER BY eventtime, event_id) AS user_agent,
    first_value(event_id ORDER BY eventtime, event_id) AS event_id,
    CAST(count(*) AS BIGINT) AS calls_from_ip
  FROM calls
  GROUP BY actor, source_ip
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
