-- title: DNS query logging deleted or detached
-- severity: high
-- id: trailsql.attack.dns-query-logs-deleted
-- tags: attack.defense-evasion, attack.t1562.008
-- references: MITRE ATT&CK T1562.008 (Disable or Modify Cloud Logs); Stratus aws.defense-evasion.dns-delete-logs
-- description: Route 53 Resolver query logging deleted
--   (DeleteResolverQueryLogConfig) or detached from a VPC
--   (DisassociateResolverQueryLogConfig): the VPC's DNS queries stop being
--   recorded. Commonly caused by accident: infrastructure code tearing down
--   a test VPC together with its logging. Denied attempts are listed too.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.resolverQueryLogConfigId'),
    json_extract_scalar(responseelements, '$.resolverQueryLogConfig.arn')) AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.resourceId') AS vpc,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'route53resolver.amazonaws.com'
  AND eventname IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig')
ORDER BY eventtime, account, region, event_name, event_id
