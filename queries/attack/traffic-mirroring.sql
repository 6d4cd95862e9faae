-- title: Network traffic mirrored
-- severity: high
-- id: trailsql.attack.traffic-mirroring
-- tags: attack.collection, attack.credential-access, attack.t1040
-- references: MITRE ATT&CK T1040 (Network Sniffing)
-- description: CreateTrafficMirrorSession, CreateTrafficMirrorTarget and
--   CreateTrafficMirrorFilter on ec2.amazonaws.com: a copy of an
--   instance's network packets sent somewhere else, where credentials and
--   data in clear text can be read. Denied attempts are listed too.
--   Commonly caused by accident: network security appliances and
--   troubleshooting (the target says where the copy goes).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.CreateTrafficMirrorSessionRequest.NetworkInterfaceId'), json_extract_scalar(requestparameters, '$.CreateTrafficMirrorTargetRequest.NetworkInterfaceId'), json_extract_scalar(requestparameters, '$.CreateTrafficMirrorTargetRequest.NetworkLoadBalancerArn'), json_extract_scalar(requestparameters, '$.CreateTrafficMirrorFilterRequest.Description')) AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.CreateTrafficMirrorSessionRequest.TrafficMirrorTargetId') AS mirror_target,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('CreateTrafficMirrorSession', 'CreateTrafficMirrorTarget', 'CreateTrafficMirrorFilter')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
