-- title: Many secrets read at once
-- severity: high
-- id: trailsql.attack.secrets-mass-retrieval
-- tags: attack.credential-access, attack.t1555.006
-- references: MITRE ATT&CK T1555.006 (Credentials from Password Stores: Cloud Secrets Management Stores); Stratus aws.credential-access.secretsmanager-retrieve-secrets, secretsmanager-batch-retrieve-secrets
-- description: One principal reading `threshold` or more different
--   secrets of Secrets Manager (GetSecretValue) within one clock hour, and
--   every BatchGetSecretValue (up to 20 secrets in one call, by list or by
--   filter): an intruder emptying the store. secrets_in_hour counts the
--   different secrets the principal read that hour (a batch call counts
--   once). Applications read their few secrets again and again and stay
--   under the threshold. Commonly caused by accident: a deployment tool
--   reading every secret of an environment at once (raise `threshold`, or
--   check it is that tool's role).
-- param: threshold = 10 | different secrets one principal reads in one clock hour that make a finding
WITH reads AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.secretId'),
      sigma_text(requestparameters, 'secretIdList'),
      json_extract(requestparameters, '$.filters')) AS target,
    error_code, user_agent, event_id,
    date_bin(INTERVAL '1 hour', eventtime) AS hour
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'secretsmanager.amazonaws.com'
    AND eventname IN ('GetSecretValue', 'BatchGetSecretValue')
),
firsts AS (
  SELECT *,
    row_number() OVER (PARTITION BY account, actor, hour, target ORDER BY eventtime, event_id) AS nth
  FROM reads
),
counted AS (
  SELECT *,
    sum(CASE WHEN nth = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY account, actor, hour) AS secrets_in_hour
  FROM firsts
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  CAST(secrets_in_hour AS BIGINT) AS secrets_in_hour, user_agent, event_id
FROM counted
WHERE secrets_in_hour >= $threshold OR event_name = 'BatchGetSecretValue'
ORDER BY eventtime, account, region, actor, event_id
