-- title: Network gateway changes
-- severity: medium
-- id: trailsql.cis.network-gateway-changes
-- tags: attack.defense-evasion, attack.t1562.007
-- references: CIS AWS Foundations 3.12 (v1.2.0), 4.12 (v1.4.0-v5.0), 5.12 (v6.0, v7.0); Security Hub CloudWatch.12
-- description: Customer gateways created or deleted and internet gateways
--   created, deleted, attached or detached: the six events of the CIS filter,
--   the same in every version. Matched on the event name, as the filter is.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.internetGatewayId'),
    json_extract_scalar(requestparameters, '$.customerGatewayId'),
    json_extract_scalar(responseelements, '$.internetGateway.internetGatewayId'),
    json_extract_scalar(responseelements, '$.customerGateway.customerGatewayId')) AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.vpcId') AS vpc_id,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateCustomerGateway', 'DeleteCustomerGateway', 'AttachInternetGateway',
    'CreateInternetGateway', 'DeleteInternetGateway', 'DetachInternetGateway')
ORDER BY eventtime, account, region, event_name, event_id
