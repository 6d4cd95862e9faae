-- title: EC2 user data changed
-- severity: medium
-- id: trailsql.attack.ec2-user-data-changed
-- tags: attack.execution, attack.t1059.009
-- references: MITRE ATT&CK T1059.009 (Command and Scripting Interpreter: Cloud API); Stratus aws.execution.ec2-user-data
-- description: ModifyInstanceAttribute that sets an instance's userData:
--   the script runs as root at its next boot (an attacker stops the
--   instance, changes the script, starts it). Other attribute changes
--   (instance type, security groups) are not listed. Commonly caused by
--   accident: a deployment changing a stopped instance's boot script.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.instanceId') AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'ModifyInstanceAttribute'
  AND (json_extract(requestparameters, '$.userData') IS NOT NULL
    OR json_extract_scalar(requestparameters, '$.attribute') = 'userData')
ORDER BY eventtime, account, region, event_name, event_id
