-- title: VPC flow logs deleted
-- severity: high
-- id: trailsql.attack.vpc-flow-logs-deleted
-- tags: attack.defense-evasion, attack.t1562.008
-- references: MITRE ATT&CK T1562.008 (Disable or Modify Cloud Logs); Stratus aws.defense-evasion.vpc-remove-flow-logs
-- description: DeleteFlowLogs on ec2.amazonaws.com: a VPC, subnet or
--   network interface stops recording its traffic. target is the flow log
--   (or the list of them). Commonly caused by accident: a VPC deleted with
--   infrastructure code, or logging moved to another destination (a new
--   CreateFlowLogs nearby says so). Denied attempts are listed too.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.DeleteFlowLogsRequest.FlowLogId.content'),
    json_extract(requestparameters, '$.DeleteFlowLogsRequest.FlowLogId')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'DeleteFlowLogs'
ORDER BY eventtime, account, region, event_name, event_id
