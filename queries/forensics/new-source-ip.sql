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
--   it had used before.
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
ordered AS (
  SELECT *,
    row_number() OVER (PARTITION BY actor, source_ip ORDER BY eventtime, event_id) AS nth_from_ip,
    CAST(count(*) OVER (PARTITION BY actor, source_ip) AS BIGINT) AS calls_from_ip
  FROM calls
),
firsts AS (
  SELECT *,
    CAST(row_number() OVER (PARTITION BY actor ORDER BY eventtime, event_id) AS BIGINT) - 1 AS known_ips
  FROM ordered
  WHERE nth_from_ip = 1
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  known_ips, calls_from_ip, user_agent, event_id
FROM firsts
WHERE known_ips > 0
  AND eventtime >= $since
ORDER BY eventtime, account, region, actor, event_id
