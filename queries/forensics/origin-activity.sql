-- title: Everything done by one person through any identity
-- severity: info
-- id: trailsql.forensics.origin-activity
-- tags: attack.initial-access, attack.t1078.004
-- references: AWS incident response playbooks (credential compromise: scope of a principal's activity); MITRE ATT&CK T1078.004
-- description: Every call whose origin is the person given: made with their
--   own long-term keys or console session, or through any temporary key
--   issued to them, however many role hops away (see the `_sessions`
--   tables), with the path from the person to the key. The origin is an
--   ARN, or its last part (`alice`, `jane@example.com`). Calls whose chain
--   leaves the archive have no origin and are not listed: `why_no_origin`
--   in the sessions table says which. The person is required: `--param
--   origin=alice`.
-- param: origin | the origin to follow: an ARN, a user name or an Identity Center user
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    resources[1]['arn'],
    json_extract_scalar(requestparameters, '$.bucketName'),
    json_extract_scalar(requestparameters, '$.userName'),
    json_extract_scalar(requestparameters, '$.roleArn')) AS target,
  error_code,
  origin,
  origin_path,
  access_key_id,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND (origin = $origin
    OR ends_with(origin, '/' || $origin)
    OR ends_with(origin, ':' || $origin))
ORDER BY eventtime, account, region, event_id
