-- title: IAM Roles Anywhere trust anchors and profiles created
-- severity: high
-- id: trailsql.attack.rolesanywhere-trust-anchor
-- tags: attack.persistence, attack.t1098
-- references: MITRE ATT&CK T1098 (Account Manipulation); Stratus aws.persistence.rolesanywhere-create-trust-anchor
-- description: CreateTrustAnchor and CreateProfile on
--   rolesanywhere.amazonaws.com: a certificate authority trusted to hand
--   out role credentials to machines outside AWS, and the roles it may hand
--   out. Whoever holds a certificate from that authority gets credentials
--   without any access key. Commonly caused by accident: a planned rollout
--   for on-premises servers (rare; confirm with its owners).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.name') AS target,
  error_code,
  coalesce(
    json_extract(requestparameters, '$.roleArns'),
    json_extract_scalar(requestparameters, '$.source.sourceType')) AS detail,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'rolesanywhere.amazonaws.com'
  AND eventname IN ('CreateTrustAnchor', 'CreateProfile')
ORDER BY eventtime, account, region, event_name, event_id
