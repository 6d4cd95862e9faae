-- title: A console sign-in that succeeded after many failures
-- severity: high
-- id: trailsql.attack.console-login-after-failures
-- tags: attack.credential-access, attack.initial-access, attack.t1110, attack.t1078.004
-- references: MITRE ATT&CK T1110 (Brute Force), T1078.004 (Valid Accounts: Cloud Accounts)
-- description: A successful ConsoleLogin for a user name that had `threshold` or more
--   failed sign-ins (5 by default) in the hour before it: a guessed or
--   sprayed password that worked. failures_before counts them and
--   failure_ips the addresses they came from. Commonly caused by accident:
--   a user who forgot a password and finally found it (failures from the
--   same address as the success, the user agent unchanged).
-- param: threshold = 5 | failed sign-ins in the hour before a success that make a finding
WITH logins AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(useridentity.username, regexp_replace(actor, '^.*/', '')) AS target,
    error_code,
    json_extract_scalar(responseelements, '$.ConsoleLogin') AS result,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since - INTERVAL '1 hour' AND eventtime < $until
    AND eventsource = 'signin.amazonaws.com'
    AND eventname = 'ConsoleLogin'
),
counted AS (
  SELECT *,
    sum(CASE WHEN result = 'Failure' THEN 1 ELSE 0 END) OVER (
      PARTITION BY account, target ORDER BY eventtime
      RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS failures_before,
    array_to_string(array_distinct(array_agg(CASE WHEN result = 'Failure' THEN source_ip END) OVER (
      PARTITION BY account, target ORDER BY eventtime
      RANGE BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW)), ', ') AS failure_ips
  FROM logins
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  CAST(failures_before AS BIGINT) AS failures_before, failure_ips, user_agent, event_id
FROM counted
WHERE result = 'Success'
  AND failures_before >= $threshold
  AND eventtime >= $since
ORDER BY eventtime, account, region, actor, event_id
