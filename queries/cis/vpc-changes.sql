-- title: VPC changes
-- severity: medium
-- id: trailsql.cis.vpc-changes
-- tags: attack.defense-evasion, attack.t1562.007
-- references: CIS AWS Foundations 3.14 (v1.2.0), 4.14 (v1.4.0-v5.0), 5.14 (v6.0, v7.0); Security Hub CloudWatch.14
-- description: VPCs created, deleted or modified, peering connections
--   requested, accepted, rejected or deleted, and ClassicLink changes: the
--   eleven events of the CIS filter, the same in every version (the
--   ClassicLink calls are retired but kept, as the filter keeps them).
--   Matched on the event name, as the filter is.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.vpcPeeringConnectionId'),
    json_extract_scalar(responseelements, '$.vpcPeeringConnection.vpcPeeringConnectionId'),
    json_extract_scalar(requestparameters, '$.vpcId'),
    json_extract_scalar(responseelements, '$.vpc.vpcId')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', 'AcceptVpcPeeringConnection',
    'CreateVpcPeeringConnection', 'DeleteVpcPeeringConnection', 'RejectVpcPeeringConnection',
    'AttachClassicLinkVpc', 'DetachClassicLinkVpc', 'DisableVpcClassicLink', 'EnableVpcClassicLink')
ORDER BY eventtime, account, region, event_name, event_id
