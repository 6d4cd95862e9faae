-- title: Commands and shells on instances through Systems Manager
-- severity: medium
-- id: trailsql.attack.ssm-remote-commands
-- tags: attack.execution, attack.t1651
-- references: MITRE ATT&CK T1651 (Cloud Administration Command); Stratus aws.execution.ssm-send-command, ssm-start-session
-- description: SendCommand (a document run on instances: document says
--   which, instances how many were named) and StartSession (a shell on
--   one instance) on ssm.amazonaws.com: code run as root on instances with
--   no SSH. Commonly caused by accident: patching and inventory automation
--   (documents such as AWS-RunPatchBaseline, sent by a service role) and
--   administrators' sessions.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.target'),
    sigma_text(requestparameters, 'instanceIds'),
    sigma_text(requestparameters, 'targets.values')) AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.documentName') AS document,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ssm.amazonaws.com'
  AND eventname IN ('SendCommand', 'StartSession')
ORDER BY eventtime, account, region, actor, event_id
