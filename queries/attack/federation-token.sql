-- title: Federation tokens obtained
-- severity: medium
-- id: trailsql.attack.federation-token
-- tags: attack.persistence, attack.t1550.001
-- references: MITRE ATT&CK T1550.001 (Use Alternate Authentication Material: Application Access Token); Stratus aws.persistence.sts-federation-token
-- description: GetFederationToken on sts.amazonaws.com: temporary
--   credentials (up to 36 hours) made from an IAM user's access key; they
--   keep working after the key is deleted, so an intruder uses them to stay.
--   policy_allows_all says the session policy allows every action. Commonly
--   caused by accident: old identity brokers that still use federation
--   tokens (they call it from one known principal, often).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.name') AS target,
  error_code,
  regexp_like(coalesce(json_extract_scalar(requestparameters, '$.policy'), ''),
    '"Action"\s*:\s*"\*"') AS policy_allows_all,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'sts.amazonaws.com'
  AND eventname = 'GetFederationToken'
ORDER BY eventtime, account, region, actor, event_id
