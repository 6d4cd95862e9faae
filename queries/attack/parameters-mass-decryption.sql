-- title: Many SecureString parameters decrypted at once
-- severity: high
-- id: trailsql.attack.parameters-mass-decryption
-- tags: attack.credential-access, attack.t1555.006
-- references: MITRE ATT&CK T1555.006 (Credentials from Password Stores: Cloud Secrets Management Stores); Stratus aws.credential-access.ssm-retrieve-securestring-parameters
-- description: One principal decrypting `threshold` or more different
--   Systems Manager parameters (GetParameter, GetParameters,
--   GetParametersByPath with withDecryption) within one clock hour: an
--   intruder reading the parameter store's secrets. parameters_in_hour
--   counts the different names (a path counts once); names the ones this
--   call asked for. Commonly caused by accident: a deployment reading an
--   environment's whole configuration (raise `threshold`).
-- param: threshold = 10 | different parameters one principal decrypts in one clock hour that make a finding
WITH calls AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.name'),
      sigma_text(requestparameters, 'names'),
      json_extract_scalar(requestparameters, '$.path')) AS names,
    error_code, user_agent, event_id,
    date_bin(INTERVAL '1 hour', eventtime) AS hour
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ssm.amazonaws.com'
    AND eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath')
    AND json_extract_scalar(requestparameters, '$.withDecryption') = 'true'
),
named AS (
  SELECT *, unnest(string_to_array(names, ', ')) AS parameter FROM calls
),
firsts AS (
  SELECT *,
    row_number() OVER (PARTITION BY account, actor, hour, parameter ORDER BY eventtime, event_id) AS nth
  FROM named
),
counted AS (
  SELECT *,
    sum(CASE WHEN nth = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY account, actor, hour) AS parameters_in_hour
  FROM firsts
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, names AS target, error_code,
  CAST(max(parameters_in_hour) AS BIGINT) AS parameters_in_hour, user_agent, event_id
FROM counted
WHERE parameters_in_hour >= $threshold
GROUP BY eventtime, account, region, actor, source_ip, event_source, event_name, names, error_code,
  user_agent, event_id
ORDER BY eventtime, account, region, actor, event_id
