-- title: The account password policy deleted or weakened
-- severity: medium
-- id: trailsql.attack.password-policy-weakened
-- tags: attack.defense-evasion, attack.credential-access, attack.persistence, attack.t1556
-- references: MITRE ATT&CK T1556 (Modify Authentication Process); CIS AWS Foundations 1.8 and 1.9 (password length and reuse)
-- description: DeleteAccountPasswordPolicy, and UpdateAccountPasswordPolicy that sets
--   a minimum length under `min_length` (14 by default, as the CIS
--   benchmark asks) or lets passwords be reused (no
--   passwordReusePrevention): weaker passwords are then accepted for
--   console users. Denied attempts are listed too. Commonly caused by
--   accident: an account set up by a script that writes AWS's defaults.
-- param: min_length = 14 | the shortest minimum password length that is not a finding
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    'password policy' AS target,
    error_code,
    CAST(json_extract_scalar(requestparameters, '$.minimumPasswordLength') AS BIGINT) AS minimum_length,
    CAST(json_extract_scalar(requestparameters, '$.passwordReusePrevention') AS BIGINT) AS reuse_prevention,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'iam.amazonaws.com'
    AND eventname IN ('DeleteAccountPasswordPolicy', 'UpdateAccountPasswordPolicy')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name = 'DeleteAccountPasswordPolicy' OR coalesce(minimum_length, 0) < $min_length OR reuse_prevention IS NULL
ORDER BY eventtime, account, region, actor, event_id
