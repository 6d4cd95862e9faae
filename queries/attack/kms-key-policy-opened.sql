-- title: KMS key policies opened to everyone or other accounts
-- severity: high
-- id: trailsql.attack.kms-key-policy-opened
-- tags: attack.exfiltration, attack.impact, attack.t1537, attack.t1486
-- references: MITRE ATT&CK T1537 (Transfer Data to Cloud Account), T1486 (Data Encrypted for Impact); AWS KMS API reference (PutKeyPolicy, CreateKey)
-- description: PutKeyPolicy, and CreateKey with a policy, on
--   kms.amazonaws.com whose policy names "*" as a principal or an account
--   other than this one: whoever that is can use the key, to read what it
--   encrypts or (with another account's key) to hold data to ransom.
--   trusts_everyone and trusts_other_account say which. Commonly caused by
--   accident: keys shared with the organization's own accounts on purpose
--   (check the accounts named).
WITH policies AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.keyId'),
      json_extract_scalar(responseelements, '$.keyMetadata.keyId')) AS target,
    error_code,
    coalesce(json_extract_scalar(requestparameters, '$.policy'), '') AS policy,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'kms.amazonaws.com'
    AND eventname IN ('PutKeyPolicy', 'CreateKey')
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  trusts_everyone, trusts_other_account, user_agent, event_id
FROM (
  SELECT *,
    regexp_like(policy, '"AWS"\s*:\s*(\[[^]]*)?"\*"|"Principal"\s*:\s*"\*"') AS trusts_everyone,
    regexp_like(regexp_replace(policy, concat('arn:aws:iam::', account, ':'), '', 'g'),
      'arn:aws:iam::[0-9]{12}:') AS trusts_other_account
  FROM policies
)
WHERE trusts_everyone OR trusts_other_account
ORDER BY eventtime, account, region, event_name, event_id
