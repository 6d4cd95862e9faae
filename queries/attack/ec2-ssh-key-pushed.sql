-- title: SSH keys pushed to instances, serial console opened
-- severity: medium
-- id: trailsql.attack.ec2-ssh-key-pushed
-- tags: attack.lateral-movement, attack.t1021.004
-- references: MITRE ATT&CK T1021.004 (Remote Services: SSH); Stratus aws.lateral-movement.ec2-instance-connect, ec2-serial-console-send-ssh-public-key
-- description: An SSH public key pushed to an instance through EC2 Instance
--   Connect (SendSSHPublicKey) or its serial console
--   (SendSerialConsoleSSHPublicKey), and serial console access turned on for
--   the account (EnableSerialConsoleAccess): whoever holds the key can log
--   in for the next minute, with no key pair of the instance's. os_user is
--   the user the key is for. Commonly caused by accident: people using
--   Instance Connect from the console, which makes the same call.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.instanceId') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.instanceOSUser') AS os_user,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND ((eventsource = 'ec2-instance-connect.amazonaws.com'
        AND eventname IN ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey'))
    OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'EnableSerialConsoleAccess'))
ORDER BY eventtime, account, region, event_name, event_id
