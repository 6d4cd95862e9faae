-- title: EC2 user data read
-- severity: low
-- id: trailsql.attack.ec2-user-data-read
-- tags: attack.discovery, attack.t1580
-- references: MITRE ATT&CK T1580 (Cloud Infrastructure Discovery), T1552 (Unsecured Credentials); Stratus aws.discovery.ec2-download-user-data
-- description: DescribeInstanceAttribute asking for an instance's
--   userData: the boot script, where credentials are often left. Denied
--   attempts are listed too (an attacker tries many instances; most are
--   refused). Commonly caused by accident: a person or a configuration tool
--   checking one instance's boot script.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.instanceId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'DescribeInstanceAttribute'
  AND json_extract_scalar(requestparameters, '$.attribute') = 'userData'
ORDER BY eventtime, account, region, actor, event_id
