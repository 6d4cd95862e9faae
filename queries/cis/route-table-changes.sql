-- title: Route table changes
-- severity: medium
-- id: trailsql.cis.route-table-changes
-- tags: attack.defense-evasion, attack.t1562.007
-- references: CIS AWS Foundations 3.13 (v1.2.0), 4.13 (v1.4.0-v5.0), 5.13 (v6.0, v7.0); Security Hub CloudWatch.13
-- description: Routes and route tables created, replaced or deleted, and
--   route table associations replaced or removed: the seven events of the CIS
--   filter. The remediation pattern matches event names alone; the audit text
--   of v3.0 and later adds eventSource ec2.amazonaws.com but, without
--   parentheses, binds it to CreateRoute only. The intent is the same for
--   all seven, and all seven are EC2 calls, so this query keeps to
--   ec2.amazonaws.com throughout (Prowler's check requires that term).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.routeTableId'),
    json_extract_scalar(responseelements, '$.routeTable.routeTableId'),
    json_extract_scalar(requestparameters, '$.associationId')) AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.destinationCidrBlock') AS destination,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('CreateRoute', 'CreateRouteTable', 'ReplaceRoute', 'ReplaceRouteTableAssociation',
    'DeleteRouteTable', 'DeleteRoute', 'DisassociateRouteTable')
ORDER BY eventtime, account, region, event_name, event_id
