-- title: Bursts of failed console sign-ins
-- severity: high
-- id: trailsql.forensics.failed-login-bursts
-- tags: attack.credential-access, attack.t1110
-- references: MITRE ATT&CK T1110 (Brute Force); CloudTrail User Guide CloudWatch alarm example (console sign-in failures, threshold 5 in a minute); Panther AWS.Console.LoginFailed
-- description: Failed console sign-ins (ConsoleLogin with result Failure,
--   whatever the error message) that belong to a burst: at least
--   `threshold` failures for one user name or from one source IP within 60
--   seconds (first to last), in one account. The window slides: five
--   failures from 10:00:40 to 10:01:20 are a burst. Every failure in a burst
--   is listed, with burst_by (user, source IP or both) and the most failures
--   seen in one such minute. Fewer than `threshold` failures in any 60
--   seconds never fire.
-- param: threshold = 5 | how many failures within 60 seconds make a burst
WITH failures AS (
  SELECT
    eventtime,
    account,
    region,
    coalesce(useridentity.username, useridentity.arn, useridentity.principalid, useridentity.type) AS actor,
    source_ip,
    event_source,
    event_name,
    json_extract_scalar(additionaleventdata, '$.LoginTo') AS target,
    error_code,
    errormessage AS error_message,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventname = 'ConsoleLogin'
    AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure'
),
counted AS (
  SELECT *,
    count(*) OVER (PARTITION BY account, actor ORDER BY eventtime
      RANGE BETWEEN CURRENT ROW AND INTERVAL '60 seconds' FOLLOWING) AS user_ahead,
    count(*) OVER (PARTITION BY account, source_ip ORDER BY eventtime
      RANGE BETWEEN CURRENT ROW AND INTERVAL '60 seconds' FOLLOWING) AS ip_ahead
  FROM failures
),
bursts AS (
  SELECT *,
    max(user_ahead) OVER (PARTITION BY account, actor ORDER BY eventtime
      RANGE BETWEEN INTERVAL '60 seconds' PRECEDING AND CURRENT ROW) AS user_most,
    max(ip_ahead) OVER (PARTITION BY account, source_ip ORDER BY eventtime
      RANGE BETWEEN INTERVAL '60 seconds' PRECEDING AND CURRENT ROW) AS ip_most
  FROM counted
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  CASE
    WHEN user_most >= $threshold AND ip_most >= $threshold THEN 'user and source IP'
    WHEN user_most >= $threshold THEN 'user'
    ELSE 'source IP'
  END AS burst_by,
  greatest(user_most, ip_most) AS most_in_60s,
  error_message, user_agent, event_id
FROM bursts
WHERE user_most >= $threshold OR ip_most >= $threshold
ORDER BY eventtime, account, actor, source_ip, event_id
